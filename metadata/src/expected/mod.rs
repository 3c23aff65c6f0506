//! Everything sn17 relies on in a Subtensor runtime, as constant tables:
//! storage items ([`storage::STORAGE`]), calls ([`calls::CALLS`]), runtime API
//! methods ([`runtime_apis::RUNTIME_APIS`]) and named types ([`types::TYPES`]).
//! The shapes shared between tables live in [`shapes`].
//!
//! Every item is [`Requirement::Required`] (the node cannot work without it)
//! or [`Requirement::Optional`] with the fallback the node uses when it is
//! absent or different. The tables were written against finney spec 424 and
//! checked against the other metadata files in `../shared/chain-metadata`.

pub mod calls;
pub mod runtime_apis;
pub mod shapes;
pub mod storage;
pub mod types;

use serde::{Deserialize, Serialize};

use crate::shape::{Field, Shape, VariantSpec};

/// Whether the node needs an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The node cannot work without it; it decides `compatible`.
    Required,
    /// The node works without it, using `fallback` (or reporting the
    /// capability missing).
    Optional {
        /// What the node does instead.
        fallback: &'static str,
    },
}

impl Requirement {
    /// True for [`Requirement::Required`].
    pub fn is_required(&self) -> bool {
        matches!(self, Requirement::Required)
    }

    /// The fallback of an optional item.
    pub fn fallback(&self) -> Option<&'static str> {
        match self {
            Requirement::Required => None,
            Requirement::Optional { fallback } => Some(fallback),
        }
    }
}

/// Storage key hasher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hasher {
    /// `Blake2_128`.
    Blake2_128,
    /// `Blake2_256`.
    Blake2_256,
    /// `Blake2_128Concat`.
    Blake2_128Concat,
    /// `Twox128`.
    Twox128,
    /// `Twox256`.
    Twox256,
    /// `Twox64Concat`.
    Twox64Concat,
    /// `Identity`.
    Identity,
}

impl From<subxt_metadata::StorageHasher> for Hasher {
    fn from(h: subxt_metadata::StorageHasher) -> Self {
        use subxt_metadata::StorageHasher as S;
        match h {
            S::Blake2_128 => Hasher::Blake2_128,
            S::Blake2_256 => Hasher::Blake2_256,
            S::Blake2_128Concat => Hasher::Blake2_128Concat,
            S::Twox128 => Hasher::Twox128,
            S::Twox256 => Hasher::Twox256,
            S::Twox64Concat => Hasher::Twox64Concat,
            S::Identity => Hasher::Identity,
        }
    }
}

impl std::fmt::Display for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// How a storage item answers for a key that was never written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    /// `ValueQuery`: the default value.
    Value,
    /// `OptionQuery`: nothing (`None`).
    Option,
}

/// A storage item.
#[derive(Debug, Clone, Copy)]
pub struct StorageItem {
    /// Pallet name (storage prefix).
    pub pallet: &'static str,
    /// Item name.
    pub name: &'static str,
    /// Keys, in order, with their hashers.
    pub keys: &'static [(Hasher, Shape)],
    /// Value type; for an `OptionQuery` item, the type inside the option.
    pub value: Shape,
    /// Query kind.
    pub query: Query,
    /// Whether the node needs it.
    pub requirement: Requirement,
    /// What the node uses it for.
    pub purpose: &'static str,
}

/// An accepted older form of a call's arguments.
#[derive(Debug, Clone, Copy)]
pub struct CallAlternative {
    /// Short label, used in reports and capabilities.
    pub label: &'static str,
    /// The arguments of that form.
    pub args: &'static [Field],
    /// How the node handles it.
    pub note: &'static str,
}

/// A call (extrinsic). Calls are built dynamically by name, so an index
/// change is informational only.
#[derive(Debug, Clone, Copy)]
pub struct CallItem {
    /// Pallet name.
    pub pallet: &'static str,
    /// Call name.
    pub name: &'static str,
    /// Expected pallet index (finney 424).
    pub pallet_index: u8,
    /// Expected call index within the pallet (finney 424).
    pub call_index: u8,
    /// Arguments, in order (names and shapes).
    pub args: &'static [Field],
    /// Older argument lists the node can also build.
    pub alternatives: &'static [CallAlternative],
    /// Whether the node needs it.
    pub requirement: Requirement,
    /// What the node uses it for.
    pub purpose: &'static str,
}

/// An accepted alternative output of a runtime API method.
#[derive(Debug, Clone, Copy)]
pub struct OutputAlternative {
    /// Short label, used in reports and capabilities.
    pub label: &'static str,
    /// The alternative output shape.
    pub output: Shape,
    /// How the node handles it.
    pub note: &'static str,
}

/// A runtime API method.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeApiItem {
    /// Runtime API trait name.
    pub api: &'static str,
    /// Method name.
    pub method: &'static str,
    /// Inputs, in order. Inputs are positional: names are only noted.
    pub inputs: &'static [Field],
    /// Output shape.
    pub output: Shape,
    /// Older outputs the node can also decode.
    pub alternatives: &'static [OutputAlternative],
    /// Whether the node needs it.
    pub requirement: Requirement,
    /// What the node uses it for.
    pub purpose: &'static str,
}

/// What is checked on a named type.
#[derive(Debug, Clone, Copy)]
pub enum TypeCheck {
    /// The whole type has this shape.
    Shape(Shape),
    /// The enum has this variant (absent variant = missing item).
    Variant(VariantSpec),
}

/// A named type of the registry, found by its path.
#[derive(Debug, Clone, Copy)]
pub struct TypeItem {
    /// Pallet it belongs to (for display).
    pub pallet: &'static str,
    /// Display name, e.g. `Data::TimelockEncrypted`.
    pub name: &'static str,
    /// Last segment of the type path, e.g. `Data`.
    pub ident: &'static str,
    /// A segment of the type path that must be present, e.g. `pallet_commitments`.
    pub module: &'static str,
    /// What is checked.
    pub check: TypeCheck,
    /// Whether the node needs it.
    pub requirement: Requirement,
    /// What the node uses it for.
    pub purpose: &'static str,
}

/// Label of the "opaque SCALE bytes" alternative of runtime API outputs.
pub const OPAQUE_BYTES: &str = "opaque Vec<u8>";
/// Label of the `register_network(hotkey, mechid)` alternative.
pub const LEGACY_MECHID: &str = "legacy mechid argument";
