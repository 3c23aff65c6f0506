//! The Commitments pallet's `Data` type. It has a hand-written SCALE codec (chain.md §1.7):
//! tag 0 None, 1..=129 Raw of length tag-1 (no length prefix), 130..=133 32-byte hashes,
//! 134 TimelockEncrypted{compact-len bytes ≤ 1024, u64 round}, 135 ResetBondsFlag, 136 BigRaw(≤ 512).

use codec::{Compact, Decode};
use subxt::dynamic::Value;

use super::CommitmentError;

/// Most bytes a TimelockEncrypted field may carry (BoundedVec<u8, 1024>).
pub const MAX_TIMELOCK_BYTES: usize = 1024;
/// Most bytes a BigRaw field may carry.
pub const MAX_BIG_RAW_BYTES: usize = 512;
/// Most bytes a Raw field may carry.
pub const MAX_RAW_BYTES: usize = 128;

/// One commitment field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Data {
    None,
    Raw(#[serde(serialize_with = "bytes_as_text")] Vec<u8>),
    BlakeTwo256(#[serde(serialize_with = "crate::serde_hex::serialize")] [u8; 32]),
    Sha256(#[serde(serialize_with = "crate::serde_hex::serialize")] [u8; 32]),
    Keccak256(#[serde(serialize_with = "crate::serde_hex::serialize")] [u8; 32]),
    ShaThree256(#[serde(serialize_with = "crate::serde_hex::serialize")] [u8; 32]),
    TimelockEncrypted {
        #[serde(serialize_with = "crate::serde_hex::serialize")]
        encrypted: Vec<u8>,
        reveal_round: u64,
    },
    ResetBondsFlag,
    BigRaw(#[serde(serialize_with = "bytes_as_text")] Vec<u8>),
}

fn bytes_as_text<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(b) {
        Ok(t) => s.serialize_str(t),
        Err(_) => s.serialize_str(&format!("0x{}", hex::encode(b))),
    }
}

impl Data {
    /// The text of a Raw/BigRaw field, if it is UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Raw(b) | Data::BigRaw(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// Decodes one field from `input`, advancing it.
    pub fn decode_from(input: &mut &[u8]) -> Result<Self, CommitmentError> {
        let (&tag, rest) = input
            .split_first()
            .ok_or(CommitmentError::Truncated("Data tag"))?;
        *input = rest;
        let take =
            |input: &mut &[u8], n: usize, what: &'static str| -> Result<Vec<u8>, CommitmentError> {
                if input.len() < n {
                    return Err(CommitmentError::Truncated(what));
                }
                let (head, tail) = input.split_at(n);
                *input = tail;
                Ok(head.to_vec())
            };
        let hash = |input: &mut &[u8]| -> Result<[u8; 32], CommitmentError> {
            let v = take(input, 32, "hash")?;
            v.try_into().map_err(|_| CommitmentError::Truncated("hash"))
        };
        let compact_len =
            |input: &mut &[u8], max: usize, what: &'static str| -> Result<usize, CommitmentError> {
                let n = Compact::<u32>::decode(input)
                    .map_err(|_| CommitmentError::Truncated(what))?
                    .0 as usize;
                if n > max {
                    return Err(CommitmentError::TooLong { what, len: n, max });
                }
                Ok(n)
            };
        Ok(match tag {
            0 => Data::None,
            1..=129 => Data::Raw(take(input, usize::from(tag - 1), "Raw bytes")?),
            130 => Data::BlakeTwo256(hash(input)?),
            131 => Data::Sha256(hash(input)?),
            132 => Data::Keccak256(hash(input)?),
            133 => Data::ShaThree256(hash(input)?),
            134 => {
                let n = compact_len(input, MAX_TIMELOCK_BYTES, "TimelockEncrypted")?;
                let encrypted = take(input, n, "TimelockEncrypted bytes")?;
                let round = take(input, 8, "reveal_round")?;
                let mut r = [0u8; 8];
                r.copy_from_slice(&round);
                Data::TimelockEncrypted {
                    encrypted,
                    reveal_round: u64::from_le_bytes(r),
                }
            }
            135 => Data::ResetBondsFlag,
            136 => {
                let n = compact_len(input, MAX_BIG_RAW_BYTES, "BigRaw")?;
                Data::BigRaw(take(input, n, "BigRaw bytes")?)
            }
            other => return Err(CommitmentError::UnknownTag(other)),
        })
    }

    /// SCALE encoding, as the pallet writes it.
    pub fn encode(&self) -> Vec<u8> {
        use codec::Encode;
        let mut out = Vec::new();
        match self {
            Data::None => out.push(0),
            Data::Raw(b) => {
                out.push(b.len() as u8 + 1);
                out.extend_from_slice(b);
            }
            Data::BlakeTwo256(h) => {
                out.push(130);
                out.extend_from_slice(h);
            }
            Data::Sha256(h) => {
                out.push(131);
                out.extend_from_slice(h);
            }
            Data::Keccak256(h) => {
                out.push(132);
                out.extend_from_slice(h);
            }
            Data::ShaThree256(h) => {
                out.push(133);
                out.extend_from_slice(h);
            }
            Data::TimelockEncrypted {
                encrypted,
                reveal_round,
            } => {
                out.push(134);
                encrypted.encode_to(&mut out);
                reveal_round.encode_to(&mut out);
            }
            Data::ResetBondsFlag => out.push(135),
            Data::BigRaw(b) => {
                out.push(136);
                b.encode_to(&mut out);
            }
        }
        out
    }

    /// A Raw field for `bytes` (at most 128).
    pub fn raw(bytes: &[u8]) -> Result<Self, CommitmentError> {
        if bytes.len() > MAX_RAW_BYTES {
            return Err(CommitmentError::TooLong {
                what: "Raw",
                len: bytes.len(),
                max: MAX_RAW_BYTES,
            });
        }
        Ok(Data::Raw(bytes.to_vec()))
    }

    /// The field as a dynamic value for `set_commitment`, named as the metadata names the
    /// variants (`Raw5`, `TimelockEncrypted`, …).
    pub fn to_value(&self) -> Value {
        use subxt::ext::scale_value::Composite;
        match self {
            Data::None => Value::unnamed_variant("None", []),
            Data::Raw(b) => {
                Value::unnamed_variant(format!("Raw{}", b.len()), [Value::from_bytes(b)])
            }
            Data::BlakeTwo256(h) => Value::unnamed_variant("BlakeTwo256", [Value::from_bytes(h)]),
            Data::Sha256(h) => Value::unnamed_variant("Sha256", [Value::from_bytes(h)]),
            Data::Keccak256(h) => Value::unnamed_variant("Keccak256", [Value::from_bytes(h)]),
            Data::ShaThree256(h) => Value::unnamed_variant("ShaThree256", [Value::from_bytes(h)]),
            Data::TimelockEncrypted {
                encrypted,
                reveal_round,
            } => Value::variant(
                "TimelockEncrypted",
                Composite::named([
                    ("encrypted", Value::from_bytes(encrypted)),
                    ("reveal_round", Value::u128(u128::from(*reveal_round))),
                ]),
            ),
            Data::ResetBondsFlag => Value::unnamed_variant("ResetBondsFlag", []),
            Data::BigRaw(b) => Value::unnamed_variant("BigRaw", [Value::from_bytes(b)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_round_trips_and_matches_the_pallet_layout() {
        let raw = Data::raw(b"hello").expect("short");
        assert_eq!(hex::encode(raw.encode()), "0668656c6c6f");
        let tl = Data::TimelockEncrypted {
            encrypted: vec![0xaa, 0xbb],
            reveal_round: 1000,
        };
        assert_eq!(hex::encode(tl.encode()), "8608aabbe803000000000000");
        for d in [
            raw,
            tl,
            Data::None,
            Data::ResetBondsFlag,
            Data::BigRaw(vec![7; 300]),
            Data::Sha256([9; 32]),
        ] {
            let bytes = d.encode();
            let mut input = &bytes[..];
            assert_eq!(Data::decode_from(&mut input).expect("decodes"), d);
            assert!(input.is_empty());
        }
    }

    #[test]
    fn malformed_fields_are_named_errors() {
        assert!(matches!(
            Data::decode_from(&mut &[][..]),
            Err(CommitmentError::Truncated(_))
        ));
        assert!(matches!(
            Data::decode_from(&mut &[6, b'h'][..]),
            Err(CommitmentError::Truncated(_))
        ));
        assert!(matches!(
            Data::decode_from(&mut &[200][..]),
            Err(CommitmentError::UnknownTag(200))
        ));
        // TimelockEncrypted claiming 2000 bytes.
        assert!(matches!(
            Data::decode_from(&mut &[134, 0x41, 0x1f][..]),
            Err(CommitmentError::TooLong { .. })
        ));
        assert!(Data::raw(&[0; 129]).is_err());
    }
}
