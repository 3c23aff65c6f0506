//! A local CDN on 127.0.0.1 for tests, the simulation and the download benchmark: plain HTTP/1.1
//! over TCP, so a route can misbehave exactly (lie about its length, drip, redirect, never stop).
//!
//! Routes, by the first path segment:
//! * `/m2/…` 404; `/m6/{stem}` 500 when the stem starts with 0–3; `/m3/{stem}` an endless
//!   chunked body when the stem starts with 0–3; any other `/m{i}/{stem}.js` a small module.
//! * `/big/…` declares 2 MiB; `/lying/…` declares 1000 bytes, sends 10, closes; `/understated/…`
//!   declares 64 bytes and sends 4 MiB more; `/drip/…` one
//!   byte every 200 ms; `/redirect/…` 302 to another host; `/binary/…` a PNG; `/endless/…` chunks
//!   forever; `/hang/…` accepts and never answers; `/bench/…` 16 KiB of JavaScript.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running local CDN; dropping it stops accepting.
pub struct LocalCdn {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl LocalCdn {
    /// Binds 127.0.0.1 on `port` (0 for any) and serves in the background.
    pub async fn start(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = serve_conn(sock).await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LocalCdn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The body of a well-behaved module at `path`.
pub fn module_body(path: &str) -> Vec<u8> {
    format!("export default function generate(THREE) {{\n  // {path}\n  return new THREE.Group();\n}}\n").into_bytes()
}

fn bench_body(path: &str) -> Vec<u8> {
    let mut b = module_body(path);
    while b.len() < 16 * 1024 {
        b.extend_from_slice(
            b"  // padding padding padding padding padding padding padding padding\n",
        );
    }
    b.truncate(16 * 1024);
    b
}

async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            buf.drain(..end + 4);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            return Ok(Some(path));
        }
        if buf.len() > 16 * 1024 {
            return Ok(None);
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn respond(
    sock: &mut TcpStream,
    status: &str,
    headers: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n{headers}\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body).await
}

fn starts_low(stem: &str) -> bool {
    stem.chars()
        .next()
        .is_some_and(|c| ('0'..='3').contains(&c))
}

async fn serve_conn(mut sock: TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(path) = read_request(&mut sock, &mut buf).await? {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let first = parts.next().unwrap_or("");
        let stem = parts.next().unwrap_or("").trim_end_matches(".js");
        match first {
            "m2" => respond(&mut sock, "404 Not Found", "", b"not found").await?,
            "m6" if starts_low(stem) => {
                respond(&mut sock, "500 Internal Server Error", "", b"oops").await?
            }
            "m3" | "endless" if first == "endless" || starts_low(stem) => {
                sock.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await?;
                let chunk = vec![b'/'; 16 * 1024];
                loop {
                    let frame = format!("{:x}\r\n", chunk.len());
                    sock.write_all(frame.as_bytes()).await?;
                    sock.write_all(&chunk).await?;
                    sock.write_all(b"\r\n").await?;
                }
            }
            "big" => {
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n")
                    .await?;
                sock.write_all(&[b' '; 1024]).await?;
                return Ok(());
            }
            // Declares 64 bytes, then keeps sending: the framing, not the sender, ends the body.
            "understated" => {
                let mut first = module_body(&path);
                first.resize(64, b' ');
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n")
                    .await?;
                sock.write_all(&first).await?;
                let junk = vec![b'/'; 64 * 1024];
                for _ in 0..64 {
                    sock.write_all(&junk).await?;
                }
                return Ok(());
            }
            "lying" => {
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nexport def")
                    .await?;
                return Ok(());
            }
            "drip" => {
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    .await?;
                loop {
                    sock.write_all(b" ").await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            "redirect" => {
                let loc = format!("Location: http://other-host.invalid/{stem}.js\r\n");
                respond(&mut sock, "302 Found", &loc, b"").await?;
            }
            "binary" => {
                let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
                png.extend_from_slice(&[0u8; 64]);
                respond(&mut sock, "200 OK", "Content-Type: image/png\r\n", &png).await?;
            }
            "hang" => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            "bench" => respond(&mut sock, "200 OK", "", &bench_body(&path)).await?,
            _ => {
                respond(
                    &mut sock,
                    "200 OK",
                    "Content-Type: application/javascript\r\n",
                    &module_body(&path),
                )
                .await?
            }
        }
    }
    Ok(())
}
