//! Metagraph from `NeuronInfoRuntimeApi.get_neurons_lite`.

use codec::{Compact, Decode};
use scale_decode::DecodeAsType;

use crate::account::Account;
use crate::client::{Head, Subtensor};
use crate::error::ChainError;
use crate::runtime_api::Output;

use super::{AxonInfo, Neuron, MAX_NEURONS};

const API: &str = "NeuronInfoRuntimeApi";
const METHOD: &str = "get_neurons_lite";

/// NeuronInfoLite as typed runtimes describe it; fields we do not use are skipped by name.
#[derive(DecodeAsType)]
struct TypedNeuron {
    hotkey: [u8; 32],
    coldkey: [u8; 32],
    uid: u16,
    active: bool,
    axon_info: AxonInfo,
    stake: Vec<([u8; 32], u64)>,
    emission: u64,
    incentive: u16,
    consensus: u16,
    dividends: u16,
    last_update: u64,
    validator_permit: bool,
}

/// The same struct in its SCALE layout, for runtimes that return `Vec<u8>` (chain.md §1.3).
#[derive(Decode)]
struct ScaleNeuron {
    hotkey: [u8; 32],
    coldkey: [u8; 32],
    uid: Compact<u16>,
    _netuid: Compact<u16>,
    active: bool,
    axon_info: ScaleAxon,
    _prometheus_info: ScalePrometheus,
    stake: Vec<([u8; 32], Compact<u64>)>,
    _rank: Compact<u16>,
    emission: Compact<u64>,
    incentive: Compact<u16>,
    consensus: Compact<u16>,
    _trust: Compact<u16>,
    _validator_trust: Compact<u16>,
    dividends: Compact<u16>,
    last_update: Compact<u64>,
    validator_permit: bool,
    _pruning_score: Compact<u16>,
}

#[derive(Decode)]
struct ScaleAxon {
    block: u64,
    version: u32,
    ip: u128,
    port: u16,
    ip_type: u8,
    protocol: u8,
    _placeholder1: u8,
    _placeholder2: u8,
}

#[derive(Decode)]
struct ScalePrometheus {
    _block: u64,
    _version: u32,
    _ip: u128,
    _port: u16,
    _ip_type: u8,
}

fn served(axon: AxonInfo) -> Option<AxonInfo> {
    // The runtime API reports a default axon for neurons that never served; storage has none.
    axon.is_served().then_some(axon)
}

pub(super) async fn read(
    client: &Subtensor,
    netuid: u16,
    head: Head,
) -> Result<Vec<Neuron>, ChainError> {
    if !client.subnet_exists(netuid, head).await? {
        return Err(ChainError::UnknownNetuid(netuid));
    }
    let (output, bytes) = client
        .call_runtime_api(API, METHOD, &codec::Encode::encode(&netuid), head)
        .await?;
    let decode_err = |reason: String| ChainError::Decode {
        what: format!("{API}.{METHOD}"),
        reason,
    };
    let mut neurons = match output {
        Output::Typed(ty) => {
            let list: Vec<TypedNeuron> =
                DecodeAsType::decode_as_type(&mut &bytes[..], ty, client.metadata().types())
                    .map_err(|e| decode_err(e.to_string()))?;
            list.into_iter()
                .map(|n| Neuron {
                    uid: n.uid,
                    hotkey: Account(n.hotkey),
                    coldkey: Account(n.coldkey),
                    stake: n.stake.iter().map(|(_, s)| *s).sum(),
                    active: n.active,
                    validator_permit: n.validator_permit,
                    last_update: n.last_update,
                    incentive: n.incentive,
                    consensus: n.consensus,
                    dividends: n.dividends,
                    emission: n.emission,
                    axon: served(n.axon_info),
                })
                .collect::<Vec<_>>()
        }
        Output::OpaqueBytes => {
            let inner =
                Vec::<u8>::decode(&mut &bytes[..]).map_err(|e| decode_err(e.to_string()))?;
            let mut input = &inner[..];
            let len = Compact::<u32>::decode(&mut input)
                .map_err(|e| decode_err(e.to_string()))?
                .0;
            if len > u32::from(MAX_NEURONS) {
                return Err(decode_err(format!("{len} neurons exceeds {MAX_NEURONS}")));
            }
            let mut out = Vec::with_capacity(len as usize);
            for _ in 0..len {
                let n = ScaleNeuron::decode(&mut input).map_err(|e| decode_err(e.to_string()))?;
                out.push(Neuron {
                    uid: n.uid.0,
                    hotkey: Account(n.hotkey),
                    coldkey: Account(n.coldkey),
                    stake: n.stake.iter().map(|(_, s)| s.0).sum(),
                    active: n.active,
                    validator_permit: n.validator_permit,
                    last_update: n.last_update.0,
                    incentive: n.incentive.0,
                    consensus: n.consensus.0,
                    dividends: n.dividends.0,
                    emission: n.emission.0,
                    axon: served(AxonInfo {
                        block: n.axon_info.block,
                        version: n.axon_info.version,
                        ip: n.axon_info.ip,
                        port: n.axon_info.port,
                        ip_type: n.axon_info.ip_type,
                        protocol: n.axon_info.protocol,
                    }),
                });
            }
            if !input.is_empty() {
                return Err(decode_err(format!("{} trailing bytes", input.len())));
            }
            out
        }
    };
    neurons.sort_by_key(|n| n.uid);
    Ok(neurons)
}
