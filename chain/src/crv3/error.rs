//! Errors of the commit-reveal v3 helpers.

/// Everything that can go wrong building, encrypting, decrypting or scheduling a CRv3 commit.
///
/// Variants for untrusted input (ciphertexts, signatures, revealed bytes) say what was wrong
/// with it, so callers can tell a bad commit from a round that is not out yet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Crv3Error {
    /// A weight was NaN or infinite; the SDK would fail on it too.
    #[error("weight for uid {uid} is not finite")]
    NonFiniteWeight {
        /// The uid the weight belongs to.
        uid: u16,
    },
    /// A weight was below zero; the chain has no negative weights.
    #[error("weight for uid {uid} is negative ({weight})")]
    NegativeWeight {
        /// The uid the weight belongs to.
        uid: u16,
        /// The offending weight.
        weight: f64,
    },
    /// A uid was given twice; the chain would reject the set with `DuplicateUids`.
    #[error("uid {uid} appears more than once")]
    DuplicateUid {
        /// The repeated uid.
        uid: u16,
    },
    /// `uids` and `values` differ in length; the chain drops such a reveal silently.
    #[error("payload has {uids} uids but {values} values")]
    LengthMismatch {
        /// Number of uids.
        uids: usize,
        /// Number of values.
        values: usize,
    },
    /// The payload hotkey is not a 32-byte public key; the chain would not match it to the signer.
    #[error("payload hotkey must be 32 bytes, got {got}")]
    InvalidHotkeyLength {
        /// Length that was given.
        got: usize,
    },
    /// The ciphertext would exceed what the chain accepts.
    #[error("timelock ciphertext too large: {got} bytes, limit {limit}")]
    TooLarge {
        /// The chain's bound.
        limit: usize,
        /// The size that was produced or given.
        got: usize,
    },
    /// The bytes are not a compressed `TLECiphertext` this code can safely decrypt.
    #[error("malformed timelock ciphertext: {reason}")]
    MalformedCiphertext {
        /// What was wrong.
        reason: &'static str,
    },
    /// A drand quicknet signature is a 48-byte compressed G1 point.
    #[error("drand signature must be 48 bytes, got {got}")]
    SignatureLength {
        /// Length that was given.
        got: usize,
    },
    /// The signature bytes are not a point of the G1 prime-order subgroup.
    #[error("drand signature is not a valid G1 point")]
    InvalidSignature,
    /// The signature does not unlock this ciphertext: another round's signature, or a corrupted
    /// header.
    #[error("signature does not unlock this ciphertext (wrong round or corrupted header)")]
    WrongSignature,
    /// The symmetric body failed AES-GCM authentication: the body was tampered with.
    #[error("timelock ciphertext body failed authentication")]
    BodyDecryption,
    /// The timelock library refused to encrypt.
    #[error("timelock encryption failed")]
    Encryption,
    /// The built-in quicknet public key did not parse; this is a bug, not bad input.
    #[error("drand quicknet public key constant failed to parse")]
    PublicKey,
    /// Decrypted bytes are neither a current nor a legacy weights payload.
    #[error("failed to decode weights payload: {0}")]
    PayloadDecode(#[source] codec::Error),
    /// Revealed commitment bytes are not a SCALE string.
    #[error("failed to decode revealed commitment: {0}")]
    CommitmentDecode(#[source] codec::Error),
    /// Revealed commitment bytes carry data after the SCALE string.
    #[error("revealed commitment has {extra} bytes after the string")]
    CommitmentTrailingBytes {
        /// Number of unexpected bytes.
        extra: usize,
    },
    /// Tempo 0 means the subnet never runs an epoch, so a commit would never reveal.
    #[error("tempo is zero: the subnet runs no epochs")]
    TempoZero,
    /// Block time must be a finite positive number of seconds.
    #[error("block time must be finite and positive, got {0} s")]
    InvalidBlockTime(f64),
    /// The epoch simulation hit its iteration cap without reaching the reveal epoch.
    #[error("no reveal block found within {blocks} simulated blocks")]
    RevealSearchExhausted {
        /// Blocks simulated before giving up.
        blocks: u64,
    },
    /// The wall clock is before drand quicknet genesis, so no round can be computed.
    #[error("clock {now} is before drand quicknet genesis")]
    ClockBeforeGenesis {
        /// The unix time that was given.
        now: u64,
    },
}
