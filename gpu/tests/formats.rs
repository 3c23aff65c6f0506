//! Format round trips and known values: PLY (binary, ASCII, big-endian), SPZ (404 zstd, Niantic
//! gzip v2/v3, v4), SH degree detection, coordinate conventions, and the real shared files.

mod common;

use sn17_gpu::assets::splats::{rest_coeffs, sigmoid, Frame, Splats};
use sn17_gpu::assets::spz::{self, SpzContainer, SpzFlavor};
use sn17_gpu::assets::{self, ply, Asset, Format, LoadOptions};
use sn17_gpu::Limits;

fn load_splats(bytes: &[u8]) -> Splats {
    match assets::load_bytes(bytes, &LoadOptions::default()).expect("loads") {
        (Asset::Splats(s), _) => s,
        _ => panic!("expected splats"),
    }
}

#[test]
fn ply_binary_round_trip_is_exact_for_every_sh_degree() {
    for degree in 0..=3u8 {
        let s = common::random_splats(500, degree, 7 + degree as u64);
        for normals in [false, true] {
            let bytes = ply::write(&s, normals);
            let back = load_splats(&bytes);
            assert_eq!(
                back.sh_degree, degree,
                "SH degree detected from the f_rest count"
            );
            assert_eq!(back.positions, s.positions);
            assert_eq!(back.sh_dc, s.sh_dc);
            assert_eq!(
                back.sh_rest, s.sh_rest,
                "channel-major PLY order maps back to coefficient major"
            );
            assert_eq!(back.opacity_logits, s.opacity_logits);
            assert_eq!(back.log_scales, s.log_scales);
            for (a, b) in back.rotations.iter().zip(&s.rotations) {
                for k in 0..4 {
                    assert!((a[k] - b[k]).abs() < 1e-6);
                }
            }
        }
    }
}

#[test]
fn ply_writer_emits_the_strict_404_dialect() {
    let s = common::random_splats(3, 1, 1);
    let bytes = ply::write(&s, false);
    let header_end = bytes
        .windows(11)
        .position(|w| w == b"end_header\n")
        .unwrap()
        + 11;
    let header = std::str::from_utf8(&bytes[..header_end]).unwrap();
    let mut lines = header.lines();
    assert_eq!(lines.next(), Some("ply"));
    assert_eq!(lines.next(), Some("format binary_little_endian 1.0"));
    assert_eq!(lines.next(), Some("element vertex 3"));
    let props: Vec<&str> = lines
        .filter_map(|l| l.strip_prefix("property float "))
        .collect();
    let expected: Vec<String> = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..9).map(|i| format!("f_rest_{i}")))
        .chain(
            [
                "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
            ]
            .iter()
            .map(|s| s.to_string()),
        )
        .collect();
    assert_eq!(props, expected);
    assert!(!header.contains('\r') && !header.contains("comment"));
    assert_eq!(bytes.len(), header_end + 3 * expected.len() * 4);
    // f_rest is channel major: f_rest_0..2 are the red coefficients of band 1.
    let rec = &bytes[header_end..header_end + expected.len() * 4];
    let f = |i: usize| f32::from_le_bytes(rec[i * 4..i * 4 + 4].try_into().unwrap());
    assert_eq!(f(6), s.sh_rest[0]); // coeff 0, red
    assert_eq!(f(7), s.sh_rest[3]); // coeff 1, red
    assert_eq!(f(9), s.sh_rest[1]); // coeff 0, green
}

fn ascii_ply(props: &[&str], rows: &[Vec<f32>]) -> Vec<u8> {
    let mut t = format!(
        "ply\r\nformat ascii 1.0\r\ncomment made by a test\r\nelement vertex {}\r\n",
        rows.len()
    );
    for p in props {
        t.push_str(&format!("property float {p}\r\n"));
    }
    t.push_str("element face 0\r\nproperty list uchar int vertex_indices\r\nend_header\r\n");
    for r in rows {
        t.push_str(
            &r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        );
        t.push('\n');
    }
    t.into_bytes()
}

const BASE: [&str; 14] = [
    "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
    "rot_0", "rot_1", "rot_2", "rot_3",
];

#[test]
fn ascii_ply_with_crlf_comments_and_reordered_properties_loads() {
    // Reordered and with an unknown property: matched by name, the extra skipped.
    let props = [
        "opacity", "extra", "rot_0", "rot_1", "rot_2", "rot_3", "x", "y", "z", "f_dc_0", "f_dc_1",
        "f_dc_2", "scale_0", "scale_1", "scale_2",
    ];
    let rows = vec![vec![
        1.5, 99.0, 2.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, -4.0, -4.5, -5.0,
    ]];
    let s = load_splats(&ascii_ply(&props, &rows));
    assert_eq!(s.len(), 1);
    assert_eq!(s.positions[0], [0.1, 0.2, 0.3]);
    assert_eq!(s.sh_dc[0], [0.4, 0.5, 0.6]);
    assert_eq!(s.opacity_logits[0], 1.5);
    assert_eq!(s.log_scales[0], [-4.0, -4.5, -5.0]);
    assert_eq!(
        s.rotations[0],
        [1.0, 0.0, 0.0, 0.0],
        "rot_0 = w = 2 normalised"
    );
    assert_eq!(s.sh_degree, 0);
}

