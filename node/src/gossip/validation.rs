//! Validation of gossip before it is forwarded: size, encoding, topic, signature, the signer's
//! registration and permit, plausible rounds and blocks, duplicates, a per-hotkey rate limit on
//! valid messages and a per-peer count of invalid ones.
//!
//! The checks run cheapest first, so a flood of garbage costs a length check and a hash, and
//! only well-formed messages from a registered hotkey cost an sr25519 verification.
//!
//! Nothing here drops a valid message because of the peer that forwarded it: gossipsub marks a
//! message seen before it asks us, so ignoring an honest message from a busy forwarder would lose
//! it for good. Peers are judged only by the invalid messages they forward (a peer over
//! [`RateLimit::max_invalid`] is blacklisted by the service, which drops its traffic before
//! gossipsub's duplicate check), and volume is limited per signing hotkey, after the signature.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::error::Invalid;
use sha2::{Digest as _, Sha256};

use super::message::{message_id, Envelope, Kind, Payload, MAX_INLINE_PROMPTS, MAX_MESSAGE_BYTES};
use super::metagraph::MetagraphSnapshot;

/// Bounds on what a message may say.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: usize,
    /// How far ahead of our head estimate a message's block may be (clock skew, a faster node).
    pub max_blocks_ahead: u64,
    /// How far behind our head a message's block may be before it counts as a replay.
    pub max_blocks_behind: u64,
    /// Longest string field.
    pub max_string: usize,
    pub max_files: usize,
    pub max_matches: usize,
    /// Highest round number accepted.
    pub max_round: u64,
    /// Live manifests, results and leader changes must be for a round within
    /// `[s - round_behind, s + round_ahead]` of some validator's latest accepted seed round `s`
    /// (any round while no seed is known; catch-up is exempt, like the block age).
    pub round_behind: u64,
    pub round_ahead: u64,
    /// Longest reveal window of a schedule, in blocks.
    pub max_window_blocks: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_MESSAGE_BYTES,
            max_blocks_ahead: 25,
            // Two days: a late node still takes a round's records; older ones are replays.
            max_blocks_behind: 14_400,
            max_string: 512,
            max_files: 1024,
            max_matches: 1024,
            max_round: 10_000_000,
            // A result is published after the next round's seed; a late manifest or a slow
            // validator's result may trail by a round or two more.
            round_behind: 3,
            // A manifest can overtake the seed it answers.
            round_ahead: 1,
            max_window_blocks: 100_800,
        }
    }
}

/// How much traffic is taken from whom.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Valid messages one hotkey may publish per second on average (a token bucket, live
    /// gossip only; checked after the signature, so nobody can spend another hotkey's tokens).
    pub signer_per_second: f64,
    /// How many it may publish at once.
    pub signer_burst: f64,
    /// Invalid messages (by rules every honest node applies alike) a peer may forward within
    /// `invalid_window` before it is blacklisted.
    pub max_invalid: u32,
    pub invalid_window: Duration,
    /// How long a blacklisted peer's messages are dropped unread.
    pub ban: Duration,
}

impl Default for RateLimit {
    /// Sized for the protocol: a validator publishes three or four messages a round and a miner
    /// one manifest, so a burst of 64 and one message per 5 s per hotkey never bind an honest
    /// publisher (even a devnet with one-minute rounds). Honest peers forward no invalid
    /// messages, so 20 in a minute is an attacker.
    fn default() -> Self {
        Self {
            signer_per_second: 0.2,
            signer_burst: 64.0,
            max_invalid: 20,
            invalid_window: Duration::from_secs(60),
            ban: Duration::from_secs(600),
        }
    }
}

impl RateLimit {
    /// No limits (benchmarks of the raw mesh).
    pub fn off() -> Self {
        Self {
            signer_per_second: f64::MAX,
            signer_burst: f64::MAX,
            max_invalid: u32::MAX,
            invalid_window: Duration::from_secs(1),
            ban: Duration::ZERO,
        }
    }
}

/// The decision on one message.
#[derive(Debug)]
pub enum Verdict {
    /// Valid and new: forward, store, deliver.
    Accept { id: String, envelope: Box<Envelope> },
    /// Not forwarded, no penalty (a duplicate, a conflicting second version, over the rate).
    Ignore { id: String, reason: Ignored },
    /// Invalid: not forwarded, and the sending peer is penalised; `ban` when this message took
    /// the peer over [`RateLimit::max_invalid`].
    Reject {
        id: String,
        reason: Invalid,
        ban: bool,
    },
}

