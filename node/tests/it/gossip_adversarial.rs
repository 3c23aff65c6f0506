//! A hostile peer (a raw libp2p swarm that forwards anything) against five honest nodes: wrong
//! signature, unregistered signer, a miner's seed, an oversized message, a replayed old message
//! and a flood of 10,000 invalid messages. None is accepted, the honest mesh keeps delivering,
//! the attacker's gossipsub score drops below zero, and the victim blacklists it once it has
//! forwarded more invalid messages than its limit (set low here: 5).

use std::time::Duration;

use crate::gossip_support::*;
use futures::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use sn17_node::gossip::{topic, Kind};
use tokio::sync::mpsc;

/// The attacker: plain gossipsub, no validation, publishes whatever it is told.
async fn attacker(target: Multiaddr, mut rx: mpsc::Receiver<(Kind, Vec<u8>)>) -> PeerId {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Anonymous)
        .heartbeat_interval(Duration::from_millis(200))
        .max_transmit_size(1 << 20)
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(sn17_node::gossip::message::message_id(&m.data))
        })
        .build()
        .expect("config");
    let mut gs: gossipsub::Behaviour =
        gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config).expect("gs");
    for k in Kind::ALL {
        gs.subscribe(&IdentTopic::new(topic(NETUID, k)))
            .expect("subscribe");
    }
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|_| gs)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    swarm.dial(target).expect("dial");
    tokio::spawn(async move {
        loop {
            tokio::select! {
                m = rx.recv() => match m {
                    Some((k, bytes)) => {
                        // Queue-full errors are the flood's problem, not the test's.
                        let _ = swarm.behaviour_mut().publish(IdentTopic::new(topic(NETUID, k)), bytes);
                    }
                    None => break,
                },
                ev = swarm.select_next_some() => {
                    if let SwarmEvent::ConnectionClosed { .. } = ev {
                        tracing::debug!("attacker lost a connection");
                    }
                }
            }
        }
    });
    peer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_are_rejected_and_the_flooder_is_penalised() {
    let mg = metagraph();
    let dirs: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let mut nodes: Vec<TestNode> = Vec::new();
    for dir in &dirs {
        let boot = nodes
            .first()
            .map(|n| vec![n.addr.clone()])
            .unwrap_or_default();
        let mut c = config(boot);
        c.rate.max_invalid = 5;
        nodes.push(
            start(
                c,
                mg.clone(),
                open_store(dir.path()),
                libp2p::identity::Keypair::generate_ed25519(),
            )
            .await,
        );
    }
    let refs: Vec<&TestNode> = nodes.iter().collect();
    assert!(wait_peers(&refs, 1, Duration::from_secs(20)).await);

    let (tx, rx) = mpsc::channel(20_000);
    let bad_peer = attacker(nodes[0].addr.clone(), rx).await;
    // Wait until the attacker is connected and subscribed.
    let mut connected = false;
    for _ in 0..100 {
        let peers = nodes[0].handle.peers().await.expect("peers");
        if peers.iter().any(|p| p.peer_id == bad_peer.to_string()) {
            connected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connected, "attacker connects");
    tokio::time::sleep(Duration::from_secs(1)).await;

    // One of each invalid kind.
    let mut wrong_sig = signed(1, HEAD, seed(11));
    wrong_sig.signature[0] ^= 0xff;
    let oversized = {
        let mut m = match manifest(11, 3) {
            sn17_node::gossip::Payload::Manifest(m) => m,
            _ => unreachable!(),
        };
        m.cdn_url = "x".repeat(100 * 1024);
        signed(3, HEAD, sn17_node::gossip::Payload::Manifest(m))
    };
    let cases = [
        (Kind::Seed, wrong_sig.to_bytes()),
        (Kind::Seed, signed(9, HEAD, seed(12)).to_bytes()), // unregistered signer
        (Kind::Seed, signed(3, HEAD, seed(13)).to_bytes()), // a miner's seed
        (Kind::Manifest, oversized.to_bytes()),
        (Kind::Seed, signed(1, 100, seed(14)).to_bytes()), // replay of a block-100 message
        (Kind::Manifest, signed(3, HEAD, manifest(15, 4)).to_bytes()), // someone else's manifest
    ];
    for (k, bytes) in cases {
        tx.send((k, bytes)).await.expect("send");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The flood: 10,000 distinct invalid messages.
    for i in 0..10_000u32 {
        let mut e = signed(2, HEAD, seed(100 + u64::from(i % 50)));
        e.signature[..4].copy_from_slice(&i.to_le_bytes());
        tx.send((Kind::Seed, e.to_bytes())).await.expect("send");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Nothing was accepted anywhere.
    for (i, n) in nodes.iter().enumerate() {
        let s = n.handle.stats().await.expect("stats");
        assert_eq!(s.accepted, 0, "node {i} accepted something: {s:?}");
        assert!(
            sn17_node::gossip::records::all(&n.store)
                .expect("records")
                .is_empty(),
            "node {i} stored something"
        );
    }
    let s0 = nodes[0].handle.stats().await.expect("stats");
    assert!(s0.rejected >= 6, "{s0:?}");
    eprintln!("victim: {s0:?}");

    // The attacker's score at its victim is negative.
    let peers = nodes[0].handle.peers().await.expect("peers");
    let score = peers
        .iter()
        .find(|p| p.peer_id == bad_peer.to_string())
        .and_then(|p| p.score);
    // Each invalid message it forwarded costs −count² (P4); once blacklisted its messages are
    // dropped unread (no further score change), which is why the victim validated only a
    // handful of the 10,000.
    assert!(score.is_some_and(|s| s < -25.0), "attacker score {score:?}");
    eprintln!("attacker score {score:?}");
    // More than 5 invalid messages by rules every node shares (bad signatures, a foreign
    // manifest, the oversized one): blacklisted, and no honest peer with it.
    assert!(s0.peers_banned >= 1, "{s0:?}");
    for p in &peers {
        assert_eq!(p.banned, p.peer_id == bad_peer.to_string(), "{p:?}");
    }

    // The honest mesh still delivers.
    let honest = signed(2, HEAD, seed(20));
    let id = nodes[4]
        .handle
        .publish(honest.clone())
        .await
        .expect("publish")
        .id;
    for (i, n) in nodes.iter_mut().enumerate() {
        assert!(
            wait_for(n, &id, Duration::from_secs(10)).await,
            "node {i} missed the honest seed"
        );
    }
    // Honest peers keep a non-negative score.
    for p in nodes[0].handle.peers().await.expect("peers") {
        if p.peer_id != bad_peer.to_string() {
            assert!(p.score.unwrap_or(0.0) >= 0.0, "honest {p:?}");
        }
    }
    // Replays: the attacker resends the accepted bytes, a node re-signs the same round.
    tx.send((Kind::Seed, honest.to_bytes()))
        .await
        .expect("send");
    let again = signed(2, HEAD, seed(20));
    assert!(
        nodes[1].handle.publish(again).await.is_err(),
        "a second seed for round 20 from the same validator conflicts"
    );
    // The publisher itself retrying (the same bytes, or a re-signed copy, as after a
    // restart) gets the first version back instead of an error.
    let retry = nodes[4]
        .handle
        .publish(honest.clone())
        .await
        .expect("retry");
    assert_eq!((retry.id.as_str(), retry.sent), (id.as_str(), true));
    let resigned = nodes[4]
        .handle
        .publish(signed(2, HEAD, seed(20)))
        .await
        .expect("re-signed");
    assert_eq!(resigned.id, id);
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (i, n) in nodes.iter().enumerate() {
        let s = n.handle.stats().await.expect("stats");
        assert_eq!(s.accepted, 1, "node {i}: {s:?}");
    }
    for n in &nodes {
        n.cancel.cancel();
    }
}
