//! The structured answers each stage asks for, their JSON schemas (shaped like the pydantic schemas 404 sends)
//! and their neutral fallbacks.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::vlm::VlmResponse;

/// Marker 404 puts in `issues` when the penalty fallback was used.
pub const JSON_FAILED_MARKER: &str = "JSON_PARSE_FAILED";

/// Stage 1, 2A, 2B and 3: one penalty per model, as shown (1 = first image, 2 = second).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Penalties {
    pub penalty_1: i64,
    pub penalty_2: i64,
    pub issues: String,
}

impl Penalties {
    /// 404's neutral answer when every attempt failed: 5/5, marked.
    pub fn neutral() -> Self {
        Self {
            penalty_1: 5,
            penalty_2: 5,
            issues: JSON_FAILED_MARKER.into(),
        }
    }
}

impl VlmResponse for Penalties {
    const INT_FIELDS: &'static [&'static str] = &["penalty_1", "penalty_2"];
    fn schema() -> &'static Value {
        static S: OnceLock<Value> = OnceLock::new();
        S.get_or_init(|| {
            json!({
                "properties": {
                    "penalty_1": {"title": "Penalty 1", "type": "integer"},
                    "penalty_2": {"title": "Penalty 2", "type": "integer"},
                    "issues": {"title": "Issues", "type": "string"}
                },
                "required": ["penalty_1", "penalty_2", "issues"],
                "title": "PenaltyResponse",
                "type": "object"
            })
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureCategory {
    Count,
    Shape,
    Presence,
    MaterialColor,
}

impl FeatureCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureCategory::Count => "count",
            FeatureCategory::Shape => "shape",
            FeatureCategory::Presence => "presence",
            FeatureCategory::MaterialColor => "material_color",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Feature {
    pub description: String,
    pub category: FeatureCategory,
}

/// Stage 2C decompose: the prompt's main object and 4–7 checkable features.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Checklist {
    pub main_object: String,
    pub features: Vec<Feature>,
}

pub const MIN_FEATURES: usize = 4;
pub const MAX_FEATURES: usize = 7;

impl VlmResponse for Checklist {
    fn schema() -> &'static Value {
        static S: OnceLock<Value> = OnceLock::new();
        S.get_or_init(|| {
            json!({
                "$defs": {
                    "ChecklistItem": {
                        "properties": {
                            "description": {"title": "Description", "type": "string"},
                            "category": {
                                "enum": ["count", "shape", "presence", "material_color"],
                                "title": "Category",
                                "type": "string"
                            }
                        },
                        "required": ["description", "category"],
                        "title": "ChecklistItem",
                        "type": "object"
                    }
                },
                "properties": {
                    "main_object": {"title": "Main Object", "type": "string"},
                    "features": {
                        "items": {"$ref": "#/$defs/ChecklistItem"},
                        "maxItems": MAX_FEATURES,
                        "minItems": MIN_FEATURES,
                        "title": "Features",
                        "type": "array"
                    }
                },
                "required": ["main_object", "features"],
                "title": "PromptChecklist",
                "type": "object"
            })
        })
    }

    fn is_valid(&self) -> bool {
        (MIN_FEATURES..=MAX_FEATURES).contains(&self.features.len())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    Yes,
    Partial,
    No,
}

impl Match {
    /// Checklist points: yes 2, partial 1, no 0.
    pub fn points(self) -> i64 {
        match self {
            Match::Yes => 2,
            Match::Partial => 1,
            Match::No => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Check {
    pub feature: String,
    #[serde(rename = "match")]
    pub matched: Match,
    pub note: String,
}

/// Stage 2C verify: one check per feature, and whether the main object is right.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Verification {
    pub checks: Vec<Check>,
    pub main_object_correct: bool,
}

/// Bonus for a correct main object.
pub const MAIN_OBJECT_BONUS: i64 = 3;

impl Verification {
    pub fn score(&self) -> i64 {
        self.checks.iter().map(|c| c.matched.points()).sum::<i64>()
            + if self.main_object_correct {
                MAIN_OBJECT_BONUS
            } else {
                0
            }
    }
}

impl VlmResponse for Verification {
    fn schema() -> &'static Value {
        static S: OnceLock<Value> = OnceLock::new();
        S.get_or_init(|| {
            json!({
                "$defs": {
                    "VerifyItem": {
                        "properties": {
                            "feature": {"title": "Feature", "type": "string"},
                            "match": {"enum": ["yes", "partial", "no"], "title": "Match", "type": "string"},
                            "note": {"title": "Note", "type": "string"}
                        },
                        "required": ["feature", "match", "note"],
                        "title": "VerifyItem",
                        "type": "object"
                    }
                },
                "properties": {
                    "checks": {"items": {"$ref": "#/$defs/VerifyItem"}, "title": "Checks", "type": "array"},
                    "main_object_correct": {"title": "Main Object Correct", "type": "boolean"}
                },
                "required": ["checks", "main_object_correct"],
                "title": "VerificationResult",
                "type": "object"
            })
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Garbage,
}

/// Stage 4: is this side view garbage?
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SideGuard {
    pub verdict: Verdict,
    pub reason: String,
}

impl SideGuard {
    /// Fail safe: a side is never demoted on a bad response.
    pub fn neutral() -> Self {
        Self {
            verdict: Verdict::Ok,
            reason: JSON_FAILED_MARKER.into(),
        }
    }
}

impl VlmResponse for SideGuard {
    fn schema() -> &'static Value {
        static S: OnceLock<Value> = OnceLock::new();
        S.get_or_init(|| {
            json!({
                "properties": {
                    "verdict": {"enum": ["ok", "garbage"], "title": "Verdict", "type": "string"},
                    "reason": {"title": "Reason", "type": "string"}
                },
                "required": ["verdict", "reason"],
                "title": "SideGuardVerdict",
                "type": "object"
            })
        })
    }
}

/// Explain: a short human-readable comparison (informational only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IssuesSummary {
    pub issues: String,
}

impl VlmResponse for IssuesSummary {
    fn schema() -> &'static Value {
        static S: OnceLock<Value> = OnceLock::new();
        S.get_or_init(|| {
            json!({
                "properties": {"issues": {"title": "Issues", "type": "string"}},
                "required": ["issues"],
                "title": "IssuesSummary",
                "type": "object"
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_coerce_and_reject_missing_fields() {
        let p = Penalties::from_value(
            json!({"penalty_1": 2.5, "penalty_2": "7", "issues": "x", "extra": 1}),
        )
        .unwrap();
        assert_eq!((p.penalty_1, p.penalty_2), (2, 7));
        assert!(Penalties::from_value(json!({"penalty_1": 1, "issues": "x"})).is_none());
        assert!(
            Penalties::from_value(json!({"penalty_1": 1, "penalty_2": 2, "issues": 3})).is_none()
        );
    }

    #[test]
    fn checklist_needs_four_to_seven_known_categories() {
        let f = |n: usize, cat: &str| json!({"main_object": "chair", "features": (0..n).map(|i| json!({"description": format!("f{i}"), "category": cat})).collect::<Vec<_>>()});
        assert!(Checklist::from_value(f(4, "count")).is_some());
        assert!(Checklist::from_value(f(7, "material_color")).is_some());
        assert!(Checklist::from_value(f(3, "count")).is_none());
        assert!(Checklist::from_value(f(8, "count")).is_none());
        assert!(Checklist::from_value(f(5, "colour")).is_none());
    }

    #[test]
    fn verification_scores_points_plus_bonus() {
        let v = Verification::from_value(json!({"checks": [
            {"feature": "a", "match": "yes", "note": ""},
            {"feature": "b", "match": "partial", "note": ""},
            {"feature": "c", "match": "no", "note": ""}], "main_object_correct": true}))
        .unwrap();
        assert_eq!(v.score(), 2 + 1 + 3);
        assert!(Verification::from_value(
            json!({"checks": [{"feature": "a", "match": "maybe", "note": ""}],
            "main_object_correct": true})
        )
        .is_none());
    }

    #[test]
    fn side_guard_verdicts() {
        assert_eq!(
            SideGuard::from_value(json!({"verdict": "garbage", "reason": "b"}))
                .unwrap()
                .verdict,
            Verdict::Garbage
        );
        assert!(SideGuard::from_value(json!({"verdict": "GARBAGE", "reason": "b"})).is_none());
    }
}
