//! Hostile files: each is refused with a named error, quickly, without large allocations.

mod common;

use std::time::Instant;

use serde_json::json;
use sn17_gpu::assets::splats::Frame;
use sn17_gpu::assets::spz::{self, SpzFlavor};
use sn17_gpu::assets::{self, ply, Asset, LoadOptions};
use sn17_gpu::render::cpu::CpuRenderer;
use sn17_gpu::render::{Renderer, SplatOptions, View};
use sn17_gpu::{AssetError, Limits};

fn load(bytes: &[u8]) -> Result<Asset, AssetError> {
    assets::load_bytes(bytes, &LoadOptions::default()).map(|(a, _)| a)
}

fn header(props: &[&str], count: &str) -> String {
    let mut h = format!("ply\nformat binary_little_endian 1.0\nelement vertex {count}\n");
    for p in props {
        h.push_str(&format!("property float {p}\n"));
    }
    h + "end_header\n"
}

const BASE: [&str; 14] = [
    "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
    "rot_0", "rot_1", "rot_2", "rot_3",
];

#[test]
fn truncated_ply_is_refused() {
    let s = common::random_splats(100, 1, 2);
    let bytes = ply::write(&s, false);
    let cut = &bytes[..bytes.len() - 10];
    assert!(
        matches!(load(cut), Err(AssetError::Truncated { .. })),
        "{:?}",
        load(cut).err()
    );
    // Cut inside the header.
    assert!(matches!(load(&bytes[..40]), Err(AssetError::PlyHeader(_))));
}

#[test]
fn header_claiming_a_trillion_vertices_is_refused_before_allocating() {
    let h = header(&BASE, "1000000000000");
    let t = Instant::now();
    let e = load(h.as_bytes()).unwrap_err();
    assert!(
        matches!(
            e,
            AssetError::TooManyGaussians {
                count: 1_000_000_000_000,
                ..
            }
        ),
        "{e}"
    );
    // Under the gaussian limit but with no body: truncated, not an allocation.
    let limits = Limits {
        max_gaussians: u64::MAX,
        ..Limits::default()
    };
    let e = assets::load_bytes(
        h.as_bytes(),
        &LoadOptions {
            limits,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, AssetError::Truncated { .. }), "{e}");
    assert!(t.elapsed().as_secs_f32() < 1.0);
    // Counts that do not parse.
    assert!(matches!(
        load(header(&BASE, "-5").as_bytes()),
        Err(AssetError::PlyHeader(_))
    ));
    assert!(matches!(
        load(header(&BASE, "99999999999999999999999").as_bytes()),
        Err(AssetError::PlyHeader(_))
    ));
}

#[test]
fn missing_and_duplicated_properties_are_named() {
    let mut props: Vec<&str> = BASE.to_vec();
    props.retain(|p| *p != "opacity");
    let body = vec![0u8; 13 * 4];
    let bytes = [header(&props, "1").as_bytes(), &body].concat();
    assert!(matches!(load(&bytes), Err(AssetError::MissingProperty(p)) if p == "opacity"));

    let mut props: Vec<&str> = BASE.to_vec();
    props.push("x");
    let bytes = [header(&props, "1").as_bytes(), &[0u8; 15 * 4]].concat();
    assert!(matches!(load(&bytes), Err(AssetError::DuplicateProperty(p)) if p == "x"));

    // f_rest count that is no SH degree, and a gap in the numbering.
    let mut props: Vec<String> = BASE.iter().map(|s| s.to_string()).collect();
    props.extend((0..8).map(|i| format!("f_rest_{i}")));
    let refs: Vec<&str> = props.iter().map(|s| s.as_str()).collect();
    let bytes = [header(&refs, "1").as_bytes(), &[0u8; 22 * 4]].concat();
    assert!(matches!(
        load(&bytes),
        Err(AssetError::BadShCount { count: 8 })
    ));
    let mut props: Vec<String> = BASE.iter().map(|s| s.to_string()).collect();
    props.extend((1..10).map(|i| format!("f_rest_{i}")));
    let refs: Vec<&str> = props.iter().map(|s| s.as_str()).collect();
    let bytes = [header(&refs, "1").as_bytes(), &[0u8; 23 * 4]].concat();
    assert!(matches!(load(&bytes), Err(AssetError::MissingProperty(p)) if p == "f_rest_0"));
}

