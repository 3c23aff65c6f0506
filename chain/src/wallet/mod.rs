//! btcli wallets: keyfiles, `$NACL` encryption, wallet directories.
//!
//! A wallet lives in `<root>/<name>/` (root defaults to `~/.bittensor/wallets`) and holds
//! `coldkey`, `coldkeypub.txt`, `hotkeys/<hotkey>` and `hotkeys/<hotkey>pub.txt`, in the JSON
//! layout btcli (btwallet) uses. Keys are sr25519; addresses use SS58 prefix 42.
//!
//! ```no_run
//! use sn17_chain::wallet::{PasswordSource, Wallet};
//!
//! # fn main() -> Result<(), sn17_chain::wallet::WalletError> {
//! let wallet = Wallet::in_default_root("default", "default")?;
//! println!("coldkey {}", wallet.coldkeypub()?);
//! // Plaintext hotkeys need no password; an encrypted one takes it from the environment here
//! // (`PasswordSource::with_prompt` adds a prompt, e.g. around `rpassword::prompt_password`).
//! let hotkey = wallet.hotkey(&PasswordSource::environment())?;
//! let signature: [u8; 64] = hotkey.sign(b"message");
//! # let _ = signature;
//! # Ok(())
//! # }
//! ```
//!
//! Secrets are never logged or shown by `Debug`; seeds, phrases, passwords and decrypted
//! keyfile bytes are zeroized on drop.

mod create;
mod dir;
mod encryption;
mod error;
mod keyfile;
mod keypair;
mod nacl;
mod password;
mod secret_file;

pub use create::{CreateOptions, CreatedWallet};
pub use dir::{default_wallet_root, expand_home, Wallet, DEFAULT_HOTKEY_NAME, DEFAULT_WALLET_NAME};
pub use encryption::KeyfileEncryption;
pub use error::{Result, WalletError};
pub use keyfile::{read_keyfile, read_public_keyfile, write_keyfile, write_public_keyfile};
pub use keypair::{Keypair, PublicKey, PRIVATE_KEY_LEN, SEED_LEN, SS58_PREFIX};
pub use nacl::{NACL_MAGIC, NACL_SALT};
pub use password::{
    btwallet_env_value, btwallet_env_var, PasswordPrompt, PasswordSource, PASSWORD_ENV_VAR,
};
