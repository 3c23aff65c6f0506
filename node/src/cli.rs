//! Command-line interface: btcli-style global flags, then one subcommand per capability.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "sn17",
    version,
    about = "Bittensor subnet 17 (404-GEN) node: validator, miner and explorer"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command, spelled as btcli spells them.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// finney, test, local, or a ws:// / wss:// URL.
    #[arg(
        long = "network",
        visible_alias = "subtensor.network",
        global = true,
        env = "SN17_NETWORK"
    )]
    pub network: Option<String>,
    /// Endpoint URL; wins over --network.
    #[arg(
        long = "subtensor.chain_endpoint",
        visible_alias = "chain-endpoint",
        global = true,
        env = "SN17_CHAIN_ENDPOINT"
    )]
    pub chain_endpoint: Option<String>,
    /// Configuration file (TOML; default ~/.config/sn17/config.toml when it exists).
    #[arg(long, global = true, env = "SN17_CONFIG")]
    pub config: Option<PathBuf>,
    /// Subnet id.
    #[arg(long, global = true, default_value_t = 17, env = "SN17_NETUID")]
    pub netuid: u16,
    /// Wallet root directory.
    #[arg(
        long = "wallet.path",
        visible_alias = "wallet-path",
        global = true,
        env = "SN17_WALLET_PATH"
    )]
    pub wallet_path: Option<PathBuf>,
    /// Wallet (coldkey) name.
    #[arg(
        long = "wallet.name",
        visible_alias = "wallet-name",
        global = true,
        default_value = "default",
        env = "SN17_WALLET_NAME"
    )]
    pub wallet_name: String,
    /// Hotkey name.
    #[arg(
        long = "wallet.hotkey",
        visible_alias = "wallet-hotkey",
        global = true,
        default_value = "default",
        env = "SN17_WALLET_HOTKEY"
    )]
    pub wallet_hotkey: String,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Do not keep runtime metadata in the on-disk cache.
    #[arg(long, global = true)]
    pub no_metadata_cache: bool,
    /// More logging (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// btcli-compatible wallets.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Read and write the Subtensor chain.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Check a runtime's metadata against the interface sn17 relies on.
    #[command(subcommand)]
    Metadata(MetadataCommand),
    /// The configuration file: `init` writes a commented default.
    #[command(subcommand)]
    Config(crate::commands::config::ConfigCommand),
    /// A whole competition round on one machine: chopsticks chain, validator, demo miners.
    Devnet(crate::devnet::DevnetArgs),
    /// The validator role: rounds, judging, audits, weights.
    #[command(subcommand)]
    Validator(ValidatorCommand),
    /// The miner role: commitments, generation, CDN, manifests; the pod API.
    #[command(subcommand)]
    Miner(crate::miner::MinerCommand),
    /// Judge duels with 404's multi-stage VLM judge; DINOv3 embeddings.
    #[command(subcommand)]
    Judge(crate::commands::judge::JudgeCommand),
    /// The 404-compatible competition: prompts, replay, submissions, weights, downloads, rounds.
    #[command(subcommand)]
    Competition(crate::commands::competition::CompetitionCommand),
    /// The node's database.
    #[command(subcommand)]
    Db(crate::commands::db::DbCommand),
    /// Render 3D assets (PLY, SPZ, GLB) to view_NNN.png and grid.png as validators do.
    Render(crate::commands::render::RenderArgs),
    /// Report an asset's format, counts, SH degree, bounds, textures and broken limits.
    Inspect(crate::commands::render::InspectArgs),
    /// The p2p identity and peers of the gossip network.
    #[command(subcommand)]
    P2p(crate::commands::p2p::P2pCommand),
    /// Gossip of round seeds, submission manifests, results and leader changes.
    #[command(subcommand)]
    Gossip(crate::commands::gossip::GossipCommand),
    /// The explorer: stores gossip, serves a JSON API and a web page.
    #[command(subcommand)]
    Explorer(crate::commands::explorer::ExplorerCommand),
}

#[derive(Subcommand, Debug)]
pub enum ValidatorCommand {
    /// Follow the chain and run the competition until stopped (SIGINT/SIGTERM).
    Run(Box<crate::validator::ValidatorArgs>),
    /// Benchmark the validator's own work (downloads, renders) on a synthetic round.
    Bench {
        #[arg(long, default_value_t = 64)]
        miners: usize,
        #[arg(long, default_value_t = 32)]
        prompts: usize,
        /// Side of the judge views (the judge rig uses 1024).
        #[arg(long = "view-size", default_value_t = 1024)]
        view_size: u32,
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Working directory (a fresh one under the system temp dir by default).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// Skip the timeline with the offline judge (it stands in for model latency).
        #[arg(long = "no-judge")]
        no_judge: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Show the wallet's coldkey and hotkey addresses (no password needed).
    Show,
    /// Create a new coldkey and hotkey that btcli can read.
    Create {
        /// Write the coldkey unencrypted (not recommended).
        #[arg(long)]
        no_password: bool,
        /// Replace existing key files.
        #[arg(long)]
        overwrite: bool,
        /// Only create a new hotkey under an existing wallet.
        #[arg(long)]
        hotkey_only: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Runtime version, head and the subnet's hyperparameters.
    Info,
    /// The subnet's neurons.
    Metagraph {
        /// auto, storage or runtime-api.
        #[arg(long, default_value = "auto")]
        source: String,
    },
    /// Register the hotkey by burning TAO from the coldkey.
    Register {
        /// Refuse to pay more than this many TAO.
        #[arg(long)]
        max_price: Option<f64>,
    },
    /// Create a subnet owned by the coldkey, with the hotkey as its first neuron
    /// (`register_network`; local chains and subnet owners). Prints the new netuid.
    CreateSubnet,
    /// Publish the hotkey's axon endpoint.
    Serve {
        #[arg(long)]
        ip: std::net::IpAddr,
        #[arg(long)]
        port: u16,
    },
    /// Publish a 404 submission commitment ({"commit": sha} and/or {"repo", "cdn_url"}).
    Commit {
        /// owner/name of the miner's repository.
        #[arg(long)]
        repo: Option<String>,
        /// 40-character git commit sha.
        #[arg(long)]
        commit: Option<String>,
        /// Base URL of the miner's CDN.
        #[arg(long)]
        cdn_url: Option<String>,
        /// Timelock the commitment so the chain reveals it after about this many blocks.
        #[arg(long)]
        reveal_blocks: Option<u64>,
    },
    /// List the subnet's commitments (latest per hotkey, or all revealed ones).
    Commitments {
        #[arg(long)]
        revealed: bool,
    },
    /// Set weights (commit-reveal v3 when the subnet has it on).
    SetWeights {
        /// UID=WEIGHT pairs, comma separated.
        #[arg(long, value_delimiter = ',')]
        weights: Vec<String>,
        /// Version key; defaults to the subnet's WeightsVersionKey.
        #[arg(long)]
        version_key: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum MetadataCommand {
    /// Report, per item, ok / missing / changed.
    Check {
        /// Fetch from this node instead of reading a file.
        #[arg(long)]
        url: Option<String>,
        /// A SCALE metadata file.
        file: Option<PathBuf>,
    },
    /// Save a live node's metadata to a file.
    Fetch {
        #[arg(long)]
        url: String,
        #[arg(long)]
        out: PathBuf,
    },
}
