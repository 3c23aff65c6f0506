//! Competition-wide files: `state.json`, `config.json`, `leader.json` (competition.md §1.5, §2.1).

use crate::{json_record, json_str_enum};

json_str_enum! {
    /// The round stage (`RoundStage`), plus the names Competition 0 used.
    pub enum Stage {
        Open = "open",
        MinerGeneration = "miner_generation",
        Downloading = "downloading",
        Duels = "duels",
        Finalizing = "finalizing",
        Finished = "finished",
        Paused = "paused",
        /// Competition 0's name for `open`.
        Collecting = "collecting",
        /// Competition 0's name for `miner_generation`.
        Generating = "generating",
    }
}

json_record! {
    /// `state.json`.
    pub struct State {
        pub current_round: u64,
        pub stage: Stage,
        /// UTC `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, or null. Competition 0 has no such key.
        pub next_stage_eta: Option<String>,
    }
}

impl State {
    pub fn new(current_round: u64, stage: Stage, next_stage_eta: Option<String>) -> Self {
        Self {
            current_round,
            stage,
            next_stage_eta,
            raw: Default::default(),
        }
    }
}

json_record! {
    /// `config.json` (manual). Fields with defaults are `None` when absent.
    pub struct Config {
        pub name: String,
        pub description: String,
        pub first_evaluation_date: String,
        pub last_competition_date: String,
        pub round_start_time: Option<String>,
        /// Competition 0 had no generation stage.
        pub generation_stage_minutes: Option<u64>,
        pub finalization_buffer_hours: Option<f64>,
        pub win_margin: f64,
        pub weight_decay: f64,
        pub weight_floor: f64,
        pub prompts_per_round: u64,
        pub carryover_prompts: u64,
        pub round_duration_days: Option<u64>,
        pub audit_repeats: Option<u64>,
    }
}

impl Config {
    pub fn round_start_time(&self) -> &str {
        self.round_start_time.as_deref().unwrap_or("08:00:00")
    }

    pub fn finalization_buffer_hours(&self) -> f64 {
        self.finalization_buffer_hours.unwrap_or(1.0)
    }

    pub fn round_duration_days(&self) -> u64 {
        self.round_duration_days.unwrap_or(1)
    }

    pub fn audit_repeats(&self) -> u64 {
        self.audit_repeats.unwrap_or(3)
    }

    /// The round label, `"{name}-{round}"`.
    pub fn round_label(&self, round: u64) -> String {
        format!("{}-{round}", self.name)
    }
}

json_record! {
    /// One `leader.json` entry; the file is a flat array of these, append-only.
    pub struct LeaderEntry {
        pub hotkey: String,
        pub repo: String,
        pub commit: String,
        pub docker: String,
        pub weight: f64,
        pub effective_block: u64,
    }
}

impl LeaderEntry {
    pub fn new(
        hotkey: &str,
        repo: &str,
        commit: &str,
        docker: &str,
        weight: f64,
        effective_block: u64,
    ) -> Self {
        Self {
            hotkey: hotkey.into(),
            repo: repo.into(),
            commit: commit.into(),
            docker: docker.into(),
            weight,
            effective_block,
            raw: Default::default(),
        }
    }
}

/// `leader.json`.
pub type Leaders = Vec<LeaderEntry>;

/// The entry in force at `block`: the last with `effective_block ≤ block`.
pub fn leader_at(leaders: &[LeaderEntry], block: u64) -> Option<&LeaderEntry> {
    leaders.iter().rev().find(|e| e.effective_block <= block)
}
