//! `sn17 chain …`: reads and writes on Subtensor.

use anyhow::Context as _;
use serde::Serialize;
use sn17_chain::commitments::{parse_404_commitment, Commitment404};
use sn17_chain::metagraph::{version_as_int, Source};
use sn17_chain::weights::{WeightsOptions, WeightsOutcome};
use sn17_chain::Account;

use crate::cli::{ChainCommand, GlobalArgs};
use crate::output;

/// The version this binary reports in serve_axon (major·1e6 + minor·1e3 + patch).
/// The wallet's hotkey account and its coldkey as a signer (registration and subnet creation).
fn owner_keys(g: &GlobalArgs) -> anyhow::Result<(Account, sn17_chain::PairSigner)> {
    let wallet = g.wallet()?;
    let hotkey = Account(
        wallet
            .hotkey_public()
            .context("reading the hotkey public key")?
            .into(),
    );
    Ok((hotkey, super::coldkey_signer(&wallet)?))
}

fn own_version() -> u32 {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    version_as_int(a, b, c)
}

pub async fn run(g: &GlobalArgs, cmd: ChainCommand) -> anyhow::Result<()> {
    let netuid = g.netuid;
    match cmd {
        ChainCommand::Info => info(g).await,
        ChainCommand::Metagraph { source } => {
            let source: Source = source.parse()?;
            let client = g.connect().await?;
            let mg = client.metagraph(netuid, source).await?;
            if g.json {
                return output::json(&mg);
            }
            let rows: Vec<Vec<String>> = mg
                .neurons
                .iter()
                .map(|n| {
                    vec![
                        n.uid.to_string(),
                        n.hotkey.ss58(),
                        n.coldkey.ss58(),
                        format!("{:.4}", n.stake as f64 / 1e9),
                        u8::from(n.active).to_string(),
                        u8::from(n.validator_permit).to_string(),
                        n.incentive.to_string(),
                        n.dividends.to_string(),
                        n.emission.to_string(),
                        n.last_update.to_string(),
                        n.axon
                            .as_ref()
                            .and_then(|a| a.ip_addr().map(|ip| format!("{ip}:{}", a.port)))
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            println!(
                "subnet {netuid} at block {} ({} neurons, from {:?})",
                mg.block,
                mg.neurons.len(),
                mg.source
            );
            print!(
                "{}",
                output::table(
                    &[
                        "UID",
                        "HOTKEY",
                        "COLDKEY",
                        "STAKE",
                        "ACT",
                        "VP",
                        "INCENTIVE",
                        "DIVIDENDS",
                        "EMISSION",
                        "UPDATED",
                        "AXON"
                    ],
                    &rows
                )
            );
            Ok(())
        }
        ChainCommand::Register { max_price } => {
            let (hotkey, coldkey) = owner_keys(g)?;
            let client = g.connect().await?;
            let limit = max_price.map(|tao| (tao * 1e9).round() as u64);
            let outcome = client
                .burned_register(netuid, &coldkey, &hotkey, limit)
                .await?;
            if g.json {
                output::json(&outcome)
            } else {
                match &outcome {
                    sn17_chain::registration::Registered::Already { uid } => {
                        println!("{hotkey} is already registered on subnet {netuid} as uid {uid}")
                    }
                    sn17_chain::registration::Registered::New { uid, burn, .. } => println!(
                        "registered {hotkey} on subnet {netuid} as uid {uid} (burned {:.9} TAO)",
                        *burn as f64 / 1e9
                    ),
                }
                Ok(())
            }
        }
        ChainCommand::CreateSubnet => {
            let (hotkey, coldkey) = owner_keys(g)?;
            let client = g.connect().await?;
            let (created, included) = client.create_subnet(&coldkey, &hotkey).await?;
            if g.json {
                output::json(&serde_json::json!({ "netuid": created, "included": included }))
            } else {
                println!("created subnet {created}; its owner hotkey is {hotkey}");
                Ok(())
            }
        }
        ChainCommand::Serve { ip, port } => {
            let wallet = g.wallet()?;
            let client = g.connect().await?;
            let hotkey = super::hotkey_signer(&wallet)?;
            let included = client
                .serve_axon(netuid, &hotkey, ip, port, own_version())
                .await?;
            if g.json {
                output::json(&included)
            } else {
                println!(
                    "serving {ip}:{port} for {} on subnet {netuid}",
                    hotkey.account()
                );
                Ok(())
            }
        }
        ChainCommand::Commit {
            repo,
            commit,
            cdn_url,
            reveal_blocks,
        } => {
            let c = Commitment404 {
                repo,
                commit,
                cdn_url,
            };
            validate_commitment(&c)?;
            let text = c.to_json();
            let wallet = g.wallet()?;
            let client = g.connect().await?;
            let hotkey = super::hotkey_signer(&wallet)?;
            #[derive(Serialize)]
            struct Committed {
                text: String,
                reveal_round: Option<u64>,
                included: sn17_chain::Included,
            }
            let out = match reveal_blocks {
                Some(blocks) => {
                    let (included, round) = client
                        .set_reveal_commitment(netuid, &hotkey, &text, blocks)
                        .await?;
                    Committed {
                        text,
                        reveal_round: Some(round),
                        included,
                    }
                }
                None => {
                    let included = client.set_commitment_text(netuid, &hotkey, &text).await?;
                    Committed {
                        text,
                        reveal_round: None,
                        included,
                    }
                }
            };
            if g.json {
                output::json(&out)
            } else {
                match out.reveal_round {
                    Some(r) => println!("committed (timelocked to drand round {r}): {}", out.text),
                    None => println!("committed: {}", out.text),
                }
                Ok(())
            }
        }
        ChainCommand::Commitments { revealed } => commitments(g, revealed).await,
        ChainCommand::SetWeights {
            weights,
            version_key,
        } => {
            let pairs = parse_weights(&weights)?;
            let wallet = g.wallet()?;
            let client = g.connect().await?;
            let hotkey = super::hotkey_signer(&wallet)?;
            let outcome = client
                .set_weights(
                    netuid,
                    &hotkey,
                    &pairs,
                    &WeightsOptions {
                        version_key,
                        block_time_secs: None,
                    },
                )
                .await?;
            if g.json {
                return output::json(&outcome);
            }
            match outcome {
                WeightsOutcome::Set { uids, values, .. } => println!("weights set: uids {uids:?} values {values:?}"),
                WeightsOutcome::Committed {
                    uids,
                    values,
                    reveal_round,
                    reveal_epoch,
                    ..
                } => println!(
                    "weights committed (commit-reveal v3): uids {uids:?} values {values:?}; revealed in epoch {reveal_epoch} with drand round {reveal_round}"
                ),
            }
            Ok(())
        }
    }
}

async fn info(g: &GlobalArgs) -> anyhow::Result<()> {
    let client = g.connect().await?;
    let head = client.head().await?;
    let hp = client.hyperparams(g.netuid, head).await;
    #[derive(Serialize)]
    struct Info {
        endpoint: String,
        spec_name: String,
        spec_version: u32,
        transaction_version: u32,
        genesis: String,
        block: u64,
        hyperparams: Option<sn17_chain::Hyperparams>,
        hyperparams_error: Option<String>,
    }
    let rt = client.runtime();
    let (hyperparams, hyperparams_error) = match hp {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let info = Info {
        endpoint: client.rpc().url().to_string(),
        spec_name: rt.version.spec_name.clone(),
        spec_version: rt.version.spec_version,
        transaction_version: rt.version.transaction_version,
        genesis: format!("0x{}", hex::encode(rt.genesis)),
        block: head.number,
        hyperparams,
        hyperparams_error,
    };
    if g.json {
        return output::json(&info);
    }
    println!("endpoint      {}", info.endpoint);
    println!(
        "runtime       {} spec {} (tx {})",
        info.spec_name, info.spec_version, info.transaction_version
    );
    println!("genesis       {}", info.genesis);
    println!("block         {}", info.block);
    match (&info.hyperparams, &info.hyperparams_error) {
        (Some(h), _) => {
            println!("subnet        {}", h.netuid);
            println!("tempo         {}", h.tempo);
            println!("weights rate  {} blocks", h.weights_rate_limit);
            println!("version key   {}", h.weights_version_key);
            println!(
                "commit-reveal {} (reveal period {} epochs, version {})",
                h.commit_reveal_enabled, h.reveal_period_epochs, h.commit_reveal_version
            );
            println!("burn          {:.9} TAO", h.burn as f64 / 1e9);
            if !h.missing.is_empty() {
                println!("not in this runtime: {}", h.missing.join(", "));
            }
        }
        (None, Some(e)) => println!("subnet {}: {e}", g.netuid),
        _ => {}
    }
    Ok(())
}

async fn commitments(g: &GlobalArgs, revealed: bool) -> anyhow::Result<()> {
    let client = g.connect().await?;
    let head = client.head().await?;
    if revealed {
        let list = client.revealed_commitments(g.netuid, head).await?;
        #[derive(Serialize)]
        struct Row<'a> {
            hotkey: String,
            block: u64,
            text: &'a str,
            parsed: Option<Commitment404>,
        }
        let rows: Vec<Row> = list
            .iter()
            .flat_map(|r| {
                r.entries.iter().map(move |e| Row {
                    hotkey: r.hotkey.ss58(),
                    block: e.block,
                    text: &e.text,
                    parsed: parse_404_commitment(&e.text).ok(),
                })
            })
            .collect();
        if g.json {
            return output::json(&rows);
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|r| vec![r.hotkey.clone(), r.block.to_string(), r.text.to_string()])
            .collect();
        print!(
            "{}",
            output::table(&["HOTKEY", "REVEALED AT", "TEXT"], &table)
        );
        return Ok(());
    }
    let list = client.commitments(g.netuid, head).await?;
    #[derive(Serialize)]
    struct Row {
        hotkey: String,
        block: u32,
        fields: Vec<sn17_chain::commitments::Data>,
        parsed: Option<Commitment404>,
    }
    let rows: Vec<Row> = list
        .into_iter()
        .map(|r| {
            let parsed = r
                .fields
                .iter()
                .find_map(|f| f.as_text())
                .and_then(|t| parse_404_commitment(t).ok());
            Row {
                hotkey: r.hotkey.ss58(),
                block: r.block,
                fields: r.fields,
                parsed,
            }
        })
        .collect();
    if g.json {
        return output::json(&rows);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let shown = r
                .fields
                .iter()
                .map(|f| match f {
                    sn17_chain::commitments::Data::TimelockEncrypted { reveal_round, .. } => {
                        format!("<timelocked until drand round {reveal_round}>")
                    }
                    other => other
                        .as_text()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{other:?}")),
                })
                .collect::<Vec<_>>()
                .join(" | ");
            vec![r.hotkey.clone(), r.block.to_string(), shown]
        })
        .collect();
    print!("{}", output::table(&["HOTKEY", "BLOCK", "FIELDS"], &table));
    Ok(())
}

/// Checks a commitment as 404's collector will (repo without dots, 40-char lowercase hex sha,
/// http(s) CDN URL), so a miner does not burn a commitment slot on something that gets dropped.
fn validate_commitment(c: &Commitment404) -> anyhow::Result<()> {
    if c.repo.is_none() && c.commit.is_none() && c.cdn_url.is_none() {
        anyhow::bail!("give at least one of --repo, --commit, --cdn-url");
    }
    if let Some(repo) = &c.repo {
        let ok = repo.split_once('/').is_some_and(|(o, n)| {
            let word = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '-')
            };
            word(o) && word(n)
        });
        if !ok {
            anyhow::bail!(
                "--repo must be OWNER/NAME with letters, digits, '_' or '-' (no dots): {repo:?}"
            );
        }
    }
    if let Some(sha) = &c.commit {
        if sha.len() != 40
            || !sha
                .chars()
                .all(|ch| ch.is_ascii_digit() || ('a'..='f').contains(&ch))
        {
            anyhow::bail!("--commit must be a 40-character lowercase hex git sha: {sha:?}");
        }
    }
    if let Some(url) = &c.cdn_url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.split('/').next().is_none_or(str::is_empty)) {
            anyhow::bail!("--cdn-url must be an http(s) URL with a host: {url:?}");
        }
    }
    Ok(())
}

