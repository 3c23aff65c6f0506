//! Metagraph from storage maps in three batched round trips: subnet size, then per-uid hotkeys
//! with the per-subnet vectors, then per-hotkey coldkey, stake and axon.

use crate::account::Account;
use crate::client::{Head, Subtensor};
use crate::error::ChainError;
use crate::storage::Entry;

use super::{AxonInfo, Neuron, MAX_NEURONS};

const PALLET: &str = "SubtensorModule";
/// Per-subnet vectors indexed by uid.
const FLAG_VECS: [&str; 2] = ["Active", "ValidatorPermit"];
const U16_VECS: [&str; 3] = ["Consensus", "Dividends", "Incentive"];
const U64_VECS: [&str; 2] = ["LastUpdate", "Emission"];
/// Per-hotkey maps.
const HOTKEY_MAPS: [&str; 3] = ["Owner", "TotalHotkeyAlpha", "Axons"];

/// Whether this runtime has every map the storage path reads.
pub(super) fn runtime_has_maps(client: &Subtensor) -> bool {
    let md = client.metadata();
    let spec = client.spec_version();
    ["NetworksAdded", "SubnetworkN", "Keys"]
        .iter()
        .chain(FLAG_VECS.iter())
        .chain(U16_VECS.iter())
        .chain(U64_VECS.iter())
        .chain(HOTKEY_MAPS.iter())
        .all(|name| Entry::resolve(md, spec, PALLET, name).is_ok())
}

fn get<T: Clone + Default>(v: &[T], uid: usize) -> T {
    v.get(uid).cloned().unwrap_or_default()
}

pub(super) async fn read(
    client: &Subtensor,
    netuid: u16,
    head: Head,
) -> Result<Vec<Neuron>, ChainError> {
    let r = client.storage_at(head);
    let md = r.metadata();
    let nu = netuid.to_le_bytes();

    // Round trip 1: does the subnet exist, and how many uids.
    let added = r.entry(PALLET, "NetworksAdded")?;
    let count = r.entry(PALLET, "SubnetworkN")?;
    let raw = r
        .raw_many(&[added.key(&[&nu])?, count.key(&[&nu])?])
        .await?;
    if !added
        .decode::<bool>(md, raw[0].as_deref())?
        .unwrap_or(false)
    {
        return Err(ChainError::UnknownNetuid(netuid));
    }
    let n = count.decode::<u16>(md, raw[1].as_deref())?.unwrap_or(0);
    if n > MAX_NEURONS {
        return Err(ChainError::MalformedReply {
            method: "state_queryStorageAt",
            reason: format!("SubnetworkN({netuid}) = {n} exceeds {MAX_NEURONS}"),
        });
    }

    // Round trip 2: hotkeys by uid, and the per-subnet vectors.
    let keys_entry = r.entry(PALLET, "Keys")?;
    let vec_entries: Vec<Entry> = FLAG_VECS
        .iter()
        .chain(U16_VECS.iter())
        .chain(U64_VECS.iter())
        .map(|name| r.entry(PALLET, name))
        .collect::<Result<_, _>>()?;
    let mut keys = Vec::with_capacity(n as usize + vec_entries.len());
    for uid in 0..n {
        keys.push(keys_entry.key(&[&nu, &uid.to_le_bytes()])?);
    }
    for e in &vec_entries {
        keys.push(e.key(&[&nu])?);
    }
    let raw = r.raw_many(&keys).await?;
    let (raw_hotkeys, raw_vecs) = raw.split_at(n as usize);
    let mut hotkeys = Vec::with_capacity(n as usize);
    for (uid, value) in raw_hotkeys.iter().enumerate() {
        let key = keys_entry
            .decode::<[u8; 32]>(md, value.as_deref())?
            .ok_or_else(|| ChainError::Decode {
                what: format!("SubtensorModule.Keys({netuid}, {uid})"),
                reason: "no hotkey for a uid below SubnetworkN".into(),
            })?;
        hotkeys.push(key);
    }
    let flags: Vec<Vec<bool>> = (0..FLAG_VECS.len())
        .map(|i| {
            Ok(vec_entries[i]
                .decode(md, raw_vecs[i].as_deref())?
                .unwrap_or_default())
        })
        .collect::<Result<_, ChainError>>()?;
    let off = FLAG_VECS.len();
    let u16s: Vec<Vec<u16>> = (0..U16_VECS.len())
        .map(|i| {
            Ok(vec_entries[off + i]
                .decode(md, raw_vecs[off + i].as_deref())?
                .unwrap_or_default())
        })
        .collect::<Result<_, ChainError>>()?;
    let off = off + U16_VECS.len();
    let u64s: Vec<Vec<u64>> = (0..U64_VECS.len())
        .map(|i| {
            Ok(vec_entries[off + i]
                .decode(md, raw_vecs[off + i].as_deref())?
                .unwrap_or_default())
        })
        .collect::<Result<_, ChainError>>()?;

    // Round trip 3: per-hotkey coldkey, alpha stake and axon.
    let owner = r.entry(PALLET, "Owner")?;
    let alpha = r.entry(PALLET, "TotalHotkeyAlpha")?;
    let axons = r.entry(PALLET, "Axons")?;
    let mut keys = Vec::with_capacity(hotkeys.len() * 3);
    for hk in &hotkeys {
        keys.push(owner.key(&[hk])?);
        keys.push(alpha.key(&[hk, &nu])?);
        keys.push(axons.key(&[&nu, hk])?);
    }
    let raw = r.raw_many(&keys).await?;

    let mut neurons = Vec::with_capacity(hotkeys.len());
    for (uid, (hk, vals)) in hotkeys.iter().zip(raw.chunks(3)).enumerate() {
        let coldkey = owner
            .decode::<[u8; 32]>(md, vals[0].as_deref())?
            .unwrap_or_default();
        let stake = alpha.decode::<u64>(md, vals[1].as_deref())?.unwrap_or(0);
        let axon = axons.decode::<AxonInfo>(md, vals[2].as_deref())?;
        neurons.push(Neuron {
            uid: uid as u16,
            hotkey: Account(*hk),
            coldkey: Account(coldkey),
            stake,
            active: get(&flags[0], uid),
            validator_permit: get(&flags[1], uid),
            consensus: get(&u16s[0], uid),
            dividends: get(&u16s[1], uid),
            incentive: get(&u16s[2], uid),
            last_update: get(&u64s[0], uid),
            emission: get(&u64s[1], uid),
            axon,
        });
    }
    Ok(neurons)
}
