//! 32-byte account ids shown as SS58 (prefix 42), as btcli shows them.

use std::fmt;
use std::str::FromStr;

use sp_core::crypto::{AccountId32, Ss58AddressFormat, Ss58Codec};

/// Bittensor's SS58 prefix.
pub const SS58_PREFIX: u16 = 42;

/// An sr25519 public key / account id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Account(pub [u8; 32]);

impl Account {
    pub fn ss58(&self) -> String {
        AccountId32::from(self.0).to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ss58())
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Account({})", self.ss58())
    }
}

/// Not an SS58 address nor 32 bytes of hex.
#[derive(Debug, thiserror::Error)]
#[error("not an SS58 address or 0x-prefixed 32-byte hex: {0:?}")]
pub struct BadAccount(pub String);

impl FromStr for Account {
    type Err = BadAccount;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(h) = s.strip_prefix("0x") {
            let bytes = hex::decode(h).map_err(|_| BadAccount(s.into()))?;
            return bytes
                .try_into()
                .map(Account)
                .map_err(|_| BadAccount(s.into()));
        }
        AccountId32::from_ss58check(s)
            .map(|a| Account(a.into()))
            .map_err(|_| BadAccount(s.into()))
    }
}

impl serde::Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.ss58())
    }
}

impl<'de> serde::Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alice_round_trips() {
        let alice: Account = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
            .parse()
            .expect("ss58");
        assert_eq!(
            hex::encode(alice.0),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(
            alice.ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        let hexed: Account = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
            .parse()
            .expect("hex");
        assert_eq!(hexed, alice);
        assert!("5Grw".parse::<Account>().is_err());
    }
}
