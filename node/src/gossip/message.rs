//! The gossip envelope and its payloads: SCALE-encoded, versioned, signed by a hotkey.
//!
//! # Wire format (version 1)
//!
//! Every gossipsub message's data is one SCALE-encoded [`Envelope`]:
//!
//! | field       | SCALE type     | meaning                                                   |
//! |-------------|----------------|-----------------------------------------------------------|
//! | `version`   | `u8`           | [`ENVELOPE_VERSION`] (1); anything else is refused         |
//! | `netuid`    | `u16`          | the subnet; must match the topic's                          |
//! | `block`     | `u64`          | the publisher's chain head when it signed                   |
//! | `signer`    | `[u8; 32]`     | the publishing hotkey (sr25519 public key)                  |
//! | `payload`   | enum [`Payload`] | 0 seed, 1 manifest, 2 result, 3 leader change             |
//! | `signature` | `[u8; 64]`     | sr25519 signature of the hotkey over [`signing_bytes`]      |
//!
//! The signed message is `"sn17/gossip/v1" ‖ 0x00 ‖ SCALE(version, netuid, block, signer,
//! payload)`, that is the domain tag followed by the envelope's bytes without the signature. The
//! tag keeps a gossip signature from ever being valid as an extrinsic, a commitment or any other
//! thing a hotkey signs, and the version and netuid inside the signed bytes stop a message from
//! being replayed on another subnet or under another format.
//!
//! # Why SCALE
//!
//! Signing needs one byte string per value. SCALE has exactly one encoding for every value of
//! these types (fixed-width little-endian integers, compact lengths, no maps, no floats), so the
//! bytes that are signed, hashed into the message id and stored are the bytes on the wire, with
//! no canonicalisation step to get wrong. It is compact (a seed is about 200 bytes), fast to
//! decode with bounded allocation, already a dependency (`parity-scale-codec`, used by the chain
//! client) and what Substrate tooling reads. Canonical JSON would need its own canonicaliser and
//! float rules on both sides. Decoding never trusts lengths: the input size is checked first,
//! and trailing bytes are refused. Amounts that upstream keeps as floats (margins,
//! leader weights) travel as fixed-point integers.

use codec::{Decode, Encode};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sn17_chain::Account;

use super::error::Invalid;

/// The envelope version this node writes and accepts.
pub const ENVELOPE_VERSION: u8 = 1;
/// Domain tag in front of every signed message.
pub const SIGNING_DOMAIN: &[u8] = b"sn17/gossip/v1\0";
/// Largest envelope accepted (and the gossipsub transmit limit is set above it, so oversized
/// messages reach validation and cost their sender score).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Fixed-point scale of leader weights (parts per billion).
pub const WEIGHT_SCALE: f64 = 1e9;
/// Fixed-point scale of match margins (millionths).
pub const MARGIN_SCALE: f64 = 1e6;
/// Largest `prompts.txt` carried inside a seed (404's 128 prompt URLs are about 12 KiB).
pub const MAX_INLINE_PROMPTS: usize = 48 * 1024;

/// The four kinds of gossip, one topic each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Seed,
    Manifest,
    Result,
    Leader,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Seed, Kind::Manifest, Kind::Result, Kind::Leader];

    /// The topic name segment (`/sn17/<netuid>/<name>/1`).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Seed => "seeds",
            Kind::Manifest => "manifests",
            Kind::Result => "results",
            Kind::Leader => "leaders",
        }
    }

    /// Parses a topic name segment or a singular spelling (`seed`, `seeds`).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.name().strip_suffix('s') == Some(s))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A round's reveal window and generation deadline (`schedule.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Schedule {
    pub earliest_reveal_block: u64,
    pub latest_reveal_block: u64,
    pub generation_deadline_block: Option<u64>,
}

impl From<&sn17_storage::state_repo::Schedule> for Schedule {
    fn from(s: &sn17_storage::state_repo::Schedule) -> Self {
        Self {
            earliest_reveal_block: s.earliest_reveal_block,
            latest_reveal_block: s.latest_reveal_block,
            generation_deadline_block: s.generation_deadline_block,
        }
    }
}

