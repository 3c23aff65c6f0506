//! Real RocksDB in a temporary directory: typed records, atomic batches, reopen, schema.

use sn17_storage::db::{
    keys, schema, Batch, Column, DownloadRecord, GenerationRecord, KeyValueStore, RoundRecord,
    Store, StoreOptions, SubmissionRecord,
};

fn download(round: u64, hk: &str, stem: &str, size: u64) -> DownloadRecord {
    DownloadRecord {
        round,
        hotkey: hk.into(),
        stem: stem.into(),
        url: format!("http://127.0.0.1/{stem}.js"),
        size,
        sha256: Some("ab".repeat(32)),
        failure_reason: None,
        attempts: 1,
    }
}

/// Writes a schema version into `b`, as a database of that version holds it.
fn stamp_version(b: &mut Batch, version: u32) {
    b.put_raw(
        Column::Meta,
        b"schema_version".to_vec(),
        version.to_be_bytes().to_vec(),
    );
}

#[test]
fn records_survive_reopen_and_scan_by_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = Store::open(dir.path(), &StoreOptions::default()).expect("open");
        let mut b = Batch::new();
        let mut round = RoundRecord::new(3, "downloading");
        round.seed = Some(7);
        b.put(&round).expect("encode");
        for (hk, stem) in [("5A", "s1"), ("5A", "s2"), ("5AB", "s1"), ("5B", "s1")] {
            b.put(&download(3, hk, stem, 10)).expect("encode");
        }
        b.put(&download(4, "5A", "s1", 10)).expect("encode");
        db.write(b).expect("batch");
    }
    let db = Store::open(dir.path(), &StoreOptions::default()).expect("reopen");
    assert_eq!(
        db.schema_version().expect("version"),
        schema::CURRENT_VERSION
    );
    let r: RoundRecord = db.get(&keys::round(3)).expect("get").expect("present");
    assert_eq!((r.stage.as_str(), r.seed), ("downloading", Some(7)));
    let a: Vec<DownloadRecord> = db.scan(&keys::round_miner(3, "5A")).expect("scan");
    assert_eq!(
        a.iter().map(|d| d.stem.as_str()).collect::<Vec<_>>(),
        ["s1", "s2"],
        "5AB is not under 5A"
    );
    assert_eq!(
        db.scan::<DownloadRecord>(&keys::round(3))
            .expect("scan")
            .len(),
        4
    );
    let stats = db.stats().expect("stats");
    let dl = stats
        .columns
        .iter()
        .find(|c| c.column == "downloads")
        .expect("downloads");
    assert_eq!(dl.keys, 5);
    assert!(stats.disk_bytes > 0);
    drop(db);
    let ro = Store::open_read_only(dir.path()).expect("read-only open");
    assert_eq!(ro.scan::<DownloadRecord>(&[]).expect("scan").len(), 5);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Store::open(dir.path(), &StoreOptions::default()).expect("open");
    // A batch naming a column family that does not exist fails as a whole.
    let mut b = Batch::new();
    b.put(&download(1, "5A", "s1", 1)).expect("encode");
    b.put(&SubmissionRecord {
        round: 1,
        position: 0,
        hotkey: "5A".into(),
        coldkey: None,
        repo: "o/r".into(),
        commit: "0".repeat(40),
        cdn_url: "https://cdn".into(),
        revealed_at_block: 5,
    })
    .expect("encode");
    db.write(b.clone()).expect("write");
    assert_eq!(db.dump().expect("dump").len(), 3, "version + 2 records");
    let mut del = Batch::new();
    del.delete::<DownloadRecord>(keys::round_miner_stem(1, "5A", "s1"));
    del.delete::<SubmissionRecord>(keys::round_miner(1, "5A"));
    db.write(del).expect("delete");
    assert_eq!(db.dump().expect("dump").len(), 1);
}

