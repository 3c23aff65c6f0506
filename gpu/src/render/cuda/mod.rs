//! The CUDA splat renderer: cudarc with libcuda and libnvrtc opened at run time (binaries build
//! and start without CUDA), kernels in `gpu/kernels/*.cu` compiled by NVRTC on first use for the
//! device's compute capability and cached on disk by source hash.
//!
//! All views of one asset render in one pass per up to 64 views (projection, per-view depth sort,
//! stable tile bucketing, tile blending); every call takes a worker (its own stream, pinned
//! staging and output buffers) from a pool, so calls from several threads overlap on the GPU.
//! Meshes are not drawn here: `render_mesh` uses the wgpu rasterizer, else the CPU reference.

pub mod compile;
pub mod libs;
pub mod pipeline;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use cudarc::driver::{sys, CudaContext};
use image::RgbImage;
use rayon::prelude::*;

use super::{Backend, Renderer, SplatOptions, View};
use crate::assets::mesh::Mesh;
use crate::assets::splats::Splats;
use crate::error::RenderError;
pub use compile::{parse_ptxas, PtxasEntry};
use pipeline::{gpu_err, Kernels, Worker};
pub use pipeline::{DeviceSplats, KernelTimes, StageTimes, Timing, MAX_VIEWS_PER_PASS};

fn unavailable(reason: impl Into<String>) -> RenderError {
    RenderError::BackendUnavailable {
        backend: "cuda",
        reason: reason.into(),
    }
}

/// Creates the CUDA renderer, or says why it cannot (no driver, no device, no NVRTC, or a
/// kernel that failed to build). Never panics: cudarc's own panics are caught.
pub fn create() -> Result<Box<dyn Renderer>, RenderError> {
    Ok(Box::new(CudaRenderer::new(0)?))
}

/// Timings of `CudaRenderer::profile`.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Host copy to pinned staging, upload and preparation of the asset (ms, wall).
    pub upload_ms: f64,
    /// Median over runs: GPU time from the first kernel to the end of rasterization (two
    /// events around the batch, as gsplat is timed; the per-kernel events of `stages` cost
    /// time of their own).
    pub gpu_ms: f64,
    /// Median over runs: wall time of the whole batch, RGBA8 landed in pinned host memory.
    pub batch_ms: f64,
    /// Stage times of the median run timed kernel by kernel.
    pub stages: StageTimes,
    /// Per-launch device times of the median run: (stage, kernel, ms).
    pub kernels: KernelTimes,
}

pub struct CudaRenderer {
    ctx: Arc<CudaContext>,
    kernels: Kernels,
    name: String,
    cc: (i32, i32),
    compile_log: String,
    compile_note: String,
    workers: Mutex<Vec<Worker>>,
    poison: std::sync::atomic::AtomicBool,
    /// Test override of the rounds' split (u32::MAX: the kernels' tuning).
    split: std::sync::atomic::AtomicU32,
    fallback: OnceLock<Option<Box<dyn Renderer>>>,
}

