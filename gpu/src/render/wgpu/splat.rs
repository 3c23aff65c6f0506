//! Drives the compute splat pipeline. Per view: project (per chunk of gaussians) → radix sort by
//! depth → count tiles per gaussian in depth order, scan → emit (tile, gaussian) pairs → stable
//! radix sort by tile → tile ranges → per-tile blend. All views of a batch go in one submission;
//! a view whose pairs overflowed the pair buffers is re-rendered with larger ones.

use image::RgbImage;
use rayon::prelude::*;

use super::sort::{self, dispatch, Kernels, Radix, Scan};
use super::Gpu;
use crate::assets::splats::{rest_coeffs, sigmoid, Splats};
use crate::error::RenderError;
use crate::render::splat_math::{cov3d, ViewParams};
use crate::render::{SplatOptions, View};

const COMMON: &str = include_str!("shaders/common.wgsl");
/// Output pixels per submission (4 bytes each): bounds the readback buffer.
const MAX_BATCH_PIXELS: u64 = 32 << 20;

pub struct SplatPipelines {
    project: wgpu::ComputePipeline,
    gather: wgpu::ComputePipeline,
    total: wgpu::ComputePipeline,
    emit: wgpu::ComputePipeline,
    clear_ranges: wgpu::ComputePipeline,
    find_ranges: wgpu::ComputePipeline,
    raster: wgpu::ComputePipeline,
    sort: Kernels,
}

impl SplatPipelines {
    pub fn new(gpu: &Gpu) -> SplatPipelines {
        let project = gpu.shader(
            "splat_project",
            &format!("{COMMON}\n{}", include_str!("shaders/splat_project.wgsl")),
        );
        let bin = gpu.shader(
            "splat_bin",
            &format!("{COMMON}\n{}", include_str!("shaders/splat_bin.wgsl")),
        );
        let raster = gpu.shader(
            "splat_raster",
            &format!("{COMMON}\n{}", include_str!("shaders/splat_raster.wgsl")),
        );
        SplatPipelines {
            project: gpu.compute(&project, "project"),
            gather: gpu.compute(&bin, "gather_counts"),
            total: gpu.compute(&bin, "total"),
            emit: gpu.compute(&bin, "emit"),
            clear_ranges: gpu.compute(&bin, "clear_ranges"),
            find_ranges: gpu.compute(&bin, "find_ranges"),
            raster: gpu.compute(&raster, "raster"),
            sort: Kernels::new(gpu),
        }
    }
}

/// Remembered between calls: the pair capacity that last sufficed, so repeated renders of
/// similar scenes do not overflow and redo views.
#[derive(Default)]
pub struct State {
    pair_capacity: u64,
}

/// Mirrors `View` in common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewUniform {
    rot: [[f32; 4]; 3],
    cam: [f32; 4],
    intr: [f32; 4],
    fov: [f32; 4],
    bg: [f32; 4],
    dims: [u32; 4],
    misc: [u32; 4],
    misc2: [u32; 4],
}

struct Chunk {
    group: wgpu::BindGroup,
    count: u32,
    _buffers: [wgpu::Buffer; 3],
}

/// Buffers sized by the gaussian count.
struct Scene {
    n: u64,
    proj: wgpu::Buffer,
    rects: wgpu::Buffer,
    keys: [wgpu::Buffer; 2],
    idx: [wgpu::Buffer; 2],
    counts: wgpu::Buffer,
    _n_const: wgpu::Buffer,
    n_pairs: wgpu::Buffer,
    chunks: Vec<(u32, Vec<f32>, Vec<f32>)>,
    sh_stride: u32,
    degree: u32,
    depth_sort: Radix,
    count_scan: Scan,
}

/// Buffers sized by the pair capacity.
struct Pairs {
    capacity: u64,
    keys: [wgpu::Buffer; 2],
    vals: [wgpu::Buffer; 2],
    tile_sort: Radix,
}

