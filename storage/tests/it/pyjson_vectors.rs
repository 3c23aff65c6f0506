//! pyjson against text CPython and pydantic produced (scripts/pyjson_vectors.py).

use sn17_storage::pyjson::{self, pydantic_float, python_repr, Value};

fn fixture() -> Value {
    let text = include_str!("../fixtures/pyjson_vectors.json");
    pyjson::parse(text).expect("fixture parses")
}

#[test]
fn floats_print_like_cpython_repr_and_pydantic() {
    let v = fixture();
    let floats = v
        .as_object()
        .and_then(|o| o.get("floats"))
        .and_then(Value::as_array)
        .expect("floats");
    assert!(floats.len() > 1000);
    for case in floats {
        let o = case.as_object().expect("case");
        let bits = o.get("bits").and_then(Value::as_i128).expect("bits") as u64;
        let f = f64::from_bits(bits);
        let want_repr = o.get("repr").and_then(Value::as_str).expect("repr");
        let want_pyd = o.get("pydantic").and_then(Value::as_str).expect("pydantic");
        assert_eq!(python_repr(f), want_repr, "repr of bits {bits:#x}");
        assert_eq!(pydantic_float(f), want_pyd, "pydantic of bits {bits:#x}");
        // And the text reads back as the same float.
        assert_eq!(want_repr.parse::<f64>().map(f64::to_bits).ok(), Some(bits));
    }
}

#[test]
fn documents_print_in_all_three_styles() {
    let v = fixture();
    let doc = v
        .as_object()
        .and_then(|o| o.get("doc"))
        .and_then(Value::as_object)
        .expect("doc");
    let get = |k: &str| doc.get(k).and_then(Value::as_str).expect(k);
    // Built from its json.dumps text, re-parsed floats keep their repr text; drop it by
    // re-creating numbers so the writer's own formatting is what is checked.
    let parsed = pyjson::parse(get("value_json")).expect("value parses");
    let fresh = strip_text(&parsed);
    assert_eq!(pyjson::to_pretty(&fresh), get("pretty"));
    assert_eq!(pyjson::to_compact(&fresh), get("compact"));
    assert_eq!(pyjson::to_dumps(&fresh), get("dumps"));
    // A parsed pretty document is written back byte for byte.
    let pretty = pyjson::parse(get("pretty")).expect("pretty parses");
    assert_eq!(pyjson::to_pretty(&pretty), get("pretty"));
}

fn strip_text(v: &Value) -> Value {
    match v {
        Value::Float(f) => Value::float(f.value),
        Value::Array(a) => Value::Array(a.iter().map(strip_text).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), strip_text(v))).collect())
        }
        other => other.clone(),
    }
}
