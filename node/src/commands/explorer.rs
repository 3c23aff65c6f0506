//! `sn17 explorer run`: a gossip node that stores every validated message and serves the
//! explorer API and web page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use sn17_storage::db::{Store, StoreOptions};
use tokio_util::sync::CancellationToken;

use super::p2p::{start_node, P2pArgs};
use crate::cli::GlobalArgs;
use crate::explorer::{self, ExplorerState};

#[derive(Subcommand, Debug)]
pub enum ExplorerCommand {
    /// Subscribe to every topic, store what is valid, serve the API and the page.
    Run {
        #[command(flatten)]
        p2p: P2pArgs,
        /// HTTP address of the API and page.
        #[arg(long, env = "SN17_EXPLORER_HTTP", default_value = "127.0.0.1:9518")]
        http: SocketAddr,
        /// Database directory (default: <data dir>/db).
        #[arg(long, env = "SN17_DB")]
        db: Option<PathBuf>,
        /// Base URL of validators' renders, shown as thumbnails ("" for none).
        #[arg(
            long = "renders-url",
            env = "SN17_RENDERS_URL",
            default_value = "https://subnet404.xyz"
        )]
        renders_url: String,
    },
}

pub async fn run(g: &GlobalArgs, cmd: ExplorerCommand) -> anyhow::Result<()> {
    match cmd {
        ExplorerCommand::Run {
            mut p2p,
            http,
            db,
            renders_url,
        } => {
            let data = crate::datadir::DataDir::for_role(p2p.data_dir.as_deref(), "explorer");
            p2p.data_dir = Some(data.0.clone());
            let db = db.unwrap_or_else(|| data.db());
            let store = Store::open(&db, &StoreOptions::default())
                .with_context(|| format!("opening the database {}", db.display()))?;
            let shutdown = CancellationToken::new();
            let listener = tokio::net::TcpListener::bind(http)
                .await
                .with_context(|| format!("binding {http}"))?;
            let http_addr = listener.local_addr()?;
            let node = start_node(g, &p2p, Some(store.clone()), &shutdown).await?;
            let listen = node.handle.listen_addrs().await?;
            let ready = serde_json::json!({
                "http": format!("http://{http_addr}"),
                "peer_id": node.handle.peer_id().to_string(),
                "listen": listen.iter().map(ToString::to_string).collect::<Vec<_>>(),
            });
            if g.json {
                println!("{ready}");
            } else {
                println!(
                    "explorer on http://{http_addr}, peer {} listening on {}",
                    node.handle.peer_id(),
                    listen
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let state = Arc::new(ExplorerState {
                store,
                gossip: node.handle,
                metagraph: node.metagraph,
                renders_url: (!renders_url.is_empty()).then_some(renders_url),
            });
            let server = tokio::spawn(explorer::serve(listener, state, shutdown.clone()));
            tokio::select! {
                r = tokio::signal::ctrl_c() => { r?; }
                r = wait_term() => { r?; }
            }
            shutdown.cancel();
            server.await??;
            Ok(())
        }
    }
}

#[cfg(unix)]
async fn wait_term() -> std::io::Result<()> {
    let mut s = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    s.recv().await;
    Ok(())
}

#[cfg(not(unix))]
async fn wait_term() -> std::io::Result<()> {
    std::future::pending().await
}
