//! Per-miner files under `rounds/{N}/{hotkey}/` (competition.md §2.3), current and Competition 0.

use crate::json_record;
use crate::pyjson::Value;
use crate::state_repo::record::Map;

json_record! {
    /// One stem of `submitted.json` / `generated_{r}.json`.
    pub struct GenerationResult {
        pub js: Option<String>,
        pub views: Option<String>,
        pub failure_reason: Option<String>,
        pub size: u64,
    }
}

impl GenerationResult {
    pub fn new(
        js: Option<String>,
        views: Option<String>,
        failure_reason: Option<String>,
        size: u64,
    ) -> Self {
        Self {
            js,
            views,
            failure_reason,
            size,
            raw: Default::default(),
        }
    }
}

/// `submitted.json` / `generated_{r}.json`: stem → result.
pub type GenerationsMap = Map<GenerationResult>;

json_record! {
    /// One duel of a match report.
    pub struct DuelReport {
        pub name: String,
        pub prompt: String,
        pub left_js: Option<String>,
        pub left_png: Option<String>,
        pub right_js: Option<String>,
        pub right_png: Option<String>,
        pub winner: String,
        pub detail: Value,
    }
}

json_record! {
    /// `duels_{left10}.json` / `audit_{left10}_{r}.json`.
    pub struct MatchReport {
        pub left: String,
        pub right: String,
        pub score: i64,
        pub margin: f64,
        pub duels: Vec<DuelReport>,
    }
}

impl MatchReport {
    /// The score its duels add up to: +1 per prompt the right side won, −1 per prompt the left
    /// side won, 0 for a draw (404's `score`).
    pub fn duels_score(&self) -> i64 {
        self.duels
            .iter()
            .map(|d| match d.winner.as_str() {
                "right" => 1,
                "left" => -1,
                _ => 0,
            })
            .sum()
    }
}

json_record! {
    /// One duel of a Competition 0 `duels.json`.
    pub struct LegacyDuel {
        pub name: String,
        pub prompt: String,
        pub winner: String,
    }
}

json_record! {
    /// Competition 0 `duels.json`: a challenger against the defender of the moment.
    pub struct LegacyMatchReport {
        pub leader: String,
        pub hotkey: String,
        pub score: i64,
        pub margin: f64,
        pub outcome: String,
        pub duels: Vec<LegacyDuel>,
    }
}
