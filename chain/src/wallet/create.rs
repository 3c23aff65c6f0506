//! Creating wallets that btcli can read: a new coldkey (optionally `$NACL`-encrypted), its
//! `coldkeypub.txt`, and plaintext hotkeys with their pub files.

use std::fmt;

use zeroize::Zeroizing;

use super::dir::Wallet;
use super::error::Result;
use super::keyfile::{write_keyfile, write_public_keyfile};
use super::keypair::Keypair;
use super::secret_file;

/// Options for [`Wallet::create`].
#[derive(Default)]
pub struct CreateOptions {
    /// Encrypt the coldkey with this password (`$NACL`); `None` writes it in plain JSON.
    pub coldkey_password: Option<Zeroizing<String>>,
    /// Replace existing files instead of failing with `AlreadyExists`.
    pub overwrite: bool,
}

impl fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateOptions")
            .field(
                "coldkey_password",
                &self.coldkey_password.as_ref().map(|_| "<redacted>"),
            )
            .field("overwrite", &self.overwrite)
            .finish()
    }
}

/// The keys written by [`Wallet::create`]. Their mnemonics ([`Keypair::secret_phrase`]) should be
/// shown to the user once so they can be backed up.
#[derive(Debug)]
pub struct CreatedWallet {
    /// The new coldkey.
    pub coldkey: Keypair,
    /// The new hotkey (the wallet's selected hotkey name).
    pub hotkey: Keypair,
}

impl Wallet {
    /// Creates a new coldkey and hotkey from fresh 12-word mnemonics and writes `coldkey`,
    /// `coldkeypub.txt`, `hotkeys/<hotkey>` and `hotkeys/<hotkey>pub.txt`.
    ///
    /// Without `overwrite`, nothing is written if any of the four files exists. Encrypting the
    /// coldkey runs Argon2 with 512 MiB (seconds).
    pub fn create(&self, options: &CreateOptions) -> Result<CreatedWallet> {
        if !options.overwrite {
            for path in [
                self.coldkey_path(),
                self.coldkeypub_path(),
                self.hotkey_path(),
                self.hotkeypub_path(),
            ] {
                secret_file::ensure_absent(&path)?;
            }
        }
        let coldkey = Keypair::generate();
        let hotkey = Keypair::generate();
        let password = options.coldkey_password.as_ref().map(|p| p.as_str());
        self.write_coldkey(&coldkey, password, options.overwrite)?;
        self.write_hotkey(&hotkey, options.overwrite)?;
        Ok(CreatedWallet { coldkey, hotkey })
    }

    /// Generates a new hotkey for the selected hotkey name and writes it (plaintext) with its pub file.
    pub fn create_hotkey(&self, overwrite: bool) -> Result<Keypair> {
        let hotkey = Keypair::generate();
        self.write_hotkey(&hotkey, overwrite)?;
        Ok(hotkey)
    }

    /// Writes `keypair` as this wallet's coldkey (`$NACL`-encrypted when `password` is given) and
    /// its `coldkeypub.txt`. Use with [`Keypair::from_phrase`] to regenerate a wallet.
    pub fn write_coldkey(
        &self,
        keypair: &Keypair,
        password: Option<&str>,
        overwrite: bool,
    ) -> Result<()> {
        if !overwrite {
            secret_file::ensure_absent(&self.coldkeypub_path())?;
        }
        write_keyfile(&self.coldkey_path(), keypair, password, overwrite)?;
        write_public_keyfile(&self.coldkeypub_path(), &keypair.public_key(), overwrite)
    }

    /// Writes `keypair` as the selected hotkey (plaintext, mode 0600, as btcli does) and its pub file.
    pub fn write_hotkey(&self, keypair: &Keypair, overwrite: bool) -> Result<()> {
        if !overwrite {
            secret_file::ensure_absent(&self.hotkeypub_path())?;
        }
        write_keyfile(&self.hotkey_path(), keypair, None, overwrite)?;
        write_public_keyfile(&self.hotkeypub_path(), &keypair.public_key(), overwrite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::{PasswordSource, WalletError};

    #[test]
    fn plaintext_create_then_load_and_refuse_overwrite() {
        let root = tempfile::tempdir().expect("tempdir");
        let wallet = Wallet::new(root.path(), "w", "h").expect("names");
        let created = wallet.create(&CreateOptions::default()).expect("create");
        let none = PasswordSource::none();
        assert_eq!(
            wallet.coldkey(&none).expect("coldkey").public(),
            created.coldkey.public()
        );
        assert_eq!(
            wallet.coldkeypub().expect("pub"),
            created.coldkey.public_key()
        );
        assert_eq!(
            wallet.hotkey(&none).expect("hotkey").ss58(),
            created.hotkey.ss58()
        );
        assert_eq!(
            wallet.hotkey_public().expect("hotkey pub"),
            created.hotkey.public_key()
        );

        let again = wallet.create(&CreateOptions::default());
        assert!(matches!(again, Err(WalletError::AlreadyExists { .. })));
        assert!(matches!(
            wallet.create_hotkey(false),
            Err(WalletError::AlreadyExists { .. })
        ));
        let replaced = wallet.create_hotkey(true).expect("overwrite hotkey");
        assert_eq!(
            wallet.hotkey(&none).expect("hotkey").ss58(),
            replaced.ss58()
        );
        assert_eq!(
            wallet.coldkeypub().expect("pub"),
            created.coldkey.public_key(),
            "coldkey untouched"
        );
    }

    #[test]
    fn empty_password_is_refused_before_writing() {
        let root = tempfile::tempdir().expect("tempdir");
        let wallet = Wallet::new(root.path(), "w", "h").expect("names");
        let options = CreateOptions {
            coldkey_password: Some(Zeroizing::new(String::new())),
            overwrite: false,
        };
        assert!(matches!(
            wallet.create(&options),
            Err(WalletError::EmptyPassword { .. })
        ));
        assert!(!wallet.coldkey_path().exists());
        assert!(!format!("{options:?}").contains("\"\""));
    }
}
