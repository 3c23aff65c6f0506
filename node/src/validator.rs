//! `sn17 validator run`: the validator role as a long-running process.
//!
//! It follows the chain and runs the competition's rounds through the round engine (schedule,
//! seed, prompts, submissions from revealed commitments, downloads, renders with the best
//! backend, duels and timeline, audits by regeneration on the miners' pods, leader update),
//! writes the state repository and RocksDB, gossips seeds and results, and sets weights at
//! 404's cadence. Every step is idempotent and recorded before it is applied, so a validator
//! killed at any point resumes where it was; SIGINT/SIGTERM stop it after the current step.

pub mod bench;
pub mod clock;
pub mod judge;
pub mod status;
pub mod weights;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sn17_chain::PairSigner;
use sn17_storage::db::{Store, StoreOptions};
use sn17_storage::state_repo::{
    layout, GitBatcher, LeaderEntry, PushPolicy, PushTarget, Stage, State, StateRepo,
};
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::p2p::{start_node, P2pArgs};
use crate::datadir::DataDir;
use crate::engine::chain_view::SubtensorView;
use crate::engine::download::{BlobStore, DownloadConfig, Fetcher};
use crate::engine::round::{Clock, EngineConfig, RoundEngine, Step, SystemClock};
use crate::gossip::{publish, records, Envelope, GossipHandle, Payload};
use crate::pod::audit::AuditLimits;
use crate::pod::client::PodTimeouts;
use crate::pod::provider::StaticPods;
use clock::ChainClock;
use status::{bump, Status};
use weights::{Tick, WeightsSetter};

