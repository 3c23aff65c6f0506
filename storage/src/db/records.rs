//! The records the node keeps, one type per column family.

use serde::{Deserialize, Serialize};

use super::columns::Column;
use super::keys::{self, KeyBuilder};
use super::store::Record;

/// A round's schedule as the engine uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub earliest_reveal_block: u64,
    pub latest_reveal_block: u64,
    pub generation_deadline_block: Option<u64>,
}

/// The engine's view of one round: what was decided (seed, prompts, winner) and which steps'
/// state-repository commits are done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    pub round: u64,
    /// A `Stage` spelling (`open`, `miner_generation`, …).
    pub stage: String,
    pub schedule: Option<ScheduleRecord>,
    pub seed: Option<u32>,
    pub prompts: Vec<String>,
    pub winner: Option<String>,
    /// Steps whose effects are fully written (idempotency markers).
    pub done: Vec<String>,
}

impl RoundRecord {
    pub fn new(round: u64, stage: &str) -> Self {
        Self {
            round,
            stage: stage.into(),
            schedule: None,
            seed: None,
            prompts: Vec::new(),
            winner: None,
            done: Vec::new(),
        }
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.done.iter().any(|d| d == step)
    }

    pub fn mark_done(&mut self, step: &str) {
        if !self.is_done(step) {
            self.done.push(step.to_string());
        }
    }
}

impl Record for RoundRecord {
    const COLUMN: Column = Column::Rounds;
    fn key(&self) -> Vec<u8> {
        keys::round(self.round)
    }
}

/// A miner's submission for a round, in priority order (`position`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub round: u64,
    pub position: u32,
    pub hotkey: String,
    pub coldkey: Option<String>,
    pub repo: String,
    pub commit: String,
    pub cdn_url: String,
    pub revealed_at_block: u64,
}

impl Record for SubmissionRecord {
    const COLUMN: Column = Column::Submissions;
    fn key(&self) -> Vec<u8> {
        keys::round_miner(self.round, &self.hotkey)
    }
}

/// The result of fetching one miner's output for one prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadRecord {
    pub round: u64,
    pub hotkey: String,
    pub stem: String,
    pub url: String,
    /// Bytes received (0 on failure).
    pub size: u64,
    /// SHA-256 of the body, hex, when it was received whole.
    pub sha256: Option<String>,
    /// 404's `failure_reason` category, `None` on success.
    pub failure_reason: Option<String>,
    pub attempts: u32,
}

impl Record for DownloadRecord {
    const COLUMN: Column = Column::Downloads;
    fn key(&self) -> Vec<u8> {
        keys::round_miner_stem(self.round, &self.hotkey, &self.stem)
    }
}

/// A submission's regeneration on its pod for an audit: its `generation_reports.json` entry
/// (404's format), kept so that a restarted validator writes the same report without
/// regenerating again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub round: u64,
    pub hotkey: String,
    /// The `generation_reports.json` value as 404's writer prints it (`hotkey`, `outcome`,
    /// `repeats`, `reason`).
    pub report: String,
}

impl GenerationRecord {
    /// Key prefix of a round's generation records.
    pub fn prefix(round: u64) -> Vec<u8> {
        keys::round(round)
    }
}

impl Record for GenerationRecord {
    const COLUMN: Column = Column::Generations;
    fn key(&self) -> Vec<u8> {
        keys::round_miner(self.round, &self.hotkey)
    }
}

/// Where one output's rendered views are, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderRecord {
    pub round: u64,
    pub hotkey: String,
    pub stem: String,
    pub views: Option<String>,
    pub failure_reason: Option<String>,
}

impl Record for RenderRecord {
    const COLUMN: Column = Column::Renders;
    fn key(&self) -> Vec<u8> {
        keys::round_miner_stem(self.round, &self.hotkey, &self.stem)
    }
}

/// One match (or audit duel set) between two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRecord {
    pub round: u64,
    /// `duels` or `audit_{r}`.
    pub kind: String,
    pub left: String,
    pub right: String,
    pub score: i64,
    pub duels: u32,
    pub margin: f64,
    /// Who decided: `vlm:<model>` or `offline` (absent in records that predate it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    /// 404's match report (every prompt's winner and `detail`), when the judge kept one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

