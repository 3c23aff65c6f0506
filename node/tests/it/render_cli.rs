//! `sn17 render` and `sn17 inspect` through the binary, on the real files of `../shared/assets`.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

fn assets() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/assets"));
    if p.join("hamburger.ply").is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let w = u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes"));
    let h = u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes"));
    (w, h)
}

#[test]
fn render_writes_views_in_rig_order_and_a_grid() {
    let Some(dir) = assets() else { return };
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(BIN)
        .args([
            "render",
            "--backend",
            "cpu",
            "--views",
            "4",
            "--size",
            "64",
            "--out",
        ])
        .arg(out.path())
        .arg(dir.join("hamburger.ply"))
        .status()
        .expect("run sn17");
    assert!(status.success());
    for i in 0..4 {
        let view = out.path().join(format!("view_{i:03}.png"));
        assert_eq!(png_size(&view), (64, 64), "{}", view.display());
    }
    assert!(
        !out.path().join("view_004.png").exists(),
        "more views than asked"
    );
    let (gw, gh) = png_size(&out.path().join("grid.png"));
    assert!(gw >= 64 && gh >= 64, "grid {gw}x{gh}");
    // Different angles of a non-symmetric object give different images.
    let a = std::fs::read(out.path().join("view_000.png")).expect("view 0");
    let b = std::fs::read(out.path().join("view_002.png")).expect("view 2");
    assert_ne!(a, b);
}

#[test]
fn render_of_a_folder_writes_one_subfolder_per_asset_and_reports_failures() {
    let Some(dir) = assets() else { return };
    let input = tempfile::tempdir().expect("tempdir");
    std::fs::copy(dir.join("Box.glb"), input.path().join("box.glb")).expect("copy");
    std::fs::copy(dir.join("minimal-v3.spz"), input.path().join("tiny.spz")).expect("copy");
    std::fs::write(input.path().join("broken.ply"), b"ply\nformat nonsense\n").expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    let run = Command::new(BIN)
        .args([
            "--json",
            "render",
            "--backend",
            "cpu",
            "--views",
            "2",
            "--size",
            "32",
            "--out",
        ])
        .arg(out.path())
        .arg(input.path())
        .output()
        .expect("run sn17");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        !run.status.success(),
        "a broken asset must fail the command: {stdout}"
    );
    for stem in ["box", "tiny"] {
        let view = out.path().join(stem).join("view_001.png");
        assert_eq!(png_size(&view), (32, 32), "{}", view.display());
    }
    assert!(!out.path().join("broken").join("view_000.png").exists());
    assert!(
        stdout.contains("broken"),
        "the failure is reported: {stdout}"
    );
}

#[test]
fn inspect_reports_counts_and_limits_as_json() {
    let Some(dir) = assets() else { return };
    let run = Command::new(BIN)
        .args(["--json", "inspect"])
        .arg(dir.join("hamburger.ply"))
        .output()
        .expect("run sn17");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    let text = v.to_string();
    assert!(text.contains("ply") || text.contains("Ply"), "{text}");
    let count = ["gaussians", "count", "splats"]
        .iter()
        .find_map(|k| find_u64(&v, k))
        .unwrap_or(0);
    assert!(count > 1000, "a real splat file has many gaussians: {text}");

    // A tight limit is reported as broken, naming it.
    let run = Command::new(BIN)
        .args(["inspect", "--max-gaussians", "10"])
        .arg(dir.join("hamburger.ply"))
        .output()
        .expect("run sn17");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(all.contains("gaussian"), "{all}");
}

