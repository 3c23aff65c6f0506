//! Shapes shared by several items (see chain.md §1.2, §1.3, §1.7).

use crate::shape::{Field, Shape, VariantSpec};

const fn f(name: &'static str, shape: Shape) -> Field {
    Field { name, shape }
}

/// `Compact<u16>`.
pub const C_U16: Shape = Shape::Compact(&Shape::U16);
/// `Compact<u64>`.
pub const C_U64: Shape = Shape::Compact(&Shape::U64);

/// `AxonInfo`, in storage `Axons`, `serve_axon` and the neuron/metagraph APIs.
pub const AXON_INFO: Shape = Shape::Composite(&[
    f("block", Shape::U64),
    f("version", Shape::U32),
    f("ip", Shape::U128),
    f("port", Shape::U16),
    f("ip_type", Shape::U8),
    f("protocol", Shape::U8),
    f("placeholder1", Shape::U8),
    f("placeholder2", Shape::U8),
]);

/// The `Data` variants every runtime has: `None` and `Raw0..=Raw128`.
pub const DATA_CORE_VARIANTS: &[VariantSpec] = &[
    VariantSpec::Named {
        name: "None",
        fields: &[],
    },
    VariantSpec::ByteArrayFamily {
        prefix: "Raw",
        max: 128,
    },
];

/// `pallet_commitments::Data`, with only the variants every runtime has.
pub const DATA: Shape = Shape::Variant(DATA_CORE_VARIANTS);

/// `Data::TimelockEncrypted { encrypted, reveal_round }` (tag 134).
pub const DATA_TIMELOCK_ENCRYPTED: VariantSpec = VariantSpec::Named {
    name: "TimelockEncrypted",
    fields: &[f("encrypted", Shape::Bytes), f("reveal_round", Shape::U64)],
};

/// `Data::BigRaw(BoundedVec<u8, 512>)` (tag 136).
pub const DATA_BIG_RAW: VariantSpec = VariantSpec::Named {
    name: "BigRaw",
    fields: &[f("", Shape::Bytes)],
};

/// `CommitmentInfo { fields: BoundedVec<Data, 3> }`.
pub const COMMITMENT_INFO: Shape = Shape::Composite(&[f("fields", Shape::Vec(&DATA))]);

/// `Registration { deposit, block, info }`, the value of `CommitmentOf`.
pub const REGISTRATION: Shape = Shape::Composite(&[
    f("deposit", Shape::U64),
    f("block", Shape::U32),
    f("info", COMMITMENT_INFO),
]);

/// `NeuronInfoLite`, the fields sn17 reads (rank, trust and pruning_score are
/// constants nowadays and deliberately not required).
pub const NEURON_INFO_LITE: Shape = Shape::Composite(&[
    f("hotkey", Shape::AccountId32),
    f("coldkey", Shape::AccountId32),
    f("uid", C_U16),
    f("netuid", C_U16),
    f("active", Shape::Bool),
    f("axon_info", AXON_INFO),
    f(
        "stake",
        Shape::Vec(&Shape::Tuple(&[Shape::AccountId32, C_U64])),
    ),
    f("emission", C_U64),
    f("incentive", C_U16),
    f("consensus", C_U16),
    f("validator_trust", C_U16),
    f("dividends", C_U16),
    f("last_update", C_U64),
    f("validator_permit", Shape::Bool),
]);

/// `Metagraph`, the per-subnet fields and per-UID vectors sn17 reads.
pub const METAGRAPH: Shape = Shape::Composite(&[
    f("netuid", C_U16),
    f("owner_hotkey", Shape::AccountId32),
    f("owner_coldkey", Shape::AccountId32),
    f("block", C_U64),
    f("tempo", C_U16),
    f("last_step", C_U64),
    f("blocks_since_last_step", C_U64),
    f("num_uids", C_U16),
    f("max_uids", C_U16),
    f("weights_version", C_U64),
    f("weights_rate_limit", C_U64),
    f("commit_reveal_weights_enabled", Shape::Bool),
    f("hotkeys", Shape::Vec(&Shape::AccountId32)),
    f("coldkeys", Shape::Vec(&Shape::AccountId32)),
    f("axons", Shape::Vec(&AXON_INFO)),
    f("active", Shape::Vec(&Shape::Bool)),
    f("validator_permit", Shape::Vec(&Shape::Bool)),
    f("last_update", Shape::Vec(&C_U64)),
    f("emission", Shape::Vec(&C_U64)),
    f("dividends", Shape::Vec(&C_U16)),
    f("incentives", Shape::Vec(&C_U16)),
    f("consensus", Shape::Vec(&C_U16)),
    f("block_at_registration", Shape::Vec(&C_U64)),
    f("alpha_stake", Shape::Vec(&C_U64)),
    f("tao_stake", Shape::Vec(&C_U64)),
    f("total_stake", Shape::Vec(&C_U64)),
]);

