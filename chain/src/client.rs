//! The connected Subtensor client: one RPC connection, the runtime's metadata (cached on disk),
//! and a subxt client over the same connection for building and submitting transactions.

use std::path::PathBuf;
use std::sync::Arc;

use subxt::backend::LegacyBackend;
use subxt::config::substrate::{SubstrateConfigBuilder, H256};
use subxt::metadata::Metadata;
use subxt::{OnlineClient, SubstrateConfig};

use crate::error::ChainError;
use crate::rpc::{Rpc, RpcOptions, RuntimeVersion};

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub rpc: RpcOptions,
    /// Directory of the metadata cache; `None` disables it.
    pub metadata_cache: Option<PathBuf>,
}

impl ConnectOptions {
    /// Defaults with the metadata cache in its usual place.
    pub fn with_default_cache() -> Self {
        Self {
            rpc: RpcOptions::default(),
            metadata_cache: crate::metadata_cache::default_cache_dir(),
        }
    }
}

/// What we know about the runtime we talk to.
#[derive(Debug)]
pub struct Runtime {
    pub genesis: [u8; 32],
    pub version: RuntimeVersion,
    pub metadata: Arc<Metadata>,
    /// The metadata as the node sent it (for `sn17 metadata fetch` and the compatibility check).
    pub metadata_bytes: Vec<u8>,
}

/// A connection to a Subtensor node.
#[derive(Clone, Debug)]
pub struct Subtensor {
    rpc: Rpc,
    api: OnlineClient<SubstrateConfig>,
    runtime: Arc<Runtime>,
}

impl Subtensor {
    /// Connects, reads the runtime version and loads its metadata (from the cache when present).
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Self, ChainError> {
        let rpc = Rpc::connect(url, &opts.rpc).await?;
        let (genesis, version) = tokio::try_join!(rpc.genesis_hash(), rpc.runtime_version(None))?;
        let (metadata_bytes, metadata) = crate::metadata_cache::load_or_fetch(
            &rpc,
            opts.metadata_cache.as_deref(),
            &genesis,
            version.spec_version,
            None,
        )
        .await?;
        let metadata = Arc::new(metadata);
        let config = SubstrateConfigBuilder::new()
            .set_genesis_hash(H256(genesis))
            .set_metadata_for_spec_versions([(version.spec_version, metadata.clone())])
            .build();
        // The legacy RPC methods are served by every node we target (and by chopsticks); they
        // also avoid chainHead's follow subscription, which a short CLI call does not need.
        let backend = LegacyBackend::builder().build(rpc.client());
        let api = OnlineClient::from_backend_with_config(config, Arc::new(backend))
            .await
            .map_err(|e| ChainError::Connect {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        tracing::debug!(url, spec = version.spec_version, "connected");
        Ok(Self {
            rpc,
            api,
            runtime: Arc::new(Runtime {
                genesis,
                version,
                metadata,
                metadata_bytes,
            }),
        })
    }

    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    pub fn api(&self) -> &OnlineClient<SubstrateConfig> {
        &self.api
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    pub fn metadata(&self) -> &Metadata {
        &self.runtime.metadata
    }

    pub fn spec_version(&self) -> u32 {
        self.runtime.version.spec_version
    }

    /// The block reads are pinned to: the best block. Subtensor finalises within a few
    /// seconds and validators act on the newest state, as the Python SDK does by default.
    pub async fn head(&self) -> Result<Head, ChainError> {
        let hash = self
            .rpc
            .block_hash(None)
            .await?
            .ok_or(ChainError::MalformedReply {
                method: "chain_getBlockHash",
                reason: "no best block".into(),
            })?;
        let number = self.rpc.block_number(Some(hash)).await?;
        Ok(Head { hash, number })
    }

    /// A storage reader pinned to `at`.
    pub fn storage_at(&self, at: Head) -> crate::storage::StorageReader<'_> {
        crate::storage::StorageReader::new(
            &self.rpc,
            &self.runtime.metadata,
            self.spec_version(),
            at,
        )
    }

    /// An error naming a runtime item this runtime does not have.
    pub fn missing(&self, item: impl Into<String>) -> ChainError {
        ChainError::MissingItem {
            item: item.into(),
            spec_version: self.spec_version(),
        }
    }
}

/// A block: its hash and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub hash: [u8; 32],
    pub number: u64,
}
