//! Subtensor client for sn17: wallets, metagraph, weights (direct and commit-reveal v3),
//! registration, axon and commitments, on subxt with the metadata read from the connected node
//! (cached on disk by genesis hash and spec version).
//!
//! Start with [`Subtensor::connect`]; reads are pinned to a [`Head`]; writes take a
//! [`PairSigner`] made from a wallet key.

pub mod account;
pub mod calls;
pub mod client;
pub mod coldkey_lock;
pub mod commitments;
pub mod crv3;
pub mod error;
pub mod hyperparams;
pub mod local;
pub mod metadata_cache;
pub mod metagraph;
pub mod network;
pub mod registration;
pub mod rpc;
pub mod runtime_api;
mod serde_hex;
pub mod storage;
pub mod tx;
pub mod wallet;
pub mod weights;

pub use account::Account;
pub use client::{ConnectOptions, Head, Subtensor};
pub use error::{ChainError, PoolRejection};
pub use hyperparams::Hyperparams;
pub use metagraph::{Metagraph, Neuron};
pub use network::resolve_endpoint;
pub use tx::{Included, PairSigner};
