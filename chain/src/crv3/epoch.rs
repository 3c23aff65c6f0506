//! Reveal-round prediction under subtensor's stateful epoch model.
//!
//! A commit is stored under the epoch current when it executes and revealed in the first block
//! whose pre-coinbase epoch is `commit_epoch + RevealPeriodEpochs`, using the drand pulse of the
//! round chosen at commit time. If that pulse is not on chain during the reveal epoch the commit
//! is dropped, so the round is aimed at shortly after the first reveal block. This mirrors
//! bittensor-drand 2.0 / bittensor-core `generate_commit_v2` (block-by-block simulation of
//! `should_run_epoch` and `run_coinbase`, no `MaxEpochsPerBlock` deferral).

use super::drand::{QUICKNET_GENESIS_TIME, QUICKNET_PERIOD_SECS};
use super::{Crv3Error, Result};

/// `BlocksSinceLastStep` above this forces an epoch (subtensor `MAX_TEMPO`).
pub const MAX_TEMPO: u64 = 50_400;

/// The commit extrinsic lands in the block after the head it was built against.
pub const COMMIT_INCLUSION_OFFSET: u64 = 1;

/// Blocks past the first reveal block whose time the round is aimed at, so the pulse has been
/// ingested by the Drand pallet when the reveal runs.
pub const SECURITY_BLOCK_OFFSET: u64 = 3;

/// Most blocks an epoch can last: an auto epoch fires at latest when `BlocksSinceLastStep`
/// exceeds [`MAX_TEMPO`], plus one block of slack.
const MAX_EPOCH_BLOCKS: u64 = MAX_TEMPO + 2;

/// Hard cap on simulated blocks (covers the chain's largest `RevealPeriodEpochs`, 100).
pub const MAX_SIMULATED_BLOCKS: u64 = 101 * MAX_EPOCH_BLOCKS;

/// Subnet epoch state read at one block (all from `SubtensorModule` storage at `head_block`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpochSchedule {
    /// `Tempo(netuid)`.
    pub tempo: u16,
    /// `RevealPeriodEpochs(netuid)`.
    pub reveal_period_epochs: u64,
    /// `LastEpochBlock(netuid)`.
    pub last_epoch_block: u64,
    /// `PendingEpochAt(netuid)`; 0 when no owner-triggered epoch is pending.
    pub pending_epoch_at: u64,
    /// `SubnetEpochIndex(netuid)`.
    pub subnet_epoch_index: u64,
    /// `BlocksSinceLastStep(netuid)`.
    pub blocks_since_last_step: u64,
    /// The block these values were read at.
    pub head_block: u64,
}

/// When a commit built now against [`EpochSchedule::head_block`] will reveal, and to which round
/// it must be encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevealPlan {
    /// Block the commit is expected to execute in (`head + 1`).
    pub commit_block: u64,
    /// Epoch the chain files the commit under.
    pub commit_epoch: u64,
    /// `commit_epoch + reveal_period_epochs`.
    pub reveal_epoch: u64,
    /// First block whose pre-coinbase epoch is `reveal_epoch`.
    pub first_reveal_block: u64,
    /// drand round to encrypt to (at least 1).
    pub reveal_round: u64,
}

/// The mutable part of the schedule, as `run_coinbase` evolves it.
#[derive(Clone, Copy, Debug)]
struct State {
    tempo: u64,
    last_epoch_block: u64,
    pending_epoch_at: u64,
    index: u64,
    blocks_since_last_step: u64,
}

impl State {
    /// Subtensor `should_run_epoch` at `block` for this state.
    fn fires(&self, block: u64) -> bool {
        if self.tempo == 0 {
            return false;
        }
        if self.pending_epoch_at > 0 && block >= self.pending_epoch_at {
            return true;
        }
        if self.blocks_since_last_step > MAX_TEMPO {
            return true;
        }
        block.saturating_sub(self.last_epoch_block) >= self.tempo
    }

    /// Epoch index seen by the reveal step and by extrinsics in `block`: the reveal runs before
    /// `run_coinbase`, but counts an epoch firing in that block.
    fn epoch_before_coinbase(&self, block: u64) -> u64 {
        if self.fires(block) {
            self.index.saturating_add(1)
        } else {
            self.index
        }
    }