#[derive(clap::Args, Debug, Clone)]
pub struct ValidatorArgs {
    #[command(flatten)]
    pub p2p: P2pArgs,
    #[command(flatten)]
    pub state: crate::datadir::StateRemoteArgs,
    /// Prometheus metrics and JSON status (`/metrics`, `/status`, `/health`).
    #[arg(long, env = "SN17_METRICS", default_value = "127.0.0.1:9616")]
    pub metrics: SocketAddr,
    /// auto, cpu, wgpu or cuda.
    #[arg(long, env = "SN17_BACKEND", default_value = "auto")]
    pub backend: String,
    /// Side of the judge's views (default: the judge rig's 1024).
    #[arg(long = "view-size", env = "SN17_VIEW_SIZE")]
    pub view_size: Option<u32>,
    /// OpenAI-compatible VLM endpoint for duels.
    #[arg(long = "vlm-url", env = "SN17_VLM_URL")]
    pub vlm_url: Option<String>,
    /// The served model name (404 serves GLM-4.6V-Flash as `glm-4.6v-flash`).
    #[arg(
        long = "vlm-model",
        env = "SN17_VLM_MODEL",
        default_value = sn17_judge::vlm::config::DEFAULT_MODEL
    )]
    pub vlm_model: String,
    /// Environment variable that holds the VLM API key (default: SN17_VLM_API_KEY, then OPENAI_API_KEY).
    #[arg(long = "vlm-api-key-env", env = "SN17_VLM_API_KEY_ENV")]
    pub vlm_api_key_env: Option<String>,
    /// Seconds per VLM call (404: 120).
    #[arg(long = "vlm-timeout", env = "SN17_VLM_TIMEOUT_SECS")]
    pub vlm_timeout: Option<f64>,
    /// VLM calls in flight (404: 32).
    #[arg(long = "vlm-concurrency", env = "SN17_VLM_MAX_CONCURRENCY")]
    pub vlm_concurrency: Option<usize>,
    /// DINOv3 model.safetensors (facebook/dinov3-vits16-pretrain-lvd1689m): embeds every rendered side so
    /// Stage 2A's best view runs; without it duels go without embeddings.
    #[arg(long = "dinov3-weights", env = "SN17_DINOV3_WEIGHTS")]
    pub dinov3_weights: Option<std::path::PathBuf>,
    /// Judge with the offline judge when no VLM is given (devnets; not production verdicts). Refused on
    /// finney without the override below.
    #[arg(long = "offline-judge")]
    pub offline_judge: bool,
    /// Allow --offline-judge on finney (mainnet). Its verdicts are NOT production verdicts.
    #[arg(long = "i-know-offline-judge-is-not-production-on-mainnet")]
    pub offline_judge_on_mainnet: bool,
    /// Miner pods for regeneration, `owner/repo=http://HOST:PORT` or a catch-all URL.
    #[arg(long = "audit-pod", env = "SN17_AUDIT_PODS", value_delimiter = ',')]
    pub audit_pods: Vec<String>,
    /// Bearer token sent to pods.
    #[arg(
        long = "audit-pod-token",
        env = "SN17_AUDIT_POD_TOKEN",
        hide_env_values = true
    )]
    pub audit_pod_token: Option<String>,
    /// Milliseconds between pod status polls (404: 10 s).
    #[arg(long = "pod-poll-ms", default_value_t = 10_000)]
    pub pod_poll_ms: u64,
    /// Blocks between weight settings (404: 1800 s).
    #[arg(long = "weights-interval", default_value_t = weights::DEFAULT_INTERVAL_BLOCKS)]
    pub weights_interval: u64,
    /// UID that receives `1 − w` (default: the subnet owner's registered hotkey).
    #[arg(long = "owner-uid", env = "SN17_OWNER_UID")]
    pub owner_uid: Option<u16>,
    /// Milliseconds between chain polls while waiting.
    #[arg(long = "poll-ms", default_value_t = 12_000)]
    pub poll_ms: u64,
    /// Anchor time to blocks, `BLOCK@UNIX_SECONDS` (devnets that build blocks on demand).
    #[arg(long = "clock-anchor")]
    pub clock_anchor: Option<String>,
    /// How round seeds are drawn: `csprng` (404's) or `drand` (verifiable from a public drand
    /// quicknet beacon fixed by the schedule; see README).
    #[arg(long, value_enum, env = "SN17_SEED", default_value = "csprng")]
    pub seed: crate::commands::competition::SeedChoice,
    /// drand HTTP API for `--seed drand`.
    #[arg(long = "drand-url", env = "SN17_DRAND_URL", default_value = crate::engine::seed::DEFAULT_DRAND_URL)]
    pub drand_url: String,
    /// Exit 0 once this many rounds are finished and the resulting weights are set.
    #[arg(long = "exit-after-rounds")]
    pub exit_after_rounds: Option<u64>,
    /// Per-output download cap in bytes.
    #[arg(long = "max-output-bytes", default_value_t = 256 << 20)]
    pub max_output_bytes: u64,
    /// Output file extension miners serve (`{cdn_url}/{stem}.{ext}`).
    #[arg(long = "output-ext", default_value = "ply")]
    pub output_ext: String,
    #[arg(long = "download-concurrency", default_value_t = 10)]
    pub download_concurrency: usize,
    /// Seconds of random delay before each download (404: 300).
    #[arg(long = "download-jitter", default_value_t = 0)]
    pub download_jitter: u64,
    /// Allow miners' CDN URLs on private addresses (local devnets).
    #[arg(long = "allow-private-cdn")]
    pub allow_private_cdn: bool,
}

/// Machine-readable progress on stdout (with `--json`): one JSON object per line.
#[derive(Clone, Copy, Debug)]
pub struct Events {
    pub json: bool,
}

impl Events {
    pub fn emit(&self, v: serde_json::Value) {
        if self.json {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
    }
}

/// Signs `payload` with `hotkey` at `block` and publishes it; a few tries while no peer is
/// subscribed, never blocking a round for long (gossip is best-effort, the state repository is
/// the record). True when a peer took it.
pub async fn publish_signed(
    gossip: &GossipHandle,
    netuid: u16,
    hotkey: &PairSigner,
    block: u64,
    payload: Payload,
) -> bool {
    let envelope = Envelope::sign(netuid, block, hotkey.account().0, payload, |m| {
        hotkey.sign_bytes(m)
    });
    for _ in 0..40 {
        match gossip.publish(envelope.clone()).await {
            Ok(p) if p.sent => return true,
            Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            Err(e) => {
                tracing::warn!(error = %e, "gossip publish failed");
                return false;
            }
        }
    }
    tracing::warn!("no gossip peer subscribed; message not sent");
    false
}

/// What the validator gossips with: its node, subnet, hotkey and state remote.
struct Publisher<'a> {
    gossip: &'a GossipHandle,
    netuid: u16,
    hotkey: &'a PairSigner,
    remote: &'a str,
    status: &'a Status,
}

