//! `sn17 validator bench`: the validator's own work on a synthetic round, with the judge's
//! model out of the picture: M miners × P prompts of demo splats on local CDNs (one HTTP server
//! per miner), downloaded through the production fetcher into RocksDB and the blob store, every
//! output rendered with the judge rig on the best backend, and the reveal-order timeline played
//! with the offline judge (reported apart: it stands in for VLM latency).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sn17_storage::db::{Store, StoreOptions};
use sn17_storage::state_repo::MatchMatrix;

use super::judge::render_all;
use super::status::Status;
use crate::devnet::demo::{self, DemoGenerator};
use crate::engine::download::{run_downloads, BlobStore, DownloadConfig, DownloadTask, Fetcher};
use crate::pod::server::Generator as _;
use crate::static_server::StaticServer;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub miners: usize,
    pub prompts: usize,
    pub view_size: u32,
    pub backend: String,
    pub download_secs: f64,
    pub render_secs: f64,
    pub renders: usize,
    pub ms_per_output_render: f64,
    /// The overhead: downloads and renders (everything a validator does besides its model).
    pub overhead_secs: f64,
    /// Timeline matches with the offline judge, which stands in for VLM latency.
    pub offline_judge_secs: f64,
    pub matches: usize,
}

pub async fn run(
    miners: usize,
    prompts: usize,
    view_size: u32,
    backend: sn17_gpu::Backend,
    dir: Option<PathBuf>,
    judge_matches: bool,
) -> anyhow::Result<BenchReport> {
    let tmp = tempfile_dir(dir)?;
    let stems: Vec<String> = (0..prompts).map(|i| format!("bench-{i:03}")).collect();
    let mut pngs = Vec::new();
    for s in &stems {
        pngs.push(demo::prompt_png(s)?);
    }
    // Miner outputs on their CDNs (the miners' work, not timed).
    let mut cdns = Vec::new();
    let mut tasks = Vec::new();
    for m in 0..miners {
        let folder = tmp.join(format!("cdn-{m}"));
        std::fs::create_dir_all(&folder)?;
        let gen = DemoGenerator {
            repo: format!("bench/miner-{m}"),
            quality: 0.3 + 0.6 * m as f32 / miners.max(1) as f32,
        };
        for (s, png) in stems.iter().zip(&pngs) {
            let bytes = gen.generate(s, png, 1).map_err(anyhow::Error::msg)?;
            std::fs::write(folder.join(format!("{s}.ply")), bytes)?;
        }
        let cdn = StaticServer::start(folder).await?;
        for s in &stems {
            tasks.push(DownloadTask {
                round: 0,
                hotkey: format!("miner-{m:03}"),
                stem: s.clone(),
                url: format!("{}/{s}.ply", cdn.url()),
            });
        }
        cdns.push(cdn);
    }

    let store = Store::open(tmp.join("db"), &StoreOptions { sync: true })?;
    let blobs = BlobStore::new(tmp.join("blobs"));
    let fetcher = Fetcher::new(DownloadConfig {
        max_bytes: 64 << 20,
        ext: "ply".into(),
        start_jitter: Duration::ZERO,
        block_private_addresses: false,
        progress: false,
        ..DownloadConfig::default()
    })?;
    let t = Instant::now();
    let summary = run_downloads(&fetcher, &store, Some(&blobs), tasks, |_| Ok(())).await?;
    let download_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(summary.failed == 0, "{} downloads failed", summary.failed);

    let mut jobs = Vec::new();
    for d in store.scan::<sn17_storage::db::DownloadRecord>(&[])? {
        let bytes = d
            .sha256
            .as_ref()
            .and_then(|s| std::fs::read(blobs.path_of(s)).ok());
        jobs.push((d.hotkey.clone(), d.stem.clone(), bytes));
    }
    let renders = jobs.len();
    let status = Arc::new(Status::default());
    let t = Instant::now();
    let sides = render_all(backend, Some(view_size), jobs, status).await?;
    let render_secs = t.elapsed().as_secs_f64();

    let report = |offline_judge_secs: f64, matches: usize| BenchReport {
        miners,
        prompts,
        view_size,
        backend: format!("{backend:?}"),
        download_secs,
        render_secs,
        renders,
        ms_per_output_render: render_secs * 1000.0 / renders.max(1) as f64,
        overhead_secs: download_secs + render_secs,
        offline_judge_secs,
        matches,
    };
    if !judge_matches {
        return Ok(report(0.0, 0));
    }
    // The timeline, every miner against the running defender, with the offline judge.
    let judge = sn17_judge::offline::select_judge(None, true, None)?;
    let prompt_images: std::collections::HashMap<_, _> = stems
        .iter()
        .zip(&pngs)
        .map(|(s, p)| {
            (
                s.clone(),
                sn17_judge::image::ImageData::new(s.clone(), p.clone()),
            )
        })
        .collect();
    let sides = std::sync::Mutex::new(sides);
    let order: Vec<String> = (0..miners).map(|m| format!("miner-{m:03}")).collect();
    let inputs = crate::engine::timeline::TimelineInputs {
        order,
        win_margin: 0.05,
        ..Default::default()
    };
    let cases = super::judge::cases(
        &stems
            .iter()
            .map(|s| (s.clone(), s.clone()))
            .collect::<Vec<_>>(),
    );
    let t = Instant::now();
    let mut matches = 0usize;
    let settled = crate::engine::timeline::settle(
        &inputs,
        &MatchMatrix::default(),
        |left, right| {
            matches += 1;
            let (judge, sides, prompt_images, cases) = (&judge, &sides, &prompt_images, &cases);
            async move {
                // The leader has no outputs here: every miner qualifies against nothing.
                let src = super::judge::MatchSides::new(prompt_images, sides, &left, &right);
                let r = sn17_judge::match_runner::run_match(
                    &**judge,
                    &src,
                    &left,
                    &right,
                    cases,
                    1,
                    &|| false,
                )
                .await?;
                Ok::<_, anyhow::Error>(r.margin)
            }
        },
        |_, _| async { Ok(crate::engine::timeline::AuditResult::Margins(Vec::new())) },
    )
    .await?;
    let offline_judge_secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(settled.is_some(), "the timeline did not settle");
    drop(cdns);
    Ok(report(offline_judge_secs, matches))
}

fn tempfile_dir(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let d = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sn17-validator-bench-{}", std::process::id()))
    });
    if d.exists() {
        std::fs::remove_dir_all(&d)?;
    }
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
