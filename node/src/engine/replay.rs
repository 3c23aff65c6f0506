//! `sn17 competition replay`: recompute from a state repository what can be recomputed and
//! report every difference from what is stored (competition.md §1.4, §2, §3.4, §4.2, §7.6–7.7,
//! §9), each one either unexplained or explained by a known 404 behaviour.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Serialize;
use sn17_storage::pyjson::python_repr;
use sn17_storage::state_repo::layout;
use sn17_storage::state_repo::{
    self as sr, build_tag, leader_at, BuildStatus, Builds, Config, FileSource, JudgeProgress,
    LeaderEntry, LegacyMatchReport, MatchMatrix, MatchReport, Prompts, RoundResult, Schedule, Seed,
    Stage, State, Submissions, Verdict,
};

use super::leader::{self, OWNER_UID};
use super::prompts::{select_carryover, select_prompts};
use super::submissions::{normalize_http_url, valid_commit, valid_repo};
use super::timeline::{self, TimelineInputs};
use super::EngineError;

/// A known reason a stored value differs from the recomputed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Where it is documented (or, for an undocumented edit, the evidence).
    pub source: &'static str,
    pub text: &'static str,
    /// `false`: no section of competition.md (§13.3 included) documents it; the stored file
    /// was edited by hand.
    pub documented: bool,
}

const UNROUNDED_WEIGHT: Explanation = Explanation {
    source: "competition.md §2.1, §13.3.6",
    text: "written by an older round-manager that did not round weights to 10 decimals",
    documented: true,
};
const HAND_MADE_R0: Explanation = Explanation {
    source: "competition.md §1.4",
    text: "round 0's schedule was made by hand",
    documented: true,
};
const NO_WINNER_FILE: Explanation = Explanation {
    source: "competition.md §13.3.1",
    text: "a round without submissions gets no winner.json; replay treats it as a defence",
    documented: true,
};
const HAND_SET_WEIGHT: Explanation = Explanation {
    source: "undocumented: no section of competition.md (§13.3 included) describes it",
    text: "hand edit of the stored leader.json: this new leader entry's weight is not the 1.0 \
           the round-manager writes (§9.1); the file also ends with a newline, which 404's JSON \
           writer never emits",
    documented: false,
};

/// One difference between what is stored and what the rules give.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub round: Option<u64>,
    pub file: String,
    pub what: String,
    pub expected: String,
    pub found: String,
    pub explained_by: Option<Explanation>,
}

/// What was checked and found.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    pub competition: String,
    pub current_round: u64,
    pub stage: String,
    pub rounds: Vec<u64>,
    pub checks: usize,
    pub notes: Vec<String>,
    pub differences: Vec<Difference>,
    /// The weight vector each `leader.json` entry sets: (effective block, [(uid or hotkey, w)]).
    pub weights: Vec<WeightRow>,
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightRow {
    pub effective_block: u64,
    pub leader: String,
    pub leader_weight: f64,
    pub owner_uid: u16,
    pub owner_weight: f64,
}

impl ReplayReport {
    pub fn unexplained(&self) -> usize {
        self.differences
            .iter()
            .filter(|d| d.explained_by.is_none())
            .count()
    }
}

struct Ctx<'a> {
    src: &'a dyn FileSource,
    config: Config,
    checks: usize,
    notes: Vec<String>,
    diffs: Vec<Difference>,
}

impl Ctx<'_> {
    fn read<T: sr::StateFile>(&self, path: &str) -> Result<Option<T>, EngineError> {
        Ok(sr::read(self.src, path)?)
    }

    fn check(
        &mut self,
        round: Option<u64>,
        file: &str,
        what: &str,
        expected: impl ToString,
        found: impl ToString,
    ) -> bool {
        self.check_explained(round, file, what, expected, found, None)
    }

    fn check_explained(
        &mut self,
        round: Option<u64>,
        file: &str,
        what: &str,
        expected: impl ToString,
        found: impl ToString,
        explanation: Option<Explanation>,
    ) -> bool {
        self.checks += 1;
        let (e, f) = (expected.to_string(), found.to_string());
        if e == f {
            return true;
        }
        self.diffs.push(Difference {
            round,
            file: file.to_string(),
            what: what.to_string(),
            expected: e,
            found: f,
            explained_by: explanation,
        });
        false
    }
}

