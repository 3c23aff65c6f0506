//! Match score and margin (right +1, left −1, draw/skipped 0; margin = score / prompts), the no-delivery
//! short-circuit, the match matrix (the cache of finished matches) and 404's match report.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::duel::{Detail, DuelWinner};

/// Sum of duel scores.
pub fn score(winners: impl IntoIterator<Item = DuelWinner>) -> i64 {
    winners.into_iter().map(DuelWinner::score).sum()
}

/// `score / duels` (0.0 for no duels), positive when the right side won.
pub fn margin(score: i64, duels: usize) -> f64 {
    if duels == 0 {
        0.0
    } else {
        score as f64 / duels as f64
    }
}

/// A challenger qualifies (or dethrones) when its margin reaches the win margin: a tie at W counts for it.
pub fn qualifies(margin: f64, win_margin: f64) -> bool {
    margin >= win_margin
}

/// 404's short-circuit before any duel: a side "delivered" when at least one prompt has a JS URL. Neither → 0.0,
/// only right → +1.0, only left → −1.0; `None` when both delivered and the match must be played.
pub fn delivery_margin(left_delivered: bool, right_delivered: bool) -> Option<f64> {
    match (left_delivered, right_delivered) {
        (false, false) => Some(0.0),
        (false, true) => Some(1.0),
        (true, false) => Some(-1.0),
        (true, true) => None,
    }
}

/// One prompt's result in a match report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuelReport {
    /// The prompt's stem.
    pub name: String,
    /// The prompt's URL.
    pub prompt: String,
    pub left_js: Option<String>,
    pub left_png: Option<String>,
    pub right_js: Option<String>,
    pub right_png: Option<String>,
    pub winner: DuelWinner,
    pub detail: Option<Detail>,
}

/// `rounds/N/<right>/{duels|audit}_<left10>[_r].json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    pub left: String,
    pub right: String,
    pub score: i64,
    pub margin: f64,
    pub duels: Vec<DuelReport>,
}

impl MatchReport {
    /// Sorts the duels by stem (404 reports them that way) and computes score and margin.
    pub fn new(
        left: impl Into<String>,
        right: impl Into<String>,
        mut duels: Vec<DuelReport>,
    ) -> Self {
        duels.sort_by(|a, b| a.name.cmp(&b.name));
        let s = score(duels.iter().map(|d| d.winner));
        Self {
            left: left.into(),
            right: right.into(),
            score: s,
            margin: margin(s, duels.len()),
            duels,
        }
    }

    /// The report's file name under `rounds/N/<right>/`: `kind` is `duels` or `audit`; `repeat` only for audits.
    pub fn file_name(&self, kind: &str, repeat: Option<u32>) -> String {
        let left10: String = self.left.chars().take(10).collect();
        match repeat {
            Some(r) => format!("{kind}_{left10}_{r}.json"),
            None => format!("{kind}_{left10}.json"),
        }
    }
}

/// `(left, right) → margin`, in insertion order. Both `matches_matrix.csv` and `audit_matrix.csv` have this
/// shape; for the audit matrix `left` is a composite key (`submitted_r`, `<defender>_r`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatchMatrix {
    rows: Vec<(String, String, f64)>,
    index: HashMap<(String, String), usize>,
}

impl MatchMatrix {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_rows<L: Into<String>, R: Into<String>>(
        rows: impl IntoIterator<Item = (L, R, f64)>,
    ) -> Self {
        let mut m = Self::new();
        for (l, r, v) in rows {
            m.add(l, r, v);
        }
        m
    }

    pub fn get(&self, left: &str, right: &str) -> Option<f64> {
        self.index
            .get(&(left.to_string(), right.to_string()))
            .map(|&i| self.rows[i].2)
    }

    pub fn has(&self, left: &str, right: &str) -> bool {
        self.get(left, right).is_some()
    }

    /// Records a margin; a repeated pair keeps its position and takes the new value.
    pub fn add(&mut self, left: impl Into<String>, right: impl Into<String>, margin: f64) {
        let key = (left.into(), right.into());
        match self.index.get(&key) {
            Some(&i) => self.rows[i].2 = margin,
            None => {
                self.index.insert(key.clone(), self.rows.len());
                self.rows.push((key.0, key.1, margin));
            }
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = (&str, &str, f64)> {
        self.rows
            .iter()
            .map(|(l, r, m)| (l.as_str(), r.as_str(), *m))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duel(name: &str, winner: DuelWinner) -> DuelReport {
        DuelReport {
            name: name.into(),
            prompt: format!("https://x/{name}.png"),
            left_js: None,
            left_png: None,
            right_js: None,
            right_png: None,
            winner,
            detail: None,
        }
    }

    #[test]
    fn margin_is_score_over_prompts() {
        assert_eq!(margin(-11, 128), -0.0859375);
        assert_eq!(margin(7, 128), 0.0546875);
        assert_eq!(margin(0, 0), 0.0);
        // 7/128 qualifies at W = 0.05, 6/128 does not; a tie at W qualifies.
        assert!(qualifies(margin(7, 128), 0.05));
        assert!(!qualifies(margin(6, 128), 0.05));
        assert!(qualifies(margin(5, 100), 0.05));
    }

    #[test]
    fn report_sorts_by_stem_and_scores() {
        let r = MatchReport::new(
            "leader",
            "5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP",
            vec![
                duel("c", DuelWinner::Right),
                duel("a", DuelWinner::Left),
                duel("b", DuelWinner::Skipped),
                duel("d", DuelWinner::Right),
            ],
        );
        assert_eq!(
            r.duels.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!((r.score, r.margin), (1, 0.25));
        assert_eq!(r.file_name("duels", None), "duels_leader.json");
        let audit = MatchReport::new("5GgpGaDxzTyBAME1", "x", vec![]);
        assert_eq!(audit.file_name("audit", Some(2)), "audit_5GgpGaDxzT_2.json");
        let json = serde_json::to_string(&r.duels[1]).unwrap();
        assert!(
            json.contains("\"winner\":\"skipped\",\"detail\":null"),
            "{json}"
        );
    }

    #[test]
    fn delivery_short_circuit() {
        assert_eq!(delivery_margin(false, false), Some(0.0));
        assert_eq!(delivery_margin(false, true), Some(1.0));
        assert_eq!(delivery_margin(true, false), Some(-1.0));
        assert_eq!(delivery_margin(true, true), None);
    }

    #[test]
    fn matrix_keeps_order_and_replaces_in_place() {
        let mut m = MatchMatrix::from_rows([("leader", "a", -1.0), ("leader", "b", 0.1)]);
        m.add("leader", "a", 0.5);
        m.add("a", "b", 0.2);
        assert_eq!(
            m.rows().collect::<Vec<_>>(),
            [("leader", "a", 0.5), ("leader", "b", 0.1), ("a", "b", 0.2)]
        );
        assert!(m.has("a", "b") && !m.has("b", "a"));
    }
}
