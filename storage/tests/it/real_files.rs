//! Every file of 404's real Competition 0 repository decodes into its typed model and encodes
//! back byte for byte (key order, unknown fields, float text, no trailing newline).

use sn17_storage::state_repo::{
    self as sr, BuildStatus, Builds, Config, DirSource, FileSource, GenerationsMap, JudgeProgress,
    Leaders, LegacyMatchReport, Prompts, Schedule, Seed, Stage, State, StateFile, Submissions,
};

/// Files 404's services wrote carry no trailing newline; the two edited by hand (config.json,
/// and leader.json with its hand-set 0.99) do, and are re-encoded as 404's writer would.
const HAND_EDITED: [&str; 2] = ["config.json", "leader.json"];

fn roundtrip<T: StateFile>(src: &DirSource, path: &str) -> T {
    let bytes = src.read_bytes(path).expect("readable").expect("present");
    let text = String::from_utf8(bytes).expect("utf-8");
    let value = T::decode(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let want = if HAND_EDITED.contains(&path) {
        text.strip_suffix('\n')
            .expect("hand-edited files end with a newline")
    } else {
        text.as_str()
    };
    assert_eq!(value.encode(), want, "{path} re-encodes byte for byte");
    value
}

#[test]
fn competition0_files_round_trip_exactly() {
    let Some(root) = crate::competition0() else {
        return;
    };
    let src = DirSource::new(&root);
    let state: State = roundtrip(&src, "state.json");
    assert_eq!(
        (state.current_round, state.stage.clone()),
        (3, Stage::Duels)
    );
    let config: Config = roundtrip(&src, "config.json");
    assert_eq!((config.carryover_prompts, config.win_margin), (64, 0.05));
    let leaders: Leaders = roundtrip(&src, "leader.json");
    assert_eq!(leaders.len(), 4);
    assert_eq!(leaders[2].weight, 0.8);
    let mut files = 3;
    for round in src.list_dir("rounds").expect("rounds") {
        let n: u64 = round.parse().expect("numeric round dir");
        let dir = format!("rounds/{n}");
        for name in src.list_dir(&dir).expect("round dir") {
            let path = format!("{dir}/{name}");
            files += 1;
            match name.as_str() {
                "schedule.json" => {
                    let s: Schedule = roundtrip(&src, &path);
                    assert!(s.earliest_reveal_block < s.latest_reveal_block);
                }
                "seed.json" => {
                    roundtrip::<Seed>(&src, &path);
                }
                "prompts.txt" => assert_eq!(roundtrip::<Prompts>(&src, &path).0.len(), 128),
                "submissions.json" => {
                    let subs: Submissions = roundtrip(&src, &path);
                    assert!(subs
                        .iter()
                        .all(|(_, s)| s.round == config.round_label(n) && s.cdn_url.is_none()));
                }
                "builds.json" => {
                    let b: Builds = roundtrip(&src, &path);
                    assert!(b.iter().all(|(_, b)| matches!(
                        b.status,
                        BuildStatus::Success | BuildStatus::Failure
                    )));
                }
                "judge_progress.json" => {
                    roundtrip::<JudgeProgress>(&src, &path);
                }
                miner => {
                    files -= 1;
                    for f in src.list_dir(&path).expect("miner dir") {
                        let p = format!("{path}/{f}");
                        files += 1;
                        match f.as_str() {
                            "duels.json" => {
                                let r: LegacyMatchReport = roundtrip(&src, &p);
                                assert_eq!(r.hotkey, miner);
                                assert_eq!(r.duels.len(), 128);
                            }
                            "generations.json" => {
                                let g: GenerationsMap = roundtrip(&src, &p);
                                // Competition 0 wrote ply/png/generation_time, kept as unknown fields.
                                assert!(g
                                    .iter()
                                    .all(|(_, r)| r.js.is_none() && r.raw.contains_key("ply")));
                            }
                            other => panic!("unexpected file {p} ({other})"),
                        }
                    }
                }
            }
        }
    }
    assert!(files >= 60, "checked {files} files");
}

#[test]
fn a_changed_field_changes_only_itself() {
    let Some(root) = crate::competition0() else {
        return;
    };
    let src = DirSource::new(&root);
    let text = String::from_utf8(
        src.read_bytes("leader.json")
            .expect("read")
            .expect("present"),
    )
    .expect("utf-8");
    let mut leaders = Leaders::decode(&text).expect("decodes");
    leaders[3].weight = 1.0;
    let out = leaders.encode();
    assert_eq!(
        out,
        text.trim_end()
            .replace("\"weight\": 0.99,", "\"weight\": 1.0,")
    );
    let pushed = sr::LeaderEntry::new("h", "o/r", "c", "d", 0.8, 9);
    leaders.push(pushed);
    let out = leaders.encode();
    assert!(out.ends_with(
        "  {\n    \"hotkey\": \"h\",\n    \"repo\": \"o/r\",\n    \"commit\": \"c\",\n    \"docker\": \"d\",\n    \"weight\": 0.8,\n    \"effective_block\": 9\n  }\n]"
    ));
}
