//! Putting an asset into the renderers' world: explicit up-axis conversion and normalisation.

use serde::Serialize;

use crate::assets::mesh::Mesh;
use crate::assets::splats::{logit, sigmoid, Splats};
use crate::assets::Asset;

/// Which way the asset's +Y points. The render world is +Y up (three.js); a +Y-down asset (the
/// OpenCV/COLMAP frame of 3DGS training, and 404's legacy splats) is rotated 180° about X.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpAxis {
    YUp,
    YDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalization {
    /// Render in file coordinates.
    None,
    /// Centre the bounding box on the origin and scale its largest extent to 1 (the unit cube
    /// [-0.5, 0.5]³ that 404's current output contract asks for).
    UnitCube,
    /// 404's legacy splat validator: subtract the scalar mean of all coordinates, scale the
    /// largest extent to 1.5, and divide activated opacities by the same factor (clamped to 1).
    Legacy404Splat,
}

/// Applies the up-axis conversion, then the normalisation.
pub fn prepare(asset: &mut Asset, up: UpAxis, normalization: Normalization) {
    match asset {
        Asset::Splats(s) => prepare_splats(s, up, normalization),
        Asset::Mesh(m) => prepare_mesh(m, up, normalization),
    }
}

pub fn prepare_splats(s: &mut Splats, up: UpAxis, normalization: Normalization) {
    if up == UpAxis::YDown {
        s.rotate_x180();
    }
    let Some(b) = s.bounds() else { return };
    let extent = b.largest_extent();
    if extent.is_nan() || extent <= 0.0 {
        return;
    }
    match normalization {
        Normalization::None => {}
        Normalization::UnitCube => {
            let c = b.center();
            s.translate_scale([-c[0], -c[1], -c[2]], 1.0 / extent);
        }
        Normalization::Legacy404Splat => {
            let n = s.positions.len() as f64 * 3.0;
            let mean = (s.positions.iter().flatten().map(|&v| v as f64).sum::<f64>() / n) as f32;
            let factor = 1.5 / extent;
            s.translate_scale([-mean; 3], factor);
            for o in &mut s.opacity_logits {
                *o = logit((sigmoid(*o) / factor).clamp(0.0, 1.0));
            }
        }
    }
}

pub fn prepare_mesh(m: &mut Mesh, up: UpAxis, normalization: Normalization) {
    if up == UpAxis::YDown {
        m.rotate_x180();
    }
    let Some(b) = m.bounds() else { return };
    let extent = b.largest_extent();
    if extent.is_nan() || extent <= 0.0 || normalization == Normalization::None {
        return;
    }
    // Meshes have no legacy quirk: both normalising modes fit the unit cube.
    let c = b.center();
    m.translate_scale([-c[0], -c[1], -c[2]], 1.0 / extent);
}