impl Pairs {
    fn new(gpu: &Gpu, k: &Kernels, scene: &Scene, capacity: u64) -> Result<Pairs, RenderError> {
        gpu.check_size(capacity * 4)?;
        let keys = [
            gpu.storage("pair keys", capacity * 4),
            gpu.storage("pair keys", capacity * 4),
        ];
        let vals = [
            gpu.storage("pair vals", capacity * 4),
            gpu.storage("pair vals", capacity * 4),
        ];
        // 24 key bits cover 16M tiles; passes actually run depend on each view's tile count.
        let tile_sort = Radix::new(
            gpu,
            k,
            [&keys[0], &keys[1]],
            [&vals[0], &vals[1]],
            &scene.n_pairs,
            capacity,
            6,
        );
        Ok(Pairs {
            capacity,
            keys,
            vals,
            tile_sort,
        })
    }
}

fn prepare_scene(
    gpu: &Gpu,
    k: &Kernels,
    splats: &Splats,
    opts: &SplatOptions,
) -> Result<Scene, RenderError> {
    let n = splats.len() as u64;
    let degree = splats.sh_degree.min(opts.max_sh_degree);
    let rest = rest_coeffs(degree);
    let sh_stride = 3 * (1 + rest) as u32;
    for bytes in [n * 48, n * 16, n * 10 * 4, n * sh_stride as u64 * 4] {
        if bytes > gpu.limits.max_buffer_size {
            return Err(RenderError::GpuBufferTooLarge {
                needed: bytes,
                limit: gpu.limits.max_buffer_size,
            });
        }
    }
    gpu.check_size(n * 48)?;
    // Chunks keep each input binding under the device limit.
    let per = (gpu.max_binding() / (sh_stride as u64 * 4))
        .min(gpu.max_binding() / 40)
        .max(1);
    let full = splats.rest_coeffs() * 3;
    let mut chunks = Vec::new();
    let mut start = 0usize;
    while (start as u64) < n {
        let end = (start as u64 + per).min(n) as usize;
        // Filled in place in parallel (a flat_map collect would copy everything twice).
        let mut gauss = vec![0f32; (end - start) * 10];
        gauss.par_chunks_mut(10).enumerate().for_each(|(j, g)| {
            let i = start + j;
            let p = splats.positions[i];
            let c = cov3d(splats.log_scales[i], splats.rotations[i]);
            let o = sigmoid(splats.opacity_logits[i]);
            g.copy_from_slice(&[p[0], p[1], p[2], c[0], c[1], c[2], c[3], c[4], c[5], o]);
        });
        let stride = sh_stride as usize;
        let mut sh = vec![0f32; (end - start) * stride];
        sh.par_chunks_mut(stride).enumerate().for_each(|(j, o)| {
            let i = start + j;
            o[..3].copy_from_slice(&splats.sh_dc[i]);
            o[3..].copy_from_slice(&splats.sh_rest[i * full..i * full + rest * 3]);
        });
        chunks.push((start as u32, gauss, sh));
        start = end;
    }
    let keys = [
        gpu.storage("depth keys", n * 4),
        gpu.storage("depth keys", n * 4),
    ];
    let idx = [
        gpu.storage("depth idx", n * 4),
        gpu.storage("depth idx", n * 4),
    ];
    let n_const = gpu.storage_init("n", bytemuck::cast_slice(&[n as u32]));
    let counts = gpu.storage("tile counts", n * 4);
    let depth_sort = Radix::new(
        gpu,
        k,
        [&keys[0], &keys[1]],
        [&idx[0], &idx[1]],
        &n_const,
        n,
        8,
    );
    let count_scan = Scan::new(gpu, k, &counts, n);
    Ok(Scene {
        n,
        proj: gpu.storage("projected", n * 48),
        rects: gpu.storage("rects", n * 16),
        keys,
        idx,
        counts,
        _n_const: n_const,
        n_pairs: gpu.storage("pair count", 4),
        chunks,
        sh_stride,
        degree: degree as u32,
        depth_sort,
        count_scan,
    })
}

