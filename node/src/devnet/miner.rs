//! Devnet miners: a hotkey, a CDN folder served over HTTP, a commitment, and the demo generator.
//! Some misbehave on purpose so a devnet round shows each failure path.

use std::path::PathBuf;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use sn17_chain::commitments::Commitment404;
use sn17_chain::{PairSigner, Subtensor};

use sn17_node::gossip::message::FileHash;

use super::demo;
use crate::static_server::StaticServer;

/// How a devnet miner behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Commits but its CDN serves nothing.
    ServesNothing,
    /// Serves files over the validator's size cap.
    Oversized,
    /// Commits a malformed commitment (not 404's JSON).
    MalformedCommitment,
}

pub struct DevMiner {
    pub index: usize,
    pub hotkey: PairSigner,
    pub coldkey: PairSigner,
    pub repo: String,
    pub quality: f32,
    pub behaviour: Behaviour,
    pub dir: PathBuf,
    pub cdn: StaticServer,
}

/// A devnet miner's repository name, which its generator's quality derives from.
pub fn repo_of(index: usize) -> String {
    format!("devnet/miner-{index}")
}

/// Quality of the demo generator behind each repo: later miners are better, so a devnet round
/// has a clear winner; the base miner is the weakest.
pub fn quality_of(repo: &str) -> f32 {
    match repo
        .strip_prefix("devnet/miner-")
        .and_then(|i| i.parse::<u32>().ok())
    {
        Some(i) => (0.45 + 0.15 * i as f32).min(0.95),
        None => 0.2,
    }
}

impl DevMiner {
    pub async fn new(
        index: usize,
        behaviour: Behaviour,
        root: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let dir = root.join(format!("miner-{index}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let cdn = StaticServer::start(dir.clone()).await?;
        let repo = repo_of(index);
        Ok(Self {
            index,
            hotkey: PairSigner::dev(&format!("//sn17-devnet/miner-{index}/hot"))?,
            coldkey: PairSigner::dev(&format!("//sn17-devnet/miner-{index}/cold"))?,
            quality: quality_of(&repo),
            repo,
            behaviour,
            dir,
            cdn,
        })
    }

    /// The commit hash a real miner would publish (here: derived from the repo name).
    pub fn commit(&self) -> String {
        hex::encode(Sha256::digest(self.repo.as_bytes()))[..40].to_string()
    }

    /// Publishes the miner's commitment (one JSON object with all three fields, which 404 accepts).
    pub async fn publish(&self, client: &Subtensor, netuid: u16) -> anyhow::Result<()> {
        let text = match self.behaviour {
            Behaviour::MalformedCommitment => format!("repo={} commit=?", self.repo),
            _ => Commitment404 {
                repo: Some(self.repo.clone()),
                commit: Some(self.commit()),
                cdn_url: Some(self.cdn.url().to_string()),
            }
            .to_json(),
        };
        client
            .set_commitment_text(netuid, &self.hotkey, &text)
            .await
            .with_context(|| format!("miner {}: publishing its commitment", self.index))?;
        Ok(())
    }

    /// Generates the round's outputs into the CDN folder; returns each file's SHA-256.
    pub fn generate(
        &self,
        prompts: &[(String, Vec<u8>)],
        seed: u32,
    ) -> anyhow::Result<Vec<FileHash>> {
        let mut written = Vec::new();
        for (stem, png) in prompts {
            let path = self.dir.join(format!("{stem}.ply"));
            match self.behaviour {
                Behaviour::ServesNothing => continue,
                Behaviour::Oversized => {
                    // Twice the devnet validator's cap: the download must stop at the cap.
                    let junk = vec![b'x'; 2 * super::MAX_OUTPUT_BYTES as usize];
                    std::fs::write(&path, junk)?;
                }
                Behaviour::MalformedCommitment => {
                    let ply = demo::generate(&self.repo, self.quality, stem, png, seed)?;
                    std::fs::write(&path, ply)?;
                }
            }
            let bytes = std::fs::read(&path)?;
            written.push(FileHash {
                stem: stem.clone(),
                sha256: Sha256::digest(&bytes).into(),
            });
        }
        Ok(written)
    }
}