fn parse_weights(items: &[String]) -> anyhow::Result<Vec<(u16, f64)>> {
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|item| {
            let (uid, w) = item
                .split_once('=')
                .with_context(|| format!("weight {item:?} is not UID=WEIGHT"))?;
            let uid: u16 = uid
                .trim()
                .parse()
                .with_context(|| format!("bad uid in {item:?}"))?;
            let w: f64 = w
                .trim()
                .parse()
                .with_context(|| format!("bad weight in {item:?}"))?;
            Ok((uid, w))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_commitments_are_validated() {
        assert_eq!(
            parse_weights(&["0=1".into(), "3=0.5".into()]).ok(),
            Some(vec![(0, 1.0), (3, 0.5)])
        );
        assert!(parse_weights(&["x=1".into()]).is_err());
        assert!(parse_weights(&["1".into()]).is_err());
        let ok = Commitment404 {
            repo: Some("o-1/n_2".into()),
            commit: Some("a".repeat(40)),
            cdn_url: Some("https://cdn.example".into()),
        };
        assert!(validate_commitment(&ok).is_ok());
        for bad in [
            Commitment404 {
                repo: Some("o/n.x".into()),
                ..Default::default()
            },
            Commitment404 {
                commit: Some("A".repeat(40)),
                ..Default::default()
            },
            Commitment404 {
                cdn_url: Some("ftp://x".into()),
                ..Default::default()
            },
            Commitment404::default(),
        ] {
            assert!(validate_commitment(&bad).is_err(), "{bad:?}");
        }
    }
}
