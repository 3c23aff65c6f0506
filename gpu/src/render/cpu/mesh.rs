//! Reference mesh rasterizer: near-plane clipping in clip space, top-left fill rule, z-buffer,
//! perspective-correct attributes, then one shading pass per pixel (a visibility buffer).

use glam::Vec4;
use image::RgbImage;
use rayon::prelude::*;

use crate::assets::mesh::{AlphaMode, Material, Mesh};
use crate::render::texture;
use crate::render::View;

/// A clipped triangle in screen space.
#[derive(Clone, Copy)]
struct ScreenTri {
    /// (x, y, z, 1/w) per vertex; x, y in pixels (y down), z in [0, 1].
    v: [[f32; 4]; 3],
    /// Barycentric coordinates of each vertex in the source triangle (differ after clipping).
    bary: [[f32; 3]; 3],
    /// Source vertex indices.
    idx: [u32; 3],
    material: u32,
    front: bool,
}

const NONE: u32 = u32::MAX;
const BAND: usize = 16;

pub fn render_view(mesh: &Mesh, view: &View) -> RgbImage {
    let cam = &view.camera;
    let (w, h) = (cam.width as usize, cam.height as usize);
    let vp = cam.view_projection();
    let clip: Vec<Vec4> = mesh
        .vertices
        .par_iter()
        .map(|v| vp * glam::Vec3::from(v.position).extend(1.0))
        .collect();
    let mut tris: Vec<ScreenTri> = Vec::new();
    for p in &mesh.primitives {
        let Some(mat) = mesh.materials.get(p.material as usize) else {
            continue;
        };
        let start = p.first_index as usize;
        let Some(idx) = mesh.indices.get(start..start + p.index_count as usize) else {
            continue;
        };
        let part: Vec<ScreenTri> = idx
            .par_chunks_exact(3)
            .flat_map_iter(|t| {
                setup(
                    [t[0], t[1], t[2]],
                    &clip,
                    p.material,
                    mat,
                    w as f32,
                    h as f32,
                )
            })
            .collect();
        tris.extend(part);
    }

    // Visibility buffer: depth, triangle, screen barycentrics (b, c) per pixel.
    let mut depth = vec![f32::INFINITY; w * h];
    let mut ids = vec![NONE; w * h];
    let mut bcs = vec![[0f32; 2]; w * h];
    depth
        .par_chunks_mut(w * BAND)
        .zip(ids.par_chunks_mut(w * BAND))
        .zip(bcs.par_chunks_mut(w * BAND))
        .enumerate()
        .for_each(|(band, ((dz, di), db))| {
            let y0 = band * BAND;
            let y1 = (y0 + BAND).min(h);
            for (ti, t) in tris.iter().enumerate() {
                raster(t, ti as u32, mesh, y0, y1, w, dz, di, db);
            }
        });

    let bg = view.background;
    let mut pixels = vec![0u8; w * h * 3];
    pixels.par_chunks_mut(3).enumerate().for_each(|(i, px)| {
        let rgb = match ids[i] {
            NONE => bg,
            id => shade(mesh, &tris[id as usize], bcs[i], view),
        };
        px.copy_from_slice(&rgb);
    });
    RgbImage::from_raw(w as u32, h as u32, pixels)
        .unwrap_or_else(|| RgbImage::new(w as u32, h as u32))
}

