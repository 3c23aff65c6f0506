//! Device buffers, one stream's workspace, and the launch sequence of a batch (see
//! `gpu/kernels/splat.cu` for the stages).

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::sys::{self, CUdeviceptr};
use cudarc::driver::{result, CudaContext, CudaEvent, CudaFunction, CudaModule, CudaStream};
use rayon::prelude::*;

use crate::assets::splats::{rest_coeffs, Splats};
use crate::error::RenderError;
use crate::render::splat_math::ViewParams;
use crate::render::View;

pub(crate) fn gpu_err(what: &str, e: impl std::fmt::Debug) -> RenderError {
    RenderError::Gpu(format!("{what}: {e:?}"))
}

/// Views rendered by one launch sequence (the projection kernel keeps per-view depth ranges in
/// shared memory); longer batches are split.
pub const MAX_VIEWS_PER_PASS: usize = 64;
/// Keys per thread of a sort block (SORT_ITEMS in splat.cu).
pub const SORT_ITEMS: u32 = 12;
/// Most bins of one bucketing group (rows of bins handled by one block).
const GROUP_BINS: u32 = 2048;

/// Pairs each bucketing warp ranks per round (QCAP in splat.cu).
const QCAP: u32 = 128;

/// bin_scatter's shared memory for `gmax` bins per group and a stage of `stage` pairs (see
/// splat.cu): the first global and staged pair (u32) and per-warp runs (u16) per bin, the
/// warps' queues (bin and pair, u32 each), then the stage (u32).
fn scatter_smem(gmax: u32, stage: u32) -> u32 {
    4 * gmax + 4 * (gmax + 1) + 2 * 8 * ((gmax + 1) & !1) + 2 * 4 * 8 * QCAP + 4 * stage
}

/// bin_count's shared memory: per-warp pair counts (u16) per bin of a group.
fn count_smem(gmax: u32) -> u32 {
    2 * 8 * ((gmax + 1) & !1)
}

/// Must match `ViewParams` in splat.cu.
#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct ViewGpu {
    pix_offset: u64,
    rot: [f32; 9],
    trans: [f32; 3],
    fx: f32,
    fy: f32,
    cx: f32,
    cy: f32,
    tan_fovx: f32,
    tan_fovy: f32,
    near: f32,
    cam: [f32; 3],
    width: u32,
    height: u32,
    tiles_x: u32,
    tiles_y: u32,
    tile_offset: u32,
    bg: [f32; 3],
}
const _: () = assert!(std::mem::size_of::<ViewGpu>() == 128);

/// Device allocation freed on drop.
pub(crate) struct DevBuf {
    ctx: Arc<CudaContext>,
    ptr: CUdeviceptr,
    bytes: usize,
}

impl DevBuf {
    fn empty(ctx: &Arc<CudaContext>) -> DevBuf {
        DevBuf {
            ctx: ctx.clone(),
            ptr: 0,
            bytes: 0,
        }
    }

    /// Grows (dropping the contents) to at least `bytes`.
    fn ensure(&mut self, bytes: usize) -> Result<(), RenderError> {
        if bytes <= self.bytes && self.ptr != 0 {
            return Ok(());
        }
        self.release();
        let want = bytes.max(256).next_multiple_of(256);
        // SAFETY: plain device allocation on the bound context.
        let ptr = unsafe { result::malloc_sync(want) }.map_err(|e| {
            if e.0 == sys::cudaError_enum::CUDA_ERROR_OUT_OF_MEMORY {
                RenderError::GpuBufferTooLarge {
                    needed: want as u64,
                    limit: self.ctx.mem_get_info().map(|m| m.0 as u64).unwrap_or(0),
                }
            } else {
                gpu_err("cuMemAlloc", e)
            }
        })?;
        self.ptr = ptr;
        self.bytes = want;
        Ok(())
    }

    fn release(&mut self) {
        if self.ptr != 0 {
            let _ = self.ctx.bind_to_thread();
            // SAFETY: allocated by `ensure`, freed once; callers synchronise before dropping.
            let _ = unsafe { result::free_sync(self.ptr) };
            self.ptr = 0;
            self.bytes = 0;
        }
    }

    fn at(&self, byte_offset: usize) -> CUdeviceptr {
        self.ptr + byte_offset as u64
    }
}

impl Drop for DevBuf {
    fn drop(&mut self) {
        self.release();
    }
}

/// Page-locked host memory (cuMemHostAlloc), freed on drop.
pub(crate) struct Pinned {
    ctx: Arc<CudaContext>,
    ptr: *mut u8,
    bytes: usize,
    flags: u32,
}

// SAFETY: the allocation is plain host memory owned by this value.
unsafe impl Send for Pinned {}
// SAFETY: shared access only reads.
unsafe impl Sync for Pinned {}

impl Pinned {
    fn empty(ctx: &Arc<CudaContext>, flags: u32) -> Pinned {
        Pinned {
            ctx: ctx.clone(),
            ptr: std::ptr::null_mut(),
            bytes: 0,
            flags,
        }
    }

    fn ensure(&mut self, bytes: usize) -> Result<(), RenderError> {
        if bytes <= self.bytes && !self.ptr.is_null() {
            return Ok(());
        }
        self.release();
        let want = bytes.max(256).next_multiple_of(4096);
        // SAFETY: host allocation; null is refused below.
        let p = unsafe { result::malloc_host(want, self.flags) }
            .map_err(|e| gpu_err("cuMemHostAlloc", e))?;
        if p.is_null() {
            return Err(RenderError::Gpu("cuMemHostAlloc returned null".into()));
        }
        self.ptr = p as *mut u8;
        self.bytes = want;
        Ok(())
    }

    fn release(&mut self) {
        if !self.ptr.is_null() {
            let _ = self.ctx.bind_to_thread();
            // SAFETY: allocated by `ensure`, freed once, no copy in flight (streams are synced).
            let _ = unsafe { result::free_host(self.ptr as *mut c_void) };
            self.ptr = std::ptr::null_mut();
            self.bytes = 0;
        }
    }

    fn slice(&self, len: usize) -> &[u8] {
        if self.ptr.is_null() || len == 0 {
            // An empty slice with 8-byte alignment, so casts to wider types succeed.
            // SAFETY: zero-length slice from a dangling, aligned, non-null pointer.
            return unsafe {
                std::slice::from_raw_parts(
                    std::ptr::NonNull::<u64>::dangling().as_ptr() as *const u8,
                    0,
                )
            };
        }
        // SAFETY: `len <= bytes` is checked by callers through `ensure`; memory is initialised
        // by the copies that precede every read.
        unsafe { std::slice::from_raw_parts(self.ptr, len.min(self.bytes)) }
    }

    fn slice_mut(&mut self, len: usize) -> &mut [u8] {
        if self.ptr.is_null() || len == 0 {
            // SAFETY: as in `slice`.
            return unsafe {
                std::slice::from_raw_parts_mut(
                    std::ptr::NonNull::<u64>::dangling().as_ptr() as *mut u8,
                    0,
                )
            };
        }
        // SAFETY: as above, exclusive through &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, len.min(self.bytes)) }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        self.release();
    }
}

