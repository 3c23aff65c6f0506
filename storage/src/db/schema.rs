//! The schema version under a fixed meta key, and numbered migrations that bring an older
//! database to the current version, each in one batch together with the version bump.

use super::columns::Column;
use super::keys::KeyBuilder;
use super::records::GenerationRecord;
use super::store::{Batch, KeyValueStore, Record as _};
use crate::error::{Error, Result};

/// The version this binary writes.
pub const CURRENT_VERSION: u32 = 3;

const VERSION_KEY: &[u8] = b"schema_version";

/// A migration from `from` to `from + 1`: returns the writes that convert the data (the
/// version bump is added to the same batch).
pub struct Migration {
    pub from: u32,
    pub describe: &'static str,
    pub run: fn(&dyn KeyValueStore) -> Result<Batch>,
}

/// Migrations of released schemas, in order; a change to a record's key or encoding adds one
/// here with its own test.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        describe: "generation records move from the submissions column to their own",
        run: generations_to_own_column,
    },
    Migration {
        from: 2,
        describe: "the gossip round index and markers move to the gossip_index column",
        run: gossip_bookkeeping_to_own_column,
    },
];

/// The gossip index column's keys (schema 3): `r/` + round (u64 BE) + message id for the round
/// index (empty value), `sent/KIND/ROUND` for a validator's marker that it published (the head
/// block then, u64 BE), and the marker that old messages were indexed.
pub mod gossip_keys {
    pub const ROUND_INDEX: &[u8] = b"r/";
    pub const SENT: &[u8] = b"sent/";
    pub const INDEXED: &[u8] = b"indexed/rounds";
}

/// Schema 2 kept these in the gossip column: `~r/…` (the round index, raw), and as gossip
/// records keyed by their id (string then NUL): `~indexed/rounds`, `~sent/…` and, before
/// that, `sent/…`.
fn gossip_bookkeeping_to_own_column(kv: &dyn KeyValueStore) -> Result<Batch> {
    let mut b = Batch::new();
    for (key, value) in kv.scan(Column::Gossip, &[])? {
        let id = key.strip_suffix(&[0]).unwrap_or(&key);
        let moved: Option<(Vec<u8>, Vec<u8>)> = if let Some(rest) = key.strip_prefix(b"~r/") {
            Some(([gossip_keys::ROUND_INDEX, rest].concat(), Vec::new()))
        } else if id == b"~indexed/rounds" {
            Some((gossip_keys::INDEXED.to_vec(), Vec::new()))
        } else if let Some(what) = id
            .strip_prefix(b"~sent/")
            .or_else(|| id.strip_prefix(b"sent/"))
        {
            // The marker's block, when its record still reads.
            let block = serde_json::from_slice::<super::records::GossipRecord>(&value)
                .map_or(0, |r| r.received_at_block);
            Some((
                [gossip_keys::SENT, what].concat(),
                block.to_be_bytes().to_vec(),
            ))
        } else {
            None
        };
        if let Some((new_key, new_value)) = moved {
            b.put_raw(Column::GossipIndex, new_key, new_value);
            b.delete_raw(Column::Gossip, key);
        }
    }
    Ok(b)
}

/// Schema 1 kept `GenerationRecord`s in `Submissions` under keys led by this tag (so that a
/// round's submission scans never met them).
const V1_GENERATION_TAG: &str = "~generation";

fn generations_to_own_column(kv: &dyn KeyValueStore) -> Result<Batch> {
    let mut b = Batch::new();
    let prefix = KeyBuilder::new().str(V1_GENERATION_TAG).build();
    for (key, value) in kv.scan(Column::Submissions, &prefix)? {
        let rec: GenerationRecord = serde_json::from_slice(&value).map_err(|e| Error::Record {
            column: Column::Submissions.name(),
            key: hex::encode(&key),
            reason: e.to_string(),
        })?;
        b.put_raw(Column::Generations, rec.key(), value);
        b.delete_raw(Column::Submissions, key);
    }
    Ok(b)
}

/// The stored version; `None` for a database without one.
pub fn version(kv: &dyn KeyValueStore) -> Result<Option<u32>> {
    let Some(bytes) = kv.get(Column::Meta, VERSION_KEY)? else {
        return Ok(None);
    };
    let arr: [u8; 4] = bytes.as_slice().try_into().map_err(|_| Error::Record {
        column: Column::Meta.name(),
        key: "schema_version".into(),
        reason: format!("{} bytes, expected 4", bytes.len()),
    })?;
    Ok(Some(u32::from_be_bytes(arr)))
}

fn is_empty(kv: &dyn KeyValueStore) -> Result<bool> {
    for col in Column::ALL {
        if !kv.scan(col, &[])?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Brings the database to the newest version `migrations` reach (at least
/// [`CURRENT_VERSION`]): a new database is stamped, an old one migrated step by step, a newer
/// one refused. A database with data but no version is version 0.
pub fn ensure(kv: &dyn KeyValueStore, migrations: &[Migration]) -> Result<u32> {
    let target = migrations
        .iter()
        .map(|m| m.from + 1)
        .max()
        .unwrap_or(0)
        .max(CURRENT_VERSION);
    let mut found = match version(kv)? {
        Some(v) => v,
        None if is_empty(kv)? => {
            let mut b = Batch::new();
            b.put_raw(
                Column::Meta,
                VERSION_KEY.to_vec(),
                target.to_be_bytes().to_vec(),
            );
            kv.write(b)?;
            return Ok(target);
        }
        None => 0,
    };
    if found > target {
        return Err(Error::SchemaTooNew {
            found,
            supported: target,
        });
    }
    while found < target {
        let m = migrations
            .iter()
            .find(|m| m.from == found)
            .ok_or(Error::Migration {
                from: found,
                to: found + 1,
                reason: "no migration registered".into(),
            })?;
        let mut batch = (m.run)(kv).map_err(|e| Error::Migration {
            from: found,
            to: found + 1,
            reason: e.to_string(),
        })?;
        batch.put_raw(
            Column::Meta,
            VERSION_KEY.to_vec(),
            (found + 1).to_be_bytes().to_vec(),
        );
        kv.write(batch)?;
        tracing::info!(
            from = found,
            to = found + 1,
            what = m.describe,
            "database migrated"
        );
        found += 1;
    }
    Ok(found)
}
