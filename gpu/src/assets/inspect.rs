//! `inspect`: what an asset holds and every limit it would break, without trusting its header.

use serde::Serialize;

use super::bounded::{self, Codec};
use super::glb::{self, GlbSummary};
use super::splats::Bounds;
use super::{load_bytes, ply, spz, Format, LoadOptions};
use crate::error::AssetError;
use crate::limits::{LimitViolation, Limits};

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub format: &'static str,
    pub kind: &'static str,
    pub file_bytes: u64,
    /// Bytes after gzip/zstd (SPZ), measured up to the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decompressed_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaussians: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sh_degree: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub antialiased: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glb: Option<GlbSummary>,
    /// Bounds of the loaded asset (positions of gaussians or vertices), in file coordinates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounds: Option<Bounds>,
    pub broken_limits: Vec<LimitViolation>,
    /// Why a full load failed, when it was attempted (only if no limit is broken).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
}

fn check(v: &mut Vec<LimitViolation>, limit: &'static str, value: u64, max: u64, at_least: bool) {
    if value > max {
        v.push(LimitViolation {
            limit,
            value,
            max,
            at_least,
        });
    }
}

/// Inspects `bytes`. Fails only when the format cannot be identified or its header read.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspection, AssetError> {
    let format = super::detect(bytes)?;
    let mut out = Inspection {
        format: format.name(),
        kind: if format == Format::Glb {
            "mesh"
        } else {
            "splats"
        },
        file_bytes: bytes.len() as u64,
        decompressed_bytes: None,
        gaussians: None,
        sh_degree: None,
        antialiased: None,
        glb: None,
        bounds: None,
        broken_limits: Vec::new(),
        load_error: None,
    };
    let v = &mut out.broken_limits;
    check(
        v,
        "max_file_bytes",
        out.file_bytes,
        limits.max_file_bytes,
        false,
    );
    match format {
        Format::Ply(_) => {
            let h = ply::parse_header(bytes)?;
            out.gaussians = Some(h.vertex_count);
            out.sh_degree = match h.f_rest_count {
                0 => Some(0),
                9 => Some(1),
                24 => Some(2),
                45 => Some(3),
                _ => None,
            };
            check(
                v,
                "max_gaussians",
                h.vertex_count,
                limits.max_gaussians,
                false,
            );
        }
        Format::Spz(container) => {
            let h = spz::read_header(bytes)?;
            out.gaussians = Some(h.num_points as u64);
            out.sh_degree = u8::try_from(h.sh_degree).ok();
            out.antialiased = Some(h.antialiased);
            check(
                v,
                "max_gaussians",
                h.num_points as u64,
                limits.max_gaussians,
                false,
            );
            let (size, complete) = match container {
                spz::SpzContainer::Gzip => {
                    bounded::measure(Codec::Gzip, bytes, limits.max_decompressed_bytes)?
                }
                spz::SpzContainer::Zstd404 => {
                    bounded::measure(Codec::Zstd, bytes, limits.max_decompressed_bytes)?
                }
                spz::SpzContainer::NianticV4 => (h.payload_bytes(), true),
            };
            out.decompressed_bytes = Some(size);
            check(
                v,
                "max_decompressed_bytes",
                size,
                limits.max_decompressed_bytes,
                !complete,
            );
        }
        Format::Glb => {
            let s = glb::summarize(bytes)?;
            check(v, "max_triangles", s.triangles, limits.max_triangles, false);
            let mut decoded = 0u64;
            for t in &s.textures {
                let px = t.width as u64 * t.height as u64;
                check(
                    v,
                    "max_texture_pixels",
                    px,
                    limits.max_texture_pixels,
                    false,
                );
                // Header-declared sizes: enough huge PNG headers would wrap a plain sum.
                decoded = decoded.saturating_add(px.saturating_mul(4));
            }
            check(
                v,
                "max_decompressed_bytes",
                decoded,
                limits.max_decompressed_bytes,
                false,
            );
            out.glb = Some(s);
        }
    }
    if out.broken_limits.is_empty() {
        match load_bytes(
            bytes,
            &LoadOptions {
                limits: *limits,
                ..Default::default()
            },
        ) {
            Ok((asset, _)) => {
                out.bounds = asset.bounds();
                if let super::Asset::Splats(s) = &asset {
                    out.sh_degree = Some(s.sh_degree);
                }
            }
            Err(e) => out.load_error = Some(e.to_string()),
        }
    }
    Ok(out)
}
