//! Stage 3, gray rescue (only after an S2 draw): when the pooled gray `front_left` renders are pale and grayish,
//! ask the Stage-1 question on the gray renders (AB seed s, BA seed s+7); a consistent gap of at least 2 decides.

use super::detail::{Choice, S3Detail};
use super::pixels::{foreground_stats, Pixels};
use super::prompts::{self, labels};
use super::{ask_penalties, side_penalties, Ctx, PenaltyQuestion};
use crate::bundle::View;
use crate::image::{decode_png_rgb_strict, ImageData};

pub const GRAY_DIFF_THRESHOLD: f64 = 2.0;
const VIEW: View = View::FrontLeft;

type Decoded = (u32, u32, usize, Vec<u8>);

/// Whether the gate fires for the two decoded gray renders, pooled.
fn fires(a: &Decoded, b: &Decoded) -> bool {
    fn px(d: &Decoded) -> Pixels<'_> {
        Pixels {
            width: d.0 as usize,
            height: d.1 as usize,
            channels: d.2,
            data: &d.3,
        }
    }
    let stats = foreground_stats(&[px(a), px(b)]);
    tracing::debug!(?stats, "stage 3 foreground");
    stats.gate_fires()
}

/// Decides from the AB and BA answers: None for contradictory answers or a gap under 2.
pub fn decide(ab: (i64, i64), ba: (i64, i64)) -> Option<Choice> {
    let diff_ab = ab.0 - ab.1;
    let diff_ba = ba.1 - ba.0;
    if (diff_ab > 0 && diff_ba < 0) || (diff_ab < 0 && diff_ba > 0) {
        return None;
    }
    let pen_a = (ab.0 + ba.1) as f64 / 2.0;
    let pen_b = (ab.1 + ba.0) as f64 / 2.0;
    let diff = pen_a - pen_b;
    if diff.abs() < GRAY_DIFF_THRESHOLD {
        None
    } else if diff < 0.0 {
        Some(Choice::A)
    } else {
        Some(Choice::B)
    }
}

/// Starts the pixel gate on blocking threads (one PNG each), so its decoding overlaps Stage 2's questions.
/// `None` when either gray render is missing.
pub(crate) fn start_gate(ctx: &Ctx<'_>) -> Option<tokio::task::JoinHandle<Result<bool, String>>> {
    let (a, b) = (ctx.a.gray(VIEW)?.clone(), ctx.b.gray(VIEW)?.clone());
    let limits = *ctx.image_limits;
    Some(tokio::spawn(async move {
        let decode = |img: ImageData| {
            tokio::task::spawn_blocking(move || decode_png_rgb_strict(img.bytes(), &limits))
        };
        let (da, db) = futures::join!(decode(a), decode(b));
        let a = da.map_err(|e| e.to_string())??;
        let b = db.map_err(|e| e.to_string())??;
        Ok(fires(&a, &b))
    }))
}

/// Runs Stage 3 with the gate started by [`start_gate`].
pub(crate) async fn run(
    ctx: &Ctx<'_>,
    gate: Option<tokio::task::JoinHandle<Result<bool, String>>>,
) -> S3Detail {
    let not_fired = S3Detail {
        fired: false,
        choice: None,
    };
    let (Some(gray_a), Some(gray_b), Some(gate)) = (ctx.a.gray(VIEW), ctx.b.gray(VIEW), gate)
    else {
        tracing::debug!("stage 3: gray renders unavailable");
        return not_fired;
    };
    let fired = match gate.await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "stage 3: gray renders unreadable");
            return not_fired;
        }
        Err(e) => {
            tracing::warn!(error = %e, "stage 3: gate task failed");
            return not_fired;
        }
    };
    if !fired {
        return not_fired;
    }
    let instruction = prompts::prompt_match(prompts::front_angle_desc(VIEW));
    let ask = |label, seed, first, second| {
        ask_penalties(
            ctx,
            PenaltyQuestion {
                label,
                seed,
                labels: [labels::REFERENCE_TARGET, labels::MODEL_1, labels::MODEL_2],
                images: [first, second],
                instruction: &instruction,
            },
        )
    };
    let ((ab, _), (ba, _)) = futures::join!(
        ask("s3_gray_ab", ctx.seed, gray_a, gray_b),
        ask("s3_gray_ba", ctx.seed + 7, gray_b, gray_a)
    );
    let choice = decide((ab.penalty_1, ab.penalty_2), (ba.penalty_1, ba.penalty_2));
    tracing::debug!(pens = ?side_penalties(&ab, &ba), ?choice, "stage 3 rescue");
    S3Detail {
        fired: true,
        choice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescue_needs_consistency_and_a_gap_of_two() {
        assert_eq!(decide((2, 5), (5, 2)), Some(Choice::A));
        assert_eq!(decide((6, 3), (3, 6)), Some(Choice::B));
        assert_eq!(decide((2, 5), (2, 5)), None, "contradictory");
        assert_eq!(decide((3, 4), (4, 3)), None, "gap 1 < 2");
        assert_eq!(
            decide((2, 4), (4, 2)),
            Some(Choice::A),
            "gap exactly 2 decides"
        );
        assert_eq!(decide((5, 5), (3, 6)), None, "gap 1.5 < 2");
    }
}
