//! The HTTP VLM client and 404's retry schedule against the scripted server: request bodies, fenced and
//! prefixed JSON, truncation, 429/500, timeouts, garbage, concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;
use sn17_judge::duel::answers::{Penalties, JSON_FAILED_MARKER};
use sn17_judge::test_utils::{Reply, ScriptedServer};
use sn17_judge::vlm::{ask, ask_or, ApiKey, Ask, Call, Part, Vlm, VlmError, VlmResponse};

use crate::support::{fast_config, fast_retry, http_vlm, image};

fn penalties(p1: i64, p2: i64) -> Reply {
    Reply::json(json!({"penalty_1": p1, "penalty_2": p2, "issues": "ok"}))
}

fn question<'a>(parts: &'a [Part]) -> Ask<'a> {
    Ask {
        label: "s1_prompt_match",
        system: "system text",
        parts,
        max_tokens: 1024,
        seed: 1000,
        temperature: 0.0,
        max_attempts: 5,
    }
}

#[tokio::test]
async fn request_body_has_model_parts_schema_and_per_attempt_sampling() {
    // Garbage twice, then a valid answer: three attempts with 404's temperature/seed schedule.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::start(move |_| match n2.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::content("I think model 1 is better."),
        1 => Reply::content("{\"penalty_1\": 3"),
        _ => penalties(2, 6),
    })
    .await
    .unwrap();
    let mut cfg = fast_config(&server.base_url());
    cfg.api_key = Some(ApiKey::new("sk-test"));
    let vlm = http_vlm(cfg);
    let (prompt, m1, m2) = (
        image([1, 2, 3], "prompt"),
        image([4, 5, 6], "m1"),
        image([7, 8, 9], "m2"),
    );
    let parts = vec![
        Part::text("Reference image (target object):"),
        Part::Image(prompt.clone()),
        Part::text("3D model 1:"),
        Part::Image(m1.clone()),
        Part::text("3D model 2:"),
        Part::Image(m2.clone()),
        Part::text("instruction"),
    ];
    let answer: Penalties = ask(&*vlm, &fast_retry(), &question(&parts)).await.unwrap();
    assert_eq!((answer.penalty_1, answer.penalty_2), (2, 6));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/v1/chat/completions");
        assert_eq!(r.authorization.as_deref(), Some("Bearer sk-test"));
        assert!(
            r.content_length.is_some_and(|n| n > 3 * 100),
            "sent with Content-Length, not chunked"
        );
        assert_eq!(r.body["model"], "glm-4.6v-flash");
        assert_eq!(r.body["messages"][0]["role"], "system");
        assert_eq!(r.system(), "system text");
        assert_eq!(r.body["messages"][1]["role"], "user");
        assert_eq!(r.max_tokens(), Some(1024));
        let kinds: Vec<String> = r.parts().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            kinds,
            [
                "text",
                "image_url",
                "text",
                "image_url",
                "text",
                "image_url",
                "text"
            ]
        );
        assert_eq!(r.parts()[2].1, "3D model 1:");
        let rf = &r.body["response_format"];
        assert_eq!(rf["type"], "json_schema");
        assert_eq!(rf["json_schema"]["name"], "s1_prompt_match-response");
        assert_eq!(&rf["json_schema"]["schema"], Penalties::schema());
        // Images travel as base64 data URLs that decode to the exact bytes.
        for (url, img) in r.images().iter().zip([&prompt, &m1, &m2]) {
            let b64 = url
                .strip_prefix("data:image/png;base64,")
                .expect("png data URL");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            assert_eq!(&bytes[..], &img.bytes()[..]);
        }
    }
    let seeds: Vec<_> = reqs.iter().map(|r| r.seed().unwrap()).collect();
    assert_eq!(seeds, [1100, 1101, 1102]);
    let temps: Vec<_> = reqs.iter().map(|r| r.temperature().unwrap()).collect();
    assert_eq!(temps, [0.0, 0.15000000000000002, 0.2]);
    let m = vlm.metrics().snapshot();
    assert_eq!(
        (m.asks, m.attempts, m.parse_failures, m.requests),
        (1, 3, 2, 3)
    );
    assert_eq!((m.prompt_tokens, m.completion_tokens), (12000, 126));
}

