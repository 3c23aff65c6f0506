//! `sn17 devnet`: a whole competition round on one machine, on a real Subtensor runtime.
//!
//! chopsticks runs the runtime from a genesis spec; the devnet funds a validator and the miners,
//! creates a subnet, registers everyone, and runs the validator's round engine against that chain:
//! miners' commitments → seed and prompts → miners generate with the demo generator and serve
//! their outputs over HTTP → downloads → renders → duels (offline judge unless `--vlm-url`) →
//! leader → weights set on chain and read back → the state repository (pushed to a local bare
//! remote). Time is the chain's: the devnet builds the blocks the engine waits for, and its clock
//! is anchored to block numbers (12 s a block), so a round takes seconds, not days.

pub mod children;
pub mod demo;
pub mod miner;
pub mod network;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;
use sha2::Digest as _;
use sn17_chain::metagraph::Source;
use sn17_chain::wallet::{Keypair, Wallet};
use sn17_chain::{ConnectOptions, PairSigner, Subtensor};
use sn17_storage::db::Store;
use sn17_storage::state_repo::datetime::{format_datetime, parse_datetime};
use sn17_storage::state_repo::{
    layout, Config, LeaderEntry, Prompts, PushPolicy, Seed, Stage, State, StateFile, StateRepo,
};
use tokio::sync::mpsc;

use crate::engine::schedule;
use crate::pod::server::PodServer;
use crate::static_server::StaticServer;
use crate::validator::clock::ChainClock;
use children::{ChildProc, Event};
use demo::DemoGenerator;
use miner::{Behaviour, DevMiner};
use sn17_chain::local::{install_chopsticks, LocalChain};
use sn17_node::gossip::message::SubmissionManifest;
use sn17_node::gossip::Payload;

/// The devnet validator's download cap per output file.
pub const MAX_OUTPUT_BYTES: u64 = 4 << 20;
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
    #[arg(long, default_value = sn17_judge::vlm::config::DEFAULT_MODEL)]
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
    /// Kill the validator with SIGKILL this many times, at random stages, restarting it each
    /// time (the round must still finish with the same result).
    #[arg(long = "kill-validator", default_value_t = 0)]
    pub kill_validator: u32,
    /// Seed of the kill points.
    #[arg(long = "chaos-seed", default_value_t = 17)]
    pub chaos_seed: u64,
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
    /// Where each SIGKILL of the validator landed (the trigger it followed).
    pub validator_kills: Vec<String>,
    /// Every match the validator reported playing, across restarts: (kind, left, right).
    pub matches_played: Vec<(String, String, String)>,
    /// Audit verdicts (`generation_audits.json` of the last round that has one).
    pub audits: serde_json::Value,
    /// A scrape of the validator's `/metrics` during the run.
    pub validator_metrics: String,
    pub logs: PathBuf,
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

/// A devnet key pair derived from a label, written as a btcli wallet (plaintext coldkey: this
/// is a throwaway local chain) so the child processes load it like any wallet.
fn devnet_wallet(root: &Path, name: &str) -> anyhow::Result<(PairSigner, PairSigner)> {
    let key = |part: &str| {
        let seed: [u8; 32] = sha2::Sha256::digest(format!("sn17/devnet/{name}/{part}")).into();
        Keypair::from_seed(&seed)
    };
    let (cold, hot) = (key("cold"), key("hot"));
    let wallet = Wallet::new(root, name, "default")?;
    wallet.write_coldkey(&cold, None, true)?;
    wallet.write_hotkey(&hot, true)?;
    Ok((
        PairSigner::new(cold.as_pair().clone()),
        PairSigner::new(hot.as_pair().clone()),
    ))
}

/// Round 0's stages in order; the devnet's progress is `round · 5 + index`.
const STAGES: [&str; 5] = [
    "open",
    "miner_generation",
    "downloading",
    "duels",
    "finalizing",
];

/// When to SIGKILL the validator: once it reaches a stage of round 0 (or anything later), or
/// after the n-th match it reports; then a random delay so the kill lands inside a step.
#[derive(Debug, Clone)]
enum KillAt {
    Stage(usize),
    Match(usize),
}

