//! `Wallet`: a btcli wallet directory (`<root>/<name>/coldkey`, `coldkeypub.txt`, `hotkeys/<hotkey>`)
//! and loading its keys.

use std::path::{Path, PathBuf};

use super::error::{Result, WalletError};
use super::keyfile::{read_keyfile, read_public_keyfile};
use super::keypair::{Keypair, PublicKey};
use super::password::PasswordSource;

/// btcli's default wallet name.
pub const DEFAULT_WALLET_NAME: &str = "default";
/// btcli's default hotkey name.
pub const DEFAULT_HOTKEY_NAME: &str = "default";

/// btcli's default wallet root, `~/.bittensor/wallets` (relative to the working directory when
/// the home directory is unknown).
pub fn default_wallet_root() -> PathBuf {
    let relative = Path::new(".bittensor").join("wallets");
    match dirs::home_dir() {
        Some(home) => home.join(relative),
        None => relative,
    }
}

/// Expands a leading `~` to the home directory, as btcli does for `--wallet.path`.
pub fn expand_home(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match dirs::home_dir() {
        Some(home) => home.join(rest),
        None => path.to_path_buf(),
    }
}

/// One btcli wallet: a coldkey and a selected hotkey under `<root>/<name>/`.
///
/// Nothing is read until a key is asked for. Names are checked so that they cannot leave the
/// wallet root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wallet {
    root: PathBuf,
    name: String,
    hotkey: String,
}

impl Wallet {
    /// A wallet `name` with hotkey `hotkey` under `root` (`~` is expanded).
    pub fn new(root: impl AsRef<Path>, name: &str, hotkey: &str) -> Result<Self> {
        check_name("wallet", name)?;
        check_name("hotkey", hotkey)?;
        Ok(Self {
            root: expand_home(root.as_ref()),
            name: name.to_owned(),
            hotkey: hotkey.to_owned(),
        })
    }

    /// A wallet under [`default_wallet_root`].
    pub fn in_default_root(name: &str, hotkey: &str) -> Result<Self> {
        Self::new(default_wallet_root(), name, hotkey)
    }

    /// The same wallet with another hotkey selected.
    pub fn with_hotkey(&self, hotkey: &str) -> Result<Self> {
        Self::new(&self.root, &self.name, hotkey)
    }

    /// The wallet root (the directory holding wallet directories).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The wallet name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The selected hotkey name.
    pub fn hotkey_name(&self) -> &str {
        &self.hotkey
    }

    /// `<root>/<name>`.
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// `<root>/<name>/coldkey`.
    pub fn coldkey_path(&self) -> PathBuf {
        self.dir().join("coldkey")
    }

    /// `<root>/<name>/coldkeypub.txt`.
    pub fn coldkeypub_path(&self) -> PathBuf {
        self.dir().join("coldkeypub.txt")
    }

    /// `<root>/<name>/hotkeys/<hotkey>`.
    pub fn hotkey_path(&self) -> PathBuf {
        self.dir().join("hotkeys").join(&self.hotkey)
    }

    /// `<root>/<name>/hotkeys/<hotkey>pub.txt`.
    pub fn hotkeypub_path(&self) -> PathBuf {
        self.dir()
            .join("hotkeys")
            .join(format!("{}pub.txt", self.hotkey))
    }

    /// The coldkey's public key, from `coldkeypub.txt` (or a plaintext `coldkey` if that is missing).
    pub fn coldkeypub(&self) -> Result<PublicKey> {
        read_public_with_fallback(&self.coldkeypub_path(), &self.coldkey_path())
    }

    /// Loads the coldkey, asking `password` only if the file is encrypted.
    pub fn coldkey(&self, password: &PasswordSource<'_>) -> Result<Keypair> {
        read_keyfile(&self.coldkey_path(), password)
    }

    /// Loads the selected hotkey, asking `password` only if the file is encrypted.
    pub fn hotkey(&self, password: &PasswordSource<'_>) -> Result<Keypair> {
        read_keyfile(&self.hotkey_path(), password)
    }

    /// The hotkey's public key, from `hotkeys/<hotkey>pub.txt` (or the public fields of a
    /// plaintext hotkey file, which older btcli versions wrote without a pub file).
    pub fn hotkey_public(&self) -> Result<PublicKey> {
        read_public_with_fallback(&self.hotkeypub_path(), &self.hotkey_path())
    }
}

fn read_public_with_fallback(public_file: &Path, keyfile: &Path) -> Result<PublicKey> {
    match read_public_keyfile(public_file) {
        Err(WalletError::NotFound { path }) => {
            tracing::debug!(missing = %path.display(), keyfile = %keyfile.display(), "reading public key from keyfile");
            match read_public_keyfile(keyfile) {
                Err(WalletError::NotFound { .. } | WalletError::UnsupportedEncryption { .. }) => {
                    Err(WalletError::NotFound { path })
                }
                other => other,
            }
        }
        other => other,
    }
}

fn check_name(what: &'static str, name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || Path::new(name).is_absolute();
    if bad {
        return Err(WalletError::InvalidName {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_btcli_layout() {
        let wallet = Wallet::new("/r", "cold", "hot").expect("names");
        assert_eq!(wallet.coldkey_path(), Path::new("/r/cold/coldkey"));
        assert_eq!(
            wallet.coldkeypub_path(),
            Path::new("/r/cold/coldkeypub.txt")
        );
        assert_eq!(wallet.hotkey_path(), Path::new("/r/cold/hotkeys/hot"));
        assert_eq!(
            wallet.hotkeypub_path(),
            Path::new("/r/cold/hotkeys/hotpub.txt")
        );
        let other = wallet.with_hotkey("h2").expect("name");
        assert_eq!(other.hotkey_path(), Path::new("/r/cold/hotkeys/h2"));
    }

    #[test]
    fn names_cannot_escape_the_root() {
        for bad in ["", ".", "..", "a/b", "..\\x", "/abs"] {
            assert!(
                matches!(
                    Wallet::new("/r", bad, "h"),
                    Err(WalletError::InvalidName { what: "wallet", .. })
                ),
                "{bad:?}"
            );
            assert!(
                matches!(
                    Wallet::new("/r", "w", bad),
                    Err(WalletError::InvalidName { what: "hotkey", .. })
                ),
                "{bad:?}"
            );
        }
        assert!(Wallet::new("/r", "my-wallet.v2", "h_1").is_ok());
    }

    #[test]
    fn home_is_expanded() {
        if let Some(home) = dirs::home_dir() {
            assert_eq!(
                expand_home(Path::new("~/.bittensor/wallets")),
                home.join(".bittensor/wallets")
            );
            assert_eq!(default_wallet_root(), home.join(".bittensor/wallets"));
        }
        assert_eq!(expand_home(Path::new("/abs/~")), Path::new("/abs/~"));
    }
}
