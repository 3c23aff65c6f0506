//! Finding libcuda and libnvrtc at run time. cudarc panics if a library it needs cannot be opened,
//! so every CUDA path asks here first and turns absence into an error that says why.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable naming libnvrtc (a file) or the folder holding it.
pub const NVRTC_PATH_ENV: &str = "SN17_NVRTC_PATH";

/// Whether the CUDA driver library (libcuda) can be opened.
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen the candidate names and closes them again.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Folders that commonly hold libnvrtc: CUDA toolkits and NVIDIA's PyPI wheels
/// (`nvidia-cuda-nvrtc`: `nvidia/cu13/lib` for CUDA 13, `nvidia/cuda_nvrtc/lib` for 12).
pub fn nvrtc_search_dirs(extra_site_packages: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(p) = std::env::var_os(NVRTC_PATH_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            if let Some(parent) = p.parent() {
                dirs.push(parent.to_path_buf());
            }
        } else {
            dirs.push(p);
        }
    }
    for d in [
        "/usr/local/cuda/lib64",
        "/usr/local/cuda/targets/x86_64-linux/lib",
        "/usr/local/cuda-13.0/targets/x86_64-linux/lib",
        "/usr/lib/x86_64-linux-gnu",
    ] {
        dirs.push(PathBuf::from(d));
    }
    let mut site: Vec<PathBuf> = extra_site_packages.to_vec();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        site.extend(python_site_dirs(Path::new(&venv).join("lib")));
    }
    if let Some(home) = std::env::var_os("HOME") {
        site.extend(python_site_dirs(Path::new(&home).join(".local/lib")));
    }
    for prefix in ["/usr/local/lib", "/usr/lib", "/opt/torch/.venv/lib"] {
        site.extend(python_site_dirs(PathBuf::from(prefix)));
    }
    for s in site {
        for sub in ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"] {
            dirs.push(s.join(sub));
        }
    }
    dirs
}

/// `<lib>/python3.*/{site,dist}-packages` folders.
fn python_site_dirs(lib: PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&lib) {
        for e in rd.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with("python3") {
                for s in ["site-packages", "dist-packages"] {
                    let p = e.path().join(s);
                    if p.is_dir() {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// The libnvrtc file in `dir`, preferring CUDA 13 (what the kernels and cudarc's bindings target).
fn nvrtc_in(dir: &Path) -> Option<PathBuf> {
    ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

static PRELOADED: OnceLock<Result<Option<PathBuf>, String>> = OnceLock::new();

/// Makes libnvrtc loadable by name for cudarc. If it already is (ldconfig, LD_LIBRARY_PATH),
/// nothing is done; otherwise the first libnvrtc in `nvrtc_search_dirs` is opened with
/// RTLD_GLOBAL (with its builtins library), so cudarc's later dlopen by soname finds it.
/// Returns the path preloaded (None when it was already loadable), or why it is missing.
pub fn ensure_nvrtc(extra_site_packages: &[PathBuf]) -> Result<Option<PathBuf>, String> {
    PRELOADED
        .get_or_init(|| {
            // SAFETY: dlopen of candidate names only.
            if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
                return Ok(None);
            }
            let dirs = nvrtc_search_dirs(extra_site_packages);
            for d in &dirs {
                let Some(lib) = nvrtc_in(d) else { continue };
                match preload(d, &lib) {
                    Ok(()) => {
                        // SAFETY: as above.
                        if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
                            return Ok(Some(lib));
                        }
                    }
                    Err(e) => tracing::debug!("could not open {}: {e}", lib.display()),
                }
            }
            Err(format!(
                "libnvrtc not found (not on the loader path; set {NVRTC_PATH_ENV}, or pip install \
                 nvidia-cuda-nvrtc; searched {} folders)",
                dirs.len()
            ))
        })
        .clone()
}

fn preload(dir: &Path, lib: &Path) -> Result<(), String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // The builtins library first: libnvrtc dlopens it by soname when it compiles.
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("libnvrtc-builtins.so") && !name.contains(".alt.") {
                // SAFETY: loading NVIDIA's library runs only its initialisers.
                if let Ok(l) = unsafe { Library::open(Some(e.path()), RTLD_NOW | RTLD_GLOBAL) } {
                    std::mem::forget(l);
                }
            }
        }
    }
    // SAFETY: as above; the handle is kept open for the life of the process.
    let l =
        unsafe { Library::open(Some(lib), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| e.to_string())?;
    std::mem::forget(l);
    Ok(())
}
