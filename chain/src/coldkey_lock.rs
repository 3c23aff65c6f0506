//! `StakeInfoRuntimeApi.get_coldkey_lock(coldkey, netuid)`: the alpha a coldkey has locked on a
//! subnet, which 404's anti-sybil filter requires per submitting hotkey (competition.md §3.3).

use codec::Encode;
use scale_decode::DecodeAsType;
use serde::Serialize;

use crate::account::Account;
use crate::client::{Head, Subtensor};
use crate::error::ChainError;
use crate::runtime_api::Output;

const API: &str = "StakeInfoRuntimeApi";
const METHOD: &str = "get_coldkey_lock";

/// A coldkey's lock on a subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, DecodeAsType)]
pub struct LockState {
    /// Locked alpha in rao.
    pub locked_mass: u64,
    pub last_update: u64,
}

impl LockState {
    /// Locked alpha in whole units, as 404 compares it (`locked_mass / 1e9`).
    pub fn locked_alpha(&self) -> f64 {
        self.locked_mass as f64 / 1e9
    }
}

impl Subtensor {
    /// Whether this runtime has the coldkey lock API.
    pub fn has_coldkey_lock_api(&self) -> bool {
        crate::runtime_api::resolve(self.metadata(), self.spec_version(), API, METHOD).is_ok()
    }

    /// The coldkey's lock on `netuid`; `None` when it has none. Fails with
    /// [`ChainError::MissingItem`] on runtimes without the API (before the lock feature).
    pub async fn coldkey_lock(
        &self,
        coldkey: &Account,
        netuid: u16,
        head: Head,
    ) -> Result<Option<LockState>, ChainError> {
        let args = (coldkey.0, netuid).encode();
        let (output, bytes) = self.call_runtime_api(API, METHOD, &args, head).await?;
        let ty = match output {
            Output::Typed(ty) => ty,
            Output::OpaqueBytes => {
                return Err(ChainError::Decode {
                    what: format!("{API}.{METHOD}"),
                    reason: "runtime returns opaque bytes for this API; not supported".into(),
                })
            }
        };
        Option::<LockState>::decode_as_type(&mut &bytes[..], ty, self.metadata().types()).map_err(
            |e| ChainError::Decode {
                what: format!("{API}.{METHOD}"),
                reason: e.to_string(),
            },
        )
    }
}
