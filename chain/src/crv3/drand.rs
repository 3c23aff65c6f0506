//! drand quicknet: the beacon whose round signatures unlock CRv3 commits.
//!
//! Quicknet uses "tiny" BLS on BLS12-381: 48-byte signatures in G1 and a 96-byte public key in
//! G2. Round `r` signs `sha256(r as u64 big-endian)`, so that digest is the IBE identity a
//! ciphertext for round `r` is encrypted to.

use std::sync::OnceLock;

use ark_serialize::CanonicalDeserialize;
use sha2::{Digest, Sha256};
use timelock::curves::drand::TinyBLS381;
use timelock::ibe::fullident::Identity;
use timelock::tlock::EngineBLS;

use super::{Crv3Error, Result};

/// Quicknet group public key (compressed G2).
pub const QUICKNET_PUBLIC_KEY_HEX: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";
/// Quicknet chain hash, the id drand HTTP endpoints use for this beacon.
pub const QUICKNET_CHAIN_HASH_HEX: &str =
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";
/// Unix time of round 1.
pub const QUICKNET_GENESIS_TIME: u64 = 1_692_803_367;
/// Seconds between rounds.
pub const QUICKNET_PERIOD_SECS: u64 = 3;
/// Length of a compressed quicknet signature.
pub const SIGNATURE_LEN: usize = 48;
/// Length of the compressed quicknet public key.
pub const PUBLIC_KEY_LEN: usize = 96;

/// G2 point type of the quicknet public key.
pub(crate) type PublicKeyPoint = <TinyBLS381 as EngineBLS>::PublicKeyGroup;
/// G1 point type of quicknet signatures.
pub(crate) type SignaturePoint = <TinyBLS381 as EngineBLS>::SignatureGroup;

/// The message drand signs for `round`: `sha256(round.to_be_bytes())`.
pub fn round_message(round: u64) -> [u8; 32] {
    Sha256::digest(round.to_be_bytes()).into()
}

/// The IBE identity for `round`, with the empty context the chain and the SDK use.
pub(crate) fn round_identity(round: u64) -> Identity {
    Identity::new(b"", vec![round_message(round).to_vec()])
}

/// Unix time at which `round` is published (round 1 at genesis); `None` for round 0 or overflow.
pub fn round_time(round: u64) -> Option<u64> {
    round
        .checked_sub(1)?
        .checked_mul(QUICKNET_PERIOD_SECS)?
        .checked_add(QUICKNET_GENESIS_TIME)
}

/// The wall clock in unix seconds (0 before 1970), from which drand rounds are reckoned.
pub fn unix_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Latest round published at `unix_secs`; `None` before genesis.
pub fn current_round(unix_secs: u64) -> Option<u64> {
    let since = unix_secs.checked_sub(QUICKNET_GENESIS_TIME)?;
    Some(since / QUICKNET_PERIOD_SECS + 1)
}

/// The quicknet public key, parsed (with subgroup check) once per process.
pub(crate) fn public_key() -> Result<PublicKeyPoint> {
    static KEY: OnceLock<Option<PublicKeyPoint>> = OnceLock::new();
    KEY.get_or_init(|| {
        let bytes = hex::decode(QUICKNET_PUBLIC_KEY_HEX).ok()?;
        PublicKeyPoint::deserialize_compressed(&bytes[..]).ok()
    })
    .ok_or(Crv3Error::PublicKey)
}

/// Parses a round signature as the chain does: an optional ASCII `0x` prefix is dropped, then a
/// compressed G1 point with subgroup check. Unlike the chain, trailing bytes are refused.
pub(crate) fn parse_signature(signature: &[u8]) -> Result<SignaturePoint> {
    let raw = signature.strip_prefix(b"0x").unwrap_or(signature);
    if raw.len() != SIGNATURE_LEN {
        return Err(Crv3Error::SignatureLength { got: raw.len() });
    }
    SignaturePoint::deserialize_compressed(raw).map_err(|_| Crv3Error::InvalidSignature)
}

/// Checks that `signature` is quicknet's signature for `round` (BLS pairing check), e.g. before
/// writing a pulse into a test chain. `Ok(false)` means a well-formed signature of something
/// else.
pub fn verify_round_signature(round: u64, signature: &[u8]) -> Result<bool> {
    let sig = parse_signature(signature)?;
    let pk = public_key()?;
    let hashed = round_identity(round).public::<TinyBLS381>();
    let inputs = [(
        TinyBLS381::prepare_public_key(pk),
        TinyBLS381::prepare_signature(hashed),
    )];
    Ok(TinyBLS381::verify_prepared(
        TinyBLS381::prepare_signature(sig),
        inputs.iter(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_message_is_sha256_of_big_endian_round() {
        // sha256(00 00 00 00 00 00 03 e8) for round 1000.
        assert_eq!(
            round_message(1000).to_vec(),
            Sha256::digest([0, 0, 0, 0, 0, 0, 0x03, 0xe8]).to_vec()
        );
    }

    #[test]
    fn round_times() {
        assert_eq!(round_time(0), None);
        assert_eq!(round_time(1), Some(QUICKNET_GENESIS_TIME));
        // Round 1000 is 999 periods after genesis: 1_692_803_367 + 2_997.
        assert_eq!(round_time(1000), Some(1_692_806_364));
        assert_eq!(current_round(QUICKNET_GENESIS_TIME - 1), None);
        assert_eq!(current_round(QUICKNET_GENESIS_TIME), Some(1));
        assert_eq!(current_round(1_692_806_364), Some(1000));
        assert_eq!(current_round(1_692_806_366), Some(1000));
        assert_eq!(current_round(1_692_806_367), Some(1001));
    }

    #[test]
    fn public_key_parses() {
        assert!(public_key().is_ok());
    }

    #[test]
    fn signature_length_is_checked_before_parsing() {
        assert!(matches!(
            parse_signature(&[0u8; 47]),
            Err(Crv3Error::SignatureLength { got: 47 })
        ));
        assert!(matches!(
            parse_signature(&[0u8; 48]),
            Err(Crv3Error::InvalidSignature)
        ));
    }
}