fn upload_chunks(gpu: &Gpu, p: &SplatPipelines, scene: &mut Scene) -> Vec<Chunk> {
    std::mem::take(&mut scene.chunks)
        .into_iter()
        .map(|(base, gauss, sh)| {
            let count = (gauss.len() / 10) as u32;
            let u = gpu.uniform(
                "chunk",
                bytemuck::cast_slice(&[base, count, scene.sh_stride, scene.degree]),
            );
            let g = gpu.storage_init("gaussians", bytemuck::cast_slice(&gauss));
            let s = gpu.storage_init("sh", bytemuck::cast_slice(&sh));
            let group = gpu.bind(
                &p.project,
                1,
                &[
                    (0, &u),
                    (1, &g),
                    (2, &s),
                    (3, &scene.proj),
                    (4, &scene.rects),
                    (5, &scene.keys[0]),
                    (6, &scene.idx[0]),
                ],
            );
            Chunk {
                group,
                count,
                _buffers: [u, g, s],
            }
        })
        .collect()
}

fn view_uniform(
    view: &View,
    scene: &Scene,
    antialiased: bool,
    offset: u64,
    capacity: u64,
    index: u32,
) -> ViewUniform {
    let v = ViewParams::new(&view.camera);
    let r = v.rot;
    let bg = view.background.map(|b| b as f32 / 255.0);
    ViewUniform {
        rot: [0, 1, 2].map(|i| [r[i][0], r[i][1], r[i][2], v.trans[i]]),
        cam: [v.cam_pos[0], v.cam_pos[1], v.cam_pos[2], v.near],
        intr: [v.fx, v.fy, v.cx, v.cy],
        fov: [v.tan_fovx, v.tan_fovy, 0.0, 0.0],
        bg: [bg[0], bg[1], bg[2], 0.0],
        dims: [v.width, v.height, v.tiles_x, v.tiles_y],
        misc: [
            scene.degree,
            antialiased as u32,
            offset as u32,
            scene.n as u32,
        ],
        misc2: [capacity.min(u32::MAX as u64) as u32, index, 0, 0],
    }
}

