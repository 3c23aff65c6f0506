//! The btcli keyfile JSON layout, and reading/writing one keyfile (plaintext or `$NACL`).
//!
//! A keyfile is `{accountId, publicKey, privateKey, secretPhrase, secretSeed, ss58Address}` with
//! `0x` hex; unknown keys (such as `cryptoType`) are ignored. The secret is taken from
//! `secretPhrase`, else `secretSeed`, else `privateKey`, and checked against the stated public key.
//! Public key files (`coldkeypub.txt`, `hotkeys/<name>pub.txt`) hold only the public fields.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::encryption::KeyfileEncryption;
use super::error::{Result, WalletError};
use super::keypair::{Keypair, PublicKey, PRIVATE_KEY_LEN, SEED_LEN};
use super::nacl::{self, KdfCost, NaclError};
use super::password::PasswordSource;
use super::secret_file::{self, FileMode};

/// The only `cryptoType` supported: sr25519.
const CRYPTO_TYPE_SR25519: i64 = 1;

/// Keyfile fields as read. Secret fields are wiped on drop.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct KeyfileFields {
    account_id: Option<String>,
    public_key: Option<String>,
    private_key: Option<String>,
    secret_phrase: Option<String>,
    secret_seed: Option<String>,
    ss58_address: Option<String>,
    crypto_type: Option<i64>,
}

impl Drop for KeyfileFields {
    fn drop(&mut self) {
        self.private_key.zeroize();
        self.secret_phrase.zeroize();
        self.secret_seed.zeroize();
    }
}

/// Keyfile fields as written, in btcli's key names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyfileOut<'a> {
    account_id: &'a str,
    public_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_phrase: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_seed: Option<&'a str>,
    ss58_address: &'a str,
}

/// Reads and, if needed, decrypts the keyfile at `path` into a signing key.
///
/// The password source is consulted only for encrypted files.
pub fn read_keyfile(path: &Path, password: &PasswordSource<'_>) -> Result<Keypair> {
    let data = secret_file::read(path)?;
    let json = decrypt_keyfile_data(&data, path, password, nacl::SENSITIVE)?;
    let keypair = keypair_from_json(&json, path)?;
    tracing::debug!(path = %path.display(), ss58 = %keypair.ss58(), "loaded keyfile");
    Ok(keypair)
}

/// Reads the public key from a plaintext public key file or plaintext keyfile.
pub fn read_public_keyfile(path: &Path) -> Result<PublicKey> {
    let data = secret_file::read(path)?;
    match KeyfileEncryption::detect(&data) {
        KeyfileEncryption::Plaintext => public_from_json(&data, path),
        scheme => Err(WalletError::UnsupportedEncryption {
            path: path.to_path_buf(),
            scheme,
        }),
    }
}

/// Writes `keypair` to `path` in btcli's layout: `$NACL`-encrypted when `password` is given,
/// plain JSON otherwise. The file gets mode 0600. Fails with [`WalletError::AlreadyExists`] when
/// the file exists and `overwrite` is false.
pub fn write_keyfile(
    path: &Path,
    keypair: &Keypair,
    password: Option<&str>,
    overwrite: bool,
) -> Result<()> {
    if !overwrite {
        secret_file::ensure_absent(path)?;
    }
    let json = keypair_to_json(keypair);
    let data = match password {
        Some("") => {
            return Err(WalletError::EmptyPassword {
                path: path.to_path_buf(),
            })
        }
        Some(password) => Zeroizing::new(
            nacl::encrypt(&json, password.as_bytes(), nacl::SENSITIVE)
                .map_err(|e| nacl_error(e, path, 0))?,
        ),
        None => json,
    };
    secret_file::write(path, &data, FileMode::Secret, overwrite)?;
    tracing::info!(path = %path.display(), ss58 = %keypair.ss58(), encrypted = password.is_some(), "wrote keyfile");
    Ok(())
}

/// Writes a public key file (`{accountId, publicKey, ss58Address}`) with mode 0644.
pub fn write_public_keyfile(path: &Path, public: &PublicKey, overwrite: bool) -> Result<()> {
    secret_file::write(path, &public_to_json(public), FileMode::Public, overwrite)?;
    tracing::info!(path = %path.display(), ss58 = %public.ss58(), "wrote public key file");
    Ok(())
}

