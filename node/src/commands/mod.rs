//! Command dispatch and the shared context (chain connection, wallet, passwords).

mod chain;
pub mod competition;
pub mod config;
pub mod db;
mod devnet;
pub mod explorer;
pub mod gossip;
pub mod judge;
mod metadata;
pub mod p2p;
pub mod render;
mod wallet;

use anyhow::Context as _;
use sn17_chain::wallet::{PasswordSource, Wallet};
use sn17_chain::{ConnectOptions, Subtensor};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::output;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Wallet(cmd) => wallet::run(g, cmd),
        Command::Chain(cmd) => chain::run(g, cmd).await,
        Command::Metadata(cmd) => metadata::run(g, cmd).await,
        Command::Config(cmd) => config::run(g, cmd),
        Command::Devnet(args) => devnet::run(g, args).await,
        Command::Validator(crate::cli::ValidatorCommand::Run(args)) => {
            crate::validator::run(g, *args).await
        }
        Command::Validator(crate::cli::ValidatorCommand::Bench {
            miners,
            prompts,
            view_size,
            backend,
            dir,
            no_judge,
        }) => {
            let backend = backend
                .parse()
                .map_err(|e| anyhow::anyhow!("--backend: {e}"))?;
            let report =
                crate::validator::bench::run(miners, prompts, view_size, backend, dir, !no_judge)
                    .await?;
            output::json(&report)
        }
        Command::Miner(cmd) => crate::miner::run(g, cmd).await,
        Command::Judge(cmd) => judge::run(g, cmd).await,
        Command::Competition(cmd) => competition::run(g, cmd).await,
        Command::Db(cmd) => db::run(g, cmd).await,
        Command::Render(args) => render::run_render(g, args).await,
        Command::Inspect(args) => render::run_inspect(g, args),
        Command::P2p(cmd) => p2p::run(g, cmd).await,
        Command::Gossip(cmd) => gossip::run(g, cmd).await,
        Command::Explorer(cmd) => explorer::run(g, cmd).await,
    }
}

impl GlobalArgs {
    pub fn endpoint(&self) -> anyhow::Result<String> {
        Ok(sn17_chain::resolve_endpoint(
            self.network.as_deref(),
            self.chain_endpoint.as_deref(),
        )?)
    }

    pub async fn connect(&self) -> anyhow::Result<Subtensor> {
        let url = self.endpoint()?;
        let mut opts = ConnectOptions::with_default_cache();
        if self.no_metadata_cache {
            opts.metadata_cache = None;
        }
        Subtensor::connect(&url, &opts)
            .await
            .with_context(|| format!("connecting to {url}"))
    }

    pub fn wallet(&self) -> anyhow::Result<Wallet> {
        let wallet = match &self.wallet_path {
            Some(root) => Wallet::new(root, &self.wallet_name, &self.wallet_hotkey)?,
            None => Wallet::in_default_root(&self.wallet_name, &self.wallet_hotkey)?,
        };
        Ok(wallet)
    }
}

/// Passwords come from the environment (SN17_WALLET_PASSWORD or btcli's BT_PW_* variable), else
/// a terminal prompt; never from a flag, so they stay out of shell history and `ps`.
pub fn password_source() -> PasswordSource<'static> {
    PasswordSource::environment().with_prompt(|path| {
        rpassword::prompt_password(format!("Password for {}: ", path.display()))
    })
}

/// The wallet's coldkey as a transaction signer.
pub fn coldkey_signer(wallet: &Wallet) -> anyhow::Result<sn17_chain::PairSigner> {
    let key = wallet
        .coldkey(&password_source())
        .context("loading the coldkey")?;
    Ok(sn17_chain::PairSigner::new(key.as_pair().clone()))
}

/// The wallet's hotkey as a transaction signer.
pub fn hotkey_signer(wallet: &Wallet) -> anyhow::Result<sn17_chain::PairSigner> {
    let key = wallet
        .hotkey(&password_source())
        .context("loading the hotkey")?;
    Ok(sn17_chain::PairSigner::new(key.as_pair().clone()))
}
