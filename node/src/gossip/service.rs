//! The gossip service: one event loop that owns the libp2p swarm, and a cloneable handle that
//! talks to it over a command channel (publish, ingest, peers, scores, stats).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, ping, Multiaddr, PeerId, Swarm};
use serde::Serialize;
use sn17_storage::db::Store;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::behaviour::{Behaviour, BehaviourEvent};
use super::error::{GossipError, Invalid, Result};
use super::message::{Envelope, Kind};
use super::metagraph::MetagraphView;
use super::records;
use super::validation::{Ignored, Limits, RateLimit, Validator, Verdict};

/// How the node joins the network.
#[derive(Debug, Clone)]
pub struct GossipConfig {
    pub netuid: u16,
    /// Addresses to listen on (`/ip4/0.0.0.0/tcp/9517`).
    pub listen: Vec<Multiaddr>,
    /// Peers dialled at start and whenever the node is not connected to them.
    pub bootstrap: Vec<Multiaddr>,
    /// Dial the axons of registered hotkeys from the metagraph.
    pub chain_discovery: bool,
    pub limits: Limits,
    pub rate: RateLimit,
    /// gossipsub heartbeat.
    pub heartbeat: Duration,
    /// How often bootstrap peers and axons are re-dialled and Kademlia is refreshed.
    pub discovery_interval: Duration,
    /// identify's agent string.
    pub agent: String,
}

/// The default p2p TCP port.
pub const DEFAULT_PORT: u16 = 9517;

impl GossipConfig {
    pub fn new(netuid: u16) -> Self {
        Self {
            netuid,
            listen: vec![format!("/ip4/0.0.0.0/tcp/{DEFAULT_PORT}")
                .parse()
                .unwrap_or_else(|_| Multiaddr::empty())],
            bootstrap: Vec::new(),
            chain_discovery: true,
            limits: Limits::default(),
            rate: RateLimit::default(),
            // 200 ms, not libp2p's 1 s: a message a slow peer dropped from its forward queue
            // is repaired by IHAVE/IWANT within one heartbeat, which sets the p99 (BENCHMARKS.md).
            heartbeat: Duration::from_millis(200),
            discovery_interval: Duration::from_secs(10),
            agent: format!("sn17/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A message this node accepted (from a peer, published locally, or fetched in catch-up).
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: String,
    pub kind: Kind,
    /// The forwarding peer, `local` or `catch-up`.
    pub peer: String,
    pub envelope: Envelope,
    pub received: SystemTime,
}

impl Accepted {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "topic": self.kind.name(),
            "peer": self.peer,
            "message": self.envelope.to_json(),
        })
    }
}

/// A connected peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerInfo {
    pub peer_id: String,
    pub addresses: Vec<String>,
    pub agent: Option<String>,
    pub score: Option<f64>,
    /// Round trip of the last libp2p ping, in milliseconds.
    pub ping_ms: Option<f64>,
    /// Blacklisted for forwarding too many invalid messages (its traffic is dropped unread).
    pub banned: bool,
}

/// Counters of the validator and the swarm.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GossipStats {
    pub accepted: u64,
    pub rejected: u64,
    pub ignored_duplicate: u64,
    pub ignored_conflict: u64,
    pub rate_limited: u64,
    /// Peers blacklisted for invalid messages so far.
    pub peers_banned: u64,
    pub validated: u64,
    pub validation_ns: u64,
    pub connected_peers: usize,
    /// Local messages waiting for a subscribed peer.
    pub pending: usize,
}

/// The result of a local publish.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub id: String,
    /// False when no peer was subscribed yet; the message is kept and sent when one is.
    pub sent: bool,
}

enum Command {
    Publish {
        envelope: Box<Envelope>,
        reply: oneshot::Sender<Result<Published>>,
    },
    Ingest {
        bytes: Vec<u8>,
        kind: Kind,
        reply: oneshot::Sender<Result<bool>>,
    },
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Dial(Multiaddr),
    Stats(oneshot::Sender<GossipStats>),
}

/// The cloneable front of the gossip service.
#[derive(Clone)]
#[must_use]
pub struct GossipHandle {
    tx: mpsc::Sender<Command>,
    events: broadcast::Sender<Arc<Accepted>>,
    peer_id: PeerId,
    netuid: u16,
}

