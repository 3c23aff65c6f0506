//! `sn17 devnet`: a whole competition round on one machine, on a real Subtensor runtime.
//!
//! chopsticks runs the runtime from a genesis spec; the devnet funds a validator and the miners,
//! creates a subnet, registers everyone, and runs the validator's round engine against that chain:
//! miners' commitments → seed and prompts → miners generate with the demo generator and serve
//! their outputs over HTTP → downloads → renders → duels (offline judge unless `--vlm-url`) →
//! leader → weights set on chain and read back → the state repository (pushed to a local bare
//! remote). Time is the chain's: the devnet builds the blocks the engine waits for, and its clock
//! is anchored to block numbers (12 s a block), so a round takes seconds, not days.

pub mod demo;
pub mod judge;
pub mod miner;
pub mod network;
pub mod static_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use sn17_chain::metagraph::Source;
use sn17_chain::{ConnectOptions, PairSigner, Subtensor};
use sn17_storage::db::{Store, StoreOptions};
use sn17_storage::state_repo::datetime::{format_datetime, parse_datetime};
use sn17_storage::state_repo::{
    layout, Config, GitBatcher, LeaderEntry, Prompts, PushPolicy, PushTarget, Seed, Stage, State,
    StateFile, StateRepo,
};

use crate::engine::chain_view::SubtensorView;
use crate::engine::download::{BlobStore, Fetcher};
use crate::engine::round::{Clock, EngineConfig, RoundEngine, Step};
use crate::engine::{leader, schedule};
use miner::{Behaviour, DevMiner};
use sn17_chain::local::{install_chopsticks, LocalChain};
use sn17_node::gossip::message::{
    LeaderChange, RoundResult as GossipResult, RoundSeed, SubmissionManifest,
};
use sn17_node::gossip::Payload;

/// The devnet validator's download cap per output file.
pub const MAX_OUTPUT_BYTES: u64 = 4 << 20;
/// Blocks between two commitments of one hotkey (the Commitments pallet's rate limit).
const COMMITMENT_RATE_LIMIT: u64 = 100;
/// The competition's (simulated) first day; the clock maps blocks onto it.
const DAY0: &str = "2026-03-01";

#[derive(clap::Args, Debug, Clone)]
pub struct DevnetArgs {
    /// Honest demo miners.
    #[arg(long, default_value_t = 3)]
    pub miners: usize,
    /// Rounds to run.
    #[arg(long, default_value_t = 1)]
    pub rounds: u64,
    /// Genesis spec with a Subtensor runtime (e.g. subtensor's scripts/specs/raonet.json).
    #[arg(long, env = "SN17_DEVNET_SPEC")]
    pub chain_spec: Option<PathBuf>,
    /// Working directory (chain log, state repository, database, CDNs); a fresh one under the
    /// system temp dir by default.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Judge with this OpenAI-compatible VLM instead of the offline judge.
    #[arg(long)]
    pub vlm_url: Option<String>,
    #[arg(long, default_value = "zai-org/GLM-4.6V-Flash")]
    pub vlm_model: String,
    /// Prompts per round.
    #[arg(long, default_value_t = 4)]
    pub prompts: u64,
    /// Add three misbehaving miners: one serves nothing, one serves oversized files, one commits
    /// a malformed commitment.
    #[arg(long)]
    pub misbehave: bool,
    /// Side of the judge's rendered views (the production rig's 1024² is slow without a GPU).
    #[arg(long, default_value_t = 256)]
    pub view_size: u32,
}

/// Block-anchored time: `now = t_anchor + (head − b_anchor) · 12 s`, updated as blocks are built.
#[derive(Clone)]
struct ChainClock {
    now: Arc<AtomicI64>,
    t_anchor: i64,
    b_anchor: u64,
}

impl ChainClock {
    fn set_block(&self, block: u64) {
        let t = self.t_anchor
            + (block as i64 - self.b_anchor as i64) * schedule::BLOCK_SECS * 1_000_000;
        self.now.store(t, Ordering::SeqCst);
    }
}

