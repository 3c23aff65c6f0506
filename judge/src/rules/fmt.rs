//! Python-compatible number formatting for strings 404 writes into state files (`f"{m:+.2%}"`).

/// Python's `format(x, "+.{decimals}%")`: `x·100` rounded half-to-even on its exact binary value, with a sign.
pub fn py_signed_percent(x: f64, decimals: usize) -> String {
    let v = x * 100.0;
    let body = py_fixed(v.abs(), decimals);
    format!("{}{}%", if v.is_sign_negative() { '-' } else { '+' }, body)
}

/// `format(v, f".{decimals}f")` for a finite, non-negative `v`: exact decimal expansion, round half to even.
pub fn py_fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    // Rust prints the exact decimal expansion of a double when asked for enough digits (1100 covers any f64).
    let exact = format!("{:.1100}", v);
    let (int_part, frac) = exact.split_once('.').unwrap_or((&exact, ""));
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac.bytes().take(decimals))
        .map(|b| b - b'0')
        .collect();
    let rest = &frac.as_bytes()[decimals.min(frac.len())..];
    let first = rest.first().map_or(0, |b| b - b'0');
    let tail_nonzero = rest.iter().skip(1).any(|b| *b != b'0');
    let last_odd = digits.last().is_some_and(|d| d % 2 == 1);
    let round_up = first > 5 || (first == 5 && (tail_nonzero || last_odd));
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - decimals;
    let mut s: String = digits[..int_len]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    if decimals > 0 {
        s.push('.');
        s.extend(digits[int_len..].iter().map(|d| char::from(b'0' + d)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_percent_formatting() {
        // Values checked against CPython 3.11: f"{x:+.2%}".
        assert_eq!(py_signed_percent(-0.0703125, 2), "-7.03%");
        assert_eq!(py_signed_percent(0.0546875, 2), "+5.47%");
        assert_eq!(py_signed_percent(0.03125, 2), "+3.12%"); // 3.125 is a binary tie: half to even
        assert_eq!(py_signed_percent(0.0390625, 2), "+3.91%");
        assert_eq!(py_signed_percent(0.0, 2), "+0.00%");
        assert_eq!(py_signed_percent(-0.0, 2), "-0.00%");
        assert_eq!(py_signed_percent(-1.0, 2), "-100.00%");
        assert_eq!(py_signed_percent(0.9999999, 2), "+100.00%");
        assert_eq!(py_fixed(2.675, 2), "2.67"); // 2.675 is stored just below the tie
    }
}
