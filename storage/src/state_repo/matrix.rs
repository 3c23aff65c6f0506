//! `matches_matrix.csv` and `audit_matrix.csv`: `left,right,margin` rows, `\n`-joined, margins
//! printed with Python's `str(float)` (competition.md §2.2 g, h).

use crate::error::FormatError;
use crate::pyjson::python_repr;

/// One row; `margin_text` keeps the text read so an untouched file is written back as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    pub left: String,
    pub right: String,
    pub margin: f64,
    margin_text: Option<String>,
}

impl MatrixRow {
    pub fn new(left: &str, right: &str, margin: f64) -> Self {
        Self {
            left: left.into(),
            right: right.into(),
            margin,
            margin_text: None,
        }
    }

    /// The margin as it is (or will be) written.
    pub fn margin_text(&self) -> String {
        match &self.margin_text {
            Some(t) if t.trim().parse::<f64>().ok() == Some(self.margin) => t.clone(),
            _ => python_repr(self.margin),
        }
    }
}

/// A match or audit matrix. Setting a pair again replaces its margin in place (404 keys rows
/// by `(left, right)`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchMatrix {
    pub rows: Vec<MatrixRow>,
}

const HEADER: &str = "left,right,margin";

impl MatchMatrix {
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        let mut rows = Vec::new();
        for (n, line) in text.trim().split('\n').enumerate() {
            let line = line.trim_end_matches('\r');
            if n == 0 {
                if line.trim() != HEADER {
                    return Err(FormatError::new(
                        "line 1",
                        format!("expected header {HEADER:?}"),
                    ));
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("line {}", n + 1);
            let parts: Vec<&str> = line.split(',').collect();
            let [left, right, margin] = parts[..] else {
                return Err(FormatError::new(&at, "expected three fields"));
            };
            let value: f64 = margin
                .trim()
                .parse()
                .map_err(|_| FormatError::new(&at, format!("margin {margin:?} is not a number")))?;
            rows.push(MatrixRow {
                left: left.to_string(),
                right: right.to_string(),
                margin: value,
                margin_text: Some(margin.to_string()),
            });
        }
        Ok(Self { rows })
    }

    pub fn to_text(&self) -> String {
        let mut lines = vec![HEADER.to_string()];
        lines.extend(
            self.rows
                .iter()
                .map(|r| format!("{},{},{}", r.left, r.right, r.margin_text())),
        );
        lines.join("\n")
    }

    pub fn get(&self, left: &str, right: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.left == left && r.right == right)
            .map(|r| r.margin)
    }

    pub fn set(&mut self, left: &str, right: &str, margin: f64) {
        match self
            .rows
            .iter_mut()
            .find(|r| r.left == left && r.right == right)
        {
            Some(r) => {
                r.margin = margin;
                r.margin_text = None;
            }
            None => self.rows.push(MatrixRow::new(left, right, margin)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_real_rows_and_formats_like_python() {
        let text = "left,right,margin\nleader,5G1GM8,-1.0\nleader,5GgVxY,-0.0859375\nleader,5F4HaN,0.0546875";
        let m = MatchMatrix::parse(text).expect("parses");
        assert_eq!(m.get("leader", "5F4HaN"), Some(0.0546875));
        assert_eq!(m.to_text(), text);
        let mut m = MatchMatrix::default();
        m.set("leader", "a", 7.0 / 128.0);
        m.set("a", "b", 0.0);
        m.set("leader", "a", -1e-5);
        assert_eq!(m.to_text(), "left,right,margin\nleader,a,-1e-05\na,b,0.0");
        assert!(MatchMatrix::parse("l,r,m\n").is_err());
        assert!(MatchMatrix::parse("left,right,margin\na,b,x").is_err());
    }
}
