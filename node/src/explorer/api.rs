//! The explorer's HTTP server (hyper 1, HTTP/1.1, GET only) and its JSON views, plus the
//! catch-up client that fills a node's store from another explorer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use sn17_storage::db::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::gossip::message::{Kind, Payload};
use crate::gossip::records::{self, RawMessage, StoredMessage};
use crate::gossip::{GossipHandle, MetagraphView};

/// The web page, served at `/`.
const PAGE: &str = include_str!("page.html");

/// Errors of the explorer.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    #[error("HTTP server on {addr}: {reason}")]
    Serve { addr: String, reason: String },
    #[error("catch-up from {url}: {reason}")]
    CatchUp { url: String, reason: String },
    #[error(transparent)]
    Gossip(#[from] crate::gossip::GossipError),
}

/// What the API reads: the store, the gossip handle, the metagraph.
pub struct ExplorerState {
    pub store: Store,
    pub gossip: GossipHandle,
    pub metagraph: Arc<dyn MetagraphView>,
    /// Base URL of validators' renders (`{base}/rounds/N/HOTKEY/submitted/STEM/grid.png`,
    /// competition.md §2.4); the page shows them as thumbnails when they load.
    pub renders_url: Option<String>,
}

/// Serves the API on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: Arc<ExplorerState>,
    shutdown: CancellationToken,
) -> Result<(), ExplorerError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(%addr, "explorer listening");
    crate::http::serve(listener, shutdown, move |req| {
        let state = state.clone();
        async move { handle(&state, req).await }
    })
    .await
    .map_err(|e| ExplorerError::Serve {
        addr,
        reason: e.to_string(),
    })
}

async fn handle(state: &ExplorerState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": "GET only"}),
        );
    }
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = parse_query(req.uri().query().unwrap_or(""));
    match route(state, &path, &query).await {
        Ok(Reply::Page) => Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from_static(PAGE.as_bytes())))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Ok(Reply::Json(v)) => json_response(StatusCode::OK, &v),
        Ok(Reply::Text(body)) => Response::builder()
            .header("content-type", "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Err((status, msg)) => json_response(status, &json!({ "error": msg })),
    }
}

enum Reply {
    Page,
    Json(Value),
    Text(Vec<u8>),
}

type RouteResult = Result<Reply, (StatusCode, String)>;

async fn route(state: &ExplorerState, path: &str, q: &BTreeMap<String, String>) -> RouteResult {
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let bad = |e: String| (StatusCode::BAD_REQUEST, e);
    let round_filter = match q.get("round") {
        Some(r) => Some(r.parse::<u64>().map_err(|_| bad(format!("round {r:?}")))?),
        None => None,
    };
    let messages = || records::all(&state.store).map_err(|e| internal(e.to_string()));
    // One round through the round index, not a scan of every message.
    let of_round =
        |round: u64| records::of_round(&state.store, round).map_err(|e| internal(e.to_string()));
    match path {
        "" | "/index.html" => Ok(Reply::Page),
        "/api/status" => {
            let stats = state
                .gossip
                .stats()
                .await
                .map_err(|e| internal(e.to_string()))?;
            let listen = state
                .gossip
                .listen_addrs()
                .await
                .map_err(|e| internal(e.to_string()))?;
            let mg = state.metagraph.snapshot();
            Ok(Reply::Json(json!({
                "peer_id": state.gossip.peer_id().to_string(),
                "netuid": state.gossip.netuid(),
                "listen": listen.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "head_estimate": mg.head(),
                "renders_url": state.renders_url,
                "stats": stats,
            })))
        }
        "/api/rounds" => {
            // The newest `limit` rounds (default 100, at most 1000) below `before`: only their
            // messages are read.
            let limit = match q.get("limit") {
                Some(l) => l
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=1000).contains(l))
                    .ok_or_else(|| bad(format!("limit {l:?} (1 to 1000)")))?,
                None => 100,
            };
            let before = match q.get("before") {
                Some(b) => Some(b.parse::<u64>().map_err(|_| bad(format!("before {b:?}")))?),
                None => None,
            };
            let shown = records::of_recent_rounds(&state.store, before, limit)
                .map_err(|e| internal(e.to_string()))?;
            Ok(Reply::Json(rounds_summary(&shown)))
        }
        "/api/peers" => {
            let peers = state
                .gossip
                .peers()
                .await
                .map_err(|e| internal(e.to_string()))?;
            Ok(Reply::Json(json!(peers)))
        }
        "/api/metagraph" => Ok(Reply::Json(json!(state.metagraph.snapshot().summary()))),
        "/api/messages" => {
            let kind = match q.get("kind") {
                Some(k) => Some(Kind::parse(k).ok_or_else(|| bad(format!("kind {k:?}")))?),
                None => None,
            };
            let source = match round_filter {
                Some(r) => of_round(r)?,
                None => messages()?,
            };
            let raw: Vec<RawMessage> = source
                .into_iter()
                .filter(|m| kind.is_none_or(|k| m.kind == k))
                .map(|m| RawMessage {
                    id: m.id,
                    topic: m.kind.name().into(),
                    envelope_hex: hex::encode(&m.bytes),
                })
                .collect();
            Ok(Reply::Json(json!(raw)))
        }
        _ => {
            if let Some(n) = path
                .strip_prefix("/api/rounds/")
                .and_then(|p| p.strip_suffix("/prompts"))
            {
                let round: u64 = n.parse().map_err(|_| bad(format!("round {n:?}")))?;
                return round_prompts(&of_round(round)?)
                    .map(Reply::Text)
                    .ok_or_else(|| {
                        (
                            StatusCode::NOT_FOUND,
                            format!("no seed of round {round} carries its prompts"),
                        )
                    });
            }
            if let Some(n) = path.strip_prefix("/api/rounds/") {
                let round: u64 = n.parse().map_err(|_| bad(format!("round {n:?}")))?;
                let all: Vec<StoredMessage> = of_round(round)?;
                if all.is_empty() {
                    return Err((
                        StatusCode::NOT_FOUND,
                        format!("no messages for round {round}"),
                    ));
                }
                let of = |k: Kind| -> Vec<Value> {
                    all.iter()
                        .filter(|m| m.kind == k)
                        .map(message_json)
                        .collect()
                };
                return Ok(Reply::Json(json!({
                    "round": round,
                    "seeds": of(Kind::Seed),
                    "manifests": of(Kind::Manifest),
                    "results": of(Kind::Result),
                    "leaders": of(Kind::Leader),
                })));
            }
            if let Some(k) = path.strip_prefix("/api/").and_then(Kind::parse) {
                let source = match round_filter {
                    Some(r) => of_round(r)?,
                    None => messages()?,
                };
                let list: Vec<Value> = source
                    .iter()
                    .filter(|m| m.kind == k)
                    .map(message_json)
                    .collect();
                return Ok(Reply::Json(json!(list)));
            }
            Err((StatusCode::NOT_FOUND, format!("no route {path}")))
        }
    }
}

