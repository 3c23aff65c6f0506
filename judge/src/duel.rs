//! One prompt's duel between two sides, as 404's multi-stage judge runs it (competition.md §7.3): the preview
//! gate, S1 front prompt match, S2 three sub-judges, S3 gray rescue, S4 side guard, and the explain call, giving
//! the winner and 404's `detail` record.

pub mod answers;
pub mod detail;
pub mod pixels;
pub mod prompts;
mod stage1;
mod stage2;
mod stage3;
mod stage4;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::bundle::{View, ViewBundle};
use crate::error::Result;
use crate::image::{ImageData, ImageLimits};
use crate::vlm::{ask_or, Ask, Part, RetryPolicy, Vlm};

pub use answers::Penalties;
pub use detail::{Choice, Detail};
pub use stage1::{aggregate as s1_aggregate, AnglePenalties};
pub use stage2::{combine as s2_combine, pick_best_view, S2Votes};
pub use stage4::step_down as s4_step_down;

/// How a duel ended, as written in match reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuelWinner {
    Left,
    Right,
    Draw,
    /// The judge failed or was cancelled; scores 0 and has no detail.
    Skipped,
}

impl DuelWinner {
    /// Right +1, left −1, draw and skipped 0.
    pub fn score(self) -> i64 {
        match self {
            DuelWinner::Right => 1,
            DuelWinner::Left => -1,
            DuelWinner::Draw | DuelWinner::Skipped => 0,
        }
    }

    pub fn from_choice(c: Choice) -> Self {
        match c {
            Choice::A => DuelWinner::Left,
            Choice::B => DuelWinner::Right,
            Choice::Draw => DuelWinner::Draw,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DuelWinner::Left => "left",
            DuelWinner::Right => "right",
            DuelWinner::Draw => "draw",
            DuelWinner::Skipped => "skipped",
        }
    }
}

/// The target: an image (404's competition is image-to-3D) or, for development, a text description.
#[derive(Debug, Clone)]
pub enum Prompt {
    Image(ImageData),
    Text(String),
}

impl Prompt {
    /// The part that stands where the reference image goes.
    pub(crate) fn part(&self) -> Part {
        match self {
            Prompt::Image(img) => Part::Image(img.clone()),
            Prompt::Text(t) => Part::Text(format!(
                "(no image: the target object is described in words) {t}"
            )),
        }
    }

    pub fn image(&self) -> Option<&ImageData> {
        match self {
            Prompt::Image(img) => Some(img),
            Prompt::Text(_) => None,
        }
    }
}

/// What one duel reads. A side is `None` when its output is missing, failed or could not be rendered: it loses
/// the prompt (both missing is a draw).
#[derive(Debug, Clone, Copy)]
pub struct DuelInput<'a> {
    pub prompt: &'a Prompt,
    pub left: Option<&'a ViewBundle>,
    pub right: Option<&'a ViewBundle>,
    /// The round seed (`seed.json`); every call's seed derives from it.
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuelOutcome {
    pub winner: DuelWinner,
    /// `None` only for skipped duels.
    pub detail: Option<Detail>,
}

impl DuelOutcome {
    pub fn skipped() -> Self {
        Self {
            winner: DuelWinner::Skipped,
            detail: None,
        }
    }
}

/// Which judge produced a verdict. Only VLM verdicts are production verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JudgeKind {
    Vlm { model: String },
    Offline { label: String },
}

impl JudgeKind {
    pub fn is_production(&self) -> bool {
        matches!(self, JudgeKind::Vlm { .. })
    }

    /// A short tag recorded with stored results: `vlm:<model>` or `offline`.
    pub fn label(&self) -> String {
        match self {
            JudgeKind::Vlm { model } => format!("vlm:{model}"),
            JudgeKind::Offline { .. } => "offline".into(),
        }
    }
}

/// The seam the round engine judges through.
pub trait DuelJudge: Send + Sync {
    fn kind(&self) -> JudgeKind;
    /// Judges one prompt. An `Err` means the duel is `skipped` (404 records it with `detail: null`).
    fn judge<'a>(&'a self, input: DuelInput<'a>) -> BoxFuture<'a, Result<DuelOutcome>>;
}

