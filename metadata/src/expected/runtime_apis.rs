//! Runtime API methods sn17 calls (chain.md §1.3; competition.md §3.3).
//!
//! Runtimes before ~spec 230 declared the Subtensor info APIs as returning
//! `Vec<u8>` holding the SCALE encoding of the typed value. That form is an
//! accepted alternative ([`OPAQUE_BYTES`]): the node decodes the bytes with
//! the typed layout, so the item is usable but flagged.

use super::shapes::{DYNAMIC_INFO, LOCK_STATE, METAGRAPH, NEURON_INFO_LITE, SELECTIVE_METAGRAPH};
use super::{OutputAlternative, Requirement, RuntimeApiItem, OPAQUE_BYTES};
use crate::shape::{Field, Shape};

const fn f(name: &'static str, shape: Shape) -> Field {
    Field { name, shape }
}
const fn opt(fallback: &'static str) -> Requirement {
    Requirement::Optional { fallback }
}
use Requirement::Required;

const NETUID: Field = f("netuid", Shape::U16);

/// Output declared as `Vec<u8>`, SCALE-encoded inside.
const OPAQUE: &[OutputAlternative] = &[OutputAlternative {
    label: OPAQUE_BYTES,
    output: Shape::Bytes,
    note: "declared as Vec<u8>: the node SCALE-decodes the bytes with the typed layout",
}];

/// Fallback of the metagraph APIs.
const METAGRAPH_FROM_STORAGE: &str = "read the metagraph from storage maps and get_neurons_lite";

/// All runtime API methods, in report order.
pub static RUNTIME_APIS: &[RuntimeApiItem] = &[
    RuntimeApiItem {
        api: "NeuronInfoRuntimeApi",
        method: "get_neurons_lite",
        inputs: &[NETUID],
        output: Shape::Vec(&NEURON_INFO_LITE),
        alternatives: OPAQUE,
        requirement: Required,
        purpose: "hotkey -> coldkey, axons and metagraph vectors of all neurons",
    },
    RuntimeApiItem {
        api: "NeuronInfoRuntimeApi",
        method: "get_neuron_lite",
        inputs: &[NETUID, f("uid", Shape::U16)],
        output: Shape::Option(&NEURON_INFO_LITE),
        alternatives: OPAQUE,
        requirement: opt("pick the neuron from get_neurons_lite"),
        purpose: "one neuron",
    },
    RuntimeApiItem {
        api: "SubnetInfoRuntimeApi",
        method: "get_metagraph",
        inputs: &[NETUID],
        output: Shape::Option(&METAGRAPH),
        alternatives: &[],
        requirement: opt(METAGRAPH_FROM_STORAGE),
        purpose: "whole metagraph in one call",
    },
    RuntimeApiItem {
        api: "SubnetInfoRuntimeApi",
        method: "get_selective_metagraph",
        inputs: &[NETUID, f("metagraph_indexes", Shape::Vec(&Shape::U16))],
        output: Shape::Option(&SELECTIVE_METAGRAPH),
        alternatives: &[],
        requirement: opt("get_metagraph, else storage maps"),
        purpose: "the metagraph fields sn17 needs, including commitments (index 73)",
    },
    RuntimeApiItem {
        api: "SubnetInfoRuntimeApi",
        method: "get_dynamic_info",
        inputs: &[NETUID],
        output: Shape::Option(&DYNAMIC_INFO),
        alternatives: OPAQUE,
        requirement: opt("read Tempo, SubnetOwner and BlocksSinceLastStep from storage"),
        purpose: "subnet owner, tempo and last step",
    },
    RuntimeApiItem {
        api: "SubnetInfoRuntimeApi",
        method: "get_next_epoch_start_block",
        inputs: &[NETUID],
        output: Shape::Option(&Shape::U64),
        alternatives: &[],
        requirement: opt("simulate the epoch schedule from storage"),
        purpose: "block of the next epoch (round and reveal scheduling)",
    },
    RuntimeApiItem {
        api: "StakeInfoRuntimeApi",
        method: "get_coldkey_lock",
        inputs: &[f("coldkey", Shape::AccountId32), NETUID],
        output: Shape::Option(&LOCK_STATE),
        alternatives: &[],
        requirement: opt(
            "conviction-lock anti-sybil filter cannot run: report the capability missing",
        ),
        purpose: "conviction lock of a coldkey (404's anti-sybil filter, competition.md §3.3)",
    },
    RuntimeApiItem {
        api: "AccountNonceApi",
        method: "account_nonce",
        inputs: &[f("account", Shape::AccountId32)],
        output: Shape::U32,
        alternatives: &[],
        requirement: Required,
        purpose: "nonce for signing",
    },
    RuntimeApiItem {
        api: "Metadata",
        method: "metadata_at_version",
        inputs: &[f("version", Shape::U32)],
        output: Shape::Option(&Shape::Bytes),
        alternatives: &[],
        requirement: opt("state_getMetadata (V14 only)"),
        purpose: "fetch V15/V16 metadata",
    },
];
