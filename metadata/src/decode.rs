//! Decoding metadata bytes into `subxt_metadata::Metadata`.
//!
//! Accepted inputs (see [`Envelope`]):
//! * `RuntimeMetadataPrefixed`: `"meta"` magic, version byte, body — what
//!   `state_getMetadata` and the `.scale` files hold;
//! * `OpaqueMetadata`: a compact length followed by the above — what
//!   `state_call("Metadata_metadata")` returns;
//! * `Option<OpaqueMetadata>`: `0x01` followed by the above — what
//!   `state_call("Metadata_metadata_at_version", v)` returns (`0x00`, i.e.
//!   `None`, gives [`MetadataError::VersionNotAvailable`]);
//! * any of these as `0x`-prefixed hex text (as in a JSON-RPC answer).
//!
//! Only V14, V15 and V16 are supported. Inputs above [`MAX_METADATA_BYTES`]
//! are refused before any decoding.

use codec::{Compact, Decode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use serde::{Deserialize, Serialize};
use subxt_metadata::Metadata;

use crate::error::MetadataError;
use crate::spec::{spec_info, SpecInfo};

/// Largest accepted input (finney metadata is ~340 KB).
pub const MAX_METADATA_BYTES: usize = 64 * 1024 * 1024;

/// The `"meta"` magic number, little-endian `0x6174656d`.
const MAGIC: &[u8; 4] = b"meta";
/// Magic plus version byte.
const HEADER_LEN: usize = 5;
/// Oldest and newest supported metadata versions.
const SUPPORTED: std::ops::RangeInclusive<u8> = 14..=16;

/// How the metadata was wrapped in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Envelope {
    /// Bare `RuntimeMetadataPrefixed`.
    Prefixed,
    /// `OpaqueMetadata` (compact length + prefixed metadata).
    Opaque,
    /// `Option<OpaqueMetadata>` (`0x01` + opaque).
    OptionOpaque,
}

/// Decoded metadata with what was learnt on the way.
#[derive(Debug)]
pub struct DecodedMetadata {
    /// The metadata.
    pub metadata: Metadata,
    /// Metadata version (14, 15 or 16).
    pub version: u8,
    /// Runtime version from `System.Version`, when decodable.
    pub spec: Option<SpecInfo>,
    /// How the input was wrapped.
    pub envelope: Envelope,
    /// Whether the input was hex text.
    pub from_hex: bool,
}

impl DecodedMetadata {
    /// Checks the metadata against what sn17 expects; unlike
    /// [`crate::check`], the report also carries the metadata version.
    pub fn check(&self) -> crate::Report {
        let mut report = crate::check(&self.metadata);
        report.metadata_version = Some(self.version);
        report
    }
}

/// Decodes V14/V15/V16 metadata (bare, `OpaqueMetadata`,
/// `Option<OpaqueMetadata>`, or any of these as `0x` hex text).
pub fn decode_metadata(bytes: &[u8]) -> Result<Metadata, MetadataError> {
    decode_metadata_full(bytes).map(|d| d.metadata)
}

/// Like [`decode_metadata`], also returning the version, spec and envelope.
pub fn decode_metadata_full(bytes: &[u8]) -> Result<DecodedMetadata, MetadataError> {
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLarge {
            size: bytes.len(),
            limit: MAX_METADATA_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(MetadataError::Empty);
    }
    let hex = hex_text(bytes)?;
    let from_hex = hex.is_some();
    let bytes = hex.as_deref().unwrap_or(bytes);
    let (prefixed, envelope) = unwrap_envelope(bytes)?;
    let (metadata, version) = decode_prefixed(prefixed)?;
    let spec = spec_info(&metadata);
    Ok(DecodedMetadata {
        metadata,
        version,
        spec,
        envelope,
        from_hex,
    })
}

/// If `bytes` is `0x…` hex text (surrounding whitespace and quotes allowed),
/// its decoded bytes.
fn hex_text(bytes: &[u8]) -> Result<Option<Vec<u8>>, MetadataError> {
    let text = bytes
        .trim_ascii()
        .strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(bytes.trim_ascii());
    let Some(digits) = text.strip_prefix(b"0x") else {
        return Ok(None);
    };
    if digits.len() % 2 != 0 {
        return Err(MetadataError::InvalidHex(format!(
            "odd number of hex digits ({})",
            digits.len()
        )));
    }
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => match (hex_digit(*hi), hex_digit(*lo)) {
                (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
                _ => Err(MetadataError::InvalidHex(format!(
                    "non-hex character near offset {}",
                    2 + 2 * i
                ))),
            },
            _ => Err(MetadataError::InvalidHex(
                "odd number of hex digits".to_string(),
            )),
        })
        .collect::<Result<Vec<u8>, _>>()
        .map(Some)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Finds the `RuntimeMetadataPrefixed` bytes inside the accepted envelopes.
fn unwrap_envelope(bytes: &[u8]) -> Result<(&[u8], Envelope), MetadataError> {
    if bytes.starts_with(MAGIC) || MAGIC.starts_with(bytes) {
        return Ok((bytes, Envelope::Prefixed));
    }
    if bytes == [0] {
        return Err(MetadataError::VersionNotAvailable);
    }
    if let Some(rest) = bytes.strip_prefix(&[1]) {
        if let Some(inner) = length_prefixed(rest)? {
            return Ok((inner, Envelope::OptionOpaque));
        }
    }
    if let Some(inner) = length_prefixed(bytes)? {
        return Ok((inner, Envelope::Opaque));
    }
    Err(MetadataError::NotMetadata)
}

/// `Some(inner)` if `bytes` is a compact length followed by metadata; an error
/// if metadata follows but the length disagrees (a truncated download).
fn length_prefixed(bytes: &[u8]) -> Result<Option<&[u8]>, MetadataError> {
    let mut input = bytes;
    let Ok(Compact(len)) = Compact::<u64>::decode(&mut input) else {
        return Ok(None);
    };
    if !input.starts_with(MAGIC) {
        return Ok(None);
    }
    if input.len() as u64 != len {
        return Err(MetadataError::Corrupt {
            version: input.get(4).copied().unwrap_or(0),
            reason: format!("length prefix says {len} bytes but {} follow", input.len()),
        });
    }
    Ok(Some(input))
}

/// Decodes `RuntimeMetadataPrefixed` bytes and converts them.
fn decode_prefixed(bytes: &[u8]) -> Result<(Metadata, u8), MetadataError> {
    let Some(&version) = bytes.get(HEADER_LEN - 1) else {
        return Err(MetadataError::Truncated { len: bytes.len() });
    };
    if !SUPPORTED.contains(&version) {
        return Err(MetadataError::UnsupportedVersion(version));
    }
    let mut input = bytes;
    let prefixed =
        RuntimeMetadataPrefixed::decode(&mut input).map_err(|e| MetadataError::Corrupt {
            version,
            reason: e.to_string(),
        })?;
    if !input.is_empty() {
        return Err(MetadataError::TrailingBytes {
            version,
            extra: input.len(),
        });
    }
    let converted = match prefixed.1 {
        RuntimeMetadata::V14(md) => Metadata::from_v14(md),
        RuntimeMetadata::V15(md) => Metadata::from_v15(md),
        RuntimeMetadata::V16(md) => Metadata::from_v16(md),
        _ => return Err(MetadataError::UnsupportedVersion(version)),
    };
    converted
        .map(|md| (md, version))
        .map_err(|e| MetadataError::Conversion {
            version,
            reason: e.to_string(),
        })
}
