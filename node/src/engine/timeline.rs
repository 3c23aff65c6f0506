//! A thin adapter from the node's stored types to the judge crate's rules (`sn17_judge::rules`), which are the
//! one implementation of qualification, the reveal-order timeline, audits, verdicts and Competition 0's
//! sequential challenge. This module only converts matrices and drives the judge's planner with callbacks
//! that play matches and audits in process (the validator, `sn17 competition simulate`, the bench).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;

use sn17_judge::rules::{
    self, plan, AuditRequests, GenerationAudits, GenerationReport, ReportOutcome, RoundInputs,
    SourceAudit, SourceVerdict, Work, LEADER,
};
use sn17_storage::state_repo::MatchMatrix;

pub use sn17_judge::rules::{margin, sequential, Timeline};

/// What the timeline knows about the round besides matches.
#[derive(Debug, Clone, Default)]
pub struct TimelineInputs {
    /// Submitted hotkeys in reveal order.
    pub order: Vec<String>,
    pub win_margin: f64,
    pub audit_repeats: u32,
    /// Hotkeys whose generation report is `rejected`.
    pub rejected_reports: HashSet<String>,
    pub source_failed: HashSet<String>,
    pub source_passed: HashSet<String>,
}

impl TimelineInputs {
    fn reports(&self) -> BTreeMap<String, GenerationReport> {
        self.rejected_reports
            .iter()
            .map(|hk| {
                let r = GenerationReport {
                    outcome: ReportOutcome::Rejected,
                    repeats: Vec::new(),
                    reason: String::new(),
                };
                (hk.clone(), r)
            })
            .collect()
    }

    fn source_audits(&self) -> BTreeMap<String, SourceAudit> {
        let verdict = |v| SourceAudit {
            verdict: v,
            reason: String::new(),
        };
        let mut out: BTreeMap<String, SourceAudit> = self
            .source_passed
            .iter()
            .map(|hk| (hk.clone(), verdict(SourceVerdict::Passed)))
            .collect();
        // A failure wins over a pass recorded for the same hotkey.
        for hk in &self.source_failed {
            out.insert(hk.clone(), verdict(SourceVerdict::Failed));
        }
        out
    }
}

/// The storage matrix (CSV rows) as the judge's matrix.
pub fn to_rules(m: &MatchMatrix) -> rules::MatchMatrix {
    rules::MatchMatrix::from_rows(
        m.rows
            .iter()
            .map(|r| (r.left.clone(), r.right.clone(), r.margin)),
    )
}

/// The judge's matrix as the storage matrix, in the same row order.
pub fn to_storage(m: &rules::MatchMatrix) -> MatchMatrix {
    let mut out = MatchMatrix::default();
    for (l, r, v) in m.rows() {
        out.set(l, r, v);
    }
    out
}

/// Derives the timeline from stored matrices (the judge's [`Timeline::derive`]).
pub fn derive(inp: &TimelineInputs, matches: &MatchMatrix, audits: &MatchMatrix) -> Timeline {
    let (matches, audits) = (to_rules(matches), to_rules(audits));
    let (reports, source_audits) = (inp.reports(), inp.source_audits());
    Timeline::derive(&rules::TimelineInputs {
        hotkeys: &inp.order,
        win_margin: inp.win_margin,
        audit_repeats: inp.audit_repeats,
        matches: &matches,
        audits: &audits,
        reports: &reports,
        source_audits: &source_audits,
    })
}

/// An audit by regeneration of one winner against its defender (competition.md §8.1).
#[derive(Debug, Clone, PartialEq)]
pub enum AuditResult {
    /// Per repeat: (submitted vs generated, defender vs generated) margins. Fewer than
    /// `audit_repeats` entries leave the winner unverified.
    Margins(Vec<(f64, f64)>),
    /// The generation report was REJECTED (limits broken, no pod, …).
    Rejected(String),
}

/// A settled round: matches, audit duels (`submitted_r` / `{defender}_r` rows), the published audit verdict
/// per audited hotkey (passed, reason), the audit requests and the winner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    pub matches: MatchMatrix,
    pub audits: MatchMatrix,
    pub verdicts: BTreeMap<String, (bool, String)>,
    /// `require_audit.json`: (hotkey, the defender it beat), in insertion order.
    pub audit_requests: Vec<(String, String)>,
    pub winner: String,
    /// The timeline the winner comes from; not finalized when audits could not verify a winner.
    pub timeline: Timeline,
}

