//! The validator's clock: wall time on a real chain, or time anchored to block numbers
//! (`t = t_anchor + (block − b_anchor) · 12 s`) on a devnet whose blocks are built on demand, so
//! a day-long round takes seconds and a restarted validator sees the same time for a block.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::engine::round::Clock;
use crate::engine::schedule::BLOCK_SECS;

/// Block-anchored time, updated as the head moves.
#[derive(Clone)]
pub struct ChainClock {
    now: Arc<AtomicI64>,
    t_anchor: i64,
    b_anchor: u64,
}

impl ChainClock {
    pub fn new(b_anchor: u64, t_anchor_us: i64) -> Self {
        let me = Self {
            now: Arc::new(AtomicI64::new(0)),
            t_anchor: t_anchor_us,
            b_anchor,
        };
        me.set_block(b_anchor);
        me
    }

    /// Parses `BLOCK@UNIX_SECONDS`.
    pub fn parse(spec: &str) -> Option<Self> {
        let (b, t) = spec.split_once('@')?;
        Some(Self::new(
            b.parse().ok()?,
            t.parse::<i64>().ok()?.checked_mul(1_000_000)?,
        ))
    }

    pub fn spec(&self) -> String {
        format!("{}@{}", self.b_anchor, self.t_anchor / 1_000_000)
    }

    pub fn set_block(&self, block: u64) {
        let t = self.t_anchor + (block as i64 - self.b_anchor as i64) * BLOCK_SECS * 1_000_000;
        self.now.store(t, Ordering::SeqCst);
    }
}

impl Clock for ChainClock {
    fn now_us(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_time_moves_twelve_seconds_a_block() {
        let c = ChainClock::parse("100@1700000000").expect("spec");
        assert_eq!(c.now_us(), 1_700_000_000_000_000);
        c.set_block(105);
        assert_eq!(c.now_us(), 1_700_000_060_000_000);
        assert_eq!(c.spec(), "100@1700000000");
        assert!(ChainClock::parse("x@1").is_none());
    }
}
