//! The validator's judge for the round engine: every downloaded output is rendered with the
//! judge rig, the leader's outputs are regenerated on its pod, each match is played prompt by
//! prompt with the configured duel judge (a VLM, or the offline judge), the reveal-order
//! timeline picks the winner, and each winner is audited by regeneration (competition.md §8.1):
//! `audit_repeats` regenerations on its pod, rendered, then "submitted vs generated" and
//! "defender vs generated" duels.
//!
//! Every match and audit duel is written to RocksDB as soon as it is played, with 404's match report
//! (every prompt's winner and `detail`) and the judge that decided it, so a validator killed mid-round
//! resumes without playing a finished match again; the reports are also written to the state repository
//! (`rounds/N/<right>/{duels|audit}_*.json`). A match where a side delivered nothing is decided before any
//! duel (404's short-circuit: 0.0 / +1.0 / −1.0, no report).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::FutureExt as _;
use sn17_judge::bundle::ViewBundle;
use sn17_judge::dino::Embedder;
use sn17_judge::duel::DuelJudge;
use sn17_judge::image::ImageData;
use sn17_judge::match_runner::{run_match, BundleSource, DuelCase, Side};
use sn17_judge::rules::{delivery_margin, MatchReport};
use sn17_storage::db::keys::KeyBuilder;
use sn17_storage::db::{GenerationRecord, MatchRecord, Store};
use sn17_storage::state_repo::{
    layout, prompt_stem, FromJson as _, GenerationRepeat, GenerationReport, MatchMatrix, StateFile,
    ToJson as _,
};

use super::status::{bump, Status};
use super::Events;
use crate::engine::download::BlobStore;
use crate::engine::round::{DuelContext, DuelOutcome, Judge};
use crate::engine::timeline::{self, AuditResult};
use crate::engine::EngineError;
use crate::pod::audit::{regenerate, AuditLimits};
use crate::pod::provider::{PodProvider, PodTarget};
use crate::pod::PromptRef;

/// Largest prompt image fetched.
const MAX_PROMPT_BYTES: u64 = 16 << 20;

pub struct RoundJudge {
    pub duel: Arc<dyn DuelJudge>,
    pub blobs: BlobStore,
    pub store: Store,
    pub backend: sn17_gpu::Backend,
    /// Side of the rendered views; `None` keeps the judge rig's 1024².
    pub view_size: Option<u32>,
    pub pods: Arc<dyn PodProvider>,
    pub audit: AuditLimits,
    pub status: Arc<Status>,
    pub events: Events,
    /// DINOv3 for Stage 2A's best view: every rendered bundle is embedded when set.
    pub embedder: Option<Arc<Embedder>>,
}

fn engine_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::State(format!("judge: {e}"))
}

/// Renders output bytes with the judge rig; `None` (the side loses the prompt) when the file
/// is bad.
fn render(
    renderer: &dyn sn17_gpu::Renderer,
    label: &str,
    bytes: &[u8],
    view_size: Option<u32>,
) -> Option<sn17_gpu::render::Rendered> {
    let result = (|| -> anyhow::Result<sn17_gpu::render::Rendered> {
        let (asset, _) = sn17_gpu::load_bytes(bytes, &sn17_gpu::LoadOptions::default())?;
        let rig = crate::commands::judge::judge_rig(view_size)?;
        Ok(sn17_gpu::render_rig(renderer, &asset, &rig)?)
    })();
    match result {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(output = %label, error = %format!("{e:#}"), "cannot render; the side loses the prompt");
            None
        }
    }
}

/// (side key, stem, bytes) → rendered bundles.
type RenderJob = (String, String, Option<Vec<u8>>);

/// Side keys with at least one output (404: "delivered" = some stem has a JS URL), whether or not it renders.
fn delivered_sides(jobs: &[RenderJob]) -> HashSet<String> {
    jobs.iter()
        .filter(|(_, _, bytes)| bytes.is_some())
        .map(|(side, _, _)| side.clone())
        .collect()
}

/// 404's short-circuit for a timeline match (`round_runner._run_match_between`): decided without a duel when
/// either side delivered nothing.
fn short_circuit(delivered: &HashSet<String>, left: &str, right: &str) -> Option<f64> {
    delivery_margin(delivered.contains(left), delivered.contains(right))
}

/// Embeds every bundle with DINOv3 (prompt plus the 8 white views) so Stage 2A can pick a best view.
async fn embed_sides(
    embedder: Arc<Embedder>,
    prompts: HashMap<String, ImageData>,
    mut sides: Sides,
) -> Result<Sides, EngineError> {
    tokio::task::spawn_blocking(move || {
        for ((side, stem), bundle) in sides.iter_mut() {
            let (Some(b), Some(prompt)) = (bundle.as_mut(), prompts.get(stem)) else {
                continue;
            };
            match embedder.embed_bundle(prompt, b) {
                Ok(e) => b.set_embeddings(Some(e)),
                Err(e) => {
                    tracing::warn!(output = %format!("{side}/{stem}"), error = %e, "cannot embed; Stage 2A is skipped for it")
                }
            }
        }
        sides
    })
    .await
    .map_err(engine_err)
}

/// 404's report as the state repository's file type (same JSON, Python-style floats when written). Goes
/// through the typed report so keys keep 404's order (`left, right, score, margin, duels`; `name … detail`),
/// whatever order the stored JSON value has.
fn storage_report(
    report: &MatchReport,
) -> Result<sn17_storage::state_repo::MatchReport, EngineError> {
    let text = serde_json::to_string(report).map_err(engine_err)?;
    sn17_storage::state_repo::MatchReport::decode(&text).map_err(engine_err)
}

