//! [`HttpVlm`]: POSTs to `{base}/chat/completions` with reqwest (rustls), a concurrency cap, a per-call timeout,
//! transport-level resends of the same request on overload or a dropped connection, and a capped body read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::Deserialize;
use tokio::sync::Semaphore;

use super::config::VlmConfig;
use super::metrics::Metrics;
use super::request::{encode_chunks, ChunkBody};
use super::{Call, Completion, Vlm, VlmError};
use crate::error::{Error, Result};

pub struct HttpVlm {
    client: reqwest::Client,
    config: VlmConfig,
    url: String,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for HttpVlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpVlm")
            .field("url", &self.url)
            .field("model", &self.config.model)
            .finish()
    }
}

impl HttpVlm {
    pub fn new(config: VlmConfig) -> Result<Self> {
        config.validate()?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            // 404's AsyncOpenAI pool keeps 64 idle connections; one per permit is enough here.
            .pool_max_idle_per_host(config.max_concurrency)
            .build()
            .map_err(|e| Error::VlmConfig(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            url: config.completions_url(),
            permits: Arc::new(Semaphore::new(config.max_concurrency)),
            metrics: Arc::new(Metrics::default()),
            config,
        })
    }

    pub fn config(&self) -> &VlmConfig {
        &self.config
    }

    async fn send_once(&self, body: ChunkBody) -> std::result::Result<Completion, VlmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| VlmError::Transport("client is shutting down".into()))?;
        let _in_flight = self.metrics.request_started();
        let started = Instant::now();
        let limit = self.config.timeout;
        let result = tokio::time::timeout(limit, self.exchange(body)).await;
        match result {
            Err(_) => {
                self.metrics.timeout();
                Err(VlmError::Timeout { after: limit })
            }
            Ok(Err(e)) => {
                match &e {
                    VlmError::Timeout { .. } => self.metrics.timeout(),
                    VlmError::Transport(_) => self.metrics.transport_error(),
                    VlmError::Status { .. } => {
                        self.metrics.http_error();
                        self.metrics.request_finished(started.elapsed());
                    }
                    _ => self.metrics.request_finished(started.elapsed()),
                }
                Err(e)
            }
            Ok(Ok(c)) => {
                self.metrics.request_finished(started.elapsed());
                self.metrics.tokens(c.prompt_tokens, c.completion_tokens);
                Ok(c)
            }
        }
    }

    async fn exchange(&self, body: ChunkBody) -> std::result::Result<Completion, VlmError> {
        let mut req = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(self.config.timeout)
            .body(reqwest::Body::wrap(body));
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key.expose());
        }
        let mut resp = req.send().await.map_err(classify)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let limit = self.config.max_response_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(VlmError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(VlmError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(VlmError::Status {
                status: status.as_u16(),
                body: text,
                retry_after,
            });
        }
        parse_completion(&body)
    }
}

fn classify(e: reqwest::Error) -> VlmError {
    if e.is_timeout() {
        VlmError::Timeout {
            after: Duration::ZERO,
        }
    } else {
        // Connection refused or reset, TLS failures, body read errors: transient from the client's view.
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        VlmError::Transport(msg)
    }
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    // `reasoning_content` / `reasoning` (vLLM reasoning parsers) are deliberately not read.
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

pub(crate) fn parse_completion(body: &[u8]) -> std::result::Result<Completion, VlmError> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| {
        VlmError::BadResponse(format!(
            "{e}; body starts {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        ))
    })?;
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| VlmError::BadResponse("no choices".into()))?;
    Ok(Completion {
        content: choice.message.and_then(|m| m.content),
        finish_reason: choice.finish_reason,
        prompt_tokens: wire.usage.as_ref().and_then(|u| u.prompt_tokens),
        completion_tokens: wire.usage.as_ref().and_then(|u| u.completion_tokens),
    })
}

impl Vlm for HttpVlm {
    fn complete<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> BoxFuture<'a, std::result::Result<Completion, VlmError>> {
        Box::pin(async move {
            let body = ChunkBody::new(encode_chunks(&self.config.model, call));
            let mut wait = self.config.transport_backoff;
            let mut resends = 0;
            loop {
                match self.send_once(body.clone()).await {
                    Err(e) if e.is_transient() && resends < self.config.transport_retries => {
                        let server_wait = match &e {
                            VlmError::Status { retry_after, .. } => *retry_after,
                            _ => None,
                        };
                        let pause = server_wait
                            .filter(|d| *d <= self.config.max_transport_backoff)
                            .unwrap_or(wait);
                        tracing::debug!(label = call.label, error = %e, resend = resends + 1, "resending VLM request");
                        tokio::time::sleep(pause).await;
                        wait = (wait * 2).min(self.config.max_transport_backoff);
                        resends += 1;
                    }
                    other => return other,
                }
            }
        })
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    fn model(&self) -> &str {
        &self.config.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_and_ignores_reasoning() {
        let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"{\"a\":1}",
            "reasoning_content":"thinking..."},"finish_reason":"stop"}],"usage":{"prompt_tokens":4000,"completion_tokens":40}}"#;
        let c = parse_completion(body).unwrap();
        assert_eq!(c.content.as_deref(), Some("{\"a\":1}"));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            (c.prompt_tokens, c.completion_tokens),
            (Some(4000), Some(40))
        );
        let empty = parse_completion(
            br#"{"choices":[{"message":{"content":null},"finish_reason":"length"}]}"#,
        )
        .unwrap();
        assert_eq!(empty.content, None);
        assert!(matches!(
            parse_completion(b"<html>"),
            Err(VlmError::BadResponse(_))
        ));
        assert!(matches!(
            parse_completion(br#"{"choices":[]}"#),
            Err(VlmError::BadResponse(_))
        ));
    }

    #[test]
    fn transient_statuses() {
        let status = |status| VlmError::Status {
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(status(429).is_transient());
        assert!(status(503).is_transient());
        assert!(!status(400).is_transient());
        assert!(!VlmError::BadResponse(String::new()).is_transient());
    }
}