/// The module's kernels.
pub(crate) struct Kernels {
    _module: Arc<CudaModule>,
    prep: CudaFunction,
    project: [CudaFunction; 4],
    sort_upsweep: CudaFunction,
    sort_downsweep: CudaFunction,
    sort_scan: CudaFunction,
    /// [round filter][bins]: index 0 one round or the first, 1 the second (only for the
    /// sub-blocks the first left unsaturated); bins 0: 16 pixels, 1: 32 pixels.
    bin_count: [[CudaFunction; 2]; 2],
    scan_bins: CudaFunction,
    bin_offsets: CudaFunction,
    bin_scatter: [[CudaFunction; 2]; 2],
    /// The second round's list: need_mark [bins], need_scan, need_compact.
    need_mark: [CudaFunction; 2],
    need_scan: CudaFunction,
    need_compact: CudaFunction,
    /// [mode][bins]: mode 0 one round, 1 the first of two, 2 the second.
    raster: [[CudaFunction; 2]; 3],
    /// bin_scatter's dynamic shared memory limit (bytes).
    pub max_smem: u32,
    pub tuning: Tuning,
}

impl Kernels {
    pub fn load(module: Arc<CudaModule>, max_smem_optin: usize) -> Result<Kernels, RenderError> {
        let f = |n: &str| {
            module
                .load_function(n)
                .map_err(|e| gpu_err(&format!("loading kernel {n}"), e))
        };
        // bin_scatter stages pairs in shared memory: raise its limit to what the device allows.
        let bin_scatter = [
            [f("bin_scatter16")?, f("bin_scatter32")?],
            [f("bin_scatter16_b")?, f("bin_scatter32_b")?],
        ];
        // (Dynamic shared memory plus the kernel's static arrays must fit the opt-in limit.)
        let static_smem = bin_scatter
            .iter()
            .flatten()
            .map(|k| k.shared_size_bytes().unwrap_or(8192).max(0) as u32)
            .max()
            .unwrap_or(8192);
        let max_smem = (max_smem_optin as u32)
            .saturating_sub(static_smem)
            .max(48 * 1024 - static_smem);
        if max_smem > 48 * 1024 - static_smem {
            for k in bin_scatter.iter().flatten() {
                k.set_attribute(
                    sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    max_smem as i32,
                )
                .map_err(|e| gpu_err("raising bin_scatter's shared memory", e))?;
            }
        }
        Ok(Kernels {
            prep: f("prep_gaussians")?,
            project: [
                f("project_sh0")?,
                f("project_sh1")?,
                f("project_sh2")?,
                f("project_sh3")?,
            ],
            sort_upsweep: f("sort_upsweep")?,
            sort_downsweep: f("sort_downsweep")?,
            sort_scan: f("sort_scan")?,
            bin_count: [
                [f("bin_count16")?, f("bin_count32")?],
                [f("bin_count16_b")?, f("bin_count32_b")?],
            ],
            scan_bins: f("scan_bins")?,
            bin_offsets: f("bin_offsets")?,
            bin_scatter,
            need_mark: [f("need_mark16")?, f("need_mark32")?],
            need_scan: f("need_scan")?,
            need_compact: f("need_compact")?,
            raster: [
                [f("raster")?, f("raster32")?],
                [f("raster_a")?, f("raster32_a")?],
                [f("raster_b")?, f("raster32_b")?],
            ],
            max_smem,
            tuning: Tuning::from_env(),
            _module: module,
        })
    }

    /// (name, registers, local bytes per thread, static shared bytes) for each kernel.
    pub fn resources(&self) -> Vec<(String, i32, i32, i32)> {
        let all: [(&str, &CudaFunction); 28] = [
            ("prep_gaussians", &self.prep),
            ("project_sh0", &self.project[0]),
            ("project_sh1", &self.project[1]),
            ("project_sh2", &self.project[2]),
            ("project_sh3", &self.project[3]),
            ("sort_upsweep", &self.sort_upsweep),
            ("sort_downsweep", &self.sort_downsweep),
            ("sort_scan", &self.sort_scan),
            ("bin_count16", &self.bin_count[0][0]),
            ("bin_count32", &self.bin_count[0][1]),
            ("bin_count16_b", &self.bin_count[1][0]),
            ("bin_count32_b", &self.bin_count[1][1]),
            ("scan_bins", &self.scan_bins),
            ("bin_offsets", &self.bin_offsets),
            ("bin_scatter16", &self.bin_scatter[0][0]),
            ("bin_scatter32", &self.bin_scatter[0][1]),
            ("bin_scatter16_b", &self.bin_scatter[1][0]),
            ("bin_scatter32_b", &self.bin_scatter[1][1]),
            ("need_mark16", &self.need_mark[0]),
            ("need_mark32", &self.need_mark[1]),
            ("need_scan", &self.need_scan),
            ("need_compact", &self.need_compact),
            ("raster", &self.raster[0][0]),
            ("raster32", &self.raster[0][1]),
            ("raster_a", &self.raster[1][0]),
            ("raster32_a", &self.raster[1][1]),
            ("raster_b", &self.raster[2][0]),
            ("raster32_b", &self.raster[2][1]),
        ];
        all.iter()
            .map(|(n, f)| {
                (
                    n.to_string(),
                    f.num_regs().unwrap_or(-1),
                    f.local_size_bytes().unwrap_or(-1),
                    f.shared_size_bytes().unwrap_or(-1),
                )
            })
            .collect()
    }
}

/// Centre and radius of a sphere (the bounding box's) holding all positions, or None if one is
/// not finite or there are none.
fn bounding_sphere(positions: &[[f32; 3]]) -> Option<([f64; 3], f64)> {
    let (lo, hi) = positions
        .par_iter()
        .fold(
            || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
            |(mut lo, mut hi), p| {
                for i in 0..3 {
                    // NaN poisons the box (min/max would skip it).
                    lo[i] = if p[i].is_nan() {
                        f32::NAN
                    } else {
                        lo[i].min(p[i])
                    };
                    hi[i] = if p[i].is_nan() {
                        f32::NAN
                    } else {
                        hi[i].max(p[i])
                    };
                }
                (lo, hi)
            },
        )
        .reduce(
            || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
            |(a, b), (c, d)| {
                let m = |x: f32, y: f32, f: fn(f32, f32) -> f32| {
                    if x.is_nan() || y.is_nan() {
                        f32::NAN
                    } else {
                        f(x, y)
                    }
                };
                (
                    [0, 1, 2].map(|i| m(a[i], c[i], f32::min)),
                    [0, 1, 2].map(|i| m(b[i], d[i], f32::max)),
                )
            },
        );
    if !(lo.iter().chain(hi.iter()).all(|v| v.is_finite())) {
        return None;
    }
    let c = [0, 1, 2].map(|i| 0.5 * (lo[i] as f64 + hi[i] as f64));
    let r = (0..3)
        .map(|i| (hi[i] as f64 - lo[i] as f64).powi(2))
        .sum::<f64>()
        .sqrt()
        * 0.5;
    Some((c, r))
}

