//! The rules that turn match margins into a round's winner: the current clear-margin timeline
//! (competition.md §7.7) and Competition 0's sequential challenge.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use sn17_storage::state_repo::MatchMatrix;

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

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EntryStatus {
    Rejected { reason: String },
    Pending,
    Lost { margin: f64 },
    Won { margin: f64, verified: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub hotkey: String,
    /// The defender it played (or would play).
    pub defender: String,
    #[serde(flatten)]
    pub status: EntryStatus,
}

/// The derived timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// Qualified hotkeys' entries, in reveal order.
    pub entries: Vec<TimelineEntry>,
    /// Hotkeys whose qualification match is still missing.
    pub unqualified_pending: Vec<String>,
    pub winner: String,
    pub finalized: bool,
}

fn audit(audits: &MatchMatrix, left: &str, hk: &str, r: u32) -> Option<f64> {
    audits.get(&format!("{left}_{r}"), hk)
}

fn pct(m: f64) -> String {
    format!("{:.2}%", m * 100.0)
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

/// A settled round: matches, audit duels (`submitted_r` / `{defender}_r` rows), the audit
/// verdict per audited hotkey (passed, reason), and the winner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    pub matches: MatchMatrix,
    pub audits: MatchMatrix,
    pub verdicts: BTreeMap<String, (bool, String)>,
    /// Every audit asked for, as (hotkey, the defender it beat), in order.
    pub audit_requests: Vec<(String, String)>,
    pub winner: String,
}

/// 404's pass rule per repeat (§8.1.7): `submitted_r ≥ −W` and `defender_r ≥ W`.
fn audit_verdict(repeats: &[(f64, f64)], w: f64) -> (bool, String) {
    for (i, (submitted, vs_defender)) in repeats.iter().enumerate() {
        let r = i + 1;
        if *submitted < -w {
            return (
                false,
                format!("submitted vs generated #{r}: {}", pct(*submitted)),
            );
        }
        if *vs_defender < w {
            return (
                false,
                format!("defender vs generated #{r}: {}", pct(*vs_defender)),
            );
        }
    }
    (true, format!("{} repeats passed", repeats.len()))
}

/// Plays the matches the timeline asks for, one at a time (every qualification against the
/// leader first, then the defences), and audits each winner once per defender when
/// `audit_repeats > 0`, until it settles. `None` when it does not settle within one match per
/// (defender, challenger) pair.
pub async fn settle<E, F, Fut, A, AFut>(
    inp: &TimelineInputs,
    audits: &MatchMatrix,
    mut play: F,
    mut audit: A,
) -> Result<Option<Settled>, E>
where
    F: FnMut(String, String) -> Fut,
    Fut: std::future::Future<Output = Result<f64, E>>,
    A: FnMut(String, String) -> AFut,
    AFut: std::future::Future<Output = Result<AuditResult, E>>,
{
    let mut inp = inp.clone();
    let mut out = Settled {
        audits: audits.clone(),
        ..Settled::default()
    };
    let mut audited: HashSet<(String, String)> = HashSet::new();
    let n = inp.order.len() + 1;
    for _ in 0..=2 * n * n {
        let t = derive(&inp, &out.matches, &out.audits);
        let next = t
            .unqualified_pending
            .first()
            .map(|hk| ("leader".to_string(), hk.clone()))
            .or_else(|| {
                t.entries
                    .iter()
                    .find(|e| e.status == EntryStatus::Pending)
                    .map(|e| (e.defender.clone(), e.hotkey.clone()))
            });
        if let Some((left, right)) = next {
            let margin = play(left.clone(), right.clone()).await?;
            out.matches.set(&left, &right, margin);
            continue;
        }
        let unaudited = (inp.audit_repeats > 0)
            .then(|| {
                t.entries.iter().find(|e| {
                    matches!(
                        e.status,
                        EntryStatus::Won {
                            verified: false,
                            ..
                        }
                    ) && !audited.contains(&(e.defender.clone(), e.hotkey.clone()))
                })
            })
            .flatten()
            .map(|e| (e.defender.clone(), e.hotkey.clone()));
        let Some((defender, hk)) = unaudited else {
            out.winner = t.winner;
            return Ok(Some(out));
        };
        audited.insert((defender.clone(), hk.clone()));
        out.audit_requests.push((hk.clone(), defender.clone()));
        match audit(defender.clone(), hk.clone()).await? {
            AuditResult::Margins(repeats) => {
                if !repeats.is_empty() {
                    out.verdicts
                        .insert(hk.clone(), audit_verdict(&repeats, inp.win_margin));
                }
                for (i, (submitted, vs_defender)) in repeats.into_iter().enumerate() {
                    let r = i + 1;
                    out.audits.set(&format!("submitted_{r}"), &hk, submitted);
                    out.audits.set(&format!("{defender}_{r}"), &hk, vs_defender);
                }
            }
            AuditResult::Rejected(reason) => {
                inp.rejected_reports.insert(hk.clone());
                out.verdicts.insert(hk, (false, reason));
            }
        }
    }
    Ok(None)
}

