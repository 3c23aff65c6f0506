//! Stage 1, front prompt match: 4 front angles × (AB, BA) = 8 questions, aggregated over the consistent angles
//! with the both-bad, draw-threshold and split checks.

use super::detail::{AngleDetail, Choice, S1Detail};
use super::prompts::{self, labels};
use super::{ask_penalties, side_penalties, Ctx, PenaltyQuestion};
use crate::bundle::View;

pub const ANGLES: [(View, f64); 4] = [
    (View::FrontLeft, 1.0),
    (View::FrontRight, 1.0),
    (View::FrontBelow, 1.0),
    (View::FrontAbove, 1.0),
];
pub const DRAW_THRESHOLD: f64 = 0.7;
pub const BOTH_BAD_AVG: f64 = 8.0;
/// `max(1.5, DRAW_THRESHOLD)`.
pub const BOTH_BAD_MAX_DIFF: f64 = 1.5;
pub const SPLIT_CONSISTENCY: f64 = 0.65;
pub const SPLIT_MIN_SIGNED: usize = 3;

/// One angle after its AB and BA answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnglePenalties {
    pub weight: f64,
    pub pen_a: f64,
    pub pen_b: f64,
    /// Either answer fell back, or AB and BA disagree on the sign of A − B.
    pub contradictory: bool,
}

impl AnglePenalties {
    /// From raw answers: `ab` shows A as model 1, `ba` shows B as model 1.
    pub fn from_answers(weight: f64, ab: (i64, i64), ba: (i64, i64), any_fallback: bool) -> Self {
        let diff_ab = ab.0 - ab.1;
        let diff_ba = ba.1 - ba.0;
        let opposite = (diff_ab > 0 && diff_ba < 0) || (diff_ab < 0 && diff_ba > 0);
        Self {
            weight,
            pen_a: (ab.0 + ba.1) as f64 / 2.0,
            pen_b: (ab.1 + ba.0) as f64 / 2.0,
            contradictory: any_fallback || opposite,
        }
    }
}

/// 404's aggregation; the string says why (for logs).
pub fn aggregate(angles: &[AnglePenalties]) -> (Choice, String) {
    let consistent: Vec<&AnglePenalties> = angles.iter().filter(|a| !a.contradictory).collect();
    if consistent.is_empty() {
        return (
            Choice::Draw,
            format!("all {} angles contradictory", angles.len()),
        );
    }
    let total_w: f64 = consistent.iter().map(|a| a.weight).sum();
    let wpa = consistent.iter().map(|a| a.weight * a.pen_a).sum::<f64>() / total_w;
    let wpb = consistent.iter().map(|a| a.weight * a.pen_b).sum::<f64>() / total_w;
    let diff = wpa - wpb;
    let avg = (wpa + wpb) / 2.0;
    if avg >= BOTH_BAD_AVG && diff.abs() <= BOTH_BAD_MAX_DIFF {
        return (
            Choice::Draw,
            format!("wpA={wpa:.2} wpB={wpb:.2} avg={avg:.2}: both bad"),
        );
    }
    if diff.abs() <= DRAW_THRESHOLD {
        return (
            Choice::Draw,
            format!(
                "wpA={wpa:.2} wpB={wpb:.2}: |diff| {:.2} <= {DRAW_THRESHOLD}",
                diff.abs()
            ),
        );
    }
    let (mut w_a, mut w_b, mut n_signed) = (0.0, 0.0, 0usize);
    for a in &consistent {
        if a.pen_a == a.pen_b {
            continue;
        }
        n_signed += 1;
        if a.pen_a > a.pen_b {
            w_b += a.weight;
        } else {
            w_a += a.weight;
        }
    }
    let total = w_a + w_b;
    let consistency = if total == 0.0 {
        1.0
    } else {
        (w_a - w_b).abs() / total
    };
    if n_signed >= SPLIT_MIN_SIGNED && consistency < SPLIT_CONSISTENCY {
        return (
            Choice::Draw,
            format!("split wA={w_a:.1} wB={w_b:.1} consistency={consistency:.2}"),
        );
    }
    let choice = if diff < 0.0 { Choice::A } else { Choice::B };
    (choice, format!("wpA={wpa:.2} wpB={wpb:.2} diff={diff:+.2}"))
}

pub(crate) struct S1Result {
    pub choice: Choice,
    pub detail: S1Detail,
}