/// Whether every visible gaussian of the sphere `b` has a camera depth whose float bits lie
/// within 2^24 of each other in view `v`, so that three 8-bit sort passes order them (the
/// kernels' `needs_top_digit` is then false). Margins cover the device's float rounding.
fn depth_bits_fit(v: &ViewGpu, (c, r): ([f64; 3], f64)) -> bool {
    let row = [v.rot[6] as f64, v.rot[7] as f64, v.rot[8] as f64];
    let t = v.trans[2] as f64;
    let cd = row[0] * c[0] + row[1] * c[1] + row[2] * c[2] + t;
    let cn = (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt();
    let margin = 1e-3 * (cn + r + t.abs() + 1.0);
    let hi = cd + r + margin;
    let lo = (cd - r - margin).max(v.near as f64);
    if !(hi.is_finite() && lo.is_finite() && lo > 0.0) {
        return false;
    }
    if hi <= lo {
        return true; // nothing can be visible
    }
    let bits = |x: f64| (x as f32).to_bits() as u64;
    bits(hi) - bits(lo) < (1 << 24) - (1 << 16)
}

/// Kernel argument list: pointers to the values, as cuLaunchKernel wants them.
struct Args {
    vals: Vec<u64>,
}

impl Args {
    fn new() -> Args {
        Args {
            vals: Vec::with_capacity(16),
        }
    }
    /// 32-bit scalar.
    fn u(mut self, v: u32) -> Args {
        self.vals.push(v as u64);
        self
    }
    /// Device pointer.
    fn p(mut self, v: CUdeviceptr) -> Args {
        self.vals.push(v);
        self
    }
}

fn launch(
    f: &CudaFunction,
    stream: &CudaStream,
    grid: (u32, u32, u32),
    block: u32,
    smem: u32,
    args: Args,
) -> Result<(), RenderError> {
    // Each argument lives in its own u64 slot; 32-bit scalars read the low half (little endian).
    let mut vals = args.vals;
    let mut ptrs: Vec<*mut c_void> = vals
        .iter_mut()
        .map(|v| v as *mut u64 as *mut c_void)
        .collect();
    if grid.0 == 0 || grid.1 == 0 || grid.2 == 0 {
        return Ok(());
    }
    // SAFETY: arguments match the kernel signatures in splat.cu (checked by the tests); every
    // pointer refers to a live allocation large enough for the launch's indices.
    unsafe {
        result::launch_kernel(
            f.cu_function(),
            grid,
            (block, 1, 1),
            smem,
            stream.cu_stream(),
            &mut ptrs,
        )
    }
    .map_err(|e| gpu_err("kernel launch", e))
}

/// An asset resident on the device.
pub struct DeviceSplats {
    pub(crate) n: u32,
    pub(crate) degree: u8,
    pub(crate) sh_stride: u32,
    pub(crate) antialiased: bool,
    raw: DevBuf,
    pos_op: DevBuf,
    cov_a: DevBuf,
    cov_b: DevBuf,
    sh: DevBuf,
    /// Centre and radius of a sphere holding every position (None when one is not finite).
    bound: Option<([f64; 3], f64)>,
}

impl DeviceSplats {
    pub fn len(&self) -> usize {
        self.n as usize
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// What a batch times with device events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Off,
    /// The batch as a whole (`StageTimes::total` and `download` only).
    Total,
    /// Every kernel (an event after each: the stage fields and `Worker::last_kernels`).
    Kernels,
}

/// Timings of one batch's stages (device events), in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    /// First kernel to the end of rasterization.
    pub total: f32,
    pub project: f32,
    pub sort: f32,
    pub bin: f32,
    pub raster: f32,
    pub download: f32,
    /// (view, tile) pairs of the batch.
    pub pairs: u64,
}

/// Per-launch device times of a profiled batch: (stage, kernel, ms), in launch order.
pub type KernelTimes = Vec<(&'static str, &'static str, f32)>;

/// One stream and everything a batch needs; reused across calls.
pub(crate) struct Worker {
    ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    staging: Pinned,
    meta_host: Pinned,
    status_host: Pinned,
    pub out_host: Pinned,
    meta: DevBuf,
    /// Colour and box half-sizes, 16 bytes per (view, gaussian).
    rec: DevBuf,
    depth: DevBuf,
    /// Bucketing records (mean, r2, conic, tile rect), 32 bytes per (view, gaussian).
    rect: DevBuf,
    /// The tile rects alone, 8 bytes per (view, gaussian).
    rects: DevBuf,
    keys_a: DevBuf,
    vals_a: DevBuf,
    keys_b: DevBuf,
    vals_b: DevBuf,
    hist: DevBuf,
    /// Per pass and view, the sort's digit totals (u32 [4][views][256]).
    dtot: DevBuf,
    counts: DevBuf,
    wcounts: DevBuf,
    hits: DevBuf,
    totals: DevBuf,
    starts: DevBuf,
    pairs: DevBuf,
    pair_capacity: u64,
    /// Two-round batches: the first round's unsaturated and touched sub-block masks (u32 per
    /// bin each); need_mark's bits, per-block counts and per-view list lengths; the
    /// unsaturated pixels' state (float4 each).
    sat: DevBuf,
    need: DevBuf,
    state: DevBuf,
    out: DevBuf,
    pub poison_output: bool,
    /// Overrides the tuning's rounds split (tests).
    pub split: Option<u32>,
    marks: Option<Vec<(&'static str, &'static str, CudaEvent)>>,
    pub last_kernels: KernelTimes,
}

/// Layout of one pass (views of one launch sequence). Bins are `16 << shift` pixels square.
struct PassLayout {
    views: Vec<ViewGpu>,
    pixels: u64,
    shift: u32,
    /// Most 16-pixel tiles of a view (raster blocks).
    max_tiles: u32,
    bins_total: u32,
    max_bins: u32,
    max_bins_x: u32,
    max_bins_y: u32,
}

/// Overrides for tuning experiments, read once when the kernels load: `SN17_BIN_SIZE=16|32`
/// (bin size), `SN17_BIN_CHUNK` (entries per bucketing block), `SN17_BIN_STAGE` (pairs a scatter
/// block stages in shared memory), `SN17_PROJECT_GROUPS` (view groups of the projection),
/// `SN17_SPLIT` (the first round's share of each view's depth order, 1 / SPLIT; 0 or 1: one
/// round), `SN17_BIN_CHUNK_B` (entries per bucketing block of the second round).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tuning {
    bin_shift: Option<u32>,
    chunk: Option<u32>,
    stage: Option<u32>,
    project_groups: Option<u32>,
    split: Option<u32>,
    second_chunk: Option<u32>,
}

impl Tuning {
    pub fn from_env() -> Tuning {
        let u = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
        Tuning {
            bin_shift: match std::env::var("SN17_BIN_SIZE").ok().as_deref() {
                Some("16") => Some(0),
                Some("32") => Some(1),
                _ => None,
            },
            chunk: u("SN17_BIN_CHUNK"),
            stage: u("SN17_BIN_STAGE"),
            project_groups: u("SN17_PROJECT_GROUPS"),
            split: u("SN17_SPLIT"),
            second_chunk: u("SN17_BIN_CHUNK_B"),
        }
    }
}

/// Bin size exponent for a batch of `n` gaussians (bins of `16 << shift` pixels): 32-pixel bins
/// for large views (their gaussians cover more pixels) and for batches of several views (half
/// the pairs to bucket, for tile lists about twice as long: measured on an H200, 1M gaussians x
/// 32 views at 512² take 7.0 ms instead of 8.3), else 16 (a single view has too few tiles to
/// hide the longer lists: 1M x 1 at 512², 0.73 ms with 16-pixel bins, 0.84 with 32).
/// 32-pixel pairs hold gaussian indices of 22 bits.
fn bin_shift(views: &[View], n: u32, forced: Option<u32>) -> u32 {
    if n >= 1 << 22 {
        return 0;
    }
    if let Some(s) = forced {
        return s;
    }
    let big = views
        .iter()
        .any(|v| v.camera.width.max(v.camera.height) > 640);
    (big || views.len() >= 4) as u32
}

