//! The per-duel `detail` record in 404's slimmed format (competition.md §7.6): keys `s1`, `s2`, `s3`, `s4`,
//! `decided_by`, `issues` in that order, absent for stages that did not run; or `{"reason"}` from the preview gate.

use serde::{Deserialize, Serialize};

use super::answers::{Match, Verdict};

/// A stage's choice between side A (left) and side B (right).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Choice {
    A,
    B,
    #[serde(rename = "draw")]
    Draw,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::A => "A",
            Choice::B => "B",
            Choice::Draw => "draw",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s1: Option<S1Detail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s2: Option<S2Detail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Detail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s4: Option<S4Detail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issues: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S1Detail {
    pub choice: Choice,
    pub n_total: usize,
    pub n_consistent: usize,
    pub angles: Vec<AngleDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AngleDetail {
    pub label: String,
    pub pen_a: f64,
    pub pen_b: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S2Detail {
    pub choice: Choice,
    /// `strong_voter` or `consensus_3`.
    pub source: String,
    /// `null` when Stage 2A abstained (no usable embeddings).
    pub best_view: Option<PenaltyPair>,
    pub artifact_compare: Option<PenaltyPair>,
    pub checklist: ChecklistDetail,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PenaltyPair {
    pub penalty_a: f64,
    pub penalty_b: f64,
}

/// The checklist outcome, or one of 404's two failure markers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChecklistDetail {
    Scored {
        main_object: String,
        main_object_correct_a: Option<bool>,
        main_object_correct_b: Option<bool>,
        features: Vec<FeatureDetail>,
        score_a: i64,
        score_b: i64,
    },
    VerifyFailed {
        checklist: ChecklistSummary,
        verify_failed: bool,
        score_a: i64,
        score_b: i64,
        gap: i64,
        choice: Choice,
    },
    DecomposeFailed {
        decompose_failed: bool,
        score_a: i64,
        score_b: i64,
        gap: i64,
        choice: Choice,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistSummary {
    pub main_object: String,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDetail {
    pub feature: String,
    pub side_a: Option<Match>,
    pub side_b: Option<Match>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct S3Detail {
    pub fired: bool,
    pub choice: Option<Choice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct S4Detail {
    pub choice: Choice,
    pub side_verdicts: Sides<Verdict>,
    pub per_angle: Sides<PerAngle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sides<T> {
    pub a: T,
    pub b: T,
}

/// Stage-4 verdicts for one side, keyed by view in 404's order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerAngle {
    pub right: Verdict,
    pub back: Verdict,
    pub left: Verdict,
    pub top_down: Verdict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_404_key_order_with_python_style_floats() {
        let d = Detail {
            s1: Some(S1Detail {
                choice: Choice::Draw,
                n_total: 4,
                n_consistent: 3,
                angles: vec![AngleDetail {
                    label: "front_left".into(),
                    pen_a: 3.0,
                    pen_b: 2.5,
                }],
            }),
            s3: Some(S3Detail {
                fired: false,
                choice: None,
            }),
            decided_by: Some("S3 (gate did not fire) → draw".into()),
            issues: Some(String::new()),
            ..Default::default()
        };
        let s = serde_json::to_string(&d).unwrap();
        assert_eq!(
            s,
            r#"{"s1":{"choice":"draw","n_total":4,"n_consistent":3,"angles":[{"label":"front_left","pen_a":3.0,"pen_b":2.5}]},"s3":{"fired":false,"choice":null},"decided_by":"S3 (gate did not fire) → draw","issues":""}"#
        );
        let back: Detail = serde_json::from_str(&s).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn checklist_failure_markers_round_trip() {
        let failed = ChecklistDetail::DecomposeFailed {
            decompose_failed: true,
            score_a: 0,
            score_b: 0,
            gap: 0,
            choice: Choice::Draw,
        };
        let s = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            s,
            r#"{"decompose_failed":true,"score_a":0,"score_b":0,"gap":0,"choice":"draw"}"#
        );
        assert_eq!(serde_json::from_str::<ChecklistDetail>(&s).unwrap(), failed);
    }
}
