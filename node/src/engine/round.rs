//! The round state machine (competition.md §1): `open → miner_generation → downloading → duels →
//! finalizing → open | finished`, and `paused`, driven by the block schedule.
//!
//! Every step is idempotent. A step first decides (reading the chain and the clock), then writes
//! its records and the exact state-repository commit it implies (the outbox) in one RocksDB
//! batch, then applies the outbox to git and deletes it. A crash before the batch redoes the
//! decision; a crash after it finds the outbox and makes the same commit (a commit whose files
//! are already there is a no-op). Decisions that must not change on a retry (the seed, the
//! submissions, the next schedule) are therefore made once.

use std::future::Future;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sn17_storage::db::{
    keys, Batch, ChainSnapshotRecord, DownloadRecord, MatchRecord, OutboxFile, OutboxRecord,
    RoundRecord, ScheduleRecord, Store, SubmissionRecord,
};
use sn17_storage::state_repo::datetime::format_datetime;
use sn17_storage::state_repo::layout::{self, message};
use sn17_storage::state_repo::{
    build_tag, docker_image, prompt_stem, AuditRequest, Config, GenerationResult, GenerationsMap,
    GitBatcher, LeaderEntry, Map, MatchMatrix, Prompts, RoundResult, Schedule, Seed, Stage, State,
    StateFile, Submission as SubmissionFile, Submissions, Verdict,
};

use super::chain_view::ChainView;
use super::download::{run_downloads, BlobStore, DownloadTask, Fetcher};
use super::schedule::{next_round, BLOCK_SECS};
use super::submissions::{self, coldkeys_in_order, conviction_filter};
use super::{leader, prompts, seed, EngineError};

/// How seeds are drawn.
#[derive(Debug, Clone)]
pub enum SeedPolicy {
    /// 404's: 32 bits from the OS CSPRNG.
    Csprng,
    /// SHA-256 of `label` and the round (simulations and tests, where runs must repeat).
    Derived(String),
    /// The verifiable seed of a public drand quicknet beacon fixed by the schedule (see
    /// [`seed`](super::seed) for the derivation).
    Drand(DrandPolicy),
}

/// Where `SeedPolicy::Drand` reads beacons, and the netuid the seed is bound to.
#[derive(Debug, Clone)]
pub struct DrandPolicy {
    /// A drand HTTP API (default [`seed::DEFAULT_DRAND_URL`]).
    pub url: String,
    pub netuid: u16,
}

/// A drawn seed, or why it must wait.
enum Drawn {
    Seed(u32, Option<ChainSnapshotRecord>),
    NotYet(String),
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub required_lock_alpha: f64,
    /// Write `paused` instead of the next stage (`PAUSE_ON_STAGE_END`).
    pub pause_on_stage_end: bool,
    pub docker_format: String,
    pub seed: SeedPolicy,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            required_lock_alpha: submissions::REQUIRED_LOCK_ALPHA,
            pause_on_stage_end: false,
            docker_format: sn17_storage::state_repo::DOCKER_IMAGE_FORMAT.into(),
            seed: SeedPolicy::Csprng,
        }
    }
}

/// Wall-clock time, as unix microseconds.
pub trait Clock: Send + Sync {
    fn now_us(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)
    }
}

/// What the judge sees of a round.
pub struct DuelContext<'a> {
    pub round: u64,
    pub config: &'a Config,
    pub seed: Option<u32>,
    /// The round's prompt image URLs (`prompts.txt`).
    pub prompts: &'a [String],
    pub submissions: &'a [SubmissionRecord],
    pub downloads: &'a [DownloadRecord],
    pub leader: Option<&'a LeaderEntry>,
}

