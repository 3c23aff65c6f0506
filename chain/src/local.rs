//! A local development chain: chopsticks running a real Subtensor runtime from a genesis spec,
//! prepared through its `dev_*` RPCs (sudo, balances, rate limits), with blocks built on demand.
//! `sn17 devnet` and the integration tests share it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::ChainError;
use crate::rpc::{Rpc, RpcOptions};

/// The chopsticks release sn17 uses (`scripts/ensure-chopsticks.sh` installs the same).
pub const CHOPSTICKS_VERSION: &str = "1.5.1";

/// How long chopsticks may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(240);

/// Why a local chain is not available.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("chopsticks is not installed: run scripts/ensure-chopsticks.sh (looked for {0})")]
    NoChopsticks(PathBuf),
    #[error("installing chopsticks with npm: {0}")]
    Install(String),
    #[error("cannot start chopsticks: {0}")]
    Spawn(std::io::Error),
    #[error("chopsticks exited ({status}); last lines of {log}:\n{tail}")]
    Exited {
        status: std::process::ExitStatus,
        log: PathBuf,
        tail: String,
    },
    #[error("chopsticks did not answer on {url} within {secs} s; see {log}")]
    NotReady {
        url: String,
        secs: u64,
        log: PathBuf,
    },
    #[error("chain RPC: {0}")]
    Rpc(#[from] ChainError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Where chopsticks is installed (`SN17_CHOPSTICKS` names the binary; `SN17_CACHE` moves the
/// cache, default `~/.cache/sn17`).
pub fn chopsticks_dir() -> PathBuf {
    std::env::var_os("SN17_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cache/sn17")))
        .unwrap_or_else(|| PathBuf::from(".cache/sn17"))
        .join("chopsticks")
}

pub fn chopsticks_bin() -> PathBuf {
    match std::env::var_os("SN17_CHOPSTICKS") {
        Some(p) => PathBuf::from(p),
        None => chopsticks_dir().join("node_modules/.bin/chopsticks"),
    }
}

/// Installs chopsticks with npm when it is missing, so `sn17 devnet` works on a fresh machine
/// with Node.js and npm.
pub async fn install_chopsticks() -> Result<PathBuf, LocalError> {
    let bin = chopsticks_bin();
    if bin.exists() {
        return Ok(bin);
    }
    let dir = chopsticks_dir();
    std::fs::create_dir_all(&dir)?;
    let manifest = dir.join("package.json");
    if !manifest.exists() {
        std::fs::write(
            &manifest,
            "{\"name\":\"sn17-chopsticks\",\"private\":true}\n",
        )?;
    }
    tracing::warn!(dir = %dir.display(), "installing chopsticks {CHOPSTICKS_VERSION} with npm (first run only)");
    let status = tokio::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("@acala-network/chopsticks@{CHOPSTICKS_VERSION}"))
        .current_dir(&dir)
        .status()
        .await
        .map_err(|e| {
            LocalError::Install(format!("running npm (Node.js and npm are needed): {e}"))
        })?;
    if !status.success() || !bin.exists() {
        return Err(LocalError::Install(format!(
            "npm install ended with {status}"
        )));
    }
    Ok(bin)
}

/// A running chopsticks chain; killed on drop.
pub struct LocalChain {
    child: tokio::process::Child,
    url: String,
    rpc: Rpc,
    log: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut last: Vec<&str> = text.lines().rev().take(lines).collect();
    last.reverse();
    last.join("\n")
}

impl LocalChain {
    /// Starts a chain from `genesis` in a temporary directory (tests).
    pub async fn start(genesis: &Path) -> Result<Self, LocalError> {
        let temp = tempfile::tempdir()?;
        let mut chain = Self::start_in(genesis, temp.path()).await?;
        chain._temp = Some(temp);
        Ok(chain)
    }

