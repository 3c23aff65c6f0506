//! `sn17 devnet` end to end on the real spec-218 runtime (chopsticks): a whole round with honest
//! and misbehaving miners, checked through the chain, the state repository and the summary.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

fn spec() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chain/raonet.json"
    ));
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_devnet_round_elects_the_best_miner_and_names_every_failure() {
    let _slot = crate::chain_slot();
    let Some(spec) = spec() else { return };
    if !crate::chopsticks_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("devnet");
    let out = Command::new(BIN)
        .args([
            "--json",
            "devnet",
            "--miners",
            "3",
            "--prompts",
            "3",
            "--misbehave",
        ])
        .args(["--view-size", "96", "--chain-spec"])
        .arg(&spec)
        .arg("--dir")
        .arg(&dir)
        .output()
        .expect("run sn17 devnet");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "devnet failed:\n{stderr}");
    let s: Value = serde_json::from_slice(&out.stdout).expect("summary json");

    // The best honest demo miner (miner-3) wins and holds the leader's weight on chain.
    let leaders = s["leaders"].as_array().expect("leaders");
    let last = leaders.last().expect("a leader");
    assert_eq!(last["repo"], "devnet/miner-3", "{s:#}");
    let winner = s["winner"].as_str().expect("winner");
    assert_eq!(winner, last["hotkey"].as_str().expect("hotkey"));
    let uid = s["winner_uid"].as_u64().expect("winner uid");
    let weights = s["weights_on_chain"].as_array().expect("weights");
    let on_chain: Vec<(u64, u64)> = weights
        .iter()
        .map(|w| (w[0].as_u64().expect("uid"), w[1].as_u64().expect("value")))
        .collect();
    let winner_value = on_chain
        .iter()
        .find(|(u, _)| *u == uid)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("the winner's uid {uid} has no weight on chain: {on_chain:?}"));
    assert_eq!(
        winner_value, 65535,
        "the new leader's weight is the largest: {on_chain:?}"
    );
    // A new leader holds weight 1.0, so the owner's 1 − w is zero and dropped.
    assert!(on_chain.len() <= 2, "leader and owner only: {on_chain:?}");

    // The explorer received the round over gossip: the validator's seed and result, the honest
    // miners' manifests, all signed and validated against the chain's metagraph.
    let rounds = s["explorer_rounds"].as_array().expect("explorer rounds");
    let r0 = rounds
        .iter()
        .find(|r| r["round"] == 0)
        .unwrap_or_else(|| panic!("round 0 missing from the explorer: {rounds:?}"));
    assert_eq!(r0["seeds"], 1, "{r0}");
    assert_eq!(r0["results"], 1, "{r0}");
    assert!(r0["manifests"].as_u64().unwrap_or(0) >= 3, "{r0}");
    assert_eq!(r0["winner"].as_str(), Some(winner), "{r0}");
    assert!(s["explorer_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("http://127.0.0.1:")));

    // Every miner that delivered nothing usable has its named failure.
    let downloads = s["downloads"].as_object().expect("downloads");
    let reasons: Vec<String> = downloads
        .values()
        .flat_map(|o| o.as_object().expect("map").keys().cloned())
        .collect();
    assert!(reasons.iter().any(|r| r == "ok"), "{downloads:?}");
    assert!(
        reasons.iter().filter(|r| *r != "ok").count() >= 2,
        "the empty and the oversized CDN each fail by name: {downloads:?}"
    );
    let rejected = s["rejected"].as_array().expect("rejected");
    assert!(
        !rejected.is_empty(),
        "the malformed commitment is rejected by name: {s:#}"
    );

    // The state repository was written and pushed: a clone of the bare remote has the round.
    let remote = PathBuf::from(s["remote"].as_str().expect("remote"));
    let clone = tmp.path().join("clone");
    let status = Command::new("git")
        .args(["clone", "-q", "-b", "main"])
        .arg(&remote)
        .arg(&clone)
        .status()
        .expect("git clone");
    assert!(status.success());
    for f in [
        "rounds/0/seed.json",
        "rounds/0/prompts.txt",
        "rounds/0/submissions.json",
        "rounds/0/matches_matrix.csv",
        "rounds/0/winner.json",
        "leader.json",
    ] {
        assert!(
            clone.join(f).is_file(),
            "{f} missing from the pushed state repo"
        );
    }
    let matrix =
        std::fs::read_to_string(clone.join("rounds/0/matches_matrix.csv")).expect("matrix");
    let rows: Vec<&str> = matrix.lines().skip(1).collect();
    let mut unique = rows.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(rows.len(), unique.len(), "no duplicated matches: {matrix}");
    assert!(git(&clone, &["log", "--oneline"]).lines().count() >= 2);
    // The gossiped result carries every match of the matrix (with its margin) and names the
    // pushed state commit that records the round.
    assert!(!rows.is_empty());
    assert_eq!(r0["matches"].as_u64(), Some(rows.len() as u64), "{r0}");
    let commit = r0["state_commit"].as_str().unwrap_or_default();
    assert!(
        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "{r0}"
    );
    git(
        &clone,
        &["cat-file", "-e", &format!("{commit}:rounds/0/winner.json")],
    );

    // The winner was audited by regeneration on its pod: submitted vs generated and defender
    // vs generated duels in audit_matrix.csv, and a passed verdict.
    let audit =
        std::fs::read_to_string(clone.join("rounds/0/audit_matrix.csv")).expect("audit matrix");
    assert!(audit.contains(&format!("submitted_1,{winner}")), "{audit}");
    let verdicts: Value = serde_json::from_str(
        &std::fs::read_to_string(clone.join("rounds/0/generation_audits.json")).expect("verdicts"),
    )
    .expect("json");
    assert_eq!(verdicts[winner]["verdict"], "passed", "{verdicts:#}");
    // ... and its regeneration on the pod is reported as 404's orchestrator reports it.
    let reports: Value = serde_json::from_str(
        &std::fs::read_to_string(clone.join("rounds/0/generation_reports.json"))
            .expect("generation reports"),
    )
    .expect("json");
    let report = &reports[winner];
    assert_eq!(report["hotkey"], *winner, "{reports:#}");
    assert_eq!(report["outcome"], "completed", "{reports:#}");
    let repeats = report["repeats"].as_array().expect("repeats");
    assert!(!repeats.is_empty(), "{reports:#}");
    for (i, r) in repeats.iter().enumerate() {
        assert_eq!(r["repeat_index"], i as u64 + 1, "{reports:#}");
        assert!(r["generated_prompts"].as_u64() > Some(0), "{reports:#}");
        assert!(
            r["generation_time"].as_f64().is_some_and(|t| t >= 0.0),
            "{reports:#}"
        );
    }
    let requests: Value = serde_json::from_str(
        &std::fs::read_to_string(clone.join("rounds/0/require_audit.json")).expect("requests"),
    )
    .expect("json");
    assert!(
        requests
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["hotkey"] == winner && r["latest_defender"].is_string()),
        "{requests:#}"
    );

    // The validator ran as its own process and exported Prometheus metrics.
    let metrics = s["validator_metrics"].as_str().expect("metrics");
    assert!(
        metrics.contains("# TYPE sn17_validator_matches_played_total counter"),
        "{metrics}"
    );
    let played: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sn17_validator_matches_played_total "))
        .and_then(|v| v.parse().ok())
        .expect("matches played sample");
    assert!(played >= 1, "{metrics}");

    // Its log is structured: one JSON object per line when stderr is not a terminal (other
    // libraries, such as the Vulkan loader, may still print plain lines of their own).
    let logs = PathBuf::from(s["logs"].as_str().expect("logs"));
    let log = std::fs::read_to_string(logs.join("validator.log")).expect("validator log");
    let json: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(json.len() > 3, "{log}");
    assert!(
        json.iter()
            .all(|v| v["level"].is_string() && v["fields"].is_object()),
        "{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.contains(" INFO ") || l.contains(" WARN ")),
        "text-format log lines: {log}"
    );
}

