//! The validator's judge for the round engine: every downloaded output is rendered with the
//! judge rig, the leader's outputs are regenerated on its pod, each match is played prompt by
//! prompt with the configured duel judge (a VLM, or the offline judge), the reveal-order
//! timeline picks the winner, and each winner is audited by regeneration (competition.md §8.1):
//! `audit_repeats` regenerations on its pod, rendered, then "submitted vs generated" and
//! "defender vs generated" duels.
//!
//! Every match and audit duel is written to RocksDB as soon as it is played, so a validator
//! killed mid-round resumes without playing a finished match again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::FutureExt as _;
use sn17_judge::bundle::ViewBundle;
use sn17_judge::duel::DuelJudge;
use sn17_judge::image::ImageData;
use sn17_judge::match_runner::{run_match, BundleSource, DuelCase, Side};
use sn17_storage::db::keys::KeyBuilder;
use sn17_storage::db::{MatchRecord, Store};
use sn17_storage::state_repo::{layout, prompt_stem, MatchMatrix};

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
        let mut rig = sn17_gpu::rig::preset("judge")?;
        if let Some(size) = view_size {
            for v in rig.views.iter_mut() {
                v.size = size;
            }
            if let sn17_gpu::rig::GridSource::Extra(extra) = &mut rig.grid.source {
                for v in extra.iter_mut() {
                    v.size = size;
                }
            }
        }
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
}

impl RoundCtx<'_> {
    /// Plays `left` against `right` (side keys) unless the database already has the result.
    async fn play(
        &self,
        kind: &str,
        record_left: &str,
        right_key: &str,
        left_key: &str,
        right_hotkey: &str,
    ) -> Result<f64, EngineError> {
        let j = self.judge;
        let key = match_key(self.round, kind, record_left, right_hotkey);
        if let Some(done) = j.store.get::<MatchRecord>(&key)? {
            bump(&j.status.counters.matches_reused);
            return Ok(done.margin);
        }
        let sides = MatchSides::new(&self.prompts, &self.sides, left_key, right_key);
        let report = run_match(
            &*j.duel,
            &sides,
            record_left,
            right_hotkey,
            &self.cases,
            u64::from(self.seed),
            &|| false,
        )
        .await
        .map_err(engine_err)?;
        j.store.put(&MatchRecord {
            round: self.round,
            kind: kind.into(),
            left: record_left.into(),
            right: right_hotkey.into(),
            score: report.score,
            duels: report.duels.len() as u32,
            margin: report.margin,
        })?;
        bump(&j.status.counters.matches_played);
        tracing::info!(kind, left = %layout::hk10(record_left), right = %layout::hk10(right_hotkey), margin = report.margin, "match played");
        j.events.emit(serde_json::json!({
            "event": "match_played", "round": self.round, "kind": kind,
            "left": record_left, "right": right_hotkey, "margin": report.margin,
        }));
        Ok(report.margin)
    }

    /// Regenerates `target` on its pod `repeats` times and renders the outputs under
    /// `{prefix}_{r}` side keys; `Err(reason)` when the generation report is REJECTED.
    async fn regenerate(
        &self,
        target: &PodTarget,
        repeats: u32,
        prefix: &str,
    ) -> Result<Result<u32, String>, EngineError> {
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
            Err(e) => return Ok(Err(format!("regeneration failed: {e}"))),
        };
        if let Some(reason) = report.rejected {
            return Ok(Err(reason));
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
        let rendered = render_all(j.backend, j.view_size, jobs, j.status.clone()).await?;
        if let Ok(mut s) = self.sides.lock() {
            s.extend(rendered);
        }
        Ok(Ok(report.repeats.len() as u32))
    }

    async fn audit(
        &self,
        defender: &str,
        hk: &str,
        target: Option<PodTarget>,
        repeats: u32,
    ) -> Result<AuditResult, EngineError> {
        let j = self.judge;
        // Finished before a restart: every duel of every repeat is in the database.
        let mut done = Vec::new();
        for r in 1..=repeats {
            let s = j.store.get::<MatchRecord>(&match_key(
                self.round,
                "audit",
                &format!("submitted_{r}"),
                hk,
            ))?;
            let d = j.store.get::<MatchRecord>(&match_key(
                self.round,
                "audit",
                &format!("{defender}_{r}"),
                hk,
            ))?;
            if let (Some(s), Some(d)) = (s, d) {
                done.push((s.margin, d.margin));
            }
        }
        if done.len() == repeats as usize {
            return Ok(AuditResult::Margins(done));
        }
        let Some(target) = target else {
            return Ok(AuditResult::Rejected(format!("{hk} is not a submission")));
        };
        bump(&j.status.counters.audits);
        let prefix = format!("generated/{hk}");
        let n = match self.regenerate(&target, repeats, &prefix).await? {
            Ok(n) => n,
            Err(reason) => {
                j.events.emit(serde_json::json!({
                    "event": "audit_rejected", "round": self.round, "hotkey": hk, "reason": reason,
                }));
                return Ok(AuditResult::Rejected(reason));
            }
        };
        let mut margins = Vec::new();
        for r in 1..=n {
            let generated = format!("{prefix}_{r}");
            let s = self
                .play("audit", &format!("submitted_{r}"), &generated, hk, hk)
                .await?;
            let d = self
                .play(
                    "audit",
                    &format!("{defender}_{r}"),
                    &generated,
                    defender,
                    hk,
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
        let sides = render_all(self.backend, self.view_size, jobs, self.status.clone()).await?;
        let rc = RoundCtx {
            judge: self,
            round: ctx.round,
            seed,
            prompts,
            prompt_refs,
            cases,
            sides: Mutex::new(sides),
        };

        // The leader's outputs: one regeneration on its pod (404's `generated_1`).
        if let Some(leader) = ctx.leader {
            let target = PodTarget {
                hotkey: leader.hotkey.clone(),
                repo: leader.repo.clone(),
                commit: leader.commit.clone(),
                docker_image: Some(leader.docker.clone()),
            };
            match rc.regenerate(&target, 1, "leader-gen").await? {
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
            |left, right| async move { rc.play("duels", &left, &right, &left, &right).await },
            |defender, hk| async move {
                rc.audit(&defender, &hk, targets.get(&hk).cloned(), repeats)
                    .await
            },
        )
        .await?;
        let settled = settled.ok_or_else(|| engine_err("the timeline did not settle"))?;
        Ok(Some(DuelOutcome::from_settled(settled)))
    }
}
