//! Shared test helpers: paths to the shared assets, a seeded random scene, a GLB writer, and the
//! wgpu renderer (tests that need it skip with a message when no adapter exists).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use sn17_gpu::render::wgpu::WgpuRenderer;

/// A file under /work/shared/assets, or None (with a printed reason) when it is absent.
pub fn shared_asset(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/assets")).join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: shared asset {} not found", p.display());
        None
    }
}

/// One wgpu renderer per test binary; None (and a printed reason) without an adapter, unless
/// `SN17_REQUIRE_WGPU=1` (set by `.ci/run`), where a missing adapter fails the test: CI must
/// really render on lavapipe, not pass by skipping.
pub fn wgpu() -> Option<&'static WgpuRenderer> {
    static R: OnceLock<Option<WgpuRenderer>> = OnceLock::new();
    R.get_or_init(|| match WgpuRenderer::new(true) {
        Ok(r) => Some(r),
        Err(e) if wgpu_required() => panic!(
            "SN17_REQUIRE_WGPU=1 but no wgpu adapter: {e}; install mesa-vulkan-drivers \
             (lavapipe) and libvulkan1, and set XDG_RUNTIME_DIR"
        ),
        Err(e) => {
            eprintln!("SKIP: no wgpu adapter ({e}); CI installs mesa-vulkan-drivers (lavapipe)");
            None
        }
    })
    .as_ref()
}

/// Whether the environment demands a wgpu adapter (`SN17_REQUIRE_WGPU=1`).
pub fn wgpu_required() -> bool {
    std::env::var("SN17_REQUIRE_WGPU").is_ok_and(|v| v == "1")
}

#[allow(unused_imports)]
pub use sn17_gpu::test_utils::random_splats;

/// A GLB from a JSON document and a binary chunk (padded as the spec requires).
pub fn make_glb(json: &serde_json::Value, bin: &[u8]) -> Vec<u8> {
    let mut j = serde_json::to_vec(json).unwrap();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let mut b = bin.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let total = 12 + 8 + j.len() + if b.is_empty() { 0 } else { 8 + b.len() };
    let mut out = Vec::new();
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&j);
    if !b.is_empty() {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b"BIN\0");
        out.extend_from_slice(&b);
    }
    out
}

/// A GLB with one triangle-list mesh given positions, optional vertex colours, indices, and
/// extra top-level JSON merged in (materials, nodes, ...). Nodes default to one node, mesh 0.
pub fn triangle_glb(
    positions: &[[f32; 3]],
    colors: Option<&[[f32; 4]]>,
    indices: &[u16],
    extra: serde_json::Value,
) -> Vec<u8> {
    let mut bin = Vec::new();
    for p in positions {
        for v in p {
            bin.extend_from_slice(&v.to_le_bytes());
        }
    }
    let pos_len = bin.len();
    let mut col_off = 0;
    if let Some(c) = colors {
        col_off = bin.len();
        for p in c {
            for v in p {
                bin.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let idx_off = bin.len();
    for i in indices {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let (mut lo, mut hi) = ([f32::MAX; 3], [f32::MIN; 3]);
    for p in positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let mut views = vec![serde_json::json!({"buffer": 0, "byteOffset": 0, "byteLength": pos_len})];
    let mut accessors = vec![
        serde_json::json!({"bufferView": 0, "componentType": 5126, "count": positions.len(), "type": "VEC3", "min": lo, "max": hi}),
    ];
    let mut attributes = serde_json::json!({"POSITION": 0});
    if let Some(c) = colors {
        views.push(
            serde_json::json!({"buffer": 0, "byteOffset": col_off, "byteLength": c.len() * 16}),
        );
        accessors.push(serde_json::json!({"bufferView": views.len() - 1, "componentType": 5126, "count": c.len(), "type": "VEC4"}));
        attributes["COLOR_0"] = serde_json::json!(accessors.len() - 1);
    }
    views.push(
        serde_json::json!({"buffer": 0, "byteOffset": idx_off, "byteLength": indices.len() * 2}),
    );
    accessors.push(serde_json::json!({"bufferView": views.len() - 1, "componentType": 5123, "count": indices.len(), "type": "SCALAR"}));
    let mut json = serde_json::json!({
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": bin.len()}],
        "bufferViews": views,
        "accessors": accessors,
        "meshes": [{"primitives": [{"attributes": attributes, "indices": accessors.len() - 1}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0
    });
    if let (Some(obj), Some(extra)) = (json.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = json.pointer("/materials").cloned() {
        if m.as_array().is_some_and(|a| !a.is_empty())
            && json.pointer("/meshes/0/primitives/0/material").is_none()
        {
            json["meshes"][0]["primitives"][0]["material"] = serde_json::json!(0);
        }
    }
    make_glb(&json, &bin)
}

/// A unit cube (12 triangles, CCW outward) with per-face colours, as a GLB.
pub fn colored_cube_glb() -> Vec<u8> {
    let mut pos = Vec::new();
    let mut col = Vec::new();
    let mut idx = Vec::new();
    // (normal, u, v, colour) per face, u × v = normal.
    type Face = ([f32; 3], [f32; 3], [f32; 3], [f32; 4]);
    let faces: [Face; 6] = [
        (
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 0.2, 0.2, 1.0],
        ),
        (
            [-1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0],
            [0.2, 1.0, 0.2, 1.0],
        ),
        (
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0],
            [0.2, 0.2, 1.0, 1.0],
        ),
        (
            [0.0, -1.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 1.0, 0.2, 1.0],
        ),
        (
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [1.0, 0.2, 1.0, 1.0],
        ),
        (
            [0.0, 0.0, -1.0],
            [0.0, 1.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.2, 1.0, 1.0, 1.0],
        ),
    ];
    for (n, u, v, c) in faces {
        let base = pos.len() as u16;
        for (a, b) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
            pos.push([0, 1, 2].map(|k| 0.5 * (n[k] + a * u[k] + b * v[k])));
            col.push(c);
        }
        idx.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    triangle_glb(&pos, Some(&col), &idx, serde_json::json!({}))
}
