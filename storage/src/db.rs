//! The node's database: column families of typed records over RocksDB (or memory, for unit
//! tests), every multi-key update in one atomic batch, and a schema version with migrations.

pub mod columns;
pub mod keys;
pub mod memory;
pub mod records;
pub mod rocks;
pub mod schema;
mod store;

pub use columns::Column;
pub use records::*;
pub use store::{Batch, ColumnStats, KeyValueStore, Op, Record, Stats, Store, StoreOptions};
