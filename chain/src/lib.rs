//! Subtensor client for sn17: wallets, metagraph, weights (direct and commit-reveal v3),
//! registration, axon and commitments, on subxt with metadata read from the connected node.

pub mod crv3;
pub mod wallet;
