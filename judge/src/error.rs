//! The judge crate's error type: one enum, variants named after the operation that failed.

use std::path::PathBuf;

use crate::vlm::VlmError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is too large: {got} bytes, the limit is {limit}")]
    TooLarge { what: String, limit: u64, got: u64 },
    #[error("decoding image {what}: {reason}")]
    ImageDecode { what: String, reason: String },
    #[error("image {what} is {width}x{height}, over the limit of {limit} pixels")]
    ImageTooLarge {
        what: String,
        width: u32,
        height: u32,
        limit: u64,
    },
    #[error("view bundle {path}: {reason}")]
    Bundle { path: PathBuf, reason: String },
    #[error("embeddings.npz: {0}")]
    Npz(String),
    #[error("DINOv3 weights {path}: {problem}")]
    Weights { path: PathBuf, problem: String },
    #[error("DINOv3 config: {0}")]
    DinoConfig(String),
    #[error("DINOv3 input: {0}")]
    DinoInput(String),
    #[error("tensor computation: {0}")]
    Tensor(#[from] Box<candle_core::Error>),
    #[error("VLM: {0}")]
    Vlm(#[from] VlmError),
    #[error("VLM configuration: {0}")]
    VlmConfig(String),
    #[error(
        "no VLM endpoint is configured (set --vlm-url or SN17_VLM_URL); the offline judge is for development only \
         and must be asked for explicitly"
    )]
    NoVlmConfigured,
    #[error("the duel was cancelled")]
    Cancelled,
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Tensor(Box::new(e))
    }
}
