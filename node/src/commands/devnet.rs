//! `sn17 devnet`: runs the devnet and prints its summary.

use crate::cli::GlobalArgs;
use crate::devnet::{DevnetArgs, Summary};
use crate::output;

pub async fn run(g: &GlobalArgs, args: DevnetArgs) -> anyhow::Result<()> {
    let summary = crate::devnet::run(args).await?;
    if g.json {
        return output::json(&summary);
    }
    print_summary(&summary);
    Ok(())
}

fn print_summary(s: &Summary) {
    println!(
        "sn17 devnet: {} round(s) on subnet {} at {}",
        s.rounds, s.netuid, s.chain
    );
    match (&s.winner, s.winner_uid) {
        (Some(w), Some(uid)) => println!("winner:        {w} (uid {uid})"),
        (Some(w), None) => println!("winner:        {w} (not registered)"),
        _ => println!("winner:        none"),
    }
    for (left, right, margin) in &s.matches {
        println!("match:         {left} vs {right}: margin {margin:+.3}");
    }
    for (hk, outcomes) in &s.downloads {
        let parts: Vec<String> = outcomes.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        println!("downloads:     {hk}: {}", parts.join(", "));
    }
    for r in &s.rejected {
        println!("rejected:      {r}");
    }
    println!("weights (chain): {:?}", s.weights_on_chain);
    println!(
        "explorer:      {} (rounds seen: {})",
        s.explorer_url, s.explorer_rounds
    );
    println!(
        "state repo:    {} (pushed to {})",
        s.state_repo.display(),
        s.remote.display()
    );
    for (stage, secs) in &s.stage_seconds {
        println!("  {secs:>7.1} s  {stage}");
    }
    println!("total:         {:.1} s", s.total_seconds);
}
