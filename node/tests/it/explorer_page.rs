//! The explorer through the `sn17` binary: `explorer run` stores what an in-process validator
//! and `gossip publish-manifest` publish, `gossip tail` prints it, the JSON API serves it, a
//! second explorer fills itself with `--catch-up`, `p2p peers` finds the explorer (identify's
//! agent), and the web page renders the round list and a round (with a render thumbnail served
//! from 127.0.0.1 and the state commit linked) in a real headless Chromium. Also `p2p id`.
//!
//! Without Chromium the page part is skipped, unless `SN17_REQUIRE_CHROMIUM=1` (CI), which
//! makes a missing browser a failure.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::gossip_support::*;
use serde_json::Value;
use sn17_chain::Account;
use sn17_node::gossip::message::{LeaderChange, Payload};
use sn17_node::gossip::{Member, MetagraphSnapshot, StaticMetagraph};

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sn17(args: &[&str], wallets: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .args(["--wallet.path", &wallets.display().to_string()])
        .env_remove("SN17_WALLET_PASSWORD")
        .output()
        .expect("sn17 runs")
}

/// Reads stdout lines of `child` until one parses as JSON.
fn first_json_line(child: &mut Child, timeout: Duration) -> Value {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
                return;
            }
        }
    });
    rx.recv_timeout(timeout).expect("a JSON line in time")
}

/// A renders server on 127.0.0.1: a PNG for every `…/grid.png`, 404 otherwise; records the
/// paths asked for.
/// Flags of a short-lived node that joins the test mesh through `boot`.
fn joining(boot: &str, metagraph: &str) -> Vec<String> {
    let netuid = NETUID.to_string();
    [
        "--p2p.listen",
        "/ip4/127.0.0.1/tcp/0",
        "--p2p.bootstrap",
        boot,
    ]
    .into_iter()
    .chain(["--metagraph-file", metagraph, "--netuid", &netuid])
    .map(str::to_string)
    .collect()
}

/// Starts `sn17 explorer run` on loopback with a metagraph file; returns it with its ready line.
fn start_explorer(
    data: &Path,
    metagraph: &str,
    renders_url: &str,
    extra: &[&str],
) -> (Kill, Value) {
    let mut explorer = Kill(
        Command::new(BIN)
            .args(["explorer", "run", "--json", "--http", "127.0.0.1:0"])
            .args(["--data-dir", &data.display().to_string()])
            .args(["--p2p.listen", "/ip4/127.0.0.1/tcp/0"])
            .args(["--metagraph-file", metagraph])
            .args([
                "--netuid",
                &NETUID.to_string(),
                "--renders-url",
                renders_url,
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("explorer starts"),
    );
    let ready = first_json_line(&mut explorer.0, Duration::from_secs(30));
    (explorer, ready)
}

fn renders_server(png: Vec<u8>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("").to_string();
            let (status, body, kind) = if path.ends_with("/grid.png") {
                ("200 OK", png.clone(), "image/png")
            } else {
                ("404 Not Found", Vec::new(), "text/plain")
            };
            if let Ok(mut l) = log.lock() {
                l.push(path);
            }
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
                 access-control-allow-origin: *\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body);
        }
    });
    (url, seen)
}