#[test]
fn nan_and_inf_values_are_refused_except_infinite_opacity() {
    let s = common::random_splats(10, 0, 4);
    let mut bad = s.clone();
    bad.positions[7][1] = f32::NAN;
    let e = load(&ply::write(&bad, false)).unwrap_err();
    assert!(
        matches!(&e, AssetError::NonFinite { property, index: 7, .. } if property == "y"),
        "{e}"
    );
    let mut bad = s.clone();
    bad.log_scales[3][0] = f32::INFINITY;
    assert!(matches!(
        load(&ply::write(&bad, false)),
        Err(AssetError::NonFinite { index: 3, .. })
    ));
    let mut bad = s.clone();
    bad.opacity_logits[2] = f32::NAN;
    assert!(matches!(
        load(&ply::write(&bad, false)),
        Err(AssetError::NonFinite { index: 2, .. })
    ));
    // ±inf opacity is what SPZ alpha bytes 0 and 255 decode to: accepted.
    let mut ok = s.clone();
    ok.opacity_logits[0] = f32::NEG_INFINITY;
    ok.opacity_logits[1] = f32::INFINITY;
    assert!(load(&ply::write(&ok, false)).is_ok());
}

#[test]
fn spz_with_extreme_alphas_decodes_to_infinite_logits_and_renders_cleanly() {
    let mut s = common::random_splats(200, 0, 8);
    for (i, o) in s.opacity_logits.iter_mut().enumerate() {
        *o = if i % 2 == 0 { -30.0 } else { 30.0 }; // alpha bytes 0 and 255
    }
    let bytes = spz::write(&s, SpzFlavor::Zstd404, Frame::Rub).unwrap();
    let Asset::Splats(back) = load(&bytes).unwrap() else {
        panic!()
    };
    assert!(back
        .opacity_logits
        .iter()
        .step_by(2)
        .all(|&o| o == f32::NEG_INFINITY));
    assert!(back
        .opacity_logits
        .iter()
        .skip(1)
        .step_by(2)
        .all(|&o| o == f32::INFINITY));
    let view = View::from_spec(
        &sn17_gpu::rig::orbit(1, 64, 2.0, 15.0, 49.1, [255, 255, 255]).views[0],
        1,
    );
    let img = CpuRenderer
        .render_splats(&back, &[view], &SplatOptions::default())
        .unwrap()
        .remove(0);
    // Opaque splats cover something; nothing turned into NaN garbage (NaN would render black 0).
    assert!(img.pixels().any(|p| p.0 != [255, 255, 255]));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An SPZ payload header claiming `n` points, followed by `zeros` zero bytes.
fn spz_payload(version: u32, n: u32, zeros: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + zeros);
    p.extend_from_slice(b"NGSP");
    p.extend_from_slice(&version.to_le_bytes());
    p.extend_from_slice(&n.to_le_bytes());
    p.extend_from_slice(&[3, 12, 0, 0]);
    p.resize(16 + zeros, 0);
    p
}