/// Returns the keyfile JSON, decrypting `$NACL` data with a password from `password`.
pub(crate) fn decrypt_keyfile_data(
    data: &[u8],
    path: &Path,
    password: &PasswordSource<'_>,
    cost: KdfCost,
) -> Result<Zeroizing<Vec<u8>>> {
    match KeyfileEncryption::detect(data) {
        KeyfileEncryption::Plaintext => Ok(Zeroizing::new(data.to_vec())),
        KeyfileEncryption::Nacl => {
            let password = password.resolve(path)?;
            tracing::debug!(path = %path.display(), "deriving $NACL key (argon2i, 512 MiB)");
            nacl::decrypt(data, password.as_bytes(), cost)
                .map_err(|e| nacl_error(e, path, data.len()))
        }
        scheme => Err(WalletError::UnsupportedEncryption {
            path: path.to_path_buf(),
            scheme,
        }),
    }
}

fn nacl_error(error: NaclError, path: &Path, len: usize) -> WalletError {
    let path = path.to_path_buf();
    match error {
        NaclError::WrongPassword => WalletError::WrongPassword { path },
        NaclError::Truncated | NaclError::NotNacl => WalletError::TruncatedCiphertext { path, len },
        NaclError::Kdf(reason) => WalletError::KeyDerivation { reason },
        NaclError::Seal => WalletError::Encryption { path },
    }
}

