//! The CUDA splat renderer.
//!
//! Everywhere (CI included): the kernels compile with NVRTC when libnvrtc can be found (loader
//! path, `SN17_NVRTC_PATH`, a CUDA toolkit, or the PyPI `nvidia-cuda-nvrtc` wheel in a Python
//! site-packages folder), else the test says why it skipped; `--backend auto` falls back cleanly.
//!
//! On a machine with a CUDA device: CUDA vs the CPU reference, PSNR ≥ 45 dB on random scenes
//! with fresh seeds and on the shared assets, every output pixel written, and
//! `cuda_small_scene_for_sanitizer` (run under `compute-sanitizer --tool memcheck`). They skip
//! with a message when there is no device.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use sn17_gpu::assets::splats::Splats;
use sn17_gpu::assets::{self, Asset, LoadOptions};
use sn17_gpu::compare::psnr;
use sn17_gpu::prepare::{prepare_splats, Normalization, UpAxis};
use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::cuda::{compile, libs, parse_ptxas, CudaRenderer};
use sn17_gpu::render::{create_renderer, Backend, Renderer, SplatOptions, View};
use sn17_gpu::{rig, RenderError};

/// Python site-packages folders (where `pip install nvidia-cuda-nvrtc` puts libnvrtc).
fn python_site_packages() -> Vec<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import site,sys;print('\\n'.join(site.getsitepackages()+[site.getusersitepackages()]+sys.path))",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn nvrtc_compiles_the_kernels() {
    let site = python_site_packages();
    match libs::ensure_nvrtc(&site) {
        Ok(Some(p)) => eprintln!("using libnvrtc from {}", p.display()),
        Ok(None) => eprintln!("libnvrtc is on the loader path"),
        Err(why) => {
            eprintln!("SKIP: {why}");
            return;
        }
    }
    let (major, minor) = compile::nvrtc_version().unwrap();
    eprintln!("NVRTC {major}.{minor}");
    // A fresh kernel changes the PTX, so NVRTC's ptxas step cannot be served from a cache
    // (cached results come without a ptxas report).
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let src = format!(
        "{}\nextern \"C\" __global__ void nonce_{nonce}(int* p) {{ if (p) *p = 1; }}\n",
        compile::SPLAT_SOURCE
    );
    for arch in ["sm_90", "sm_80"] {
        let c =
            compile::compile("splat", &src, arch, false).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert!(c.cubin.len() > 1000, "{arch}: empty cubin");
        let report = parse_ptxas(&c.log);
        eprintln!(
            "{arch}: cubin {} bytes in {:.0} ms",
            c.cubin.len(),
            c.compile_ms
        );
        for e in &report {
            eprintln!(
                "  {:16} {:3} registers, {} B stack, {} B spill stores, {} B spill loads",
                e.kernel, e.registers, e.stack_bytes, e.spill_stores, e.spill_loads
            );
        }
        for k in [
            "prep_gaussians",
            "project_sh3",
            "sort_downsweep",
            "bin_scatter16",
            "bin_scatter32",
            "raster32",
            "raster",
        ] {
            let e = report
                .iter()
                .find(|e| e.kernel == k)
                .unwrap_or_else(|| panic!("{arch}: no ptxas entry for {k}:\n{}", c.log));
            assert!(e.registers > 0);
            assert_eq!(e.spill_stores, 0, "{arch}: {k} spills registers");
        }
    }
}

