//! `sn17 miner run` and `sn17 miner pod`: the miner role.
//!
//! `run` registers the hotkey when asked (with a price limit), follows the competition's state
//! repository, commits `{repo, commit, cdn_url}` in each round's reveal window (timelocked when
//! the runtime reveals commitments, as 404's `commit` does), generates the round's outputs with
//! its pod (the pod API) or the demo generator, serves them over HTTP as its CDN (or leaves
//! them for an external `cdn_url`), and publishes a signed manifest over gossip.
//! `pod` serves a generator behind 404's pod API (the demo generator ships).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sn17_chain::commitments::Commitment404;
use sn17_chain::PairSigner;
use sn17_storage::state_repo::{self, layout, prompt_stem, Prompts, Seed, Stage, State, StateRepo};
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::p2p::{start_node, P2pArgs};
use crate::datadir::DataDir;
use crate::devnet::demo::DemoGenerator;
use crate::gossip::message::{FileHash, SubmissionManifest};
use crate::gossip::{Envelope, Payload};
use crate::pod::client::{PodClient, PodTimeouts};
use crate::pod::server::{Generator, PodServer};
use crate::pod::PromptRef;
use crate::static_server::StaticServer;
use crate::validator::Events;

#[derive(Subcommand, Debug)]
pub enum MinerCommand {
    /// Follow the competition: commit, generate each round's outputs, serve them, gossip them.
    Run(Box<MinerArgs>),
    /// Serve a generator behind 404's pod API (`/health`, `/status`, `/generate`, `/results`).
    Pod {
        /// Address to listen on (404's pods use port 10006).
        #[arg(long, default_value = "127.0.0.1:10006")]
        listen: SocketAddr,
        /// Serve sn17's demo generator for this repository name.
        #[arg(long = "demo-repo")]
        demo_repo: String,
        /// The demo generator's quality (0–1; default from the repository name).
        #[arg(long = "demo-quality")]
        demo_quality: Option<f32>,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct MinerArgs {
    #[command(flatten)]
    pub p2p: P2pArgs,
    #[command(flatten)]
    pub state: crate::datadir::StateRemoteArgs,
    /// owner/name of the generator's repository (committed on chain).
    #[arg(long, env = "SN17_MINER_REPO")]
    pub repo: String,
    /// 40-hex git commit of the generator (default with --demo: derived from the repo name).
    #[arg(long, env = "SN17_MINER_COMMIT")]
    pub commit: Option<String>,
    /// Generate through this pod API endpoint (`sn17 miner pod`, or the miner's own image).
    #[arg(long = "generator-url", env = "SN17_GENERATOR_URL")]
    pub generator_url: Option<String>,
    /// Generate with sn17's demo generator (devnets).
    #[arg(long)]
    pub demo: bool,
    /// Milliseconds between pod status polls.
    #[arg(long = "pod-poll-ms", default_value_t = 2_000)]
    pub pod_poll_ms: u64,
    /// An external CDN base URL to commit; outputs are still written to the outputs folder.
    #[arg(long = "cdn-url", env = "SN17_CDN_URL")]
    pub cdn_url: Option<String>,
    /// Serve the outputs folder here when no --cdn-url is given.
    #[arg(
        long = "cdn-listen",
        env = "SN17_CDN_LISTEN",
        default_value = "0.0.0.0:9618"
    )]
    pub cdn_listen: SocketAddr,
    /// The public URL of the served folder (default http://<cdn-listen>).
    #[arg(long = "cdn-public-url", env = "SN17_CDN_PUBLIC_URL")]
    pub cdn_public_url: Option<String>,
    /// Output extension (`{stem}.{ext}` on the CDN).
    #[arg(long = "output-ext", default_value = "ply")]
    pub output_ext: String,
    /// Register the hotkey (burned registration, the coldkey pays) when it is not registered.
    #[arg(long)]
    pub register: bool,
    /// Refuse to pay more than this many TAO to register.
    #[arg(long = "max-price")]
    pub max_price: Option<f64>,
    /// Blocks until a timelocked commitment reveals (404: 2).
    #[arg(long = "reveal-blocks", default_value_t = 2)]
    pub reveal_blocks: u64,
    /// Commit in plain text even where the runtime reveals timelocked commitments.
    #[arg(long = "plain-commitment")]
    pub plain_commitment: bool,
    /// Publish 404's two commitments per round (`{"commit"}`, then `{"repo", "cdn_url"}`);
    /// `--two-step false` publishes one with all three fields (404 accepts both).
    #[arg(long = "two-step", default_value_t = true, action = clap::ArgAction::Set)]
    pub two_step: bool,
    /// Milliseconds between state repository polls.
    #[arg(long = "poll-ms", default_value_t = 12_000)]
    pub poll_ms: u64,
    /// Exit 0 once this many rounds are over.
    #[arg(long = "exit-after-rounds")]
    pub exit_after_rounds: Option<u64>,
}

