//! Stage 4, side guard (whenever S1 was a draw): for each side, front_left against right, back, left and
//! top_down — "is this view garbage?" — with 3 of 4 garbage flagging the side, then the step-down rule.

use super::answers::{SideGuard, Verdict};
use super::detail::{Choice, PerAngle, S4Detail, Sides};
use super::prompts::{self, labels};
use super::Ctx;
use crate::bundle::{View, ViewBundle};
use crate::vlm::{ask_or, Ask, Part};

pub const K_THRESHOLD: usize = 3;
pub const SIDE_ANGLES: [View; 4] = [View::Right, View::Back, View::Left, View::TopDown];
const SEED_OFFSET_A: u64 = 5000;
const SEED_OFFSET_B: u64 = 6000;

/// Each side's four verdicts, in [`SIDE_ANGLES`] order.
pub(crate) type SideVerdicts = Sides<[Verdict; 4]>;

pub(crate) async fn ask_all(ctx: &Ctx<'_>) -> SideVerdicts {
    let (a, b) = futures::join!(
        ask_side(ctx, ctx.a, SEED_OFFSET_A),
        ask_side(ctx, ctx.b, SEED_OFFSET_B)
    );
    Sides { a, b }
}

async fn ask_side(ctx: &Ctx<'_>, side: &ViewBundle, offset: u64) -> [Verdict; 4] {
    let front = side.white(View::FrontLeft);
    let asks = SIDE_ANGLES.iter().enumerate().map(|(i, view)| {
        let desc = prompts::front_angle_desc(*view);
        let parts = vec![
            Part::text(labels::FRONT_VIEW),
            Part::Image(front.clone()),
            Part::text(labels::same_model_from(desc)),
            Part::Image(side.white(*view).clone()),
            Part::text(prompts::side_guard(desc)),
        ];
        let seed = ctx.seed + offset + 100 * i as u64;
        async move {
            let q = Ask {
                label: "s4_per_angle",
                system: prompts::SIDE_GUARD_SYSTEM,
                parts: &parts,
                max_tokens: 220,
                seed,
                temperature: 0.0,
                max_attempts: 4,
            };
            ask_or(ctx.vlm, ctx.retry, &q, SideGuard::neutral())
                .await
                .0
                .verdict
        }
    });
    let v = futures::future::join_all(asks).await;
    [v[0], v[1], v[2], v[3]]
}

pub fn side_verdict(verdicts: &[Verdict; 4]) -> Verdict {
    if verdicts.iter().filter(|v| **v == Verdict::Garbage).count() >= K_THRESHOLD {
        Verdict::Garbage
    } else {
        Verdict::Ok
    }
}

/// 404's step-down: a flagged winner falls to a draw; a draw goes to the unflagged side.
pub fn step_down(primary: Choice, a: Verdict, b: Verdict) -> Choice {
    match (a == Verdict::Garbage, b == Verdict::Garbage) {
        (true, false) => match primary {
            Choice::A => Choice::Draw,
            Choice::Draw => Choice::B,
            Choice::B => Choice::B,
        },
        (false, true) => match primary {
            Choice::B => Choice::Draw,
            Choice::Draw => Choice::A,
            Choice::A => Choice::A,
        },
        _ => primary,
    }
}

pub(crate) fn finish(primary: Choice, v: &SideVerdicts) -> S4Detail {
    let per = |x: &[Verdict; 4]| PerAngle {
        right: x[0],
        back: x[1],
        left: x[2],
        top_down: x[3],
    };
    let (a, b) = (side_verdict(&v.a), side_verdict(&v.b));
    S4Detail {
        choice: step_down(primary, a, b),
        side_verdicts: Sides { a, b },
        per_angle: Sides {
            a: per(&v.a),
            b: per(&v.b),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Garbage as G, Ok as O};

    #[test]
    fn three_of_four_flags_a_side() {
        assert_eq!(side_verdict(&[G, G, G, O]), G);
        assert_eq!(side_verdict(&[G, G, O, O]), O);
        assert_eq!(side_verdict(&[G; 4]), G);
    }

    #[test]
    fn step_down_table() {
        for p in [Choice::A, Choice::B, Choice::Draw] {
            assert_eq!(step_down(p, O, O), p);
            assert_eq!(step_down(p, G, G), p);
        }
        assert_eq!(step_down(Choice::A, G, O), Choice::Draw);
        assert_eq!(step_down(Choice::Draw, G, O), Choice::B);
        assert_eq!(step_down(Choice::B, G, O), Choice::B);
        assert_eq!(step_down(Choice::B, O, G), Choice::Draw);
        assert_eq!(step_down(Choice::Draw, O, G), Choice::A);
        assert_eq!(step_down(Choice::A, O, G), Choice::A);
    }
}
