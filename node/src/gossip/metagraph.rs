//! Who may publish: the registered hotkeys of the subnet, their validator permits and axons, as
//! a trait with a static implementation (tests, devnets) and a chain-backed one refreshed
//! periodically.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sn17_chain::metagraph::Source;
use sn17_chain::{Account, Subtensor};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::error::{GossipError, Result};

/// Seconds per Subtensor block, for estimating the head between metagraph reads.
pub const BLOCK_SECS: u64 = 12;

/// One registered hotkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub uid: u16,
    pub hotkey: Account,
    #[serde(default)]
    pub validator_permit: bool,
    #[serde(default)]
    pub stake: u64,
    /// The served axon (the node's p2p TCP address), when any.
    #[serde(default)]
    pub axon: Option<SocketAddr>,
}

/// The registered hotkeys of a subnet at one block.
#[derive(Debug, Clone)]
pub struct MetagraphSnapshot {
    pub netuid: u16,
    pub block: u64,
    /// When `block` was read; the head is estimated from it.
    pub read_at: Instant,
    members: HashMap<[u8; 32], Member>,
}

impl MetagraphSnapshot {
    pub fn new(netuid: u16, block: u64, members: impl IntoIterator<Item = Member>) -> Self {
        Self {
            netuid,
            block,
            read_at: Instant::now(),
            members: members
                .into_iter()
                .map(|m| (*m.hotkey.as_bytes(), m))
                .collect(),
        }
    }

    /// From a chain metagraph.
    pub fn from_chain(mg: &sn17_chain::Metagraph) -> Self {
        let members = mg.neurons.iter().map(|n| Member {
            uid: n.uid,
            hotkey: n.hotkey,
            validator_permit: n.validator_permit,
            stake: n.stake,
            axon: n
                .axon
                .as_ref()
                .filter(|a| a.is_served())
                .and_then(|a| a.ip_addr().map(|ip| SocketAddr::new(ip, a.port))),
        });
        Self::new(mg.netuid, mg.block, members)
    }

    pub fn member(&self, hotkey: &[u8; 32]) -> Option<&Member> {
        self.members.get(hotkey)
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The chain head now, estimated from the block read and the time since.
    pub fn head(&self) -> u64 {
        self.block + self.read_at.elapsed().as_secs() / BLOCK_SECS
    }

    /// The summary the explorer serves.
    pub fn summary(&self) -> MetagraphSummary {
        let mut members: Vec<Member> = self.members.values().cloned().collect();
        members.sort_by_key(|m| m.uid);
        MetagraphSummary {
            netuid: self.netuid,
            block: self.block,
            head_estimate: self.head(),
            registered: members.len(),
            validators: members.iter().filter(|m| m.validator_permit).count(),
            with_axon: members.iter().filter(|m| m.axon.is_some()).count(),
            members,
        }
    }
}

/// What `/api/metagraph` returns.
#[derive(Debug, Clone, Serialize)]
pub struct MetagraphSummary {
    pub netuid: u16,
    pub block: u64,
    pub head_estimate: u64,
    pub registered: usize,
    pub validators: usize,
    pub with_axon: usize,
    pub members: Vec<Member>,
}

/// The gossip layer's view of the metagraph.
pub trait MetagraphView: Send + Sync + 'static {
    /// The latest snapshot (cheap: an `Arc` clone).
    fn snapshot(&self) -> Arc<MetagraphSnapshot>;
}

/// A fixed set of registered hotkeys that tests (or a devnet) can replace at any time.
#[derive(Debug, Clone)]
pub struct StaticMetagraph {
    tx: Arc<watch::Sender<Arc<MetagraphSnapshot>>>,
}

/// The JSON file `--metagraph-file` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetagraphFile {
    pub netuid: u16,
    pub block: u64,
    pub neurons: Vec<Member>,
}

impl StaticMetagraph {
    pub fn new(snapshot: MetagraphSnapshot) -> Self {
        let (tx, _rx) = watch::channel(Arc::new(snapshot));
        Self { tx: Arc::new(tx) }
    }

    /// Reads a [`MetagraphFile`].
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| GossipError::Metagraph(format!("{}: {e}", path.display())))?;
        let f: MetagraphFile = serde_json::from_str(&text)
            .map_err(|e| GossipError::Metagraph(format!("{}: {e}", path.display())))?;
        Ok(Self::new(MetagraphSnapshot::new(
            f.netuid, f.block, f.neurons,
        )))
    }

    /// Replaces the snapshot (a new block, a registration, a lost permit).
    pub fn set(&self, snapshot: MetagraphSnapshot) {
        self.tx.send_replace(Arc::new(snapshot));
    }
}

impl MetagraphView for StaticMetagraph {
    fn snapshot(&self) -> Arc<MetagraphSnapshot> {
        self.tx.borrow().clone()
    }
}

/// The metagraph read from Subtensor, refreshed every `every` by a background task.
#[derive(Debug, Clone)]
pub struct ChainMetagraph {
    rx: watch::Receiver<Arc<MetagraphSnapshot>>,
}

impl ChainMetagraph {
    /// Reads the metagraph once (an error if that fails), then keeps refreshing it until
    /// `shutdown`; a failed refresh keeps the previous snapshot and logs a warning.
    pub async fn spawn(
        client: Subtensor,
        netuid: u16,
        every: Duration,
        shutdown: CancellationToken,
    ) -> Result<Self> {
        let first = client
            .metagraph(netuid, Source::Auto)
            .await
            .map_err(|e| GossipError::Metagraph(e.to_string()))?;
        let (tx, rx) = watch::channel(Arc::new(MetagraphSnapshot::from_chain(&first)));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                match client.metagraph(netuid, Source::Auto).await {
                    Ok(mg) => {
                        tracing::debug!(
                            block = mg.block,
                            neurons = mg.neurons.len(),
                            "metagraph refreshed"
                        );
                        tx.send_replace(Arc::new(MetagraphSnapshot::from_chain(&mg)));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "metagraph refresh failed; keeping the last one")
                    }
                }
            }
        });
        Ok(Self { rx })
    }
}

impl MetagraphView for ChainMetagraph {
    fn snapshot(&self) -> Arc<MetagraphSnapshot> {
        self.rx.borrow().clone()
    }
}
