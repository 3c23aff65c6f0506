//! NVRTC compilation of the kernels in `gpu/kernels/` to a cubin for one compute capability,
//! cached on disk by a hash of the source, the options, the NVRTC version and the target.

use std::ffi::{c_char, CString};
use std::path::PathBuf;
use std::time::Instant;

use cudarc::nvrtc::{result, sys};

/// The splat rasterizer's CUDA C source.
pub const SPLAT_SOURCE: &str = include_str!("../../../kernels/splat.cu");

/// A compiled module: the cubin, ptxas's resource report, and where it came from.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub cubin: Vec<u8>,
    /// NVRTC's log with `-Xptxas -v`: registers, spills, shared memory per kernel.
    pub log: String,
    pub arch: String,
    pub from_cache: bool,
    pub compile_ms: f64,
}

/// Why compilation failed.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("NVRTC is unavailable: {0}")]
    Unavailable(String),
    #[error("NVRTC failed ({stage}): {detail}")]
    Nvrtc { stage: &'static str, detail: String },
}

fn nvrtc_err(stage: &'static str, e: impl std::fmt::Debug) -> CompileError {
    CompileError::Nvrtc {
        stage,
        detail: format!("{e:?}"),
    }
}

/// NVRTC's (major, minor) version.
pub fn nvrtc_version() -> Result<(i32, i32), CompileError> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two out-pointers to live integers.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| nvrtc_err("version", e))?;
    Ok((major, minor))
}

/// 64-bit FNV-1a over the given parts (with separators).
fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.iter().chain(&[0xffu8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `$SN17_CACHE_DIR/kernels`, else `$XDG_CACHE_HOME/sn17/kernels`, else `~/.cache/sn17/kernels`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SN17_CACHE_DIR") {
        return Some(PathBuf::from(d).join("kernels"));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("sn17/kernels"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sn17/kernels"))
}

fn options(arch: &str) -> Vec<String> {
    vec![
        format!("--gpu-architecture={arch}"),
        "--std=c++17".into(),
        "--ptxas-options=-v".into(),
        "-DSN17_NVRTC=1".into(),
    ]
}

/// Compiles `source` for `arch` (e.g. `sm_90`), or loads the cached cubin. `use_cache` false
/// always compiles (and does not write the cache).
pub fn compile(
    name: &str,
    source: &str,
    arch: &str,
    use_cache: bool,
) -> Result<Compiled, CompileError> {
    let (major, minor) = nvrtc_version()?;
    let opts = options(arch);
    let hash = fnv64(&[
        source.as_bytes(),
        opts.join(" ").as_bytes(),
        format!("nvrtc {major}.{minor}").as_bytes(),
    ]);
    let file = cache_dir().map(|d| d.join(format!("{name}-{arch}-{hash:016x}.cubin")));
    if use_cache {
        if let Some(f) = &file {
            if let Ok(cubin) = std::fs::read(f) {
                if !cubin.is_empty() {
                    let log = std::fs::read_to_string(f.with_extension("log")).unwrap_or_default();
                    tracing::debug!("kernel cache hit: {}", f.display());
                    return Ok(Compiled {
                        cubin,
                        log,
                        arch: arch.to_string(),
                        from_cache: true,
                        compile_ms: 0.0,
                    });
                }
            }
        }
    }
    let t = Instant::now();
    let (cubin, log) = compile_uncached(name, source, &opts)?;
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    tracing::debug!("compiled {name} for {arch} with NVRTC {major}.{minor} in {compile_ms:.0} ms");
    if use_cache {
        if let Some(f) = &file {
            write_cache(f, &cubin, &log);
        }
    }
    Ok(Compiled {
        cubin,
        log,
        arch: arch.to_string(),
        from_cache: false,
        compile_ms,
    })
}

fn write_cache(f: &std::path::Path, cubin: &[u8], log: &str) {
    let res = (|| -> std::io::Result<()> {
        if let Some(d) = f.parent() {
            std::fs::create_dir_all(d)?;
        }
        let tmp = f.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, cubin)?;
        std::fs::write(f.with_extension("log"), log)?;
        std::fs::rename(&tmp, f)
    })();
    if let Err(e) = res {
        tracing::debug!("kernel cache not written ({}): {e}", f.display());
    }
}

fn c_chars_to_string(v: &[c_char]) -> String {
    let bytes: Vec<u8> = v.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn compile_uncached(
    name: &str,
    source: &str,
    opts: &[String],
) -> Result<(Vec<u8>, String), CompileError> {
    let src = CString::new(source).map_err(|e| nvrtc_err("source", e))?;
    let cname = CString::new(format!("{name}.cu")).map_err(|e| nvrtc_err("name", e))?;
    let prog =
        result::create_program(&src, Some(cname.as_c_str())).map_err(|e| nvrtc_err("create", e))?;
    struct Guard(sys::nvrtcProgram);
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: created above and destroyed once.
            let _ = unsafe { result::destroy_program(self.0) };
        }
    }
    let guard = Guard(prog);
    // SAFETY: `prog` is live until `guard` drops; options are plain strings without NULs.
    let compiled = unsafe { result::compile_program(guard.0, opts) };
    // SAFETY: as above.
    let log = unsafe { result::get_program_log(guard.0) }
        .map(|l| c_chars_to_string(&l))
        .unwrap_or_default();
    if let Err(e) = compiled {
        return Err(CompileError::Nvrtc {
            stage: "compile",
            detail: format!("{e:?}\n{log}"),
        });
    }
    let mut size = 0usize;
    // SAFETY: out-pointer to a live usize.
    unsafe { sys::nvrtcGetCUBINSize(guard.0, &mut size) }
        .result()
        .map_err(|e| nvrtc_err("cubin size", e))?;
    let mut cubin = vec![0u8; size];
    // SAFETY: the buffer holds `size` bytes as NVRTC asked.
    unsafe { sys::nvrtcGetCUBIN(guard.0, cubin.as_mut_ptr() as *mut c_char) }
        .result()
        .map_err(|e| nvrtc_err("cubin", e))?;
    drop(guard);
    Ok((cubin, log))
}

