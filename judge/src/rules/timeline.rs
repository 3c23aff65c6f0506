//! The reveal-order timeline (404's `timeline.py` at `0f26836`): every qualified hotkey, in reveal order, is
//! rejected, pending, lost or won against the current defender; a winner becomes the next defender. Derived from
//! scratch from stored observations, never stored itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::audit::{defender_audit_key, submitted_audit_key};
use super::fmt::py_signed_percent;
use super::matches::{qualifies, MatchMatrix};
use super::LEADER;

/// The orchestrator's regeneration progress for one hotkey (`generation_reports.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationReport {
    pub outcome: ReportOutcome,
    /// Indices of the repeats already generated (hence auditable).
    pub repeats: Vec<u32>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportOutcome {
    Pending,
    Completed,
    Rejected,
}

/// The external source auditor's verdict (`source_audit.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAudit {
    pub verdict: SourceVerdict,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceVerdict {
    Passed,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    Won,
    Lost,
    Pending,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub hotkey: String,
    pub status: EntryStatus,
    /// The defender this hotkey faced (or would face).
    pub defender: String,
    pub margin: Option<f64>,
    pub verified: bool,
    pub reason: Option<String>,
}

/// What the timeline reads.
#[derive(Debug, Clone, Copy)]
pub struct TimelineInputs<'a> {
    /// Submitted hotkeys sorted by reveal block.
    pub hotkeys: &'a [String],
    pub win_margin: f64,
    pub audit_repeats: u32,
    pub matches: &'a MatchMatrix,
    pub audits: &'a MatchMatrix,
    pub reports: &'a BTreeMap<String, GenerationReport>,
    pub source_audits: &'a BTreeMap<String, SourceAudit>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub entries: Vec<TimelineEntry>,
    /// Hotkeys, in reveal order, still waiting for their qualification match (rejected ones never qualify and
    /// are not listed). The round is not finalized while any is left.
    #[serde(default)]
    pub unqualified_pending: Vec<String>,
}

impl Timeline {
    /// Non-qualified hotkeys (no leader match yet, or a leader margin under W) are not part of the timeline;
    /// those without a leader match that are not rejected out of band are listed as unqualified pending.
    pub fn derive(inp: &TimelineInputs<'_>) -> Self {
        let w = inp.win_margin;
        let mut entries = Vec::new();
        let mut unqualified_pending = Vec::new();
        let mut defender = LEADER.to_string();
        let mut defender_verified = true;
        for hotkey in inp.hotkeys {
            let out_of_band = report_rejection(inp.reports.get(hotkey))
                .or_else(|| source_rejection(inp.source_audits.get(hotkey)));
            match inp.matches.get(LEADER, hotkey) {
                Some(q) if qualifies(q, w) => {}
                // Rejected hotkeys are never asked to qualify (competition.md §7.7.1).
                None if out_of_band.is_none() => {
                    unqualified_pending.push(hotkey.clone());
                    continue;
                }
                _ => continue,
            }
            let mut reason = out_of_band
                .or_else(|| submitted_audit_rejection(hotkey, inp.audits, inp.audit_repeats, w));
            if reason.is_none() && defender_verified {
                // Keyed by the *current* defender, not a request's possibly stale `latest_defender`: rows
                // against a since-rejected defender stay in the matrix as history and must not count.
                reason =
                    defender_audit_rejection(hotkey, &defender, inp.audits, inp.audit_repeats, w);
            }
            let entry = |status, margin, verified, reason| TimelineEntry {
                hotkey: hotkey.clone(),
                status,
                defender: defender.clone(),
                margin,
                verified,
                reason,
            };
            if reason.is_some() {
                entries.push(entry(EntryStatus::Rejected, None, false, reason));
                continue;
            }
            let Some(m) = inp.matches.get(&defender, hotkey) else {
                entries.push(entry(EntryStatus::Pending, None, false, None));
                continue;
            };
            if !qualifies(m, w) {
                entries.push(entry(EntryStatus::Lost, Some(m), false, None));
                continue;
            }
            let verified = defender_verified
                && inp
                    .source_audits
                    .get(hotkey)
                    .is_some_and(|a| a.verdict == SourceVerdict::Passed)
                && all_audits_pass(hotkey, &defender, inp.audits, inp.audit_repeats, w);
            entries.push(entry(EntryStatus::Won, Some(m), verified, None));
            defender = hotkey.clone();
            defender_verified = verified;
        }
        Self {
            entries,
            unqualified_pending,
        }
    }

    /// The last winner, else `leader`.
    pub fn winner(&self) -> &str {
        self.entries
            .iter()
            .rev()
            .find(|e| e.status == EntryStatus::Won)
            .map_or(LEADER, |e| e.hotkey.as_str())
    }

    /// Every hotkey has its qualification match, no entry is pending and every winner is verified.
    pub fn is_finalized(&self) -> bool {
        self.unqualified_pending.is_empty()
            && self.entries.iter().all(|e| match e.status {
                EntryStatus::Pending => false,
                EntryStatus::Won => e.verified,
                _ => true,
            })
    }

