//! sn17 judge: 404-GEN's multi-stage VLM duel over an OpenAI-compatible API, DINOv3 embeddings on the CPU,
//! and the match / timeline / audit rules that turn duel results into a round winner.
//!
//! Layout:
//! - [`vlm`]: the chat-completions client (HTTP, retries, tolerant JSON, metrics) behind the [`vlm::Vlm`] trait.
//! - [`duel`]: stages S1–S4 as 404's judge-service runs them, producing a [`duel::DuelOutcome`] with 404's
//!   `detail` record; [`duel::DuelJudge`] is the seam the round engine uses.
//! - [`offline`]: a deterministic, clearly labelled non-production judge for development and devnet.
//! - [`rules`]: pure functions over stored results: match score and margin, qualification, the reveal-order
//!   timeline, audit requests and verdicts, work selection, the final winner.
//! - [`dino`]: DINOv3 ViT on candle (HF safetensors names), 404's preprocessing, embeddings, best view.
//! - [`match_runner`]: a whole match, one duel at a time, into 404's match report.
//! - [`bundle`], [`image`], [`npz`]: the inputs a duel reads (view bundles, images, `embeddings.npz`).

pub mod bundle;
pub mod dino;
pub mod duel;
pub mod error;
pub mod image;
pub mod match_runner;
pub mod npz;
pub mod offline;
pub mod rules;
pub mod vlm;

#[cfg(feature = "test-utils")]
pub mod test_utils;

pub use error::{Error, Result};
