//! sn17-storage integration tests: one binary (link time matters on two cores).

mod db;
mod git;
mod pyjson_vectors;
mod real_files;
mod round_files;

/// 404's real Competition 0 state repository, beside the project; tests skip without it.
pub fn competition0() -> Option<std::path::PathBuf> {
    let p = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/competition-state/404-competition-0"
    ));
    if p.join("config.json").is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}
