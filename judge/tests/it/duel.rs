//! Whole duels against a scripted judge: which stages run, the questions they send (labels, image order with
//! sides swapped, seeds), the decision at each stage and the `detail` record.

use serde_json::json;
use sn17_judge::bundle::{View, ViewBundle};
use sn17_judge::duel::answers::Verdict;
use sn17_judge::duel::detail::{ChecklistDetail, Choice};
use sn17_judge::duel::{DuelInput, DuelJudge, DuelWinner, MultiStageJudge, Prompt};
use sn17_judge::npz::Embeddings;
use sn17_judge::test_utils::judge_script::{answer, Opinion};
use sn17_judge::test_utils::{RecordedRequest, Reply, ScriptedServer};

use crate::support::{belongs_to, bundle, fast_config, fast_retry, http_vlm, image};

const SEED: u64 = 3_274_970_996;

struct Setup {
    server: ScriptedServer,
    judge: MultiStageJudge,
    prompt: Prompt,
    a: ViewBundle,
    b: ViewBundle,
}

/// Two sides with distinct images, a server answering as `opinion` says (or as `custom` overrides).
async fn setup(
    opinion: Opinion,
    gray: [u8; 3],
    emb: (Option<Embeddings>, Option<Embeddings>),
    custom: impl Fn(&RecordedRequest) -> Option<Reply> + Send + Sync + 'static,
) -> Setup {
    let a = bundle("a", gray, emb.0);
    let b = bundle("b", gray, emb.1);
    let a2 = a.clone();
    let server = ScriptedServer::start(move |req| {
        custom(req).unwrap_or_else(|| answer(req, |url| belongs_to(url, &a2), &opinion))
    })
    .await
    .unwrap();
    let judge =
        MultiStageJudge::new(http_vlm(fast_config(&server.base_url()))).with_retry(fast_retry());
    Setup {
        server,
        judge,
        prompt: Prompt::Image(image([200, 40, 40], "prompt")),
        a,
        b,
    }
}

fn input(s: &Setup) -> DuelInput<'_> {
    DuelInput {
        prompt: &s.prompt,
        left: Some(&s.a),
        right: Some(&s.b),
        seed: SEED,
    }
}

/// Top-level keys of the serialised detail, in the order they are written.
fn key_order(d: &sn17_judge::duel::Detail) -> Vec<String> {
    let text = serde_json::to_string(d).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<(usize, String)> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

fn labels(reqs: &[RecordedRequest]) -> Vec<String> {
    let mut l: Vec<String> = reqs.iter().map(|r| r.label().to_string()).collect();
    l.sort();
    l.dedup();
    l
}

#[tokio::test]
async fn stage1_winner_ends_the_duel_with_swapped_pairs() {
    let s = setup(
        Opinion {
            penalty_a: 2,
            penalty_b: 6,
            ..Default::default()
        },
        [128, 128, 128],
        (None, None),
        |_| None,
    )
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Left);
    let d = out.detail.unwrap();
    let s1 = d.s1.as_ref().unwrap();
    assert_eq!((s1.choice, s1.n_total, s1.n_consistent), (Choice::A, 4, 4));
    assert_eq!(
        s1.angles
            .iter()
            .map(|a| a.label.as_str())
            .collect::<Vec<_>>(),
        ["front_left", "front_right", "front_below", "front_above"]
    );
    assert!(s1.angles.iter().all(|a| (a.pen_a, a.pen_b) == (2.0, 6.0)));
    assert!(d.s2.is_none() && d.s3.is_none() && d.s4.is_none());
    assert_eq!(d.decided_by.as_deref(), Some("S1"));
    assert_eq!(d.issues.as_deref(), Some("scripted summary"));
    assert_eq!(key_order(&d), ["s1", "decided_by", "issues"]);

    let reqs = s.server.requests();
    assert_eq!(labels(&reqs), ["explain", "s1_prompt_match"]);
    let s1_reqs: Vec<_> = reqs
        .iter()
        .filter(|r| r.label() == "s1_prompt_match")
        .collect();
    assert_eq!(s1_reqs.len(), 8);
    assert!(s1_reqs
        .iter()
        .all(|r| r.seed() == Some(SEED + 100) && r.temperature() == Some(0.0)));
    // Each angle is asked AB and BA: the same two views, in both orders, with the prompt first.
    for view in [
        View::FrontLeft,
        View::FrontRight,
        View::FrontBelow,
        View::FrontAbove,
    ] {
        let (ua, ub) = (s.a.white(view).data_url(), s.b.white(view).data_url());
        let pairs: Vec<(bool, bool)> = s1_reqs
            .iter()
            .filter(|r| r.images().iter().any(|u| u.as_bytes() == ua.as_ref()))
            .map(|r| {
                let imgs = r.images();
                assert_eq!(
                    imgs[0].as_bytes(),
                    s.prompt.image().unwrap().data_url().as_ref()
                );
                (
                    imgs[1].as_bytes() == ua.as_ref(),
                    imgs[2].as_bytes() == ub.as_ref(),
                )
            })
            .collect();
        assert_eq!(pairs.len(), 2, "{}", view.name());
        assert!(pairs.contains(&(true, true)) && pairs.contains(&(false, false)));
    }
    let explain = reqs.iter().find(|r| r.label() == "explain").unwrap();
    assert_eq!(
        (explain.seed(), explain.max_tokens()),
        (Some(SEED + 100), Some(300))
    );
    assert_eq!(
        explain.images()[1].as_bytes(),
        s.a.grid().data_url().as_ref()
    );
}

