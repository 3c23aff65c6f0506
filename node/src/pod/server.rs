//! The miner's side of the pod API: any [`Generator`] behind `GET /health`, `GET /status`,
//! `POST /generate` and `GET /results` (`sn17 miner pod`; the devnet's miners run one each).
//! One batch at a time: a different prompt set while generating is a 409, the same set is
//! accepted again (the API is idempotent per stem set).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::json;
use sn17_node::http::{self, Reply};
use tokio_util::sync::CancellationToken;

use super::{zipfile, GenerateRequest, PromptRef};

/// Largest `POST /generate` body and prompt image read.
const MAX_REQUEST_BYTES: usize = 1 << 20;
const MAX_IMAGE_BYTES: u64 = 16 << 20;

/// A 3D generator: prompt image → output file.
pub trait Generator: Send + Sync + 'static {
    /// The output's file extension (`ply`, `spz`, `glb`, `js`).
    fn ext(&self) -> &str;
    fn generate(&self, stem: &str, image: &[u8], seed: u32) -> Result<Vec<u8>, String>;
}

#[derive(Default)]
struct Job {
    /// Sorted stems of the current batch.
    stems: Vec<String>,
    running: bool,
    done: usize,
    total: usize,
    outputs: BTreeMap<String, Vec<u8>>,
    failed: BTreeMap<String, String>,
}

struct Shared {
    generator: Arc<dyn Generator>,
    job: Mutex<Job>,
    http: reqwest::Client,
}

/// A running pod server; stops when dropped.
pub struct PodServer {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for PodServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl PodServer {
    /// Serves `generator` on `addr` (port 0 picks a free one).
    pub async fn start(addr: SocketAddr, generator: Arc<dyn Generator>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            generator,
            job: Mutex::new(Job::default()),
            http,
        });
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let r = http::serve(listener, token, move |req| {
                let shared = shared.clone();
                async move { handle(shared, req).await }
            })
            .await;
            if let Err(e) = r {
                tracing::warn!(error = %e, "pod server stopped");
            }
        });
        Ok(Self { addr, shutdown })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn status_of(job: &Job) -> &'static str {
    if job.running {
        "generating"
    } else if job.total > 0 {
        "complete"
    } else {
        "ready"
    }
}

async fn handle(shared: Arc<Shared>, req: hyper::Request<hyper::body::Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    match (req.method().clone(), path.as_str()) {
        (Method::GET, "/health") => http::json(StatusCode::OK, &json!({"status": "ok"})),
        (Method::GET, "/status") => {
            let job = shared.job.lock().unwrap_or_else(|p| p.into_inner());
            http::json(
                StatusCode::OK,
                &json!({"status": status_of(&job), "progress": job.done, "total": job.total, "payload": null}),
            )
        }
        (Method::POST, "/generate") => {
            let Some(body) = http::body_limited(req, MAX_REQUEST_BYTES).await else {
                return http::json(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &json!({"detail": "body too large"}),
                );
            };
            let request: GenerateRequest = match serde_json::from_slice(&body) {
                Ok(r) => r,
                Err(e) => {
                    return http::json(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &json!({"detail": e.to_string()}),
                    )
                }
            };
            start(shared, request)
        }
        (Method::GET, "/results") => {
            let job = shared.job.lock().unwrap_or_else(|p| p.into_inner());
            if job.running || job.total == 0 {
                return http::json(
                    StatusCode::CONFLICT,
                    &json!({"detail": "no finished batch", "current_status": status_of(&job)}),
                );
            }
            match zipfile::write(&job.outputs, &job.failed, shared.generator.ext()) {
                Ok(z) => http::reply(StatusCode::OK, "application/zip", z),
                Err(e) => http::json(StatusCode::INTERNAL_SERVER_ERROR, &json!({"detail": e})),
            }
        }
        _ => http::json(StatusCode::NOT_FOUND, &json!({"detail": "not found"})),
    }
}

fn start(shared: Arc<Shared>, request: GenerateRequest) -> Reply {
    let mut stems: Vec<String> = request.prompts.iter().map(|p| p.stem.clone()).collect();
    stems.sort();
    stems.dedup();
    {
        let mut job = shared.job.lock().unwrap_or_else(|p| p.into_inner());
        if job.stems == stems && job.total > 0 {
            return http::json(StatusCode::OK, &json!({"accepted": stems.len()}));
        }
        if job.running {
            return http::json(
                StatusCode::CONFLICT,
                &json!({"detail": "another batch is generating", "current_status": "generating"}),
            );
        }
        *job = Job {
            stems: stems.clone(),
            running: true,
            total: stems.len(),
            ..Job::default()
        };
    }
    let accepted = stems.len();
    tokio::spawn(run_job(shared, request.prompts, request.seed));
    http::json(StatusCode::OK, &json!({"accepted": accepted}))
}

async fn fetch_image(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("prompt image: {e}"))?;
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("prompt image: {e}"))?
    {
        if (out.len() + chunk.len()) as u64 > MAX_IMAGE_BYTES {
            return Err("prompt image too large".into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn run_job(shared: Arc<Shared>, prompts: Vec<PromptRef>, seed: u32) {
    for p in prompts {
        let result = match fetch_image(&shared.http, &p.image_url).await {
            Ok(image) => {
                let generator = shared.generator.clone();
                let stem = p.stem.clone();
                tokio::task::spawn_blocking(move || generator.generate(&stem, &image, seed))
                    .await
                    .unwrap_or_else(|e| Err(format!("generator crashed: {e}")))
            }
            Err(e) => Err(e),
        };
        let mut job = shared.job.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(bytes) => {
                job.outputs.insert(p.stem, bytes);
            }
            Err(reason) => {
                job.failed.insert(p.stem, reason);
            }
        }
        job.done += 1;
    }
    shared.job.lock().unwrap_or_else(|p| p.into_inner()).running = false;
}
