//! The store: a small key-value trait with two backends, typed records on top, atomic batches.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::columns::Column;
use super::memory::MemoryStore;
use super::rocks::RocksStore;
use super::schema;
use crate::error::{Error, Result};

/// One (column, key, value) of a database dump.
pub type ColumnEntry = (Column, Vec<u8>, Vec<u8>);

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(Column, Vec<u8>, Vec<u8>),
    Delete(Column, Vec<u8>),
}

/// Writes applied together or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub(crate) ops: Vec<Op>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put_raw(&mut self, col: Column, key: Vec<u8>, value: Vec<u8>) -> &mut Self {
        self.ops.push(Op::Put(col, key, value));
        self
    }

    pub fn delete_raw(&mut self, col: Column, key: Vec<u8>) -> &mut Self {
        self.ops.push(Op::Delete(col, key));
        self
    }

    /// Adds a typed record.
    pub fn put<R: Record>(&mut self, record: &R) -> Result<&mut Self> {
        let value = encode(record)?;
        Ok(self.put_raw(R::COLUMN, record.key(), value))
    }

    pub fn delete<R: Record>(&mut self, key: Vec<u8>) -> &mut Self {
        self.delete_raw(R::COLUMN, key)
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// The backend: raw bytes by column.
pub trait KeyValueStore: Send + Sync {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Applies every op of `batch` atomically.
    fn write(&self, batch: Batch) -> Result<()>;
    /// Every (key, value) whose key starts with `prefix`, in key order.
    fn scan(&self, col: Column, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Approximate bytes on disk (0 for memory).
    fn disk_bytes(&self) -> u64 {
        0
    }
}

/// A typed record: its column, its key, JSON bytes as its value.
pub trait Record: Serialize + DeserializeOwned {
    const COLUMN: Column;
    fn key(&self) -> Vec<u8>;
}

fn encode<R: Record>(r: &R) -> Result<Vec<u8>> {
    serde_json::to_vec(r).map_err(|e| Error::Record {
        column: R::COLUMN.name(),
        key: hex::encode(r.key()),
        reason: e.to_string(),
    })
}

fn decode<R: Record>(key: &[u8], bytes: &[u8]) -> Result<R> {
    serde_json::from_slice(bytes).map_err(|e| Error::Record {
        column: R::COLUMN.name(),
        key: hex::encode(key),
        reason: e.to_string(),
    })
}

/// Options for opening a database.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// fsync the write-ahead log on every batch (survives power loss, not only process death).
    pub sync: bool,
}

/// Keys and bytes of one column.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ColumnStats {
    pub column: &'static str,
    pub keys: u64,
    pub bytes: u64,
}

/// What `sn17 db stats` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub path: Option<PathBuf>,
    pub schema_version: u32,
    pub disk_bytes: u64,
    pub columns: Vec<ColumnStats>,
}

/// The node's database.
#[derive(Clone)]
pub struct Store {
    kv: Arc<dyn KeyValueStore>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the RocksDB database at `path`, migrating its schema if needed.
    pub fn open(path: impl AsRef<Path>, opts: &StoreOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let kv: Arc<dyn KeyValueStore> = Arc::new(RocksStore::open(&path, opts)?);
        schema::ensure(kv.as_ref(), schema::MIGRATIONS)?;
        Ok(Self {
            kv,
            path: Some(path),
        })
    }

    /// Opens an existing database read-only (for `sn17 db stats` beside a running node).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let kv: Arc<dyn KeyValueStore> = Arc::new(RocksStore::open_read_only(&path)?);
        let found = schema::version(kv.as_ref())?.unwrap_or(0);
        if found > schema::CURRENT_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: schema::CURRENT_VERSION,
            });
        }
        Ok(Self {
            kv,
            path: Some(path),
        })
    }

    /// An in-memory database for unit tests.
    pub fn memory() -> Self {
        let kv: Arc<dyn KeyValueStore> = Arc::new(MemoryStore::default());
        // A fresh memory store cannot fail to take the current version.
        let _ = schema::ensure(kv.as_ref(), schema::MIGRATIONS);
        Self { kv, path: None }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn kv(&self) -> &dyn KeyValueStore {
        self.kv.as_ref()
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(schema::version(self.kv.as_ref())?.unwrap_or(0))
    }

    pub fn put<R: Record>(&self, record: &R) -> Result<()> {
        let mut b = Batch::new();
        b.put(record)?;
        self.kv.write(b)
    }

    pub fn get<R: Record>(&self, key: &[u8]) -> Result<Option<R>> {
        match self.kv.get(R::COLUMN, key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every record of `R` whose key starts with `prefix`, in key order.
    pub fn scan<R: Record>(&self, prefix: &[u8]) -> Result<Vec<R>> {
        self.kv
            .scan(R::COLUMN, prefix)?
            .into_iter()
            .map(|(k, v)| decode(&k, &v))
            .collect()
    }

    pub fn write(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.kv.write(batch)
    }

    /// Keys and bytes per column (an exact scan).
    pub fn stats(&self) -> Result<Stats> {
        let mut columns = Vec::new();
        for col in Column::ALL {
            let rows = self.kv.scan(col, &[])?;
            columns.push(ColumnStats {
                column: col.label(),
                keys: rows.len() as u64,
                bytes: rows.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum(),
            });
        }
        Ok(Stats {
            path: self.path.clone(),
            schema_version: self.schema_version()?,
            disk_bytes: self.kv.disk_bytes(),
            columns,
        })
    }

    /// Every key and value of every column, for comparing two databases in tests.
    pub fn dump(&self) -> Result<Vec<ColumnEntry>> {
        let mut out = Vec::new();
        for col in Column::ALL {
            for (k, v) in self.kv.scan(col, &[])? {
                out.push((col, k, v));
            }
        }
        Ok(out)
    }
}