/// What a finished round produced.
#[derive(Debug, Clone)]
struct RoundOutcome {
    round: u64,
    result: RoundResult,
}

/// Replays the repository read through `src`; `only` limits the per-round report to one round
/// (the rounds before it are still read for carry-over and leader history).
pub fn replay(src: &dyn FileSource, only: Option<u64>) -> Result<ReplayReport, EngineError> {
    let started = Instant::now();
    let config: Config = sr::read(src, layout::CONFIG)?
        .ok_or_else(|| EngineError::State("no config.json".into()))?;
    let state: State =
        sr::read(src, layout::STATE)?.ok_or_else(|| EngineError::State("no state.json".into()))?;
    let leaders: Vec<LeaderEntry> = sr::read(src, layout::LEADER)?.unwrap_or_default();
    let mut rounds: Vec<u64> = src
        .list_dir("rounds")?
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    rounds.sort_unstable();
    let pool: Option<Prompts> = sr::read(src, layout::PROMPT_POOL)?;
    let mut cx = Ctx {
        src,
        config: config.clone(),
        checks: 0,
        notes: Vec::new(),
        diffs: Vec::new(),
    };
    if pool.is_none() {
        cx.notes
            .push("no global prompts.txt: only carry-over prompts can be recomputed".into());
    }
    for pair in leaders.windows(2) {
        cx.checks += 1;
        if pair[1].effective_block <= pair[0].effective_block {
            cx.diffs.push(Difference {
                round: None,
                file: layout::LEADER.into(),
                what: "effective_block strictly increases".into(),
                expected: format!("> {}", pair[0].effective_block),
                found: pair[1].effective_block.to_string(),
                explained_by: None,
            });
        }
    }

    let mut outcomes = Vec::new();
    let mut schedules = std::collections::BTreeMap::new();
    for &n in &rounds {
        let before = cx.diffs.len();
        let checks_before = cx.checks;
        let schedule: Option<Schedule> = cx.read(&layout::round_file(n, layout::SCHEDULE))?;
        let prev_schedule = n.checked_sub(1).and_then(|p| schedules.get(&p).cloned());
        if let Some(s) = &schedule {
            check_schedule(&mut cx, n, s, prev_schedule.as_ref());
            schedules.insert(n, s.clone());
        }
        let label = config.round_label(n);
        check_prompts(&mut cx, n, pool.as_ref())?;
        let subs: Submissions = cx
            .read(&layout::round_file(n, layout::SUBMISSIONS))?
            .unwrap_or_default();
        check_submissions(&mut cx, n, &subs, schedule.as_ref(), &label);
        let builds: Builds = cx
            .read(&layout::round_file(n, layout::BUILDS))?
            .unwrap_or_default();
        check_builds(&mut cx, n, &subs, &builds, &label);
        let finished =
            n < state.current_round || matches!(state.stage, Stage::Finalizing | Stage::Finished);
        let leader_before = schedule
            .as_ref()
            .and_then(|s| leader_at(&leaders, s.latest_reveal_block))
            .cloned();
        let result = round_result(&mut cx, n, &subs, &builds, leader_before.as_ref(), finished)?;
        if let Some(r) = result {
            outcomes.push(RoundOutcome {
                round: n,
                result: r,
            });
        }
        if only.is_some_and(|o| o != n) {
            cx.diffs.truncate(before);
            cx.checks = checks_before;
        }
    }
    if only.is_none() {
        check_leaders(&mut cx, &leaders, &outcomes, &schedules, &state);
    }
    let weights = leaders
        .iter()
        .map(|e| {
            let plan = leader::weights_at(
                std::slice::from_ref(e),
                e.effective_block,
                |_| Some(0),
                OWNER_UID,
            );
            WeightRow {
                effective_block: e.effective_block,
                leader: e.hotkey.clone(),
                leader_weight: plan.leader_weight,
                owner_uid: OWNER_UID,
                owner_weight: 1.0 - plan.leader_weight,
            }
        })
        .collect();
    Ok(ReplayReport {
        competition: config.name.clone(),
        current_round: state.current_round,
        stage: state.stage.to_string(),
        rounds: match only {
            Some(o) => vec![o],
            None => rounds,
        },
        checks: cx.checks,
        notes: cx.notes,
        differences: cx.diffs,
        weights,
        elapsed: started.elapsed(),
    })
}

