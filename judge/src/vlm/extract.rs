//! Tolerant JSON extraction from model output, as 404's `_parse_or_repair` does it — the whole text, the first
//! fenced block, the outermost `{…}`, each also with trailing commas removed — plus two fallbacks of our own for
//! reasoning models: the text after the last `</think>` and the last balanced top-level object.

use serde_json::Value;

/// Candidate JSON texts, most literal first, without duplicates.
pub fn candidates(text: &str) -> Vec<&str> {
    fn push<'t>(c: &'t str, out: &mut Vec<&'t str>) {
        let c = c.trim();
        if !c.is_empty() && !out.contains(&c) {
            out.push(c);
        }
    }
    let mut out: Vec<&str> = Vec::new();
    push(text, &mut out);
    if let Some(f) = first_fence(text) {
        push(f, &mut out);
    }
    if let Some(b) = outer_braces(text) {
        push(b, &mut out);
    }
    if let Some(at) = text.rfind("</think>") {
        let after = &text[at + "</think>".len()..];
        push(after, &mut out);
        if let Some(b) = outer_braces(after) {
            push(b, &mut out);
        }
    }
    if let Some(b) = last_balanced_object(text) {
        push(b, &mut out);
    }
    out
}

/// Parses the first candidate that is JSON (as written, or after trailing-comma removal) and that `accept`
/// takes. `accept` does the schema validation, so a candidate of the wrong shape falls through to the next.
pub fn parse_with<T>(text: &str, mut accept: impl FnMut(Value) -> Option<T>) -> Option<T> {
    for cand in candidates(text) {
        if let Ok(v) = serde_json::from_str::<Value>(cand) {
            if let Some(t) = accept(v) {
                return Some(t);
            }
        }
        let repaired = remove_trailing_commas(cand);
        if repaired != cand {
            if let Ok(v) = serde_json::from_str::<Value>(&repaired) {
                if let Some(t) = accept(v) {
                    return Some(t);
                }
            }
        }
    }
    None
}

/// Inner text of the first ```` ``` ```` or ```` ```json ```` fenced block (404's non-greedy fence regex).
fn first_fence(text: &str) -> Option<&str> {
    let open = text.find("```")?;
    let mut rest = &text[open + 3..];
    if let Some(r) = rest.strip_prefix("json") {
        rest = r;
    }
    let close = rest.find("```")?;
    Some(&rest[..close])
}

/// From the first `{` to the last `}` (404's greedy `\{.*\}`).
fn outer_braces(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (end > start).then(|| &text[start..=end])
}

/// The last `{…}` whose braces balance outside string literals, e.g. the answer after a reasoning preamble that
/// itself contained braces.
fn last_balanced_object(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut best = None;
    let mut depth = 0usize;
    let mut start = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' if depth > 0 => in_str = true,
            b'{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    best = Some(&text[start..=i]);
                }
            }
            _ => {}
        }
    }
    best
}

/// 404's `,(\s*[}\]])` → `$1`: drop a comma followed only by whitespace and a closing bracket.
fn remove_trailing_commas(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (i, ch) in text.char_indices() {
        if ch == ',' {
            let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
            if matches!(next, Some(b'}') | Some(b']')) {
                continue;
            }
        }
        out.push(ch);
    }
    out
}

/// Python's `int(round(float(x)))` for a JSON number or numeric string (round half to even); `None` otherwise.
pub fn coerce_int(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Some(i);
            }
            n.as_f64()?
        }
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !f.is_finite() || f.abs() > 9.0e15 {
        return None;
    }
    Some(f.round_ties_even() as i64)
}

/// Rewrites the named top-level fields of an object to integers where [`coerce_int`] can (as 404's
/// `_coerce_ints` does before validation).
pub fn coerce_int_fields(v: &mut Value, fields: &[&str]) {
    if let Value::Object(map) = v {
        for f in fields {
            if let Some(slot) = map.get_mut(*f) {
                if !slot.is_i64() {
                    if let Some(i) = coerce_int(slot) {
                        *slot = Value::from(i);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(text: &str) -> Option<Value> {
        parse_with(text, |v| v.is_object().then_some(v))
    }

    #[test]
    fn plain_fenced_prefixed_and_trailing_comma() {
        let want = serde_json::json!({"a": 1});
        assert_eq!(obj(r#"{"a": 1}"#), Some(want.clone()));
        assert_eq!(obj("```json\n{\"a\": 1}\n```"), Some(want.clone()));
        assert_eq!(
            obj("Sure! ```\n{\"a\": 1}\n``` hope that helps"),
            Some(want.clone())
        );
        assert_eq!(
            obj("Let me look at the models first.\n{\"a\": 1}"),
            Some(want.clone())
        );
        assert_eq!(obj("{\"a\": 1,\n}"), Some(want.clone()));
        assert!(obj("[1, 2,]").is_none());
    }

    #[test]
    fn reasoning_with_braces_then_answer() {
        let text = "<think>the {left} model looks {odd}</think>\n{\"a\": 1}";
        assert_eq!(obj(text), Some(serde_json::json!({"a": 1})));
        let text = "I compare {x} and {y}. Final: {\"a\": \"}\"}";
        assert_eq!(obj(text), Some(serde_json::json!({"a": "}"})));
    }

    #[test]
    fn truncated_or_garbage_gives_nothing() {
        assert_eq!(obj(r#"{"penalty_1": 3, "penalty_2": "#), None);
        assert_eq!(obj("no json here"), None);
        assert_eq!(obj(""), None);
    }

    #[test]
    fn int_coercion_rounds_half_to_even_like_python() {
        assert_eq!(coerce_int(&serde_json::json!(2.5)), Some(2));
        assert_eq!(coerce_int(&serde_json::json!(3.5)), Some(4));
        assert_eq!(coerce_int(&serde_json::json!("6.7")), Some(7));
        assert_eq!(coerce_int(&serde_json::json!(-0.4)), Some(0));
        assert_eq!(coerce_int(&serde_json::json!("x")), None);
        assert_eq!(coerce_int(&serde_json::json!(true)), None);
        let mut v = serde_json::json!({"penalty_1": 2.6, "penalty_2": "3", "issues": "1.5"});
        coerce_int_fields(&mut v, &["penalty_1", "penalty_2"]);
        assert_eq!(
            v,
            serde_json::json!({"penalty_1": 3, "penalty_2": 3, "issues": "1.5"})
        );
    }
}
