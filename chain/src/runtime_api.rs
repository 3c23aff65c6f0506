//! Runtime API calls resolved against the metadata. Older Subtensor runtimes return their
//! structs SCALE-encoded inside a `Vec<u8>`; newer ones return the struct itself. Callers get
//! told which, so they can decode either.

use scale_info::{TypeDef, TypeDefPrimitive};
use subxt::metadata::Metadata;

use crate::client::{Head, Subtensor};
use crate::error::ChainError;

/// How a runtime API encodes its return value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A typed value; decode against this type id.
    Typed(u32),
    /// `Vec<u8>` holding the SCALE of the struct (runtimes before ~spec 230).
    OpaqueBytes,
}

/// Looks a runtime API method up and classifies its output.
pub fn resolve(
    metadata: &Metadata,
    spec_version: u32,
    api: &str,
    method: &str,
) -> Result<Output, ChainError> {
    let missing = || ChainError::MissingItem {
        item: format!("runtime API {api}.{method}"),
        spec_version,
    };
    let t = metadata
        .runtime_api_trait_by_name(api)
        .ok_or_else(missing)?;
    let m = t.method_by_name(method).ok_or_else(missing)?;
    let out = m.output_ty();
    Ok(if is_byte_vec(metadata, out) {
        Output::OpaqueBytes
    } else {
        Output::Typed(out)
    })
}

fn is_byte_vec(metadata: &Metadata, ty: u32) -> bool {
    let types = metadata.types();
    let Some(t) = types.resolve(ty) else {
        return false;
    };
    match &t.type_def {
        TypeDef::Sequence(seq) => types.resolve(seq.type_param.id).is_some_and(|inner| {
            matches!(inner.type_def, TypeDef::Primitive(TypeDefPrimitive::U8))
        }),
        _ => false,
    }
}

impl Subtensor {
    /// Calls `api_method` (e.g. `NeuronInfoRuntimeApi_get_neurons_lite`) with SCALE args at `head`.
    pub async fn call_runtime_api(
        &self,
        api: &str,
        method: &str,
        args: &[u8],
        head: Head,
    ) -> Result<(Output, Vec<u8>), ChainError> {
        let output = resolve(self.metadata(), self.spec_version(), api, method)?;
        let bytes = self
            .rpc()
            .state_call(&format!("{api}_{method}"), args, Some(head.hash))
            .await?;
        Ok((output, bytes))
    }
}
