//! Code paths a runtime supports, derived from a check's item statuses. The
//! chain client uses these to choose how to read and write.

use serde::{Deserialize, Serialize};

use crate::expected::{LEGACY_MECHID, OPAQUE_BYTES};
use crate::report::{ItemKind, ItemReport, Status};

/// What the runtime offers, as far as sn17 is concerned. A flag is true only
/// when every item it depends on is present in the expected form (an index
/// change does not count); unknown items count as absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// The metadata describes runtime APIs (V15+). When false, runtime API
    /// flags below are false because they cannot be verified.
    pub runtime_apis_described: bool,
    /// `Drand.Pulses` and `Drand.LastStoredRound`.
    pub has_drand: bool,
    /// `commit_timelocked_weights`, drand and `CommitRevealWeightsVersion`:
    /// commit-reveal v3 weights.
    pub has_timelocked_weights: bool,
    /// `commit_timelocked_mechanism_weights` (with drand).
    pub has_timelocked_mechanism_weights: bool,
    /// `set_mechanism_weights`.
    pub has_mechanism_weights: bool,
    /// `LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex`,
    /// `BlocksSinceLastStep`: the stateful epoch model for reveal rounds.
    /// Without it use the legacy formula.
    pub has_stateful_epochs: bool,
    /// `Data::TimelockEncrypted`, `RevealedCommitments` and drand.
    pub has_timelocked_commitments: bool,
    /// `Data::BigRaw`.
    pub has_big_raw_commitments: bool,
    /// `SubnetInfoRuntimeApi.get_metagraph` (typed).
    pub has_metagraph_api: bool,
    /// `SubnetInfoRuntimeApi.get_selective_metagraph` (typed).
    pub has_selective_metagraph: bool,
    /// `SubnetInfoRuntimeApi.get_next_epoch_start_block`.
    pub has_next_epoch_start_block: bool,
    /// `NeuronInfoRuntimeApi.get_neurons_lite` is declared as `Vec<u8>`:
    /// decode the SCALE bytes inside with the `NeuronInfoLite` layout.
    pub neuron_api_returns_bytes: bool,
    /// `StakeInfoRuntimeApi.get_coldkey_lock`: the conviction-lock filter.
    pub has_coldkey_lock_api: bool,
    /// `register_limit`.
    pub has_register_limit: bool,
    /// `register_network` takes the legacy `mechid: u16` argument.
    pub register_network_takes_mechid: bool,
    /// `SubnetOwnerHotkey`.
    pub has_subnet_owner_hotkey: bool,
}

impl Capabilities {
    /// Derives the capabilities from a report's items.
    pub fn from_items(items: &[ItemReport]) -> Self {
        let find = |kind: ItemKind, scope: &str, name: &str| {
            items
                .iter()
                .find(|i| i.kind == kind && i.scope == scope && i.name == name)
        };
        let ok = |kind, scope, name| find(kind, scope, name).is_some_and(|i| i.status.is_ok());
        let alternative = |kind, scope, name, label: &str| {
            find(kind, scope, name).is_some_and(
                |i| matches!(&i.status, Status::Alternative { label: l, .. } if l == label),
            )
        };
        let storage = |scope, name| ok(ItemKind::Storage, scope, name);
        let call = |scope, name| ok(ItemKind::Call, scope, name);
        let api = |scope, name| ok(ItemKind::RuntimeApi, scope, name);
        const SUB: &str = "SubtensorModule";

        let has_drand = storage("Drand", "Pulses") && storage("Drand", "LastStoredRound");
        Capabilities {
            runtime_apis_described: items.iter().any(|i| {
                i.kind == ItemKind::RuntimeApi && !matches!(i.status, Status::Unknown { .. })
            }),
            has_drand,
            has_timelocked_weights: has_drand
                && call(SUB, "commit_timelocked_weights")
                && storage(SUB, "CommitRevealWeightsVersion"),
            has_timelocked_mechanism_weights: has_drand
                && call(SUB, "commit_timelocked_mechanism_weights")
                && storage(SUB, "CommitRevealWeightsVersion"),
            has_mechanism_weights: call(SUB, "set_mechanism_weights"),
            has_stateful_epochs: [
                "LastEpochBlock",
                "PendingEpochAt",
                "SubnetEpochIndex",
                "BlocksSinceLastStep",
            ]
            .iter()
            .all(|name| storage(SUB, name)),
            has_timelocked_commitments: has_drand
                && ok(ItemKind::Type, "Commitments", "Data::TimelockEncrypted")
                && storage("Commitments", "RevealedCommitments"),
            has_big_raw_commitments: ok(ItemKind::Type, "Commitments", "Data::BigRaw"),
            has_metagraph_api: api("SubnetInfoRuntimeApi", "get_metagraph"),
            has_selective_metagraph: api("SubnetInfoRuntimeApi", "get_selective_metagraph"),
            has_next_epoch_start_block: api("SubnetInfoRuntimeApi", "get_next_epoch_start_block"),
            neuron_api_returns_bytes: alternative(
                ItemKind::RuntimeApi,
                "NeuronInfoRuntimeApi",
                "get_neurons_lite",
                OPAQUE_BYTES,
            ),
            has_coldkey_lock_api: api("StakeInfoRuntimeApi", "get_coldkey_lock"),
            has_register_limit: call(SUB, "register_limit"),
            register_network_takes_mechid: alternative(
                ItemKind::Call,
                SUB,
                "register_network",
                LEGACY_MECHID,
            ),
            has_subnet_owner_hotkey: storage(SUB, "SubnetOwnerHotkey"),
        }
    }

    /// `(name, value)` pairs, in declaration order (for display).
    pub fn flags(&self) -> [(&'static str, bool); 16] {
        [
            ("runtime_apis_described", self.runtime_apis_described),
            ("has_drand", self.has_drand),
            ("has_timelocked_weights", self.has_timelocked_weights),
            (
                "has_timelocked_mechanism_weights",
                self.has_timelocked_mechanism_weights,
            ),
            ("has_mechanism_weights", self.has_mechanism_weights),
            ("has_stateful_epochs", self.has_stateful_epochs),
            (
                "has_timelocked_commitments",
                self.has_timelocked_commitments,
            ),
            ("has_big_raw_commitments", self.has_big_raw_commitments),
            ("has_metagraph_api", self.has_metagraph_api),
            ("has_selective_metagraph", self.has_selective_metagraph),
            (
                "has_next_epoch_start_block",
                self.has_next_epoch_start_block,
            ),
            ("neuron_api_returns_bytes", self.neuron_api_returns_bytes),
            ("has_coldkey_lock_api", self.has_coldkey_lock_api),
            ("has_register_limit", self.has_register_limit),
            (
                "register_network_takes_mechid",
                self.register_network_takes_mechid,
            ),
            ("has_subnet_owner_hotkey", self.has_subnet_owner_hotkey),
        ]
    }
}
