//! A deterministic simulated competition: a scripted chain whose head follows a simulated clock,
//! a local CDN given by URL, and a stand-in judge (hash margins through the real timeline rules).
//! `sn17 competition simulate` runs it; the crash-safety test kills that process at
//! random points and checks that the final database and state repository are exactly those of
//! an uninterrupted run. The clock only moves when the engine waits for a block, and is saved
//! atomically, so a restarted run replays the same decisions at the same simulated times.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sn17_storage::db::{Store, StoreOptions};
use sn17_storage::state_repo::datetime::{civil_from_days, format_datetime, parse_datetime};
use sn17_storage::state_repo::layout;
use sn17_storage::state_repo::{
    Config, GitBatcher, LeaderEntry, Prompts, PushPolicy, PushTarget, Stage, State, StateFile,
    StateRepo,
};

use super::chain_view::{ChainHead, ChainView};
use super::download::{BlobStore, DownloadConfig, Fetcher};
use super::round::{
    Clock, DuelContext, DuelOutcome, EngineConfig, Judge, RoundEngine, SeedPolicy, Step,
};
use super::schedule::next_round;
use super::submissions::Revealed;
use super::timeline;
use super::EngineError;

const T0: &str = "2026-03-01T06:00:00Z";
const B0: u64 = 5_000_000;

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Working directory: `db/`, `repo/`, `blobs/`, `clock`.
    pub dir: PathBuf,
    /// Base URL of the CDN serving `/m{i}/{stem}.js`.
    pub cdn: String,
    pub miners: u32,
    /// A bare repository to push to, if any.
    pub remote: Option<String>,
    /// Write `paused` instead of each next stage (the run then stops, idle, at every stage).
    pub pause_on_stage_end: bool,
}

#[derive(Debug, Serialize)]
pub struct SimReport {
    pub steps: u32,
    pub final_round: u64,
    pub final_stage: String,
}

fn t0() -> i64 {
    parse_datetime(T0).unwrap_or(0)
}

/// The simulated clock, persisted in a file (write, then rename).
pub struct SimClock {
    now: Arc<AtomicI64>,
    path: PathBuf,
}

impl SimClock {
    fn load(path: PathBuf) -> Self {
        let v = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(t0);
        Self {
            now: Arc::new(AtomicI64::new(v)),
            path,
        }
    }

