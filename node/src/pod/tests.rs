//! The pod client against the pod server and against hostile servers, all on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::audit::{regenerate, AuditLimits};
use super::client::{PodClient, PodTimeouts};
use super::provider::{PodTarget, StaticPods};
use super::server::{Generator, PodServer};
use super::{PodError, PromptRef};
use crate::static_server::StaticServer;

/// Output = stem, seed and image length; "bad" stems fail.
struct Echo;

impl Generator for Echo {
    fn ext(&self) -> &str {
        "txt"
    }
    fn generate(&self, stem: &str, image: &[u8], seed: u32) -> Result<Vec<u8>, String> {
        if stem.starts_with("bad") {
            return Err("cannot".into());
        }
        Ok(format!("{stem}:{seed}:{}", image.len()).into_bytes())
    }
}

fn fast() -> PodTimeouts {
    PodTimeouts {
        request: Duration::from_secs(5),
        results: Duration::from_secs(5),
        poll: Duration::from_millis(20),
        max_poll_failures: 3,
        batch_limit: Duration::from_secs(20),
    }
}

async fn images(stems: &[&str]) -> (StaticServer, tempfile::TempDir, Vec<PromptRef>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for s in stems {
        std::fs::write(dir.path().join(format!("{s}.png")), b"png-bytes").expect("write");
    }
    let host = StaticServer::start(dir.path().to_path_buf())
        .await
        .expect("image host");
    let prompts = stems
        .iter()
        .map(|s| PromptRef {
            stem: s.to_string(),
            image_url: format!("{}/{s}.png", host.url()),
        })
        .collect();
    (host, dir, prompts)
}

#[tokio::test]
async fn a_batch_round_trips_through_the_pod_api() {
    let (_host, _dir, prompts) = images(&["a", "b", "bad1"]).await;
    let pod = PodServer::start("127.0.0.1:0".parse().expect("addr"), Arc::new(Echo))
        .await
        .expect("pod");
    let client = PodClient::new(&pod.url(), Some("token".into()), fast()).expect("client");
    assert!(client.health().await);
    assert_eq!(client.status().await.expect("status").status, "ready");
    let batch = client.run_batch(&prompts, 42).await.expect("batch");
    assert_eq!(batch.results.outputs["a"], b"a:42:9");
    assert_eq!(batch.results.outputs["b"], b"b:42:9");
    assert_eq!(batch.results.failed["bad1"], "cannot");
    // The same stem set again is accepted (idempotent); the results stay available.
    assert_eq!(client.generate(&prompts, 42).await.expect("again"), 3);
    assert_eq!(client.status().await.expect("status").status, "complete");
}

#[tokio::test]
async fn audits_count_failures_against_the_tolerance() {
    let (_host, _dir, prompts) = images(&["x", "bad1", "bad2"]).await;
    let pod = PodServer::start("127.0.0.1:0".parse().expect("addr"), Arc::new(Echo))
        .await
        .expect("pod");
    let pods = StaticPods::parse(&[format!("o/r={}", pod.url())], None).expect("pods");
    let target = PodTarget {
        hotkey: "5Abc".into(),
        repo: "o/r".into(),
        commit: "0".repeat(40),
        docker_image: None,
    };
    let mut limits = AuditLimits {
        timeouts: fast(),
        ..AuditLimits::default()
    };
    let ok = regenerate(&pods, &target, 3, &prompts, 7, 2, &limits)
        .await
        .expect("regenerate");
    assert_eq!(ok.rejected, None);
    assert_eq!(ok.repeats.len(), 2);
    assert_eq!(ok.repeats[0].outputs["x"], b"x:7:9");
    limits.max_failed_prompts = 1;
    let rejected = regenerate(&pods, &target, 3, &prompts, 7, 2, &limits)
        .await
        .expect("regenerate");
    assert_eq!(
        rejected.rejected.as_deref(),
        Some("Repeat 1: 2 failed prompts exceed tolerance (1)"),
        "404's wording, and it stops after the first repeat"
    );
    assert_eq!(rejected.repeats.len(), 1);
    let other = PodTarget {
        repo: "o/unknown".into(),
        ..target
    };
    let e = regenerate(&pods, &other, 3, &prompts, 7, 1, &limits)
        .await
        .expect_err("no pod");
    assert!(matches!(e, PodError::NoPod { .. }), "{e}");
}

/// A server that answers every request with `reply`.
async fn canned(reply: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

fn http(status: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[tokio::test]
async fn hostile_pods_get_named_errors() {
    let prompts = vec![PromptRef {
        stem: "a".into(),
        image_url: "http://127.0.0.1:9/a.png".into(),
    }];
    // Busy.
    let url = canned(http(
        "409 Conflict",
        br#"{"detail":"another batch","current_status":"generating"}"#,
    ))
    .await;
    let c = PodClient::new(&url, None, fast()).expect("client");
    match c.generate(&prompts, 1).await {
        Err(PodError::Busy { current_status, .. }) => assert_eq!(current_status, "generating"),
        other => panic!("expected Busy, got {other:?}"),
    }
    // A body that claims more than the archive cap is refused before reading it.
    let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n".to_vec();
    big.extend_from_slice(b"PK");
    let c = PodClient::new(&canned(big).await, None, fast()).expect("client");
    assert!(matches!(c.results().await, Err(PodError::Limit { .. })));
    // Garbage instead of a zip.
    let c =
        PodClient::new(&canned(http("200 OK", b"not a zip")).await, None, fast()).expect("client");
    match c.results().await {
        Err(PodError::Limit { reason, .. }) => assert!(reason.contains("not a zip"), "{reason}"),
        other => panic!("expected Limit, got {other:?}"),
    }
    // A pod that asks to be replaced mid-batch.
    let url = canned(http("200 OK", br#"{"accepted":1,"status":"replace"}"#)).await;
    let c = PodClient::new(&url, None, fast()).expect("client");
    assert!(matches!(
        c.run_batch(&prompts, 1).await,
        Err(PodError::Replace { .. })
    ));
    // Nobody listening.
    let c = PodClient::new("http://127.0.0.1:9", None, fast()).expect("client");
    assert!(!c.health().await);
    assert!(matches!(c.status().await, Err(PodError::Transport { .. })));
}
