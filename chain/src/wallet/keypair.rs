//! `Keypair` (an sr25519 signing key) and `PublicKey` (a 32-byte account id with its SS58 form).

use std::fmt;

use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_core::{sr25519, Pair as _};
use zeroize::Zeroizing;

use super::error::{Result, WalletError};

/// SS58 address prefix used by Bittensor (the generic Substrate prefix).
pub const SS58_PREFIX: u16 = 42;

/// Length of an sr25519 mini-secret (`secretSeed`).
pub const SEED_LEN: usize = 32;

/// Length of a schnorrkel secret key (`privateKey`: 32-byte scalar then 32-byte nonce).
pub const PRIVATE_KEY_LEN: usize = 64;

fn ss58_format() -> Ss58AddressFormat {
    Ss58AddressFormat::custom(SS58_PREFIX)
}

/// An sr25519 public key, i.e. a Bittensor account id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps 32 raw public key bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Decodes an SS58 address with prefix 42.
    pub fn from_ss58(address: &str) -> Result<Self> {
        let (public, format) =
            sr25519::Public::from_ss58check_with_version(address).map_err(|e| {
                WalletError::InvalidSs58 {
                    address: address.to_owned(),
                    reason: e.to_string(),
                }
            })?;
        if u16::from(format) != SS58_PREFIX {
            return Err(WalletError::InvalidSs58 {
                address: address.to_owned(),
                reason: format!("prefix {} is not {SS58_PREFIX}", u16::from(format)),
            });
        }
        Ok(Self(public.0))
    }

    /// The raw 32 bytes.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The raw 32 bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The SS58 address with prefix 42 (`5...`).
    pub fn ss58(&self) -> String {
        sr25519::Public::from_raw(self.0).to_ss58check_with_version(ss58_format())
    }

    /// `0x`-prefixed lowercase hex, as btcli writes `publicKey` and `accountId`.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// The account id as sp-core's `AccountId32`.
    pub fn account_id(&self) -> sp_core::crypto::AccountId32 {
        sp_core::crypto::AccountId32::new(self.0)
    }

    /// Checks an sr25519 signature (Substrate signing context) made by this key.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let signature = sr25519::Signature::from_raw(*signature);
        sr25519::Pair::verify(&signature, message, &sr25519::Public::from_raw(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.ss58()).finish()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ss58())
    }
}

impl From<[u8; 32]> for PublicKey {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl From<PublicKey> for [u8; 32] {
    fn from(key: PublicKey) -> Self {
        key.0
    }
}

/// An sr25519 signing key loaded from (or written to) a btcli keyfile.
///
/// `Debug` shows only the SS58 address. The secret phrase and seed are kept (zeroized on drop)
/// only so that a keyfile can be written back in the same form btcli writes; the schnorrkel
/// secret inside the sp-core pair zeroizes itself on drop.
#[derive(Clone)]
pub struct Keypair {
    pair: sr25519::Pair,
    secret_phrase: Option<Zeroizing<String>>,
    secret_seed: Option<Zeroizing<[u8; SEED_LEN]>>,
}

impl Keypair {
    /// Generates a new key from a fresh random 12-word BIP-39 mnemonic (as `btcli wallet create`).
    pub fn generate() -> Self {
        let (pair, phrase, seed) = sr25519::Pair::generate_with_phrase(None);
        Self {
            pair,
            secret_phrase: Some(Zeroizing::new(phrase)),
            secret_seed: Some(Zeroizing::new(seed)),
        }
    }

    /// Derives the key from a BIP-39 mnemonic with an empty BIP-39 password, as btcli does.
    pub fn from_phrase(phrase: &str) -> Result<Self> {
        let normalized = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
        let (pair, seed) =
            sr25519::Pair::from_phrase(&normalized, None).map_err(|e| WalletError::InvalidKey {
                reason: format!("secret phrase: {e}"),
            })?;
        Ok(Self {
            pair,
            secret_phrase: Some(normalized),
            secret_seed: Some(Zeroizing::new(seed)),
        })
    }

    /// Derives the key from a 32-byte mini-secret (`secretSeed`, Ed25519-mode expansion).
    pub fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        Self {
            pair: sr25519::Pair::from_seed(seed),
            secret_phrase: None,
            secret_seed: Some(Zeroizing::new(*seed)),
        }
    }

