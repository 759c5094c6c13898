//! `webburn-helper serve`: the page, the protocol v1 WebSocket and pairing,
//! over HTTP on 127.0.0.1 and ::1 only.

mod accept;
mod assets;
pub mod config;
pub mod kiosk;
mod routes;
pub mod security;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::state::pairing_store::PairingStore;
use crate::state::registry::Registry;
pub use config::ServerConfig;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The settings in force.
    pub config: ServerConfig,
    /// The port actually bound (differs from the config's when that is 0).
    pub port: u16,
    /// Recorders on offer.
    pub registry: Arc<Registry>,
    /// Pairing requests and tokens.
    pub pairing: PairingStore,
    /// One permit per open session.
    pub sessions: Arc<Semaphore>,
    /// The next session's id.
    pub next_session: AtomicU64,
    /// Kiosk mode's record of discs done.
    pub history: Option<Arc<crate::state::history::History>>,
    /// The writes running now (for the tray).
    pub activity: Arc<crate::state::activity::Activity>,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A recorder named in the config could not be opened.
    #[error("cannot open recorder {id}: {error}")]
    Recorder {
        /// The recorder id.
        id: String,
        /// Why.
        error: crate::devices::DeviceError,
    },
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// A startup task failed.
    #[error("internal error while starting: {0}")]
    Internal(String),
}

/// A running server; dropping it (or [`RunningServer::shutdown`]) stops accepting.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound port.
    pub port: u16,
    /// The addresses listened on.
    pub addrs: Vec<SocketAddr>,
    /// Shared state, for tests and the CLI.
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The URL of the helper's page.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Stops accepting connections and waits for the listeners to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| ServerError::Bind { addr, error })
}

/// Checks the configured recorders and starts listening on 127.0.0.1 and ::1
/// (::1 is skipped with a warning where the system has no IPv6 loopback).
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    let ids = config.recorders.clone();
    let discover = config
        .discover_drives
        .then_some(crate::devices::discovered_optical_ids as crate::state::registry::Discover);
    let registry = tokio::task::spawn_blocking(move || Registry::open(&ids, discover))
        .await
        .map_err(|e| ServerError::Internal(e.to_string()))?
        .map_err(|(id, error)| ServerError::Recorder { id, error })?;
    let v4 = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
    let v4_addr = v4
        .local_addr()
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let port = v4_addr.port();
    let mut listeners = vec![v4];
    match bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
        Ok(l) => listeners.push(l),
        Err(e) => tracing::warn!("not listening on ::1: {e}"),
    }
    let state = Arc::new(AppState {
        pairing: PairingStore::new(&config.data_dir),
        sessions: Arc::new(Semaphore::new(config.max_sessions)),
        registry: Arc::new(registry),
        next_session: AtomicU64::new(1),
        activity: Arc::default(),
        history: config.kiosk.as_ref().map(|k| {
            Arc::new(crate::state::history::History::new(
                &config.data_dir,
                k.history_size,
            ))
        }),
        port,
        config,
    });
    let app = routes::router(Arc::clone(&state));
    let (stop, stopped) = watch::channel(false);
    let mut addrs = Vec::new();
    let mut tasks = Vec::new();
    for listener in listeners {
        if let Ok(a) = listener.local_addr() {
            addrs.push(a);
        }
        tasks.push(tokio::spawn(accept::serve(
            listener,
            app.clone(),
            stopped.clone(),
        )));
    }
    tracing::info!(?addrs, "listening");
    Ok(RunningServer {
        port,
        addrs,
        state,
        stop,
        tasks,
    })
}
