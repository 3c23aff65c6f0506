//! The node's integration tests, one binary (one link of the whole node instead of ten): the
//! chain client and CLI against chopsticks, the competition engine, the devnet, gossip and the
//! explorer, the config file and `sn17 render`.

mod chain_chopsticks;
mod chain_dispatch_cli;
mod chain_reconnect;
mod competition;
mod config_cli;
mod devnet;
mod explorer_page;
mod gossip_adversarial;
mod gossip_chain;
mod gossip_mesh;
mod gossip_support;
mod judge_cli;
mod render_cli;

/// One chain test at a time: each starts its own chopsticks (plus, for the devnet, a
/// validator and miners), and on a 2-core machine two at once starve each other's block
/// production. Held for the whole test; a panicking test does not block the others.
pub(crate) fn chain_slot() -> std::sync::MutexGuard<'static, ()> {
    static SLOT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the chain slot and starts chopsticks on the spec-218 genesis (`../shared/chain/raonet.json`);
/// `None` (the test skips, with shared's message) when `../shared` is absent. Keep the guard for the
/// whole test.
// Holding the slot across the start is the point: no task of the test takes it.
#[allow(clippy::await_holding_lock)]
pub(crate) async fn spec218_chain(
) -> Option<(std::sync::MutexGuard<'static, ()>, sn17_tests::Chopsticks)> {
    let slot = chain_slot();
    let genesis = sn17_tests::shared::shared_file("chain/raonet.json")?;
    let chain = sn17_tests::Chopsticks::start(&genesis)
        .await
        .expect("chopsticks starts");
    Some((slot, chain))
}

/// Whether chopsticks is installed (`scripts/ensure-chopsticks.sh`; `SN17_CHOPSTICKS` overrides the path).
pub(crate) fn chopsticks_installed() -> bool {
    let bin = std::env::var_os("SN17_CHOPSTICKS")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| {
                std::path::PathBuf::from(h)
                    .join(".cache/sn17/chopsticks/node_modules/.bin/chopsticks")
            })
        });
    let ok = bin.as_ref().is_some_and(|b| b.exists());
    if !ok {
        eprintln!("SKIP: chopsticks is not installed (scripts/ensure-chopsticks.sh)");
    }
    ok
}
