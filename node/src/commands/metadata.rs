//! `sn17 metadata check|fetch`.

use anyhow::Context as _;
use sn17_metadata::{decode_metadata_full, render_table};

use crate::cli::{GlobalArgs, MetadataCommand};
use crate::output;

pub async fn run(g: &GlobalArgs, cmd: MetadataCommand) -> anyhow::Result<()> {
    match cmd {
        MetadataCommand::Fetch { url, out } => {
            let rpc = sn17_chain::rpc::Rpc::connect(&url, &Default::default()).await?;
            let bytes = sn17_chain::metadata_cache::fetch(&rpc, None).await?;
            // Check it decodes before writing, so a broken reply never lands in a file.
            let decoded =
                decode_metadata_full(&bytes).context("the node's metadata does not decode")?;
            let tmp = out.with_extension("partial");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &out).with_context(|| format!("writing {}", out.display()))?;
            if g.json {
                return output::json(&serde_json::json!({
                    "url": url,
                    "out": out.display().to_string(),
                    "bytes": bytes.len(),
                    "metadata_version": decoded.version,
                    "spec": decoded.spec,
                }));
            }
            println!(
                "saved {} bytes of metadata to {}",
                bytes.len(),
                out.display()
            );
            Ok(())
        }
        MetadataCommand::Check { url, file } => {
            let (source, bytes) = match (url, file) {
                (Some(url), None) => {
                    let rpc = sn17_chain::rpc::Rpc::connect(&url, &Default::default()).await?;
                    (url, sn17_chain::metadata_cache::fetch(&rpc, None).await?)
                }
                (None, Some(file)) => {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    (file.display().to_string(), bytes)
                }
                _ => anyhow::bail!("give either --url URL or a metadata FILE"),
            };
            let decoded = decode_metadata_full(&bytes)
                .with_context(|| format!("decoding metadata from {source}"))?;
            let report = decoded.check();
            if g.json {
                output::json(&report)?;
            } else {
                println!("metadata from {source}");
                print!("{}", render_table(&report));
            }
            if !report.is_compatible() {
                anyhow::bail!(
                    "this runtime lacks items sn17 requires: {}",
                    report.summary.required_failures.join(", ")
                );
            }
            Ok(())
        }
    }
}