impl Clock for ChainClock {
    fn now_us(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// What `sn17 devnet` prints at the end.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub chain: String,
    pub netuid: u16,
    pub rounds: u64,
    pub winner: Option<String>,
    pub winner_uid: Option<u16>,
    pub leaders: Vec<LeaderSummary>,
    pub matches: Vec<(String, String, f64)>,
    /// Download outcome per miner hotkey: files received, and failure reasons with counts.
    pub downloads: BTreeMap<String, BTreeMap<String, u32>>,
    pub rejected: Vec<String>,
    /// The validator's weights as stored on chain (uid, u16 value).
    pub weights_on_chain: Vec<(u16, u16)>,
    pub state_repo: PathBuf,
    pub remote: PathBuf,
    pub explorer_url: String,
    /// `GET /api/rounds` of the devnet's explorer at the end (what the gossip delivered).
    pub explorer_rounds: serde_json::Value,
    pub stage_seconds: Vec<(String, f64)>,
    pub total_seconds: f64,
}

/// One `leader.json` entry, for the summary.
#[derive(Debug, Serialize)]
pub struct LeaderSummary {
    pub hotkey: String,
    pub repo: String,
    pub weight: f64,
    pub effective_block: u64,
}

fn default_spec() -> Option<PathBuf> {
    let candidates = [
        PathBuf::from("../shared/chain/raonet.json"),
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/chain/raonet.json"
        )),
    ];
    candidates.into_iter().find(|p| p.is_file())
}

/// The prompt pool: three prompts per prompt of a round, named by index and a hash.
fn prompt_stems(n: u64) -> Vec<String> {
    use sha2::Digest as _;
    (0..n.max(1) * 3)
        .map(|i| {
            let h = hex::encode(sha2::Sha256::digest(format!("sn17/devnet/prompt/{i}")));
            format!("devnet-{i:03}-{}", &h[..8])
        })
        .collect()
}

fn devnet_config(args: &DevnetArgs) -> anyhow::Result<(String, Config)> {
    let first = parse_datetime(&format!("{DAY0}T00:00:00Z")).context("day 0")?;
    let last = first + (args.rounds as i64 + 1) * 86_400_000_000;
    let last_date = &format_datetime(last)[..10];
    let text = format!(
        "{{\"name\":\"sn17 devnet\",\"description\":\"a local competition (sn17 devnet); the offline judge is not a production judge\",\
         \"first_evaluation_date\":\"{DAY0}\",\"last_competition_date\":\"{last_date}\",\"round_start_time\":\"08:00:00\",\
         \"generation_stage_minutes\":1,\"finalization_buffer_hours\":0.0,\"win_margin\":0.05,\"weight_decay\":0.2,\
         \"weight_floor\":0.2,\"prompts_per_round\":{},\"carryover_prompts\":{},\"round_duration_days\":1,\"audit_repeats\":1}}",
        args.prompts,
        args.prompts / 4
    );
    let config = Config::decode(&text).map_err(|e| anyhow::anyhow!("devnet config: {e}"))?;
    Ok((text, config))
}

struct Timer {
    started: Instant,
    last: Instant,
    stages: Vec<(String, f64)>,
}

impl Timer {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last: now,
            stages: Vec::new(),
        }
    }

    fn lap(&mut self, name: &str) {
        let now = Instant::now();
        let secs = (now - self.last).as_secs_f64();
        eprintln!("devnet: {name} ({secs:.1} s)");
        self.stages.push((name.to_string(), secs));
        self.last = now;
    }
}

/// Builds blocks up to `target` (the engine is waiting for it).
async fn advance_to(chain: &LocalChain, clock: &ChainClock, target: u64) -> anyhow::Result<()> {
    chain.advance_to(target).await?;
    clock.set_block(chain.head_number().await?);
    Ok(())
}