/// Ends a devnet with `--kill-validator` and returns its summary.
fn devnet_with_kills(
    spec: &std::path::Path,
    dir: &std::path::Path,
    kills: u32,
    seed: u64,
) -> Value {
    let out = Command::new(BIN)
        .args(["--json", "devnet", "--miners", "3", "--prompts", "2"])
        .args(["--view-size", "64", "--kill-validator", &kills.to_string()])
        .args(["--chaos-seed", &seed.to_string(), "--chain-spec"])
        .arg(spec)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run sn17 devnet");
    assert!(
        out.status.success(),
        "devnet failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("summary json")
}

#[test]
fn a_validator_killed_at_random_stages_finishes_the_round_the_same_way() {
    let _slot = crate::chain_slot();
    let Some(spec) = spec() else { return };
    if !crate::chopsticks_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let s = devnet_with_kills(&spec, &tmp.path().join("devnet"), 4, 5);
    let kills = s["validator_kills"].as_array().expect("kills");
    assert_eq!(kills.len(), 4, "every planned SIGKILL happened: {kills:?}");
    // The same winner as an undisturbed run (the best demo miner), with its weight on chain.
    let last = s["leaders"]
        .as_array()
        .and_then(|l| l.last())
        .expect("leader");
    assert_eq!(last["repo"], "devnet/miner-3", "{s:#}");
    let uid = s["winner_uid"].as_u64().expect("uid");
    assert!(
        s["weights_on_chain"]
            .as_array()
            .expect("weights")
            .iter()
            .any(|w| w[0].as_u64() == Some(uid) && w[1].as_u64() == Some(65535)),
        "{s:#}"
    );
    // No match was played twice across the restarts, and the state repository holds each once.
    let played: Vec<String> = s["matches_played"]
        .as_array()
        .expect("played")
        .iter()
        .map(|m| m.to_string())
        .collect();
    let mut unique = played.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        played.len(),
        unique.len(),
        "a match was replayed: {played:?}"
    );
    let matches = s["matches"].as_array().expect("matches");
    assert!(!matches.is_empty());
    let mut pairs: Vec<String> = matches
        .iter()
        .map(|m| format!("{}>{}", m[0], m[1]))
        .collect();
    let n = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n, "{matches:?}");
    // The explorer got the round's seed and result exactly once despite the restarts.
    let r0 = s["explorer_rounds"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["round"] == 0).cloned())
        .expect("round 0 in the explorer");
    assert_eq!(r0["seeds"], 1, "{r0}");
    assert_eq!(r0["results"], 1, "{r0}");
}

