//! Where each file lives in the state repository.

use crate::error::{Error, Result};

pub const STATE: &str = "state.json";
pub const CONFIG: &str = "config.json";
pub const LEADER: &str = "leader.json";
/// The global prompt pool.
pub const PROMPT_POOL: &str = "prompts.txt";

pub const SCHEDULE: &str = "schedule.json";
pub const SEED: &str = "seed.json";
pub const PROMPTS: &str = "prompts.txt";
pub const SUBMISSIONS: &str = "submissions.json";
pub const BUILDS: &str = "builds.json";
pub const REQUIRE_AUDIT: &str = "require_audit.json";
pub const GENERATION_REPORTS: &str = "generation_reports.json";
pub const GENERATION_AUDITS: &str = "generation_audits.json";
pub const SOURCE_AUDIT: &str = "source_audit.json";
pub const MATCHES_MATRIX: &str = "matches_matrix.csv";
pub const AUDIT_MATRIX: &str = "audit_matrix.csv";
pub const WINNER: &str = "winner.json";
/// Competition 0.
pub const JUDGE_PROGRESS: &str = "judge_progress.json";

pub const SUBMITTED: &str = "submitted.json";
pub const POD_STATS: &str = "pod_stats.json";
/// Competition 0 per-miner files.
pub const LEGACY_DUELS: &str = "duels.json";
pub const LEGACY_GENERATIONS: &str = "generations.json";

/// The pseudo-hotkey of the previous round's champion.
pub const LEADER_KEY: &str = "leader";

/// A path segment taken from untrusted input (a hotkey, a stem) must be a plain name.
pub fn check_segment(s: &str) -> Result<&str> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s)
    } else {
        Err(Error::BadPath(s.to_string()))
    }
}

pub fn round_dir(round: u64) -> String {
    format!("rounds/{round}")
}

/// `rounds/{N}/{name}`.
pub fn round_file(round: u64, name: &str) -> String {
    format!("rounds/{round}/{name}")
}

/// `rounds/{N}/{hotkey}/{name}`.
pub fn miner_file(round: u64, hotkey: &str, name: &str) -> Result<String> {
    Ok(format!("rounds/{round}/{}/{name}", check_segment(hotkey)?))
}

/// `generated_{r}.json`.
pub fn generated_name(repeat: u32) -> String {
    format!("generated_{repeat}.json")
}

/// A match report: `rounds/{N}/{right}/duels_{left[:10]}.json`, or for an audit duel
/// `rounds/{N}/{right}/audit_{left[:10]}_{r}.json`.
pub fn match_report(
    round: u64,
    left: &str,
    right: &str,
    audit_repeat: Option<u32>,
) -> Result<String> {
    let left10: String = check_segment(left)?.chars().take(10).collect();
    let name = match audit_repeat {
        Some(r) => format!("audit_{left10}_{r}.json"),
        None => format!("duels_{left10}.json"),
    };
    miner_file(round, right, &name)
}

/// The first 10 characters of a hotkey, as 404's messages and image names use them.
pub fn hk10(hotkey: &str) -> &str {
    match hotkey.char_indices().nth(10) {
        Some((i, _)) => &hotkey[..i],
        None => hotkey,
    }
}

/// 404's commit messages (competition.md §10).
pub mod message {
    use super::hk10;

    pub fn open_done(round: u64) -> String {
        format!("Seed, prompts and submissions for round {round}")
    }

    /// `Round N: downloading`, `Round N: finalizing`, `Round N: duels`.
    pub fn collector_stage(round: u64, stage: &str) -> String {
        format!("Round {round}: {stage}")
    }

    pub fn state_update(round: u64, stage: &str) -> String {
        format!("Update state ({stage}) for round {round}")
    }

    pub fn submitted(round: u64, hotkey: &str) -> String {
        format!(
            "Update submitted.json for round {round}, miner {}",
            hk10(hotkey)
        )
    }

    pub fn generated(round: u64, repeat: u32, hotkey: &str) -> String {
        format!(
            "Update generated_{repeat}.json for round {round}, miner {}",
            hk10(hotkey)
        )
    }

    pub fn builds(round: u64) -> String {
        format!("Update build statuses for round {round}")
    }

    pub fn matches_matrix(round: u64) -> String {
        format!("Update matches matrix for round {round}")
    }

    pub fn match_report(left: &str, right: &str) -> String {
        format!("Match report: {} vs {}", hk10(left), hk10(right))
    }

    pub fn winner(round: u64, winner: &str) -> String {
        format!("Round {round} winner: {}", hk10(winner))
    }

    /// `Update state ({stage}), schedule, leader for round {next}`, leaving out absent parts.
    pub fn round_manager(next_round: u64, stage: &str, schedule: bool, leader: bool) -> String {
        let mut parts = vec![format!("Update state ({stage})")];
        if schedule {
            parts.push("schedule".into());
        }
        if leader {
            parts.push("leader".into());
        }
        format!("{} for round {next_round}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_messages_match_404() {
        let hk = "5GgpGaDxzTyBAME1Ju9ZhUstWj2VTm1n4tAUkRHLi4birQZg";
        assert_eq!(
            match_report(3, "leader", hk, None).ok().as_deref(),
            Some(format!("rounds/3/{hk}/duels_leader.json").as_str())
        );
        assert_eq!(
            match_report(3, hk, "x", Some(2)).ok().as_deref(),
            Some("rounds/3/x/audit_5GgpGaDxzT_2.json")
        );
        assert!(miner_file(1, "../etc", "x").is_err());
        assert!(miner_file(1, "a/b", "x").is_err());
        assert_eq!(
            message::round_manager(0, "finished", false, true),
            "Update state (finished), leader for round 0"
        );
        assert_eq!(
            message::round_manager(7, "open", true, true),
            "Update state (open), schedule, leader for round 7"
        );
        assert_eq!(
            message::submitted(4, hk),
            "Update submitted.json for round 4, miner 5GgpGaDxzT"
        );
        assert_eq!(message::winner(1, "leader"), "Round 1 winner: leader");
    }
}