#[tokio::test]
async fn stage1_draw_goes_to_stage2_consensus_and_stage4() {
    // Equal penalties in S1 (draw); 2B favours B by the AB/BA answers; the checklist favours B by 4 points.
    let s = setup(
        Opinion {
            checklist_a: (vec!["yes", "partial", "no", "no", "no"], true),
            checklist_b: (vec!["yes", "yes", "yes", "no", "no"], true),
            ..Default::default()
        },
        [128, 128, 128],
        (None, None),
        |req| {
            req.label()
                .starts_with("s2ac")
                .then(|| Reply::json(json!({"penalty_1": 2, "penalty_2": 4, "issues": ""})))
        },
    )
    .await;
    // 2B answers "model 1 gets 2, model 2 gets 4" in both orders: pen_a = (2+4)/2 = pen_b → no vote.
    // Checklist A = 2+1+0+0+0+3 = 6, B = 2+2+2+0+0+3 = 9: gap −3 votes B. One vote is a draw → S3 (the
    // mid-gray renders are all background, so the gate does not fire) → draw; S4 all ok keeps the draw.
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Draw);
    let d = out.detail.unwrap();
    assert_eq!(d.s1.as_ref().unwrap().choice, Choice::Draw);
    let s2 = d.s2.as_ref().unwrap();
    assert_eq!(
        (s2.choice, s2.source.as_str()),
        (Choice::Draw, "consensus_3")
    );
    assert!(s2.best_view.is_none(), "no embeddings: 2A abstains");
    assert_eq!(
        s2.artifact_compare.map(|p| (p.penalty_a, p.penalty_b)),
        Some((3.0, 3.0))
    );
    match &s2.checklist {
        ChecklistDetail::Scored {
            main_object,
            score_a,
            score_b,
            features,
            ..
        } => {
            assert_eq!(
                (main_object.as_str(), *score_a, *score_b),
                ("test object", 6, 9)
            );
            assert_eq!(features.len(), 5);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.s3.map(|s3| (s3.fired, s3.choice)), Some((false, None)));
    let s4 = d.s4.unwrap();
    assert_eq!(
        (s4.choice, s4.side_verdicts.a, s4.side_verdicts.b),
        (Choice::Draw, Verdict::Ok, Verdict::Ok)
    );
    assert_eq!(
        d.decided_by.as_deref(),
        Some("S3 (gate did not fire) → draw")
    );
    assert_eq!(
        key_order(&d),
        ["s1", "s2", "s3", "s4", "decided_by", "issues"]
    );

    let reqs = s.server.requests();
    assert_eq!(
        labels(&reqs),
        [
            "explain",
            "s1_prompt_match",
            "s2ac_ab",
            "s2ac_ba",
            "s2cl_decompose",
            "s2cl_verify",
            "s4_per_angle"
        ]
    );
    let seeds = |label: &str| {
        let mut v: Vec<u64> = reqs
            .iter()
            .filter(|r| r.label() == label)
            .map(|r| r.seed().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(seeds("s2cl_decompose"), [SEED + 100]);
    assert_eq!(seeds("s2cl_verify"), [SEED + 200, SEED + 300]);
    let s4_expected: Vec<u64> = [5000u64, 6000]
        .iter()
        .flat_map(|off| (0..4).map(move |i| SEED + off + 100 * i + 100))
        .collect();
    assert_eq!(seeds("s4_per_angle"), s4_expected);
    let s4_req = reqs.iter().find(|r| r.label() == "s4_per_angle").unwrap();
    assert_eq!(s4_req.max_tokens(), Some(220));
    assert_eq!(s4_req.parts()[0].1, "Front view of the 3D model:");
    let verify_a = reqs
        .iter()
        .find(|r| r.label() == "s2cl_verify" && r.seed() == Some(SEED + 200))
        .unwrap();
    assert_eq!(
        verify_a.images()[1].as_bytes(),
        s.a.grid().data_url().as_ref(),
        "verify A uses seed s+100"
    );
    assert!(verify_a.instruction().contains("  1. [shape] feature 0"));
}

#[tokio::test]
async fn stage2_strong_checklist_and_best_view_from_embeddings() {
    let emb = |best: &str| {
        let mut e = Embeddings::new();
        e.insert("prompt", vec![1.0, 0.0]);
        for v in View::WHITE {
            let sim = if v.name() == best { 0.9 } else { 0.1 };
            e.insert(format!("view_{}", v.name()), vec![sim, 0.0]);
        }
        e
    };
    let s = setup(
        Opinion {
            checklist_a: (vec!["yes"; 5], true),
            checklist_b: (vec!["no"; 5], false),
            ..Default::default()
        },
        [128, 128, 128],
        (Some(emb("back")), Some(emb("left"))),
        |_| None,
    )
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    // Checklist 13 vs 0: gap +13 ≥ 6, a strong voter for A; 2A (equal penalties) does not disagree.
    assert_eq!(out.winner, DuelWinner::Left);
    let d = out.detail.unwrap();
    let s2 = d.s2.as_ref().unwrap();
    assert_eq!((s2.choice, s2.source.as_str()), (Choice::A, "strong_voter"));
    assert_eq!(
        s2.best_view.map(|p| (p.penalty_a, p.penalty_b)),
        Some((3.0, 3.0))
    );
    assert_eq!(d.decided_by.as_deref(), Some("S2 strong_voter [cl|+13|]"));
    assert!(d.s3.is_none());
    let bv: Vec<_> = s
        .server
        .requests()
        .into_iter()
        .filter(|r| r.label() == "s2bv_ab")
        .collect();
    assert_eq!(bv.len(), 1);
    assert_eq!(
        bv[0].images()[1].as_bytes(),
        s.a.white(View::Back).data_url().as_ref()
    );
    assert_eq!(
        bv[0].images()[2].as_bytes(),
        s.b.white(View::Left).data_url().as_ref()
    );
    assert_eq!(
        bv[0].parts()[2].1,
        "First 3D model (single best prompt-matching view):"
    );
}

#[tokio::test]
async fn gray_rescue_fires_on_pale_renders_and_decides() {
    // S1 draw; 2B and the checklist tie; the gray renders are pale gray, so S3 asks on them and A wins.
    let a_probe = bundle("a", [225, 225, 220], None);
    let s = setup(
        Opinion::default(),
        [225, 225, 220],
        (None, None),
        move |req| {
            req.label().starts_with("s3_gray").then(|| {
                let first_is_a = belongs_to(&req.images()[1], &a_probe);
                let (p1, p2) = if first_is_a { (2, 7) } else { (7, 2) };
                Reply::json(json!({"penalty_1": p1, "penalty_2": p2, "issues": ""}))
            })
        },
    )
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Left);
    let d = out.detail.unwrap();
    assert_eq!(
        d.s3.map(|x| (x.fired, x.choice)),
        Some((true, Some(Choice::A)))
    );
    assert_eq!(d.decided_by.as_deref(), Some("S3 gray-rescue"));
    let reqs = s.server.requests();
    let ab = reqs.iter().find(|r| r.label() == "s3_gray_ab").unwrap();
    let ba = reqs.iter().find(|r| r.label() == "s3_gray_ba").unwrap();
    assert_eq!((ab.seed(), ba.seed()), (Some(SEED + 100), Some(SEED + 107)));
    assert_eq!(
        ab.images()[1].as_bytes(),
        s.a.gray(View::FrontLeft).unwrap().data_url().as_ref()
    );
    assert!(ab.instruction().contains("slightly left of the front"));
}

#[tokio::test]
async fn side_guard_steps_down_a_garbage_side() {
    // S1-S3 draw, then A's side views are garbage on 3 of 4: the draw goes to B.
    let s = setup(
        Opinion {
            guard_a: ["garbage", "garbage", "ok", "garbage"],
            ..Default::default()
        },
        [128, 128, 128],
        (None, None),
        |_| None,
    )
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Right);
    let d = out.detail.unwrap();
    let s4 = d.s4.unwrap();
    assert_eq!(
        (s4.side_verdicts.a, s4.side_verdicts.b),
        (Verdict::Garbage, Verdict::Ok)
    );
    assert_eq!(s4.per_angle.a.left, Verdict::Ok);
    assert_eq!(d.decided_by.as_deref(), Some("S4 step-down (was draw)"));
}

