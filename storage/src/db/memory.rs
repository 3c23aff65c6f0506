//! An in-memory backend with the same atomic-batch semantics, for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::columns::Column;
use super::store::{Batch, KeyValueStore, Op};
use crate::error::Result;

/// (column, key) → value.
type Map = BTreeMap<(Column, Vec<u8>), Vec<u8>>;

#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Map>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // A panic while holding the lock cannot leave a half-applied batch (ops are applied
        // after validation in one loop), so a poisoned map is still consistent.
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl KeyValueStore for MemoryStore {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().get(&(col, key.to_vec())).cloned())
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut map = self.lock();
        for op in batch.ops {
            match op {
                Op::Put(c, k, v) => {
                    map.insert((c, k), v);
                }
                Op::Delete(c, k) => {
                    map.remove(&(c, k));
                }
            }
        }
        Ok(())
    }

    fn scan(&self, col: Column, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let map = self.lock();
        Ok(map
            .range((col, prefix.to_vec())..)
            .take_while(|((c, k), _)| *c == col && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
