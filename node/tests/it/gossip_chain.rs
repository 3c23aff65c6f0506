//! Chain-based discovery against a real Subtensor runtime (spec 218 in chopsticks): two
//! `sn17 explorer run` nodes with no bootstrap address announce their p2p address with
//! `serve_axon` and find each other through the metagraph's axons.
//!
//! The chain refuses 127.0.0.1 as an axon IP, so the nodes listen on 127.0.0.2 and 127.0.0.3
//! (loopback on Linux too).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sn17_chain::{Account, PairSigner};
use sn17_tests::{shared::shared_file, Chopsticks};

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli(url: &str, wallets: &Path, cache: &Path, wallet: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(args)
        .args(["--subtensor.chain_endpoint", url])
        .args(["--wallet.path", &wallets.display().to_string()])
        .args(["--wallet.name", wallet, "--json"])
        .env("SN17_CACHE_DIR", cache)
        .env_remove("SN17_WALLET_PASSWORD")
        .output()
        .expect("sn17 runs");
    assert!(
        out.status.success(),
        "sn17 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

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
    rx.recv_timeout(timeout)
        .expect("the node prints its addresses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The chain slot is held for the whole test on purpose; no task of the test takes it.
#[allow(clippy::await_holding_lock)]
async fn nodes_find_each_other_through_axons_on_chain() {
    let _slot = crate::chain_slot();
    let Some(genesis) = shared_file("chain/raonet.json") else {
        return;
    };
    if std::net::TcpListener::bind("127.0.0.2:0").is_err() {
        eprintln!("SKIP: 127.0.0.2 is not a local address here");
        return;
    }
    let chain = Chopsticks::start(&genesis).await.expect("chopsticks");
    let dir = tempfile::tempdir().expect("tmp");
    let wallets = dir.path().join("wallets");
    let cache = dir.path().join("cache");
    let url = chain.url().to_string();
    let mut colds = Vec::new();
    for w in ["alpha", "beta"] {
        cli(
            &url,
            &wallets,
            &cache,
            w,
            &["wallet", "create", "--no-password"],
        );
        let shown = cli(&url, &wallets, &cache, w, &["wallet", "show"]);
        let cold: Account = shown["coldkey"]
            .as_str()
            .expect("cold")
            .parse()
            .expect("ss58");
        colds.push(cold.ss58());
    }
    let alice = PairSigner::dev("//Alice").expect("alice");
    chain
        .fund_and_sudo(&alice.account().ss58(), &colds)
        .await
        .expect("fund");
    let netuid: u16 = 1;
    chain.tune_subnet(netuid, 3, false).await.expect("tune");
    let nu = netuid.to_string();
    for w in ["alpha", "beta"] {
        cli(
            &url,
            &wallets,
            &cache,
            w,
            &["chain", "register", "--netuid", &nu, "--max-price", "10"],
        );
    }

    let start = |wallet: &str, ip: &str| {
        let data = dir.path().join(wallet);
        Kill(
            Command::new(BIN)
                .args(["explorer", "run", "--json", "--http", "127.0.0.1:0"])
                .args(["--data-dir", &data.display().to_string()])
                .args(["--p2p.listen", &format!("/ip4/{ip}/tcp/0")])
                .args(["--p2p.announce-ip", ip, "--metagraph-refresh", "2"])
                .args(["--netuid", &nu, "--subtensor.chain_endpoint", &url])
                .args(["--wallet.path", &wallets.display().to_string()])
                .args(["--wallet.name", wallet])
                .env("SN17_CACHE_DIR", &cache)
                .env_remove("SN17_WALLET_PASSWORD")
                .stdout(Stdio::piped())
                .spawn()
                .expect("explorer starts"),
        )
    };
    let mut a = start("alpha", "127.0.0.2");
    let ready_a = first_json_line(&mut a.0, Duration::from_secs(120));
    let mut b = start("beta", "127.0.0.3");
    let ready_b = first_json_line(&mut b.0, Duration::from_secs(120));
    let (id_a, id_b) = (ready_a["peer_id"].clone(), ready_b["peer_id"].clone());

    // Both axons are on chain.
    let client = sn17_chain::Subtensor::connect(&url, &sn17_chain::ConnectOptions::default())
        .await
        .expect("connect");
    let mg = client
        .metagraph(netuid, sn17_chain::metagraph::Source::Auto)
        .await
        .expect("metagraph");
    let axons: Vec<String> = mg
        .neurons
        .iter()
        .filter_map(|n| {
            n.axon
                .as_ref()
                .and_then(|a| a.ip_addr())
                .map(|ip| ip.to_string())
        })
        .collect();
    assert!(
        axons.iter().any(|a| a == "127.0.0.2") && axons.iter().any(|a| a == "127.0.0.3"),
        "{axons:?}"
    );

    let client = reqwest::Client::new();
    let peers_of = |ready: &Value| {
        let url = format!("{}/api/peers", ready["http"].as_str().unwrap_or_default());
        let client = client.clone();
        async move {
            match client.get(&url).send().await {
                Ok(r) => match r.bytes().await {
                    Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
                    Err(_) => Value::Null,
                },
                Err(_) => Value::Null,
            }
        }
    };
    let until = Instant::now() + Duration::from_secs(90);
    loop {
        let pa = peers_of(&ready_a).await;
        let pb = peers_of(&ready_b).await;
        let has = |list: &Value, id: &Value| {
            list.as_array()
                .is_some_and(|l| l.iter().any(|p| &p["peer_id"] == id))
        };
        if has(&pa, &id_b) && has(&pb, &id_a) {
            break;
        }
        assert!(
            Instant::now() < until,
            "no discovery through axons: {pa} / {pb}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
