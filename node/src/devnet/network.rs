//! The devnet's gossip network: an explorer node that stores every validated message and serves
//! the explorer API and page, and the validator's node, which publishes each round's seed, result
//! and leader change signed by the validator's hotkey. Both check senders against the chain's
//! metagraph, as on finney.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use sn17_chain::{PairSigner, Subtensor};
use sn17_node::explorer::{self, ExplorerState};
use sn17_node::gossip::{
    ChainMetagraph, GossipConfig, GossipHandle, GossipService, MetagraphView, Payload,
};
use sn17_storage::db::{Store, StoreOptions};
use tokio_util::sync::CancellationToken;

pub struct DevNetwork {
    pub explorer_url: String,
    /// The explorer node's address with its peer id, for other nodes to bootstrap from.
    pub bootstrap: Multiaddr,
    netuid: u16,
    validator: GossipHandle,
    shutdown: CancellationToken,
}

impl Drop for DevNetwork {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn loopback() -> anyhow::Result<Multiaddr> {
    Ok("/ip4/127.0.0.1/tcp/0".parse()?)
}

impl DevNetwork {
    pub async fn start(client: &Subtensor, netuid: u16, dir: &Path) -> anyhow::Result<Self> {
        let shutdown = CancellationToken::new();
        let metagraph: Arc<dyn MetagraphView> = Arc::new(
            ChainMetagraph::spawn(
                client.clone(),
                netuid,
                Duration::from_secs(1),
                shutdown.clone(),
            )
            .await?,
        );
        let store = Store::open(dir.join("explorer-db"), &StoreOptions::default())?;
        let mut config = GossipConfig::new(netuid);
        config.listen = vec![loopback()?];
        config.chain_discovery = false;
        let key = libp2p::identity::Keypair::generate_ed25519();
        let (explorer_node, service) =
            GossipService::start(config.clone(), key, metagraph.clone(), Some(store.clone()))?;
        tokio::spawn(service.run(shutdown.clone()));
        let listen = explorer_node
            .wait_listen_addr(Duration::from_secs(10))
            .await?;
        let bootstrap = listen
            .with_p2p(explorer_node.peer_id())
            .map_err(|a| anyhow::anyhow!("cannot add the peer id to {a}"))?;

        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let explorer_url = format!("http://{}", http.local_addr()?);
        let state = Arc::new(ExplorerState {
            store,
            gossip: explorer_node,
            metagraph: metagraph.clone(),
            renders_url: None,
        });
        tokio::spawn(explorer::serve(http, state, shutdown.clone()));

        config.bootstrap = vec![bootstrap.clone()];
        let key = libp2p::identity::Keypair::generate_ed25519();
        let (validator, service) = GossipService::start(config, key, metagraph, None)?;
        tokio::spawn(service.run(shutdown.clone()));
        Ok(Self {
            explorer_url,
            bootstrap,
            netuid,
            validator,
            shutdown,
        })
    }

    /// Signs `payload` with `hotkey` at `block` and publishes it from the devnet's node.
    pub async fn publish(
        &self,
        hotkey: &PairSigner,
        block: u64,
        payload: Payload,
    ) -> anyhow::Result<()> {
        let sent =
            crate::validator::publish_signed(&self.validator, self.netuid, hotkey, block, payload)
                .await;
        anyhow::ensure!(sent, "no gossip peer took the message within 10 s");
        Ok(())
    }

    /// Waits (up to 10 s) until the explorer's metagraph has seen block `block`: gossip
    /// validation rejects messages signed far ahead of a node's head, and the devnet jumps
    /// thousands of blocks at once, which no real chain does.
    pub async fn wait_explorer_head(&self, block: u64) -> anyhow::Result<()> {
        self.api_until("status", |v| {
            v["head_estimate"].as_u64().is_some_and(|h| h >= block)
        })
        .await
        .map(|_| ())
    }

    /// `GET {explorer}/api/PATH` as JSON, polled until `ready` holds (the explorer stores what
    /// the gossip delivers, a moment after it was published).
    pub async fn api_until(
        &self,
        path: &str,
        ready: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<serde_json::Value> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let url = format!("{}/api/{path}", self.explorer_url);
        let started = Instant::now();
        loop {
            let body = http
                .get(&url)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            if ready(&v) || started.elapsed() > Duration::from_secs(10) {
                return Ok(v);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
