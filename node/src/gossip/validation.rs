//! Validation of gossip before it is forwarded: size, encoding, topic, signature, the signer's
//! registration and permit, plausible rounds and blocks, duplicates and per-peer rate limits.
//!
//! The checks run cheapest first, so a flood of garbage costs a length check and a hash, and
//! only well-formed messages from a registered hotkey cost an sr25519 verification.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use super::error::Invalid;
use super::message::{message_id, Envelope, Kind, Payload, MAX_MESSAGE_BYTES};
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
            max_window_blocks: 100_800,
        }
    }
}

/// A per-peer token bucket.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Messages per second a peer may send on average.
    pub per_second: f64,
    /// How many it may send at once.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 100.0,
            burst: 500.0,
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
    /// Invalid: not forwarded, and the sending peer is penalised.
    Reject { id: String, reason: Invalid },
}

/// Why a message was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    Duplicate,
    /// The signer already published a different message for this (kind, round, subject).
    Conflict,
    RateLimited,
}

/// (kind, signer, round, subject): what a message is about.
type LogicalKey = (Kind, [u8; 32], u64, [u8; 32]);

/// Where a message came from, for rate limiting.
pub type PeerKey = Vec<u8>;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The stateful validator: remembers what it accepted (by id and by logical key) and how fast
/// each peer sends.
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
    buckets: HashMap<PeerKey, Bucket>,
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
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Records an already stored message (at start-up) so it counts as a duplicate.
    pub fn remember(&mut self, id: &str, env: &Envelope) {
        let key = logical_key(env);
        self.first.entry(key).or_insert_with(|| id.to_string());
        self.mark_seen(id.to_string(), key);
    }

    /// Whether `id` was accepted before.
    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Judges a message received on `topic_kind` from `peer` (None: published locally or read
    /// during catch-up, which skips the rate limit). `check_age` off accepts old blocks (history
    /// fetched from an explorer is old by nature).
    pub fn check(
        &mut self,
        bytes: &[u8],
        topic_kind: Kind,
        peer: Option<&[u8]>,
        mg: &MetagraphSnapshot,
        check_age: bool,
    ) -> Verdict {
        let id = message_id(bytes);
        if let Some(p) = peer {
            if !self.take_token(p) {
                return Verdict::Ignore {
                    id,
                    reason: Ignored::RateLimited,
                };
            }
        }
        if self.seen.contains(&id) {
            return Verdict::Ignore {
                id,
                reason: Ignored::Duplicate,
            };
        }
        let env = match self.check_message(bytes, topic_kind, mg, check_age) {
            Ok(env) => env,
            Err(reason) => return Verdict::Reject { id, reason },
        };
        let key = logical_key(&env);
        if self.first.get(&key).is_some_and(|first| *first != id) {
            return Verdict::Ignore {
                id,
                reason: Ignored::Conflict,
            };
        }
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
        check_age: bool,
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
        if check_age && env.block.saturating_add(self.limits.max_blocks_behind) < head {
            return Err(Invalid::Stale {
                block: env.block,
                head,
                max_age: self.limits.max_blocks_behind,
            });
        }
        self.check_fields(&env.payload, env.block)?;
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
        // Last: the one expensive check.
        if !env.verify_signature() {
            return Err(Invalid::Signature);
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

    fn take_token(&mut self, peer: &[u8]) -> bool {
        let now = Instant::now();
        let rate = self.rate;
        if self.buckets.len() > 10_000 {
            // Forget idle peers rather than grow without bound.
            self.buckets.retain(|_, b| {
                now.duration_since(b.last).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let b = self.buckets.entry(peer.to_vec()).or_insert(Bucket {
            tokens: rate.burst,
            last: now,
        });
        let dt = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + dt * rate.per_second).min(rate.burst);
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

    #[test]
    fn rate_limit_ignores_a_flood() {
        let mut v = Validator::new(
            17,
            Limits::default(),
            RateLimit {
                per_second: 1.0,
                burst: 5.0,
            },
        );
        let mg = mg();
        let mut limited = 0;
        for _ in 0..50 {
            if let Verdict::Ignore {
                reason: Ignored::RateLimited,
                ..
            } = v.check(&[9, 9], Kind::Seed, Some(b"flood"), &mg, true)
            {
                limited += 1;
            }
        }
        assert!(limited >= 44, "{limited}");
        let good = Envelope::sign_with(17, 1000, &key(1), seed(1)).to_bytes();
        assert_eq!(
            reason(v.check(&good, Kind::Seed, Some(b"honest"), &mg, true)),
            "accept"
        );
    }
}