fn find_u64(v: &serde_json::Value, key: &str) -> Option<u64> {
    match v {
        serde_json::Value::Object(m) => m
            .get(key)
            .and_then(|x| x.as_u64())
            .or_else(|| m.values().find_map(|x| find_u64(x, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_u64(x, key)),
        _ => None,
    }
}

/// Runs `sn17 render --backend cpu ARGS --out OUT ASSET`, asserting success.
fn render(asset: &Path, out: &Path, args: &[&str]) {
    let run = Command::new(BIN)
        .args(["render", "--backend", "cpu"])
        .args(args)
        .arg("--out")
        .arg(out)
        .arg(asset)
        .output()
        .expect("run sn17");
    assert!(
        run.status.success(),
        "sn17 render {args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn rgb(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_rgb8()
}

/// The four corner pixels, which lie outside a unit-cube object at the rigs' distances.
fn corners(img: &image::RgbImage) -> [[u8; 3]; 4] {
    let (w, h) = (img.width() - 1, img.height() - 1);
    [(0, 0), (w, 0), (0, h), (w, h)].map(|(x, y)| img.get_pixel(x, y).0)
}

#[test]
fn judge_rig_writes_twelve_views_and_a_gray_studio_grid() {
    let Some(dir) = assets() else { return };
    let out = tempfile::tempdir().expect("tempdir");
    render(
        &dir.join("Box.glb"),
        out.path(),
        &["--rig", "judge", "--size", "32"],
    );
    // 8 white views, then 4 gray, in rig order; nothing more.
    for i in 0..12 {
        let img = rgb(&out.path().join(format!("view_{i:03}.png")));
        assert_eq!(img.dimensions(), (32, 32), "view {i}");
        let bg = if i < 8 { [255; 3] } else { [0x80; 3] };
        assert_eq!(corners(&img), [bg; 4], "background of view {i}");
        assert!(img.pixels().any(|p| p.0 != bg), "view {i} shows the object");
    }
    assert!(!out.path().join("view_012.png").exists(), "only 12 views");
    // The grid is its own 4-view render, 2×2 cells of 32 px with 5 px black gaps, on gray.
    let grid = rgb(&out.path().join("grid.png"));
    assert_eq!(grid.dimensions(), (2 * 32 + 5, 2 * 32 + 5));
    assert_eq!(corners(&grid), [[0x80; 3]; 4], "grid cells are gray");
    for (x, y) in [(34, 10), (10, 34), (34, 34), (68 - 10, 34)] {
        assert_eq!(grid.get_pixel(x, y).0, [0; 3], "gap at ({x}, {y})");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("views.json")).expect("views.json"))
            .expect("json");
    let names: Vec<&str> = manifest["views"]
        .as_array()
        .expect("views")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names.len(), 12);
    assert!(
        names[..8].iter().all(|n| n.starts_with("white_")),
        "{names:?}"
    );
    assert!(
        names[8..].iter().all(|n| n.starts_with("gray_")),
        "{names:?}"
    );
}

/// Width and height of the pixels that differ from the background by more than a little.
fn object_extent(img: &image::RgbImage, bg: [u8; 3]) -> (u32, u32) {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0.iter().zip(bg).any(|(&a, b)| a.abs_diff(b) > 8) {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    assert!(x1 >= x0, "no object pixels");
    (x1 - x0 + 1, y1 - y0 + 1)
}

#[test]
fn camera_flags_change_what_the_views_show() {
    let Some(dir) = assets() else { return };
    let asset = dir.join("Box.glb");
    // One front view (θ = 0) of the unit box on black.
    let shot = |fov: &str, radius: &str, elevation: &str| {
        let out = tempfile::tempdir().expect("tempdir");
        render(
            &asset,
            out.path(),
            &[
                "--views",
                "1",
                "--size",
                "96",
                "--fov",
                fov,
                "--radius",
                radius,
                "--elevation",
                elevation,
                "--background",
                "black",
                "--normalize",
                "unit-cube",
            ],
        );
        let img = rgb(&out.path().join("view_000.png"));
        assert_eq!(img.dimensions(), (96, 96));
        assert_eq!(corners(&img), [[0; 3]; 4], "black background");
        img
    };
    let base = shot("40", "3", "0");
    let (wb, _) = object_extent(&base, [0; 3]);
    // Twice the distance: about half the size on screen.
    let (wf, _) = object_extent(&shot("40", "6", "0"), [0; 3]);
    let r = wf as f32 / wb as f32;
    assert!((0.4..0.62).contains(&r), "radius 6 vs 3: {wf} vs {wb} px");
    // A wider field of view shrinks the object by tan(20°)/tan(35°) ≈ 0.52.
    let (ww, _) = object_extent(&shot("70", "3", "0"), [0; 3]);
    let r = ww as f32 / wb as f32;
    assert!((0.42..0.64).contains(&r), "fov 70 vs 40: {ww} vs {wb} px");
    // Head-on, only the front face shows: one flat shade down the centre column. From 45°
    // above, the top face shows too, lit at another angle: two shades.
    let (top, bottom) = column_ends(&base);
    assert!(
        shade_gap(top, bottom) <= 4,
        "elevation 0: {top:?} vs {bottom:?}"
    );
    let (top, bottom) = column_ends(&shot("40", "3", "45"));
    assert!(
        shade_gap(top, bottom) > 12,
        "elevation 45: {top:?} vs {bottom:?}"
    );
}

/// Pixels 3 rows inside the object's top and bottom ends on the centre column.
fn column_ends(img: &image::RgbImage) -> ([u8; 3], [u8; 3]) {
    let x = img.width() / 2;
    let rows: Vec<u32> = (0..img.height())
        .filter(|&y| img.get_pixel(x, y).0.iter().any(|&c| c > 8))
        .collect();
    let (first, last) = (rows[0], rows[rows.len() - 1]);
    (img.get_pixel(x, first + 3).0, img.get_pixel(x, last - 3).0)
}

fn shade_gap(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|k| a[k].abs_diff(b[k])).max().unwrap_or(0)
}