/// Derives the timeline from scratch, as the judge does every tick.
pub fn derive(inp: &TimelineInputs, matches: &MatchMatrix, audits: &MatchMatrix) -> Timeline {
    let w = inp.win_margin;
    let mut qualified = Vec::new();
    let mut unqualified_pending = Vec::new();
    for hk in &inp.order {
        if inp.rejected_reports.contains(hk) || inp.source_failed.contains(hk) {
            continue;
        }
        match matches.get("leader", hk) {
            Some(m) if m >= w => qualified.push(hk.clone()),
            Some(_) => {}
            None => unqualified_pending.push(hk.clone()),
        }
    }
    let mut defender = "leader".to_string();
    let mut defender_verified = true;
    let mut entries = Vec::new();
    for hk in qualified {
        let repeats = 1..=inp.audit_repeats;
        let reject = if inp.rejected_reports.contains(&hk) {
            Some("generation report rejected".to_string())
        } else if inp.source_failed.contains(&hk) {
            Some("source audit failed".to_string())
        } else if let Some((r, m)) = repeats.clone().find_map(|r| {
            audit(audits, "submitted", &hk, r)
                .filter(|m| *m < -w)
                .map(|m| (r, m))
        }) {
            Some(format!("submitted vs generated #{r}: {}", pct(m)))
        } else if defender_verified {
            repeats
                .clone()
                .find_map(|r| {
                    audit(audits, &defender, &hk, r)
                        .filter(|m| *m < w)
                        .map(|m| (r, m))
                })
                .map(|(r, m)| format!("defender vs generated #{r}: {}", pct(m)))
        } else {
            None
        };
        let status = if let Some(reason) = reject {
            EntryStatus::Rejected { reason }
        } else {
            match matches.get(&defender, &hk) {
                None => EntryStatus::Pending,
                Some(m) if m < w => EntryStatus::Lost { margin: m },
                Some(m) => {
                    let verified = defender_verified
                        && inp.source_passed.contains(&hk)
                        && repeats.clone().all(|r| {
                            matches!(audit(audits, "submitted", &hk, r), Some(s) if s >= -w)
                                && matches!(audit(audits, &defender, &hk, r), Some(d) if d >= w)
                        });
                    EntryStatus::Won {
                        margin: m,
                        verified,
                    }
                }
            }
        };
        let entry = TimelineEntry {
            hotkey: hk.clone(),
            defender: defender.clone(),
            status,
        };
        if let EntryStatus::Won { verified, .. } = entry.status {
            defender = hk.clone();
            defender_verified = verified;
        }
        entries.push(entry);
    }
    let winner = entries
        .iter()
        .rev()
        .find(|e| matches!(e.status, EntryStatus::Won { .. }))
        .map_or_else(|| "leader".to_string(), |e| e.hotkey.clone());
    let finalized = unqualified_pending.is_empty()
        && entries.iter().all(|e| match e.status {
            EntryStatus::Pending => false,
            EntryStatus::Won { verified, .. } => verified,
            _ => true,
        });
    Timeline {
        entries,
        unqualified_pending,
        winner,
        finalized,
    }
}

