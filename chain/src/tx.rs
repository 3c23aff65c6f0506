//! Signing and submitting transactions, and turning every way they fail into [`ChainError`].

use std::time::Duration;

use sp_core::{sr25519, Pair};
use subxt::config::substrate::MultiSignature;
use subxt::error::{DispatchError, TransactionEventsError, TransactionFinalizedSuccessError};
use subxt::transactions::Signer;
use subxt::utils::AccountId32;
use subxt::SubstrateConfig;

use crate::account::Account;
use crate::calls::Call;
use crate::client::Subtensor;
use crate::error::{parse_pool_rejection, ChainError};

/// An sr25519 key that signs transactions. Its Debug output never shows the secret.
#[derive(Clone)]
pub struct PairSigner {
    pair: sr25519::Pair,
    account: Account,
}

impl PairSigner {
    pub fn new(pair: sr25519::Pair) -> Self {
        let account = Account(pair.public().0);
        Self { pair, account }
    }

    /// A development key such as `//Alice`, for local chains and tests.
    pub fn dev(uri: &str) -> Result<Self, ChainError> {
        sr25519::Pair::from_string(uri, None)
            .map(Self::new)
            .map_err(|e| ChainError::InvalidArgument(format!("bad key URI: {e:?}")))
    }

    pub fn account(&self) -> Account {
        self.account
    }

    /// An sr25519 signature of `message` (gossip envelopes; transactions go through subxt).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.pair.sign(message).0
    }
}

impl std::fmt::Debug for PairSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PairSigner({})", self.account)
    }
}

impl Signer<SubstrateConfig> for PairSigner {
    fn account_id(&self) -> AccountId32 {
        AccountId32(self.account.0)
    }

    fn sign(&self, payload: &[u8]) -> MultiSignature {
        MultiSignature::Sr25519(self.pair.sign(payload).0)
    }
}

/// What happened to a transaction that made it into a block.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Included {
    #[serde(serialize_with = "crate::serde_hex::serialize")]
    pub block_hash: [u8; 32],
    #[serde(serialize_with = "crate::serde_hex::serialize")]
    pub extrinsic_hash: [u8; 32],
    /// `Pallet.Event` names emitted by the transaction.
    pub events: Vec<String>,
}

impl Included {
    pub fn has_event(&self, name: &str) -> bool {
        self.events.iter().any(|e| e == name)
    }
}

/// How long to wait for a transaction to be finalised.
pub const DEFAULT_TX_TIMEOUT: Duration = Duration::from_secs(120);

impl Subtensor {
    /// Signs `call` with `signer`, submits it and waits until it is finalised and succeeded.
    pub async fn submit(&self, call: &Call, signer: &PairSigner) -> Result<Included, ChainError> {
        self.submit_with_timeout(call, signer, DEFAULT_TX_TIMEOUT)
            .await
    }

    pub async fn submit_with_timeout(
        &self,
        call: &Call,
        signer: &PairSigner,
        timeout: Duration,
    ) -> Result<Included, ChainError> {
        let label = format!("{}.{}", call.pallet_name(), call.call_name());
        let at = self.api().at_current_block().await.map_err(|e| {
            ChainError::Transaction(format!("{label}: cannot read the current block: {e}"))
        })?;
        let metadata = at.metadata();
        let pallet = metadata.pallet_by_name(call.pallet_name());
        if pallet
            .and_then(|p| p.call_variant_by_name(call.call_name()))
            .is_none()
        {
            return Err(self.missing(format!("call {label}")));
        }
        let work = async {
            let progress = at
                .tx()
                .sign_and_submit_then_watch_default(call, signer)
                .await
                .map_err(|e| submit_error(&label, &e.to_string()))?;
            let extrinsic_hash = progress.extrinsic_hash();
            let in_block = progress.wait_for_finalized().await.map_err(|e| {
                finalize_error(
                    &label,
                    TransactionFinalizedSuccessError::FinalizationError(e),
                )
            })?;
            let block_hash = in_block.block_hash();
            let events = in_block.wait_for_success().await.map_err(|e| {
                finalize_error(&label, TransactionFinalizedSuccessError::SuccessError(e))
            })?;
            let mut names = Vec::new();
            for ev in events.iter() {
                let ev = ev.map_err(|e| ChainError::Decode {
                    what: format!("events of {label}"),
                    reason: e.to_string(),
                })?;
                names.push(format!("{}.{}", ev.pallet_name(), ev.event_name()));
            }
            tracing::info!(call = %label, events = ?names, "transaction finalised");
            Ok(Included {
                block_hash: block_hash.0,
                extrinsic_hash: extrinsic_hash.0,
                events: names,
            })
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ChainError::NotFinalized {
                call: label.clone(),
                timeout,
            })?
    }
}

fn submit_error(label: &str, message: &str) -> ChainError {
    if message.contains("Invalid") || message.contains("Custom") || message.contains("1010") {
        ChainError::PoolRejected(parse_pool_rejection(message))
    } else {
        ChainError::Transaction(format!("{label}: submit failed: {message}"))
    }
}

fn finalize_error(label: &str, e: TransactionFinalizedSuccessError) -> ChainError {
    match e {
        TransactionFinalizedSuccessError::SuccessError(
            TransactionEventsError::ExtrinsicFailed(d),
        ) => dispatch_error(d),
        TransactionFinalizedSuccessError::FinalizationError(p) => {
            let msg = p.to_string();
            if msg.contains("not valid") || msg.contains("Invalid") {
                ChainError::PoolRejected(parse_pool_rejection(&msg))
            } else {
                ChainError::Transaction(format!("{label}: {msg}"))
            }
        }
        other => ChainError::Transaction(format!("{label}: {other}")),
    }
}

/// Names a dispatch error by pallet and variant, read from the metadata (never hard-coded
/// indices).
fn dispatch_error(d: DispatchError) -> ChainError {
    match &d {
        DispatchError::Module(m) => match m.details() {
            Ok(details) => ChainError::Dispatch {
                pallet: details.pallet.name().to_string(),
                error: details.variant.name.clone(),
                docs: details.variant.docs.join(" ").trim().to_string(),
            },
            Err(_) => ChainError::DispatchOther(m.to_string()),
        },
        other => ChainError::DispatchOther(other.to_string()),
    }
}