fn check_schedule(cx: &mut Ctx<'_>, n: u64, s: &Schedule, prev: Option<&Schedule>) {
    let file = layout::round_file(n, layout::SCHEDULE);
    match prev {
        Some(p) => {
            cx.check(
                Some(n),
                &file,
                "earliest_reveal_block = previous latest + 1",
                p.latest_reveal_block + 1,
                s.earliest_reveal_block,
            );
        }
        None if n == 0 => {
            let hand = (s.earliest_reveal_block != 0).then_some(HAND_MADE_R0);
            cx.check_explained(
                Some(n),
                &file,
                "earliest_reveal_block of the first round",
                0,
                s.earliest_reveal_block,
                hand,
            );
        }
        None => {}
    }
    cx.checks += 1;
    if s.latest_reveal_block < s.earliest_reveal_block {
        cx.diffs.push(Difference {
            round: Some(n),
            file: file.clone(),
            what: "latest_reveal_block ≥ earliest_reveal_block".into(),
            expected: format!("≥ {}", s.earliest_reveal_block),
            found: s.latest_reveal_block.to_string(),
            explained_by: None,
        });
    }
    if let (Some(min), Some(d)) = (
        cx.config.generation_stage_minutes,
        s.generation_deadline_block,
    ) {
        cx.check(
            Some(n),
            &file,
            "generation_deadline_block",
            s.latest_reveal_block + min * 60 / 12,
            d,
        );
    }
}

fn check_prompts(cx: &mut Ctx<'_>, n: u64, pool: Option<&Prompts>) -> Result<(), EngineError> {
    let file = layout::round_file(n, layout::PROMPTS);
    let Some(prompts) = cx.read::<Prompts>(&file)? else {
        return Ok(());
    };
    let count = cx.config.prompts_per_round as usize;
    cx.check(Some(n), &file, "number of prompts", count, prompts.0.len());
    let Some(Seed(seed)) = cx.read::<Seed>(&layout::round_file(n, layout::SEED))? else {
        cx.notes
            .push(format!("round {n}: no seed.json, prompts not recomputed"));
        return Ok(());
    };
    let carry_n = cx.config.carryover_prompts as usize;
    let previous = if n > 0 && carry_n > 0 {
        match cx.read::<Prompts>(&layout::round_file(n - 1, layout::PROMPTS))? {
            Some(p) => Some(p.0),
            None => {
                cx.notes.push(format!(
                    "round {n}: previous round has no prompts.txt, carry-over not recomputed"
                ));
                None
            }
        }
    } else {
        Some(Vec::new())
    };
    if let Some(prev) = &previous {
        let carry = select_carryover(seed, prev, carry_n);
        let found: Vec<String> = prompts.0.iter().take(carry.len()).cloned().collect();
        if cx.check(
            Some(n),
            &file,
            &format!(
                "first {} prompts = carry-over from seed {seed}",
                carry.len()
            ),
            carry.join("\n"),
            found.join("\n"),
        ) && !carry.is_empty()
        {
            cx.notes.push(format!(
                "round {n}: {} carry-over prompts reproduced from seed {seed}",
                carry.len()
            ));
        }
        let carried: HashSet<&String> = carry.iter().collect();
        let repeats = prompts
            .0
            .iter()
            .skip(carry.len())
            .filter(|p| carried.contains(p))
            .count();
        cx.check(
            Some(n),
            &file,
            "new prompts exclude the carried ones",
            0,
            repeats,
        );
        if let Some(pool) = pool {
            let all = select_prompts(seed, prev, &pool.0, count, carry_n);
            cx.check(
                Some(n),
                &file,
                "all prompts from seed and pool",
                all.join("\n"),
                prompts.0.join("\n"),
            );
        }
    }
    Ok(())
}

