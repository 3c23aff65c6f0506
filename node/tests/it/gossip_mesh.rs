//! Gossip between in-process nodes on 127.0.0.1: a mesh formed from one bootstrap address
//! carries a validator's seed and a miner's manifest to every node, and a node restarted
//! mid-test catches up from an explorer's API.

use std::sync::Arc;
use std::time::Duration;

use crate::gossip_support::*;
use sn17_node::explorer::{self, ExplorerState};
use sn17_node::gossip::records;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_delivers_seed_and_manifest_and_restarted_node_catches_up() {
    let mg = metagraph();
    let dirs: Vec<tempfile::TempDir> = (0..6).map(|_| tempfile::tempdir().expect("tmp")).collect();

    // The bootstrap node also runs the explorer API.
    let boot = start(
        config(vec![]),
        mg.clone(),
        open_store(dirs[0].path()),
        libp2p::identity::Keypair::generate_ed25519(),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let api = format!("http://{}", listener.local_addr().expect("addr"));
    let state = Arc::new(ExplorerState {
        store: boot.store.clone(),
        gossip: boot.handle.clone(),
        metagraph: mg.clone(),
        renders_url: None,
    });
    tokio::spawn(explorer::serve(listener, state, boot.cancel.clone()));

    let mut nodes = vec![boot];
    for dir in &dirs[1..] {
        let n = start(
            config(vec![nodes[0].addr.clone()]),
            mg.clone(),
            open_store(dir.path()),
            libp2p::identity::Keypair::generate_ed25519(),
        )
        .await;
        nodes.push(n);
    }
    // Everyone reaches the bootstrap node, and Kademlia spreads the rest: a mesh, not a star.
    let refs: Vec<&TestNode> = nodes.iter().collect();
    assert!(
        wait_peers(&refs, 2, Duration::from_secs(30)).await,
        "every node should find more than the bootstrap peer"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A validator's seed from node 1 reaches all six.
    let seed = signed(1, HEAD, seed(7));
    let published = nodes[1].handle.publish(seed).await.expect("publish seed");
    for (i, n) in nodes.iter_mut().enumerate() {
        assert!(
            wait_for(n, &published.id, Duration::from_secs(10)).await,
            "node {i} did not get the seed"
        );
    }

    // A miner's manifest from node 3 reaches all six.
    let manifest_id = nodes[3]
        .handle
        .publish(signed(3, HEAD, manifest(7, 3)))
        .await
        .expect("publish manifest")
        .id;
    for (i, n) in nodes.iter_mut().enumerate() {
        assert!(
            wait_for(n, &manifest_id, Duration::from_secs(10)).await,
            "node {i} did not get the manifest"
        );
    }

    // Node 5 goes down; a result is published while it is away.
    let down = nodes.pop().expect("node 5");
    let key5 = down.key.clone();
    down.cancel.cancel();
    drop(down);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let result_id = nodes[2]
        .handle
        .publish(signed(2, HEAD, result(7)))
        .await
        .expect("publish result")
        .id;
    for n in nodes.iter_mut() {
        assert!(wait_for(n, &result_id, Duration::from_secs(10)).await);
    }

    // Restarted with the same identity and database: what it had is still there, and the
    // explorer's API fills in what it missed (every message re-validated).
    let mut store5 = None;
    for _ in 0..50 {
        // RocksDB's lock is released when the old service's last store handle drops.
        match sn17_storage::db::Store::open(dirs[5].path(), &Default::default()) {
            Ok(s) => {
                store5 = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let store5 = store5.expect("store reopens");
    let before: Vec<String> = records::all(&store5)
        .expect("records")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert!(before.contains(&published.id) && before.contains(&manifest_id));
    assert!(!before.contains(&result_id));
    let back = start(
        config(vec![nodes[0].addr.clone()]),
        mg.clone(),
        store5,
        key5,
    )
    .await;
    let (new, known, invalid) = explorer::catch_up(&api, &back.handle)
        .await
        .expect("catch-up");
    assert_eq!((new, known, invalid), (1, 2, 0));
    let after: Vec<String> = records::all(&back.store)
        .expect("records")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert!(after.contains(&result_id));

    // And it is a member of the mesh again: a new manifest reaches it live.
    assert!(wait_peers(&[&back], 1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut back = back;
    let late = nodes[4]
        .handle
        .publish(signed(4, HEAD, manifest(7, 4)))
        .await
        .expect("publish")
        .id;
    assert!(wait_for(&mut back, &late, Duration::from_secs(10)).await);

    for n in &nodes {
        n.cancel.cancel();
    }
    back.cancel.cancel();
}

/// Accepted and stored is not sent: a seed published with no peer, then the node restarted
/// before any peer came, goes out when the validator publishes it again (re-signed, as after a
/// restart): the first version, which the restarted node reads back from its store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_stored_while_alone_goes_out_when_republished_after_a_restart() {
    let mg = metagraph();
    let (dir, peer_dir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let store = open_store(dir.path());
    let identity = libp2p::identity::Keypair::generate_ed25519();
    let alone = start(config(vec![]), mg.clone(), store.clone(), identity.clone()).await;
    let first = alone
        .handle
        .publish(signed(1, HEAD, seed(8)))
        .await
        .expect("publish");
    assert!(!first.sent, "no peer yet: queued, not sent");
    alone.cancel.cancel();
    drop(alone);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let restarted = start(config(vec![]), mg.clone(), store, identity).await;
    let mut peer = start(
        config(vec![restarted.addr.clone()]),
        mg.clone(),
        open_store(peer_dir.path()),
        libp2p::identity::Keypair::generate_ed25519(),
    )
    .await;
    assert!(
        wait_peers(&[&restarted, &peer], 1, Duration::from_secs(30)).await,
        "the peer connects"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = restarted
        .handle
        .publish(signed(1, HEAD, seed(8)))
        .await
        .expect("republish");
    assert_eq!(again.id, first.id, "the first version stands");
    assert!(
        wait_for(&mut peer, &first.id, Duration::from_secs(10)).await,
        "the stored first version reaches the peer"
    );
}