fn layout(views: &[View], first_pixel: u64, n: u32, forced_shift: Option<u32>) -> PassLayout {
    let shift = bin_shift(views, n, forced_shift);
    let mut out = Vec::with_capacity(views.len());
    let (mut pix, mut tiles, mut max_tiles) = (first_pixel, 0u32, 0u32);
    let (mut max_bx, mut max_by, mut max_t16) = (0u32, 0u32, 0u32);
    for v in views {
        let p = ViewParams::new(&v.camera);
        max_t16 = max_t16.max(p.tiles_x * p.tiles_y);
        let (bx, by) = (
            p.tiles_x.div_ceil(1 << shift),
            p.tiles_y.div_ceil(1 << shift),
        );
        let nt = bx * by;
        max_bx = max_bx.max(bx);
        max_by = max_by.max(by);
        out.push(ViewGpu {
            pix_offset: pix,
            rot: [
                p.rot[0][0],
                p.rot[0][1],
                p.rot[0][2],
                p.rot[1][0],
                p.rot[1][1],
                p.rot[1][2],
                p.rot[2][0],
                p.rot[2][1],
                p.rot[2][2],
            ],
            trans: p.trans,
            fx: p.fx,
            fy: p.fy,
            cx: p.cx,
            cy: p.cy,
            tan_fovx: p.tan_fovx,
            tan_fovy: p.tan_fovy,
            near: p.near,
            cam: p.cam_pos,
            width: p.width,
            height: p.height,
            tiles_x: p.tiles_x,
            tiles_y: p.tiles_y,
            tile_offset: tiles,
            bg: v.background.map(|b| b as f32 / 255.0),
        });
        pix += p.width as u64 * p.height as u64;
        tiles += nt;
        max_tiles = max_tiles.max(nt);
    }
    PassLayout {
        views: out,
        pixels: pix - first_pixel,
        shift,
        max_tiles: max_t16,
        bins_total: tiles,
        max_bins: max_tiles,
        max_bins_x: max_bx,
        max_bins_y: max_by,
    }
}

/// Device bytes a pass needs per gaussian-view (records, depth, rect, rects, sort, hit records,
/// need bits).
const BYTES_PER_GAUSSIAN_VIEW: u64 = 16 + 4 + 32 + 8 + 16 + 16 + 16 + 1;

/// Views per pass that fit in `budget` bytes for `n` gaussians (at least 1).
pub(crate) fn views_per_pass(n: u64, budget: u64) -> usize {
    let per_view = n.max(1) * (BYTES_PER_GAUSSIAN_VIEW + 8) + (8 << 20);
    ((budget / per_view) as usize).clamp(1, MAX_VIEWS_PER_PASS)
}

/// One bucketing and rasterization round over the entries from `first_entry` of each view's
/// depth order, in `chunks` chunks of `chunk` entries: mode 0 the only round, 1 the first of two,
/// 2 the second (see raster_impl in splat.cu).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Round {
    mode: u32,
    first_entry: u32,
    chunk: u32,
    chunks: u32,
}

/// Default share of the first round: 1 / FRONT_SPLIT of each view's depth order (measured on
/// an H100, 1M x 32 at 512²: 1/4 6.02 ms, 1/8 6.22, 1/16 6.50; one round 6.82).
const FRONT_SPLIT: u32 = 4;
/// Two rounds by default only for 32-pixel bins with at least this many gaussians per bin of a
/// view: they pay where most of each list lies behind saturated pixels (H200: 1M x 32 at 512²,
/// 3906 per bin, 6.38 -> 5.78 ms; 1M x 4 at 1024², 977 per bin, 1.51 -> 1.45), not where lists
/// are short (100k x 32 at 512², 391 per bin) or a single view has few tiles to hide the second
/// pass (1M x 1 at 512² in 16-pixel bins: 0.65 -> 0.69 ms).
const DENSE_PER_BIN: u32 = 768;
/// Entries per block of need_mark / need_compact (MARK_TILE in splat.cu).
const MARK_TILE: u32 = 2048;

/// The default front split of a batch of `n` gaussians per view in bins of `16 << shift` pixels,
/// at most `max_bins` per view: FRONT_SPLIT where the lists are dense, else 0 (one round).
fn default_split(n: u32, shift: u32, max_bins: u32) -> u32 {
    let dense = shift == 1 && n as u64 >= DENSE_PER_BIN as u64 * max_bins.max(1) as u64;
    if dense {
        FRONT_SPLIT
    } else {
        0
    }
}

/// The rounds of a batch of `n` gaussians per view bucketed in chunks of `chunk` entries (a
/// multiple of 32): two (the front 1 / split of the depth order, then the rest for what it left
/// unsaturated) when `split` is at least 2 and there are at least two chunks, else one.
/// `second_chunk` overrides the second round's chunk.
fn rounds(n: u32, chunk: u32, split: u32, second_chunk: Option<u32>) -> Vec<Round> {
    let nchunks = n.div_ceil(chunk).max(1);
    if split < 2 || nchunks < 2 {
        return vec![Round {
            mode: 0,
            first_entry: 0,
            chunk,
            chunks: nchunks,
        }];
    }
    let front = (nchunks / split).max(1);
    let e0 = front * chunk;
    let chunk_b = (second_chunk.unwrap_or(chunk) & !31).clamp(chunk, 1 << 18);
    vec![
        Round {
            mode: 1,
            first_entry: 0,
            chunk,
            chunks: front,
        },
        Round {
            mode: 2,
            first_entry: e0,
            chunk: chunk_b,
            chunks: (n - e0).div_ceil(chunk_b),
        },
    ]
}

impl Worker {
    pub fn new(ctx: &Arc<CudaContext>) -> Result<Worker, RenderError> {
        let stream = ctx.new_stream().map_err(|e| gpu_err("cuStreamCreate", e))?;
        let d = || DevBuf::empty(ctx);
        Ok(Worker {
            ctx: ctx.clone(),
            stream,
            staging: Pinned::empty(ctx, sys::CU_MEMHOSTALLOC_WRITECOMBINED),
            meta_host: Pinned::empty(ctx, 0),
            status_host: Pinned::empty(ctx, 0),
            out_host: Pinned::empty(ctx, 0),
            meta: d(),
            rec: d(),
            depth: d(),
            rect: d(),
            rects: d(),
            keys_a: d(),
            vals_a: d(),
            keys_b: d(),
            vals_b: d(),
            hist: d(),
            dtot: d(),
            counts: d(),
            wcounts: d(),
            hits: d(),
            totals: d(),
            starts: d(),
            pairs: d(),
            pair_capacity: 0,
            sat: d(),
            need: d(),
            state: d(),
            out: d(),
            poison_output: false,
            split: None,
            marks: None,
            last_kernels: Vec::new(),
        })
    }

