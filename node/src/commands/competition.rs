//! `sn17 competition …`: 404-compatible rounds — prompts, replay, submissions, weights,
//! downloads, and the validator's round loop.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use sn17_storage::db::{Store, StoreOptions};
use sn17_storage::state_repo::{
    layout, DirSource, GitBatcher, Prompts, PushPolicy, PushTarget, StateFile, StateRepo,
};

use crate::cli::GlobalArgs;
use crate::engine::chain_view::{ChainView, SubtensorView};
use crate::engine::download::{run_downloads, BlobStore, DownloadConfig, DownloadTask, Fetcher};
use crate::engine::round::{
    DrandPolicy, EngineConfig, ExternalJudge, RoundEngine, SeedPolicy, Step, SystemClock,
};
use crate::engine::{leader, prompts, replay, simulate, submissions};
use crate::output;

#[derive(Subcommand, Debug)]
pub enum CompetitionCommand {
    /// Select a round's prompts exactly as 404 does (CPython random.Random(seed)).
    Prompts {
        #[arg(long)]
        seed: u32,
        /// The previous round's prompts.txt (omit for round 0).
        #[arg(long)]
        previous: Option<PathBuf>,
        /// The global prompt pool (prompts.txt at the state repository's root).
        #[arg(long)]
        pool: PathBuf,
        #[arg(long, default_value_t = 128)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        carryover: usize,
    },
    /// The verifiable drand seed of a round (see the derivation in the README): the first drand
    /// quicknet round after the timestamp of the round's latest_reveal_block, BLS-verified.
    Seed {
        /// The round number.
        #[arg(long)]
        round: u64,
        /// Unix time (seconds) of block latest_reveal_block (Timestamp.Now at that block);
        /// without it, read from the chain at the block --state-repo's schedule names.
        #[arg(long, required_unless_present = "state_repo")]
        block_time: Option<u64>,
        /// A state repository checkout holding rounds/ROUND/schedule.json.
        #[arg(long)]
        state_repo: Option<PathBuf>,
        /// drand HTTP API.
        #[arg(long, default_value = crate::engine::seed::DEFAULT_DRAND_URL)]
        drand_url: String,
    },
    /// Recompute a state repository's seeds' prompts, winners, leader transitions and weights,
    /// and print every difference from what is stored.
    Replay {
        /// A state repository checkout (or any directory with its files).
        #[arg(long)]
        state_repo: PathBuf,
        /// Report only this round.
        #[arg(long)]
        round: Option<u64>,
    },
    /// Submissions of a round from the chain's revealed commitments.
    Submissions {
        /// Read the window from this round's schedule.json in --state-repo.
        #[arg(long, requires = "state_repo")]
        round: Option<u64>,
        #[arg(long)]
        state_repo: Option<PathBuf>,
        #[arg(long, conflicts_with = "round")]
        earliest: Option<u64>,
        #[arg(long, conflicts_with = "round")]
        latest: Option<u64>,
        /// Skip the coldkey-lock filter.
        #[arg(long)]
        no_lock_filter: bool,
    },
    /// The weight vector leader.json gives at a block, and optionally set it on chain.
    Weights {
        #[arg(long)]
        state_repo: PathBuf,
        /// Default: the chain's head.
        #[arg(long)]
        block: Option<u64>,
        #[arg(long, default_value_t = leader::OWNER_UID)]
        owner_uid: u16,
        /// Submit the weights with the wallet's hotkey.
        #[arg(long)]
        set: bool,
    },
    /// Download a round's submissions from the miners' CDNs into the database.
    Download {
        #[arg(long)]
        state_repo: PathBuf,
        #[arg(long)]
        round: u64,
        #[arg(long, env = "SN17_DB")]
        db: Option<PathBuf>,
        /// Where bodies are kept (default: beside the database).
        #[arg(long)]
        blobs: Option<PathBuf>,
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
        /// File extension on the CDNs.
        #[arg(long, default_value = "js")]
        ext: String,
        /// No pre-download jitter.
        #[arg(long)]
        no_jitter: bool,
    },
    /// Start a new competition: config, prompt pool, bootstrap leader, round 0's schedule.
    Init {
        #[arg(long)]
        state_repo: PathBuf,
        /// config.json to use (competition.md §1.5).
        #[arg(long)]
        config: PathBuf,
        /// The global prompt pool (one image URL per line).
        #[arg(long)]
        pool: PathBuf,
        /// The bootstrap leader (the base miner): hotkey, repo, commit, docker image.
        #[arg(long, num_args = 4, value_names = ["HOTKEY", "REPO", "COMMIT", "DOCKER"])]
        leader: Vec<String>,
        /// The current block (default: the chain's head).
        #[arg(long)]
        block: Option<u64>,
        /// Push to this remote.
        #[arg(long)]
        remote: Option<String>,
    },
    /// Run the validator's round loop against the chain and a state repository.
    Run {
        /// The local clone of the state repository.
        #[arg(long)]
        state_repo: PathBuf,
        /// Its remote (a git URL); pushed after every commit.
        #[arg(long)]
        remote: Option<String>,
        #[arg(long, default_value = "main")]
        branch: String,
        #[arg(long, env = "SN17_DB")]
        db: Option<PathBuf>,
        /// Write `paused` instead of the next stage.
        #[arg(long)]
        pause_on_stage_end: bool,
        /// How the round seed is drawn: `csprng` (404's) or `drand` (verifiable; see README).
        #[arg(long, value_enum, default_value = "csprng")]
        seed: SeedChoice,
        /// drand HTTP API for `--seed drand`.
        #[arg(long, default_value = crate::engine::seed::DEFAULT_DRAND_URL)]
        drand_url: String,
        /// Stop after this many steps (for scripts).
        #[arg(long)]
        max_steps: Option<u32>,
    },
    /// Deterministic simulated competition (crash-safety tests).
    #[command(hide = true)]
    Simulate {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        cdn: String,
        #[arg(long, default_value_t = 8)]
        miners: u32,
        #[arg(long)]
        remote: Option<String>,
    },
    /// Serve the local test CDN on 127.0.0.1 until killed.
    #[command(hide = true)]
    ServeCdn {
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Benchmark: download miners × prompts files from the local CDN into a fresh database.
    #[command(hide = true)]
    BenchDownload {
        #[arg(long, default_value_t = 256)]
        miners: usize,
        #[arg(long, default_value_t = 32)]
        prompts: usize,
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
        /// Working directory (a fresh one under the system temp dir by default).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `sn17 competition run --seed`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedChoice {
    Csprng,
    Drand,
}

impl SeedChoice {
    /// The engine's policy for this choice (`drand_url` only matters for `Drand`).
    pub fn policy(self, drand_url: &str, netuid: u16) -> SeedPolicy {
        match self {
            SeedChoice::Csprng => SeedPolicy::Csprng,
            SeedChoice::Drand => SeedPolicy::Drand(DrandPolicy {
                url: drand_url.to_string(),
                netuid,
            }),
        }
    }
}

pub async fn run(g: &GlobalArgs, cmd: CompetitionCommand) -> anyhow::Result<()> {
    match cmd {
        CompetitionCommand::Prompts {
            seed,
            previous,
            pool,
            count,
            carryover,
        } => {
            let read = |p: &PathBuf| -> anyhow::Result<Vec<String>> {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                Ok(Prompts::parse(&text).0)
            };
            let prev = previous.as_ref().map(read).transpose()?.unwrap_or_default();
            let selected = prompts::select_prompts(seed, &prev, &read(&pool)?, count, carryover);
            if g.json {
                return output::json(&selected);
            }
            println!("{}", Prompts(selected).encode());
            Ok(())
        }
        CompetitionCommand::Seed {
            round,
            block_time,
            state_repo,
            drand_url,
        } => {
            let (block, time_ms) = match (block_time, state_repo) {
                (Some(t), _) => (0, t.saturating_mul(1000)),
                (None, Some(dir)) => {
                    let s: sn17_storage::state_repo::Schedule = sn17_storage::state_repo::read(
                        &DirSource::new(&dir),
                        &layout::round_file(round, layout::SCHEDULE),
                    )?
                    .with_context(|| format!("round {round} has no schedule.json"))?;
                    let view = SubtensorView {
                        client: g.connect().await?,
                        netuid: g.netuid,
                    };
                    let b = s.latest_reveal_block;
                    (b, view.block_timestamp(b).await?)
                }
                (None, None) => anyhow::bail!("give --block-time or --state-repo"),
            };
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?;
            let drawn = crate::engine::seed::drand_seed(
                &client, &drand_url, g.netuid, round, block, time_ms,
            )
            .await?;
            output::json(&drawn)
        }
        CompetitionCommand::Replay { state_repo, round } => {
            let report = replay::replay(&DirSource::new(&state_repo), round)?;
            if g.json {
                output::json(&report)?;
            } else {
                print!("{}", replay::render(&report));
            }
            if report.unexplained() > 0 {
                anyhow::bail!("{} unexplained differences", report.unexplained());
            }
            Ok(())
        }
        CompetitionCommand::Submissions {
            round,
            state_repo,
            earliest,
            latest,
            no_lock_filter,
        } => submissions_cmd(g, round, state_repo, earliest, latest, no_lock_filter).await,
        CompetitionCommand::Weights {
            state_repo,
            block,
            owner_uid,
            set,
        } => weights_cmd(g, state_repo, block, owner_uid, set).await,
        CompetitionCommand::Download {
            state_repo,
            round,
            db,
            blobs,
            concurrency,
            ext,
            no_jitter,
        } => download_cmd(g, state_repo, round, db, blobs, concurrency, ext, no_jitter).await,
        CompetitionCommand::Init {
            state_repo,
            config,
            pool,
            leader,
            block,
            remote,
        } => init_cmd(g, state_repo, config, pool, leader, block, remote).await,
        CompetitionCommand::Run {
            state_repo,
            remote,
            branch,
            db,
            pause_on_stage_end,
            seed,
            drand_url,
            max_steps,
        } => {
            let cfg = EngineConfig {
                pause_on_stage_end,
                seed: seed.policy(&drand_url, g.netuid),
                ..EngineConfig::default()
            };
            run_cmd(g, state_repo, remote, branch, db, cfg, max_steps).await
        }
        CompetitionCommand::ServeCdn { port } => {
            let cdn = crate::engine::download::local_cdn::LocalCdn::start(port).await?;
            println!("{}", cdn.url());
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        CompetitionCommand::BenchDownload {
            miners,
            prompts,
            concurrency,
            dir,
        } => bench_download(miners, prompts, concurrency, dir).await,
        CompetitionCommand::Simulate {
            dir,
            cdn,
            miners,
            remote,
        } => {
            let report = simulate::run(&simulate::SimOptions {
                dir,
                cdn,
                miners,
                remote,
                pause_on_stage_end: false,
            })
            .await?;
            output::json(&report)
        }
    }
}

async fn submissions_cmd(
    g: &GlobalArgs,
    round: Option<u64>,
    state_repo: Option<PathBuf>,
    earliest: Option<u64>,
    latest: Option<u64>,
    no_lock_filter: bool,
) -> anyhow::Result<()> {
    let (earliest, latest) = match (round, state_repo) {
        (Some(n), Some(dir)) => {
            let s: sn17_storage::state_repo::Schedule = sn17_storage::state_repo::read(
                &DirSource::new(&dir),
                &layout::round_file(n, layout::SCHEDULE),
            )?
            .with_context(|| format!("round {n} has no schedule.json"))?;
            (s.earliest_reveal_block, s.latest_reveal_block)
        }
        _ => (earliest.unwrap_or(0), latest.unwrap_or(u64::MAX)),
    };
    let view = SubtensorView {
        client: g.connect().await?,
        netuid: g.netuid,
    };
    let head = view.head().await?;
    let revealed = view.revealed(head).await?;
    let (subs, mut rejected) = submissions::collect(&revealed, earliest, latest);
    let kept = if no_lock_filter {
        subs
    } else {
        let coldkey_of = view.coldkeys(head).await?;
        let registered: Vec<_> = subs
            .iter()
            .filter(|s| coldkey_of.contains_key(&s.hotkey))
            .cloned()
            .collect();
        let locks = view
            .locks(
                head,
                &submissions::coldkeys_in_order(&registered, &coldkey_of),
            )
            .await?;
        let (kept, dropped) = submissions::conviction_filter(
            subs,
            &coldkey_of,
            locks.as_ref(),
            submissions::REQUIRED_LOCK_ALPHA,
        );
        rejected.extend(dropped);
        kept
    };
    if g.json {
        let rejected: Vec<_> = rejected
            .iter()
            .map(|(h, r)| serde_json::json!({"hotkey": h, "rejection": r}))
            .collect();
        return output::json(
            &serde_json::json!({"block": head.number, "earliest": earliest, "latest": latest, "submissions": kept, "rejected": rejected}),
        );
    }
    println!(
        "block {}: {} submissions in [{earliest}, {latest}], {} rejected",
        head.number,
        kept.len(),
        rejected.len()
    );
    let rows: Vec<Vec<String>> = kept
        .iter()
        .map(|s| {
            vec![
                s.reveal_block.to_string(),
                s.hotkey.clone(),
                s.repo.clone(),
                s.commit.clone(),
                s.cdn_url.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["BLOCK", "HOTKEY", "REPO", "COMMIT", "CDN"], &rows)
    );
    for (h, r) in &rejected {
        println!("rejected {h}: {r}");
    }
    Ok(())
}

async fn weights_cmd(
    g: &GlobalArgs,
    state_repo: PathBuf,
    block: Option<u64>,
    owner_uid: u16,
    set: bool,
) -> anyhow::Result<()> {
    let leaders: Vec<sn17_storage::state_repo::LeaderEntry> =
        sn17_storage::state_repo::read(&DirSource::new(&state_repo), layout::LEADER)?
            .context("no leader.json")?;
    let client = g.connect().await?;
    let head = client.head().await?;
    let at = block.unwrap_or(head.number);
    let mg = client
        .metagraph_at(g.netuid, sn17_chain::metagraph::Source::Auto, head)
        .await?;
    let plan = leader::weights_at(
        &leaders,
        at,
        |hk| {
            mg.neurons
                .iter()
                .find(|n| n.hotkey.ss58() == hk)
                .map(|n| n.uid)
        },
        owner_uid,
    );
    let postpone = leader::postpone_for_next_leader(&leaders, at);
    if g.json && !set {
        return output::json(
            &serde_json::json!({"plan": plan, "postpone_for_next_leader": postpone}),
        );
    }
    println!(
        "block {at}: leader {:?} (uid {:?}) weight {}",
        plan.leader_hotkey, plan.leader_uid, plan.leader_weight
    );
    for (uid, w) in &plan.weights {
        println!("  uid {uid}: {w}");
    }
    if !plan.note.is_empty() {
        println!("  ({})", plan.note);
    }
    if postpone {
        println!(
            "  the next leader takes over within {} s: 404's weights-setter waits",
            leader::NEXT_LEADER_WAIT_SECS
        );
    }
    if set {
        let wallet = g.wallet()?;
        let signer = super::hotkey_signer(&wallet)?;
        let outcome = client
            .set_weights(g.netuid, &signer, &plan.weights, &Default::default())
            .await?;
        output::json(&outcome)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn download_cmd(
    g: &GlobalArgs,
    state_repo: PathBuf,
    round: u64,
    db: Option<PathBuf>,
    blobs: Option<PathBuf>,
    concurrency: usize,
    ext: String,
    no_jitter: bool,
) -> anyhow::Result<()> {
    let src = DirSource::new(&state_repo);
    let prompts: Prompts =
        sn17_storage::state_repo::read(&src, &layout::round_file(round, layout::PROMPTS))?
            .context("no prompts.txt")?;
    let subs: sn17_storage::state_repo::Submissions =
        sn17_storage::state_repo::read(&src, &layout::round_file(round, layout::SUBMISSIONS))?
            .context("no submissions.json")?;
    let db_path = db.unwrap_or_else(super::db::default_db_path);
    let store = Store::open(&db_path, &StoreOptions::default())?;
    let blobs = BlobStore::new(blobs.unwrap_or_else(|| db_path.with_file_name("blobs")));
    let mut cfg = DownloadConfig {
        max_concurrent: concurrency,
        ext: ext.clone(),
        ..DownloadConfig::default()
    };
    if no_jitter {
        cfg.start_jitter = Duration::ZERO;
    }
    let fetcher = Fetcher::new(cfg)?;
    let mut tasks = Vec::new();
    for (hk, s) in subs.iter() {
        let Some(cdn) = &s.cdn_url else { continue };
        for url in &prompts.0 {
            let stem = sn17_storage::state_repo::prompt_stem(url);
            tasks.push(DownloadTask {
                round,
                hotkey: hk.to_string(),
                stem: stem.to_string(),
                url: format!("{}/{stem}.{ext}", cdn.trim_end_matches('/')),
            });
        }
    }
    let summary = run_downloads(&fetcher, &store, Some(&blobs), tasks, |_| Ok(())).await?;
    output::json(&summary)?;
    if !g.json {
        eprintln!("database: {}", db_path.display());
    }
    Ok(())
}

async fn run_cmd(
    g: &GlobalArgs,
    state_repo: PathBuf,
    remote: Option<String>,
    branch: String,
    db: Option<PathBuf>,
    cfg: EngineConfig,
    max_steps: Option<u32>,
) -> anyhow::Result<()> {
    let db_path = db.unwrap_or_else(super::db::default_db_path);
    let store = Store::open(&db_path, &StoreOptions { sync: true })?;
    let repo = StateRepo::open_or_clone(&state_repo, remote.as_deref(), &branch)?;
    if let Some(url) = &remote {
        repo.set_remote("origin", url)?;
        if repo.fetch("origin")?.is_some() {
            repo.sync_to_remote("origin")?;
        }
    }
    let push = remote.as_ref().map(|_| PushTarget {
        remote: "origin".into(),
        policy: PushPolicy::default(),
    });
    let mut engine = RoundEngine {
        chain: SubtensorView {
            client: g.connect().await?,
            netuid: g.netuid,
        },
        judge: ExternalJudge,
        store,
        repo: GitBatcher::new(
            repo,
            sn17_storage::state_repo::batcher::BATCH_INTERVAL,
            push,
        ),
        fetcher: Fetcher::new(DownloadConfig::default())?,
        blobs: Some(BlobStore::new(db_path.with_file_name("blobs"))),
        clock: Box::new(SystemClock),
        cfg,
    };
    let mut steps = 0u32;
    loop {
        let step = match engine.step().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "round step failed; retrying in 120 s");
                tokio::time::sleep(Duration::from_secs(120)).await;
                continue;
            }
        };
        steps += 1;
        println!("{}", serde_json::to_string(&step)?);
        if max_steps.is_some_and(|m| steps >= m) {
            return Ok(());
        }
        let wait = match &step {
            Step::Advanced { .. } => continue,
            Step::Idle { .. } => {
                // Push whatever an earlier, interrupted run committed but did not push.
                engine.repo.flush()?;
                return Ok(());
            }
            // 404's services sleep clamp(ETA − now, 120 s, 1800 s).
            Step::Wait {
                until_block: Some(b),
                ..
            } => {
                let head = engine.chain.head().await?.number;
                Duration::from_secs((b.saturating_sub(head) * 12).clamp(120, 1800))
            }
            Step::Wait { .. } => Duration::from_secs(120),
        };
        let _ = engine.repo.flush();
        tokio::time::sleep(wait).await;
    }
}

async fn bench_download(
    miners: usize,
    prompts: usize,
    concurrency: usize,
    dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sn17-bench-download-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let cdn = crate::engine::download::local_cdn::LocalCdn::start(0).await?;
    let store = Store::open(dir.join("db"), &StoreOptions::default())?;
    let blobs = BlobStore::new(dir.join("blobs"));
    let fetcher = Fetcher::new(DownloadConfig {
        max_concurrent: concurrency,
        start_jitter: Duration::ZERO,
        block_private_addresses: false,
        progress: false,
        ..DownloadConfig::default()
    })?;
    let mut tasks = Vec::with_capacity(miners * prompts);
    for m in 0..miners {
        for p in 0..prompts {
            let stem = format!("{:064x}", p * 7919 + 1);
            tasks.push(DownloadTask {
                round: 1,
                hotkey: format!("5Bench{m:04}"),
                stem: stem.clone(),
                url: format!("{}/bench/m{m}/{stem}.js", cdn.url()),
            });
        }
    }
    let summary = run_downloads(&fetcher, &store, Some(&blobs), tasks, |_| Ok(())).await?;
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    let report = serde_json::json!({
        "miners": miners,
        "prompts": prompts,
        "concurrency": concurrency,
        "files": summary.ok,
        "failed": summary.failed,
        "bytes": summary.bytes,
        // Body bytes taken off the wire, failed and retried fetches included.
        "bytes_received": fetcher.bytes_received(),
        "seconds": secs,
        "files_per_second": summary.ok as f64 / secs,
        "mib_per_second": summary.bytes as f64 / 1048576.0 / secs,
    });
    output::json(&report)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn init_cmd(
    g: &GlobalArgs,
    state_repo: PathBuf,
    config: PathBuf,
    pool: PathBuf,
    leader: Vec<String>,
    block: Option<u64>,
    remote: Option<String>,
) -> anyhow::Result<()> {
    use sn17_storage::state_repo::datetime::format_datetime;
    use sn17_storage::state_repo::{Config, LeaderEntry, Stage, State};
    let config_text = std::fs::read_to_string(&config)
        .with_context(|| format!("reading {}", config.display()))?;
    let cfg =
        Config::decode(&config_text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let pool_text =
        std::fs::read_to_string(&pool).with_context(|| format!("reading {}", pool.display()))?;
    let prompts = Prompts::parse(&pool_text);
    anyhow::ensure!(!prompts.0.is_empty(), "the prompt pool is empty");
    let block = match block {
        Some(b) => b,
        None => g.connect().await?.head().await?.number,
    };
    let now = crate::engine::round::Clock::now_us(&SystemClock);
    let first = crate::engine::schedule::next_round(None, &cfg, now, block)?
        .context("the competition's last date has passed")?;
    let repo = StateRepo::open_or_clone(&state_repo, remote.as_deref(), "main")?;
    anyhow::ensure!(
        repo.head()?.is_none(),
        "{} already has commits",
        state_repo.display()
    );
    let mut files = vec![
        (
            layout::CONFIG.to_string(),
            config_text.trim_end().as_bytes().to_vec(),
        ),
        (
            layout::PROMPT_POOL.to_string(),
            prompts.encode().into_bytes(),
        ),
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
    if let [hotkey, repo_name, commit, docker] = &leader[..] {
        let base = vec![LeaderEntry::new(hotkey, repo_name, commit, docker, 0.0, 0)];
        files.push((layout::LEADER.to_string(), base.encode().into_bytes()));
    }
    let id = repo.commit(&files, "Initial competition state")?;
    if remote.is_some() {
        repo.push("origin", &PushPolicy::default())?;
    }
    println!(
        "initialised {} at {:?}: round 0 reveals close at block {} ({})",
        state_repo.display(),
        id,
        first.schedule.latest_reveal_block,
        format_datetime(first.start_unix_us)
    );
    Ok(())
}
