//! Writing JSON in the three styles 404's files use: pydantic `model_dump_json(indent=2)`,
//! pydantic compact, and Python's default `json.dumps` (`seed.json`). No trailing newline.

use super::float::{dumps_float, pydantic_float};
use super::value::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// pydantic with indent=2: `"k": v`, two-space indent, UTF-8 kept.
    Pretty,
    /// pydantic without indent: `{"k":v}`.
    Compact,
    /// `json.dumps(obj)`: `{"k": v, "l": w}`, non-ASCII escaped.
    Dumps,
}

/// pydantic `model_dump_json(indent=2)` text.
pub fn to_pretty(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, Style::Pretty, 0);
    out
}

/// pydantic `model_dump_json()` text.
pub fn to_compact(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, Style::Compact, 0);
    out
}

/// Python `json.dumps(v)` text.
pub fn to_dumps(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, Style::Dumps, 0);
    out
}

fn newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write(out: &mut String, v: &Value, style: Style, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => match f.text() {
            Some(t) => out.push_str(t),
            None if style == Style::Dumps => out.push_str(&dumps_float(f.value)),
            None => out.push_str(&pydantic_float(f.value)),
        },
        Value::Str(s) => write_str(out, s, style == Style::Dumps),
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                separator(out, style, level, n);
                write(out, item, style, level + 1);
            }
            close(out, style, level, items.is_empty(), ']');
        }
        Value::Object(obj) => {
            out.push('{');
            for (n, (k, item)) in obj.iter().enumerate() {
                separator(out, style, level, n);
                write_str(out, k, style == Style::Dumps);
                out.push_str(if style == Style::Compact { ":" } else { ": " });
                write(out, item, style, level + 1);
            }
            close(out, style, level, obj.is_empty(), '}');
        }
    }
}

fn separator(out: &mut String, style: Style, level: usize, n: usize) {
    match style {
        Style::Pretty => {
            if n > 0 {
                out.push(',');
            }
            newline(out, level + 1);
        }
        Style::Compact if n > 0 => out.push(','),
        Style::Dumps if n > 0 => out.push_str(", "),
        _ => {}
    }
}

fn close(out: &mut String, style: Style, level: usize, empty: bool, bracket: char) {
    if style == Style::Pretty && !empty {
        newline(out, level);
    }
    out.push(bracket);
}

fn write_str(out: &mut String, s: &str, ascii_only: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii_only && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn pretty_is_pydantic_indent_2() {
        let v = parse(r#"{"a":[1.0,{"b":2}],"e":[],"o":{},"s":"é\u001f"}"#).expect("json");
        assert_eq!(
            to_pretty(&v),
            "{\n  \"a\": [\n    1.0,\n    {\n      \"b\": 2\n    }\n  ],\n  \"e\": [],\n  \"o\": {},\n  \"s\": \"é\\u001f\"\n}"
        );
        assert_eq!(
            to_compact(&v),
            "{\"a\":[1.0,{\"b\":2}],\"e\":[],\"o\":{},\"s\":\"é\\u001f\"}"
        );
    }

    #[test]
    fn dumps_is_python_default() {
        let v = parse(r#"{"seed": 3274970996, "x": [1, "é"]}"#).expect("json");
        assert_eq!(
            to_dumps(&v),
            "{\"seed\": 3274970996, \"x\": [1, \"\\u00e9\"]}"
        );
        let mut o = super::super::Object::new();
        o.insert("f", Value::float(1e-5));
        assert_eq!(to_dumps(&Value::Object(o)), "{\"f\": 1e-05}");
    }
}