    /// Uploads `splats` (through pinned staging) and prepares the per-gaussian arrays.
    pub fn upload(
        &mut self,
        k: &Kernels,
        splats: &Splats,
        max_degree: u8,
        antialiased: bool,
    ) -> Result<DeviceSplats, RenderError> {
        self.ctx
            .bind_to_thread()
            .map_err(|e| gpu_err("binding context", e))?;
        let n = splats.len();
        if n as u64 >= u32::MAX as u64 / 64 {
            return Err(RenderError::InvalidView(format!(
                "{n} gaussians is over the CUDA renderer's limit"
            )));
        }
        let rest_in = splats.rest_coeffs();
        let degree = splats.sh_degree.min(max_degree).min(3);
        let rest_used = rest_coeffs(degree);
        let sh_stride = ((1 + rest_used) * 3).next_multiple_of(4);
        // Raw layout: positions, log_scales, rotations, opacity, dc, rest (f32 each).
        let parts: [(&[f32], usize); 6] = [
            (bytemuck::cast_slice(&splats.positions), 0),
            (bytemuck::cast_slice(&splats.log_scales), 0),
            (bytemuck::cast_slice(&splats.rotations), 0),
            (&splats.opacity_logits, 0),
            (bytemuck::cast_slice(&splats.sh_dc), 0),
            (&splats.sh_rest, 0),
        ];
        let mut offsets = [0usize; 6];
        let mut total = 0usize;
        for (i, (p, _)) in parts.iter().enumerate() {
            offsets[i] = total;
            total += p.len().next_multiple_of(64);
        }
        let bytes = total * 4;
        self.staging.ensure(bytes)?;
        {
            let dst = self.staging.slice_mut(bytes);
            let dst: &mut [f32] = bytemuck::cast_slice_mut(dst);
            for (i, (p, _)) in parts.iter().enumerate() {
                let d = &mut dst[offsets[i]..offsets[i] + p.len()];
                d.par_chunks_mut(1 << 16)
                    .zip(p.par_chunks(1 << 16))
                    .for_each(|(a, b)| a.copy_from_slice(b));
            }
        }
        let mut dev = DeviceSplats {
            n: n as u32,
            degree,
            sh_stride: sh_stride as u32,
            antialiased,
            raw: DevBuf::empty(&self.ctx),
            pos_op: DevBuf::empty(&self.ctx),
            cov_a: DevBuf::empty(&self.ctx),
            cov_b: DevBuf::empty(&self.ctx),
            sh: DevBuf::empty(&self.ctx),
            bound: bounding_sphere(&splats.positions),
        };
        dev.raw.ensure(bytes)?;
        dev.pos_op.ensure(n * 16)?;
        dev.cov_a.ensure(n * 16)?;
        dev.cov_b.ensure(n * 8)?;
        dev.sh.ensure(n * sh_stride * 4)?;
        let cs = self.stream.cu_stream();
        // SAFETY: pinned source of `bytes` bytes, device buffer of at least that size; the
        // stream is synchronised before the staging buffer is written again.
        unsafe { result::memcpy_htod_async(dev.raw.ptr, self.staging.slice(bytes), cs) }
            .map_err(|e| gpu_err("upload", e))?;
        let at = |i: usize| dev.raw.at(offsets[i] * 4);
        self.go(
            "upload",
            "prep",
            &k.prep,
            ((n as u32).div_ceil(256), 1, 1),
            256,
            0,
            Args::new()
                .u(n as u32)
                .p(at(0))
                .p(at(1))
                .p(at(2))
                .p(at(3))
                .p(at(4))
                .p(at(5))
                .u(rest_in as u32)
                .u(rest_used as u32)
                .u(sh_stride as u32)
                .p(dev.pos_op.ptr)
                .p(dev.cov_a.ptr)
                .p(dev.cov_b.ptr)
                .p(dev.sh.ptr),
        )?;
        Ok(dev)
    }

