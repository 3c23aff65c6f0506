//! `sn17`: one binary for Bittensor subnet 17 (404-GEN) validators, miners and explorers.

mod cli;
mod commands;
mod config;
mod datadir;
mod devnet;
mod engine;
mod miner;
mod output;
mod pod;
mod static_server;
mod validator;

// Gossip and explorer live in the library target (src/lib.rs); `crate::gossip` works here too.
use sn17_node::{explorer, gossip};

use clap::Parser;

fn main() -> std::process::ExitCode {
    // The configuration file's settings become SN17_* variables before clap reads them.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(path) = config::locate(&args) {
        match config::load(&path) {
            Ok(pairs) => config::apply(&pairs),
            Err(e) => {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let cli = cli::Cli::parse();
    // Long-running roles log JSON lines when their stderr is a file or a pipe (supervisors, log
    // shippers); everything logs plain text on a terminal.
    let role = matches!(
        cli.command,
        cli::Command::Validator(cli::ValidatorCommand::Run(_))
            | cli::Command::Miner(miner::MinerCommand::Run(_))
            | cli::Command::Explorer(_)
    );
    init_tracing(cli.global.verbose, role);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbose: u8, role: bool) {
    use std::io::IsTerminal as _;
    let default = match verbose {
        0 => "warn",
        1 => "info,sn17=info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SN17_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal);
    let _ = if role && !terminal {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
