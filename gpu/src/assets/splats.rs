//! Gaussian splats in memory: the 3DGS parameters as stored (logits, log-scales, SH coefficients).

use serde::Serialize;

/// SH basis functions per degree, excluding the DC term: 0, 3, 8, 15.
pub const fn rest_coeffs(degree: u8) -> usize {
    let d = degree as usize;
    (d + 1) * (d + 1) - 1
}

/// Sign each non-DC SH coefficient takes under a 180° rotation about X, (x, y, z) -> (x, -y, -z):
/// (-1)^(degree in y + degree in z) of the 3DGS real basis polynomial.
pub const SH_SIGN_FLIP_YZ: [f32; 15] = [
    -1.0, -1.0, 1.0, // y, z, x
    -1.0, 1.0, 1.0, -1.0, 1.0, // xy, yz, 3z²-1, xz, x²-y²
    -1.0, 1.0, -1.0, -1.0, 1.0, -1.0,
    1.0, // y(3x²-y²), xyz, y(4z²..), z(2z²..), x(4z²..), z(x²-y²), x(x²-3y²)
];

/// Coordinate frame of splat data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frame {
    /// x right, y up, z back (OpenGL/three.js; Niantic SPZ files; 404's Y-up competition assets).
    Rub,
    /// x right, y down, z forward (OpenCV/COLMAP: what 3DGS training writes to PLY).
    Rdf,
}

/// Axis-aligned bounding box of positions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    pub min: [f32; 3],
    pub max: [f32; 3],
}

impl Bounds {
    pub fn of_points<'a>(points: impl IntoIterator<Item = &'a [f32; 3]>) -> Option<Bounds> {
        let mut b: Option<Bounds> = None;
        for p in points {
            if !p.iter().all(|v| v.is_finite()) {
                continue;
            }
            let bb = b.get_or_insert(Bounds { min: *p, max: *p });
            for (k, &v) in p.iter().enumerate() {
                bb.min[k] = bb.min[k].min(v);
                bb.max[k] = bb.max[k].max(v);
            }
        }
        b
    }

    pub fn center(&self) -> [f32; 3] {
        [0, 1, 2].map(|k| 0.5 * (self.min[k] + self.max[k]))
    }

    pub fn largest_extent(&self) -> f32 {
        (0..3)
            .map(|k| self.max[k] - self.min[k])
            .fold(0.0, f32::max)
    }
}

/// A 3DGS point cloud. Vectors are parallel (index i is one gaussian).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Splats {
    pub positions: Vec<[f32; 3]>,
    /// Natural-log scales (activation: exp).
    pub log_scales: Vec<[f32; 3]>,
    /// Unit quaternions (w, x, y, z); loaders normalise them.
    pub rotations: Vec<[f32; 4]>,
    /// Opacity logits (activation: sigmoid). May be ±inf: SPZ alpha bytes 0 and 255 decode to it.
    pub opacity_logits: Vec<f32>,
    /// SH band 0 (the DC term) per channel.
    pub sh_dc: Vec<[f32; 3]>,
    /// Bands 1..=degree: `rest_coeffs(sh_degree)` coefficients per gaussian, each RGB, coefficient
    /// major (SPZ's order; PLY stores channel major and is transposed on load).
    pub sh_rest: Vec<f32>,
    pub sh_degree: u8,
    /// Trained with Mip-Splatting style antialiasing (SPZ flag 0x1).
    pub antialiased: bool,
}

impl Splats {
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    pub fn rest_coeffs(&self) -> usize {
        rest_coeffs(self.sh_degree)
    }

    /// SH coefficients of bands 1.. for gaussian `i`, RGB innermost.
    pub fn rest_of(&self, i: usize) -> &[f32] {
        let n = self.rest_coeffs() * 3;
        &self.sh_rest[i * n..(i + 1) * n]
    }

    pub fn bounds(&self) -> Option<Bounds> {
        Bounds::of_points(&self.positions)
    }

    /// Structural check: parallel vectors agree in length.
    pub fn is_consistent(&self) -> bool {
        let n = self.len();
        self.log_scales.len() == n
            && self.rotations.len() == n
            && self.opacity_logits.len() == n
            && self.sh_dc.len() == n
            && self.sh_rest.len() == n * self.rest_coeffs() * 3
            && self.sh_degree <= 3
    }

    /// Rotates the cloud 180° about X: (x, y, z) -> (x, -y, -z). This maps the OpenCV/COLMAP frame
    /// (RDF, +Y down, used by 3DGS PLY) to the OpenGL/three.js frame (RUB, +Y up) and back, so
    /// positions, quaternions and the odd SH coefficients all change together.
    pub fn rotate_x180(&mut self) {
        for p in &mut self.positions {
            p[1] = -p[1];
            p[2] = -p[2];
        }
        for q in &mut self.rotations {
            q[2] = -q[2];
            q[3] = -q[3];
        }
        let k = self.rest_coeffs();
        if k > 0 {
            for chunk in self.sh_rest.chunks_exact_mut(k * 3) {
                for (c, coeff) in chunk.chunks_exact_mut(3).enumerate() {
                    let s = SH_SIGN_FLIP_YZ[c];
                    coeff.iter_mut().for_each(|v| *v *= s);
                }
            }
        }
    }

    /// Uniform scale about the origin after a translation: p' = (p + offset) * scale. Gaussian
    /// sizes scale too (log-scale + ln(scale)).
    pub fn translate_scale(&mut self, offset: [f32; 3], scale: f32) {
        let ln = scale.ln();
        for p in &mut self.positions {
            for (x, o) in p.iter_mut().zip(offset) {
                *x = (*x + o) * scale;
            }
        }
        for s in &mut self.log_scales {
            s.iter_mut().for_each(|v| *v += ln);
        }
    }

    /// Drops SH bands above `degree`.
    pub fn truncate_sh(&mut self, degree: u8) {
        if degree >= self.sh_degree {
            return;
        }
        let old = self.rest_coeffs() * 3;
        let new = rest_coeffs(degree) * 3;
        let mut rest = Vec::with_capacity(self.len() * new);
        if new > 0 {
            for chunk in self.sh_rest.chunks_exact(old) {
                rest.extend_from_slice(&chunk[..new]);
            }
        }
        self.sh_rest = rest;
        self.sh_degree = degree;
    }
}

/// Normalises a (w, x, y, z) quaternion; a zero or non-finite one becomes the identity, which is
/// what a normalise-with-epsilon renderer effectively draws.
pub fn normalize_quat(q: [f32; 4]) -> [f32; 4] {
    let n = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]).sqrt();
    if n > 0.0 && n.is_finite() {
        let inv = 1.0 / n;
        [q[0] * inv, q[1] * inv, q[2] * inv, q[3] * inv]
    } else {
        [1.0, 0.0, 0.0, 0.0]
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Inverse of `sigmoid`; 0 and 1 map to ∓inf like the SPZ decoders.
pub fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}
