//! CUDA splat renderer benchmark (own harness):
//! `cargo bench -p sn17-gpu --bench cuda -- [--dump DIR] [--runs K] [--hash] [N:V:SIZE ...]`.
//!
//! Scene: rendering.md §7.7's object-like cloud (`random_splats`, SH degree 3) and its cameras
//! (V views evenly spaced in azimuth, radius 2.5, 0.3 above the plane, vertical FOV 49.1°,
//! white background). For each case it uploads once, then times batches of all V views of the
//! resident asset: `gpu` is device time from the first kernel to the end of rasterization (CUDA
//! events), `batch` the wall time of a whole batch with the RGBA8 images landed in pinned host
//! memory. `--dump DIR` also writes each scene, its cameras and sn17's view 0 for
//! scripts/bench_gsplat.py, which renders the same scenes with gsplat and prints the comparison.
//! `--write-plys DIR COUNT N` writes COUNT such scenes of N gaussians as 3DGS PLY files (for the
//! end-to-end `sn17 render` benchmark) and exits.

use std::io::Write;
use std::path::{Path, PathBuf};

use sn17_gpu::assets::splats::sigmoid;
use sn17_gpu::camera::Camera;
use sn17_gpu::render::cuda::CudaRenderer;
use sn17_gpu::render::{Renderer, SplatOptions, View};
use sn17_gpu::rig;
use sn17_gpu::test_utils::random_splats;

fn cameras(n: usize, size: u32) -> Vec<View> {
    let elev = (0.3f32 / 2.5).atan().to_degrees();
    let r = (2.5f32 * 2.5 + 0.3 * 0.3).sqrt();
    let base = View::from_spec(&rig::orbit(1, size, r, elev, 49.1, rig::WHITE).views[0], 1);
    (0..n)
        .map(|i| View {
            camera: Camera::orbit(360.0 * i as f32 / n as f32, -elev, r, 49.1, size, size),
            ..base.clone()
        })
        .collect()
}

fn write_f32(path: &Path, data: impl Iterator<Item = f32>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for x in data {
        f.write_all(&x.to_le_bytes())?;
    }
    f.flush()
}

fn dump(
    dir: &Path,
    tag: &str,
    s: &sn17_gpu::assets::splats::Splats,
    views: &[View],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let n = s.len();
    write_f32(
        &dir.join(format!("{tag}.means")),
        s.positions.iter().flatten().copied(),
    )?;
    write_f32(
        &dir.join(format!("{tag}.quats")),
        s.rotations.iter().flatten().copied(),
    )?;
    write_f32(
        &dir.join(format!("{tag}.scales")),
        s.log_scales.iter().flatten().map(|v| v.exp()),
    )?;
    write_f32(
        &dir.join(format!("{tag}.opacities")),
        s.opacity_logits.iter().map(|&o| sigmoid(o)),
    )?;
    let k = s.rest_coeffs() * 3;
    write_f32(
        &dir.join(format!("{tag}.sh")),
        (0..n).flat_map(|i| {
            s.sh_dc[i]
                .iter()
                .copied()
                .chain(s.sh_rest[i * k..(i + 1) * k].iter().copied())
                .collect::<Vec<f32>>()
        }),
    )?;
    let mut vm = Vec::new();
    let mut ks = Vec::new();
    for v in views {
        let (r, t) = v.camera.world_to_cv();
        for i in 0..3 {
            vm.extend_from_slice(&[r[i][0], r[i][1], r[i][2], t[i]]);
        }
        vm.extend_from_slice(&[0.0, 0.0, 0.0, 1.0]);
        let (fx, fy, cx, cy) = v.camera.intrinsics();
        ks.extend_from_slice(&[fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0]);
    }
    write_f32(&dir.join(format!("{tag}.viewmats")), vm.into_iter())?;
    write_f32(&dir.join(format!("{tag}.ks")), ks.into_iter())?;
    Ok(())
}

fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(i) = args.iter().position(|a| a == "--write-plys") {
        let dir = PathBuf::from(args.get(i + 1).cloned().unwrap_or_else(|| "plys".into()));
        let count: usize = args.get(i + 2).and_then(|v| v.parse().ok()).unwrap_or(128);
        let n: usize = args
            .get(i + 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        std::fs::create_dir_all(&dir).expect("creating the PLY folder");
        let t = std::time::Instant::now();
        std::thread::scope(|sc| {
            for w in 0..8 {
                let dir = &dir;
                sc.spawn(move || {
                    for a in (w..count).step_by(8) {
                        let s = random_splats(n, 3, 5000 + a as u64);
                        // As trainers write it: with (zero) normals.
                        std::fs::write(
                            dir.join(format!("asset_{a:03}.ply")),
                            sn17_gpu::assets::ply::write(&s, true),
                        )
                        .expect("writing PLY");
                    }
                });
            }
        });
        println!(
            "wrote {count} PLY files of {n} gaussians to {} in {:.1} s",
            dir.display(),
            t.elapsed().as_secs_f64()
        );
        return;
    }
    // --hash: print a fingerprint of all views' images per case.
    let hash = args.iter().any(|a| a == "--hash");
    args.retain(|a| a != "--hash");
    let mut dump_dir: Option<PathBuf> = None;
    let mut runs = 20usize;
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        dump_dir = args.get(i + 1).map(PathBuf::from);
        args.drain(i..(i + 2).min(args.len()));
    }
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(runs);
        args.drain(i..(i + 2).min(args.len()));
    }
    let cases: Vec<(usize, usize, u32)> = if args.is_empty() {
        vec![
            (100_000, 1, 512),
            (100_000, 32, 512),
            (100_000, 4, 1024),
            (1_000_000, 1, 512),
            (1_000_000, 32, 512),
            (1_000_000, 4, 1024),
        ]
    } else {
        args.iter()
            .filter_map(|a| {
                let p: Vec<&str> = a.split(':').collect();
                let n = p.first()?.replace("k", "000").replace("M", "000000");
                Some((
                    n.parse().ok()?,
                    p.get(1)?.parse().ok()?,
                    p.get(2)?.parse().ok()?,
                ))
            })
            .collect()
    };
    let r = match CudaRenderer::new(0) {
        Ok(r) => r,
        Err(e) => {
            println!("SKIP: {e}");
            return;
        }
    };
    println!("device: {} ({})", r.description(), r.compile_note());
    println!("kernel resources (driver): name registers local_bytes static_smem");
    for (n, regs, local, smem) in r.kernel_resources() {
        println!("  {n:16} {regs:4} {local:5} {smem:6}");
    }
    println!("ptxas report:");
    for e in sn17_gpu::render::cuda::parse_ptxas(r.compile_log()) {
        println!(
            "  {:16} {:3} registers, {} B stack, {} B spill stores, {} B spill loads, {} B smem",
            e.kernel, e.registers, e.stack_bytes, e.spill_stores, e.spill_loads, e.smem_bytes
        );
    }
    let opts = SplatOptions::default();
    let mut json = Vec::new();
    println!(
        "{:>9} {:>3} {:>5} | {:>8} {:>8} | {:>7} {:>7} {:>7} {:>7} {:>7} | {:>8}",
        "N", "V", "size", "gpu ms", "batch ms", "proj", "sort", "bin", "raster", "d2h", "upload"
    );
    for (i, &(n, nv, size)) in cases.iter().enumerate() {
        let s = random_splats(n, 3, 1000 + i as u64);
        let views = cameras(nv, size);
        let (dev, upload_ms) = match r.upload(&s, &opts) {
            Ok(d) => d,
            Err(e) => {
                println!("{n} x {nv} @ {size}: upload failed: {e}");
                continue;
            }
        };
        let p = match r.profile(&dev, &views, runs) {
            Ok(p) => p,
            Err(e) => {
                println!("{n} x {nv} @ {size}: {e}");
                continue;
            }
        };
        let st = p.stages;
        println!(
            "{n:>9} {nv:>3} {size:>5} | {:>8.3} {:>8.3} | {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} | {:>8.1}",
            p.gpu_ms, p.batch_ms, st.project, st.sort, st.bin, st.raster, st.download, upload_ms
        );
        // Per-kernel device time, summed over launches of the same kernel.
        let mut sums: Vec<(&str, f32, usize)> = Vec::new();
        for (_, name, ms) in &p.kernels {
            match sums.iter_mut().find(|s| s.0 == *name) {
                Some(s) => {
                    s.1 += ms;
                    s.2 += 1;
                }
                None => sums.push((name, *ms, 1)),
            }
        }
        println!(
            "      pairs {}; {}",
            st.pairs,
            sums.iter()
                .map(|(n, ms, c)| format!(
                    "{n} {ms:.3}{}",
                    if *c > 1 {
                        format!(" (x{c})")
                    } else {
                        String::new()
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if hash {
            // Fingerprint of every view's image: kernel changes meant to keep the image
            // identical are checked across builds with it.
            match r.render_splats(&s, &views, &opts) {
                Ok(imgs) => {
                    let mut h = 0xcbf2_9ce4_8422_2325u64;
                    for b in imgs.iter().flat_map(|im| im.as_raw().iter()) {
                        h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
                    }
                    println!("      image hash (all {nv} views): {h:016x}");
                }
                Err(e) => println!("render failed: {e}"),
            }
        }
        let tag = format!("case{i}");
        json.push(format!(
            "{{\"tag\":\"{tag}\",\"n\":{n},\"views\":{nv},\"size\":{size},\"gpu_ms\":{:.4},\"batch_ms\":{:.4}}}",
            p.gpu_ms, p.batch_ms
        ));
        if let Some(d) = &dump_dir {
            if let Err(e) = dump(d, &tag, &s, &views) {
                println!("dump failed: {e}");
            }
            match r.render_splats(&s, &views[..1], &opts) {
                Ok(imgs) => {
                    let _ = std::fs::write(d.join(format!("{tag}.view0.rgb")), imgs[0].as_raw());
                }
                Err(e) => println!("render failed: {e}"),
            }
        }
    }
    if let Some(d) = &dump_dir {
        let _ = std::fs::write(d.join("sn17.json"), format!("[{}]\n", json.join(",\n")));
    }
}