/// Compresses an SPZ header plus `zeros` zero bytes without holding them in memory.
fn bomb(codec: &str, n: u32, zeros: usize) -> Vec<u8> {
    use std::io::Write;
    let head = spz_payload(2, n, 0);
    let chunk = vec![0u8; 1 << 20];
    // Compressed bytes go to a shared buffer we read after the encoder is dropped.
    let out = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    struct Sink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w: Box<dyn Write> = if codec == "zstd" {
        Box::new(
            zstd::stream::write::Encoder::new(Sink(out.clone()), 1)
                .unwrap()
                .auto_finish(),
        )
    } else {
        Box::new(flate2::write::GzEncoder::new(
            Sink(out.clone()),
            flate2::Compression::fast(),
        ))
    };
    w.write_all(&head).unwrap();
    let mut left = zeros;
    while left > 0 {
        let k = left.min(chunk.len());
        w.write_all(&chunk[..k]).unwrap();
        left -= k;
    }
    drop(w);
    let v = out.borrow().clone();
    v
}

#[test]
fn gzip_and_zstd_bombs_stop_at_the_limit() {
    let limits = Limits {
        max_decompressed_bytes: 16 << 20,
        ..Limits::default()
    };
    let opts = LoadOptions {
        limits,
        ..Default::default()
    };
    for codec in ["zstd", "gzip"] {
        // 2M SH-3 points declare a 128 MB payload, carried as 128 MB of zeros.
        let b = bomb(codec, 2_000_000, 128 << 20);
        assert!(b.len() < (1 << 20), "{codec} bomb is {} bytes", b.len());
        let t = Instant::now();
        let e = assets::load_bytes(&b, &opts).unwrap_err();
        assert!(
            matches!(e, AssetError::DecompressedTooLarge { limit } if limit == 16 << 20),
            "{e}"
        );
        // inspect measures the real size but stops one byte past the limit.
        let i = assets::inspect::inspect(&b, &limits).unwrap();
        let v = i
            .broken_limits
            .iter()
            .find(|v| v.limit == "max_decompressed_bytes")
            .expect("reported");
        assert!(v.at_least && v.value == (16 << 20) + 1, "{v:?}");
        assert!(t.elapsed().as_secs_f32() < 5.0);

        // An honest small header followed by a long tail: only the payload is inflated.
        let b = bomb(codec, 10, 10 * 64 + (256 << 20));
        let t = Instant::now();
        let Asset::Splats(s) = assets::load_bytes(&b, &opts).unwrap().0 else {
            panic!()
        };
        assert_eq!(s.len(), 10);
        assert!(
            t.elapsed().as_secs_f32() < 1.0,
            "the 256 MiB tail was not decompressed"
        );
    }
}

#[test]
fn spz_header_lies_are_caught() {
    // Claims more points than the limit.
    let p = spz_payload(2, 50_000_000, 0);
    assert!(matches!(
        load(&zstd::bulk::compress(&p, 1).unwrap()),
        Err(AssetError::TooManyGaussians { .. })
    ));
    // Claims 1000 points, carries 10: truncated.
    let p = spz_payload(2, 1000, 10);
    assert!(matches!(load(&gzip(&p)), Err(AssetError::Truncated { .. })));
    // Unknown version and SH degree.
    let mut p = spz_payload(9, 1, 100);
    assert!(matches!(
        load(&gzip(&p)),
        Err(AssetError::UnsupportedSpzVersion(9))
    ));
    p = spz_payload(2, 1, 100);
    p[12] = 4;
    assert!(matches!(
        load(&gzip(&p)),
        Err(AssetError::UnsupportedShDegree(4))
    ));
    // Corrupt zstd.
    let mut z = zstd::bulk::compress(&spz_payload(2, 10, 1000), 1).unwrap();
    let n = z.len();
    z[n / 2..].iter_mut().for_each(|b| *b ^= 0x5a);
    assert!(matches!(
        load(&z),
        Err(AssetError::Decompress { codec: "zstd", .. }) | Err(AssetError::Truncated { .. })
    ));
    // v4 whose TOC points past the end of the file.
    let mut v4 = vec![0u8; 32];
    v4[..4].copy_from_slice(b"NGSP");
    v4[4] = 4;
    v4[8] = 4;
    v4[13] = 12;
    v4[15] = 5;
    v4[16] = 32;
    assert!(matches!(load(&v4), Err(AssetError::Truncated { .. })));
    // v4 whose stream sizes disagree with the header.
    let mut toc = v4.clone();
    for _ in 0..5 {
        toc.extend_from_slice(&1u64.to_le_bytes());
        toc.extend_from_slice(&999u64.to_le_bytes());
    }
    assert!(matches!(load(&toc), Err(AssetError::SpzHeader(_))));
}