fn check_submissions(
    cx: &mut Ctx<'_>,
    n: u64,
    subs: &Submissions,
    schedule: Option<&Schedule>,
    label: &str,
) {
    let file = layout::round_file(n, layout::SUBMISSIONS);
    let blocks: Vec<u64> = subs.iter().map(|(_, s)| s.revealed_at_block).collect();
    let mut sorted = blocks.clone();
    sorted.sort_unstable();
    cx.check(
        Some(n),
        &file,
        "ordered by revealed_at_block",
        format!("{sorted:?}"),
        format!("{blocks:?}"),
    );
    for (hk, s) in subs.iter() {
        let at = |w: &str| format!("{}: {w}", layout::hk10(hk));
        cx.check(Some(n), &file, &at("round label"), label, &s.round);
        cx.check(
            Some(n),
            &file,
            &at("repo is owner/name"),
            true,
            valid_repo(&s.repo),
        );
        cx.check(
            Some(n),
            &file,
            &at("commit is 40 lowercase hex"),
            true,
            valid_commit(&s.commit),
        );
        if let Some(u) = &s.cdn_url {
            let normalised = normalize_http_url(u).unwrap_or_else(|| "(invalid)".into());
            cx.check(
                Some(n),
                &file,
                &at("cdn_url is a normalised http(s) URL"),
                u,
                normalised,
            );
        }
        if let Some(sch) = schedule {
            let inside = (sch.earliest_reveal_block..=sch.latest_reveal_block)
                .contains(&s.revealed_at_block);
            cx.check(
                Some(n),
                &file,
                &at("revealed inside the window"),
                true,
                inside,
            );
        }
    }
}

fn check_builds(cx: &mut Ctx<'_>, n: u64, subs: &Submissions, builds: &Builds, label: &str) {
    let file = layout::round_file(n, layout::BUILDS);
    for (hk, b) in builds.iter() {
        let at = |w: &str| format!("{}: {w}", layout::hk10(hk));
        cx.check(
            Some(n),
            &file,
            &at("tag"),
            build_tag(&b.commit, label),
            &b.tag,
        );
        if let Some(s) = subs.get(hk) {
            let triple = |r: &str, c: &str, b: u64| format!("{r} {c} {b}");
            cx.check(
                Some(n),
                &file,
                &at("repo, commit, block match submissions.json"),
                triple(&s.repo, &s.commit, s.revealed_at_block),
                triple(&b.repo, &b.commit, b.revealed_at_block),
            );
        }
        let suffix = format!("/{}:{}", layout::hk10(hk).to_lowercase(), b.tag);
        let image_ok = match (&b.status, &b.docker_image) {
            (BuildStatus::Success, Some(img)) => img.ends_with(&suffix),
            (BuildStatus::Success, None) => false,
            (_, img) => img.is_none(),
        };
        cx.check(
            Some(n),
            &file,
            &at("docker_image follows the status and the image format"),
            true,
            image_ok,
        );
    }
}

/// Submissions in the judge's order: stably sorted by `revealed_at_block`.
fn reveal_order(subs: &Submissions) -> Vec<String> {
    let mut v: Vec<(u64, String)> = subs
        .iter()
        .map(|(h, s)| (s.revealed_at_block, h.to_string()))
        .collect();
    v.sort_by_key(|x| x.0);
    v.into_iter().map(|x| x.1).collect()
}

