//! Setting weights the way the chain wants them now: `set_weights` when commit-reveal is off,
//! a commit-reveal v3 timelocked commit when it is on (chain.md §1.5, §1.6, §6).

use serde::Serialize;

use crate::calls;
use crate::client::{Head, Subtensor};
use crate::crv3::{self, EpochSchedule, WeightsTlockPayload};
use crate::error::ChainError;
use crate::tx::{Included, PairSigner};

/// Block time assumed for reveal rounds when the runtime does not say (finney's 12 s).
pub const DEFAULT_BLOCK_TIME_SECS: f64 = 12.0;

/// What `set_weights` did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum WeightsOutcome {
    /// Weights written directly.
    Set {
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
        included: Included,
    },
    /// Timelocked commit; the chain reveals it in `reveal_epoch` once drand `reveal_round` is out.
    Committed {
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
        reveal_round: u64,
        commit_epoch: u64,
        reveal_epoch: u64,
        first_reveal_block: u64,
        included: Included,
    },
}

/// Options for [`Subtensor::set_weights`].
#[derive(Debug, Clone, Default)]
pub struct WeightsOptions {
    /// At least the chain's `WeightsVersionKey`; `None` uses the chain's.
    pub version_key: Option<u64>,
    /// Seconds per block for the reveal round (CRv3); `None` uses 12.
    pub block_time_secs: Option<f64>,
}

impl Subtensor {
    /// Sets `weights` (uid, weight ≥ 0) for the signing hotkey on `netuid`.
    ///
    /// Weights are max-upscaled to u16 and zeros dropped, as the Python SDK does. The version key
    /// is raised to the chain's when lower. With commit-reveal off, the rate limit is checked
    /// here first so the error names the blocks left.
    pub async fn set_weights(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        weights: &[(u16, f64)],
        opts: &WeightsOptions,
    ) -> Result<WeightsOutcome, ChainError> {
        let now = crate::crv3::drand::unix_now_secs();
        self.set_weights_at_time(netuid, hotkey, weights, opts, now)
            .await
    }

    /// [`Self::set_weights`] with the wall clock given: the CRv3 reveal round is computed from
    /// `now_unix_secs` (replays and tests that must hit a known drand round).
    pub async fn set_weights_at_time(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        weights: &[(u16, f64)],
        opts: &WeightsOptions,
        now_unix_secs: u64,
    ) -> Result<WeightsOutcome, ChainError> {
        let emit = crv3::convert_weights_and_uids_for_emit(weights)?;
        if emit.uids.is_empty() {
            return Err(ChainError::InvalidArgument(
                "all weights are zero; nothing to set".into(),
            ));
        }
        let head = self.head().await?;
        let hp = self.hyperparams(netuid, head).await?;
        let uid = self.require_uid(netuid, &hotkey.account(), head).await?;
        let version_key = opts.version_key.unwrap_or(0).max(hp.weights_version_key);

        if !hp.commit_reveal_enabled {
            let last = self.last_update(netuid, uid, head).await?;
            if last != 0 && head.number.saturating_sub(last) < hp.weights_rate_limit {
                return Err(ChainError::RateLimited {
                    blocks_left: hp.weights_rate_limit - head.number.saturating_sub(last),
                });
            }
            let call = calls::set_weights(netuid, &emit.uids, &emit.values, version_key);
            let included = self.submit(&call, hotkey).await?;
            return Ok(WeightsOutcome::Set {
                uids: emit.uids,
                values: emit.values,
                version_key,
                included,
            });
        }

        let has = |name: &str| {
            self.metadata()
                .pallet_by_name("SubtensorModule")
                .and_then(|p| p.call_variant_by_name(name))
                .is_some()
        };
        let mechanism = has("commit_timelocked_mechanism_weights");
        if !mechanism && !has("commit_timelocked_weights") {
            return Err(self.missing(
                "call SubtensorModule.commit_timelocked_weights (commit-reveal v3 is on for this subnet)",
            ));
        }
        let schedule = self
            .epoch_schedule(netuid, hp.tempo, hp.reveal_period_epochs, head)
            .await?;
        let payload = WeightsTlockPayload::new(
            hotkey.account().0,
            emit.uids.clone(),
            emit.values.clone(),
            version_key,
        )?;
        let commit = crv3::build_weights_commit(
            &payload,
            &schedule,
            now_unix_secs,
            opts.block_time_secs.unwrap_or(DEFAULT_BLOCK_TIME_SECS),
            &mut rand::rngs::OsRng,
        )?;
        let call = if mechanism {
            calls::commit_timelocked_mechanism_weights(
                netuid,
                0,
                &commit.commit,
                commit.reveal_round,
                hp.commit_reveal_version,
            )
        } else {
            calls::commit_timelocked_weights(
                netuid,
                &commit.commit,
                commit.reveal_round,
                hp.commit_reveal_version,
            )
        };
        let included = self.submit(&call, hotkey).await?;
        Ok(WeightsOutcome::Committed {
            uids: emit.uids,
            values: emit.values,
            version_key,
            reveal_round: commit.reveal_round,
            commit_epoch: commit.plan.commit_epoch,
            reveal_epoch: commit.plan.reveal_epoch,
            first_reveal_block: commit.plan.first_reveal_block,
            included,
        })
    }

    /// `LastUpdate[netuid][uid]`.
    pub async fn last_update(&self, netuid: u16, uid: u16, head: Head) -> Result<u64, ChainError> {
        let v: Vec<u64> = self
            .storage_at(head)
            .get("SubtensorModule", "LastUpdate", &[&netuid.to_le_bytes()])
            .await?
            .unwrap_or_default();
        Ok(v.get(uid as usize).copied().unwrap_or(0))
    }

    /// The weights stored for `uid`: (dest uid, u16 value) pairs.
    pub async fn stored_weights(
        &self,
        netuid: u16,
        uid: u16,
        head: Head,
    ) -> Result<Vec<(u16, u16)>, ChainError> {
        Ok(self
            .storage_at(head)
            .get(
                "SubtensorModule",
                "Weights",
                &[&netuid.to_le_bytes(), &uid.to_le_bytes()],
            )
            .await?
            .unwrap_or_default())
    }

    /// The stateful-epoch inputs of the reveal-round algorithm, read at one block.
    pub async fn epoch_schedule(
        &self,
        netuid: u16,
        tempo: u16,
        reveal_period_epochs: u64,
        head: Head,
    ) -> Result<EpochSchedule, ChainError> {
        let r = self.storage_at(head);
        let nu = netuid.to_le_bytes();
        let read = |name: &'static str| {
            let r = &r;
            async move {
                match r.entry("SubtensorModule", name) {
                    Ok(_) => Ok(r
                        .get::<u64>("SubtensorModule", name, &[&nu])
                        .await?
                        .unwrap_or(0)),
                    Err(e) => Err(e),
                }
            }
        };
        let last_epoch_block = read("LastEpochBlock").await?;
        let pending_epoch_at = read("PendingEpochAt").await?;
        let subnet_epoch_index = read("SubnetEpochIndex").await?;
        let blocks_since_last_step = read("BlocksSinceLastStep").await?;
        Ok(EpochSchedule {
            tempo,
            reveal_period_epochs,
            last_epoch_block,
            pending_epoch_at,
            subnet_epoch_index,
            blocks_since_last_step,
            head_block: head.number,
        })
    }
}