/// The judge's result: every match (left = defender, right = challenger), every audit duel
/// (left = `submitted_r` or `{defender}_r`), audit verdicts (hotkey, passed, reason), and the
/// winner.
#[derive(Debug, Clone, PartialEq)]
pub struct DuelOutcome {
    pub matches: Vec<(String, String, f64)>,
    pub audits: Vec<(String, String, f64)>,
    pub verdicts: Vec<(String, bool, String)>,
    /// (hotkey, latest defender) of every audit, for `require_audit.json`.
    pub audit_requests: Vec<(String, String)>,
    pub winner: String,
    /// 404's match reports (`rounds/N/<right>/{duels|audit}_*.json`) as (state-repo path, report).
    pub reports: Vec<(String, sn17_storage::state_repo::MatchReport)>,
    /// `generation_reports.json`: each audited submission's regeneration on its pod.
    pub generation_reports: Vec<sn17_storage::state_repo::GenerationReport>,
}

fn rows(matrix: &MatchMatrix) -> Vec<(String, String, f64)> {
    matrix
        .rows
        .iter()
        .map(|r| (r.left.clone(), r.right.clone(), r.margin))
        .collect()
}

impl DuelOutcome {
    /// From a settled timeline (see [`super::timeline::settle`]).
    pub fn from_settled(s: super::timeline::Settled) -> Self {
        Self {
            matches: rows(&s.matches),
            audits: rows(&s.audits),
            verdicts: s
                .verdicts
                .into_iter()
                .map(|(hk, (passed, reason))| (hk, passed, reason))
                .collect(),
            audit_requests: s.audit_requests,
            winner: s.winner,
            reports: Vec::new(),
            generation_reports: Vec::new(),
        }
    }
}

/// Runs a round's duels (issue 6's judge plugs in here).
pub trait Judge {
    /// `None` while the result is not ready.
    fn judge(
        &self,
        ctx: DuelContext<'_>,
    ) -> impl Future<Output = Result<Option<DuelOutcome>, EngineError>> + Send;
}

/// A judge that runs elsewhere (404's judge-service, or a separate sn17 judge): the engine
/// waits for it to write `winner.json` and move the stage on.
pub struct ExternalJudge;

impl Judge for ExternalJudge {
    async fn judge(&self, _ctx: DuelContext<'_>) -> Result<Option<DuelOutcome>, EngineError> {
        Ok(None)
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Advanced {
        round: u64,
        from: String,
        to: String,
    },
    Wait {
        round: u64,
        stage: String,
        until_block: Option<u64>,
        reason: String,
    },
    Idle {
        round: u64,
        stage: String,
        reason: String,
    },
}

/// The engine: chain, judge, database, state repository, downloader.
pub struct RoundEngine<C, J> {
    pub chain: C,
    pub judge: J,
    pub store: Store,
    pub repo: GitBatcher,
    pub fetcher: Fetcher,
    pub blobs: Option<BlobStore>,
    pub clock: Box<dyn Clock>,
    pub cfg: EngineConfig,
}

fn st(e: impl std::fmt::Display) -> EngineError {
    EngineError::State(e.to_string())
}

fn file<T: StateFile>(path: String, value: &T) -> OutboxFile {
    OutboxFile {
        path,
        content: value.encode(),
    }
}

impl<C: ChainView, J: Judge> RoundEngine<C, J> {
    /// Runs one step of the current stage.
    pub async fn step(&mut self) -> Result<Step, EngineError> {
        self.apply_outbox()?;
        let state: State = self.repo.read(layout::STATE)?.ok_or_else(|| {
            st("the state repository has no state.json (run `sn17 competition init`)")
        })?;
        let round = state.current_round;
        let _span = tracing::info_span!("round", round, stage = %state.stage).entered();
        match state.stage {
            Stage::Open | Stage::Collecting => self.open(round).await,
            Stage::MinerGeneration | Stage::Generating => self.miner_generation(round).await,
            Stage::Downloading => self.downloading(round).await,
            Stage::Duels => self.duels(round).await,
            Stage::Finalizing => self.finalizing(round).await,
            Stage::Finished => Ok(Step::Idle {
                round,
                stage: "finished".into(),
                reason: "the competition is over".into(),
            }),
            Stage::Paused => {
                let resume = self
                    .store
                    .get::<RoundRecord>(&keys::round(round))?
                    .map_or_else(|| "the next stage".to_string(), |r| r.stage);
                Ok(Step::Idle {
                    round,
                    stage: "paused".into(),
                    reason: format!("paused: set state.json's stage to {resume} to resume"),
                })
            }
            Stage::Other(s) => Ok(Step::Idle {
                round,
                stage: s.clone(),
                reason: format!("unknown stage {s:?}"),
            }),
        }
    }