/// Recomputes what decides the round; returns its result when the round is over.
fn round_result(
    cx: &mut Ctx<'_>,
    n: u64,
    subs: &Submissions,
    builds: &Builds,
    leader_before: Option<&LeaderEntry>,
    finished: bool,
) -> Result<Option<RoundResult>, EngineError> {
    let order = reveal_order(subs);
    let w = cx.config.win_margin;
    let winner_file: Option<RoundResult> = cx.read(&layout::round_file(n, layout::WINNER))?;
    let matrix: Option<MatchMatrix> = cx.read(&layout::round_file(n, layout::MATCHES_MATRIX))?;
    let progress: Option<JudgeProgress> =
        cx.read(&layout::round_file(n, layout::JUDGE_PROGRESS))?;

    let derived_winner: Option<String> = if let Some(matrix) = &matrix {
        // Current format: reports against the matrix, then the timeline.
        for (right, _) in subs.iter() {
            for name in cx.src.list_dir(&format!("rounds/{n}/{right}"))? {
                if !(name.starts_with("duels_") && name.ends_with(".json")) {
                    continue;
                }
                let path = format!("rounds/{n}/{right}/{name}");
                let Some(rep) = cx.read::<MatchReport>(&path)? else {
                    continue;
                };
                let score = rep.duels_score();
                cx.check(Some(n), &path, "score = Σ duels", score, rep.score);
                cx.check(
                    Some(n),
                    &path,
                    "margin = score / duels",
                    python_repr(timeline::margin(score, rep.duels.len())),
                    python_repr(rep.margin),
                );
                if let Some(m) = matrix.get(&rep.left, &rep.right) {
                    cx.check(
                        Some(n),
                        &path,
                        "margin matches matches_matrix.csv",
                        python_repr(m),
                        python_repr(rep.margin),
                    );
                }
            }
        }
        let audits: MatchMatrix = cx
            .read(&layout::round_file(n, layout::AUDIT_MATRIX))?
            .unwrap_or_default();
        let reports: sr::Map<sr::GenerationReport> = cx
            .read(&layout::round_file(n, layout::GENERATION_REPORTS))?
            .unwrap_or_default();
        let source: Vec<Verdict> = cx
            .read(&layout::round_file(n, layout::SOURCE_AUDIT))?
            .unwrap_or_default();
        let inputs = TimelineInputs {
            order: order.clone(),
            win_margin: w,
            audit_repeats: cx.config.audit_repeats() as u32,
            rejected_reports: reports
                .iter()
                .filter(|(_, r)| r.outcome == "rejected")
                .map(|(h, _)| h.to_string())
                .collect(),
            source_failed: source
                .iter()
                .filter(|v| v.verdict == "failed")
                .map(|v| v.hotkey.clone())
                .collect(),
            source_passed: source
                .iter()
                .filter(|v| v.verdict == "passed")
                .map(|v| v.hotkey.clone())
                .collect(),
        };
        let t = timeline::derive(&inputs, matrix, &audits);
        if !t.is_finalized() && winner_file.is_some() {
            cx.notes.push(format!("round {n}: the timeline is not finalized from the stored files, yet winner.json exists"));
        }
        Some(t.winner().to_string())
    } else if progress.is_some() || !order.is_empty() {
        // Competition 0: duels.json per challenger, sequential challenges.
        let mut reports = std::collections::HashMap::new();
        for hk in &order {
            let path = format!("rounds/{n}/{hk}/{}", layout::LEGACY_DUELS);
            let Some(rep) = cx.read::<LegacyMatchReport>(&path)? else {
                continue;
            };
            let score: i64 = rep
                .duels
                .iter()
                .map(|d| match d.winner.as_str() {
                    "miner" => 1,
                    "leader" => -1,
                    _ => 0,
                })
                .sum();
            cx.check(Some(n), &path, "score = Σ duels", score, rep.score);
            let margin = timeline::margin(score, rep.duels.len());
            cx.check(
                Some(n),
                &path,
                "margin = score / duels",
                python_repr(margin),
                python_repr(rep.margin),
            );
            cx.check(Some(n), &path, "hotkey", hk, &rep.hotkey);
            let outcome = if margin >= w {
                "challenger_wins"
            } else {
                "leader_defends"
            };
            cx.check(
                Some(n),
                &path,
                &format!("outcome at win_margin {w}"),
                outcome,
                &rep.outcome,
            );
            reports.insert(hk.clone(), (margin, rep.leader.clone()));
        }
        let judged: Vec<String> = match &progress {
            Some(p) => p.completed_hotkeys.clone(),
            None => order.clone(),
        };
        let prefix: Vec<String> = order.iter().take(judged.len()).cloned().collect();
        cx.check(
            Some(n),
            &layout::round_file(n, layout::JUDGE_PROGRESS),
            "completed_hotkeys in submission order",
            prefix.join(","),
            judged.join(","),
        );
        if reports.is_empty() {
            if let Some(p) = &progress {
                cx.notes.push(format!(
                    "round {n}: no duels.json files; the result is judge_progress.json's leader {}",
                    layout::hk10(&p.leader)
                ));
            }
            progress.as_ref().map(|p| p.leader.clone())
        } else {
            let (steps, winner) =
                timeline::sequential(&judged, w, |hk| reports.get(hk).map(|r| r.0));
            for s in &steps {
                if let Some((_, stored_defender)) = reports.get(&s.hotkey) {
                    let path = format!("rounds/{n}/{}/{}", s.hotkey, layout::LEGACY_DUELS);
                    cx.check(
                        Some(n),
                        &path,
                        "defender (leader field)",
                        &s.defender,
                        stored_defender,
                    );
                }
            }
            if let Some(p) = &progress {
                cx.check(
                    Some(n),
                    &layout::round_file(n, layout::JUDGE_PROGRESS),
                    "defender after the judged challengers",
                    &winner,
                    &p.leader,
                );
            }
            Some(winner)
        }
    } else {
        None
    };

    if !finished {
        return Ok(None);
    }
    let winner = match (&winner_file, derived_winner) {
        (Some(wf), Some(d)) => {
            cx.check(
                Some(n),
                &layout::round_file(n, layout::WINNER),
                "winner_hotkey from the rules",
                &d,
                &wf.winner_hotkey,
            );
            wf.winner_hotkey.clone()
        }
        (Some(wf), None) => wf.winner_hotkey.clone(),
        (None, Some(d)) => d,
        (None, None) => {
            cx.checks += 1;
            cx.diffs.push(Difference {
                round: Some(n),
                file: layout::round_file(n, layout::WINNER),
                what: "a finished round has a result".into(),
                expected: "winner.json".into(),
                found: "absent".into(),
                explained_by: order.is_empty().then_some(NO_WINNER_FILE),
            });
            layout::LEADER_KEY.to_string()
        }
    };
    let result = if winner == layout::LEADER_KEY {
        match leader_before {
            Some(l) => leader::defended_result(l),
            None => return Ok(None),
        }
    } else {
        let sub = subs.get(&winner);
        // The image comes from builds.json; without an entry (no orchestrator ran) it cannot
        // be recomputed, so winner.json's is taken as given.
        let docker_image = match builds.get(&winner) {
            Some(b) => b.docker_image.clone(),
            None => {
                cx.notes.push(format!("round {n}: no builds.json entry for the winner; its docker image is not checked"));
                winner_file.as_ref().and_then(|w| w.docker_image.clone())
            }
        };
        RoundResult {
            winner_hotkey: winner.clone(),
            repo: sub.map(|s| s.repo.clone()).unwrap_or_default(),
            commit: sub.map(|s| s.commit.clone()).unwrap_or_default(),
            docker_image,
            raw: Default::default(),
        }
    };
    if let Some(wf) = &winner_file {
        let file = layout::round_file(n, layout::WINNER);
        cx.check(Some(n), &file, "repo", &result.repo, &wf.repo);
        cx.check(Some(n), &file, "commit", &result.commit, &wf.commit);
        cx.check(
            Some(n),
            &file,
            "docker_image",
            format!("{:?}", result.docker_image),
            format!("{:?}", wf.docker_image),
        );
    }
    Ok(Some(result))
}