pub async fn run(args: DevnetArgs) -> anyhow::Result<Summary> {
    let mut timer = Timer::new();
    let spec = args.chain_spec.clone().or_else(default_spec).context(
        "no chain spec: pass --chain-spec FILE (or SN17_DEVNET_SPEC) with a genesis spec that embeds a \
         Subtensor runtime, e.g. scripts/specs/raonet.json from opentensor/subtensor",
    )?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "sn17-devnet-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    anyhow::ensure!(
        std::fs::read_dir(&dir)?.next().is_none(),
        "{} is not empty: the devnet starts from nothing",
        dir.display()
    );
    eprintln!("devnet: working directory {}", dir.display());

    // Prompt host.
    let prompt_dir = dir.join("prompts");
    std::fs::create_dir_all(&prompt_dir)?;
    let stems = prompt_stems(args.prompts);
    for stem in &stems {
        std::fs::write(
            prompt_dir.join(format!("{stem}.png")),
            demo::prompt_png(stem)?,
        )?;
    }
    let prompt_host = static_server::StaticServer::start(prompt_dir.clone()).await?;

    // Chain.
    install_chopsticks().await?;
    let chain = LocalChain::start_in(&spec, &dir.join("chain")).await?;
    eprintln!(
        "devnet: chain {} (log: {})",
        chain.url(),
        chain.log().display()
    );
    let client = Subtensor::connect(chain.url(), &ConnectOptions::default())
        .await
        .context("connecting to the devnet chain")?;
    timer.lap("chain started");
    let vcold = PairSigner::dev("//sn17-devnet/validator/cold")?;
    let vhot = PairSigner::dev("//sn17-devnet/validator/hot")?;
    let mut miners = Vec::new();
    for i in 1..=args.miners {
        miners.push(DevMiner::new(i, Behaviour::Honest, &dir).await?);
    }
    if args.misbehave {
        for b in [
            Behaviour::ServesNothing,
            Behaviour::Oversized,
            Behaviour::MalformedCommitment,
        ] {
            miners.push(DevMiner::new(miners.len() + 1, b, &dir).await?);
        }
    }
    let colds: Vec<String> = miners.iter().map(|m| m.coldkey.account().ss58()).collect();
    chain.fund_and_sudo(&vcold.account().ss58(), &colds).await?;
    chain.new_blocks(1).await?;
    let netuid = match client.create_subnet(&vcold, &vhot.account()).await {
        Ok((n, _)) => n,
        Err(e) => {
            tracing::warn!(error = %e, "register_network failed; using the genesis subnet 1");
            eprintln!("devnet: creating a subnet failed ({e}); using the genesis subnet 1");
            1
        }
    };
    chain.tune_subnet(netuid, 1, false).await?;
    chain.new_blocks(1).await?;
    client
        .burned_register(netuid, &vcold, &vhot.account(), None)
        .await
        .context("registering the validator")?;
    for m in &miners {
        client
            .burned_register(netuid, &m.coldkey, &m.hotkey.account(), None)
            .await
            .with_context(|| format!("registering miner {}", m.index))?;
    }
    let head = client.head().await?;
    let mg = client.metagraph_at(netuid, Source::Auto, head).await?;
    let vuid = mg
        .by_hotkey(&vhot.account())
        .map(|n| n.uid)
        .context("the validator is not in the metagraph")?;
    chain
        .set_validator_permits(netuid, mg.neurons.len() as u16, &[vuid])
        .await?;
    timer.lap(&format!(
        "subnet {netuid} ready: validator uid {vuid}, {} miners",
        miners.len()
    ));
    let network = network::DevNetwork::start(&client, netuid, &dir).await?;
    timer.lap(&format!(
        "gossip and explorer up ({})",
        network.explorer_url
    ));

    // Competition state: round 0 opens now and its reveal window closes a few blocks after the
    // miners' commitments.
    let (config_text, config) = devnet_config(&args)?;
    let remote = dir.join("state-remote.git");
    StateRepo::init_bare(&remote)?;
    // Clones of the remote check out the competition's branch.
    std::fs::write(remote.join("HEAD"), "ref: refs/heads/main\n")?;
    let remote_url = remote.display().to_string();
    let repo = StateRepo::open_or_clone(dir.join("state"), Some(&remote_url), "main")?;
    let head_now = client.head().await?.number;
    let reveal_end = head_now + miners.len() as u64 + 6;
    let t_start = parse_datetime(&format!("{DAY0}T08:00:00Z")).context("start time")?;
    let clock = ChainClock {
        now: Arc::new(AtomicI64::new(0)),
        t_anchor: t_start,
        b_anchor: reveal_end,
    };
    clock.set_block(head_now);
    let first = schedule::next_round(None, &config, clock.now_us(), head_now)?
        .context("the devnet competition has no first round")?;
    let pool = Prompts(
        stems
            .iter()
            .map(|s| format!("{}/{s}.png", prompt_host.url()))
            .collect(),
    );
    let base = vec![LeaderEntry::new(
        &vhot.account().ss58(),
        "devnet/base-miner",
        &"0".repeat(40),
        "devnet/base-miner:latest",
        1.0,
        0,
    )];
    let files = vec![
        (layout::CONFIG.to_string(), config_text.into_bytes()),
        (layout::PROMPT_POOL.to_string(), pool.encode().into_bytes()),
        (layout::LEADER.to_string(), base.encode().into_bytes()),
        (
            layout::STATE.to_string(),
            State::new(0, Stage::Open, Some(format_datetime(first.start_unix_us)))
                .encode()
                .into_bytes(),
        ),
        (
            layout::round_file(0, layout::SCHEDULE),
            first.schedule.encode().into_bytes(),
        ),
    ];
    repo.commit(&files, "Initial competition state (sn17 devnet)")?;

    for m in &miners {
        m.publish(&client, netuid).await?;
    }
    timer.lap("miners committed");

    // The validator's engine.
    let db = dir.join("db");
    let blobs = BlobStore::new(dir.join("blobs"));
    let duel = sn17_judge::offline::select_judge(
        args.vlm_url
            .as_ref()
            .map(|u| sn17_judge::vlm::VlmConfig::new(u, &args.vlm_model)),
        true,
        None,
    )?;
    let played = Arc::new(std::sync::Mutex::new(Vec::new()));
    let judge = judge::DevnetJudge {
        duel,
        blobs: blobs.clone(),
        prompt_base: prompt_host.url().to_string(),
        regenerate: Arc::new(|repo: &str, stem: &str, seed: u32| {
            let png = demo::prompt_png(stem)?;
            demo::generate(repo, miner::quality_of(repo), stem, &png, seed)
        }),
        view_size: args.view_size,
        played: played.clone(),
    };
    let fetcher = Fetcher::new(crate::engine::download::DownloadConfig {
        max_concurrent: 8,
        connect_timeout: Duration::from_secs(3),
        read_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        attempts: 2,
        retry_wait: Duration::from_millis(200),
        start_jitter: Duration::ZERO,
        max_bytes: MAX_OUTPUT_BYTES,
        ext: "ply".into(),
        block_private_addresses: false,
        progress: false,
    })?;
    let mut engine = RoundEngine {
        chain: SubtensorView {
            client: Subtensor::connect(chain.url(), &ConnectOptions::default()).await?,
            netuid,
        },
        judge,
        store: Store::open(&db, &StoreOptions { sync: true })?,
        repo: GitBatcher::new(
            repo,
            Duration::from_secs(u64::MAX / 4),
            Some(PushTarget {
                remote: "origin".into(),
                policy: PushPolicy::default(),
            }),
        )
        .deferred(),
        fetcher,
        blobs: Some(blobs),
        clock: Box::new(clock.clone()),
        cfg: EngineConfig::default(),
    };

    let mut generated_for: Option<u64> = None;
    let mut results_published: Vec<u64> = Vec::new();
    let mut steps = 0u32;
    loop {
        engine
            .repo
            .repo_mut()
            .set_fixed_time(Some(clock.now_us() / 1_000_000));
        let step = engine.step().await?;
        steps += 1;
        tracing::info!(?step, "devnet step");
        match &step {
            Step::Advanced { round, from, to } => {
                timer.lap(&format!("round {round}: {from} → {to}"));
                let head = client.head().await?.number;
                if to == "miner_generation" {
                    let seed = round_seed(&engine.repo, *round, &remote_url)?;
                    network.publish(&vhot, head, Payload::Seed(seed)).await?;
                }
                if from == "finalizing" {
                    // The stage moved on to the next round; the result is the previous one's.
                    let done = round.saturating_sub(1);
                    for payload in round_outcome(&engine.repo, done)? {
                        if matches!(payload, Payload::Result(_)) {
                            results_published.push(done);
                        }
                        network.publish(&vhot, head, payload).await?;
                    }
                }
                if to == "open" && *round >= args.rounds {
                    break;
                }
                if to == "open" {
                    // Miners commit again inside the new round's reveal window, as real miners
                    // do, once the Commitments pallet's rate limit (100 blocks) has passed.
                    let head = client.head().await?.number;
                    advance_to(&chain, &clock, head + COMMITMENT_RATE_LIMIT + 1).await?;
                    for m in &miners {
                        m.publish(&client, netuid).await?;
                    }
                    timer.lap(&format!("round {round}: miners committed"));
                }
            }
            Step::Wait {
                round,
                stage,
                until_block: Some(b),
                ..
            } => {
                if stage.as_str() == "miner_generation" && generated_for != Some(*round) {
                    let manifests = generate_outputs(&engine.repo, *round, &miners, &prompt_dir)?;
                    generated_for = Some(*round);
                    let head = client.head().await?.number;
                    for (m, manifest) in manifests {
                        network
                            .publish(&m.hotkey, head, Payload::Manifest(manifest))
                            .await?;
                    }
                    timer.lap(&format!(
                        "round {round}: miners generated and published manifests"
                    ));
                }
                advance_to(&chain, &clock, *b).await?;
            }
            Step::Wait { reason, .. } => anyhow::bail!("devnet round stuck: {reason}"),
            Step::Idle { .. } => break,
        }
        anyhow::ensure!(steps < 1000, "the devnet round does not finish");
    }
    engine.repo.flush()?;

    // Weights: the vector leader.json gives once the newest leader is in force.
    let leaders: Vec<LeaderEntry> = engine
        .repo
        .read(layout::LEADER)?
        .context("leader.json is missing after the round")?;
    let head = client.head().await?;
    let mg = client.metagraph_at(netuid, Source::Auto, head).await?;
    let at = leaders
        .iter()
        .map(|l| l.effective_block)
        .max()
        .unwrap_or(0)
        .max(head.number);
    let uid_of = |hk: &str| {
        mg.neurons
            .iter()
            .find(|n| n.hotkey.ss58() == hk)
            .map(|n| n.uid)
    };
    let plan = leader::weights_at(&leaders, at, uid_of, vuid);
    client
        .set_weights(netuid, &vhot, &plan.weights, &Default::default())
        .await
        .context("setting the validator's weights")?;
    let head = client.head().await?;
    let weights_on_chain = client.stored_weights(netuid, vuid, head).await?;
    timer.lap("weights set on chain");

    // Every result published has reached the explorer (it stores what the gossip delivers).
    let explorer_rounds = network
        .api_until("rounds", |v| {
            results_published.iter().all(|done| {
                v.as_array().is_some_and(|rows| {
                    rows.iter().any(|r| {
                        r["round"].as_u64() == Some(*done) && r["results"].as_u64().unwrap_or(0) > 0
                    })
                })
            })
        })
        .await?;
    let mut summary = summarize(
        &engine,
        &args,
        netuid,
        &leaders,
        plan.leader_hotkey.clone(),
        plan.leader_uid,
        played.lock().map(|p| p.clone()).unwrap_or_default(),
        weights_on_chain,
        &dir,
        &remote,
        chain.url(),
        &mut timer,
    )?;
    summary.explorer_url = network.explorer_url.clone();
    summary.explorer_rounds = explorer_rounds;
    Ok(summary)
}

