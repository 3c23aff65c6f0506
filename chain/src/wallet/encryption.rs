//! `KeyfileEncryption`: recognising how a keyfile's bytes are encrypted, by their prefix.

use std::fmt;

use super::nacl::NACL_MAGIC;

/// How a keyfile is stored, as btwallet detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyfileEncryption {
    /// Plain JSON (usual for hotkeys and public key files).
    Plaintext,
    /// `$NACL`: Argon2i + XSalsa20-Poly1305, what current btcli writes. Supported.
    Nacl,
    /// `$ANSIBLE_VAULT`: an old btcli format. Not supported.
    AnsibleVault,
    /// Legacy Fernet (`gAAAAA...`), the oldest btcli format. Not supported.
    LegacyFernet,
}

impl KeyfileEncryption {
    /// Detects the scheme from the start of the file, as btwallet does.
    pub fn detect(data: &[u8]) -> Self {
        if data.starts_with(NACL_MAGIC) {
            Self::Nacl
        } else if data.starts_with(b"$ANSIBLE_VAULT") {
            Self::AnsibleVault
        } else if data.starts_with(b"gAAAAA") {
            Self::LegacyFernet
        } else {
            Self::Plaintext
        }
    }

    /// Whether the file needs a password.
    pub fn is_encrypted(self) -> bool {
        self != Self::Plaintext
    }
}

impl fmt::Display for KeyfileEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plaintext => "plaintext",
            Self::Nacl => "$NACL",
            Self::AnsibleVault => "$ANSIBLE_VAULT",
            Self::LegacyFernet => "legacy Fernet",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::KeyfileEncryption as E;

    #[test]
    fn detects_each_prefix() {
        assert_eq!(E::detect(b"$NACL\x00\x01"), E::Nacl);
        assert_eq!(E::detect(b"$ANSIBLE_VAULT;1.1;AES256\n"), E::AnsibleVault);
        assert_eq!(E::detect(b"gAAAAABk-token"), E::LegacyFernet);
        assert_eq!(E::detect(b"{\"secretSeed\":\"0x00\"}"), E::Plaintext);
        assert_eq!(E::detect(b""), E::Plaintext);
        assert!(E::Nacl.is_encrypted() && !E::Plaintext.is_encrypted());
    }
}
