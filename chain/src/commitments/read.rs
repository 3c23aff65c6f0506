//! Reading commitments from storage.

use serde::Serialize;

use crate::account::Account;
use crate::client::{Head, Subtensor};
use crate::error::ChainError;

use super::{CommitmentError, Data, MAX_FIELDS};

/// Most entries we list under one netuid (one per registered hotkey, plus stale ones).
const MAX_ENTRIES: usize = 16_384;
/// Most bytes of one revealed plaintext we keep.
const MAX_REVEALED_BYTES: usize = 4096;

/// `CommitmentOf(netuid, hotkey)`: the latest commitment of a hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    pub hotkey: Account,
    pub deposit: u64,
    pub block: u32,
    pub fields: Vec<Data>,
}

impl Registration {
    /// Decodes the storage value (deposit u64, block u32, fields BoundedVec<Data, 3>).
    pub fn decode(hotkey: Account, bytes: &[u8]) -> Result<Self, CommitmentError> {
        use codec::{Compact, Decode};
        let mut input = bytes;
        let deposit = u64::decode(&mut input).map_err(|_| CommitmentError::Truncated("deposit"))?;
        let block = u32::decode(&mut input).map_err(|_| CommitmentError::Truncated("block"))?;
        let n = Compact::<u32>::decode(&mut input)
            .map_err(|_| CommitmentError::Truncated("field count"))?
            .0 as usize;
        if n > MAX_FIELDS {
            return Err(CommitmentError::TooManyFields(n));
        }
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            fields.push(Data::decode_from(&mut input)?);
        }
        if !input.is_empty() {
            return Err(CommitmentError::Trailing(input.len()));
        }
        Ok(Self {
            hotkey,
            deposit,
            block,
            fields,
        })
    }
}

/// One revealed plaintext and the block it was revealed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevealedEntry {
    pub block: u64,
    /// The text as 404 reads it (compact prefix stripped).
    pub text: String,
}

/// A hotkey's revealed commitments (the chain keeps its last 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revealed {
    pub hotkey: Account,
    pub entries: Vec<RevealedEntry>,
}

/// `RevealedCommitments` value: (plaintext, reveal block) pairs. Decoded as the plain Vec:
/// a newtype around it does not decode from the sequence type the runtime declares.
type RevealedRaw = Vec<(Vec<u8>, u64)>;

impl Subtensor {
    /// `CommitmentOf(netuid, hotkey)`, or `None` if the hotkey never committed.
    pub async fn commitment_of(
        &self,
        netuid: u16,
        hotkey: &Account,
        head: Head,
    ) -> Result<Option<Registration>, ChainError> {
        let r = self.storage_at(head);
        let entry = r.entry("Commitments", "CommitmentOf")?;
        let raw = self
            .rpc()
            .storage(
                &entry.key(&[&netuid.to_le_bytes(), &hotkey.0])?,
                Some(head.hash),
            )
            .await?;
        raw.map(|b| Registration::decode(*hotkey, &b).map_err(ChainError::from))
            .transpose()
    }

    /// Every `CommitmentOf` under `netuid`, in storage key order. Malformed values are skipped
    /// with a warning (anyone can commit; one bad value must not hide the rest).
    pub async fn commitments(
        &self,
        netuid: u16,
        head: Head,
    ) -> Result<Vec<Registration>, ChainError> {
        let r = self.storage_at(head);
        let entry = r.entry("Commitments", "CommitmentOf")?;
        let keys = r
            .keys(&entry, &[&netuid.to_le_bytes()], MAX_ENTRIES)
            .await?;
        let values = r.raw_many(&keys).await?;
        let mut out = Vec::with_capacity(keys.len());
        for (key, value) in keys.iter().zip(values) {
            let (Some(hotkey), Some(bytes)) = (hotkey_from_key(&entry, key), value) else {
                continue;
            };
            match Registration::decode(hotkey, &bytes) {
                Ok(reg) => out.push(reg),
                Err(e) => tracing::warn!(%hotkey, error = %e, "skipping malformed commitment"),
            }
        }
        Ok(out)
    }

    /// Every `RevealedCommitments` entry under `netuid`, in storage key order (Twox64Concat of
    /// the hotkey), which is the order 404's stable sort keeps for equal reveal blocks.
    pub async fn revealed_commitments(
        &self,
        netuid: u16,
        head: Head,
    ) -> Result<Vec<Revealed>, ChainError> {
        let r = self.storage_at(head);
        let entry = r.entry("Commitments", "RevealedCommitments")?;
        let keys = r
            .keys(&entry, &[&netuid.to_le_bytes()], MAX_ENTRIES)
            .await?;
        let values = r.raw_many(&keys).await?;
        let mut out = Vec::with_capacity(keys.len());
        for (key, value) in keys.iter().zip(values) {
            let Some(hotkey) = hotkey_from_key(&entry, key) else {
                continue;
            };
            let list = match entry.decode::<RevealedRaw>(r.metadata(), value.as_deref()) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(%hotkey, error = %e, "skipping malformed revealed commitment");
                    continue;
                }
            };
            let entries = list
                .into_iter()
                .filter(|(bytes, _)| bytes.len() <= MAX_REVEALED_BYTES)
                .map(|(bytes, block)| RevealedEntry {
                    block,
                    text: super::revealed_text(&bytes),
                })
                .collect();
            out.push(Revealed { hotkey, entries });
        }
        Ok(out)
    }
}

fn hotkey_from_key(entry: &crate::storage::Entry, key: &[u8]) -> Option<Account> {
    let part = entry.last_key_part(key)?;
    let bytes: [u8; 32] = part.try_into().ok()?;
    Some(Account(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_decodes_chain_bytes() {
        // deposit 0, block 5, one Raw5("hello")
        let mut bytes = 0u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(&5u32.to_le_bytes());
        bytes.extend_from_slice(&[0x04, 0x06]);
        bytes.extend_from_slice(b"hello");
        let reg = Registration::decode(Account([1; 32]), &bytes).expect("decodes");
        assert_eq!(reg.block, 5);
        assert_eq!(reg.fields, vec![Data::Raw(b"hello".to_vec())]);
        bytes.push(0);
        assert_eq!(
            Registration::decode(Account([1; 32]), &bytes),
            Err(CommitmentError::Trailing(1))
        );
        let mut four = 0u64.to_le_bytes().to_vec();
        four.extend_from_slice(&[0; 4]);
        four.push(16); // compact 4
        assert_eq!(
            Registration::decode(Account([1; 32]), &four),
            Err(CommitmentError::TooManyFields(4))
        );
        assert!(Registration::decode(Account([1; 32]), &[1, 2]).is_err());
    }
}
