//! Decompression that never produces more than a caller-given number of bytes (bomb-safe).

use std::io::Read;

use crate::error::AssetError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }
}

/// A streaming decoder over `data`.
pub fn decoder<'a>(codec: Codec, data: &'a [u8]) -> Result<Box<dyn Read + 'a>, AssetError> {
    Ok(match codec {
        Codec::Gzip => Box::new(flate2::read::GzDecoder::new(data)),
        Codec::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(data)
                .and_then(|d| {
                    // zstd's default cap (128 MiB window); stated so a hostile frame header
                    // cannot ask for more decoder memory if that default ever changes.
                    let mut d = d.single_frame();
                    d.window_log_max(27)?;
                    Ok(d)
                })
                .map_err(|e| AssetError::Decompress {
                    codec: "zstd",
                    detail: e.to_string(),
                })?,
        ),
    })
}

/// Reads exactly `len` bytes, reporting truncation or a corrupt stream by name.
pub fn read_exact(
    r: &mut dyn Read,
    codec: Codec,
    len: usize,
    at: u64,
) -> Result<Vec<u8>, AssetError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| AssetError::DecompressedTooLarge { limit: len as u64 })?;
    let got = r
        .take(len as u64)
        .read_to_end(&mut buf)
        .map_err(|e| AssetError::Decompress {
            codec: codec.name(),
            detail: e.to_string(),
        })?;
    if got < len {
        return Err(AssetError::Truncated {
            expected: at + len as u64,
            actual: at + got as u64,
        });
    }
    Ok(buf)
}

/// Counts the decompressed size, stopping one byte past `cap` (so a bomb costs at most `cap`).
/// Returns (bytes, complete): complete is false when the cap was hit. `cap` is caller-given (a CLI
/// flag), so `cap + 1` saturates: a cap of u64::MAX means "measure everything".
pub fn measure(codec: Codec, data: &[u8], cap: u64) -> Result<(u64, bool), AssetError> {
    let mut r = decoder(codec, data)?;
    let over = cap.saturating_add(1);
    let n = std::io::copy(&mut (&mut r).take(over), &mut std::io::sink()).map_err(|e| {
        AssetError::Decompress {
            codec: codec.name(),
            detail: e.to_string(),
        }
    })?;
    Ok((n.min(over), n <= cap))
}