#[test]
fn oversized_files_and_unknown_formats_are_refused() {
    let s = common::random_splats(10, 0, 1);
    let bytes = ply::write(&s, false);
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        assets::load_bytes(
            &bytes,
            &LoadOptions {
                limits,
                ..Default::default()
            }
        ),
        Err(AssetError::FileTooLarge { .. })
    ));
    assert!(matches!(
        load(b"hello world"),
        Err(AssetError::UnknownFormat { .. })
    ));
    assert!(matches!(load(b""), Err(AssetError::UnknownFormat { .. })));
}

#[test]
fn glb_with_external_uris_is_refused() {
    let doc = json!({
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 36, "uri": "https://evil.example/data.bin"}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0,0,0], "max": [1,1,0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0
    });
    let e = load(&common::make_glb(&doc, &[])).unwrap_err();
    assert!(
        matches!(&e, AssetError::ExternalUri(u) if u.contains("evil.example")),
        "{e}"
    );

    let img = json!({"images": [{"uri": "file:///etc/passwd"}], "textures": [{"source": 0}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]});
    let glb = common::triangle_glb(
        &[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        None,
        &[0, 1, 2],
        img,
    );
    assert!(matches!(load(&glb), Err(AssetError::ExternalUri(u)) if u.contains("passwd")));
}

