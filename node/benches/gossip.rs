//! `gossip/mesh_20x1000_60s`: 20 in-process nodes on 127.0.0.1 (one bootstrap address), signed
//! manifests published round-robin at a fixed rate, every delivery timed; then the validator's
//! cost per message (valid: decode + checks + sr25519 verify; invalid: rejected before it).
//!
//! By default every node runs as a real one does: the default [`RateLimit`] (per-hotkey limit on
//! valid messages, peers banned for invalid ones) and a RocksDB store that every accepted message
//! is written to. As the protocol has it, each manifest comes from its own miner hotkey (one
//! manifest per miner and round), so the per-hotkey limit sees honest traffic only.
//! `SN17_BENCH_LEGACY=1` runs the first configuration measured instead: rate limits off, no
//! store, 20 hotkeys each publishing manifests for ever new rounds.
//!
//! `cargo bench -p sn17 --bench gossip` (env: `SN17_BENCH_NODES`, `SN17_BENCH_RATE` msg/s,
//! `SN17_BENCH_SECS`, `SN17_BENCH_HEARTBEAT_MS`, `SN17_BENCH_LEGACY`). Prints one JSON object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use sn17_chain::wallet::Keypair;
use sn17_chain::Account;
use sn17_node::gossip::message::{FileHash, SubmissionManifest};
use sn17_node::gossip::validation::{Limits, RateLimit, Validator, Verdict};
use sn17_node::gossip::{
    Envelope, GossipConfig, GossipService, Kind, Member, MetagraphSnapshot, Payload,
    StaticMetagraph,
};