/// Which match is played and how it is filed.
struct MatchId {
    /// `duels` or `audit`.
    kind: &'static str,
    /// The matrix's `left`: the defender, `submitted_r` or `{defender}_r`.
    matrix_left: String,
    /// The report's `left`: the defender, `submitted` or the defender of an audit.
    report_left: String,
    /// The audit repeat (reports are `audit_{left10}_{r}.json`).
    repeat: Option<u32>,
    /// The right hotkey.
    right: String,
}
pub(crate) type Sides = HashMap<(String, String), Option<ViewBundle>>;
type Rendered = ((String, String), String, Option<sn17_gpu::render::Rendered>);

/// Renders every job with one renderer on one thread while the other cores PNG-encode the
/// views (encoding 13 images per output costs more than a GPU render); a small bounded queue
/// between them keeps memory flat.
pub(crate) async fn render_all(
    backend: sn17_gpu::Backend,
    size: Option<u32>,
    jobs: Vec<RenderJob>,
    status: Arc<Status>,
) -> Result<Sides, EngineError> {
    tokio::task::spawn_blocking(move || {
        let renderer = sn17_gpu::create_renderer(backend).map_err(engine_err)?;
        let encoders =
            std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));
        let (tx, rx) = std::sync::mpsc::sync_channel::<Rendered>(encoders * 2);
        let rx = Mutex::new(rx);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..encoders)
                .map(|_| scope.spawn(|| encode_until_closed(&rx)))
                .collect();
            for (side, stem, bytes) in jobs {
                let label = format!("{side}/{stem}");
                let rendered = bytes.and_then(|b| {
                    bump(&status.counters.renders);
                    render(&*renderer, &label, &b, size)
                });
                if tx.send(((side, stem), label, rendered)).is_err() {
                    break;
                }
            }
            drop(tx);
            let mut sides = Sides::new();
            for w in workers {
                let done = w
                    .join()
                    .map_err(|_| engine_err("a PNG encoder thread panicked"))?;
                sides.extend(done);
            }
            Ok(sides)
        })
    })
    .await
    .map_err(engine_err)?
}

/// One encoder thread: bundles for everything it takes off the queue.
fn encode_until_closed(
    rx: &Mutex<std::sync::mpsc::Receiver<Rendered>>,
) -> Vec<((String, String), Option<ViewBundle>)> {
    let mut out = Vec::new();
    loop {
        let next = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => break,
        };
        let Ok((key, label, rendered)) = next else {
            break;
        };
        let bundle = rendered.and_then(|r| {
            crate::commands::judge::encode_bundle(&label, &r)
                .map_err(|e| tracing::warn!(output = %label, error = %format!("{e:#}"), "cannot encode the views"))
                .ok()
        });
        out.push((key, bundle));
    }
    out
}

/// One match's view of the rendered sides: which keys play left and right.
pub(crate) struct MatchSides<'a> {
    prompts: &'a HashMap<String, ImageData>,
    sides: &'a Mutex<Sides>,
    left: String,
    right: String,
}

impl<'a> MatchSides<'a> {
    pub(crate) fn new(
        prompts: &'a HashMap<String, ImageData>,
        sides: &'a Mutex<Sides>,
        left: &str,
        right: &str,
    ) -> Self {
        Self {
            prompts,
            sides,
            left: left.to_string(),
            right: right.to_string(),
        }
    }
}

/// Duel cases of (stem, prompt URL) pairs.
pub(crate) fn cases(prompts: &[(String, String)]) -> Vec<DuelCase> {
    prompts
        .iter()
        .map(|(stem, url)| DuelCase {
            name: stem.clone(),
            prompt_url: url.clone(),
            left_js: None,
            left_png: None,
            right_js: None,
            right_png: None,
        })
        .collect()
}

impl BundleSource for MatchSides<'_> {
    fn prompt<'a>(&'a self, case: &'a DuelCase) -> BoxFuture<'a, Option<ImageData>> {
        let p = self.prompts.get(&case.name).cloned();
        async move { p }.boxed()
    }

    fn bundle<'a>(&'a self, side: Side, case: &'a DuelCase) -> BoxFuture<'a, Option<ViewBundle>> {
        let key = match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        };
        let b = self
            .sides
            .lock()
            .ok()
            .and_then(|s| s.get(&(key.clone(), case.name.clone())).cloned().flatten());
        async move { b }.boxed()
    }
}

fn match_key(round: u64, kind: &str, left: &str, right: &str) -> Vec<u8> {
    KeyBuilder::new()
        .u64(round)
        .str(kind)
        .str(left)
        .str(right)
        .build()
}

