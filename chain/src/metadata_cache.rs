//! Runtime metadata fetched from the node, kept on disk keyed by genesis hash and spec version so
//! a cold start does not download ~340 KB again. The runtime is still the source of truth: a new
//! spec version means a new file.

use std::path::{Path, PathBuf};

use codec::{Decode, Encode};
use subxt::metadata::Metadata;

use crate::error::ChainError;
use crate::rpc::Rpc;

/// Newest metadata version we can read.
const NEWEST_VERSION: u32 = 16;

/// Where cached metadata lives: `$SN17_CACHE_DIR/metadata`, else the user's cache directory.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SN17_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("metadata"));
    }
    dirs::cache_dir().map(|d| d.join("sn17").join("metadata"))
}

fn cache_file(dir: &Path, genesis: &[u8; 32], spec_version: u32) -> PathBuf {
    dir.join(format!("{}-{spec_version}.scale", hex::encode(genesis)))
}

/// Loads the metadata for this runtime from the cache, or fetches it and stores it.
/// Returns the raw prefixed bytes and the decoded metadata.
pub async fn load_or_fetch(
    rpc: &Rpc,
    cache_dir: Option<&Path>,
    genesis: &[u8; 32],
    spec_version: u32,
    at: Option<[u8; 32]>,
) -> Result<(Vec<u8>, Metadata), ChainError> {
    if let Some(dir) = cache_dir {
        let path = cache_file(dir, genesis, spec_version);
        if let Ok(bytes) = std::fs::read(&path) {
            match decode(&bytes) {
                Ok(md) => {
                    tracing::debug!(path = %path.display(), "metadata from cache");
                    return Ok((bytes, md));
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring corrupt metadata cache")
                }
            }
        }
    }
    let bytes = fetch(rpc, at).await?;
    let md = decode(&bytes)?;
    if let Some(dir) = cache_dir {
        if let Err(e) = store(dir, genesis, spec_version, &bytes) {
            tracing::warn!(error = %e, "cannot write metadata cache");
        }
    }
    Ok((bytes, md))
}

/// Fetches the newest metadata version the runtime offers (V16/V15 through
/// `Metadata_metadata_at_version`, else V14 through `state_getMetadata`).
pub async fn fetch(rpc: &Rpc, at: Option<[u8; 32]>) -> Result<Vec<u8>, ChainError> {
    let versions: Vec<u32> = match rpc.state_call("Metadata_metadata_versions", &[], at).await {
        Ok(bytes) => Vec::<u32>::decode(&mut &bytes[..]).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    if let Some(v) = versions
        .iter()
        .copied()
        .filter(|v| *v <= NEWEST_VERSION)
        .max()
    {
        if v >= 15 {
            let reply = rpc
                .state_call("Metadata_metadata_at_version", &v.encode(), at)
                .await?;
            // Option<OpaqueMetadata(Vec<u8>)>
            let opaque =
                Option::<Vec<u8>>::decode(&mut &reply[..]).map_err(|e| ChainError::Decode {
                    what: "Metadata_metadata_at_version reply".into(),
                    reason: e.to_string(),
                })?;
            if let Some(bytes) = opaque {
                return Ok(bytes);
            }
        }
    }
    let params = at
        .map(|h| vec![crate::rpc::hex_param(&h)])
        .unwrap_or_default();
    let hex: String = rpc.request("state_getMetadata", params).await?;
    crate::rpc::decode_hex("state_getMetadata", &hex)
}

/// Decodes metadata bytes (V14–V16, bare or wrapped as the node sends them), with size limits.
pub fn decode(bytes: &[u8]) -> Result<Metadata, ChainError> {
    sn17_metadata::decode_metadata(bytes).map_err(|e| ChainError::Metadata(e.to_string()))
}

fn store(dir: &Path, genesis: &[u8; 32], spec_version: u32, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = cache_file(dir, genesis, spec_version);
    // Write then rename, so a crash never leaves a half-written file under the real name.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)
}
