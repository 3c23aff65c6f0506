//! Format round trips and known values: PLY (binary, ASCII, big-endian), SPZ (404 zstd, Niantic
//! gzip v2/v3, v4), SH degree detection, coordinate conventions, and the real shared files.

mod common;

use sn17_gpu::assets::splats::{normalize_quat, rest_coeffs, sigmoid, Frame, Splats};
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

/// Niantic's v2 payload written straight from the format table (splat-era.md §3.2), independent
/// of `spz::write`: 16-byte header, then positions, alphas, colours, scales, rotations, SH.
fn v2_payload_per_the_format(s: &Splats, flags: u8) -> Vec<u8> {
    let n = s.len();
    let mut p = Vec::new();
    p.extend_from_slice(&0x5053_474e_u32.to_le_bytes());
    p.extend_from_slice(&2u32.to_le_bytes());
    p.extend_from_slice(&(n as u32).to_le_bytes());
    p.extend_from_slice(&[s.sh_degree, 12, flags, 0]);
    let byte = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    for pos in &s.positions {
        for &v in pos {
            let q = (v * 4096.0).round() as i32;
            p.extend_from_slice(&q.to_le_bytes()[..3]);
        }
    }
    p.extend(s.opacity_logits.iter().map(|&o| byte(sigmoid(o) * 255.0)));
    for c in &s.sh_dc {
        p.extend(c.iter().map(|&v| byte(v * 0.15 * 255.0 + 127.5)));
    }
    for l in &s.log_scales {
        p.extend(l.iter().map(|&v| byte((v + 10.0) * 16.0)));
    }
    for &q in &s.rotations {
        let q = normalize_quat(q);
        let sign = if q[0] < 0.0 { -1.0 } else { 1.0 };
        p.extend(q[1..].iter().map(|&c| byte(c * sign * 127.5 + 127.5)));
    }
    // Coefficient-major with RGB innermost (the same order `Splats::sh_rest` keeps).
    let k = rest_coeffs(s.sh_degree) * 3;
    for i in 0..n {
        for (j, &x) in s.sh_rest[i * k..(i + 1) * k].iter().enumerate() {
            let bucket = if j < 9 { 8 } else { 16 };
            let q = (x * 128.0).round() as i32 + 128;
            p.push(((q + bucket / 2) / bucket * bucket).clamp(0, 255) as u8);
        }
    }
    p
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut v = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut v)
        .unwrap();
    v
}

#[test]
fn niantic_v2_gzip_written_per_the_format_loads_within_quantisation() {
    for degree in [0u8, 1, 2] {
        let mut s = common::random_splats(300, degree, 40 + degree as u64);
        for o in &mut s.opacity_logits {
            *o = o.clamp(-4.0, 4.0);
        }
        let payload = v2_payload_per_the_format(&s, 0x1);
        let file = gzip(&payload);
        let (a, f) = assets::load_bytes(&file, &LoadOptions::default()).unwrap();
        assert_eq!(f, Format::Spz(SpzContainer::Gzip));
        let Asset::Splats(back) = a else {
            panic!("splats")
        };
        assert!(back.antialiased, "flag 0x1");
        // Niantic files store RUB, sn17's default frame: loaded as stored.
        spz_close(&s, &back);
        let h = spz::read_header(&file).unwrap();
        assert_eq!(
            (h.version, h.num_points, h.sh_degree),
            (2, 300, degree as u32)
        );
        // The 404 writer emits the same v2 payload, byte for byte, only in zstd.
        let z = spz::write(&s, SpzFlavor::Zstd404, Frame::Rub).unwrap();
        let mut ours = zstd::bulk::decompress(&z, 1 << 24).unwrap();
        ours[14] |= 0x1;
        assert_eq!(ours, payload, "degree {degree}");
        // Asked for RDF, a Niantic v2 file is turned 180° about X (y and z negated).
        let (rdf, _) = spz::read(&file, &Limits::default(), Frame::Rdf).unwrap();
        assert_eq!(rdf.positions[0][0], back.positions[0][0]);
        assert_eq!(rdf.positions[0][1], -back.positions[0][1]);
        assert_eq!(rdf.positions[0][2], -back.positions[0][2]);
    }
}

/// Repacks a v3 gzip file as Niantic v4: 32-byte header, `extension` bytes (flag 0x2 when
/// present), the TOC, then one zstd stream per non-empty attribute block.
fn v4_from_v3(v3: &[u8], flags: u8, extension: &[u8]) -> Vec<u8> {
    let payload = gunzip(v3);
    let n = u32::from_le_bytes(payload[8..12].try_into().unwrap()) as usize;
    let degree = payload[12];
    let sizes = [9 * n, n, 3 * n, 3 * n, 4 * n, 3 * rest_coeffs(degree) * n];
    let mut streams = Vec::new();
    let mut at = 16;
    for s in sizes.into_iter().filter(|&s| s > 0) {
        streams.push((s, zstd::bulk::compress(&payload[at..at + s], 3).unwrap()));
        at += s;
    }
    assert_eq!(at, payload.len());
    let toc = 32 + extension.len();
    let mut out = Vec::new();
    out.extend_from_slice(b"NGSP");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&[degree, payload[13], flags, streams.len() as u8]);
    out.extend_from_slice(&(toc as u32).to_le_bytes());
    out.resize(32, 0);
    out.extend_from_slice(extension);
    for (raw, z) in &streams {
        out.extend_from_slice(&(z.len() as u64).to_le_bytes());
        out.extend_from_slice(&(*raw as u64).to_le_bytes());
    }
    for (_, z) in &streams {
        out.extend_from_slice(z);
    }
    out
}

