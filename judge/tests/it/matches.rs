//! A whole match through `run_match`: duels one at a time in prompt order, missing outputs losing, failures
//! recorded as skipped, the report sorted by stem with score and margin, cancellation discarding the match.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use sn17_judge::bundle::ViewBundle;
use sn17_judge::duel::{DuelWinner, MultiStageJudge};
use sn17_judge::image::ImageData;
use sn17_judge::match_runner::{run_match, BundleSource, DuelCase, Side};
use sn17_judge::test_utils::judge_script::{answer, Opinion};
use sn17_judge::test_utils::ScriptedServer;
use sn17_judge::Error;

use crate::support::{belongs_to, bundle, fast_config, fast_retry, http_vlm, image};

struct Source {
    a: ViewBundle,
    b: ViewBundle,
}

impl BundleSource for Source {
    fn prompt<'a>(&'a self, case: &'a DuelCase) -> BoxFuture<'a, Option<ImageData>> {
        Box::pin(async move {
            (case.name != "no_prompt").then(|| image([9, 9, 9], &format!("prompt/{}", case.name)))
        })
    }

    fn bundle<'a>(&'a self, side: Side, case: &'a DuelCase) -> BoxFuture<'a, Option<ViewBundle>> {
        Box::pin(async move {
            match (side, case.name.as_str()) {
                (Side::Left, "left_missing") => None,
                (Side::Left, _) => Some(self.a.clone()),
                (Side::Right, _) => Some(self.b.clone()),
            }
        })
    }
}

fn case(name: &str) -> DuelCase {
    DuelCase {
        name: name.into(),
        prompt_url: format!("https://cdn/{name}.png"),
        left_js: Some(format!("https://cdn/left/{name}.js")),
        left_png: Some(format!("https://cdn/left/{name}/grid.png")),
        right_js: Some(format!("https://cdn/right/{name}.js")),
        right_png: Some(format!("https://cdn/right/{name}/grid.png")),
    }
}

#[tokio::test]
async fn match_report_scores_sorted_duels_played_one_at_a_time() {
    let a = bundle("a", [128, 128, 128], None);
    let b = bundle("b", [128, 128, 128], None);
    let a2 = a.clone();
    let opinion = Opinion {
        penalty_a: 6,
        penalty_b: 1,
        ..Default::default()
    };
    let server = ScriptedServer::start(move |req| answer(req, |u| belongs_to(u, &a2), &opinion))
        .await
        .unwrap();
    let judge =
        MultiStageJudge::new(http_vlm(fast_config(&server.base_url()))).with_retry(fast_retry());
    let source = Source { a, b };
    let cases = [
        case("zeta"),
        case("left_missing"),
        case("no_prompt"),
        case("alpha"),
    ];
    let report = run_match(&judge, &source, "leader", "5F4HaNQJAX", &cases, 42, &|| {
        false
    })
    .await
    .unwrap();

    let got: Vec<(&str, DuelWinner)> = report
        .duels
        .iter()
        .map(|d| (d.name.as_str(), d.winner))
        .collect();
    assert_eq!(
        got,
        [
            ("alpha", DuelWinner::Right),
            ("left_missing", DuelWinner::Right),
            ("no_prompt", DuelWinner::Skipped),
            ("zeta", DuelWinner::Right)
        ]
    );
    assert_eq!((report.score, report.margin), (3, 0.75));
    assert!(report.duels[2].detail.is_none());
    assert_eq!(
        report.duels[0].left_js.as_deref(),
        Some("https://cdn/left/alpha.js")
    );
    // Duels ran in case order, one at a time: every request of "zeta" precedes every request of "alpha".
    let reqs = server.requests();
    let prompt_of = |name: &str| {
        image([9, 9, 9], &format!("prompt/{name}"))
            .data_url()
            .clone()
    };
    let seqs = |name: &str| -> Vec<usize> {
        let p = prompt_of(name);
        reqs.iter()
            .filter(|r| {
                r.images()
                    .first()
                    .is_some_and(|u| u.as_bytes() == p.as_ref())
            })
            .map(|r| r.seq)
            .collect()
    };
    let (zeta, alpha) = (seqs("zeta"), seqs("alpha"));
    assert_eq!(
        (zeta.len(), alpha.len()),
        (9, 9),
        "8 S1 questions and the explain call each"
    );
    assert!(zeta.iter().max() < alpha.iter().min());
    assert_eq!(
        reqs.len(),
        18,
        "the missing-side and missing-prompt duels asked nothing"
    );
}

#[tokio::test]
async fn a_cancelled_match_is_discarded() {
    let server = ScriptedServer::start(|_| sn17_judge::test_utils::Reply::status(500, "down"))
        .await
        .unwrap();
    let judge =
        MultiStageJudge::new(http_vlm(fast_config(&server.base_url()))).with_retry(fast_retry());
    let source = Source {
        a: bundle("a", [128; 3], None),
        b: bundle("b", [128; 3], None),
    };
    let stop = Arc::new(AtomicBool::new(true));
    let stop2 = stop.clone();
    let result = run_match(
        &judge,
        &source,
        "leader",
        "x",
        &[case("a")],
        1,
        &move || stop2.load(Ordering::SeqCst),
    )
    .await;
    assert!(matches!(result, Err(Error::Cancelled)));
    assert!(server.requests().is_empty());
}