/// What the miner has done, kept in `<data-dir>/miner.json` so a restart does not redo it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    committed_round: Option<u64>,
    /// With two-step commitments: the round whose `{"commit"}` is on chain.
    #[serde(default)]
    hash_committed_round: Option<u64>,
    generated_round: Option<u64>,
}

impl Progress {
    fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// The demo generator's commit: derived from the repository name.
pub fn demo_commit(repo: &str) -> String {
    hex::encode(Sha256::digest(repo.as_bytes()))[..40].to_string()
}

pub async fn run(g: &GlobalArgs, cmd: MinerCommand) -> anyhow::Result<()> {
    match cmd {
        MinerCommand::Run(args) => run_miner(g, *args).await,
        MinerCommand::Pod {
            listen,
            demo_repo,
            demo_quality,
        } => {
            let quality =
                demo_quality.unwrap_or_else(|| crate::devnet::miner::quality_of(&demo_repo));
            let generator = Arc::new(DemoGenerator {
                repo: demo_repo,
                quality,
            });
            let server = PodServer::start(listen, generator).await?;
            Events { json: g.json }
                .emit(serde_json::json!({"event": "ready", "url": server.url()}));
            if !g.json {
                println!("pod API on {}", server.url());
            }
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}

/// The round's prompts and seed, read at the remote's tip.
fn round_inputs(
    repo: &StateRepo,
    tip: state_repo::Oid,
    round: u64,
) -> anyhow::Result<(Vec<PromptRef>, u32)> {
    let src = repo.at(Some(tip))?;
    let prompts: Prompts = state_repo::read(&src, &layout::round_file(round, layout::PROMPTS))?
        .context("the round has no prompts.txt yet")?;
    let seed: Seed = state_repo::read(&src, &layout::round_file(round, layout::SEED))?
        .context("the round has no seed.json yet")?;
    let prompts = prompts
        .0
        .iter()
        .map(|url| PromptRef {
            stem: prompt_stem(url).to_string(),
            image_url: url.clone(),
        })
        .collect();
    Ok((prompts, seed.0))
}

enum Source {
    Pod(PodClient),
    Local(Arc<dyn Generator>),
}

/// Generates every prompt; returns (stem, bytes) of the outputs that succeeded.
async fn generate(
    source: &Source,
    prompts: &[PromptRef],
    seed: u32,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    match source {
        Source::Pod(client) => {
            let batch = client.run_batch(prompts, seed).await?;
            for (stem, reason) in &batch.results.failed {
                tracing::warn!(%stem, %reason, "generation failed");
            }
            Ok(batch.results.outputs.into_iter().collect())
        }
        Source::Local(generator) => {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?;
            let mut out = Vec::new();
            for p in prompts {
                let image = http
                    .get(&p.image_url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .with_context(|| format!("prompt image {}", p.image_url))?
                    .bytes()
                    .await?
                    .to_vec();
                let generator = generator.clone();
                let stem = p.stem.clone();
                let result =
                    tokio::task::spawn_blocking(move || generator.generate(&stem, &image, seed))
                        .await?;
                match result {
                    Ok(bytes) => out.push((p.stem.clone(), bytes)),
                    Err(reason) => tracing::warn!(stem = %p.stem, %reason, "generation failed"),
                }
            }
            Ok(out)
        }
    }
}

/// Writes outputs into the CDN folder (temporary name, then rename: a validator never reads a
/// half-written file).
fn write_outputs(
    dir: &Path,
    ext: &str,
    outputs: &[(String, Vec<u8>)],
) -> anyhow::Result<Vec<FileHash>> {
    let mut files = Vec::new();
    for (stem, bytes) in outputs {
        let path = dir.join(format!("{stem}.{ext}"));
        let tmp = dir.join(format!(".{stem}.{ext}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        files.push(FileHash {
            stem: stem.clone(),
            sha256: Sha256::digest(bytes).into(),
        });
    }
    Ok(files)
}

async fn commit(
    client: &sn17_chain::Subtensor,
    netuid: u16,
    hotkey: &PairSigner,
    text: &str,
    args: &MinerArgs,
) -> anyhow::Result<serde_json::Value> {
    let timelock =
        !args.plain_commitment && crate::engine::chain_view::has_revealed_commitments(client);
    if timelock {
        let (included, round) = client
            .set_reveal_commitment(netuid, hotkey, text, args.reveal_blocks)
            .await?;
        Ok(
            serde_json::json!({"timelocked": true, "reveal_round": round, "events": included.events}),
        )
    } else {
        let included = client.set_commitment_text(netuid, hotkey, text).await?;
        Ok(serde_json::json!({"timelocked": false, "events": included.events}))
    }
}

async fn run_miner(g: &GlobalArgs, mut args: MinerArgs) -> anyhow::Result<()> {
    let events = Events { json: g.json };
    let data = DataDir::for_role(args.p2p.data_dir.as_deref(), "miner");
    args.p2p.data_dir = Some(data.0.clone());
    let outputs = data.outputs();
    std::fs::create_dir_all(&outputs).with_context(|| format!("creating {}", outputs.display()))?;
    let progress_path = data.0.join("miner.json");
    let mut progress = Progress::load(&progress_path);

    let commit_sha = match (&args.commit, args.demo) {
        (Some(c), _) => c.clone(),
        (None, true) => demo_commit(&args.repo),
        (None, false) => anyhow::bail!("--commit is required (the generator's 40-hex git commit)"),
    };
    let source = match (&args.generator_url, args.demo) {
        (Some(url), _) => Source::Pod(PodClient::new(
            url,
            None,
            PodTimeouts {
                poll: Duration::from_millis(args.pod_poll_ms),
                ..PodTimeouts::default()
            },
        )?),
        (None, true) => Source::Local(Arc::new(DemoGenerator {
            repo: args.repo.clone(),
            quality: crate::devnet::miner::quality_of(&args.repo),
        })),
        (None, false) => anyhow::bail!("pass --generator-url URL (a pod API) or --demo"),
    };

    let wallet = g.wallet()?;
    let hotkey = crate::commands::hotkey_signer(&wallet)?;
    let client = g.connect().await?;
    let netuid = g.netuid;
    let head = client.head().await?;
    if client
        .uid_of(netuid, &hotkey.account(), head)
        .await?
        .is_none()
    {
        anyhow::ensure!(
            args.register,
            "hotkey {} is not registered on subnet {netuid}: pass --register (and --max-price)",
            hotkey.account()
        );
        let coldkey = crate::commands::coldkey_signer(&wallet)?;
        let limit = args.max_price.map(|t| (t * 1e9) as u64);
        // Registrations per block and per interval are limited; other miners may be
        // registering in the same block, so a refusal is retried a few times.
        let mut attempt = 0;
        let reg = loop {
            attempt += 1;
            match client
                .burned_register(netuid, &coldkey, &hotkey.account(), limit)
                .await
            {
                Ok(r) => break r,
                Err(e @ sn17_chain::ChainError::InvalidArgument(_)) => {
                    return Err(e).context("registering the hotkey")
                }
                Err(e) if attempt < 10 => {
                    tracing::info!(error = %e, attempt, "registration refused; retrying");
                    tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
                }
                Err(e) => return Err(e).context("registering the hotkey"),
            }
        };
        events.emit(serde_json::json!({"event": "registered", "uid": reg.uid()}));
    }

    // The CDN.
    let (cdn_url, _cdn) = match &args.cdn_url {
        Some(url) => (url.trim_end_matches('/').to_string(), None),
        None => {
            let server = StaticServer::start_on(args.cdn_listen, outputs.clone())
                .await
                .with_context(|| format!("serving outputs on {}", args.cdn_listen))?;
            let url = match &args.cdn_public_url {
                Some(u) => u.trim_end_matches('/').to_string(),
                None if args.cdn_listen.ip().is_unspecified() => anyhow::bail!(
                    "--cdn-listen {} is every interface: pass --cdn-public-url http://YOUR_IP:PORT",
                    args.cdn_listen
                ),
                None => server.url().to_string(),
            };
            (url, Some(server))
        }
    };
    let commitment = |repo: bool, commit: bool, cdn: bool| {
        Commitment404 {
            repo: repo.then(|| args.repo.clone()),
            commit: commit.then(|| commit_sha.clone()),
            cdn_url: cdn.then(|| cdn_url.clone()),
        }
        .to_json()
    };
    let full_text = commitment(true, true, true);
    let hash_text = commitment(false, true, false);
    let location_text = commitment(true, false, true);

    let shutdown = CancellationToken::new();
    let node = start_node(g, &args.p2p, None, &shutdown).await?;
    let repo = StateRepo::open_or_clone(data.state(), None, &args.state.state_branch)?;
    if repo.fetch("origin").is_err() {
        repo.set_remote("origin", &args.state.state_remote)?;
    }
    events.emit(serde_json::json!({
        "event": "ready", "pid": std::process::id(), "hotkey": hotkey.account().ss58(),
        "cdn_url": cdn_url, "outputs": outputs.display().to_string(),
    }));

    let poll = Duration::from_millis(args.poll_ms.max(10));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let tip = match repo.fetch("origin") {
            Ok(Some(tip)) => tip,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "fetching the state repository");
                continue;
            }
        };
        let state: State = match state_repo::read(&repo.at(Some(tip))?, layout::STATE) {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "reading state.json");
                continue;
            }
        };
        let round = state.current_round;
        // Competition 0 spelled `open` and `miner_generation` as `collecting` and `generating`.
        let open = matches!(state.stage, Stage::Open | Stage::Collecting);
        if state.stage == Stage::Finished
            || args.exit_after_rounds.is_some_and(|n| round >= n && open)
        {
            break;
        }
        if open && progress.committed_round != Some(round) {
            // 404's CLI commits twice: `{"commit"}` first (its reveal block is the miner's
            // priority), then `{"repo", "cdn_url"}`.
            let first_step = args.two_step && progress.hash_committed_round != Some(round);
            let text = match (args.two_step, first_step) {
                (false, _) => &full_text,
                (true, true) => &hash_text,
                (true, false) => &location_text,
            };
            match commit(&client, netuid, &hotkey, text, &args).await {
                Ok(info) => {
                    if first_step {
                        progress.hash_committed_round = Some(round);
                    } else {
                        progress.committed_round = Some(round);
                    }
                    progress.save(&progress_path)?;
                    events.emit(serde_json::json!({
                        "event": if first_step { "committed_hash" } else { "committed" },
                        "round": round, "commitment": text, "chain": info,
                    }));
                }
                // Rate or space limits of the Commitments pallet: try again on the next poll.
                Err(e) => {
                    tracing::info!(error = %format!("{e:#}"), "commitment not accepted yet; retrying")
                }
            }
        }
        let generating = matches!(state.stage, Stage::MinerGeneration | Stage::Generating);
        if generating && progress.generated_round != Some(round) {
            let (prompts, seed) = match round_inputs(&repo, tip, round) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "round inputs");
                    continue;
                }
            };
            let generated = match generate(&source, &prompts, seed).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "generation failed; retrying");
                    continue;
                }
            };
            let files = write_outputs(&outputs, &args.output_ext, &generated)?;
            progress.generated_round = Some(round);
            progress.save(&progress_path)?;
            events.emit(serde_json::json!({"event": "generated", "round": round, "files": files.len(), "prompts": prompts.len()}));
            let head = client.head().await.map(|h| h.number).unwrap_or(0);
            let manifest = SubmissionManifest {
                round,
                miner: hotkey.account().0,
                repo: args.repo.clone(),
                commit: commit_sha.clone(),
                cdn_url: cdn_url.clone(),
                files,
            };
            let envelope = Envelope::sign(
                netuid,
                head,
                hotkey.account().0,
                Payload::Manifest(manifest),
                |m| hotkey.sign_bytes(m),
            );
            match node.handle.publish(envelope).await {
                Ok(p) if p.sent => {
                    events.emit(serde_json::json!({"event": "manifest_published", "round": round}))
                }
                Ok(_) => tracing::info!("no gossip peer subscribed; manifest not sent"),
                Err(e) => tracing::warn!(error = %e, "publishing the manifest"),
            }
        }
    }
    shutdown.cancel();
    events.emit(serde_json::json!({"event": "stopped"}));
    Ok(())
}
