//! The 3DGS forward model per gaussian (Kerbl et al. 2023): 3D covariance, EWA projection with
//! the 0.3 px² low-pass, 3σ screen radius and 16×16 tile rectangle. The CPU reference uses it
//! directly; `wgpu/shaders/splat_project.wgsl` implements the same steps.

use crate::camera::Camera;

pub const TILE: u32 = 16;
/// Added to the 2D covariance diagonal (pixels²): the 3DGS low-pass filter.
pub const LOW_PASS: f32 = 0.3;
pub const ALPHA_MAX: f32 = 0.99;
pub const ALPHA_MIN: f32 = 1.0 / 255.0;
pub const T_MIN: f32 = 1e-4;

/// Per-view constants.
#[derive(Debug, Clone, Copy)]
pub struct ViewParams {
    /// World-to-camera rotation rows (OpenCV axes) and translation.
    pub rot: [[f32; 3]; 3],
    pub trans: [f32; 3],
    pub fx: f32,
    pub fy: f32,
    pub cx: f32,
    pub cy: f32,
    pub tan_fovx: f32,
    pub tan_fovy: f32,
    pub near: f32,
    pub width: u32,
    pub height: u32,
    pub tiles_x: u32,
    pub tiles_y: u32,
    pub cam_pos: [f32; 3],
}

impl ViewParams {
    pub fn new(c: &Camera) -> ViewParams {
        let (rot, trans) = c.world_to_cv();
        let (fx, fy, cx, cy) = c.intrinsics();
        ViewParams {
            rot,
            trans,
            fx,
            fy,
            cx,
            cy,
            tan_fovx: c.width as f32 / (2.0 * fx),
            tan_fovy: c.height as f32 / (2.0 * fy),
            near: c.near,
            width: c.width,
            height: c.height,
            tiles_x: c.width.div_ceil(TILE),
            tiles_y: c.height.div_ceil(TILE),
            cam_pos: c.eye,
        }
    }
}

/// Σ = R S Sᵀ Rᵀ as (xx, xy, xz, yy, yz, zz), from log-scales and a unit quaternion (w, x, y, z).
pub fn cov3d(log_scale: [f32; 3], q: [f32; 4]) -> [f32; 6] {
    let s = log_scale.map(f32::exp);
    let [w, x, y, z] = q;
    let r = [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ];
    // M = R·S, Σ = M·Mᵀ.
    let m = r.map(|row| [row[0] * s[0], row[1] * s[1], row[2] * s[2]]);
    let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    [
        dot(m[0], m[0]),
        dot(m[0], m[1]),
        dot(m[0], m[2]),
        dot(m[1], m[1]),
        dot(m[1], m[2]),
        dot(m[2], m[2]),
    ]
}

/// A gaussian on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Projected {
    /// Centre in pixels (pixel centres at i + 0.5).
    pub mean: [f32; 2],
    /// Inverse 2D covariance (a, b, c) of [[a, b], [b, c]].
    pub conic: [f32; 3],
    pub opacity: f32,
    pub depth: f32,
    /// Tile rectangle [x0, y0, x1, y1), x1/y1 exclusive.
    pub rect: [u32; 4],
}

/// Projects one gaussian; None when it is behind the near plane, degenerate, or off screen.
/// `antialiased` applies Mip-Splatting's opacity compensation √(det Σ / det(Σ + 0.3 I)).
pub fn project(
    v: &ViewParams,
    pos: [f32; 3],
    cov: [f32; 6],
    opacity: f32,
    antialiased: bool,
) -> Option<Projected> {
    let r = &v.rot;
    let t = [0, 1, 2].map(|i| r[i][0] * pos[0] + r[i][1] * pos[1] + r[i][2] * pos[2] + v.trans[i]);
    if t[2].is_nan() || t[2] <= v.near {
        return None;
    }
    let limx = 1.3 * v.tan_fovx;
    let limy = 1.3 * v.tan_fovy;
    let tz = t[2];
    let tx = (t[0] / tz).clamp(-limx, limx) * tz;
    let ty = (t[1] / tz).clamp(-limy, limy) * tz;
    // J (2×3) times the view rotation.
    let j = [
        [v.fx / tz, 0.0, -(v.fx * tx) / (tz * tz)],
        [0.0, v.fy / tz, -(v.fy * ty) / (tz * tz)],
    ];
    let m = j.map(|row| [0, 1, 2].map(|c| row[0] * r[0][c] + row[1] * r[1][c] + row[2] * r[2][c]));
    let [xx, xy, xz, yy, yz, zz] = cov;
    let sig = [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]];
    let ms = m
        .map(|row| [0, 1, 2].map(|c| row[0] * sig[0][c] + row[1] * sig[1][c] + row[2] * sig[2][c]));
    let a0 = ms[0][0] * m[0][0] + ms[0][1] * m[0][1] + ms[0][2] * m[0][2];
    let b = ms[0][0] * m[1][0] + ms[0][1] * m[1][1] + ms[0][2] * m[1][2];
    let c0 = ms[1][0] * m[1][0] + ms[1][1] * m[1][1] + ms[1][2] * m[1][2];
    let (a, c) = (a0 + LOW_PASS, c0 + LOW_PASS);
    let det = a * c - b * b;
    if !det.is_finite() || det <= 0.0 {
        return None;
    }
    let mut opacity = opacity;
    if antialiased {
        opacity *= ((a0 * c0 - b * b) / det).max(0.0).sqrt();
    }
    let inv = 1.0 / det;
    let conic = [c * inv, -b * inv, a * inv];
    let mid = 0.5 * (a + c);
    let lambda = mid + (mid * mid - det).max(0.1).sqrt();
    let radius = (3.0 * lambda.sqrt()).ceil();
    let mean = [v.fx * t[0] / tz + v.cx, v.fy * t[1] / tz + v.cy];
    if !(radius.is_finite() && mean[0].is_finite() && mean[1].is_finite()) {
        return None;
    }
    let rect = tile_rect(mean, radius, v.tiles_x, v.tiles_y);
    if rect[0] >= rect[2] || rect[1] >= rect[3] {
        return None;
    }
    Some(Projected {
        mean,
        conic,
        opacity,
        depth: tz,
        rect,
    })
}

/// 3DGS `getRect` on pixel-index coordinates (centre − 0.5), clamped to the tile grid.
pub fn tile_rect(mean: [f32; 2], radius: f32, tiles_x: u32, tiles_y: u32) -> [u32; 4] {
    let t = TILE as f32;
    let (px, py) = (mean[0] - 0.5, mean[1] - 0.5);
    let lo = |p: f32, n: u32| ((p - radius) / t).clamp(0.0, n as f32) as u32;
    let hi = |p: f32, n: u32| ((p + radius + t - 1.0) / t).clamp(0.0, n as f32) as u32;
    [
        lo(px, tiles_x),
        lo(py, tiles_y),
        hi(px, tiles_x),
        hi(py, tiles_y),
    ]
}
