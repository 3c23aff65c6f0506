//! The chain client survives its endpoint dropping: a TCP proxy on 127.0.0.1 in front of a real
//! chopsticks chain cuts every connection mid-session; the next reads reconnect (with backoff)
//! and succeed, and a proxy that stays down ends in a named error instead of a hang.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sn17_chain::metagraph::Source;
use sn17_chain::{ChainError, ConnectOptions, Subtensor};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards 127.0.0.1:<port> to `upstream`; bumping `cut` closes every open connection, and
/// `down` refuses new ones while set.
struct Proxy {
    url: String,
    cut: watch::Sender<u64>,
    down: Arc<AtomicBool>,
}

async fn proxy(upstream: String) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", listener.local_addr().expect("addr"));
    let (cut, _) = watch::channel(0u64);
    let down = Arc::new(AtomicBool::new(false));
    let (cut_tx, down_flag) = (cut.clone(), down.clone());
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            if down_flag.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let upstream = upstream.clone();
            let mut cut_rx = cut_tx.subscribe();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                tokio::select! {
                    _ = tokio::io::copy(&mut cr, &mut sw) => {}
                    _ = tokio::io::copy(&mut sr, &mut cw) => {}
                    _ = cut_rx.changed() => {}
                }
            });
        }
    });
    Proxy { url, cut, down }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The chain slot is held for the whole test on purpose; no task of the test takes it.
#[allow(clippy::await_holding_lock)]
async fn reads_reconnect_after_the_endpoint_drops() {
    let Some((_slot, chain)) = crate::spec218_chain().await else {
        return;
    };
    let upstream = chain.url().trim_start_matches("ws://").to_string();
    let p = proxy(upstream).await;
    let client = Subtensor::connect(&p.url, &ConnectOptions::default())
        .await
        .expect("connect through the proxy");
    let before = client.metagraph(1, Source::Storage).await.expect("read");

    // Every connection is cut; the client reconnects and the same read gives the same answer.
    p.cut.send_modify(|n| *n += 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = client
        .metagraph(1, Source::Storage)
        .await
        .expect("read after the drop");
    assert_eq!(before.neurons, after.neurons);
    let head = client.head().await.expect("head after the drop");
    assert!(head.number > 0);

    // The endpoint stays down: reads fail with a named error within bounded time, no hang.
    p.down.store(true, Ordering::SeqCst);
    p.cut.send_modify(|n| *n += 1);
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(120), client.head()).await;
    let err = match r {
        Ok(Err(e)) => e,
        Ok(Ok(h)) => panic!("a read succeeded with the endpoint down: {h:?}"),
        Err(_) => panic!("the read hung for 120 s"),
    };
    assert!(
        matches!(
            err,
            ChainError::Rpc { .. } | ChainError::Timeout { .. } | ChainError::Connect { .. }
        ),
        "{err:?}"
    );
    eprintln!("endpoint down: {err} after {:?}", started.elapsed());
}
