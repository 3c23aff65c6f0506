//! When and what the validator sets as weights (competition.md §9.2–§9.3): the leader in force
//! gets `w`, the owner UID `1 − w`; every `interval` blocks (1800 s), postponed when the next
//! leader takes over within 1500 s, retried after 240–360 s on failure. The chain client checks
//! the rate limit and version key and uses commit-reveal v3 when the subnet has it on.

use rand::Rng as _;
use serde::Serialize;
use sn17_chain::metagraph::Source;
use sn17_chain::weights::{WeightsOptions, WeightsOutcome};
use sn17_chain::Metagraph;
use sn17_chain::{PairSigner, Subtensor};
use sn17_storage::state_repo::LeaderEntry;

use crate::engine::leader;

/// Blocks between successful weight settings (404's 1800 s).
pub const DEFAULT_INTERVAL_BLOCKS: u64 = 150;

#[derive(Debug, Clone, Serialize)]
pub struct WeightsDone {
    pub block: u64,
    pub weights: Vec<(u16, f64)>,
    pub leader: Option<String>,
    /// `set` or `committed` (commit-reveal v3).
    pub mode: String,
}

/// What one tick did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "weights", rename_all = "snake_case")]
pub enum Tick {
    NotDue,
    Postponed { until_block: u64 },
    Set(WeightsDone),
    Failed { error: String, retry_block: u64 },
}

pub struct WeightsSetter {
    pub interval_blocks: u64,
    pub owner_uid: Option<u16>,
    pub version_key: Option<u64>,
    next_block: u64,
}

/// The owner UID: given, or the first neuron whose coldkey owns the subnet.
pub fn owner_uid(mg: &Metagraph, owner_coldkey: Option<sn17_chain::Account>) -> Option<u16> {
    let owner = owner_coldkey?;
    mg.neurons
        .iter()
        .filter(|n| n.coldkey == owner)
        .map(|n| n.uid)
        .min()
}

impl WeightsSetter {
    pub fn new(interval_blocks: u64, owner_uid: Option<u16>, version_key: Option<u64>) -> Self {
        Self {
            interval_blocks: interval_blocks.max(1),
            owner_uid,
            version_key,
            next_block: 0,
        }
    }

    /// Sets weights when due (or `force`), reading the metagraph at `head`.
    pub async fn tick(
        &mut self,
        client: &Subtensor,
        netuid: u16,
        hotkey: &PairSigner,
        leaders: &[LeaderEntry],
        head: sn17_chain::Head,
        force: bool,
    ) -> Tick {
        if !force && head.number < self.next_block {
            return Tick::NotDue;
        }
        if !force && leader::postpone_for_next_leader(leaders, head.number) {
            self.next_block = head.number + self.interval_blocks;
            return Tick::Postponed {
                until_block: self.next_block,
            };
        }
        match self.set(client, netuid, hotkey, leaders, head).await {
            Ok(done) => {
                self.next_block = head.number + self.interval_blocks;
                Tick::Set(done)
            }
            Err(e) => self.failed(head.number, format!("{e:#}")),
        }
    }

    fn failed(&mut self, head: u64, error: String) -> Tick {
        // 404 retries after uniform(240, 360) s.
        let wait = rand::thread_rng().gen_range(20..=30);
        self.next_block = head + wait;
        Tick::Failed {
            error,
            retry_block: self.next_block,
        }
    }

    async fn set(
        &self,
        client: &Subtensor,
        netuid: u16,
        hotkey: &PairSigner,
        leaders: &[LeaderEntry],
        head: sn17_chain::Head,
    ) -> anyhow::Result<WeightsDone> {
        let mg = client.metagraph_at(netuid, Source::Auto, head).await?;
        let owner = match self.owner_uid {
            Some(u) => u,
            None => {
                let hp = client.hyperparams(netuid, head).await?;
                owner_uid(&mg, hp.subnet_owner).ok_or_else(|| {
                    anyhow::anyhow!("the subnet owner has no registered hotkey; pass --owner-uid")
                })?
            }
        };
        let uid_of = |hk: &str| {
            mg.neurons
                .iter()
                .find(|n| n.hotkey.ss58() == hk)
                .map(|n| n.uid)
        };
        let plan = leader::weights_at(leaders, head.number, uid_of, owner);
        let opts = WeightsOptions {
            version_key: self.version_key,
            block_time_secs: None,
        };
        let outcome = client
            .set_weights(netuid, hotkey, &plan.weights, &opts)
            .await?;
        let mode = match outcome {
            WeightsOutcome::Set { .. } => "set",
            WeightsOutcome::Committed { .. } => "committed",
        };
        Ok(WeightsDone {
            block: head.number,
            weights: plan.weights,
            leader: plan.leader_hotkey,
            mode: mode.into(),
        })
    }
}
