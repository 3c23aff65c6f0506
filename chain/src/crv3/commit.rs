//! One call from payload and epoch state to the `commit_timelocked_*weights` arguments.

use codec::Encode;
use rand::{CryptoRng, RngCore};

use super::epoch::{plan_reveal, EpochSchedule, RevealPlan};
use super::payload::WeightsTlockPayload;
use super::tlock::encrypt_to_round;
use super::Result;

/// `CommitRevealWeightsVersion` default (4); the extrinsic's version argument must equal the
/// chain's value, so read it from storage when possible and fall back to this.
pub const COMMIT_REVEAL_VERSION: u16 = 4;

/// The `commit` and `reveal_round` arguments of a timelocked weights commit, and the plan
/// behind them (for logging and for watching the reveal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsCommit {
    /// Compressed tlock ciphertext of the SCALE payload.
    pub commit: Vec<u8>,
    /// Round the commit is encrypted to.
    pub reveal_round: u64,
    /// Commit and reveal blocks and epochs.
    pub plan: RevealPlan,
}

/// Validates `payload`, plans the reveal from `schedule`, and encrypts the payload to the
/// planned round: the Rust counterpart of the SDK's `get_encrypted_commit_v2`.
pub fn build_weights_commit<R: RngCore + CryptoRng>(
    payload: &WeightsTlockPayload,
    schedule: &EpochSchedule,
    now_unix_secs: u64,
    block_time_secs: f64,
    rng: &mut R,
) -> Result<WeightsCommit> {
    payload.validate()?;
    let plan = plan_reveal(schedule, now_unix_secs, block_time_secs)?;
    let commit = encrypt_to_round(&payload.encode(), plan.reveal_round, rng)?;
    Ok(WeightsCommit {
        commit,
        reveal_round: plan.reveal_round,
        plan,
    })
}
