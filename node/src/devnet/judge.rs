//! The devnet's judge seam for the round engine: every downloaded output is rendered with a
//! judge-bundle rig, the leader's outputs are regenerated (the demo generator is deterministic,
//! as a leader's pod would be), each match is played prompt by prompt with the configured duel
//! judge (the offline judge unless a VLM is given), and the reveal-order timeline picks the
//! winner exactly as in production.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt as _;
use sn17_judge::bundle::ViewBundle;
use sn17_judge::duel::DuelJudge;
use sn17_judge::image::ImageData;
use sn17_judge::match_runner::{run_match, BundleSource, DuelCase, Side};
use sn17_storage::state_repo::{layout, MatchMatrix};

use crate::engine::download::BlobStore;
use crate::engine::round::{DuelContext, DuelOutcome, Judge};
use crate::engine::{timeline, EngineError};

/// How the devnet regenerates a repo's outputs: (repo, stem, seed) → PLY bytes.
pub type Regenerate = Arc<dyn Fn(&str, &str, u32) -> anyhow::Result<Vec<u8>> + Send + Sync>;

pub struct DevnetJudge {
    pub duel: Arc<dyn DuelJudge>,
    pub blobs: BlobStore,
    /// Prompt host base URL (`{base}/{stem}.png`).
    pub prompt_base: String,
    pub regenerate: Regenerate,
    /// Side of the rendered views (the judge rig's 1024² is slow on CPU-only machines).
    pub view_size: u32,
    /// Matches played, as (defender, challenger, margin), for the summary.
    pub played: Arc<std::sync::Mutex<Vec<(String, String, f64)>>>,
}

fn engine_err(e: impl std::fmt::Display) -> EngineError {
    EngineError::State(format!("devnet judge: {e}"))
}

/// Renders PLY bytes into a bundle; `None` (the side loses the prompt) when the file is bad.
fn render(
    renderer: &dyn sn17_gpu::Renderer,
    label: &str,
    bytes: &[u8],
    view_size: u32,
) -> Option<ViewBundle> {
    let result = (|| -> anyhow::Result<ViewBundle> {
        let (asset, _) = sn17_gpu::load_bytes(bytes, &sn17_gpu::LoadOptions::default())?;
        let mut rig = sn17_gpu::rig::preset("judge")?;
        for v in rig.views.iter_mut() {
            v.size = view_size;
        }
        if let sn17_gpu::rig::GridSource::Extra(extra) = &mut rig.grid.source {
            for v in extra.iter_mut() {
                v.size = view_size;
            }
        }
        crate::commands::judge::render_bundle(label, &asset, &rig, renderer)
    })();
    match result {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(output = %label, error = %format!("{e:#}"), "cannot render; the side loses the prompt");
            None
        }
    }
}

/// Every prompt image and every side's rendered bundle of a round.
struct Bundles {
    prompts: HashMap<String, ImageData>,
    /// (side key, stem) → bundle; the side key is a hotkey or `leader`.
    sides: HashMap<(String, String), Option<ViewBundle>>,
}

/// One match's view of [`Bundles`]: which side keys play left and right.
struct MatchSides<'a> {
    all: &'a Bundles,
    left: String,
    right: String,
}

impl BundleSource for MatchSides<'_> {
    fn prompt<'a>(&'a self, case: &'a DuelCase) -> BoxFuture<'a, Option<ImageData>> {
        let p = self.all.prompts.get(&case.name).cloned();
        async move { p }.boxed()
    }

    fn bundle<'a>(&'a self, side: Side, case: &'a DuelCase) -> BoxFuture<'a, Option<ViewBundle>> {
        let key = match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        };
        let b = self
            .all
            .sides
            .get(&(key.clone(), case.name.clone()))
            .cloned()
            .flatten();
        async move { b }.boxed()
    }
}

impl Judge for DevnetJudge {
    async fn judge(&self, ctx: DuelContext<'_>) -> Result<Option<DuelOutcome>, EngineError> {
        let seed = ctx.seed.unwrap_or(0);
        let mut stems: Vec<String> = ctx.downloads.iter().map(|d| d.stem.clone()).collect();
        stems.sort();
        stems.dedup();

        // Prompt images, fetched as a validator does.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(engine_err)?;
        let mut prompts = HashMap::new();
        for stem in &stems {
            let url = format!("{}/{stem}.png", self.prompt_base);
            let resp = http.get(&url).send().await.map_err(engine_err)?;
            let body = resp
                .error_for_status()
                .map_err(engine_err)?
                .bytes()
                .await
                .map_err(engine_err)?;
            prompts.insert(stem.clone(), ImageData::new(url, body));
        }

        // Every side's outputs rendered once: downloads for miners, regeneration for the leader.
        let mut jobs: Vec<(String, String, Option<Vec<u8>>)> = Vec::new();
        for d in ctx.downloads {
            let bytes = match (&d.failure_reason, &d.sha256) {
                (None, Some(sha)) => std::fs::read(self.blobs.path_of(sha)).ok(),
                _ => None,
            };
            jobs.push((d.hotkey.clone(), d.stem.clone(), bytes));
        }
        if let Some(leader) = ctx.leader {
            for stem in &stems {
                let bytes = (self.regenerate)(&leader.repo, stem, seed)
                    .map_err(|e| tracing::warn!(error = %e, "leader regeneration failed"))
                    .ok();
                jobs.push((layout::LEADER_KEY.to_string(), stem.clone(), bytes));
            }
        }
        let size = self.view_size;
        let sides = tokio::task::spawn_blocking(move || {
            let renderer =
                sn17_gpu::create_renderer(sn17_gpu::Backend::Auto).map_err(engine_err)?;
            Ok::<_, EngineError>(
                jobs.into_iter()
                    .map(|(side, stem, bytes)| {
                        let label = format!("{side}/{stem}");
                        let bundle = bytes.and_then(|b| render(&*renderer, &label, &b, size));
                        ((side, stem), bundle)
                    })
                    .collect::<HashMap<_, _>>(),
            )
        })
        .await
        .map_err(engine_err)??;
        let bundles = Bundles { prompts, sides };
        let cases: Vec<DuelCase> = stems
            .iter()
            .map(|stem| DuelCase {
                name: stem.clone(),
                prompt_url: format!("{}/{stem}.png", self.prompt_base),
                left_js: None,
                left_png: None,
                right_js: None,
                right_png: None,
            })
            .collect();

        let order: Vec<String> = ctx.submissions.iter().map(|s| s.hotkey.clone()).collect();
        let inputs = timeline::TimelineInputs {
            order,
            win_margin: ctx.config.win_margin,
            audit_repeats: ctx.config.audit_repeats() as u32,
            ..Default::default()
        };
        let audits = MatchMatrix::default();
        let (bundles, cases) = (&bundles, &cases);
        let settled = timeline::settle(&inputs, &audits, |left, right| async move {
            let sides = MatchSides {
                all: bundles,
                left: left.clone(),
                right: right.clone(),
            };
            let report = run_match(
                &*self.duel,
                &sides,
                &left,
                &right,
                cases,
                u64::from(seed),
                &|| false,
            )
            .await
            .map_err(engine_err)?;
            tracing::info!(defender = %layout::hk10(&left), challenger = %layout::hk10(&right), margin = report.margin, "match played");
            if let Ok(mut p) = self.played.lock() {
                p.push((left, right, report.margin));
            }
            Ok::<_, EngineError>(report.margin)
        })
        .await?;
        let (matrix, winner) = settled.ok_or_else(|| engine_err("the timeline did not settle"))?;
        Ok(Some(DuelOutcome::from_matrix(&matrix, winner)))
    }
}
