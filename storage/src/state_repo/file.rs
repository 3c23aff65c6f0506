//! Encoding and decoding whole state files, each in the style 404 writes it.

use crate::error::FormatError;
use crate::pyjson::{self, Object, Value};
use crate::state_repo::global::{Config, LeaderEntry, State};
use crate::state_repo::matrix::MatchMatrix;
use crate::state_repo::miner::{GenerationResult, LegacyMatchReport, MatchReport};
use crate::state_repo::record::{FromJson, Map, ToJson};
use crate::state_repo::round::{
    AuditRequest, BuildInfo, GenerationReport, JudgeProgress, Prompts, RoundResult, Schedule, Seed,
    Submission, Verdict,
};

/// A whole file of the state repository.
pub trait StateFile: Sized {
    fn decode(text: &str) -> Result<Self, FormatError>;
    fn encode(&self) -> String;
}

fn parse_json(text: &str) -> Result<Value, FormatError> {
    pyjson::parse(text).map_err(|e| FormatError::new(&format!("byte {}", e.offset), e.reason))
}

/// Files pydantic writes with `indent=2`.
macro_rules! pretty_file {
    ($($t:ty),*) => {$(
        impl StateFile for $t {
            fn decode(text: &str) -> Result<Self, FormatError> {
                <$t as FromJson>::from_json(&parse_json(text)?, "$")
            }
            fn encode(&self) -> String {
                pyjson::to_pretty(&self.to_json())
            }
        }
    )*};
}

pretty_file!(
    State,
    Config,
    Vec<LeaderEntry>,
    Schedule,
    Map<Submission>,
    Map<BuildInfo>,
    Vec<AuditRequest>,
    Map<GenerationReport>,
    Map<Verdict>,
    Vec<Verdict>,
    RoundResult,
    JudgeProgress,
    Map<GenerationResult>,
    MatchReport,
    LegacyMatchReport,
    Value
);

impl StateFile for Seed {
    fn decode(text: &str) -> Result<Self, FormatError> {
        let v = parse_json(text)?;
        let obj = v
            .as_object()
            .ok_or_else(|| FormatError::new("$", "expected an object"))?;
        Ok(Seed(crate::state_repo::record::field(obj, "seed", "$")?))
    }

    fn encode(&self) -> String {
        let mut o = Object::new();
        o.insert("seed", Value::Int(i128::from(self.0)));
        pyjson::to_dumps(&Value::Object(o))
    }
}

impl StateFile for Prompts {
    fn decode(text: &str) -> Result<Self, FormatError> {
        Ok(Prompts::parse(text))
    }

    fn encode(&self) -> String {
        self.0.join("\n")
    }
}

impl StateFile for MatchMatrix {
    fn decode(text: &str) -> Result<Self, FormatError> {
        MatchMatrix::parse(text)
    }

    fn encode(&self) -> String {
        self.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_repo::global::Stage;

    #[test]
    fn unknown_fields_order_and_number_text_survive() {
        let text = "{\n  \"current_round\": 3,\n  \"future\": {\n    \"x\": 1e-05\n  },\n  \"stage\": \"duels\"\n}";
        let mut s = State::decode(text).expect("decodes");
        assert_eq!(
            (s.current_round, &s.stage, &s.next_stage_eta),
            (3, &Stage::Duels, &None)
        );
        assert_eq!(s.encode(), text, "unchanged file writes back byte for byte");
        s.stage = Stage::Finalizing;
        assert_eq!(
            s.encode(),
            "{\n  \"current_round\": 3,\n  \"future\": {\n    \"x\": 1e-05\n  },\n  \"stage\": \"finalizing\"\n}"
        );
        let fresh = State::new(7, Stage::Open, Some("2026-02-23T08:00:00Z".into()));
        assert_eq!(
            fresh.encode(),
            "{\n  \"current_round\": 7,\n  \"stage\": \"open\",\n  \"next_stage_eta\": \"2026-02-23T08:00:00Z\"\n}"
        );
        let fresh = State::new(7, Stage::Duels, None);
        assert!(fresh.encode().ends_with("\"next_stage_eta\": null\n}"));
    }

    #[test]
    fn config_int_in_float_field_is_kept_and_defaults_apply() {
        let text = "{\n  \"name\": \"contest\",\n  \"description\": \"d\",\n  \"first_evaluation_date\": \"2025-12-10\",\n  \"last_competition_date\": \"2026-12-10\",\n  \"round_start_time\": \"12:00:00\",\n  \"finalization_buffer_hours\": 1,\n  \"win_margin\": 0.05,\n  \"weight_decay\": 0.2,\n  \"weight_floor\": 0.2,\n  \"prompts_per_round\": 128,\n  \"carryover_prompts\": 64\n}";
        let c = Config::decode(text).expect("decodes");
        assert_eq!(c.finalization_buffer_hours(), 1.0);
        assert_eq!(c.audit_repeats(), 3);
        assert_eq!(c.round_duration_days(), 1);
        assert_eq!(c.generation_stage_minutes, None);
        assert_eq!(c.encode(), text);
    }

    #[test]
    fn seed_is_json_dumps_style_and_bad_files_are_named_errors() {
        assert_eq!(Seed(3274970996).encode(), "{\"seed\": 3274970996}");
        assert_eq!(Seed::decode("{\"seed\": 291572241}"), Ok(Seed(291572241)));
        assert!(Seed::decode("{\"seed\": 4294967296}").is_err());
        assert!(Seed::decode("{\"seed\": \"1\"}").is_err());
        let err = Schedule::decode("{\"earliest_reveal_block\": 1}").expect_err("missing field");
        assert_eq!(err.at, "$.latest_reveal_block");
        assert!(State::decode("[1,2]").is_err());
    }
}
