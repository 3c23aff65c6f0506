//! A small HTTP/1.1 server loop on hyper, shared by the explorer, the validator's metrics and
//! status endpoint, and the miner pod API: one task per connection, a header read timeout,
//! and a cancellation token that ends the accept loop and open connections.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A response with a whole body.
pub type Reply = Response<Full<Bytes>>;

/// Serves `handler` on `listener` until `shutdown`; accept errors end the loop with the error.
pub async fn serve<H, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    handler: H,
) -> std::io::Result<()>
where
    H: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let handler = Arc::new(handler);
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            r = listener.accept() => r?,
        };
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(io, svc);
            tokio::select! {
                _ = shutdown.cancelled() => {}
                r = conn => if let Err(e) = r { tracing::debug!(error = %e, "http connection"); }
            }
        });
    }
}

/// A response with `content_type` and `body`.
pub fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("access-control-allow-origin", "*")
        .body(Full::new(body.into()))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// A pretty-printed JSON response.
pub fn json(status: StatusCode, v: &serde_json::Value) -> Reply {
    reply(
        status,
        "application/json",
        serde_json::to_vec_pretty(v).unwrap_or_default(),
    )
}

/// Reads a request body, refusing more than `max` bytes (`None`).
pub async fn body_limited(req: Request<Incoming>, max: usize) -> Option<Bytes> {
    use http_body_util::BodyExt as _;
    let limited = http_body_util::Limited::new(req.into_body(), max);
    limited.collect().await.ok().map(|c| c.to_bytes())
}
