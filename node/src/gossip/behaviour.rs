//! The composed libp2p behaviour: gossipsub (scored, validated before forwarding), identify,
//! ping and Kademlia.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode};
use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, ping, StreamProtocol};

use super::error::{GossipError, Result};
use super::message::{Kind, MAX_MESSAGE_BYTES};

/// The protocol version identify announces.
pub const IDENTIFY_PROTOCOL: &str = "/sn17/id/1.0.0";

/// One behaviour of parts; the derive makes `BehaviourEvent` with a variant per field.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gossipsub: gossipsub::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
}

impl Behaviour {
    pub fn new(key: &Keypair, netuid: u16, heartbeat: Duration, agent: &str) -> Result<Self> {
        let peer_id = key.public().to_peer_id();
        let config = gossipsub::ConfigBuilder::default()
            .heartbeat_interval(heartbeat)
            // Our envelope is signed by a hotkey; libp2p's own author fields would only add
            // bytes and a second signature check.
            .validation_mode(ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(|m: &gossipsub::Message| {
                gossipsub::MessageId::from(super::message::message_id(&m.data))
            })
            // Above our envelope limit, so an oversized envelope reaches validation and costs
            // its sender score instead of silently breaking the stream.
            .max_transmit_size(MAX_MESSAGE_BYTES * 4)
            .duplicate_cache_time(Duration::from_secs(120))
            .build()
            .map_err(|e| GossipError::Swarm(format!("gossipsub config: {e}")))?;
        let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config)
            .map_err(|e| GossipError::Swarm(format!("gossipsub: {e}")))?;
        let (params, thresholds) = score_params(netuid);
        gossipsub
            .with_peer_score(params, thresholds)
            .map_err(|e| GossipError::Swarm(format!("peer score: {e}")))?;
        for kind in Kind::ALL {
            gossipsub
                .subscribe(&IdentTopic::new(super::topic(netuid, kind)))
                .map_err(|e| GossipError::Swarm(format!("subscribe: {e}")))?;
        }
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(agent.to_string()),
        );
        let protocol = StreamProtocol::try_from_owned(format!("/sn17/{netuid}/kad/1.0.0"))
            .map_err(|e| GossipError::Swarm(format!("kad protocol: {e}")))?;
        let mut kad = kad::Behaviour::with_config(
            peer_id,
            kad::store::MemoryStore::new(peer_id),
            kad::Config::new(protocol),
        );
        kad.set_mode(Some(kad::Mode::Server));
        Ok(Self {
            gossipsub,
            identify,
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
        })
    }
}

/// Peer scoring: invalid messages (P4, −1 × count², decaying 1 %/s) dominate: a peer is below the
/// gossip threshold after 4 invalid messages and graylisted (ignored) after 9; delivery-rate penalties (P3) are off because
/// sn17 topics are sparse (a few messages per round) and would punish honest quiet peers.
/// Loopback is exempt from the IP-colocation penalty so local meshes and devnets work.
pub fn score_params(netuid: u16) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let mut topics = HashMap::new();
    for kind in Kind::ALL {
        let t = gossipsub::TopicScoreParams {
            topic_weight: 1.0,
            time_in_mesh_weight: 0.01,
            time_in_mesh_quantum: Duration::from_secs(1),
            time_in_mesh_cap: 100.0,
            first_message_deliveries_weight: 1.0,
            first_message_deliveries_decay: 0.9,
            first_message_deliveries_cap: 50.0,
            mesh_message_deliveries_weight: 0.0,
            mesh_failure_penalty_weight: 0.0,
            invalid_message_deliveries_weight: -1.0,
            invalid_message_deliveries_decay: 0.99,
            ..Default::default()
        };
        topics.insert(IdentTopic::new(super::topic(netuid, kind)).hash(), t);
    }
    let params = gossipsub::PeerScoreParams {
        topics,
        topic_score_cap: 100.0,
        ip_colocation_factor_whitelist: [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    (params, gossipsub::PeerScoreThresholds::default())
}