/// Clips one triangle against the near plane (z ≥ 0 in clip space) and maps it to the screen.
fn setup(
    idx: [u32; 3],
    clip: &[Vec4],
    material: u32,
    mat: &Material,
    w: f32,
    h: f32,
) -> Vec<ScreenTri> {
    let Some(c) = idx
        .iter()
        .map(|&i| clip.get(i as usize).copied())
        .collect::<Option<Vec<_>>>()
    else {
        return Vec::new();
    };
    // Trivially outside one frustum plane (all three vertices beyond it).
    let outside = |f: &dyn Fn(Vec4) -> bool| c.iter().all(|&v| f(v));
    if outside(&|v| v.x > v.w)
        || outside(&|v| v.x < -v.w)
        || outside(&|v| v.y > v.w)
        || outside(&|v| v.y < -v.w)
        || outside(&|v| v.z > v.w)
        || outside(&|v| v.z < 0.0)
    {
        return Vec::new();
    }
    let ident = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let mut poly: Vec<(Vec4, [f32; 3])> = (0..3).map(|k| (c[k], ident[k])).collect();
    if c.iter().any(|v| v.z < 0.0) {
        let mut out = Vec::with_capacity(4);
        for k in 0..poly.len() {
            let (a, ba) = poly[k];
            let (b, bb) = poly[(k + 1) % poly.len()];
            if a.z >= 0.0 {
                out.push((a, ba));
            }
            if (a.z >= 0.0) != (b.z >= 0.0) {
                let t = a.z / (a.z - b.z);
                out.push((
                    a + (b - a) * t,
                    std::array::from_fn(|j| ba[j] + (bb[j] - ba[j]) * t),
                ));
            }
        }
        poly = out;
    }
    let mut tris = Vec::new();
    for k in 1..poly.len().saturating_sub(1) {
        let corners = [poly[0], poly[k], poly[k + 1]];
        let v = corners.map(|(p, _)| {
            let iw = 1.0 / p.w;
            [
                (p.x * iw * 0.5 + 0.5) * w,
                (0.5 - p.y * iw * 0.5) * h,
                p.z * iw,
                iw,
            ]
        });
        let area = edge(v[0], v[1], v[2]);
        if !(area != 0.0) || !area.is_finite() {
            continue;
        }
        // area > 0 is counter-clockwise as seen (the glTF front face); the sign convention of
        // `edge` already accounts for the screen's y pointing down.
        let front = area > 0.0;
        if !front && !mat.double_sided {
            continue;
        }
        let mut t = ScreenTri {
            v,
            bary: corners.map(|(_, b)| b),
            idx,
            material,
            front,
        };
        if area < 0.0 {
            t.v.swap(1, 2);
            t.bary.swap(1, 2);
        }
        tris.push(t);
    }
    tris
}

/// Edge function of p against a→b (positive on the interior side of a positively wound triangle).
#[inline]
fn edge(a: [f32; 4], b: [f32; 4], p: [f32; 4]) -> f32 {
    (p[0] - a[0]) * (b[1] - a[1]) - (p[1] - a[1]) * (b[0] - a[0])
}

/// Top-left rule for a positively wound triangle on a y-down screen.
#[inline]
fn top_left(a: [f32; 4], b: [f32; 4]) -> bool {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    (dy == 0.0 && dx < 0.0) || dy > 0.0
}