/// A 4×3 PNG.
fn thumbnail_png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 3, image::Rgb([200, 40, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(String::from)
}

fn dump_dom(browser: &str, url: &str, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_cli_api_and_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let wallets = dir.path().join("wallets");

    // `p2p id` is stable for a data directory.
    let data = dir.path().join("explorer-data");
    let id = |d: &Path| {
        let o = sn17(
            &["p2p", "id", "--data-dir", &d.display().to_string()],
            &wallets,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let peer_id = id(&data);
    assert_eq!(id(&data), peer_id);
    assert!(peer_id.starts_with("12D3KooW"), "{peer_id}");

    // A miner wallet made by the CLI; its hotkey goes into the metagraph file.
    let o = sn17(
        &[
            "wallet",
            "create",
            "--no-password",
            "--wallet.name",
            "miner",
        ],
        &wallets,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sn17(
        &["wallet", "show", "--json", "--wallet.name", "miner"],
        &wallets,
    );
    let shown: Value = serde_json::from_slice(&o.stdout).expect("json");
    let miner: Account = shown["hotkey"]
        .as_str()
        .expect("hotkey")
        .parse()
        .expect("ss58");
    let mut members: Vec<Member> = [(1u8, true), (2, true)]
        .map(|(n, p)| Member {
            uid: n.into(),
            hotkey: Account(key(n).public()),
            validator_permit: p,
            stake: 0,
            axon: None,
        })
        .into();
    members.push(Member {
        uid: 3,
        hotkey: miner,
        validator_permit: false,
        stake: 0,
        axon: None,
    });
    let mg_file = dir.path().join("metagraph.json");
    std::fs::write(
        &mg_file,
        serde_json::to_vec(
            &serde_json::json!({"netuid": NETUID, "block": HEAD, "neurons": members}),
        )
        .expect("json"),
    )
    .expect("write");
    let mg = std::sync::Arc::new(StaticMetagraph::new(MetagraphSnapshot::new(
        NETUID,
        HEAD,
        members.clone(),
    )));

    // The explorer, with thumbnails from a local renders server.
    let (renders_url, render_requests) = renders_server(thumbnail_png());
    let mg_arg = mg_file.display().to_string();
    let (_explorer, ready) = start_explorer(&data, &mg_arg, &renders_url, &[]);
    let http = ready["http"].as_str().expect("http").to_string();
    assert_eq!(ready["peer_id"], peer_id.as_str());
    let boot = format!(
        "{}/p2p/{peer_id}",
        ready["listen"][0].as_str().expect("listen")
    );

    // `gossip tail` waiting for one manifest.
    let mut tail = Kill(
        Command::new(BIN)
            .args([
                "gossip",
                "tail",
                "--json",
                "--topic",
                "manifests",
                "--count",
                "1",
            ])
            .args(joining(&boot, &mg_arg))
            .stdout(Stdio::piped())
            .spawn()
            .expect("tail starts"),
    );

    // A validator node in process: seed, result and leader change for round 7.
    let store_dir = tempfile::tempdir().expect("tmp");
    let validator = start(
        config(vec![boot.parse().expect("multiaddr")]),
        mg.clone(),
        open_store(store_dir.path()),
        libp2p::identity::Keypair::generate_ed25519(),
    )
    .await;
    assert!(wait_peers(&[&validator], 1, Duration::from_secs(20)).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let entry = sn17_storage::state_repo::LeaderEntry::new(
        &miner.ss58(),
        "miner3/gen",
        "0123456789abcdef0123456789abcdef01234567",
        "",
        1.0,
        HEAD + 10,
    );
    let state_commit = "4d3c2b1a".repeat(5);
    let mut res = result(7);
    if let Payload::Result(r) = &mut res {
        r.winner = miner.ss58();
        r.matches[0].left = miner.ss58();
        r.matches[0].winner = miner.ss58();
        r.state_commit = state_commit.clone();
    }
    // The seed carries its prompts inline; the explorer serves them back.
    let prompts_txt = b"https://example.org/p/0.png\nhttps://example.org/p/1.png".to_vec();
    let mut seed7 = seed(7);
    if let Payload::Seed(s) = &mut seed7 {
        use sha2::Digest as _;
        s.prompts_sha256 = sha2::Sha256::digest(&prompts_txt).into();
        s.prompts_count = 2;
        s.prompts_inline = prompts_txt.clone();
    }
    for p in [
        seed7,
        res,
        Payload::Leader(LeaderChange::from_entry(7, &entry)),
    ] {
        validator
            .handle
            .publish(signed(1, HEAD, p))
            .await
            .expect("publish");
    }

    // The miner's manifest through the CLI.
    let o = Command::new(BIN)
        .args(["gossip", "publish-manifest", "--json", "--round", "7"])
        .args([
            "--repo",
            "miner3/gen",
            "--commit",
            "0123456789abcdef0123456789abcdef01234567",
        ])
        .args(["--cdn-url", "https://cdn.example.org/m3"])
        .args(["--file", &format!("prompt-0={}", "ab".repeat(32))])
        .args(joining(&boot, &mg_arg))
        .args([
            "--wallet.path",
            &wallets.display().to_string(),
            "--wallet.name",
            "miner",
        ])
        .env_remove("SN17_WALLET_PASSWORD")
        .output()
        .expect("publish-manifest runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let published: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(published["sent"], true);

    let tailed = first_json_line(&mut tail.0, Duration::from_secs(30));
    assert_eq!(tailed["topic"], "manifests");
    assert_eq!(tailed["id"], published["id"]);
    assert_eq!(tailed["message"]["payload"]["miner"], miner.ss58().as_str());

    // The API.
    let client = reqwest::Client::new();
    let fetch = |path: &str| {
        let client = client.clone();
        let url = format!("{http}{path}");
        async move { client.get(&url).send().await.expect("GET") }
    };
    let get = |path: &str| {
        let r = fetch(path);
        async move {
            let r = r.await;
            assert!(r.status().is_success(), "{}: {}", r.url(), r.status());
            serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json")
        }
    };
    let until = Instant::now() + Duration::from_secs(15);
    let rounds = loop {
        let rounds = get("/api/rounds").await;
        if rounds[0]["manifests"] == 1 && rounds[0]["results"] == 1 || Instant::now() > until {
            break rounds;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(rounds[0]["round"], 7, "{rounds}");
    assert_eq!(rounds[0]["seeds"], 1, "{rounds}");
    assert_eq!(rounds[0]["manifests"], 1, "{rounds}");
    assert_eq!(rounds[0]["results"], 1, "{rounds}");
    assert_eq!(rounds[0]["matches"], 1, "{rounds}");
    assert_eq!(rounds[0]["state_commit"], state_commit.as_str(), "{rounds}");
    // Paging through the round index, and the raw messages of one round.
    assert_eq!(
        get("/api/rounds?limit=1").await.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(get("/api/rounds?before=7").await, serde_json::json!([]));
    let round = get("/api/rounds/7").await;
    let in_r7: usize = ["seeds", "manifests", "results", "leaders"]
        .iter()
        .map(|k| round[*k].as_array().map_or(0, Vec::len))
        .sum();
    assert!(in_r7 >= 3, "{round}");
    assert_eq!(
        get("/api/messages?round=7").await.as_array().map(Vec::len),
        Some(in_r7)
    );
    assert_eq!(get("/api/messages?round=8").await, serde_json::json!([]));
    let r = fetch("/api/rounds/7/prompts").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.bytes().await.expect("body").as_ref(),
        prompts_txt.as_slice()
    );
    assert_eq!(round["leaders"].as_array().map(Vec::len), Some(1));
    assert_eq!(get("/api/leaders").await.as_array().map(Vec::len), Some(1));
    assert_eq!(
        get("/api/manifests?round=7").await.as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(get("/api/metagraph").await["registered"], 3);
    // identify and ping are observable per peer: the agent string and a round trip.
    let until = Instant::now() + Duration::from_secs(20);
    let peers = loop {
        let peers = get("/api/peers").await;
        let seen = peers.as_array().is_some_and(|l| {
            l.iter().any(|p| {
                p["agent"].as_str().is_some_and(|a| a.starts_with("sn17/")) && p["ping_ms"].is_f64()
            })
        });
        if seen || Instant::now() > until {
            break peers;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        peers.as_array().is_some_and(|l| l.iter().any(|p| {
            p["agent"].as_str().is_some_and(|a| a.starts_with("sn17/"))
                && p["ping_ms"].as_f64().is_some_and(|ms| ms >= 0.0)
                && p["banned"] == false
        })),
        "{peers}"
    );

    // `p2p peers` joins through the explorer and lists it with its agent.
    let o = Command::new(BIN)
        .args(["--json", "p2p", "peers", "--wait", "3"])
        .args(joining(&boot, &mg_arg))
        .output()
        .expect("p2p peers runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed: Value = serde_json::from_slice(&o.stdout).expect("json");
    let explorer_entry = listed
        .as_array()
        .and_then(|l| l.iter().find(|p| p["peer_id"] == peer_id.as_str()))
        .unwrap_or_else(|| panic!("the explorer is not among the peers: {listed}"));
    assert!(
        explorer_entry["agent"]
            .as_str()
            .is_some_and(|a| a.starts_with("sn17/")),
        "{explorer_entry}"
    );

    // A second explorer with no bootstrap peer fills its store with `--catch-up`.
    let data2 = dir.path().join("explorer2-data");
    let (explorer2, ready2) = start_explorer(&data2, &mg_arg, "", &["--catch-up", &http]);
    let http2 = ready2["http"].as_str().expect("http").to_string();
    let caught: Value = serde_json::from_slice(
        &client
            .get(format!("{http2}/api/rounds/7"))
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    for (kind, n) in [
        ("seeds", 1),
        ("manifests", 1),
        ("results", 1),
        ("leaders", 1),
    ] {
        assert_eq!(
            caught[kind].as_array().map(Vec::len),
            Some(n),
            "{kind}: {caught}"
        );
    }
    drop(explorer2);
    assert_eq!(get("/api/messages").await.as_array().map(Vec::len), Some(4));
    let status = get("/api/status").await;
    assert_eq!(status["peer_id"], peer_id.as_str());
    // Bad requests are refused with a status and a JSON error.
    for (path, code) in [
        ("/api/rounds/99", 404),
        ("/api/rounds/x", 400),
        ("/api/rounds?limit=0", 400),
        ("/api/rounds?before=x", 400),
        ("/api/nope", 404),
    ] {
        assert_eq!(fetch(path).await.status().as_u16(), code, "{path}");
    }
    let r = client
        .post(format!("{http}/api/rounds"))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 405);

    // The page, in a real browser.
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("SN17_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "SN17_REQUIRE_CHROMIUM=1 but no chromium is installed"
        );
        eprintln!("SKIP: chromium is not installed; the page was not rendered");
        return;
    };
    let profile = tempfile::tempdir().expect("tmp");
    let list = tokio::task::spawn_blocking({
        let (b, u, p) = (
            browser.clone(),
            format!("{http}/#/"),
            profile.path().to_path_buf(),
        );
        move || dump_dom(&b, &u, &p)
    })
    .await
    .expect("join");
    assert!(
        list.contains(r#"class="round-row" data-round="7""#),
        "{list}"
    );
    assert!(list.contains("1057211355"), "the seed is shown: {list}");
    let page = tokio::task::spawn_blocking({
        let (b, u, p) = (
            browser,
            format!("{http}/#/round/7"),
            profile.path().to_path_buf(),
        );
        move || dump_dom(&b, &u, &p)
    })
    .await
    .expect("join");
    assert!(page.contains("Round 7"), "{page}");
    assert!(
        page.contains(&format!(r#"data-miner="{}""#, miner.ss58())),
        "{page}"
    );
    assert!(page.contains("https://cdn.example.org/m3"), "{page}");
    assert!(
        page.contains(r#"class="duel-row""#) && page.contains("0.125"),
        "{page}"
    );
    assert!(page.contains(r#"class="leader-row""#), "{page}");
    // The state commit links to GitHub (the result names a GitHub owner/name).
    assert!(
        page.contains(&format!(
            r#"href="https://github.com/404-Repo/404-competition-0/commit/{state_commit}""#
        )),
        "{page}"
    );
    assert!(page.contains(r#"href="/api/rounds/7/prompts""#), "{page}");
    // The thumbnail was fetched from the renders server and decoded (its natural width, 4 px,
    // written by the page's onload handler).
    let wanted = format!("/rounds/7/{}/submitted/prompt-0/grid.png", miner.ss58());
    let requested = render_requests
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    assert!(requested.contains(&wanted), "{requested:?}");
    assert!(
        page.contains(r#"class="thumb""#) && page.contains(r#"data-width="4""#),
        "{page}"
    );
    validator.cancel.cancel();
}
