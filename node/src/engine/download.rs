//! Downloading miners' outputs from their CDNs (competition.md §5): `{cdn_url}/{stem}.{ext}`,
//! bounded concurrency, per-read and total timeouts, retries with jitter, a hard size cap while
//! streaming, SHA-256 of every body, resume from the database, and 404's `failure_reason`s.

mod blobs;
mod fetch;
mod guard;
pub mod local_cdn;
mod pipeline;
mod progress;
#[cfg(test)]
mod tests;

pub use blobs::BlobStore;
pub use fetch::Fetcher;
pub use pipeline::{run_downloads, DownloadTask};

use std::time::Duration;

/// Download settings; defaults are 404's (`download.py`, competition.md §5.3, §12).
#[derive(Debug, Clone)]
pub struct DownloadConfig {
    /// `MAX_CONCURRENT_DOWNLOADS`.
    pub max_concurrent: usize,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a body (httpx's read timeout).
    pub read_timeout: Duration,
    /// Longest a whole request may take, so a slow drip cannot hold a slot forever (sn17).
    pub total_timeout: Duration,
    /// Tries per file.
    pub attempts: u32,
    /// Wait between tries (jittered ±50 %).
    pub retry_wait: Duration,
    /// Each task first sleeps uniform(0, this) (`DOWNLOAD_JITTER_SECONDS`).
    pub start_jitter: Duration,
    /// `MAX_JS_SIZE_BYTES`.
    pub max_bytes: u64,
    /// File extension on the CDN (`js`; `glb` and `ply` for older competitions).
    pub ext: String,
    /// Refuse loopback, private and link-local addresses (miners choose the URLs).
    pub block_private_addresses: bool,
    /// Show a progress bar on an interactive terminal.
    pub progress: bool,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 10,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(300),
            total_timeout: Duration::from_secs(600),
            attempts: 2,
            retry_wait: Duration::from_secs(3),
            start_jitter: Duration::from_secs(300),
            max_bytes: 1 << 20,
            ext: "js".into(),
            block_private_addresses: true,
            progress: true,
        }
    }
}
