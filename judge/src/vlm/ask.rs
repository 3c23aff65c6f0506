//! One question to the VLM with 404's retry schedule (`_safe_chat_json`): attempt a = 0.. sends temperature
//! `t0` then `0.1 + 0.05·a`, seed `base + a + 100`, parses tolerantly, sleeps `unit·(a+1)` between attempts and,
//! when every attempt fails, returns the caller's neutral fallback (or an error where none is defined).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::extract::{coerce_int_fields, parse_with};
use super::{Call, Part, Vlm, VlmError};

/// A structured answer type: its JSON schema (sent as `response_format`) and its validation.
pub trait VlmResponse: DeserializeOwned {
    /// Top-level integer fields that are rounded from floats or numeric strings before validation.
    const INT_FIELDS: &'static [&'static str] = &[];
    fn schema() -> &'static Value;
    /// Checks serde cannot express (list lengths).
    fn is_valid(&self) -> bool {
        true
    }

    /// Validates one parsed candidate.
    fn from_value(mut v: Value) -> Option<Self> {
        coerce_int_fields(&mut v, Self::INT_FIELDS);
        serde_json::from_value::<Self>(v)
            .ok()
            .filter(Self::is_valid)
    }
}

/// Backoff between attempts: `unit·(a+1)` after attempt a (404: 0.5 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub backoff_unit: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            backoff_unit: Duration::from_millis(500),
        }
    }
}

/// One question: everything but the per-attempt sampling settings.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub label: &'a str,
    pub system: &'a str,
    pub parts: &'a [Part],
    pub max_tokens: u32,
    /// Base seed; attempt a sends `seed + a + 100`.
    pub seed: u64,
    /// Temperature of the first attempt (0 for every 404 stage).
    pub temperature: f64,
    pub max_attempts: u32,
}

impl Ask<'_> {
    /// 404's schedule: the stage temperature first, then `0.1 + 0.05·a`.
    pub fn temperature_of(&self, attempt: u32) -> f64 {
        if attempt == 0 {
            self.temperature
        } else {
            0.1 + 0.05 * f64::from(attempt)
        }
    }

    pub fn seed_of(&self, attempt: u32) -> u64 {
        self.seed + u64::from(attempt) + 100
    }
}

/// Every attempt failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{label}: all {attempts} attempts failed; last: {last}")]
pub struct AskError {
    pub label: String,
    pub attempts: u32,
    pub last: String,
}

/// Asks until an answer parses or the attempts run out.
pub async fn ask<T: VlmResponse>(
    vlm: &dyn Vlm,
    policy: &RetryPolicy,
    q: &Ask<'_>,
) -> Result<T, AskError> {
    let metrics = vlm.metrics();
    metrics.ask();
    let schema = T::schema();
    let mut last = String::from("no attempt made");
    for attempt in 0..q.max_attempts {
        let call = Call {
            label: q.label,
            system: q.system,
            parts: q.parts,
            schema,
            max_tokens: q.max_tokens,
            temperature: q.temperature_of(attempt),
            seed: q.seed_of(attempt),
        };
        metrics.attempt();
        match vlm.complete(&call).await {
            Ok(completion) => {
                if completion.finish_reason.as_deref() == Some("length") {
                    // 404 does not look at finish_reason: a truncated answer is parsed like any other and, being
                    // incomplete JSON, normally fails and is retried.
                    metrics.truncated();
                }
                let text = completion.content.unwrap_or_default();
                if let Some(v) = parse_with(&text, T::from_value) {
                    if attempt > 0 {
                        tracing::info!(
                            label = q.label,
                            attempt = attempt + 1,
                            "VLM answer parsed after a retry"
                        );
                    }
                    return Ok(v);
                }
                metrics.parse_failure();
                last = format!("unparseable answer: {:?}", truncate(&text, 200));
            }
            Err(e) => last = describe(&e),
        }
        tracing::warn!(label = q.label, attempt = attempt + 1, of = q.max_attempts, error = %last, "VLM attempt failed");
        if attempt + 1 < q.max_attempts {
            tokio::time::sleep(policy.backoff_unit * (attempt + 1)).await;
        }
    }
    Err(AskError {
        label: q.label.to_string(),
        attempts: q.max_attempts,
        last,
    })
}

/// [`ask`], answering `fallback` when every attempt fails. The flag says whether the fallback was used.
pub async fn ask_or<T: VlmResponse>(
    vlm: &dyn Vlm,
    policy: &RetryPolicy,
    q: &Ask<'_>,
    fallback: T,
) -> (T, bool) {
    match ask::<T>(vlm, policy, q).await {
        Ok(v) => (v, false),
        Err(e) => {
            vlm.metrics().fallback();
            tracing::error!(label = q.label, error = %e, "every VLM attempt failed; using the neutral answer");
            (fallback, true)
        }
    }
}

fn describe(e: &VlmError) -> String {
    e.to_string()
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_matches_404() {
        let q = Ask {
            label: "x",
            system: "",
            parts: &[],
            max_tokens: 1,
            seed: 1000,
            temperature: 0.0,
            max_attempts: 5,
        };
        let temps: Vec<f64> = (0..5).map(|a| q.temperature_of(a)).collect();
        assert_eq!(
            temps,
            vec![0.0, 0.1 + 0.05, 0.1 + 0.1, 0.1 + 0.05 * 3.0, 0.1 + 0.2]
        );
        assert_eq!(temps[1], 0.15000000000000002);
        let seeds: Vec<u64> = (0..5).map(|a| q.seed_of(a)).collect();
        assert_eq!(seeds, vec![1100, 1101, 1102, 1103, 1104]);
    }
}
