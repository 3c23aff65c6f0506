//! A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (the one stand-in allowed for the VLM): it
//! records every request body and answers with whatever the test's responder returns — JSON content, fenced or
//! prefixed text, `finish_reason: length`, HTTP errors, garbage, delays or no answer at all.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The `Content-Length` header (None for a chunked body).
    pub content_length: Option<u64>,
    pub body: Value,
    /// Arrival order, from 0.
    pub seq: usize,
    pub at: Instant,
}

impl RecordedRequest {
    /// `response_format.json_schema.name` without the `-response` suffix.
    pub fn label(&self) -> &str {
        let name = self.body["response_format"]["json_schema"]["name"]
            .as_str()
            .unwrap_or("");
        name.strip_suffix("-response").unwrap_or(name)
    }

    pub fn seed(&self) -> Option<u64> {
        self.body["seed"].as_u64()
    }

    pub fn temperature(&self) -> Option<f64> {
        self.body["temperature"].as_f64()
    }

    pub fn max_tokens(&self) -> Option<u64> {
        self.body["max_tokens"].as_u64()
    }

    pub fn system(&self) -> &str {
        self.body["messages"][0]["content"].as_str().unwrap_or("")
    }

    /// The user message's parts: `("text", text)` or `("image_url", url)`, in order.
    pub fn parts(&self) -> Vec<(String, String)> {
        self.body["messages"][1]["content"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| {
                        let kind = p["type"].as_str().unwrap_or("").to_string();
                        let value = match kind.as_str() {
                            "text" => p["text"].as_str().unwrap_or(""),
                            "image_url" => p["image_url"]["url"].as_str().unwrap_or(""),
                            _ => "",
                        };
                        (kind, value.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The image data URLs, in order.
    pub fn images(&self) -> Vec<String> {
        self.parts()
            .into_iter()
            .filter(|(k, _)| k == "image_url")
            .map(|(_, v)| v)
            .collect()
    }

    /// The last text part (the instruction).
    pub fn instruction(&self) -> String {
        self.parts()
            .into_iter()
            .rev()
            .find(|(k, _)| k == "text")
            .map(|(_, v)| v)
            .unwrap_or_default()
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a chat completion whose message content is `content` (None → `null`).
    Completion {
        content: Option<String>,
        finish_reason: String,
        reasoning: Option<String>,
    },
    /// Any status with a body, optionally with `Retry-After` seconds.
    Status {
        status: u16,
        body: String,
        retry_after: Option<u32>,
    },
    /// Answer after a delay.
    Delayed(Duration, Box<Reply>),
    /// Never answer (the client must time out).
    Hang,
}

impl Reply {
    /// A normal completion (`finish_reason: stop`).
    pub fn content(text: impl Into<String>) -> Self {
        Reply::Completion {
            content: Some(text.into()),
            finish_reason: "stop".into(),
            reasoning: None,
        }
    }

    /// A JSON value as the content.
    pub fn json(v: Value) -> Self {
        Self::content(v.to_string())
    }

    /// A completion cut off by `max_tokens`.
    pub fn truncated(text: impl Into<String>) -> Self {
        Reply::Completion {
            content: Some(text.into()),
            finish_reason: "length".into(),
            reasoning: None,
        }
    }

    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Reply::Status {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    pub fn delayed(self, by: Duration) -> Self {
        Reply::Delayed(by, Box::new(self))
    }
}

/// Decides the reply to each request.
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

struct State {
    responder: Responder,
    requests: Mutex<Vec<RecordedRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    connections: Mutex<Vec<AbortHandle>>,
}

/// The running server; stops (and drops its connections) when dropped.
pub struct ScriptedServer {
    addr: SocketAddr,
    state: Arc<State>,
    accept: AbortHandle,
}

impl ScriptedServer {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start(
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            responder: Arc::new(responder),
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            connections: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let st2 = st.clone();
                let conn = tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, st2.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                if let Ok(mut c) = st.connections.lock() {
                    c.retain(|h| !h.is_finished());
                    c.push(conn.abort_handle());
                }
            }
        })
        .abort_handle();
        Ok(Self {
            addr,
            state,
            accept,
        })
    }

    /// The OpenAI base URL (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Most requests the server was handling at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(c) = self.state.connections.lock() {
            c.iter().for_each(AbortHandle::abort);
        }
    }
}

struct InFlight<'a>(&'a State);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    req: Request<Incoming>,
    st: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&st);
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_length = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = match req.into_body().collect().await {
        Ok(b) => serde_json::from_slice(&b.to_bytes()).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let recorded = {
        let mut all = match st.requests.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let r = RecordedRequest {
            method,
            path,
            authorization,
            content_length,
            body,
            seq: all.len(),
            at: Instant::now(),
        };
        all.push(r.clone());
        r
    };
    let mut reply = (st.responder)(&recorded);
    loop {
        match reply {
            Reply::Delayed(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                reply = Reply::status(504, "hung");
            }
            Reply::Status {
                status,
                body,
                retry_after,
            } => {
                let mut resp = Response::builder().status(status);
                if let Some(s) = retry_after {
                    resp = resp.header(hyper::header::RETRY_AFTER, s.to_string());
                }
                return Ok(resp
                    .body(Full::new(Bytes::from(body)))
                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))));
            }
            Reply::Completion {
                content,
                finish_reason,
                reasoning,
            } => {
                let body = serde_json::json!({
                    "id": format!("chatcmpl-{}", recorded.seq),
                    "object": "chat.completion",
                    "model": recorded.body["model"],
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "reasoning_content": reasoning},
                        "finish_reason": finish_reason
                    }],
                    "usage": {"prompt_tokens": 4000, "completion_tokens": 42, "total_tokens": 4042}
                });
                return Ok(Response::builder()
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.to_string())))
                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))));
            }
        }
    }
}