pub fn render(
    gpu: &Gpu,
    p: &SplatPipelines,
    state: &mut State,
    splats: &Splats,
    views: &[View],
    opts: &SplatOptions,
) -> Result<Vec<RgbImage>, RenderError> {
    for v in views {
        if v.camera.width == 0 || v.camera.height == 0 {
            return Err(RenderError::InvalidView("zero-sized view".into()));
        }
    }
    if splats.is_empty() {
        return Ok(views
            .iter()
            .map(|v| {
                RgbImage::from_pixel(v.camera.width, v.camera.height, image::Rgb(v.background))
            })
            .collect());
    }
    if !splats.is_consistent() {
        return Err(RenderError::InvalidView("inconsistent splat arrays".into()));
    }
    let antialiased = opts.antialiased.unwrap_or(splats.antialiased);
    let mut scene = prepare_scene(gpu, &p.sort, splats, opts)?;
    let chunks = upload_chunks(gpu, p, &mut scene);
    let want = (scene.n * 4).max(1 << 16).max(state.pair_capacity);
    let mut pairs = Pairs::new(gpu, &p.sort, &scene, want.min(gpu.max_binding() / 4))?;

    let mut out: Vec<Option<RgbImage>> = vec![None; views.len()];
    let mut todo: Vec<usize> = (0..views.len()).collect();
    while !todo.is_empty() {
        // Batches of views whose outputs fit one readback.
        let mut batch = Vec::new();
        let mut pixels = 0u64;
        for &i in &todo {
            let px = views[i].camera.width as u64 * views[i].camera.height as u64;
            if !batch.is_empty() && pixels + px > MAX_BATCH_PIXELS {
                break;
            }
            batch.push(i);
            pixels += px;
        }
        let totals = render_batch(
            gpu,
            p,
            &scene,
            &chunks,
            &pairs,
            views,
            &batch,
            antialiased,
            &mut out,
        )?;
        let overflow: Vec<usize> = batch
            .iter()
            .zip(&totals)
            .filter(|(_, &t)| t as u64 > pairs.capacity)
            .map(|(&i, _)| i)
            .collect();
        let done: Vec<usize> = batch
            .iter()
            .copied()
            .filter(|i| !overflow.contains(i))
            .collect();
        todo.retain(|i| !done.contains(i));
        if !overflow.is_empty() {
            let need = totals.iter().copied().max().unwrap_or(0) as u64;
            let cap = (need + need / 4).next_multiple_of(1024);
            if cap * 4 > gpu.max_binding() {
                return Err(RenderError::GpuBufferTooLarge {
                    needed: need * 4,
                    limit: gpu.max_binding(),
                });
            }
            tracing::debug!(
                need,
                cap,
                "splat pair buffers overflowed; re-rendering with larger ones"
            );
            pairs = Pairs::new(gpu, &p.sort, &scene, cap)?;
        }
    }
    state.pair_capacity = state.pair_capacity.max(pairs.capacity);
    out.into_iter()
        .map(|o| o.ok_or_else(|| RenderError::Gpu("a view was not rendered".into())))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn render_batch(
    gpu: &Gpu,
    p: &SplatPipelines,
    scene: &Scene,
    chunks: &[Chunk],
    pairs: &Pairs,
    views: &[View],
    batch: &[usize],
    antialiased: bool,
    out: &mut [Option<RgbImage>],
) -> Result<Vec<u32>, RenderError> {
    let max_tiles = batch
        .iter()
        .map(|&i| ViewParams::new(&views[i].camera))
        .map(|v| v.tiles_x as u64 * v.tiles_y as u64)
        .max()
        .unwrap_or(1);
    let ranges = gpu.storage("tile ranges", max_tiles * 8);
    let total_px: u64 = batch
        .iter()
        .map(|&i| views[i].camera.width as u64 * views[i].camera.height as u64)
        .sum();
    gpu.check_size(total_px * 4)?;
    let pixels = gpu.storage("pixels", total_px * 4);
    let totals = gpu.storage("pair totals", batch.len() as u64 * 4);

    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("splats"),
        });
    let mut keep = Vec::new();
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("splats"),
            timestamp_writes: None,
        });
        let mut offset = 0u64;
        for (b, &vi) in batch.iter().enumerate() {
            let view = &views[vi];
            let vp = ViewParams::new(&view.camera);
            let u = view_uniform(view, scene, antialiased, offset, pairs.capacity, b as u32);
            let ubuf = gpu.uniform("view", bytemuck::bytes_of(&u));
            let g0 = |pl: &wgpu::ComputePipeline| gpu.bind(pl, 0, &[(0, &ubuf)]);
            let project0 = g0(&p.project);

            pass.set_pipeline(&p.project);
            pass.set_bind_group(0, &project0, &[]);
            for c in chunks {
                pass.set_bind_group(1, &c.group, &[]);
                dispatch(&mut pass, sort::blocks(c.count as u64, 256));
            }
            scene.depth_sort.record(&p.sort, &mut pass, 8);

            let (s_idx, rects, counts) = (&scene.idx[0], &scene.rects, &scene.counts);
            let gather = gpu.bind(&p.gather, 1, &[(0, s_idx), (1, rects), (2, counts)]);
            pass.set_pipeline(&p.gather);
            pass.set_bind_group(0, &g0(&p.gather), &[]);
            pass.set_bind_group(1, &gather, &[]);
            dispatch(&mut pass, sort::blocks(scene.n, 256));
            scene.count_scan.record(&p.sort, &mut pass);

            let total = gpu.bind(
                &p.total,
                1,
                &[
                    (0, s_idx),
                    (1, rects),
                    (2, counts),
                    (3, &scene.n_pairs),
                    (4, &totals),
                ],
            );
            pass.set_pipeline(&p.total);
            pass.set_bind_group(0, &g0(&p.total), &[]);
            pass.set_bind_group(1, &total, &[]);
            pass.dispatch_workgroups(1, 1, 1);

            let emit = gpu.bind(
                &p.emit,
                1,
                &[
                    (0, s_idx),
                    (1, rects),
                    (2, counts),
                    (5, &pairs.keys[0]),
                    (6, &pairs.vals[0]),
                ],
            );
            pass.set_pipeline(&p.emit);
            pass.set_bind_group(0, &g0(&p.emit), &[]);
            pass.set_bind_group(1, &emit, &[]);
            dispatch(&mut pass, sort::blocks(scene.n, 256));

            let tiles = vp.tiles_x as u64 * vp.tiles_y as u64;
            let bits = 64 - (tiles.max(2) - 1).leading_zeros();
            let passes = (bits.div_ceil(4) as usize).min(6);
            pairs.tile_sort.record(&p.sort, &mut pass, passes);
            // An odd number of passes leaves the sorted pairs in the second buffers.
            let sorted = passes % 2;

            let clear = gpu.bind(&p.clear_ranges, 1, &[(7, &ranges)]);
            pass.set_pipeline(&p.clear_ranges);
            pass.set_bind_group(0, &g0(&p.clear_ranges), &[]);
            pass.set_bind_group(1, &clear, &[]);
            dispatch(&mut pass, sort::blocks(tiles, 256));

            let find = gpu.bind(
                &p.find_ranges,
                1,
                &[(3, &scene.n_pairs), (5, &pairs.keys[sorted]), (7, &ranges)],
            );
            pass.set_pipeline(&p.find_ranges);
            pass.set_bind_group(0, &g0(&p.find_ranges), &[]);
            pass.set_bind_group(1, &find, &[]);
            dispatch(&mut pass, sort::blocks(pairs.capacity, 256));

            let raster = gpu.bind(
                &p.raster,
                1,
                &[
                    (0, &ranges),
                    (1, &pairs.vals[sorted]),
                    (2, &scene.proj),
                    (3, &pixels),
                ],
            );
            pass.set_pipeline(&p.raster);
            pass.set_bind_group(0, &g0(&p.raster), &[]);
            pass.set_bind_group(1, &raster, &[]);
            pass.dispatch_workgroups(vp.tiles_x, vp.tiles_y, 1);

            offset += view.camera.width as u64 * view.camera.height as u64;
            keep.push(ubuf);
        }
    }
    let read_px = gpu.readback(total_px * 4);
    let read_totals = gpu.readback(batch.len() as u64 * 4);
    encoder.copy_buffer_to_buffer(&pixels, 0, &read_px, 0, total_px * 4);
    encoder.copy_buffer_to_buffer(&totals, 0, &read_totals, 0, batch.len() as u64 * 4);
    gpu.submit_and_map(encoder, &[&read_px, &read_totals])?;

    let totals_out: Vec<u32> = {
        let data = read_totals
            .get_mapped_range(..)
            .map_err(|e| RenderError::Gpu(e.to_string()))?;
        bytemuck::cast_slice::<u8, u32>(&data[..batch.len() * 4]).to_vec()
    };
    {
        let data = read_px
            .get_mapped_range(..)
            .map_err(|e| RenderError::Gpu(e.to_string()))?;
        let mut offset = 0usize;
        for &vi in batch {
            let (w, h) = (views[vi].camera.width, views[vi].camera.height);
            let n = (w * h) as usize;
            let src = &data[offset * 4..(offset + n) * 4];
            let rgb: Vec<u8> = src
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect();
            out[vi] = RgbImage::from_raw(w, h, rgb);
            offset += n;
        }
    }
    read_px.unmap();
    read_totals.unmap();
    drop(keep);
    Ok(totals_out)
}
