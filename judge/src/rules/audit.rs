//! Audits (competition.md §8.1): requests written for every timeline winner, the audit duels they call for
//! (per generated repeat: submitted vs generated, then defender vs generated) and the verdicts published once
//! the timeline settles a requested hotkey.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::matches::MatchMatrix;
use super::timeline::{
    EntryStatus, GenerationReport, ReportOutcome, SourceAudit, SourceVerdict, Timeline,
};

/// Audit-matrix key of the submitted-vs-generated duel of repeat `r`.
pub fn submitted_audit_key(r: u32) -> String {
    format!("submitted_{r}")
}

/// Audit-matrix key of the defender-vs-generated duel of repeat `r`.
pub fn defender_audit_key(defender: &str, r: u32) -> String {
    format!("{defender}_{r}")
}

/// `require_audit.json` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRequest {
    pub hotkey: String,
    /// The chain defender the hotkey beat: `leader` or a hotkey.
    pub latest_defender: String,
}

/// `require_audit.json`: one request per hotkey, in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuditRequests(Vec<AuditRequest>);

impl AuditRequests {
    pub fn new(requests: Vec<AuditRequest>) -> Self {
        let mut out = Self::default();
        for r in requests {
            out.add(r);
        }
        out
    }

    pub fn get(&self, hotkey: &str) -> Option<&AuditRequest> {
        self.0.iter().find(|r| r.hotkey == hotkey)
    }

    /// Inserts a request or refreshes its defender in place; true when something changed.
    pub fn add(&mut self, request: AuditRequest) -> bool {
        match self.0.iter_mut().find(|r| r.hotkey == request.hotkey) {
            Some(existing) if existing.latest_defender == request.latest_defender => false,
            Some(existing) => {
                existing.latest_defender = request.latest_defender;
                true
            }
            None => {
                self.0.push(request);
                true
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &AuditRequest> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Requests (or refreshes) an audit for every winner of the timeline; true when something changed. Runs
    /// before the audit-duel scan each tick, which is how a request against a since-rejected defender heals.
    pub fn sync(&mut self, timeline: &Timeline) -> bool {
        let mut changed = false;
        for e in &timeline.entries {
            if e.status == EntryStatus::Won && e.margin.is_some() {
                changed |= self.add(AuditRequest {
                    hotkey: e.hotkey.clone(),
                    latest_defender: e.defender.clone(),
                });
            }
        }
        changed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// The miner's submitted outputs (left) against its regenerated ones (right).
    Submitted,
    /// The defender's outputs (left) against the miner's regenerated ones (right).
    Defender,
}

/// One audit duel to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDuel {
    pub hotkey: String,
    pub defender: String,
    pub repeat: u32,
    pub kind: AuditKind,
}

impl AuditDuel {
    pub fn matrix_key(&self) -> String {
        match self.kind {
            AuditKind::Submitted => submitted_audit_key(self.repeat),
            AuditKind::Defender => defender_audit_key(&self.defender, self.repeat),
        }
    }

    /// The report's `left` (`submitted` or the defender), right being the hotkey's `generated_<repeat>`.
    pub fn left(&self) -> &str {
        match self.kind {
            AuditKind::Submitted => "submitted",
            AuditKind::Defender => &self.defender,
        }
    }
}

fn out_of_band_rejected(
    hotkey: &str,
    reports: &BTreeMap<String, GenerationReport>,
    source_audits: &BTreeMap<String, SourceAudit>,
) -> bool {
    reports
        .get(hotkey)
        .is_some_and(|r| r.outcome == ReportOutcome::Rejected)
        || source_audits
            .get(hotkey)
            .is_some_and(|a| a.verdict == SourceVerdict::Failed)
}

/// The next audit duel whose margin is missing: per request in order, per generated repeat ascending, the
/// submitted duel first, then the defender duel. Hotkeys already rejected out of band get none.
pub fn next_audit_duel(
    requests: &AuditRequests,
    reports: &BTreeMap<String, GenerationReport>,
    source_audits: &BTreeMap<String, SourceAudit>,
    audits: &MatchMatrix,
) -> Option<AuditDuel> {
    for req in requests.iter() {
        if out_of_band_rejected(&req.hotkey, reports, source_audits) {
            continue;
        }
        let Some(report) = reports.get(&req.hotkey) else {
            continue;
        };
        let mut repeats = report.repeats.clone();
        repeats.sort_unstable();
        repeats.dedup();
        for repeat in repeats {
            for kind in [AuditKind::Submitted, AuditKind::Defender] {
                let duel = AuditDuel {
                    hotkey: req.hotkey.clone(),
                    defender: req.latest_defender.clone(),
                    repeat,
                    kind,
                };
                if !audits.has(&duel.matrix_key(), &req.hotkey) {
                    return Some(duel);
                }
            }
        }
    }
    None
}

/// `generation_audits.json` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationAudit {
    pub hotkey: String,
    pub verdict: SourceVerdict,
    pub reason: String,
}

pub type GenerationAudits = BTreeMap<String, GenerationAudit>;

/// Publishes a verdict for each requested hotkey the timeline has settled: rejected → failed with the
/// timeline's reason, won and verified → passed. True when something changed.
pub fn publish_verdicts(
    requests: &AuditRequests,
    timeline: &Timeline,
    audits: &mut GenerationAudits,
) -> bool {
    let mut changed = false;
    for req in requests.iter() {
        let Some(entry) = timeline.entry(&req.hotkey) else {
            continue;
        };
        let verdict = match entry.status {
            EntryStatus::Rejected => GenerationAudit {
                hotkey: req.hotkey.clone(),
                verdict: SourceVerdict::Failed,
                reason: entry.reason.clone().unwrap_or_default(),
            },
            EntryStatus::Won if entry.verified => GenerationAudit {
                hotkey: req.hotkey.clone(),
                verdict: SourceVerdict::Passed,
                reason: String::new(),
            },
            _ => continue,
        };
        if audits.get(&req.hotkey) != Some(&verdict) {
            audits.insert(req.hotkey.clone(), verdict);
            changed = true;
        }
    }
    changed
}
