//! Regeneration through a pod, timed and judged by 404's limits (§8.1–§8.2, §8.5): repeats of
//! every target stem in batches, per-prompt times (a batch's wall time shared by its prompts),
//! the trimmed median, and the REJECTED reasons 404 writes.

use std::collections::BTreeMap;
use std::time::Duration;

use super::client::{PodClient, PodTimeouts};
use super::provider::{PodProvider, PodTarget};
use super::{PodError, PromptRef};

/// 404's limits on a regeneration.
#[derive(Debug, Clone)]
pub struct AuditLimits {
    /// Prompts per `POST /generate`.
    pub batch_size: usize,
    /// Σ batch wall times per repeat (`TOTAL_GENERATION_TIME_LIMIT`).
    pub total_time: Duration,
    /// Failed prompts tolerated per repeat (`MAX_MISMATCHED_PROMPTS`).
    pub max_failed_prompts: usize,
    /// A prompt slower than this counts as failed (hard per-prompt timeout).
    pub prompt_timeout: Duration,
    /// Reject when the trimmed median per-prompt time is above this (Competition 1's rule).
    pub median_limit: Option<Duration>,
    pub timeouts: PodTimeouts,
}

impl Default for AuditLimits {
    fn default() -> Self {
        Self {
            batch_size: 32,
            total_time: Duration::from_secs(7200),
            max_failed_prompts: 12,
            prompt_timeout: Duration::from_secs(180),
            median_limit: None,
            timeouts: PodTimeouts::default(),
        }
    }
}

/// One full pass over the target stems.
#[derive(Debug, Clone, Default)]
pub struct Repeat {
    pub outputs: BTreeMap<String, Vec<u8>>,
    pub failed: BTreeMap<String, String>,
    pub generation_secs: f64,
    /// Per successful prompt, seconds.
    pub prompt_secs: Vec<f64>,
}

/// A regeneration's outcome: the repeats and 404's verdict.
#[derive(Debug, Clone)]
pub struct GenerationReport {
    pub repeats: Vec<Repeat>,
    /// `None`: passed the limits; `Some(reason)`: REJECTED.
    pub rejected: Option<String>,
}

/// 404's trimmed median: with more than 12 values, drop the 6 lowest and 6 highest.
pub fn trimmed_median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let v = if v.len() > 12 {
        &v[6..v.len() - 6]
    } else {
        &v[..]
    };
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Runs `repeats` regenerations of `prompts` on one pod from `provider`. Stops early when a
/// repeat already breaks a limit (404 reports REJECTED at once).
pub async fn regenerate(
    provider: &dyn PodProvider,
    target: &PodTarget,
    round: u64,
    prompts: &[PromptRef],
    seed: u32,
    repeats: u32,
    limits: &AuditLimits,
) -> Result<GenerationReport, PodError> {
    let lease = provider.acquire(target, round).await?;
    tracing::info!(provider = provider.name(), pod = %lease.name, repo = %target.repo, repeats, "regenerating");
    let client = PodClient::new(&lease.url, lease.token.clone(), limits.timeouts.clone())?;
    // 404 polls /health before the first batch; a pod that never answers is a deploy failure.
    let mut healthy = client.health().await;
    for _ in 0..2 {
        if healthy {
            break;
        }
        tokio::time::sleep(limits.timeouts.poll).await;
        healthy = client.health().await;
    }
    let result = if healthy {
        run_repeats(&client, prompts, seed, repeats, limits).await
    } else {
        Err(PodError::Transport {
            url: lease.url.clone(),
            reason: "GET /health does not answer 200".into(),
        })
    };
    provider.release(&lease).await;
    result
}

async fn run_repeats(
    client: &PodClient,
    prompts: &[PromptRef],
    seed: u32,
    repeats: u32,
    limits: &AuditLimits,
) -> Result<GenerationReport, PodError> {
    let mut report = GenerationReport {
        repeats: Vec::new(),
        rejected: None,
    };
    for r in 1..=repeats.max(1) {
        let mut rep = Repeat::default();
        for chunk in prompts.chunks(limits.batch_size.max(1)) {
            let batch = client.run_batch(chunk, seed).await?;
            let wall = batch.wall.as_secs_f64();
            rep.generation_secs += wall;
            let per_prompt = wall / chunk.len() as f64;
            for (stem, bytes) in batch.results.outputs {
                if per_prompt > limits.prompt_timeout.as_secs_f64() {
                    rep.failed
                        .insert(stem, format!("generation took {per_prompt:.0} s"));
                } else {
                    rep.prompt_secs.push(per_prompt);
                    rep.outputs.insert(stem, bytes);
                }
            }
            rep.failed.extend(batch.results.failed);
        }
        let mut reasons = Vec::new();
        if rep.generation_secs > limits.total_time.as_secs_f64() {
            reasons.push(format!(
                "Repeat {r}: generation time {:.0} s exceeds {} s",
                rep.generation_secs,
                limits.total_time.as_secs()
            ));
        }
        if rep.failed.len() > limits.max_failed_prompts {
            reasons.push(format!(
                "Repeat {r}: {} failed prompts exceed tolerance ({})",
                rep.failed.len(),
                limits.max_failed_prompts
            ));
        }
        if let (Some(limit), Some(median)) = (limits.median_limit, trimmed_median(&rep.prompt_secs))
        {
            if median > limit.as_secs_f64() {
                reasons.push(format!(
                    "Repeat {r}: trimmed median generation time {median:.1} s exceeds {} s",
                    limit.as_secs()
                ));
            }
        }
        report.repeats.push(rep);
        if !reasons.is_empty() {
            report.rejected = Some(reasons.join("; "));
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_median_drops_six_each_side_above_twelve() {
        assert_eq!(trimmed_median(&[]), None);
        assert_eq!(trimmed_median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(trimmed_median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        // 13 values: the six lowest and six highest go, the middle one stays.
        let mut v: Vec<f64> = (1..=12).map(f64::from).collect();
        v.push(1000.0);
        assert_eq!(trimmed_median(&v), Some(7.0));
    }
}
