//! Stage 2, three sub-judges in parallel — 2A best view (DINOv3 picks each side's view), 2B artifact compare
//! (grids), 2C checklist (decompose, then verify each grid) — combined by the strong-voter override or a
//! 2-of-3 consensus.

use super::answers::{Checklist, Verification};
use super::detail::{
    ChecklistDetail, ChecklistSummary, Choice, FeatureDetail, PenaltyPair, S2Detail,
};
use super::prompts::{self, labels, ChecklistLine};
use super::{ask_penalties, side_penalties, view_from_key, Ctx, PenaltyQuestion};
use crate::bundle::View;
use crate::npz::Embeddings;
use crate::vlm::{ask, Ask, Part};

pub const BV_MIN_GAP: f64 = 1.0;
pub const AC_MIN_GAP: f64 = 1.0;
pub const CL_MIN_GAP: i64 = 2;
pub const MIN_CONSENSUS: usize = 2;
pub const STRONG_BV_GAP: f64 = 2.0;
pub const STRONG_CL_GAP: i64 = 6;

/// The sub-judges' raw signals: penalty differences A − B (None when 2A abstained) and the checklist gap A − B.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct S2Votes {
    pub bv_diff: Option<f64>,
    pub ac_diff: Option<f64>,
    pub cl_gap: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A single very confident sub-judge (or two agreeing ones) decided; `tag` is 404's `bv|+2.5|+cl|+6|` form.
    Strong { choice: Choice, tag: String },
    /// 2-of-3 consensus, or a draw.
    Consensus(Choice),
}

impl Outcome {
    pub fn choice(&self) -> Choice {
        match self {
            Outcome::Strong { choice, .. } | Outcome::Consensus(choice) => *choice,
        }
    }
}

fn penalty_vote(diff: Option<f64>, min_gap: f64) -> Option<Choice> {
    let d = diff?;
    if d.abs() < min_gap {
        None
    } else if d < 0.0 {
        Some(Choice::A)
    } else {
        Some(Choice::B)
    }
}

/// 404's combination of the three sub-judges.
pub fn combine(v: S2Votes) -> Outcome {
    let mut strong: Vec<(Choice, String)> = Vec::new();
    if let Some(d) = v.bv_diff.filter(|d| d.abs() >= STRONG_BV_GAP) {
        strong.push((
            if d < 0.0 { Choice::A } else { Choice::B },
            format!("bv|{d:+.1}|"),
        ));
    }
    if v.cl_gap.abs() >= STRONG_CL_GAP {
        strong.push((
            if v.cl_gap > 0 { Choice::A } else { Choice::B },
            format!("cl|{:+}|", v.cl_gap),
        ));
    }
    if let Some((first, _)) = strong.first() {
        if strong.iter().all(|(c, _)| c == first) {
            let tag = strong
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join("+");
            return Outcome::Strong {
                choice: *first,
                tag,
            };
        }
    }
    let cl_vote = if v.cl_gap.abs() < CL_MIN_GAP {
        None
    } else if v.cl_gap > 0 {
        Some(Choice::A)
    } else {
        Some(Choice::B)
    };
    let votes = [
        penalty_vote(v.bv_diff, BV_MIN_GAP),
        penalty_vote(v.ac_diff, AC_MIN_GAP),
        cl_vote,
    ];
    let count = |c: Choice| votes.iter().filter(|v| **v == Some(c)).count();
    let (na, nb) = (count(Choice::A), count(Choice::B));
    let (top, n, others) = if na >= nb {
        (Choice::A, na, nb)
    } else {
        (Choice::B, nb, na)
    };
    if n >= MIN_CONSENSUS && n > others {
        Outcome::Consensus(top)
    } else {
        Outcome::Consensus(Choice::Draw)
    }
}

pub(crate) struct S2Result {
    pub outcome: Outcome,
    pub detail: S2Detail,
}

pub(crate) async fn run(ctx: &Ctx<'_>) -> S2Result {
    let (bv, ac, cl) = futures::join!(best_view(ctx), artifact_compare(ctx), checklist(ctx));
    let votes = S2Votes {
        bv_diff: bv.map(|p| p.penalty_a - p.penalty_b),
        ac_diff: Some(ac.penalty_a - ac.penalty_b),
        cl_gap: cl.gap,
    };
    let outcome = combine(votes);
    tracing::debug!(?votes, ?outcome, "stage 2");
    let source = match outcome {
        Outcome::Strong { .. } => "strong_voter",
        Outcome::Consensus(_) => "consensus_3",
    };
    S2Result {
        detail: S2Detail {
            choice: outcome.choice(),
            source: source.into(),
            best_view: bv,
            artifact_compare: Some(ac),
            checklist: cl.detail,
        },
        outcome,
    }
}

