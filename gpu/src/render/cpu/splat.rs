//! Reference splat rasterizer: project, depth sort, bin into 16×16 tiles, and blend each tile's
//! gaussians front to back per pixel exactly as 3DGS does.

use image::RgbImage;
use rayon::prelude::*;

use crate::assets::splats::{sigmoid, Splats};
use crate::render::sh;
use crate::render::splat_math::{
    cov3d, project, Projected, ViewParams, ALPHA_MAX, ALPHA_MIN, TILE, T_MIN,
};
use crate::render::{SplatOptions, View};

/// View-independent activations, computed once per asset.
pub struct Prepared<'a> {
    pub splats: &'a Splats,
    pub cov: Vec<[f32; 6]>,
    pub opacity: Vec<f32>,
    pub degree: u8,
    pub antialiased: bool,
}

impl<'a> Prepared<'a> {
    pub fn new(splats: &'a Splats, opts: &SplatOptions) -> Prepared<'a> {
        let cov = splats
            .log_scales
            .par_iter()
            .zip(&splats.rotations)
            .map(|(&s, &q)| cov3d(s, q))
            .collect();
        let opacity = splats
            .opacity_logits
            .par_iter()
            .map(|&o| sigmoid(o))
            .collect();
        Prepared {
            splats,
            cov,
            opacity,
            degree: splats.sh_degree.min(opts.max_sh_degree),
            antialiased: opts.antialiased.unwrap_or(splats.antialiased),
        }
    }
}

/// What blending needs per visible gaussian.
#[derive(Clone, Copy)]
struct Splat2d {
    p: Projected,
    color: [f32; 3],
}

pub fn render_view(prep: &Prepared, view: &View) -> RgbImage {
    let v = ViewParams::new(&view.camera);
    let s = prep.splats;
    let projected: Vec<Option<Splat2d>> = (0..s.len())
        .into_par_iter()
        .map(|i| {
            let p = project(
                &v,
                s.positions[i],
                prep.cov[i],
                prep.opacity[i],
                prep.antialiased,
            )?;
            let pos = s.positions[i];
            let d = [0, 1, 2].map(|k| pos[k] - v.cam_pos[k]);
            let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            let dir = d.map(|x| x / len);
            let color = sh::eval(prep.degree, s.sh_dc[i], s.rest_of(i), dir);
            Some(Splat2d { p, color })
        })
        .collect();

    // Front to back: by depth, ties by index (the GPU's stable radix sort gives the same order).
    let mut order: Vec<(u32, u32)> = projected
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| (p.p.depth.to_bits(), i as u32)))
        .collect();
    order.par_sort_unstable();

    // Stable bucketing by tile keeps each tile's list in depth order.
    let ntiles = (v.tiles_x * v.tiles_y) as usize;
    let mut start = vec![0u32; ntiles + 1];
    for &(_, i) in &order {
        let r = projected[i as usize].as_ref().map_or([0; 4], |p| p.p.rect);
        for ty in r[1]..r[3] {
            for tx in r[0]..r[2] {
                start[(ty * v.tiles_x + tx) as usize + 1] += 1;
            }
        }
    }
    for t in 0..ntiles {
        start[t + 1] += start[t];
    }
    let mut fill = start.clone();
    let mut lists = vec![0u32; start[ntiles] as usize];
    for &(_, i) in &order {
        let r = projected[i as usize].as_ref().map_or([0; 4], |p| p.p.rect);
        for ty in r[1]..r[3] {
            for tx in r[0]..r[2] {
                let t = (ty * v.tiles_x + tx) as usize;
                lists[fill[t] as usize] = i;
                fill[t] += 1;
            }
        }
    }

    let bg = view.background.map(|b| b as f32 / 255.0);
    let (w, h) = (v.width as usize, v.height as usize);
    let mut pixels = vec![0u8; w * h * 3];
    let row_bytes = w * 3 * TILE as usize;
    pixels
        .par_chunks_mut(row_bytes)
        .enumerate()
        .for_each(|(ty, band)| {
            // The tile's gaussians, copied once into a compact array (what the GPU stages in
            // workgroup memory): pixels then stream through it instead of chasing indices.
            let mut staged: Vec<Staged> = Vec::new();
            for tx in 0..v.tiles_x as usize {
                let t = ty * v.tiles_x as usize + tx;
                staged.clear();
                staged.extend(
                    lists[start[t] as usize..start[t + 1] as usize]
                        .iter()
                        .filter_map(|&i| projected[i as usize].as_ref())
                        .map(|g| Staged {
                            mean: g.p.mean,
                            conic: g.p.conic,
                            opacity: g.p.opacity,
                            color: g.color,
                        }),
                );
                let x0 = tx * TILE as usize;
                let y0 = ty * TILE as usize;
                for py in y0..(y0 + TILE as usize).min(h) {
                    for px in x0..(x0 + TILE as usize).min(w) {
                        let rgb = blend_pixel(&staged, px as f32 + 0.5, py as f32 + 0.5, bg);
                        let o = ((py - y0) * w + px) * 3;
                        band[o..o + 3].copy_from_slice(&rgb);
                    }
                }
            }
        });
    RgbImage::from_raw(v.width, v.height, pixels)
        .unwrap_or_else(|| RgbImage::new(v.width, v.height))
}

/// What blending reads per gaussian, packed.
struct Staged {
    mean: [f32; 2],
    conic: [f32; 3],
    opacity: f32,
    color: [f32; 3],
}

fn blend_pixel(staged: &[Staged], x: f32, y: f32, bg: [f32; 3]) -> [u8; 3] {
    let mut t = 1.0f32;
    let mut c = [0.0f32; 3];
    for g in staged {
        let dx = g.mean[0] - x;
        let dy = g.mean[1] - y;
        let [ca, cb, cc] = g.conic;
        let power = -0.5 * (ca * dx * dx + cc * dy * dy) - cb * dx * dy;
        if power > 0.0 {
            continue;
        }
        let alpha = (g.opacity * power.exp()).min(ALPHA_MAX);
        if alpha < ALPHA_MIN {
            continue;
        }
        let next = t * (1.0 - alpha);
        if next < T_MIN {
            break;
        }
        for (acc, col) in c.iter_mut().zip(g.color) {
            *acc += col * (alpha * t);
        }
        t = next;
    }
    [0, 1, 2].map(|k| crate::lighting::to_u8(c[k] + t * bg[k]))
}