pub(crate) async fn run(ctx: &Ctx<'_>) -> S1Result {
    let descs: Vec<String> = ANGLES
        .iter()
        .map(|(v, _)| prompts::prompt_match(prompts::front_angle_desc(*v)))
        .collect();
    let questions = ANGLES
        .iter()
        .zip(&descs)
        .flat_map(|((view, _), instruction)| {
            let (a, b) = (ctx.a.white(*view), ctx.b.white(*view));
            [(a, b), (b, a)].map(|(first, second)| {
                ask_penalties(
                    ctx,
                    PenaltyQuestion {
                        label: "s1_prompt_match",
                        seed: ctx.seed,
                        labels: [labels::REFERENCE_TARGET, labels::MODEL_1, labels::MODEL_2],
                        images: [first, second],
                        instruction,
                    },
                )
            })
        });
    let answers = futures::future::join_all(questions).await;
    let mut angles = Vec::with_capacity(ANGLES.len());
    let mut details = Vec::with_capacity(ANGLES.len());
    for (i, (view, weight)) in ANGLES.iter().enumerate() {
        let (ab, ab_fallback) = &answers[2 * i];
        let (ba, ba_fallback) = &answers[2 * i + 1];
        let angle = AnglePenalties::from_answers(
            *weight,
            (ab.penalty_1, ab.penalty_2),
            (ba.penalty_1, ba.penalty_2),
            *ab_fallback || *ba_fallback,
        );
        debug_assert_eq!((angle.pen_a, angle.pen_b), side_penalties(ab, ba));
        details.push(AngleDetail {
            label: view.name().to_string(),
            pen_a: angle.pen_a,
            pen_b: angle.pen_b,
        });
        angles.push(angle);
    }
    let (choice, why) = aggregate(&angles);
    tracing::debug!(choice = choice.as_str(), why, "stage 1");
    S1Result {
        choice,
        detail: S1Detail {
            choice,
            n_total: angles.len(),
            n_consistent: angles.iter().filter(|a| !a.contradictory).count(),
            angles: details,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn angle(pen_a: f64, pen_b: f64) -> AnglePenalties {
        AnglePenalties {
            weight: 1.0,
            pen_a,
            pen_b,
            contradictory: false,
        }
    }

    #[test]
    fn clear_winner_and_draw_threshold() {
        assert_eq!(aggregate(&[angle(2.0, 5.0); 4]).0, Choice::A);
        assert_eq!(aggregate(&[angle(6.0, 3.0); 4]).0, Choice::B);
        // Penalties average in steps of 0.125: |diff| 0.625 is a draw, 0.75 is not.
        let near = [
            angle(3.0, 3.5),
            angle(3.0, 3.5),
            angle(3.0, 3.5),
            angle(3.0, 4.0),
        ];
        assert_eq!(aggregate(&near).0, Choice::Draw);
        assert_eq!(
            aggregate(&[
                angle(3.0, 4.0),
                angle(3.0, 3.5),
                angle(3.0, 3.5),
                angle(3.0, 4.0)
            ])
            .0,
            Choice::A
        );
    }

    #[test]
    fn both_bad_is_a_draw_unless_the_gap_is_wide() {
        assert_eq!(aggregate(&[angle(9.0, 7.5); 4]).0, Choice::Draw);
        assert_eq!(aggregate(&[angle(10.0, 8.0); 4]).0, Choice::B);
    }

    #[test]
    fn split_angles_are_a_draw() {
        // 2 angles for A, 2 for B: consistency 0 with 4 signed angles, though the weighted diff is large.
        let split = [
            angle(0.0, 5.0),
            angle(0.0, 5.0),
            angle(2.0, 1.0),
            angle(2.0, 1.0),
        ];
        assert_eq!(aggregate(&split).0, Choice::Draw);
        // Only 2 signed angles: the split check does not apply.
        let few = [
            angle(0.0, 5.0),
            angle(2.0, 1.0),
            angle(3.0, 3.0),
            angle(3.0, 3.0),
        ];
        assert_eq!(aggregate(&few).0, Choice::A);
    }

    #[test]
    fn contradictory_angles_are_ignored() {
        let a = AnglePenalties::from_answers(1.0, (2, 5), (3, 6), false);
        // AB says A better (-3), BA says A worse (6 - 3 = +3): opposite signs.
        assert!(a.contradictory);
        let b = AnglePenalties::from_answers(1.0, (2, 5), (6, 3), false);
        assert!(!b.contradictory);
        assert_eq!((b.pen_a, b.pen_b), (2.5, 5.5));
        let zero = AnglePenalties::from_answers(1.0, (4, 4), (6, 3), false);
        assert!(!zero.contradictory, "a zero diff is not a strict opposite");
        assert!(AnglePenalties::from_answers(1.0, (5, 5), (5, 5), true).contradictory);
        assert_eq!(aggregate(&[a; 4]).0, Choice::Draw);
        let mut mixed = [angle(5.0, 5.0); 4];
        mixed[0] = angle(1.0, 9.0);
        for m in mixed.iter_mut().skip(1) {
            m.contradictory = true;
        }
        assert_eq!(aggregate(&mixed).0, Choice::A);
    }
}
