//! The round files Competition 0 never wrote (`winner.json`, `require_audit.json`,
//! `generation_reports.json`, `builds.json`, the per-match report), checked against the real
//! examples in competition.md §2.2–2.3: each decodes into its typed model with the example's
//! values, and re-encodes byte for byte as 404's writer (pydantic, `indent=2`) prints the same
//! object. The expected bytes come from CPython + pydantic at test time; without them that one
//! comparison is skipped (the typed checks still run).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use sn17_storage::state_repo::{
    build_tag, docker_image, AuditRequest, BuildStatus, Builds, FileSource, GenerationReport,
    LegacyMatchReport, Map, MatchReport, RoundResult, StateFile, DOCKER_IMAGE_FORMAT,
};

fn competition_md() -> Option<String> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/docs/competition.md"
    ));
    match std::fs::read_to_string(&p) {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!("SKIP: {} is absent", p.display());
            None
        }
    }
}

/// The first fenced ```json block after `marker`.
fn example<'a>(doc: &'a str, marker: &str) -> &'a str {
    let at = doc
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in competition.md"));
    let rest = &doc[at..];
    let start = rest.find("```json\n").expect("a json block") + "```json\n".len();
    let len = rest[start..].find("```").expect("closed block");
    &rest[start..start + len]
}

/// What 404's services write for this JSON value: pydantic's `dump_json(indent=2)`. `None`
/// when CPython with pydantic is not installed, unless `SN17_REQUIRE_PYDANTIC=1` (CI) makes
/// that a failure.
fn pydantic_pretty(json_text: &str) -> Option<String> {
    let got = run_pydantic(json_text);
    if got.is_none() {
        assert!(
            std::env::var("SN17_REQUIRE_PYDANTIC").as_deref() != Ok("1"),
            "SN17_REQUIRE_PYDANTIC=1 but python3 with pydantic did not run"
        );
        eprintln!("SKIP byte comparison: python3 with pydantic is not available");
    }
    got
}

