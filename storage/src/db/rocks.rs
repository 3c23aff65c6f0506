//! The RocksDB backend: one column family per [`Column`], batches as `WriteBatch`es.

use std::path::{Path, PathBuf};

use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};

use super::columns::Column;
use super::store::{Batch, KeyValueStore, Op, StoreOptions};
use crate::error::{Error, Result};

pub struct RocksStore {
    db: DB,
    path: PathBuf,
    sync: bool,
}

fn db_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(rocksdb::Error) -> Error + 'a {
    move |e| Error::Db {
        op,
        path: path.to_path_buf(),
        reason: e.into_string(),
    }
}

fn base_options() -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_keep_log_file_num(4);
    opts.set_max_open_files(512);
    opts
}

/// Our columns plus any a newer version created (RocksDB refuses to open without them all).
fn all_cf_names(opts: &Options, path: &Path) -> Vec<String> {
    let mut names: Vec<String> = Column::ALL.iter().map(|c| c.name().to_string()).collect();
    if let Ok(existing) = DB::list_cf(opts, path) {
        for n in existing {
            if !names.contains(&n) && n != "default" {
                names.push(n);
            }
        }
    }
    names
}

impl RocksStore {
    pub fn open(path: &Path, opts: &StoreOptions) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = base_options();
        let cfs = all_cf_names(&base, path)
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, Options::default()));
        let db = DB::open_cf_descriptors(&base, path, cfs).map_err(db_err("open", path))?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
            sync: opts.sync,
        })
    }

    pub fn open_read_only(path: &Path) -> Result<Self> {
        let mut base = base_options();
        base.create_if_missing(false);
        let names = DB::list_cf(&base, path).map_err(db_err("list column families", path))?;
        let db = DB::open_cf_for_read_only(&base, path, names, false)
            .map_err(db_err("open read-only", path))?;
        Ok(Self {
            db,
            path: path.to_path_buf(),
            sync: false,
        })
    }

    fn cf(&self, col: Column) -> Result<&rocksdb::ColumnFamily> {
        self.db.cf_handle(col.name()).ok_or_else(|| Error::Db {
            op: "column family",
            path: self.path.clone(),
            reason: format!("missing column family {}", col.name()),
        })
    }
}

impl KeyValueStore for RocksStore {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db
            .get_cf(self.cf(col)?, key)
            .map_err(db_err("get", &self.path))
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut wb = WriteBatch::default();
        for op in &batch.ops {
            match op {
                Op::Put(c, k, v) => wb.put_cf(self.cf(*c)?, k, v),
                Op::Delete(c, k) => wb.delete_cf(self.cf(*c)?, k),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(self.sync);
        self.db
            .write_opt(wb, &wo)
            .map_err(db_err("write batch", &self.path))
    }

    fn scan(&self, col: Column, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(
            self.cf(col)?,
            IteratorMode::From(prefix, Direction::Forward),
        ) {
            let (k, v) = item.map_err(db_err("scan", &self.path))?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.into_vec(), v.into_vec()));
        }
        Ok(out)
    }

    fn disk_bytes(&self) -> u64 {
        std::fs::read_dir(&self.path)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}
