//! Size limits applied to untrusted assets before any large allocation.

use serde::Serialize;

/// Upper bounds for one asset. Every loader checks header-declared sizes against these before it
/// allocates, and decompression stops at `max_decompressed_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Size of the file as stored (compressed).
    pub max_file_bytes: u64,
    pub max_gaussians: u64,
    /// Triangles after node instancing (a mesh drawn by two nodes counts twice).
    pub max_triangles: u64,
    /// Pixels of any one texture (width x height).
    pub max_texture_pixels: u64,
    /// Bytes produced by gzip/zstd, and bytes of decoded texture images, per asset.
    pub max_decompressed_bytes: u64,
}

impl Default for Limits {
    /// Generous for real outputs (404's own SPZ decoder caps points at 10M), small enough that one
    /// asset cannot take the machine's memory.
    fn default() -> Self {
        Limits {
            max_file_bytes: 512 << 20,
            max_gaussians: 10_000_000,
            max_triangles: 10_000_000,
            max_texture_pixels: 8192 * 8192,
            max_decompressed_bytes: 1 << 30,
        }
    }
}

/// One limit an asset breaks, with the value found (a lower bound when decoding stopped early).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LimitViolation {
    pub limit: &'static str,
    pub value: u64,
    pub max: u64,
    /// True when `value` is only a lower bound (e.g. decompression stopped at the limit).
    pub at_least: bool,
}
