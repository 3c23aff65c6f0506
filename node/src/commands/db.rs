//! `sn17 db …`: the node's RocksDB database.

use std::path::PathBuf;

use clap::Subcommand;
use sn17_storage::db::Store;

use crate::cli::GlobalArgs;
use crate::output;

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Schema version, size on disk, and keys and bytes per column family.
    Stats {
        /// Database directory.
        #[arg(long, env = "SN17_DB")]
        db: Option<PathBuf>,
    },
}

/// `$SN17_DB`, else `<data dir>/sn17/db`.
pub fn default_db_path() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("sn17")
        .join("db")
}

pub async fn run(g: &GlobalArgs, cmd: DbCommand) -> anyhow::Result<()> {
    match cmd {
        DbCommand::Stats { db } => {
            let path = db.unwrap_or_else(default_db_path);
            let store = Store::open_read_only(&path)?;
            let stats = store.stats()?;
            if g.json {
                return output::json(&stats);
            }
            println!(
                "database {} (schema v{}, {:.1} MiB on disk)",
                path.display(),
                stats.schema_version,
                stats.disk_bytes as f64 / 1048576.0
            );
            let rows: Vec<Vec<String>> = stats
                .columns
                .iter()
                .map(|c| {
                    vec![
                        c.column.to_string(),
                        c.keys.to_string(),
                        c.bytes.to_string(),
                    ]
                })
                .collect();
            print!("{}", output::table(&["COLUMN", "KEYS", "BYTES"], &rows));
            Ok(())
        }
    }
}