    /// Applies a decided commit left by an interrupted step.
    fn apply_outbox(&mut self) -> Result<(), EngineError> {
        let Some(out) = self.store.get::<OutboxRecord>(OutboxRecord::KEY)? else {
            return Ok(());
        };
        for f in &out.files {
            self.repo.queue(&f.path, f.content.clone().into_bytes());
        }
        for m in &out.messages {
            self.repo.add_message(m);
        }
        self.repo.flush()?;
        let mut b = Batch::new();
        b.delete::<OutboxRecord>(OutboxRecord::KEY.to_vec());
        self.store.write(b)?;
        Ok(())
    }

    /// Writes `batch` plus the outbox atomically, then applies the outbox.
    fn commit(
        &mut self,
        mut batch: Batch,
        files: Vec<OutboxFile>,
        messages: Vec<String>,
    ) -> Result<(), EngineError> {
        batch.put(&OutboxRecord { files, messages })?;
        self.store.write(batch)?;
        self.apply_outbox()
    }

    /// The stage `state.json` gets. When pausing, the round record still names the stage the
    /// round was going to (`paused` is left by editing `state.json` back to it).
    fn next(&self, stage: Stage) -> Stage {
        if self.cfg.pause_on_stage_end {
            Stage::Paused
        } else {
            stage
        }
    }

    fn config(&self) -> Result<Config, EngineError> {
        self.repo
            .read(layout::CONFIG)?
            .ok_or_else(|| st("the state repository has no config.json"))
    }

    fn schedule(&self, round: u64) -> Result<Schedule, EngineError> {
        self.repo
            .read(&layout::round_file(round, layout::SCHEDULE))?
            .ok_or_else(|| st(format!("round {round} has no schedule.json")))
    }

    fn round_record(&self, round: u64, stage: &str) -> Result<RoundRecord, EngineError> {
        Ok(self
            .store
            .get::<RoundRecord>(&keys::round(round))?
            .unwrap_or_else(|| RoundRecord::new(round, stage)))
    }

    fn eta(&self, head: u64, target: u64) -> String {
        let now = self.clock.now_us();
        format_datetime(now + (target as i64 - head as i64) * BLOCK_SECS * 1_000_000)
    }

