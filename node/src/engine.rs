//! The competition engine: 404-compatible rounds (competition.md §1–5, 9, 10), driven by the
//! chain's block schedule, recorded in RocksDB and in 404's git state repository.
//!
//! * [`pyrandom`], [`prompts`], [`seed`]: seeds and bit-exact prompt selection.
//! * [`submissions`]: revealed commitments → validated, lock-filtered, ordered submissions.
//! * [`download`]: bounded, capped, resumable CDN downloads with 404's failure reasons.
//! * [`leader`], [`timeline`]: leader transitions, weights, and the match rules the winner
//!   follows from.
//! * [`schedule`]: the next round's block schedule.
//! * [`round`]: the idempotent round state machine; [`chain_view`] its narrow chain seam.
//! * [`replay`]: recompute a state repository and print every difference.

pub mod chain_view;
pub mod download;
pub mod error;
pub mod leader;
pub mod prompts;
pub mod pyrandom;
pub mod replay;
pub mod round;
pub mod schedule;
pub mod seed;
pub mod simulate;
pub mod submissions;
pub mod timeline;

pub use error::EngineError;