/// Competition 0: each challenger, in order, plays the defender of the moment and takes its
/// place with a margin of at least `win_margin`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialStep {
    pub hotkey: String,
    pub defender: String,
    pub margin: Option<f64>,
    pub challenger_wins: bool,
}

/// Walks the challengers; `margin_of(hotkey)` is its match margin, `None` when it has no match.
pub fn sequential(
    order: &[String],
    win_margin: f64,
    margin_of: impl Fn(&str) -> Option<f64>,
) -> (Vec<SequentialStep>, String) {
    let mut defender = "leader".to_string();
    let mut steps = Vec::new();
    for hk in order {
        let margin = margin_of(hk);
        let wins = margin.is_some_and(|m| m >= win_margin);
        steps.push(SequentialStep {
            hotkey: hk.clone(),
            defender: defender.clone(),
            margin,
            challenger_wins: wins,
        });
        if wins {
            defender = hk.clone();
        }
    }
    (steps, defender)
}

/// `score / n` with draws and skips counting 0 (competition.md §7.6).
pub fn margin(score: i64, duels: usize) -> f64 {
    if duels == 0 {
        0.0
    } else {
        score as f64 / duels as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(t.winner, "B");
        assert!(t.finalized);
        assert_eq!(t.entries[1].defender, "A");
    }

    #[test]
    fn missing_matches_and_audits_keep_the_timeline_open() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "A", 0.2);
        mm.set("leader", "B", 0.2);
        let au = MatchMatrix::default();
        let t = derive(&inputs(&["A", "B"]), &mm, &au);
        assert_eq!(
            t.entries[0].status,
            EntryStatus::Won {
                margin: 0.2,
                verified: false
            }
        );
        assert_eq!(t.entries[1].status, EntryStatus::Pending, "B must play A");
        assert!(!t.finalized);
        let t = derive(&inputs(&["A", "Z"]), &mm, &au);
        assert_eq!(t.unqualified_pending, ["Z"]);
    }

    #[test]
    fn failed_audits_reject_and_name_the_repeat() {
        let mut mm = MatchMatrix::default();
        mm.set("leader", "A", 0.3);
        let mut au = MatchMatrix::default();
        audits_ok(&mut au, "leader", "A");
        au.set("submitted_2", "A", -0.0703125);
        let t = derive(&inputs(&["A"]), &mm, &au);
        assert_eq!(
            t.entries[0].status,
            EntryStatus::Rejected {
                reason: "submitted vs generated #2: -7.03%".into()
            }
        );
        assert_eq!(t.winner, "leader");
        assert!(t.finalized);
    }

    #[test]
    fn sequential_challenges_like_competition_0() {
        let order: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let margins = |hk: &str| match hk {
            "a" => Some(0.0),
            "b" => Some(0.0625),
            "c" => Some(-0.5),
            "d" => Some(0.0703125),
            _ => None,
        };
        let (steps, winner) = sequential(&order, 0.05, margins);
        assert_eq!(winner, "d");
        assert_eq!(
            steps
                .iter()
                .map(|s| s.defender.as_str())
                .collect::<Vec<_>>(),
            ["leader", "leader", "b", "b"]
        );
        assert_eq!(margin(-11, 128), -0.0859375);
    }

    /// settle() with audits: the first winner's regeneration is rejected, so the next one in
    /// line plays the leader instead and is audited against it; each pair is audited once.
    #[tokio::test]
    async fn settle_audits_winners_and_skips_a_rejected_one() {
        let inp = inputs(&["A", "B"]);
        let margins = |l: &str, r: &str| match (l, r) {
            ("leader", _) => 0.2,
            ("A", "B") => 0.1,
            _ => -0.3,
        };
        let mut audited = Vec::new();
        let s = settle(
            &inp,
            &MatchMatrix::default(),
            |l, r| {
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
        assert!(!s.verdicts["A"].0);
        assert!(s.verdicts["A"].1.contains("13 failed prompts"));
        assert_eq!(s.verdicts["B"], (true, "2 repeats passed".to_string()));
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
    }
}