impl KillAt {
    fn position(&self) -> usize {
        match self {
            KillAt::Stage(i) => *i,
            KillAt::Match(_) => 3,
        }
    }

    fn fires(&self, v: &serde_json::Value, progress: usize, matches_seen: usize) -> bool {
        match self {
            KillAt::Stage(i) => progress >= *i,
            KillAt::Match(n) => {
                (v["event"] == "match_played" && matches_seen >= *n) || progress >= STAGES.len() - 1
            }
        }
    }
}

fn kill_plan(n: u32, seed: u64) -> Vec<(KillAt, u64)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut plan: Vec<(KillAt, u64)> = (0..n)
        .map(|_| {
            let at = if rng.gen_bool(0.4) {
                KillAt::Match(rng.gen_range(1..=3))
            } else {
                KillAt::Stage(rng.gen_range(1..STAGES.len()))
            };
            (at, rng.gen_range(0..400))
        })
        .collect();
    plan.sort_by_key(|(at, _)| at.position());
    plan
}

/// The validator's progress after an event: `round · 5 + stage index`.
fn progress_of(v: &serde_json::Value) -> Option<usize> {
    let stage = v["to"].as_str().or(v["stage"].as_str())?;
    let idx = STAGES.iter().position(|s| *s == stage)?;
    let round = usize::try_from(v["round"].as_u64()?).ok()?;
    Some(round * STAGES.len() + idx)
}