/// 404's multi-stage VLM judge.
pub struct MultiStageJudge {
    vlm: Arc<dyn Vlm>,
    retry: RetryPolicy,
    explain: bool,
    image_limits: ImageLimits,
}

impl MultiStageJudge {
    pub fn new(vlm: Arc<dyn Vlm>) -> Self {
        Self {
            vlm,
            retry: RetryPolicy::default(),
            explain: true,
            image_limits: ImageLimits::default(),
        }
    }

    /// Backoff between attempts (tests shorten it).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The explain call is informational (it fills `detail.issues`); 404 always makes it.
    pub fn with_explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    pub fn vlm(&self) -> &Arc<dyn Vlm> {
        &self.vlm
    }

    /// Runs every stage that applies. Never fails: calls with a neutral fallback fall back, and the checklist's
    /// failures are recorded as 404 records them.
    pub async fn evaluate(&self, input: DuelInput<'_>) -> DuelOutcome {
        let (a, b) = match (input.left, input.right) {
            (None, None) => return gate(DuelWinner::Draw, "no previews on either side"),
            (None, Some(_)) => return gate(DuelWinner::Right, "no preview from left"),
            (Some(_), None) => return gate(DuelWinner::Left, "no preview from right"),
            (Some(a), Some(b)) => (a, b),
        };
        prefetch_data_urls(a, b);
        let ctx = Ctx {
            vlm: &*self.vlm,
            retry: &self.retry,
            prompt: input.prompt,
            a,
            b,
            seed: input.seed,
            image_limits: &self.image_limits,
        };
        let explain = async {
            if self.explain {
                Some(explain(&ctx).await)
            } else {
                None
            }
        };
        let ((winner, mut detail), issues) = futures::join!(run_stages(&ctx), explain);
        detail.issues = issues;
        DuelOutcome {
            winner,
            detail: Some(detail),
        }
    }
}

impl DuelJudge for MultiStageJudge {
    fn kind(&self) -> JudgeKind {
        JudgeKind::Vlm {
            model: self.vlm.model().to_string(),
        }
    }

    fn judge<'a>(&'a self, input: DuelInput<'a>) -> BoxFuture<'a, Result<DuelOutcome>> {
        Box::pin(async move { Ok(self.evaluate(input).await) })
    }
}

/// Base64-encodes, on a blocking thread, the images this duel may send beyond those the duel task encodes first
/// (the prompt and A's front views): B's front views, then everything later stages use. The work overlaps
/// Stage 1's model latency; each image is encoded once however many calls show it.
fn prefetch_data_urls(a: &ViewBundle, b: &ViewBundle) {
    let fronts = View::GRAY.iter().map(|v| b.white(*v).clone());
    let later = [a, b].into_iter().flat_map(|s| {
        let rest = View::WHITE[4..].iter().map(|v| s.white(*v).clone());
        let gray = s.gray(View::FrontLeft).cloned();
        rest.chain(gray).chain([s.grid().clone()])
    });
    let images: Vec<ImageData> = fronts.chain(later).collect();
    // Detached: nothing waits for it, and an image a call needs first is simply encoded by that call.
    drop(tokio::task::spawn_blocking(move || {
        for img in images {
            img.data_url();
        }
    }));
}

fn gate(winner: DuelWinner, reason: &str) -> DuelOutcome {
    DuelOutcome {
        winner,
        detail: Some(Detail {
            reason: Some(reason.to_string()),
            ..Default::default()
        }),
    }
}

/// Everything a stage needs.
pub(crate) struct Ctx<'a> {
    pub vlm: &'a dyn Vlm,
    pub retry: &'a RetryPolicy,
    pub prompt: &'a Prompt,
    pub a: &'a ViewBundle,
    pub b: &'a ViewBundle,
    pub seed: u64,
    pub image_limits: &'a ImageLimits,
}

/// Attempts and tokens for penalty questions (S1, S2A, S2B, S3).
const PENALTY_ATTEMPTS: u32 = 5;
const PENALTY_MAX_TOKENS: u32 = 1024;

