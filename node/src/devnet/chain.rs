//! The devnet's chain: chopsticks running a real Subtensor runtime from a genesis spec, prepared
//! through `dev_*` RPCs (sudo, balances, rate limits), with blocks built on demand.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{json, Value};
use sn17_chain::rpc::{Rpc, RpcOptions};

/// The chopsticks release the devnet and the tests use.
pub const CHOPSTICKS_VERSION: &str = "1.5.1";

/// Where chopsticks is installed (`SN17_CHOPSTICKS` overrides; `SN17_CACHE` moves the cache).
pub fn chopsticks_dir() -> PathBuf {
    std::env::var_os("SN17_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cache/sn17")))
        .unwrap_or_else(|| PathBuf::from(".cache/sn17"))
        .join("chopsticks")
}

fn chopsticks_bin() -> PathBuf {
    match std::env::var_os("SN17_CHOPSTICKS") {
        Some(p) => PathBuf::from(p),
        None => chopsticks_dir().join("node_modules/.bin/chopsticks"),
    }
}

/// Installs chopsticks with npm when it is missing (the same place `scripts/ensure-chopsticks.sh`
/// uses), so `sn17 devnet` works on a fresh machine with Node and npm.
pub async fn ensure_chopsticks() -> anyhow::Result<PathBuf> {
    let bin = chopsticks_bin();
    if bin.exists() {
        return Ok(bin);
    }
    let dir = chopsticks_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let manifest = dir.join("package.json");
    if !manifest.exists() {
        std::fs::write(
            &manifest,
            "{\"name\":\"sn17-chopsticks\",\"private\":true}\n",
        )?;
    }
    eprintln!(
        "installing @acala-network/chopsticks@{CHOPSTICKS_VERSION} into {} (first run only, a few minutes)",
        dir.display()
    );
    let status = tokio::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("@acala-network/chopsticks@{CHOPSTICKS_VERSION}"))
        .current_dir(&dir)
        .status()
        .await
        .context("running npm (Node.js and npm are needed for the devnet chain)")?;
    anyhow::ensure!(
        status.success(),
        "npm install of chopsticks failed: {status}"
    );
    anyhow::ensure!(
        bin.exists(),
        "npm finished but {} is missing",
        bin.display()
    );
    Ok(bin)
}

