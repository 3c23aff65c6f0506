//! The devnet's child processes (`sn17 validator run`, `sn17 miner run`): spawned from this
//! binary with `--json`, their stdout read line by line into one event channel, their stderr
//! appended to `logs/NAME.log`, killed with SIGKILL on request or when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One line a child printed: who, which incarnation, the JSON value.
#[derive(Debug, Clone)]
pub struct Event {
    pub who: String,
    pub incarnation: u32,
    pub value: serde_json::Value,
}

pub struct ChildProc {
    pub name: String,
    pub incarnation: u32,
    args: Vec<String>,
    log: PathBuf,
    child: Child,
}

impl ChildProc {
    /// Starts `sn17 ARGS…`; events go to `tx`.
    pub fn spawn(
        name: &str,
        args: Vec<String>,
        logs: &Path,
        tx: mpsc::UnboundedSender<Event>,
    ) -> anyhow::Result<Self> {
        Self::start(name, args, logs.join(format!("{name}.log")), 0, tx)
    }

    fn start(
        name: &str,
        args: Vec<String>,
        log: PathBuf,
        incarnation: u32,
        tx: mpsc::UnboundedSender<Event>,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the sn17 binary")?;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let mut child = Command::new(exe)
            .args(&args)
            .env("SN17_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let who = name.to_string();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = tx.send(Event {
                        who: who.clone(),
                        incarnation,
                        value,
                    });
                }
            }
            let _ = tx.send(Event {
                who,
                incarnation,
                value: serde_json::json!({"event": "exited"}),
            });
        });
        Ok(Self {
            name: name.to_string(),
            incarnation,
            args,
            log,
            child,
        })
    }

    /// SIGKILL, then the same command again (the next incarnation).
    pub async fn kill_and_restart(
        &mut self,
        tx: mpsc::UnboundedSender<Event>,
    ) -> anyhow::Result<()> {
        self.child.kill().await.ok();
        let next = Self::start(
            &self.name,
            self.args.clone(),
            self.log.clone(),
            self.incarnation + 1,
            tx,
        )?;
        *self = next;
        Ok(())
    }

    /// The exit status once it exits by itself.
    pub async fn wait(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        Ok(self.child.wait().await?)
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Asks it to stop (SIGTERM where there is one).
    pub fn terminate(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            // `kill -TERM` keeps this free of unsafe FFI.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            return;
        }
        let _ = self.child.start_kill();
    }
}
