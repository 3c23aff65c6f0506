//! `sn17 metadata check|fetch`.

use anyhow::Context as _;

use crate::cli::{GlobalArgs, MetadataCommand};

pub async fn run(_g: &GlobalArgs, cmd: MetadataCommand) -> anyhow::Result<()> {
    match cmd {
        MetadataCommand::Fetch { url, out } => {
            let rpc = sn17_chain::rpc::Rpc::connect(&url, &Default::default()).await?;
            let bytes = sn17_chain::metadata_cache::fetch(&rpc, None).await?;
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!("saved {} bytes of metadata to {}", bytes.len(), out.display());
            Ok(())
        }
        MetadataCommand::Check { .. } => anyhow::bail!("not yet wired"),
    }
}
