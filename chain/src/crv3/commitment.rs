//! Timelocked fields of the Commitments pallet (`Data::TimelockEncrypted`).
//!
//! The SDK encrypts `SCALE(String)` (compact length + UTF-8) and the pallet stores the bare
//! ciphertext; after the round's pulse arrives the plaintext lands in `RevealedCommitments`.

use codec::{Decode, Encode};
use rand::{CryptoRng, RngCore};

use super::drand::{QUICKNET_GENESIS_TIME, QUICKNET_PERIOD_SECS};
use super::tlock::encrypt_bounded;
use super::{Crv3Error, Result};

/// Bound of `TimelockEncrypted.encrypted` (`BoundedVec<u8, 1024>`).
pub const MAX_TIMELOCKED_COMMITMENT_BYTES: usize = 1024;

/// Encrypts `text` as `SCALE(String)` to `reveal_round`, giving the `encrypted` bytes of a
/// `TimelockEncrypted` field. Texts whose ciphertext exceeds 1024 bytes (over 778 bytes of
/// text) are refused, since the pallet would reject them.
pub fn encrypt_commitment_text<R: RngCore + CryptoRng>(
    text: &str,
    reveal_round: u64,
    rng: &mut R,
) -> Result<Vec<u8>> {
    encrypt_bounded(
        &text.encode(),
        reveal_round,
        rng,
        MAX_TIMELOCKED_COMMITMENT_BYTES,
    )
}

/// Reads a revealed commitment: a SCALE string with nothing after it, valid UTF-8.
///
/// Stricter than the SDK's `decode_revealed_commitment`, which skips the prefix and ignores
/// UTF-8 errors; here foreign encodings are reported instead of garbled.
pub fn decode_revealed_commitment(plaintext: &[u8]) -> Result<String> {
    let mut input = plaintext;
    let text = String::decode(&mut input).map_err(Crv3Error::CommitmentDecode)?;
    if !input.is_empty() {
        return Err(Crv3Error::CommitmentTrailingBytes { extra: input.len() });
    }
    Ok(text)
}

/// The SDK's round for a commitment revealed `blocks_until_reveal` blocks from now:
/// `((now - genesis) + round(blocks * block_time)) / 3` in integers (bittensor-drand
/// `encrypt_commitment`). Unlike the weights round it has no safety margin.
pub fn commitment_reveal_round(
    now_unix_secs: u64,
    blocks_until_reveal: u64,
    block_time_secs: f64,
) -> Result<u64> {
    if !block_time_secs.is_finite() || block_time_secs <= 0.0 {
        return Err(Crv3Error::InvalidBlockTime(block_time_secs));
    }
    let since_genesis = now_unix_secs
        .checked_sub(QUICKNET_GENESIS_TIME)
        .ok_or(Crv3Error::ClockBeforeGenesis { now: now_unix_secs })?;
    // `as` saturates on overflow; f64::round (half away from zero) is what the SDK's Rust uses.
    let wait_secs = (blocks_until_reveal as f64 * block_time_secs).round() as u64;
    Ok(since_genesis.saturating_add(wait_secs) / QUICKNET_PERIOD_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_scale_string() {
        // compact(5) = 5 << 2 = 0x14, then "hello".
        assert_eq!(
            decode_revealed_commitment(&[0x14, b'h', b'e', b'l', b'l', b'o']).ok(),
            Some("hello".to_string())
        );
        assert_eq!(
            decode_revealed_commitment(&[0x00]).ok(),
            Some(String::new())
        );
    }

    #[test]
    fn rejects_bad_commitments() {
        // Length 5 but only 4 bytes.
        assert!(matches!(
            decode_revealed_commitment(&[0x14, b'h', b'e', b'l', b'l']),
            Err(Crv3Error::CommitmentDecode(_))
        ));
        // Invalid UTF-8.
        assert!(matches!(
            decode_revealed_commitment(&[0x04, 0xff]),
            Err(Crv3Error::CommitmentDecode(_))
        ));
        // One byte after the string.
        assert!(matches!(
            decode_revealed_commitment(&[0x04, b'a', b'b']),
            Err(Crv3Error::CommitmentTrailingBytes { extra: 1 })
        ));
        assert!(matches!(
            decode_revealed_commitment(&[]),
            Err(Crv3Error::CommitmentDecode(_))
        ));
    }

    #[test]
    fn long_text_is_refused_before_encrypting() {
        // Texts of 64..16383 bytes get a 2-byte compact prefix: 778 bytes of text give
        // 780 + 244 = 1024 (fits), 779 give 781 + 244 = 1025.
        let mut rng = rand::rngs::OsRng;
        let too_long = "a".repeat(779);
        assert!(matches!(
            encrypt_commitment_text(&too_long, 1000, &mut rng),
            Err(Crv3Error::TooLarge {
                limit: 1024,
                got: 1025
            })
        ));
    }

    #[test]
    fn commitment_round() {
        // now - genesis = 1_700_000_000 - 1_692_803_367 = 7_196_633; 360 blocks * 12 s = 4320;
        // (7_196_633 + 4320) / 3 = 7_200_953 / 3 = 2_400_317 (remainder 2).
        assert_eq!(
            commitment_reveal_round(1_700_000_000, 360, 12.0).ok(),
            Some(2_400_317)
        );
        assert!(matches!(
            commitment_reveal_round(5, 360, 12.0),
            Err(Crv3Error::ClockBeforeGenesis { now: 5 })
        ));
    }
}
