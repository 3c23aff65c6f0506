//! Where the VLM lives and how to talk to it: endpoint, model, API key, timeouts and limits, from code or the
//! environment.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// 404's served model name (GLM-4.6V-Flash under vLLM).
pub const DEFAULT_MODEL: &str = "glm-4.6v-flash";

/// A bearer token. Never printed: `Debug` redacts it and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key from `SN17_VLM_API_KEY`, else `OPENAI_API_KEY`, through any variable lookup
    /// (blank values count as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        nonempty("SN17_VLM_API_KEY")
            .or_else(|| nonempty("OPENAI_API_KEY"))
            .map(Self::new)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct VlmConfig {
    /// OpenAI-style base URL, normally ending in `/v1`; requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<ApiKey>,
    /// Whole-request limit per HTTP call (404: `OPENAI_TIMEOUT` = 120 s).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Calls in flight at once (404: `MAX_CONCURRENT_VLM_CALLS` = 32).
    pub max_concurrency: usize,
    /// Resends of the same request on 408/409/429/5xx or a dropped connection before the attempt counts as
    /// failed (the OpenAI Python client's default is 2).
    pub transport_retries: u32,
    /// First wait before a resend; doubles each time, capped by `max_transport_backoff`. A `Retry-After` header
    /// wins when it is shorter than the cap.
    pub transport_backoff: Duration,
    pub max_transport_backoff: Duration,
    /// Largest response body read.
    pub max_response_bytes: usize,
}

impl VlmConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            max_concurrency: 32,
            transport_retries: 2,
            transport_backoff: Duration::from_millis(500),
            max_transport_backoff: Duration::from_secs(8),
            max_response_bytes: 4 << 20,
        }
    }

    /// Reads `SN17_VLM_URL` (or `OPENAI_BASE_URL`), `SN17_VLM_MODEL` (default `glm-4.6v-flash`),
    /// `SN17_VLM_API_KEY` (or `OPENAI_API_KEY`), `SN17_VLM_TIMEOUT_SECS` and `SN17_VLM_MAX_CONCURRENCY`.
    /// `Ok(None)` when no endpoint is set.
    pub fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// [`from_env`](Self::from_env) over any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some(url) = get("SN17_VLM_URL").or_else(|| get("OPENAI_BASE_URL")) else {
            return Ok(None);
        };
        let model = get("SN17_VLM_MODEL").unwrap_or_else(|| DEFAULT_MODEL.to_string());
        let mut cfg = Self::new(url, model);
        cfg.api_key = ApiKey::from_lookup(&get);
        if let Some(t) = get("SN17_VLM_TIMEOUT_SECS") {
            let secs: f64 = t
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    Error::VlmConfig(format!(
                        "SN17_VLM_TIMEOUT_SECS={t:?} is not a positive number"
                    ))
                })?;
            cfg.timeout = Duration::from_secs_f64(secs);
        }
        if let Some(c) = get("SN17_VLM_MAX_CONCURRENCY") {
            cfg.max_concurrency = c
                .trim()
                .parse()
                .ok()
                .filter(|n: &usize| *n > 0)
                .ok_or_else(|| {
                    Error::VlmConfig(format!(
                        "SN17_VLM_MAX_CONCURRENCY={c:?} is not a positive integer"
                    ))
                })?;
        }
        cfg.validate()?;
        Ok(Some(cfg))
    }

    pub fn validate(&self) -> Result<()> {
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::VlmConfig(format!(
                "endpoint {url:?} must start with http:// or https://"
            )));
        }
        if self.model.trim().is_empty() {
            return Err(Error::VlmConfig("the model name is empty".into()));
        }
        if self.max_concurrency == 0 {
            return Err(Error::VlmConfig(
                "max_concurrency must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// `{base_url}/chat/completions`, with one slash between them.
    pub fn completions_url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.base_url.trim().trim_end_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_prefers_sn17_names_and_defaults_the_model() {
        assert!(VlmConfig::from_lookup(lookup(&[])).unwrap().is_none());
        let c = VlmConfig::from_lookup(lookup(&[
            ("OPENAI_BASE_URL", "http://a/v1"),
            ("SN17_VLM_URL", "http://b/v1/"),
            ("OPENAI_API_KEY", "sk-1"),
            ("SN17_VLM_MAX_CONCURRENCY", "8"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.completions_url(), "http://b/v1/chat/completions");
        assert_eq!(c.model, DEFAULT_MODEL);
        assert_eq!(c.api_key, Some(ApiKey::new("sk-1")));
        assert_eq!(c.max_concurrency, 8);
        assert!(
            !format!("{c:?}").contains("sk-1"),
            "the key must not appear in Debug output"
        );
    }

    #[test]
    fn env_rejects_bad_values() {
        assert!(VlmConfig::from_lookup(lookup(&[("SN17_VLM_URL", "ftp://x")])).is_err());
        assert!(VlmConfig::from_lookup(lookup(&[
            ("SN17_VLM_URL", "http://x"),
            ("SN17_VLM_TIMEOUT_SECS", "-1")
        ]))
        .is_err());
        assert!(VlmConfig::from_lookup(lookup(&[
            ("SN17_VLM_URL", "http://x"),
            ("SN17_VLM_MAX_CONCURRENCY", "0")
        ]))
        .is_err());
    }
}
