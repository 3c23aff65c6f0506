//! Accepted gossip in the RocksDB gossip column: one `GossipRecord` per message id holding the
//! full envelope, and the decoded views the explorer serves.

use serde::Serialize;
use sn17_storage::db::{GossipRecord, Store};

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

/// Stores one accepted message.
pub fn put(
    store: &Store,
    id: &str,
    kind: Kind,
    peer: &str,
    block: u64,
    bytes: &[u8],
) -> Result<()> {
    store.put(&GossipRecord {
        id: id.to_string(),
        topic: kind.name().to_string(),
        peer: peer.to_string(),
        received_at_block: block,
        payload_hex: hex::encode(bytes),
    })?;
    Ok(())
}

/// Every stored message that still decodes (records that do not are skipped with a warning).
pub fn all(store: &Store) -> Result<Vec<StoredMessage>> {
    let mut out = Vec::new();
    for r in store.scan::<GossipRecord>(&[])? {
        match decode(&r) {
            Some(m) => out.push(m),
            None => tracing::warn!(id = %r.id, "undecodable gossip record skipped"),
        }
    }
    out.sort_by(|a, b| {
        (a.envelope.block, a.received_at_block, &a.id).cmp(&(
            b.envelope.block,
            b.received_at_block,
            &b.id,
        ))
    });
    Ok(out)
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