impl CudaRenderer {
    /// Opens device `ordinal`, compiling (or loading the cached) kernels.
    pub fn new(ordinal: usize) -> Result<CudaRenderer, RenderError> {
        if !libs::driver_present() {
            return Err(unavailable("libcuda (the NVIDIA driver) is not installed"));
        }
        libs::ensure_nvrtc(&[]).map_err(unavailable)?;
        match std::panic::catch_unwind(|| Self::open(ordinal)) {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                Err(unavailable(format!("CUDA initialisation failed: {msg}")))
            }
        }
    }

    fn open(ordinal: usize) -> Result<CudaRenderer, RenderError> {
        let count = CudaContext::device_count()
            .map_err(|e| unavailable(format!("no CUDA device ({e:?})")))?;
        if count <= ordinal as i32 {
            return Err(unavailable(format!(
                "no CUDA device {ordinal} ({count} present)"
            )));
        }
        let ctx = CudaContext::new(ordinal)
            .map_err(|e| unavailable(format!("creating a CUDA context: {e:?}")))?;
        // We order all work on our own streams ourselves.
        // SAFETY: no cudarc-managed slices are shared between streams by this renderer.
        unsafe { ctx.disable_event_tracking() };
        let name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
        let cc = ctx
            .compute_capability()
            .map_err(|e| unavailable(format!("reading compute capability: {e:?}")))?;
        let arch = format!("sm_{}{}", cc.0, cc.1);
        let t = Instant::now();
        // Diagnostics: SN17_CUDA_NO_CULL=1 keeps every tile of the reference's own rects;
        // SN17_CUDA_DEFINES=A,B adds `#define A 1` lines to the kernel source.
        let mut defines: Vec<String> = std::env::var("SN17_CUDA_DEFINES")
            .map(|v| v.split(',').map(|d| d.trim().to_string()).collect())
            .unwrap_or_default();
        if std::env::var_os("SN17_CUDA_NO_CULL").is_some_and(|v| v == "1") {
            defines.push("SN17_NO_CULL".into());
        }
        let mut source = String::new();
        for d in defines
            .iter()
            .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            source.push_str(&format!("#define {d} 1\n"));
        }
        // SN17_CUDA_SOURCE=FILE replaces the built-in kernels (tuning experiments on a machine
        // without cargo; the launch geometry must still match).
        match std::env::var_os("SN17_CUDA_SOURCE") {
            Some(f) => {
                let text = std::fs::read_to_string(&f)
                    .map_err(|e| unavailable(format!("reading SN17_CUDA_SOURCE: {e}")))?;
                source.push_str(&text);
            }
            None => source.push_str(compile::SPLAT_SOURCE),
        }
        let compiled = compile::compile("splat", &source, &arch, true)
            .map_err(|e| unavailable(format!("compiling kernels for {arch}: {e}")))?;
        let module = ctx
            .load_module(cudarc::nvrtc::Ptx::from_binary(compiled.cubin.clone()))
            .map_err(|e| unavailable(format!("loading kernels: {e:?}")))?;
        let optin = ctx
            .attribute(
                sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
            )
            .unwrap_or(48 * 1024)
            .max(48 * 1024) as usize;
        let kernels = Kernels::load(module, optin)?;
        let note = format!(
            "kernels for {arch} {} in {:.0} ms",
            if compiled.from_cache {
                "loaded from cache"
            } else {
                "compiled"
            },
            t.elapsed().as_secs_f64() * 1e3
        );
        tracing::debug!("{name}: {note}");
        Ok(CudaRenderer {
            ctx,
            kernels,
            name,
            cc,
            compile_log: compiled.log,
            compile_note: note,
            workers: Mutex::new(Vec::new()),
            poison: std::sync::atomic::AtomicBool::new(false),
            split: std::sync::atomic::AtomicU32::new(u32::MAX),
            fallback: OnceLock::new(),
        })
    }

    pub fn device_name(&self) -> &str {
        &self.name
    }

    pub fn compute_capability(&self) -> (i32, i32) {
        self.cc
    }

    /// NVRTC's ptxas report (registers, spills, shared memory) from compiling the kernels.
    pub fn compile_log(&self) -> &str {
        &self.compile_log
    }

    /// Whether the kernels came from the disk cache, and how long loading took.
    pub fn compile_note(&self) -> &str {
        &self.compile_note
    }

    /// Per kernel, from the driver: (name, registers, local bytes per thread, static shared).
    pub fn kernel_resources(&self) -> Vec<(String, i32, i32, i32)> {
        self.kernels.resources()
    }

    /// Tests: clear the output before each batch, so unwritten pixels show (alpha 0).
    pub fn set_poison_output(&self, on: bool) {
        self.poison.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Tests: bucket and blend in one round (`Some(0)`), or take 1 / `s` of each view's depth
    /// order first (`Some(s)`); `None` restores the default. Images must not change.
    pub fn set_rounds_split(&self, split: Option<u32>) {
        self.split.store(
            split.unwrap_or(u32::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn take_worker(&self) -> Result<Worker, RenderError> {
        let w = self.workers.lock().ok().and_then(|mut v| v.pop());
        let mut w = match w {
            Some(w) => w,
            None => {
                self.ctx
                    .bind_to_thread()
                    .map_err(|e| gpu_err("binding context", e))?;
                Worker::new(&self.ctx)?
            }
        };
        w.poison_output = self.poison.load(std::sync::atomic::Ordering::Relaxed);
        w.split = match self.split.load(std::sync::atomic::Ordering::Relaxed) {
            u32::MAX => None,
            s => Some(s),
        };
        Ok(w)
    }

    fn give_worker(&self, w: Worker) {
        if let Ok(mut v) = self.workers.lock() {
            v.push(w);
        }
    }

    fn check(splats: &Splats, views: &[View]) -> Result<(), RenderError> {
        super::check_views(views)?;
        if !splats.is_consistent() {
            return Err(RenderError::InvalidView("inconsistent splat arrays".into()));
        }
        Ok(())
    }

    /// Views per pass for `n` gaussians given the device's free memory.
    fn pass_size(&self, n: usize) -> usize {
        let free = self
            .ctx
            .mem_get_info()
            .map(|m| m.0 as u64)
            .unwrap_or(8 << 30);
        pipeline::views_per_pass(n as u64, free / 2)
    }

    /// Renders all `views` of `splats` and hands each view's RGBA8 pixels (row major, straight
    /// from pinned memory) to `sink(view_index, bytes)`.
    pub fn render_splats_rgba(
        &self,
        splats: &Splats,
        views: &[View],
        opts: &SplatOptions,
        mut sink: impl FnMut(usize, &[u8]),
    ) -> Result<(), RenderError> {
        Self::check(splats, views)?;
        let mut w = self.take_worker()?;
        let res = (|| {
            let antialiased = opts.antialiased.unwrap_or(splats.antialiased);
            let dev = w.upload(&self.kernels, splats, opts.max_sh_degree, antialiased)?;
            let per = self.pass_size(splats.len());
            let mut first = 0;
            for chunk in views.chunks(per) {
                w.render(&self.kernels, &dev, chunk, Timing::Off)?;
                let counts = pipeline::pixel_counts(chunk);
                let total: usize = counts.iter().sum();
                let out = w.output(total * 4);
                let mut off = 0;
                for (i, c) in counts.iter().enumerate() {
                    sink(first + i, &out[off * 4..(off + c) * 4]);
                    off += c;
                }
                first += chunk.len();
            }
            w.stream
                .synchronize()
                .map_err(|e| gpu_err("synchronising", e))?;
            drop(dev);
            Ok(())
        })();
        // A worker whose stream failed is dropped rather than reused.
        if res.is_ok() {
            self.give_worker(w);
        }
        res
    }

    /// Uploads an asset to stay on the device (benchmarks render it repeatedly).
    pub fn upload(
        &self,
        splats: &Splats,
        opts: &SplatOptions,
    ) -> Result<(DeviceSplats, f64), RenderError> {
        if !splats.is_consistent() {
            return Err(RenderError::InvalidView("inconsistent splat arrays".into()));
        }
        let mut w = self.take_worker()?;
        let t = Instant::now();
        let antialiased = opts.antialiased.unwrap_or(splats.antialiased);
        let dev = w.upload(&self.kernels, splats, opts.max_sh_degree, antialiased);
        let synced = w.stream.synchronize().map_err(|e| gpu_err("upload", e));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let dev = dev?;
        synced?;
        self.give_worker(w);
        Ok((dev, ms))
    }

    /// Times `runs` batches of `views` (at most MAX_VIEWS_PER_PASS) of a resident asset after
    /// one warm-up; see `Profile`.
    pub fn profile(
        &self,
        dev: &DeviceSplats,
        views: &[View],
        runs: usize,
    ) -> Result<Profile, RenderError> {
        super::check_views(views)?;
        if views.len() > MAX_VIEWS_PER_PASS {
            return Err(RenderError::InvalidView(format!(
                "profile renders at most {MAX_VIEWS_PER_PASS} views per batch"
            )));
        }
        let mut w = self.take_worker()?;
        let res = (|| {
            w.render(&self.kernels, dev, views, Timing::Off)?;
            let (mut walls, mut totals, mut staged) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                w.render(&self.kernels, dev, views, Timing::Off)?;
                walls.push(t.elapsed().as_secs_f64() * 1e3);
                let total = w.render(&self.kernels, dev, views, Timing::Total)?;
                totals.push(total.unwrap_or_default().total as f64);
                let st = w
                    .render(&self.kernels, dev, views, Timing::Kernels)?
                    .unwrap_or_default();
                let sum = (st.project + st.sort + st.bin + st.raster) as f64;
                staged.push((sum, st, std::mem::take(&mut w.last_kernels)));
            }
            let median = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            staged.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mid = staged.swap_remove(staged.len() / 2);
            Ok(Profile {
                upload_ms: 0.0,
                gpu_ms: median(&mut totals),
                batch_ms: median(&mut walls),
                stages: mid.1,
                kernels: mid.2,
            })
        })();
        if res.is_ok() {
            self.give_worker(w);
        }
        res
    }

    fn mesh_fallback(&self) -> Option<&dyn Renderer> {
        self.fallback
            .get_or_init(|| match super::wgpu::WgpuRenderer::new(false) {
                Ok(r) => Some(Box::new(r) as Box<dyn Renderer>),
                Err(_) => Some(Box::new(super::cpu::CpuRenderer::new())),
            })
            .as_deref()
    }
}

type ImagesResult = Result<Vec<RgbImage>, RenderError>;

fn rgba_to_rgb(w: u32, h: u32, rgba: &[u8]) -> RgbImage {
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    rgb.par_chunks_mut(3 * 4096)
        .zip(rgba.par_chunks(4 * 4096))
        .for_each(|(d, s)| {
            for (o, i) in d.chunks_exact_mut(3).zip(s.chunks_exact(4)) {
                o.copy_from_slice(&i[..3]);
            }
        });
    RgbImage::from_raw(w, h, rgb).unwrap_or_else(|| RgbImage::new(w, h))
}

impl Renderer for CudaRenderer {
    fn backend(&self) -> Backend {
        Backend::Cuda
    }

    fn description(&self) -> String {
        format!("CUDA {} (compute {}.{})", self.name, self.cc.0, self.cc.1)
    }

    fn render_splats(
        &self,
        splats: &Splats,
        views: &[View],
        opts: &SplatOptions,
    ) -> Result<Vec<RgbImage>, RenderError> {
        let mut images: Vec<RgbImage> = Vec::with_capacity(views.len());
        self.render_splats_rgba(splats, views, opts, |i, px| {
            let c = &views[i].camera;
            images.push(rgba_to_rgb(c.width, c.height, px));
        })?;
        Ok(images)
    }

    fn render_splats_many(
        &self,
        jobs: &[(&Splats, &[View])],
        opts: &SplatOptions,
    ) -> Vec<Result<Vec<RgbImage>, RenderError>> {
        // A few host threads, each with its own stream: uploads, rendering and downloads of
        // different assets overlap.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<Mutex<Option<ImagesResult>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        let threads = jobs.len().clamp(1, 3);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((s, v)) = jobs.get(i) else { break };
                    let r = self.render_splats(s, v, opts);
                    if let Some(slot) = results.get(i) {
                        if let Ok(mut g) = slot.lock() {
                            *g = Some(r);
                        }
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| Err(RenderError::Gpu("worker thread failed".into())))
            })
            .collect()
    }

    fn render_mesh(&self, mesh: &Mesh, views: &[View]) -> Result<Vec<RgbImage>, RenderError> {
        match self.mesh_fallback() {
            Some(r) => r.render_mesh(mesh, views),
            None => Err(unavailable("no mesh renderer")),
        }
    }
}