    /// The first pending entry's (defender, challenger).
    pub fn next_match(&self) -> Option<(&str, &str)> {
        self.entries
            .iter()
            .find(|e| e.status == EntryStatus::Pending)
            .map(|e| (e.defender.as_str(), e.hotkey.as_str()))
    }

    /// The first pair (i < j in reveal order) of non-rejected entries with no cached match, earlier one on the
    /// left: fills the matrix so a later rejection can be settled from cache.
    pub fn exploratory_duel(&self, matches: &MatchMatrix) -> Option<(&str, &str)> {
        let live: Vec<&str> = self
            .entries
            .iter()
            .filter(|e| e.status != EntryStatus::Rejected)
            .map(|e| e.hotkey.as_str())
            .collect();
        for (i, left) in live.iter().enumerate() {
            for right in &live[i + 1..] {
                if !matches.has(left, right) {
                    return Some((left, right));
                }
            }
        }
        None
    }

    pub fn entry(&self, hotkey: &str) -> Option<&TimelineEntry> {
        self.entries.iter().find(|e| e.hotkey == hotkey)
    }

    /// A human-readable summary (404's Discord text).
    pub fn render(&self) -> String {
        if self.entries.is_empty() {
            return "leader (no qualifiers)".into();
        }
        let short = |s: &str| s.chars().take(10).collect::<String>();
        let mut lines = vec!["leader".to_string()];
        for (i, e) in self.entries.iter().enumerate() {
            let (hk, def) = (short(&e.hotkey), short(&e.defender));
            let m = e
                .margin
                .map(|m| py_signed_percent(m, 2))
                .unwrap_or_default();
            lines.push(match e.status {
                EntryStatus::Won => {
                    let mark = if e.verified { "verified" } else { "unverified" };
                    format!("  {}. {hk}  won {m} vs {def}  [{mark}]", i + 1)
                }
                EntryStatus::Pending => format!("  {}. {hk}  pending", i + 1),
                EntryStatus::Lost => format!("  {}. {hk}  lost to {def} ({m})", i + 1),
                EntryStatus::Rejected => {
                    format!(
                        "  {}. {hk}  rejected: {}",
                        i + 1,
                        e.reason.as_deref().unwrap_or("")
                    )
                }
            });
        }
        if self.winner() != LEADER {
            lines.push(format!("current leader: {}", short(self.winner())));
        }
        lines.join("\n")
    }
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn report_rejection(r: Option<&GenerationReport>) -> Option<String> {
    let r = r.filter(|r| r.outcome == ReportOutcome::Rejected)?;
    Some(if r.reason.is_empty() {
        "generation report".into()
    } else {
        format!("generation report: {}", first_chars(&r.reason, 64))
    })
}

fn source_rejection(a: Option<&SourceAudit>) -> Option<String> {
    let a = a.filter(|a| a.verdict == SourceVerdict::Failed)?;
    Some(if a.reason.is_empty() {
        "source audit".into()
    } else {
        format!("source audit: {}", first_chars(&a.reason, 64))
    })
}

fn submitted_audit_rejection(
    hotkey: &str,
    audits: &MatchMatrix,
    repeats: u32,
    w: f64,
) -> Option<String> {
    (1..=repeats).find_map(|r| {
        let m = audits.get(&submitted_audit_key(r), hotkey)?;
        (m < -w).then(|| format!("submitted vs generated #{r}: {}", py_signed_percent(m, 2)))
    })
}

fn defender_audit_rejection(
    hotkey: &str,
    defender: &str,
    audits: &MatchMatrix,
    repeats: u32,
    w: f64,
) -> Option<String> {
    (1..=repeats).find_map(|r| {
        let m = audits.get(&defender_audit_key(defender, r), hotkey)?;
        (m < w).then(|| {
            format!(
                "{} vs generated #{r}: {}",
                first_chars(defender, 10),
                py_signed_percent(m, 2)
            )
        })
    })
}

/// Every repeat has both audit margins, `submitted_r ≥ −W` and `defender_r ≥ W`.
pub fn all_audits_pass(
    hotkey: &str,
    defender: &str,
    audits: &MatchMatrix,
    repeats: u32,
    w: f64,
) -> bool {
    (1..=repeats).all(|r| {
        let s = audits.get(&submitted_audit_key(r), hotkey);
        let d = audits.get(&defender_audit_key(defender, r), hotkey);
        matches!((s, d), (Some(s), Some(d)) if s >= -w && d >= w)
    })
}

/// One challenge of Competition 0's sequential rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequentialStep {
    pub hotkey: String,
    pub defender: String,
    pub margin: Option<f64>,
    pub challenger_wins: bool,
}

/// Competition 0 (`judge_progress.json` rounds): each challenger, in order, plays the defender of the moment
/// and takes its place with a margin of at least W; `margin_of(hotkey)` is `None` when it has no match.
/// Returns the steps and the final defender.
pub fn sequential(
    order: &[String],
    win_margin: f64,
    margin_of: impl Fn(&str) -> Option<f64>,
) -> (Vec<SequentialStep>, String) {
    let mut defender = LEADER.to_string();
    let mut steps = Vec::new();
    for hk in order {
        let margin = margin_of(hk);
        let wins = margin.is_some_and(|m| qualifies(m, win_margin));
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
