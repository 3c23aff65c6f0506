//! One judge tick as a pure function (404's `RoundRunner.run`): derive the timeline, sync audit requests,
//! publish verdicts, then pick the single next unit of work — qualification, audit duel, timeline match,
//! exploratory duel — or finalize, or wait for an external producer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::audit::{next_audit_duel, publish_verdicts, AuditDuel, AuditRequests, GenerationAudits};
use super::matches::MatchMatrix;
use super::timeline::{GenerationReport, SourceAudit, Timeline, TimelineInputs};
use super::LEADER;

/// Everything stored about a round that the judge's decisions depend on.
#[derive(Debug, Clone, Copy)]
pub struct RoundInputs<'a> {
    /// Submitted hotkeys sorted by reveal block.
    pub hotkeys: &'a [String],
    pub win_margin: f64,
    pub audit_repeats: u32,
    pub matches: &'a MatchMatrix,
    pub audits: &'a MatchMatrix,
    pub reports: &'a BTreeMap<String, GenerationReport>,
    pub source_audits: &'a BTreeMap<String, SourceAudit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub enum Work {
    /// Play `leader` (left) against this hotkey.
    Qualify { hotkey: String },
    /// Run this audit duel and record its margin under its matrix key.
    Audit(AuditDuel),
    /// The next timeline match: the current defender (left) against the challenger.
    Match {
        defender: String,
        challenger: String,
    },
    /// Pre-fill the matrix between two live entries (earlier revealed on the left).
    Exploratory { left: String, right: String },
    /// The round is settled: write `winner.json`.
    Finalize { winner: String, reason: String },
    /// Nothing to do until a generation report or source audit changes.
    Idle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub timeline: Timeline,
    pub work: Work,
    /// `require_audit.json` changed and must be saved.
    pub requests_changed: bool,
    /// `generation_audits.json` changed and must be saved.
    pub verdicts_changed: bool,
}

/// Plans one tick, updating the audit requests and published verdicts in place.
pub fn plan(
    inp: &RoundInputs<'_>,
    requests: &mut AuditRequests,
    verdicts: &mut GenerationAudits,
) -> Plan {
    let done = |work, requests_changed, verdicts_changed, timeline| Plan {
        timeline,
        work,
        requests_changed,
        verdicts_changed,
    };
    if inp.hotkeys.is_empty() {
        let work = Work::Finalize {
            winner: LEADER.into(),
            reason: "No submissions found".into(),
        };
        return done(work, false, false, Timeline::default());
    }
    // Qualification first: every hotkey not already disqualified plays the leader (the
    // timeline lists them, in reveal order, as unqualified pending).
    let timeline = derive(inp);
    if let Some(hk) = timeline.unqualified_pending.first().cloned() {
        return done(Work::Qualify { hotkey: hk }, false, false, timeline);
    }
    let requests_changed = requests.sync(&timeline);
    let verdicts_changed = publish_verdicts(requests, &timeline, verdicts);
    let work = if timeline.is_finalized() {
        Work::Finalize {
            winner: timeline.winner().to_string(),
            reason: format!(
                "Winner {}",
                timeline.winner().chars().take(10).collect::<String>()
            ),
        }
    } else if let Some(duel) = next_audit_duel(requests, inp.reports, inp.source_audits, inp.audits)
    {
        Work::Audit(duel)
    } else if let Some((d, c)) = timeline.next_match() {
        Work::Match {
            defender: d.to_string(),
            challenger: c.to_string(),
        }
    } else if let Some((l, r)) = timeline.exploratory_duel(inp.matches) {
        Work::Exploratory {
            left: l.to_string(),
            right: r.to_string(),
        }
    } else {
        Work::Idle
    };
    done(work, requests_changed, verdicts_changed, timeline)
}

fn derive(inp: &RoundInputs<'_>) -> Timeline {
    Timeline::derive(&TimelineInputs {
        hotkeys: inp.hotkeys,
        win_margin: inp.win_margin,
        audit_repeats: inp.audit_repeats,
        matches: inp.matches,
        audits: inp.audits,
        reports: inp.reports,
        source_audits: inp.source_audits,
    })
}
