//! competition.md §7.7 and §8.1 as pure functions: qualification at the margin, the reveal-order timeline with
//! defenders, cached matches reused, audit requests and verdicts, exploratory duels, a failed audit handing the
//! round to the next challenger, and a whole round replayed tick by tick.

use std::collections::{BTreeMap, HashMap};

use sn17_judge::rules::timeline::TimelineInputs;
use sn17_judge::rules::{
    margin, plan, sequential, AuditDuel, AuditKind, AuditRequest, AuditRequests, EntryStatus,
    GenerationAudits, GenerationReport, MatchMatrix, ReportOutcome, RoundInputs, SourceAudit,
    SourceVerdict, Timeline, Work, LEADER,
};

const W: f64 = 0.05;

fn hk(s: &str) -> String {
    s.to_string()
}

fn passed() -> SourceAudit {
    SourceAudit {
        verdict: SourceVerdict::Passed,
        reason: "No issues found".into(),
    }
}

fn report(outcome: ReportOutcome, repeats: &[u32], reason: &str) -> GenerationReport {
    GenerationReport {
        outcome,
        repeats: repeats.to_vec(),
        reason: reason.into(),
    }
}

struct Round {
    hotkeys: Vec<String>,
    matches: MatchMatrix,
    audits: MatchMatrix,
    reports: BTreeMap<String, GenerationReport>,
    sources: BTreeMap<String, SourceAudit>,
    requests: AuditRequests,
    verdicts: GenerationAudits,
}

impl Round {
    fn new(hotkeys: &[&str]) -> Self {
        Self {
            hotkeys: hotkeys.iter().map(|h| hk(h)).collect(),
            matches: MatchMatrix::new(),
            audits: MatchMatrix::new(),
            reports: BTreeMap::new(),
            sources: BTreeMap::new(),
            requests: AuditRequests::default(),
            verdicts: GenerationAudits::new(),
        }
    }

    fn timeline(&self) -> Timeline {
        Timeline::derive(&TimelineInputs {
            hotkeys: &self.hotkeys,
            win_margin: W,
            audit_repeats: 3,
            matches: &self.matches,
            audits: &self.audits,
            reports: &self.reports,
            source_audits: &self.sources,
        })
    }

    fn tick(&mut self) -> sn17_judge::rules::Plan {
        let inputs = RoundInputs {
            hotkeys: &self.hotkeys,
            win_margin: W,
            audit_repeats: 3,
            matches: &self.matches,
            audits: &self.audits,
            reports: &self.reports,
            source_audits: &self.sources,
        };
        plan(&inputs, &mut self.requests, &mut self.verdicts)
    }
}

fn status(t: &Timeline) -> Vec<(String, EntryStatus)> {
    t.entries
        .iter()
        .map(|e| (e.hotkey.clone(), e.status))
        .collect()
}

#[test]
fn qualification_needs_the_margin_and_a_tie_at_the_margin_qualifies() {
    let mut r = Round::new(&["a", "b", "c"]);
    r.matches.add(LEADER, "a", margin(7, 128)); // 0.0546875 qualifies
    r.matches.add(LEADER, "b", margin(6, 128)); // 0.046875 does not
    r.matches.add(LEADER, "c", margin(5, 100)); // exactly W: a tie counts for the challenger
    assert_eq!(margin(5, 100), W);
    let t = r.timeline();
    // b never qualified, so it is not part of the timeline at all.
    assert_eq!(
        status(&t),
        [(hk("a"), EntryStatus::Won), (hk("c"), EntryStatus::Pending)],
        "a dethrones the leader with its qualification match; c must now play a"
    );
    assert_eq!(t.entries[1].defender, "a");
    r.matches.add("a", "c", W);
    let t = r.timeline();
    assert_eq!(t.entries[1].status, EntryStatus::Won, "exactly W dethrones");
    assert_eq!(t.winner(), "c");
    r.matches.add("a", "c", W - 1e-12);
    assert_eq!(r.timeline().winner(), "a", "just under W does not");
}

