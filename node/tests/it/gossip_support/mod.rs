//! Shared helpers of the gossip and explorer tests: hotkeys, a static metagraph, in-process
//! nodes on 127.0.0.1, waiting for deliveries.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use sn17_chain::wallet::Keypair;
use sn17_chain::Account;
use sn17_node::gossip::message::{
    FileHash, MatchOutcome, RoundResult, RoundSeed, Schedule, SubmissionManifest,
};
use sn17_node::gossip::{
    Accepted, Envelope, GossipConfig, GossipHandle, GossipService, Member, MetagraphSnapshot,
    Payload, StaticMetagraph,
};
use sn17_storage::db::{Store, StoreOptions};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub const NETUID: u16 = 17;
pub const HEAD: u64 = 100_000;

/// Hotkey `n` (deterministic).
pub fn key(n: u8) -> Keypair {
    Keypair::from_seed(&[n; 32])
}

/// Validators 1 and 2 (permit), miners 3, 4, 5; hotkey 9 is not registered.
pub fn metagraph() -> Arc<StaticMetagraph> {
    let members =
        [(1u8, true), (2, true), (3, false), (4, false), (5, false)].map(|(n, p)| Member {
            uid: n.into(),
            hotkey: Account(key(n).public()),
            validator_permit: p,
            stake: 1000,
            axon: None,
        });
    Arc::new(StaticMetagraph::new(MetagraphSnapshot::new(
        NETUID, HEAD, members,
    )))
}

pub fn seed(round: u64) -> Payload {
    Payload::Seed(RoundSeed {
        round,
        seed: 1_057_211_355,
        drand_round: Some(12_345_678),
        schedule: Schedule {
            earliest_reveal_block: HEAD - 100,
            latest_reveal_block: HEAD,
            generation_deadline_block: Some(HEAD + 300),
        },
        prompts_sha256: [7; 32],
        prompts_count: 64,
        prompts_url: "https://example.org/rounds/7/prompts.txt".into(),
        prompts_inline: Vec::new(),
    })
}

pub fn manifest(round: u64, miner: u8) -> Payload {
    Payload::Manifest(SubmissionManifest {
        round,
        miner: key(miner).public(),
        repo: format!("miner{miner}/gen"),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        cdn_url: format!("https://cdn.example.org/{miner}"),
        files: vec![FileHash {
            stem: "prompt-0".into(),
            sha256: [miner; 32],
        }],
    })
}

pub fn result(round: u64) -> Payload {
    Payload::Result(RoundResult {
        round,
        winner: Account(key(3).public()).ss58(),
        repo: "miner3/gen".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        docker_image: None,
        matches: vec![MatchOutcome {
            left: Account(key(3).public()).ss58(),
            right: "leader".into(),
            winner: Account(key(3).public()).ss58(),
            margin_micro: 125_000,
        }],
        state_repo: "404-Repo/404-competition-0".into(),
        state_commit: "89abcdef".into(),
    })
}

pub fn signed(signer: u8, block: u64, payload: Payload) -> Envelope {
    Envelope::sign_with(NETUID, block, &key(signer), payload)
}

/// An in-process node.
pub struct TestNode {
    pub handle: GossipHandle,
    pub rx: broadcast::Receiver<Arc<Accepted>>,
    pub store: Store,
    pub cancel: CancellationToken,
    /// Listen address with `/p2p/<id>`.
    pub addr: Multiaddr,
    pub key: libp2p::identity::Keypair,
}

pub fn config(bootstrap: Vec<Multiaddr>) -> GossipConfig {
    let mut c = GossipConfig::new(NETUID);
    c.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr")];
    c.bootstrap = bootstrap;
    c.chain_discovery = false;
    c.heartbeat = Duration::from_millis(200);
    c.discovery_interval = Duration::from_millis(500);
    c
}

pub async fn start(
    config: GossipConfig,
    mg: Arc<StaticMetagraph>,
    store: Store,
    key: libp2p::identity::Keypair,
) -> TestNode {
    let (handle, service) =
        GossipService::start(config, key.clone(), mg, Some(store.clone())).expect("starts");
    let rx = handle.subscribe();
    let cancel = CancellationToken::new();
    tokio::spawn(service.run(cancel.clone()));
    let listen = handle
        .wait_listen_addr(Duration::from_secs(5))
        .await
        .expect("listens");
    let addr = listen.with(Protocol::P2p(handle.peer_id()));
    TestNode {
        handle,
        rx,
        store,
        cancel,
        addr,
        key,
    }
}

pub fn open_store(dir: &std::path::Path) -> Store {
    Store::open(dir, &StoreOptions::default()).expect("store opens")
}

/// Waits until the node has accepted a message with `id`; other messages are skipped.
pub async fn wait_for(node: &mut TestNode, id: &str, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match tokio::time::timeout(left, node.rx.recv()).await {
            Ok(Ok(m)) if m.id == id => return true,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            _ => return false,
        }
    }
}

/// Waits until every node has at least `n` peers.
pub async fn wait_peers(nodes: &[&TestNode], n: usize, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    loop {
        let mut ok = true;
        for node in nodes {
            if node.handle.peers().await.expect("peers").len() < n {
                ok = false;
            }
        }
        if ok {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