#[tokio::test]
async fn fenced_json_reasoning_prefix_and_float_fields_parse_first_time() {
    let replies = [
        Reply::content("```json\n{\"penalty_1\": 1, \"penalty_2\": 4, \"issues\": \"x\"}\n```"),
        Reply::content("<think>Model {1} has four legs, {2} has three.</think>\n{\"penalty_1\": 2, \"penalty_2\": 5, \"issues\": \"x\"}"),
        Reply::content("{\"penalty_1\": 2.5, \"penalty_2\": \"6.6\", \"issues\": \"x\",}"),
        Reply::Completion {
            content: Some("Answer: {\"penalty_1\": 0, \"penalty_2\": 9, \"issues\": \"x\"} done".into()),
            finish_reason: "stop".into(),
            reasoning: Some("{\"penalty_1\": 10, \"penalty_2\": 10, \"issues\": \"from reasoning\"}".into()),
        },
    ];
    let expected = [(1, 4), (2, 5), (2, 7), (0, 9)];
    for (reply, want) in replies.into_iter().zip(expected) {
        let server = ScriptedServer::start(move |_| reply.clone()).await.unwrap();
        let vlm = http_vlm(fast_config(&server.base_url()));
        let p: Penalties = ask(&*vlm, &fast_retry(), &question(&[])).await.unwrap();
        assert_eq!((p.penalty_1, p.penalty_2), want);
        assert_eq!(server.requests().len(), 1, "parsed on the first attempt");
    }
}

#[tokio::test]
async fn truncated_output_is_retried_with_the_next_seed() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::truncated("{\"penalty_1\": 3, \"penalty_2\": ")
        } else {
            penalties(3, 8)
        }
    })
    .await
    .unwrap();
    let vlm = http_vlm(fast_config(&server.base_url()));
    let p: Penalties = ask(&*vlm, &fast_retry(), &question(&[])).await.unwrap();
    assert_eq!((p.penalty_1, p.penalty_2), (3, 8));
    let seeds: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.seed().unwrap())
        .collect();
    assert_eq!(seeds, [1100, 1101]);
    let m = vlm.metrics().snapshot();
    assert_eq!((m.truncated, m.parse_failures), (1, 1));
}

#[tokio::test]
async fn rate_limit_is_resent_with_the_same_seed_after_retry_after() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Status {
                status: 429,
                body: "{\"error\": \"busy\"}".into(),
                retry_after: Some(0),
            }
        } else {
            penalties(1, 2)
        }
    })
    .await
    .unwrap();
    let vlm = http_vlm(fast_config(&server.base_url()));
    let p: Penalties = ask(&*vlm, &fast_retry(), &question(&[])).await.unwrap();
    assert_eq!((p.penalty_1, p.penalty_2), (1, 2));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].seed(),
        reqs[1].seed(),
        "a transport resend is the same request"
    );
    let m = vlm.metrics().snapshot();
    assert_eq!((m.requests, m.http_errors, m.attempts), (2, 1, 1));
}

#[tokio::test]
async fn persistent_server_errors_end_in_the_neutral_fallback() {
    let server = ScriptedServer::start(|_| Reply::status(500, "internal error"))
        .await
        .unwrap();
    let vlm = http_vlm(fast_config(&server.base_url()));
    let (p, fell_back) = ask_or(&*vlm, &fast_retry(), &question(&[]), Penalties::neutral()).await;
    assert!(fell_back);
    assert_eq!(
        (p.penalty_1, p.penalty_2, p.issues.as_str()),
        (5, 5, JSON_FAILED_MARKER)
    );
    // 5 attempts, each sent once and resent twice (the OpenAI client's own retries).
    let reqs = server.requests();
    assert_eq!(reqs.len(), 15);
    let mut seeds: Vec<_> = reqs.iter().map(|r| r.seed().unwrap()).collect();
    seeds.dedup();
    assert_eq!(seeds, [1100, 1101, 1102, 1103, 1104]);
    let m = vlm.metrics().snapshot();
    assert_eq!((m.http_errors, m.fallbacks, m.attempts), (15, 1, 5));
}

