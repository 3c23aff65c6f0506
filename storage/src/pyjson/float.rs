//! Float text: CPython's `repr` (used by `str(float)` in CSVs and by `json.dumps`) and
//! pydantic-core's JSON form. Both print the shortest digits that round-trip; they differ only
//! in where they switch to exponent notation and how they write the exponent.

/// Shortest round-trip digits and the decimal exponent of the first digit (`d.ddd × 10^exp`).
fn shortest(v: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-trip digits, as CPython's repr does.
    let s = format!("{:e}", v.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

fn positional(digits: &str, exp: i32) -> String {
    let n = digits.len() as i32;
    if exp >= 0 {
        let int_len = exp + 1;
        if n <= int_len {
            format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
        } else {
            let (a, b) = digits.split_at(int_len as usize);
            format!("{a}.{b}")
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    }
}

fn mantissa(digits: &str) -> String {
    if digits.len() == 1 {
        digits.to_string()
    } else {
        format!("{}.{}", &digits[..1], &digits[1..])
    }
}

fn format(v: f64, min_exp: i32, pad: usize, inf: &str, nan: &str) -> String {
    if v.is_nan() {
        return nan.to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            inf.to_string()
        } else {
            format!("-{inf}")
        };
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let (digits, exp) = shortest(v);
    if (min_exp..16).contains(&exp) {
        return format!("{sign}{}", positional(&digits, exp));
    }
    let esign = if exp < 0 { '-' } else { '+' };
    format!(
        "{sign}{}e{esign}{:0pad$}",
        mantissa(&digits),
        exp.unsigned_abs(),
        pad = pad
    )
}

/// CPython `repr(float)`: positional for 1e-4 ≤ |v| < 1e16, else `1e-05`, `1.5e+16`.
pub fn python_repr(v: f64) -> String {
    format(v, -4, 2, "inf", "nan")
}

/// pydantic-core's JSON float: positional for 1e-5 ≤ |v| < 1e16, else `1e-6`, `1e+16`.
/// Non-finite values become `null`, pydantic's default (`ser_json_inf_nan='null'`).
pub fn pydantic_float(v: f64) -> String {
    if !v.is_finite() {
        return "null".to_string();
    }
    format(v, -5, 1, "inf", "nan")
}

/// `json.dumps` float text (repr, with `Infinity`/`NaN` spelled as Python's encoder does).
pub(crate) fn dumps_float(v: f64) -> String {
    format(v, -4, 2, "Infinity", "NaN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_cpython_examples() {
        let cases = [
            (1.0, "1.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.6000000000000001, "0.6000000000000001"),
            (-0.0859375, "-0.0859375"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (5e-324, "5e-324"),
            (123456.789, "123456.789"),
        ];
        for (v, want) in cases {
            assert_eq!(python_repr(v), want, "{v:e}");
        }
        assert_eq!(python_repr(f64::INFINITY), "inf");
        assert_eq!(python_repr(f64::NAN), "nan");
    }

    #[test]
    fn pydantic_switches_later_and_does_not_pad() {
        assert_eq!(pydantic_float(1e-5), "0.00001");
        assert_eq!(pydantic_float(2.5e-5), "0.000025");
        assert_eq!(pydantic_float(9.9e-6), "9.9e-6");
        assert_eq!(pydantic_float(1e16), "1e+16");
        assert_eq!(
            pydantic_float(1.7976931348623157e308),
            "1.7976931348623157e+308"
        );
        assert_eq!(pydantic_float(0.0), "0.0");
        assert_eq!(pydantic_float(f64::NAN), "null");
    }
}
