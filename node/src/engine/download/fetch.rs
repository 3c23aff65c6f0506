//! Fetching one file: streamed under a hard size cap, with per-read and total timeouts and
//! retries, ending in a body or one of 404's failure reasons.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sha2::{Digest, Sha256};

use super::guard::{is_non_public, PublicOnlyResolver};
use super::DownloadConfig;
use crate::engine::EngineError;

/// What a file must look like, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A Three.js module: UTF-8 text without NUL bytes.
    JavaScript,
    /// Binary glTF: starts with `glTF`.
    Glb,
    /// PLY: starts with `ply` and a newline.
    Ply,
    Any,
}

impl ContentKind {
    pub fn from_ext(ext: &str) -> Self {
        match ext {
            "js" | "mjs" => Self::JavaScript,
            "glb" => Self::Glb,
            "ply" => Self::Ply,
            _ => Self::Any,
        }
    }

    fn check(self, body: &[u8]) -> Result<(), &'static str> {
        match self {
            Self::JavaScript => {
                if body.contains(&0) {
                    return Err("binary data");
                }
                std::str::from_utf8(body)
                    .map(|_| ())
                    .map_err(|_| "not UTF-8 text")
            }
            Self::Glb if body.starts_with(b"glTF") => Ok(()),
            Self::Glb => Err("no glTF header"),
            Self::Ply if body.starts_with(b"ply\n") || body.starts_with(b"ply\r\n") => Ok(()),
            Self::Ply => Err("no ply header"),
            Self::Any => Ok(()),
        }
    }
}

/// How one fetch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    Ok {
        body: Vec<u8>,
        sha256: String,
    },
    /// `failure_reason` as written to `submitted.json`.
    Failed {
        reason: String,
    },
}

/// A failed attempt, and whether another try may help.
struct Failure {
    reason: String,
    retry: bool,
}

/// A configured HTTP client for miners' CDNs.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    cfg: Arc<DownloadConfig>,
    kind: ContentKind,
    /// Body bytes taken off the wire, over all fetches: what the cap bounds (tests, stats).
    received: Arc<AtomicU64>,
}

impl Fetcher {
    pub fn new(cfg: DownloadConfig) -> Result<Self, EngineError> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            // 404's httpx client follows no redirects; a 3xx is a failed fetch. It also keeps
            // miners from bouncing the validator to other hosts.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("sn17/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(cfg.max_concurrent.max(1));
        if cfg.block_private_addresses {
            b = b.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        let client = b.build().map_err(|e| EngineError::Http(e.to_string()))?;
        Ok(Self {
            client,
            kind: ContentKind::from_ext(&cfg.ext),
            cfg: Arc::new(cfg),
            received: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn config(&self) -> &DownloadConfig {
        &self.cfg
    }

    /// Body bytes received so far by this fetcher and its clones.
    pub fn bytes_received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    fn prefix(&self) -> &str {
        &self.cfg.ext
    }

    /// Fetches `url` with retries; returns the outcome and the number of attempts made.
    pub async fn fetch(&self, url: &str) -> (FetchOutcome, u32) {
        let attempts = self.cfg.attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            let r = tokio::time::timeout(self.cfg.total_timeout, self.attempt(url)).await;
            let failure = match r {
                Ok(Ok(body)) => {
                    let sha256 = hex::encode(Sha256::digest(&body));
                    return (FetchOutcome::Ok { body, sha256 }, attempt);
                }
                Ok(Err(f)) => f,
                Err(_) => Failure {
                    reason: format!("{}_fetch_failed: TotalTimeout", self.prefix()),
                    retry: true,
                },
            };
            tracing::debug!(url, attempt, reason = %failure.reason, "download attempt failed");
            last = failure.reason;
            if !failure.retry {
                return (FetchOutcome::Failed { reason: last }, attempt);
            }
            if attempt < attempts {
                let f = rand::thread_rng().gen_range(0.5..1.5);
                tokio::time::sleep(self.cfg.retry_wait.mul_f64(f)).await;
            }
        }
        (FetchOutcome::Failed { reason: last }, attempts)
    }

    fn fetch_failed(&self, name: &str, retry: bool) -> Failure {
        Failure {
            reason: format!("{}_fetch_failed: {name}", self.prefix()),
            retry,
        }
    }

    fn too_large(&self) -> Failure {
        Failure {
            reason: format!("{}_too_large", self.prefix()),
            retry: false,
        }
    }

    /// httpx's exception names for what reqwest reports.
    fn classify(&self, e: &reqwest::Error) -> Failure {
        let text = format!("{e:?}");
        if text.contains("no public address") {
            return self.fetch_failed("ForbiddenAddress", false);
        }
        if e.is_connect() {
            return self.fetch_failed(
                if e.is_timeout() {
                    "ConnectTimeout"
                } else {
                    "ConnectError"
                },
                true,
            );
        }
        if e.is_timeout() {
            return self.fetch_failed("ReadTimeout", true);
        }
        self.fetch_failed("RemoteProtocolError", true)
    }

    async fn attempt(&self, url: &str) -> Result<Vec<u8>, Failure> {
        let parsed = url::Url::parse(url).map_err(|_| self.fetch_failed("InvalidURL", false))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(self.fetch_failed("UnsupportedProtocol", false));
        }
        if self.cfg.block_private_addresses {
            let literal = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(is_non_public) {
                return Err(self.fetch_failed("ForbiddenAddress", false));
            }
        }
        let send = self.client.get(parsed).send();
        let mut resp = match tokio::time::timeout(self.cfg.read_timeout, send).await {
            Err(_) => return Err(self.fetch_failed("ReadTimeout", true)),
            Ok(Err(e)) => return Err(self.classify(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if !status.is_success() {
            return Err(Failure {
                reason: format!("{}_fetch_failed: HTTP {}", self.prefix(), status.as_u16()),
                retry: true,
            });
        }
        let cap = self.cfg.max_bytes;
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(self.too_large());
        }
        let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0).min(cap) as usize);
        loop {
            match tokio::time::timeout(self.cfg.read_timeout, resp.chunk()).await {
                Err(_) => return Err(self.fetch_failed("ReadTimeout", true)),
                Ok(Err(e)) => return Err(self.classify(&e)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    self.received
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    if body.len() as u64 + chunk.len() as u64 > cap {
                        return Err(self.too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        if let Err(why) = self.kind.check(&body) {
            tracing::debug!(url, why, "downloaded file has the wrong content");
            return Err(Failure {
                reason: format!("{}_invalid_content", self.prefix()),
                retry: false,
            });
        }
        Ok(body)
    }
}

/// Waits `d` scaled by a uniform factor in [0, 1) (the pre-download jitter).
pub async fn start_jitter(d: Duration) {
    if d.is_zero() {
        return;
    }
    let f: f64 = rand::thread_rng().gen_range(0.0..1.0);
    tokio::time::sleep(d.mul_f64(f)).await;
}