/// A responder that plays a consistent judge for duels: it knows which image belongs to which side (by data
/// URL) and answers each stage's schema from `penalty(first_side_is_a)` style callbacks. Useful for full-duel
/// tests and benchmarks.
pub mod judge_script {
    use serde_json::{json, Value};

    use super::{RecordedRequest, Reply};

    /// What the scripted judge thinks of the two sides.
    #[derive(Debug, Clone)]
    pub struct Opinion {
        /// Penalties for side A and side B in S1 / S3 / 2A / 2B questions.
        pub penalty_a: i64,
        pub penalty_b: i64,
        /// Checklist verdicts per side: (matches, main_object_correct).
        pub checklist_a: (Vec<&'static str>, bool),
        pub checklist_b: (Vec<&'static str>, bool),
        /// Side-guard verdicts per side (right, back, left, top_down).
        pub guard_a: [&'static str; 4],
        pub guard_b: [&'static str; 4],
    }

    impl Default for Opinion {
        fn default() -> Self {
            Self {
                penalty_a: 3,
                penalty_b: 3,
                checklist_a: (vec!["yes"; 5], true),
                checklist_b: (vec!["yes"; 5], true),
                guard_a: ["ok"; 4],
                guard_b: ["ok"; 4],
            }
        }
    }

    /// Answers a request given which data URLs belong to side A.
    pub fn answer(req: &RecordedRequest, is_a: impl Fn(&str) -> bool, o: &Opinion) -> Reply {
        let images = req.images();
        let label = req.label().to_string();
        let pen = |img: &str| if is_a(img) { o.penalty_a } else { o.penalty_b };
        // The models are the last images (a text prompt replaces the reference image with text).
        let last = |k: usize| {
            images
                .len()
                .checked_sub(k)
                .and_then(|i| images.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let v: Value = match label.as_str() {
            "s1_prompt_match" | "s2bv_ab" | "s2bv_ba" | "s2ac_ab" | "s2ac_ba" | "s3_gray_ab"
            | "s3_gray_ba" => {
                json!({"penalty_1": pen(&last(2)), "penalty_2": pen(&last(1)), "issues": "scripted"})
            }
            "s2cl_decompose" => json!({"main_object": "test object", "features": (0..5)
                .map(|i| json!({"description": format!("feature {i}"), "category": "shape"}))
                .collect::<Vec<_>>()}),
            "s2cl_verify" => {
                let (matches, main) = if is_a(&last(1)) {
                    &o.checklist_a
                } else {
                    &o.checklist_b
                };
                json!({"checks": matches.iter().enumerate()
                    .map(|(i, m)| json!({"feature": format!("feature {i}"), "match": m, "note": "scripted"}))
                    .collect::<Vec<_>>(), "main_object_correct": main})
            }
            "s4_per_angle" => {
                let guard = if is_a(&last(2)) {
                    &o.guard_a
                } else {
                    &o.guard_b
                };
                let text = req
                    .parts()
                    .get(2)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                let i = [
                    "the right side",
                    "the back",
                    "the left side",
                    "directly above",
                ]
                .iter()
                .position(|d| text.contains(d))
                .unwrap_or(0);
                json!({"verdict": guard[i], "reason": "scripted"})
            }
            "explain" => json!({"issues": "scripted summary"}),
            other => json!({"error": format!("unknown label {other}")}),
        };
        Reply::json(v)
    }
}
