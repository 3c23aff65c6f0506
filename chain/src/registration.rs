//! Registering hotkeys and serving axons.

use std::net::IpAddr;

use serde::Serialize;

use crate::account::Account;
use crate::calls::{self, ServeAxon};
use crate::client::{Head, Subtensor};
use crate::error::ChainError;
use crate::tx::{Included, PairSigner};

/// Result of a registration request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Registered {
    /// The hotkey was already registered; nothing was sent.
    Already { uid: u16 },
    /// Registered by this call.
    New {
        uid: u16,
        burn: u64,
        included: Included,
    },
}

impl Registered {
    pub fn uid(&self) -> u16 {
        match self {
            Registered::Already { uid } | Registered::New { uid, .. } => *uid,
        }
    }
}

impl Subtensor {
    /// The uid of `hotkey` on `netuid`, if registered.
    pub async fn uid_of(
        &self,
        netuid: u16,
        hotkey: &Account,
        head: Head,
    ) -> Result<Option<u16>, ChainError> {
        self.storage_at(head)
            .get::<u16>(
                "SubtensorModule",
                "Uids",
                &[&netuid.to_le_bytes(), &hotkey.0],
            )
            .await
    }

    /// The uid of `hotkey`, or [`ChainError::NotRegistered`].
    pub async fn require_uid(
        &self,
        netuid: u16,
        hotkey: &Account,
        head: Head,
    ) -> Result<u16, ChainError> {
        self.uid_of(netuid, hotkey, head)
            .await?
            .ok_or_else(|| ChainError::NotRegistered {
                hotkey: hotkey.ss58(),
                netuid,
            })
    }

    /// Registers `hotkey` on `netuid` by burning TAO from the coldkey. With `limit_price`, the
    /// runtime's `register_limit` refuses a price above it (checked here too on runtimes without
    /// that call).
    pub async fn burned_register(
        &self,
        netuid: u16,
        coldkey: &PairSigner,
        hotkey: &Account,
        limit_price: Option<u64>,
    ) -> Result<Registered, ChainError> {
        let head = self.head().await?;
        if !self.subnet_exists(netuid, head).await? {
            return Err(ChainError::UnknownNetuid(netuid));
        }
        if let Some(uid) = self.uid_of(netuid, hotkey, head).await? {
            return Ok(Registered::Already { uid });
        }
        let burn = self
            .storage_at(head)
            .get::<u64>("SubtensorModule", "Burn", &[&netuid.to_le_bytes()])
            .await?
            .unwrap_or(0);
        let has_limit_call = self
            .metadata()
            .pallet_by_name("SubtensorModule")
            .and_then(|p| p.call_variant_by_name("register_limit"))
            .is_some();
        let call = match limit_price {
            Some(limit) if burn > limit => {
                return Err(ChainError::InvalidArgument(format!(
                    "registration costs {burn} rao, above the limit of {limit} rao"
                )))
            }
            Some(limit) if has_limit_call => calls::register_limit(netuid, hotkey, limit),
            _ => calls::burned_register(netuid, hotkey),
        };
        let included = self.submit(&call, coldkey).await?;
        let head = self.head().await?;
        let uid = self.require_uid(netuid, hotkey, head).await?;
        Ok(Registered::New {
            uid,
            burn,
            included,
        })
    }

    /// Creates a subnet owned by `coldkey` with `hotkey` as its first neuron (local chains and
    /// subnet owners). Adds the `mechid` argument older runtimes take.
    pub async fn register_network(
        &self,
        coldkey: &PairSigner,
        hotkey: &Account,
    ) -> Result<Included, ChainError> {
        let fields = self
            .metadata()
            .pallet_by_name("SubtensorModule")
            .and_then(|p| p.call_variant_by_name("register_network"))
            .map(|v| v.fields.len())
            .ok_or_else(|| self.missing("call SubtensorModule.register_network"))?;
        let mechid = (fields >= 2).then_some(1);
        self.submit(&calls::register_network(hotkey, mechid), coldkey)
            .await
    }

    /// Every subnet (`NetworksAdded` keys) at `head`, sorted.
    pub async fn netuids(&self, head: Head) -> Result<Vec<u16>, ChainError> {
        let r = self.storage_at(head);
        let entry = r.entry("SubtensorModule", "NetworksAdded")?;
        // u16 netuids: at most 65,536 keys.
        let keys = r.keys(&entry, &[], 1 << 16).await?;
        let mut out: Vec<u16> = keys
            .iter()
            .filter_map(|k| entry.last_key_part(k))
            .filter_map(|p| <[u8; 2]>::try_from(p).ok())
            .map(u16::from_le_bytes)
            .collect();
        out.sort_unstable();
        Ok(out)
    }

    /// `register_network`, then the netuid it created (the one subnet that was not there
    /// before and is owned by `coldkey`).
    pub async fn create_subnet(
        &self,
        coldkey: &PairSigner,
        hotkey: &Account,
    ) -> Result<(u16, Included), ChainError> {
        let before = self.netuids(self.head().await?).await?;
        let included = self.register_network(coldkey, hotkey).await?;
        let after = self.netuids(self.head().await?).await?;
        let new: Vec<u16> = after
            .into_iter()
            .filter(|n| before.binary_search(n).is_err())
            .collect();
        match new.as_slice() {
            [netuid] => Ok((*netuid, included)),
            _ => Err(ChainError::MalformedReply {
                method: "register_network",
                reason: format!("expected one new subnet, found {new:?}"),
            }),
        }
    }

    /// Publishes this hotkey's endpoint (`serve_axon`). The chain refuses 127.0.0.1 and port 0.
    pub async fn serve_axon(
        &self,
        netuid: u16,
        hotkey: &PairSigner,
        ip: IpAddr,
        port: u16,
        version: u32,
    ) -> Result<Included, ChainError> {
        let (ip, ip_type) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4u8),
            IpAddr::V6(v6) => (u128::from(v6), 6u8),
        };
        let call = calls::serve_axon(&ServeAxon {
            netuid,
            version,
            ip,
            port,
            ip_type,
            // The Python SDK sends 4 for every axon.
            protocol: 4,
        });
        self.submit(&call, hotkey).await
    }
}
