//! Counters for VLM traffic: HTTP requests and their failures, attempts and parse failures, fallbacks, latency
//! and tokens. Lock-free; read with [`Metrics::snapshot`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    in_flight: AtomicU64,
    http_errors: AtomicU64,
    timeouts: AtomicU64,
    transport_errors: AtomicU64,
    latency_us_sum: AtomicU64,
    latency_us_max: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    asks: AtomicU64,
    attempts: AtomicU64,
    parse_failures: AtomicU64,
    truncated: AtomicU64,
    fallbacks: AtomicU64,
    ask_failures: AtomicU64,
}

/// A point-in-time copy of [`Metrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// HTTP requests sent (transport retries included).
    pub requests: u64,
    pub in_flight: u64,
    /// Non-2xx answers.
    pub http_errors: u64,
    pub timeouts: u64,
    pub transport_errors: u64,
    /// Total and worst latency of completed HTTP requests, in microseconds.
    pub latency_us_sum: u64,
    pub latency_us_max: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Logical questions asked (each may take several attempts).
    pub asks: u64,
    pub attempts: u64,
    /// Attempts whose content held no valid JSON for the schema.
    pub parse_failures: u64,
    /// Attempts that stopped on `finish_reason: length`.
    pub truncated: u64,
    /// Questions answered by the neutral fallback after every attempt failed.
    pub fallbacks: u64,
    /// Questions that failed with no fallback defined (the checklist).
    pub ask_failures: u64,
}

impl MetricsSnapshot {
    pub fn mean_latency(&self) -> Option<Duration> {
        let done = self
            .requests
            .checked_sub(self.timeouts + self.transport_errors)?;
        (done > 0).then(|| Duration::from_micros(self.latency_us_sum / done))
    }
}

impl Metrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            http_errors: self.http_errors.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            transport_errors: self.transport_errors.load(Relaxed),
            latency_us_sum: self.latency_us_sum.load(Relaxed),
            latency_us_max: self.latency_us_max.load(Relaxed),
            prompt_tokens: self.prompt_tokens.load(Relaxed),
            completion_tokens: self.completion_tokens.load(Relaxed),
            asks: self.asks.load(Relaxed),
            attempts: self.attempts.load(Relaxed),
            parse_failures: self.parse_failures.load(Relaxed),
            truncated: self.truncated.load(Relaxed),
            fallbacks: self.fallbacks.load(Relaxed),
            ask_failures: self.ask_failures.load(Relaxed),
        }
    }

    pub(crate) fn request_started(&self) -> InFlight<'_> {
        self.requests.fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self)
    }

    pub(crate) fn request_finished(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_us_sum.fetch_add(us, Relaxed);
        self.latency_us_max.fetch_max(us, Relaxed);
    }

    pub(crate) fn http_error(&self) {
        self.http_errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn timeout(&self) {
        self.timeouts.fetch_add(1, Relaxed);
    }

    pub(crate) fn transport_error(&self) {
        self.transport_errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn tokens(&self, prompt: Option<u64>, completion: Option<u64>) {
        self.prompt_tokens.fetch_add(prompt.unwrap_or(0), Relaxed);
        self.completion_tokens
            .fetch_add(completion.unwrap_or(0), Relaxed);
    }

    pub(crate) fn ask(&self) {
        self.asks.fetch_add(1, Relaxed);
    }

    pub(crate) fn attempt(&self) {
        self.attempts.fetch_add(1, Relaxed);
    }

    pub(crate) fn parse_failure(&self) {
        self.parse_failures.fetch_add(1, Relaxed);
    }

    pub(crate) fn truncated(&self) {
        self.truncated.fetch_add(1, Relaxed);
    }

    pub(crate) fn fallback(&self) {
        self.fallbacks.fetch_add(1, Relaxed);
    }

    pub(crate) fn ask_failure(&self) {
        self.ask_failures.fetch_add(1, Relaxed);
    }
}

/// Decrements the in-flight gauge when the request ends, however it ends.
pub(crate) struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}
