//! The SCALE plaintext of a timelocked weights commit, as the chain decodes it on reveal.

use codec::{Decode, Encode};

use super::{Crv3Error, Result};

/// Length of an sr25519 public key, the only hotkey form the chain matches against the signer.
pub const HOTKEY_LEN: usize = 32;

/// Current weights payload (subtensor `reveal_commits.rs`).
///
/// Encodes as `80 <32B hotkey> <compact n> u16le… <compact n> u16le… u64le`; the chain drops
/// the reveal when `hotkey` is not the committer, so it must be the signing hotkey's public key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct WeightsTlockPayload {
    /// Committer's public key (32 bytes).
    pub hotkey: Vec<u8>,
    /// Destination uids, in the order the values apply.
    pub uids: Vec<u16>,
    /// Max-upscaled u16 weights, one per uid.
    pub values: Vec<u16>,
    /// Must be `>= WeightsVersionKey` at reveal time or the reveal is dropped.
    pub version_key: u64,
}

impl WeightsTlockPayload {
    /// Builds a payload, refusing mismatched lengths that the chain would drop silently.
    pub fn new(
        hotkey: [u8; HOTKEY_LEN],
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    ) -> Result<Self> {
        let payload = Self {
            hotkey: hotkey.to_vec(),
            uids,
            values,
            version_key,
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Checks what the chain checks before anything else at reveal: a 32-byte hotkey and
    /// one value per uid. Failures there are silent on chain, so catch them before committing.
    pub fn validate(&self) -> Result<()> {
        if self.hotkey.len() != HOTKEY_LEN {
            return Err(Crv3Error::InvalidHotkeyLength {
                got: self.hotkey.len(),
            });
        }
        if self.uids.len() != self.values.len() {
            return Err(Crv3Error::LengthMismatch {
                uids: self.uids.len(),
                values: self.values.len(),
            });
        }
        Ok(())
    }

    /// The account the chain will compare with the committer: the first 32 hotkey bytes, as
    /// `AccountId32::decode` reads them; `None` when shorter (the chain then tries the legacy
    /// layout).
    pub fn hotkey_account(&self) -> Option<[u8; HOTKEY_LEN]> {
        self.hotkey
            .get(..HOTKEY_LEN)
            .and_then(|bytes| bytes.try_into().ok())
    }
}

/// Pre-hotkey payload layout that the chain still accepts on reveal.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LegacyWeightsTlockPayload {
    /// Destination uids.
    pub uids: Vec<u16>,
    /// Max-upscaled u16 weights.
    pub values: Vec<u16>,
    /// Weights version key.
    pub version_key: u64,
}

/// A decrypted commit, decoded the way the chain decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodedWeightsPayload {
    /// Current layout with a hotkey of at least 32 bytes.
    Current(WeightsTlockPayload),
    /// Legacy layout (no hotkey); the chain applies it for the committer.
    Legacy(LegacyWeightsTlockPayload),
}

impl DecodedWeightsPayload {
    /// The uids and values the chain would pass to `do_set_mechanism_weights`.
    pub fn uids_values(&self) -> (&[u16], &[u16]) {
        match self {
            Self::Current(p) => (&p.uids, &p.values),
            Self::Legacy(p) => (&p.uids, &p.values),
        }
    }

    /// The version key the chain would check.
    pub fn version_key(&self) -> u64 {
        match self {
            Self::Current(p) => p.version_key,
            Self::Legacy(p) => p.version_key,
        }
    }
}

/// Decodes decrypted commit bytes with the chain's fallback order: current layout first (kept
/// only when its hotkey decodes as an account), then legacy. Trailing bytes are ignored, as
/// `Decode::decode` on chain ignores them.
pub fn decode_weights_payload(plaintext: &[u8]) -> Result<DecodedWeightsPayload> {
    let current = WeightsTlockPayload::decode(&mut &plaintext[..]);
    if let Ok(payload) = &current {
        if payload.hotkey_account().is_some() {
            return current
                .map(DecodedWeightsPayload::Current)
                .map_err(Crv3Error::PayloadDecode);
        }
    }
    LegacyWeightsTlockPayload::decode(&mut &plaintext[..])
        .map(DecodedWeightsPayload::Legacy)
        .map_err(Crv3Error::PayloadDecode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_layout_round_trips_through_fallback() {
        let legacy = LegacyWeightsTlockPayload {
            uids: vec![1, 2],
            values: vec![65535, 7],
            version_key: 9,
        };
        // 08 0100 0200 | 08 ffff 0700 | 0900000000000000: the leading compact 2 would be read
        // as a 2-byte hotkey by the current layout, which is too short for an account.
        let bytes = legacy.encode();
        assert_eq!(hex::encode(&bytes), "080100020008ffff07000900000000000000");
        assert_eq!(
            decode_weights_payload(&bytes).ok(),
            Some(DecodedWeightsPayload::Legacy(legacy))
        );
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(
            decode_weights_payload(&[0xff]),
            Err(Crv3Error::PayloadDecode(_))
        ));
        assert!(matches!(
            decode_weights_payload(&[]),
            Err(Crv3Error::PayloadDecode(_))
        ));
    }

    #[test]
    fn new_rejects_length_mismatch() {
        assert!(matches!(
            WeightsTlockPayload::new([0; 32], vec![1, 2], vec![3], 0),
            Err(Crv3Error::LengthMismatch { uids: 2, values: 1 })
        ));
    }

    #[test]
    fn validate_rejects_short_hotkey() {
        let p = WeightsTlockPayload {
            hotkey: vec![0; 31],
            uids: vec![],
            values: vec![],
            version_key: 0,
        };
        assert!(matches!(
            p.validate(),
            Err(Crv3Error::InvalidHotkeyLength { got: 31 })
        ));
    }
}
