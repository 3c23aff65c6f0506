//! 404's commitment text: a JSON object with any of `repo`, `commit`, `cdn_url`
//! (competition.md §3.1–3.2). Parsed as 404's collector does: `'` replaced by `"`, non-objects
//! skipped, empty values ignored.

use serde::Serialize;

use super::CommitmentError;

/// The fields of one 404 commitment; each may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Commitment404 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cdn_url: Option<String>,
}

impl Commitment404 {
    /// The JSON text a miner commits (keys in 404's order, compact as `json.dumps` would not
    /// be — any spacing parses the same).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Most bytes of commitment text we parse (the chain allows 3100 per epoch).
const MAX_TEXT: usize = 4096;

/// Parses one commitment text. Errors name why it is not a 404 commitment.
pub fn parse_404_commitment(text: &str) -> Result<Commitment404, CommitmentError> {
    if text.len() > MAX_TEXT {
        return Err(CommitmentError::TooLong {
            what: "commitment text",
            len: text.len(),
            max: MAX_TEXT,
        });
    }
    let normalized = text.replace('\'', "\"");
    let value: serde_json::Value = serde_json::from_str(&normalized)
        .map_err(|e| CommitmentError::Not404(format!("invalid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| CommitmentError::Not404("JSON is not an object".into()))?;
    // Python truthiness: a non-empty string counts; other truthy values are kept as their JSON
    // text, as `str(value)` would, but only strings can pass later validation anyway.
    let field = |k: &str| -> Option<String> {
        match obj.get(k)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Null | serde_json::Value::Bool(false) => None,
            serde_json::Value::String(_) => None,
            other => Some(other.to_string()),
        }
    };
    let c = Commitment404 {
        repo: field("repo"),
        commit: field("commit"),
        cdn_url: field("cdn_url").map(|u| u.trim_end_matches('/').to_string()),
    };
    if c.repo.is_none() && c.commit.is_none() && c.cdn_url.is_none() {
        return Err(CommitmentError::Not404(
            "none of repo, commit, cdn_url".into(),
        ));
    }
    Ok(c)
}

/// Text of revealed bytes, with the SCALE compact length prefix stripped the way 404's
/// collector does it (mode 0 → 1 byte, 1 → 2, else 4) and invalid UTF-8 dropped.
pub fn revealed_text(bytes: &[u8]) -> String {
    let Some(first) = bytes.first() else {
        return String::new();
    };
    let skip = match first & 3 {
        0 => 1,
        1 => 2,
        _ => 4,
    };
    let rest = bytes.get(skip..).unwrap_or_default();
    String::from_utf8_lossy(rest).replace('\u{FFFD}', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_404_commitments() {
        let c = parse_404_commitment(r#"{"commit": "0123456789abcdef0123456789abcdef01234567"}"#)
            .expect("ok");
        assert_eq!(
            c.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert!(c.repo.is_none());
        let c = parse_404_commitment("{'repo': 'o/n', 'cdn_url': 'https://cdn.example/x/'}")
            .expect("ok");
        assert_eq!(c.repo.as_deref(), Some("o/n"));
        assert_eq!(c.cdn_url.as_deref(), Some("https://cdn.example/x"));
    }

    #[test]
    fn rejects_what_404_skips() {
        assert!(matches!(
            parse_404_commitment("not json"),
            Err(CommitmentError::Not404(_))
        ));
        assert!(matches!(
            parse_404_commitment("\"a string\""),
            Err(CommitmentError::Not404(_))
        ));
        assert!(matches!(
            parse_404_commitment("{\"other\": 1}"),
            Err(CommitmentError::Not404(_))
        ));
        assert!(matches!(
            parse_404_commitment("{\"repo\": \"\"}"),
            Err(CommitmentError::Not404(_))
        ));
        assert!(parse_404_commitment(&"x".repeat(5000)).is_err());
    }

    #[test]
    fn strips_compact_prefix_like_404() {
        let text = "{\"commit\":\"ab\"}";
        let mut scale = vec![(text.len() as u8) << 2];
        scale.extend_from_slice(text.as_bytes());
        assert_eq!(revealed_text(&scale), text);
        assert_eq!(revealed_text(&[]), "");
        let long = "y".repeat(100);
        let mut scale = codec::Encode::encode(&codec::Compact(100u32));
        scale.extend_from_slice(long.as_bytes());
        assert_eq!(revealed_text(&scale), long);
    }
}
