//! `sn17 config init|path`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::cli::GlobalArgs;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Write a commented default configuration file.
    Init {
        /// Where (default ~/.config/sn17/config.toml).
        #[arg(long)]
        path: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the configuration file in use, if any.
    Path,
}

pub fn run(g: &GlobalArgs, cmd: ConfigCommand) -> anyhow::Result<()> {
    match cmd {
        ConfigCommand::Init { path, force } => {
            let path = path
                .or_else(crate::config::default_path)
                .context("no config directory on this system: pass --path")?;
            anyhow::ensure!(
                force || !path.exists(),
                "{} exists (--force replaces it)",
                path.display()
            );
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, crate::config::template())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
            Ok(())
        }
        ConfigCommand::Path => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            match g.config.clone().or_else(|| crate::config::locate(&args)) {
                Some(p) => println!("{}", p.display()),
                None => println!(
                    "none (default location: {})",
                    crate::config::default_path()
                        .map_or("unknown".into(), |p| p.display().to_string())
                ),
            }
            Ok(())
        }
    }
}
