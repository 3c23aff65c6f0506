//! btcli wallet compatibility: fixtures written by the reference `bittensor-wallet` load to the
//! expected addresses, wallets we create are read back (and by the reference, when installed),
//! and every failure has its named error.
//!
//! Fixtures come from `scripts/gen_wallet_fixtures.py`. `$NACL` uses Argon2 with 512 MiB, so
//! only four Argon2 runs happen here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sn17_chain::wallet::{
    btwallet_env_value, btwallet_env_var, read_keyfile, CreateOptions, KeyfileEncryption,
    PasswordSource, PublicKey, Wallet, WalletError,
};
use zeroize::Zeroizing;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallets")
}

struct Expected(serde_json::Value);

impl Expected {
    fn load() -> Self {
        let text = fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
        Self(serde_json::from_str(&text).expect("expected.json parses"))
    }

    fn str(&self, key: &str) -> &str {
        self.0[key].as_str().expect("string field")
    }

    fn key(&self, label: &str, field: &str) -> &str {
        self.0["keys"][label][field].as_str().expect("key field")
    }

    fn wallet(&self, hotkey: &str) -> Wallet {
        Wallet::new(
            fixtures().join(self.str("root")),
            self.str("wallet"),
            hotkey,
        )
        .expect("wallet names")
    }

    fn signature(&self, label: &str) -> [u8; 64] {
        let hex = self.key(label, "signature").trim_start_matches("0x");
        hex::decode(hex).expect("hex").try_into().expect("64 bytes")
    }
}

#[test]
fn reference_plaintext_hotkeys_load_to_expected_addresses() {
    let expected = Expected::load();
    let message = expected.str("message").as_bytes().to_vec();
    for name in ["default", "seed-hex", "seed-raw", "privkey"] {
        let label = format!("hotkey:{name}");
        let wallet = expected.wallet(name);
        let hotkey = wallet
            .hotkey(&PasswordSource::none())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hotkey.ss58(), expected.key(&label, "ss58"), "{name}");
        assert_eq!(
            format!("0x{}", hex::encode(hotkey.public())),
            expected.key(&label, "public_key"),
            "{name}"
        );
        assert_eq!(
            wallet.hotkey_public().expect("pub file").ss58(),
            expected.key(&label, "ss58")
        );
        // The reference's signature verifies with our key, and ours with the same public key.
        assert!(
            hotkey
                .public_key()
                .verify(&message, &expected.signature(&label)),
            "{name}"
        );
        assert!(
            hotkey.public_key().verify(&message, &hotkey.sign(&message)),
            "{name}"
        );
        assert!(
            !format!("{hotkey:?}").contains("bottom"),
            "Debug shows no phrase"
        );
    }
}

#[test]
fn reference_coldkeypub_needs_no_password() {
    let expected = Expected::load();
    let public = expected
        .wallet("default")
        .coldkeypub()
        .expect("coldkeypub.txt");
    assert_eq!(public.ss58(), expected.key("coldkey", "ss58"));
    assert_eq!(public.to_hex(), expected.key("coldkey", "public_key"));
    assert_eq!(
        PublicKey::from_ss58(expected.key("coldkey", "ss58")).expect("ss58"),
        public
    );
}

#[test]
fn reference_nacl_coldkey_opens_with_btwallet_env_password() {
    let expected = Expected::load();
    let wallet = expected.wallet("default");
    assert_eq!(
        KeyfileEncryption::detect(&fs::read(wallet.coldkey_path()).expect("coldkey")),
        KeyfileEncryption::Nacl
    );
    let var = btwallet_env_var(&wallet.coldkey_path());
    let value = btwallet_env_value(&var, expected.str("password"));
    let source = PasswordSource::none()
        .with_env_lookup(move |name| (name == var).then(|| value.clone()))
        .with_prompt(|path| panic!("prompted for {}", path.display()));
    let coldkey = wallet.coldkey(&source).expect("decrypts");
    assert_eq!(coldkey.ss58(), expected.key("coldkey", "ss58"));
    let message = expected.str("message").as_bytes();
    assert!(coldkey
        .public_key()
        .verify(message, &expected.signature("coldkey")));
}

#[test]
fn reference_nacl_coldkey_with_wrong_password_is_wrong_password() {
    let expected = Expected::load();
    let wallet = expected.wallet("default");
    let prompted = PasswordSource::none().with_prompt(|_| Ok("not-the-password".to_owned()));
    match wallet.coldkey(&prompted) {
        Err(WalletError::WrongPassword { path }) => assert_eq!(path, wallet.coldkey_path()),
        other => panic!("expected WrongPassword, got {other:?}"),
    }
}

