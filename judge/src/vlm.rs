//! The VLM seam: one chat-completions call ([`Vlm::complete`]) and what is built on it — the HTTP client for
//! OpenAI-compatible servers (vLLM), 404's per-attempt temperature/seed schedule with tolerant JSON parsing and
//! neutral fallbacks ([`ask`]), and call metrics.

pub mod ask;
pub mod config;
pub mod extract;
pub mod http;
pub mod metrics;
pub mod request;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::image::ImageData;

pub use ask::{ask, ask_or, Ask, AskError, RetryPolicy, VlmResponse};
pub use config::{ApiKey, VlmConfig};
pub use http::HttpVlm;
pub use metrics::{Metrics, MetricsSnapshot};

/// One piece of the user message, in the order the model sees it.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Image(ImageData),
}

impl Part {
    pub fn text(s: impl Into<String>) -> Self {
        Part::Text(s.into())
    }
}

/// One chat-completions request: a system message, a user message of text and image parts, a JSON schema for
/// structured output, and the sampling settings of this attempt.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Names the schema (`<label>-response`) and labels logs and metrics.
    pub label: &'a str,
    pub system: &'a str,
    pub parts: &'a [Part],
    pub schema: &'a serde_json::Value,
    pub max_tokens: u32,
    pub temperature: f64,
    pub seed: u64,
}

/// What came back: the message content (reasoning fields are ignored) and why generation stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub content: Option<String>,
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// Why one call failed. Every variant ends the attempt; the retry schedule decides what happens next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VlmError {
    #[error("HTTP {status}: {body}")]
    Status {
        status: u16,
        body: String,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    #[error("no response within {after:?}")]
    Timeout { after: Duration },
    #[error("transport: {0}")]
    Transport(String),
    #[error("malformed response: {0}")]
    BadResponse(String),
    #[error("response larger than {limit} bytes")]
    TooLarge { limit: usize },
}

impl VlmError {
    /// Errors the OpenAI client itself retries (same request, same seed) before the attempt counts as failed.
    pub fn is_transient(&self) -> bool {
        match self {
            VlmError::Status { status, .. } => {
                *status == 408 || *status == 409 || *status == 429 || *status >= 500
            }
            VlmError::Transport(_) => true,
            _ => false,
        }
    }
}

/// A chat-completions backend. Implemented by [`HttpVlm`] and by test doubles.
pub trait Vlm: Send + Sync {
    fn complete<'a>(&'a self, call: &'a Call<'a>) -> BoxFuture<'a, Result<Completion, VlmError>>;
    /// Counters shared by the backend and the retry layer above it.
    fn metrics(&self) -> Arc<Metrics>;
    /// The served model name, for reports.
    fn model(&self) -> &str;
}
