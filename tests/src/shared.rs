//! Locating the reference data beside the project (`../shared`).

use std::path::PathBuf;

/// The `shared/` folder beside the workspace, if present (`SN17_SHARED` overrides).
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SN17_SHARED") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// A file under `shared/`, or `None` with a printed reason so the calling test can skip.
pub fn shared_file(rel: &str) -> Option<PathBuf> {
    match shared_dir().map(|d| d.join(rel)) {
        Some(p) if p.is_file() => Some(p),
        _ => {
            eprintln!("SKIP: ../shared/{rel} is not present beside the project");
            None
        }
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
