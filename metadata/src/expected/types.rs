//! Named types sn17 encodes or decodes by hand, found in the registry by path
//! (chain.md §1.2, §1.7). Their shapes are also checked through the storage
//! items and calls that use them; listing them here makes the report show the
//! type itself, and the optional `Data` variants as items of their own.

use super::shapes::{AXON_INFO, DATA, DATA_BIG_RAW, DATA_TIMELOCK_ENCRYPTED, REGISTRATION};
use super::{Requirement, TypeCheck, TypeItem};

/// All named types, in report order.
pub static TYPES: &[TypeItem] = &[
    TypeItem {
        pallet: "SubtensorModule",
        name: "AxonInfo",
        ident: "AxonInfo",
        module: "pallet_subtensor",
        check: TypeCheck::Shape(AXON_INFO),
        requirement: Requirement::Required,
        purpose: "axon endpoint (storage Axons, serve_axon, neuron APIs)",
    },
    TypeItem {
        pallet: "Commitments",
        name: "Registration",
        ident: "Registration",
        module: "pallet_commitments",
        check: TypeCheck::Shape(REGISTRATION),
        requirement: Requirement::Required,
        purpose: "value of CommitmentOf",
    },
    TypeItem {
        pallet: "Commitments",
        name: "Data",
        ident: "Data",
        module: "pallet_commitments",
        check: TypeCheck::Shape(DATA),
        requirement: Requirement::Required,
        purpose: "commitment field: None and Raw0..=Raw128 (tags 0..=129)",
    },
    TypeItem {
        pallet: "Commitments",
        name: "Data::TimelockEncrypted",
        ident: "Data",
        module: "pallet_commitments",
        check: TypeCheck::Variant(DATA_TIMELOCK_ENCRYPTED),
        requirement: Requirement::Optional {
            fallback: "timelocked commitments unavailable: commit plain Raw fields",
        },
        purpose: "drand-timelocked commitment field (tag 134)",
    },
    TypeItem {
        pallet: "Commitments",
        name: "Data::BigRaw",
        ident: "Data",
        module: "pallet_commitments",
        check: TypeCheck::Variant(DATA_BIG_RAW),
        requirement: Requirement::Optional {
            fallback: "commitments limited to Raw fields of at most 128 bytes",
        },
        purpose: "raw commitment field of up to 512 bytes (tag 136)",
    },
];