#[test]
fn losers_keep_the_defender_and_the_next_challenger_plays_the_same_one() {
    let mut r = Round::new(&["a", "b", "c"]);
    for h in ["a", "b", "c"] {
        r.matches.add(LEADER, h, 0.2);
    }
    r.matches.add("a", "b", -0.1);
    r.matches.add("a", "c", 0.01);
    let t = r.timeline();
    assert_eq!(
        status(&t),
        [
            (hk("a"), EntryStatus::Won),
            (hk("b"), EntryStatus::Lost),
            (hk("c"), EntryStatus::Lost)
        ]
    );
    assert!(t.entries.iter().skip(1).all(|e| e.defender == "a"));
    assert_eq!(t.winner(), "a");
    assert!(!t.is_finalized(), "a is unverified until its audits pass");
    assert!(t.render().contains("lost to a (-10.00%)"), "{}", t.render());
}

#[test]
fn cached_matches_are_reused_and_pending_matches_are_the_next_work() {
    let mut r = Round::new(&["a", "b"]);
    r.matches.add(LEADER, "a", 0.1);
    r.matches.add(LEADER, "b", 0.1);
    let p = r.tick();
    assert_eq!(
        p.work,
        Work::Match {
            defender: hk("a"),
            challenger: hk("b")
        }
    );
    assert!(p.requests_changed, "a won: an audit request is written");
    assert_eq!(
        r.requests.get("a").map(|q| q.latest_defender.as_str()),
        Some(LEADER)
    );
    r.matches.add("a", "b", 0.3);
    let p = r.tick();
    // b beat a from the cache; no match is run again. The next work is a's audit (its report lists repeat 1).
    assert_eq!(
        status(&p.timeline),
        [(hk("a"), EntryStatus::Won), (hk("b"), EntryStatus::Won)]
    );
    assert_eq!(
        p.work,
        Work::Idle,
        "no generation report yet: blocked on the orchestrator"
    );
    r.reports
        .insert(hk("a"), report(ReportOutcome::Pending, &[1], ""));
    assert_eq!(
        r.tick().work,
        Work::Audit(AuditDuel {
            hotkey: hk("a"),
            defender: hk(LEADER),
            repeat: 1,
            kind: AuditKind::Submitted
        })
    );
    r.audits.add("submitted_1", "a", 0.0);
    let p = r.tick();
    let Work::Audit(d) = &p.work else {
        panic!("{:?}", p.work)
    };
    assert_eq!(
        (d.kind, d.matrix_key(), d.left()),
        (AuditKind::Defender, hk("leader_1"), "leader")
    );
}

#[test]
fn a_failed_audit_hands_the_round_to_the_next_challenger() {
    let mut r = Round::new(&["a", "b", "c"]);
    r.matches.add(LEADER, "a", 0.2);
    r.matches.add(LEADER, "b", 0.1);
    r.matches.add(LEADER, "c", 0.08);
    r.matches.add("a", "b", -0.2);
    r.matches.add("a", "c", -0.3);
    // Exploratory duels already filled b vs c.
    r.matches.add("b", "c", 0.02);
    r.requests.add(AuditRequest {
        hotkey: hk("a"),
        latest_defender: hk(LEADER),
    });
    assert_eq!(r.timeline().winner(), "a");
    // a's regeneration loses to its own submission by more than W.
    r.audits.add("submitted_1", "a", margin(-9, 128));
    let p = r.tick();
    assert_eq!(
        status(&p.timeline),
        [
            (hk("a"), EntryStatus::Rejected),
            (hk("b"), EntryStatus::Won),
            (hk("c"), EntryStatus::Lost)
        ]
    );
    assert_eq!(
        p.timeline.entries[0].reason.as_deref(),
        Some("submitted vs generated #1: -7.03%")
    );
    assert_eq!(
        p.timeline.entries[1].defender, LEADER,
        "b is re-evaluated against the previous defender"
    );
    assert_eq!(p.timeline.entries[2].defender, "b");
    assert_eq!(p.timeline.winner(), "b");
    assert!(p.verdicts_changed);
    assert_eq!(r.verdicts["a"].verdict, SourceVerdict::Failed);
    assert_eq!(r.verdicts["a"].reason, "submitted vs generated #1: -7.03%");
    assert_eq!(
        r.requests.get("b").map(|q| q.latest_defender.as_str()),
        Some(LEADER)
    );
}

