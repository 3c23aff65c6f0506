//! `sn17 judge duel|embed`: one 404 duel between two rendered sides, and DINOv3 embeddings of images.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::Serialize;
use sn17_judge::bundle::{View, ViewBundle};
use sn17_judge::dino::{cosine_distance, Embedder};
use sn17_judge::duel::detail::{ChecklistDetail, Detail};
use sn17_judge::duel::{DuelInput, DuelJudge, DuelOutcome, JudgeKind, MultiStageJudge, Prompt};
use sn17_judge::image::{ImageData, ImageLimits};
use sn17_judge::offline::{OfflineJudge, OFFLINE_LABEL};
use sn17_judge::vlm::{HttpVlm, MetricsSnapshot, Vlm};

use crate::cli::GlobalArgs;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum JudgeCommand {
    /// Judge one prompt between two sides with 404's multi-stage VLM duel and print each stage's verdict.
    Duel(DuelArgs),
    /// DINOv3 embeddings (L2-normalised CLS) of images and their pairwise cosine distances.
    Embed(EmbedArgs),
}

#[derive(Args, Debug)]
pub struct DuelArgs {
    /// The prompt: an image file, or a text description (development only; 404 judges image prompts).
    #[arg(long)]
    pub prompt: String,
    /// Left side (A, the defender): an asset file (GLB, PLY, SPZ; rendered now with the judge rig), a folder
    /// written by `sn17 render --rig judge` (view_000.png…, grid.png) or a bundle in 404's layout (white/, gray/,
    /// grid.png, embeddings.npz).
    #[arg(long)]
    pub left: PathBuf,
    /// Right side (B, the challenger), as --left.
    #[arg(long)]
    pub right: PathBuf,
    /// OpenAI-compatible endpoint, normally ending in /v1 (the API key comes from SN17_VLM_API_KEY or
    /// OPENAI_API_KEY, never from a flag).
    #[arg(long = "vlm-url", env = "SN17_VLM_URL")]
    pub vlm_url: Option<String>,
    /// Served model name.
    #[arg(long, env = "SN17_VLM_MODEL", default_value = sn17_judge::vlm::config::DEFAULT_MODEL)]
    pub model: String,
    /// Round seed: every VLM call's seed derives from it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Per-call timeout in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub timeout_secs: f64,
    /// Use the offline development judge (image statistics, not a production verdict) instead of a VLM.
    #[arg(long)]
    pub offline: bool,
    /// DINOv3 model.safetensors: computes embeddings for Stage 2A's best view when a side has no
    /// embeddings.npz (and powers the offline judge).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Skip the informational explain call (detail.issues).
    #[arg(long)]
    pub no_explain: bool,
    /// Side of the views when a side is an asset file rendered now (default: the judge rig's 1024).
    #[arg(long = "view-size")]
    pub view_size: Option<u32>,
    /// Renderer for asset sides: auto, cpu, wgpu or cuda.
    #[arg(long, default_value = "auto")]
    pub backend: String,
}

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Images to embed (PNG, JPEG or WebP).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// DINOv3 ViT weights: model.safetensors of facebook/dinov3-vits16-pretrain-lvd1689m (gated; obtain it
    /// yourself, nothing is downloaded).
    #[arg(long)]
    pub weights: PathBuf,
    /// config.json of the checkpoint (default: beside the weights, else ViT-S/16).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also write the embeddings as an .npz (keys: file stems, made unique with the image's position).
    #[arg(long)]
    pub npz: Option<PathBuf>,
}

pub async fn run(g: &GlobalArgs, cmd: JudgeCommand) -> anyhow::Result<()> {
    match cmd {
        JudgeCommand::Duel(args) => duel(g, args).await,
        JudgeCommand::Embed(args) => embed(g, args).await,
    }
}

#[derive(Serialize)]
struct DuelReportOut<'a> {
    judge: JudgeKind,
    production: bool,
    winner: &'a str,
    detail: &'a Option<Detail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlm: Option<MetricsSnapshot>,
}