#[tokio::test]
async fn missing_sides_lose_without_any_vlm_call() {
    let s = setup(Opinion::default(), [128, 128, 128], (None, None), |_| None).await;
    for (left, right, want, reason) in [
        (None, Some(&s.b), DuelWinner::Right, "no preview from left"),
        (Some(&s.a), None, DuelWinner::Left, "no preview from right"),
        (None, None, DuelWinner::Draw, "no previews on either side"),
    ] {
        let out = s
            .judge
            .judge(DuelInput {
                prompt: &s.prompt,
                left,
                right,
                seed: SEED,
            })
            .await
            .unwrap();
        assert_eq!(out.winner, want);
        assert_eq!(
            serde_json::to_value(out.detail).unwrap(),
            json!({"reason": reason})
        );
    }
    assert!(s.server.requests().is_empty());
}

#[tokio::test]
async fn checklist_decompose_failure_abstains_and_fallbacks_make_s1_contradictory() {
    // Every penalty answer is garbage (→ 5/5 fallback, contradictory), the decompose too.
    let s = setup(Opinion::default(), [128, 128, 128], (None, None), |req| {
        (req.label() != "s4_per_angle" && req.label() != "explain")
            .then(|| Reply::content("no idea"))
    })
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Draw);
    let d = out.detail.unwrap();
    assert_eq!(d.s1.as_ref().map(|s1| s1.n_consistent), Some(0));
    match &d.s2.as_ref().unwrap().checklist {
        ChecklistDetail::DecomposeFailed {
            decompose_failed,
            gap,
            ..
        } => assert!(*decompose_failed && *gap == 0),
        other => panic!("{other:?}"),
    }
    let m = s.judge.vlm().metrics().snapshot();
    assert_eq!(
        m.fallbacks,
        8 + 2,
        "8 S1 answers and 2 artifact answers fell back"
    );
    assert_eq!(m.ask_failures, 1);
    let decomposes = s
        .server
        .requests()
        .iter()
        .filter(|r| r.label() == "s2cl_decompose")
        .count();
    assert_eq!(decomposes, 5);
}