#[test]
fn encrypted_coldkey_without_any_password_source_is_password_required() {
    let wallet = Expected::load().wallet("default");
    let result = wallet.coldkey(&PasswordSource::none());
    assert!(
        matches!(result, Err(WalletError::PasswordRequired { .. })),
        "{result:?}"
    );
}

#[test]
fn create_round_trip_and_btcli_layout() {
    let root = tempfile::tempdir().expect("tempdir");
    let wallet = Wallet::new(root.path(), "created", "hot").expect("names");
    let password = "sn17-created-password";
    let created = wallet
        .create(&CreateOptions {
            coldkey_password: Some(Zeroizing::new(password.to_owned())),
            overwrite: false,
        })
        .expect("create");
    assert_eq!(
        created
            .coldkey
            .secret_phrase()
            .map(|p| p.split(' ').count()),
        Some(12)
    );

    // Layout: encrypted coldkey, btcli JSON for the rest.
    let coldkey_bytes = fs::read(wallet.coldkey_path()).expect("coldkey");
    assert!(coldkey_bytes.starts_with(b"$NACL"));
    let coldkeypub = read_json(&wallet.coldkeypub_path());
    assert_public_fields(&coldkeypub, &created.coldkey.public_key());
    assert_eq!(
        coldkeypub.as_object().map(|o| o.len()),
        Some(3),
        "only public fields"
    );
    let hotkey_json = read_json(&wallet.hotkey_path());
    assert_public_fields(&hotkey_json, &created.hotkey.public_key());
    assert_eq!(
        hotkey_json["secretPhrase"].as_str(),
        created.hotkey.secret_phrase()
    );
    assert_eq!(
        hotkey_json["secretSeed"].as_str().map(str::len),
        Some(2 + 64)
    );
    assert_eq!(
        hotkey_json["privateKey"].as_str().map(str::len),
        Some(2 + 128)
    );
    assert_public_fields(
        &read_json(&wallet.hotkeypub_path()),
        &created.hotkey.public_key(),
    );
    #[cfg(unix)]
    for path in [wallet.coldkey_path(), wallet.hotkey_path()] {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }

    // Our loader reads it back.
    let coldkey = wallet
        .coldkey(&PasswordSource::explicit(password))
        .expect("decrypts");
    assert_eq!(coldkey.public(), created.coldkey.public());
    assert_eq!(
        wallet.coldkeypub().expect("pub"),
        created.coldkey.public_key()
    );
    let hotkey = wallet
        .hotkey(&PasswordSource::none())
        .expect("plain hotkey");
    assert_eq!(hotkey.ss58(), created.hotkey.ss58());

    // Refuses to overwrite.
    let again = wallet.create(&CreateOptions::default());
    assert!(
        matches!(again, Err(WalletError::AlreadyExists { .. })),
        "{again:?}"
    );

    // The reference implementation reads it too, when installed.
    let message = b"sn17 created wallet";
    let signature = hex::encode(hotkey.sign(message));
    if let Some(seen) = reference_load(&wallet, password, message, &signature) {
        assert_eq!(seen["coldkey"], created.coldkey.ss58());
        assert_eq!(seen["coldkeypub"], created.coldkey.ss58());
        assert_eq!(seen["hotkey"], created.hotkey.ss58());
        assert_eq!(seen["hotkeypub"], created.hotkey.ss58());
        assert_eq!(seen["signature_ok"], true);
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).expect("read")).expect("json")
}

fn assert_public_fields(json: &serde_json::Value, public: &PublicKey) {
    assert_eq!(json["accountId"], public.to_hex());
    assert_eq!(json["publicKey"], public.to_hex());
    assert_eq!(json["ss58Address"], public.ss58());
}

const REFERENCE_LOADER: &str = r#"
import json, sys
from bittensor_wallet import Wallet
root, name, hotkey, password, message, signature = sys.argv[1:]
w = Wallet(name=name, hotkey=hotkey, path=root)
hk = w.get_hotkey()
print(json.dumps({
    "coldkey": w.get_coldkey(password=password).ss58_address,
    "coldkeypub": w.get_coldkeypub().ss58_address,
    "hotkey": hk.ss58_address,
    "hotkeypub": w.get_hotkeypub().ss58_address,
    "signature_ok": hk.verify(message.encode(), bytes.fromhex(signature)),
}))
"#;