/// A validator's round seed (`seed.json` and `schedule.json`) and where the prompts are.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct RoundSeed {
    pub round: u64,
    pub seed: u32,
    /// The drand quicknet round the seed was derived from, when verifiable (engine/seed.rs).
    pub drand_round: Option<u64>,
    pub schedule: Schedule,
    /// SHA-256 of `prompts.txt` as the state repository stores it.
    #[serde(serialize_with = "hex32")]
    pub prompts_sha256: [u8; 32],
    pub prompts_count: u32,
    /// Where to fetch the prompts when they are not inline: the raw file at the state commit
    /// that holds them (GitHub state repositories), or empty; any explorer also serves a seed's
    /// inline prompts at `/api/rounds/N/prompts`.
    pub prompts_url: String,
    /// `prompts.txt` itself when it fits in a message ([`MAX_INLINE_PROMPTS`]), else empty.
    /// Validation checks it against `prompts_sha256`. JSON views (explorer API, `gossip tail`)
    /// show only its size: the text has its own endpoint, `/api/rounds/N/prompts`.
    #[serde(rename = "prompts_inline_bytes", serialize_with = "byte_len")]
    pub prompts_inline: Vec<u8>,
}

/// One generated file of a submission and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct FileHash {
    /// The prompt's stem (file name without extension).
    pub stem: String,
    #[serde(serialize_with = "hex32")]
    pub sha256: [u8; 32],
}

/// A miner's submission for a round: the same fields as its on-chain commitment plus hashes of
/// the files it generated, so validators and explorers can check the CDN's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct SubmissionManifest {
    pub round: u64,
    /// The miner hotkey; must be the signer.
    #[serde(serialize_with = "ss58")]
    pub miner: [u8; 32],
    pub repo: String,
    pub commit: String,
    pub cdn_url: String,
    pub files: Vec<FileHash>,
}

/// One duel of a round: the two sides, the winner and the margin.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct MatchOutcome {
    /// Hotkey (ss58) or `leader`.
    pub left: String,
    pub right: String,
    /// The side the margin favours, or empty for a tie (margin 0).
    pub winner: String,
    /// Margin in millionths ([`MARGIN_SCALE`]); as in `matches_matrix.csv`, positive when
    /// `right` won (competition.md §2.2 g).
    pub margin_micro: i64,
}

impl MatchOutcome {
    /// One row of a round's `matches_matrix.csv`.
    pub fn from_row(row: &sn17_storage::state_repo::MatrixRow) -> Self {
        let m = row.margin;
        let winner = if m > 0.0 {
            row.right.clone()
        } else if m < 0.0 {
            row.left.clone()
        } else {
            String::new()
        };
        // Margins are in [-1, 1]; clamped so the cast is exact even for a corrupt file.
        let micro = (m.clamp(-1.0, 1.0) * MARGIN_SCALE).round();
        Self {
            left: row.left.clone(),
            right: row.right.clone(),
            winner,
            margin_micro: if micro.is_finite() { micro as i64 } else { 0 },
        }
    }

    pub fn margin(&self) -> f64 {
        self.margin_micro as f64 / MARGIN_SCALE
    }
}

/// A round's outcome (`winner.json`, the match matrix) and the state-repository commit with
/// the full record.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct RoundResult {
    pub round: u64,
    /// Hotkey (ss58) or `leader` when the leader defended.
    pub winner: String,
    pub repo: String,
    pub commit: String,
    pub docker_image: Option<String>,
    pub matches: Vec<MatchOutcome>,
    /// `owner/name` of the state repository.
    pub state_repo: String,
    /// Hex SHA of the commit that recorded the round.
    pub state_commit: String,
}

impl RoundResult {
    /// The outcome from a round's `winner.json` (the engine's record); matches and the state
    /// commit are added by the caller.
    pub fn from_winner(round: u64, r: &sn17_storage::state_repo::RoundResult) -> Self {
        Self {
            round,
            winner: r.winner_hotkey.clone(),
            repo: r.repo.clone(),
            commit: r.commit.clone(),
            docker_image: r.docker_image.clone(),
            matches: Vec::new(),
            state_repo: String::new(),
            state_commit: String::new(),
        }
    }
}

/// A leader change (`leader.json` entry) decided after a round.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct LeaderChange {
    pub round: u64,
    pub hotkey: String,
    pub repo: String,
    pub commit: String,
    pub docker: String,
    /// Weight in parts per billion ([`WEIGHT_SCALE`]).
    pub weight_ppb: u64,
    pub effective_block: u64,
}

