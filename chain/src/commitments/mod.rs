//! Commitments: the `Data` codec, `CommitmentOf` registrations, `RevealedCommitments`, and the
//! JSON 404's miners commit (`{"commit": sha}`, `{"repo": "o/n", "cdn_url": url}`).

mod data;
mod json404;
mod read;
mod write;

pub use data::{Data, MAX_BIG_RAW_BYTES, MAX_RAW_BYTES, MAX_TIMELOCK_BYTES};
pub use json404::{parse_404_commitment, revealed_text, Commitment404};
pub use read::{Registration, Revealed, RevealedEntry};

/// Most fields a commitment may have (MaxFields).
pub const MAX_FIELDS: usize = 3;

/// A malformed commitment; these come from other people's transactions, so they are expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommitmentError {
    #[error("truncated commitment: {0}")]
    Truncated(&'static str),
    #[error("unknown Data tag {0}")]
    UnknownTag(u8),
    #[error("{what} is {len} bytes, more than {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("commitment has {0} fields, more than {MAX_FIELDS}")]
    TooManyFields(usize),
    #[error("{0} trailing bytes after the commitment")]
    Trailing(usize),
    #[error("not a 404 commitment: {0}")]
    Not404(String),
}
