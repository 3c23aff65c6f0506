//! The narrow chain seam the round engine consumes, and its implementation over the Subtensor
//! client. Engine tests and the simulation use their own implementations.

use std::collections::HashMap;
use std::future::Future;

use sn17_chain::metagraph::Source;
use sn17_chain::{Account, Head, Subtensor};

use super::submissions::Revealed;
use super::EngineError;

/// A block reads are pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub number: u64,
    pub hash: [u8; 32],
}

/// What the engine needs from the chain, all read at one head.
pub trait ChainView {
    fn head(&self) -> impl Future<Output = Result<ChainHead, EngineError>> + Send;
    /// Every hotkey's revealed commitments under the netuid, in storage order.
    fn revealed(
        &self,
        at: ChainHead,
    ) -> impl Future<Output = Result<Vec<Revealed>, EngineError>> + Send;
    /// hotkey → coldkey for every registered neuron (SS58).
    fn coldkeys(
        &self,
        at: ChainHead,
    ) -> impl Future<Output = Result<HashMap<String, String>, EngineError>> + Send;
    /// coldkey → locked alpha, queried one by one in the given order; `None` when the runtime
    /// has no coldkey-lock API (the filter then only checks registration).
    fn locks(
        &self,
        at: ChainHead,
        coldkeys: &[String],
    ) -> impl Future<Output = Result<Option<HashMap<String, f64>>, EngineError>> + Send;
    /// `Timestamp.Now` (unix milliseconds) of block `number`, for the drand seed.
    fn block_timestamp(&self, number: u64)
        -> impl Future<Output = Result<u64, EngineError>> + Send;
}

/// [`ChainView`] over a live Subtensor connection.
pub struct SubtensorView {
    pub client: Subtensor,
    pub netuid: u16,
}

/// Whether the runtime keeps revealed timelocked commitments (spec 218 does not).
pub fn has_revealed_commitments(client: &Subtensor) -> bool {
    client
        .metadata()
        .pallet_by_name("Commitments")
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name("RevealedCommitments"))
        .is_some()
}

impl SubtensorView {
    fn has_revealed_commitments(&self) -> bool {
        has_revealed_commitments(&self.client)
    }

    /// Runtimes without timelocked commitments (local chains on old runtimes): each hotkey's
    /// plain `CommitmentOf` text counts as revealed at the block it was set. Finney never takes
    /// this path.
    async fn plain_commitments(&self, at: ChainHead) -> Result<Vec<Revealed>, EngineError> {
        tracing::warn!(
            "runtime has no Commitments.RevealedCommitments: plain commitments count as revealed"
        );
        let list = self.client.commitments(self.netuid, to_head(at)).await?;
        Ok(list
            .into_iter()
            .map(|r| {
                let text: String = r.fields.iter().filter_map(|f| f.as_text()).collect();
                Revealed {
                    hotkey: r.hotkey.ss58(),
                    account: Some(r.hotkey.0),
                    entries: vec![(u64::from(r.block), text)],
                }
            })
            .collect())
    }
}

fn to_head(h: ChainHead) -> Head {
    Head {
        hash: h.hash,
        number: h.number,
    }
}

impl ChainView for SubtensorView {
    async fn head(&self) -> Result<ChainHead, EngineError> {
        let h = self.client.head().await?;
        Ok(ChainHead {
            number: h.number,
            hash: h.hash,
        })
    }

    async fn revealed(&self, at: ChainHead) -> Result<Vec<Revealed>, EngineError> {
        if !self.has_revealed_commitments() {
            return self.plain_commitments(at).await;
        }
        let list = self
            .client
            .revealed_commitments(self.netuid, to_head(at))
            .await?;
        Ok(list
            .into_iter()
            .map(|r| Revealed {
                hotkey: r.hotkey.ss58(),
                account: Some(r.hotkey.0),
                entries: r.entries.into_iter().map(|e| (e.block, e.text)).collect(),
            })
            .collect())
    }

    async fn coldkeys(&self, at: ChainHead) -> Result<HashMap<String, String>, EngineError> {
        let mg = self
            .client
            .metagraph_at(self.netuid, Source::Auto, to_head(at))
            .await?;
        Ok(mg
            .neurons
            .into_iter()
            .map(|n| (n.hotkey.ss58(), n.coldkey.ss58()))
            .collect())
    }

    async fn locks(
        &self,
        at: ChainHead,
        coldkeys: &[String],
    ) -> Result<Option<HashMap<String, f64>>, EngineError> {
        if !self.client.has_coldkey_lock_api() {
            tracing::warn!(
                "runtime has no StakeInfoRuntimeApi.get_coldkey_lock: skipping the lock filter"
            );
            return Ok(None);
        }
        let mut out = HashMap::new();
        for ck in coldkeys {
            let account: Account = ck
                .parse()
                .map_err(|_| EngineError::Chain(format!("bad coldkey {ck}")))?;
            let lock = self
                .client
                .coldkey_lock(&account, self.netuid, to_head(at))
                .await?;
            out.insert(ck.clone(), lock.map_or(0.0, |l| l.locked_alpha()));
        }
        Ok(Some(out))
    }

    async fn block_timestamp(&self, number: u64) -> Result<u64, EngineError> {
        let hash = self
            .client
            .rpc()
            .block_hash(Some(number))
            .await?
            .ok_or_else(|| EngineError::Chain(format!("block {number} is not known")))?;
        self.client
            .storage_at(Head { hash, number })
            .get::<u64>("Timestamp", "Now", &[])
            .await?
            .ok_or_else(|| EngineError::Chain(format!("block {number} has no Timestamp.Now")))
    }
}
