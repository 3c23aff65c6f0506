//! Round seeds: 404's CSPRNG u32 (competition.md §4.1) and, as an option, a verifiable seed
//! derived from a public drand quicknet beacon (`SeedPolicy::Drand`, `--seed drand`).
//!
//! Verifiable derivation (sn17's, documented here and in the README):
//! 1. `t` = the on-chain timestamp (`Timestamp.Now`, read through the chain view and truncated to
//!    whole seconds) of block `latest_reveal_block` of the round's `schedule.json`. It is the
//!    last block whose reveals count, so the schedule fixes the block and the chain fixes its
//!    time; neither the validator nor a miner can pick either once the round is scheduled.
//! 2. `drand_round` = the first quicknet round published strictly after `t`:
//!    `floor((t − genesis) / period) + 2` (round r is published at `genesis + (r − 1)·period`).
//!    Its randomness did not exist while reveals were still accepted, and it is out ~3 s later,
//!    so the open stage waits at most a few seconds for it.
//! 3. The beacon is fetched from a drand HTTP API (`{url}/{chain hash}/public/{round}`), and its
//!    BLS signature is verified against quicknet's public key (the pairing check of
//!    `sn17_chain::crv3`), so a lying endpoint cannot choose the seed.
//! 4. `seed` = the first 4 bytes, big-endian, of
//!    `SHA-256("sn17/seed/v1" ‖ netuid u16 BE ‖ round u64 BE ‖ drand_round u64 BE ‖ randomness)`,
//!    where `randomness` = SHA-256(signature), the beacon's 32 bytes.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sn17_chain::crv3::drand::QUICKNET_CHAIN_HASH_HEX;

/// The drand HTTP API `--seed drand` uses unless told otherwise.
pub const DEFAULT_DRAND_URL: &str = "https://api.drand.sh";
/// A beacon reply is ~250 bytes; anything much larger is not one.
const MAX_BEACON_BYTES: usize = 4096;

/// Why a drand beacon could not give a seed.
#[derive(Debug, thiserror::Error)]
pub enum DrandError {
    #[error("drand {url}: {reason}")]
    Fetch { url: String, reason: String },
    /// HTTP 404/425: the round is in the future for this endpoint; try again shortly.
    #[error("drand {url}: round {round} is not published yet")]
    NotYetPublished { url: String, round: u64 },
    #[error("drand {url}: malformed beacon: {reason}")]
    Malformed { url: String, reason: String },
    /// The signature is not quicknet's signature of this round.
    #[error("drand round {round}: the BLS signature does not verify against quicknet's public key ({reason})")]
    BadSignature { round: u64, reason: String },
}

/// A verified beacon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    pub round: u64,
    /// SHA-256 of the signature.
    pub randomness: [u8; 32],
    pub signature: Vec<u8>,
}

/// A drand seed with everything an auditor needs to recompute it (kept by storage as a chain
/// snapshot record, read back by gossip).
pub use sn17_storage::db::DrandSeed;

/// 404's seed: 32 random bits from the OS CSPRNG.
pub fn random_seed() -> u32 {
    rand::rngs::OsRng.next_u32()
}

/// The first quicknet round published strictly after unix time `t`.
pub fn drand_round_after(t: u64) -> u64 {
    sn17_chain::crv3::drand::current_round(t).map_or(1, |r| r + 1)
}

/// The seed from a beacon's randomness.
pub fn derive_seed(netuid: u16, round: u64, drand_round: u64, randomness: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(b"sn17/seed/v1");
    h.update(netuid.to_be_bytes());
    h.update(round.to_be_bytes());
    h.update(drand_round.to_be_bytes());
    h.update(randomness);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

#[derive(serde::Deserialize)]
struct BeaconJson {
    round: u64,
    #[serde(default)]
    randomness: Option<String>,
    signature: String,
}

/// Fetches quicknet's beacon for `round` from a drand HTTP API (`{base}/{chain}/public/{round}`)
/// and verifies it: the BLS signature against quicknet's public key, and the randomness (when
/// the reply carries one) as SHA-256 of the signature.
pub async fn fetch_beacon(
    client: &reqwest::Client,
    base: &str,
    round: u64,
) -> Result<Beacon, DrandError> {
    let url = format!(
        "{}/{}/public/{round}",
        base.trim_end_matches('/'),
        QUICKNET_CHAIN_HASH_HEX
    );
    let fetch = |reason: String| DrandError::Fetch {
        url: url.clone(),
        reason,
    };
    let malformed = |reason: String| DrandError::Malformed {
        url: url.clone(),
        reason,
    };
    let mut resp = client
        .get(&url)
        .send()
        .await
        .map_err(|e| fetch(e.to_string()))?;
    match resp.status().as_u16() {
        200..=299 => {}
        404 | 425 => {
            return Err(DrandError::NotYetPublished {
                url: url.clone(),
                round,
            })
        }
        s => return Err(fetch(format!("HTTP {s}"))),
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| fetch(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BEACON_BYTES {
            return Err(malformed(format!("reply over {MAX_BEACON_BYTES} bytes")));
        }
    }
    let b: BeaconJson = serde_json::from_slice(&body).map_err(|e| malformed(e.to_string()))?;
    if b.round != round {
        return Err(malformed(format!(
            "asked for round {round}, got {}",
            b.round
        )));
    }
    let signature = hex::decode(&b.signature).map_err(|e| malformed(format!("signature: {e}")))?;
    match sn17_chain::crv3::verify_round_signature(round, &signature) {
        Ok(true) => {}
        Ok(false) => {
            return Err(DrandError::BadSignature {
                round,
                reason: "pairing check failed".into(),
            })
        }
        Err(e) => {
            return Err(DrandError::BadSignature {
                round,
                reason: e.to_string(),
            })
        }
    }
    let randomness: [u8; 32] = Sha256::digest(&signature).into();
    if let Some(r) = &b.randomness {
        if !r.eq_ignore_ascii_case(&hex::encode(randomness)) {
            return Err(malformed("randomness is not SHA-256(signature)".into()));
        }
    }
    Ok(Beacon {
        round,
        randomness,
        signature,
    })
}

/// The verifiable seed of `round` given the timestamp (unix milliseconds, as `Timestamp.Now`
/// stores it) of its `latest_reveal_block`.
pub async fn drand_seed(
    client: &reqwest::Client,
    base: &str,
    netuid: u16,
    round: u64,
    block: u64,
    block_time_ms: u64,
) -> Result<DrandSeed, DrandError> {
    let block_time = block_time_ms / 1000;
    let drand_round = drand_round_after(block_time);
    let beacon = fetch_beacon(client, base, drand_round).await?;
    Ok(DrandSeed {
        netuid,
        round,
        block,
        block_time,
        drand_chain: QUICKNET_CHAIN_HASH_HEX.to_string(),
        drand_round,
        randomness: hex::encode(beacon.randomness),
        signature: hex::encode(&beacon.signature),
        seed: derive_seed(netuid, round, drand_round, &beacon.randomness),
    })
}

#[cfg(test)]
mod tests;
