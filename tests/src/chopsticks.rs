//! Starts chopsticks with the raonet genesis and prepares its state through `dev_*` RPCs.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sn17_chain::rpc::{Rpc, RpcOptions};

/// Why the harness could not provide a chain.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("chopsticks is not installed: run scripts/ensure-chopsticks.sh (looked for {0})")]
    NoChopsticks(PathBuf),
    #[error("cannot start chopsticks: {0}")]
    Spawn(std::io::Error),
    #[error("chopsticks did not answer on {url} within {secs} s; log: {log}")]
    NotReady { url: String, secs: u64, log: String },
    #[error("chain RPC: {0}")]
    Rpc(#[from] sn17_chain::ChainError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// A running chopsticks chain. Killed on drop.
pub struct Chopsticks {
    child: tokio::process::Child,
    url: String,
    rpc: Rpc,
    _dir: tempfile::TempDir,
}

fn chopsticks_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SN17_CHOPSTICKS") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("SN17_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sn17")))
        .unwrap_or_else(|| PathBuf::from(".cache/sn17"));
    cache.join("chopsticks/node_modules/.bin/chopsticks")
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Chopsticks {
    /// Starts a chain from `genesis` (raonet.json). Blocks are built as soon as a transaction
    /// arrives (`Instant` mode); use [`Chopsticks::new_blocks`] to advance time.
    pub async fn start(genesis: &std::path::Path) -> Result<Self, HarnessError> {
        let bin = chopsticks_bin();
        if !bin.exists() {
            return Err(HarnessError::NoChopsticks(bin));
        }
        let dir = tempfile::tempdir()?;
        let log_path = dir.path().join("chopsticks.log");
        let log = std::fs::File::create(&log_path)?;
        let port = free_port()?;
        let child = tokio::process::Command::new(&bin)
            .arg("--genesis")
            .arg(genesis)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--build-block-mode", "Instant"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(HarnessError::Spawn)?;
        let url = format!("ws://127.0.0.1:{port}");
        let started = Instant::now();
        let limit = Duration::from_secs(180);
        let opts = RpcOptions {
            reconnect_attempts: 1,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(60),
            ..RpcOptions::default()
        };
        let rpc = loop {
            if let Ok(rpc) = Rpc::connect(&url, &opts).await {
                if rpc.finalized_head().await.is_ok() {
                    break rpc;
                }
            }
            if started.elapsed() > limit {
                return Err(HarnessError::NotReady {
                    url,
                    secs: limit.as_secs(),
                    log: std::fs::read_to_string(&log_path).unwrap_or_default(),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        Ok(Self {
            child,
            url,
            rpc,
            _dir: dir,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// `dev_setStorage` with chopsticks' JSON form: `{Pallet: {Item: value | [[keys, value], …]}}`.
    pub async fn set_storage(&self, values: Value) -> Result<(), HarnessError> {
        let _: Value = self.rpc.request("dev_setStorage", vec![values]).await?;
        Ok(())
    }

    /// `dev_setStorage` with raw `(key, value)` pairs (value `None` deletes).
    pub async fn set_raw_storage(
        &self,
        pairs: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<(), HarnessError> {
        let list: Vec<Value> = pairs
            .iter()
            .map(|(k, v)| {
                json!([
                    format!("0x{}", hex::encode(k)),
                    v.as_ref().map(|v| format!("0x{}", hex::encode(v)))
                ])
            })
            .collect();
        let _: Value = self
            .rpc
            .request("dev_setStorage", vec![Value::Array(list)])
            .await?;
        Ok(())
    }

    /// Builds `count` empty blocks.
    pub async fn new_blocks(&self, count: u32) -> Result<(), HarnessError> {
        let _: Value = self
            .rpc
            .request("dev_newBlock", vec![json!({ "count": count })])
            .await?;
        Ok(())
    }

    /// Makes `sudo` the sudo key and gives each account 1,000,000 TAO.
    pub async fn fund_and_sudo(&self, sudo: &str, accounts: &[String]) -> Result<(), HarnessError> {
        let balance = |who: &str| {
            json!([[who], {
                "nonce": 0, "consumers": 0, "providers": 1, "sufficients": 0,
                "data": { "free": "1000000000000000", "reserved": 0, "frozen": 0, "flags": "170141183460469231731687303715884105728" }
            }])
        };
        let mut list: Vec<Value> = accounts.iter().map(|a| balance(a)).collect();
        list.push(balance(sudo));
        self.set_storage(json!({
            "Sudo": { "Key": sudo },
            "System": { "Account": list },
            // chopsticks' JSON dev_setStorage deletes keys set to 0/false (the runtime default
            // comes back: 7200 blocks for NetworkRateLimit), so limits are one block, not zero.
            "SubtensorModule": { "NetworkRateLimit": 1, "TxRateLimit": 1, "NetworkMinLockCost": "1000000000", "NetworkLastLockCost": "1000000000" }
        }))
        .await
    }

    /// Prepares `netuid` for fast tests: open registration at a small burn, no serving limit,
    /// the given weights rate limit, and commit-reveal as asked.
    pub async fn tune_subnet(
        &self,
        netuid: u16,
        weights_rate_limit: u64,
        commit_reveal: bool,
    ) -> Result<(), HarnessError> {
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

    /// The chain's log so far (for failure messages).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Chopsticks {
    /// Every netuid in `NetworksAdded` (Identity-hashed u16 keys).
    pub async fn netuids(&self) -> Result<Vec<u16>, HarnessError> {
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
