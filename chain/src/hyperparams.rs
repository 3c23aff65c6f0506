//! The subnet hyperparameters the node acts on, read in one round trip at one block.

use serde::Serialize;

use crate::client::{Head, Subtensor};
use crate::error::ChainError;

const PALLET: &str = "SubtensorModule";

/// Hyperparameters of one subnet. Items a runtime lacks take the runtime's defaults documented
/// in chain.md §1.2 and are listed in `missing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hyperparams {
    pub netuid: u16,
    pub block: u64,
    pub tempo: u16,
    pub weights_rate_limit: u64,
    pub weights_version_key: u64,
    pub commit_reveal_enabled: bool,
    pub reveal_period_epochs: u64,
    /// `CommitRevealWeightsVersion`, the version commit_timelocked_weights must carry.
    pub commit_reveal_version: u16,
    pub min_allowed_weights: u16,
    pub max_weights_limit: u16,
    pub max_allowed_uids: u16,
    pub immunity_period: u16,
    /// Registration price in rao.
    pub burn: u64,
    pub serving_rate_limit: u64,
    pub subnet_owner: Option<crate::account::Account>,
    /// Storage items this runtime does not have (defaults used instead).
    pub missing: Vec<&'static str>,
}

/// (name, netuid-keyed?) for every item read.
const ITEMS: [(&str, bool); 13] = [
    ("Tempo", true),
    ("WeightsSetRateLimit", true),
    ("WeightsVersionKey", true),
    ("CommitRevealWeightsEnabled", true),
    ("RevealPeriodEpochs", true),
    ("CommitRevealWeightsVersion", false),
    ("MinAllowedWeights", true),
    ("MaxWeightsLimit", true),
    ("MaxAllowedUids", true),
    ("ImmunityPeriod", true),
    ("Burn", true),
    ("ServingRateLimit", true),
    ("SubnetOwner", true),
];

impl Subtensor {
    /// Reads the hyperparameters of `netuid` at `head`.
    pub async fn hyperparams(&self, netuid: u16, head: Head) -> Result<Hyperparams, ChainError> {
        if !self.subnet_exists(netuid, head).await? {
            return Err(ChainError::UnknownNetuid(netuid));
        }
        let r = self.storage_at(head);
        let nu = netuid.to_le_bytes();
        let mut entries = Vec::new();
        let mut keys = Vec::new();
        let mut missing = Vec::new();
        for (name, keyed) in ITEMS {
            match r.entry(PALLET, name) {
                Ok(e) => {
                    keys.push(if keyed { e.key(&[&nu])? } else { e.key(&[])? });
                    entries.push((name, Some(e)));
                }
                Err(_) => {
                    missing.push(name);
                    entries.push((name, None));
                }
            }
        }
        let mut raw = r.raw_many(&keys).await?.into_iter();
        let md = r.metadata();
        let mut values = std::collections::HashMap::new();
        for (name, entry) in &entries {
            if let Some(e) = entry {
                values.insert(*name, (e.clone(), raw.next().flatten()));
            }
        }
        macro_rules! read {
            ($name:literal, $ty:ty, $default:expr) => {
                match values.get($name) {
                    Some((e, v)) => e.decode::<$ty>(md, v.as_deref())?.unwrap_or($default),
                    None => $default,
                }
            };
        }
        let owner: Option<[u8; 32]> = match values.get("SubnetOwner") {
            Some((e, v)) => e.decode::<[u8; 32]>(md, v.as_deref())?,
            None => None,
        };
        Ok(Hyperparams {
            netuid,
            block: head.number,
            tempo: read!("Tempo", u16, 360),
            weights_rate_limit: read!("WeightsSetRateLimit", u64, 100),
            weights_version_key: read!("WeightsVersionKey", u64, 0),
            commit_reveal_enabled: read!("CommitRevealWeightsEnabled", bool, true),
            reveal_period_epochs: read!("RevealPeriodEpochs", u64, 1),
            commit_reveal_version: read!("CommitRevealWeightsVersion", u16, 4),
            min_allowed_weights: read!("MinAllowedWeights", u16, 0),
            max_weights_limit: read!("MaxWeightsLimit", u16, u16::MAX),
            max_allowed_uids: read!("MaxAllowedUids", u16, 0),
            immunity_period: read!("ImmunityPeriod", u16, 0),
            burn: read!("Burn", u64, 0),
            serving_rate_limit: read!("ServingRateLimit", u64, 50),
            subnet_owner: owner.filter(|o| *o != [0; 32]).map(crate::account::Account),
            missing,
        })
    }
}
