//! Test harness shared by sn17's integration tests: a real Subtensor runtime (spec 218, from
//! `../shared/chain/raonet.json`) hosted by chopsticks on a free 127.0.0.1 port (the chain
//! crate's [`sn17_chain::local::LocalChain`], also behind `sn17 devnet`), and shared-data lookup.

pub mod shared;

pub use sn17_chain::local::{LocalChain as Chopsticks, LocalError as HarnessError};
