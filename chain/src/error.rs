//! Typed errors at the chain crate's edge.

use std::time::Duration;

/// Everything the chain client can fail with. Callers match on the variant; the message is for
/// people.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("unknown network {0:?}: expected finney, test, local or a ws:// / wss:// URL")]
    UnknownNetwork(String),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("RPC {method} failed: {reason}")]
    Rpc {
        method: &'static str,
        reason: String,
    },
    #[error("RPC {method} timed out after {timeout:?}")]
    Timeout {
        method: &'static str,
        timeout: Duration,
    },
    #[error("RPC reply to {method} is too large ({size} bytes, limit {limit})")]
    ReplyTooLarge {
        method: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("malformed RPC reply to {method}: {reason}")]
    MalformedReply {
        method: &'static str,
        reason: String,
    },
    #[error("runtime metadata: {0}")]
    Metadata(String),
    #[error("this runtime (spec {spec_version}) lacks {item}")]
    MissingItem { item: String, spec_version: u32 },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: String, reason: String },
    #[error("subnet {0} does not exist")]
    UnknownNetuid(u16),
    #[error("hotkey {hotkey} is not registered on subnet {netuid}")]
    NotRegistered { hotkey: String, netuid: u16 },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("weights rate limit: {blocks_left} more blocks before weights can be set again")]
    RateLimited { blocks_left: u64 },
    #[error("transaction rejected by the pool: {0}")]
    PoolRejected(PoolRejection),
    #[error("transaction failed in block: {pallet}.{error}{}", docs_suffix(.docs))]
    Dispatch {
        pallet: String,
        error: String,
        docs: String,
    },
    #[error("transaction failed in block: {0}")]
    DispatchOther(String),
    #[error("transaction {0}")]
    Transaction(String),
    /// Submitted (and maybe in a block) but not finalised in time; it may still land later.
    #[error("transaction {call} was not finalised within {timeout:?}")]
    NotFinalized { call: String, timeout: Duration },
    #[error("weights: {0}")]
    Weights(#[from] crate::crv3::Crv3Error),
    #[error("commitment: {0}")]
    Commitment(#[from] crate::commitments::CommitmentError),
    #[error("io error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn docs_suffix(docs: &str) -> String {
    if docs.is_empty() {
        String::new()
    } else {
        format!(" ({docs})")
    }
}

/// A transaction the node refused before it reached a block. Subtensor turns many pallet errors
/// into `InvalidTransaction::Custom(n)` in its transaction extension (chain.md §1.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolRejection {
    Custom { code: u8, meaning: &'static str },
    Other(String),
}

impl std::fmt::Display for PoolRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoolRejection::Custom { code, meaning } => write!(f, "Custom({code}) {meaning}"),
            PoolRejection::Other(s) => f.write_str(s),
        }
    }
}

/// Meaning of Subtensor's `InvalidTransaction::Custom(n)` codes.
pub fn custom_code_meaning(code: u8) -> &'static str {
    match code {
        1 => "StakeAmountTooLow (not enough stake to set weights)",
        2 => "BalanceTooLow",
        3 => "SubnetNotExists",
        4 => "HotkeyAccountDoesntExist",
        5 => "NotEnoughStakeToWithdraw",
        6 => "RateLimitExceeded (setting or committing weights too fast)",
        7 => "InsufficientLiquidity",
        8 => "SlippageTooHigh",
        9 => "TransferDisallowed",
        10 => "HotKeyNotRegisteredInNetwork",
        11 => "InvalidIpAddress",
        12 => "ServingRateLimitExceeded",
        13 => "InvalidPort",
        15 => "InvalidRevealRound",
        16 => "CommitNotFound",
        17 => "CommitBlockNotInRevealRange",
        18 => "InputLengthsUnequal",
        19 => "UidNotFound (hotkey not registered in subnet)",
        25 => "NonAssociatedColdKey",
        255 => "BadRequest",
        _ => "unknown code",
    }
}

/// Parses a node's refusal message into a [`PoolRejection`]. Nodes word it differently
/// (`Invalid Transaction (Custom(6))`, `Custom error: 6`, chopsticks' JSON), so look for the
/// number after `Custom`.
pub fn parse_pool_rejection(message: &str) -> PoolRejection {
    if let Some(pos) = message.find("Custom") {
        let digits: String = message[pos + "Custom".len()..]
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Ok(code) = digits.parse::<u8>() {
            return PoolRejection::Custom {
                code,
                meaning: custom_code_meaning(code),
            };
        }
    }
    PoolRejection::Other(message.chars().take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_custom_codes_in_several_wordings() {
        for msg in [
            "Invalid Transaction (Custom(6))",
            "1010: Invalid Transaction: Custom error: 6",
            r#"{"invalid":{"custom":6}} Custom 6"#,
        ] {
            match parse_pool_rejection(msg) {
                PoolRejection::Custom { code, .. } => assert_eq!(code, 6, "{msg}"),
                other => panic!("{msg}: {other:?}"),
            }
        }
        assert_eq!(
            parse_pool_rejection("Priority is too low"),
            PoolRejection::Other("Priority is too low".into())
        );
    }
}
