//! `PasswordSource`: where the password for an encrypted keyfile comes from (argument, environment
//! or a caller-supplied prompt), including btwallet's `BT_PW_<PATH>` variables.
//!
//! Order: an explicit password; then the btwallet variable `BT_PW_<PATH>` for that keyfile; then
//! `SN17_WALLET_PASSWORD`; then the prompt. The library never reads the terminal itself: the binary
//! passes a closure (for example around `rpassword::prompt_password`).
//!
//! btwallet names the variable `BT_PW_` + the keyfile path with `/` and `.` replaced by `_`,
//! upper-cased (`/home/u/.bittensor/wallets/w/coldkey` -> `BT_PW__HOME_U__BITTENSOR_WALLETS_W_COLDKEY`).
//! Its value is not the password itself but base64 of the password XOR-ed with the variable name
//! (what `Keyfile.save_password_to_env` stores); [`btwallet_env_value`] produces it.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use super::error::{Result, WalletError};

/// Plain-text environment variable holding the wallet password (an sn17 convention).
pub const PASSWORD_ENV_VAR: &str = "SN17_WALLET_PASSWORD";

/// A password prompt supplied by the caller. It receives the keyfile being unlocked.
pub type PasswordPrompt<'a> = dyn Fn(&Path) -> std::io::Result<String> + 'a;

type EnvLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Where to get the password for an encrypted keyfile. Only consulted when the file is encrypted.
pub struct PasswordSource<'a> {
    explicit: Option<Zeroizing<String>>,
    env: Option<Box<EnvLookup<'a>>>,
    prompt: Option<Box<PasswordPrompt<'a>>>,
}

impl<'a> PasswordSource<'a> {
    /// No password at all: only plaintext keyfiles can be loaded.
    pub fn none() -> Self {
        Self {
            explicit: None,
            env: None,
            prompt: None,
        }
    }

    /// Exactly this password (environment and prompt are not consulted).
    pub fn explicit(password: impl Into<String>) -> Self {
        Self {
            explicit: Some(Zeroizing::new(password.into())),
            ..Self::none()
        }
    }

    /// The process environment: `BT_PW_<PATH>`, then [`PASSWORD_ENV_VAR`].
    pub fn environment() -> Self {
        Self::none().with_environment()
    }

    /// Also consult the process environment.
    pub fn with_environment(self) -> Self {
        self.with_env_lookup(|name| std::env::var(name).ok())
    }

    /// Consult `lookup` instead of the process environment (for tests or a config layer).
    pub fn with_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// Fall back to `prompt` when no other source has a password.
    pub fn with_prompt(mut self, prompt: impl Fn(&Path) -> std::io::Result<String> + 'a) -> Self {
        self.prompt = Some(Box::new(prompt));
        self
    }

    /// The password for `keyfile`, from the first source that has one.
    pub(crate) fn resolve(&self, keyfile: &Path) -> Result<Zeroizing<String>> {
        if let Some(password) = &self.explicit {
            tracing::debug!(path = %keyfile.display(), "using explicit wallet password");
            return Ok(password.clone());
        }
        if let Some(lookup) = &self.env {
            let var = btwallet_env_var(keyfile);
            if let Some(value) = lookup(&var).map(Zeroizing::new) {
                tracing::debug!(path = %keyfile.display(), var = %var, "using btwallet password variable");
                return decode_btwallet_env_value(&var, &value);
            }
            if let Some(value) = lookup(PASSWORD_ENV_VAR) {
                tracing::debug!(path = %keyfile.display(), var = PASSWORD_ENV_VAR, "using password variable");
                return Ok(Zeroizing::new(value));
            }
        }
        if let Some(prompt) = &self.prompt {
            tracing::debug!(path = %keyfile.display(), "prompting for wallet password");
            return prompt(keyfile)
                .map(Zeroizing::new)
                .map_err(|source| WalletError::Prompt {
                    path: keyfile.to_path_buf(),
                    source,
                });
        }
        Err(WalletError::PasswordRequired {
            path: keyfile.to_path_buf(),
            env_var: PASSWORD_ENV_VAR,
        })
    }
}

impl Default for PasswordSource<'_> {
    /// The process environment, no prompt.
    fn default() -> Self {
        Self::environment()
    }
}

impl fmt::Debug for PasswordSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSource")
            .field("explicit", &self.explicit.as_ref().map(|_| "<redacted>"))
            .field("environment", &self.env.is_some())
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

/// btwallet's password variable name for a keyfile: `BT_PW_` + path with `/` and `.` as `_`, upper-cased.
pub fn btwallet_env_var(keyfile: &Path) -> String {
    let path = keyfile.to_string_lossy().replace(['/', '.'], "_");
    format!("BT_PW_{}", path.to_uppercase())
}

/// The value btwallet stores in `var` for `password`: base64(password XOR var name).
pub fn btwallet_env_value(var: &str, password: &str) -> String {
    let mixed = Zeroizing::new(xor_with_name(password.as_bytes(), var));
    base64_encode(&mixed)
}

