//! The node's libp2p identity: an ed25519 key kept in the data directory, so the peer id stays
//! the same across restarts.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;

use super::error::{GossipError, Result};

/// `<data dir>/p2p/identity.key`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("p2p").join("identity.key")
}

/// Loads the key at `path`, or creates one there (mode 0600) if there is none.
pub fn load_or_create(path: &Path) -> Result<Keypair> {
    let err = |reason: String| GossipError::Identity {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            return Keypair::from_protobuf_encoding(&bytes).map_err(|e| err(e.to_string()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e.to_string())),
    }
    let key = Keypair::generate_ed25519();
    let bytes = key.to_protobuf_encoding().map_err(|e| err(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| err(e.to_string()))?;
        f.write_all(&bytes).map_err(|e| err(e.to_string()))?;
        f.sync_all().map_err(|e| err(e.to_string()))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
    tracing::info!(path = %path.display(), peer_id = %key.public().to_peer_id(), "created p2p identity");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = default_path(dir.path());
        let a = load_or_create(&p).expect("create");
        let b = load_or_create(&p).expect("load");
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        std::fs::write(&p, b"junk").expect("write");
        assert!(load_or_create(&p).is_err());
    }
}
