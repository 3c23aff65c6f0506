//! Runtime version information, read from the `System.Version` constant.

use codec::Decode;
use serde::{Deserialize, Serialize};
use subxt_metadata::Metadata;

/// Identity of the runtime the metadata belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecInfo {
    /// `spec_name`, e.g. `node-subtensor`.
    pub spec_name: String,
    /// `impl_name`.
    pub impl_name: String,
    /// `spec_version`, e.g. 424.
    pub spec_version: u32,
    /// `impl_version`.
    pub impl_version: u32,
    /// `transaction_version`.
    pub transaction_version: u32,
}

/// The leading fields of `sp_version::RuntimeVersion`, in encoding order.
#[derive(Decode)]
struct RuntimeVersionPrefix {
    spec_name: String,
    impl_name: String,
    _authoring_version: u32,
    spec_version: u32,
    impl_version: u32,
    _apis: Vec<([u8; 8], u32)>,
    transaction_version: u32,
}

/// Reads the runtime version from the `System.Version` constant, if present
/// and decodable.
pub fn spec_info(metadata: &Metadata) -> Option<SpecInfo> {
    let constant = metadata
        .pallet_by_name("System")?
        .constant_by_name("Version")?;
    let v = RuntimeVersionPrefix::decode(&mut constant.value()).ok()?;
    Some(SpecInfo {
        spec_name: v.spec_name,
        impl_name: v.impl_name,
        spec_version: v.spec_version,
        impl_version: v.impl_version,
        transaction_version: v.transaction_version,
    })
}