#[tokio::test]
async fn text_prompts_stand_in_for_the_reference_image() {
    let mut s = setup(
        Opinion {
            penalty_a: 1,
            penalty_b: 9,
            ..Default::default()
        },
        [128, 128, 128],
        (None, None),
        |_| None,
    )
    .await;
    s.prompt = Prompt::Text("a red wooden chair".into());
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Left);
    let r = s
        .server
        .requests()
        .into_iter()
        .find(|r| r.label() == "s1_prompt_match")
        .unwrap();
    assert_eq!(r.images().len(), 2);
    assert!(r.parts()[1].1.contains("a red wooden chair"));
}

#[tokio::test]
async fn checklist_verify_failure_abstains_and_the_duel_goes_on() {
    // S1 ties; the decompose works but every verify answer is garbage: checklists have no fallback, so after 5
    // attempts per side the checklist abstains (verify_failed) and the duel continues to a draw.
    let s = setup(Opinion::default(), [128, 128, 128], (None, None), |req| {
        (req.label() == "s2cl_verify").then(|| Reply::content("no idea"))
    })
    .await;
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Draw);
    let d = out.detail.unwrap();
    match &d.s2.as_ref().unwrap().checklist {
        ChecklistDetail::VerifyFailed {
            verify_failed,
            score_a,
            score_b,
            gap,
            choice,
            ..
        } => {
            assert!(*verify_failed);
            assert_eq!((*score_a, *score_b, *gap), (0, 0, 0));
            assert_eq!(*choice, Choice::Draw);
        }
        other => panic!("{other:?}"),
    }
    let s2 = serde_json::to_value(&d.s2).unwrap();
    assert_eq!(s2["checklist"]["verify_failed"], true, "{s2}");
    let reqs = s.server.requests();
    let verifies: Vec<&RecordedRequest> =
        reqs.iter().filter(|r| r.label() == "s2cl_verify").collect();
    assert_eq!(verifies.len(), 10, "5 attempts for each side");
    let mut seeds: Vec<u64> = verifies.iter().filter_map(|r| r.seed()).collect();
    seeds.sort_unstable();
    assert_eq!(
        seeds[0],
        SEED + 200,
        "side A verifies from base s+100; attempt 0 sends base + 100"
    );
    assert_eq!(s.judge.vlm().metrics().snapshot().ask_failures, 1);
}

#[tokio::test]
async fn missing_gray_renders_skip_the_gray_rescue() {
    // The same pale renders that make S3 fire, but neither bundle has gray PNGs: the gate cannot run, S3 reports
    // that it did not fire, and no gray question is asked.
    let mut s = setup(Opinion::default(), [225, 225, 220], (None, None), |_| None).await;
    let strip = |b: &ViewBundle| {
        ViewBundle::new(
            View::WHITE.map(|v| b.white(v).clone()),
            Default::default(),
            b.grid().clone(),
            None,
        )
    };
    s.a = strip(&s.a);
    s.b = strip(&s.b);
    assert!(s.a.gray(View::FrontLeft).is_none());
    let out = s.judge.judge(input(&s)).await.unwrap();
    assert_eq!(out.winner, DuelWinner::Draw);
    let d = out.detail.unwrap();
    assert_eq!(d.s3.map(|x| (x.fired, x.choice)), Some((false, None)));
    assert!(
        !labels(&s.server.requests())
            .iter()
            .any(|l| l.starts_with("s3_gray")),
        "no gray question without gray renders"
    );
}