#[test]
fn the_defender_audit_needs_the_margin_and_out_of_band_rejections_skip_a_hotkey() {
    let mut r = Round::new(&["a", "b"]);
    r.matches.add(LEADER, "a", 0.2);
    r.matches.add(LEADER, "b", 0.2);
    r.requests.add(AuditRequest {
        hotkey: hk("a"),
        latest_defender: hk(LEADER),
    });
    r.audits.add("leader_2", "a", 0.02);
    let t = r.timeline();
    assert_eq!(t.entries[0].status, EntryStatus::Rejected);
    assert_eq!(
        t.entries[0].reason.as_deref(),
        Some("leader vs generated #2: +2.00%")
    );
    let mut r = Round::new(&["a", "b"]);
    r.matches.add(LEADER, "a", 0.2);
    r.matches.add(LEADER, "b", 0.2);
    r.sources.insert(
        hk("a"),
        SourceAudit {
            verdict: SourceVerdict::Failed,
            reason: "Repository not found".into(),
        },
    );
    r.reports.insert(
        hk("b"),
        report(
            ReportOutcome::Rejected,
            &[1],
            "Repeat 2: 14 failed prompts exceed tolerance (12)",
        ),
    );
    let t = r.timeline();
    assert_eq!(
        t.entries[0].reason.as_deref(),
        Some("source audit: Repository not found")
    );
    assert_eq!(
        t.entries[1].reason.as_deref(),
        Some("generation report: Repeat 2: 14 failed prompts exceed tolerance (12)")
    );
    assert_eq!(t.winner(), LEADER);
    assert!(t.is_finalized());
}

#[test]
fn a_verified_chain_finalizes() {
    let mut r = Round::new(&["a", "b"]);
    r.matches.add(LEADER, "a", 0.2);
    r.matches.add(LEADER, "b", 0.1);
    r.matches.add("a", "b", 0.06);
    for h in ["a", "b"] {
        r.sources.insert(hk(h), passed());
        r.reports
            .insert(hk(h), report(ReportOutcome::Completed, &[1, 2, 3], ""));
    }
    for rep in 1..=3 {
        r.audits.add(format!("submitted_{rep}"), "a", -0.04);
        r.audits.add(format!("leader_{rep}"), "a", 0.05);
        r.audits.add(format!("submitted_{rep}"), "b", 0.0);
        r.audits.add(format!("a_{rep}"), "b", 0.1);
    }
    let p = r.tick();
    assert!(
        p.timeline.entries.iter().all(|e| e.verified),
        "{:?}",
        p.timeline
    );
    assert_eq!(
        p.work,
        Work::Finalize {
            winner: hk("b"),
            reason: "Winner b".into()
        }
    );
    assert_eq!(r.verdicts.len(), 2);
    assert!(r
        .verdicts
        .values()
        .all(|v| v.verdict == SourceVerdict::Passed));
    // b's verification depends on a's: drop one of a's margins and neither is verified any more.
    r.audits.add("leader_3", "a", 0.04);
    let t = r.timeline();
    assert_eq!(status(&t)[0].1, EntryStatus::Rejected);
}

#[test]
fn no_submissions_finalize_as_the_leader() {
    let mut r = Round::new(&[]);
    assert_eq!(
        r.tick().work,
        Work::Finalize {
            winner: hk(LEADER),
            reason: "No submissions found".into()
        }
    );
}

/// Truth for a simulated round: margins every match and audit would produce.
struct Truth {
    matches: HashMap<(String, String), f64>,
    audits: HashMap<(String, String), f64>,
}