impl std::fmt::Debug for GossipHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipHandle")
            .field("peer_id", &self.peer_id)
            .finish()
    }
}

impl GossipHandle {
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    pub fn netuid(&self) -> u16 {
        self.netuid
    }

    /// Every message accepted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Accepted>> {
        self.events.subscribe()
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| GossipError::Stopped)?;
        rx.await.map_err(|_| GossipError::Stopped)
    }

    /// Validates a signed envelope as a peer would, stores it and publishes it.
    pub async fn publish(&self, envelope: Envelope) -> Result<Published> {
        self.ask(|reply| Command::Publish {
            envelope: Box::new(envelope),
            reply,
        })
        .await?
    }

    /// Validates and stores a message fetched outside gossip (catch-up from an explorer); old
    /// blocks are allowed, nothing is forwarded. Returns whether it was new.
    pub async fn ingest(&self, bytes: Vec<u8>, kind: Kind) -> Result<bool> {
        self.ask(|reply| Command::Ingest { bytes, kind, reply })
            .await?
    }

    pub async fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.ask(Command::Peers).await
    }

    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        self.ask(Command::ListenAddrs).await
    }

    /// The first listen address, waiting up to `timeout` for the listener to come up.
    pub async fn wait_listen_addr(&self, timeout: Duration) -> Result<Multiaddr> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(a) = self.listen_addrs().await?.into_iter().next() {
                return Ok(a);
            }
            if Instant::now() > until {
                return Err(GossipError::Listen {
                    addr: "?".into(),
                    reason: "no listen address came up".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        self.tx
            .send(Command::Dial(addr))
            .await
            .map_err(|_| GossipError::Stopped)
    }

    pub async fn stats(&self) -> Result<GossipStats> {
        self.ask(Command::Stats).await
    }
}

/// The event loop (owns the swarm).
pub struct GossipService {
    swarm: Swarm<Behaviour>,
    config: GossipConfig,
    metagraph: Arc<dyn MetagraphView>,
    store: Option<Store>,
    validator: Validator,
    rx: mpsc::Receiver<Command>,
    events: broadcast::Sender<Arc<Accepted>>,
    listen_addrs: Vec<Multiaddr>,
    peers: HashMap<PeerId, PeerState>,
    /// When an address (bootstrap or axon) was last dialled.
    dialled: HashMap<Multiaddr, Instant>,
    /// Locally published messages not yet sent for lack of peers: (topic, bytes).
    pending: Vec<(IdentTopic, Vec<u8>)>,
    /// Blacklisted peers and when their ban ends.
    banned: HashMap<PeerId, Instant>,
    /// Ids this node published (a few per round; loaded from the store at start).
    local: HashSet<String>,
    stats: GossipStats,
}

#[derive(Default)]
struct PeerState {
    addrs: HashSet<Multiaddr>,
    agent: Option<String>,
    ping: Option<Duration>,
}

impl GossipService {
    /// Builds the swarm, starts listening and returns the handle and the loop to run.
    pub fn start(
        config: GossipConfig,
        key: Keypair,
        metagraph: Arc<dyn MetagraphView>,
        store: Option<Store>,
    ) -> Result<(GossipHandle, GossipService)> {
        let peer_id = key.public().to_peer_id();
        let behaviour = Behaviour::new(&key, config.netuid, config.heartbeat, &config.agent)?;
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::default(),
                libp2p::noise::Config::new,
                libp2p::yamux::Config::default,
            )
            .map_err(|e| GossipError::Swarm(e.to_string()))?
            .with_behaviour(|_| behaviour)
            .map_err(|e| GossipError::Swarm(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| GossipError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?;
        }
        let mut validator = Validator::new(config.netuid, config.limits.clone(), config.rate);
        let mut local = HashSet::new();
        if let Some(store) = &store {
            let stored = records::all(store)?;
            for m in &stored {
                validator.remember(&m.id, &m.envelope);
                if m.peer == "local" {
                    local.insert(m.id.clone());
                }
            }
            records::index_rounds(store, &stored)?;
            tracing::info!(messages = stored.len(), "gossip records loaded");
        }
        let (tx, rx) = mpsc::channel(1024);
        let (events, _) = broadcast::channel(16_384);
        let handle = GossipHandle {
            tx,
            events: events.clone(),
            peer_id,
            netuid: config.netuid,
        };
        let service = GossipService {
            swarm,
            config,
            metagraph,
            store,
            validator,
            rx,
            events,
            listen_addrs: Vec::new(),
            peers: HashMap::new(),
            dialled: HashMap::new(),
            pending: Vec::new(),
            banned: HashMap::new(),
            local,
            stats: GossipStats::default(),
        };
        Ok((handle, service))
    }

    /// Runs until `shutdown` (or until every handle is dropped).
    #[tracing::instrument(name = "gossip", skip_all, fields(peer = %self.swarm.local_peer_id()))]
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.discovery_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                cmd = self.rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                _ = tick.tick() => self.discover(),
            }
        }
        tracing::debug!("gossip service stopped");
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish { envelope, reply } => {
                let _ = reply.send(self.publish_local(&envelope));
            }
            Command::Ingest { bytes, kind, reply } => {
                let r = match self.judge(&bytes, kind, None, false) {
                    Verdict::Accept { id, envelope } => {
                        self.deliver(id, kind, "catch-up", *envelope).map(|_| true)
                    }
                    Verdict::Ignore { .. } => Ok(false),
                    Verdict::Reject { reason, .. } => Err(reason.into()),
                };
                let _ = reply.send(r);
            }
            Command::Peers(reply) => {
                let gs = &self.swarm.behaviour().gossipsub;
                let mut out: Vec<PeerInfo> = self
                    .peers
                    .iter()
                    .map(|(id, st)| PeerInfo {
                        peer_id: id.to_string(),
                        addresses: st.addrs.iter().map(ToString::to_string).collect(),
                        agent: st.agent.clone(),
                        score: gs.peer_score(id),
                        ping_ms: st.ping.map(|d| d.as_secs_f64() * 1e3),
                        banned: self.banned.contains_key(id),
                    })
                    .collect();
                out.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
                let _ = reply.send(out);
            }
            Command::ListenAddrs(reply) => {
                let _ = reply.send(self.listen_addrs.clone());
            }
            Command::Dial(addr) => self.dial(addr),
            Command::Stats(reply) => {
                let mut s = self.stats.clone();
                s.connected_peers = self.peers.len();
                s.pending = self.pending.len();
                let _ = reply.send(s);
            }
        }
    }

    fn publish_local(&mut self, envelope: &Envelope) -> Result<Published> {
        let bytes = envelope.to_bytes();
        let kind = envelope.payload.kind();
        let id = match self.judge(&bytes, kind, None, true) {
            Verdict::Accept { id, envelope } => {
                self.deliver(id.clone(), kind, "local", *envelope)?;
                self.local.insert(id.clone());
                id
            }
            // A retry of what this node published, or a re-signed copy of it (sr25519
            // signatures are randomised, so a retry after a restart has another id): send the
            // first version, which is what peers keep, instead of failing.
            Verdict::Ignore {
                id,
                reason: Ignored::Duplicate,
            } => return self.resend(id, kind),
            Verdict::Ignore {
                reason: Ignored::Conflict,
                ..
            } if self.own_first(envelope).is_some() => {
                let first = self.own_first(envelope).unwrap_or_default();
                return self.resend(first, kind);
            }
            Verdict::Ignore { reason, .. } => {
                return Err(GossipError::Publish {
                    topic: kind.name().into(),
                    reason: format!("{reason:?}"),
                })
            }
            Verdict::Reject { reason, .. } => return Err(reason.into()),
        };
        self.send(id, kind, bytes)
    }

    /// Hands `bytes` (message `id`) to gossipsub, or queues it until a peer subscribes.
    fn send(&mut self, id: String, kind: Kind, bytes: Vec<u8>) -> Result<Published> {
        let topic = IdentTopic::new(super::topic(self.config.netuid, kind));
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic.clone(), bytes.clone())
        {
            // Duplicate: gossipsub already sent these bytes in this process.
            Ok(_) | Err(gossipsub::PublishError::Duplicate) => Ok(Published { id, sent: true }),
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic)
            | Err(gossipsub::PublishError::AllQueuesFull(_)) => {
                self.pending.push((topic, bytes));
                Ok(Published { id, sent: false })
            }
            Err(e) => Err(GossipError::Publish {
                topic: topic.to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Sends again the first version of something this node published: accepted (and
    /// stored) is not sent, e.g. when the node stopped before a peer subscribed.
    fn resend(&mut self, id: String, kind: Kind) -> Result<Published> {
        let queued = self
            .pending
            .iter()
            .any(|(_, b)| super::message::message_id(b) == id);
        let stored = match (&self.store, queued) {
            (Some(store), false) => records::get(store, &id)?,
            _ => None,
        };
        match stored {
            Some(m) => self.send(id, kind, m.bytes),
            None => Ok(Published { id, sent: !queued }),
        }
    }

    /// The first version of what `env` is about, when this node published it.
    fn own_first(&self, env: &Envelope) -> Option<String> {
        self.validator
            .first_id(env)
            .filter(|first| self.local.contains(*first))
            .map(str::to_string)
    }

    fn judge(&mut self, bytes: &[u8], kind: Kind, peer: Option<&[u8]>, live: bool) -> Verdict {
        let mg = self.metagraph.snapshot();
        let t = Instant::now();
        let v = self.validator.check(bytes, kind, peer, &mg, live);
        self.stats.validated += 1;
        self.stats.validation_ns += t.elapsed().as_nanos() as u64;
        match &v {
            Verdict::Accept { .. } => self.stats.accepted += 1,
            Verdict::Reject { .. } => self.stats.rejected += 1,
            Verdict::Ignore { reason, .. } => match reason {
                Ignored::Duplicate => self.stats.ignored_duplicate += 1,
                Ignored::Conflict => self.stats.ignored_conflict += 1,
                Ignored::RateLimited => self.stats.rate_limited += 1,
            },
        }
        v
    }

    /// Stores an accepted message and hands it to subscribers.
    fn deliver(&mut self, id: String, kind: Kind, peer: &str, envelope: Envelope) -> Result<()> {
        if let Some(store) = &self.store {
            let block = self.metagraph.snapshot().head();
            records::put(store, &id, kind, peer, block, &envelope)?;
        }
        tracing::debug!(%id, %kind, round = envelope.payload.round(), signer = %envelope.signer_account(), %peer, "accepted");
        let _ = self.events.send(Arc::new(Accepted {
            id,
            kind,
            peer: peer.to_string(),
            envelope,
            received: SystemTime::now(),
        }));
        Ok(())
    }

    fn on_gossip(&mut self, source: PeerId, msg_id: gossipsub::MessageId, msg: gossipsub::Message) {
        let Some(kind) = super::topic_kind(self.config.netuid, msg.topic.as_str()) else {
            self.report(&msg_id, &source, MessageAcceptance::Reject);
            return;
        };
        let peer_bytes = source.to_bytes();
        let acceptance = match self.judge(&msg.data, kind, Some(&peer_bytes), true) {
            Verdict::Accept { id, envelope } => {
                let peer = source.to_string();
                match self.deliver(id, kind, &peer, *envelope) {
                    Ok(()) => MessageAcceptance::Accept,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot store an accepted message; not forwarding");
                        MessageAcceptance::Ignore
                    }
                }
            }
            Verdict::Ignore { .. } => MessageAcceptance::Ignore,
            Verdict::Reject { id, reason, ban } => {
                log_reject(&source, &id, &reason);
                if ban {
                    self.ban(source);
                }
                MessageAcceptance::Reject
            }
        };
        self.report(&msg_id, &source, acceptance);
    }

    /// Blacklists a peer that forwarded too many invalid messages: gossipsub then drops its
    /// messages before its duplicate check, so an honest copy arriving from another peer is
    /// still taken. The connection stays (identify, Kademlia); the ban ends after
    /// [`RateLimit::ban`](super::validation::RateLimit).
    fn ban(&mut self, peer: PeerId) {
        tracing::warn!(%peer, "peer blacklisted for forwarding invalid messages");
        self.stats.peers_banned += 1;
        self.swarm.behaviour_mut().gossipsub.blacklist_peer(&peer);
        self.banned
            .insert(peer, Instant::now() + self.config.rate.ban);
    }

    fn lift_bans(&mut self) {
        let now = Instant::now();
        let over: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in over {
            self.banned.remove(&p);
            self.swarm
                .behaviour_mut()
                .gossipsub
                .remove_blacklisted_peer(&p);
            tracing::info!(peer = %p, "peer ban lifted");
        }
    }

    fn report(&mut self, id: &gossipsub::MessageId, source: &PeerId, a: MessageAcceptance) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, a);
    }

    fn on_swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                tracing::debug!(%peer_id, %addr, "connected");
                if endpoint.is_dialer() {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, addr.clone());
                }
                self.peers.entry(peer_id).or_default().addrs.insert(addr);
                self.flush_pending();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                tracing::debug!(%peer_id, "disconnected");
                self.peers.remove(&peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id, endpoint, ..
            } => {
                if let Some(p) = self.peers.get_mut(&peer_id) {
                    p.addrs.remove(endpoint.get_remote_address());
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => match e {
                gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                } => self.on_gossip(propagation_source, message_id, message),
                gossipsub::Event::Subscribed { .. } => self.flush_pending(),
                _ => {}
            },
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                for addr in info.listen_addrs {
                    if is_dialable(&addr) {
                        self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                    }
                }
                self.peers.entry(peer_id).or_default().agent = Some(info.agent_version);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            })) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.ping = Some(rtt);
                }
            }
            _ => {}
        }
    }

    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        for (topic, bytes) in pending {
            match self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(topic.clone(), bytes.clone())
            {
                Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
                Err(_) => self.pending.push((topic, bytes)),
            }
        }
    }

    /// Dials bootstrap peers and chain axons we are not connected to, and refreshes Kademlia.
    fn discover(&mut self) {
        self.lift_bans();
        let bootstrap = self.config.bootstrap.clone();
        for addr in bootstrap {
            let connected = peer_of(&addr).is_some_and(|p| self.peers.contains_key(&p));
            if !connected && !self.is_connected_to_addr(&addr) {
                self.dial(addr);
            }
        }
        if self.config.chain_discovery {
            let mg = self.metagraph.snapshot();
            let axons: Vec<SocketAddr> = mg.members().filter_map(|m| m.axon).collect();
            for sa in axons {
                let addr = socket_multiaddr(sa);
                if self.is_own_addr(&addr) || self.is_connected_to_addr(&addr) {
                    continue;
                }
                self.dial(addr);
            }
        }
        let kad = &mut self.swarm.behaviour_mut().kad;
        if kad.kbuckets().next().is_some() {
            let _ = kad.bootstrap();
        }
        self.flush_pending();
    }

    fn dial(&mut self, addr: Multiaddr) {
        let now = Instant::now();
        if self
            .dialled
            .get(&addr)
            .is_some_and(|t| now.duration_since(*t) < self.config.discovery_interval / 2)
        {
            return;
        }
        self.dialled.insert(addr.clone(), now);
        if let Err(e) = self.swarm.dial(addr.clone()) {
            tracing::debug!(%addr, error = %e, "dial failed");
        }
    }

    fn is_own_addr(&self, addr: &Multiaddr) -> bool {
        let Some(sa) = multiaddr_socket(addr) else {
            return false;
        };
        self.listen_addrs
            .iter()
            .any(|l| multiaddr_socket(l) == Some(sa))
    }

    fn is_connected_to_addr(&self, addr: &Multiaddr) -> bool {
        let Some(sa) = multiaddr_socket(addr) else {
            return false;
        };
        self.peers
            .values()
            .any(|p| p.addrs.iter().any(|a| multiaddr_socket(a) == Some(sa)))
    }
}

fn log_reject(source: &PeerId, id: &str, reason: &Invalid) {
    tracing::debug!(peer = %source, %id, %reason, "rejected");
}

/// `/ip4/A/tcp/P` or `/ip6/A/tcp/P` for a socket address.
pub fn socket_multiaddr(sa: SocketAddr) -> Multiaddr {
    let ip = match sa.ip() {
        std::net::IpAddr::V4(v4) => Protocol::Ip4(v4),
        std::net::IpAddr::V6(v6) => Protocol::Ip6(v6),
    };
    Multiaddr::empty().with(ip).with(Protocol::Tcp(sa.port()))
}

/// The IP and TCP port of a multiaddr, when it has both.
pub fn multiaddr_socket(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(v4) => ip = Some(std::net::IpAddr::V4(v4)),
            Protocol::Ip6(v6) => ip = Some(std::net::IpAddr::V6(v6)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    Some(SocketAddr::new(ip?, port?))
}

/// The `/p2p/<id>` of a multiaddr, if any.
pub fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

fn is_dialable(addr: &Multiaddr) -> bool {
    multiaddr_socket(addr).is_some_and(|sa| !sa.ip().is_unspecified() && sa.port() != 0)
}