    fn advance_to_block(&self, block: u64) -> Result<(), EngineError> {
        let t = t0() + (block.saturating_sub(B0) as i64) * 12_000_000;
        if t <= self.now.load(Ordering::SeqCst) {
            return Ok(());
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, t.to_string()).map_err(|source| EngineError::Io {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &self.path).map_err(|source| EngineError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.now.store(t, Ordering::SeqCst);
        Ok(())
    }

    fn handle(&self) -> SharedClock {
        SharedClock(self.now.clone())
    }
}

#[derive(Clone)]
struct SharedClock(Arc<AtomicI64>);

impl Clock for SharedClock {
    fn now_us(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn hex_of(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

pub fn sim_hotkey(i: u32) -> String {
    format!("5Sim{i:02}{}", &hex_of(&[b"hk", &i.to_be_bytes()])[..40])
}

fn sim_coldkey(i: u32) -> String {
    format!(
        "5Ck{:02}{}",
        i / 2,
        &hex_of(&[b"ck", &(i / 2).to_be_bytes()])[..40]
    )
}

/// The scripted chain: miner `i` reveals a full commitment every 3600 blocks; miner 1 commits a
/// repo with a dot (invalid), miner 4's coldkey is under-locked, the last miner is unregistered.
struct SimChain {
    clock: SharedClock,
    cdn: String,
    miners: u32,
}

impl SimChain {
    fn block(&self) -> u64 {
        B0 + ((self.clock.now_us() - t0()).max(0) / 12_000_000) as u64
    }
}

impl ChainView for SimChain {
    async fn head(&self) -> Result<ChainHead, EngineError> {
        let n = self.block();
        let h = Sha256::digest(n.to_be_bytes());
        Ok(ChainHead {
            number: n,
            hash: h.into(),
        })
    }

    async fn revealed(&self, at: ChainHead) -> Result<Vec<Revealed>, EngineError> {
        let mut out = Vec::new();
        for i in 0..self.miners {
            let mut entries = Vec::new();
            for k in 0u64.. {
                let block = B0 + k * 3600 + 37 * u64::from(i) + 1;
                if block > at.number {
                    break;
                }
                let commit = &hex_of(&[b"commit", &i.to_be_bytes(), &k.to_be_bytes()])[..40];
                let repo = if i == 1 {
                    format!("owner{i}/miner.v{k}")
                } else {
                    format!("owner{i}/miner-{i}")
                };
                entries.push((block, format!("{{\"repo\": \"{repo}\", \"commit\": \"{commit}\", \"cdn_url\": \"{}/m{i}/\"}}", self.cdn)));
            }
            let keep = entries.len().saturating_sub(10);
            let hotkey = sim_hotkey(i);
            out.push(Revealed {
                account: Some(Sha256::digest(hotkey.as_bytes()).into()),
                hotkey,
                entries: entries.split_off(keep),
            });
        }
        Ok(out)
    }

    async fn coldkeys(&self, _at: ChainHead) -> Result<HashMap<String, String>, EngineError> {
        Ok((0..self.miners.saturating_sub(1))
            .map(|i| (sim_hotkey(i), sim_coldkey(i)))
            .collect())
    }

    async fn locks(
        &self,
        _at: ChainHead,
        coldkeys: &[String],
    ) -> Result<Option<HashMap<String, f64>>, EngineError> {
        let poor = sim_coldkey(4);
        Ok(Some(
            coldkeys
                .iter()
                .map(|c| (c.clone(), if *c == poor { 50.0 } else { 1000.0 }))
                .collect(),
        ))
    }

    async fn block_timestamp(&self, number: u64) -> Result<u64, EngineError> {
        let t = t0() + (number.saturating_sub(B0) as i64) * 12_000_000;
        Ok((t / 1000).max(0) as u64)
    }
}

/// A stand-in for the judge service: margins come from a hash of (round, left, right) in
/// [−0.1, 0.2) (−1.0 for a miner that delivered nothing), and the winner from the real
/// qualification and timeline rules (without audits, which the simulation does not run).
struct SimJudge;

fn sim_margin(round: u64, seed: Option<u32>, left: &str, right: &str, delivered: bool) -> f64 {
    if !delivered {
        return -1.0;
    }
    let h = Sha256::new()
        .chain_update(round.to_be_bytes())
        .chain_update(seed.unwrap_or(0).to_be_bytes())
        .chain_update(left.as_bytes())
        .chain_update(right.as_bytes())
        .finalize();
    let x = f64::from(u16::from_be_bytes([h[0], h[1]])) / 65536.0;
    timeline::margin(((x * 0.3 - 0.1) * 128.0).round() as i64, 128)
}

impl Judge for SimJudge {
    async fn judge(&self, ctx: DuelContext<'_>) -> Result<Option<DuelOutcome>, EngineError> {
        let order: Vec<String> = ctx.submissions.iter().map(|s| s.hotkey.clone()).collect();
        let delivered = |hk: &str| {
            ctx.downloads
                .iter()
                .any(|d| d.hotkey == hk && d.failure_reason.is_none())
        };
        // The "leader" side is the current leader's regenerated outputs; its identity feeds the hash.
        let leader_id = ctx.leader.map_or(layout::LEADER_KEY, |l| l.hotkey.as_str());
        let margin = |left: &str, right: &str| {
            let left = if left == layout::LEADER_KEY {
                leader_id
            } else {
                left
            };
            sim_margin(ctx.round, ctx.seed, left, right, delivered(right))
        };
        let inputs = timeline::TimelineInputs {
            order,
            win_margin: ctx.config.win_margin,
            audit_repeats: ctx.config.audit_repeats() as u32,
            ..Default::default()
        };
        let audits = sn17_storage::state_repo::MatchMatrix::default();
        let settled = timeline::settle(
            &inputs,
            &audits,
            |left, right| {
                let m = margin(&left, &right);
                async move { Ok::<_, EngineError>(m) }
            },
            // The simulation runs no regeneration: winners stay unverified, as before.
            |_, _| async { Ok(timeline::AuditResult::Margins(Vec::new())) },
        )
        .await?;
        let settled =
            settled.ok_or_else(|| EngineError::State("the timeline did not settle".into()))?;
        Ok(Some(DuelOutcome::from_settled(settled)))
    }
}

fn sim_config(start_day: i64) -> Config {
    let (y, m, d) = civil_from_days(start_day);
    let (y2, m2, d2) = civil_from_days(start_day + 2);
    let text = format!(
        "{{\"name\":\"sim\",\"description\":\"sn17 simulation\",\"first_evaluation_date\":\"{y:04}-{m:02}-{d:02}\",\
         \"last_competition_date\":\"{y2:04}-{m2:02}-{d2:02}\",\"round_start_time\":\"08:00:00\",\
         \"generation_stage_minutes\":60,\"finalization_buffer_hours\":1.0,\"win_margin\":0.05,\"weight_decay\":0.2,\
         \"weight_floor\":0.2,\"prompts_per_round\":8,\"carryover_prompts\":2,\"round_duration_days\":1}}"
    );
    Config::decode(&text).unwrap_or_else(|e| panic!("simulation config is valid JSON: {e}"))
}

/// Creates the competition's initial state when the repository is empty.
fn init_repo(repo: &StateRepo) -> Result<(), EngineError> {
    if repo.head()?.is_some() {
        return Ok(());
    }
    let now = t0();
    let config = sim_config(now.div_euclid(86_400_000_000));
    let pool = Prompts(
        (0..40u32)
            .map(|i| {
                format!(
                    "https://prompts.sim/{}.png",
                    &hex_of(&[b"prompt", &i.to_be_bytes()])[..24]
                )
            })
            .collect(),
    );
    let first = next_round(None, &config, now, B0)
        .map_err(|e| EngineError::State(e.to_string()))?
        .ok_or_else(|| EngineError::State("simulation has no first round".into()))?;
    let base = vec![LeaderEntry::new(
        &sim_hotkey(99),
        "sim/base-miner",
        &"0".repeat(40),
        "base:latest",
        0.0,
        0,
    )];
    let files = vec![
        (layout::CONFIG.to_string(), config.encode().into_bytes()),
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
    repo.commit(&files, "Initial state")?;
    Ok(())
}

/// Runs (or resumes) the simulation until the competition is finished.
pub async fn run(opts: &SimOptions) -> Result<SimReport, EngineError> {
    std::fs::create_dir_all(&opts.dir).map_err(|source| EngineError::Io {
        path: opts.dir.clone(),
        source,
    })?;
    let clock = SimClock::load(opts.dir.join("clock"));
    let store = Store::open(opts.dir.join("db"), &StoreOptions::default())?;
    let mut repo = StateRepo::open_or_clone(opts.dir.join("repo"), opts.remote.as_deref(), "main")?;
    repo.set_fixed_time(Some(clock.handle().now_us() / 1_000_000));
    init_repo(&repo)?;
    let push = opts.remote.as_ref().map(|_| PushTarget {
        remote: "origin".into(),
        policy: PushPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        },
    });
    let batcher = GitBatcher::new(repo, Duration::from_secs(u64::MAX / 4), push).deferred();
    let fetcher = Fetcher::new(DownloadConfig {
        max_concurrent: 4,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        attempts: 2,
        retry_wait: Duration::ZERO,
        start_jitter: Duration::ZERO,
        max_bytes: 4096,
        ext: "js".into(),
        block_private_addresses: false,
        progress: false,
    })?;
    let mut engine = RoundEngine {
        chain: SimChain {
            clock: clock.handle(),
            cdn: opts.cdn.trim_end_matches('/').to_string(),
            miners: opts.miners,
        },
        judge: SimJudge,
        store,
        repo: batcher,
        fetcher,
        blobs: Some(BlobStore::new(opts.dir.join("blobs"))),
        clock: Box::new(clock.handle()),
        cfg: EngineConfig {
            seed: SeedPolicy::Derived("sn17-sim".into()),
            pause_on_stage_end: opts.pause_on_stage_end,
            ..EngineConfig::default()
        },
    };
    let mut steps = 0;
    loop {
        engine
            .repo
            .repo_mut()
            .set_fixed_time(Some(clock.handle().now_us() / 1_000_000));
        let step = engine.step().await?;
        steps += 1;
        tracing::info!(?step, "simulation step");
        match step {
            Step::Advanced { .. } => {}
            Step::Wait {
                until_block: Some(b),
                ..
            } => clock.advance_to_block(b)?,
            Step::Wait { reason, .. } => {
                return Err(EngineError::State(format!("simulation stuck: {reason}")))
            }
            Step::Idle { round, stage, .. } => {
                // A run resumed after a kill may have commits it has not pushed yet.
                engine.repo.flush()?;
                return Ok(SimReport {
                    steps,
                    final_round: round,
                    final_stage: stage,
                });
            }
        }
        if steps > 10_000 {
            return Err(EngineError::State("simulation does not finish".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::download::local_cdn::LocalCdn;
    use crate::engine::replay;
    use sn17_storage::db::{keys, DownloadRecord, RoundRecord, SubmissionRecord};
    use sn17_storage::state_repo::{read, GenerationsMap, Submissions};

    #[tokio::test]
    async fn a_simulated_competition_runs_to_the_end_and_replays_clean() {
        let cdn = LocalCdn::start(0).await.expect("cdn");
        let dir = tempfile::tempdir().expect("tempdir");
        let remote = dir.path().join("remote.git");
        StateRepo::init_bare(&remote).expect("bare");
        let opts = SimOptions {
            dir: dir.path().join("sim"),
            cdn: cdn.url(),
            miners: 8,
            remote: Some(remote.to_str().expect("utf-8").to_string()),
            pause_on_stage_end: false,
        };
        let report = run(&opts).await.expect("simulation");
        assert_eq!(report.final_stage, "finished");
        assert_eq!(report.final_round, 2);

        // The pushed repository is the one replay reads.
        let clone =
            StateRepo::open_or_clone(dir.path().join("clone"), opts.remote.as_deref(), "main")
                .expect("clone");
        let src = clone.at(None).expect("tree");
        let r = replay::replay(&src, None).expect("replay");
        assert_eq!(r.unexplained(), 0, "{}", replay::render(&r));
        assert!(r.checks > 50, "{} checks", r.checks);

        // Submissions: miner 1 (dotted repo), 4 and 5 (under-locked coldkey) and 7 (unregistered)
        // are out; the rest are in reveal order.
        let subs: Submissions = read(&src, "rounds/1/submissions.json")
            .expect("read")
            .expect("present");
        let want: Vec<String> = [0u32, 2, 3, 6].iter().map(|i| sim_hotkey(*i)).collect();
        assert_eq!(subs.keys().map(str::to_string).collect::<Vec<_>>(), want);
        // Round 1 carries 2 prompts of round 0.
        let p0: Prompts = read(&src, "rounds/0/prompts.txt")
            .expect("read")
            .expect("present");
        let p1: Prompts = read(&src, "rounds/1/prompts.txt")
            .expect("read")
            .expect("present");
        assert_eq!(p1.0.len(), 8);
        assert!(p1.0[..2].iter().all(|p| p0.0.contains(p)));
        // Miner 2's CDN answers 404; miner 3 sends endless bodies for some stems.
        let m2: GenerationsMap = read(&src, &format!("rounds/1/{}/submitted.json", sim_hotkey(2)))
            .expect("read")
            .expect("present");
        assert!(m2.iter().all(|(_, g)| g.failure_reason.as_deref()
            == Some("js_fetch_failed: HTTP 404")
            && g.js.is_none()));
        assert_eq!(m2.len(), 8);
        let m0: GenerationsMap = read(&src, &format!("rounds/1/{}/submitted.json", sim_hotkey(0)))
            .expect("read")
            .expect("present");
        assert!(m0
            .iter()
            .all(|(_, g)| g.failure_reason.is_none() && g.size > 0));
        let leaders: Vec<LeaderEntry> = read(&src, "leader.json").expect("read").expect("present");
        assert!(
            leaders.len() >= 2,
            "at least one transition after three rounds"
        );
        let state: State = read(&src, "state.json").expect("read").expect("present");
        assert_eq!(state.stage, Stage::Finished);

        // The database holds the same decisions.
        let store = Store::open(dir.path().join("sim/db"), &StoreOptions::default()).expect("db");
        let rec: RoundRecord = store.get(&keys::round(1)).expect("get").expect("round 1");
        assert_eq!(rec.prompts, p1.0);
        assert!(rec.is_done("collected") && rec.is_done("downloaded") && rec.is_done("finalized"));
        let subs_db: Vec<SubmissionRecord> = store.scan(&keys::round(1)).expect("scan");
        assert_eq!(subs_db.len(), 4);
        let dls: Vec<DownloadRecord> = store.scan(&keys::round(1)).expect("scan");
        assert_eq!(dls.len(), 32);
        drop(store);

        // Running again changes nothing: every step is done.
        let again = run(&opts).await.expect("rerun");
        assert_eq!(again.steps, 1);
        assert_eq!(
            clone.log().expect("log").len(),
            StateRepo::open(dir.path().join("sim/repo"), "main")
                .expect("repo")
                .log()
                .expect("log")
                .len()
        );
    }

    /// Every file of the branch tip, path → bytes.
    fn tree(repo: &StateRepo) -> Vec<(String, Vec<u8>)> {
        use sn17_storage::state_repo::FileSource;
        let src = repo.at(None).expect("tip");
        let mut out = Vec::new();
        let mut dirs = vec![String::new()];
        while let Some(d) = dirs.pop() {
            for name in src.list_dir(&d).expect("list") {
                let p = if d.is_empty() {
                    name
                } else {
                    format!("{d}/{name}")
                };
                match src.read_bytes(&p).expect("read") {
                    Some(b) => out.push((p, b)),
                    None => dirs.push(p),
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn paused_at_every_stage_and_resumed_by_hand_it_ends_as_an_uninterrupted_run() {
        let cdn = LocalCdn::start(0).await.expect("cdn");
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = |name: &str, pause: bool| SimOptions {
            dir: dir.path().join(name),
            cdn: cdn.url(),
            miners: 6,
            remote: None,
            pause_on_stage_end: pause,
        };
        let clean = run(&opts("clean", false)).await.expect("clean run");
        assert_eq!(clean.final_stage, "finished");

        let paused = opts("paused", true);
        let mut pauses = Vec::new();
        loop {
            let r = run(&paused).await.expect("paused run");
            if r.final_stage == "finished" {
                break;
            }
            assert_eq!(r.final_stage, "paused");
            assert!(pauses.len() < 40, "never finishes: {pauses:?}");
            // The operator's edit: state.json's stage back to the one the round record names.
            let store = Store::open(paused.dir.join("db"), &StoreOptions::default()).expect("db");
            let repo = StateRepo::open(paused.dir.join("repo"), "main").expect("repo");
            let mut state: State = read(&repo.at(None).expect("tip"), layout::STATE)
                .expect("read")
                .expect("state.json");
            assert_eq!(state.stage, Stage::Paused);
            let rec: RoundRecord = store
                .get(&keys::round(state.current_round))
                .expect("get")
                .expect("round record");
            pauses.push(format!("{}:{}", state.current_round, rec.stage));
            state.stage = Stage::parse(&rec.stage);
            repo.commit(
                &[(layout::STATE.to_string(), state.encode().into_bytes())],
                "Resume",
            )
            .expect("resume commit");
        }
        // Every stage of every round paused once, in order.
        assert_eq!(
            &pauses[..5],
            [
                "0:miner_generation",
                "0:downloading",
                "0:duels",
                "0:finalizing",
                "1:open"
            ]
        );
        assert_eq!(pauses.last().map(String::as_str), Some("2:finished"));

        let a = StateRepo::open(dir.path().join("clean/repo"), "main").expect("repo");
        let b = StateRepo::open(paused.dir.join("repo"), "main").expect("repo");
        assert_eq!(tree(&a), tree(&b), "same files at the end");
        let dump = |name: &str| {
            Store::open(dir.path().join(name).join("db"), &StoreOptions::default())
                .expect("db")
                .dump()
                .expect("dump")
        };
        let (da, db) = (dump("clean"), dump("paused"));
        assert!(da.len() > 50);
        assert!(da == db, "same database records");
    }
}
