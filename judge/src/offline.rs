//! The offline judge, for development and `sn17 devnet` only: deterministic, needs no VLM, and says in every
//! verdict that it is not a production judge. It scores each side by how similar its front renders are to the
//! prompt image — DINOv3 cosine when an embedder is given, else a foreground colour-histogram intersection —
//! and calls a winner when the gap exceeds a threshold. Production code paths get it only through
//! [`select_judge`] with `allow_offline`, never by default.

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::bundle::{View, ViewBundle};
use crate::dino::{cosine_similarity, Embedder};
use crate::duel::{
    Detail, DuelInput, DuelJudge, DuelOutcome, DuelWinner, JudgeKind, MultiStageJudge,
};
use crate::error::{Error, Result};
use crate::image::{ImageData, ImageLimits, RgbImage};
use crate::vlm::{HttpVlm, VlmConfig};

/// Every offline verdict carries this in `detail.reason`.
pub const OFFLINE_LABEL: &str = "OFFLINE JUDGE (development only, not a production verdict)";

/// Similarity gap below which the offline judge calls a draw.
pub const DRAW_GAP: f32 = 0.02;

const BINS_PER_CHANNEL: usize = 4;
/// Pixels this close to pure white (render background) or fully black are not foreground.
const WHITE_CUTOFF: u8 = 245;

#[derive(Clone)]
pub struct OfflineJudge {
    embedder: Option<Arc<Embedder>>,
    limits: ImageLimits,
}

impl OfflineJudge {
    pub fn new(embedder: Option<Arc<Embedder>>) -> Self {
        Self {
            embedder,
            limits: ImageLimits::default(),
        }
    }

    fn method(&self) -> &'static str {
        if self.embedder.is_some() {
            "DINOv3 cosine similarity of the best front view to the prompt"
        } else {
            "colour-histogram similarity of the best front view to the prompt"
        }
    }

    /// Similarity of a side to the prompt: the best of its four front white views.
    fn side_score(&self, prompt: &ImageData, side: &ViewBundle) -> Result<f32> {
        let views: Vec<ImageData> = View::GRAY.iter().map(|v| side.white(*v).clone()).collect();
        match &self.embedder {
            Some(e) => {
                let mut images = vec![prompt.clone()];
                images.extend(views);
                let vecs = e.embed(&images)?;
                Ok(vecs[1..]
                    .iter()
                    .map(|v| cosine_similarity(&vecs[0], v))
                    .fold(f32::MIN, f32::max))
            }
            None => {
                let p = histogram(&prompt.decode_rgb8(&self.limits)?);
                let mut best = f32::MIN;
                for v in &views {
                    best = best.max(intersection(&p, &histogram(&v.decode_rgb8(&self.limits)?)));
                }
                Ok(best)
            }
        }
    }

    /// Judges synchronously (CPU work); [`DuelJudge::judge`] runs this on a blocking thread.
    pub fn evaluate(&self, input: &DuelInput<'_>) -> Result<DuelOutcome> {
        let labelled = |winner, text: String| DuelOutcome {
            winner,
            detail: Some(Detail {
                reason: Some(format!("{OFFLINE_LABEL}: {text}")),
                decided_by: Some("offline".into()),
                ..Default::default()
            }),
        };
        let (a, b) = match (input.left, input.right) {
            (None, None) => {
                return Ok(labelled(
                    DuelWinner::Draw,
                    "no previews on either side".into(),
                ))
            }
            (None, Some(_)) => {
                return Ok(labelled(DuelWinner::Right, "no preview from left".into()))
            }
            (Some(_), None) => {
                return Ok(labelled(DuelWinner::Left, "no preview from right".into()))
            }
            (Some(a), Some(b)) => (a, b),
        };
        let Some(prompt) = input.prompt.image() else {
            return Err(Error::DinoInput(
                "the offline judge compares renders with a prompt image; got text".into(),
            ));
        };
        let sa = self.side_score(prompt, a)?;
        let sb = self.side_score(prompt, b)?;
        let winner = if (sa - sb).abs() <= DRAW_GAP {
            DuelWinner::Draw
        } else if sa > sb {
            DuelWinner::Left
        } else {
            DuelWinner::Right
        };
        Ok(labelled(
            winner,
            format!("{}: A {sa:.3} vs B {sb:.3}", self.method()),
        ))
    }
}

impl DuelJudge for OfflineJudge {
    fn kind(&self) -> JudgeKind {
        JudgeKind::Offline {
            label: if self.embedder.is_some() {
                "offline-dinov3"
            } else {
                "offline-histogram"
            }
            .into(),
        }
    }

    fn judge<'a>(&'a self, input: DuelInput<'a>) -> BoxFuture<'a, Result<DuelOutcome>> {
        // Decoding and histogramming (or a DINOv3 forward pass) is CPU work: run it off the async workers.
        let this = self.clone();
        let prompt = input.prompt.clone();
        let (left, right, seed) = (input.left.cloned(), input.right.cloned(), input.seed);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                this.evaluate(&DuelInput {
                    prompt: &prompt,
                    left: left.as_ref(),
                    right: right.as_ref(),
                    seed,
                })
            })
            .await
            .map_err(|_| Error::Cancelled)?
        })
    }
}

/// A normalised joint RGB histogram of foreground pixels.
fn histogram(img: &RgbImage) -> Vec<f32> {
    let n = BINS_PER_CHANNEL;
    let mut h = vec![0f32; n * n * n];
    let mut count = 0f32;
    for px in img.pixels.chunks_exact(3) {
        if px.iter().all(|c| *c >= WHITE_CUTOFF) {
            continue;
        }
        let bin = |c: u8| usize::from(c) * n / 256;
        h[(bin(px[0]) * n + bin(px[1])) * n + bin(px[2])] += 1.0;
        count += 1.0;
    }
    if count > 0.0 {
        h.iter_mut().for_each(|x| *x /= count);
    }
    h
}

fn intersection(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x.min(*y)).sum()
}

/// The judge a node should use: the VLM when one is configured; the offline judge only when explicitly allowed
/// (development, devnet), with a warning; otherwise [`Error::NoVlmConfigured`].
pub fn select_judge(
    vlm: Option<VlmConfig>,
    allow_offline: bool,
    embedder: Option<Arc<Embedder>>,
) -> Result<Arc<dyn DuelJudge>> {
    match vlm {
        Some(cfg) => Ok(Arc::new(MultiStageJudge::new(Arc::new(HttpVlm::new(cfg)?)))),
        None if allow_offline => {
            tracing::warn!("no VLM configured: using the OFFLINE judge; its verdicts are not production verdicts");
            Ok(Arc::new(OfflineJudge::new(embedder)))
        }
        None => Err(Error::NoVlmConfigured),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_ignores_white_background() {
        let img = RgbImage {
            width: 3,
            height: 1,
            pixels: vec![255, 255, 255, 250, 250, 250, 200, 10, 10],
        };
        let h = histogram(&img);
        assert_eq!(h.iter().sum::<f32>(), 1.0);
        assert_eq!(h[(3 * 4) * 4], 1.0);
        assert_eq!(intersection(&h, &h), 1.0);
    }

    #[test]
    fn selecting_a_judge_never_falls_back_silently() {
        assert!(matches!(
            select_judge(None, false, None),
            Err(Error::NoVlmConfigured)
        ));
        let offline = select_judge(None, true, None).unwrap();
        assert!(!offline.kind().is_production());
        let vlm = select_judge(
            Some(VlmConfig::new("http://127.0.0.1:9/v1", "m")),
            false,
            None,
        )
        .unwrap();
        assert!(vlm.kind().is_production());
    }
}