/// `prompts.txt` of a round from the first of its seeds that carries it inline (validation
/// checked it against the seed's `prompts_sha256`).
fn round_prompts(messages: &[StoredMessage]) -> Option<Vec<u8>> {
    messages.iter().find_map(|m| match &m.envelope.payload {
        Payload::Seed(s) if !s.prompts_inline.is_empty() => Some(s.prompts_inline.clone()),
        _ => None,
    })
}

fn message_json(m: &StoredMessage) -> Value {
    json!({
        "id": m.id,
        "topic": m.kind.name(),
        "peer": m.peer,
        "received_at_block": m.received_at_block,
        "message": m.envelope.to_json(),
    })
}

/// One row per round, newest first.
fn rounds_summary(all: &[StoredMessage]) -> Value {
    #[derive(Default)]
    struct Row {
        seeds: usize,
        manifests: usize,
        results: usize,
        seed: Option<u32>,
        latest_reveal_block: Option<u64>,
        winner: Option<String>,
        matches: usize,
        state_repo: Option<String>,
        state_commit: Option<String>,
        last_block: u64,
    }
    let mut rows: BTreeMap<u64, Row> = BTreeMap::new();
    for m in all {
        let r = rows.entry(m.envelope.payload.round()).or_default();
        r.last_block = r.last_block.max(m.envelope.block);
        match &m.envelope.payload {
            Payload::Seed(s) => {
                r.seeds += 1;
                r.seed.get_or_insert(s.seed);
                r.latest_reveal_block
                    .get_or_insert(s.schedule.latest_reveal_block);
            }
            Payload::Manifest(_) => r.manifests += 1,
            Payload::Result(res) => {
                r.results += 1;
                if r.winner.is_none() {
                    r.winner = Some(res.winner.clone());
                    r.matches = res.matches.len();
                    r.state_repo = Some(res.state_repo.clone());
                    r.state_commit = Some(res.state_commit.clone());
                }
            }
            Payload::Leader(_) => {}
        }
    }
    Value::Array(
        rows.into_iter()
            .rev()
            .map(|(round, r)| {
                json!({
                    "round": round,
                    "seeds": r.seeds,
                    "manifests": r.manifests,
                    "results": r.results,
                    "seed": r.seed,
                    "latest_reveal_block": r.latest_reveal_block,
                    "winner": r.winner,
                    "matches": r.matches,
                    "state_repo": r.state_repo,
                    "state_commit": r.state_commit,
                    "last_block": r.last_block,
                })
            })
            .collect(),
    )
}

fn json_response(status: StatusCode, v: &Value) -> Response<Full<Bytes>> {
    crate::http::json(status, v)
}

fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// Fetches every message an explorer at `base` (`http://host:port`) holds and ingests each
/// through the node's validator (signature and registration are checked again; nothing is
/// trusted from the explorer). Returns (new, already known, invalid).
pub async fn catch_up(
    base: &str,
    gossip: &GossipHandle,
) -> Result<(usize, usize, usize), ExplorerError> {
    let url = format!("{}/api/messages", base.trim_end_matches('/'));
    let err = |reason: String| ExplorerError::CatchUp {
        url: url.clone(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| err(e.to_string()))?;
    let resp = client
        .get(&url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {}", resp.status().as_u16())));
    }
    let body = resp.bytes().await.map_err(|e| err(e.to_string()))?;
    let list: Vec<RawMessage> = serde_json::from_slice(&body).map_err(|e| err(e.to_string()))?;
    let (mut new, mut known, mut invalid) = (0, 0, 0);
    for m in list {
        let (Some(kind), Ok(bytes)) = (Kind::parse(&m.topic), hex::decode(&m.envelope_hex)) else {
            invalid += 1;
            continue;
        };
        match gossip.ingest(bytes, kind).await {
            Ok(true) => new += 1,
            Ok(false) => known += 1,
            Err(crate::gossip::GossipError::Invalid(reason)) => {
                tracing::debug!(id = %m.id, %reason, "catch-up message refused");
                invalid += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(new, known, invalid, "caught up from {base}");
    Ok((new, known, invalid))
}
