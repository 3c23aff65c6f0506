//! `sn17 wallet show|create`.

use anyhow::Context as _;
use serde::Serialize;
use sn17_chain::wallet::CreateOptions;
use zeroize::Zeroizing;

use crate::cli::{GlobalArgs, WalletCommand};
use crate::output;

#[derive(Serialize)]
struct Shown {
    name: String,
    path: String,
    coldkey: Option<String>,
    hotkey_name: String,
    hotkey: Option<String>,
}

pub fn run(g: &GlobalArgs, cmd: WalletCommand) -> anyhow::Result<()> {
    let wallet = g.wallet()?;
    match cmd {
        WalletCommand::Show => {
            let shown = Shown {
                name: wallet.name().to_string(),
                path: wallet.dir().display().to_string(),
                coldkey: wallet.coldkeypub().ok().map(|k| k.ss58()),
                hotkey_name: wallet.hotkey_name().to_string(),
                hotkey: wallet.hotkey_public().ok().map(|k| k.ss58()),
            };
            if shown.coldkey.is_none() && shown.hotkey.is_none() {
                anyhow::bail!("no wallet at {}", shown.path);
            }
            if g.json {
                output::json(&shown)?;
            } else {
                println!("wallet   {} ({})", shown.name, shown.path);
                println!("coldkey  {}", shown.coldkey.as_deref().unwrap_or("-"));
                println!(
                    "hotkey   {} {}",
                    shown.hotkey_name,
                    shown.hotkey.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        WalletCommand::Create {
            no_password,
            overwrite,
            hotkey_only,
        } => {
            if hotkey_only {
                let hotkey = wallet
                    .create_hotkey(overwrite)
                    .context("creating the hotkey")?;
                report_created(g, None, &hotkey)?;
                return Ok(());
            }
            let password = if no_password {
                None
            } else {
                Some(Zeroizing::new(new_password()?))
            };
            let created = wallet
                .create(&CreateOptions {
                    coldkey_password: password,
                    overwrite,
                })
                .context("creating the wallet")?;
            report_created(g, Some(&created.coldkey), &created.hotkey)
        }
    }
}

fn report_created(
    g: &GlobalArgs,
    coldkey: Option<&sn17_chain::wallet::Keypair>,
    hotkey: &sn17_chain::wallet::Keypair,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Created<'a> {
        coldkey: Option<String>,
        hotkey: String,
        coldkey_mnemonic: Option<&'a str>,
        hotkey_mnemonic: Option<&'a str>,
    }
    let out = Created {
        coldkey: coldkey.map(|k| k.ss58()),
        hotkey: hotkey.ss58(),
        coldkey_mnemonic: coldkey.and_then(|k| k.secret_phrase()),
        hotkey_mnemonic: hotkey.secret_phrase(),
    };
    // The mnemonics go to the terminal once, for the user to write down; they are never logged.
    if g.json {
        output::json(&out)
    } else {
        if let Some(c) = &out.coldkey {
            println!("coldkey  {c}");
        }
        println!("hotkey   {}", out.hotkey);
        if let Some(m) = out.coldkey_mnemonic {
            println!("\nColdkey mnemonic (write it down; it recovers the coldkey):\n  {m}");
        }
        if let Some(m) = out.hotkey_mnemonic {
            println!("Hotkey mnemonic:\n  {m}");
        }
        Ok(())
    }
}

/// A new coldkey password: from SN17_WALLET_PASSWORD, else asked twice on the terminal.
fn new_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(sn17_chain::wallet::PASSWORD_ENV_VAR) {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    let first =
        rpassword::prompt_password("New coldkey password: ").context("reading the password")?;
    let second =
        rpassword::prompt_password("Repeat the password: ").context("reading the password")?;
    if first != second {
        anyhow::bail!("the passwords differ");
    }
    if first.is_empty() {
        anyhow::bail!("empty password; use --no-password to write an unencrypted coldkey");
    }
    Ok(first)
}
