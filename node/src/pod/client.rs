//! The validator's side of the pod API: health, status, generate (409 is "busy"), results
//! (streamed under the archive cap), and one whole batch with polling and a wall-time limit.

use std::time::{Duration, Instant};

use super::{zipfile, GenerateRequest, PodError, PodLimits, PodResults, PodStatus, PromptRef};

/// Timeouts and polling of one pod (§8.3's values by default).
#[derive(Debug, Clone)]
pub struct PodTimeouts {
    pub request: Duration,
    pub results: Duration,
    pub poll: Duration,
    /// Consecutive failed status polls before the pod counts as unreachable.
    pub max_poll_failures: u32,
    pub batch_limit: Duration,
}

impl Default for PodTimeouts {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(60),
            results: Duration::from_secs(180),
            poll: Duration::from_secs(10),
            max_poll_failures: 18,
            batch_limit: Duration::from_secs(3600),
        }
    }
}

/// One batch's outcome: results and the wall time from `POST /generate` to the archive.
#[derive(Debug, Clone)]
pub struct Batch {
    pub results: PodResults,
    pub wall: Duration,
}

#[derive(Clone)]
pub struct PodClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    pub limits: PodLimits,
    pub timeouts: PodTimeouts,
}

impl PodClient {
    pub fn new(base: &str, token: Option<String>, timeouts: PodTimeouts) -> Result<Self, PodError> {
        let base = base.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| PodError::Transport {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            base,
            token,
            http,
            limits: PodLimits::default(),
            timeouts,
        })
    }

    fn transport(&self, e: impl std::fmt::Display) -> PodError {
        PodError::Transport {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }

    fn malformed(&self, e: impl std::fmt::Display) -> PodError {
        PodError::Malformed {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(timeout);
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// Reads a body of at most `cap` bytes.
    async fn body(&self, mut resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, PodError> {
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(PodError::Limit {
                url: self.base.clone(),
                reason: format!("body over {cap} bytes"),
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e))? {
            if out.len() as u64 + chunk.len() as u64 > cap {
                return Err(PodError::Limit {
                    url: self.base.clone(),
                    reason: format!("body over {cap} bytes"),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// `GET /health`: true when the pod answers 200.
    pub async fn health(&self) -> bool {
        self.request(reqwest::Method::GET, "/health", self.timeouts.request)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// `GET path`, which must answer 2xx.
    async fn get_ok(&self, path: &str, timeout: Duration) -> Result<reqwest::Response, PodError> {
        let resp = self
            .request(reqwest::Method::GET, path, timeout)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        if !resp.status().is_success() {
            return Err(PodError::Status {
                url: self.base.clone(),
                status: resp.status().as_u16(),
            });
        }
        Ok(resp)
    }

    /// `GET /status`.
    pub async fn status(&self) -> Result<PodStatus, PodError> {
        let resp = self.get_ok("/status", self.timeouts.request).await?;
        let body = self.body(resp, 64 << 10).await?;
        serde_json::from_slice(&body).map_err(|e| self.malformed(e))
    }

    /// `POST /generate`; the number of prompts accepted.
    pub async fn generate(&self, prompts: &[PromptRef], seed: u32) -> Result<u64, PodError> {
        let req = GenerateRequest {
            prompts: prompts.to_vec(),
            seed,
        };
        let resp = self
            .request(reqwest::Method::POST, "/generate", self.timeouts.request)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&req).map_err(|e| self.malformed(e))?)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let body = self.body(resp, 64 << 10).await?;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match status {
            200 => v["accepted"]
                .as_u64()
                .ok_or_else(|| self.malformed("no \"accepted\" count")),
            409 => Err(PodError::Busy {
                url: self.base.clone(),
                current_status: v["current_status"].as_str().unwrap_or("?").to_string(),
                detail: v["detail"].as_str().unwrap_or("").to_string(),
            }),
            s => Err(PodError::Status {
                url: self.base.clone(),
                status: s,
            }),
        }
    }

    /// `GET /results`, checked against the caps.
    pub async fn results(&self) -> Result<PodResults, PodError> {
        let resp = self.get_ok("/results", self.timeouts.results).await?;
        let bytes = self.body(resp, self.limits.max_zip_bytes).await?;
        zipfile::read(&bytes, &self.limits).map_err(|reason| PodError::Limit {
            url: self.base.clone(),
            reason,
        })
    }

    /// One batch: generate, poll status until `complete`, fetch the results. Every stem of
    /// `prompts` ends up in `outputs` or `failed` (a stem in both, or in neither, fails).
    pub async fn run_batch(&self, prompts: &[PromptRef], seed: u32) -> Result<Batch, PodError> {
        let started = Instant::now();
        self.generate(prompts, seed).await?;
        let mut failures = 0u32;
        loop {
            if started.elapsed() > self.timeouts.batch_limit {
                return Err(PodError::BatchTimeout {
                    url: self.base.clone(),
                    prompts: prompts.len(),
                    secs: self.timeouts.batch_limit.as_secs(),
                });
            }
            match self.status().await {
                Ok(s) if s.status == "complete" => break,
                Ok(s) if s.status == "replace" => {
                    return Err(PodError::Replace {
                        url: self.base.clone(),
                    })
                }
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if failures >= self.timeouts.max_poll_failures {
                        return Err(e);
                    }
                }
            }
            tokio::time::sleep(self.timeouts.poll).await;
        }
        let mut results = self.results().await?;
        let wall = started.elapsed();
        if results.outputs.is_empty() && results.failed.is_empty() {
            return Err(self.malformed("empty archive"));
        }
        for p in prompts {
            let ok = results.outputs.contains_key(&p.stem);
            let failed = results.failed.contains_key(&p.stem);
            if ok && failed {
                results.outputs.remove(&p.stem);
                results
                    .failed
                    .insert(p.stem.clone(), "both generated and failed".into());
            } else if !ok && !failed {
                results
                    .failed
                    .insert(p.stem.clone(), "missing from the results".into());
            }
        }
        Ok(Batch { results, wall })
    }
}
