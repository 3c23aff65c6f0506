//! A round's downloads: tasks already recorded are skipped (resume), the rest run with start
//! jitter behind a semaphore, each result stored (blob, then record) as it completes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde::Serialize;
use sn17_storage::db::{keys, DownloadRecord, Store};
use tokio::sync::Semaphore;

use super::blobs::BlobStore;
use super::fetch::{start_jitter, FetchOutcome, Fetcher};
use super::progress::Progress;
use crate::engine::EngineError;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadTask {
    pub round: u64,
    pub hotkey: String,
    pub stem: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DownloadSummary {
    pub total: usize,
    /// Already recorded before this run.
    pub resumed: usize,
    pub ok: usize,
    pub failed: usize,
    pub bytes: u64,
    #[serde(with = "secs")]
    pub elapsed: Duration,
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Runs `tasks`; `on_record` sees every new record in completion order (the round engine uses
/// it to update `submitted.json`). Miners are visited in random order, as 404 shuffles them.
pub async fn run_downloads(
    fetcher: &Fetcher,
    store: &Store,
    blobs: Option<&BlobStore>,
    tasks: Vec<DownloadTask>,
    mut on_record: impl FnMut(&DownloadRecord) -> Result<(), EngineError>,
) -> Result<DownloadSummary, EngineError> {
    let started = Instant::now();
    let mut summary = DownloadSummary {
        total: tasks.len(),
        ..Default::default()
    };
    let mut by_miner: BTreeMap<String, Vec<DownloadTask>> = BTreeMap::new();
    for t in tasks {
        let key = keys::round_miner_stem(t.round, &t.hotkey, &t.stem);
        if store.get::<DownloadRecord>(&key)?.is_some() {
            summary.resumed += 1;
            continue;
        }
        by_miner.entry(t.hotkey.clone()).or_default().push(t);
    }
    let mut miners: Vec<Vec<DownloadTask>> = by_miner.into_values().collect();
    miners.shuffle(&mut rand::thread_rng());

    let cfg = fetcher.config().clone();
    let sem = Arc::new(Semaphore::new(cfg.max_concurrent.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let pending: usize = miners.iter().map(Vec::len).sum();
    for task in miners.into_iter().flatten() {
        let (fetcher, sem, blobs) = (fetcher.clone(), sem.clone(), blobs.cloned());
        let jitter = cfg.start_jitter;
        set.spawn(async move {
            start_jitter(jitter).await;
            let _permit = sem
                .acquire_owned()
                .await
                .map_err(|e| EngineError::Http(e.to_string()))?;
            let (outcome, attempts) = fetcher.fetch(&task.url).await;
            let record = match outcome {
                FetchOutcome::Ok { body, sha256 } => {
                    let size = body.len() as u64;
                    if let Some(b) = &blobs {
                        let (b, sha, body) = (b.clone(), sha256.clone(), body);
                        tokio::task::spawn_blocking(move || b.put(&sha, &body))
                            .await
                            .map_err(|e| EngineError::Http(e.to_string()))??;
                    }
                    DownloadRecord {
                        round: task.round,
                        hotkey: task.hotkey,
                        stem: task.stem,
                        url: task.url,
                        size,
                        sha256: Some(sha256),
                        failure_reason: None,
                        attempts,
                    }
                }
                FetchOutcome::Failed { reason } => DownloadRecord {
                    round: task.round,
                    hotkey: task.hotkey,
                    stem: task.stem,
                    url: task.url,
                    size: 0,
                    sha256: None,
                    failure_reason: Some(reason),
                    attempts,
                },
            };
            Ok::<_, EngineError>(record)
        });
    }
    let mut progress = Progress::new(cfg.progress, pending);
    while let Some(joined) = set.join_next().await {
        let record = joined.map_err(|e| EngineError::Http(format!("download task: {e}")))??;
        store.put(&record)?;
        let ok = record.failure_reason.is_none();
        if ok {
            summary.ok += 1;
            summary.bytes += record.size;
        } else {
            summary.failed += 1;
        }
        progress.tick(ok, record.size);
        on_record(&record)?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