/// One AB or BA penalty question: reference, model 1, model 2, instruction.
pub(crate) struct PenaltyQuestion<'a> {
    pub label: &'a str,
    pub seed: u64,
    pub labels: [&'a str; 3],
    /// Model 1's and model 2's images (the reference is the prompt).
    pub images: [&'a ImageData; 2],
    pub instruction: &'a str,
}

/// Asks a penalty question with 404's neutral fallback; the flag says whether the fallback was used.
pub(crate) async fn ask_penalties(ctx: &Ctx<'_>, q: PenaltyQuestion<'_>) -> (Penalties, bool) {
    let parts = [
        Part::text(q.labels[0]),
        ctx.prompt.part(),
        Part::text(q.labels[1]),
        Part::Image(q.images[0].clone()),
        Part::text(q.labels[2]),
        Part::Image(q.images[1].clone()),
        Part::text(q.instruction),
    ];
    let ask = Ask {
        label: q.label,
        system: prompts::EVALUATOR_SYSTEM,
        parts: &parts,
        max_tokens: PENALTY_MAX_TOKENS,
        seed: q.seed,
        temperature: 0.0,
        max_attempts: PENALTY_ATTEMPTS,
    };
    ask_or(ctx.vlm, ctx.retry, &ask, Penalties::neutral()).await
}

/// Averages an AB and a BA answer into (pen_a, pen_b).
pub(crate) fn side_penalties(ab: &Penalties, ba: &Penalties) -> (f64, f64) {
    (
        (ab.penalty_1 + ba.penalty_2) as f64 / 2.0,
        (ab.penalty_2 + ba.penalty_1) as f64 / 2.0,
    )
}

async fn run_stages(ctx: &Ctx<'_>) -> (DuelWinner, Detail) {
    let mut detail = Detail::default();
    let s1 = stage1::run(ctx).await;
    detail.s1 = Some(s1.detail.clone());
    if s1.choice != Choice::Draw {
        detail.decided_by = Some("S1".into());
        return (DuelWinner::from_choice(s1.choice), detail);
    }
    // S4's questions do not depend on S2/S3, so they are asked alongside; only its step-down waits for them.
    // S3's pixel gate likewise decodes the gray renders while S2 waits on the model.
    let gate = stage3::start_gate(ctx);
    let (s2, s4_verdicts) = futures::join!(stage2::run(ctx), stage4::ask_all(ctx));
    detail.s2 = Some(s2.detail.clone());
    let (primary, decided_by) = match s2.outcome {
        stage2::Outcome::Strong { choice, tag } => (choice, format!("S2 strong_voter [{tag}]")),
        stage2::Outcome::Consensus(choice) if choice != Choice::Draw => {
            (choice, "S2 consensus".to_string())
        }
        stage2::Outcome::Consensus(_) => {
            let s3 = stage3::run(ctx, gate).await;
            detail.s3 = Some(s3);
            match s3.choice {
                Some(c) => (c, "S3 gray-rescue".to_string()),
                None => (Choice::Draw, "S3 (gate did not fire) → draw".to_string()),
            }
        }
    };
    let s4 = stage4::finish(primary, &s4_verdicts);
    detail.s4 = Some(s4);
    detail.decided_by = Some(if s4.choice != primary {
        format!("S4 step-down (was {})", primary.as_str())
    } else {
        decided_by
    });
    (DuelWinner::from_choice(s4.choice), detail)
}

/// The informational summary stored in `detail.issues`; "" when every attempt fails.
async fn explain(ctx: &Ctx<'_>) -> String {
    let parts = [
        Part::text(prompts::labels::REFERENCE),
        ctx.prompt.part(),
        Part::text(prompts::labels::MODEL_A_GRID),
        Part::Image(ctx.a.grid().clone()),
        Part::text(prompts::labels::MODEL_B_GRID),
        Part::Image(ctx.b.grid().clone()),
        Part::text(prompts::EXPLAIN),
    ];
    let ask = Ask {
        label: "explain",
        system: prompts::EXPLAIN_SYSTEM,
        parts: &parts,
        max_tokens: 300,
        seed: ctx.seed,
        temperature: 0.0,
        max_attempts: 3,
    };
    let fallback = answers::IssuesSummary {
        issues: String::new(),
    };
    ask_or(ctx.vlm, ctx.retry, &ask, fallback).await.0.issues
}

/// The white view named in an `embeddings.npz` key (`view_<name>`).
pub(crate) fn view_from_key(key: &str) -> Option<View> {
    key.strip_prefix("view_").and_then(View::from_name)
}
