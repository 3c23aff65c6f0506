//! `WalletError`: every way loading, decrypting or writing a btcli wallet can fail.

use std::path::PathBuf;

/// Result alias for the wallet module.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;

/// A wallet operation failed. Variants carry the file involved, never secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// The keyfile (or public key file) does not exist.
    #[error("keyfile not found: {path}")]
    NotFound {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// Reading, writing or creating a file or directory failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file (after any decryption) is not the btcli keyfile JSON layout.
    #[error("malformed keyfile {path}: {reason}")]
    MalformedKeyfile {
        /// The keyfile.
        path: PathBuf,
        /// What was wrong, without any secret content.
        reason: String,
    },
    /// A hex field of the keyfile is not valid hex of the expected length.
    #[error("bad hex in field `{field}` of {path}: {reason}")]
    BadHex {
        /// The keyfile.
        path: PathBuf,
        /// The JSON field name (`publicKey`, `secretSeed`, ...).
        field: &'static str,
        /// What was wrong (odd length, bad character, wrong length).
        reason: String,
    },
    /// The keyfile's public key or address disagrees with the key derived from its secret.
    #[error("public key mismatch in {path}: the secret derives {derived}, the file says {stated}")]
    PublicKeyMismatch {
        /// The keyfile.
        path: PathBuf,
        /// SS58 address derived from the secret material.
        derived: String,
        /// SS58 address (or public key) stated by the file.
        stated: String,
    },
    /// The keyfile uses a key type other than sr25519 (`cryptoType` != 1).
    #[error("unsupported crypto type {crypto_type} in {path} (only sr25519 = 1 is supported)")]
    UnsupportedCryptoType {
        /// The keyfile.
        path: PathBuf,
        /// The `cryptoType` value found.
        crypto_type: i64,
    },
    /// The keyfile is encrypted with a scheme this module cannot decrypt.
    #[error("unsupported keyfile encryption {scheme} in {path}")]
    UnsupportedEncryption {
        /// The keyfile.
        path: PathBuf,
        /// The scheme that was detected.
        scheme: super::KeyfileEncryption,
    },
    /// A `$NACL` file is too short to hold the nonce and authentication tag.
    #[error("truncated $NACL keyfile {path}: {len} bytes")]
    TruncatedCiphertext {
        /// The keyfile.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// The password does not open the `$NACL` secretbox.
    #[error("wrong password for {path}")]
    WrongPassword {
        /// The keyfile.
        path: PathBuf,
    },
    /// The keyfile is encrypted and no password source produced a password.
    #[error("keyfile {path} is encrypted and no password was supplied (argument, ${env_var}, BT_PW_* or prompt)")]
    PasswordRequired {
        /// The keyfile.
        path: PathBuf,
        /// The plain environment variable that could have supplied it.
        env_var: &'static str,
    },
    /// A password environment variable exists but cannot be decoded.
    #[error("password environment variable {var} is malformed: {reason}")]
    BadPasswordEnv {
        /// The variable name.
        var: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The caller's password prompt failed.
    #[error("password prompt for {path} failed: {source}")]
    Prompt {
        /// The keyfile being unlocked.
        path: PathBuf,
        /// The prompt's error.
        #[source]
        source: std::io::Error,
    },
    /// An empty password was given for encryption.
    #[error("refusing to encrypt {path} with an empty password")]
    EmptyPassword {
        /// The keyfile that would have been written.
        path: PathBuf,
    },
    /// Argon2 key derivation failed (for example the 512 MiB allocation).
    #[error("argon2 key derivation failed: {reason}")]
    KeyDerivation {
        /// The argon2 error text.
        reason: String,
    },
    /// Sealing the secretbox failed.
    #[error("encryption of {path} failed")]
    Encryption {
        /// The keyfile that would have been written.
        path: PathBuf,
    },
    /// Secret material (mnemonic, seed, private key) is not a valid sr25519 key.
    #[error("invalid key material: {reason}")]
    InvalidKey {
        /// What was wrong, without the secret itself.
        reason: String,
    },
    /// An SS58 address could not be decoded.
    #[error("invalid ss58 address {address:?}: {reason}")]
    InvalidSs58 {
        /// The address.
        address: String,
        /// What was wrong.
        reason: String,
    },
    /// A wallet or hotkey name would escape the wallet directory.
    #[error("invalid wallet {what} name {name:?}: must be non-empty and contain no path separators or `..`")]
    InvalidName {
        /// `"wallet"` or `"hotkey"`.
        what: &'static str,
        /// The rejected name.
        name: String,
    },
    /// A file to be created already exists and `overwrite` was not set.
    #[error("{path} already exists; refusing to overwrite it")]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
}

impl WalletError {
    /// Maps an I/O error on `path` to [`WalletError::NotFound`] or [`WalletError::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        match source.kind() {
            std::io::ErrorKind::NotFound => WalletError::NotFound { path },
            std::io::ErrorKind::AlreadyExists => WalletError::AlreadyExists { path },
            _ => WalletError::Io { path, source },
        }
    }
}
