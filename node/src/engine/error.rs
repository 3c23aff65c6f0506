//! Errors of the competition engine.

/// Everything a round step can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Storage(#[from] sn17_storage::Error),
    #[error("chain: {0}")]
    Chain(String),
    #[error("state repository: {0}")]
    State(String),
    #[error("HTTP client: {0}")]
    Http(String),
    #[error(transparent)]
    Drand(#[from] super::seed::DrandError),
    #[error("I/O on {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<sn17_chain::ChainError> for EngineError {
    fn from(e: sn17_chain::ChainError) -> Self {
        Self::Chain(e.to_string())
    }
}
