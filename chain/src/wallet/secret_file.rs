//! Reading and writing wallet files: size-limited reads, 0600 secret files, no silent overwrite.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::error::{Result, WalletError};

/// Largest keyfile accepted (real ones are under 1 KiB).
const MAX_KEYFILE_LEN: u64 = 64 * 1024;

/// Permissions of a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileMode {
    /// 0600: keyfiles.
    Secret,
    /// 0644: public key files.
    Public,
}

impl FileMode {
    #[cfg_attr(not(unix), allow(dead_code))]
    fn bits(self) -> u32 {
        match self {
            FileMode::Secret => 0o600,
            FileMode::Public => 0o644,
        }
    }
}

/// Reads a wallet file (at most 64 KiB). The bytes are wiped on drop.
pub(crate) fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let file = File::open(path).map_err(|e| WalletError::io(path, e))?;
    let mut data = Zeroizing::new(Vec::with_capacity(4096));
    file.take(MAX_KEYFILE_LEN + 1)
        .read_to_end(&mut data)
        .map_err(|e| WalletError::io(path, e))?;
    if data.len() as u64 > MAX_KEYFILE_LEN {
        return Err(WalletError::MalformedKeyfile {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_KEYFILE_LEN} bytes"),
        });
    }
    Ok(data)
}

/// Fails with [`WalletError::AlreadyExists`] if anything exists at `path`.
pub(crate) fn ensure_absent(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(_) => Err(WalletError::AlreadyExists {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(WalletError::io(path, e)),
    }
}

/// Writes `data` to `path` with `mode`, creating parent directories (0700).
///
/// Without `overwrite` the file is created exclusively (an existing file is an error). With it,
/// the data goes to a temporary file in the same directory that is then renamed over `path`.
pub(crate) fn write(path: &Path, data: &[u8], mode: FileMode, overwrite: bool) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dirs(parent)?;
    }
    if !overwrite {
        return write_new(path, data, mode);
    }
    let temp = temp_path(path);
    let result = write_new(&temp, data, mode)
        .and_then(|()| fs::rename(&temp, path).map_err(|e| WalletError::io(path, e)));
    if result.is_err() {
        // Best effort: the temporary file may not exist if creating it failed.
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_new(path: &Path, data: &[u8], mode: FileMode) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode.bits());
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| WalletError::io(path, e))?;
    let written = file.write_all(data).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(WalletError::io(path, e));
    }
    Ok(())
}

fn create_private_dirs(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| WalletError::io(dir, e))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix: u64 = rand::random();
    path.with_file_name(format!(".{name}.{suffix:016x}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_is_exclusive_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/keyfile");
        write(&path, b"one", FileMode::Secret, false).expect("first write");
        assert!(matches!(
            write(&path, b"two", FileMode::Secret, false),
            Err(WalletError::AlreadyExists { .. })
        ));
        assert!(matches!(
            ensure_absent(&path),
            Err(WalletError::AlreadyExists { .. })
        ));
        write(&path, b"three", FileMode::Secret, true).expect("overwrite");
        assert_eq!(read(&path).expect("read").as_slice(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = fs::metadata(dir.path().join("a"))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
        let leftovers = fs::read_dir(dir.path().join("a/b")).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
    }

    #[test]
    fn missing_and_oversized_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        assert!(matches!(read(&missing), Err(WalletError::NotFound { path }) if path == missing));
        let big = dir.path().join("big");
        fs::write(&big, vec![b' '; 70 * 1024]).expect("write");
        assert!(matches!(
            read(&big),
            Err(WalletError::MalformedKeyfile { .. })
        ));
    }
}
