//! Accepted gossip: in the RocksDB gossip column, one `GossipRecord` per message id holding the
//! full envelope (its key is the id, lowercase hex, then the key builder's NUL), and nothing
//! else, so reading every message is one scan; in the gossip index column, the round index and
//! the node's own "sent" markers (keys in `schema::gossip_keys`). Also the decoded views the
//! explorer serves.

use serde::Serialize;
use sn17_storage::db::keys::KeyBuilder;
use sn17_storage::db::schema::gossip_keys::{INDEXED, ROUND_INDEX, SENT};
use sn17_storage::db::{Batch, Column, GossipRecord, Store};

use super::error::Result;
use super::message::{Envelope, Kind, MAX_MESSAGE_BYTES};

/// A stored message, decoded.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: String,
    pub kind: Kind,
    /// The peer it came from (`local` when published here, `catch-up` when fetched).
    pub peer: String,
    /// Our head estimate when it was accepted.
    pub received_at_block: u64,
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
}

/// The raw form `/api/messages` serves for catch-up.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RawMessage {
    pub id: String,
    pub topic: String,
    pub envelope_hex: String,
}

fn round_prefix(round: u64) -> Vec<u8> {
    [ROUND_INDEX, &round.to_be_bytes()].concat()
}

fn round_index_key(round: u64, id: &str) -> Vec<u8> {
    [round_prefix(round).as_slice(), id.as_bytes()].concat()
}

/// Stores one accepted message and its round index entry, atomically.
pub fn put(
    store: &Store,
    id: &str,
    kind: Kind,
    peer: &str,
    block: u64,
    envelope: &Envelope,
) -> Result<()> {
    let mut batch = Batch::new();
    batch.put(&GossipRecord {
        id: id.to_string(),
        topic: kind.name().to_string(),
        peer: peer.to_string(),
        received_at_block: block,
        payload_hex: hex::encode(envelope.to_bytes()),
    })?;
    batch.put_raw(
        Column::GossipIndex,
        round_index_key(envelope.payload.round(), id),
        Vec::new(),
    );
    store.write(batch)?;
    Ok(())
}

/// Writes the round index of `messages` once, for stores from before the index existed (later
/// messages are indexed by [`put`]); a marker in the same batch says it is done.
pub fn index_rounds(store: &Store, messages: &[StoredMessage]) -> Result<()> {
    if store.kv().get(Column::GossipIndex, INDEXED)?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::new();
    batch.put_raw(Column::GossipIndex, INDEXED.to_vec(), Vec::new());
    for m in messages {
        batch.put_raw(
            Column::GossipIndex,
            round_index_key(m.envelope.payload.round(), &m.id),
            Vec::new(),
        );
    }
    store.write(batch)?;
    Ok(())
}

/// The stored message with this id, if it is stored and still decodes.
pub fn get(store: &Store, id: &str) -> Result<Option<StoredMessage>> {
    Ok(store
        .get::<GossipRecord>(&KeyBuilder::new().str(id).build())?
        .as_ref()
        .and_then(decode))
}

/// Every stored message that still decodes (records that do not are skipped with a warning),
/// oldest block first.
pub fn all(store: &Store) -> Result<Vec<StoredMessage>> {
    let mut out = Vec::new();
    for r in store.scan::<GossipRecord>(&[])? {
        match decode(&r) {
            Some(m) => out.push(m),
            None => tracing::warn!(id = %r.id, "undecodable gossip record skipped"),
        }
    }
    sort(&mut out);
    Ok(out)
}

/// The stored messages of one round, through the round index.
pub fn of_round(store: &Store, round: u64) -> Result<Vec<StoredMessage>> {
    let prefix = round_prefix(round);
    let mut out = Vec::new();
    for (key, _) in store.kv().scan(Column::GossipIndex, &prefix)? {
        let Some(id) = key
            .get(prefix.len()..)
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        let record: Option<GossipRecord> = store.get(&KeyBuilder::new().str(id).build())?;
        if let Some(m) = record.as_ref().and_then(decode) {
            out.push(m);
        }
    }
    sort(&mut out);
    Ok(out)
}

