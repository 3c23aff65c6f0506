//! The offline development judge: deterministic, labelled as non-production in every verdict, and picking the
//! side whose renders resemble the prompt.

use std::path::Path;
use std::sync::Arc;

use sn17_judge::bundle::{View, ViewBundle};
use sn17_judge::dino::config::DinoConfig;
use sn17_judge::dino::weights::random_checkpoint;
use sn17_judge::dino::Embedder;
use sn17_judge::duel::{DuelInput, DuelJudge, DuelOutcome, DuelWinner, JudgeKind, Prompt};
use sn17_judge::offline::{OfflineJudge, OFFLINE_LABEL};

use crate::support::image;

fn coloured(side: &str, rgb: [u8; 3]) -> ViewBundle {
    ViewBundle::new(
        View::WHITE.map(|v| image(rgb, &format!("{side}/{}", v.name()))),
        View::GRAY.map(|_| None),
        image([0, 0, 0], &format!("{side}/grid")),
        None,
    )
}

async fn duel(
    judge: &OfflineJudge,
    prompt: &Prompt,
    l: &ViewBundle,
    r: &ViewBundle,
) -> DuelOutcome {
    let input = DuelInput {
        prompt,
        left: Some(l),
        right: Some(r),
        seed: 0,
    };
    judge.judge(input).await.unwrap()
}

#[tokio::test]
async fn histogram_judge_prefers_the_side_that_looks_like_the_prompt() {
    let judge = OfflineJudge::new(None);
    assert!(!judge.kind().is_production());
    assert!(matches!(judge.kind(), JudgeKind::Offline { .. }));
    let prompt = Prompt::Image(image([200, 30, 30], "prompt"));
    let red = coloured("red", [205, 25, 35]);
    let blue = coloured("blue", [30, 30, 200]);
    let run = |l, r| duel(&judge, &prompt, l, r);
    let out = run(&blue, &red).await;
    assert_eq!(out.winner, DuelWinner::Right);
    let reason = out.detail.as_ref().unwrap().reason.clone().unwrap();
    assert!(reason.starts_with(OFFLINE_LABEL), "{reason}");
    assert_eq!(run(&red, &blue).await.winner, DuelWinner::Left);
    assert_eq!(run(&red, &red).await.winner, DuelWinner::Draw);
    // Deterministic: the same inputs give the same verdict and detail.
    assert_eq!(run(&blue, &red).await, out);
    let missing = judge
        .judge(DuelInput {
            prompt: &prompt,
            left: None,
            right: Some(&red),
            seed: 0,
        })
        .await
        .unwrap();
    assert_eq!(missing.winner, DuelWinner::Right);
    let text = judge
        .judge(DuelInput {
            prompt: &Prompt::Text("a chair".into()),
            left: Some(&red),
            right: Some(&blue),
            seed: 0,
        })
        .await;
    assert!(text.is_err(), "the offline judge needs an image prompt");
}

#[tokio::test]
async fn dinov3_backed_offline_judge_runs_and_is_labelled() {
    let cfg = DinoConfig {
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        ..DinoConfig::vits16()
    };
    let e = Embedder::from_bytes(&cfg, &random_checkpoint(&cfg, 5), Path::new("tiny"))
        .unwrap()
        .with_input_size(32);
    let judge = OfflineJudge::new(Some(Arc::new(e)));
    assert!(matches!(judge.kind(), JudgeKind::Offline { label } if label == "offline-dinov3"));
    let prompt = Prompt::Image(image([200, 30, 30], "prompt"));
    let (red, blue) = (
        coloured("red", [200, 30, 30]),
        coloured("blue", [30, 30, 200]),
    );
    let out = judge
        .judge(DuelInput {
            prompt: &prompt,
            left: Some(&blue),
            right: Some(&red),
            seed: 0,
        })
        .await
        .unwrap();
    // Identical pixels to the prompt give cosine 1 on the right; the left cannot beat it.
    assert_ne!(out.winner, DuelWinner::Left);
    assert!(out
        .detail
        .unwrap()
        .reason
        .unwrap()
        .contains("DINOv3 cosine"));
}