/// The white view whose embedding is closest to the prompt's (first wins ties), as 404's `_pick_best_view`.
pub fn pick_best_view(e: &Embeddings) -> Option<(View, f32)> {
    let prompt = e.get("prompt")?;
    let mut best: Option<(&str, f32)> = None;
    for (key, v) in e.entries().filter(|(k, _)| k.starts_with("view_")) {
        if v.len() != prompt.len() {
            return None;
        }
        let sim: f32 = v.iter().zip(prompt).map(|(x, y)| x * y).sum();
        if best.is_none_or(|(_, s)| sim > s) {
            best = Some((key, sim));
        }
    }
    let (key, sim) = best?;
    Some((view_from_key(key)?, sim))
}

async fn best_view(ctx: &Ctx<'_>) -> Option<PenaltyPair> {
    let (view_a, _) = pick_best_view(ctx.a.embeddings()?)?;
    let (view_b, _) = pick_best_view(ctx.b.embeddings()?)?;
    let (img_a, img_b) = (ctx.a.white(view_a), ctx.b.white(view_b));
    let ask = |label, first, second| {
        ask_penalties(
            ctx,
            PenaltyQuestion {
                label,
                seed: ctx.seed,
                labels: [
                    labels::IMAGE_PROMPT,
                    labels::FIRST_BEST_VIEW,
                    labels::SECOND_BEST_VIEW,
                ],
                images: [first, second],
                instruction: prompts::BEST_VIEW,
            },
        )
    };
    let ((ab, _), (ba, _)) =
        futures::join!(ask("s2bv_ab", img_a, img_b), ask("s2bv_ba", img_b, img_a));
    let (penalty_a, penalty_b) = side_penalties(&ab, &ba);
    Some(PenaltyPair {
        penalty_a,
        penalty_b,
    })
}

async fn artifact_compare(ctx: &Ctx<'_>) -> PenaltyPair {
    let (grid_a, grid_b) = (ctx.a.grid(), ctx.b.grid());
    let ask = |label, first, second| {
        ask_penalties(
            ctx,
            PenaltyQuestion {
                label,
                seed: ctx.seed,
                labels: [
                    labels::IMAGE_PROMPT,
                    labels::FIRST_GRID,
                    labels::SECOND_GRID,
                ],
                images: [first, second],
                instruction: prompts::ARTIFACT_COMPARE,
            },
        )
    };
    let ((ab, _), (ba, _)) = futures::join!(
        ask("s2ac_ab", grid_a, grid_b),
        ask("s2ac_ba", grid_b, grid_a)
    );
    let (penalty_a, penalty_b) = side_penalties(&ab, &ba);
    PenaltyPair {
        penalty_a,
        penalty_b,
    }
}

struct ChecklistResult {
    gap: i64,
    detail: ChecklistDetail,
}