/// Runs the judge loop on the pure planner, "playing" work from the truth table, and returns the work log.
fn simulate(r: &mut Round, truth: &Truth, max_ticks: usize) -> Vec<Work> {
    let mut log = Vec::new();
    for _ in 0..max_ticks {
        let p = r.tick();
        log.push(p.work.clone());
        match p.work {
            Work::Qualify { hotkey } => {
                let m = truth.matches[&(hk(LEADER), hotkey.clone())];
                r.matches.add(LEADER, hotkey, m);
            }
            Work::Match {
                defender: l,
                challenger: rr,
            }
            | Work::Exploratory { left: l, right: rr } => {
                let m = truth.matches[&(l.clone(), rr.clone())];
                r.matches.add(l, rr, m);
            }
            Work::Audit(d) => {
                let m = truth.audits[&(d.matrix_key(), d.hotkey.clone())];
                r.audits.add(d.matrix_key(), d.hotkey, m);
            }
            Work::Finalize { .. } | Work::Idle => break,
        }
    }
    log
}

#[test]
fn a_whole_round_replays_to_the_same_winner() {
    // a beats the leader but fails its defender audit on repeat 2; b (who lost to a) then beats the leader and
    // passes; c loses to b. The loop must qualify, match, explore, audit and finalize with b.
    let mut truth = Truth {
        matches: HashMap::new(),
        audits: HashMap::new(),
    };
    let mut m = |l: &str, r: &str, v: f64| {
        truth.matches.insert((hk(l), hk(r)), v);
    };
    m(LEADER, "a", 0.3);
    m(LEADER, "b", 0.1);
    m(LEADER, "c", 0.05);
    m("a", "b", -0.1);
    m("a", "c", -0.2);
    m("b", "c", -0.05);
    for rep in 1..=3 {
        truth
            .audits
            .insert((format!("submitted_{rep}"), hk("a")), 0.0);
        truth.audits.insert(
            (format!("leader_{rep}"), hk("a")),
            if rep == 2 { 0.01 } else { 0.2 },
        );
        truth
            .audits
            .insert((format!("submitted_{rep}"), hk("b")), -0.05);
        truth
            .audits
            .insert((format!("leader_{rep}"), hk("b")), 0.06);
    }
    let run = || {
        let mut r = Round::new(&["a", "b", "c"]);
        for h in ["a", "b", "c"] {
            r.sources.insert(hk(h), passed());
            r.reports
                .insert(hk(h), report(ReportOutcome::Completed, &[1, 2, 3], ""));
        }
        // The orchestrator stopped regenerating a once its audit failed (404's early exit): 2 repeats reported.
        r.reports
            .insert(hk("a"), report(ReportOutcome::Pending, &[1, 2], ""));
        let log = simulate(&mut r, &truth, 100);
        (log, r.verdicts.clone(), r.requests.clone())
    };
    let (log, verdicts, requests) = run();
    assert_eq!(
        log.last(),
        Some(&Work::Finalize {
            winner: hk("b"),
            reason: "Winner b".into()
        }),
        "{log:#?}"
    );
    assert_eq!(
        &log[..3],
        &[
            Work::Qualify { hotkey: hk("a") },
            Work::Qualify { hotkey: hk("b") },
            Work::Qualify { hotkey: hk("c") }
        ]
    );
    // Audits of a come before its pending matches, submitted before defender, repeat by repeat.
    let audit_keys: Vec<String> = log
        .iter()
        .filter_map(|w| match w {
            Work::Audit(d) if d.hotkey == "a" => Some(d.matrix_key()),
            _ => None,
        })
        .collect();
    assert_eq!(
        audit_keys,
        ["submitted_1", "leader_1", "submitted_2", "leader_2"],
        "a is rejected after repeat 2"
    );
    assert!(
        log.contains(&Work::Exploratory {
            left: hk("b"),
            right: hk("c")
        }) || log.contains(&Work::Match {
            defender: hk("b"),
            challenger: hk("c")
        })
    );
    assert_eq!(verdicts["a"].verdict, SourceVerdict::Failed);
    assert_eq!(verdicts["a"].reason, "leader vs generated #2: +1.00%");
    assert_eq!(verdicts["b"].verdict, SourceVerdict::Passed);
    assert!(!verdicts.contains_key("c"));
    assert_eq!(
        requests.get("b").map(|q| q.latest_defender.as_str()),
        Some(LEADER)
    );
    // Replaying from scratch gives the same log and verdicts.
    assert_eq!(run(), (log, verdicts, requests));
}

