//! `sn17 p2p …` (peer id, peers) and the shared start-up of a gossip node for the p2p, gossip
//! and explorer commands: metagraph (file or chain), identity, swarm, axon announcement, catch-up.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use libp2p::Multiaddr;
use sn17_storage::db::Store;
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::gossip::{
    self, ChainMetagraph, GossipConfig, GossipHandle, GossipService, MetagraphView, StaticMetagraph,
};
use crate::output;

/// Flags of every command that joins the gossip network.
#[derive(Args, Debug, Clone)]
pub struct P2pArgs {
    /// Data directory: the peer identity (`p2p/identity.key`), the database (`db/`) and the
    /// role's files; `validator run`, `miner run` and `explorer run` default to
    /// `~/.local/share/sn17/<role>`, other commands to `~/.local/share/sn17`.
    #[arg(long = "data-dir", env = "SN17_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Listen multiaddrs (default /ip4/0.0.0.0/tcp/9517).
    #[arg(long = "p2p.listen", env = "SN17_P2P_LISTEN", value_delimiter = ',')]
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers (multiaddrs, with or without /p2p/<id>).
    #[arg(
        long = "p2p.bootstrap",
        env = "SN17_P2P_BOOTSTRAP",
        value_delimiter = ','
    )]
    pub bootstrap: Vec<Multiaddr>,
    /// Do not dial the axons of registered hotkeys.
    #[arg(long = "p2p.no-chain-discovery")]
    pub no_chain_discovery: bool,
    /// Publish this IP and the listen port as the hotkey's axon (serve_axon) at start.
    #[arg(long = "p2p.announce-ip", env = "SN17_P2P_ANNOUNCE_IP")]
    pub announce_ip: Option<IpAddr>,
    /// Use a fresh identity instead of the data directory's (tools beside a running node).
    #[arg(long = "p2p.ephemeral")]
    pub ephemeral: bool,
    /// Read registered hotkeys from this JSON file instead of the chain (devnets, tests).
    #[arg(long = "metagraph-file", env = "SN17_METAGRAPH_FILE")]
    pub metagraph_file: Option<PathBuf>,
    /// Seconds between metagraph refreshes from the chain.
    #[arg(long = "metagraph-refresh", default_value_t = 60)]
    pub metagraph_refresh: u64,
    /// Fetch and validate every message an explorer holds (http://HOST:PORT) at start.
    #[arg(long = "catch-up", env = "SN17_CATCH_UP")]
    pub catch_up: Option<String>,
}

impl P2pArgs {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_local_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("sn17")
        })
    }

    pub fn identity_path(&self) -> PathBuf {
        gossip::identity::default_path(&self.data_dir())
    }
}

#[derive(Subcommand, Debug)]
pub enum P2pCommand {
    /// This node's peer id (the identity key is created on first use).
    Id {
        #[command(flatten)]
        p2p: P2pArgs,
    },
    /// Join the network for a while and list the peers reached.
    Peers {
        #[command(flatten)]
        p2p: P2pArgs,
        /// Seconds to wait for peers.
        #[arg(long, default_value_t = 5)]
        wait: u64,
    },
}

/// A running gossip node.
pub struct Node {
    pub handle: GossipHandle,
    pub metagraph: Arc<dyn MetagraphView>,
}

/// Starts a gossip node with `store` (None: nothing is persisted) until `shutdown`.
pub async fn start_node(
    g: &GlobalArgs,
    args: &P2pArgs,
    store: Option<Store>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Node> {
    let mut client = None;
    let metagraph: Arc<dyn MetagraphView> = match &args.metagraph_file {
        Some(path) => Arc::new(StaticMetagraph::from_file(path)?),
        None => {
            let c = g.connect().await?;
            client = Some(c.clone());
            Arc::new(
                ChainMetagraph::spawn(
                    c,
                    g.netuid,
                    Duration::from_secs(args.metagraph_refresh.max(1)),
                    shutdown.clone(),
                )
                .await?,
            )
        }
    };
    let key = if args.ephemeral {
        libp2p::identity::Keypair::generate_ed25519()
    } else {
        gossip::identity::load_or_create(&args.identity_path())?
    };
    let mut config = GossipConfig::new(g.netuid);
    if !args.listen.is_empty() {
        config.listen = args.listen.clone();
    }
    config.bootstrap = args.bootstrap.clone();
    config.chain_discovery = !args.no_chain_discovery;
    let (handle, service) = GossipService::start(config, key, metagraph.clone(), store)?;
    tokio::spawn(service.run(shutdown.clone()));
    let listen = handle.wait_listen_addr(Duration::from_secs(10)).await?;
    tracing::info!(peer_id = %handle.peer_id(), %listen, "gossip node up");

    if let Some(ip) = args.announce_ip {
        let port = gossip::service::multiaddr_socket(&listen)
            .map(|s| s.port())
            .context("listen address has no TCP port")?;
        let client = match client {
            Some(c) => c,
            None => g.connect().await?,
        };
        let wallet = g.wallet()?;
        let signer = super::hotkey_signer(&wallet)?;
        let hotkey = signer.account();
        let mg = client
            .metagraph(g.netuid, sn17_chain::metagraph::Source::Auto)
            .await?;
        let current = mg
            .by_hotkey(&hotkey)
            .and_then(|n| n.axon.as_ref())
            .and_then(|a| a.ip_addr().map(|i| (i, a.port)));
        if current != Some((ip, port)) {
            client
                .serve_axon(g.netuid, &signer, ip, port, 1)
                .await
                .with_context(|| format!("serve_axon {ip}:{port}"))?;
            tracing::info!(%ip, port, "axon announced");
        }
    }
    if let Some(url) = &args.catch_up {
        crate::explorer::catch_up(url, &handle).await?;
    }
    Ok(Node { handle, metagraph })
}

pub async fn run(g: &GlobalArgs, cmd: P2pCommand) -> anyhow::Result<()> {
    match cmd {
        P2pCommand::Id { p2p } => {
            let path = p2p.identity_path();
            let key = gossip::identity::load_or_create(&path)?;
            let peer_id = key.public().to_peer_id().to_string();
            if g.json {
                return output::json(&serde_json::json!({
                    "peer_id": peer_id,
                    "identity": path.display().to_string(),
                }));
            }
            println!("{peer_id}");
            Ok(())
        }
        P2pCommand::Peers { mut p2p, wait } => {
            p2p.ephemeral = true;
            if p2p.listen.is_empty() {
                p2p.listen = vec!["/ip4/0.0.0.0/tcp/0".parse()?];
            }
            let shutdown = CancellationToken::new();
            let node = start_node(g, &p2p, None, &shutdown).await?;
            // One discovery round happens at once; give connections and identify time.
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let peers = node.handle.peers().await?;
            shutdown.cancel();
            if g.json {
                return output::json(&peers);
            }
            for p in &peers {
                println!(
                    "{}  {}  {}",
                    p.peer_id,
                    p.agent.as_deref().unwrap_or("-"),
                    p.addresses.join(",")
                );
            }
            if peers.is_empty() {
                eprintln!("no peers reached in {wait} s");
            }
            Ok(())
        }
    }
}