fn check_leaders(
    cx: &mut Ctx<'_>,
    stored: &[LeaderEntry],
    outcomes: &[RoundOutcome],
    schedules: &std::collections::BTreeMap<u64, Schedule>,
    state: &State,
) {
    let first_latest = schedules
        .values()
        .next()
        .map_or(0, |s| s.latest_reveal_block);
    let mut expected: Vec<LeaderEntry> = stored
        .iter()
        .filter(|e| e.effective_block <= first_latest)
        .cloned()
        .collect();
    let bootstrap = expected.len();
    cx.notes.push(format!(
        "leader.json: {bootstrap} bootstrap entr{} before round 0",
        if bootstrap == 1 { "y" } else { "ies" }
    ));
    // Which recomputed entry came from an unrounded older code path, or is a new leader.
    let mut kinds: Vec<Option<bool>> = vec![None; expected.len()];
    for o in outcomes {
        let Some(latest) = expected.last().cloned() else {
            continue;
        };
        let effective = match schedules.get(&(o.round + 1)) {
            Some(s) => s.latest_reveal_block,
            None if matches!(state.stage, Stage::Finished) && o.round == state.current_round => {
                match stored.get(expected.len()) {
                    Some(e) => e.effective_block,
                    None => continue,
                }
            }
            None => continue,
        };
        if let Some(e) = leader::transition(
            &o.result,
            &latest,
            effective,
            cx.config.weight_decay,
            cx.config.weight_floor,
        ) {
            kinds.push(Some(
                e.weight == 1.0
                    && e.hotkey == o.result.winner_hotkey
                    && o.result.winner_hotkey != layout::LEADER_KEY,
            ));
            expected.push(e);
        }
    }
    cx.check(
        None,
        layout::LEADER,
        "number of entries",
        expected.len(),
        stored.len(),
    );
    for (i, (e, s)) in expected.iter().zip(stored).enumerate().skip(bootstrap) {
        let at = |f: &str| format!("[{i}].{f}");
        cx.check(None, layout::LEADER, &at("hotkey"), &e.hotkey, &s.hotkey);
        cx.check(None, layout::LEADER, &at("repo"), &e.repo, &s.repo);
        cx.check(None, layout::LEADER, &at("commit"), &e.commit, &s.commit);
        cx.check(None, layout::LEADER, &at("docker"), &e.docker, &s.docker);
        cx.check(
            None,
            layout::LEADER,
            &at("effective_block"),
            e.effective_block,
            s.effective_block,
        );
        let prev_w = stored.get(i.wrapping_sub(1)).map(|p| p.weight);
        let unrounded = prev_w.map(|p| (p - cx.config.weight_decay).max(cx.config.weight_floor));
        let explanation = if kinds.get(i).copied().flatten() == Some(true) && e.hotkey == s.hotkey {
            Some(HAND_SET_WEIGHT)
        } else if unrounded == Some(s.weight) {
            Some(UNROUNDED_WEIGHT)
        } else {
            None
        };
        cx.check_explained(
            None,
            layout::LEADER,
            &at("weight"),
            python_repr(e.weight),
            python_repr(s.weight),
            explanation,
        );
    }
}

