//! Commit-reveal v3: drand quicknet timelock payloads and the reveal-round schedule.
//!
//! The chain reveals commits by itself once the drand pulse for the commit's round is stored, so
//! everything that decides whether weights ever land is computed here, client side: the SCALE
//! payload ([`payload`]), the max-upscaled u16 values ([`upscale`]), the tlock ciphertext
//! ([`tlock`], [`drand`]), and the round the chain will have a pulse for when the commit's reveal
//! epoch starts ([`epoch`]). [`commit`] ties them together the way the Python SDK's
//! `get_encrypted_commit_v2` does; [`commitment`] covers the Commitments pallet's
//! `TimelockEncrypted` field.

pub mod commit;
pub mod commitment;
pub mod drand;
pub mod epoch;
mod error;
pub mod payload;
pub mod tlock;
pub mod upscale;

pub use commit::{build_weights_commit, WeightsCommit, COMMIT_REVEAL_VERSION};
pub use commitment::{
    decode_revealed_commitment, encrypt_commitment_text, MAX_TIMELOCKED_COMMITMENT_BYTES,
};
pub use drand::verify_round_signature;
pub use epoch::{plan_reveal, EpochSchedule, RevealPlan};
pub use error::Crv3Error;
pub use payload::{
    decode_weights_payload, DecodedWeightsPayload, LegacyWeightsTlockPayload, WeightsTlockPayload,
};
pub use tlock::{decrypt_with_signature, encrypt_to_round, MAX_COMMIT_BYTES};
pub use upscale::{chain_upscale, convert_weights_and_uids_for_emit, EmitWeights};

/// Result of the commit-reveal helpers.
pub type Result<T, E = Crv3Error> = std::result::Result<T, E>;