fn decode_btwallet_env_value(var: &str, value: &str) -> Result<Zeroizing<String>> {
    let bad = |reason| WalletError::BadPasswordEnv {
        var: var.to_owned(),
        reason,
    };
    let mixed = Zeroizing::new(base64_decode(value.trim()).ok_or_else(|| bad("not base64"))?);
    let plain = xor_with_name(&mixed, var);
    String::from_utf8(plain).map(Zeroizing::new).map_err(|e| {
        let mut bytes = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut bytes);
        bad("not UTF-8 after decoding")
    })
}

fn xor_with_name(data: &[u8], name: &str) -> Vec<u8> {
    let key = name.as_bytes();
    data.iter()
        .zip(key.iter().cycle())
        .map(|(byte, k)| byte ^ k)
        .collect()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && index + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = BASE64.iter().position(|&a| a == c)?;
            n = n << 6 | v as u32;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    #[test]
    fn env_var_name_matches_btwallet() {
        // Names printed by bittensor-wallet 4.1.1 `Keyfile(path).env_var_name()`.
        assert_eq!(
            btwallet_env_var(Path::new("/tmp/btw/w/coldkey")),
            "BT_PW__TMP_BTW_W_COLDKEY"
        );
        assert_eq!(
            btwallet_env_var(Path::new("/tmp/a-b.c/my wallet/coldkey")),
            "BT_PW__TMP_A-B_C_MY WALLET_COLDKEY"
        );
        assert_eq!(
            btwallet_env_var(Path::new("/root/.bittensor/wallets/my-w/hotkeys/h.1")),
            "BT_PW__ROOT__BITTENSOR_WALLETS_MY-W_HOTKEYS_H_1"
        );
    }

    #[test]
    fn env_value_matches_btwallet() {
        // `Keyfile("/tmp/btw/w/coldkey").save_password_to_env("sn17-test-password")` stored this.
        let var = "BT_PW__TMP_BTW_W_COLDKEY";
        assert_eq!(
            btwallet_env_value(var, "sn17-test-password"),
            "MTpuZ3orOic5fS8jJyQoOC0n"
        );
        let back = decode_btwallet_env_value(var, "MTpuZ3orOic5fS8jJyQoOC0n").expect("decodes");
        assert_eq!(back.as_str(), "sn17-test-password");
    }

    #[test]
    fn base64_round_trips_all_lengths() {
        for len in 0..10u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            assert_eq!(
                base64_decode(&base64_encode(&data)).as_deref(),
                Some(data.as_slice())
            );
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zg=="), Some(b"f".to_vec()));
        assert_eq!(base64_decode("Zg="), None);
        assert_eq!(base64_decode("Z!=="), None);
        assert_eq!(base64_decode("Zg==Zg=="), None);
    }

    fn lookup(map: HashMap<String, String>) -> impl Fn(&str) -> Option<String> {
        move |name| map.get(name).cloned()
    }

    #[test]
    fn resolution_order() {
        let path = PathBuf::from("/w/x/coldkey");
        let var = btwallet_env_var(&path);
        let both = HashMap::from([
            (var.clone(), btwallet_env_value(&var, "from-bt")),
            (PASSWORD_ENV_VAR.to_owned(), "from-sn17".to_owned()),
        ]);
        let only_sn17 = HashMap::from([(PASSWORD_ENV_VAR.to_owned(), "from-sn17".to_owned())]);

        let explicit = PasswordSource::explicit("given").with_env_lookup(lookup(both.clone()));
        assert_eq!(explicit.resolve(&path).expect("explicit").as_str(), "given");
        let env = PasswordSource::none()
            .with_env_lookup(lookup(both))
            .with_prompt(|_| Ok("typed".into()));
        assert_eq!(env.resolve(&path).expect("bt var").as_str(), "from-bt");
        let sn17 = PasswordSource::none().with_env_lookup(lookup(only_sn17));
        assert_eq!(sn17.resolve(&path).expect("sn17 var").as_str(), "from-sn17");
        let prompt = PasswordSource::none()
            .with_env_lookup(lookup(HashMap::new()))
            .with_prompt(|p| Ok(format!("typed for {}", p.display())));
        assert_eq!(
            prompt.resolve(&path).expect("prompt").as_str(),
            "typed for /w/x/coldkey"
        );
    }

    #[test]
    fn missing_and_failing_sources_are_named_errors() {
        let path = PathBuf::from("/w/x/coldkey");
        assert!(matches!(
            PasswordSource::none().resolve(&path),
            Err(WalletError::PasswordRequired { .. })
        ));
        let failing = PasswordSource::none().with_prompt(|_| Err(std::io::Error::other("no tty")));
        assert!(matches!(
            failing.resolve(&path),
            Err(WalletError::Prompt { .. })
        ));
        let var = btwallet_env_var(&path);
        let garbage =
            PasswordSource::none().with_env_lookup(move |n| (n == var).then(|| "***".to_owned()));
        assert!(matches!(
            garbage.resolve(&path),
            Err(WalletError::BadPasswordEnv { .. })
        ));
    }

    #[test]
    fn debug_redacts_the_password() {
        let shown = format!("{:?}", PasswordSource::explicit("hunter2"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("redacted"));
    }
}