/// The miners read the round's seed and prompts (from the state repository, as gossip would
/// deliver them) and generate their outputs.
fn generate_outputs<'m>(
    repo: &GitBatcher,
    round: u64,
    miners: &'m [DevMiner],
    prompt_dir: &Path,
) -> anyhow::Result<Vec<(&'m DevMiner, SubmissionManifest)>> {
    let prompts: Prompts = repo
        .read(&layout::round_file(round, layout::PROMPTS))?
        .context("the round has no prompts.txt")?;
    let seed: Seed = repo
        .read(&layout::round_file(round, layout::SEED))?
        .context("the round has no seed.json")?;
    let mut inputs = Vec::new();
    for url in &prompts.0 {
        let stem = sn17_storage::state_repo::prompt_stem(url).to_string();
        let png = std::fs::read(prompt_dir.join(format!("{stem}.png")))
            .with_context(|| format!("prompt image {stem}"))?;
        inputs.push((stem, png));
    }
    let mut manifests = Vec::new();
    for m in miners {
        let files = m.generate(&inputs, seed.0)?;
        if files.is_empty() || m.behaviour == Behaviour::MalformedCommitment {
            continue;
        }
        manifests.push((
            m,
            SubmissionManifest {
                round,
                miner: m.hotkey.account().0,
                repo: m.repo.clone(),
                commit: m.commit(),
                cdn_url: m.cdn.url().to_string(),
                files,
            },
        ));
    }
    Ok(manifests)
}

