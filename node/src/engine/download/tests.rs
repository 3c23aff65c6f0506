//! Downloads against a real HTTP server on 127.0.0.1, well-behaved and hostile.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sn17_storage::db::{keys, Batch, DownloadRecord, Store};

use super::fetch::FetchOutcome;
use super::local_cdn::{module_body, LocalCdn};
use super::{run_downloads, BlobStore, DownloadConfig, DownloadTask, Fetcher};

fn cfg() -> DownloadConfig {
    DownloadConfig {
        max_concurrent: 4,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(500),
        total_timeout: Duration::from_secs(2),
        attempts: 2,
        retry_wait: Duration::from_millis(10),
        start_jitter: Duration::ZERO,
        max_bytes: 1 << 20,
        ext: "js".into(),
        block_private_addresses: false,
        progress: false,
    }
}

async fn fetch(cdn: &LocalCdn, path: &str, cfg: DownloadConfig) -> (FetchOutcome, u32) {
    Fetcher::new(cfg)
        .expect("client")
        .fetch(&format!("{}{path}", cdn.url()))
        .await
}

fn failed(o: &FetchOutcome) -> &str {
    match o {
        FetchOutcome::Failed { reason } => reason,
        FetchOutcome::Ok { .. } => "ok",
    }
}

#[tokio::test]
async fn a_good_module_is_fetched_whole_with_its_hash() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let (o, attempts) = fetch(&cdn, "/m0/abc.js", cfg()).await;
    let want = module_body("/m0/abc.js");
    match o {
        FetchOutcome::Ok { body, sha256 } => {
            assert_eq!(body, want);
            assert_eq!(sha256, hex::encode(Sha256::digest(&want)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn http_errors_are_retried_and_named_by_status() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let (o, n) = fetch(&cdn, "/m2/abc.js", cfg()).await;
    assert_eq!((failed(&o), n), ("js_fetch_failed: HTTP 404", 2));
    let (o, n) = fetch(&cdn, "/m6/0abc.js", cfg()).await;
    assert_eq!((failed(&o), n), ("js_fetch_failed: HTTP 500", 2));
    // 404's client follows no redirects: a redirect to another host is a failed fetch.
    let (o, _) = fetch(&cdn, "/redirect/abc.js", cfg()).await;
    assert_eq!(failed(&o), "js_fetch_failed: HTTP 302");
}

#[tokio::test]
async fn oversized_bodies_stop_at_the_cap_and_are_not_retried() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let t = Instant::now();
    let (o, n) = fetch(&cdn, "/big/abc.js", cfg()).await;
    assert_eq!(
        (failed(&o), n),
        ("js_too_large", 1),
        "declared Content-Length over the cap"
    );
    // No Content-Length and a body that never ends: aborted once past 1 MiB, so memory stays
    // bounded (an unbounded reader would never return).
    let (o, n) = fetch(&cdn, "/endless/abc.js", cfg()).await;
    assert_eq!((failed(&o), n), ("js_too_large", 1));
    let (o, _) = fetch(
        &cdn,
        "/m3/0abc.js",
        DownloadConfig {
            max_bytes: 4096,
            ..cfg()
        },
    )
    .await;
    assert_eq!(failed(&o), "js_too_large");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn lying_slow_and_silent_servers_fail_with_their_names() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let (o, n) = fetch(&cdn, "/lying/abc.js", cfg()).await;
    assert_eq!(
        (failed(&o), n),
        ("js_fetch_failed: RemoteProtocolError", 2),
        "body shorter than Content-Length"
    );
    let t = Instant::now();
    let (o, n) = fetch(
        &cdn,
        "/drip/abc.js",
        DownloadConfig {
            attempts: 1,
            ..cfg()
        },
    )
    .await;
    assert_eq!(
        (failed(&o), n),
        ("js_fetch_failed: TotalTimeout", 1),
        "a drip never trips the read timeout"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    let (o, _) = fetch(
        &cdn,
        "/hang/abc.js",
        DownloadConfig {
            attempts: 1,
            ..cfg()
        },
    )
    .await;
    assert_eq!(failed(&o), "js_fetch_failed: ReadTimeout");
}

#[tokio::test]
async fn wrong_content_refused_addresses_and_closed_ports() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let (o, n) = fetch(&cdn, "/binary/abc.js", cfg()).await;
    assert_eq!((failed(&o), n), ("js_invalid_content", 1));
    let guarded = DownloadConfig {
        block_private_addresses: true,
        ..cfg()
    };
    let (o, n) = fetch(&cdn, "/m0/abc.js", guarded.clone()).await;
    assert_eq!(
        (failed(&o), n),
        ("js_fetch_failed: ForbiddenAddress", 1),
        "an IP literal"
    );
    let f = Fetcher::new(guarded).expect("client");
    let (o, _) = f
        .fetch(&format!("http://localhost:{}/m0/abc.js", cdn.addr.port()))
        .await;
    assert_eq!(
        failed(&o),
        "js_fetch_failed: ForbiddenAddress",
        "a name resolving to loopback"
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let f = Fetcher::new(cfg()).expect("client");
    let (o, _) = f.fetch(&format!("http://127.0.0.1:{port}/x.js")).await;
    assert_eq!(failed(&o), "js_fetch_failed: ConnectError");
    let (o, _) = f.fetch("ftp://example.com/x.js").await;
    assert_eq!(failed(&o), "js_fetch_failed: UnsupportedProtocol");
}

#[tokio::test]
async fn a_round_resumes_where_it_stopped() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    let store = Store::memory();
    let dir = tempfile::tempdir().expect("tempdir");
    let blobs = BlobStore::new(dir.path());
    let fetcher = Fetcher::new(cfg()).expect("client");
    let tasks: Vec<DownloadTask> = ["m0", "m2", "m6"]
        .iter()
        .flat_map(|m| {
            let url = cdn.url();
            ["0aa", "9bb", "ccc"].iter().map(move |s| DownloadTask {
                round: 4,
                hotkey: format!("5{m}xxxxxxxxxx"),
                stem: s.to_string(),
                url: format!("{url}/{m}/{s}.js"),
            })
        })
        .collect();
    let mut seen = Vec::new();
    let s = run_downloads(&fetcher, &store, Some(&blobs), tasks.clone(), |r| {
        seen.push(r.clone());
        Ok(())
    })
    .await
    .expect("run");
    assert_eq!((s.total, s.ok, s.failed, s.resumed), (9, 5, 4, 0));
    let r: DownloadRecord = store
        .get(&keys::round_miner_stem(4, "5m0xxxxxxxxxx", "9bb"))
        .expect("get")
        .expect("stored");
    let sha = r.sha256.clone().expect("hash");
    assert_eq!(blobs.get(&sha), Some(module_body("/m0/9bb.js")));
    assert_eq!(r.size, module_body("/m0/9bb.js").len() as u64);
    let m6: DownloadRecord = store
        .get(&keys::round_miner_stem(4, "5m6xxxxxxxxxx", "0aa"))
        .expect("get")
        .expect("stored");
    assert_eq!(
        m6.failure_reason.as_deref(),
        Some("js_fetch_failed: HTTP 500")
    );
    assert_eq!(m6.attempts, 2);

    // As after a crash: two results lost; only they are fetched again.
    let mut b = Batch::new();
    b.delete::<DownloadRecord>(keys::round_miner_stem(4, "5m0xxxxxxxxxx", "9bb"));
    b.delete::<DownloadRecord>(keys::round_miner_stem(4, "5m2xxxxxxxxxx", "ccc"));
    store.write(b).expect("delete");
    let mut again = Vec::new();
    let s = run_downloads(&fetcher, &store, Some(&blobs), tasks, |r| {
        again.push(r.stem.clone());
        Ok(())
    })
    .await
    .expect("rerun");
    assert_eq!((s.resumed, s.ok, s.failed), (7, 1, 1));
    again.sort();
    assert_eq!(again, ["9bb", "ccc"]);
}

#[tokio::test]
async fn understated_and_unbounded_bodies_never_take_more_than_the_cap() {
    let cdn = LocalCdn::start(0).await.expect("cdn");
    // Declares 64 bytes and sends 4 MiB more: the body is the declared 64 bytes, and no more
    // than those are taken off the connection as body.
    let f = Fetcher::new(cfg()).expect("client");
    let (o, n) = f.fetch(&format!("{}/understated/abc.js", cdn.url())).await;
    let mut want = module_body("/understated/abc.js");
    want.resize(64, b' ');
    match o {
        FetchOutcome::Ok { body, .. } => assert_eq!((body, n), (want, 1)),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.bytes_received(), 64);
    // The trailing junk does not poison the next download from the same host.
    let (o, _) = f.fetch(&format!("{}/m0/abc.js", cdn.url())).await;
    assert_eq!(failed(&o), "ok");

    // Declared over the cap: refused before any body byte is read.
    let cap = 64 * 1024;
    let small = DownloadConfig {
        max_bytes: cap,
        ..cfg()
    };
    let f = Fetcher::new(small).expect("client");
    let (o, _) = f.fetch(&format!("{}/big/abc.js", cdn.url())).await;
    assert_eq!((failed(&o), f.bytes_received()), ("js_too_large", 0));
    // An endless chunked body: the reader stops within one 16 KiB frame past the cap.
    let (o, n) = f.fetch(&format!("{}/endless/abc.js", cdn.url())).await;
    assert_eq!((failed(&o), n), ("js_too_large", 1));
    let got = f.bytes_received();
    assert!(
        got > cap && got <= cap + 16 * 1024,
        "{got} body bytes read for a {cap}-byte cap"
    );
}