    /// Loads a 64-byte schnorrkel secret key (`privateKey`: scalar then nonce).
    pub fn from_private_key(private_key: &[u8; PRIVATE_KEY_LEN]) -> Result<Self> {
        let pair =
            sr25519::Pair::from_seed_slice(private_key).map_err(|e| WalletError::InvalidKey {
                reason: format!("private key: {e:?}"),
            })?;
        Ok(Self {
            pair,
            secret_phrase: None,
            secret_seed: None,
        })
    }

    /// The public key (account id).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.pair.public().0)
    }

    /// The raw 32-byte public key.
    pub fn public(&self) -> [u8; 32] {
        self.pair.public().0
    }

    /// The SS58 address with prefix 42.
    pub fn ss58(&self) -> String {
        self.public_key().ss58()
    }

    /// Signs `message` with sr25519 in the Substrate signing context (as extrinsics are signed).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.pair.sign(message).0
    }

    /// The underlying sp-core pair, for signers that need it (for example a subxt `Signer`).
    pub fn as_pair(&self) -> &sr25519::Pair {
        &self.pair
    }

    /// The BIP-39 mnemonic, when the key was generated or loaded from one.
    ///
    /// This is secret: show it to the user once at creation and never log it.
    pub fn secret_phrase(&self) -> Option<&str> {
        self.secret_phrase.as_deref().map(String::as_str)
    }

    /// The 32-byte mini-secret, when known. Secret.
    pub(crate) fn secret_seed(&self) -> Option<&[u8; SEED_LEN]> {
        self.secret_seed.as_deref()
    }

    /// The 64-byte schnorrkel secret key (`privateKey`). Secret.
    pub(crate) fn private_key(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.pair.to_raw_vec())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("ss58", &self.ss58())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV_PHRASE: &str =
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    const DEV_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";

    #[test]
    fn phrase_seed_and_private_key_agree() {
        let from_phrase = Keypair::from_phrase(DEV_PHRASE).expect("dev phrase");
        assert_eq!(from_phrase.ss58(), DEV_SS58);
        let seed = *from_phrase.secret_seed().expect("seed kept");
        assert_eq!(Keypair::from_seed(&seed).ss58(), DEV_SS58);
        let private: [u8; 64] = from_phrase
            .private_key()
            .as_slice()
            .try_into()
            .expect("64 bytes");
        let from_private = Keypair::from_private_key(&private).expect("valid private key");
        assert_eq!(from_private.ss58(), DEV_SS58);
    }

    #[test]
    fn phrase_whitespace_is_normalized_and_bad_phrase_rejected() {
        let spaced = format!("  {}\n", DEV_PHRASE.replace(' ', "  "));
        assert_eq!(
            Keypair::from_phrase(&spaced).expect("spaced phrase").ss58(),
            DEV_SS58
        );
        let bad = Keypair::from_phrase(
            "bottom drive obey lake curtain smoke basket hold race lonely fit fit",
        );
        assert!(matches!(bad, Err(WalletError::InvalidKey { .. })));
    }

    #[test]
    fn debug_shows_only_the_address() {
        let kp = Keypair::from_phrase(DEV_PHRASE).expect("dev phrase");
        let shown = format!("{kp:?}");
        assert!(shown.contains(DEV_SS58));
        assert!(!shown.contains("bottom"));
        assert!(!shown.contains(&hex::encode(kp.secret_seed().expect("seed"))));
    }

    #[test]
    fn sign_verifies_and_ss58_round_trips() {
        let kp = Keypair::generate();
        assert_eq!(kp.secret_phrase().map(|p| p.split(' ').count()), Some(12));
        let sig = kp.sign(b"msg");
        assert!(kp.public_key().verify(b"msg", &sig));
        assert!(!kp.public_key().verify(b"other", &sig));
        let back = PublicKey::from_ss58(&kp.ss58()).expect("round trip");
        assert_eq!(back, kp.public_key());
        assert_eq!(back.to_bytes(), kp.public());
    }

    #[test]
    fn ss58_with_other_prefix_is_rejected() {
        let polkadot = sr25519::Public::from_raw([7; 32])
            .to_ss58check_with_version(Ss58AddressFormat::custom(0));
        assert!(matches!(
            PublicKey::from_ss58(&polkadot),
            Err(WalletError::InvalidSs58 { .. })
        ));
        assert!(matches!(
            PublicKey::from_ss58("not an address"),
            Err(WalletError::InvalidSs58 { .. })
        ));
    }
}
