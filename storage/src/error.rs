//! Typed errors at the storage crate's edge.

use std::path::PathBuf;

/// A file that does not have 404's format: where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct FormatError {
    /// JSON path (`$.rounds[2].weight`) or line (`line 3`).
    pub at: String,
    pub reason: String,
}

impl FormatError {
    pub fn new(at: &str, reason: impl Into<String>) -> Self {
        Self {
            at: at.to_string(),
            reason: reason.into(),
        }
    }
}

/// Everything storage can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("state file {path}: {source}")]
    Format {
        path: String,
        #[source]
        source: FormatError,
    },
    #[error("state file {path} is {size} bytes, more than the {limit} allowed")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    #[error("git {op} in {repo}: {reason}")]
    Git {
        op: &'static str,
        repo: PathBuf,
        reason: String,
    },
    #[error("push to {remote} rejected after {attempts} attempts: {reason}")]
    PushRejected {
        remote: String,
        attempts: u32,
        reason: String,
    },
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {op} at {path}: {reason}")]
    Db {
        op: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "database schema version {found} is newer than this binary's {supported}; upgrade sn17"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("database schema migration {from} → {to} failed: {reason}")]
    Migration { from: u32, to: u32, reason: String },
    #[error("record in column {column} under key {key}: {reason}")]
    Record {
        column: &'static str,
        key: String,
        reason: String,
    },
    #[error("invalid state path {0:?}")]
    BadPath(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
