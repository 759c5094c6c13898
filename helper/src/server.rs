//! `webburn-helper serve`: the page, the protocol v1 WebSocket and pairing,
//! over HTTP on 127.0.0.1 and ::1 only, and the same over TLS on the next
//! port when `install` has made the local certificate authority.

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

use tokio_rustls::TlsAcceptor;

use crate::state::local_ca::LocalCa;
use crate::state::pairing_store::PairingStore;
use crate::state::registry::Registry;
pub use config::ServerConfig;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The settings in force.
    pub config: ServerConfig,
    /// The ports actually bound (they differ from the config's when that is 0).
    pub ports: security::Ports,
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
    /// This run's own-page key.
    pub own_key: security::OwnKey,
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
        error: webburn_engine::devices::DeviceError,
    },
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// The data directory could not be made private to the account.
    #[error(transparent)]
    DataDir(#[from] crate::state::private::DataDirError),
    /// The listening socket has no address.
    #[error("cannot read the listening address: {0}")]
    Address(#[source] std::io::Error),
    /// The system gave no random numbers for the helper's own key.
    #[error("no random numbers from the system: {0}")]
    Random(#[from] getrandom::Error),
    /// A startup task ended without its result.
    #[error("a startup task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A running server; dropping it (or [`RunningServer::shutdown`]) stops accepting.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound port.
    pub port: u16,
    /// The bound TLS port, when listening with TLS.
    pub tls_port: Option<u16>,
    /// The addresses listened on.
    pub addrs: Vec<SocketAddr>,
    /// Shared state, for tests and the CLI.
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The helper's origin's address (its page, without the own-page key).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The link that opens the helper's own page in a browser, with this
    /// run's key (`/own?key=...`): what the tray and `open` open.
    pub fn own_url(&self) -> String {
        own_url(self.port, &self.state.own_key)
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

/// The own-page link of a helper on `port`.
pub fn own_url(port: u16, key: &security::OwnKey) -> String {
    format!("http://127.0.0.1:{port}/own?key={}", key.as_str())
}

/// Adds the TLS listeners (127.0.0.1 and ::1) when the local certificate
/// authority exists; returns their port. Without the authority, or when the
/// port is taken, the helper goes on with HTTP alone (and says why).
async fn listen_tls(
    config: &ServerConfig,
    http: u16,
    listeners: &mut Vec<(TcpListener, Option<TlsAcceptor>)>,
) -> Option<u16> {
    let ca = LocalCa::of(&config.data_dir);
    if !ca.exists() {
        tracing::debug!("no local certificate authority: not listening with TLS");
        return None;
    }
    let identity = match ca.server_identity() {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!("not listening with TLS: {e}");
            return None;
        }
    };
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .and_then(|b| {
        b.with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
    });
    let acceptor = match tls {
        Ok(mut c) => {
            c.alpn_protocols = vec![b"http/1.1".to_vec()];
            TlsAcceptor::from(Arc::new(c))
        }
        Err(e) => {
            tracing::warn!("not listening with TLS: {e}");
            return None;
        }
    };
    let v4 = match bind(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        config.tls_port_for(http),
    )))
    .await
    {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("not listening with TLS: {e}");
            return None;
        }
    };
    let port = v4.local_addr().ok()?.port();
    match bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
        Ok(l) => {
            listeners.push((v4, Some(acceptor.clone())));
            listeners.push((l, Some(acceptor)));
        }
        // Half a listener is one another program could complete.
        Err(e) if ipv6_loopback() => {
            tracing::warn!("not listening with TLS: {e}");
            return None;
        }
        Err(e) => {
            tracing::debug!("no IPv6 loopback: TLS on 127.0.0.1 only ({e})");
            listeners.push((v4, Some(acceptor)));
        }
    }
    Some(port)
}

/// Whether this system has an IPv6 loopback (an ephemeral port binds on ::1).
fn ipv6_loopback() -> bool {
    std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| ServerError::Bind { addr, error })
}

/// Checks the configured recorders and starts listening on 127.0.0.1 and ::1
/// (::1 is skipped with a warning where the system has no IPv6 loopback; a
/// taken [::1]:PORT where it has one stops the start).
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    crate::state::private::prepare(&config.data_dir)?;
    let ids = config.recorders.clone();
    let discover = config.discover_drives.then_some(
        webburn_engine::devices::discovered_recorders as crate::state::registry::Discover,
    );
    let registry = tokio::task::spawn_blocking(move || Registry::open(&ids, discover))
        .await?
        .map_err(|(id, error)| ServerError::Recorder { id, error })?;
    let v4 = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
    let v4_addr = v4.local_addr().map_err(ServerError::Address)?;
    let port = v4_addr.port();
    let mut listeners = vec![(v4, None)];
    match bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
        Ok(l) => listeners.push((l, None)),
        // Where ::1 exists, a program holding [::1]:PORT would get every
        // page that reaches `localhost` over IPv6: the helper does not start.
        Err(e) if ipv6_loopback() => return Err(e),
        Err(e) => tracing::warn!("no IPv6 loopback: listening on 127.0.0.1 only ({e})"),
    }
    let tls_port = if config.tls {
        listen_tls(&config, port, &mut listeners).await
    } else {
        None
    };
    registry.set_consent_lifetimes(config.consent);
    let own_key = security::OwnKey::new()?;
    let state = Arc::new(AppState {
        own_key,
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
        ports: security::Ports {
            http: port,
            tls: tls_port,
        },
        config,
    });
    let app = routes::router(Arc::clone(&state));
    let (stop, stopped) = watch::channel(false);
    let mut addrs = Vec::new();
    let mut tasks = Vec::new();
    for (listener, tls) in listeners {
        if let Ok(a) = listener.local_addr() {
            addrs.push(a);
        }
        let gate = security::AccountGate {
            others: state.config.other_accounts.clone(),
        };
        tasks.push(tokio::spawn(accept::serve(
            listener,
            tls,
            app.clone(),
            gate,
            stopped.clone(),
        )));
    }
    tasks.push(tokio::spawn(
        state.pairing.clone().watch_file(stopped.clone()),
    ));
    tracing::info!(?addrs, "listening");
    Ok(RunningServer {
        port,
        tls_port,
        addrs,
        state,
        stop,
        tasks,
    })
}