async fn checklist(ctx: &Ctx<'_>) -> ChecklistResult {
    let parts = [
        Part::text(labels::REFERENCE),
        ctx.prompt.part(),
        Part::text(prompts::DECOMPOSE),
    ];
    let decompose = Ask {
        label: "s2cl_decompose",
        system: prompts::DECOMPOSE_SYSTEM,
        parts: &parts,
        max_tokens: 400,
        seed: ctx.seed,
        temperature: 0.0,
        max_attempts: 5,
    };
    let list: Checklist = match ask(ctx.vlm, ctx.retry, &decompose).await {
        Ok(l) => l,
        Err(e) => {
            ctx.vlm.metrics().ask_failure();
            tracing::error!(error = %e, "checklist decompose failed; the checklist abstains");
            return ChecklistResult {
                gap: 0,
                detail: ChecklistDetail::DecomposeFailed {
                    decompose_failed: true,
                    score_a: 0,
                    score_b: 0,
                    gap: 0,
                    choice: Choice::Draw,
                },
            };
        }
    };
    let lines: Vec<ChecklistLine<'_>> = list
        .features
        .iter()
        .map(|f| ChecklistLine {
            category: f.category.as_str(),
            description: &f.description,
        })
        .collect();
    let instruction = prompts::verify(&list.main_object, &lines);
    let verify = |grid: &crate::image::ImageData, seed: u64| {
        let parts = vec![
            Part::text(labels::REFERENCE),
            ctx.prompt.part(),
            Part::text(labels::MODEL_GRID),
            Part::Image(grid.clone()),
            Part::text(instruction.clone()),
        ];
        async move {
            let q = Ask {
                label: "s2cl_verify",
                system: prompts::VERIFY_SYSTEM,
                parts: &parts,
                max_tokens: 600,
                seed,
                temperature: 0.0,
                max_attempts: 5,
            };
            ask::<Verification>(ctx.vlm, ctx.retry, &q).await
        }
    };
    let (va, vb) = futures::join!(
        verify(ctx.a.grid(), ctx.seed + 100),
        verify(ctx.b.grid(), ctx.seed + 200)
    );
    let summary = ChecklistSummary {
        main_object: list.main_object.clone(),
        features: list
            .features
            .iter()
            .map(|f| f.description.clone())
            .collect(),
    };
    let (va, vb) = match (va, vb) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            ctx.vlm.metrics().ask_failure();
            tracing::error!(error = %e, "checklist verify failed; the checklist abstains");
            return ChecklistResult {
                gap: 0,
                detail: ChecklistDetail::VerifyFailed {
                    checklist: summary,
                    verify_failed: true,
                    score_a: 0,
                    score_b: 0,
                    gap: 0,
                    choice: Choice::Draw,
                },
            };
        }
    };
    let (score_a, score_b) = (va.score(), vb.score());
    let lookup = |v: &Verification, feature: &str| {
        v.checks
            .iter()
            .rev()
            .find(|c| c.feature == feature)
            .map(|c| c.matched)
    };
    ChecklistResult {
        gap: score_a - score_b,
        detail: ChecklistDetail::Scored {
            main_object: list.main_object,
            main_object_correct_a: Some(va.main_object_correct),
            main_object_correct_b: Some(vb.main_object_correct),
            features: summary
                .features
                .iter()
                .map(|f| FeatureDetail {
                    feature: f.clone(),
                    side_a: lookup(&va, f),
                    side_b: lookup(&vb, f),
                })
                .collect(),
            score_a,
            score_b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(bv: Option<f64>, ac: f64, cl: i64) -> Outcome {
        combine(S2Votes {
            bv_diff: bv,
            ac_diff: Some(ac),
            cl_gap: cl,
        })
    }

    #[test]
    fn strong_voters() {
        assert_eq!(
            votes(Some(-2.5), 0.0, 0),
            Outcome::Strong {
                choice: Choice::A,
                tag: "bv|-2.5|".into()
            }
        );
        assert_eq!(
            votes(Some(3.0), 0.0, -7),
            Outcome::Strong {
                choice: Choice::B,
                tag: "bv|+3.0|+cl|-7|".into()
            }
        );
        assert_eq!(
            votes(None, 0.0, 6),
            Outcome::Strong {
                choice: Choice::A,
                tag: "cl|+6|".into()
            }
        );
    }

    #[test]
    fn disagreeing_strong_voters_fall_back_to_consensus() {
        // bv strongly B, cl strongly A, ac abstains: 1-1 → draw.
        assert_eq!(votes(Some(2.0), 0.5, 6), Outcome::Consensus(Choice::Draw));
        // bv strongly B, cl strongly A, ac votes B: B has 2 > 1.
        assert_eq!(votes(Some(2.0), 1.0, 6), Outcome::Consensus(Choice::B));
        // ... and ac votes A: A has 2 > 1.
        assert_eq!(votes(Some(2.0), -3.0, 6), Outcome::Consensus(Choice::A));
    }

    #[test]
    fn consensus_needs_two_and_a_majority() {
        assert_eq!(votes(Some(-1.0), -1.5, 0), Outcome::Consensus(Choice::A));
        assert_eq!(votes(Some(-1.0), 1.5, 3), Outcome::Consensus(Choice::A));
        assert_eq!(votes(Some(-1.0), 0.5, 0), Outcome::Consensus(Choice::Draw));
        assert_eq!(votes(Some(-1.0), 1.0, 0), Outcome::Consensus(Choice::Draw));
        assert_eq!(votes(None, 1.0, -2), Outcome::Consensus(Choice::B));
        assert_eq!(votes(None, 0.0, 1), Outcome::Consensus(Choice::Draw));
    }

    #[test]
    fn best_view_is_the_closest_white_view_first_on_ties() {
        let mut e = Embeddings::new();
        e.insert("prompt", vec![1.0, 0.0]);
        e.insert("view_front_left", vec![0.5, 0.5]);
        e.insert("view_back", vec![0.9, 0.1]);
        e.insert("view_left", vec![0.9, 0.3]);
        assert_eq!(pick_best_view(&e).map(|(v, _)| v), Some(View::Back));
        e.insert("view_top_down", vec![0.0, 1.0, 3.0]);
        assert_eq!(pick_best_view(&e), None, "mismatched lengths abstain");
        let mut no_prompt = Embeddings::new();
        no_prompt.insert("view_back", vec![1.0]);
        assert_eq!(pick_best_view(&no_prompt), None);
    }
}