async fn duel(g: &GlobalArgs, a: DuelArgs) -> anyhow::Result<()> {
    let limits = ImageLimits::default();
    let prompt_path = Path::new(&a.prompt);
    let prompt = if prompt_path.is_file() {
        Prompt::Image(ImageData::read(prompt_path, &limits)?)
    } else {
        Prompt::Text(a.prompt.clone())
    };
    let embedder = match &a.weights {
        Some(w) => {
            let w = w.clone();
            let e = tokio::task::spawn_blocking(move || Embedder::load(&w, None))
                .await?
                .context("loading the DINOv3 weights")?;
            Some(Arc::new(e))
        }
        None => None,
    };
    let backend: sn17_gpu::Backend = a
        .backend
        .parse()
        .map_err(|e| anyhow::anyhow!("--backend: {e}"))?;
    let mut sides = Vec::new();
    for path in [&a.left, &a.right] {
        let mut bundle = load_side(path, &limits, backend, a.view_size).await?;
        if let (Some(b), Some(e), Some(img)) = (&mut bundle, &embedder, prompt.image()) {
            if b.embeddings().is_none() {
                let (e, img, b2) = (e.clone(), img.clone(), b.clone());
                let emb = tokio::task::spawn_blocking(move || e.embed_bundle(&img, &b2)).await??;
                b.set_embeddings(Some(emb));
            }
        }
        sides.push(bundle);
    }
    let input = DuelInput {
        prompt: &prompt,
        left: sides[0].as_ref(),
        right: sides[1].as_ref(),
        seed: a.seed,
    };

    let mut vlm_handle: Option<Arc<HttpVlm>> = None;
    let judge: Box<dyn DuelJudge> = if a.offline {
        eprintln!("warning: {OFFLINE_LABEL}");
        Box::new(OfflineJudge::new(embedder.clone()))
    } else {
        // The validator's own VLM settings (API key from the environment, checked timeout).
        let opts = crate::validator::judge::JudgeOptions {
            vlm_url: a.vlm_url.clone(),
            vlm_model: a.model.clone(),
            vlm_timeout_secs: Some(a.timeout_secs),
            ..Default::default()
        };
        let cfg = crate::validator::judge::vlm_config(&opts, &|k| std::env::var(k).ok())?
            .ok_or(sn17_judge::Error::NoVlmConfigured)
            .context(
                "pass --vlm-url URL (or SN17_VLM_URL), or --offline for the development judge",
            )?;
        let vlm = Arc::new(HttpVlm::new(cfg)?);
        vlm_handle = Some(vlm.clone());
        Box::new(MultiStageJudge::new(vlm).with_explain(!a.no_explain))
    };

    let outcome: DuelOutcome = judge.judge(input).await.unwrap_or_else(|e| {
        eprintln!("judge error: {e}");
        DuelOutcome::skipped()
    });
    let kind = judge.kind();
    let metrics = vlm_handle.as_ref().map(|v| v.metrics().snapshot());
    if g.json {
        return output::json(&DuelReportOut {
            production: kind.is_production(),
            judge: kind,
            winner: outcome.winner.as_str(),
            detail: &outcome.detail,
            vlm: metrics,
        });
    }
    print!("{}", render_duel(&kind, &outcome, metrics.as_ref()));
    Ok(())
}

/// A side: a bundle folder, or an asset file (GLB, PLY, SPZ) rendered now with the judge rig. `None` (the side
/// loses the prompt) when it cannot be used.
async fn load_side(
    path: &Path,
    limits: &ImageLimits,
    backend: sn17_gpu::Backend,
    view_size: Option<u32>,
) -> anyhow::Result<Option<ViewBundle>> {
    if path.is_file() {
        let p = path.to_path_buf();
        let rendered =
            tokio::task::spawn_blocking(move || render_asset(&p, backend, view_size)).await?;
        return match rendered {
            Ok(b) => Ok(Some(b)),
            Err(e) => {
                eprintln!(
                    "warning: {}: {e:#}; that side cannot be rendered and loses the prompt",
                    path.display()
                );
                Ok(None)
            }
        };
    }
    match ViewBundle::load_dir(path, limits) {
        Ok(b) => Ok(Some(b)),
        Err(e) => {
            eprintln!("warning: {e}; that side has no usable renders and loses the prompt");
            Ok(None)
        }
    }
}

/// Renders an asset with the judge rig (8 white views, 4 gray, the studio grid) into an in-memory bundle.
fn render_asset(
    path: &Path,
    backend: sn17_gpu::Backend,
    view_size: Option<u32>,
) -> anyhow::Result<ViewBundle> {
    let (asset, _format) = sn17_gpu::load_path(path, &sn17_gpu::LoadOptions::default())?;
    let rig = judge_rig(view_size)?;
    let renderer = sn17_gpu::create_renderer(backend)?;
    render_bundle(&path.display().to_string(), &asset, &rig, &*renderer)
}

