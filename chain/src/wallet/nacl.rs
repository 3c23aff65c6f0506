//! `$NACL` keyfile encryption: Argon2i key derivation plus an XSalsa20-Poly1305 secretbox.
//!
//! Layout: `b"$NACL"`, a 24-byte nonce, then the NaCl secretbox (16-byte Poly1305 tag followed by
//! the ciphertext). The key is Argon2i v1.3 of the password with btwallet's fixed salt and
//! libsodium's `OPSLIMIT_SENSITIVE`/`MEMLIMIT_SENSITIVE` (t = 8, m = 512 MiB, p = 1).

use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use rand::RngCore;
use zeroize::Zeroizing;

/// Magic prefix of a `$NACL` keyfile.
pub const NACL_MAGIC: &[u8] = b"$NACL";

/// btwallet's fixed Argon2 salt.
pub const NACL_SALT: [u8; 16] = [
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1,
];

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Argon2i cost parameters for the keyfile key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KdfCost {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
}

/// The cost btwallet uses (libsodium `*_SENSITIVE` for argon2i13).
pub(crate) const SENSITIVE: KdfCost = KdfCost {
    m_kib: 524_288,
    t: 8,
};

/// Why a `$NACL` blob could not be opened or sealed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum NaclError {
    #[error("data does not start with $NACL")]
    NotNacl,
    #[error("too short for nonce and tag")]
    Truncated,
    #[error("wrong password")]
    WrongPassword,
    #[error("argon2: {0}")]
    Kdf(String),
    #[error("secretbox seal failed")]
    Seal,
}

fn derive_key(password: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, NaclError> {
    let params =
        Params::new(cost.m_kib, cost.t, 1, Some(32)).map_err(|e| NaclError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, &NACL_SALT, key.as_mut())
        .map_err(|e| NaclError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Decrypts a `$NACL` blob. The result is the keyfile JSON, zeroized on drop.
pub(crate) fn decrypt(
    data: &[u8],
    password: &[u8],
    cost: KdfCost,
) -> Result<Zeroizing<Vec<u8>>, NaclError> {
    let body = data.strip_prefix(NACL_MAGIC).ok_or(NaclError::NotNacl)?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(NaclError::Truncated);
    }
    let (nonce, boxed) = body.split_at(NONCE_LEN);
    let key = derive_key(password, cost)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    cipher
        .decrypt(Nonce::from_slice(nonce), boxed)
        .map(Zeroizing::new)
        .map_err(|_| NaclError::WrongPassword)
}

/// Encrypts `plaintext` into a `$NACL` blob with a fresh random nonce.
pub(crate) fn encrypt(
    plaintext: &[u8],
    password: &[u8],
    cost: KdfCost,
) -> Result<Vec<u8>, NaclError> {
    let key = derive_key(password, cost)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cipher = XSalsa20Poly1305::new(Key::from_slice(key.as_ref()));
    let boxed = cipher
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| NaclError::Seal)?;
    let mut out = Vec::with_capacity(NACL_MAGIC.len() + NONCE_LEN + boxed.len());
    out.extend_from_slice(NACL_MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&boxed);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so unit tests exercise the framing without 512 MiB of Argon2.
    const CHEAP: KdfCost = KdfCost { m_kib: 64, t: 1 };

    #[test]
    fn round_trip_and_wrong_password() {
        let blob = encrypt(b"{\"k\":1}", b"pw", CHEAP).expect("encrypt");
        assert!(blob.starts_with(NACL_MAGIC));
        assert_eq!(blob.len(), 5 + 24 + 16 + 7);
        assert_eq!(
            decrypt(&blob, b"pw", CHEAP).expect("decrypt").as_slice(),
            b"{\"k\":1}"
        );
        assert_eq!(decrypt(&blob, b"pX", CHEAP), Err(NaclError::WrongPassword));
    }

    #[test]
    fn nonces_differ_between_encryptions() {
        let a = encrypt(b"x", b"pw", CHEAP).expect("encrypt");
        let b = encrypt(b"x", b"pw", CHEAP).expect("encrypt");
        assert_ne!(a[5..29], b[5..29]);
    }

    #[test]
    fn truncated_and_foreign_data_are_named() {
        assert_eq!(
            decrypt(b"$NACL0123", b"pw", CHEAP),
            Err(NaclError::Truncated)
        );
        assert_eq!(decrypt(b"{}", b"pw", CHEAP), Err(NaclError::NotNacl));
        let mut blob = encrypt(b"data", b"pw", CHEAP).expect("encrypt");
        if let Some(last) = blob.last_mut() {
            *last ^= 1;
        }
        assert_eq!(decrypt(&blob, b"pw", CHEAP), Err(NaclError::WrongPassword));
    }

    #[test]
    fn opens_a_libsodium_secretbox_with_argon2i13_key() {
        // Made with PyNaCl (libsodium): crypto_pwhash_argon2i (v1.3) of "sn17-test-password" with
        // NACL_SALT at opslimit 3 / memlimit 64 KiB, then SecretBox.encrypt with nonce 00..17.
        // Same construction as btwallet, cheaper cost.
        let cost = KdfCost { m_kib: 64, t: 3 };
        let key = derive_key(b"sn17-test-password", cost).expect("kdf");
        assert_eq!(
            hex::encode(*key),
            "d848e9d810f4206f3ad322eaaff48c4869a616341f7f00d26836fbf592931091"
        );
        let blob = hex::decode(
            "244e41434c000102030405060708090a0b0c0d0e0f1011121314151617f29645e4e8be2172f5a4c5d1\
             3ae6f4e7cb2b4010c003789a2ce0509e8485a7e21079bd19",
        )
        .expect("hex");
        let plain = decrypt(&blob, b"sn17-test-password", cost).expect("libsodium blob opens");
        assert_eq!(plain.as_slice(), br#"{"secretPhrase":"x"}"#);
        assert_eq!(
            SENSITIVE,
            KdfCost {
                m_kib: 512 * 1024,
                t: 8
            }
        );
    }
}