/// Prints the report for people.
pub fn render(report: &ReplayReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "competition {:?}: rounds {:?}, now round {} ({})\n",
        report.competition, report.rounds, report.current_round, report.stage
    ));
    for n in &report.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out.push_str("weights by leader.json entry (owner UID gets 1 - w):\n");
    for w in &report.weights {
        out.push_str(&format!(
            "  from block {:>9}: {} w={} owner({})={}\n",
            w.effective_block,
            layout::hk10(&w.leader),
            python_repr(w.leader_weight),
            w.owner_uid,
            python_repr(w.owner_weight)
        ));
    }
    let hand_edits = report
        .differences
        .iter()
        .filter(|d| d.explained_by.as_ref().is_some_and(|e| !e.documented))
        .count();
    let documented = report.differences.len() - report.unexplained() - hand_edits;
    out.push_str(&format!(
        "{} checks, {} differences ({} documented 404 bugs, {} undocumented hand edits, {} unexplained), {:.3} s\n",
        report.checks,
        report.differences.len(),
        documented,
        hand_edits,
        report.unexplained(),
        report.elapsed.as_secs_f64()
    ));
    for d in &report.differences {
        let round = d.round.map_or_else(String::new, |r| format!("round {r}: "));
        out.push_str(&format!(
            "  {round}{} {}: expected {}, found {}",
            d.file, d.what, d.expected, d.found
        ));
        match &d.explained_by {
            Some(e) if e.documented => {
                out.push_str(&format!("\n    EXPLAINED ({}): {}\n", e.source, e.text))
            }
            Some(e) => out.push_str(&format!(
                "\n    UNDOCUMENTED HAND EDIT ({}): {}\n",
                e.source, e.text
            )),
            None => out.push_str("\n    UNEXPLAINED\n"),
        }
    }
    out
}
