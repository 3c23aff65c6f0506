//! Backend selection and input checks shared by every renderer.

mod common;

use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::{create_renderer, Backend, Renderer, SplatOptions, View};
use sn17_gpu::{rig, RenderError};

#[test]
fn backends_parse_and_cuda_is_present_or_unavailable() {
    assert_eq!("AUTO".parse::<Backend>().unwrap(), Backend::Auto);
    assert_eq!("wgpu".parse::<Backend>().unwrap(), Backend::Wgpu);
    assert!(matches!(
        "vulkan".parse::<Backend>(),
        Err(RenderError::UnknownBackend(_))
    ));
    // CUDA is either there (GPU machines) or unavailable with a reason; never another error.
    match create_renderer(Backend::Cuda) {
        Ok(r) => assert_eq!(r.backend(), Backend::Cuda),
        Err(RenderError::BackendUnavailable {
            backend: "cuda", ..
        }) => {}
        Err(e) => panic!("expected cuda to work or be unavailable, got {e}"),
    }
    // Auto always yields something: CUDA, a hardware adapter, or the CPU reference.
    let r = create_renderer(Backend::Auto).unwrap();
    assert_ne!(r.backend(), Backend::Auto);
    assert_eq!(
        create_renderer(Backend::Cpu).unwrap().backend(),
        Backend::Cpu
    );
}

#[test]
fn impossible_views_and_inconsistent_splats_are_errors_not_panics() {
    let s = common::random_splats(10, 1, 1);
    let mut v = View::from_spec(&rig::orbit(1, 32, 2.0, 15.0, 49.1, rig::WHITE).views[0], 1);
    v.camera.width = 0;
    let opts = SplatOptions::default();
    assert!(matches!(
        CpuRenderer.render_splats(&s, std::slice::from_ref(&v), &opts),
        Err(RenderError::InvalidView(_))
    ));
    if let Some(gpu) = common::wgpu() {
        assert!(matches!(
            gpu.render_splats(&s, std::slice::from_ref(&v), &opts),
            Err(RenderError::InvalidView(_))
        ));
    }
    v.camera.width = 32;
    v.camera.eye[0] = f32::NAN;
    assert!(CpuRenderer
        .render_splats(&s, std::slice::from_ref(&v), &opts)
        .is_err());
    v.camera.eye[0] = 0.0;
    let mut broken = s.clone();
    broken.sh_rest.truncate(5);
    assert!(CpuRenderer
        .render_splats(&broken, std::slice::from_ref(&v), &opts)
        .is_err());
    if let Some(gpu) = common::wgpu() {
        assert!(gpu.render_splats(&broken, &[v], &opts).is_err());
    }
}