impl LeaderChange {
    /// The gossip form of a `leader.json` entry appended after `round`.
    pub fn from_entry(round: u64, e: &sn17_storage::state_repo::LeaderEntry) -> Self {
        let ppb = (e.weight.clamp(0.0, 1.0) * WEIGHT_SCALE).round();
        Self {
            round,
            hotkey: e.hotkey.clone(),
            repo: e.repo.clone(),
            commit: e.commit.clone(),
            docker: e.docker.clone(),
            // In [0, 1e9] after the clamp, so the cast is exact.
            weight_ppb: ppb as u64,
            effective_block: e.effective_block,
        }
    }

    pub fn weight(&self) -> f64 {
        self.weight_ppb as f64 / WEIGHT_SCALE
    }
}

/// What an envelope carries.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    #[codec(index = 0)]
    Seed(RoundSeed),
    #[codec(index = 1)]
    Manifest(SubmissionManifest),
    #[codec(index = 2)]
    Result(RoundResult),
    #[codec(index = 3)]
    Leader(LeaderChange),
}

impl Payload {
    pub fn kind(&self) -> Kind {
        match self {
            Payload::Seed(_) => Kind::Seed,
            Payload::Manifest(_) => Kind::Manifest,
            Payload::Result(_) => Kind::Result,
            Payload::Leader(_) => Kind::Leader,
        }
    }

    pub fn round(&self) -> u64 {
        match self {
            Payload::Seed(s) => s.round,
            Payload::Manifest(m) => m.round,
            Payload::Result(r) => r.round,
            Payload::Leader(l) => l.round,
        }
    }
}

/// A signed gossip message (see the module docs for the wire format).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Envelope {
    pub version: u8,
    pub netuid: u16,
    pub block: u64,
    pub signer: [u8; 32],
    pub payload: Payload,
    pub signature: [u8; 64],
}

impl Envelope {
    /// Builds and signs an envelope with `sign` (a hotkey's sr25519 signer).
    pub fn sign(
        netuid: u16,
        block: u64,
        signer: [u8; 32],
        payload: Payload,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Self {
        let mut env = Envelope {
            version: ENVELOPE_VERSION,
            netuid,
            block,
            signer,
            payload,
            signature: [0; 64],
        };
        env.signature = sign(&env.signing_bytes());
        env
    }

    /// Signs with a wallet keypair.
    pub fn sign_with(
        netuid: u16,
        block: u64,
        key: &sn17_chain::wallet::Keypair,
        payload: Payload,
    ) -> Self {
        Self::sign(netuid, block, key.public(), payload, |m| key.sign(m))
    }

    /// The bytes the hotkey signs: the domain tag and the envelope without its signature.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = SIGNING_DOMAIN.to_vec();
        (
            self.version,
            self.netuid,
            self.block,
            &self.signer,
            &self.payload,
        )
            .encode_to(&mut out);
        out
    }

    /// Whether the signature is the signer's over [`Envelope::signing_bytes`].
    pub fn verify_signature(&self) -> bool {
        sn17_chain::wallet::PublicKey::from(self.signer)
            .verify(&self.signing_bytes(), &self.signature)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decodes untrusted bytes: size first, then the version byte, then the whole envelope with
    /// nothing left over.
    pub fn from_bytes(bytes: &[u8], max_bytes: usize) -> Result<Self, Invalid> {
        if bytes.len() > max_bytes {
            return Err(Invalid::TooLarge {
                limit: max_bytes,
                got: bytes.len(),
            });
        }
        match bytes.first() {
            Some(&ENVELOPE_VERSION) => {}
            Some(&v) => return Err(Invalid::Version(v)),
            None => return Err(Invalid::Decode("empty message".into())),
        }
        let mut input = bytes;
        let env = Envelope::decode(&mut input).map_err(|e| Invalid::Decode(e.to_string()))?;
        if !input.is_empty() {
            return Err(Invalid::Trailing);
        }
        Ok(env)
    }

    pub fn signer_account(&self) -> Account {
        Account(self.signer)
    }

    /// A JSON view for the explorer and `gossip tail`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "netuid": self.netuid,
            "block": self.block,
            "signer": self.signer_account().ss58(),
            "kind": self.payload.kind(),
            "round": self.payload.round(),
            "payload": self.payload,
            "signature": hex::encode(self.signature),
        })
    }
}

/// The content address of a message: hex SHA-256 of its bytes (also the gossipsub message id).
pub fn message_id(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hex32<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v))
}

fn byte_len<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(v.len() as u64)
}

