//! The data directory of a node process. One process per directory; by default each role has
//! its own under the platform's data dir (`~/.local/share/sn17/{validator,miner,explorer}` on
//! Linux), so roles on one machine never share a database or a peer identity:
//!
//! | path                | what                                                         |
//! |---------------------|--------------------------------------------------------------|
//! | `p2p/identity.key`  | the gossip peer identity (ed25519)                           |
//! | `db/`               | RocksDB (rounds, downloads, matches, gossip)                 |
//! | `state/`            | the competition state repository clone (validator)           |
//! | `blobs/`            | downloaded outputs by SHA-256 (validator)                    |
//! | `outputs/`          | generated outputs the miner serves as its CDN (miner)        |

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// `explicit`, else the role's default.
    pub fn for_role(explicit: Option<&Path>, role: &str) -> Self {
        Self(explicit.map(Path::to_path_buf).unwrap_or_else(|| {
            dirs::data_local_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("sn17")
                .join(role)
        }))
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("db")
    }

    pub fn state(&self) -> PathBuf {
        self.0.join("state")
    }

    pub fn blobs(&self) -> PathBuf {
        self.0.join("blobs")
    }

    pub fn outputs(&self) -> PathBuf {
        self.0.join("outputs")
    }
}

/// The competition state repository a role works with: validators clone and push it, miners
/// follow it.
#[derive(clap::Args, Debug, Clone)]
pub struct StateRemoteArgs {
    /// The competition state repository (a path; https with the `https` feature).
    #[arg(long = "state.remote", env = "SN17_STATE_REMOTE")]
    pub state_remote: String,
    #[arg(
        long = "state.branch",
        env = "SN17_STATE_BRANCH",
        default_value = "main"
    )]
    pub state_branch: String,
}
