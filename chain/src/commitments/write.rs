//! Publishing commitments: plain `Raw` fields, and `TimelockEncrypted` fields that the chain
//! reveals into `RevealedCommitments` once the drand round is out (404's miners use these).

use crate::calls;
use crate::client::Subtensor;
use crate::error::ChainError;
use crate::tx::{Included, PairSigner};

use super::{CommitmentError, Data, MAX_BIG_RAW_BYTES, MAX_RAW_BYTES};

/// Seconds per block assumed when converting a block delay to a drand round (Subtensor's target).
pub const BLOCK_TIME_SECS: f64 = 12.0;

impl Subtensor {
    /// Publishes `text` as the hotkey's commitment: one `Raw` field (≤ 128 bytes), or `BigRaw`
    /// (≤ 512) on runtimes that have it.
    pub async fn set_commitment_text(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        text: &str,
    ) -> Result<Included, ChainError> {
        let bytes = text.as_bytes();
        let field = if bytes.len() <= MAX_RAW_BYTES {
            Data::raw(bytes)?
        } else if bytes.len() <= MAX_BIG_RAW_BYTES && self.data_has_variant("BigRaw") {
            Data::BigRaw(bytes.to_vec())
        } else {
            return Err(CommitmentError::TooLong {
                what: "commitment text",
                len: bytes.len(),
                max: MAX_RAW_BYTES,
            }
            .into());
        };
        self.set_commitment_fields(netuid, hotkey, &[field]).await
    }

    /// Publishes `text` timelock-encrypted, revealed by the chain about `reveal_blocks` blocks
    /// from now. Returns the transaction and the drand round it is locked to.
    pub async fn set_reveal_commitment(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        text: &str,
        reveal_blocks: u64,
    ) -> Result<(Included, u64), ChainError> {
        let now = crate::crv3::drand::unix_now_secs();
        self.set_reveal_commitment_at_time(netuid, hotkey, text, reveal_blocks, now)
            .await
    }

    /// [`Self::set_reveal_commitment`] with the wall clock given, which fixes the drand round
    /// (replays and tests that must hit a known round).
    pub async fn set_reveal_commitment_at_time(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        text: &str,
        reveal_blocks: u64,
        now_unix_secs: u64,
    ) -> Result<(Included, u64), ChainError> {
        if !self.data_has_variant("TimelockEncrypted") {
            return Err(
                self.missing("Commitments Data::TimelockEncrypted (timelocked commitments)")
            );
        }
        let round = crate::crv3::commitment::commitment_reveal_round(
            now_unix_secs,
            reveal_blocks,
            BLOCK_TIME_SECS,
        )?;
        let encrypted = crate::crv3::encrypt_commitment_text(text, round, &mut rand::rngs::OsRng)?;
        let field = Data::TimelockEncrypted {
            encrypted,
            reveal_round: round,
        };
        let included = self.set_commitment_fields(netuid, hotkey, &[field]).await?;
        Ok((included, round))
    }

    /// `Commitments.set_commitment` with the given fields (at most 3).
    pub async fn set_commitment_fields(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        fields: &[Data],
    ) -> Result<Included, ChainError> {
        if fields.len() > super::MAX_FIELDS {
            return Err(CommitmentError::TooManyFields(fields.len()).into());
        }
        let call = calls::set_commitment(netuid, fields.iter().map(Data::to_value).collect());
        self.submit(&call, hotkey).await
    }

    /// Whether the runtime's `Data` enum has a variant (e.g. `TimelockEncrypted` is absent on
    /// spec 218).
    pub fn data_has_variant(&self, name: &str) -> bool {
        let md = self.metadata();
        let Some(call) = md
            .pallet_by_name("Commitments")
            .and_then(|p| p.call_variant_by_name("set_commitment"))
        else {
            return false;
        };
        // set_commitment(netuid, info: CommitmentInfo { fields: BoundedVec<Data> }): walk the
        // types down to Data and look for the variant by name.
        let types = md.types();
        let mut stack: Vec<u32> = call.fields.iter().map(|f| f.ty.id).collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) || seen.len() > 64 {
                continue;
            }
            let Some(ty) = types.resolve(id) else {
                continue;
            };
            match &ty.type_def {
                scale_info::TypeDef::Variant(v)
                    if ty.path.segments.last().is_some_and(|s| s == "Data") =>
                {
                    return v.variants.iter().any(|var| var.name == name);
                }
                scale_info::TypeDef::Composite(c) => stack.extend(c.fields.iter().map(|f| f.ty.id)),
                scale_info::TypeDef::Sequence(s) => stack.push(s.type_param.id),
                _ => {}
            }
        }
        false
    }
}