    /// `run_coinbase` at `block`: bump `BlocksSinceLastStep`, then run the epoch if due.
    fn run_coinbase(&mut self, block: u64) {
        self.blocks_since_last_step = self.blocks_since_last_step.saturating_add(1);
        if self.fires(block) {
            self.last_epoch_block = block;
            self.pending_epoch_at = 0;
            self.index = self.index.saturating_add(1);
            self.blocks_since_last_step = 0;
        }
    }
}

impl EpochSchedule {
    fn state(&self) -> State {
        State {
            tempo: u64::from(self.tempo),
            last_epoch_block: self.last_epoch_block,
            pending_epoch_at: self.pending_epoch_at,
            index: self.subnet_epoch_index,
            blocks_since_last_step: self.blocks_since_last_step,
        }
    }

    /// Block a commit sent now is expected to execute in.
    pub fn commit_block(&self) -> u64 {
        self.head_block.saturating_add(COMMIT_INCLUSION_OFFSET)
    }

    /// Epoch the chain files a commit under when it executes in [`Self::commit_block`]: one more
    /// than `SubnetEpochIndex` if an epoch fires in that block.
    pub fn commit_epoch(&self) -> u64 {
        self.state().epoch_before_coinbase(self.commit_block())
    }

    /// First block in which the chain reveals a commit executed in [`Self::commit_block`].
    ///
    /// Fails on tempo 0 (no epochs, no reveal) and when the simulation cap is hit.
    pub fn first_reveal_block(&self) -> Result<u64> {
        if self.tempo == 0 {
            return Err(Crv3Error::TempoZero);
        }
        let commit_block = self.commit_block();
        let mut state = self.state();
        let target = state
            .epoch_before_coinbase(commit_block)
            .saturating_add(self.reveal_period_epochs);
        let budget = self
            .reveal_period_epochs
            .saturating_add(1)
            .saturating_mul(MAX_EPOCH_BLOCKS)
            .min(MAX_SIMULATED_BLOCKS);
        let mut block = commit_block;
        for _ in 0..=budget {
            if state.epoch_before_coinbase(block) == target {
                return Ok(block);
            }
            state.run_coinbase(block);
            block = match block.checked_add(1) {
                Some(next) => next,
                None => break,
            };
        }
        Err(Crv3Error::RevealSearchExhausted { blocks: budget })
    }
}

