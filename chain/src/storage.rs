//! Storage reads driven by the runtime's metadata: keys are hashed with the hashers the metadata
//! declares, values decoded against the metadata's types into our own Rust types. Many keys are
//! read in one `state_queryStorageAt` round trip, which is what makes a metagraph sync fast.

use scale_decode::DecodeAsType;
use subxt::ext::frame_decode::storage::StorageHasher;
use subxt::metadata::Metadata;

use crate::client::Head;
use crate::error::ChainError;
use crate::rpc::Rpc;

/// A storage entry resolved against the metadata.
#[derive(Debug, Clone)]
pub struct Entry {
    pub pallet: &'static str,
    pub name: &'static str,
    prefix: Vec<u8>,
    hashers: Vec<StorageHasher>,
    value_ty: u32,
    default: Option<Vec<u8>>,
}

impl Entry {
    /// Looks the entry up, failing with the item's name when the runtime lacks it.
    pub fn resolve(
        metadata: &Metadata,
        spec_version: u32,
        pallet: &'static str,
        name: &'static str,
    ) -> Result<Self, ChainError> {
        let missing = || ChainError::MissingItem {
            item: format!("storage {pallet}.{name}"),
            spec_version,
        };
        let p = metadata.pallet_by_name(pallet).ok_or_else(missing)?;
        let storage = p.storage().ok_or_else(missing)?;
        let entry = storage.entry_by_name(name).ok_or_else(missing)?;
        let mut prefix = sp_core::hashing::twox_128(storage.prefix().as_bytes()).to_vec();
        prefix.extend_from_slice(&sp_core::hashing::twox_128(name.as_bytes()));
        Ok(Self {
            pallet,
            name,
            prefix,
            hashers: entry.keys().map(|k| k.hasher).collect(),
            value_ty: entry.value_ty(),
            default: entry.default_value().map(|d| d.to_vec()),
        })
    }

    /// The entry's key prefix (pallet and item hashes).
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// Full key from SCALE-encoded key parts; fewer parts than hashers give a prefix for
    /// iteration.
    pub fn key(&self, parts: &[&[u8]]) -> Result<Vec<u8>, ChainError> {
        if parts.len() > self.hashers.len() {
            return Err(ChainError::InvalidArgument(format!(
                "{}.{} takes {} keys, got {}",
                self.pallet,
                self.name,
                self.hashers.len(),
                parts.len()
            )));
        }
        let mut key = self.prefix.clone();
        for (part, hasher) in parts.iter().zip(&self.hashers) {
            hash_into(*hasher, part, &mut key);
        }
        Ok(key)
    }

    /// The encoded key part that follows `hashed_prefix_len` bytes in a full key, for entries
    /// whose last hasher is transparent (Identity / *Concat).
    pub fn last_key_part<'k>(&self, key: &'k [u8]) -> Option<&'k [u8]> {
        let mut offset = self.prefix.len();
        for (i, h) in self.hashers.iter().enumerate() {
            let hash_len = match h {
                StorageHasher::Blake2_128Concat => 16,
                StorageHasher::Twox64Concat => 8,
                StorageHasher::Identity => 0,
                _ => return None,
            };
            if i + 1 == self.hashers.len() {
                return key.get(offset + hash_len..);
            }
            // Only fixed-size earlier parts can be skipped without knowing their type; the
            // entries we iterate have u16 netuids there.
            offset += hash_len + 2;
        }
        None
    }

    /// Decodes a value read from storage, or the metadata's default when absent.
    pub fn decode<T: DecodeAsType>(
        &self,
        metadata: &Metadata,
        raw: Option<&[u8]>,
    ) -> Result<Option<T>, ChainError> {
        let bytes = match raw.or(self.default.as_deref()) {
            Some(b) => b,
            None => return Ok(None),
        };
        let mut cursor = bytes;
        let value =
            T::decode_as_type(&mut cursor, self.value_ty, metadata.types()).map_err(|e| {
                ChainError::Decode {
                    what: format!("{}.{}", self.pallet, self.name),
                    reason: e.to_string(),
                }
            })?;
        Ok(Some(value))
    }
}

fn hash_into(hasher: StorageHasher, data: &[u8], out: &mut Vec<u8>) {
    use sp_core::hashing::{blake2_128, blake2_256, twox_128, twox_256, twox_64};
    match hasher {
        StorageHasher::Blake2_128 => out.extend_from_slice(&blake2_128(data)),
        StorageHasher::Blake2_256 => out.extend_from_slice(&blake2_256(data)),
        StorageHasher::Blake2_128Concat => {
            out.extend_from_slice(&blake2_128(data));
            out.extend_from_slice(data);
        }
        StorageHasher::Twox128 => out.extend_from_slice(&twox_128(data)),
        StorageHasher::Twox256 => out.extend_from_slice(&twox_256(data)),
        StorageHasher::Twox64Concat => {
            out.extend_from_slice(&twox_64(data));
            out.extend_from_slice(data);
        }
        StorageHasher::Identity => out.extend_from_slice(data),
    }
}

/// Reads pinned to one block.
pub struct StorageReader<'c> {
    rpc: &'c Rpc,
    metadata: &'c Metadata,
    spec_version: u32,
    at: Head,
}

impl<'c> StorageReader<'c> {
    pub fn new(rpc: &'c Rpc, metadata: &'c Metadata, spec_version: u32, at: Head) -> Self {
        Self {
            rpc,
            metadata,
            spec_version,
            at,
        }
    }

    pub fn at(&self) -> Head {
        self.at
    }

    pub fn metadata(&self) -> &Metadata {
        self.metadata
    }

    pub fn entry(&self, pallet: &'static str, name: &'static str) -> Result<Entry, ChainError> {
        Entry::resolve(self.metadata, self.spec_version, pallet, name)
    }

    /// One value (default applied).
    pub async fn get<T: DecodeAsType>(
        &self,
        pallet: &'static str,
        name: &'static str,
        parts: &[&[u8]],
    ) -> Result<Option<T>, ChainError> {
        let entry = self.entry(pallet, name)?;
        let raw = self
            .rpc
            .storage(&entry.key(parts)?, Some(self.at.hash))
            .await?;
        entry.decode(self.metadata, raw.as_deref())
    }

    /// Raw bytes of many keys in one round trip.
    pub async fn raw_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, ChainError> {
        self.rpc.storage_many(keys, self.at.hash).await
    }

    /// All keys under an entry's prefix (optionally narrowed by leading key parts).
    pub async fn keys(
        &self,
        entry: &Entry,
        parts: &[&[u8]],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        self.rpc
            .keys_with_prefix(&entry.key(parts)?, self.at.hash, limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_key_matches_chain_md_vector() {
        // chain.md §1.1: Uids(17, alice)
        let entry = Entry {
            pallet: "SubtensorModule",
            name: "Uids",
            prefix: [
                sp_core::hashing::twox_128(b"SubtensorModule"),
                sp_core::hashing::twox_128(b"Uids"),
            ]
            .concat(),
            hashers: vec![StorageHasher::Identity, StorageHasher::Blake2_128Concat],
            value_ty: 0,
            default: None,
        };
        let alice = hex::decode("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
            .unwrap_or_default();
        let key = entry
            .key(&[&17u16.to_le_bytes(), &alice])
            .unwrap_or_default();
        let expected = "658faa385070e074c85bf6b568cf0555aab1b4e78e1ea8305462ee53b3686dc81100de1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
        assert_eq!(hex::encode(&key), expected);
        assert_eq!(entry.last_key_part(&key), Some(&alice[..]));
        assert!(entry.key(&[&[1], &[2], &[3]]).is_err());
    }
}
