//! `sn17 judge duel` and `sn17 judge embed` through the binary: one side an asset rendered on the fly, the other
//! a folder written by `sn17 render`, judged by a scripted OpenAI-compatible server on 127.0.0.1 (the one
//! stand-in allowed for the VLM); embeddings with the tiny committed DINOv3 fixture.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sn17_judge::test_utils::judge_script::{self, Opinion};
use sn17_judge::test_utils::ScriptedServer;

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

fn assets() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/assets"));
    if p.join("Box.glb").is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../judge/tests/fixtures/dinov3"
    ))
}

fn sn17(args: &[&str]) -> Output {
    let xdg = std::env::temp_dir().join("sn17-judge-cli-xdg");
    std::fs::create_dir_all(&xdg).expect("xdg dir");
    Command::new(BIN)
        .args(args)
        .env("XDG_RUNTIME_DIR", &xdg)
        .env("SN17_VLM_API_KEY", "sk-cli-test")
        .env_remove("SN17_VLM_URL")
        .env_remove("SN17_VLM_MODEL")
        .output()
        .expect("run sn17")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "sn17 failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Width of a PNG given as bytes.
fn png_width(bytes: &[u8]) -> Option<u32> {
    (bytes.len() >= 24 && &bytes[..8] == b"\x89PNG\r\n\x1a\n")
        .then(|| u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]))
}

/// Decodes the first `n` bytes of standard base64 (enough to read a PNG header out of a data URL).
fn b64_prefix(text: &str, n: usize) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let v: Vec<u8> = chunk.iter().filter_map(|c| val(*c)).collect();
        if v.len() < 4 {
            break;
        }
        let x = (u32::from(v[0]) << 18)
            | (u32::from(v[1]) << 12)
            | (u32::from(v[2]) << 6)
            | u32::from(v[3]);
        out.extend_from_slice(&[(x >> 16) as u8, (x >> 8) as u8, x as u8]);
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

/// Width of the PNG inside a `data:image/png;base64,` URL.
fn data_url_width(url: &str) -> Option<u32> {
    let payload = url.strip_prefix("data:image/png;base64,")?;
    png_width(&b64_prefix(payload, 24))
}

fn render_folder(asset: &Path, out: &Path, size: u32, rig: Option<&str>) {
    let size = size.to_string();
    let mut args = vec!["render", "--backend", "cpu", "--size", &size];
    if let Some(r) = rig {
        args.extend(["--rig", r]);
    }
    let out_s = out.display().to_string();
    let asset_s = asset.display().to_string();
    args.extend(["--out", &out_s, &asset_s]);
    ok(&sn17(&args));
}