#[allow(clippy::too_many_arguments)]
fn raster(
    t: &ScreenTri,
    id: u32,
    mesh: &Mesh,
    y0: usize,
    y1: usize,
    w: usize,
    dz: &mut [f32],
    di: &mut [u32],
    db: &mut [[f32; 2]],
) {
    let [a, b, c] = t.v;
    let ymin = a[1].min(b[1]).min(c[1]).floor().max(y0 as f32) as usize;
    let ymax = (a[1].max(b[1]).max(c[1]).ceil() as i64).min(y1 as i64 - 1);
    let xmin = a[0].min(b[0]).min(c[0]).floor().max(0.0) as usize;
    let xmax = (a[0].max(b[0]).max(c[0]).ceil() as i64).min(w as i64 - 1);
    if ymax < ymin as i64 || xmax < xmin as i64 {
        return;
    }
    let area = edge(a, b, c);
    let (tl_ab, tl_bc, tl_ca) = (top_left(a, b), top_left(b, c), top_left(c, a));
    let inside = |e: f32, tl: bool| e > 0.0 || (e == 0.0 && tl);
    let mat = &mesh.materials[t.material as usize];
    for y in ymin..=ymax as usize {
        for x in xmin..=xmax as usize {
            let p = [x as f32 + 0.5, y as f32 + 0.5, 0.0, 0.0];
            let (e_bc, e_ca, e_ab) = (edge(b, c, p), edge(c, a, p), edge(a, b, p));
            if !(inside(e_bc, tl_bc) && inside(e_ca, tl_ca) && inside(e_ab, tl_ab)) {
                continue;
            }
            let (lb, lc) = (e_ca / area, e_ab / area);
            let la = 1.0 - lb - lc;
            let z = la * a[2] + lb * b[2] + lc * c[2];
            let o = (y - y0) * w + x;
            if !((0.0..=1.0).contains(&z) && z < dz[o]) {
                continue;
            }
            if let AlphaMode::Mask(_) = mat.alpha_mode {
                let (_, alpha) = albedo(mesh, t, [lb, lc]);
                if alpha < mat.alpha_cutoff().unwrap_or(0.5) {
                    continue;
                }
            }
            dz[o] = z;
            di[o] = id;
            db[o] = [lb, lc];
        }
    }
}

/// Source-triangle barycentrics of a screen position, perspective corrected.
fn source_bary(t: &ScreenTri, bc: [f32; 2]) -> [f32; 3] {
    let l = [1.0 - bc[0] - bc[1], bc[0], bc[1]];
    let wts: [f32; 3] = std::array::from_fn(|k| l[k] * t.v[k][3]);
    let s = wts[0] + wts[1] + wts[2];
    let mu = wts.map(|x| x / s);
    std::array::from_fn(|j| mu[0] * t.bary[0][j] + mu[1] * t.bary[1][j] + mu[2] * t.bary[2][j])
}

/// Linear base colour (rgb) and alpha at a pixel of triangle `t`.
fn albedo(mesh: &Mesh, t: &ScreenTri, bc: [f32; 2]) -> ([f32; 3], f32) {
    let beta = source_bary(t, bc);
    let vs = t.idx.map(|i| &mesh.vertices[i as usize]);
    let mix4 = |f: &dyn Fn(usize) -> [f32; 4]| -> [f32; 4] {
        let (p, q, r) = (f(0), f(1), f(2));
        std::array::from_fn(|k| beta[0] * p[k] + beta[1] * q[k] + beta[2] * r[k])
    };
    let color = mix4(&|j| vs[j].color);
    let uv = mix4(&|j| [vs[j].uv[0], vs[j].uv[1], 0.0, 0.0]);
    let mat = &mesh.materials[t.material as usize];
    let tex = mat
        .base_color_texture
        .and_then(|r| {
            mesh.textures
                .get(r.texture)
                .map(|tx| texture::sample(tx, r.wrap_s, r.wrap_t, [uv[0], uv[1]]))
        })
        .unwrap_or([1.0; 4]);
    let f = mat.base_color;
    let rgba: [f32; 4] = std::array::from_fn(|k| f[k] * color[k] * tex[k]);
    ([rgba[0], rgba[1], rgba[2]], rgba[3])
}

fn shade(mesh: &Mesh, t: &ScreenTri, bc: [f32; 2], view: &View) -> [u8; 3] {
    let beta = source_bary(t, bc);
    let vs = t.idx.map(|i| &mesh.vertices[i as usize]);
    let mut n: [f32; 3] = std::array::from_fn(|k| {
        beta[0] * vs[0].normal[k] + beta[1] * vs[1].normal[k] + beta[2] * vs[2].normal[k]
    });
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if len > 0.0 {
        n = n.map(|x| x / len);
    }
    if !t.front {
        n = n.map(|x| -x);
    }
    let (rgb, _) = albedo(mesh, t, bc);
    view.lighting.encode(view.lighting.shade(rgb, n))
}
