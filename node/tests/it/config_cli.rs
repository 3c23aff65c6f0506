//! The configuration file through the binary: `config init` writes a file the node reads back,
//! its settings apply to every command, and flags and the environment win over it.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sn17");

fn sn17() -> Command {
    let mut c = Command::new(BIN);
    for v in [
        "SN17_CONFIG",
        "SN17_WALLET_PATH",
        "SN17_WALLET_NAME",
        "SN17_WALLET_HOTKEY",
        "SN17_NETUID",
    ] {
        c.env_remove(v);
    }
    c
}

#[test]
fn settings_apply_and_flags_and_environment_win() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("conf/config.toml");
    let init = sn17()
        .args(["config", "init", "--path"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let template = std::fs::read_to_string(&file).expect("written");
    assert!(template.contains("SN17_WALLET_NAME"));
    // A second init refuses to overwrite.
    let again = sn17()
        .args(["config", "init", "--path"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!again.status.success());

    let wallets = dir.path().join("wallets");
    std::fs::write(
        &file,
        format!(
            "{template}\n[wallet]\npath = \"{}\"\nname = \"fromfile\"\n",
            wallets.display()
        ),
    )
    .expect("edit");
    // Duplicate [wallet] tables are invalid TOML: the error names the file.
    let bad = sn17()
        .arg("--config")
        .arg(&file)
        .args(["wallet", "show"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("config.toml"));

    std::fs::write(
        &file,
        format!(
            "[wallet]\npath = \"{}\"\nname = \"fromfile\"\n",
            wallets.display()
        ),
    )
    .expect("write");
    let made = sn17()
        .arg("--config")
        .arg(&file)
        .args(["wallet", "create", "--no-password"])
        .output()
        .expect("run");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(wallets.join("fromfile/coldkeypub.txt").is_file());

    // A flag wins over the file; so does the environment.
    let flag = sn17()
        .arg("--config")
        .arg(&file)
        .args([
            "--wallet.name",
            "fromflag",
            "wallet",
            "create",
            "--no-password",
        ])
        .output()
        .expect("run");
    assert!(
        flag.status.success(),
        "{}",
        String::from_utf8_lossy(&flag.stderr)
    );
    assert!(wallets.join("fromflag/coldkeypub.txt").is_file());
    let env = sn17()
        .env("SN17_CONFIG", &file)
        .env("SN17_WALLET_NAME", "fromenv")
        .args(["wallet", "create", "--no-password"])
        .output()
        .expect("run");
    assert!(
        env.status.success(),
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );
    assert!(wallets.join("fromenv/coldkeypub.txt").is_file());

    // Unknown settings are refused by name.
    std::fs::write(&file, "netuidd = 3\n").expect("write");
    let unknown = sn17()
        .arg("--config")
        .arg(&file)
        .args(["wallet", "show"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("netuidd"));
}