fn ss58<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Account(*v).ss58())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sn17_chain::wallet::Keypair;

    fn key(n: u8) -> Keypair {
        Keypair::from_seed(&[n; 32])
    }

    fn seed_payload() -> Payload {
        Payload::Seed(RoundSeed {
            round: 7,
            seed: 42,
            drand_round: Some(1000),
            schedule: Schedule {
                earliest_reveal_block: 100,
                latest_reveal_block: 200,
                generation_deadline_block: Some(300),
            },
            prompts_sha256: [1; 32],
            prompts_count: 64,
            prompts_url: "https://example.org/prompts.txt".into(),
            prompts_inline: b"https://example.org/a.png\n".to_vec(),
        })
    }

    #[test]
    fn match_rows_become_outcomes_with_404s_sign() {
        use sn17_storage::state_repo::MatrixRow;
        let won = MatchOutcome::from_row(&MatrixRow::new("leader", "5Abc", 0.0546875));
        assert_eq!((won.winner.as_str(), won.margin_micro), ("5Abc", 54_688));
        let lost = MatchOutcome::from_row(&MatrixRow::new("leader", "5Abc", -1.0));
        assert_eq!(
            (lost.winner.as_str(), lost.margin_micro),
            ("leader", -1_000_000)
        );
        let tie = MatchOutcome::from_row(&MatrixRow::new("a", "b", 0.0));
        assert_eq!((tie.winner.as_str(), tie.margin()), ("", 0.0));
        let nan = MatchOutcome::from_row(&MatrixRow::new("a", "b", f64::NAN));
        assert_eq!(nan.margin_micro, 0);
    }

    #[test]
    fn round_trip_and_signature() {
        let k = key(1);
        let env = Envelope::sign_with(17, 150, &k, seed_payload());
        let bytes = env.to_bytes();
        let back = Envelope::from_bytes(&bytes, MAX_MESSAGE_BYTES).expect("decodes");
        assert_eq!(back, env);
        assert!(back.verify_signature());
        assert_eq!(message_id(&bytes).len(), 64);
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let env = Envelope::sign_with(17, 150, &key(1), seed_payload());
        let mut other = env.clone();
        other.block += 1;
        assert!(!other.verify_signature());
        let mut other = env.clone();
        other.netuid = 18;
        assert!(!other.verify_signature());
        let mut other = env;
        other.signer = key(2).public();
        assert!(!other.verify_signature());
    }

    #[test]
    fn untrusted_bytes_are_refused_without_panicking() {
        let bytes = Envelope::sign_with(17, 150, &key(1), seed_payload()).to_bytes();
        assert!(matches!(
            Envelope::from_bytes(&bytes, 10),
            Err(Invalid::TooLarge { .. })
        ));
        assert!(matches!(
            Envelope::from_bytes(&[], 100),
            Err(Invalid::Decode(_))
        ));
        assert!(matches!(
            Envelope::from_bytes(&[2, 0, 0], 100),
            Err(Invalid::Version(2))
        ));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Envelope::from_bytes(&long, MAX_MESSAGE_BYTES),
            Err(Invalid::Trailing)
        );
        for cut in 0..bytes.len() {
            assert!(Envelope::from_bytes(&bytes[..cut], MAX_MESSAGE_BYTES).is_err());
        }
        // A length prefix claiming 2^30 files must not allocate it.
        let mut huge = bytes[..1 + 2 + 8 + 32].to_vec();
        huge.push(1); // manifest
        huge.extend_from_slice(&7u64.to_le_bytes());
        huge.extend_from_slice(&[0; 32]);
        huge.extend_from_slice(&[0, 0, 0]); // three empty strings
        huge.extend_from_slice(&codec::Compact(1u32 << 30).encode());
        assert!(Envelope::from_bytes(&huge, MAX_MESSAGE_BYTES).is_err());
    }

    #[test]
    fn the_signed_bytes_are_pinned() {
        let env = Envelope::sign(17, 5, [9; 32], seed_payload(), |_| [0; 64]);
        let signed = env.signing_bytes();
        assert!(signed.starts_with(SIGNING_DOMAIN));
        let wire = env.to_bytes();
        assert_eq!(&signed[SIGNING_DOMAIN.len()..], &wire[..wire.len() - 64]);
        assert_eq!(&wire[..3], &[1, 17, 0]);
    }

    #[test]
    fn leader_weights_are_fixed_point() {
        let e = sn17_storage::state_repo::LeaderEntry::new("hk", "o/r", "abc", "img", 0.85, 10);
        let l = LeaderChange::from_entry(3, &e);
        assert_eq!(l.weight_ppb, 850_000_000);
        assert!((l.weight() - 0.85).abs() < 1e-12);
    }
}