const NETUID: u16 = 17;
const HEAD: u64 = 10_000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key(n: u32) -> Keypair {
    let mut seed = [0u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    seed[31] = 0xb;
    Keypair::from_seed(&seed)
}

fn manifest(round: u64, k: &Keypair) -> Envelope {
    let payload = Payload::Manifest(SubmissionManifest {
        round,
        miner: k.public(),
        repo: "bench/miner".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        cdn_url: "https://cdn.example.org/bench".into(),
        files: (0..8)
            .map(|i| FileHash {
                stem: format!("prompt-{i}"),
                sha256: [i; 32],
            })
            .collect(),
    });
    Envelope::sign_with(NETUID, HEAD, k, payload)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let nodes = env_or("SN17_BENCH_NODES", 20) as usize;
    let rate = env_or("SN17_BENCH_RATE", 1000);
    let secs = env_or("SN17_BENCH_SECS", 60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let legacy = env_or("SN17_BENCH_LEGACY", 0) == 1;
    let mesh = runtime.block_on(mesh(nodes, rate, secs, legacy));
    let cost = validation_cost();
    let out = serde_json::json!({
        "bench": format!("gossip/mesh_{nodes}x{rate}_{secs}s"),
        "config": if legacy { "legacy: rate limits off, no store" } else { "default: rate limits on, RocksDB store" },
        "mesh": mesh,
        "validation": cost,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

async fn mesh(n: usize, rate: u64, secs: u64, legacy: bool) -> serde_json::Value {
    let heartbeat_ms = env_or("SN17_BENCH_HEARTBEAT_MS", 200);
    let total = rate * secs;
    // Default: one miner hotkey per manifest; legacy: one per node.
    let signers = if legacy { n as u64 } else { total.max(1) };
    eprintln!("making {signers} hotkeys…");
    let keys: Vec<Keypair> = (0..signers as u32).map(key).collect();
    let members = keys.iter().enumerate().map(|(i, k)| Member {
        uid: i as u16, // wraps past 65,535 hotkeys; the bench looks members up by hotkey
        hotkey: Account(k.public()),
        validator_permit: false,
        stake: 0,
        axon: None,
    });
    let mg = Arc::new(StaticMetagraph::new(MetagraphSnapshot::new(
        NETUID, HEAD, members,
    )));
    let config = |boot: Vec<libp2p::Multiaddr>| {
        let mut c = GossipConfig::new(NETUID);
        c.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("addr")];
        c.bootstrap = boot;
        c.chain_discovery = false;
        if legacy {
            c.rate = RateLimit::off();
        }
        c.discovery_interval = Duration::from_secs(1);
        c.heartbeat = Duration::from_millis(heartbeat_ms);
        c
    };
    // Publish time of every message id; receivers look it up.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut handles = Vec::new();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut boot = Vec::new();
    let db_dir = tempfile::tempdir().expect("tmp");
    for i in 0..n {
        let store = (!legacy).then(|| {
            sn17_storage::db::Store::open(
                db_dir.path().join(format!("node{i}")),
                &sn17_storage::db::StoreOptions::default(),
            )
            .expect("store")
        });
        let (h, s) = GossipService::start(
            config(boot.clone()),
            libp2p::identity::Keypair::generate_ed25519(),
            mg.clone(),
            store,
        )
        .expect("node");
        tokio::spawn(s.run(shutdown.clone()));
        if i == 0 {
            let a = h
                .wait_listen_addr(Duration::from_secs(5))
                .await
                .expect("listen");
            boot = vec![a.with(Protocol::P2p(h.peer_id()))];
        }
        let mut rx = h.subscribe();
        let (sent, lat) = (sent.clone(), latencies.clone());
        tokio::spawn(async move {
            while let Ok(m) = rx.recv().await {
                if m.peer == "local" {
                    continue;
                }
                let now = Instant::now();
                let t = sent.lock().ok().and_then(|s| s.get(&m.id).copied());
                if let (Some(t), Ok(mut l)) = (t, lat.lock()) {
                    l.push(now.duration_since(t).as_secs_f64() * 1e3);
                }
            }
        });
        handles.push(h);
    }
    // Mesh up: everyone with at least 3 peers, then a few heartbeats.
    let t0 = Instant::now();
    loop {
        let mut min = usize::MAX;
        for h in &handles {
            min = min.min(h.peers().await.map(|p| p.len()).unwrap_or(0));
        }
        if min >= 3 || t0.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mesh_secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut peer_counts = Vec::new();
    for h in &handles {
        peer_counts.push(h.peers().await.map(|p| p.len()).unwrap_or(0));
    }

    eprintln!("signing {total} messages…");
    let msgs: Vec<(usize, Envelope)> = (0..total)
        .map(|i| {
            let node = (i % n as u64) as usize;
            let env = if legacy {
                manifest(1 + i, &keys[node])
            } else {
                manifest(1, &keys[i as usize])
            };
            (node, env)
        })
        .collect();
    eprintln!("publishing at {rate} msg/s for {secs} s on {n} nodes…");
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut failed = 0u64;
    for (who, env) in msgs {
        tick.tick().await;
        let id = sn17_node::gossip::message::message_id(&env.to_bytes());
        if let Ok(mut s) = sent.lock() {
            s.insert(id, Instant::now());
        }
        if handles[who].publish(env).await.is_err() {
            failed += 1;
        }
    }
    let publish_secs = start.elapsed().as_secs_f64();
    // Drain.
    let expected = total * (n as u64 - 1);
    let drain_start = Instant::now();
    loop {
        let got = latencies.lock().map(|l| l.len() as u64).unwrap_or(0);
        if got >= expected || drain_start.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stats = Vec::new();
    for h in &handles {
        if let Ok(s) = h.stats().await {
            stats.push(s);
        }
    }
    shutdown.cancel();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort_by(|a, b| a.total_cmp(b));
    let delivered = lat.len() as u64;
    let validated: u64 = stats.iter().map(|s| s.validated).sum();
    let vns: u64 = stats.iter().map(|s| s.validation_ns).sum();
    serde_json::json!({
        "nodes": n,
        "heartbeat_ms": heartbeat_ms,
        "rate_per_s": rate,
        "secs": secs,
        "messages": total,
        "publish_failed": failed,
        "publish_wall_s": publish_secs,
        "mesh_formed_s": mesh_secs,
        "peers_min": peer_counts.iter().min(),
        "peers_max": peer_counts.iter().max(),
        "deliveries_expected": expected,
        "deliveries": delivered,
        "delivery_ratio": delivered as f64 / expected.max(1) as f64,
        "latency_ms_p50": percentile(&lat, 0.50),
        "latency_ms_p99": percentile(&lat, 0.99),
        "latency_ms_max": lat.last(),
        "in_loop_validation_us_per_msg": vns as f64 / validated.max(1) as f64 / 1e3,
        "rejected": stats.iter().map(|s| s.rejected).sum::<u64>(),
        "rate_limited": stats.iter().map(|s| s.rate_limited).sum::<u64>(),
        "peers_banned": stats.iter().map(|s| s.peers_banned).sum::<u64>(),
        "duplicates_ignored": stats.iter().map(|s| s.ignored_duplicate).sum::<u64>(),
    })
}

/// The validator alone, on one core.
fn validation_cost() -> serde_json::Value {
    let k = key(1);
    let mg = MetagraphSnapshot::new(
        NETUID,
        HEAD,
        [Member {
            uid: 0,
            hotkey: Account(k.public()),
            validator_permit: false,
            stake: 0,
            axon: None,
        }],
    );
    let count = 2000u64;
    let valid: Vec<Vec<u8>> = (0..count).map(|i| manifest(1 + i, &k).to_bytes()).collect();
    // One hotkey publishing 2,000 rounds: the per-hotkey limit would stop it at 64, so it is
    // off here (this measures the checks, not the limit).
    let mut v = Validator::new(NETUID, Limits::default(), RateLimit::off());
    let t = Instant::now();
    let mut ok = 0;
    for b in &valid {
        if let Verdict::Accept { .. } = v.check(b, Kind::Manifest, None, &mg, true) {
            ok += 1;
        }
    }
    let valid_us = t.elapsed().as_secs_f64() * 1e6 / count as f64;
    // Invalid signatures cost a full verify; garbage and unregistered signers do not.
    let bad_sig: Vec<Vec<u8>> = valid
        .iter()
        .map(|b| {
            let mut b = b.clone();
            let l = b.len();
            b[l - 1] ^= 1;
            b
        })
        .collect();
    let mut v = Validator::new(NETUID, Limits::default(), RateLimit::off());
    let t = Instant::now();
    for b in &bad_sig {
        let _ = v.check(b, Kind::Manifest, None, &mg, true);
    }
    let bad_sig_us = t.elapsed().as_secs_f64() * 1e6 / count as f64;
    let stranger = key(99);
    let unreg: Vec<Vec<u8>> = (0..count)
        .map(|i| manifest(1 + i, &stranger).to_bytes())
        .collect();
    let t = Instant::now();
    for b in &unreg {
        let _ = v.check(b, Kind::Manifest, None, &mg, true);
    }
    let unreg_us = t.elapsed().as_secs_f64() * 1e6 / count as f64;
    let garbage: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let mut g = vec![1u8; 300];
            g[1..9].copy_from_slice(&i.to_le_bytes());
            g
        })
        .collect();
    let t = Instant::now();
    for b in &garbage {
        let _ = v.check(b, Kind::Manifest, None, &mg, true);
    }
    let garbage_us = t.elapsed().as_secs_f64() * 1e6 / count as f64;
    serde_json::json!({
        "message_bytes": valid.first().map(Vec::len),
        "valid_accepted": ok,
        "valid_us_per_msg": valid_us,
        "bad_signature_us_per_msg": bad_sig_us,
        "unregistered_us_per_msg": unreg_us,
        "garbage_us_per_msg": garbage_us,
    })
}