impl Record for MatchRecord {
    const COLUMN: Column = Column::Matches;
    fn key(&self) -> Vec<u8> {
        KeyBuilder::new()
            .u64(self.round)
            .str(&self.kind)
            .str(&self.left)
            .str(&self.right)
            .build()
    }
}

/// An output's embedding bundle (vectors live in the npz; this records which and where).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingRecord {
    pub round: u64,
    pub hotkey: String,
    pub stem: String,
    pub model: String,
    pub dims: u32,
    pub sha256: String,
    pub location: String,
}

impl Record for EmbeddingRecord {
    const COLUMN: Column = Column::Embeddings;
    fn key(&self) -> Vec<u8> {
        keys::round_miner_stem(self.round, &self.hotkey, &self.stem)
    }
}

/// Chain data a decision was made from, pinned to its block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainSnapshotRecord {
    pub block: u64,
    pub block_hash: String,
    /// `revealed_commitments`, `metagraph`, `coldkey_locks`, …
    pub kind: String,
    pub data: serde_json::Value,
}

impl ChainSnapshotRecord {
    /// Kind of the record that keeps the drand beacon a round's seed came from (written by the
    /// engine at the round's `latest_reveal_block`, read for gossip and by auditors).
    pub fn drand_seed_kind(round: u64) -> String {
        format!("round_{round}_drand_seed")
    }

    /// The key of the record of `kind` at `block` (for reads without a record in hand).
    pub fn key_of(block: u64, kind: &str) -> Vec<u8> {
        KeyBuilder::new().u64(block).str(kind).build()
    }
}

impl Record for ChainSnapshotRecord {
    const COLUMN: Column = Column::ChainSnapshots;
    fn key(&self) -> Vec<u8> {
        Self::key_of(self.block, &self.kind)
    }
}

/// A drand seed with everything an auditor needs to recompute it. The engine keeps it as a
/// chain snapshot record ([`DrandSeed::record`]) at the round's `latest_reveal_block`; gossip
/// reads it back ([`DrandSeed::load`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrandSeed {
    pub netuid: u16,
    pub round: u64,
    /// `latest_reveal_block` and its timestamp (unix seconds).
    pub block: u64,
    pub block_time: u64,
    pub drand_chain: String,
    pub drand_round: u64,
    pub randomness: String,
    pub signature: String,
    pub seed: u32,
}

impl DrandSeed {
    /// The record the engine keeps for this seed.
    pub fn record(&self) -> Result<ChainSnapshotRecord, serde_json::Error> {
        Ok(ChainSnapshotRecord {
            block: self.block,
            block_hash: String::new(),
            kind: ChainSnapshotRecord::drand_seed_kind(self.round),
            data: serde_json::to_value(self)?,
        })
    }

    /// The seed kept for `round` at `block` (its `latest_reveal_block`), if any and readable.
    pub fn load(store: &super::Store, round: u64, block: u64) -> Option<DrandSeed> {
        let key = ChainSnapshotRecord::key_of(block, &ChainSnapshotRecord::drand_seed_kind(round));
        let rec: ChainSnapshotRecord = store.get(&key).ok()??;
        serde_json::from_value(rec.data).ok()
    }
}

/// A gossip message accepted from a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GossipRecord {
    /// Content-addressed message id, hex.
    pub id: String,
    pub topic: String,
    pub peer: String,
    pub received_at_block: u64,
    pub payload_hex: String,
}

impl Record for GossipRecord {
    const COLUMN: Column = Column::Gossip;
    fn key(&self) -> Vec<u8> {
        KeyBuilder::new().str(&self.id).build()
    }
}

/// One file of a pending state-repository commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxFile {
    pub path: String,
    pub content: String,
}

/// A state-repository commit decided but maybe not yet made. It is written in the same batch
/// as the records it follows from, applied to git (idempotently), then deleted, so a crash at
/// any point either redoes the same commit or finds it done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub files: Vec<OutboxFile>,
    pub messages: Vec<String>,
}

impl OutboxRecord {
    pub const KEY: &'static [u8] = b"outbox";
}

impl Record for OutboxRecord {
    const COLUMN: Column = Column::Meta;
    fn key(&self) -> Vec<u8> {
        Self::KEY.to_vec()
    }
}
