//! Errors of the gossip layer: decoding and validating untrusted messages, and running the node.

use std::path::PathBuf;

/// Why a message from the network was refused. Every variant is a property of the message (or
/// of the peer that sent it), never of the local node, so it maps to a gossipsub rejection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("message of {got} bytes is over the {limit}-byte limit")]
    TooLarge { limit: usize, got: usize },
    #[error("cannot decode the envelope: {0}")]
    Decode(String),
    #[error("unknown envelope version {0}")]
    Version(u8),
    #[error("trailing bytes after the envelope")]
    Trailing,
    #[error("envelope for netuid {got} on a netuid {expected} topic")]
    Netuid { expected: u16, got: u16 },
    #[error("a {kind} payload on topic {topic}")]
    WrongTopic { kind: &'static str, topic: String },
    #[error("bad sr25519 signature")]
    Signature,
    #[error("signer {0} is not registered on the subnet")]
    Unregistered(String),
    #[error("signer {0} has no validator permit")]
    NoValidatorPermit(String),
    #[error("manifest names miner {named} but is signed by {signer}")]
    NotOwnManifest { named: String, signer: String },
    #[error("block {block} is more than {max_ahead} blocks ahead of head {head}")]
    FromTheFuture {
        block: u64,
        head: u64,
        max_ahead: u64,
    },
    #[error("block {block} is more than {max_age} blocks behind head {head}")]
    Stale { block: u64, head: u64, max_age: u64 },
    #[error("implausible field {field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("round {round} is not within {behind} behind or {ahead} ahead of a validator's latest seed round")]
    RoundWindow { round: u64, behind: u64, ahead: u64 },
}

impl Invalid {
    /// Whether every honest node refuses the message alike, from its bytes alone. The others
    /// depend on this node's metagraph, head or seeds, which an honest forwarder may see
    /// differently for a while; they cost gossipsub score (which decays) but never a ban.
    pub fn is_deterministic(&self) -> bool {
        !matches!(
            self,
            Invalid::Unregistered(_)
                | Invalid::NoValidatorPermit(_)
                | Invalid::FromTheFuture { .. }
                | Invalid::Stale { .. }
                | Invalid::RoundWindow { .. }
        )
    }
}

/// Errors of the gossip service and its tools.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    #[error("invalid message: {0}")]
    Invalid(#[from] Invalid),
    #[error("reading or writing the peer identity at {path}: {reason}")]
    Identity { path: PathBuf, reason: String },
    #[error("building the libp2p swarm: {0}")]
    Swarm(String),
    #[error("listening on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("publishing on {topic}: {reason}")]
    Publish { topic: String, reason: String },
    #[error("storing a gossip record: {0}")]
    Store(#[from] sn17_storage::Error),
    #[error("the gossip service has stopped")]
    Stopped,
    #[error("metagraph: {0}")]
    Metagraph(String),
}

pub type Result<T, E = GossipError> = std::result::Result<T, E>;
