//! Rendering benchmarks (own harness; `cargo bench -p sn17-gpu --bench render -- [FILTER...]`).
//!
//! Cases: `ply-parse` (synthetic 1M SH-3 and SH-0 PLY, 1 thread and all threads), `cpu-100k`
//! (CPU reference, 100k SH-3 gaussians, one 512² view), `wgpu-100k` and `wgpu-1m` (32 views at
//! 512², the rendering.md reference case). Timings are medians; GPU timings include upload,
//! all work and readback of all images. SN17_BENCH_RUNS sets the repeat count and
//! SN17_BENCH_VIEWS the view count (default 32).

use std::time::{Duration, Instant};

use sn17_gpu::assets::{ply, Asset, LoadOptions};
use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::wgpu::WgpuRenderer;
use sn17_gpu::render::{Renderer, SplatOptions, View};
use sn17_gpu::test_utils::random_splats;
use sn17_gpu::{load_bytes, rig};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

/// Process CPU time (user + system) from /proc, so results on a shared machine can be read
/// per CPU-second as well as per wall-second. None where /proc is unavailable.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit(')').next()?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn runs(default: usize) -> usize {
    std::env::var("SN17_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn views(n: usize, size: u32) -> Vec<View> {
    // The gsplat comparison's cameras: evenly spaced azimuths, radius 2.5, FOV 49.1°.
    rig::orbit(n, size, 2.5, 7.0, 49.1, [255, 255, 255])
        .views
        .iter()
        .map(|v| View::from_spec(v, 1))
        .collect()
}

fn ply_parse() {
    for degree in [3u8, 0] {
        let s = random_splats(1_000_000, degree, 1);
        let bytes = ply::write(&s, degree == 3);
        drop(s);
        let mb = bytes.len() as f64 / 1e6;
        let opts = LoadOptions::default();
        for threads in [1usize, 0] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let n = pool.current_num_threads();
            let k = runs(5);
            let cpu0 = cpu_time();
            let d = pool.install(|| {
                time(k, || match load_bytes(&bytes, &opts) {
                    Ok((Asset::Splats(s), _)) => s.len(),
                    _ => panic!("parse failed"),
                })
            });
            let cpu = cpu0
                .zip(cpu_time())
                .map(|(a, b)| (b - a).as_secs_f64() / k as f64);
            println!(
                "ply-parse sh{degree}: {mb:.0} MB, {n} thread(s): median {:.1} ms wall = {:.2} GB/s; {}",
                d.as_secs_f64() * 1e3,
                mb / 1e3 / d.as_secs_f64(),
                cpu.map_or("CPU time unknown".into(), |c| format!(
                    "{:.0} ms CPU per parse = {:.2} GB/s per CPU-second",
                    c * 1e3,
                    mb / 1e3 / c
                )),
            );
        }
    }
}

fn cpu_100k() {
    let s = random_splats(100_000, 3, 2);
    let v = views(1, 512);
    let d = time(runs(5), || {
        CpuRenderer
            .render_splats(&s, &v, &SplatOptions::default())
            .expect("render")
    });
    println!(
        "cpu-100k: 100k gaussians SH3, 1 view 512², {} threads: {:.0} ms",
        rayon::current_num_threads(),
        d.as_secs_f64() * 1e3
    );
}

fn wgpu_case(name: &str, n: usize, gpu: &WgpuRenderer) {
    let s = random_splats(n, 3, 3);
    let nv: usize = std::env::var("SN17_BENCH_VIEWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let opts = SplatOptions::default();
    let one = views(1, 512);
    let v = views(nv, 512);
    let first = Instant::now();
    let imgs = gpu.render_splats(&s, &v, &opts).expect("render");
    let first = first.elapsed();
    let mean: f64 = imgs[0].as_raw().iter().map(|&b| b as f64).sum::<f64>()
        / imgs[0].as_raw().len() as f64
        / 255.0;
    let d1 = time(runs(3), || {
        gpu.render_splats(&s, &one, &opts).expect("render")
    });
    let d = time(runs(3), || {
        gpu.render_splats(&s, &v, &opts).expect("render")
    });
    // One call uploads the asset once and renders every view: the 1-view time is mostly that
    // fixed cost, the difference is the per-view GPU work.
    let marginal = (d.as_secs_f64() - d1.as_secs_f64()) / (nv.max(2) - 1) as f64;
    println!(
        "{name}: {n} gaussians SH3 x {nv} views 512² on {}: first call {:.0} ms; median {:.1} ms = {:.2} ms/view; 1 view {:.1} ms; marginal {:.2} ms/extra view (mean pixel {mean:.3})",
        gpu.description(),
        first.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e3,
        d.as_secs_f64() * 1e3 / nv as f64,
        d1.as_secs_f64() * 1e3,
        marginal * 1e3,
    );
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let on = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    if on("ply-parse") {
        ply_parse();
    }
    if on("cpu-100k") {
        cpu_100k();
    }
    if on("wgpu-100k") || on("wgpu-1m") {
        match WgpuRenderer::new(true) {
            Ok(gpu) => {
                if on("wgpu-100k") {
                    wgpu_case("wgpu-100k", 100_000, &gpu);
                }
                if on("wgpu-1m") {
                    wgpu_case("wgpu-1m", 1_000_000, &gpu);
                }
            }
            Err(e) => println!("wgpu: skipped ({e})"),
        }
    }
}
