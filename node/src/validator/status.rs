//! What a running validator is doing, for people and machines: `GET /metrics` (Prometheus
//! text format), `GET /status` (JSON: round, stage, the block it waits for, last weights) and
//! `GET /health`, on `--metrics` (127.0.0.1:9616 by default).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hyper::StatusCode;
use serde::Serialize;
use sn17_node::http;
use tokio_util::sync::CancellationToken;

/// The validator's current position.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Position {
    pub round: u64,
    pub stage: String,
    /// The block the engine waits for, when it waits for one.
    pub until_block: Option<u64>,
    pub reason: String,
    pub head: u64,
    pub last_weights_block: Option<u64>,
    pub leader: Option<String>,
}

/// Counters, each exported as `sn17_validator_<name>_total`.
#[derive(Debug, Default)]
pub struct Counters {
    pub steps: AtomicU64,
    pub stage_changes: AtomicU64,
    pub matches_played: AtomicU64,
    pub matches_reused: AtomicU64,
    pub audits: AtomicU64,
    pub renders: AtomicU64,
    pub weights_set: AtomicU64,
    pub weights_failed: AtomicU64,
    pub gossip_published: AtomicU64,
    pub errors: AtomicU64,
}

#[derive(Debug, Default)]
pub struct Status {
    position: Mutex<Position>,
    pub counters: Counters,
}

pub fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Status {
    pub fn update(&self, f: impl FnOnce(&mut Position)) {
        let mut p = self.position.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut p);
    }

    pub fn position(&self) -> Position {
        self.position
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The Prometheus text exposition.
    pub fn metrics(&self) -> String {
        let p = self.position();
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: String| {
            out.push_str(&format!(
                "# HELP sn17_validator_{name} {help}\n# TYPE sn17_validator_{name} gauge\nsn17_validator_{name} {value}\n"
            ));
        };
        gauge(
            "head_block",
            "Chain head the validator last read.",
            p.head.to_string(),
        );
        gauge("round", "Current competition round.", p.round.to_string());
        gauge(
            "waiting_until_block",
            "Block the round engine waits for (0 when none).",
            p.until_block.unwrap_or(0).to_string(),
        );
        gauge(
            "last_weights_block",
            "Block at which weights were last set (0 when never).",
            p.last_weights_block.unwrap_or(0).to_string(),
        );
        out.push_str(&format!(
            "# HELP sn17_validator_stage Current stage (1 for the active one).\n# TYPE sn17_validator_stage gauge\nsn17_validator_stage{{stage=\"{}\"}} 1\n",
            p.stage
        ));
        let c = &self.counters;
        let counters: [(&str, &AtomicU64, &str); 10] = [
            ("steps", &c.steps, "Round engine steps run."),
            ("stage_changes", &c.stage_changes, "Stage transitions made."),
            ("matches_played", &c.matches_played, "Matches judged."),
            (
                "matches_reused",
                &c.matches_reused,
                "Matches taken from the database after a restart.",
            ),
            ("audits", &c.audits, "Audits by regeneration run."),
            ("renders", &c.renders, "Outputs rendered for judging."),
            (
                "weights_set",
                &c.weights_set,
                "Successful weight submissions.",
            ),
            (
                "weights_failed",
                &c.weights_failed,
                "Failed weight submissions.",
            ),
            (
                "gossip_published",
                &c.gossip_published,
                "Gossip messages published.",
            ),
            ("errors", &c.errors, "Step errors (retried)."),
        ];
        for (name, v, help) in counters {
            out.push_str(&format!(
                "# HELP sn17_validator_{name}_total {help}\n# TYPE sn17_validator_{name}_total counter\nsn17_validator_{name}_total {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Serves the status endpoints on `addr` until `shutdown`; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    status: Arc<Status>,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let r = http::serve(listener, shutdown, move |req| {
            let status = status.clone();
            async move {
                match req.uri().path() {
                    "/metrics" => http::reply(
                        StatusCode::OK,
                        "text/plain; version=0.0.4",
                        status.metrics(),
                    ),
                    "/status" => http::json(
                        StatusCode::OK,
                        &serde_json::to_value(status.position()).unwrap_or_default(),
                    ),
                    "/health" => http::reply(StatusCode::OK, "text/plain", "ok\n"),
                    _ => http::reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
                }
            }
        })
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "status server stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prometheus_text() {
        let s = Status::default();
        s.update(|p| {
            p.round = 3;
            p.stage = "duels".into();
            p.head = 77;
        });
        bump(&s.counters.matches_played);
        let m = s.metrics();
        assert!(m.contains("sn17_validator_round 3\n"), "{m}");
        assert!(
            m.contains("sn17_validator_stage{stage=\"duels\"} 1\n"),
            "{m}"
        );
        assert!(m.contains("sn17_validator_matches_played_total 1\n"), "{m}");
        assert!(m.contains("# TYPE sn17_validator_head_block gauge"), "{m}");
        // Every sample line is `name[{labels}] value`.
        for line in m.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').expect("sample");
            v.parse::<f64>().expect("numeric value");
        }
    }
}
