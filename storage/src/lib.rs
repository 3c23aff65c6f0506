//! sn17 storage: the node's RocksDB records and 404's git state repository.
//!
//! * [`db`]: column families, typed records, write batches, schema version and migrations.
//! * [`state_repo`]: 404's state files byte for byte, read from a directory or git, written in
//!   batched commits and pushed with retries.
//! * [`pyjson`]: JSON with Python's float text and key order, which both of them need.

pub mod db;
pub mod error;
pub mod pyjson;
pub mod state_repo;

pub use error::{Error, FormatError, Result};
