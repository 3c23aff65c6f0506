//! The next round's block schedule, as 404's round-manager computes it (competition.md §1.4).

use sn17_storage::state_repo::datetime::{parse_date, parse_time};
use sn17_storage::state_repo::{Config, Schedule};

pub const BLOCK_SECS: i64 = 12;
const DAY_US: i64 = 86_400 * 1_000_000;

/// The next round's start and schedule, or `None` when the competition is over.
#[derive(Debug, Clone, PartialEq)]
pub struct NextRound {
    pub start_unix_us: i64,
    pub schedule: Schedule,
}

/// Why a schedule cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("config.json {field} {value:?} is not a valid date/time")]
    BadConfig { field: &'static str, value: String },
}

fn at_start_time(day: i64, start_secs: i64) -> i64 {
    (day * 86_400 + start_secs) * 1_000_000
}

/// Computes the schedule that follows `prev` (or the first one), at wall-clock `now_us` (unix
/// microseconds) and chain block `current_block`.
pub fn next_round(
    prev: Option<&Schedule>,
    config: &Config,
    now_us: i64,
    current_block: u64,
) -> Result<Option<NextRound>, ScheduleError> {
    let bad = |field: &'static str, value: &str| ScheduleError::BadConfig {
        field,
        value: value.to_string(),
    };
    let start_secs = parse_time(config.round_start_time())
        .ok_or_else(|| bad("round_start_time", config.round_start_time()))?;
    let first = parse_date(&config.first_evaluation_date)
        .ok_or_else(|| bad("first_evaluation_date", &config.first_evaluation_date))?;
    let last = parse_date(&config.last_competition_date)
        .ok_or_else(|| bad("last_competition_date", &config.last_competition_date))?;

    let mut candidate = match prev {
        Some(p) => {
            let blocks_ago = current_block as i64 - p.latest_reveal_block as i64;
            let approx = now_us - blocks_ago * BLOCK_SECS * 1_000_000;
            let prev_day = approx.div_euclid(DAY_US);
            at_start_time(prev_day + config.round_duration_days() as i64, start_secs)
        }
        None => at_start_time(now_us.div_euclid(DAY_US), start_secs),
    };
    let buffer_us = (config.finalization_buffer_hours() * 3600.0 * 1e6) as i64;
    while candidate - now_us < buffer_us {
        candidate += DAY_US;
    }
    candidate = candidate.max(at_start_time(first, start_secs));
    if candidate.div_euclid(DAY_US) > last {
        return Ok(None);
    }
    // int((candidate − now).total_seconds() / 12): truncation toward zero.
    let blocks_until = ((candidate - now_us) as f64 / 1e6 / BLOCK_SECS as f64).trunc() as i64;
    let start_block = (current_block as i64 + blocks_until).max(0) as u64;
    let earliest = prev.map_or(0, |p| p.latest_reveal_block + 1);
    let deadline = config
        .generation_stage_minutes
        .map(|m| start_block + (m as f64 * 60.0 / BLOCK_SECS as f64) as u64);
    Ok(Some(NextRound {
        start_unix_us: candidate,
        schedule: Schedule {
            earliest_reveal_block: earliest,
            latest_reveal_block: start_block,
            generation_deadline_block: deadline,
            raw: Default::default(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sn17_storage::state_repo::datetime::parse_datetime;
    use sn17_storage::state_repo::StateFile;

    fn config() -> Config {
        Config::decode(
            r#"{"name":"mesh","description":"d","first_evaluation_date":"2026-02-02","last_competition_date":"2026-02-20",
            "round_start_time":"08:00:00","generation_stage_minutes":120,"finalization_buffer_hours":1,"win_margin":0.05,
            "weight_decay":0.2,"weight_floor":0.2,"prompts_per_round":128,"carryover_prompts":32,"round_duration_days":3}"#,
        )
        .expect("config")
    }

    #[test]
    fn three_days_after_the_previous_start_in_blocks() {
        let prev = Schedule::new(7454967, 7476090, 7476690);
        // Finalizing one day after round 1 started (7200 blocks later).
        let now = parse_datetime("2026-02-06T08:00:00Z").expect("t");
        let next = next_round(Some(&prev), &config(), now, 7476090 + 7200)
            .expect("ok")
            .expect("scheduled");
        assert_eq!(
            next.start_unix_us,
            parse_datetime("2026-02-08T08:00:00Z").expect("t")
        );
        assert_eq!(next.schedule.earliest_reveal_block, 7476091);
        assert_eq!(next.schedule.latest_reveal_block, 7476090 + 7200 + 2 * 7200);
        assert_eq!(
            next.schedule.generation_deadline_block,
            Some(next.schedule.latest_reveal_block + 600)
        );
    }

    #[test]
    fn buffer_clamp_and_finish() {
        let c = config();
        // No previous schedule, 07:30 today: less than the 1 h buffer, so tomorrow; clamped to
        // the first evaluation date.
        let now = parse_datetime("2026-01-30T07:30:00Z").expect("t");
        let next = next_round(None, &c, now, 1000)
            .expect("ok")
            .expect("scheduled");
        assert_eq!(
            next.start_unix_us,
            parse_datetime("2026-02-02T08:00:00Z").expect("t")
        );
        assert_eq!(next.schedule.earliest_reveal_block, 0);
        let now = parse_datetime("2026-02-19T09:00:00Z").expect("t");
        let prev = Schedule::new(1, 2000, 2600);
        assert_eq!(
            next_round(Some(&prev), &c, now, 2000).expect("ok"),
            None,
            "past last_competition_date"
        );
    }
}