/// The devnet's competition organiser: writes the initial state and pushes it to the remote.
fn init_competition(
    dir: &Path,
    args: &DevnetArgs,
    prompt_urls: Vec<String>,
    base_hotkey: &str,
    first: &schedule::NextRound,
) -> anyhow::Result<PathBuf> {
    let (config_text, _) = devnet_config(args)?;
    let remote = dir.join("state-remote.git");
    StateRepo::init_bare(&remote)?;
    // Clones of the remote check out the competition's branch.
    std::fs::write(remote.join("HEAD"), "ref: refs/heads/main\n")?;
    let repo = StateRepo::open_or_clone(
        dir.join("organizer"),
        Some(&remote.display().to_string()),
        "main",
    )?;
    let base = vec![LeaderEntry::new(
        base_hotkey,
        BASE_REPO,
        &crate::miner::demo_commit(BASE_REPO),
        "devnet/base-miner:latest",
        1.0,
        0,
    )];
    let files = vec![
        (layout::CONFIG.to_string(), config_text.into_bytes()),
        (
            layout::PROMPT_POOL.to_string(),
            Prompts(prompt_urls).encode().into_bytes(),
        ),
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
    repo.push("origin", &PushPolicy::default())?;
    Ok(remote)
}

/// Builds blocks up to `target`. A long jump stops one block short until the explorer has
/// seen it, so messages signed at the new head are not "from the future" to it.
async fn advance(
    chain: &LocalChain,
    network: &network::DevNetwork,
    target: u64,
) -> anyhow::Result<()> {
    let head = chain.head_number().await?;
    if target > head + 16 {
        chain.advance_to(target - 1).await?;
        network.wait_explorer_head(target - 1).await?;
    }
    chain.advance_to(target).await?;
    Ok(())
}

/// The base miner's repository (the first leader).
const BASE_REPO: &str = "devnet/base-miner";

/// Reads a file of the pushed state repository.
fn remote_file<T: StateFile>(remote: &Path, path: &str) -> anyhow::Result<Option<T>> {
    let repo = StateRepo::open(remote, "main")?;
    let src = repo.at(None)?;
    let value = sn17_storage::state_repo::read(&src, path)?;
    Ok(value)
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
            sn17_chain::crv3::drand::unix_now_secs()
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    anyhow::ensure!(
        std::fs::read_dir(&dir)?.next().is_none(),
        "{} is not empty: the devnet starts from nothing",
        dir.display()
    );
    let dir = dir.canonicalize()?;
    eprintln!("devnet: working directory {}", dir.display());
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;

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
    let prompt_host = StaticServer::start(prompt_dir.clone()).await?;

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

    // Keys: the validator and honest miners as wallets on disk (they run as processes), the
    // misbehaving miners in process.
    let wallets = dir.join("wallets");
    let (vcold, vhot) = devnet_wallet(&wallets, "validator")?;
    let mut honest = Vec::new();
    for i in 1..=args.miners {
        let name = format!("miner-{i}");
        let (cold, hot) = devnet_wallet(&wallets, &name)?;
        honest.push((name, miner::repo_of(i), cold, hot));
    }
    let mut rogues = Vec::new();
    if args.misbehave {
        for b in [
            Behaviour::ServesNothing,
            Behaviour::Oversized,
            Behaviour::MalformedCommitment,
        ] {
            rogues.push(DevMiner::new(args.miners + rogues.len() + 1, b, &dir).await?);
        }
    }
    let mut colds: Vec<String> = honest.iter().map(|h| h.2.account().ss58()).collect();
    colds.extend(rogues.iter().map(|m| m.coldkey.account().ss58()));
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
    for m in &rogues {
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
        "subnet {netuid} ready: validator uid {vuid}, {} misbehaving miners registered",
        rogues.len()
    ));
    let network = network::DevNetwork::start(&client, netuid, &dir).await?;
    timer.lap(&format!(
        "gossip and explorer up ({})",
        network.explorer_url
    ));

    // Competition state: round 0 opens now and its reveal window closes a few blocks after the
    // miners' commitments.
    let (_, config) = devnet_config(&args)?;
    let head_now = client.head().await?.number;
    // Room for the honest miners to register and commit, and the rogues to commit.
    let reveal_end = head_now + 3 * (honest.len() + rogues.len()) as u64 + 8;
    let t_start = parse_datetime(&format!("{DAY0}T08:00:00Z")).context("start time")?;
    let clock = ChainClock::new(reveal_end, t_start);
    clock.set_block(head_now);
    let first = schedule::next_round(
        None,
        &config,
        crate::engine::round::Clock::now_us(&clock),
        head_now,
    )?
    .context("the devnet competition has no first round")?;
    let prompt_urls: Vec<String> = stems
        .iter()
        .map(|s| format!("{}/{s}.png", prompt_host.url()))
        .collect();
    let remote = init_competition(&dir, &args, prompt_urls, &vhot.account().ss58(), &first)?;
    let remote_str = remote.display().to_string();

    // Every repository's pod (the demo generator behind the pod API): the validator
    // regenerates leaders and audits winners on them; honest miners generate with them.
    let mut pods = Vec::new();
    let mut pod_args = Vec::new();
    let repos = std::iter::once(BASE_REPO.to_string()).chain(honest.iter().map(|h| h.1.clone()));
    for repo in repos {
        let generator = Arc::new(DemoGenerator {
            quality: miner::quality_of(&repo),
            repo: repo.clone(),
        });
        let pod = PodServer::start("127.0.0.1:0".parse()?, generator).await?;
        pod_args.push(format!("{repo}={}", pod.url()));
        pods.push((repo, pod));
    }
    let pod_url = |repo: &str| {
        pods.iter()
            .find(|(r, _)| r == repo)
            .map(|(_, p)| p.url())
            .unwrap_or_default()
    };

    // The processes.
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let common = |wallet: &str, data: &Path| -> Vec<String> {
        [
            "--json",
            "--network",
            chain.url(),
            "--netuid",
            &netuid.to_string(),
            "--wallet.path",
            &wallets.display().to_string(),
            "--wallet.name",
            wallet,
            "--wallet.hotkey",
            "default",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .into_iter()
        .chain([
            "--data-dir".to_string(),
            data.display().to_string(),
            "--p2p.listen".to_string(),
            "/ip4/127.0.0.1/tcp/0".to_string(),
            "--p2p.bootstrap".to_string(),
            network.bootstrap.to_string(),
            "--p2p.no-chain-discovery".to_string(),
            "--metagraph-refresh".to_string(),
            "1".to_string(),
        ])
        .collect()
    };
    let mut miners = Vec::new();
    for (name, repo, _, _) in &honest {
        let mut a = common(name, &dir.join(name));
        a.splice(11..11, ["miner".to_string(), "run".to_string()]);
        a.extend(
            [
                "--state.remote",
                &remote_str,
                "--repo",
                repo,
                "--demo",
                "--generator-url",
                &pod_url(repo),
                "--pod-poll-ms",
                "100",
                "--cdn-listen",
                "127.0.0.1:0",
                "--poll-ms",
                "200",
                "--register",
                "--max-price",
                "1000",
                // Spec 218 keeps only each hotkey's latest plain commitment (no revealed
                // history), so 404's two-step commitment would lose its first half here.
                "--two-step",
                "false",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        miners.push(ChildProc::spawn(name, a, &logs, tx.clone())?);
    }
    let mut vargs = common("validator", &dir.join("validator"));
    vargs.splice(11..11, ["validator".to_string(), "run".to_string()]);
    vargs.extend([
        "--state.remote".to_string(),
        remote_str.clone(),
        "--metrics".into(),
        "127.0.0.1:0".into(),
        "--view-size".into(),
        args.view_size.to_string(),
        "--pod-poll-ms".into(),
        "100".into(),
        "--poll-ms".into(),
        "200".into(),
        "--clock-anchor".into(),
        clock.spec(),
        "--exit-after-rounds".into(),
        args.rounds.to_string(),
        "--allow-private-cdn".into(),
        "--download-jitter".into(),
        "0".into(),
        "--max-output-bytes".into(),
        MAX_OUTPUT_BYTES.to_string(),
        "--owner-uid".into(),
        vuid.to_string(),
        "--weights-interval".into(),
        "1000000".into(),
        "--audit-pod".into(),
        pod_args.join(","),
    ]);
    match &args.vlm_url {
        Some(url) => vargs.extend([
            "--vlm-url".into(),
            url.clone(),
            "--vlm-model".into(),
            args.vlm_model.clone(),
        ]),
        None => vargs.push("--offline-judge".into()),
    }
    let mut validator = ChildProc::spawn("validator", vargs, &logs, tx.clone())?;
    timer.lap("validator and miners started");

    // Drive the chain as the validator waits, until it exits.
    let mut plan = kill_plan(args.kill_validator, args.chaos_seed);
    if !plan.is_empty() {
        eprintln!("devnet: SIGKILL plan for the validator: {plan:?}");
    }
    let mut progress = 0usize;
    let mut weights_seen = false;
    let mut kills = Vec::new();
    let mut played: Vec<(String, String, String)> = Vec::new();
    let mut committed: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut generated: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut rogue_committed: BTreeSet<u64> = BTreeSet::new();
    let mut rogue_generated: BTreeSet<u64> = BTreeSet::new();
    let mut metrics_url = None;
    let mut metrics_sample = String::new();
    let mut last_stage = String::new();
    let deadline = Instant::now() + Duration::from_secs(900);
    let honest_names: BTreeSet<String> = honest.iter().map(|h| h.0.clone()).collect();
    let hotkeys: BTreeMap<String, String> = honest
        .iter()
        .map(|h| (h.0.clone(), h.3.account().ss58()))
        .collect();
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the devnet did not finish in 15 minutes (logs: {})",
            logs.display()
        );
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await else {
            continue;
        };
        let v = &ev.value;
        if ev.who != "validator" {
            match v["event"].as_str() {
                Some(e @ ("committed" | "committed_hash")) => {
                    // Spec 218 allows one commitment per 100 blocks; finney limits space per
                    // epoch instead. Lift the limit so the next commitment fits the window.
                    if let Some(hk) = hotkeys.get(&ev.who) {
                        chain.clear_last_commitment(netuid, hk).await?;
                    }
                    if e == "committed" {
                        committed
                            .entry(v["round"].as_u64().unwrap_or(0))
                            .or_default()
                            .insert(ev.who.clone());
                    }
                }
                Some("generated") => {
                    generated
                        .entry(v["round"].as_u64().unwrap_or(0))
                        .or_default()
                        .insert(ev.who.clone());
                }
                Some("exited") => anyhow::bail!(
                    "{} exited early (log: {})",
                    ev.who,
                    logs.join(format!("{}.log", ev.who)).display()
                ),
                _ => {}
            }
            continue;
        }
        if v["event"] == "match_played" {
            // Counted from every incarnation: a killed one's last lines may arrive late.
            played.push((
                v["kind"].as_str().unwrap_or("").into(),
                v["left"].as_str().unwrap_or("").into(),
                v["right"].as_str().unwrap_or("").into(),
            ));
        }
        if ev.incarnation != validator.incarnation {
            continue;
        }
        match v["event"].as_str() {
            Some("ready") => {
                metrics_url = v["metrics"].as_str().map(str::to_string);
                continue;
            }
            Some("exited") => {
                let status = validator.wait().await?;
                anyhow::ensure!(
                    status.success(),
                    "the validator failed ({status}); log: {}",
                    validator.log().display()
                );
                break;
            }
            _ => {}
        }
        if let Some(to) = v["to"].as_str() {
            timer.lap(&format!(
                "round {}: {} → {to}",
                v["round"],
                v["from"].as_str().unwrap_or("?")
            ));
        }
        if let Some(stage) = v["stage"].as_str().or(v["to"].as_str()) {
            last_stage = stage.to_string();
        }
        if metrics_sample.is_empty() && last_stage == "finalizing" {
            if let Some(url) = &metrics_url {
                if let Ok(r) = reqwest::get(format!("{url}/metrics")).await {
                    metrics_sample = r.text().await.unwrap_or_default();
                }
            }
        }
        tracing::debug!(event = %v, progress, "validator event");
        if let Some(p) = progress_of(v) {
            progress = progress.max(p);
        }
        if v["event"] == "weights_set" && progress >= STAGES.len() {
            // The final weights (earlier ones are the validator's regular cadence).
            weights_seen = true;
        }
        // Chaos: SIGKILL the validator where the plan says (never after its final weights),
        // then start it again.
        if let Some((at, delay)) = plan.first().cloned() {
            if !weights_seen && at.fires(v, progress, played.len()) {
                plan.remove(0);
                tokio::time::sleep(Duration::from_millis(delay)).await;
                validator.kill_and_restart(tx.clone()).await?;
                kills.push(format!("{at:?} + {delay} ms (last stage {last_stage})"));
                eprintln!(
                    "devnet: killed the validator ({})",
                    kills.last().map(String::as_str).unwrap_or("")
                );
                continue;
            }
        }
        // The validator waits for a block: let the miners act first, then build blocks.
        let until = v["until_block"].as_u64();
        let (Some(target), round) = (until, v["round"].as_u64().unwrap_or(0)) else {
            continue;
        };
        let stage = v["stage"].as_str().unwrap_or("");
        if stage == "open" {
            if rogue_committed.insert(round) {
                for m in &rogues {
                    m.publish(&client, netuid).await?;
                    chain
                        .clear_last_commitment(netuid, &m.hotkey.account().ss58())
                        .await?;
                }
            }
            if committed
                .get(&round)
                .is_none_or(|s| s.len() < honest_names.len())
            {
                continue;
            }
        }
        if stage == "miner_generation" {
            if rogue_generated.insert(round) {
                let head = client.head().await?.number;
                for (m, manifest) in rogue_outputs(&remote, round, &rogues, &prompt_dir)? {
                    network
                        .publish(&m.hotkey, head, Payload::Manifest(manifest))
                        .await?;
                }
            }
            if generated
                .get(&round)
                .is_none_or(|s| s.len() < honest_names.len())
            {
                continue;
            }
        }
        if client.head().await?.number < target {
            advance(&chain, &network, target).await?;
        }
    }
    for m in &mut miners {
        m.terminate();
    }
    timer.lap("validator finished");
    summarize_run(
        &args,
        &client,
        &chain,
        &network,
        netuid,
        vuid,
        &dir,
        &remote,
        kills,
        played,
        metrics_sample,
        &mut timer,
    )
    .await
}

/// The misbehaving miners read the round's prompts and seed and write their outputs.
fn rogue_outputs<'m>(
    remote: &Path,
    round: u64,
    rogues: &'m [DevMiner],
    prompt_dir: &Path,
) -> anyhow::Result<Vec<(&'m DevMiner, SubmissionManifest)>> {
    let prompts: Prompts = remote_file(remote, &layout::round_file(round, layout::PROMPTS))?
        .context("the round has no prompts.txt")?;
    let seed: Seed = remote_file(remote, &layout::round_file(round, layout::SEED))?
        .context("the round has no seed.json")?;
    let mut inputs = Vec::new();
    for url in &prompts.0 {
        let stem = sn17_storage::state_repo::prompt_stem(url).to_string();
        let png = std::fs::read(prompt_dir.join(format!("{stem}.png")))
            .with_context(|| format!("prompt image {stem}"))?;
        inputs.push((stem, png));
    }
    let mut manifests = Vec::new();
    for m in rogues {
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

#[allow(clippy::too_many_arguments)]
async fn summarize_run(
    args: &DevnetArgs,
    client: &Subtensor,
    chain: &LocalChain,
    network: &network::DevNetwork,
    netuid: u16,
    vuid: u16,
    dir: &Path,
    remote: &Path,
    validator_kills: Vec<String>,
    matches_played: Vec<(String, String, String)>,
    validator_metrics: String,
    timer: &mut Timer,
) -> anyhow::Result<Summary> {
    use sn17_storage::db::{ChainSnapshotRecord, DownloadRecord, MatchRecord};
    let leaders: Vec<LeaderEntry> =
        remote_file(remote, layout::LEADER)?.context("leader.json is missing after the rounds")?;
    let head = client.head().await?;
    let mg = client.metagraph_at(netuid, Source::Auto, head).await?;
    let weights_on_chain = client.stored_weights(netuid, vuid, head).await?;
    let leader = sn17_storage::state_repo::leader_at(&leaders, head.number);
    let winner = leader.map(|l| l.hotkey.clone());
    let winner_uid = winner.as_ref().and_then(|hk| {
        mg.neurons
            .iter()
            .find(|n| n.hotkey.ss58() == *hk)
            .map(|n| n.uid)
    });
    let store = Store::open_read_only(dir.join("validator").join("db"))?;
    let mut downloads: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for d in store.scan::<DownloadRecord>(&[])? {
        let key = d.failure_reason.clone().unwrap_or_else(|| "ok".into());
        *downloads
            .entry(d.hotkey)
            .or_default()
            .entry(key)
            .or_default() += 1;
    }
    let rejected = store
        .scan::<ChainSnapshotRecord>(&[])?
        .into_iter()
        .find(|s| s.kind == "round_0_submissions")
        .and_then(|s| s.data["rejected"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            format!(
                "{}: {}",
                r["hotkey"].as_str().unwrap_or("?"),
                r["reason"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let matches = store
        .scan::<MatchRecord>(&[])?
        .into_iter()
        .filter(|m| m.kind == "duels")
        .map(|m| (m.left, m.right, m.margin))
        .collect();
    let mut audits = serde_json::Value::Null;
    for round in (0..args.rounds).rev() {
        let path = layout::round_file(round, layout::GENERATION_AUDITS);
        let repo = StateRepo::open(remote, "main")?;
        let src = repo.at(None)?;
        if let Some(bytes) = sn17_storage::state_repo::FileSource::read_bytes(&src, &path)? {
            audits = serde_json::from_slice(&bytes).unwrap_or_default();
            break;
        }
    }
    let published: Vec<u64> = (0..args.rounds).collect();
    let explorer_rounds = network
        .api_until("rounds", |v| {
            published.iter().all(|done| {
                v.as_array().is_some_and(|rows| {
                    rows.iter().any(|r| {
                        r["round"].as_u64() == Some(*done) && r["results"].as_u64().unwrap_or(0) > 0
                    })
                })
            })
        })
        .await?;
    timer.lap("summary");
    Ok(Summary {
        chain: chain.url().to_string(),
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
        state_repo: dir.join("validator").join("state"),
        remote: remote.to_path_buf(),
        explorer_url: network.explorer_url.clone(),
        explorer_rounds,
        validator_kills,
        matches_played,
        audits,
        validator_metrics,
        logs: dir.join("logs"),
        stage_seconds: timer.stages.clone(),
        total_seconds: timer.started.elapsed().as_secs_f64(),
    })
}
