//! The metagraph of one subnet: every neuron's keys, stake, flags, scores and axon.
//!
//! Two sources give the same fields: plain storage maps read in three batched round trips (the
//! fast path, used by default when the runtime has every map), and the runtime API
//! `NeuronInfoRuntimeApi.get_neurons_lite` (typed on current runtimes, `Vec<u8>` on older ones),
//! used when a storage map is missing or when asked for.

mod axon;
mod from_runtime_api;
mod from_storage;

pub use axon::{version_as_int, AxonInfo};

use serde::Serialize;

use crate::account::Account;
use crate::client::{Head, Subtensor};
use crate::error::ChainError;

/// Most neurons a subnet can hold (MaxAllowedUids is at most 4096); a larger count from a node is
/// refused rather than allocated.
pub const MAX_NEURONS: u16 = 4096;

/// One neuron as validators and explorers need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neuron {
    pub uid: u16,
    pub hotkey: Account,
    pub coldkey: Account,
    /// Alpha stake on this subnet in rao (TotalHotkeyAlpha).
    pub stake: u64,
    pub active: bool,
    pub validator_permit: bool,
    pub last_update: u64,
    pub incentive: u16,
    pub consensus: u16,
    pub dividends: u16,
    pub emission: u64,
    pub axon: Option<AxonInfo>,
}

/// Where a metagraph was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Storage maps when the runtime has them all, else the runtime API.
    #[default]
    Auto,
    Storage,
    RuntimeApi,
}

impl std::str::FromStr for Source {
    type Err = ChainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "storage" => Ok(Self::Storage),
            "runtime-api" => Ok(Self::RuntimeApi),
            other => Err(ChainError::InvalidArgument(format!(
                "metagraph source {other:?}: expected auto, storage or runtime-api"
            ))),
        }
    }
}

/// A subnet's neurons at one block.
#[derive(Debug, Clone, Serialize)]
pub struct Metagraph {
    pub netuid: u16,
    pub block: u64,
    #[serde(serialize_with = "crate::serde_hex::serialize")]
    pub block_hash: [u8; 32],
    pub source: Source,
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    pub fn by_hotkey(&self, hotkey: &Account) -> Option<&Neuron> {
        self.neurons.iter().find(|n| &n.hotkey == hotkey)
    }
}

impl Subtensor {
    /// Reads the metagraph of `netuid` at the best block.
    pub async fn metagraph(&self, netuid: u16, source: Source) -> Result<Metagraph, ChainError> {
        let head = self.head().await?;
        self.metagraph_at(netuid, source, head).await
    }

    /// Reads the metagraph of `netuid` at `head`.
    pub async fn metagraph_at(
        &self,
        netuid: u16,
        source: Source,
        head: Head,
    ) -> Result<Metagraph, ChainError> {
        let source = match source {
            Source::Auto if from_storage::runtime_has_maps(self) => Source::Storage,
            Source::Auto => Source::RuntimeApi,
            s => s,
        };
        let neurons = match source {
            Source::RuntimeApi => from_runtime_api::read(self, netuid, head).await?,
            _ => from_storage::read(self, netuid, head).await?,
        };
        Ok(Metagraph {
            netuid,
            block: head.number,
            block_hash: head.hash,
            source,
            neurons,
        })
    }

    /// Whether `netuid` exists at `head`.
    pub async fn subnet_exists(&self, netuid: u16, head: Head) -> Result<bool, ChainError> {
        let reader = self.storage_at(head);
        Ok(reader
            .get::<bool>("SubtensorModule", "NetworksAdded", &[&netuid.to_le_bytes()])
            .await?
            .unwrap_or(false))
    }
}
