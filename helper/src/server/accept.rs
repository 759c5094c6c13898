//! The accept loop, in place of `axum::serve`: every connection is served
//! by hyper (HTTP/1.1 with upgrades, for the WebSocket) under two bounds a
//! hostile local process would otherwise push: a client has
//! [`HEADER_TIMEOUT`] to send its request head (a trickled, never finished
//! request is dropped instead of holding a task and a file descriptor
//! forever), and at most [`MAX_CONNECTIONS`] connections are open at once
//! (beyond, accepting waits until one ends). A TLS listener's handshake
//! gets the same time limit.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::security::AccountGate;

/// How long a client may take to send its request line and headers.
pub(super) const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections open at once per listener (sessions are limited apart).
pub(super) const MAX_CONNECTIONS: usize = 256;

/// Resolves once the server is told to stop.
async fn stop_signal(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// Serves `app` on `listener` (through `tls`, when given) until `stopped`
/// turns true, to the processes `gate` admits.
pub(super) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    gate: AccountGate,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            () = stop_signal(&mut stopped) => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stop_signal(&mut stopped) => return,
        };
        let app = app.clone();
        let tls = tls.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            let Ok(local) = stream.local_addr() else {
                return;
            };
            // Reading the kernel's connection table: not on the event loop.
            let checked = tokio::task::spawn_blocking(move || gate.check(peer, local)).await;
            if let Ok(Err(account)) = checked {
                tracing::warn!(%peer, %account, "refused: a process of another account");
                if tls.is_none() {
                    refuse_other_account(stream).await;
                }
                return;
            }
            match tls {
                None => serve_connection(stream, app).await,
                // The handshake has the request head's time limit too.
                Some(tls) => match tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(stream, app).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                },
            }
            drop(permit);
        });
    }
}

/// Answers 403 and closes: the helper serves only its own account.
async fn refuse_other_account(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = "this webburn helper serves only the processes of the account that runs it\n";
    let reply = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(HEADER_TIMEOUT, async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves one connection with hyper: HTTP/1.1, upgrades, the header timeout.
async fn serve_connection<I>(io: I, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(e) = connection.await {
        tracing::debug!("connection ended: {e}");
    }
}