    /// Renders `views` (at most MAX_VIEWS_PER_PASS) of a resident asset into `out_host` as
    /// RGBA8, views back to back. Returns times unless `timing` is `Off`.
    pub fn render(
        &mut self,
        k: &Kernels,
        s: &DeviceSplats,
        views: &[View],
        timing: Timing,
    ) -> Result<Option<StageTimes>, RenderError> {
        let profile = timing != Timing::Off;
        self.ctx
            .bind_to_thread()
            .map_err(|e| gpu_err("binding context", e))?;
        let lay = layout(views, 0, s.n, k.tuning.bin_shift);
        let nv = lay.views.len() as u32;
        let n = s.n;
        let cs = self.stream.cu_stream();
        let ev = |st: &CudaStream| -> Result<Option<CudaEvent>, RenderError> {
            if profile {
                st.record_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
                    .map(Some)
                    .map_err(|e| gpu_err("event", e))
            } else {
                Ok(None)
            }
        };

        // Metadata: views, per-view depth range (min, max), status (u64 total pairs).
        let views_bytes = lay.views.len() * 128;
        let minmax_off = views_bytes;
        let status_off = (minmax_off + 8 * lay.views.len()).next_multiple_of(8);
        // (Status: total pairs of each round, u64 each.)
        let meta_bytes = status_off + 16;
        self.meta_host.ensure(meta_bytes)?;
        {
            let h = self.meta_host.slice_mut(meta_bytes);
            h[..views_bytes].copy_from_slice(bytemuck::cast_slice(&lay.views));
            let mm: &mut [u32] = bytemuck::cast_slice_mut(&mut h[minmax_off..status_off]);
            for pair in mm.chunks_exact_mut(2) {
                pair[0] = u32::MAX;
                pair[1] = 0;
            }
            h[status_off..].fill(0);
        }
        self.meta.ensure(meta_bytes)?;
        // SAFETY: pinned source, device destination of `meta_bytes`; synced before reuse.
        unsafe { result::memcpy_htod_async(self.meta.ptr, self.meta_host.slice(meta_bytes), cs) }
            .map_err(|e| gpu_err("upload views", e))?;
        let views_ptr = self.meta.ptr;
        let minmax_ptr = self.meta.at(minmax_off);
        let status_ptr = self.meta.at(status_off);

        let nvn = n as usize * nv as usize;
        self.rec.ensure(nvn * 16)?;
        self.depth.ensure(nvn * 4)?;
        self.rect.ensure(nvn * 32)?;
        self.keys_a.ensure(nvn * 4)?;
        self.vals_a.ensure(nvn * 4)?;
        self.keys_b.ensure(nvn * 4)?;
        self.vals_b.ensure(nvn * 4)?;
        let out_bytes = lay.pixels as usize * 4;
        self.out.ensure(out_bytes)?;
        self.out_host.ensure(out_bytes)?;
        self.status_host.ensure(16)?;
        if self.poison_output {
            // SAFETY: device buffer of `out_bytes`.
            unsafe { result::memset_d8_async(self.out.ptr, 0, out_bytes, cs) }
                .map_err(|e| gpu_err("memset", e))?;
        }

        // Bucketing parameters (the projection writes `rects` only for a second round).
        let bi = lay.shift as usize;
        // Rows of bins per bucketing group, so that a group holds at most GROUP_BINS bins.
        let group_rows = (GROUP_BINS / lay.max_bins_x.max(1)).clamp(1, lay.max_bins_y.max(1));
        let bin_groups = lay.max_bins_y.div_ceil(group_rows).max(1);
        let gmax = group_rows * lay.max_bins_x.max(1);
        // Entries per bucketing block and pairs it stages in shared memory, measured on an H200.
        // Views of at most 512 bins (up to about 700² with 32-pixel bins): 2048 and 8192 (which
        // such a chunk rarely exceeds), so that four scatter blocks fit an SM instead of three
        // (1M x 32 at 512²: bin_scatter 1.12 -> 0.95 ms). Larger views (1024² has 1024 bins of
        // 32 pixels): 1280 and 8192 (1M x 4 at 1024² in two rounds: 1.45 ms; 1536 / 9216 1.49,
        // 1024 / 6144 1.50; in one round all within 1.51-1.52). A chunk that overflows its stage
        // writes directly (slower, same result).
        let few_bins = lay.max_bins <= 512;
        let default_chunk = if few_bins { 2048 } else { 1280 };
        let default_stage = 8192;
        // (Whole steps of 32 entries: the second round's need bits are per 32.)
        let mut chunk = k.tuning.chunk.unwrap_or(default_chunk).clamp(256, 1 << 15) & !31;
        while (n.div_ceil(chunk) as u64) * lay.bins_total as u64 > (40 << 20) && chunk < (1 << 15) {
            chunk *= 2;
        }
        let mut stage = k.tuning.stage.unwrap_or(default_stage).min(1 << 16);
        while stage > 0 && scatter_smem(gmax, stage) > k.max_smem {
            stage /= 2;
        }
        let nchunks = n.div_ceil(chunk).max(1);
        let split = self
            .split
            .or(k.tuning.split)
            .unwrap_or_else(|| default_split(n, lay.shift, lay.max_bins));
        let rounds = rounds(n, chunk, split, k.tuning.second_chunk);
        if rounds.len() > 1 {
            self.rects.ensure(nvn * 8)?;
        }
        let e0 = ev(&self.stream)?;
        self.marks = (timing == Timing::Kernels).then(Vec::new);
        // 1. Projection: a thread per gaussian and group of views. Each group reloads the
        // gaussians, so groups only pay below ~200k gaussians (measured on an H200: 100k x 32
        // views is fastest with 2 groups, 1M with 1; `SN17_PROJECT_GROUPS` overrides).
        let groups = k
            .tuning
            .project_groups
            .unwrap_or(200_000u32.div_ceil(n.max(1)))
            .clamp(1, nv.max(1));
        self.go(
            "project",
            "project",
            &k.project[s.degree as usize],
            (n.div_ceil(256), groups, 1),
            256,
            0,
            Args::new()
                .u(n)
                .u(nv)
                .p(views_ptr)
                .p(s.pos_op.ptr)
                .p(s.cov_a.ptr)
                .p(s.cov_b.ptr)
                .p(s.sh.ptr)
                .u(s.sh_stride)
                .u(s.antialiased as u32)
                .p(self.rec.ptr)
                .p(self.depth.ptr)
                .p(self.rect.ptr)
                .p(if rounds.len() > 1 { self.rects.ptr } else { 0 })
                .p(minmax_ptr),
        )?;

        // 2. Per-view depth sort: 8-bit passes over 32-bit keys relative to the view's nearest
        // depth. The fourth does nothing for views whose depths span fewer than 2^24 float
        // values (bin_count reads their result from the third pass's output); each pass is an
        // upsweep (block histograms), a per-view scan of them and a downsweep.
        let nb = n.div_ceil(256 * SORT_ITEMS);
        let hist_len = nv as usize * 256 * nb as usize;
        self.hist.ensure(hist_len * 4)?;
        let dtot_pass = nv as usize * 256 * 4;
        self.dtot.ensure(4 * dtot_pass)?;
        // SAFETY: device buffer of 4 * dtot_pass bytes.
        unsafe { result::memset_d8_async(self.dtot.ptr, 0, 4 * dtot_pass, cs) }
            .map_err(|e| gpu_err("memset", e))?;
        // The fourth pass is not even launched when the asset's bounding sphere shows that no
        // view can need it.
        let passes = match s.bound {
            Some(b) if lay.views.iter().all(|v| depth_bits_fit(v, b)) => 3,
            _ => 4u32,
        };
        for pass in 0..passes {
            let dtot = self.dtot.at(pass as usize * dtot_pass);
            let (a, b) = (
                (self.keys_a.ptr, self.vals_a.ptr),
                (self.keys_b.ptr, self.vals_b.ptr),
            );
            let ((kin, vin), (kout, vout)) = match pass {
                0 => ((0, 0), a),
                1 | 3 => (a, b),
                _ => (b, a),
            };
            self.go(
                "sort",
                "sort_upsweep",
                &k.sort_upsweep,
                (nb, nv, 1),
                256,
                0,
                Args::new()
                    .u(n)
                    .u(pass)
                    .p(self.depth.ptr)
                    .p(minmax_ptr)
                    .p(kin)
                    .p(self.hist.ptr)
                    .p(dtot),
            )?;
            // (The fourth pass's kernels return at once when no view needs it.)
            let skip_nv = if pass == 3 { nv } else { 0 };
            self.go(
                "sort",
                "sort_scan",
                &k.sort_scan,
                (nv, 8, 1),
                1024,
                0,
                Args::new()
                    .u(n)
                    .u(nb)
                    .p(self.hist.ptr)
                    .p(dtot)
                    .p(minmax_ptr)
                    .u(skip_nv),
            )?;
            self.go(
                "sort",
                "sort_downsweep",
                &k.sort_downsweep,
                (nb, nv, 1),
                256,
                0,
                Args::new()
                    .u(n)
                    .u(pass)
                    .u((pass == 3) as u32)
                    .p(self.depth.ptr)
                    .p(minmax_ptr)
                    .p(kin)
                    .p(vin)
                    .p(self.hist.ptr)
                    .p(kout)
                    .p(vout),
            )?;
        }

        // 3. Stable bucketing into (view, bin) ranges, then rasterization, in one round or two.
        let sorted_a = self.vals_a.ptr;
        // Without a fourth pass every view's order is the third pass's output, whatever the
        // device's depth range says (the host's bound is authoritative: vals_b is not written).
        let sorted_b = if passes == 4 {
            self.vals_b.ptr
        } else {
            sorted_a
        };
        let counts_len = nchunks as usize * lay.bins_total as usize;
        self.counts.ensure(counts_len * 4)?;
        self.wcounts.ensure(counts_len * 16)?;
        self.hits.ensure(nvn * 16)?;
        self.totals.ensure(lay.bins_total as usize * 4)?;
        self.starts.ensure((lay.bins_total as usize + 1) * 4)?;
        let sat_bytes = 2 * lay.bins_total as usize * 4;
        // The second round's list: need bits, per-block counts, per-view lengths (see
        // need_mark in splat.cu); the list itself goes to keys_b, free once the sort is done.
        let (mut need_words, mut nblk) = (0u32, 0u32);
        let (mut blk_off, mut vcount_off) = (0usize, 0usize);
        if let [_, second] = rounds.as_slice() {
            let left = n - second.first_entry;
            need_words = left.div_ceil(32);
            nblk = left.div_ceil(MARK_TILE);
            blk_off = (nv as usize * need_words as usize * 4).next_multiple_of(256);
            vcount_off = blk_off + (nv as usize * nblk as usize * 4).next_multiple_of(256);
            self.sat.ensure(sat_bytes)?;
            self.need.ensure(vcount_off + nv as usize * 4)?;
            self.state.ensure(lay.pixels as usize * 16)?;
        }
        let (unsat_ptr, touched_ptr) = (self.sat.ptr, self.sat.at(sat_bytes / 2));
        let (need_ptr, blk_ptr, vcount_ptr) = (
            self.need.ptr,
            self.need.at(blk_off),
            self.need.at(vcount_off),
        );
        let compacted = self.keys_b.ptr;
        if self.pair_capacity == 0 {
            let guess = (nvn as u64 * 6).clamp(1 << 20, 1 << 30);
            self.pairs.ensure(guess as usize * 4)?;
            self.pair_capacity = guess;
        }
        let marks_before = self.marks.as_ref().map_or(0, Vec::len);
        let mut attempt = 0;
        loop {
            let capacity = self.pair_capacity.min(u32::MAX as u64) as u32;
            for (r, round) in rounds.iter().enumerate() {
                let (mode, cn) = (round.mode, round.chunks);
                // The second round buckets need_compact's list, from its start.
                let (e0, list_a, list_b) = if mode == 2 {
                    (0, compacted, compacted)
                } else {
                    (round.first_entry, sorted_a, sorted_b)
                };
                let fi = (mode == 2) as usize;
                // (Profile names: the second round's kernels end in _b.)
                let name = |a: &'static str, b: &'static str| if fi == 1 { b } else { a };
                if mode == 1 {
                    // SAFETY: device buffer of `sat_bytes`.
                    unsafe { result::memset_d8_async(self.sat.ptr, 0, sat_bytes, cs) }
                        .map_err(|e| gpu_err("memset", e))?;
                }
                if mode == 2 {
                    self.go(
                        "bin",
                        "need_mark",
                        &k.need_mark[bi],
                        (nblk, nv, 1),
                        256,
                        0,
                        Args::new()
                            .u(n)
                            .u(round.first_entry)
                            .p(views_ptr)
                            .p(sorted_a)
                            .p(sorted_b)
                            .p(minmax_ptr)
                            .p(self.rects.ptr)
                            .p(unsat_ptr)
                            .p(need_ptr)
                            .u(need_words)
                            .p(blk_ptr),
                    )?;
                    self.go(
                        "bin",
                        "need_scan",
                        &k.need_scan,
                        (nv, 1, 1),
                        1024,
                        0,
                        Args::new().u(nblk).p(blk_ptr).p(vcount_ptr),
                    )?;
                    self.go(
                        "bin",
                        "need_compact",
                        &k.need_compact,
                        (nblk, nv, 1),
                        256,
                        0,
                        Args::new()
                            .u(n)
                            .u(round.first_entry)
                            .p(sorted_a)
                            .p(sorted_b)
                            .p(minmax_ptr)
                            .p(need_ptr)
                            .u(need_words)
                            .p(blk_ptr)
                            .p(compacted),
                    )?;
                }
                self.go(
                    "bin",
                    name("bin_count", "bin_count_b"),
                    &k.bin_count[fi][bi],
                    (cn, nv, bin_groups),
                    256,
                    count_smem(gmax),
                    Args::new()
                        .u(n)
                        .u(round.chunk)
                        .u(e0)
                        .u(cn)
                        .u(group_rows)
                        .p(views_ptr)
                        .p(list_a)
                        .p(list_b)
                        .p(minmax_ptr)
                        .p(self.rect.ptr)
                        .p(self.hits.ptr)
                        .p(self.wcounts.ptr)
                        .p(self.counts.ptr)
                        .p(unsat_ptr)
                        .p(vcount_ptr),
                )?;
                // 32 bins per block of 16 warps (OFFS_WARPS in splat.cu).
                let tgrid = (lay.max_bins.div_ceil(32), nv, 1);
                self.go(
                    "bin",
                    name("bin_offsets", "bin_offsets_b"),
                    &k.bin_offsets,
                    tgrid,
                    512,
                    0,
                    Args::new()
                        .u(cn)
                        .u(lay.shift)
                        .p(views_ptr)
                        .p(self.counts.ptr)
                        .p(self.totals.ptr),
                )?;
                self.go(
                    "bin",
                    name("scan_bins", "scan_bins_b"),
                    &k.scan_bins,
                    (1, 1, 1),
                    1024,
                    0,
                    Args::new()
                        .p(self.totals.ptr)
                        .u(lay.bins_total)
                        .p(self.starts.ptr)
                        .p(status_ptr + 8 * r as u64),
                )?;
                self.go(
                    "bin",
                    name("bin_scatter", "bin_scatter_b"),
                    &k.bin_scatter[fi][bi],
                    (cn, nv, bin_groups),
                    256,
                    scatter_smem(gmax, stage),
                    Args::new()
                        .u(n)
                        .u(round.chunk)
                        .u(e0)
                        .u(cn)
                        .u(group_rows)
                        .u(gmax)
                        .u(stage)
                        .p(views_ptr)
                        .p(self.rect.ptr)
                        .p(self.hits.ptr)
                        .p(self.wcounts.ptr)
                        .p(self.counts.ptr)
                        .p(self.starts.ptr)
                        .u(capacity)
                        .p(self.pairs.ptr)
                        .p(unsat_ptr)
                        .p(vcount_ptr),
                )?;
                // 4. Rasterization.
                self.go(
                    "raster",
                    name("raster", "raster_b"),
                    &k.raster[mode as usize][bi],
                    (lay.max_tiles, nv, 1),
                    256,
                    0,
                    Args::new()
                        .u(n)
                        .p(views_ptr)
                        .p(self.starts.ptr)
                        .p(self.pairs.ptr)
                        .u(capacity)
                        .p(self.rect.ptr)
                        .p(self.rec.ptr)
                        .p(self.out.ptr)
                        .p(unsat_ptr)
                        .p(touched_ptr)
                        .p(self.state.ptr),
                )?;
            }
            let e4 = ev(&self.stream)?;
            // SAFETY: pinned destinations sized by `ensure`; read only after the sync below.
            unsafe {
                result::memcpy_dtoh_async(self.out_host.slice_mut(out_bytes), self.out.ptr, cs)
            }
            .map_err(|e| gpu_err("download", e))?;
            // SAFETY: as above, 16 bytes.
            unsafe { result::memcpy_dtoh_async(self.status_host.slice_mut(16), status_ptr, cs) }
                .map_err(|e| gpu_err("download status", e))?;
            let e5 = ev(&self.stream)?;
            self.stream
                .synchronize()
                .map_err(|e| gpu_err("rendering", e))?;
            let status: [u64; 2] = bytemuck::pod_read_unaligned(self.status_host.slice(16));
            let needed = status[0].max(status[1]);
            if needed <= self.pair_capacity {
                let times = match (&e0, e4, e5) {
                    (Some(a), Some(e), Some(f)) => {
                        let t = |x: &CudaEvent, y: &CudaEvent| x.elapsed_ms(y).unwrap_or(f32::NAN);
                        let mut prev = a;
                        let mut ks = Vec::new();
                        let mut times = StageTimes {
                            total: t(a, &e),
                            download: t(&e, &f),
                            pairs: status[0] + status[1],
                            ..StageTimes::default()
                        };
                        if let Some(marks) = self.marks.as_ref() {
                            for (stage, name, ev) in marks {
                                let ms = t(prev, ev);
                                ks.push((*stage, *name, ms));
                                *match *stage {
                                    "project" => &mut times.project,
                                    "sort" => &mut times.sort,
                                    "bin" => &mut times.bin,
                                    _ => &mut times.raster,
                                } += ms;
                                prev = ev;
                            }
                        }
                        self.last_kernels = ks;
                        Some(times)
                    }
                    _ => None,
                };
                self.marks = None;
                return Ok(times);
            }
            attempt += 1;
            if attempt > 1 || needed >= u32::MAX as u64 {
                return Err(RenderError::GpuBufferTooLarge {
                    needed: needed * 4,
                    limit: u32::MAX as u64 * 4,
                });
            }
            let cap = needed + needed / 4 + 1024;
            tracing::debug!("pair buffer grows to {cap} pairs");
            self.pairs.ensure(cap as usize * 4)?;
            self.pair_capacity = cap;
            if let Some(m) = self.marks.as_mut() {
                m.truncate(marks_before);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn go(
        &mut self,
        stage: &'static str,
        name: &'static str,
        f: &CudaFunction,
        grid: (u32, u32, u32),
        block: u32,
        smem: u32,
        args: Args,
    ) -> Result<(), RenderError> {
        launch(f, &self.stream, grid, block, smem, args)?;
        if let Some(m) = self.marks.as_mut() {
            let e = self
                .stream
                .record_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
                .map_err(|e| gpu_err("event", e))?;
            m.push((stage, name, e));
        }
        Ok(())
    }

    /// The RGBA8 bytes of the last render (all views back to back).
    pub fn output(&self, bytes: usize) -> &[u8] {
        self.out_host.slice(bytes)
    }
}

/// Pixels of `views` (for slicing the output).
pub(crate) fn pixel_counts(views: &[View]) -> Vec<usize> {
    views
        .iter()
        .map(|v| v.camera.width as usize * v.camera.height as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::Camera;

    fn view_at(distance: f32) -> ViewGpu {
        let cam = Camera::orbit(30.0, -10.0, distance, 49.1, 64, 64);
        let v = View {
            camera: cam,
            ..View::from_spec(
                &crate::rig::orbit(1, 64, 2.5, 0.0, 49.1, crate::rig::WHITE).views[0],
                1,
            )
        };
        layout(&[v], 0, 1, None).views[0]
    }

    fn views(count: usize, size: u32) -> Vec<View> {
        crate::rig::orbit(count, size, 2.5, 0.0, 49.1, crate::rig::WHITE)
            .views
            .iter()
            .map(|s| View::from_spec(s, 1))
            .collect()
    }

    #[test]
    fn bins_are_32_pixels_for_large_views_and_multi_view_batches() {
        assert_eq!(bin_shift(&views(1, 512), 100_000, None), 0);
        assert_eq!(bin_shift(&views(3, 512), 100_000, None), 0);
        assert_eq!(bin_shift(&views(4, 512), 100_000, None), 1);
        assert_eq!(bin_shift(&views(1, 1024), 100_000, None), 1);
        // Forced either way, except past what a 32-pixel pair can index.
        assert_eq!(bin_shift(&views(32, 512), 100_000, Some(0)), 0);
        assert_eq!(bin_shift(&views(1, 512), 100_000, Some(1)), 1);
        assert_eq!(bin_shift(&views(32, 1024), 1 << 22, Some(1)), 0);
        let lay = layout(&views(4, 512), 0, 1000, None);
        assert_eq!((lay.shift, lay.max_bins, lay.bins_total), (1, 256, 1024));
    }

    #[test]
    fn two_rounds_for_dense_lists_of_32_pixel_bins_or_when_asked() {
        // 1M x 32 at 512² (256 bins of 32 pixels) and 1M x 4 at 1024² (1024 bins): dense.
        assert_eq!(default_split(1_000_000, 1, 256), FRONT_SPLIT);
        assert_eq!(default_split(1_000_000, 1, 1024), FRONT_SPLIT);
        // 100k x 32 at 512²: short lists; 1M x 1 at 512² (16-pixel bins): one view.
        assert_eq!(default_split(100_000, 1, 256), 0);
        assert_eq!(default_split(1_000_000, 0, 1024), 0);

        let r = |mode, first_entry, chunk, chunks| Round {
            mode,
            first_entry,
            chunk,
            chunks,
        };
        // The front quarter of 1M entries in chunks of 2048: 122 chunks, then the rest.
        assert_eq!(
            rounds(1_000_000, 2048, 4, None),
            [r(1, 0, 2048, 122), r(2, 249_856, 2048, 367)]
        );
        // Split 0 or 1, or a single chunk: one round.
        assert_eq!(rounds(100_000, 2048, 0, None), [r(0, 0, 2048, 49)]);
        assert_eq!(rounds(80_000, 2048, 1, None), [r(0, 0, 2048, 40)]);
        assert_eq!(rounds(2048, 2048, 4, None), [r(0, 0, 2048, 1)]);
        assert_eq!(rounds(0, 2048, 4, None), [r(0, 0, 2048, 1)]);
        assert_eq!(
            rounds(2049, 2048, 2, None),
            [r(1, 0, 2048, 1), r(2, 2048, 2048, 1)]
        );
        // 40 chunks, an eighth first: 5, then the other 80_000 - 10_240 entries at most (the
        // second round takes only those left unsaturated).
        assert_eq!(
            rounds(80_000, 2048, 8, None),
            [r(1, 0, 2048, 5), r(2, 10_240, 2048, 35)]
        );
        // The second round's chunk: a multiple of 32, at least the first's.
        assert_eq!(
            rounds(80_000, 2048, 4, Some(5000)),
            [r(1, 0, 2048, 10), r(2, 20_480, 4992, 12)]
        );
        assert_eq!(
            rounds(80_000, 2048, 4, Some(100)),
            [r(1, 0, 2048, 10), r(2, 20_480, 2048, 30)]
        );
    }

    #[test]
    fn bounding_sphere_holds_every_point_and_rejects_nan() {
        let pts = [[-1.0f32, 0.5, 2.0], [0.25, -3.0, 1.0], [0.0, 0.0, 0.0]];
        let (c, r) = bounding_sphere(&pts).expect("finite points");
        for p in pts {
            let d = (0..3)
                .map(|i| (p[i] as f64 - c[i]).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!(d <= r + 1e-12, "{p:?} outside ({c:?}, {r})");
        }
        assert!(bounding_sphere(&[[0.0, f32::NAN, 0.0], [1.0, 1.0, 1.0]]).is_none());
        assert!(bounding_sphere(&[[0.0, f32::INFINITY, 0.0]]).is_none());
        assert!(bounding_sphere(&[]).is_none());
    }

    #[test]
    fn fourth_sort_pass_is_skipped_only_for_narrow_depth_ranges() {
        // A unit object 2.5 away: depths in about [1.5, 3.5], fewer than 2^24 float values.
        assert!(depth_bits_fit(&view_at(2.5), ([0.0; 3], 1.0)));
        // The camera inside the object: depths from the near plane up, more than 2^24 values.
        assert!(!depth_bits_fit(&view_at(0.5), ([0.0; 3], 1.0)));
        // Far but deep: [0.5, 4.5] spans more than two binades.
        assert!(!depth_bits_fit(&view_at(2.5), ([0.0; 3], 2.0)));
    }
}