/// `SelectiveMetagraph`: the same fields, each optional (except `netuid`),
/// plus `commitments` (index 73).
pub const SELECTIVE_METAGRAPH: Shape = Shape::Composite(&[
    f("netuid", C_U16),
    f("owner_hotkey", Shape::Option(&Shape::AccountId32)),
    f("owner_coldkey", Shape::Option(&Shape::AccountId32)),
    f("block", Shape::Option(&C_U64)),
    f("tempo", Shape::Option(&C_U16)),
    f("last_step", Shape::Option(&C_U64)),
    f("blocks_since_last_step", Shape::Option(&C_U64)),
    f("num_uids", Shape::Option(&C_U16)),
    f("max_uids", Shape::Option(&C_U16)),
    f("weights_version", Shape::Option(&C_U64)),
    f("weights_rate_limit", Shape::Option(&C_U64)),
    f("commit_reveal_weights_enabled", Shape::Option(&Shape::Bool)),
    f("hotkeys", Shape::Option(&Shape::Vec(&Shape::AccountId32))),
    f("coldkeys", Shape::Option(&Shape::Vec(&Shape::AccountId32))),
    f("axons", Shape::Option(&Shape::Vec(&AXON_INFO))),
    f("active", Shape::Option(&Shape::Vec(&Shape::Bool))),
    f("validator_permit", Shape::Option(&Shape::Vec(&Shape::Bool))),
    f("last_update", Shape::Option(&Shape::Vec(&C_U64))),
    f("emission", Shape::Option(&Shape::Vec(&C_U64))),
    f("dividends", Shape::Option(&Shape::Vec(&C_U16))),
    f("incentives", Shape::Option(&Shape::Vec(&C_U16))),
    f("consensus", Shape::Option(&Shape::Vec(&C_U16))),
    f("block_at_registration", Shape::Option(&Shape::Vec(&C_U64))),
    f("alpha_stake", Shape::Option(&Shape::Vec(&C_U64))),
    f("tao_stake", Shape::Option(&Shape::Vec(&C_U64))),
    f("total_stake", Shape::Option(&Shape::Vec(&C_U64))),
    f(
        "commitments",
        Shape::Option(&Shape::Vec(&Shape::Tuple(&[
            Shape::AccountId32,
            Shape::Vec(&Shape::Compact(&Shape::U8)),
        ]))),
    ),
]);

/// `DynamicInfo`, the fields sn17 reads.
pub const DYNAMIC_INFO: Shape = Shape::Composite(&[
    f("netuid", C_U16),
    f("owner_hotkey", Shape::AccountId32),
    f("owner_coldkey", Shape::AccountId32),
    f("tempo", C_U16),
    f("last_step", C_U64),
    f("blocks_since_last_step", C_U64),
]);

/// `LockState { locked_mass, conviction (U64F64 bits), last_update }`.
pub const LOCK_STATE: Shape = Shape::Composite(&[
    f("locked_mass", Shape::U64),
    f("conviction", Shape::U128),
    f("last_update", Shape::U64),
]);

/// Drand `Pulse { round, randomness, signature }`.
pub const PULSE: Shape = Shape::Composite(&[
    f("round", Shape::U64),
    f("randomness", Shape::Bytes),
    f("signature", Shape::Bytes),
]);

/// One pending CRv3 commit: `(who, commit_block, commit, reveal_round)`.
pub const TIMELOCKED_COMMIT: Shape =
    Shape::Tuple(&[Shape::AccountId32, Shape::U64, Shape::Bytes, Shape::U64]);

/// `frame_system::AccountInfo`, the fields sn17 reads.
pub const ACCOUNT_INFO: Shape = Shape::Composite(&[
    f("nonce", Shape::U32),
    f("data", Shape::Composite(&[f("free", Shape::U64)])),
]);