/// Drives the judge's planner ([`sn17_judge::rules::plan`]) to the end of the round, playing each unit of work
/// it asks for with `play(left, right)` (qualifications and timeline matches). Audits run in process: where
/// the planner waits for a generation report, `audit(defender, hotkey)` regenerates and plays every repeat
/// at once, and its margins and report are fed back. Exploratory duels are not played (nothing here runs
/// while waiting for an orchestrator). Returns the timeline's winner once it is finalized, or once nothing
/// more can be done (a winner whose audits are incomplete stays unverified); `None` past a generous bound.
pub async fn settle<E, F, Fut, A, AFut>(
    inp: &TimelineInputs,
    audits: &MatchMatrix,
    mut play: F,
    mut audit: A,
) -> Result<Option<Settled>, E>
where
    F: FnMut(String, String) -> Fut,
    Fut: Future<Output = Result<f64, E>>,
    A: FnMut(String, String) -> AFut,
    AFut: Future<Output = Result<AuditResult, E>>,
{
    let mut matches = rules::MatchMatrix::new();
    let mut audit_m = to_rules(audits);
    let mut reports = inp.reports();
    let source_audits = inp.source_audits();
    let mut requests = AuditRequests::default();
    let mut verdicts = GenerationAudits::new();
    let mut audited: HashSet<(String, String)> = HashSet::new();
    let n = inp.order.len() + 1;
    for _ in 0..=4 * n * n + 8 {
        let p = plan(
            &RoundInputs {
                hotkeys: &inp.order,
                win_margin: inp.win_margin,
                audit_repeats: inp.audit_repeats,
                matches: &matches,
                audits: &audit_m,
                reports: &reports,
                source_audits: &source_audits,
            },
            &mut requests,
            &mut verdicts,
        );
        let (left, right) = match p.work {
            Work::Qualify { hotkey } => (LEADER.to_string(), hotkey),
            Work::Match {
                defender,
                challenger,
            } => (defender, challenger),
            Work::Finalize { .. } | Work::Audit(_) | Work::Exploratory { .. } | Work::Idle => {
                let finished = matches!(p.work, Work::Finalize { .. });
                let target = (!finished && inp.audit_repeats > 0)
                    .then(|| {
                        requests
                            .iter()
                            .filter(|r| {
                                !reports
                                    .get(&r.hotkey)
                                    .is_some_and(|g| g.outcome == ReportOutcome::Rejected)
                            })
                            .map(|r| (r.latest_defender.clone(), r.hotkey.clone()))
                            .find(|pair| !audited.contains(pair))
                    })
                    .flatten();
                let Some((defender, hk)) = target else {
                    return Ok(Some(settled(
                        &matches, &audit_m, &verdicts, &requests, p.timeline,
                    )));
                };
                audited.insert((defender.clone(), hk.clone()));
                let report = match audit(defender.clone(), hk.clone()).await? {
                    AuditResult::Margins(margins) => {
                        for (i, (submitted, vs_defender)) in margins.iter().enumerate() {
                            let r = i + 1;
                            audit_m.add(format!("submitted_{r}"), hk.clone(), *submitted);
                            audit_m.add(format!("{defender}_{r}"), hk.clone(), *vs_defender);
                        }
                        GenerationReport {
                            outcome: ReportOutcome::Completed,
                            repeats: (1..=margins.len() as u32).collect(),
                            reason: String::new(),
                        }
                    }
                    AuditResult::Rejected(reason) => GenerationReport {
                        outcome: ReportOutcome::Rejected,
                        repeats: Vec::new(),
                        reason,
                    },
                };
                reports.insert(hk, report);
                continue;
            }
        };
        let m = play(left.clone(), right.clone()).await?;
        matches.add(left, right, m);
    }
    Ok(None)
}

