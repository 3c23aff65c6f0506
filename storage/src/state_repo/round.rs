//! Per-round files under `rounds/{N}/` (competition.md §2.2).

use crate::state_repo::record::Map;
use crate::{json_record, json_str_enum};

json_record! {
    /// `schedule.json`. Competition 0 had no generation deadline.
    pub struct Schedule {
        pub earliest_reveal_block: u64,
        pub latest_reveal_block: u64,
        pub generation_deadline_block: Option<u64>,
    }
}

impl Schedule {
    pub fn new(earliest: u64, latest: u64, deadline: u64) -> Self {
        Self {
            earliest_reveal_block: earliest,
            latest_reveal_block: latest,
            generation_deadline_block: Some(deadline),
            raw: Default::default(),
        }
    }
}

/// `seed.json`: `{"seed": N}` in `json.dumps` style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub u32);

/// `prompts.txt` (per round, and the global pool): one URL per line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prompts(pub Vec<String>);

impl Prompts {
    /// 404's reader: strip the text, split on `\n`, strip each line, drop empty ones.
    pub fn parse(text: &str) -> Self {
        Self(
            text.trim()
                .split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }
}

/// `Path(url).stem`: the last path segment without its last extension.
pub fn prompt_stem(url: &str) -> &str {
    let name = url.rsplit('/').next().unwrap_or(url);
    match name.rfind('.') {
        Some(0) | None => name,
        Some(i) => &name[..i],
    }
}

json_record! {
    /// One `submissions.json` value (the file maps hotkey → submission, in priority order).
    /// Competition 0 had no `cdn_url` and wrote `round` before `revealed_at_block`.
    pub struct Submission {
        pub repo: String,
        pub commit: String,
        pub cdn_url: Option<String>,
        pub revealed_at_block: u64,
        pub round: String,
    }
}

/// `submissions.json`.
pub type Submissions = Map<Submission>;

json_str_enum! {
    /// Docker build status.
    pub enum BuildStatus {
        Pending = "pending",
        InProgress = "in_progress",
        Success = "success",
        Failure = "failure",
        TimedOut = "timed_out",
        NotFound = "not_found",
    }
}

json_record! {
    /// One `builds.json` value.
    pub struct BuildInfo {
        pub repo: String,
        pub commit: String,
        pub revealed_at_block: u64,
        pub tag: String,
        pub status: BuildStatus,
        pub docker_image: Option<String>,
    }
}

/// `builds.json`.
pub type Builds = Map<BuildInfo>;

json_record! {
    /// One `require_audit.json` entry.
    pub struct AuditRequest {
        pub hotkey: String,
        pub latest_defender: String,
    }
}

json_record! {
    /// One regeneration repeat in a generation report.
    pub struct GenerationRepeat {
        pub repeat_index: u64,
        pub generated_prompts: u64,
        pub failed_prompts: u64,
        pub generation_time: Option<f64>,
    }
}

json_record! {
    /// One `generation_reports.json` value.
    pub struct GenerationReport {
        pub hotkey: String,
        pub outcome: String,
        pub repeats: Vec<GenerationRepeat>,
        pub reason: String,
    }
}

json_record! {
    /// One `generation_audits.json` value, or one `source_audit.json` entry.
    pub struct Verdict {
        pub hotkey: String,
        pub verdict: String,
        pub reason: String,
    }
}

json_record! {
    /// `winner.json`.
    pub struct RoundResult {
        pub winner_hotkey: String,
        pub repo: String,
        pub commit: String,
        pub docker_image: Option<String>,
    }
}

json_record! {
    /// Competition 0's `judge_progress.json`: the defender so far and the challengers judged.
    pub struct JudgeProgress {
        pub leader: String,
        pub completed_hotkeys: Vec<String>,
    }
}

/// 404's default `DOCKER_IMAGE_FORMAT`.
pub const DOCKER_IMAGE_FORMAT: &str =
    "europe-west3-docker.pkg.dev/gen-456515/active-competition/{hotkey10}:{tag}";

/// A build tag: the commit's first 7 characters, `-`, the round label (`7c1b379-mesh-1`).
pub fn build_tag(commit: &str, round_label: &str) -> String {
    let short: String = commit.chars().take(7).collect();
    format!("{short}-{round_label}")
}

/// The image name: the format with `{hotkey10}` and `{tag}` filled in, lowercased.
pub fn docker_image(format: &str, hotkey: &str, tag: &str) -> String {
    let hk10: String = hotkey.chars().take(10).collect();
    format
        .replace("{hotkey10}", &hk10)
        .replace("{tag}", tag)
        .to_lowercase()
}