fn parse_fields(json: &[u8], path: &Path) -> Result<KeyfileFields> {
    serde_json::from_slice(json).map_err(|e| WalletError::MalformedKeyfile {
        path: path.to_path_buf(),
        // Only the position: serde's message can quote field values, which may be secret.
        reason: format!(
            "not keyfile JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|value| !value.trim().is_empty())
}

/// Parses keyfile JSON into a signing key (priority: phrase, seed, private key).
pub(crate) fn keypair_from_json(json: &[u8], path: &Path) -> Result<Keypair> {
    let fields = parse_fields(json, path)?;
    if let Some(crypto_type) = fields.crypto_type.filter(|&t| t != CRYPTO_TYPE_SR25519) {
        return Err(WalletError::UnsupportedCryptoType {
            path: path.to_path_buf(),
            crypto_type,
        });
    }
    let keypair = secret_from_fields(&fields, path)?;
    check_stated_public(&fields, &keypair.public_key(), path)?;
    Ok(keypair)
}

fn secret_from_fields(fields: &KeyfileFields, path: &Path) -> Result<Keypair> {
    let malformed = |reason: &str| WalletError::MalformedKeyfile {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    if let Some(phrase) = non_empty(&fields.secret_phrase) {
        return Keypair::from_phrase(phrase)
            .map_err(|_| malformed("secretPhrase is not a valid BIP-39 mnemonic"));
    }
    let private_key = non_empty(&fields.private_key);
    if let Some(seed) = non_empty(&fields.secret_seed) {
        match parse_seed(seed, path) {
            Ok(seed) => return Ok(Keypair::from_seed(&seed)),
            Err(error) if private_key.is_some() => {
                tracing::warn!(path = %path.display(), %error, "unreadable secretSeed, using privateKey");
            }
            Err(error) => return Err(error),
        }
    }
    if let Some(private_key) = private_key {
        let bytes = hex_field::<PRIVATE_KEY_LEN>(private_key, "privateKey", path)?;
        return Keypair::from_private_key(&bytes)
            .map_err(|_| malformed("privateKey is not a valid sr25519 secret key"));
    }
    Err(malformed("no secretPhrase, secretSeed or privateKey"))
}

/// A `secretSeed`: `0x` + 64 hex digits, or btwallet 4.x's quirk of `0x` + the 32 raw seed bytes
/// as characters (written when the seed happens to be valid UTF-8).
fn parse_seed(seed: &str, path: &Path) -> Result<Zeroizing<[u8; SEED_LEN]>> {
    let body = seed.strip_prefix("0x").unwrap_or(seed);
    if body.len() == SEED_LEN && !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        tracing::debug!(path = %path.display(), "secretSeed holds raw bytes (btwallet quirk)");
        let mut raw = Zeroizing::new([0u8; SEED_LEN]);
        raw.copy_from_slice(body.as_bytes());
        return Ok(raw);
    }
    hex_field::<SEED_LEN>(seed, "secretSeed", path)
}

/// Decodes `0x`-prefixed (or bare) hex of exactly `N` bytes. The result is wiped on drop.
fn hex_field<const N: usize>(
    value: &str,
    field: &'static str,
    path: &Path,
) -> Result<Zeroizing<[u8; N]>> {
    let bad = |reason: String| WalletError::BadHex {
        path: path.to_path_buf(),
        field,
        reason,
    };
    let body = value.trim();
    let body = body.strip_prefix("0x").unwrap_or(body);
    let mut out = Zeroizing::new([0u8; N]);
    if body.len() != 2 * N {
        return Err(bad(format!(
            "expected {} hex digits, found {}",
            2 * N,
            body.len()
        )));
    }
    hex::decode_to_slice(body, out.as_mut()).map_err(|_| bad("not hexadecimal".to_owned()))?;
    Ok(out)
}

/// The public key stated by the file: `publicKey`, `accountId` and `ss58Address` must agree.
fn stated_public(fields: &KeyfileFields, path: &Path) -> Result<Option<PublicKey>> {
    let mut stated: Option<PublicKey> = None;
    let hex_keys = [
        ("publicKey", non_empty(&fields.public_key)),
        ("accountId", non_empty(&fields.account_id)),
    ];
    for (field, value) in hex_keys {
        let Some(value) = value else { continue };
        let key = PublicKey::from_bytes(*hex_field::<32>(value, field, path)?);
        agree(&mut stated, key, path)?;
    }
    if let Some(address) = non_empty(&fields.ss58_address) {
        let key = PublicKey::from_ss58(address).map_err(|e| WalletError::MalformedKeyfile {
            path: path.to_path_buf(),
            reason: format!("ss58Address: {e}"),
        })?;
        agree(&mut stated, key, path)?;
    }
    Ok(stated)
}

fn agree(stated: &mut Option<PublicKey>, key: PublicKey, path: &Path) -> Result<()> {
    match stated {
        Some(previous) if *previous != key => Err(WalletError::PublicKeyMismatch {
            path: path.to_path_buf(),
            derived: previous.ss58(),
            stated: key.ss58(),
        }),
        _ => {
            *stated = Some(key);
            Ok(())
        }
    }
}

fn check_stated_public(fields: &KeyfileFields, derived: &PublicKey, path: &Path) -> Result<()> {
    match stated_public(fields, path)? {
        Some(stated) if stated != *derived => Err(WalletError::PublicKeyMismatch {
            path: path.to_path_buf(),
            derived: derived.ss58(),
            stated: stated.ss58(),
        }),
        _ => Ok(()),
    }
}

/// Parses a public key file (or the public fields of a plaintext keyfile).
pub(crate) fn public_from_json(json: &[u8], path: &Path) -> Result<PublicKey> {
    let fields = parse_fields(json, path)?;
    stated_public(&fields, path)?.ok_or_else(|| WalletError::MalformedKeyfile {
        path: path.to_path_buf(),
        reason: "no publicKey, accountId or ss58Address".to_owned(),
    })
}

/// Serializes a signing key as btcli does (without `cryptoType`, which older btcli rejects).
pub(crate) fn keypair_to_json(keypair: &Keypair) -> Zeroizing<Vec<u8>> {
    let public = keypair.public_key();
    let public_hex = public.to_hex();
    let ss58 = public.ss58();
    let private_hex = secret_hex(keypair.private_key().as_slice());
    let seed_hex = keypair.secret_seed().map(|seed| secret_hex(seed));
    let out = KeyfileOut {
        account_id: &public_hex,
        public_key: &public_hex,
        private_key: Some(&private_hex),
        secret_phrase: keypair.secret_phrase(),
        secret_seed: seed_hex.as_deref().map(String::as_str),
        ss58_address: &ss58,
    };
    // Sized up front so that no reallocation leaves copies of the secret behind.
    let mut json = Zeroizing::new(Vec::with_capacity(1024));
    if serde_json::to_writer(&mut *json, &out).is_err() {
        json.clear();
    }
    json
}

/// `0x` + lowercase hex, built in place so that no unwiped copy of the secret is left behind.
fn secret_hex(bytes: &[u8]) -> Zeroizing<String> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Zeroizing::new(String::with_capacity(2 + 2 * bytes.len()));
    out.push_str("0x");
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Serializes a public key file: `{accountId, publicKey, ss58Address}`.
pub(crate) fn public_to_json(public: &PublicKey) -> Vec<u8> {
    let public_hex = public.to_hex();
    let ss58 = public.ss58();
    let out = KeyfileOut {
        account_id: &public_hex,
        public_key: &public_hex,
        private_key: None,
        secret_phrase: None,
        secret_seed: None,
        ss58_address: &ss58,
    };
    serde_json::to_vec(&out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const DEV_PHRASE: &str =
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const DEV_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
    const DEV_SEED: &str = "0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e";
    const DEV_PUBLIC: &str = "0x46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a";
    const DEV_PRIVATE: &str = "0x05d65584630d16cd4af6d0bec10f34bb504a5dcb62dba2122d49f5a663763d0a\
                               fd190cce74df356432b410bd64682309d6dedb27c76845daf388557cbac3ca34";

    fn path() -> PathBuf {
        PathBuf::from("/w/test/hotkeys/h")
    }

    fn load(json: &str) -> Result<Keypair> {
        keypair_from_json(json.as_bytes(), &path())
    }

    #[test]
    fn each_secret_field_alone_loads_the_same_key() {
        let phrase = format!(r#"{{"secretPhrase":"{DEV_PHRASE}"}}"#);
        let seed = format!(r#"{{"secretSeed":"{DEV_SEED}","cryptoType":1,"extra":[1,2]}}"#);
        let private = format!(r#"{{"privateKey":"{DEV_PRIVATE}","publicKey":"{DEV_PUBLIC}"}}"#);
        for json in [phrase, seed, private] {
            assert_eq!(load(&json).expect("loads").ss58(), DEV_SS58, "{json}");
        }
    }

    #[test]
    fn phrase_wins_over_a_conflicting_seed() {
        let other_seed = format!("0x{}", "11".repeat(32));
        let json = format!(
            r#"{{"secretPhrase":"{DEV_PHRASE}","secretSeed":"{other_seed}","ss58Address":"{DEV_SS58}"}}"#
        );
        assert_eq!(load(&json).expect("loads").ss58(), DEV_SS58);
    }

    #[test]
    fn mismatching_public_key_is_rejected() {
        let other = PublicKey::from_bytes([9; 32]).to_hex();
        let json = format!(r#"{{"secretSeed":"{DEV_SEED}","publicKey":"{other}"}}"#);
        assert!(matches!(
            load(&json),
            Err(WalletError::PublicKeyMismatch { .. })
        ));
    }

    #[test]
    fn malformed_inputs_have_named_errors() {
        assert!(matches!(
            load("{not json"),
            Err(WalletError::MalformedKeyfile { .. })
        ));
        assert!(matches!(
            load(r#"{"ss58Address":"x"}"#),
            Err(WalletError::MalformedKeyfile { .. })
        ));
        assert!(matches!(
            load(r#"{"secretSeed":"0x12zz"}"#),
            Err(WalletError::BadHex {
                field: "secretSeed",
                ..
            })
        ));
        let bad_hex = format!(r#"{{"secretSeed":"0x{}"}}"#, "zz".repeat(32));
        assert!(matches!(
            load(&bad_hex),
            Err(WalletError::BadHex {
                field: "secretSeed",
                ..
            })
        ));
        let short_private = r#"{"privateKey":"0x0102"}"#;
        assert!(matches!(
            load(short_private),
            Err(WalletError::BadHex {
                field: "privateKey",
                ..
            })
        ));
        assert!(matches!(
            load(r#"{"secretPhrase":"not a mnemonic"}"#),
            Err(WalletError::MalformedKeyfile { .. })
        ));
        let ed = format!(r#"{{"secretSeed":"{DEV_SEED}","cryptoType":0}}"#);
        assert!(matches!(
            load(&ed),
            Err(WalletError::UnsupportedCryptoType { crypto_type: 0, .. })
        ));
    }

    #[test]
    fn error_messages_do_not_quote_secrets() {
        let json = format!(r#"{{"secretPhrase":"{DEV_PHRASE}","cryptoType":"{DEV_PHRASE}"}}"#);
        let message = load(&json)
            .expect_err("cryptoType must be a number")
            .to_string();
        assert!(!message.contains("bottom"), "{message}");
    }

    #[test]
    fn written_json_round_trips_with_btcli_fields() {
        let keypair = Keypair::from_phrase(DEV_PHRASE).expect("phrase");
        let json = keypair_to_json(&keypair);
        let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(value["accountId"], DEV_PUBLIC);
        assert_eq!(value["publicKey"], DEV_PUBLIC);
        assert_eq!(value["privateKey"], DEV_PRIVATE);
        assert_eq!(value["secretSeed"], DEV_SEED);
        assert_eq!(value["secretPhrase"], DEV_PHRASE);
        assert_eq!(value["ss58Address"], DEV_SS58);
        assert_eq!(
            load(std::str::from_utf8(&json).expect("utf8"))
                .expect("reload")
                .ss58(),
            DEV_SS58
        );

        let public = public_to_json(&keypair.public_key());
        let value: serde_json::Value = serde_json::from_slice(&public).expect("json");
        assert_eq!(value.as_object().map(|o| o.len()), Some(3));
        assert_eq!(
            public_from_json(&public, &path()).expect("public"),
            keypair.public_key()
        );
    }

    #[test]
    fn public_file_needs_consistent_fields() {
        let ok = format!(r#"{{"ss58Address":"{DEV_SS58}"}}"#);
        assert_eq!(
            public_from_json(ok.as_bytes(), &path())
                .expect("ss58 only")
                .ss58(),
            DEV_SS58
        );
        let other = PublicKey::from_bytes([3; 32]).to_hex();
        let conflict = format!(r#"{{"ss58Address":"{DEV_SS58}","accountId":"{other}"}}"#);
        assert!(matches!(
            public_from_json(conflict.as_bytes(), &path()),
            Err(WalletError::PublicKeyMismatch { .. })
        ));
        assert!(matches!(
            public_from_json(b"{}", &path()),
            Err(WalletError::MalformedKeyfile { .. })
        ));
    }

    #[test]
    fn plaintext_needs_no_password_and_old_schemes_are_unsupported() {
        let none = PasswordSource::none();
        let json = br#"{"a":1}"#;
        assert_eq!(
            decrypt_keyfile_data(json, &path(), &none, nacl::SENSITIVE)
                .expect("plain")
                .as_slice(),
            json
        );
        for (data, scheme) in [
            (
                &b"$ANSIBLE_VAULT;1.1;AES256\n3132"[..],
                KeyfileEncryption::AnsibleVault,
            ),
            (
                &b"gAAAAABlegacyfernettoken"[..],
                KeyfileEncryption::LegacyFernet,
            ),
        ] {
            let result = decrypt_keyfile_data(data, &path(), &none, nacl::SENSITIVE);
            assert!(
                matches!(result, Err(WalletError::UnsupportedEncryption { scheme: s, .. }) if s == scheme),
                "{scheme}"
            );
        }
        let needs_password = decrypt_keyfile_data(
            b"$NACLxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            &path(),
            &none,
            nacl::SENSITIVE,
        );
        assert!(matches!(
            needs_password,
            Err(WalletError::PasswordRequired { .. })
        ));
        let cheap = KdfCost { m_kib: 64, t: 1 };
        let truncated = decrypt_keyfile_data(
            b"$NACL0123",
            &path(),
            &PasswordSource::explicit("pw"),
            cheap,
        );
        assert!(matches!(
            truncated,
            Err(WalletError::TruncatedCiphertext { len: 9, .. })
        ));
    }
}