/// Publishes what the state repository says and this validator has not sent yet: the current
/// round's seed and the previous round's result and leader entry. A marker per message in the
/// database (written after sending) keeps a restarted validator from sending twice.
async fn gossip_catch_up<C, J>(engine: &RoundEngine<C, J>, out: &Publisher<'_>, head: u64) {
    let Ok(Some(state)) = engine.repo.read::<State>(layout::STATE) else {
        return;
    };
    let round = state.current_round;
    let finished = if matches!(state.stage, Stage::Finished) {
        Some(round)
    } else {
        round.checked_sub(1)
    };
    // Markers first: in steady state everything is sent and the repository is not read.
    // Markers live under their own key prefix, out of the explorer's message scans.
    let unsent = |what: &str| !records::was_sent(&engine.store, what).unwrap_or(false);
    let mut pending: Vec<(String, Payload)> = Vec::new();
    let seed_key = format!("seed/{round}");
    if unsent(&seed_key) {
        match publish::round_seed(&engine.repo, round, out.remote, Some(&engine.store)) {
            Ok(Some(seed)) => pending.push((seed_key, Payload::Seed(seed))),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, round, "reading the round's seed for gossip"),
        }
    }
    if let Some(done) = finished {
        // Each marker is read once: which of the round's two messages still need sending.
        let (result_unsent, leader_unsent) = (
            unsent(&format!("result/{done}")),
            unsent(&format!("leader/{done}")),
        );
        if result_unsent || leader_unsent {
            let outcome = publish::round_outcome(&engine.repo, done, out.remote);
            if let Err(e) = &outcome {
                tracing::warn!(error = %e, round = done, "reading the round's result for gossip");
            }
            for payload in outcome.unwrap_or_default() {
                let (kind, wanted) = match &payload {
                    Payload::Result(_) => ("result", result_unsent),
                    _ => ("leader", leader_unsent),
                };
                if wanted {
                    pending.push((format!("{kind}/{done}"), payload));
                }
            }
        }
    }
    for (what, payload) in pending {
        if publish_signed(out.gossip, out.netuid, out.hotkey, head, payload).await {
            bump(&out.status.counters.gossip_published);
            let _ = records::mark_sent(&engine.store, &what, head);
        }
    }
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn run(g: &GlobalArgs, mut args: ValidatorArgs) -> anyhow::Result<()> {
    let judge_options = judge::JudgeOptions {
        vlm_url: args.vlm_url.clone(),
        vlm_model: args.vlm_model.clone(),
        vlm_api_key_env: args.vlm_api_key_env.clone(),
        vlm_timeout_secs: args.vlm_timeout,
        vlm_concurrency: args.vlm_concurrency,
        offline: args.offline_judge,
        offline_on_mainnet: args.offline_judge_on_mainnet,
        mainnet: judge::is_mainnet(g.network.as_deref(), g.chain_endpoint.as_deref()),
        dinov3_weights: args.dinov3_weights.clone(),
    };
    // Refuse the offline judge on finney before touching the chain (`select` checks again, for
    // its other callers).
    judge::check_offline_allowed(&judge_options)?;
    let events = Events { json: g.json };
    let data = DataDir::for_role(args.p2p.data_dir.as_deref(), "validator");
    args.p2p.data_dir = Some(data.0.clone());
    std::fs::create_dir_all(&data.0).with_context(|| format!("creating {}", data.0.display()))?;
    let wallet = g.wallet()?;
    let hotkey = crate::commands::hotkey_signer(&wallet)?;
    let client = g.connect().await?;
    let netuid = g.netuid;
    let head = client.head().await?;
    let mg = client
        .metagraph_at(netuid, sn17_chain::metagraph::Source::Auto, head)
        .await?;
    let uid = mg
        .by_hotkey(&hotkey.account())
        .map(|n| n.uid)
        .with_context(|| {
            format!(
                "hotkey {} is not registered on subnet {netuid}: run `sn17 chain register` first",
                hotkey.account()
            )
        })?;

    let shutdown = CancellationToken::new();
    let status = Arc::new(Status::default());
    let metrics = status::serve(args.metrics, status.clone(), shutdown.clone())
        .await
        .with_context(|| format!("binding the metrics address {}", args.metrics))?;
    let node = start_node(g, &args.p2p, None, &shutdown).await?;

    // The engine.
    let repo = StateRepo::open_or_clone(
        data.state(),
        Some(&args.state.state_remote),
        &args.state.state_branch,
    )
    .with_context(|| format!("cloning the state repository {}", args.state.state_remote))?;
    let chain_clock = match &args.clock_anchor {
        Some(spec) => {
            Some(ChainClock::parse(spec).context("--clock-anchor is BLOCK@UNIX_SECONDS")?)
        }
        None => None,
    };
    let clock: Box<dyn Clock> = match &chain_clock {
        Some(c) => Box::new(c.clone()),
        None => Box::new(SystemClock),
    };
    let store = Store::open(data.db(), &StoreOptions { sync: true })
        .with_context(|| format!("opening the database {}", data.db().display()))?;
    let blobs = BlobStore::new(data.blobs());
    let backend: sn17_gpu::Backend = args
        .backend
        .parse()
        .map_err(|e| anyhow::anyhow!("--backend: {e}"))?;
    let (duel, embedder) = judge::select(&judge_options)?;
    let pods = StaticPods::parse(&args.audit_pods, args.audit_pod_token.clone())?;
    if pods.is_empty() {
        tracing::warn!("no --audit-pod configured: leaders cannot be regenerated and winners cannot be audited");
    }
    let audit = AuditLimits {
        timeouts: PodTimeouts {
            poll: Duration::from_millis(args.pod_poll_ms),
            ..PodTimeouts::default()
        },
        ..AuditLimits::default()
    };
    let judge = judge::RoundJudge {
        duel,
        blobs: blobs.clone(),
        store: store.clone(),
        backend,
        view_size: args.view_size,
        pods: Arc::new(pods),
        audit,
        status: status.clone(),
        events,
        embedder,
    };
    let fetcher = Fetcher::new(DownloadConfig {
        max_concurrent: args.download_concurrency.max(1),
        max_bytes: args.max_output_bytes,
        ext: args.output_ext.clone(),
        start_jitter: Duration::from_secs(args.download_jitter),
        block_private_addresses: !args.allow_private_cdn,
        progress: std::io::stderr().is_terminal(),
        ..DownloadConfig::default()
    })?;
    let push = Some(PushTarget {
        remote: "origin".into(),
        policy: PushPolicy::default(),
    });
    let mut engine = RoundEngine {
        chain: SubtensorView {
            client: client.clone(),
            netuid,
        },
        judge,
        store,
        repo: GitBatcher::new(repo, Duration::from_secs(u64::MAX / 4), push).deferred(),
        fetcher,
        blobs: Some(blobs),
        clock,
        cfg: EngineConfig {
            seed: args.seed.policy(&args.drand_url, netuid),
            ..EngineConfig::default()
        },
    };
    let mut weights = WeightsSetter::new(args.weights_interval, args.owner_uid, None);

    events.emit(serde_json::json!({
        "event": "ready", "pid": std::process::id(), "uid": uid, "hotkey": hotkey.account().ss58(),
        "metrics": format!("http://{metrics}"), "peer_id": node.handle.peer_id().to_string(),
        "data_dir": data.0.display().to_string(),
    }));
    tracing::info!(uid, %metrics, data_dir = %data.0.display(), "validator running");

    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_signal().await;
        eprintln!("validator: stopping after the current step (signal again to stop now)");
        stop.cancel();
        wait_signal().await;
        std::process::exit(130);
    });

    let publisher = Publisher {
        gossip: &node.handle,
        netuid,
        hotkey: &hotkey,
        remote: &args.state.state_remote,
        status: &status,
    };
    let poll = Duration::from_millis(args.poll_ms.max(10));
    let result = loop {
        if shutdown.is_cancelled() {
            break Ok(());
        }
        let chain_head = match client.head().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "reading the chain head");
                bump(&status.counters.errors);
                sleep_or_stop(poll, &shutdown).await;
                continue;
            }
        };
        let head = chain_head.number;
        if let Some(c) = &chain_clock {
            c.set_block(head);
            engine
                .repo
                .repo_mut()
                .set_fixed_time(Some(c.now_us() / 1_000_000));
        }
        status.update(|p| p.head = head);
        let leaders: Vec<LeaderEntry> = engine.repo.read(layout::LEADER)?.unwrap_or_default();
        // Derived from the state each time, so a restarted validator finishes too.
        let finishing = match args.exit_after_rounds {
            Some(n) => engine.repo.read::<State>(layout::STATE)?.is_some_and(|s| {
                s.current_round >= n && matches!(s.stage, Stage::Open | Stage::Finished)
            }),
            None => false,
        };

        if finishing {
            gossip_catch_up(&engine, &publisher, head).await;
            // The last round is done: set the weights its leader entry gives, once in force.
            let effective = leaders.last().map_or(0, |l| l.effective_block);
            if head < effective {
                status.update(|p| {
                    p.until_block = Some(effective);
                    p.reason = "waiting for the new leader entry to take effect".into();
                });
                events.emit(serde_json::json!({"event": "wait", "until_block": effective, "reason": "leader takes effect"}));
                sleep_or_stop(poll, &shutdown).await;
                continue;
            }
            match weights
                .tick(&client, netuid, &hotkey, &leaders, chain_head, true)
                .await
            {
                Tick::Set(done) => {
                    record_weights(&status, &events, &done);
                    break Ok(());
                }
                Tick::Failed { error, .. } => {
                    bump(&status.counters.weights_failed);
                    tracing::warn!(%error, "setting weights");
                    sleep_or_stop(poll, &shutdown).await;
                    continue;
                }
                _ => continue,
            }
        }

        match weights
            .tick(&client, netuid, &hotkey, &leaders, chain_head, false)
            .await
        {
            Tick::Set(done) => record_weights(&status, &events, &done),
            Tick::Failed { error, retry_block } => {
                bump(&status.counters.weights_failed);
                tracing::warn!(%error, retry_block, "setting weights failed");
            }
            Tick::Postponed { until_block } => {
                tracing::info!(
                    until_block,
                    "weights postponed: the next leader takes over soon"
                )
            }
            Tick::NotDue => {}
        }

        let step = match engine.step().await {
            Ok(s) => s,
            Err(e) => {
                bump(&status.counters.errors);
                tracing::warn!(error = %e, "round step failed; retrying");
                events.emit(serde_json::json!({"event": "error", "error": e.to_string()}));
                sleep_or_stop(poll, &shutdown).await;
                continue;
            }
        };
        bump(&status.counters.steps);
        // Where the engine is now: (round, stage, the block it waits for, why).
        let (round, stage, until, reason) = match &step {
            Step::Advanced { round, to, .. } => {
                bump(&status.counters.stage_changes);
                (*round, to, None, "")
            }
            Step::Wait {
                round,
                stage,
                until_block,
                reason,
            } => (*round, stage, *until_block, reason.as_str()),
            Step::Idle {
                round,
                stage,
                reason,
            } => (*round, stage, None, reason.as_str()),
        };
        status.update(|p| {
            p.round = round;
            p.stage = stage.clone();
            p.until_block = until;
            p.reason = reason.to_string();
        });
        events.emit(serde_json::to_value(&step).unwrap_or_default());
        gossip_catch_up(&engine, &publisher, head).await;
        if !matches!(step, Step::Advanced { .. }) {
            sleep_or_stop(poll, &shutdown).await;
        }
    };
    let flushed = engine.repo.flush();
    shutdown.cancel();
    events.emit(serde_json::json!({"event": "stopped"}));
    flushed?;
    result
}

fn record_weights(status: &Status, events: &Events, done: &weights::WeightsDone) {
    bump(&status.counters.weights_set);
    status.update(|p| {
        p.last_weights_block = Some(done.block);
        p.leader = done.leader.clone();
    });
    tracing::info!(block = done.block, weights = ?done.weights, mode = %done.mode, "weights set");
    events.emit(serde_json::json!({"event": "weights_set", "block": done.block, "weights": done.weights, "leader": done.leader, "mode": done.mode}));
}

async fn sleep_or_stop(d: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = shutdown.cancelled() => {}
    }
}
