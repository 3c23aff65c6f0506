//! Texture sampling as a GPU sampler does it: bilinear, no mipmaps, wrap modes, sRGB decoded
//! before filtering (like an `Rgba8UnormSrgb` texture).

use std::sync::OnceLock;

use crate::assets::mesh::{Texture, Wrap};
use crate::lighting::srgb_to_linear;

fn srgb_lut() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))
}

fn wrap_index(i: i64, n: u32, mode: Wrap) -> u32 {
    let n = n as i64;
    let j = match mode {
        Wrap::Repeat => i.rem_euclid(n),
        Wrap::ClampToEdge => i.clamp(0, n - 1),
        Wrap::MirroredRepeat => {
            let m = i.rem_euclid(2 * n);
            if m >= n {
                2 * n - 1 - m
            } else {
                m
            }
        }
    };
    j as u32
}

/// Linear RGBA at texture coordinate `uv` (0..1 across the image, v down).
pub fn sample(tex: &Texture, wrap_s: Wrap, wrap_t: Wrap, uv: [f32; 2]) -> [f32; 4] {
    let texels = tex.width as usize * tex.height as usize;
    if texels == 0 || tex.rgba.len() < texels * 4 || !uv[0].is_finite() || !uv[1].is_finite() {
        return [1.0; 4];
    }
    let lut = srgb_lut();
    let x = uv[0] * tex.width as f32 - 0.5;
    let y = uv[1] * tex.height as f32 - 0.5;
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let texel = |xi: i64, yi: i64| {
        let (tx, ty) = (
            wrap_index(xi, tex.width, wrap_s),
            wrap_index(yi, tex.height, wrap_t),
        );
        let o = ((ty as usize) * tex.width as usize + tx as usize) * 4;
        let p = &tex.rgba[o..o + 4];
        [
            lut[p[0] as usize],
            lut[p[1] as usize],
            lut[p[2] as usize],
            p[3] as f32 / 255.0,
        ]
    };
    let (a, b, c, d) = (
        texel(x0, y0),
        texel(x0 + 1, y0),
        texel(x0, y0 + 1),
        texel(x0 + 1, y0 + 1),
    );
    std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bot = c[k] + (d[k] - c[k]) * fx;
        top + (bot - top) * fy
    })
}