/// Loads `wallet` with python `bittensor_wallet`, or prints why not and returns `None`.
fn reference_load(
    wallet: &Wallet,
    password: &str,
    message: &[u8],
    signature: &str,
) -> Option<serde_json::Value> {
    let probe = Command::new("python3")
        .args(["-c", "import bittensor_wallet"])
        .stdin(Stdio::null())
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        println!("SKIP reference check: python3 with bittensor_wallet is not available (pip install bittensor-wallet)");
        return None;
    }
    let output = Command::new("python3")
        .arg("-c")
        .arg(REFERENCE_LOADER)
        .arg(wallet.root())
        .args([wallet.name(), wallet.hotkey_name(), password])
        .arg(String::from_utf8_lossy(message).as_ref())
        .arg(signature)
        .stdin(Stdio::null())
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "bittensor_wallet failed to load our wallet: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().expect("python printed a result");
    Some(serde_json::from_str(last).expect("python json"))
}

#[test]
fn old_encryption_schemes_are_unsupported_encryption() {
    let vault = fixtures().join("ansible_vault_keyfile");
    let result = read_keyfile(&vault, &PasswordSource::explicit("sn17-test-password"));
    assert!(
        matches!(
            result,
            Err(WalletError::UnsupportedEncryption {
                scheme: KeyfileEncryption::AnsibleVault,
                ..
            })
        ),
        "{result:?}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let fernet = dir.path().join("legacy");
    fs::write(&fernet, b"gAAAAABhZ2VuZXJhdGVkLWZvci10ZXN0cy1vbmx5").expect("write");
    let result = read_keyfile(&fernet, &PasswordSource::explicit("x"));
    assert!(
        matches!(
            result,
            Err(WalletError::UnsupportedEncryption {
                scheme: KeyfileEncryption::LegacyFernet,
                ..
            })
        ),
        "{result:?}"
    );
    let message = result.map(|_| ()).expect_err("error").to_string();
    assert!(
        message.contains("unsupported keyfile encryption"),
        "{message}"
    );
}

#[test]
fn malformed_truncated_and_missing_files_have_named_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = PasswordSource::none();
    let write = |name: &str, data: &[u8]| {
        let path = dir.path().join(name);
        fs::write(&path, data).expect("write");
        path
    };

    let reference =
        fs::read_to_string(Expected::load().wallet("default").hotkey_path()).expect("hotkey");
    let truncated_json = write(
        "truncated_json",
        &reference.as_bytes()[..reference.len() / 2],
    );
    assert!(matches!(
        read_keyfile(&truncated_json, &none),
        Err(WalletError::MalformedKeyfile { .. })
    ));

    let empty = write("empty", b"");
    assert!(matches!(
        read_keyfile(&empty, &none),
        Err(WalletError::MalformedKeyfile { .. })
    ));

    let bad_hex = write(
        "bad_hex",
        br#"{"secretSeed":"0xnothexnothexnothexnothexnothexnothexnothexnothexnothexnothex1234"}"#,
    );
    assert!(matches!(
        read_keyfile(&bad_hex, &none),
        Err(WalletError::BadHex {
            field: "secretSeed",
            ..
        })
    ));

    let coldkey = fs::read(Expected::load().wallet("default").coldkey_path()).expect("coldkey");
    let truncated_nacl = write("truncated_nacl", &coldkey[..20]);
    let result = read_keyfile(
        &truncated_nacl,
        &PasswordSource::explicit("sn17-test-password"),
    );
    assert!(
        matches!(
            result,
            Err(WalletError::TruncatedCiphertext { len: 20, .. })
        ),
        "{result:?}"
    );

    let missing = dir.path().join("missing");
    match read_keyfile(&missing, &none) {
        Err(WalletError::NotFound { path }) => assert_eq!(path, missing),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let absent_wallet = Wallet::new(dir.path(), "absent", "default").expect("names");
    assert!(matches!(
        absent_wallet.coldkeypub(),
        Err(WalletError::NotFound { .. })
    ));
    assert!(matches!(
        absent_wallet.hotkey(&none),
        Err(WalletError::NotFound { .. })
    ));
}

#[test]
fn hotkey_public_falls_back_to_a_plain_hotkey_without_pub_file() {
    let expected = Expected::load();
    let dir = tempfile::tempdir().expect("tempdir");
    let wallet = Wallet::new(dir.path(), "copy", "default").expect("names");
    fs::create_dir_all(wallet.hotkey_path().parent().expect("parent")).expect("mkdir");
    fs::copy(
        expected.wallet("default").hotkey_path(),
        wallet.hotkey_path(),
    )
    .expect("copy");
    assert_eq!(
        wallet.hotkey_public().expect("public").ss58(),
        expected.key("hotkey:default", "ss58")
    );
}