/// Plans a CRv3 commit: the reveal block from the schedule, and the drand round to encrypt to,
/// `floor((now + (first_reveal + 3 - head) * block_time - genesis) / 3)`, clamped to at least 1,
/// in f64 exactly as the SDK computes it.
///
/// `block_time_secs` is 12 on finney; a faster local chain must pass its own, or the round lands
/// far after the reveal epoch and the commit is dropped.
pub fn plan_reveal(
    schedule: &EpochSchedule,
    now_unix_secs: u64,
    block_time_secs: f64,
) -> Result<RevealPlan> {
    if !block_time_secs.is_finite() || block_time_secs <= 0.0 {
        return Err(Crv3Error::InvalidBlockTime(block_time_secs));
    }
    let first_reveal_block = schedule.first_reveal_block()?;
    let commit_epoch = schedule.commit_epoch();
    let blocks_until_ingest = first_reveal_block
        .saturating_add(SECURITY_BLOCK_OFFSET)
        .saturating_sub(schedule.head_block);
    let target_secs = now_unix_secs as f64 + blocks_until_ingest as f64 * block_time_secs;
    let round =
        ((target_secs - QUICKNET_GENESIS_TIME as f64) / QUICKNET_PERIOD_SECS as f64).floor();
    // `as` saturates: negative (before genesis) becomes 0, then the clamp makes it 1.
    let reveal_round = (round as u64).max(1);
    Ok(RevealPlan {
        commit_block: schedule.commit_block(),
        commit_epoch,
        reveal_epoch: commit_epoch.saturating_add(schedule.reveal_period_epochs),
        first_reveal_block,
        reveal_round,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed wall clock: 1_700_000_000 - genesis 1_692_803_367 = 7_196_633 s after genesis.
    const NOW: u64 = 1_700_000_000;

    fn plan(s: EpochSchedule) -> RevealPlan {
        match plan_reveal(&s, NOW, 12.0) {
            Ok(p) => p,
            Err(e) => panic!("plan failed: {e}"),
        }
    }

    #[test]
    fn auto_epoch_after_tempo() {
        // head 10, last epoch 10, tempo 50. Commit at 11: 11 - 10 = 1 < 50, no fire, so the
        // commit epoch is 0 and the reveal epoch 1. The first block with b - 10 >= 50 is 60.
        // Round: (60 + 3 - 10) = 53 blocks * 12 s = 636 s; (7_196_633 + 636) / 3
        // = 7_197_269 / 3 = 2_399_089.67 -> 2_399_089.
        let p = plan(EpochSchedule {
            tempo: 50,
            reveal_period_epochs: 1,
            last_epoch_block: 10,
            head_block: 10,
            ..Default::default()
        });
        assert_eq!(
            p,
            RevealPlan {
                commit_block: 11,
                commit_epoch: 0,
                reveal_epoch: 1,
                first_reveal_block: 60,
                reveal_round: 2_399_089,
            }
        );
    }

    #[test]
    fn pending_epoch_fires_before_auto() {
        // last 80, tempo 20 (auto at 100), pending 95, head 91. Commit at 92: 92 < 95 and
        // 92 - 80 = 12 < 20, so epoch 0. Block 95 fires through PendingEpochAt -> reveal at 95.
        // Round: (95 + 3 - 91) = 7 * 12 = 84 s; (7_196_633 + 84) / 3 = 2_398_905.67 -> 2_398_905.
        let p = plan(EpochSchedule {
            tempo: 20,
            reveal_period_epochs: 1,
            last_epoch_block: 80,
            pending_epoch_at: 95,
            head_block: 91,
            ..Default::default()
        });
        assert_eq!((p.commit_epoch, p.first_reveal_block), (0, 95));
        assert_eq!(p.reveal_round, 2_398_905);
    }

    #[test]
    fn pending_then_auto_with_two_epoch_reveal_period() {
        // Same state with reveal period 2: target epoch 2. Pending fires at 95 (epoch 1,
        // last = 95, pending cleared); the next auto epoch is at 95 + 20 = 115 (epoch 2).
        let s = EpochSchedule {
            tempo: 20,
            reveal_period_epochs: 2,
            last_epoch_block: 80,
            pending_epoch_at: 95,
            head_block: 91,
            ..Default::default()
        };
        assert_eq!(s.first_reveal_block().ok(), Some(115));
        assert_eq!(plan(s).reveal_epoch, 2);
    }

    #[test]
    fn pending_already_due_moves_commit_epoch() {
        // pending 50 is in the past at commit block 61 (61 >= 50), so an epoch fires in the
        // commit block: commit epoch = 7 + 1 = 8. Coinbase at 61 sets last = 61; the next
        // epoch (9) is at 61 + 100 = 161.
        let s = EpochSchedule {
            tempo: 100,
            reveal_period_epochs: 1,
            last_epoch_block: 40,
            pending_epoch_at: 50,
            subnet_epoch_index: 7,
            head_block: 60,
            ..Default::default()
        };
        assert_eq!(s.commit_epoch(), 8);
        assert_eq!(s.first_reveal_block().ok(), Some(161));
    }

    #[test]
    fn epoch_firing_in_commit_block() {
        // last 100, tempo 10, index 5, head 109. Commit at 110: 110 - 100 = 10 >= 10, so the
        // commit is filed under epoch 6 and revealed in epoch 7, first at 110 + 10 = 120.
        let s = EpochSchedule {
            tempo: 10,
            reveal_period_epochs: 1,
            last_epoch_block: 100,
            subnet_epoch_index: 5,
            head_block: 109,
            ..Default::default()
        };
        let p = plan(s);
        assert_eq!((p.commit_epoch, p.reveal_epoch), (6, 7));
        assert_eq!(p.first_reveal_block, 120);
    }

    #[test]
    fn stale_blocks_since_last_step_forces_epoch() {
        // BlocksSinceLastStep 50_401 > 50_400 forces an epoch although 1011 - 1000 = 11 < 360:
        // the commit at 1011 is filed under epoch 3 + 1 = 4. Coinbase at 1011 fires
        // (last = 1011, bsls = 0); epoch 5 starts at 1011 + 360 = 1371.
        let s = EpochSchedule {
            tempo: 360,
            reveal_period_epochs: 1,
            last_epoch_block: 1000,
            subnet_epoch_index: 3,
            blocks_since_last_step: 50_401,
            head_block: 1010,
            ..Default::default()
        };
        assert_eq!(s.commit_epoch(), 4);
        assert_eq!(s.first_reveal_block().ok(), Some(1371));
    }

    #[test]
    fn blocks_since_last_step_crossing_the_limit_in_coinbase() {
        // bsls 50_400 is not > 50_400, so the commit at 1011 sees epoch 3. Coinbase at 1011
        // first bumps bsls to 50_401 and then fires (index 4, last = 1011). The reveal step at
        // 1012 sees index 4 = 3 + 1 with no new fire (1012 - 1011 = 1 < 360): reveal at 1012.
        let s = EpochSchedule {
            tempo: 360,
            reveal_period_epochs: 1,
            last_epoch_block: 1000,
            subnet_epoch_index: 3,
            blocks_since_last_step: 50_400,
            head_block: 1010,
            ..Default::default()
        };
        assert_eq!(s.commit_epoch(), 3);
        assert_eq!(s.first_reveal_block().ok(), Some(1012));
    }

    #[test]
    fn mid_tempo_round() {
        // last 1000, tempo 360, index 42, bsls 10, head 1010: commit epoch 42, reveal at 1360.
        // Round: (1360 + 3 - 1010) = 353 * 12 = 4236 s; (7_196_633 + 4236) / 3
        // = 7_200_869 / 3 = 2_400_289.67 -> 2_400_289.
        let p = plan(EpochSchedule {
            tempo: 360,
            reveal_period_epochs: 1,
            last_epoch_block: 1000,
            subnet_epoch_index: 42,
            blocks_since_last_step: 10,
            head_block: 1010,
            ..Default::default()
        });
        assert_eq!((p.commit_epoch, p.first_reveal_block), (42, 1360));
        assert_eq!(p.reveal_round, 2_400_289);
    }

    #[test]
    fn fractional_block_time() {
        // Fast local chain, 0.25 s blocks: 53 blocks * 0.25 = 13.25 s; (7_196_633 + 13.25) / 3
        // = 2_398_882.08 -> 2_398_882.
        let s = EpochSchedule {
            tempo: 50,
            reveal_period_epochs: 1,
            last_epoch_block: 10,
            head_block: 10,
            ..Default::default()
        };
        assert_eq!(
            plan_reveal(&s, NOW, 0.25).map(|p| p.reveal_round).ok(),
            Some(2_398_882)
        );
    }

    #[test]
    fn round_is_clamped_to_one_before_genesis() {
        let s = EpochSchedule {
            tempo: 50,
            reveal_period_epochs: 1,
            last_epoch_block: 10,
            head_block: 10,
            ..Default::default()
        };
        assert_eq!(
            plan_reveal(&s, 0, 12.0).map(|p| p.reveal_round).ok(),
            Some(1)
        );
    }

    #[test]
    fn tempo_zero_and_bad_block_time_are_errors() {
        let s = EpochSchedule {
            reveal_period_epochs: 1,
            ..Default::default()
        };
        assert!(matches!(s.first_reveal_block(), Err(Crv3Error::TempoZero)));
        assert!(matches!(
            plan_reveal(&s, NOW, 12.0),
            Err(Crv3Error::TempoZero)
        ));
        let s = EpochSchedule {
            tempo: 10,
            reveal_period_epochs: 1,
            ..Default::default()
        };
        for bt in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                plan_reveal(&s, NOW, bt),
                Err(Crv3Error::InvalidBlockTime(_))
            ));
        }
    }

    #[test]
    fn absurd_reveal_period_stops_at_the_cap() {
        // u64::MAX epochs can never be reached; the search stops at MAX_SIMULATED_BLOCKS.
        let s = EpochSchedule {
            tempo: 10,
            reveal_period_epochs: u64::MAX,
            ..Default::default()
        };
        assert!(matches!(
            s.first_reveal_block(),
            Err(Crv3Error::RevealSearchExhausted {
                blocks: MAX_SIMULATED_BLOCKS
            })
        ));
    }

    #[test]
    fn head_near_u64_max_does_not_overflow() {
        let s = EpochSchedule {
            tempo: 10,
            reveal_period_epochs: 1,
            last_epoch_block: u64::MAX - 5,
            head_block: u64::MAX - 2,
            ..Default::default()
        };
        // Ends at u64::MAX without reaching the epoch; must be an error, not a panic.
        assert!(s.first_reveal_block().is_err());
    }
}
