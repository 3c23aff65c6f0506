//! Errors of metadata decoding.

use thiserror::Error;

/// Why bytes could not be turned into metadata.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MetadataError {
    /// The input is larger than [`crate::MAX_METADATA_BYTES`].
    #[error("metadata input is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is empty.
    #[error("metadata input is empty")]
    Empty,
    /// No `meta` magic: not metadata, nor an `OpaqueMetadata` or
    /// `Option<OpaqueMetadata>` holding metadata.
    #[error(
        "not Substrate metadata: no \"meta\" magic (raw, OpaqueMetadata or Option<OpaqueMetadata>)"
    )]
    NotMetadata,
    /// `Metadata_metadata_at_version` answered `None`: the runtime does not
    /// offer the requested version.
    #[error("the runtime returned no metadata (None) for the requested version")]
    VersionNotAvailable,
    /// The input ends inside the 5-byte header (`meta` + version).
    #[error("metadata is truncated: it ends after {len} bytes, inside its header")]
    Truncated {
        /// Bytes present.
        len: usize,
    },
    /// A metadata version other than V14, V15 or V16.
    #[error("metadata version V{0} is not supported (V14, V15 and V16 are)")]
    UnsupportedVersion(u8),
    /// The body does not decode (corrupted or truncated).
    #[error("corrupted or truncated V{version} metadata: {reason}")]
    Corrupt {
        /// Metadata version from the header.
        version: u8,
        /// Decoder message.
        reason: String,
    },
    /// Bytes left over after a complete metadata value.
    #[error("V{version} metadata is followed by {extra} unexpected bytes")]
    TrailingBytes {
        /// Metadata version from the header.
        version: u8,
        /// Number of extra bytes.
        extra: usize,
    },
    /// Decoded, but subxt could not convert it (inconsistent type registry).
    #[error("V{version} metadata is inconsistent: {reason}")]
    Conversion {
        /// Metadata version from the header.
        version: u8,
        /// Converter message.
        reason: String,
    },
    /// The input looks like `0x…` hex text but is not valid hex.
    #[error("invalid hex metadata: {0}")]
    InvalidHex(String),
}