/// Why a message was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    Duplicate,
    /// The signer already published a different message for this (kind, round, subject).
    Conflict,
    /// The signer is over its [`RateLimit`].
    RateLimited,
}

/// (kind, signer, round, subject): what a message is about.
type LogicalKey = (Kind, [u8; 32], u64, [u8; 32]);

/// Where a message came from (a peer id's bytes).
pub type PeerKey = Vec<u8>;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Invalid messages from one peer in the current window.
struct Strikes {
    count: u32,
    since: Instant,
}

/// Most hotkeys and peers tracked before idle ones are forgotten.
const MAX_TRACKED: usize = 10_000;

/// The stateful validator: remembers what it accepted (by id and by logical key), each
/// validator's latest seed round, how fast each hotkey publishes and which peers forward
/// invalid messages.
pub struct Validator {
    netuid: u16,
    limits: Limits,
    rate: RateLimit,
    seen: HashSet<String>,
    /// Accepted ids oldest first, with their logical key, for eviction.
    seen_order: VecDeque<(String, LogicalKey)>,
    max_seen: usize,
    /// (kind, signer, round, subject) -> message id of the first accepted version.
    first: HashMap<LogicalKey, String>,
    /// Per signing hotkey.
    buckets: HashMap<[u8; 32], Bucket>,
    strikes: HashMap<PeerKey, Strikes>,
    /// Validator hotkey -> highest seed round accepted from it.
    seed_rounds: HashMap<[u8; 32], u64>,
}