/// A running chopsticks chain; killed on drop.
pub struct DevChain {
    _child: tokio::process::Child,
    url: String,
    rpc: Rpc,
    log: PathBuf,
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl DevChain {
    /// Starts chopsticks on a free 127.0.0.1 port. Blocks are built when a transaction arrives
    /// and when [`DevChain::new_blocks`] asks.
    pub async fn start(genesis: &Path, dir: &Path) -> anyhow::Result<Self> {
        let bin = ensure_chopsticks().await?;
        std::fs::create_dir_all(dir)?;
        // chopsticks runs in `dir`, so a relative spec path would not resolve there.
        let genesis = std::fs::canonicalize(genesis)
            .with_context(|| format!("chain spec {}", genesis.display()))?;
        let log = dir.join("chopsticks.log");
        let out = std::fs::File::create(&log)?;
        let port = free_port()?;
        let mut child = tokio::process::Command::new(&bin)
            .arg("--genesis")
            .arg(&genesis)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--build-block-mode", "Instant"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let url = format!("ws://127.0.0.1:{port}");
        let opts = RpcOptions {
            reconnect_attempts: 1,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(120),
            ..RpcOptions::default()
        };
        let started = Instant::now();
        let rpc = loop {
            if let Ok(rpc) = Rpc::connect(&url, &opts).await {
                if rpc.finalized_head().await.is_ok() {
                    break rpc;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                anyhow::bail!(
                    "chopsticks exited ({status}); last lines of {}:\n{}",
                    log.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            if started.elapsed() > Duration::from_secs(240) {
                anyhow::bail!(
                    "chopsticks did not answer on {url} within 240 s; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        Ok(Self {
            _child: child,
            url,
            rpc,
            log,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// `dev_setStorage` in chopsticks' JSON form.
    pub async fn set_storage(&self, values: Value) -> anyhow::Result<()> {
        let _: Value = self.rpc.request("dev_setStorage", vec![values]).await?;
        Ok(())
    }

    /// Builds `count` blocks.
    pub async fn new_blocks(&self, count: u64) -> anyhow::Result<()> {
        if count > 0 {
            let _: Value = self
                .rpc
                .request("dev_newBlock", vec![json!({ "count": count })])
                .await?;
        }
        Ok(())
    }

    /// Builds blocks up to `target`: one by one for short waits, and for long ones (a round
    /// starts the next day, 7200 blocks on) a single block numbered `target` (chopsticks'
    /// `unsafeBlockHeight`), so a multi-round devnet takes seconds per round.
    pub async fn advance_to(&self, target: u64) -> anyhow::Result<()> {
        let head = self.head_number().await?;
        if target <= head {
            return Ok(());
        }
        if target - head <= 32 {
            return self.new_blocks(target - head).await;
        }
        let _: Value = self
            .rpc
            .request(
                "dev_newBlock",
                vec![json!({ "count": 1, "unsafeBlockHeight": target })],
            )
            .await?;
        Ok(())
    }

    pub async fn head_number(&self) -> anyhow::Result<u64> {
        Ok(self.rpc.block_number(None).await?)
    }

    /// Sudo key, balances, and network/transaction rate limits of one block.
    ///
    /// chopsticks' JSON `dev_setStorage` deletes a key whose value is falsy (0, false), which
    /// brings back the runtime's default (7200 blocks for `NetworkRateLimit`), so limits are set
    /// to 1, never 0.
    pub async fn fund_and_sudo(&self, sudo: &str, accounts: &[String]) -> anyhow::Result<()> {
        let balance = |who: &str| {
            json!([[who], {
                "nonce": 0, "consumers": 0, "providers": 1, "sufficients": 0,
                "data": { "free": "1000000000000000", "reserved": 0, "frozen": 0,
                          "flags": "170141183460469231731687303715884105728" }
            }])
        };
        let mut list: Vec<Value> = accounts.iter().map(|a| balance(a)).collect();
        list.push(balance(sudo));
        self.set_storage(json!({
            "Sudo": { "Key": sudo },
            "System": { "Account": list },
            "SubtensorModule": {
                "NetworkRateLimit": 1, "TxRateLimit": 1,
                "NetworkMinLockCost": "1000000000", "NetworkLastLockCost": "1000000000"
            }
        }))
        .await
    }

    /// Open registration at a small burn, serving and weights rate limits of one block, one
    /// weight minimum, commit-reveal off (see [`DevChain::fund_and_sudo`] on why not 0).
    pub async fn tune_subnet(&self, netuid: u16) -> anyhow::Result<()> {
        let n = json!([netuid]);
        self.set_storage(json!({
            "SubtensorModule": {
                "WeightsSetRateLimit": [[n, 1]],
                "CommitRevealWeightsEnabled": [[n, false]],
                "ServingRateLimit": [[n, 1]],
                "Burn": [[n, "1000000000"]],
                "MinBurn": [[n, "1000"]],
                "NetworkRegistrationAllowed": [[n, true]],
                "MaxRegistrationsPerBlock": [[n, 256]],
                "TargetRegistrationsPerInterval": [[n, 256]],
                "MaxAllowedUids": [[n, 256]],
                "MinAllowedWeights": [[n, 1]],
                "ImmunityPeriod": [[n, 1]],
                "WeightsVersionKey": [[n, 0]],
                "MaxAllowedValidators": [[n, 64]]
            }
        }))
        .await
    }

    /// Gives exactly the listed uids a validator permit.
    pub async fn set_validator_permits(
        &self,
        netuid: u16,
        subnet_n: u16,
        uids: &[u16],
    ) -> anyhow::Result<()> {
        let permits: Vec<bool> = (0..subnet_n).map(|u| uids.contains(&u)).collect();
        self.set_storage(json!({ "SubtensorModule": {
            "ValidatorPermit": [[[netuid], permits]]
        }}))
        .await
    }
}
