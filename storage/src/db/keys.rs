//! Record keys: big-endian integers (so rounds and blocks sort numerically) and `0x00`-ended
//! strings (so a hotkey is never a prefix of another's key).

use crate::error::{Error, Result};

/// Builds a composite key.
#[derive(Debug, Default, Clone)]
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A string part; NUL bytes are not allowed in it.
    pub fn str(mut self, s: &str) -> Self {
        self.0.extend(s.bytes().filter(|b| *b != 0));
        self.0.push(0);
        self
    }

    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Key of everything in one round.
pub fn round(r: u64) -> Vec<u8> {
    KeyBuilder::new().u64(r).build()
}

/// Key prefix of one miner's records in a round.
pub fn round_miner(r: u64, hotkey: &str) -> Vec<u8> {
    KeyBuilder::new().u64(r).str(hotkey).build()
}

/// Key of one (round, miner, stem).
pub fn round_miner_stem(r: u64, hotkey: &str, stem: &str) -> Vec<u8> {
    KeyBuilder::new().u64(r).str(hotkey).str(stem).build()
}

/// Reads the round number at the start of a key.
pub fn round_of(key: &[u8]) -> Result<u64> {
    let head: [u8; 8] = key
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Record {
            column: "?",
            key: hex::encode(key),
            reason: "key shorter than a round number".into(),
        })?;
    Ok(u64::from_be_bytes(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_round_then_miner() {
        assert!(round(2) < round(10));
        let a = round_miner(3, "5Abc");
        let b = round_miner(3, "5AbcD");
        assert!(
            !b.starts_with(&a),
            "a hotkey is not a prefix of a longer one"
        );
        assert!(round_miner_stem(3, "5Abc", "s").starts_with(&a));
        assert_eq!(round_of(&round_miner_stem(7, "h", "s")).ok(), Some(7));
        assert!(round_of(&[1, 2]).is_err());
    }
}
