//! The Subtensor interface sn17 relies on.
pub mod describe;
