//! Loading untrusted 3D assets: format detection, limits, and one entry point per source.

pub mod bounded;
pub mod glb;
pub mod inspect;
pub mod mesh;
pub mod ply;
pub mod splats;
pub mod spz;

use std::path::Path;

use serde::Serialize;

use crate::error::AssetError;
use crate::limits::Limits;
use mesh::Mesh;
use splats::{Bounds, Frame, Splats};
use spz::SpzContainer;

/// File formats we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Ply(#[serde(skip)] ply::PlyFormat),
    Spz(SpzContainer),
    Glb,
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Ply(ply::PlyFormat::BinaryLittleEndian) => "ply-binary-le",
            Format::Ply(ply::PlyFormat::BinaryBigEndian) => "ply-binary-be",
            Format::Ply(ply::PlyFormat::Ascii) => "ply-ascii",
            Format::Spz(SpzContainer::Gzip) => "spz-gzip",
            Format::Spz(SpzContainer::NianticV4) => "spz-v4",
            Format::Spz(SpzContainer::Zstd404) => "spz-404-zstd",
            Format::Glb => "glb",
        }
    }
}

/// A loaded asset.
#[derive(Debug, Clone, PartialEq)]
pub enum Asset {
    Splats(Splats),
    Mesh(Mesh),
}

impl Asset {
    pub fn kind(&self) -> &'static str {
        match self {
            Asset::Splats(_) => "splats",
            Asset::Mesh(_) => "mesh",
        }
    }

    pub fn bounds(&self) -> Option<Bounds> {
        match self {
            Asset::Splats(s) => s.bounds(),
            Asset::Mesh(m) => m.bounds(),
        }
    }
}

/// How to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub limits: Limits,
    /// Frame to deliver Niantic SPZ in. The files store RUB (+Y up), which is also sn17's render
    /// world, so the default keeps them as stored; `Frame::Rdf` converts the way Niantic's own
    /// SPZ-to-PLY tool does (to the COLMAP frame of trained PLYs). 404's zstd variant stores the
    /// PLY's coordinates unchanged and is never converted.
    pub niantic_spz_frame: Frame,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: Limits::default(),
            niantic_spz_frame: Frame::Rub,
        }
    }
}

/// Identifies the format from the first bytes (PLY magic, gzip, zstd, `NGSP`, `glTF`).
pub fn detect(bytes: &[u8]) -> Result<Format, AssetError> {
    if bytes.starts_with(b"ply") {
        return Ok(Format::Ply(ply::parse_header(bytes)?.format));
    }
    if bytes.starts_with(b"glTF") {
        return Ok(Format::Glb);
    }
    if let Some(c) = spz::sniff(bytes) {
        return Ok(Format::Spz(c));
    }
    let magic: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(AssetError::UnknownFormat { magic })
}

/// Loads an asset from memory.
pub fn load_bytes(bytes: &[u8], opts: &LoadOptions) -> Result<(Asset, Format), AssetError> {
    if bytes.len() as u64 > opts.limits.max_file_bytes {
        return Err(AssetError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: opts.limits.max_file_bytes,
        });
    }
    let format = detect(bytes)?;
    let asset = match format {
        Format::Ply(_) => Asset::Splats(ply::read(bytes, &opts.limits)?),
        Format::Spz(_) => Asset::Splats(spz::read(bytes, &opts.limits, opts.niantic_spz_frame)?.0),
        Format::Glb => Asset::Mesh(glb::read(bytes, &opts.limits)?),
    };
    Ok((asset, format))
}

/// A read-only view of a file: memory-mapped when possible.
pub struct FileBytes {
    map: Option<memmap2::Mmap>,
}

impl FileBytes {
    /// Maps `path` after checking its size against `max_bytes` (None: no check).
    pub fn open(path: &Path, max_bytes: Option<u64>) -> Result<FileBytes, AssetError> {
        let io = |source| AssetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if let Some(limit) = max_bytes {
            if len > limit {
                return Err(AssetError::FileTooLarge { bytes: len, limit });
            }
        }
        if len == 0 {
            return Ok(FileBytes { map: None });
        }
        // SAFETY: the map is read-only and private to this process; assets are files we
        // downloaded, not ones another process rewrites while we read them.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Ok(FileBytes { map: Some(map) })
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Loads an asset from a file (memory-mapped, so a PLY is parsed in place without a copy).
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<(Asset, Format), AssetError> {
    let file = FileBytes::open(path, Some(opts.limits.max_file_bytes))?;
    load_bytes(file.bytes(), opts)
}
