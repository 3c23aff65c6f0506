//! Typed errors at the crate edge: one for loading assets, one for rendering and output.

use std::path::PathBuf;

/// Why an asset was refused. Every hostile-input case has its own variant so callers (and miners
/// reading validator logs) can tell "your file is truncated" from "your file is too big".
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("file is {bytes} bytes, over the limit of {limit}")]
    FileTooLarge { bytes: u64, limit: u64 },
    #[error("unrecognised asset format (first bytes {magic})")]
    UnknownFormat { magic: String },
    #[error("malformed PLY header: {0}")]
    PlyHeader(String),
    #[error("unsupported PLY layout: {0}")]
    PlyUnsupported(String),
    #[error("required property `{0}` is missing")]
    MissingProperty(String),
    #[error("property `{0}` appears more than once")]
    DuplicateProperty(String),
    #[error(
        "{count} f_rest properties do not match an SH degree of 0-3 (expected 0, 9, 24 or 45)"
    )]
    BadShCount { count: usize },
    #[error("data is truncated: need {expected} bytes, have {actual}")]
    Truncated { expected: u64, actual: u64 },
    #[error("malformed value in ASCII PLY body at token {token}: {detail}")]
    PlyValue { token: u64, detail: String },
    #[error("{count} gaussians, over the limit of {limit}")]
    TooManyGaussians { count: u64, limit: u64 },
    #[error("{count} triangles, over the limit of {limit}")]
    TooManyTriangles { count: u64, limit: u64 },
    #[error("texture of {width}x{height} pixels is over the limit of {limit} pixels")]
    TextureTooLarge { width: u64, height: u64, limit: u64 },
    #[error("decompressed data would exceed the limit of {limit} bytes")]
    DecompressedTooLarge { limit: u64 },
    #[error("{codec} stream is corrupt: {detail}")]
    Decompress { codec: &'static str, detail: String },
    #[error("non-finite value ({value}) in `{property}` of element {index}")]
    NonFinite {
        property: String,
        index: u64,
        value: f32,
    },
    #[error("malformed SPZ: {0}")]
    SpzHeader(String),
    #[error("unsupported SPZ version {0}")]
    UnsupportedSpzVersion(u32),
    #[error("unsupported SH degree {0} (0-3 are supported)")]
    UnsupportedShDegree(u32),
    #[error("value {value} of `{property}` cannot be stored in SPZ's fixed-point range")]
    SpzRange { property: &'static str, value: f32 },
    #[error(
        "GLB refers to an external resource `{0}`; only embedded buffers and images are accepted"
    )]
    ExternalUri(String),
    #[error("GLB requires unsupported extension `{0}`")]
    UnsupportedExtension(String),
    #[error("malformed GLB: {0}")]
    Gltf(String),
    #[error("texture image {index}: {detail}")]
    Image { index: usize, detail: String },
    #[error("asset has no {0}")]
    Empty(&'static str),
}

/// Why rendering or writing images failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("backend `{backend}` is not available: {reason}")]
    BackendUnavailable {
        backend: &'static str,
        reason: String,
    },
    #[error("unknown backend `{0}` (expected auto, cpu, wgpu or cuda)")]
    UnknownBackend(String),
    #[error("invalid view: {0}")]
    InvalidView(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("scene needs {needed} bytes in one GPU buffer, over the device limit of {limit}")]
    GpuBufferTooLarge { needed: u64, limit: u64 },
    #[error("unknown rig `{0}`")]
    UnknownRig(String),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("encoding PNG: {0}")]
    Png(String),
}
