//! The mesh shading model shared by every backend: Lambert diffuse under ambient, hemisphere and
//! directional lights, optional ACES filmic tone mapping, sRGB output. The WGSL mesh shader
//! mirrors these functions line for line.

use serde::Serialize;

/// A directional light, already resolved for one view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DirectionalLight {
    /// Unit vector from the surface towards the light.
    pub to_light: [f32; 3],
    /// Radiance scale (colour x intensity, with the 1/π of the Lambert BRDF folded in).
    pub intensity: f32,
}

/// Most directional lights a view may have (the GPU uniform holds this many).
pub const MAX_LIGHTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToneMap {
    /// Clamp to [0, 1].
    None,
    /// three.js `ACESFilmicToneMapping` at exposure 1.
    AcesFilmic,
}

/// Lighting for one view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lighting {
    /// Uniform ambient term (multiplies the albedo).
    pub ambient: f32,
    /// Hemisphere light: sky and ground linear grey levels times intensity, blended by n·y.
    pub hemisphere: Option<(f32, f32)>,
    pub lights: Vec<DirectionalLight>,
    pub tone_map: ToneMap,
}

impl Lighting {
    /// Linear radiance of a surface with `albedo` and unit normal `n`.
    pub fn shade(&self, albedo: [f32; 3], n: [f32; 3]) -> [f32; 3] {
        let mut e = self.ambient;
        if let Some((sky, ground)) = self.hemisphere {
            let w = 0.5 * n[1] + 0.5;
            e += ground + (sky - ground) * w;
        }
        for l in &self.lights {
            let d = n[0] * l.to_light[0] + n[1] * l.to_light[1] + n[2] * l.to_light[2];
            e += l.intensity * d.max(0.0);
        }
        albedo.map(|a| a * e)
    }

    /// Tone maps and encodes a linear colour to display bytes.
    pub fn encode(&self, c: [f32; 3]) -> [u8; 3] {
        let c = match self.tone_map {
            ToneMap::None => c,
            ToneMap::AcesFilmic => aces_filmic(c),
        };
        c.map(|v| to_u8(linear_to_srgb(v.clamp(0.0, 1.0))))
    }
}

pub fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

pub fn linear_to_srgb(c: f32) -> f32 {
    if c <= 0.0031308 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// three.js's ACES filmic fit (Stephen Hill's RRT+ODT approximation) at exposure 1.
pub fn aces_filmic(c: [f32; 3]) -> [f32; 3] {
    let c = c.map(|v| v / 0.6);
    // Column-major in three.js; written here as rows applied to (r, g, b).
    let input = [
        [0.59719, 0.35458, 0.04823],
        [0.07600, 0.90834, 0.01566],
        [0.02840, 0.13383, 0.83777],
    ];
    let output = [
        [1.60475, -0.53108, -0.07367],
        [-0.10208, 1.10813, -0.00605],
        [-0.00327, -0.07276, 1.07602],
    ];
    let mul = |m: [[f32; 3]; 3], v: [f32; 3]| m.map(|r| r[0] * v[0] + r[1] * v[1] + r[2] * v[2]);
    let v = mul(input, c);
    let v = v.map(|x| {
        let a = x * (x + 0.0245786) - 0.000090537;
        let b = x * (0.983729 * x + 0.432_951) + 0.238081;
        a / b
    });
    mul(output, v).map(|x| x.clamp(0.0, 1.0))
}