#[tokio::test]
async fn bad_request_is_not_resent_but_next_attempt_follows() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::start(move |_| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(400, "{\"error\": \"bad schema\"}")
        } else {
            penalties(4, 4)
        }
    })
    .await
    .unwrap();
    let vlm = http_vlm(fast_config(&server.base_url()));
    let _: Penalties = ask(&*vlm, &fast_retry(), &question(&[])).await.unwrap();
    let seeds: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.seed().unwrap())
        .collect();
    assert_eq!(
        seeds,
        [1100, 1101],
        "400 ends the attempt; the next attempt has the next seed"
    );
}

#[tokio::test]
async fn timeouts_end_each_attempt_within_the_limit() {
    let server = ScriptedServer::start(|_| Reply::Hang).await.unwrap();
    let mut cfg = fast_config(&server.base_url());
    cfg.timeout = Duration::from_millis(150);
    let vlm = http_vlm(cfg);
    let started = Instant::now();
    let q = Ask {
        max_attempts: 2,
        ..question(&[])
    };
    let err = ask::<Penalties>(&*vlm, &fast_retry(), &q)
        .await
        .unwrap_err();
    assert_eq!(err.attempts, 2);
    assert!(err.last.contains("no response within"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let m = vlm.metrics().snapshot();
    assert_eq!((m.timeouts, m.requests), (2, 2));
}

#[tokio::test]
async fn garbage_bodies_and_empty_content_are_failed_attempts() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::start(move |_| match n2.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::status(200, "<html>not json</html>"),
        1 => Reply::status(200, "{\"choices\": []}"),
        2 => Reply::Completion {
            content: None,
            finish_reason: "stop".into(),
            reasoning: Some("{\"penalty_1\": 1, \"penalty_2\": 1, \"issues\": \"\"}".into()),
        },
        3 => Reply::json(json!({"penalty_1": 1, "issues": "missing a field"})),
        _ => penalties(7, 0),
    })
    .await
    .unwrap();
    let vlm = http_vlm(fast_config(&server.base_url()));
    let p: Penalties = ask(&*vlm, &fast_retry(), &question(&[])).await.unwrap();
    assert_eq!((p.penalty_1, p.penalty_2), (7, 0));
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn oversized_responses_and_refused_connections_are_named_errors() {
    let big = "x".repeat(64 * 1024);
    let server = ScriptedServer::start(move |_| Reply::content(big.clone()))
        .await
        .unwrap();
    let mut cfg = fast_config(&server.base_url());
    cfg.max_response_bytes = 16 * 1024;
    let vlm = http_vlm(cfg);
    let schema = json!({});
    let call = Call {
        label: "x",
        system: "",
        parts: &[],
        schema: &schema,
        max_tokens: 1,
        temperature: 0.0,
        seed: 0,
    };
    assert_eq!(
        vlm.complete(&call).await,
        Err(VlmError::TooLarge { limit: 16 * 1024 })
    );

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let vlm = http_vlm(fast_config(&format!("http://{closed}/v1")));
    match vlm.complete(&call).await {
        Err(VlmError::Transport(_)) => {}
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(
        vlm.metrics().snapshot().transport_errors,
        3,
        "one send and two resends"
    );
}

#[tokio::test]
async fn concurrency_is_capped() {
    let server = ScriptedServer::start(|_| penalties(1, 1).delayed(Duration::from_millis(60)))
        .await
        .unwrap();
    let mut cfg = fast_config(&server.base_url());
    cfg.max_concurrency = 4;
    let vlm = http_vlm(cfg);
    let parts: Vec<Part> = vec![];
    let asks = (0..16).map(|i| {
        let vlm = vlm.clone();
        let parts = parts.clone();
        async move {
            let q = Ask {
                seed: i,
                ..question(&parts)
            };
            ask::<Penalties>(&*vlm, &fast_retry(), &q).await
        }
    });
    let results = futures::future::join_all(asks).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.requests().len(), 16);
    assert_eq!(server.max_in_flight(), 4);
    assert_eq!(vlm.metrics().snapshot().in_flight, 0);
}
