//! The CPU reference splat renderer against hand-checkable cases of the 3DGS forward model.

mod common;

use sn17_gpu::assets::splats::Splats;
use sn17_gpu::camera::Camera;
use sn17_gpu::lighting::Lighting;
use sn17_gpu::prepare::{prepare_splats, Normalization, UpAxis};
use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::{Renderer, SplatOptions, View};

fn view(theta: f32, phi: f32, size: u32, bg: [u8; 3]) -> View {
    View {
        camera: Camera::orbit(theta, phi, 2.0, 49.1, size, size),
        background: bg,
        lighting: Lighting {
            ambient: 0.0,
            hemisphere: None,
            lights: vec![],
            tone_map: sn17_gpu::lighting::ToneMap::None,
        },
    }
}

fn one(pos: [f32; 3], log_scale: f32, logit: f32, dc: [f32; 3]) -> Splats {
    Splats {
        positions: vec![pos],
        log_scales: vec![[log_scale; 3]],
        rotations: vec![[1.0, 0.0, 0.0, 0.0]],
        opacity_logits: vec![logit],
        sh_dc: vec![dc],
        sh_rest: vec![],
        sh_degree: 0,
        antialiased: false,
    }
}

#[test]
fn a_single_gaussian_is_a_centred_symmetric_blob() {
    // Pure red (0.5 + C0·dc = 1 for red, 0 for the others), nearly opaque, at the origin.
    let dc = [0.5 / 0.282_094_79, -0.5 / 0.282_094_79, -0.5 / 0.282_094_79];
    let s = one([0.0; 3], (0.2f32).ln(), 10.0, dc);
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    // Centre: alpha clamps at 0.99 over white: 0.99·red + 0.01·white.
    let c = img.get_pixel(32, 32).0;
    assert_eq!(c, [255, 3, 3]);
    assert_eq!(img.get_pixel(0, 0).0, [255, 255, 255]);
    // Symmetric about the centre (pixel centres at i + 0.5: 31 and 32 mirror each other).
    for d in 1..10 {
        assert_eq!(img.get_pixel(32 + d, 32), img.get_pixel(31 - d, 32));
        assert_eq!(img.get_pixel(32, 32 + d), img.get_pixel(32, 31 - d));
    }
}

#[test]
fn empty_and_invisible_scenes_show_the_background() {
    let s = one([0.0, 0.0, 5.0], 0.0, 5.0, [0.0; 3]); // behind the camera at z = 2
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 32, [128, 128, 128])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    assert!(img.pixels().all(|p| p.0 == [128, 128, 128]));
    let s = one([0.0; 3], -3.0, f32::NEG_INFINITY, [0.0; 3]); // fully transparent
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 32, [0, 0, 0])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    assert!(img.pixels().all(|p| p.0 == [0, 0, 0]));
}