#[test]
fn a_second_round_lets_the_leader_defend_and_decays_its_weight() {
    let _slot = crate::chain_slot();
    let Some(spec) = spec() else { return };
    if !crate::chopsticks_installed() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["--json", "devnet", "--rounds", "2", "--prompts", "2"])
        .args(["--view-size", "64", "--chain-spec"])
        .arg(&spec)
        .arg("--dir")
        .arg(tmp.path().join("devnet"))
        .output()
        .expect("run sn17 devnet");
    assert!(
        out.status.success(),
        "devnet failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).expect("summary json");
    // Round 1 is a defence: the leader keeps its place with its weight decayed by 0.2, and the
    // subnet owner's uid gets the rest (0.2 / 0.8 of the largest weight after upscaling).
    let leaders = s["leaders"].as_array().expect("leaders");
    let last = leaders.last().expect("leader");
    assert_eq!(last["repo"], "devnet/miner-3", "{s:#}");
    assert!(
        (last["weight"].as_f64().expect("weight") - 0.8).abs() < 1e-9,
        "{last}"
    );
    let weights = s["weights_on_chain"].as_array().expect("weights");
    let values: Vec<u64> = weights.iter().map(|w| w[1].as_u64().expect("v")).collect();
    let mut sorted = values.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![16384, 65535], "{weights:?}");
    // The explorer saw both rounds' seeds and results.
    let rounds = s["explorer_rounds"].as_array().expect("rounds");
    for r in [0, 1] {
        let row = rounds
            .iter()
            .find(|x| x["round"] == r)
            .unwrap_or_else(|| panic!("round {r} missing: {rounds:?}"));
        assert_eq!(row["seeds"], 1, "{row}");
        assert_eq!(row["results"], 1, "{row}");
    }
}