    /// Starts a chain from `genesis` on a free 127.0.0.1 port, keeping its log in `dir`. Blocks
    /// are built when a transaction arrives and when [`LocalChain::new_blocks`] asks.
    pub async fn start_in(genesis: &Path, dir: &Path) -> Result<Self, LocalError> {
        let bin = chopsticks_bin();
        if !bin.exists() {
            return Err(LocalError::NoChopsticks(bin));
        }
        std::fs::create_dir_all(dir)?;
        // chopsticks runs in `dir`, so a relative spec path would not resolve there.
        let genesis = std::fs::canonicalize(genesis)?;
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
            .map_err(LocalError::Spawn)?;
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
                return Err(LocalError::Exited {
                    status,
                    tail: tail(&log, 15),
                    log,
                });
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(LocalError::NotReady {
                    url,
                    secs: START_TIMEOUT.as_secs(),
                    log,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        Ok(Self {
            child,
            url,
            rpc,
            log,
            _temp: None,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// chopsticks' own log.
    pub fn log(&self) -> &Path {
        &self.log
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `dev_setStorage` in chopsticks' JSON form: `{Pallet: {Item: value | [[keys, value], …]}}`.
    ///
    /// chopsticks deletes a key whose JSON value is 0 or false, which brings back the runtime's
    /// default (7200 blocks for `NetworkRateLimit`): the helpers below set limits to 1, never 0.
    pub async fn set_storage(&self, values: Value) -> Result<(), LocalError> {
        let _: Value = self.rpc.request("dev_setStorage", vec![values]).await?;
        Ok(())
    }

    /// `dev_setStorage` with raw `(key, value)` pairs (value `None` deletes).
    pub async fn set_raw_storage(
        &self,
        pairs: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<(), LocalError> {
        let list: Vec<Value> = pairs
            .iter()
            .map(|(k, v)| {
                json!([
                    format!("0x{}", hex::encode(k)),
                    v.as_ref().map(|v| format!("0x{}", hex::encode(v)))
                ])
            })
            .collect();
        self.set_storage(Value::Array(list)).await
    }

    /// Builds `count` blocks.
    pub async fn new_blocks(&self, count: u64) -> Result<(), LocalError> {
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
    /// `unsafeBlockHeight`), so simulated days take seconds.
    pub async fn advance_to(&self, target: u64) -> Result<(), LocalError> {
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

    pub async fn head_number(&self) -> Result<u64, LocalError> {
        Ok(self.rpc.block_number(None).await?)
    }

    /// Makes `sudo` the sudo key, gives it and each account 1,000,000 TAO, and sets the network
    /// and transaction rate limits to one block.
    pub async fn fund_and_sudo(&self, sudo: &str, accounts: &[String]) -> Result<(), LocalError> {
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

    /// Opens `netuid` up: registration at a small burn, serving limit and weight minimum of 1,
    /// the given weights rate limit, and commit-reveal as asked.
    pub async fn tune_subnet(
        &self,
        netuid: u16,
        weights_rate_limit: u64,
        commit_reveal: bool,
    ) -> Result<(), LocalError> {
        let n = json!([netuid]);
        self.set_storage(json!({
            "SubtensorModule": {
                "WeightsSetRateLimit": [[n, weights_rate_limit]],
                "CommitRevealWeightsEnabled": [[n, commit_reveal]],
                "ServingRateLimit": [[n, 1]],
                "Burn": [[n, "1000000000"]],
                "MinBurn": [[n, "1000"]],
                "NetworkRegistrationAllowed": [[n, true]],
                "MaxRegistrationsPerBlock": [[n, 256]],
                "TargetRegistrationsPerInterval": [[n, 256]],
                "MaxAllowedUids": [[n, 512]],
                "MinAllowedWeights": [[n, 1]],
                "ImmunityPeriod": [[n, 1]],
                "WeightsVersionKey": [[n, 0]],
                "MaxAllowedValidators": [[n, 64]]
            }
        }))
        .await
    }

    /// Forgets when `hotkey` last committed on `netuid` (`Commitments.LastCommitment`), lifting
    /// spec 218's 100-block rate limit for its next commitment; newer runtimes limit space per
    /// epoch instead, which allows 404's two commitments in one reveal window.
    pub async fn clear_last_commitment(&self, netuid: u16, hotkey: &str) -> Result<(), LocalError> {
        self.set_storage(json!({ "Commitments": { "LastCommitment": [[[netuid, hotkey], null]] } }))
            .await
    }

    /// Gives exactly the listed uids of a subnet of `subnet_n` neurons a validator permit.
    pub async fn set_validator_permits(
        &self,
        netuid: u16,
        subnet_n: u16,
        uids: &[u16],
    ) -> Result<(), LocalError> {
        let permits: Vec<bool> = (0..subnet_n).map(|u| uids.contains(&u)).collect();
        self.set_storage(json!({ "SubtensorModule": {
            "ValidatorPermit": [[[netuid], permits]]
        }}))
        .await
    }

    /// Every netuid in `NetworksAdded` (Identity-hashed u16 keys), in storage order.
    pub async fn netuids(&self) -> Result<Vec<u16>, LocalError> {
        let prefix = [
            sp_core::hashing::twox_128(b"SubtensorModule"),
            sp_core::hashing::twox_128(b"NetworksAdded"),
        ]
        .concat();
        let head = self.rpc.block_hash(None).await?.unwrap_or_default();
        let keys = self.rpc.keys_with_prefix(&prefix, head, 10_000).await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.get(32..34).map(|b| u16::from_le_bytes([b[0], b[1]])))
            .collect())
    }
}