fn run_pydantic(json_text: &str) -> Option<String> {
    let script = "import json,sys\nfrom pydantic import TypeAdapter\n\
                  v = json.loads(sys.stdin.read())\n\
                  sys.stdout.write(TypeAdapter(object).dump_json(v, indent=2).decode())";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(json_text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

/// Decodes `text`, checks that the encoding is 404's bytes for it, and that those bytes decode
/// and re-encode unchanged.
fn round_trip<T: StateFile>(what: &str, text: &str) -> T {
    let value = T::decode(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    let ours = value.encode();
    if let Some(want) = pydantic_pretty(text) {
        assert_eq!(ours, want, "{what}: 404's bytes");
        let again = T::decode(&want).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            again.encode(),
            want,
            "{what}: its own file re-encodes byte for byte"
        );
    }
    value
}

#[test]
fn winner_json_matches_the_real_example() {
    let Some(doc) = competition_md() else { return };
    let text = example(&doc, "**(i) `winner.json`**");
    let w: RoundResult = round_trip("winner.json", text);
    assert_eq!(
        w.winner_hotkey,
        "5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP"
    );
    assert_eq!(w.commit, "928294eb6787f52ae292e21d3c1b8469d34dddb9");
    // The image name the engine writes is the one 404 wrote for this winner.
    let tag = build_tag(&w.commit, "mesh-6");
    assert_eq!(
        w.docker_image.as_deref(),
        Some(docker_image(DOCKER_IMAGE_FORMAT, &w.winner_hotkey, &tag).as_str())
    );
}

#[test]
fn generation_reports_json_matches_the_example() {
    let Some(doc) = competition_md() else { return };
    let text = example(&doc, "**(d) `generation_reports.json`**");
    let r: Map<GenerationReport> = round_trip("generation_reports.json", text);
    let (hk, rep) = r.iter().next().expect("one report");
    assert_eq!((hk, rep.hotkey.as_str()), ("5F4HaNQJ...", "5F4HaNQJ..."));
    assert_eq!(rep.outcome, "pending");
    assert_eq!(rep.repeats.len(), 1);
    let rr = &rep.repeats[0];
    assert_eq!(
        (rr.repeat_index, rr.generated_prompts, rr.failed_prompts),
        (1, 127, 1)
    );
    assert_eq!(rr.generation_time, Some(5321.7));
}

#[test]
fn require_audit_and_builds_json_with_the_real_values() {
    let Some(doc) = competition_md() else { return };
    // §13.2: comp-1 round 6's one audit, of the miner that beat the leader (§2.2 (g)).
    let hk = "5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP";
    assert!(doc.contains(&format!("leader,{hk},0.0546875")));
    let text = format!("[{{\"hotkey\": \"{hk}\", \"latest_defender\": \"leader\"}}]");
    let reqs: Vec<AuditRequest> = round_trip("require_audit.json", &text);
    assert_eq!(
        (reqs[0].hotkey.as_str(), reqs[0].latest_defender.as_str()),
        (hk, "leader")
    );

    // §2.2 (b): the real docker_image of 5GgVxYJS3R…'s build 7c1b379 in round mesh-1.
    let image =
        "europe-west3-docker.pkg.dev/gen-456515/active-competition/5ggvxyjs3r:7c1b379-mesh-1";
    assert!(doc.contains(image));
    let builder = "5GgVxYJS3RsZtdhCVkW9DwBcjojAkcSpZXz6AnefsThrhPJf";
    let commit = "7c1b379aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let tag = build_tag(commit, "mesh-1");
    assert_eq!(docker_image(DOCKER_IMAGE_FORMAT, builder, &tag), image);
    let text = format!(
        "{{\"{builder}\": {{\"repo\": \"o/r\", \"commit\": \"{commit}\", \"revealed_at_block\": 7456445, \
         \"tag\": \"{tag}\", \"status\": \"success\", \"docker_image\": \"{image}\"}}, \
         \"{hk}\": {{\"repo\": \"o/s\", \"commit\": \"{commit}\", \"revealed_at_block\": 7456446, \
         \"tag\": \"{tag}\", \"status\": \"timed_out\", \"docker_image\": null}}}}"
    );
    let b: Builds = round_trip("builds.json", &text);
    let statuses: Vec<_> = b.iter().map(|(_, x)| x.status.clone()).collect();
    assert_eq!(statuses, [BuildStatus::Success, BuildStatus::TimedOut]);
}

#[test]
fn a_match_report_from_the_real_rows_and_generations() {
    let Some(doc) = competition_md() else { return };
    // The real qualification match (§2.2 (g)): 7 of 128 duels, margin 0.0546875; and the real
    // submitted.json example (§2.3) for the duel's URLs.
    let hk = "5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP";
    let submitted = example(&doc, "Example (current format):");
    let stem = "51b5befe20a1b5493a4f4eddbc107f59ff0a4f1df3ae045d61603b6b3e9997ba";
    assert!(submitted.contains(stem));
    let base = format!("https://subnet404.xyz/rounds/3/{hk}/submitted/{stem}");
    let leader = format!("https://subnet404.xyz/rounds/3/leader/generated_1/{stem}");
    let text = format!(
        "{{\"left\": \"leader\", \"right\": \"{hk}\", \"score\": 7, \"margin\": 0.0546875, \"duels\": [\
         {{\"name\": \"{stem}\", \"prompt\": \"https://p/{stem}.png\", \"left_js\": \"{leader}.js\", \
         \"left_png\": \"{leader}/grid.png\", \"right_js\": \"{base}.js\", \"right_png\": \"{base}/grid.png\", \
         \"winner\": \"right\", \"detail\": {{\"stage\": 2, \"scores\": [0.25, 1.0], \"note\": null}}}}, \
         {{\"name\": \"e7f6\", \"prompt\": \"https://p/e7f6.png\", \"left_js\": null, \"left_png\": null, \
         \"right_js\": null, \"right_png\": null, \"winner\": \"skipped\", \"detail\": null}}]}}"
    );
    let r: MatchReport = round_trip("duels_leader.json", &text);
    assert_eq!((r.score, r.margin, r.duels.len()), (7, 0.0546875, 2));
    assert_eq!(
        r.duels[0].right_png.as_deref(),
        Some(format!("{base}/grid.png").as_str())
    );
    assert!(r.duels[1].detail.is_null());
}

#[test]
fn competition0_duels_reports_are_404s_bytes() {
    let Some(root) = crate::competition0() else {
        return;
    };
    // The legacy per-match report as stored, against pydantic's printing of the same object.
    let src = sn17_storage::state_repo::DirSource::new(&root);
    let dir = "rounds/2/5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP";
    let path = format!("{dir}/duels.json");
    let bytes = src.read_bytes(&path).expect("read").expect("present");
    let text = String::from_utf8(bytes).expect("utf-8");
    let r: LegacyMatchReport = round_trip(&path, &text);
    assert_eq!(r.encode(), text, "{path}: stored bytes");
}
