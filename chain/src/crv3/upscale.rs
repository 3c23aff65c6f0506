//! Float weights to the u16 values sent on chain, and the chain's own re-upscale of them.
//!
//! Used by both direct `set_weights` and CRv3 commits: the chain stores the values it receives
//! after max-upscaling them again, so sending values that are already max-upscaled makes the
//! stored weights predictable.

use std::collections::HashSet;

use super::{Crv3Error, Result};

/// Uids and u16 values ready for `set_weights` or a [`super::WeightsTlockPayload`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmitWeights {
    /// Destination uids, in input order, zero weights removed.
    pub uids: Vec<u16>,
    /// Max-upscaled weights; the largest is 65535.
    pub values: Vec<u16>,
}

/// The bittensor SDK's `convert_weights_and_uids_for_emit`, with typed errors.
///
/// Each weight is divided by the maximum and scaled to 65535 in f64, rounded half to even (as
/// Python's `round`), and pairs that round to 0 are dropped; input order is kept. All-zero (or
/// empty) input gives nothing to set. Unlike the SDK this also refuses NaN/infinite weights and
/// duplicate uids up front instead of failing later or on chain.
pub fn convert_weights_and_uids_for_emit<W>(pairs: &[(u16, W)]) -> Result<EmitWeights>
where
    W: Copy + Into<f64>,
{
    let mut seen = HashSet::with_capacity(pairs.len());
    let mut max = 0.0_f64;
    for &(uid, weight) in pairs {
        let weight: f64 = weight.into();
        if !weight.is_finite() {
            return Err(Crv3Error::NonFiniteWeight { uid });
        }
        if weight < 0.0 {
            return Err(Crv3Error::NegativeWeight { uid, weight });
        }
        if !seen.insert(uid) {
            return Err(Crv3Error::DuplicateUid { uid });
        }
        max = max.max(weight);
    }
    let mut out = EmitWeights::default();
    // With only finite non-negative weights, a zero sum (the SDK's test) means a zero maximum.
    if max == 0.0 {
        return Ok(out);
    }
    for &(uid, weight) in pairs {
        let scaled = (weight.into() / max * f64::from(u16::MAX)).round_ties_even();
        // weight <= max, so scaled is within 0..=65535 and the cast is exact.
        let value = scaled.clamp(0.0, f64::from(u16::MAX)) as u16;
        if value != 0 {
            out.uids.push(uid);
            out.values.push(value);
        }
    }
    Ok(out)
}

/// Raw bits of one in I32F32 fixed point (32 fractional bits).
const FRAC_BITS: u32 = 32;
const ONE: i128 = 1 << FRAC_BITS;

/// Saturates an i128 intermediate into the I32F32 raw range, as `saturating_*` ops do.
fn sat(raw: i128) -> i128 {
    raw.clamp(i128::from(i64::MIN), i128::from(i64::MAX))
}

/// I32F32 multiply: the 128-bit product shifted down, which floors.
fn fx_mul(a: i128, b: i128) -> i128 {
    sat((a * b) >> FRAC_BITS)
}

/// I32F32 divide (`safe_div`: 0 for a zero divisor); truncates, i.e. floors for non-negatives.
fn fx_div(a: i128, b: i128) -> i128 {
    if b == 0 {
        return 0;
    }
    sat((a << FRAC_BITS) / b)
}

/// I32F32 `round`: to nearest, ties away from zero (inputs here are non-negative).
fn fx_round(a: i128) -> i128 {
    sat((a + ONE / 2) & !(ONE - 1))
}

/// I32F32 `saturating_to_num::<u16>`: drop the fraction, clamp to u16.
fn fx_to_u16(a: i128) -> u16 {
    u16::try_from((a >> FRAC_BITS).max(0)).unwrap_or(u16::MAX)
}

