//! Playing a whole match as 404 does (`match_execution.py`): one duel at a time in prompt order (so the VLM's
//! prefix cache stays warm), bundles loaded lazily per duel, a failed duel recorded as `skipped`, the report
//! sorted by stem; a match interrupted by shutdown is discarded, not reported.

use futures::future::BoxFuture;

use crate::bundle::ViewBundle;
use crate::duel::{DuelInput, DuelJudge, DuelWinner, Prompt};
use crate::error::{Error, Result};
use crate::image::ImageData;
use crate::rules::{DuelReport, MatchReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// One prompt of the match, with the URLs the report records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuelCase {
    pub name: String,
    pub prompt_url: String,
    pub left_js: Option<String>,
    pub left_png: Option<String>,
    pub right_js: Option<String>,
    pub right_png: Option<String>,
}

/// Where the runner gets images: the prompt, and each side's bundle (`None` when missing or unrenderable).
pub trait BundleSource: Send + Sync {
    fn prompt<'a>(&'a self, case: &'a DuelCase) -> BoxFuture<'a, Option<ImageData>>;
    fn bundle<'a>(&'a self, side: Side, case: &'a DuelCase) -> BoxFuture<'a, Option<ViewBundle>>;
}

/// Plays every case in order; `should_stop` is polled between duels.
pub async fn run_match(
    judge: &dyn DuelJudge,
    source: &dyn BundleSource,
    left: &str,
    right: &str,
    cases: &[DuelCase],
    seed: u64,
    should_stop: &(dyn Fn() -> bool + Send + Sync),
) -> Result<MatchReport> {
    let mut duels = Vec::with_capacity(cases.len());
    for case in cases {
        if should_stop() {
            return Err(Error::Cancelled);
        }
        let outcome = match source.prompt(case).await {
            None => {
                tracing::warn!(duel = %case.name, "prompt image unavailable; duel skipped");
                None
            }
            Some(img) => {
                let prompt = Prompt::Image(img);
                let (l, r) = futures::join!(
                    source.bundle(Side::Left, case),
                    source.bundle(Side::Right, case)
                );
                let input = DuelInput {
                    prompt: &prompt,
                    left: l.as_ref(),
                    right: r.as_ref(),
                    seed,
                };
                match judge.judge(input).await {
                    Ok(o) => Some(o),
                    Err(e) => {
                        tracing::error!(duel = %case.name, error = %e, "judge failed; duel skipped");
                        None
                    }
                }
            }
        };
        let (winner, detail) = match outcome {
            Some(o) => (o.winner, o.detail),
            None => (DuelWinner::Skipped, None),
        };
        duels.push(DuelReport {
            name: case.name.clone(),
            prompt: case.prompt_url.clone(),
            left_js: case.left_js.clone(),
            left_png: case.left_png.clone(),
            right_js: case.right_js.clone(),
            right_png: case.right_png.clone(),
            winner,
            detail,
        });
    }
    if should_stop() {
        return Err(Error::Cancelled);
    }
    Ok(MatchReport::new(left, right, duels))
}
