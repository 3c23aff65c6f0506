//! Reading state files from a plain directory (a checkout, a download) or from a git commit.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::state_repo::file::StateFile;

/// Largest state file read (the global prompt pool is over 4 MB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Somewhere state files can be read from.
pub trait FileSource {
    /// The file's bytes, or `None` when it does not exist.
    fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// Names of the entries of a directory (empty when it does not exist), sorted.
    fn list_dir(&self, path: &str) -> Result<Vec<String>>;
}

/// Reads and decodes a state file; `None` when absent.
pub fn read<T: StateFile>(src: &dyn FileSource, path: &str) -> Result<Option<T>> {
    let Some(bytes) = src.read_bytes(path)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|e| Error::Format {
        path: path.to_string(),
        source: crate::error::FormatError::new(
            &format!("byte {}", e.utf8_error().valid_up_to()),
            "invalid UTF-8",
        ),
    })?;
    T::decode(&text).map(Some).map_err(|source| Error::Format {
        path: path.to_string(),
        source,
    })
}

/// A directory holding a state repository's files.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn resolve(&self, path: &str) -> Result<PathBuf> {
        if path.split('/').any(|s| s == ".." || s.is_empty()) && !path.is_empty() {
            return Err(Error::BadPath(path.to_string()));
        }
        Ok(self.root.join(Path::new(path)))
    }
}

impl FileSource for DirSource {
    fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.resolve(path)?;
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Io { path: full, source }),
        };
        if !meta.is_file() {
            return Ok(None);
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Error::FileTooLarge {
                path: path.to_string(),
                size: meta.len(),
                limit: MAX_FILE_BYTES,
            });
        }
        std::fs::read(&full)
            .map(Some)
            .map_err(|source| Error::Io { path: full, source })
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>> {
        let full = if path.is_empty() {
            self.root.clone()
        } else {
            self.resolve(path)?
        };
        let rd = match std::fs::read_dir(&full) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::Io { path: full, source }),
        };
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|source| Error::Io {
                path: full.clone(),
                source,
            })?;
            if let Some(name) = entry.file_name().to_str() {
                if name != ".git" {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }
}