/// The gossip form of a round's seed, read back from the state repository.
fn round_seed(repo: &GitBatcher, round: u64, remote: &str) -> anyhow::Result<RoundSeed> {
    let seed: Seed = repo
        .read(&layout::round_file(round, layout::SEED))?
        .context("the round has no seed.json")?;
    let schedule: sn17_storage::state_repo::Schedule = repo
        .read(&layout::round_file(round, layout::SCHEDULE))?
        .context("the round has no schedule.json")?;
    let prompts = repo
        .read_bytes(&layout::round_file(round, layout::PROMPTS))?
        .context("the round has no prompts.txt")?;
    let count = Prompts::parse(&String::from_utf8_lossy(&prompts)).0.len();
    use sha2::Digest as _;
    Ok(RoundSeed {
        round,
        seed: seed.0,
        drand_round: None,
        schedule: (&schedule).into(),
        prompts_sha256: sha2::Sha256::digest(&prompts).into(),
        prompts_count: u32::try_from(count).unwrap_or(u32::MAX),
        prompts_url: format!("{remote}/rounds/{round}/prompts.txt"),
    })
}

/// The round's result (`winner.json`) and the newest `leader.json` entry, as gossip payloads.
fn round_outcome(repo: &GitBatcher, round: u64) -> anyhow::Result<Vec<Payload>> {
    let mut out = Vec::new();
    let winner: Option<sn17_storage::state_repo::RoundResult> =
        repo.read(&layout::round_file(round, layout::WINNER))?;
    if let Some(w) = winner {
        out.push(Payload::Result(GossipResult::from_winner(round, &w)));
    }
    let leaders: Option<Vec<LeaderEntry>> = repo.read(layout::LEADER)?;
    if let Some(last) = leaders.as_ref().and_then(|l| l.last()) {
        out.push(Payload::Leader(LeaderChange::from_entry(round, last)));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn summarize<C, J>(
    engine: &RoundEngine<C, J>,
    args: &DevnetArgs,
    netuid: u16,
    leaders: &[LeaderEntry],
    winner: Option<String>,
    winner_uid: Option<u16>,
    matches: Vec<(String, String, f64)>,
    weights_on_chain: Vec<(u16, u16)>,
    dir: &Path,
    remote: &Path,
    chain_url: &str,
    timer: &mut Timer,
) -> anyhow::Result<Summary> {
    use sn17_storage::db::records::DownloadRecord;
    let mut downloads: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for d in engine.store.scan::<DownloadRecord>(&[])? {
        let key = d.failure_reason.clone().unwrap_or_else(|| "ok".into());
        *downloads
            .entry(d.hotkey)
            .or_default()
            .entry(key)
            .or_default() += 1;
    }
    let rejected = match engine
        .store
        .scan::<sn17_storage::db::records::ChainSnapshotRecord>(&[])?
        .into_iter()
        .find(|s| s.kind == "round_0_submissions")
    {
        Some(s) => s.data["rejected"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r["hotkey"].as_str().unwrap_or("?"),
                            r["reason"].as_str().unwrap_or("?")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    };
    timer.lap("summary");
    Ok(Summary {
        chain: chain_url.to_string(),
        netuid,
        rounds: args.rounds,
        winner,
        winner_uid,
        leaders: leaders
            .iter()
            .map(|l| LeaderSummary {
                hotkey: l.hotkey.clone(),
                repo: l.repo.clone(),
                weight: l.weight,
                effective_block: l.effective_block,
            })
            .collect(),
        matches,
        downloads,
        rejected,
        weights_on_chain,
        state_repo: dir.join("state"),
        remote: remote.to_path_buf(),
        explorer_url: String::new(),
        explorer_rounds: serde_json::Value::Null,
        stage_seconds: timer.stages.clone(),
        total_seconds: timer.started.elapsed().as_secs_f64(),
    })
}