/// Rounds that have stored messages, newest first: at most `limit` of them, below `before` when
/// given. Read from the round index's keys alone (no message is decoded).
pub fn rounds(store: &Store, before: Option<u64>, limit: usize) -> Result<Vec<u64>> {
    let mut out: Vec<u64> = Vec::new();
    for (key, _) in store.kv().scan(Column::GossipIndex, ROUND_INDEX)? {
        let Some(round) = key
            .get(ROUND_INDEX.len()..ROUND_INDEX.len() + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
        else {
            continue;
        };
        // Keys come in round order: one entry per round.
        if out.last() != Some(&round) && before.is_none_or(|b| round < b) {
            out.push(round);
        }
    }
    out.reverse();
    out.truncate(limit);
    Ok(out)
}

/// The messages of the newest `limit` rounds below `before` that still have a decodable message
/// (a round whose messages all fail to decode is passed over, so that `limit` rounds show).
pub fn of_recent_rounds(
    store: &Store,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<StoredMessage>> {
    let mut out = Vec::new();
    let mut shown = 0;
    for round in rounds(store, before, usize::MAX)? {
        if shown == limit {
            break;
        }
        let msgs = of_round(store, round)?;
        shown += usize::from(!msgs.is_empty());
        out.extend(msgs);
    }
    Ok(out)
}

fn sent_key(what: &str) -> Vec<u8> {
    [SENT, what.as_bytes()].concat()
}

/// Whether this node recorded publishing `what` (`seed/3`, `result/3`, …).
pub fn was_sent(store: &Store, what: &str) -> Result<bool> {
    Ok(store
        .kv()
        .get(Column::GossipIndex, &sent_key(what))?
        .is_some())
}

/// Records that this node published `what` (at our head `block`).
pub fn mark_sent(store: &Store, what: &str, block: u64) -> Result<()> {
    let mut batch = Batch::new();
    batch.put_raw(
        Column::GossipIndex,
        sent_key(what),
        block.to_be_bytes().to_vec(),
    );
    store.write(batch)?;
    Ok(())
}

fn sort(out: &mut [StoredMessage]) {
    out.sort_by(|a, b| {
        (a.envelope.block, a.received_at_block, &a.id).cmp(&(
            b.envelope.block,
            b.received_at_block,
            &b.id,
        ))
    });
}

fn decode(r: &GossipRecord) -> Option<StoredMessage> {
    let kind = Kind::parse(&r.topic)?;
    let bytes = hex::decode(&r.payload_hex).ok()?;
    let envelope = Envelope::from_bytes(&bytes, MAX_MESSAGE_BYTES).ok()?;
    Some(StoredMessage {
        id: r.id.clone(),
        kind,
        peer: r.peer.clone(),
        received_at_block: r.received_at_block,
        envelope,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gossip::message::{Payload, SubmissionManifest};
    use sn17_chain::wallet::Keypair;

    fn manifest(round: u64) -> Envelope {
        let k = Keypair::from_seed(&[4; 32]);
        Envelope::sign_with(
            17,
            10,
            &k,
            Payload::Manifest(SubmissionManifest {
                round,
                miner: k.public(),
                repo: "o/r".into(),
                commit: "c".into(),
                cdn_url: "https://cdn".into(),
                files: vec![],
            }),
        )
    }

    #[test]
    fn rounds_come_newest_first_from_the_index_and_page_by_round() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path(), &Default::default()).expect("store");
        for round in [3u64, 300, 7, 7, 256, 1 << 40] {
            let env = manifest(round);
            let id = super::super::message::message_id(&env.to_bytes());
            put(&store, &id, Kind::Manifest, "peer", 10, &env).expect("put");
        }
        mark_sent(&store, "seed/9", 10).expect("mark");
        let all = rounds(&store, None, 100).expect("rounds");
        assert_eq!(all, [1 << 40, 300, 256, 7, 3]);
        assert_eq!(rounds(&store, None, 2).expect("rounds"), [1 << 40, 300]);
        assert_eq!(rounds(&store, Some(300), 2).expect("rounds"), [256, 7]);
        assert_eq!(
            rounds(&store, Some(3), 10).expect("rounds"),
            Vec::<u64>::new()
        );

        // A round whose only record no longer decodes is passed over by the paged read.
        let mut batch = Batch::new();
        batch
            .put(&GossipRecord {
                id: "ab".into(),
                topic: "manifests".into(),
                peer: "peer".into(),
                received_at_block: 10,
                payload_hex: "00".into(),
            })
            .expect("record");
        batch.put_raw(Column::GossipIndex, round_index_key(500, "ab"), Vec::new());
        store.write(batch).expect("write");
        assert_eq!(rounds(&store, Some(1 << 40), 1).expect("rounds"), [500]);
        let shown: Vec<u64> = of_recent_rounds(&store, Some(1 << 40), 2)
            .expect("read")
            .iter()
            .map(|m| m.envelope.payload.round())
            .collect();
        assert_eq!(shown, [300, 256], "{shown:?}");
    }

    #[test]
    fn markers_stay_out_of_the_messages_and_rounds_are_indexed() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path(), &Default::default()).expect("store");
        // sr25519 signatures are randomised: the same envelope twice is one record.
        let four = manifest(4);
        for env in [manifest(3), four.clone(), four] {
            let id = super::super::message::message_id(&env.to_bytes());
            put(&store, &id, Kind::Manifest, "peer", 10, &env).expect("put");
        }
        mark_sent(&store, "seed/4", 10).expect("mark");
        assert!(was_sent(&store, "seed/4").expect("read"));
        assert!(!was_sent(&store, "seed/5").expect("read"));
        // The gossip column holds the messages alone.
        assert_eq!(store.kv().scan(Column::Gossip, &[]).expect("scan").len(), 2);
        let all = all(&store).expect("all");
        assert_eq!(all.len(), 2, "only the messages: {all:?}");
        assert_eq!(of_round(&store, 4).expect("round").len(), 1);
        assert_eq!(of_round(&store, 3).expect("round").len(), 1);
        assert!(of_round(&store, 5).expect("round").is_empty());
        // Re-indexing is idempotent, and its done-marker stays out of the message scan.
        index_rounds(&store, &all).expect("index");
        index_rounds(&store, &all).expect("index again");
        assert_eq!(of_round(&store, 4).expect("round").len(), 1);
        assert_eq!(super::all(&store).expect("all").len(), 2);
    }
}
