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