#[test]
fn niantic_v4_with_sh_and_the_extension_flag_round_trips() {
    // An opaque extension record (type, length, data): the reader finds the TOC by its offset
    // and does not interpret extensions, so their bytes must not shift the attribute streams.
    let mut ext = Vec::new();
    ext.extend_from_slice(&0xadbe_0001u32.to_le_bytes());
    ext.extend_from_slice(&12u32.to_le_bytes());
    ext.extend_from_slice(&[0x5a; 12]);
    for degree in [1u8, 3] {
        let mut s = common::random_splats(250, degree, 70 + degree as u64);
        for o in &mut s.opacity_logits {
            *o = o.clamp(-4.0, 4.0);
        }
        s.antialiased = true;
        let v3 = spz::write(&s, SpzFlavor::NianticV3, Frame::Rub).unwrap();
        let from_v3 = load_splats(&v3);
        for (flags, extension) in [(0x1, &[][..]), (0x1 | 0x2, &ext[..])] {
            let v4 = v4_from_v3(&v3, flags, extension);
            let (a, f) = assets::load_bytes(&v4, &LoadOptions::default()).unwrap();
            assert_eq!(f, Format::Spz(SpzContainer::NianticV4));
            let Asset::Splats(back) = a else {
                panic!("splats")
            };
            // Same payload, other container: identical splats, and within quantisation of s.
            assert_eq!(back, from_v3, "degree {degree}, flags {flags:#x}");
            assert!(back.antialiased && back.sh_degree == degree);
            spz_close(&s, &back);
            let i = assets::inspect::inspect(&v4, &Limits::default()).unwrap();
            assert_eq!(i.format, "spz-v4");
            assert_eq!(
                (i.gaussians, i.sh_degree, i.antialiased),
                (Some(250), Some(degree), Some(true))
            );
        }
    }
}

/// Rewrites a `ply::write` file with `pre` bytes of a leading property and `post` extra floats
/// after each record, declaring them in the header.
fn ply_with_padding(bytes: &[u8], pre: Option<&str>, post: usize) -> Vec<u8> {
    let h = ply::parse_header(bytes).unwrap();
    let head = std::str::from_utf8(&bytes[..h.body_offset]).unwrap();
    let count = format!("element vertex {}\n", h.vertex_count);
    let mut new_head = head.replacen(
        &count,
        &format!(
            "{count}{}",
            pre.map_or(String::new(), |p| format!("property {p} lead\n"))
        ),
        1,
    );
    let extra: String = (0..post)
        .map(|i| format!("property float extra_{i}\n"))
        .collect();
    new_head = new_head.replacen("end_header\n", &format!("{extra}end_header\n"), 1);
    let pre_len = match pre {
        Some("uchar") => 1,
        Some("short") => 2,
        Some(_) => 4,
        None => 0,
    };
    let mut out = new_head.into_bytes();
    for rec in bytes[h.body_offset..].chunks_exact(h.stride) {
        out.extend(std::iter::repeat_n(0x3c, pre_len));
        out.extend_from_slice(rec);
        for i in 0..post {
            out.extend_from_slice(&(i as f32).to_le_bytes());
        }
    }
    out
}

#[test]
fn unaligned_and_wide_records_decode_like_the_fast_path() {
    for degree in [0u8, 3] {
        let s = common::random_splats(40_000, degree, 17);
        let plain = ply::write(&s, true);
        let fast = load_splats(&plain);
        assert_eq!(fast.positions, s.positions);
        assert_eq!(fast.sh_rest, s.sh_rest);
        // A uchar first shifts every float off 4-byte alignment; 80 extra floats make a record
        // wider than the fast path's stack buffer: both take the general decoder.
        for (pre, post) in [
            (Some("uchar"), 0),
            (Some("short"), 3),
            (None, 80),
            (Some("int"), 1),
        ] {
            let other = load_splats(&ply_with_padding(&plain, pre, post));
            assert_eq!(other, fast, "degree {degree}, {pre:?} + {post} floats");
        }
    }
    // A non-finite value deep in a large file is named with its global index on every path.
    let mut s = common::random_splats(40_000, 3, 18);
    s.sh_rest[33_333 * 45 + 44] = f32::NAN;
    let plain = ply::write(&s, false);
    for bytes in [plain.clone(), ply_with_padding(&plain, Some("uchar"), 0)] {
        let e = assets::load_bytes(&bytes, &LoadOptions::default()).unwrap_err();
        assert!(
            matches!(&e, sn17_gpu::AssetError::NonFinite { property, index: 33_333, .. } if property == "f_rest_44"),
            "{e}"
        );
    }
}
