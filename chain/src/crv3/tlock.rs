//! Timelock encryption to a drand quicknet round, byte-compatible with the chain's `tld`.
//!
//! The commit is a compressed arkworks `TLECiphertext<TinyBLS381>`: an IBE header (`u` in G2,
//! 32-byte `v`, 32-byte `w`) that hides a random AES-256 key, an AES-GCM body, and the cipher
//! suite tag `AES_GCM_`. Its size is exactly [`CIPHERTEXT_OVERHEAD`] plus the plaintext.

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rand::{CryptoRng, RngCore};
use timelock::curves::drand::TinyBLS381;
use timelock::stream_ciphers::AESGCMStreamCipherProvider;
use timelock::tlock::{tld, tle, Error as TlockError, TLECiphertext};
use zeroize::Zeroize;

use super::drand::{parse_signature, public_key, round_identity};
use super::{Crv3Error, Result};

/// Chain bound on the `commit` argument (`BoundedVec<u8, 5000>`).
pub const MAX_COMMIT_BYTES: usize = 5000;

/// Ciphertext bytes beyond the plaintext: G2 `u` 96, `v` 8+32, `w` 8+32, body length 8, AES
/// ciphertext length 8, GCM tag 16, nonce 8+12, cipher suite 8+8.
pub const CIPHERTEXT_OVERHEAD: usize = 96 + 40 + 40 + 8 + 8 + 16 + 20 + 16;

/// Length of the IBE `v` and `w` fields; `tld` indexes them as 32 bytes and panics otherwise.
const IBE_FIELD_LEN: usize = 32;

/// Size of the ciphertext for a plaintext of `plaintext_len` bytes, to check limits up front.
pub const fn ciphertext_len(plaintext_len: usize) -> usize {
    CIPHERTEXT_OVERHEAD + plaintext_len
}

/// Encrypts `message` so that only quicknet's signature for `round` can open it, and returns the
/// compressed ciphertext, which is the chain's `commit` argument.
///
/// The ephemeral AES key and IBE randomness come from `rng`; use a CSPRNG such as `OsRng`.
/// Fails with [`Crv3Error::TooLarge`] above [`MAX_COMMIT_BYTES`], since the chain would refuse it.
pub fn encrypt_to_round<R: RngCore + CryptoRng>(
    message: &[u8],
    round: u64,
    rng: &mut R,
) -> Result<Vec<u8>> {
    encrypt_bounded(message, round, rng, MAX_COMMIT_BYTES)
}

/// [`encrypt_to_round`] with a caller-chosen size bound (commitment fields allow less).
pub(crate) fn encrypt_bounded<R: RngCore + CryptoRng>(
    message: &[u8],
    round: u64,
    rng: &mut R,
    limit: usize,
) -> Result<Vec<u8>> {
    let expected = ciphertext_len(message.len());
    if expected > limit {
        return Err(Crv3Error::TooLarge {
            limit,
            got: expected,
        });
    }
    let pk = public_key()?;
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let ciphertext = tle::<TinyBLS381, AESGCMStreamCipherProvider, _>(
        pk,
        secret,
        message,
        round_identity(round),
        &mut *rng,
    );
    secret.zeroize();
    let ciphertext = ciphertext.map_err(|_| Crv3Error::Encryption)?;
    let mut out = Vec::with_capacity(expected);
    ciphertext
        .serialize_compressed(&mut out)
        .map_err(|_| Crv3Error::Encryption)?;
    if out.len() > limit {
        return Err(Crv3Error::TooLarge {
            limit,
            got: out.len(),
        });
    }
    Ok(out)
}

/// Decrypts a commit with the round's 48-byte signature, as the chain does at reveal time.
///
/// Bytes after the ciphertext are ignored, like on chain. Errors tell apart malformed
/// ciphertexts, malformed signatures, a signature of another round
/// ([`Crv3Error::WrongSignature`]) and a tampered body.
pub fn decrypt_with_signature(ciphertext: &[u8], signature: &[u8]) -> Result<Vec<u8>> {
    if ciphertext.len() > MAX_COMMIT_BYTES {
        return Err(Crv3Error::TooLarge {
            limit: MAX_COMMIT_BYTES,
            got: ciphertext.len(),
        });
    }
    let ct = TLECiphertext::<TinyBLS381>::deserialize_compressed(ciphertext).map_err(|_| {
        Crv3Error::MalformedCiphertext {
            reason: "not a compressed TLECiphertext",
        }
    })?;
    // The timelock crate slices `v` and `w` assuming 32 bytes and panics on other lengths;
    // honest ciphertexts always have exactly 32.
    if ct.header.v.len() != IBE_FIELD_LEN || ct.header.w.len() != IBE_FIELD_LEN {
        return Err(Crv3Error::MalformedCiphertext {
            reason: "IBE header fields are not 32 bytes",
        });
    }
    let sig = parse_signature(signature)?;
    tld::<TinyBLS381, AESGCMStreamCipherProvider>(ct, sig).map_err(|e| match e {
        TlockError::InvalidSignature => Crv3Error::WrongSignature,
        TlockError::DecryptionError => Crv3Error::BodyDecryption,
        TlockError::DeserializationError => Crv3Error::MalformedCiphertext {
            reason: "body is not a compressed AES-GCM output",
        },
        _ => Crv3Error::MalformedCiphertext {
            reason: "timelock decryption failed",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_matches_layout() {
        // 96 + 40 + 40 + 8 + 8 + 16 + 20 + 16 = 244, so a 55-byte 3-uid payload gives 299.
        assert_eq!(CIPHERTEXT_OVERHEAD, 244);
        assert_eq!(ciphertext_len(55), 299);
    }

    #[test]
    fn oversized_message_is_refused_before_encrypting() {
        let msg = vec![0u8; MAX_COMMIT_BYTES - CIPHERTEXT_OVERHEAD + 1];
        let err = encrypt_to_round(&msg, 1000, &mut rand::rngs::OsRng);
        assert!(matches!(
            err,
            Err(Crv3Error::TooLarge {
                limit: MAX_COMMIT_BYTES,
                got: 5001
            })
        ));
    }

    #[test]
    fn oversized_ciphertext_is_refused() {
        let ct = vec![0u8; MAX_COMMIT_BYTES + 1];
        assert!(matches!(
            decrypt_with_signature(&ct, &[0u8; 48]),
            Err(Crv3Error::TooLarge { .. })
        ));
    }
}
