//! The sn17 gossip network: libp2p (TCP, Noise, Yamux; gossipsub v1.1 with peer scoring,
//! identify, ping, Kademlia) carrying signed round seeds, submission manifests, round results and
//! leader changes between validators, miners and explorers.
//!
//! Layout: [`message`] (the SCALE envelope), [`validation`] (what is forwarded), [`metagraph`]
//! (who may publish), [`publish`] (a validator's messages from its state repository),
//! [`identity`] (the node's peer key), [`behaviour`] (the composed libp2p
//! behaviour), [`service`] (the event loop and its handle), [`records`] (accepted messages in the
//! RocksDB gossip column).

pub mod behaviour;
pub mod error;
pub mod identity;
pub mod message;
pub mod metagraph;
pub mod publish;
pub mod records;
pub mod service;
pub mod validation;

pub use error::{GossipError, Invalid, Result};
pub use message::{Envelope, Kind, Payload};
pub use metagraph::{ChainMetagraph, Member, MetagraphSnapshot, MetagraphView, StaticMetagraph};
pub use service::{Accepted, GossipConfig, GossipHandle, GossipService, PeerInfo};
pub use validation::{Limits, RateLimit};

/// The gossipsub topic of `kind` on `netuid`: `/sn17/<netuid>/<kind>/1`.
pub fn topic(netuid: u16, kind: Kind) -> String {
    format!("/sn17/{netuid}/{}/1", kind.name())
}

/// The kind of a topic name of `netuid`, if it is one of ours.
pub fn topic_kind(netuid: u16, topic: &str) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|k| self::topic(netuid, *k) == topic)
}