/// A PNG signature and IHDR chunk declaring `w`×`h`, without pixel data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut p = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let crc = crc32(&ihdr);
    p.extend_from_slice(&13u32.to_be_bytes());
    p.extend_from_slice(&ihdr);
    p.extend_from_slice(&crc.to_be_bytes());
    // A first IDAT chunk (the decoder reads up to it for the header) and IEND.
    for (ty, data) in [
        (&b"IDAT"[..], &[0x78u8, 0x9c, 0x03, 0x00][..]),
        (&b"IEND"[..], &[][..]),
    ] {
        let mut chunk = ty.to_vec();
        chunk.extend_from_slice(data);
        p.extend_from_slice(&(data.len() as u32).to_be_bytes());
        p.extend_from_slice(&chunk);
        p.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    p
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A one-triangle GLB whose buffer holds `png` once and `images` images point at it; `textured`
/// makes the first one the material's base colour texture.
fn triangle_with_pngs(png: &[u8], images: usize, textured: bool) -> Vec<u8> {
    let mut bin = Vec::new();
    for p in [[0.0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] {
        for v in p {
            bin.extend_from_slice(&v.to_le_bytes());
        }
    }
    let img_off = bin.len();
    bin.extend_from_slice(png);
    let mut doc = json!({
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": bin.len()}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}, {"buffer": 0, "byteOffset": img_off, "byteLength": png.len()}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3", "min": [0,0,0], "max": [1,1,0]}],
        "images": vec![json!({"bufferView": 1, "mimeType": "image/png"}); images],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0
    });
    if textured {
        doc["textures"] = json!([{"source": 0}]);
        doc["materials"] = json!([{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]);
        doc["meshes"][0]["primitives"][0]["material"] = json!(0);
    }
    common::make_glb(&doc, &bin)
}

#[test]
fn glb_with_a_65k_texture_is_refused_before_decoding() {
    let glb = triangle_with_pngs(&png_header(65_535, 65_535), 1, true);
    let t = Instant::now();
    let e = load(&glb).unwrap_err();
    assert!(
        matches!(
            e,
            AssetError::TextureTooLarge {
                width: 65_535,
                height: 65_535,
                ..
            }
        ),
        "{e}"
    );
    assert!(t.elapsed().as_secs_f32() < 1.0);
    let i = assets::inspect::inspect(&glb, &Limits::default()).unwrap();
    assert_eq!(i.glb.as_ref().unwrap().textures[0].width, 65_535);
    assert!(i
        .broken_limits
        .iter()
        .any(|v| v.limit == "max_texture_pixels"));
}

#[test]
fn malformed_glbs_are_refused_without_panicking() {
    let good = common::colored_cube_glb();
    // Truncations at every length must be errors, never panics.
    for cut in (0..good.len()).step_by(7) {
        assert!(load(&good[..cut]).is_err(), "cut at {cut}");
    }
    // Accessor past the end of its view.
    let doc = json!({
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": 36}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 300, "type": "VEC3", "min": [0,0,0], "max": [1,1,0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}], "scenes": [{"nodes": [0]}], "scene": 0
    });
    let e = load(&common::make_glb(&doc, &[0u8; 36])).unwrap_err();
    assert!(matches!(e, AssetError::Gltf(_)), "{e}");
    // Index out of range.
    let glb = common::triangle_glb(
        &[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        None,
        &[0, 1, 7],
        json!({}),
    );
    assert!(matches!(load(&glb), Err(AssetError::Gltf(m)) if m.contains("out of range")));
    // Required extension we cannot honour (Draco).
    let glb = common::triangle_glb(
        &[[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        None,
        &[0, 1, 2],
        json!({"extensionsUsed": ["KHR_draco_mesh_compression"], "extensionsRequired": ["KHR_draco_mesh_compression"]}),
    );
    assert!(matches!(
        load(&glb),
        Err(AssetError::UnsupportedExtension(_)) | Err(AssetError::Gltf(_))
    ));
    // Too many triangles for the limit.
    let limits = Limits {
        max_triangles: 5,
        ..Limits::default()
    };
    let e = assets::load_bytes(
        &good,
        &LoadOptions {
            limits,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            AssetError::TooManyTriangles {
                count: 12,
                limit: 5
            }
        ),
        "{e}"
    );
}

/// A binary PLY whose vertex element follows an element `foo` with `count` records of `prop`.
fn ply_with_leading_element(format: &str, count: &str, prop: &str, body: &[u8]) -> Vec<u8> {
    let mut h = format!("ply\nformat {format} 1.0\nelement foo {count}\nproperty {prop} a\n");
    h.push_str("element vertex 1\n");
    for p in BASE {
        h.push_str(&format!("property float {p}\n"));
    }
    h.push_str("end_header\n");
    [h.as_bytes(), body].concat()
}

#[test]
fn leading_elements_with_overflowing_sizes_are_truncation_not_a_panic() {
    let body = [0u8; 14 * 4];
    // 2^62 ints = 2^64 bytes before the vertex records: the offset saturates, and adding the
    // vertex bytes to it used to overflow (a panic in debug builds).
    for count in [
        "4611686018427387904",
        "4611686018427387903",
        "18446744073709551615",
    ] {
        for prop in ["int", "double", "uchar"] {
            let bytes = ply_with_leading_element("binary_little_endian", count, prop, &body);
            let e = load(&bytes).unwrap_err();
            assert!(
                matches!(
                    e,
                    AssetError::Truncated { .. } | AssetError::PlyUnsupported(_)
                ),
                "{count} x {prop}: {e}"
            );
        }
    }
    // The same lie in ASCII: the skipped lines run out, a truncation, without looping 2^62 times.
    let t = Instant::now();
    let body = "1\n".repeat(40);
    let bytes = ply_with_leading_element("ascii", "4611686018427387904", "int", body.as_bytes());
    let e = load(&bytes).unwrap_err();
    assert!(matches!(e, AssetError::Truncated { actual: 40, .. }), "{e}");
    assert!(t.elapsed().as_secs_f32() < 1.0);
    // An honest leading element (two ints) is skipped and the vertex after it loads.
    let s = common::random_splats(1, 0, 3);
    let written = ply::write(&s, false);
    let head_end = ply::parse_header(&written).unwrap().body_offset;
    let head = std::str::from_utf8(&written[..head_end]).unwrap().replacen(
        "element vertex",
        "element foo 2\nproperty int a\nelement vertex",
        1,
    );
    let mut body = vec![7u8; 2 * 4];
    body.extend_from_slice(&written[head_end..]);
    let bytes = [head.as_bytes(), &body].concat();
    let Asset::Splats(back) = load(&bytes).unwrap() else {
        panic!("not splats")
    };
    assert_eq!(back.positions, s.positions);
}

#[test]
fn limits_at_u64_max_do_not_overflow() {
    let limits = Limits {
        max_file_bytes: u64::MAX,
        max_gaussians: u64::MAX,
        max_triangles: u64::MAX,
        max_texture_pixels: u64::MAX,
        max_decompressed_bytes: u64::MAX,
    };
    // inspect measures gzip/zstd output up to `limit + 1`, which used to wrap at u64::MAX.
    let s = common::random_splats(50, 1, 9);
    for flavor in [SpzFlavor::NianticV3, SpzFlavor::Zstd404] {
        let b = spz::write(&s, flavor, Frame::Rub).unwrap();
        let i = assets::inspect::inspect(&b, &limits).unwrap();
        let header = spz::read_header(&b).unwrap();
        assert_eq!(i.decompressed_bytes, Some(16 + header.payload_bytes()));
        assert!(i.broken_limits.is_empty(), "{:?}", i.broken_limits);
        assert_eq!(load_with(&b, limits).unwrap().0.kind(), "splats");
    }
    // Loads of every other format under the same limits.
    let ply_bytes = ply::write(&s, false);
    let glb = common::colored_cube_glb();
    for bytes in [&ply_bytes, &glb] {
        assert!(load_with(bytes, limits).is_ok());
        assert!(assets::inspect::inspect(bytes, &limits)
            .unwrap()
            .broken_limits
            .is_empty());
    }
}

fn load_with(bytes: &[u8], limits: Limits) -> Result<(Asset, assets::Format), AssetError> {
    assets::load_bytes(
        bytes,
        &LoadOptions {
            limits,
            ..Default::default()
        },
    )
}

#[test]
fn glb_whose_textures_sum_past_u64_is_reported_not_wrapped() {
    // 256 images sharing one PNG header of (2^27)² pixels (the largest side the PNG decoder
    // accepts is below 2^28): 2^56 decoded bytes each, so a plain sum wraps u64 to exactly 0.
    const SIDE: u32 = 1 << 27;
    let glb = triangle_with_pngs(&png_header(SIDE, SIDE), 256, false);
    let i = assets::inspect::inspect(&glb, &Limits::default()).unwrap();
    let textures = &i.glb.as_ref().unwrap().textures;
    assert_eq!(textures.len(), 256);
    assert_eq!(textures[255].width, SIDE);
    let v = i
        .broken_limits
        .iter()
        .find(|v| v.limit == "max_decompressed_bytes")
        .expect("decoded size reported");
    assert_eq!(v.value, u64::MAX, "saturated, not wrapped: {v:?}");
}

/// An ASCII PLY with the 14 base properties and one line of tokens per vertex.
fn ascii_ply(rows: &[[&str; 14]]) -> String {
    let mut s = format!("ply\nformat ascii 1.0\nelement vertex {}\n", rows.len());
    for p in BASE {
        s.push_str(&format!("property float {p}\n"));
    }
    s.push_str("end_header\n");
    for r in rows {
        s.push_str(&r.join(" "));
        s.push('\n');
    }
    s
}

/// A valid row in BASE order: x y z f_dc_0..2 opacity scale_0..2 rot_0..3.
const ROW: [&str; 14] = [
    "0.25", "-0.5", "0.125", "1", "0.5", "-1", "2", "-4", "-4.5", "-5", "1", "0", "0", "0",
];

#[test]
fn ascii_ply_with_nan_or_overflowing_values_is_refused_by_name() {
    assert!(load(ascii_ply(&[ROW, ROW]).as_bytes()).is_ok());
    // (column, token, property): NaN and infinities spelled every way Rust's parser accepts, and
    // a finite double that overflows f32.
    let cases = [
        (0, "nan", "x"),
        (1, "NaN", "y"),
        (2, "inf", "z"),
        (4, "-infinity", "f_dc_1"),
        (7, "1e300", "scale_0"),
        (10, "NAN", "rot_0"),
        (6, "nan", "opacity"),
    ];
    for (col, token, property) in cases {
        let mut bad = ROW;
        bad[col] = token;
        let e = load(ascii_ply(&[ROW, bad]).as_bytes()).unwrap_err();
        assert!(
            matches!(&e, AssetError::NonFinite { property: p, index: 1, .. } if p == property),
            "{token} in {property}: {e}"
        );
    }
    // ±inf opacity is the documented exception (SPZ alpha bytes 0/255 decode to it).
    let mut inf = ROW;
    inf[6] = "-inf";
    let Asset::Splats(s) = load(ascii_ply(&[ROW, inf]).as_bytes()).unwrap() else {
        panic!("splats")
    };
    assert_eq!(s.opacity_logits[1], f32::NEG_INFINITY);
    // Not a number at all: a value error naming the token.
    let mut word = ROW;
    word[3] = "red";
    let e = load(ascii_ply(&[ROW, word]).as_bytes()).unwrap_err();
    assert!(
        matches!(&e, AssetError::PlyValue { token: 17, detail } if detail.contains("red")),
        "{e}"
    );
}

#[test]
fn truncated_ascii_ply_is_refused_at_every_cut() {
    let text = ascii_ply(&[ROW, ROW, ROW]);
    let body = text.find("end_header\n").unwrap() + "end_header\n".len();
    // Every cut that drops at least the last token of the last vertex (cuts inside that token
    // leave a shorter, still valid number).
    let last_space = text.trim_end().rfind(' ').unwrap();
    for cut in body..=last_space {
        match load(&text.as_bytes()[..cut]) {
            Err(AssetError::Truncated { .. }) | Err(AssetError::PlyValue { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // Fewer lines than declared.
    let two = ascii_ply(&[ROW, ROW]).replace("element vertex 2", "element vertex 40");
    assert!(matches!(
        load(two.as_bytes()),
        Err(AssetError::Truncated { .. })
    ));
}

#[test]
fn inspect_lists_every_glb_limit_a_tight_setting_breaks() {
    let glb = common::colored_cube_glb();
    let tight = Limits {
        max_triangles: 11,
        max_file_bytes: 100,
        ..Limits::default()
    };
    let i = assets::inspect::inspect(&glb, &tight).unwrap();
    assert_eq!(i.kind, "mesh");
    let broken: Vec<(&str, u64, u64)> = i
        .broken_limits
        .iter()
        .map(|v| (v.limit, v.value, v.max))
        .collect();
    assert_eq!(
        broken,
        [
            ("max_file_bytes", glb.len() as u64, 100),
            ("max_triangles", 12, 11)
        ]
    );
    assert!(i.broken_limits.iter().all(|v| !v.at_least));
    // With limits broken, inspect does not attempt the full load; at the edge, nothing breaks.
    assert!(i.load_error.is_none() && i.bounds.is_none());
    let edge = Limits {
        max_triangles: 12,
        max_file_bytes: glb.len() as u64,
        ..Limits::default()
    };
    let i = assets::inspect::inspect(&glb, &edge).unwrap();
    assert!(i.broken_limits.is_empty(), "{:?}", i.broken_limits);
    assert!(i.bounds.is_some(), "loaded when nothing is broken");
}