#[test]
fn duel_between_a_rendered_asset_and_a_render_folder_prints_each_stage() {
    let Some(dir) = assets() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    // The prompt (96 px), the right side as `sn17 render --rig judge` writes it (128 px, 12 views + grid).
    let prompt_dir = tmp.path().join("prompt");
    render_folder(&dir.join("BoxTextured.glb"), &prompt_dir, 96, None);
    let prompt = prompt_dir.join("view_000.png");
    let right = tmp.path().join("right");
    render_folder(&dir.join("BoxTextured.glb"), &right, 128, Some("judge"));
    assert!(
        right.join("view_011.png").is_file(),
        "the judge rig writes 12 views"
    );
    let grid = std::fs::read(right.join("grid.png")).expect("grid");
    // A scripted judge that prefers the right side (B); each side's images are told apart by width.
    let right_widths = [128, png_width(&grid).expect("grid width")];
    let is_right = move |url: &str| data_url_width(url).is_some_and(|w| right_widths.contains(&w));
    let opinion = Opinion {
        penalty_a: 1,
        penalty_b: 8,
        checklist_a: (vec!["yes"; 5], true),
        checklist_b: (vec!["no"; 5], false),
        ..Opinion::default()
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(ScriptedServer::start(move |req| {
            judge_script::answer(req, is_right, &opinion)
        }))
        .expect("scripted VLM");
    let url = server.base_url();

    let (prompt_s, right_s) = (prompt.display().to_string(), right.display().to_string());
    let left_s = dir.join("Box.glb").display().to_string();
    let common = [
        "--prompt",
        prompt_s.as_str(),
        "--left",
        left_s.as_str(),
        "--right",
        right_s.as_str(),
        "--vlm-url",
        url.as_str(),
        "--view-size",
        "64",
        "--backend",
        "cpu",
        "--seed",
        "5",
    ];
    let mut args = vec!["--json", "judge", "duel"];
    args.extend(common);
    let out: Value = serde_json::from_str(&ok(&sn17(&args))).expect("JSON outcome");
    assert_eq!(out["winner"], "right", "{out:#}");
    assert_eq!(out["judge"]["kind"], "vlm");
    assert_eq!(out["judge"]["model"], "glm-4.6v-flash");
    assert_eq!(out["production"], true);
    let detail = &out["detail"];
    assert_eq!(detail["s1"]["choice"], "B", "{detail:#}");
    assert!(
        detail["decided_by"]
            .as_str()
            .is_some_and(|d| d.starts_with("S1")),
        "{detail:#}"
    );
    assert!(out["vlm"]["requests"].as_u64().is_some_and(|n| n > 0));

    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.authorization.as_deref(), Some("Bearer sk-cli-test"));
        assert_eq!(r.body["model"], "glm-4.6v-flash");
        assert_eq!(r.body["response_format"]["type"], "json_schema");
        assert!(
            r.images().iter().all(|u| data_url_width(u).is_some()),
            "every image travels as a PNG data URL"
        );
    }
    // S1's first attempt: temperature 0 and seed = round seed + 0 + 100.
    let s1 = requests
        .iter()
        .find(|r| r.label() == "s1_prompt_match")
        .expect("an S1 call");
    assert_eq!(s1.seed(), Some(105));
    assert_eq!(s1.temperature(), Some(0.0));
    // The left side was rendered now at --view-size 64; the prompt went as the reference image.
    let widths: Vec<u32> = requests
        .iter()
        .flat_map(|r| r.images())
        .filter_map(|u| data_url_width(u.as_str()))
        .collect();
    assert!(widths.contains(&64) && widths.contains(&96) && widths.contains(&128));

    // The human-readable form prints each stage's verdict and the outcome.
    let mut args = vec!["judge", "duel", "--no-explain"];
    args.extend(common);
    let text = ok(&sn17(&args));
    assert!(
        text.contains("judge     VLM multi-stage (glm-4.6v-flash)"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("S1        B")), "{text}");
    assert!(text.contains("decided   S1"), "{text}");
    assert!(text.contains("winner    right"), "{text}");
}

