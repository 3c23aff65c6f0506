//! `state_getRuntimeVersion` reply.

/// The runtime's version, as the node reports it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeVersion {
    pub spec_name: String,
    pub spec_version: u32,
    pub transaction_version: u32,
    #[serde(default)]
    pub impl_version: u32,
}
