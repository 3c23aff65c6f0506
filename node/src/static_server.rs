//! A minimal static HTTP/1.1 file server (a miner's CDN for its outputs folder, the devnet's
//! prompt host): `GET /NAME` serves `DIR/NAME` for plain names only (no sub-paths, no dot-dot).

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Largest request head read.
const MAX_REQUEST_BYTES: usize = 8192;

/// A running server; stops when dropped.
pub struct StaticServer {
    url: String,
    task: JoinHandle<()>,
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StaticServer {
    /// Serves `dir` on a free 127.0.0.1 port.
    pub async fn start(dir: PathBuf) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().map_err(std::io::Error::other)?, dir).await
    }

    /// Serves `dir` on `addr`.
    pub async fn start_on(addr: std::net::SocketAddr, dir: PathBuf) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let dir = dir.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(30), serve(sock, dir)).await;
                });
            }
        });
        Ok(Self { url, task })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn plain_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then_some(name)
}

async fn serve(mut sock: TcpStream, dir: PathBuf) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await?;
        if n == 0 || buf.len() + n > MAX_REQUEST_BYTES {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let body = match (method, plain_name(path)) {
        ("GET", Some(name)) => tokio::fs::read(dir.join(name)).await.ok(),
        _ => None,
    };
    let reply = match body {
        Some(body) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    sock.write_all(&reply).await?;
    sock.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::plain_name;

    #[test]
    fn only_plain_names_are_served() {
        assert_eq!(plain_name("/a.ply"), Some("a.ply"));
        assert_eq!(plain_name("/../etc/passwd"), None);
        assert_eq!(plain_name("/a/b.ply"), None);
        assert_eq!(plain_name("/.hidden"), None);
        assert_eq!(plain_name("/"), None);
        assert_eq!(plain_name("a.ply"), None);
    }
}