#[test]
fn auto_falls_back_cleanly_without_cuda() {
    match create_renderer(Backend::Cuda) {
        Ok(r) => {
            assert_eq!(r.backend(), Backend::Cuda);
            eprintln!("CUDA present: {}", r.description());
        }
        Err(RenderError::BackendUnavailable { backend, reason }) => {
            assert_eq!(backend, "cuda");
            assert!(!reason.is_empty());
            eprintln!("CUDA unavailable: {reason}");
            let r = create_renderer(Backend::Auto).unwrap();
            assert_ne!(r.backend(), Backend::Cuda);
            assert_ne!(r.backend(), Backend::Auto);
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn cuda() -> Option<&'static CudaRenderer> {
    static R: OnceLock<Option<CudaRenderer>> = OnceLock::new();
    R.get_or_init(|| match CudaRenderer::new(0) {
        Ok(r) => {
            eprintln!("{} ({})", r.description(), r.compile_note());
            Some(r)
        }
        Err(e) => {
            eprintln!("SKIP: {e}");
            None
        }
    })
    .as_ref()
}

fn seed() -> u64 {
    let s = std::env::var("SN17_TEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    eprintln!("seed {s} (SN17_TEST_SEED reproduces)");
    s
}

fn views(n: usize, size: u32, bg: [u8; 3]) -> Vec<View> {
    rig::orbit(n, size, 2.0, 20.0, 49.1, bg)
        .views
        .iter()
        .map(|v| View::from_spec(v, 1))
        .collect()
}

/// CUDA vs CPU: PSNR ≥ 45 dB per view, and every pixel written (alpha 255 after the output
/// buffer was cleared to zero).
fn compare(name: &str, r: &CudaRenderer, s: &Splats, views: &[View], opts: &SplatOptions) {
    let cpu = CpuRenderer.render_splats(s, views, opts).unwrap();
    r.set_poison_output(true);
    let t = std::time::Instant::now();
    let mut unwritten = Vec::new();
    r.render_splats_rgba(s, views, opts, |i, px| {
        let n = px.chunks_exact(4).filter(|p| p[3] != 255).count();
        unwritten.push((i, n));
    })
    .unwrap();
    let got = r.render_splats(s, views, opts).unwrap();
    r.set_poison_output(false);
    eprintln!(
        "{name}: {} gaussians, {} views: cuda {:.2?} (two calls)",
        s.len(),
        views.len(),
        t.elapsed()
    );
    assert_eq!(unwritten.len(), views.len());
    for (i, n) in unwritten {
        assert_eq!(n, 0, "{name} view {i}: {n} pixels not written");
    }
    assert_eq!(got.len(), cpu.len());
    for (i, (a, b)) in cpu.iter().zip(&got).enumerate() {
        assert_eq!(a.dimensions(), b.dimensions());
        let p = psnr(a, b);
        let d = sn17_gpu::compare::diff_stats(a, b, 8);
        eprintln!(
            "  view {i}: PSNR {p:.1} dB (max diff {}, {:.4}% of pixels off by > 8)",
            d.max,
            d.frac_over * 100.0
        );
        assert!(p >= 45.0, "{name} view {i}: PSNR {p:.2} dB < 45");
    }
}

#[test]
fn cuda_matches_cpu_on_random_scenes() {
    let Some(r) = cuda() else { return };
    let base = seed();
    for (k, (n, degree, size, bg)) in [
        (3000usize, 0u8, 128u32, [255u8, 255, 255]),
        (20_000, 3, 256, [128, 128, 128]),
        (8000, 1, 96, [0, 0, 0]),
        (12_000, 2, 200, [255, 255, 255]),
    ]
    .into_iter()
    .enumerate()
    {
        let s = common::random_splats(n, degree, base.wrapping_add(k as u64));
        compare(
            &format!("random deg {degree}"),
            r,
            &s,
            &views(4, size, bg),
            &SplatOptions::default(),
        );
    }
    let s = common::random_splats(6000, 3, base ^ 0x55);
    compare(
        "antialiased, SH capped at 1",
        r,
        &s,
        &views(3, 128, [255, 255, 255]),
        &SplatOptions {
            max_sh_degree: 1,
            antialiased: Some(true),
        },
    );
}

#[test]
fn cuda_handles_odd_sizes_top_down_many_views_and_empty_scenes() {
    let Some(r) = cuda() else { return };
    let s = common::random_splats(5000, 3, seed());
    let mut v: Vec<View> = rig::judge_bundle()
        .views
        .iter()
        .map(|v| View::from_spec(v, 1))
        .collect();
    for (i, view) in v.iter_mut().enumerate() {
        let w = 61 + 17 * i as u32;
        view.camera.width = w;
        view.camera.height = 200 - 9 * i as u32;
    }
    compare(
        "judge angles, odd sizes",
        r,
        &s,
        &v,
        &SplatOptions::default(),
    );
    // More views than one pass holds.
    let many = views(70, 48, [10, 20, 30]);
    compare("70 views", r, &s, &many, &SplatOptions::default());
    compare(
        "empty",
        r,
        &common::random_splats(0, 3, 1),
        &views(2, 64, [1, 2, 3]),
        &SplatOptions::default(),
    );
}

#[test]
fn cuda_pair_buffer_grows() {
    let Some(r) = cuda() else { return };
    // Few huge gaussians: each covers every tile, far more pairs than the first guess.
    let mut s = common::random_splats(300, 0, seed());
    for l in &mut s.log_scales {
        *l = [(0.5f32).ln(); 3];
    }
    for o in &mut s.opacity_logits {
        *o = -3.0;
    }
    compare(
        "overflow",
        r,
        &s,
        &views(3, 512, [255, 255, 255]),
        &SplatOptions::default(),
    );
}

#[test]
fn cuda_many_assets_match_one_by_one() {
    let Some(r) = cuda() else { return };
    let b = seed();
    let scenes: Vec<Splats> = (0..5)
        .map(|i| common::random_splats(4000 + 1000 * i, (i % 4) as u8, b + i as u64))
        .collect();
    let v = views(3, 96, [255, 255, 255]);
    let jobs: Vec<(&Splats, &[View])> = scenes.iter().map(|s| (s, v.as_slice())).collect();
    let opts = SplatOptions::default();
    let many = r.render_splats_many(&jobs, &opts);
    for (s, got) in scenes.iter().zip(many) {
        let got = got.unwrap();
        let one = r.render_splats(s, &v, &opts).unwrap();
        assert_eq!(got, one);
    }
}

/// Held by the tests that set the renderer's rounds split (shared by every test).
static SPLIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Bucketing and blending in two rounds (the front of each view's depth order, then the rest
/// for the sub-blocks it left unsaturated) gives the very images of one round, with 16- and
/// 32-pixel bins.
#[test]
fn cuda_two_rounds_match_one_round() {
    let Some(r) = cuda() else { return };
    let _split = SPLIT.lock().unwrap_or_else(|e| e.into_inner());
    let b = seed();
    let opts = SplatOptions::default();
    for (k, (n, nviews, size)) in [
        (20_000usize, 2usize, 256u32),
        (30_000, 5, 200),
        (12_000, 1, 700),
    ]
    .into_iter()
    .enumerate()
    {
        let s = common::random_splats(n, 3, b.wrapping_add(k as u64));
        let v = views(nviews, size, [255, 255, 255]);
        r.set_rounds_split(Some(0));
        let one = r.render_splats(&s, &v, &opts).unwrap();
        for split in [2, 8] {
            r.set_rounds_split(Some(split));
            let two = r.render_splats(&s, &v, &opts).unwrap();
            for (i, (a, b)) in one.iter().zip(&two).enumerate() {
                let d = sn17_gpu::compare::diff_stats(a, b, 0);
                assert!(
                    a == b,
                    "{n} x {nviews} @ {size}, split {split}, view {i}: max diff {}, {:.4}% of pixels differ",
                    d.max,
                    d.frac_over * 100.0
                );
            }
        }
        r.set_rounds_split(None);
    }
}

/// Small enough for `compute-sanitizer --tool memcheck` (run it alone with this name): one
/// round, then two (three bucketing chunks, the first for the first round).
#[test]
fn cuda_small_scene_for_sanitizer() {
    let Some(r) = cuda() else { return };
    let s = common::random_splats(5000, 3, seed());
    let mut v = views(3, 40, [255, 255, 255]);
    v[1].camera.width = 33;
    v[1].camera.height = 17;
    compare("sanitizer scene", r, &s, &v, &SplatOptions::default());
    let _split = SPLIT.lock().unwrap_or_else(|e| e.into_inner());
    r.set_rounds_split(Some(2));
    compare(
        "sanitizer scene, two rounds",
        r,
        &s,
        &v,
        &SplatOptions::default(),
    );
    r.set_rounds_split(None);
}

fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SN17_SHARED") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared"));
    p.is_dir().then_some(p)
}

#[test]
fn cuda_matches_cpu_on_shared_assets() {
    let Some(r) = cuda() else { return };
    let Some(dir) = shared_dir() else {
        eprintln!("SKIP: ../shared (or SN17_SHARED) not found");
        return;
    };
    for (name, size) in [
        ("hamburger.ply", 256),
        ("lod2_tile_0.ply", 200),
        ("fourth_st.spz", 160),
        ("robocop_with_hammer_in_one_hand.spz", 160),
    ] {
        let p = dir.join("assets").join(name);
        if !p.is_file() {
            eprintln!("SKIP: {} missing", p.display());
            continue;
        }
        let Asset::Splats(mut s) = assets::load_path(&p, &LoadOptions::default()).unwrap().0 else {
            continue;
        };
        prepare_splats(&mut s, UpAxis::YUp, Normalization::UnitCube);
        compare(
            name,
            r,
            &s,
            &views(3, size, [255, 255, 255]),
            &SplatOptions::default(),
        );
    }
}