async fn fetch_prompt(http: &reqwest::Client, url: &str) -> Result<ImageData, EngineError> {
    let mut resp = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| engine_err(format!("prompt image {url}: {e}")))?;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(engine_err)? {
        if (body.len() + chunk.len()) as u64 > MAX_PROMPT_BYTES {
            return Err(engine_err(format!(
                "prompt image {url} over {MAX_PROMPT_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(ImageData::new(url.to_string(), body))
}

/// Everything one round's judging shares.
struct RoundCtx<'a> {
    judge: &'a RoundJudge,
    round: u64,
    seed: u32,
    prompts: HashMap<String, ImageData>,
    prompt_refs: Vec<PromptRef>,
    cases: Vec<DuelCase>,
    sides: Mutex<Sides>,
    /// Side keys that delivered at least one output.
    delivered: Mutex<HashSet<String>>,
    /// Repeats already regenerated per audited hotkey (a later audit against another defender reuses them).
    regenerated: Mutex<HashMap<String, u32>>,
    /// Match reports for the state repository: (path, report).
    reports: Mutex<Vec<(String, sn17_storage::state_repo::MatchReport)>>,
    /// `vlm:<model>` or `offline`.
    judge_label: String,
}

impl RoundCtx<'_> {
    fn keep_report(&self, id: &MatchId, report: &MatchReport) -> Result<(), EngineError> {
        let path = layout::match_report(self.round, &id.report_left, &id.right, id.repeat)?;
        let report = storage_report(report)?;
        if let Ok(mut r) = self.reports.lock() {
            r.retain(|(p, _)| p != &path);
            r.push((path, report));
        }
        Ok(())
    }

    /// Plays `left_key` against `right_key` (side keys) unless the database already has the result.
    async fn play(&self, id: MatchId, left_key: &str, right_key: &str) -> Result<f64, EngineError> {
        let j = self.judge;
        let key = match_key(self.round, id.kind, &id.matrix_left, &id.right);
        if let Some(done) = j.store.get::<MatchRecord>(&key)? {
            bump(&j.status.counters.matches_reused);
            if let Some(report) = &done.report {
                let typed: MatchReport =
                    serde_json::from_value(report.clone()).map_err(engine_err)?;
                self.keep_report(&id, &typed)?;
            }
            return Ok(done.margin);
        }
        let short = if id.kind == "duels" {
            let delivered = self.delivered.lock().map_err(engine_err)?;
            short_circuit(&delivered, left_key, right_key)
        } else {
            None
        };
        let (score, duels, margin, report) = match short {
            // No duel and no report: only the matrix row (404).
            Some(m) => (0, 0, m, None),
            None => {
                let sides = MatchSides::new(&self.prompts, &self.sides, left_key, right_key);
                let report: MatchReport = run_match(
                    &*j.duel,
                    &sides,
                    &id.report_left,
                    &id.right,
                    &self.cases,
                    u64::from(self.seed),
                    &|| false,
                )
                .await
                .map_err(engine_err)?;
                self.keep_report(&id, &report)?;
                let value = serde_json::to_value(&report).map_err(engine_err)?;
                (
                    report.score,
                    report.duels.len() as u32,
                    report.margin,
                    Some(value),
                )
            }
        };
        j.store.put(&MatchRecord {
            round: self.round,
            kind: id.kind.into(),
            left: id.matrix_left.clone(),
            right: id.right.clone(),
            score,
            duels,
            margin,
            judge: Some(self.judge_label.clone()),
            report,
        })?;
        bump(&j.status.counters.matches_played);
        let (kind, left, right) = (id.kind, &id.matrix_left, &id.right);
        tracing::info!(kind, left = %layout::hk10(left), right = %layout::hk10(right), margin, judge = %self.judge_label, delivered_short_circuit = short.is_some(), "match played");
        j.events.emit(serde_json::json!({
            "event": "match_played", "round": self.round, "kind": kind,
            "left": left, "right": right, "margin": margin, "judge": self.judge_label,
        }));
        Ok(margin)
    }

    /// Regenerates `target` on its pod `repeats` times and renders the outputs under
    /// `{prefix}_{r}` side keys; `Err(reason)` when the generation report is REJECTED. The
    /// repeats' summary is 404's `generation_reports.json` entry (see [`generation_entry`]).
    async fn regenerate(
        &self,
        target: &PodTarget,
        repeats: u32,
        prefix: &str,
    ) -> Result<(Result<u32, String>, Vec<GenerationRepeat>), EngineError> {
        let j = self.judge;
        let report = match regenerate(
            &*j.pods,
            target,
            self.round,
            &self.prompt_refs,
            self.seed,
            repeats,
            &j.audit,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return Ok((Err(format!("regeneration failed: {e}")), Vec::new())),
        };
        let summary: Vec<GenerationRepeat> = report
            .repeats
            .iter()
            .enumerate()
            .map(|(i, rep)| GenerationRepeat {
                repeat_index: i as u64 + 1,
                generated_prompts: rep.outputs.len() as u64,
                failed_prompts: rep.failed.len() as u64,
                generation_time: Some(rep.generation_secs),
                raw: Default::default(),
            })
            .collect();
        if let Some(reason) = report.rejected {
            return Ok((Err(reason), summary));
        }
        let mut jobs = Vec::new();
        for (i, rep) in report.repeats.iter().enumerate() {
            for p in &self.prompt_refs {
                jobs.push((
                    format!("{prefix}_{}", i + 1),
                    p.stem.clone(),
                    rep.outputs.get(&p.stem).cloned(),
                ));
            }
        }
        if let Ok(mut d) = self.delivered.lock() {
            d.extend(delivered_sides(&jobs));
        }
        let mut rendered = render_all(j.backend, j.view_size, jobs, j.status.clone()).await?;
        if let Some(e) = &j.embedder {
            rendered = embed_sides(e.clone(), self.prompts.clone(), rendered).await?;
        }
        if let Ok(mut s) = self.sides.lock() {
            s.extend(rendered);
        }
        Ok((Ok(report.repeats.len() as u32), summary))
    }

    async fn audit(
        &self,
        defender: &str,
        hk: &str,
        target: Option<PodTarget>,
        repeats: u32,
    ) -> Result<AuditResult, EngineError> {
        let j = self.judge;
        let stored = |left: String| -> Result<bool, EngineError> {
            let key = match_key(self.round, "audit", &left, hk);
            Ok(j.store.get::<MatchRecord>(&key)?.is_some())
        };
        // Finished before a restart: every duel of every repeat is in the database (play() reuses them).
        let mut all_stored = true;
        for r in 1..=repeats {
            all_stored &= stored(format!("submitted_{r}"))? && stored(format!("{defender}_{r}"))?;
        }
        let prefix = format!("generated/{hk}");
        let known = self
            .regenerated
            .lock()
            .map_err(engine_err)?
            .get(hk)
            .copied();
        let n = match (all_stored, known) {
            (true, _) => repeats,
            // Regenerated earlier this round (audited against another defender): reuse the renders.
            (false, Some(n)) => n,
            (false, None) => {
                let Some(target) = target else {
                    return Ok(AuditResult::Rejected(format!("{hk} is not a submission")));
                };
                bump(&j.status.counters.audits);
                let (outcome, summary) = self.regenerate(&target, repeats, &prefix).await?;
                let entry = generation_entry(hk, &outcome, summary);
                j.store.put(&GenerationRecord {
                    round: self.round,
                    hotkey: hk.to_string(),
                    report: sn17_storage::pyjson::to_pretty(&entry.to_json()),
                })?;
                match outcome {
                    Ok(n) => {
                        self.regenerated
                            .lock()
                            .map_err(engine_err)?
                            .insert(hk.to_string(), n);
                        n
                    }
                    Err(reason) => {
                        j.events.emit(serde_json::json!({
                            "event": "audit_rejected", "round": self.round, "hotkey": hk, "reason": reason,
                        }));
                        return Ok(AuditResult::Rejected(reason));
                    }
                }
            }
        };
        let mut margins = Vec::new();
        for r in 1..=n {
            let generated = format!("{prefix}_{r}");
            let id = |matrix_left: String, report_left: &str| MatchId {
                kind: "audit",
                matrix_left,
                report_left: report_left.to_string(),
                repeat: Some(r),
                right: hk.to_string(),
            };
            let s = self
                .play(id(format!("submitted_{r}"), "submitted"), hk, &generated)
                .await?;
            let d = self
                .play(
                    id(format!("{defender}_{r}"), defender),
                    defender,
                    &generated,
                )
                .await?;
            margins.push((s, d));
        }
        Ok(AuditResult::Margins(margins))
    }
}

impl Judge for RoundJudge {
    async fn judge(&self, ctx: DuelContext<'_>) -> Result<Option<DuelOutcome>, EngineError> {
        let seed = ctx.seed.unwrap_or(0);
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(engine_err)?;
        let mut prompts = HashMap::new();
        let mut prompt_refs = Vec::new();
        for url in ctx.prompts {
            let stem = prompt_stem(url).to_string();
            prompts.insert(stem.clone(), fetch_prompt(&http, url).await?);
            prompt_refs.push(PromptRef {
                stem,
                image_url: url.clone(),
            });
        }
        let cases = cases(
            &prompt_refs
                .iter()
                .map(|p| (p.stem.clone(), p.image_url.clone()))
                .collect::<Vec<_>>(),
        );

        // Miners' downloaded outputs.
        let mut jobs = Vec::new();
        for d in ctx.downloads {
            let bytes = match (&d.failure_reason, &d.sha256) {
                (None, Some(sha)) => std::fs::read(self.blobs.path_of(sha)).ok(),
                _ => None,
            };
            jobs.push((d.hotkey.clone(), d.stem.clone(), bytes));
        }
        let delivered = delivered_sides(&jobs);
        let mut sides = render_all(self.backend, self.view_size, jobs, self.status.clone()).await?;
        if let Some(e) = &self.embedder {
            sides = embed_sides(e.clone(), prompts.clone(), sides).await?;
        }
        let rc = RoundCtx {
            judge: self,
            round: ctx.round,
            seed,
            prompts,
            prompt_refs,
            cases,
            sides: Mutex::new(sides),
            delivered: Mutex::new(delivered),
            regenerated: Mutex::new(HashMap::new()),
            reports: Mutex::new(Vec::new()),
            judge_label: self.duel.kind().label(),
        };

        // The leader's outputs: one regeneration on its pod (404's `generated_1`).
        if let Some(leader) = ctx.leader {
            let target = PodTarget {
                hotkey: leader.hotkey.clone(),
                repo: leader.repo.clone(),
                commit: leader.commit.clone(),
                docker_image: Some(leader.docker.clone()),
            };
            match rc.regenerate(&target, 1, "leader-gen").await?.0 {
                Ok(_) => {
                    if let Ok(mut s) = rc.sides.lock() {
                        let regenerated: Vec<_> = s
                            .iter()
                            .filter(|((k, _), _)| k == "leader-gen_1")
                            .map(|((_, stem), b)| {
                                ((layout::LEADER_KEY.to_string(), stem.clone()), b.clone())
                            })
                            .collect();
                        s.extend(regenerated);
                    }
                    if let Ok(mut d) = rc.delivered.lock() {
                        if d.contains("leader-gen_1") {
                            d.insert(layout::LEADER_KEY.to_string());
                        }
                    }
                }
                Err(reason) => {
                    tracing::warn!(%reason, repo = %leader.repo, "the leader's outputs could not be regenerated; it loses every prompt");
                }
            }
        }

        let order: Vec<String> = ctx.submissions.iter().map(|s| s.hotkey.clone()).collect();
        let inputs = timeline::TimelineInputs {
            source_passed: order.iter().cloned().collect(),
            order,
            win_margin: ctx.config.win_margin,
            audit_repeats: ctx.config.audit_repeats() as u32,
            ..Default::default()
        };
        let repeats = inputs.audit_repeats;
        let targets: HashMap<String, PodTarget> = ctx
            .submissions
            .iter()
            .map(|s| {
                (
                    s.hotkey.clone(),
                    PodTarget {
                        hotkey: s.hotkey.clone(),
                        repo: s.repo.clone(),
                        commit: s.commit.clone(),
                        docker_image: None,
                    },
                )
            })
            .collect();
        let rc = &rc;
        let targets = &targets;
        let settled = timeline::settle(
            &inputs,
            &MatchMatrix::default(),
            |left, right| async move {
                let id = MatchId {
                    kind: "duels",
                    matrix_left: left.clone(),
                    report_left: left.clone(),
                    repeat: None,
                    right: right.clone(),
                };
                rc.play(id, &left, &right).await
            },
            |defender, hk| async move {
                rc.audit(&defender, &hk, targets.get(&hk).cloned(), repeats)
                    .await
            },
        )
        .await?;
        let settled = settled.ok_or_else(|| engine_err("the timeline did not settle"))?;
        let mut outcome = DuelOutcome::from_settled(settled);
        outcome.reports = rc
            .reports
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        // Every audited submission's regeneration, also those regenerated before a restart.
        for g in self
            .store
            .scan::<GenerationRecord>(&GenerationRecord::prefix(ctx.round))?
        {
            let value = sn17_storage::pyjson::parse(&g.report).map_err(engine_err)?;
            outcome
                .generation_reports
                .push(GenerationReport::from_json(&value, "$").map_err(engine_err)?);
        }
        Ok(Some(outcome))
    }
}

/// 404's `generation_reports.json` entry for a regeneration: `completed` when it passed the
/// limits, `rejected` with the reason otherwise (a pod that could not be reached has no repeats).
fn generation_entry(
    hotkey: &str,
    outcome: &Result<u32, String>,
    repeats: Vec<GenerationRepeat>,
) -> GenerationReport {
    let (state, reason) = match outcome {
        Ok(_) => ("completed", String::new()),
        Err(reason) => ("rejected", reason.clone()),
    };
    GenerationReport {
        hotkey: hotkey.to_string(),
        outcome: state.to_string(),
        repeats,
        reason,
        raw: Default::default(),
    }
}

/// The validator's judge flags.
#[derive(Debug, Clone, Default)]
pub struct JudgeOptions {
    pub vlm_url: Option<String>,
    pub vlm_model: String,
    /// Name of the environment variable holding the API key (default: `SN17_VLM_API_KEY`, then
    /// `OPENAI_API_KEY`).
    pub vlm_api_key_env: Option<String>,
    pub vlm_timeout_secs: Option<f64>,
    pub vlm_concurrency: Option<usize>,
    pub offline: bool,
    /// The loudly named override that allows the offline judge on mainnet.
    pub offline_on_mainnet: bool,
    /// The chain is finney (mainnet).
    pub mainnet: bool,
    pub dinov3_weights: Option<std::path::PathBuf>,
}

/// Whether `--network` / `--subtensor.chain_endpoint` point at finney (mainnet): the default network, its
/// name, or its public endpoint. A private finney node behind another URL is not recognised.
pub fn is_mainnet(network: Option<&str>, endpoint: Option<&str>) -> bool {
    sn17_chain::network::resolve_endpoint(network, endpoint)
        .is_ok_and(|url| url.trim_end_matches('/') == sn17_chain::network::FINNEY_ENDPOINT)
}

/// The offline judge decides rounds without a model: never on mainnet unless explicitly overridden.
pub fn check_offline_allowed(o: &JudgeOptions) -> anyhow::Result<()> {
    if o.offline && o.mainnet && !o.offline_on_mainnet {
        anyhow::bail!(
            "--offline-judge is refused on finney (mainnet): its verdicts are not production verdicts. Configure \
             --vlm-url, or pass --i-know-offline-judge-is-not-production-on-mainnet to override"
        );
    }
    Ok(())
}

/// The VLM endpoint from the flags (each also an `SN17_*` variable and a config-file key), with the API key
/// read from the environment through `get`. `None` without an endpoint.
pub fn vlm_config(
    o: &JudgeOptions,
    get: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<sn17_judge::vlm::VlmConfig>> {
    use sn17_judge::vlm::{ApiKey, VlmConfig};
    let Some(url) = o.vlm_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let mut cfg = VlmConfig::new(url, o.vlm_model.clone());
    let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    cfg.api_key = match o.vlm_api_key_env.as_deref() {
        Some(name) => Some(ApiKey::new(nonempty(name).ok_or_else(|| {
            anyhow::anyhow!("--vlm-api-key-env: the variable {name} is not set")
        })?)),
        None => ApiKey::from_lookup(get),
    };
    if let Some(t) = o.vlm_timeout_secs {
        anyhow::ensure!(
            t.is_finite() && t > 0.0,
            "--vlm-timeout must be a positive number of seconds"
        );
        cfg.timeout = std::time::Duration::from_secs_f64(t);
    }
    if let Some(c) = o.vlm_concurrency {
        anyhow::ensure!(c > 0, "--vlm-concurrency must be at least 1");
        cfg.max_concurrency = c;
    }
    cfg.validate()?;
    Ok(Some(cfg))
}

/// The duel judge and, with `--dinov3-weights`, the embedder for Stage 2A.
pub type Selected = (Arc<dyn DuelJudge>, Option<Arc<Embedder>>);

/// The duel judge and the DINOv3 embedder for a validator, with the guard against the offline judge on
/// mainnet. Logs (once) which judge decides and whether Stage 2A's best view is active; never the API key.
pub fn select(o: &JudgeOptions) -> anyhow::Result<Selected> {
    use anyhow::Context as _;
    check_offline_allowed(o)?;
    let vlm = vlm_config(o, &|k| std::env::var(k).ok())?;
    let embedder = match &o.dinov3_weights {
        Some(path) => Some(Arc::new(Embedder::load(path, None).with_context(|| {
            format!("loading the DINOv3 weights {}", path.display())
        })?)),
        None => None,
    };
    if let Some(cfg) = &vlm {
        tracing::info!(url = %cfg.base_url, model = %cfg.model, timeout_s = cfg.timeout.as_secs_f64(), concurrency = cfg.max_concurrency, api_key = cfg.api_key.is_some(), "VLM judge");
    }
    let duel = sn17_judge::offline::select_judge(vlm, o.offline, embedder.clone())?;
    if o.offline && o.mainnet {
        tracing::warn!("THE OFFLINE JUDGE IS DECIDING MAINNET ROUNDS (override given): its verdicts are not production verdicts");
    }
    match &o.dinov3_weights {
        Some(p) => {
            tracing::info!(weights = %p.display(), "Stage 2A best view active: every rendered side is embedded with DINOv3")
        }
        None => tracing::info!(
            "Stage 2A best view inactive: no --dinov3-weights, so duels go without embeddings"
        ),
    }
    Ok((duel, embedder))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sn17_storage::db::StoreOptions;

    fn png(rgb: [u8; 3], size: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(size, size, |x, y| {
            // A coloured square on white, so the foreground is not empty.
            if (size / 4..3 * size / 4).contains(&x) && (size / 4..3 * size / 4).contains(&y) {
                image::Rgb(rgb)
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    }

    fn bundle(rgb: [u8; 3]) -> ViewBundle {
        let img = |n: &str| ImageData::new(n.to_string(), png(rgb, 32));
        ViewBundle::new(
            std::array::from_fn(|i| img(&format!("white_{i}"))),
            std::array::from_fn(|i| Some(img(&format!("gray_{i}")))),
            img("grid"),
            None,
        )
    }

    fn round_judge(dir: &std::path::Path) -> RoundJudge {
        RoundJudge {
            duel: sn17_judge::offline::select_judge(None, true, None).expect("offline judge"),
            blobs: BlobStore::new(dir.join("blobs")),
            store: Store::open(dir.join("db"), &StoreOptions { sync: false }).expect("db"),
            backend: sn17_gpu::Backend::Cpu,
            view_size: None,
            pods: Arc::new(crate::pod::provider::StaticPods::parse(&[], None).expect("pods")),
            audit: AuditLimits::default(),
            status: Arc::new(Status::default()),
            events: Events { json: false },
            embedder: None,
        }
    }

    const STEMS: [&str; 2] = ["p-a", "p-b"];

    fn ctx<'a>(j: &'a RoundJudge, sides: Sides, delivered: &[&str]) -> RoundCtx<'a> {
        let prompts: HashMap<String, ImageData> = STEMS
            .iter()
            .map(|s| (s.to_string(), ImageData::new(*s, png([200, 30, 30], 32))))
            .collect();
        let urls: Vec<(String, String)> = STEMS
            .iter()
            .map(|s| (s.to_string(), format!("https://cdn.test/{s}.png")))
            .collect();
        RoundCtx {
            judge: j,
            round: 3,
            seed: 7,
            prompts,
            prompt_refs: Vec::new(),
            cases: cases(&urls),
            sides: Mutex::new(sides),
            delivered: Mutex::new(delivered.iter().map(|s| s.to_string()).collect()),
            regenerated: Mutex::new(HashMap::new()),
            reports: Mutex::new(Vec::new()),
            judge_label: j.duel.kind().label(),
        }
    }

    fn duels_id(left: &str, right: &str) -> MatchId {
        MatchId {
            kind: "duels",
            matrix_left: left.into(),
            report_left: left.into(),
            repeat: None,
            right: right.into(),
        }
    }

    #[test]
    fn delivery_short_circuit_follows_404() {
        let jobs: Vec<RenderJob> = vec![
            ("a".into(), "p-a".into(), Some(vec![1])),
            ("a".into(), "p-b".into(), None),
            ("b".into(), "p-a".into(), None),
        ];
        let d = delivered_sides(&jobs);
        assert!(d.contains("a") && !d.contains("b"));
        assert_eq!(
            short_circuit(&d, "a", "b"),
            Some(-1.0),
            "only left delivered"
        );
        assert_eq!(
            short_circuit(&d, "b", "a"),
            Some(1.0),
            "only right delivered"
        );
        assert_eq!(short_circuit(&d, "b", "c"), Some(0.0), "neither delivered");
        assert_eq!(short_circuit(&d, "a", "a"), None, "both delivered: play it");
    }

    /// A side that delivered nothing loses the match before any duel: +1.0 for the challenger, a record
    /// naming the judge, and no report (404 saves only the matrix row).
    #[tokio::test]
    async fn a_side_that_delivered_nothing_is_decided_without_a_duel() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = round_judge(dir.path());
        let mut sides = Sides::new();
        for s in STEMS {
            sides.insert(("hk-b".into(), s.into()), Some(bundle([200, 30, 30])));
        }
        let rc = ctx(&j, sides, &["hk-b"]);
        let m = rc
            .play(duels_id("leader", "hk-b"), "leader", "hk-b")
            .await
            .expect("played");
        assert_eq!(m, 1.0);
        let rec: MatchRecord = j
            .store
            .get(&match_key(3, "duels", "leader", "hk-b"))
            .expect("db")
            .expect("stored");
        assert_eq!((rec.duels, rec.score, rec.margin), (0, 0, 1.0));
        assert_eq!(rec.judge.as_deref(), Some("offline"));
        assert!(rec.report.is_none());
        assert!(rc.reports.lock().unwrap().is_empty());
        // Neither delivered: 0.0.
        let m = rc.play(duels_id("x", "y"), "x", "y").await.expect("played");
        assert_eq!(m, 0.0);
    }

    /// A played match keeps 404's report (every prompt's winner and detail) in RocksDB and hands it to the
    /// state repository under `rounds/N/<right>/duels_<left10>.json`; after a restart the stored record is
    /// reused (no duel runs) and its report is handed over again, byte for byte.
    #[tokio::test]
    async fn played_matches_keep_their_report_and_judge() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = round_judge(dir.path());
        let right = "5F4HaNQJAXDhirU51GTz4vBvcEuUo3YSfhKuBT7qix35DkHP";
        let mut sides = Sides::new();
        for s in STEMS {
            sides.insert(("leader".into(), s.into()), None);
            sides.insert((right.into(), s.into()), Some(bundle([200, 30, 30])));
        }
        let rc = ctx(&j, sides.clone(), &["leader", right]);
        let m = rc
            .play(duels_id("leader", right), "leader", right)
            .await
            .expect("played");
        assert_eq!(
            m, 1.0,
            "the leader's renders are missing: it loses every prompt"
        );
        let rec: MatchRecord = j
            .store
            .get(&match_key(3, "duels", "leader", right))
            .expect("db")
            .expect("stored");
        assert_eq!(rec.judge.as_deref(), Some("offline"));
        assert_eq!(rec.duels, 2);
        let stored = rec.report.clone().expect("report kept");
        assert_eq!(stored["duels"][0]["name"], "p-a");
        assert_eq!(stored["duels"][0]["winner"], "right");
        assert!(stored["duels"][0]["detail"].is_object(), "{stored}");
        let reports = rc.reports.lock().unwrap().clone();
        assert_eq!(reports.len(), 1);
        let (path, report) = &reports[0];
        assert_eq!(path, &format!("rounds/3/{right}/duels_leader.json"));
        assert_eq!(
            (report.left.as_str(), report.right.as_str()),
            ("leader", right)
        );
        assert_eq!(report.margin, 1.0);
        // The file round-trips through the state repository's format.
        let text = report.encode();
        let back = sn17_storage::state_repo::MatchReport::decode(&text).expect("decodes");
        assert_eq!(back.encode(), text);
        assert!(text.contains("\"margin\": 1.0"), "{text}");
        // 404's key order, not the stored JSON value's alphabetical one.
        let at = |k: &str| text.find(&format!("\"{k}\":")).expect(k);
        assert!(
            at("left") < at("right") && at("right") < at("score"),
            "{text}"
        );
        assert!(
            at("margin") < at("duels") && at("name") < at("winner"),
            "{text}"
        );
        assert!(at("winner") < at("detail"), "{text}");

        // A restart: nothing rendered, the stored record decides and the report comes back.
        let rc2 = ctx(&j, Sides::new(), &[]);
        let m2 = rc2
            .play(duels_id("leader", right), "leader", right)
            .await
            .expect("reused");
        assert_eq!(m2, 1.0);
        assert_eq!(rc2.reports.lock().unwrap()[0].1.encode(), text);
        assert_eq!(
            j.status
                .counters
                .matches_reused
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }

    #[test]
    fn generation_entries_follow_404s_report_format() {
        let rep = |i| GenerationRepeat {
            repeat_index: i,
            generated_prompts: 3,
            failed_prompts: 1,
            generation_time: Some(12.5),
            raw: Default::default(),
        };
        let ok = generation_entry("5Hk", &Ok(2), vec![rep(1), rep(2)]);
        assert_eq!((ok.outcome.as_str(), ok.reason.as_str()), ("completed", ""));
        assert_eq!(ok.repeats.len(), 2);
        let text = sn17_storage::pyjson::to_pretty(&ok.to_json());
        assert!(text.contains("\"generation_time\": 12.5"), "{text}");
        let bad = generation_entry("5Hk", &Err("REJECTED: too slow".into()), vec![rep(1)]);
        assert_eq!(bad.outcome, "rejected");
        assert_eq!(bad.reason, "REJECTED: too slow");
        // What the record keeps decodes back to the same entry.
        let back =
            GenerationReport::from_json(&sn17_storage::pyjson::parse(&text).expect("parse"), "$")
                .expect("decode");
        assert_eq!(sn17_storage::pyjson::to_pretty(&back.to_json()), text);
    }

    #[test]
    fn audit_reports_are_named_as_404_names_them() {
        let p = layout::match_report(2, "submitted", "5GgpGaDxzTxyz", Some(1)).unwrap();
        assert_eq!(p, "rounds/2/5GgpGaDxzTxyz/audit_submitted_1.json");
        let p = layout::match_report(2, "5GgpGaDxzTxyz", "5F4H", Some(3)).unwrap();
        assert_eq!(p, "rounds/2/5F4H/audit_5GgpGaDxzT_3.json");
    }

    #[test]
    fn the_offline_judge_is_refused_on_mainnet_without_the_override() {
        assert!(is_mainnet(None, None), "finney is the default network");
        assert!(is_mainnet(Some("finney"), None));
        assert!(is_mainnet(
            Some("local"),
            Some("wss://entrypoint-finney.opentensor.ai:443")
        ));
        assert!(!is_mainnet(Some("finney"), Some("ws://127.0.0.1:9944")));
        assert!(!is_mainnet(Some("test"), None));
        let mut o = JudgeOptions {
            offline: true,
            mainnet: true,
            ..Default::default()
        };
        let err = check_offline_allowed(&o).unwrap_err().to_string();
        assert!(
            err.contains("i-know-offline-judge-is-not-production-on-mainnet"),
            "{err}"
        );
        o.offline_on_mainnet = true;
        assert!(check_offline_allowed(&o).is_ok());
        o.offline_on_mainnet = false;
        o.mainnet = false;
        assert!(
            check_offline_allowed(&o).is_ok(),
            "devnets and testnet may use it"
        );
        // select() applies the same guard before anything else.
        o.mainnet = true;
        assert!(select(&o).is_err());
    }

    #[test]
    fn vlm_flags_merge_with_the_environment_and_never_show_the_key() {
        let env: HashMap<&str, &str> = [
            ("SN17_VLM_API_KEY", "sk-default"),
            ("OPENAI_API_KEY", "sk-openai"),
            ("MY_KEY", "sk-mine"),
        ]
        .into_iter()
        .collect();
        let get = |k: &str| env.get(k).map(|v| v.to_string());
        let mut o = JudgeOptions {
            vlm_model: sn17_judge::vlm::config::DEFAULT_MODEL.into(),
            ..Default::default()
        };
        assert!(
            vlm_config(&o, &get).unwrap().is_none(),
            "no endpoint, no VLM"
        );
        o.vlm_url = Some("http://127.0.0.1:8000/v1".into());
        let c = vlm_config(&o, &get).unwrap().unwrap();
        assert_eq!(c.model, "glm-4.6v-flash");
        assert_eq!(c.api_key, Some(sn17_judge::vlm::ApiKey::new("sk-default")));
        assert_eq!((c.timeout.as_secs(), c.max_concurrency), (120, 32));
        o.vlm_api_key_env = Some("MY_KEY".into());
        o.vlm_timeout_secs = Some(30.0);
        o.vlm_concurrency = Some(4);
        let c = vlm_config(&o, &get).unwrap().unwrap();
        assert_eq!(c.api_key, Some(sn17_judge::vlm::ApiKey::new("sk-mine")));
        assert_eq!((c.timeout.as_secs(), c.max_concurrency), (30, 4));
        assert!(!format!("{c:?}").contains("sk-mine"));
        o.vlm_api_key_env = Some("MISSING".into());
        let err = vlm_config(&o, &get).unwrap_err().to_string();
        assert!(err.contains("MISSING") && !err.contains("sk-"), "{err}");
        o.vlm_api_key_env = None;
        o.vlm_concurrency = Some(0);
        assert!(vlm_config(&o, &get).is_err());
        o.vlm_concurrency = None;
        o.vlm_timeout_secs = Some(-1.0);
        assert!(vlm_config(&o, &get).is_err());
    }

    /// With DINOv3 weights (the tiny committed fixture), every rendered side gets embeddings, so Stage 2A's
    /// best view has something to rank; sides without a prompt or a bundle are left alone.
    #[tokio::test]
    async fn dinov3_weights_embed_every_rendered_side() {
        let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../judge/tests/fixtures/dinov3/tiny_gelu/model.safetensors");
        let o = JudgeOptions {
            offline: true,
            dinov3_weights: Some(weights),
            ..Default::default()
        };
        let (duel, embedder) = select(&o).expect("select");
        assert!(!duel.kind().is_production());
        let embedder = embedder.expect("embedder loaded");
        let prompts: HashMap<String, ImageData> = [(
            "p-a".to_string(),
            ImageData::new("p-a", png([10, 200, 10], 32)),
        )]
        .into();
        let mut sides = Sides::new();
        sides.insert(("a".into(), "p-a".into()), Some(bundle([10, 200, 10])));
        sides.insert(("b".into(), "p-a".into()), None);
        sides.insert(("a".into(), "p-x".into()), Some(bundle([1, 2, 3])));
        let sides = embed_sides(embedder, prompts, sides).await.expect("embed");
        let e = sides[&("a".to_string(), "p-a".to_string())]
            .as_ref()
            .and_then(|b| b.embeddings().cloned())
            .expect("embedded");
        assert!(e.get("prompt").is_some_and(|v| !v.is_empty()));
        assert!(
            sn17_judge::dino::best_view(&e).is_some(),
            "Stage 2A can pick a view"
        );
        assert!(sides[&("b".to_string(), "p-a".to_string())].is_none());
        assert!(sides[&("a".to_string(), "p-x".to_string())]
            .as_ref()
            .is_some_and(|b| b.embeddings().is_none()));
    }
}