#[test]
fn schema_versions_are_stamped_migrated_and_refused_when_newer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Store::open(dir.path(), &StoreOptions::default()).expect("open");
    // Pretend a newer binary wrote the database.
    let mut b = Batch::new();
    stamp_version(&mut b, 99);
    db.write(b).expect("write");
    drop(db);
    match Store::open(dir.path(), &StoreOptions::default()) {
        Err(sn17_storage::Error::SchemaTooNew { found: 99, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }

    // A migration chain runs step by step, each step atomically with its version bump.
    let mem = Store::memory();
    let kv = mem.kv();
    let mut b = Batch::new();
    stamp_version(&mut b, 1);
    b.put_raw(Column::Rounds, keys::round(1), b"{\"old\":true}".to_vec());
    kv.write(b).expect("seed v1");
    fn to_v2(kv: &dyn KeyValueStore) -> sn17_storage::Result<Batch> {
        let mut b = Batch::new();
        for (k, _) in kv.scan(Column::Rounds, &[])? {
            b.put_raw(Column::Rounds, k, b"{\"new\":true}".to_vec());
        }
        Ok(b)
    }
    fn to_v3(_: &dyn KeyValueStore) -> sn17_storage::Result<Batch> {
        Ok(Batch::new())
    }
    let migrations = [
        schema::Migration {
            from: 1,
            describe: "rewrite rounds",
            run: to_v2,
        },
        schema::Migration {
            from: 2,
            describe: "nothing",
            run: to_v3,
        },
    ];
    assert_eq!(schema::ensure(kv, &migrations).expect("migrate"), 3);
    assert_eq!(schema::version(kv).expect("version"), Some(3));
    assert_eq!(
        kv.get(Column::Rounds, &keys::round(1)).expect("get"),
        Some(b"{\"new\":true}".to_vec())
    );
    // A gap in the chain is an error, not a silent skip.
    let gap = [schema::Migration {
        from: 5,
        describe: "far",
        run: to_v3,
    }];
    assert!(matches!(
        schema::ensure(kv, &gap),
        Err(sn17_storage::Error::Migration { from: 3, .. })
    ));
}

#[test]
fn generation_records_have_their_own_column_and_schema_1_moves_them_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Store::open(dir.path(), &StoreOptions::default()).expect("open");
    let sub = SubmissionRecord {
        round: 3,
        position: 0,
        hotkey: "5A".into(),
        coldkey: None,
        repo: "o/n".into(),
        commit: "a".repeat(40),
        cdn_url: "http://127.0.0.1/".into(),
        revealed_at_block: 9,
    };
    db.put(&sub).expect("submission");
    let gen = |round: u64, hotkey: &str| GenerationRecord {
        round,
        hotkey: hotkey.into(),
        report: format!("{{\"hotkey\": \"{hotkey}\"}}"),
    };
    for round in [2, 3, 4] {
        db.put(&gen(round, "5A")).expect("generation");
    }
    let subs = db
        .scan::<SubmissionRecord>(&keys::round(3))
        .expect("submissions decode");
    assert_eq!(subs, vec![sub.clone()]);
    assert_eq!(
        db.scan::<GenerationRecord>(&GenerationRecord::prefix(3))
            .expect("generation records"),
        vec![gen(3, "5A")]
    );
    drop(db);

    // A schema-1 database: generation records in the submissions column under the
    // `~generation` tag (as schema 1 keyed them). Opening it migrates them.
    let old = tempfile::tempdir().expect("tempdir");
    {
        let db = Store::open(old.path(), &StoreOptions::default()).expect("open");
        let mut b = Batch::new();
        stamp_version(&mut b, 1);
        b.put(&sub).expect("submission");
        for (round, hk) in [(3, "5A"), (3, "5B"), (4, "5A")] {
            let key = keys::KeyBuilder::new()
                .str("~generation")
                .u64(round)
                .str(hk)
                .build();
            let value = serde_json::to_vec(&gen(round, hk)).expect("json");
            b.put_raw(Column::Submissions, key, value);
        }
        db.write(b).expect("write v1");
    }
    let db = Store::open(old.path(), &StoreOptions::default()).expect("migrate");
    assert_eq!(
        db.schema_version().expect("version"),
        schema::CURRENT_VERSION
    );
    assert_eq!(
        db.scan::<GenerationRecord>(&GenerationRecord::prefix(3))
            .expect("moved"),
        vec![gen(3, "5A"), gen(3, "5B")]
    );
    assert_eq!(
        db.scan::<GenerationRecord>(&GenerationRecord::prefix(4))
            .expect("moved"),
        vec![gen(4, "5A")]
    );
    // Nothing of them is left in the submissions column.
    assert_eq!(
        db.kv().scan(Column::Submissions, &[]).expect("scan").len(),
        1,
        "only the submission"
    );
}

#[test]
fn schema_2_gossip_bookkeeping_moves_to_the_gossip_index_column() {
    use sn17_storage::db::schema::gossip_keys;
    use sn17_storage::db::GossipRecord;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = |id: &str, block: u64| GossipRecord {
        id: id.into(),
        topic: if id.contains('/') { "self" } else { "seed" }.into(),
        peer: "peer".into(),
        received_at_block: block,
        payload_hex: String::new(),
    };
    let message = "ab".repeat(16);
    {
        let db = Store::open(dir.path(), &StoreOptions::default()).expect("open");
        let mut b = Batch::new();
        stamp_version(&mut b, 2);
        // Schema 2: the message, its round index entry, the indexed marker and two sent
        // markers (the current and the earlier form), all in the gossip column.
        b.put(&record(&message, 7)).expect("message");
        let index = [b"~r/".as_slice(), &5u64.to_be_bytes(), message.as_bytes()].concat();
        b.put_raw(Column::Gossip, index, Vec::new());
        for (id, block) in [
            ("~indexed/rounds", 0),
            ("~sent/seed/5", 9),
            ("sent/result/4", 8),
        ] {
            b.put(&record(id, block)).expect("marker");
        }
        db.write(b).expect("write v2");
    }
    let db = Store::open(dir.path(), &StoreOptions::default()).expect("migrate");
    assert_eq!(
        db.schema_version().expect("version"),
        schema::CURRENT_VERSION
    );
    // The gossip column holds the message alone.
    let gossip = db.scan::<GossipRecord>(&[]).expect("messages");
    assert_eq!(gossip, vec![record(&message, 7)]);
    let index = db.kv().scan(Column::GossipIndex, &[]).expect("index");
    let want: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (gossip_keys::INDEXED.to_vec(), vec![]),
        (
            [
                gossip_keys::ROUND_INDEX,
                &5u64.to_be_bytes(),
                message.as_bytes(),
            ]
            .concat(),
            vec![],
        ),
        (
            [gossip_keys::SENT, b"result/4"].concat(),
            8u64.to_be_bytes().to_vec(),
        ),
        (
            [gossip_keys::SENT, b"seed/5"].concat(),
            9u64.to_be_bytes().to_vec(),
        ),
    ];
    assert_eq!(index, want);
}