/// The judge rig, every view (and the grid's own views) at `view_size` when given.
pub(crate) fn judge_rig(view_size: Option<u32>) -> anyhow::Result<sn17_gpu::Rig> {
    let mut rig = sn17_gpu::rig::preset("judge")?;
    if let Some(size) = view_size {
        anyhow::ensure!(size > 0, "the view size must be positive");
        rig.views_mut().for_each(|v| v.size = size);
    }
    Ok(rig)
}

/// Renders an asset with a judge-bundle rig (8 white views, 4 gray, the grid) into a view bundle.
pub(crate) fn render_bundle(
    label: &str,
    asset: &sn17_gpu::Asset,
    rig: &sn17_gpu::Rig,
    renderer: &dyn sn17_gpu::Renderer,
) -> anyhow::Result<ViewBundle> {
    encode_bundle(label, &sn17_gpu::render_rig(renderer, asset, rig)?)
}

/// PNG-encodes a judge rig's 12 views and grid into a bundle (CPU work, apart from rendering
/// so a validator can encode on several threads while one renders).
pub(crate) fn encode_bundle(
    label: &str,
    rendered: &sn17_gpu::render::Rendered,
) -> anyhow::Result<ViewBundle> {
    anyhow::ensure!(
        rendered.views.len() >= 12,
        "the judge rig rendered {} views, expected 12",
        rendered.views.len()
    );
    let png = |i: usize, name: &str| -> anyhow::Result<ImageData> {
        Ok(ImageData::new(
            format!("{label}#{name}"),
            sn17_gpu::output::encode_png(&rendered.views[i])?,
        ))
    };
    let mut white = Vec::with_capacity(8);
    for (i, v) in View::WHITE.iter().enumerate() {
        white.push(png(i, v.name())?);
    }
    let mut gray: [Option<ImageData>; 4] = Default::default();
    for (i, v) in View::GRAY.iter().enumerate() {
        gray[i] = Some(png(8 + i, v.name())?);
    }
    let grid = ImageData::new(
        format!("{label}#grid"),
        sn17_gpu::output::encode_png(&rendered.grid)?,
    );
    let white: [ImageData; 8] = white
        .try_into()
        .map_err(|_| anyhow::anyhow!("white view count"))?;
    Ok(ViewBundle::new(white, gray, grid, None))
}

fn render_duel(kind: &JudgeKind, o: &DuelOutcome, metrics: Option<&MetricsSnapshot>) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    match kind {
        JudgeKind::Vlm { model } => line(format!("judge     VLM multi-stage ({model})")),
        JudgeKind::Offline { label } => line(format!("judge     {label}: {OFFLINE_LABEL}")),
    }
    if let Some(d) = &o.detail {
        if let Some(r) = &d.reason {
            line(format!("reason    {r}"));
        }
        if let Some(s1) = &d.s1 {
            let angles: Vec<String> = s1
                .angles
                .iter()
                .map(|a| format!("{} {}/{}", a.label, a.pen_a, a.pen_b))
                .collect();
            line(format!(
                "S1        {:<5} {}/{} angles consistent; A/B penalties: {}",
                s1.choice.as_str(),
                s1.n_consistent,
                s1.n_total,
                angles.join(", ")
            ));
        }
        if let Some(s2) = &d.s2 {
            let bv = s2
                .best_view
                .map(|p| format!("{}/{}", p.penalty_a, p.penalty_b))
                .unwrap_or_else(|| "abstained".into());
            let ac = s2
                .artifact_compare
                .map(|p| format!("{}/{}", p.penalty_a, p.penalty_b))
                .unwrap_or_else(|| "-".into());
            let cl = match &s2.checklist {
                ChecklistDetail::Scored {
                    main_object,
                    score_a,
                    score_b,
                    ..
                } => format!("{main_object:?} {score_a}/{score_b}"),
                ChecklistDetail::VerifyFailed { .. } => "verify failed".into(),
                ChecklistDetail::DecomposeFailed { .. } => "decompose failed".into(),
            };
            line(format!(
                "S2        {:<5} via {}; best view {bv}, artifacts {ac}, checklist {cl}",
                s2.choice.as_str(),
                s2.source
            ));
        }
        if let Some(s3) = &d.s3 {
            line(format!(
                "S3        {:<5} gate {}",
                s3.choice.map_or("-", |c| c.as_str()),
                if s3.fired { "fired" } else { "did not fire" }
            ));
        }
        if let Some(s4) = &d.s4 {
            let v = |x: sn17_judge::duel::answers::Verdict| format!("{x:?}").to_lowercase();
            line(format!(
                "S4        {:<5} side A {} (r/b/l/t {} {} {} {}), side B {} ({} {} {} {})",
                s4.choice.as_str(),
                v(s4.side_verdicts.a),
                v(s4.per_angle.a.right),
                v(s4.per_angle.a.back),
                v(s4.per_angle.a.left),
                v(s4.per_angle.a.top_down),
                v(s4.side_verdicts.b),
                v(s4.per_angle.b.right),
                v(s4.per_angle.b.back),
                v(s4.per_angle.b.left),
                v(s4.per_angle.b.top_down),
            ));
        }
        if let Some(by) = &d.decided_by {
            line(format!("decided   {by}"));
        }
        if let Some(i) = d.issues.as_deref().filter(|i| !i.is_empty()) {
            line(format!("issues    {i}"));
        }
    }
    line(format!("winner    {}", o.winner.as_str()));
    if let Some(m) = metrics {
        line(format!(
            "vlm       {} requests, {} HTTP errors, {} timeouts, {} fallbacks, mean latency {}",
            m.requests,
            m.http_errors,
            m.timeouts,
            m.fallbacks,
            m.mean_latency()
                .map_or("-".into(), |d| format!("{} ms", d.as_millis()))
        ));
    }
    out
}

