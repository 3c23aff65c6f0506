//! `sn17 gossip …`: a read-only subscriber printing validated messages, and miners' manifest
//! publishing.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Subcommand;
use tokio_util::sync::CancellationToken;

use super::p2p::{start_node, P2pArgs};
use crate::cli::GlobalArgs;
use crate::gossip::message::{FileHash, Payload, SubmissionManifest};
use crate::gossip::{Envelope, Kind};

#[derive(Subcommand, Debug)]
pub enum GossipCommand {
    /// Join the network and print every validated message (one JSON object per line with
    /// --json).
    Tail {
        #[command(flatten)]
        p2p: P2pArgs,
        /// Only this topic: seeds, manifests, results or leaders.
        #[arg(long)]
        topic: Option<String>,
        /// Exit after this many messages.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Sign a submission manifest with the wallet's hotkey and publish it.
    PublishManifest {
        #[command(flatten)]
        p2p: P2pArgs,
        #[arg(long)]
        round: u64,
        /// GitHub `owner/name`.
        #[arg(long)]
        repo: String,
        /// Commit SHA.
        #[arg(long)]
        commit: String,
        #[arg(long = "cdn-url")]
        cdn_url: String,
        /// A generated file: STEM=SHA256HEX (repeatable).
        #[arg(long = "file")]
        files: Vec<String>,
        /// Block to sign at (default: the metagraph's head estimate).
        #[arg(long)]
        block: Option<u64>,
        /// Seconds to wait for a peer to send to.
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
}

pub async fn run(g: &GlobalArgs, cmd: GossipCommand) -> anyhow::Result<()> {
    match cmd {
        GossipCommand::Tail {
            mut p2p,
            topic,
            count,
        } => {
            let only = match &topic {
                Some(t) => Some(Kind::parse(t).with_context(|| {
                    format!("unknown topic {t:?} (seeds, manifests, results, leaders)")
                })?),
                None => None,
            };
            p2p.ephemeral = true;
            if p2p.listen.is_empty() {
                p2p.listen = vec!["/ip4/0.0.0.0/tcp/0".parse()?];
            }
            let shutdown = CancellationToken::new();
            let node = start_node(g, &p2p, None, &shutdown).await?;
            let mut rx = node.handle.subscribe();
            let mut seen = 0usize;
            loop {
                let msg = tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    m = rx.recv() => m,
                };
                let msg = match msg {
                    Ok(m) => m,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!("skipped {n} messages (output too slow)");
                        continue;
                    }
                    Err(_) => break,
                };
                if only.is_some_and(|k| k != msg.kind) {
                    continue;
                }
                if g.json {
                    println!("{}", serde_json::to_string(&msg.to_json())?);
                } else {
                    let e = &msg.envelope;
                    println!(
                        "{} round {} block {} from {} via {}  {}",
                        msg.kind,
                        e.payload.round(),
                        e.block,
                        e.signer_account(),
                        msg.peer,
                        &msg.id[..16]
                    );
                }
                seen += 1;
                if count.is_some_and(|c| seen >= c) {
                    break;
                }
            }
            shutdown.cancel();
            Ok(())
        }
        GossipCommand::PublishManifest {
            mut p2p,
            round,
            repo,
            commit,
            cdn_url,
            files,
            block,
            wait,
        } => {
            let files = files
                .iter()
                .map(|f| parse_file(f))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let wallet = g.wallet()?;
            let key = wallet
                .hotkey(&super::password_source())
                .context("loading the hotkey")?;
            p2p.ephemeral = true;
            if p2p.listen.is_empty() {
                p2p.listen = vec!["/ip4/0.0.0.0/tcp/0".parse()?];
            }
            let shutdown = CancellationToken::new();
            let node = start_node(g, &p2p, None, &shutdown).await?;
            let until = Instant::now() + Duration::from_secs(wait);
            // Wait for a peer and one gossipsub heartbeat so the mesh exists.
            while node.handle.peers().await?.is_empty() && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let block = block.unwrap_or_else(|| node.metagraph.snapshot().head());
            let payload = Payload::Manifest(SubmissionManifest {
                round,
                miner: key.public(),
                repo,
                commit,
                cdn_url,
                files,
            });
            let env = Envelope::sign_with(g.netuid, block, &key, payload);
            let published = node.handle.publish(env).await?;
            // A message kept for lack of peers leaves when one subscribes.
            while node.handle.stats().await?.pending > 0 && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let sent = node.handle.stats().await?.pending == 0;
            // Let the connection handler flush the frame before the swarm stops.
            tokio::time::sleep(Duration::from_millis(500)).await;
            shutdown.cancel();
            if g.json {
                crate::output::json(&serde_json::json!({ "id": published.id, "sent": sent }))?;
            } else {
                println!("{}", published.id);
            }
            anyhow::ensure!(sent, "no peer to send the manifest to within {wait} s");
            Ok(())
        }
    }
}

fn parse_file(s: &str) -> anyhow::Result<FileHash> {
    let (stem, hash) = s
        .split_once('=')
        .with_context(|| format!("--file {s:?}: expected STEM=SHA256HEX"))?;
    let sha256: [u8; 32] = hex::decode(hash)
        .ok()
        .and_then(|v| v.try_into().ok())
        .with_context(|| format!("--file {s:?}: the hash is not 32 hex bytes"))?;
    Ok(FileHash {
        stem: stem.to_string(),
        sha256,
    })
}
