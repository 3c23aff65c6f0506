//! Downloaded bodies, stored by SHA-256 (`{dir}/{ab}/{sha256}`), written to a temporary file and
//! renamed, so a crash never leaves a half-written blob under its name.

use std::path::{Path, PathBuf};

use crate::engine::EngineError;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let shard = sha256.get(..2).unwrap_or("xx");
        self.dir.join(shard).join(sha256)
    }

    /// Stores `body` under its hash (a no-op when already there).
    pub fn put(&self, sha256: &str, body: &[u8]) -> Result<PathBuf, EngineError> {
        let dest = self.path_of(sha256);
        if dest.is_file() {
            return Ok(dest);
        }
        let parent = dest.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let tmp = parent.join(format!(".{sha256}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, body).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        Ok(dest)
    }

    #[cfg(test)]
    pub fn get(&self, sha256: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path_of(sha256)).ok()
    }
}
