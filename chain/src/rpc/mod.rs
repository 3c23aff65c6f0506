//! The JSON-RPC connection: one reconnecting websocket with timeouts and reply size limits,
//! shared by subxt's backend and by the batched storage reads that make the metagraph fast.

mod runtime_version;

pub use runtime_version::RuntimeVersion;

use std::time::Duration;

use serde::de::DeserializeOwned;
use subxt::rpcs::client::reconnecting_rpc_client::{ExponentialBackoff, RpcClient as Reconnecting};
use subxt::rpcs::client::{RpcClient, RpcParams};
use subxt::rpcs::Error as RpcError;

use crate::error::ChainError;

/// Limits applied to every connection. Replies come from a node we may not trust.
#[derive(Debug, Clone)]
pub struct RpcOptions {
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest reply accepted; metadata is the biggest legitimate one (~340 KB today).
    pub max_response_bytes: u32,
    /// Reconnect attempts after the endpoint drops, with exponential backoff.
    pub reconnect_attempts: usize,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024 * 1024,
            reconnect_attempts: 10,
        }
    }
}

/// A connected endpoint.
#[derive(Clone, Debug)]
pub struct Rpc {
    client: RpcClient,
    url: String,
    timeout: Duration,
}

impl Rpc {
    /// Connects to `url`, retrying the first connection a few times (the node may be starting).
    pub async fn connect(url: &str, opts: &RpcOptions) -> Result<Self, ChainError> {
        // Backoff 100 ms, 200 ms, … capped at 5 s between attempts.
        let policy = ExponentialBackoff::from_millis(100)
            .max_delay(Duration::from_secs(5))
            .take(opts.reconnect_attempts);
        let connect = Reconnecting::builder()
            .retry_policy(policy)
            .request_timeout(opts.request_timeout)
            .connection_timeout(opts.connect_timeout)
            .max_response_size(opts.max_response_bytes)
            .build(url);
        // The builder retries the first connection with the same policy; bound the whole wait.
        let budget = opts.connect_timeout * 2 + Duration::from_secs(5);
        let inner = match tokio::time::timeout(budget, connect).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(ChainError::Connect {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(ChainError::Connect {
                    url: url.to_string(),
                    reason: format!("no answer within {budget:?}"),
                })
            }
        };
        Ok(Self {
            client: RpcClient::new(inner),
            url: url.to_string(),
            timeout: opts.request_timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subxt RPC client, for building subxt backends over the same connection.
    pub fn client(&self) -> RpcClient {
        self.client.clone()
    }

    /// One request with a timeout; retried once when the socket dropped and reconnected.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Vec<serde_json::Value>,
    ) -> Result<T, ChainError> {
        let mut attempt = 0;
        loop {
            let mut p = RpcParams::new();
            for v in &params {
                p.push(v).map_err(|e| ChainError::Rpc {
                    method,
                    reason: e.to_string(),
                })?;
            }
            let fut = self.client.request::<T>(method, p);
            match tokio::time::timeout(self.timeout, fut).await {
                Err(_) => {
                    return Err(ChainError::Timeout {
                        method,
                        timeout: self.timeout,
                    })
                }
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(RpcError::DisconnectedWillReconnect(reason))) if attempt < 2 => {
                    tracing::warn!(%reason, method, "connection dropped; retrying after reconnect");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Ok(Err(RpcError::Deserialization(e))) => {
                    return Err(ChainError::MalformedReply {
                        method,
                        reason: e.to_string(),
                    })
                }
                Ok(Err(e)) => {
                    return Err(ChainError::Rpc {
                        method,
                        reason: e.to_string(),
                    })
                }
            }
        }
    }

    pub async fn genesis_hash(&self) -> Result<[u8; 32], ChainError> {
        let hex: Option<String> = self
            .request("chain_getBlockHash", vec![serde_json::json!(0)])
            .await?;
        let hex = hex.ok_or(ChainError::MalformedReply {
            method: "chain_getBlockHash",
            reason: "no genesis block".into(),
        })?;
        hash32("chain_getBlockHash", &hex)
    }

    pub async fn finalized_head(&self) -> Result<[u8; 32], ChainError> {
        let hex: String = self.request("chain_getFinalizedHead", vec![]).await?;
        hash32("chain_getFinalizedHead", &hex)
    }

    /// Hash of the best block, or of block `number`.
    pub async fn block_hash(&self, number: Option<u64>) -> Result<Option<[u8; 32]>, ChainError> {
        let params = number
            .map(|n| vec![serde_json::json!(n)])
            .unwrap_or_default();
        let hex: Option<String> = self.request("chain_getBlockHash", params).await?;
        hex.map(|h| hash32("chain_getBlockHash", &h)).transpose()
    }

    /// Number of the block with this hash (or of the best block).
    pub async fn block_number(&self, at: Option<[u8; 32]>) -> Result<u64, ChainError> {
        #[derive(serde::Deserialize)]
        struct Header {
            number: String,
        }
        let params = at.map(|h| vec![hex_param(&h)]).unwrap_or_default();
        let header: Option<Header> = self.request("chain_getHeader", params).await?;
        let header = header.ok_or(ChainError::MalformedReply {
            method: "chain_getHeader",
            reason: "unknown block".into(),
        })?;
        u64::from_str_radix(header.number.trim_start_matches("0x"), 16).map_err(|e| {
            ChainError::MalformedReply {
                method: "chain_getHeader",
                reason: format!("block number {:?}: {e}", header.number),
            }
        })
    }

    pub async fn runtime_version(
        &self,
        at: Option<[u8; 32]>,
    ) -> Result<RuntimeVersion, ChainError> {
        let params = at.map(|h| vec![hex_param(&h)]).unwrap_or_default();
        self.request("state_getRuntimeVersion", params).await
    }

    /// `state_call`: runs a runtime API function and returns its SCALE reply.
    pub async fn state_call(
        &self,
        function: &str,
        args: &[u8],
        at: Option<[u8; 32]>,
    ) -> Result<Vec<u8>, ChainError> {
        let mut params = vec![serde_json::json!(function), hex_param(args)];
        if let Some(h) = at {
            params.push(hex_param(&h));
        }
        let hex: String = self.request("state_call", params).await?;
        decode_hex("state_call", &hex)
    }

    pub async fn storage(
        &self,
        key: &[u8],
        at: Option<[u8; 32]>,
    ) -> Result<Option<Vec<u8>>, ChainError> {
        let mut params = vec![hex_param(key)];
        if let Some(h) = at {
            params.push(hex_param(&h));
        }
        let hex: Option<String> = self.request("state_getStorage", params).await?;
        hex.map(|h| decode_hex("state_getStorage", &h)).transpose()
    }

    /// Reads many keys in one round trip (`state_queryStorageAt`), in the order given.
    pub async fn storage_many(
        &self,
        keys: &[Vec<u8>],
        at: [u8; 32],
    ) -> Result<Vec<Option<Vec<u8>>>, ChainError> {
        #[derive(serde::Deserialize)]
        struct ChangeSet {
            changes: Vec<(String, Option<String>)>,
        }
        const METHOD: &str = "state_queryStorageAt";
        let mut out = Vec::with_capacity(keys.len());
        // Nodes cap the request size; 1024 keys of ~100 bytes stay well under it.
        for chunk in keys.chunks(1024) {
            let key_params: Vec<serde_json::Value> = chunk.iter().map(|k| hex_param(k)).collect();
            let sets: Vec<ChangeSet> = self
                .request(
                    METHOD,
                    vec![serde_json::Value::Array(key_params), hex_param(&at)],
                )
                .await?;
            let mut found = std::collections::HashMap::with_capacity(chunk.len());
            for set in sets {
                for (k, v) in set.changes {
                    let key = decode_hex(METHOD, &k)?;
                    let value = v.map(|v| decode_hex(METHOD, &v)).transpose()?;
                    found.insert(key, value);
                }
            }
            for k in chunk {
                out.push(found.remove(k).flatten());
            }
        }
        Ok(out)
    }

    /// All keys under a prefix, paged.
    pub async fn keys_with_prefix(
        &self,
        prefix: &[u8],
        at: [u8; 32],
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        const METHOD: &str = "state_getKeysPaged";
        const PAGE: usize = 1000;
        let mut keys = Vec::new();
        let mut start: Option<Vec<u8>> = None;
        loop {
            let mut params = vec![hex_param(prefix), serde_json::json!(PAGE)];
            params.push(match &start {
                Some(s) => hex_param(s),
                None => serde_json::Value::Null,
            });
            params.push(hex_param(&at));
            let page: Vec<String> = self.request(METHOD, params).await?;
            let n = page.len();
            for k in page {
                let key = decode_hex(METHOD, &k)?;
                if !key.starts_with(prefix) {
                    return Err(ChainError::MalformedReply {
                        method: METHOD,
                        reason: "key outside the requested prefix".into(),
                    });
                }
                keys.push(key);
            }
            if keys.len() > limit {
                return Err(ChainError::ReplyTooLarge {
                    method: METHOD,
                    size: keys.len(),
                    limit,
                });
            }
            if n < PAGE {
                return Ok(keys);
            }
            start = keys.last().cloned();
        }
    }
}

pub(crate) fn hex_param(bytes: &[u8]) -> serde_json::Value {
    serde_json::Value::String(format!("0x{}", hex::encode(bytes)))
}

pub(crate) fn decode_hex(method: &'static str, s: &str) -> Result<Vec<u8>, ChainError> {
    hex::decode(s.trim_start_matches("0x")).map_err(|e| ChainError::MalformedReply {
        method,
        reason: format!("bad hex: {e}"),
    })
}

fn hash32(method: &'static str, s: &str) -> Result<[u8; 32], ChainError> {
    let bytes = decode_hex(method, s)?;
    bytes.try_into().map_err(|_| ChainError::MalformedReply {
        method,
        reason: "hash is not 32 bytes".into(),
    })
}
