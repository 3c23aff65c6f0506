//! Test harness shared by sn17's integration tests: a real Subtensor runtime (spec 218, from
//! `../shared/chain/raonet.json`) hosted by chopsticks on a free 127.0.0.1 port, and helpers to
//! prepare its state.

mod chopsticks;
pub mod shared;

pub use chopsticks::{Chopsticks, HarnessError};
