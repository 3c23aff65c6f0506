//! Call payloads, built dynamically by pallet and call name and encoded against the connected
//! runtime's metadata (so call-index changes in a runtime upgrade need no new release).

use subxt::dynamic::Value;
use subxt::transactions::DynamicPayload;
use subxt::utils::AccountId32;

use crate::account::Account;

/// A dynamic call with scale-value fields.
pub type Call = DynamicPayload<Vec<Value>>;

fn call(pallet: &str, name: &str, fields: Vec<Value>) -> Call {
    subxt::dynamic::transaction(pallet, name, fields)
}

fn u16s(v: &[u16]) -> Value {
    Value::unnamed_composite(v.iter().map(|x| Value::u128(u128::from(*x))))
}

fn account(a: &Account) -> Value {
    // AccountId32 is a composite around [u8; 32] in every runtime's metadata.
    Value::unnamed_composite([Value::from_bytes(a.0)])
}

/// `SubtensorModule.set_weights(netuid, dests, weights, version_key)`.
pub fn set_weights(netuid: u16, uids: &[u16], values: &[u16], version_key: u64) -> Call {
    call(
        "SubtensorModule",
        "set_weights",
        vec![
            Value::u128(netuid.into()),
            u16s(uids),
            u16s(values),
            Value::u128(version_key.into()),
        ],
    )
}

/// `SubtensorModule.commit_timelocked_weights(netuid, commit, reveal_round, commit_reveal_version)`.
pub fn commit_timelocked_weights(
    netuid: u16,
    commit: &[u8],
    reveal_round: u64,
    version: u16,
) -> Call {
    call(
        "SubtensorModule",
        "commit_timelocked_weights",
        vec![
            Value::u128(netuid.into()),
            Value::from_bytes(commit),
            Value::u128(reveal_round.into()),
            Value::u128(version.into()),
        ],
    )
}

/// `SubtensorModule.commit_timelocked_mechanism_weights(netuid, mecid, commit, reveal_round, version)`.
pub fn commit_timelocked_mechanism_weights(
    netuid: u16,
    mecid: u8,
    commit: &[u8],
    reveal_round: u64,
    version: u16,
) -> Call {
    call(
        "SubtensorModule",
        "commit_timelocked_mechanism_weights",
        vec![
            Value::u128(netuid.into()),
            Value::u128(mecid.into()),
            Value::from_bytes(commit),
            Value::u128(reveal_round.into()),
            Value::u128(version.into()),
        ],
    )
}

/// Arguments of `serve_axon`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeAxon {
    pub netuid: u16,
    pub version: u32,
    pub ip: u128,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
}

/// `SubtensorModule.serve_axon(netuid, version, ip, port, ip_type, protocol, 0, 0)`.
pub fn serve_axon(a: &ServeAxon) -> Call {
    call(
        "SubtensorModule",
        "serve_axon",
        vec![
            Value::u128(a.netuid.into()),
            Value::u128(a.version.into()),
            Value::u128(a.ip),
            Value::u128(a.port.into()),
            Value::u128(a.ip_type.into()),
            Value::u128(a.protocol.into()),
            Value::u128(0),
            Value::u128(0),
        ],
    )
}

/// `SubtensorModule.burned_register(netuid, hotkey)`, signed by the coldkey that pays.
pub fn burned_register(netuid: u16, hotkey: &Account) -> Call {
    call(
        "SubtensorModule",
        "burned_register",
        vec![Value::u128(netuid.into()), account(hotkey)],
    )
}

/// `SubtensorModule.register_limit(netuid, hotkey, limit_price)`: fails if the burn exceeds the limit.
pub fn register_limit(netuid: u16, hotkey: &Account, limit_price: u64) -> Call {
    call(
        "SubtensorModule",
        "register_limit",
        vec![
            Value::u128(netuid.into()),
            account(hotkey),
            Value::u128(limit_price.into()),
        ],
    )
}

/// `SubtensorModule.register_network(hotkey[, mechid])`: creates a subnet owned by the signing
/// coldkey. Runtimes before ~spec 230 also take a `mechid` (1 = dynamic).
pub fn register_network(hotkey: &Account, mechid: Option<u16>) -> Call {
    let mut fields = vec![account(hotkey)];
    if let Some(m) = mechid {
        fields.push(Value::u128(m.into()));
    }
    call("SubtensorModule", "register_network", fields)
}

/// `Commitments.set_commitment(netuid, CommitmentInfo { fields })`.
pub fn set_commitment(netuid: u16, fields: Vec<Value>) -> Call {
    call(
        "Commitments",
        "set_commitment",
        vec![
            Value::u128(netuid.into()),
            Value::named_composite([("fields", Value::unnamed_composite(fields))]),
        ],
    )
}

/// `Sudo.sudo(call)`, for preparing local chains.
pub fn sudo(inner: &Call) -> Call {
    let inner = Value::variant(
        inner.pallet_name().to_string(),
        subxt::ext::scale_value::Composite::Unnamed(vec![Value::variant(
            inner.call_name().to_string(),
            subxt::ext::scale_value::Composite::Unnamed(inner.call_data().clone()),
        )]),
    );
    call("Sudo", "sudo", vec![inner])
}

/// `Balances.transfer_keep_alive(dest, value)` (local chains: fund keys).
pub fn transfer(dest: &Account, amount: u128) -> Call {
    let dest = Value::unnamed_variant("Id", [account(dest)]);
    call(
        "Balances",
        "transfer_keep_alive",
        vec![dest, Value::u128(amount)],
    )
}

/// An AdminUtils call taking `(netuid, value)`, e.g. `sudo_set_weights_set_rate_limit`.
pub fn admin_set(name: &str, netuid: u16, value: u128) -> Call {
    call(
        "AdminUtils",
        name,
        vec![Value::u128(netuid.into()), Value::u128(value)],
    )
}

/// An AdminUtils call taking `(netuid, bool)`, e.g. `sudo_set_commit_reveal_weights_enabled`.
pub fn admin_set_bool(name: &str, netuid: u16, value: bool) -> Call {
    call(
        "AdminUtils",
        name,
        vec![Value::u128(netuid.into()), Value::bool(value)],
    )
}

/// Keeps `AccountId32` reachable for callers that build their own values.
pub fn account_id32(a: &Account) -> AccountId32 {
    AccountId32(a.0)
}