/// Subtensor's `vec_u16_max_upscale_to_u16` (epoch/math.rs), bit for bit, to predict the values
/// stored in `Weights` for the values sent.
///
/// The chain computes in I32F32: when the maximum exceeds 32768 it scales by `65535 / max`
/// (rounded down to 2^-32) because `v * 65535` could overflow, otherwise by `v * 65535 / max`;
/// then it rounds half away from zero. A vector whose maximum is already 65535 comes back
/// unchanged, so SDK-style values are stored as sent.
pub fn chain_upscale(values: &[u16]) -> Vec<u16> {
    let u16_max = i128::from(u16::MAX) << FRAC_BITS;
    let threshold = 32_768_i128 << FRAC_BITS;
    let fixed: Vec<i128> = values.iter().map(|&v| i128::from(v) << FRAC_BITS).collect();
    let Some(&max) = fixed.iter().max() else {
        return Vec::new();
    };
    if max == 0 {
        return fixed
            .iter()
            .map(|&e| fx_to_u16(fx_mul(e, u16_max)))
            .collect();
    }
    if max > threshold {
        let scale = fx_div(u16_max, max);
        return fixed
            .iter()
            .map(|&e| fx_to_u16(fx_round(fx_mul(e, scale))))
            .collect();
    }
    fixed
        .iter()
        .map(|&e| fx_to_u16(fx_round(fx_div(fx_mul(e, u16_max), max))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(pairs: &[(u16, f64)]) -> (Vec<u16>, Vec<u16>) {
        match convert_weights_and_uids_for_emit(pairs) {
            Ok(w) => (w.uids, w.values),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn half_rounds_to_even_and_zero_is_dropped() {
        // 0.5 / 1.0 * 65535 = 32767.5 -> ties to even -> 32768; 0.0 -> 0 -> dropped.
        assert_eq!(
            emit(&[(0, 0.5), (1, 1.0), (2, 0.0)]),
            (vec![0, 1], vec![32768, 65535])
        );
    }

    #[test]
    fn ties_round_to_even_like_python() {
        // max 65535: 2.5 / 65535 * 65535 is 2.5 again in f64; Python round(2.5) = 2, round(3.5) = 4.
        assert_eq!(
            emit(&[(7, 2.5), (8, 65535.0)]),
            (vec![7, 8], vec![2, 65535])
        );
        assert_eq!(
            emit(&[(7, 3.5), (8, 65535.0)]),
            (vec![7, 8], vec![4, 65535])
        );
        // round(0.5) = 0, so that pair is dropped.
        assert_eq!(emit(&[(7, 0.5), (8, 65535.0)]), (vec![8], vec![65535]));
    }

    #[test]
    fn order_is_kept_and_tiny_weights_vanish() {
        // 1e-6 / 1.0 * 65535 = 0.065535 -> 0 -> dropped; uid order stays 9, 3.
        assert_eq!(
            emit(&[(9, 0.25), (5, 1e-6), (3, 1.0)]),
            (vec![9, 3], vec![16384, 65535])
        );
        // 0.25 * 65535 = 16383.75 -> 16384.
    }

    #[test]
    fn all_zero_and_empty_give_nothing() {
        assert_eq!(emit(&[(0, 0.0), (1, 0.0)]), (vec![], vec![]));
        assert_eq!(emit(&[]), (vec![], vec![]));
    }

    #[test]
    fn f32_input_is_widened_exactly() {
        // 0.1f32 = 0.100000001490116..., /0.2f32 (0.200000002980232...) = 0.5 exactly.
        let w = convert_weights_and_uids_for_emit(&[(0, 0.1_f32), (1, 0.2_f32)]);
        assert_eq!(
            w.ok(),
            Some(EmitWeights {
                uids: vec![0, 1],
                values: vec![32768, 65535]
            })
        );
    }

    #[test]
    fn bad_weights_are_typed_errors() {
        assert!(matches!(
            convert_weights_and_uids_for_emit(&[(0, 1.0), (4, f64::NAN)]),
            Err(Crv3Error::NonFiniteWeight { uid: 4 })
        ));
        assert!(matches!(
            convert_weights_and_uids_for_emit(&[(0, f64::INFINITY)]),
            Err(Crv3Error::NonFiniteWeight { uid: 0 })
        ));
        assert!(matches!(
            convert_weights_and_uids_for_emit(&[(0, 1.0), (2, -0.1)]),
            Err(Crv3Error::NegativeWeight { uid: 2, .. })
        ));
        assert!(matches!(
            convert_weights_and_uids_for_emit(&[(3, 1.0), (3, 0.5)]),
            Err(Crv3Error::DuplicateUid { uid: 3 })
        ));
        // Negative zero is not negative (Python agrees: min([-0.0]) < 0 is False).
        assert_eq!(emit(&[(0, -0.0), (1, 1.0)]), (vec![1], vec![65535]));
    }

    #[test]
    fn chain_upscale_small_max_branch() {
        // max 2 <= 32768: e * 65535 / 2. For e = 1: 65535 / 2 = 32767.5 exactly in I32F32,
        // rounded half away from zero -> 32768. e = 2 -> 65535.
        assert_eq!(chain_upscale(&[1, 2]), vec![32768, 65535]);
        // max 3: 65535 / 3 = 21845 exactly; 2 * 65535 / 3 = 43690 exactly.
        assert_eq!(chain_upscale(&[1, 2, 3]), vec![21845, 43690, 65535]);
        // max 32768 still takes this branch: 16384 * 65535 / 32768 = 32767.5 -> 32768.
        assert_eq!(chain_upscale(&[16384, 32768]), vec![32768, 65535]);
    }

    #[test]
    fn chain_upscale_large_max_branch() {
        // max 65535 > 32768: scale = 65535 / 65535 = 1.0 exactly, so values are kept.
        assert_eq!(chain_upscale(&[1, 32768, 65535]), vec![1, 32768, 65535]);
        // max 32769: scale raw = floor(65535 * 2^32 / 32769) = floor(8_589_541_387.9996)
        // = 8_589_541_387. e = 16384: 16384 * 8_589_541_387 / 2^32 = 32766.50004..., rounds to
        // 32767. e = 32769: 65534.99999..., rounds to 65535.
        assert_eq!(chain_upscale(&[16384, 32769]), vec![32767, 65535]);
    }

    #[test]
    fn chain_upscale_floored_scale_beats_exact_rounding() {
        // Exactly, 3277 * 65535 / 32770 = 6553.5, which would round up to 6554. The chain floors
        // the scale first: 65535 * 2^32 = 281_470_681_743_360 = 32770 * 8_589_279_271 + 32_690,
        // so scale raw = 8_589_279_271, and 3277 * 8_589_279_271 = 28_147_068_171_067 is below
        // 6553.5 * 2^32 = 28_147_068_174_336. Round half away from zero gives 6553.
        assert_eq!(chain_upscale(&[3277, 32770]), vec![6553, 65535]);
    }

    #[test]
    fn chain_upscale_edge_inputs() {
        assert_eq!(chain_upscale(&[]), Vec::<u16>::new());
        assert_eq!(chain_upscale(&[0, 0]), vec![0, 0]);
        assert_eq!(chain_upscale(&[0, 5]), vec![0, 65535]);
    }

    #[test]
    fn sdk_output_is_a_fixed_point_of_chain_upscale() {
        let w = convert_weights_and_uids_for_emit(&[(0, 0.3_f64), (1, 0.7), (2, 0.001), (3, 0.5)]);
        let Ok(w) = w else {
            panic!("conversion failed")
        };
        assert_eq!(chain_upscale(&w.values), w.values);
    }
}