#[test]
fn duel_without_a_vlm_or_offline_flag_is_refused() {
    let out = sn17(&[
        "judge",
        "duel",
        "--prompt",
        "a cat",
        "--left",
        "/nonexistent-a",
        "--right",
        "/nonexistent-b",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--vlm-url"), "{err}");
}

#[test]
fn embed_prints_dimensions_and_identical_images_have_zero_distance() {
    let fx = fixtures();
    let weights = fx.join("tiny_gelu/model.safetensors");
    if !weights.is_file() {
        eprintln!("SKIP: {} is absent", weights.display());
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = fx.join("preprocess/large_rgb.png");
    let copy = tmp.path().join("copy.png");
    std::fs::copy(&a, &copy).expect("copy");
    let b = fx.join("preprocess/small_rgba.png");
    let npz = tmp.path().join("e.npz");
    let (a_s, copy_s, b_s, w_s, npz_s) = (
        a.display().to_string(),
        copy.display().to_string(),
        b.display().to_string(),
        weights.display().to_string(),
        npz.display().to_string(),
    );
    let args = [
        "--json",
        "judge",
        "embed",
        &a_s,
        &copy_s,
        &b_s,
        "--weights",
        &w_s,
        "--npz",
        &npz_s,
    ];
    let out: Value = serde_json::from_str(&ok(&sn17(&args))).expect("JSON");
    let emb = out["embeddings"].as_array().expect("embeddings");
    assert_eq!(emb.len(), 3);
    for e in emb {
        let v: Vec<f64> = e
            .as_array()
            .expect("vector")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert_eq!(v.len(), 32, "the tiny fixture's hidden size");
        let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "L2-normalised, got {norm}");
    }
    let d = &out["cosine_distances"];
    let at = |i: usize, j: usize| d[i][j].as_f64().expect("distance");
    assert!(at(0, 1).abs() < 1e-5, "identical images: {}", at(0, 1));
    assert!(
        at(0, 2) > 1e-4,
        "different images must differ: {}",
        at(0, 2)
    );
    assert!((at(0, 2) - at(2, 0)).abs() < 1e-6, "symmetric");
    assert!(std::fs::metadata(&npz).is_ok_and(|m| m.len() > 0));

    // The text form names every image with its dimension.
    let text = ok(&sn17(&["judge", "embed", &a_s, &b_s, "--weights", &w_s]));
    assert!(text.contains(&format!("{a_s}: 32-d")), "{text}");
    assert!(text.contains("cosine distance"), "{text}");
}

#[test]
fn validator_refuses_the_offline_judge_on_mainnet_before_touching_the_chain() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let wallets = tmp.path().display().to_string();
    let remote = tmp.path().join("none.git").display().to_string();
    let run = |network: &str, extra: &[&str]| {
        let mut args = vec![
            "--wallet.path",
            wallets.as_str(),
            "--network",
            network,
            "validator",
            "run",
            "--state.remote",
            remote.as_str(),
            "--offline-judge",
        ];
        args.extend(extra);
        let out = sn17(&args);
        assert!(!out.status.success(), "no wallet here: it must stop");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run("finney", &[]);
    assert!(
        err.contains("--offline-judge is refused on finney"),
        "{err}"
    );
    assert!(
        !err.contains("keyfile"),
        "refused before the wallet is read: {err}"
    );
    // The loud override, and other networks, get past the guard (and stop later, at the missing wallet).
    let err = run(
        "finney",
        &["--i-know-offline-judge-is-not-production-on-mainnet"],
    );
    assert!(!err.contains("refused") && err.contains("keyfile"), "{err}");
    let err = run("test", &[]);
    assert!(!err.contains("refused") && err.contains("keyfile"), "{err}");
}

/// A devnet round (chopsticks, the validator as its own process, the offline judge) writes 404's match report for
/// every played match next to the matrix: `rounds/0/<right>/duels_<left10>.json` and the audit reports, each
/// agreeing with its matrix row and round-tripping through the state repository's format.
#[test]
fn a_devnet_round_writes_404s_match_reports() {
    use sn17_storage::state_repo::{MatchMatrix, MatchReport, StateFile};
    let _slot = crate::chain_slot();
    let spec = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chain/raonet.json"
    ));
    if !spec.is_file() {
        eprintln!("SKIP: needs ../shared/chain/raonet.json");
        return;
    }
    if !crate::chopsticks_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("devnet");
    let (spec_s, dir_s) = (spec.display().to_string(), dir.display().to_string());
    let args = [
        "--json",
        "devnet",
        "--miners",
        "2",
        "--prompts",
        "2",
        "--view-size",
        "64",
        "--chain-spec",
        &spec_s,
        "--dir",
        &dir_s,
    ];
    let summary: Value = serde_json::from_str(&ok(&sn17(&args))).expect("summary");
    let remote = summary["remote"].as_str().expect("remote");
    let clone = tmp.path().join("clone");
    let status = Command::new("git")
        .args(["clone", "-q", "-b", "main", remote])
        .arg(&clone)
        .status()
        .expect("git clone");
    assert!(status.success());
    let round = clone.join("rounds/0");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let matrix = MatchMatrix::decode(&read(&round.join("matches_matrix.csv"))).expect("matrix");
    let audits = MatchMatrix::decode(&read(&round.join("audit_matrix.csv"))).unwrap_or_default();
    let mut duels_reports = 0;
    let mut audit_reports = 0;
    for entry in std::fs::read_dir(&round).expect("round dir").flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let right = entry.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(entry.path())
            .expect("miner dir")
            .flatten()
        {
            let name = f.file_name().to_string_lossy().into_owned();
            let is_duels = name.starts_with("duels_");
            if !(is_duels || name.starts_with("audit_")) {
                continue;
            }
            let text = read(&f.path());
            let report = MatchReport::decode(&text).expect("a match report");
            assert_eq!(report.encode(), text, "{name} round-trips byte for byte");
            assert!(
                text.find("\"left\"") < text.find("\"duels\""),
                "404's key order"
            );
            assert_eq!(report.right, right);
            assert_eq!(report.duels.len(), 2, "one duel per prompt");
            assert_eq!(report.score, report.duels_score());
            assert!(report.duels.iter().all(|d| !d.detail.is_null()), "{text}");
            if is_duels {
                duels_reports += 1;
                assert_eq!(
                    matrix.get(&report.left, &right),
                    Some(report.margin),
                    "{name}"
                );
            } else {
                audit_reports += 1;
                let r = name
                    .trim_end_matches(".json")
                    .rsplit('_')
                    .next()
                    .expect("repeat");
                let key = format!("{}_{r}", report.left);
                assert_eq!(audits.get(&key, &right), Some(report.margin), "{name}");
            }
        }
    }
    assert!(duels_reports >= 1, "at least the qualification matches");
    assert!(
        audit_reports >= 2,
        "the winner's submitted and defender audits"
    );
}
