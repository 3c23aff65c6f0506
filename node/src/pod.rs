//! 404's miner pod API (competition.md §5.6): a miner's generator behind HTTP on port 10006.
//!
//! Validators use it to audit a winner by regeneration and to regenerate the leader's outputs;
//! miners use it as their generation endpoint. [`client`] is the validator side with every cap
//! of §5.6, [`server`] serves any [`server::Generator`] (sn17's demo generator among them),
//! [`provider`] says where a repository's pod runs (the seam for cloud GPU providers), and
//! [`audit`] runs timed regeneration batches and applies 404's limits.

pub mod audit;
pub mod client;
pub mod provider;
pub mod server;
mod zipfile;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One prompt of a `POST /generate` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptRef {
    pub stem: String,
    pub image_url: String,
}

/// `POST /generate` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompts: Vec<PromptRef>,
    pub seed: u32,
}

/// `GET /status` reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodStatus {
    /// `warming_up`, `ready`, `generating`, `complete` or `replace`.
    pub status: String,
    #[serde(default)]
    pub progress: Option<u64>,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
}

/// What `GET /results` held: outputs by stem and failures by stem.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodResults {
    pub outputs: BTreeMap<String, Vec<u8>>,
    pub failed: BTreeMap<String, String>,
}

/// The caps of §5.6 on `GET /results` (any violation means the pod is swapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodLimits {
    pub max_zip_bytes: u64,
    pub max_entries: usize,
    pub max_output_bytes: u64,
    pub max_failed_json_bytes: u64,
}

impl Default for PodLimits {
    fn default() -> Self {
        Self {
            max_zip_bytes: 64 << 20,
            max_entries: 100,
            max_output_bytes: 1 << 20,
            max_failed_json_bytes: 16 << 10,
        }
    }
}

/// Errors talking to a pod, named by what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error("pod {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("pod {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("pod {url} is busy ({current_status}): {detail}")]
    Busy {
        url: String,
        current_status: String,
        detail: String,
    },
    #[error("pod {url}: malformed reply: {reason}")]
    Malformed { url: String, reason: String },
    #[error("pod {url}: results break a limit: {reason}")]
    Limit { url: String, reason: String },
    #[error("pod {url} asked to be replaced")]
    Replace { url: String },
    #[error("pod {url}: batch of {prompts} prompts exceeded {secs} s")]
    BatchTimeout {
        url: String,
        prompts: usize,
        secs: u64,
    },
    #[error("no pod for {repo}: {reason}")]
    NoPod { repo: String, reason: String },
}

#[cfg(test)]
mod tests;
