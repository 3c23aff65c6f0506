//! Calls sn17 submits (chain.md §1.4). Indices are finney spec 424's; calls
//! are built dynamically by name, so a changed index is informational.

use super::shapes::COMMITMENT_INFO;
use super::{CallAlternative, CallItem, Requirement, LEGACY_MECHID};
use crate::shape::{Field, Shape};

const fn f(name: &'static str, shape: Shape) -> Field {
    Field { name, shape }
}
const fn opt(fallback: &'static str) -> Requirement {
    Requirement::Optional { fallback }
}
use Requirement::Required;

const SUBTENSOR: &str = "SubtensorModule";
const SUBTENSOR_INDEX: u8 = 7;
const ADMIN: &str = "AdminUtils";
const ADMIN_INDEX: u8 = 19;

/// Fallback of the local-chain setup calls.
const TEST_SETUP: &str = "local-chain setup only: configure the chain by other means";

const NETUID: Field = f("netuid", Shape::U16);
const HOTKEY: Field = f("hotkey", Shape::AccountId32);

/// `AdminUtils` setter `name(netuid, arg)`, used to configure a local subnet.
const fn admin(name: &'static str, call_index: u8, args: &'static [Field]) -> CallItem {
    CallItem {
        pallet: ADMIN,
        name,
        pallet_index: ADMIN_INDEX,
        call_index,
        args,
        alternatives: &[],
        requirement: opt(TEST_SETUP),
        purpose: "local subnet configuration (through Sudo.sudo)",
    }
}

/// All calls, in report order.
pub static CALLS: &[CallItem] = &[
    CallItem {
        pallet: SUBTENSOR,
        name: "set_weights",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 0,
        args: &[
            NETUID,
            f("dests", Shape::Vec(&Shape::U16)),
            f("weights", Shape::Vec(&Shape::U16)),
            f("version_key", Shape::U64),
        ],
        alternatives: &[],
        requirement: Required,
        purpose: "set weights when commit-reveal is off",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "set_mechanism_weights",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 119,
        args: &[
            NETUID,
            f("mecid", Shape::U8),
            f("dests", Shape::Vec(&Shape::U16)),
            f("weights", Shape::Vec(&Shape::U16)),
            f("version_key", Shape::U64),
        ],
        alternatives: &[],
        requirement: opt("set_weights (main mechanism)"),
        purpose: "set weights of a mechanism when commit-reveal is off",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "commit_timelocked_weights",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 113,
        args: &[
            NETUID,
            f("commit", Shape::Bytes),
            f("reveal_round", Shape::U64),
            f("commit_reveal_version", Shape::U16),
        ],
        alternatives: &[],
        requirement: opt(
            "commit-reveal v3 unavailable: set_weights works only while commit-reveal is off",
        ),
        purpose: "commit-reveal v3 weights (drand timelock)",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "commit_timelocked_mechanism_weights",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 118,
        args: &[
            NETUID,
            f("mecid", Shape::U8),
            f("commit", Shape::Bytes),
            f("reveal_round", Shape::U64),
            f("commit_reveal_version", Shape::U16),
        ],
        alternatives: &[],
        requirement: opt("commit_timelocked_weights (main mechanism)"),
        purpose: "commit-reveal v3 weights of a mechanism (what bittensor 10.5+ sends)",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "serve_axon",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 4,
        args: &[
            NETUID,
            f("version", Shape::U32),
            f("ip", Shape::U128),
            f("port", Shape::U16),
            f("ip_type", Shape::U8),
            f("protocol", Shape::U8),
            f("placeholder1", Shape::U8),
            f("placeholder2", Shape::U8),
        ],
        alternatives: &[],
        requirement: Required,
        purpose: "announce the axon endpoint",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "burned_register",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 7,
        args: &[NETUID, HOTKEY],
        alternatives: &[],
        requirement: Required,
        purpose: "register a hotkey (coldkey pays Burn)",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "register_limit",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 134,
        args: &[NETUID, HOTKEY, f("limit_price", Shape::U64)],
        alternatives: &[],
        requirement: opt("burned_register without a price limit"),
        purpose: "register a hotkey with a maximum price",
    },
    CallItem {
        pallet: SUBTENSOR,
        name: "register_network",
        pallet_index: SUBTENSOR_INDEX,
        call_index: 59,
        args: &[HOTKEY],
        alternatives: &[CallAlternative {
            label: LEGACY_MECHID,
            args: &[HOTKEY, f("mechid", Shape::U16)],
            note: "older runtimes take an extra `mechid: u16`; the test harness passes it",
        }],
        requirement: opt(TEST_SETUP),
        purpose: "create a subnet on a local chain (tests)",
    },
    CallItem {
        pallet: "Commitments",
        name: "set_commitment",
        pallet_index: 18,
        call_index: 0,
        args: &[NETUID, f("info", COMMITMENT_INFO)],
        alternatives: &[],
        requirement: Required,
        purpose: "publish a commitment (plain or timelocked Data fields)",
    },
    CallItem {
        pallet: "Sudo",
        name: "sudo",
        pallet_index: 12,
        call_index: 0,
        args: &[f("call", Shape::Any)],
        alternatives: &[],
        requirement: opt(TEST_SETUP),
        purpose: "wrap AdminUtils calls on a local chain (tests)",
    },
    admin(
        "sudo_set_weights_set_rate_limit",
        7,
        &[NETUID, f("weights_set_rate_limit", Shape::U64)],
    ),
    admin(
        "sudo_set_commit_reveal_weights_enabled",
        49,
        &[NETUID, f("enabled", Shape::Bool)],
    ),
    admin(
        "sudo_set_commit_reveal_weights_interval",
        57,
        &[NETUID, f("interval", Shape::U64)],
    ),
    admin("sudo_set_tempo", 30, &[NETUID, f("tempo", Shape::U16)]),
    admin(
        "sudo_set_weights_version_key",
        6,
        &[NETUID, f("weights_version_key", Shape::U64)],
    ),
    admin(
        "sudo_set_serving_rate_limit",
        3,
        &[NETUID, f("serving_rate_limit", Shape::U64)],
    ),
    admin(
        "sudo_set_network_registration_allowed",
        19,
        &[NETUID, f("registration_allowed", Shape::Bool)],
    ),
    admin(
        "sudo_set_max_allowed_uids",
        15,
        &[NETUID, f("max_allowed_uids", Shape::U16)],
    ),
    admin(
        "sudo_set_min_allowed_weights",
        14,
        &[NETUID, f("min_allowed_weights", Shape::U16)],
    ),
    admin(
        "sudo_set_immunity_period",
        13,
        &[NETUID, f("immunity_period", Shape::U16)],
    ),
    admin(
        "sudo_set_network_rate_limit",
        29,
        &[f("rate_limit", Shape::U64)],
    ),
    admin(
        "sudo_set_stake_threshold",
        42,
        &[f("min_stake", Shape::U64)],
    ),
];