#[test]
fn front_to_back_order_and_early_termination() {
    // A near blue gaussian in front of a far red one: the centre is (almost) blue.
    let blue = [-0.5 / 0.282_094_79, -0.5 / 0.282_094_79, 0.5 / 0.282_094_79];
    let red = [0.5 / 0.282_094_79, -0.5 / 0.282_094_79, -0.5 / 0.282_094_79];
    let mut s = one([0.0, 0.0, 0.5], (0.1f32).ln(), 20.0, blue);
    let r = one([0.0, 0.0, -0.5], (0.1f32).ln(), 20.0, red);
    s.positions.extend(r.positions);
    s.log_scales.extend(r.log_scales);
    s.rotations.extend(r.rotations);
    s.opacity_logits.extend(r.opacity_logits);
    s.sh_dc.extend(r.sh_dc);
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    let c = img.get_pixel(32, 32).0;
    // Alpha clamps at 0.99, so blue takes 99% and at most 1% is left for red and the background.
    assert!(c[2] >= 250 && c[0] <= 5 && c[1] <= 5, "{c:?}");
    // From behind, red is in front.
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(180.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    let c = img.get_pixel(32, 32).0;
    assert!(c[0] >= 250 && c[2] <= 5, "{c:?}");
}

#[test]
fn camera_convention_puts_plus_x_on_the_right_and_plus_y_up() {
    let s = one([0.4, 0.0, 0.0], (0.03f32).ln(), 10.0, [-2.0; 3]); // dark dot at +X
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    let dark_x: Vec<u32> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] < 128)
        .map(|(x, _, _)| x)
        .collect();
    assert!(
        !dark_x.is_empty() && dark_x.iter().all(|&x| x > 40),
        "+X appears right of centre"
    );
    let s = one([0.0, 0.4, 0.0], (0.03f32).ln(), 10.0, [-2.0; 3]);
    let img = CpuRenderer
        .render_splats(
            &s,
            &[view(0.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    assert!(
        img.enumerate_pixels()
            .filter(|(_, _, p)| p.0[0] < 128)
            .all(|(_, y, _)| y < 24),
        "+Y appears above"
    );
    // The same dot in a +Y-down asset appears below after the explicit up-axis conversion.
    let mut down = s.clone();
    prepare_splats(&mut down, UpAxis::YDown, Normalization::None);
    let img = CpuRenderer
        .render_splats(
            &down,
            &[view(0.0, 0.0, 64, [255, 255, 255])],
            &SplatOptions::default(),
        )
        .unwrap()
        .remove(0);
    assert!(img
        .enumerate_pixels()
        .filter(|(_, _, p)| p.0[0] < 128)
        .all(|(_, y, _)| y > 40));
}

#[test]
fn rotating_the_scene_matches_rotating_the_camera() {
    // Rendering a scene rotated 180° about X from the mirrored camera gives the same image:
    // positions, covariances and view-dependent SH all transform together.
    let s = common::random_splats(800, 3, 21);
    let mut r = s.clone();
    r.rotate_x180();
    let mut a = view(30.0, -20.0, 64, [255, 255, 255]);
    let mut b = a.clone();
    let e = a.camera.eye;
    b.camera.eye = [e[0], -e[1], -e[2]];
    b.camera.up = [0.0, -1.0, 0.0];
    a.camera.near = 0.01;
    let ia = CpuRenderer
        .render_splats(&s, &[a], &SplatOptions::default())
        .unwrap()
        .remove(0);
    let ib = CpuRenderer
        .render_splats(&r, &[b], &SplatOptions::default())
        .unwrap()
        .remove(0);
    let psnr = sn17_gpu::compare::psnr(&ia, &ib);
    assert!(psnr > 45.0, "PSNR {psnr}");
}

#[test]
fn sh_degree_cap_and_antialiasing_change_the_image() {
    let s = common::random_splats(1500, 3, 33);
    let v = view(45.0, -15.0, 64, [255, 255, 255]);
    let full = CpuRenderer
        .render_splats(&s, std::slice::from_ref(&v), &SplatOptions::default())
        .unwrap()
        .remove(0);
    let dc = CpuRenderer
        .render_splats(
            &s,
            std::slice::from_ref(&v),
            &SplatOptions {
                max_sh_degree: 0,
                antialiased: None,
            },
        )
        .unwrap()
        .remove(0);
    let aa = CpuRenderer
        .render_splats(
            &s,
            std::slice::from_ref(&v),
            &SplatOptions {
                max_sh_degree: 3,
                antialiased: Some(true),
            },
        )
        .unwrap()
        .remove(0);
    assert_ne!(full, dc);
    assert_ne!(full, aa);
    let mut s0 = s.clone();
    s0.truncate_sh(0);
    let dc2 = CpuRenderer
        .render_splats(&s0, &[v], &SplatOptions::default())
        .unwrap()
        .remove(0);
    assert_eq!(dc, dc2, "capping the degree equals dropping the bands");
}

#[test]
fn legacy_normalisation_scales_to_1_5_and_divides_opacity() {
    let mut s = common::random_splats(100, 0, 2);
    for p in &mut s.positions {
        p[0] *= 4.0;
    }
    let before = s.clone();
    prepare_splats(&mut s, UpAxis::YUp, Normalization::Legacy404Splat);
    let b = s.bounds().unwrap();
    assert!((b.largest_extent() - 1.5).abs() < 1e-4);
    let factor = 1.5 / before.bounds().unwrap().largest_extent();
    let o0 = sn17_gpu::assets::splats::sigmoid(before.opacity_logits[0]);
    let o1 = sn17_gpu::assets::splats::sigmoid(s.opacity_logits[0]);
    assert!((o1 - (o0 / factor).min(1.0)).abs() < 1e-4);
    let mut u = before.clone();
    prepare_splats(&mut u, UpAxis::YUp, Normalization::UnitCube);
    let b = u.bounds().unwrap();
    assert!((b.largest_extent() - 1.0).abs() < 1e-5);
    assert!(b.center().iter().all(|c| c.abs() < 1e-5));
}