#[test]
fn big_endian_and_double_properties_load() {
    let mut h = String::from("ply\nformat binary_big_endian 1.0\nelement vertex 2\n");
    for p in BASE {
        let ty = if p == "x" { "double" } else { "float" };
        h.push_str(&format!("property {ty} {p}\n"));
    }
    h.push_str("end_header\n");
    let mut b = h.into_bytes();
    for i in 0..2 {
        for p in BASE {
            let v: f32 = match p {
                "x" => 1.25 + i as f32,
                "rot_0" => 1.0,
                "opacity" => -1.0,
                _ => 0.5,
            };
            if p == "x" {
                b.extend_from_slice(&(v as f64).to_be_bytes());
            } else {
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    let s = load_splats(&b);
    assert_eq!(s.positions[1], [2.25, 0.5, 0.5]);
    assert_eq!(s.opacity_logits, vec![-1.0, -1.0]);
    assert!(matches!(
        assets::detect(&b).unwrap(),
        Format::Ply(ply::PlyFormat::BinaryBigEndian)
    ));
}

fn spz_close(a: &Splats, b: &Splats) {
    assert_eq!(a.len(), b.len());
    assert_eq!(a.sh_degree, b.sh_degree);
    for i in 0..a.len() {
        for k in 0..3 {
            // 12 fractional bits: half a step is 1/8192.
            assert!(
                (a.positions[i][k] - b.positions[i][k]).abs() <= 0.5 / 4096.0 + 1e-6,
                "position {i}"
            );
            // Colour byte = f_dc·38.25 + 127.5: half a step is 1/76.5.
            let clamped = (a.sh_dc[i][k] * 38.25 + 127.5).clamp(0.0, 255.0);
            let want = (clamped - 127.5) / 38.25;
            assert!(
                (want - b.sh_dc[i][k]).abs() <= 0.5 / 38.25 + 1e-5,
                "colour {i}"
            );
            // Scale byte = (log s + 10)·16.
            assert!(
                (a.log_scales[i][k] - b.log_scales[i][k]).abs() <= 0.5 / 16.0 + 1e-5,
                "scale {i}"
            );
        }
        let (oa, ob) = (sigmoid(a.opacity_logits[i]), sigmoid(b.opacity_logits[i]));
        assert!(
            (oa - ob).abs() <= 0.5 / 255.0 + 1e-5,
            "opacity {i}: {oa} vs {ob}"
        );
        // Same rotation up to sign.
        let d: f32 = (0..4).map(|k| a.rotations[i][k] * b.rotations[i][k]).sum();
        assert!(d.abs() > 0.98, "rotation {i}: |dot| = {}", d.abs());
    }
    let k = rest_coeffs(a.sh_degree) * 3;
    for (j, (x, y)) in a.sh_rest.iter().zip(&b.sh_rest).enumerate() {
        // 5 bits for band 1 (step 8/128), 4 bits above (16/128).
        let step = if j % k < 9 { 8.0 / 128.0 } else { 16.0 / 128.0 };
        assert!(
            (x.clamp(-1.0, 127.0 / 128.0) - y).abs() <= step / 2.0 + 1.0 / 128.0,
            "sh {j}: {x} vs {y}"
        );
    }
}

#[test]
fn ply_to_spz_and_back_stays_within_quantisation() {
    for degree in [0u8, 3] {
        let mut s = common::random_splats(400, degree, 99);
        for o in &mut s.opacity_logits {
            *o = o.clamp(-4.0, 4.0);
        }
        for flavor in [SpzFlavor::Zstd404, SpzFlavor::NianticV3] {
            let bytes = spz::write(&s, flavor, Frame::Rub).unwrap();
            let expect = if flavor == SpzFlavor::Zstd404 {
                SpzContainer::Zstd404
            } else {
                SpzContainer::Gzip
            };
            assert_eq!(spz::sniff(&bytes), Some(expect));
            let back = load_splats(&bytes);
            spz_close(&s, &back);
            // And PLY again: a second SPZ pass is lossless (already quantised).
            let again = load_splats(
                &spz::write(&load_splats(&ply::write(&back, false)), flavor, Frame::Rub).unwrap(),
            );
            assert_eq!(again.positions, back.positions);
            assert_eq!(again.sh_dc, back.sh_dc);
        }
    }
}

#[test]
fn spz_404_payload_is_byte_exact_v2() {
    let s = Splats {
        positions: vec![[1.0, -0.5, 0.000_122_070_31]],
        log_scales: vec![[-10.0, 0.0, 5.9375]],
        rotations: vec![[-1.0, 0.0, 0.0, 0.0]],
        opacity_logits: vec![0.0],
        sh_dc: vec![[0.0, 1.0, -1.0]],
        sh_rest: vec![0.0; 9],
        sh_degree: 1,
        antialiased: true,
    };
    let z = spz::write(&s, SpzFlavor::Zstd404, Frame::Rdf).unwrap();
    let payload = zstd::bulk::decompress(&z, 1 << 20).unwrap();
    let mut want = Vec::new();
    want.extend_from_slice(b"NGSP");
    want.extend_from_slice(&2u32.to_le_bytes());
    want.extend_from_slice(&1u32.to_le_bytes());
    want.extend_from_slice(&[1, 12, 1, 0]);
    want.extend_from_slice(&[0x00, 0x10, 0x00, 0x00, 0xf8, 0xff, 0x01, 0x00, 0x00]); // 4096, -2048, 0.5 -> round 1 (half away)
    want.push(128); // sigmoid(0)·255 = 127.5 -> 128
    want.extend_from_slice(&[128, 166, 89]); // 127.5 -> 128, 165.75 -> 166, 89.25 -> 89
    want.extend_from_slice(&[0, 160, 255]); // (s + 10)·16
    want.extend_from_slice(&[128, 128, 128]); // w < 0 negated: identity
    want.extend_from_slice(&[128; 9]);
    assert_eq!(payload, want);
}

#[test]
fn coordinate_frames_are_converted_only_when_asked() {
    let s = common::random_splats(50, 3, 5);
    let stored_y = |bytes: &[u8]| {
        use std::io::Read;
        let mut v = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut v)
            .unwrap();
        let b = &v[16 + 3..16 + 6];
        ((b[0] as i32 | (b[1] as i32) << 8 | (b[2] as i32) << 16) << 8 >> 8) as f32 / 4096.0
    };
    let step = 1.0 / 4096.0;
    // An RDF (COLMAP, +Y down) source is stored RUB: y negated in the file.
    let from_rdf = spz::write(&s, SpzFlavor::NianticV3, Frame::Rdf).unwrap();
    assert!((stored_y(&from_rdf) + s.positions[0][1]).abs() <= step);
    // A RUB (+Y up) source is stored as is.
    let from_rub = spz::write(&s, SpzFlavor::NianticV3, Frame::Rub).unwrap();
    assert!((stored_y(&from_rub) - s.positions[0][1]).abs() <= step);
    // Reading: RUB as stored by default (sn17's render world is +Y up) ...
    let (rub, _) = spz::read(&from_rdf, &Limits::default(), Frame::Rub).unwrap();
    assert!((rub.positions[0][1] + s.positions[0][1]).abs() <= step);
    assert!((rub.positions[0][2] + s.positions[0][2]).abs() <= step);
    let q = s.rotations[0];
    let flipped = [q[0], q[1], -q[2], -q[3]];
    let dot: f32 = (0..4).map(|k| flipped[k] * rub.rotations[0][k]).sum();
    assert!(
        dot.abs() > 0.98,
        "quaternion conjugated by the 180° turn about X"
    );
    // ... or converted back to RDF, which round-trips the source frame.
    let (rdf, _) = spz::read(&from_rdf, &Limits::default(), Frame::Rdf).unwrap();
    spz_close(&s, &rdf);
    // 404's variant is never converted, whatever is asked.
    let z = spz::write(&s, SpzFlavor::Zstd404, Frame::Rdf).unwrap();
    let (a, _) = spz::read(&z, &Limits::default(), Frame::Rdf).unwrap();
    let (b, _) = spz::read(&z, &Limits::default(), Frame::Rub).unwrap();
    assert_eq!(a, b);
    spz_close(&s, &a);
}

#[test]
fn rotate_x180_twice_is_identity_and_flips_odd_sh() {
    let s = common::random_splats(20, 3, 11);
    let mut t = s.clone();
    t.rotate_x180();
    assert_ne!(t, s);
    // Band 1 coefficient 0 (∝ y) flips; coefficient 2 (∝ x) does not.
    assert_eq!(t.sh_rest[0], -s.sh_rest[0]);
    assert_eq!(t.sh_rest[6], s.sh_rest[6]);
    t.rotate_x180();
    assert_eq!(t, s);
}

#[test]
fn shared_ply_files_have_the_documented_contents() {
    let Some(p) = common::shared_asset("hamburger.ply") else {
        return;
    };
    let (a, f) = assets::load_path(&p, &LoadOptions::default()).unwrap();
    assert_eq!(f, Format::Ply(ply::PlyFormat::BinaryLittleEndian));
    let Asset::Splats(s) = a else { panic!() };
    assert_eq!(s.len(), 52_709);
    assert_eq!(s.sh_degree, 0);
    let b = s.bounds().unwrap();
    assert!(
        (b.min[0] + 0.4792).abs() < 1e-3 && (b.max[2] - 0.5078).abs() < 1e-3,
        "{b:?}"
    );

    let Some(p) = common::shared_asset("lod2_tile_0.ply") else {
        return;
    };
    let Asset::Splats(s) = assets::load_path(&p, &LoadOptions::default()).unwrap().0 else {
        panic!()
    };
    assert_eq!((s.len(), s.sh_degree), (6_831, 3));
    // Stored quaternions are unnormalised (|q| up to 2.39); we normalise on load.
    for q in &s.rotations {
        let n: f32 = q.iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-4);
    }
}

#[test]
fn shared_spz_files_load_in_every_container() {
    let cases = [
        ("fourth_st.spz", SpzContainer::Gzip, 131_199, 3u8, true),
        (
            "robocop_with_hammer_in_one_hand.spz",
            SpzContainer::Zstd404,
            267_776,
            0,
            false,
        ),
        ("minimal-v3.spz", SpzContainer::Gzip, 4, 0, false),
        ("minimal-v4.spz", SpzContainer::NianticV4, 4, 0, false),
    ];
    for (name, container, n, degree, aa) in cases {
        let Some(p) = common::shared_asset(name) else {
            return;
        };
        let (a, f) = assets::load_path(&p, &LoadOptions::default()).unwrap();
        assert_eq!(f, Format::Spz(container), "{name}");
        let Asset::Splats(s) = a else { panic!() };
        assert_eq!(
            (s.len(), s.sh_degree, s.antialiased),
            (n, degree, aa),
            "{name}"
        );
        assert!(s.positions.iter().flatten().all(|v| v.is_finite()));
    }
    // robocop's documented bbox (404 frame, no conversion).
    let p = common::shared_asset("robocop_with_hammer_in_one_hand.spz").unwrap();
    let Asset::Splats(s) = assets::load_path(&p, &LoadOptions::default()).unwrap().0 else {
        panic!()
    };
    let b = s.bounds().unwrap();
    assert!(
        (b.min[1] + 0.499).abs() < 2e-3 && (b.max[0] - 0.3296).abs() < 2e-3,
        "{b:?}"
    );
    // The two minimal files describe the same 4 splats: v3 (gzip) and v4 (zstd streams) agree.
    let v3 = load_splats(&std::fs::read(common::shared_asset("minimal-v3.spz").unwrap()).unwrap());
    let v4 = load_splats(&std::fs::read(common::shared_asset("minimal-v4.spz").unwrap()).unwrap());
    assert_eq!(v3.positions, v4.positions);
    assert_eq!(v3.sh_dc, v4.sh_dc);
    for (a, b) in v3.rotations.iter().zip(&v4.rotations) {
        assert!((0..4).all(|k| (a[k] - b[k]).abs() < 1e-6));
    }
    // Raw (RUB) bbox as documented: [-1, 0, 0] .. [0, 0, 1].
    let (raw, _) = spz::read(
        &std::fs::read(common::shared_asset("minimal-v3.spz").unwrap()).unwrap(),
        &Limits::default(),
        Frame::Rub,
    )
    .unwrap();
    let b = raw.bounds().unwrap();
    assert_eq!((b.min, b.max), ([-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]));
}

#[test]
fn inspect_reports_counts_and_bounds() {
    let s = common::random_splats(100, 2, 3);
    let bytes = spz::write(&s, SpzFlavor::Zstd404, Frame::Rub).unwrap();
    let i = assets::inspect::inspect(&bytes, &Limits::default()).unwrap();
    assert_eq!(i.format, "spz-404-zstd");
    assert_eq!((i.gaussians, i.sh_degree), (Some(100), Some(2)));
    assert!(i.broken_limits.is_empty() && i.load_error.is_none() && i.bounds.is_some());
    let json = serde_json::to_value(&i).unwrap();
    assert_eq!(json["kind"], "splats");
    let tight = Limits {
        max_gaussians: 10,
        max_decompressed_bytes: 100,
        ..Limits::default()
    };
    let i = assets::inspect::inspect(&bytes, &tight).unwrap();
    let names: Vec<&str> = i.broken_limits.iter().map(|v| v.limit).collect();
    assert_eq!(names, ["max_gaussians", "max_decompressed_bytes"]);
    assert!(
        i.broken_limits[1].at_least,
        "decompression stopped at the limit"
    );
}
