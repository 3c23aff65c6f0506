//! Metagraph sync latency on a local chopsticks chain (spec 218) for 16, 64 and 256 neurons:
//! warm (client already connected) and cold (a whole `sn17 chain metagraph` process).
//!
//! `cargo build --release -p sn17 && cargo bench -p sn17-tests --bench metagraph`
//! (set SN17_BIN to use another binary). Neurons are written straight into storage with
//! `dev_setStorage`, which gives the same chain state registrations would, in seconds.

use std::time::{Duration, Instant};

use codec::Encode;
use serde_json::json;
use sn17_chain::metagraph::Source;
use sn17_chain::{ConnectOptions, Subtensor};
use sn17_tests::{shared::shared_file, Chopsticks};

fn key(pallet: &str, item: &str, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut k = [
        sp_core::hashing::twox_128(pallet.as_bytes()),
        sp_core::hashing::twox_128(item.as_bytes()),
    ]
    .concat();
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

fn blake2_128_concat(data: &[u8]) -> Vec<u8> {
    let mut v = sp_core::hashing::blake2_128(data).to_vec();
    v.extend_from_slice(data);
    v
}

/// Writes `n` neurons into subnet `netuid` (which must exist).
async fn populate(chain: &Chopsticks, netuid: u16, n: u16) {
    let nu = netuid.encode();
    let mut pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    for uid in 0..n {
        let hk = sp_core::hashing::blake2_256(&[b"hot".as_slice(), &uid.to_le_bytes()].concat());
        let ck = sp_core::hashing::blake2_256(&[b"cold".as_slice(), &uid.to_le_bytes()].concat());
        pairs.push((
            key("SubtensorModule", "Keys", &[nu.clone(), uid.encode()]),
            Some(hk.to_vec()),
        ));
        pairs.push((
            key(
                "SubtensorModule",
                "Uids",
                &[nu.clone(), blake2_128_concat(&hk)],
            ),
            Some(uid.encode()),
        ));
        pairs.push((
            key("SubtensorModule", "Owner", &[blake2_128_concat(&hk)]),
            Some(ck.to_vec()),
        ));
        pairs.push((
            key(
                "SubtensorModule",
                "TotalHotkeyAlpha",
                &[blake2_128_concat(&hk), nu.clone()],
            ),
            Some((1_000_000_000u64 * u64::from(uid + 1)).encode()),
        ));
        // AxonInfo{block, version, ip, port, ip_type, protocol, placeholder1, placeholder2}
        let axon = (
            1u64,
            1u32,
            0x0a00_0001u128 + u128::from(uid),
            8091u16,
            4u8,
            4u8,
            0u8,
            0u8,
        )
            .encode();
        pairs.push((
            key(
                "SubtensorModule",
                "Axons",
                &[nu.clone(), blake2_128_concat(&hk)],
            ),
            Some(axon),
        ));
    }
    let n_usize = usize::from(n);
    let vecs: [(&str, Vec<u8>); 7] = [
        ("Active", vec![true; n_usize].encode()),
        (
            "ValidatorPermit",
            (0..n).map(|u| u < 64).collect::<Vec<bool>>().encode(),
        ),
        ("LastUpdate", vec![5u64; n_usize].encode()),
        ("Consensus", vec![100u16; n_usize].encode()),
        ("Dividends", vec![200u16; n_usize].encode()),
        ("Incentive", vec![300u16; n_usize].encode()),
        ("Emission", vec![400u64; n_usize].encode()),
    ];
    for (item, value) in vecs {
        pairs.push((
            key("SubtensorModule", item, std::slice::from_ref(&nu)),
            Some(value),
        ));
    }
    pairs.push((
        key("SubtensorModule", "SubnetworkN", std::slice::from_ref(&nu)),
        Some(n.encode()),
    ));
    for chunk in pairs.chunks(512) {
        chain.set_raw_storage(chunk).await.expect("set storage");
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(genesis) = shared_file("chain/raonet.json") else {
        return;
    };
    let bin = std::env::var("SN17_BIN").unwrap_or_else(|_| {
        sn17_tests::shared::workspace_root()
            .join("target/release/sn17")
            .display()
            .to_string()
    });
    let chain = Chopsticks::start(&genesis).await.expect("chopsticks");
    let cache = tempfile::tempdir().expect("tmp");
    println!("| neurons | warm median (ms) | cold median (ms) | runs |");
    println!("|---:|---:|---:|---:|");
    for (netuid, n) in [(1u16, 16u16), (2, 64), (3, 256)] {
        // Subnets 1..3 must exist: subnet 1 is in the genesis; mark the others added.
        chain
            .set_storage(json!({ "SubtensorModule": { "NetworksAdded": [[[netuid], true]] } }))
            .await
            .expect("add subnet");
        populate(&chain, netuid, n).await;
        let client = Subtensor::connect(chain.url(), &ConnectOptions::default())
            .await
            .expect("connect");
        let mg = client
            .metagraph(netuid, Source::Storage)
            .await
            .expect("metagraph");
        assert_eq!(mg.neurons.len(), usize::from(n));
        let mut warm = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let mg = client
                .metagraph(netuid, Source::Auto)
                .await
                .expect("metagraph");
            warm.push(t.elapsed());
            assert_eq!(mg.neurons.len(), usize::from(n));
        }
        let mut cold = Vec::new();
        let runs = if std::path::Path::new(&bin).exists() {
            10
        } else {
            0
        };
        for _ in 0..runs {
            let t = Instant::now();
            let out = std::process::Command::new(&bin)
                .args([
                    "chain",
                    "metagraph",
                    "--json",
                    "--netuid",
                    &netuid.to_string(),
                ])
                .args(["--subtensor.chain_endpoint", chain.url()])
                .env("SN17_CACHE_DIR", cache.path())
                .output()
                .expect("run sn17");
            cold.push(t.elapsed());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let cold_ms = if cold.is_empty() {
            "n/a (no release binary)".to_string()
        } else {
            format!("{:.1}", median(cold).as_secs_f64() * 1e3)
        };
        println!(
            "| {n} | {:.1} | {cold_ms} | 20 warm / {runs} cold |",
            median(warm).as_secs_f64() * 1e3
        );
        // The runtime API path, for comparison.
        let mut api = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let _ = client
                .metagraph(netuid, Source::RuntimeApi)
                .await
                .expect("runtime api");
            api.push(t.elapsed());
        }
        println!(
            "|   (runtime API path, warm) {n} | {:.1} | | 5 |",
            median(api).as_secs_f64() * 1e3
        );
    }
}