#[test]
fn the_defender_audit_is_keyed_on_the_current_defender_not_a_stale_request() {
    // b's request still names a (it beat a once), but a has since been rejected: b's defender is now the
    // leader, so the `a_1` row is history and only `leader_1` counts.
    let mut r = Round::new(&["a", "b"]);
    r.matches.add(LEADER, "a", 0.2);
    r.matches.add(LEADER, "b", 0.2);
    r.matches.add("a", "b", 0.1);
    r.requests.add(AuditRequest {
        hotkey: hk("b"),
        latest_defender: hk("a"),
    });
    r.audits.add("submitted_1", "a", -0.5);
    r.audits.add("a_1", "b", -0.3);
    let t = r.timeline();
    assert_eq!(
        status(&t),
        [
            (hk("a"), EntryStatus::Rejected),
            (hk("b"), EntryStatus::Won)
        ]
    );
    assert_eq!(t.entries[1].defender, LEADER);
    assert_eq!(t.winner(), "b", "the stale a_1 row must not reject b");
    r.audits.add("leader_1", "b", 0.01);
    let t = r.timeline();
    assert_eq!(
        t.entries[1].reason.as_deref(),
        Some("leader vs generated #1: +1.00%")
    );
    assert_eq!(t.winner(), LEADER);
    // The next tick heals the request to the current defender.
    let mut r2 = Round::new(&["a", "b"]);
    r2.matches = r.matches.clone();
    r2.audits.add("submitted_1", "a", -0.5);
    r2.requests.add(AuditRequest {
        hotkey: hk("b"),
        latest_defender: hk("a"),
    });
    let p = r2.tick();
    assert!(p.requests_changed);
    assert_eq!(
        r2.requests.get("b").map(|q| q.latest_defender.as_str()),
        Some(LEADER)
    );
}

#[test]
fn unqualified_hotkeys_keep_the_round_open_unless_rejected_out_of_band() {
    let mut r = Round::new(&["a", "z", "x"]);
    r.matches.add(LEADER, "a", 0.2);
    for h in ["a", "z", "x"] {
        r.sources.insert(hk(h), passed());
    }
    r.reports
        .insert(hk("a"), report(ReportOutcome::Completed, &[1, 2, 3], ""));
    for rep in 1..=3 {
        r.audits.add(format!("submitted_{rep}"), "a", 0.0);
        r.audits.add(format!("leader_{rep}"), "a", 0.1);
    }
    r.reports.insert(
        hk("x"),
        report(
            ReportOutcome::Rejected,
            &[],
            "Failed to build a docker image",
        ),
    );
    let t = r.timeline();
    assert_eq!(
        t.unqualified_pending,
        [hk("z")],
        "x is rejected: it never qualifies"
    );
    assert!(!t.is_finalized(), "z has not played the leader yet");
    assert_eq!(r.tick().work, Work::Qualify { hotkey: hk("z") });
    r.matches.add(LEADER, "z", 0.0);
    let t = r.timeline();
    assert!(t.unqualified_pending.is_empty());
    assert!(t.is_finalized());
    assert_eq!(t.winner(), "a");
}

#[test]
fn competition_0_challenges_sequentially_with_ties_for_the_challenger() {
    let order: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| hk(s)).collect();
    let margins = |h: &str| match h {
        "a" => Some(0.0),
        "b" => Some(W),
        "c" => Some(-0.5),
        "d" => Some(margin(9, 128)),
        _ => None,
    };
    let (steps, winner) = sequential(&order, W, margins);
    assert_eq!(winner, "d");
    let defenders: Vec<&str> = steps.iter().map(|s| s.defender.as_str()).collect();
    assert_eq!(defenders, [LEADER, LEADER, "b", "b"]);
    assert!(steps[1].challenger_wins, "exactly W takes the lead");
}