    /// Draws the round's seed. A drand seed also yields the record an auditor checks it with.
    async fn draw_seed(&self, round: u64, schedule: &Schedule) -> Result<Drawn, EngineError> {
        let policy = match &self.cfg.seed {
            SeedPolicy::Csprng => return Ok(Drawn::Seed(seed::random_seed(), None)),
            SeedPolicy::Derived(label) => {
                let d = Sha256::new()
                    .chain_update(label.as_bytes())
                    .chain_update(round.to_be_bytes())
                    .finalize();
                return Ok(Drawn::Seed(
                    u32::from_be_bytes([d[0], d[1], d[2], d[3]]),
                    None,
                ));
            }
            SeedPolicy::Drand(p) => p,
        };
        let block = schedule.latest_reveal_block;
        let time_ms = self.chain.block_timestamp(block).await?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| EngineError::Http(e.to_string()))?;
        let drawn = match seed::drand_seed(
            &client,
            &policy.url,
            policy.netuid,
            round,
            block,
            time_ms,
        )
        .await
        {
            Ok(d) => d,
            Err(e @ seed::DrandError::NotYetPublished { .. }) => {
                return Ok(Drawn::NotYet(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(
            drand_round = drawn.drand_round,
            seed = drawn.seed,
            "drand seed"
        );
        let record = drawn.record().map_err(st)?;
        Ok(Drawn::Seed(drawn.seed, Some(record)))
    }

    async fn open(&mut self, round: u64) -> Result<Step, EngineError> {
        let schedule = self.schedule(round)?;
        let head = self.chain.head().await?;
        if head.number < schedule.latest_reveal_block {
            return Ok(Step::Wait {
                round,
                stage: "open".into(),
                until_block: Some(schedule.latest_reveal_block),
                reason: "reveal window open".into(),
            });
        }
        let mut rec = self.round_record(round, "open")?;
        if rec.is_done("collected") {
            return Err(st(format!(
                "round {round}: submissions were collected but state.json still says open (edited by hand?)"
            )));
        }
        let config = self.config()?;
        let (earliest, latest) = (schedule.earliest_reveal_block, schedule.latest_reveal_block);
        // The seed is drawn only after `kept` is known, but before anything is written, so a
        // beacon that is not out yet leaves the round untouched.
        let revealed = self.chain.revealed(head).await?;
        let coldkey_of = self.chain.coldkeys(head).await?;
        let (subs, mut rejected) = submissions::collect(&revealed, earliest, latest);
        let registered: Vec<_> = subs
            .iter()
            .filter(|s| coldkey_of.contains_key(&s.hotkey))
            .cloned()
            .collect();
        let cks = coldkeys_in_order(&registered, &coldkey_of);
        let locks = self.chain.locks(head, &cks).await?;
        let (kept, dropped) = conviction_filter(
            subs,
            &coldkey_of,
            locks.as_ref(),
            self.cfg.required_lock_alpha,
        );
        rejected.extend(dropped);
        let drawn = if kept.is_empty() {
            None
        } else {
            match self.draw_seed(round, &schedule).await? {
                Drawn::Seed(s, record) => Some((s, record)),
                Drawn::NotYet(reason) => {
                    return Ok(Step::Wait {
                        round,
                        stage: "open".into(),
                        until_block: None,
                        reason,
                    })
                }
            }
        };
        for (hk, why) in &rejected {
            tracing::info!(miner = %layout::hk10(hk), reason = %why, "no submission");
        }
        tracing::info!(
            submissions = kept.len(),
            rejected = rejected.len(),
            "collected submissions"
        );

        let mut batch = Batch::new();
        let snapshot = serde_json::json!({
            "round": round,
            "revealed": revealed.iter().map(|r| serde_json::json!({"hotkey": r.hotkey, "entries": r.entries})).collect::<Vec<_>>(),
            "locks": locks.as_ref().map(|l| l.iter().map(|(k, v)| (k.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>()),
            "rejected": rejected.iter().map(|(h, r)| serde_json::json!({"hotkey": h, "reason": r.to_string()})).collect::<Vec<_>>(),
        });
        batch.put(&ChainSnapshotRecord {
            block: head.number,
            block_hash: hex::encode(head.hash),
            kind: format!("round_{round}_submissions"),
            data: snapshot,
        })?;
        for (i, s) in kept.iter().enumerate() {
            batch.put(&SubmissionRecord {
                round,
                position: i as u32,
                hotkey: s.hotkey.clone(),
                coldkey: coldkey_of.get(&s.hotkey).cloned(),
                repo: s.repo.clone(),
                commit: s.commit.clone(),
                cdn_url: s.cdn_url.clone(),
                revealed_at_block: s.reveal_block,
            })?;
        }
        rec.mark_done("collected");
        rec.schedule = Some(ScheduleRecord {
            earliest_reveal_block: earliest,
            latest_reveal_block: latest,
            generation_deadline_block: schedule.generation_deadline_block,
        });
        if kept.is_empty() {
            // 404 writes no seed, prompts or winner here (competition.md §13.3.1); finalizing
            // treats the missing winner.json as a defence.
            return self.advance(round, rec, batch, "open", Stage::Finalizing);
        }
        let Some((seed, seed_record)) = drawn else {
            return Err(st("a seed is drawn whenever a submission is kept"));
        };
        if let Some(r) = &seed_record {
            batch.put(r)?;
        }
        let previous = if round > 0 && config.carryover_prompts > 0 {
            self.repo
                .read::<Prompts>(&layout::round_file(round - 1, layout::PROMPTS))?
                .map(|p| p.0)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let pool: Prompts = self
            .repo
            .read(layout::PROMPT_POOL)?
            .ok_or_else(|| st("the state repository has no prompts.txt pool"))?;
        let selected = prompts::select_prompts(
            seed,
            &previous,
            &pool.0,
            config.prompts_per_round as usize,
            config.carryover_prompts as usize,
        );
        rec.seed = Some(seed);
        rec.prompts = selected.clone();
        let to = self.next(Stage::MinerGeneration);
        rec.stage = Stage::MinerGeneration.to_string();
        batch.put(&rec)?;
        let deadline = schedule.generation_deadline_block.unwrap_or(latest);
        let mut subs_file = Submissions::new();
        let label = config.round_label(round);
        for s in &kept {
            subs_file.insert(
                s.hotkey.clone(),
                SubmissionFile {
                    repo: s.repo.clone(),
                    commit: s.commit.clone(),
                    cdn_url: Some(s.cdn_url.clone()),
                    revealed_at_block: s.reveal_block,
                    round: label.clone(),
                    raw: Default::default(),
                },
            );
        }
        let files = vec![
            file(
                layout::STATE.into(),
                &State::new(round, to.clone(), Some(self.eta(head.number, deadline))),
            ),
            file(layout::round_file(round, layout::SEED), &Seed(seed)),
            file(
                layout::round_file(round, layout::PROMPTS),
                &Prompts(selected),
            ),
            file(layout::round_file(round, layout::SUBMISSIONS), &subs_file),
        ];
        self.commit(batch, files, vec![message::open_done(round)])?;
        Ok(Step::Advanced {
            round,
            from: "open".into(),
            to: to.to_string(),
        })
    }

    async fn miner_generation(&mut self, round: u64) -> Result<Step, EngineError> {
        let schedule = self.schedule(round)?;
        let deadline = schedule
            .generation_deadline_block
            .unwrap_or(schedule.latest_reveal_block);
        let head = self.chain.head().await?;
        if head.number < deadline {
            return Ok(Step::Wait {
                round,
                stage: "miner_generation".into(),
                until_block: Some(deadline),
                reason: "miners are generating".into(),
            });
        }
        let rec = self.round_record(round, "miner_generation")?;
        self.advance(
            round,
            rec,
            Batch::new(),
            "miner_generation",
            Stage::Downloading,
        )
    }

    /// Moves the round from `from` to `stage` (or `paused`, see [`Self::next`]) with nothing
    /// but `state.json`, the round record and the collector's commit message.
    fn advance(
        &mut self,
        round: u64,
        mut rec: RoundRecord,
        mut batch: Batch,
        from: &str,
        stage: Stage,
    ) -> Result<Step, EngineError> {
        let to = self.next(stage.clone());
        rec.stage = stage.to_string();
        batch.put(&rec)?;
        let files = vec![file(
            layout::STATE.into(),
            &State::new(round, to.clone(), None),
        )];
        self.commit(
            batch,
            files,
            vec![message::collector_stage(round, stage.as_str())],
        )?;
        Ok(Step::Advanced {
            round,
            from: from.into(),
            to: to.to_string(),
        })
    }

    /// The round's submissions and prompts, from the database, or from the state repository
    /// when another validator (or 404) ran the open stage.
    fn round_inputs(
        &mut self,
        round: u64,
    ) -> Result<(RoundRecord, Vec<SubmissionRecord>), EngineError> {
        let mut rec = self.round_record(round, "downloading")?;
        let mut subs: Vec<SubmissionRecord> = self.store.scan(&keys::round(round))?;
        subs.sort_by_key(|s| s.position);
        if rec.prompts.is_empty() {
            rec.prompts = self
                .repo
                .read::<Prompts>(&layout::round_file(round, layout::PROMPTS))?
                .map(|p| p.0)
                .unwrap_or_default();
            rec.seed = self
                .repo
                .read::<Seed>(&layout::round_file(round, layout::SEED))?
                .map(|s| s.0);
        }
        if subs.is_empty() {
            let file: Submissions = self
                .repo
                .read(&layout::round_file(round, layout::SUBMISSIONS))?
                .unwrap_or_default();
            subs = file
                .iter()
                .enumerate()
                .filter_map(|(i, (hk, s))| {
                    Some(SubmissionRecord {
                        round,
                        position: i as u32,
                        hotkey: hk.to_string(),
                        coldkey: None,
                        repo: s.repo.clone(),
                        commit: s.commit.clone(),
                        cdn_url: s.cdn_url.clone()?,
                        revealed_at_block: s.revealed_at_block,
                    })
                })
                .collect();
        }
        Ok((rec, subs))
    }

    /// `submitted.json` for one miner: every recorded download, in prompt order.
    fn submitted_file(
        store: &Store,
        round: u64,
        hotkey: &str,
        prompts: &[String],
    ) -> Result<GenerationsMap, EngineError> {
        let recs: Vec<DownloadRecord> = store.scan(&keys::round_miner(round, hotkey))?;
        let mut map = GenerationsMap::new();
        for url in prompts {
            let stem = prompt_stem(url);
            if let Some(r) = recs.iter().find(|r| r.stem == stem) {
                let js = r.failure_reason.is_none().then(|| r.url.clone());
                map.insert(
                    stem,
                    GenerationResult::new(js, None, r.failure_reason.clone(), r.size),
                );
            }
        }
        Ok(map)
    }

    async fn downloading(&mut self, round: u64) -> Result<Step, EngineError> {
        let (mut rec, subs) = self.round_inputs(round)?;
        let ext = self.fetcher.config().ext.clone();
        let mut tasks = Vec::new();
        for s in &subs {
            layout::check_segment(&s.hotkey)?;
            for url in &rec.prompts {
                let stem = prompt_stem(url);
                if layout::check_segment(stem).is_err() {
                    continue;
                }
                tasks.push(DownloadTask {
                    round,
                    hotkey: s.hotkey.clone(),
                    stem: stem.to_string(),
                    url: format!("{}/{stem}.{ext}", s.cdn_url.trim_end_matches('/')),
                });
            }
        }
        let (store, repo, prompts) = (&self.store, &mut self.repo, &rec.prompts);
        let summary = run_downloads(&self.fetcher, store, self.blobs.as_ref(), tasks, |r| {
            let map = Self::submitted_file(store, round, &r.hotkey, prompts)?;
            let path = layout::miner_file(round, &r.hotkey, layout::SUBMITTED)?;
            repo.write_file(&path, &map, &message::submitted(round, &r.hotkey))?;
            Ok(())
        })
        .await?;
        tracing::info!(
            ok = summary.ok,
            failed = summary.failed,
            resumed = summary.resumed,
            "downloads done"
        );
        let mut files = Vec::new();
        let mut messages = Vec::new();
        for s in &subs {
            let map = Self::submitted_file(&self.store, round, &s.hotkey, &rec.prompts)?;
            files.push(file(
                layout::miner_file(round, &s.hotkey, layout::SUBMITTED)?,
                &map,
            ));
            messages.push(message::submitted(round, &s.hotkey));
        }
        let to = self.next(Stage::Duels);
        files.push(file(
            layout::STATE.into(),
            &State::new(round, to.clone(), None),
        ));
        messages.push(message::collector_stage(round, "duels"));
        rec.stage = Stage::Duels.to_string();
        rec.mark_done("downloaded");
        let mut batch = Batch::new();
        batch.put(&rec)?;
        self.commit(batch, files, messages)?;
        Ok(Step::Advanced {
            round,
            from: "downloading".into(),
            to: to.to_string(),
        })
    }

    async fn duels(&mut self, round: u64) -> Result<Step, EngineError> {
        let config = self.config()?;
        let (mut rec, subs) = self.round_inputs(round)?;
        let downloads: Vec<DownloadRecord> = self.store.scan(&keys::round(round))?;
        let leaders: Vec<LeaderEntry> = self.repo.read(layout::LEADER)?.unwrap_or_default();
        let ctx = DuelContext {
            round,
            config: &config,
            seed: rec.seed,
            prompts: &rec.prompts,
            submissions: &subs,
            downloads: &downloads,
            leader: leaders.last(),
        };
        let Some(outcome) = self.judge.judge(ctx).await? else {
            return Ok(Step::Wait {
                round,
                stage: "duels".into(),
                until_block: None,
                reason: "waiting for the judge".into(),
            });
        };
        let mut batch = Batch::new();
        let mut matrix = MatchMatrix::default();
        let mut audit_matrix = MatchMatrix::default();
        let kinds = outcome.matches.iter().map(|m| ("duels", m));
        let audits = outcome.audits.iter().map(|m| ("audit", m));
        for (kind, (l, r, m)) in kinds.chain(audits) {
            if kind == "audit" {
                audit_matrix.set(l, r, *m);
            } else {
                matrix.set(l, r, *m);
            }
            let record = MatchRecord {
                round,
                kind: kind.into(),
                left: l.clone(),
                right: r.clone(),
                score: (m * config.prompts_per_round as f64).round() as i64,
                duels: config.prompts_per_round as u32,
                margin: *m,
                judge: None,
                report: None,
            };
            // A judge that stored the match itself (with its report and judge) keeps its record.
            let key = sn17_storage::db::Record::key(&record);
            if self.store.get::<MatchRecord>(&key)?.is_none() {
                batch.put(&record)?;
            }
        }
        let result = if outcome.winner == layout::LEADER_KEY {
            let latest = leaders
                .last()
                .ok_or_else(|| st("leader defended but leader.json is empty"))?;
            leader::defended_result(latest)
        } else {
            let s = subs
                .iter()
                .find(|s| s.hotkey == outcome.winner)
                .ok_or_else(|| st(format!("winner {} is not a submission", outcome.winner)))?;
            let tag = build_tag(&s.commit, &config.round_label(round));
            RoundResult {
                winner_hotkey: s.hotkey.clone(),
                repo: s.repo.clone(),
                commit: s.commit.clone(),
                docker_image: Some(docker_image(&self.cfg.docker_format, &s.hotkey, &tag)),
                raw: Default::default(),
            }
        };
        let to = self.next(Stage::Finalizing);
        rec.winner = Some(outcome.winner.clone());
        rec.stage = Stage::Finalizing.to_string();
        batch.put(&rec)?;
        let mut files = vec![
            file(layout::round_file(round, layout::MATCHES_MATRIX), &matrix),
            file(layout::round_file(round, layout::WINNER), &result),
            file(layout::STATE.into(), &State::new(round, to.clone(), None)),
        ];
        for (path, report) in &outcome.reports {
            files.push(file(path.clone(), report));
        }
        if !audit_matrix.rows.is_empty() {
            files.push(file(
                layout::round_file(round, layout::AUDIT_MATRIX),
                &audit_matrix,
            ));
        }
        if !outcome.audit_requests.is_empty() {
            // 404's judge keeps one request per hotkey, naming the defender it last beat.
            let mut requests: Vec<AuditRequest> = Vec::new();
            for (hk, defender) in &outcome.audit_requests {
                requests.retain(|r| &r.hotkey != hk);
                requests.push(AuditRequest {
                    hotkey: hk.clone(),
                    latest_defender: defender.clone(),
                    raw: Default::default(),
                });
            }
            files.push(file(
                layout::round_file(round, layout::REQUIRE_AUDIT),
                &requests,
            ));
        }
        if !outcome.generation_reports.is_empty() {
            let reports = Map(outcome
                .generation_reports
                .iter()
                .map(|r| (r.hotkey.clone(), r.clone()))
                .collect());
            files.push(file(
                layout::round_file(round, layout::GENERATION_REPORTS),
                &reports,
            ));
        }
        if !outcome.verdicts.is_empty() {
            let verdicts = Map(outcome
                .verdicts
                .iter()
                .map(|(hk, passed, reason)| {
                    let v = Verdict {
                        hotkey: hk.clone(),
                        verdict: if *passed { "passed" } else { "failed" }.into(),
                        reason: reason.clone(),
                        raw: Default::default(),
                    };
                    (hk.clone(), v)
                })
                .collect());
            files.push(file(
                layout::round_file(round, layout::GENERATION_AUDITS),
                &verdicts,
            ));
        }
        let messages = vec![
            message::matches_matrix(round),
            message::winner(round, &outcome.winner),
            message::state_update(round, to.as_str()),
        ];
        self.commit(batch, files, messages)?;
        Ok(Step::Advanced {
            round,
            from: "duels".into(),
            to: to.to_string(),
        })
    }

    async fn finalizing(&mut self, round: u64) -> Result<Step, EngineError> {
        let config = self.config()?;
        let schedule = self.schedule(round)?;
        let mut leaders: Vec<LeaderEntry> = self.repo.read(layout::LEADER)?.unwrap_or_default();
        let result: Option<RoundResult> =
            self.repo.read(&layout::round_file(round, layout::WINNER))?;
        let head = self.chain.head().await?;
        let now = self.clock.now_us();
        let next = next_round(Some(&schedule), &config, now, head.number).map_err(st)?;
        let effective = next
            .as_ref()
            .map_or(head.number, |n| n.schedule.latest_reveal_block);
        let appended = match (leaders.last(), &result) {
            (Some(latest), Some(r)) => leader::transition(
                r,
                latest,
                effective,
                config.weight_decay,
                config.weight_floor,
            ),
            // No winner.json (no submissions): the leader defended (competition.md §13.3.1).
            (Some(latest), None) => leader::transition(
                &leader::defended_result(latest),
                latest,
                effective,
                config.weight_decay,
                config.weight_floor,
            ),
            (None, Some(r)) if r.winner_hotkey != layout::LEADER_KEY => Some(LeaderEntry::new(
                &r.winner_hotkey,
                &r.repo,
                &r.commit,
                r.docker_image.as_deref().unwrap_or_default(),
                1.0,
                effective,
            )),
            _ => None,
        };
        let changed = appended.is_some();
        if let Some(e) = appended {
            leaders.push(e);
        }
        let mut rec = self.round_record(round, "finalizing")?;
        let mut files = Vec::new();
        let (to, msg, next_round_no) = match &next {
            Some(n) => {
                let to = self.next(Stage::Open);
                files.push(file(
                    layout::STATE.into(),
                    &State::new(
                        round + 1,
                        to.clone(),
                        Some(format_datetime(n.start_unix_us)),
                    ),
                ));
                files.push(file(
                    layout::round_file(round + 1, layout::SCHEDULE),
                    &n.schedule,
                ));
                (
                    to.clone(),
                    message::round_manager(round + 1, to.as_str(), true, changed),
                    round + 1,
                )
            }
            None => {
                let to = self.next(Stage::Finished);
                files.push(file(
                    layout::STATE.into(),
                    &State::new(round, to.clone(), None),
                ));
                (
                    to.clone(),
                    message::round_manager(round, to.as_str(), false, changed),
                    round,
                )
            }
        };
        if changed {
            files.push(file(layout::LEADER.into(), &leaders));
        }
        rec.stage = if next.is_some() {
            "done".into()
        } else {
            Stage::Finished.to_string()
        };
        rec.mark_done("finalized");
        let mut batch = Batch::new();
        batch.put(&rec)?;
        if let Some(n) = &next {
            let mut nrec = self.round_record(round + 1, "open")?;
            nrec.stage = Stage::Open.to_string();
            nrec.schedule = Some(ScheduleRecord {
                earliest_reveal_block: n.schedule.earliest_reveal_block,
                latest_reveal_block: n.schedule.latest_reveal_block,
                generation_deadline_block: n.schedule.generation_deadline_block,
            });
            batch.put(&nrec)?;
        }
        self.commit(batch, files, vec![msg])?;
        Ok(Step::Advanced {
            round: next_round_no,
            from: "finalizing".into(),
            to: to.to_string(),
        })
    }
}
