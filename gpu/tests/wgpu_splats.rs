//! The wgpu compute splat renderer against the CPU reference: PSNR ≥ 40 dB on random scenes and
//! on the real shared files. Skips (with a message) when no wgpu adapter exists; CI has lavapipe.

mod common;

use sn17_gpu::assets::{self, Asset, LoadOptions};
use sn17_gpu::compare::psnr;
use sn17_gpu::prepare::{prepare_splats, Normalization, UpAxis};
use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::{Renderer, SplatOptions, View};
use sn17_gpu::rig;

fn views(n: usize, size: u32, bg: [u8; 3]) -> Vec<View> {
    rig::orbit(n, size, 2.0, 20.0, 49.1, bg)
        .views
        .iter()
        .map(|v| View::from_spec(v, 1))
        .collect()
}

fn compare(name: &str, s: &sn17_gpu::assets::splats::Splats, views: &[View], opts: &SplatOptions) {
    let Some(gpu) = common::wgpu() else { return };
    let cpu = CpuRenderer.render_splats(s, views, opts).unwrap();
    let t = std::time::Instant::now();
    let got = gpu.render_splats(s, views, opts).unwrap();
    eprintln!(
        "{name}: {} gaussians, {} views: wgpu {:.2?}",
        s.len(),
        views.len(),
        t.elapsed()
    );
    assert_eq!(got.len(), cpu.len());
    for (i, (a, b)) in cpu.iter().zip(&got).enumerate() {
        assert_eq!(a.dimensions(), b.dimensions());
        let p = psnr(a, b);
        eprintln!("  view {i}: PSNR {p:.1} dB");
        assert!(p >= 40.0, "{name} view {i}: PSNR {p:.2} dB < 40");
        // Not trivially equal to the background.
        assert!(b.pixels().any(|px| px.0 != views[i].background));
    }
}

#[test]
fn random_scenes_match_the_cpu_reference() {
    for (n, degree, seed, bg) in [
        (3000, 0u8, 1u64, [255, 255, 255]),
        (12_000, 3, 2, [128, 128, 128]),
        (6000, 1, 3, [0, 0, 0]),
    ] {
        let s = common::random_splats(n, degree, seed);
        compare(
            &format!("random deg {degree}"),
            &s,
            &views(3, 128, bg),
            &SplatOptions::default(),
        );
    }
    // 40² has 9 tiles: a single (odd) tile-sort pass; 512² in the overflow test takes three.
    let s = common::random_splats(2000, 0, 6);
    compare(
        "tiny",
        &s,
        &views(2, 40, [255, 255, 255]),
        &SplatOptions::default(),
    );
    let s = common::random_splats(4000, 2, 4);
    compare(
        "antialiased",
        &s,
        &views(2, 96, [255, 255, 255]),
        &SplatOptions {
            max_sh_degree: 2,
            antialiased: Some(true),
        },
    );
}

#[test]
fn odd_sizes_and_top_down_views_match() {
    let s = common::random_splats(5000, 3, 9);
    let mut v: Vec<View> = rig::judge_bundle()
        .views
        .iter()
        .map(|v| View::from_spec(v, 1))
        .collect();
    for (i, view) in v.iter_mut().enumerate() {
        let size = 61 + 17 * i as u32; // not multiples of 16, different per view
        view.camera.width = size;
        view.camera.height = size;
    }
    compare(
        "judge angles, odd sizes",
        &s,
        &v[..6],
        &SplatOptions::default(),
    );
    compare("top down", &s, &v[7..8], &SplatOptions::default());
}

#[test]
fn pair_buffer_overflow_is_recovered() {
    // Few, huge gaussians: each covers every tile, far more pairs than the first allocation.
    let mut s = common::random_splats(150, 0, 5);
    for l in &mut s.log_scales {
        *l = [(0.5f32).ln(); 3];
    }
    for o in &mut s.opacity_logits {
        *o = -3.0;
    }
    compare(
        "overflow",
        &s,
        &views(2, 512, [255, 255, 255]),
        &SplatOptions::default(),
    );
}

fn shared(name: &str) -> Option<sn17_gpu::assets::splats::Splats> {
    let p = common::shared_asset(name)?;
    match assets::load_path(&p, &LoadOptions::default()).unwrap().0 {
        Asset::Splats(mut s) => {
            prepare_splats(&mut s, UpAxis::YUp, Normalization::UnitCube);
            Some(s)
        }
        Asset::Mesh(_) => None,
    }
}

#[test]
fn shared_files_match_the_cpu_reference() {
    for (name, size) in [
        ("hamburger.ply", 192),
        ("lod2_tile_0.ply", 160),
        ("fourth_st.spz", 128),
        ("robocop_with_hammer_in_one_hand.spz", 128),
    ] {
        let Some(s) = shared(name) else { return };
        compare(
            name,
            &s,
            &views(2, size, [255, 255, 255]),
            &SplatOptions::default(),
        );
    }
}