impl Validator {
    pub fn new(netuid: u16, limits: Limits, rate: RateLimit) -> Self {
        Self {
            netuid,
            limits,
            rate,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            max_seen: 200_000,
            first: HashMap::new(),
            buckets: HashMap::new(),
            strikes: HashMap::new(),
            seed_rounds: HashMap::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Records an already stored message (at start-up) so it counts as a duplicate.
    pub fn remember(&mut self, id: &str, env: &Envelope) {
        self.note_seed(env);
        let key = logical_key(env);
        self.first.entry(key).or_insert_with(|| id.to_string());
        self.mark_seen(id.to_string(), key);
    }

    /// The id of the first accepted message about what `env` is about (its kind, signer,
    /// round and subject), if any.
    pub fn first_id(&self, env: &Envelope) -> Option<&str> {
        self.first.get(&logical_key(env)).map(String::as_str)
    }

    /// Whether `id` was accepted before.
    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Judges a message received on `topic_kind` from `peer` (None: published locally or read
    /// during catch-up). `live` off (history fetched from an explorer, old by nature) accepts
    /// old blocks and skips the round window and the per-hotkey rate limit.
    pub fn check(
        &mut self,
        bytes: &[u8],
        topic_kind: Kind,
        peer: Option<&[u8]>,
        mg: &MetagraphSnapshot,
        live: bool,
    ) -> Verdict {
        let id = message_id(bytes);
        if self.seen.contains(&id) {
            return Verdict::Ignore {
                id,
                reason: Ignored::Duplicate,
            };
        }
        let env = match self.check_message(bytes, topic_kind, mg, live) {
            Ok(env) => env,
            Err(reason) => {
                let ban = match peer {
                    Some(p) if reason.is_deterministic() => self.strike(p),
                    _ => false,
                };
                return Verdict::Reject { id, reason, ban };
            }
        };
        let key = logical_key(&env);
        if self.first.get(&key).is_some_and(|first| *first != id) {
            return Verdict::Ignore {
                id,
                reason: Ignored::Conflict,
            };
        }
        if live && !self.take_token(&env.signer) {
            return Verdict::Ignore {
                id,
                reason: Ignored::RateLimited,
            };
        }
        self.note_seed(&env);
        self.first.insert(key, id.clone());
        self.mark_seen(id.clone(), key);
        Verdict::Accept {
            id,
            envelope: Box::new(env),
        }
    }

    /// The stateless checks, cheapest first.
    pub fn check_message(
        &self,
        bytes: &[u8],
        topic_kind: Kind,
        mg: &MetagraphSnapshot,
        live: bool,
    ) -> Result<Envelope, Invalid> {
        let env = Envelope::from_bytes(bytes, self.limits.max_bytes)?;
        if env.netuid != self.netuid {
            return Err(Invalid::Netuid {
                expected: self.netuid,
                got: env.netuid,
            });
        }
        let kind = env.payload.kind();
        if kind != topic_kind {
            return Err(Invalid::WrongTopic {
                kind: kind.name(),
                topic: topic_kind.name().into(),
            });
        }
        let head = mg.head();
        if env.block > head.saturating_add(self.limits.max_blocks_ahead) {
            return Err(Invalid::FromTheFuture {
                block: env.block,
                head,
                max_ahead: self.limits.max_blocks_ahead,
            });
        }
        if live && env.block.saturating_add(self.limits.max_blocks_behind) < head {
            return Err(Invalid::Stale {
                block: env.block,
                head,
                max_age: self.limits.max_blocks_behind,
            });
        }
        self.check_fields(&env.payload, env.block)?;
        if live {
            self.check_round_window(&env.payload)?;
        }
        let signer = env.signer_account();
        let member = mg
            .member(&env.signer)
            .ok_or_else(|| Invalid::Unregistered(signer.ss58()))?;
        match &env.payload {
            Payload::Seed(_) | Payload::Result(_) | Payload::Leader(_) => {
                if !member.validator_permit {
                    return Err(Invalid::NoValidatorPermit(signer.ss58()));
                }
            }
            Payload::Manifest(m) => {
                if m.miner != env.signer {
                    return Err(Invalid::NotOwnManifest {
                        named: sn17_chain::Account(m.miner).ss58(),
                        signer: signer.ss58(),
                    });
                }
            }
        }
        // Last: the expensive checks, only for signed messages of registered hotkeys.
        if !env.verify_signature() {
            return Err(Invalid::Signature);
        }
        if let Payload::Seed(seed) = &env.payload {
            let inline = &seed.prompts_inline;
            if !inline.is_empty() && <[u8; 32]>::from(Sha256::digest(inline)) != seed.prompts_sha256
            {
                return Err(field(
                    "prompts_inline",
                    "does not hash to prompts_sha256".into(),
                ));
            }
        }
        Ok(env)
    }

    fn check_fields(&self, p: &Payload, block: u64) -> Result<(), Invalid> {
        let l = &self.limits;
        let round = p.round();
        if round > l.max_round {
            return Err(field("round", format!("{round} > {}", l.max_round)));
        }
        let s = |name: &'static str, v: &str| -> Result<(), Invalid> {
            if v.len() > l.max_string {
                return Err(field(name, format!("{} bytes > {}", v.len(), l.max_string)));
            }
            Ok(())
        };
        match p {
            Payload::Seed(seed) => {
                s("prompts_url", &seed.prompts_url)?;
                let sc = &seed.schedule;
                if sc.earliest_reveal_block > sc.latest_reveal_block {
                    return Err(field("schedule", "earliest after latest reveal".into()));
                }
                if sc.latest_reveal_block - sc.earliest_reveal_block > l.max_window_blocks {
                    return Err(field("schedule", "reveal window too long".into()));
                }
                if sc
                    .generation_deadline_block
                    .is_some_and(|d| d < sc.latest_reveal_block)
                {
                    return Err(field("schedule", "deadline before latest reveal".into()));
                }
                if sc.latest_reveal_block > block.saturating_add(l.max_window_blocks)
                    || sc.latest_reveal_block.saturating_add(l.max_window_blocks) < block
                {
                    return Err(field(
                        "schedule",
                        format!(
                            "latest reveal {} far from block {block}",
                            sc.latest_reveal_block
                        ),
                    ));
                }
                if seed.prompts_count as usize > l.max_files {
                    return Err(field("prompts_count", seed.prompts_count.to_string()));
                }
                let inline = &seed.prompts_inline;
                if inline.len() > MAX_INLINE_PROMPTS {
                    return Err(field("prompts_inline", format!("{} bytes", inline.len())));
                }
            }
            Payload::Manifest(m) => {
                s("repo", &m.repo)?;
                s("commit", &m.commit)?;
                s("cdn_url", &m.cdn_url)?;
                if m.files.len() > l.max_files {
                    return Err(field(
                        "files",
                        format!("{} > {}", m.files.len(), l.max_files),
                    ));
                }
                for f in &m.files {
                    s("files.stem", &f.stem)?;
                }
            }
            Payload::Result(r) => {
                for (name, v) in [
                    ("winner", &r.winner),
                    ("repo", &r.repo),
                    ("commit", &r.commit),
                    ("state_repo", &r.state_repo),
                    ("state_commit", &r.state_commit),
                ] {
                    s(name, v)?;
                }
                if let Some(d) = &r.docker_image {
                    s("docker_image", d)?;
                }
                if r.matches.len() > l.max_matches {
                    return Err(field("matches", r.matches.len().to_string()));
                }
                for m in &r.matches {
                    s("matches.left", &m.left)?;
                    s("matches.right", &m.right)?;
                    s("matches.winner", &m.winner)?;
                }
            }
            Payload::Leader(ld) => {
                for (name, v) in [
                    ("hotkey", &ld.hotkey),
                    ("repo", &ld.repo),
                    ("commit", &ld.commit),
                    ("docker", &ld.docker),
                ] {
                    s(name, v)?;
                }
                if ld.weight_ppb > 1_000_000_000 {
                    return Err(field("weight_ppb", ld.weight_ppb.to_string()));
                }
            }
        }
        Ok(())
    }

    /// Live manifests, results and leader changes only for rounds near a known seed round.
    /// Seeds themselves are bounded by their schedule's blocks instead, so a node that was
    /// away for many rounds still takes the next seed.
    fn check_round_window(&self, p: &Payload) -> Result<(), Invalid> {
        if matches!(p, Payload::Seed(_)) || self.seed_rounds.is_empty() {
            return Ok(());
        }
        let (round, l) = (p.round(), &self.limits);
        let near = self.seed_rounds.values().any(|&s| {
            round.saturating_add(l.round_behind) >= s && round <= s.saturating_add(l.round_ahead)
        });
        if near {
            Ok(())
        } else {
            Err(Invalid::RoundWindow {
                round,
                behind: l.round_behind,
                ahead: l.round_ahead,
            })
        }
    }

    fn note_seed(&mut self, env: &Envelope) {
        if let Payload::Seed(s) = &env.payload {
            let latest = self.seed_rounds.entry(env.signer).or_insert(s.round);
            *latest = (*latest).max(s.round);
        }
    }

    /// Counts an invalid message against `peer`; true exactly when it crosses the limit.
    fn strike(&mut self, peer: &[u8]) -> bool {
        let now = Instant::now();
        let (window, max) = (self.rate.invalid_window, self.rate.max_invalid);
        if self.strikes.len() >= MAX_TRACKED {
            self.strikes
                .retain(|_, s| now.duration_since(s.since) < window);
        }
        let s = self.strikes.entry(peer.to_vec()).or_insert(Strikes {
            count: 0,
            since: now,
        });
        if now.duration_since(s.since) >= window {
            *s = Strikes {
                count: 0,
                since: now,
            };
        }
        s.count = s.count.saturating_add(1);
        s.count == max.saturating_add(1)
    }

    /// Takes one of `signer`'s tokens.
    fn take_token(&mut self, signer: &[u8; 32]) -> bool {
        let now = Instant::now();
        let rate = self.rate;
        if self.buckets.len() >= MAX_TRACKED {
            // Forget hotkeys whose bucket is full again rather than grow without bound.
            self.buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * rate.signer_per_second
                    < rate.signer_burst
            });
        }
        let b = self.buckets.entry(*signer).or_insert(Bucket {
            tokens: rate.signer_burst,
            last: now,
        });
        let dt = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + dt * rate.signer_per_second).min(rate.signer_burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Remembers an accepted id; beyond `max_seen` (200,000, many rounds at sn17's rates of a
    /// few hundred messages per round) the oldest are forgotten, and a replay of one that old is
    /// refused by the block-age check instead.
    fn mark_seen(&mut self, id: String, key: LogicalKey) {
        if self.seen.insert(id.clone()) {
            self.seen_order.push_back((id, key));
            while self.seen_order.len() > self.max_seen {
                if let Some((old, key)) = self.seen_order.pop_front() {
                    self.seen.remove(&old);
                    if self.first.get(&key) == Some(&old) {
                        self.first.remove(&key);
                    }
                }
            }
        }
    }
}

fn field(name: &'static str, reason: String) -> Invalid {
    Invalid::Field {
        field: name,
        reason,
    }
}

/// What a message is about: one seed/result/leader change per validator and round, one
/// manifest per miner and round.
fn logical_key(env: &Envelope) -> LogicalKey {
    let subject = match &env.payload {
        Payload::Manifest(m) => m.miner,
        _ => [0; 32],
    };
    (env.payload.kind(), env.signer, env.payload.round(), subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gossip::message::{RoundSeed, Schedule, SubmissionManifest};
    use crate::gossip::metagraph::Member;
    use sn17_chain::wallet::Keypair;
    use sn17_chain::Account;

    fn key(n: u8) -> Keypair {
        Keypair::from_seed(&[n; 32])
    }

    fn mg() -> MetagraphSnapshot {
        MetagraphSnapshot::new(
            17,
            1000,
            [(1u8, true), (2, false)].map(|(n, permit)| Member {
                uid: n.into(),
                hotkey: Account(key(n).public()),
                validator_permit: permit,
                stake: 0,
                axon: None,
            }),
        )
    }

    fn seed(round: u64) -> Payload {
        Payload::Seed(RoundSeed {
            round,
            seed: 1,
            drand_round: None,
            schedule: Schedule {
                earliest_reveal_block: 900,
                latest_reveal_block: 1000,
                generation_deadline_block: None,
            },
            prompts_sha256: [0; 32],
            prompts_count: 3,
            prompts_url: String::new(),
            prompts_inline: Vec::new(),
        })
    }

    fn manifest(miner: [u8; 32]) -> Payload {
        Payload::Manifest(SubmissionManifest {
            round: 1,
            miner,
            repo: "o/r".into(),
            commit: "abc".into(),
            cdn_url: "https://cdn".into(),
            files: vec![],
        })
    }

    fn validator() -> Validator {
        let limits = Limits {
            max_blocks_behind: 500,
            ..Limits::default()
        };
        Validator::new(17, limits, RateLimit::default())
    }

    fn reason(v: Verdict) -> String {
        match v {
            Verdict::Accept { .. } => "accept".into(),
            Verdict::Ignore { reason, .. } => format!("ignore {reason:?}"),
            Verdict::Reject { reason, .. } => format!("reject {reason}"),
        }
    }

    #[test]
    fn accepts_valid_and_rejects_each_rule() {
        let mut v = validator();
        let mg = mg();
        let good = Envelope::sign_with(17, 1000, &key(1), seed(1)).to_bytes();
        assert_eq!(
            reason(v.check(&good, Kind::Seed, Some(b"p"), &mg, true)),
            "accept"
        );
        assert_eq!(
            reason(v.check(&good, Kind::Seed, Some(b"p"), &mg, true)),
            "ignore Duplicate"
        );
        // A second, different seed for the same round from the same validator.
        let other = Envelope::sign_with(17, 1001, &key(1), seed(1)).to_bytes();
        assert_eq!(
            reason(v.check(&other, Kind::Seed, None, &mg, true)),
            "ignore Conflict"
        );
        let cases: Vec<(Vec<u8>, Kind, &str)> = vec![
            // Miner publishing a seed.
            (
                Envelope::sign_with(17, 1000, &key(2), seed(2)).to_bytes(),
                Kind::Seed,
                "validator permit",
            ),
            // Unregistered signer.
            (
                Envelope::sign_with(17, 1000, &key(3), seed(2)).to_bytes(),
                Kind::Seed,
                "not registered",
            ),
            // Wrong signature.
            (
                {
                    let mut e = Envelope::sign_with(17, 1000, &key(1), seed(3));
                    e.signature[5] ^= 1;
                    e.to_bytes()
                },
                Kind::Seed,
                "signature",
            ),
            // Manifest naming another miner.
            (
                Envelope::sign_with(17, 1000, &key(2), manifest(key(1).public())).to_bytes(),
                Kind::Manifest,
                "names miner",
            ),
            // Wrong topic.
            (
                Envelope::sign_with(17, 1000, &key(1), seed(4)).to_bytes(),
                Kind::Manifest,
                "on topic",
            ),
            // Other netuid.
            (
                Envelope::sign_with(18, 1000, &key(1), seed(5)).to_bytes(),
                Kind::Seed,
                "netuid",
            ),
            // Replay of an old message.
            (
                Envelope::sign_with(17, 10, &key(1), seed(6)).to_bytes(),
                Kind::Seed,
                "behind head",
            ),
            // From the future.
            (
                Envelope::sign_with(17, 5000, &key(1), seed(7)).to_bytes(),
                Kind::Seed,
                "ahead of head",
            ),
            // Oversized.
            (vec![1; MAX_MESSAGE_BYTES + 1], Kind::Seed, "over the"),
            // Garbage.
            (vec![1, 2, 3], Kind::Seed, "decode"),
        ];
        for (bytes, kind, want) in cases {
            let got = reason(v.check(&bytes, kind, Some(b"q"), &mg, true));
            assert!(got.contains(want), "{got} should contain {want}");
        }
        let own = Envelope::sign_with(17, 1000, &key(2), manifest(key(2).public())).to_bytes();
        assert_eq!(
            reason(v.check(&own, Kind::Manifest, None, &mg, true)),
            "accept"
        );
    }

    fn rate(per_second: f64, burst: f64, max_invalid: u32) -> RateLimit {
        RateLimit {
            signer_per_second: per_second,
            signer_burst: burst,
            max_invalid,
            ..RateLimit::default()
        }
    }

    fn mg_of(keys: &[Keypair]) -> MetagraphSnapshot {
        MetagraphSnapshot::new(
            17,
            1000,
            keys.iter().enumerate().map(|(i, k)| Member {
                uid: i as u16,
                hotkey: Account(k.public()),
                validator_permit: i == 0,
                stake: 0,
                axon: None,
            }),
        )
    }

    #[test]
    fn a_busy_honest_forwarder_is_never_limited() {
        // 3,000 valid manifests (one per miner, as the protocol has it) all arriving through one
        // peer in a burst: every one is accepted with the default limits.
        let keys: Vec<Keypair> = (0..3000u32)
            .map(|i| {
                let mut seed = [7u8; 32];
                seed[..4].copy_from_slice(&i.to_le_bytes());
                Keypair::from_seed(&seed)
            })
            .collect();
        let mg = mg_of(&keys);
        let mut v = Validator::new(17, Limits::default(), RateLimit::default());
        let mut accepted = 0;
        for k in &keys {
            let m = Envelope::sign_with(17, 1000, k, manifest(k.public())).to_bytes();
            if let Verdict::Accept { .. } = v.check(&m, Kind::Manifest, Some(b"relay"), &mg, true) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, keys.len());
    }

    #[test]
    fn a_hotkey_over_its_rate_is_ignored_but_not_others() {
        let mut v = Validator::new(17, Limits::default(), rate(0.001, 5.0, 20));
        let mg = mg();
        let verdicts: Vec<String> = (0..8)
            .map(|r| {
                let m = Envelope::sign_with(17, 1000, &key(1), seed(10 + r)).to_bytes();
                reason(v.check(&m, Kind::Seed, Some(b"p"), &mg, true))
            })
            .collect();
        assert_eq!(verdicts.iter().filter(|r| *r == "accept").count(), 5);
        assert_eq!(verdicts[7], "ignore RateLimited");
        // Another hotkey through the same peer is unaffected.
        let mut p = manifest(key(2).public());
        if let Payload::Manifest(m) = &mut p {
            m.round = 14;
        }
        let own = Envelope::sign_with(17, 1000, &key(2), p).to_bytes();
        assert_eq!(
            reason(v.check(&own, Kind::Manifest, Some(b"p"), &mg, true)),
            "accept"
        );
        // Catch-up (not live) is not limited: history comes in a burst.
        let old = Envelope::sign_with(17, 1000, &key(1), seed(30)).to_bytes();
        assert_eq!(
            reason(v.check(&old, Kind::Seed, None, &mg, false)),
            "accept"
        );
        // A forged message in a hotkey's name spends none of its tokens.
        let mut v = Validator::new(17, Limits::default(), rate(0.001, 1.0, 1000));
        let mut forged = Envelope::sign_with(17, 1000, &key(1), seed(40));
        forged.signature[0] ^= 1;
        for _ in 0..10 {
            let _ = v.check(&forged.to_bytes(), Kind::Seed, Some(b"x"), &mg, true);
        }
        let real = Envelope::sign_with(17, 1000, &key(1), seed(41)).to_bytes();
        assert_eq!(
            reason(v.check(&real, Kind::Seed, Some(b"x"), &mg, true)),
            "accept"
        );
    }

    #[test]
    fn a_peer_is_banned_after_too_many_invalid_messages_only() {
        let mut v = Validator::new(17, Limits::default(), rate(1.0, 100.0, 3));
        let mg = mg();
        let bans: Vec<bool> = (0..6u8)
            .map(
                |i| match v.check(&[9, i], Kind::Seed, Some(b"flood"), &mg, true) {
                    Verdict::Reject { ban, .. } => ban,
                    other => panic!("garbage accepted: {other:?}"),
                },
            )
            .collect();
        // The fourth invalid message crosses the limit of three; the ban is signalled once.
        assert_eq!(bans, [false, false, false, true, false, false]);
        // Verdicts that depend on this node's view (an unregistered signer: maybe a metagraph
        // the forwarder refreshed sooner) never count toward a ban.
        let mut v = Validator::new(17, Limits::default(), rate(1.0, 100.0, 1));
        for r in 0..5 {
            let m = Envelope::sign_with(17, 1000, &key(3), seed(r)).to_bytes();
            match v.check(&m, Kind::Seed, Some(b"skewed"), &mg, true) {
                Verdict::Reject { ban, reason, .. } => {
                    assert!(!ban, "{reason}");
                    assert!(!reason.is_deterministic());
                }
                other => panic!("{other:?}"),
            }
        }
        // Valid traffic from the banned peer is still judged on its merits.
        let good = Envelope::sign_with(17, 1000, &key(1), seed(1)).to_bytes();
        assert_eq!(
            reason(v.check(&good, Kind::Seed, Some(b"flood"), &mg, true)),
            "accept"
        );
    }

    #[test]
    fn live_rounds_must_be_near_a_known_seed_round() {
        let mut v = validator();
        let mg = mg();
        let manifest_round = |round: u64| {
            let mut p = manifest(key(2).public());
            if let Payload::Manifest(m) = &mut p {
                m.round = round;
            }
            Envelope::sign_with(17, 1000, &key(2), p).to_bytes()
        };
        // No seed known yet: any round up to max_round.
        assert_eq!(
            reason(v.check(&manifest_round(500), Kind::Manifest, None, &mg, true)),
            "accept"
        );
        let s = Envelope::sign_with(17, 1000, &key(1), seed(100)).to_bytes();
        assert_eq!(reason(v.check(&s, Kind::Seed, None, &mg, true)), "accept");
        for (round, ok) in [
            (97, true),
            (100, true),
            (101, true),
            (96, false),
            (102, false),
            (5_000, false),
        ] {
            let got = reason(v.check(&manifest_round(round), Kind::Manifest, None, &mg, true));
            if ok {
                assert_eq!(got, "accept", "round {round}");
            } else {
                assert!(got.contains("latest seed round"), "round {round}: {got}");
            }
        }
        // Catch-up is exempt: history spans many rounds.
        assert_eq!(
            reason(v.check(&manifest_round(3), Kind::Manifest, None, &mg, false)),
            "accept"
        );
        // Seeds are not windowed: a node that was away still takes the next seed.
        let later = Envelope::sign_with(17, 1000, &key(1), seed(150)).to_bytes();
        assert_eq!(
            reason(v.check(&later, Kind::Seed, None, &mg, true)),
            "accept"
        );
        assert_eq!(
            reason(v.check(&manifest_round(150), Kind::Manifest, None, &mg, true)),
            "accept"
        );
        // The absolute bound still holds.
        assert!(reason(v.check(
            &manifest_round(20_000_000),
            Kind::Manifest,
            None,
            &mg,
            false
        ))
        .contains("round"));
    }

    #[test]
    fn inline_prompts_must_match_their_hash() {
        use sha2::Digest as _;
        let mut v = validator();
        let mg = mg();
        let text = b"https://a/1.png\nhttps://a/2.png".to_vec();
        let with = |inline: Vec<u8>, hash: [u8; 32], round: u64| {
            let mut p = seed(round);
            if let Payload::Seed(s) = &mut p {
                s.prompts_inline = inline;
                s.prompts_sha256 = hash;
            }
            Envelope::sign_with(17, 1000, &key(1), p).to_bytes()
        };
        let hash: [u8; 32] = sha2::Sha256::digest(&text).into();
        assert_eq!(
            reason(v.check(&with(text.clone(), hash, 1), Kind::Seed, None, &mg, true)),
            "accept"
        );
        let got = reason(v.check(&with(text, [0; 32], 2), Kind::Seed, None, &mg, true));
        assert!(got.contains("prompts_sha256"), "{got}");
        let big = vec![b'a'; MAX_INLINE_PROMPTS + 1];
        let h: [u8; 32] = sha2::Sha256::digest(&big).into();
        let got = reason(v.check(&with(big, h, 3), Kind::Seed, None, &mg, true));
        assert!(got.contains("prompts_inline"), "{got}");
    }
}