#[derive(Serialize)]
struct EmbedOut {
    images: Vec<String>,
    embeddings: Vec<Vec<f32>>,
    cosine_distances: Vec<Vec<f32>>,
}

async fn embed(g: &GlobalArgs, a: EmbedArgs) -> anyhow::Result<()> {
    let limits = ImageLimits::default();
    let images = a
        .images
        .iter()
        .map(|p| ImageData::read(p, &limits).with_context(|| format!("reading {}", p.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (weights, config) = (a.weights.clone(), a.config.clone());
    let vectors = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Vec<f32>>> {
        let e =
            Embedder::load(&weights, config.as_deref()).context("loading the DINOv3 weights")?;
        let mut out = Vec::with_capacity(images.len());
        // Small batches bound memory for long lists.
        for chunk in images.chunks(16) {
            out.extend(e.embed(chunk)?);
        }
        Ok(out)
    })
    .await??;
    let names: Vec<String> = a.images.iter().map(|p| p.display().to_string()).collect();
    let distances: Vec<Vec<f32>> = vectors
        .iter()
        .map(|x| vectors.iter().map(|y| cosine_distance(x, y)).collect())
        .collect();
    if let Some(path) = &a.npz {
        let mut e = sn17_judge::npz::Embeddings::new();
        for (i, (p, v)) in a.images.iter().zip(&vectors).enumerate() {
            let stem = p.file_stem().map_or_else(
                || format!("image_{i}"),
                |s| s.to_string_lossy().into_owned(),
            );
            // Keys must be unique: a repeated stem gets its position appended.
            let key = if e.get(&stem).is_some() {
                format!("{stem}_{i}")
            } else {
                stem
            };
            e.insert(key, v.clone());
        }
        std::fs::write(path, e.to_npz()?).with_context(|| format!("writing {}", path.display()))?;
    }
    if g.json {
        return output::json(&EmbedOut {
            images: names,
            embeddings: vectors,
            cosine_distances: distances,
        });
    }
    for (name, v) in names.iter().zip(&vectors) {
        let head: Vec<String> = v.iter().take(6).map(|x| format!("{x:+.4}")).collect();
        println!("{name}: {}-d [{} …]", v.len(), head.join(", "));
    }
    if vectors.len() > 1 {
        println!("\ncosine distance (1 - cos):");
        let header: Vec<String> = std::iter::once(String::new())
            .chain((0..names.len()).map(|i| format!("#{i}")))
            .collect();
        let rows: Vec<Vec<String>> = distances
            .iter()
            .enumerate()
            .map(|(i, r)| {
                std::iter::once(format!("#{i}"))
                    .chain(r.iter().map(|d| format!("{d:.4}")))
                    .collect()
            })
            .collect();
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        print!("{}", output::table(&header_refs, &rows));
    }
    Ok(())
}