fn settled(
    matches: &rules::MatchMatrix,
    audits: &rules::MatchMatrix,
    verdicts: &GenerationAudits,
    requests: &AuditRequests,
    timeline: Timeline,
) -> Settled {
    Settled {
        matches: to_storage(matches),
        audits: to_storage(audits),
        verdicts: verdicts
            .iter()
            .map(|(hk, v)| {
                let passed = v.verdict == SourceVerdict::Passed;
                (hk.clone(), (passed, v.reason.clone()))
            })
            .collect(),
        audit_requests: requests
            .iter()
            .map(|r| (r.hotkey.clone(), r.latest_defender.clone()))
            .collect(),
        winner: timeline.winner().to_string(),
        timeline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sn17_judge::rules::EntryStatus;

    fn inputs(order: &[&str]) -> TimelineInputs {
        TimelineInputs {
            order: order.iter().map(|s| s.to_string()).collect(),
            win_margin: 0.05,
            audit_repeats: 2,
            source_passed: order.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn audits_ok(m: &mut MatchMatrix, defender: &str, hk: &str) {
        for r in 1..=2 {
            m.set(&format!("submitted_{r}"), hk, 0.0);
            m.set(&format!("{defender}_{r}"), hk, 0.1);
        }
    }

    fn statuses(t: &Timeline) -> Vec<EntryStatus> {
        t.entries.iter().map(|e| e.status).collect()
    }

    #[test]
    fn margin_exactly_w_dethrones_and_losers_keep_the_defender() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "A", 7.0 / 128.0);
        mm.set("leader", "B", 0.05);
        mm.set("leader", "C", 6.0 / 128.0);
        mm.set("A", "B", 0.05);
        let mut au = MatchMatrix::default();
        audits_ok(&mut au, "leader", "A");
        audits_ok(&mut au, "A", "B");
        let t = derive(&inputs(&["A", "B", "C"]), &mm, &au);
        assert_eq!(t.entries.len(), 2, "C did not qualify (6/128 < 0.05)");
        assert_eq!(t.winner(), "B");
        assert!(t.is_finalized());
        assert_eq!(t.entries[1].defender, "A");
    }

    #[test]
    fn missing_matches_and_audits_keep_the_timeline_open() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "A", 0.2);
        mm.set("leader", "B", 0.2);
        let au = MatchMatrix::default();
        let t = derive(&inputs(&["A", "B"]), &mm, &au);
        assert_eq!(statuses(&t), [EntryStatus::Won, EntryStatus::Pending]);
        assert!(!t.entries[0].verified);
        assert!(!t.is_finalized());
        let t = derive(&inputs(&["A", "Z"]), &mm, &au);
        assert_eq!(t.unqualified_pending, ["Z"]);
        let mut rejected = inputs(&["A", "Z"]);
        rejected.rejected_reports.insert("Z".into());
        let t = derive(&rejected, &mm, &au);
        assert!(
            t.unqualified_pending.is_empty(),
            "a rejected hotkey never qualifies"
        );
    }

    #[test]
    fn failed_audits_reject_and_name_the_repeat_as_404_does() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "A", 0.3);
        let mut au = MatchMatrix::default();
        audits_ok(&mut au, "leader", "A");
        au.set("submitted_2", "A", -0.0703125);
        let t = derive(&inputs(&["A"]), &mm, &au);
        assert_eq!(t.entries[0].status, EntryStatus::Rejected);
        assert_eq!(
            t.entries[0].reason.as_deref(),
            Some("submitted vs generated #2: -7.03%")
        );
        assert_eq!(t.winner(), "leader");
        assert!(t.is_finalized());
    }

    #[test]
    fn matrices_convert_both_ways_in_order() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "b", -1.0);
        mm.set("leader", "a", 0.0546875);
        let back = to_storage(&to_rules(&mm));
        assert_eq!(back.to_text(), mm.to_text());
    }

    /// settle() with audits: the first winner's regeneration is rejected, so the next one in
    /// line is re-evaluated against the leader and audited against it; each pair is audited once.
    #[tokio::test]
    async fn settle_audits_winners_and_skips_a_rejected_one() {
        let inp = inputs(&["A", "B"]);
        let margins = |l: &str, r: &str| match (l, r) {
            ("leader", _) => 0.2,
            ("A", "B") => 0.1,
            _ => -0.3,
        };
        let mut audited = Vec::new();
        let mut played = Vec::new();
        let s = settle(
            &inp,
            &MatchMatrix::default(),
            |l, r| {
                played.push((l.clone(), r.clone()));
                let m = margins(&l, &r);
                async move { Ok::<_, ()>(m) }
            },
            |def, hk| {
                audited.push((def.clone(), hk.clone()));
                let result = if hk == "A" {
                    AuditResult::Rejected(
                        "Repeat 1: 13 failed prompts exceed tolerance (12)".into(),
                    )
                } else {
                    AuditResult::Margins(vec![(0.0, 0.2), (0.01, 0.3)])
                };
                async move { Ok::<_, ()>(result) }
            },
        )
        .await
        .expect("settles")
        .expect("within the bound");
        assert_eq!(s.winner, "B");
        assert!(s.timeline.is_finalized());
        assert!(!s.verdicts["A"].0);
        assert_eq!(
            s.verdicts["A"].1,
            "generation report: Repeat 1: 13 failed prompts exceed tolerance (12)"
        );
        assert_eq!(s.verdicts["B"], (true, String::new()));
        assert_eq!(s.audits.get("submitted_2", "B"), Some(0.01));
        assert_eq!(s.audits.get("leader_1", "B"), Some(0.2));
        // A was audited against the leader; B (after A's rejection) against the leader too.
        assert_eq!(
            audited,
            vec![
                ("leader".to_string(), "A".to_string()),
                ("leader".to_string(), "B".to_string())
            ]
        );
        // Qualifications first, then B's defence against A (cached afterwards, never replayed).
        assert_eq!(
            played,
            [("leader", "A"), ("leader", "B"), ("A", "B")]
                .map(|(l, r)| (l.to_string(), r.to_string()))
        );
        assert_eq!(
            s.audit_requests,
            [("A", "leader"), ("B", "leader")].map(|(h, d)| (h.to_string(), d.to_string()))
        );
    }

    /// Without audits (simulations, the bench) the timeline settles on its matches alone.
    #[tokio::test]
    async fn settle_without_audits_follows_the_matches() {
        let mut inp = inputs(&["A", "B", "C"]);
        inp.audit_repeats = 0;
        let s = settle(
            &inp,
            &MatchMatrix::default(),
            |l, r| {
                let m = match (l.as_str(), r.as_str()) {
                    ("leader", "C") => 0.0,
                    ("leader", _) => 0.1,
                    _ => 0.05,
                };
                async move { Ok::<_, ()>(m) }
            },
            |_, _| async { Ok::<_, ()>(AuditResult::Margins(Vec::new())) },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(s.winner, "B", "B ties A at W and takes the lead");
        assert_eq!(s.matches.get("A", "B"), Some(0.05));
        assert!(s.audits.rows.is_empty());
    }
}