/// Per-kernel registers / spills parsed from the ptxas report in an NVRTC log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PtxasEntry {
    pub kernel: String,
    pub registers: u32,
    pub spill_stores: u32,
    pub spill_loads: u32,
    pub stack_bytes: u32,
    pub smem_bytes: u32,
}

/// Parses `ptxas info    : Compiling entry function 'x'` / `Used N registers` /
/// `N bytes stack frame, N bytes spill stores, N bytes spill loads` lines.
pub fn parse_ptxas(log: &str) -> Vec<PtxasEntry> {
    let mut out: Vec<PtxasEntry> = Vec::new();
    let num_before = |s: &str, word: &str| -> Option<u32> {
        let i = s.find(word)?;
        s[..i].split_whitespace().last()?.parse().ok()
    };
    for line in log.lines() {
        if let Some(i) = line.find("Compiling entry function '") {
            let rest = &line[i + "Compiling entry function '".len()..];
            let name = rest.split('\'').next().unwrap_or_default();
            out.push(PtxasEntry {
                kernel: name.to_string(),
                ..Default::default()
            });
        } else if let Some(e) = out.last_mut() {
            if line.contains("stack frame") {
                e.stack_bytes = num_before(line, "bytes stack frame").unwrap_or(0);
                e.spill_stores = num_before(line, "bytes spill stores").unwrap_or(0);
                e.spill_loads = num_before(line, "bytes spill loads").unwrap_or(0);
            }
            if line.contains("Used") && line.contains("registers") {
                e.registers = num_before(line, "registers").unwrap_or(0);
                if let Some(s) = num_before(line, "bytes smem") {
                    e.smem_bytes = s;
                }
            }
        }
    }
    out
}
