//! Pure rules over stored results (competition.md §7.6–7.7, §8.1): match score and margin, the match matrix,
//! qualification, the reveal-order timeline with defenders, audit requests and verdicts, the next unit of work
//! and the round winner. Nothing here does I/O, so replaying stored results gives the same answer.

pub mod audit;
pub mod fmt;
pub mod matches;
pub mod plan;
pub mod timeline;

pub use audit::{
    AuditDuel, AuditKind, AuditRequest, AuditRequests, GenerationAudit, GenerationAudits,
};
pub use matches::{delivery_margin, margin, qualifies, DuelReport, MatchMatrix, MatchReport};
pub use plan::{plan, Plan, RoundInputs, Work};
pub use timeline::{
    sequential, EntryStatus, GenerationReport, ReportOutcome, SequentialStep, SourceAudit,
    SourceVerdict, Timeline, TimelineEntry, TimelineInputs,
};

/// The pseudo-hotkey of the previous round's champion.
pub const LEADER: &str = "leader";
