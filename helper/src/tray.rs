//! The tray icon of `serve` (cargo feature `tray`, Linux desktops and
//! Windows): the status (idle, or writing 42% to a drive), pairing prompts
//! to approve or refuse, open the page, quit. What it shows and does is
//! plain data in [`menu`]; `sni` puts it on the session bus for a Linux
//! desktop's tray host, `win32` in Windows' notification area.

pub(crate) mod icon;
pub(crate) mod menu;
#[cfg(all(feature = "tray", target_os = "linux"))]
mod sni;
#[cfg(all(feature = "tray", windows))]
mod win32;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::server::AppState;
use menu::{DriveLine, PendingLine, Snapshot};

/// Whether `serve` shows a tray icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TrayMode {
    /// Where a desktop's tray host runs.
    #[default]
    Auto,
    /// Always; `serve` fails if it cannot.
    On,
    /// Never.
    Off,
}

/// What the tray shows for the helper's state now (reads the pairing file).
pub(crate) fn snapshot(state: &AppState) -> Snapshot {
    let drives = state
        .activity
        .snapshot()
        .into_iter()
        .map(|d| DriveLine {
            name: state
                .registry
                .cached(&d.recorder)
                .map(|i| i.product_id.trim().to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or(d.recorder),
            percent: d.percent,
            action: d.action,
            job: d.job,
        })
        .collect();
    let kiosk = state.config.kiosk.is_some();
    let pending = if kiosk {
        Vec::new()
    } else {
        state
            .pairing
            .list()
            .map(|(pending, _)| pending)
            .unwrap_or_default()
            .into_iter()
            .filter(crate::state::pairing_store::Pending::is_waiting)
            .map(|p| PendingLine {
                code: p.code,
                origin: p.origin,
            })
            .collect()
    };
    Snapshot {
        page_url: crate::server::own_url(state.ports.http, &state.own_key),
        kiosk,
        drives,
        pending,
        devices: state.registry.device_requests(),
    }
}

/// Opens the page in the user's browser (without waiting for the browser).
#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
fn open_page(url: &str) {
    let (program, args) = menu::open_command(std::env::consts::OS, url);
    match std::process::Command::new(&program).args(&args).spawn() {
        // Reaped on a blocking thread so no zombie is left.
        Ok(mut child) => drop(tokio::task::spawn_blocking(move || child.wait())),
        Err(e) => tracing::warn!("cannot open {url} with {program}: {e}"),
    }
}

/// Why no tray icon is shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TrayError {
    /// This build has no tray (the `tray` feature, Linux desktops and Windows).
    #[cfg(not(all(feature = "tray", any(target_os = "linux", windows))))]
    #[error("this helper was built without the tray feature (Linux desktops, Windows)")]
    NotBuilt,
    /// The desktop shows none: no session bus or StatusNotifier host, no
    /// window or notification area.
    #[error("no place for a tray icon: {0}")]
    NoHost(String),
    /// The tray's thread or task did not run.
    #[cfg(windows)]
    #[error("the tray's thread failed: {0}")]
    Thread(String),
}

/// Shows the tray per `mode` and keeps it current; Quit notifies `quit`.
/// `Err` when `mode` is On and no tray can be shown.
pub(crate) async fn start(
    state: Arc<AppState>,
    mode: TrayMode,
    quit: Arc<Notify>,
) -> Result<(), TrayError> {
    if mode == TrayMode::Off {
        return Ok(());
    }
    match show(state, quit).await {
        Ok(()) => Ok(()),
        Err(why) if mode == TrayMode::Auto => {
            tracing::info!("no tray icon: {why}");
            Ok(())
        }
        Err(why) => Err(why),
    }
}

#[cfg(not(all(feature = "tray", any(target_os = "linux", windows))))]
#[allow(clippy::unused_async)] // the same signature as the real one
async fn show(_state: Arc<AppState>, _quit: Arc<Notify>) -> Result<(), TrayError> {
    Err(TrayError::NotBuilt)
}

/// The platform's icon as the tray's loop drives it.
#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
trait Icon: Send + Sync + 'static {
    /// Shows `now`; `false` once the icon is gone.
    fn update(&self, now: Snapshot) -> impl std::future::Future<Output = bool> + Send;
    /// Removes the icon.
    fn shutdown(self) -> impl std::future::Future<Output = ()> + Send;
}

#[cfg(all(feature = "tray", target_os = "linux"))]
impl Icon for ksni::Handle<sni::TrayItem> {
    async fn update(&self, now: Snapshot) -> bool {
        ksni::Handle::update(self, move |t| t.snapshot = now)
            .await
            .is_some()
    }

    async fn shutdown(self) {
        ksni::Handle::shutdown(&self).await;
    }
}

#[cfg(all(feature = "tray", windows))]
impl Icon for win32::Handle {
    async fn update(&self, now: Snapshot) -> bool {
        win32::Handle::update(self, now)
    }

    async fn shutdown(self) {
        // Joins the icon's thread, which ends at once.
        let _ = tokio::task::spawn_blocking(move || win32::Handle::shutdown(self)).await;
    }
}

/// Shows the platform's icon.
#[cfg(all(feature = "tray", target_os = "linux"))]
async fn spawn_icon(
    shown: Snapshot,
    tx: tokio::sync::mpsc::UnboundedSender<menu::Action>,
) -> Result<impl Icon, TrayError> {
    sni::spawn(shown, tx).await
}

/// Shows the platform's icon.
#[cfg(all(feature = "tray", windows))]
async fn spawn_icon(
    shown: Snapshot,
    tx: tokio::sync::mpsc::UnboundedSender<menu::Action>,
) -> Result<impl Icon, TrayError> {
    tokio::task::spawn_blocking(move || win32::spawn(shown, tx))
        .await
        .map_err(|e| TrayError::Thread(e.to_string()))?
}

#[cfg(all(feature = "tray", any(target_os = "linux", windows)))]
async fn show(state: Arc<AppState>, quit: Arc<Notify>) -> Result<(), TrayError> {
    use menu::Action;
    use std::time::Duration;

    /// How often requests are looked at for expiry when nothing signals.
    const EXPIRY_LOOK: Duration = Duration::from_secs(30);

    let current = |state: &Arc<AppState>| {
        let state = Arc::clone(state);
        async move {
            tokio::task::spawn_blocking(move || snapshot(&state))
                .await
                .unwrap_or_default()
        }
    };
    let (tx, mut actions) = tokio::sync::mpsc::unbounded_channel();
    let mut shown = current(&state).await;
    let handle = spawn_icon(shown.clone(), tx).await?;
    tracing::info!("tray icon shown");
    // What the icon shows changes with the drives, the pairings and the
    // person's requests: it is made again when one of them signals, and
    // every half minute for requests that expire with time.
    let mut drives = state.activity.subscribe();
    let mut pairings = state.pairing.subscribe();
    let mut requests = state.registry.decisions();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Ok(()) = drives.changed() => {}
                Ok(()) = pairings.changed() => {}
                Ok(()) = requests.changed() => {}
                () = tokio::time::sleep(EXPIRY_LOOK) => {}
                action = actions.recv() => match action {
                    None | Some(Action::Quit) => {
                        tracing::info!("quit from the tray");
                        quit.notify_one();
                        break;
                    }
                    Some(Action::OpenPage) => open_page(&shown.page_url),
                    Some(decision) => {
                        let store = state.pairing.clone();
                        let registry = Arc::clone(&state.registry);
                        let done = tokio::task::spawn_blocking(move || {
                            menu::decide(&store, &registry, &decision).map(|r| (decision, r))
                        })
                        .await;
                        match done {
                            Ok(Some((decision, Ok(origin)))) => {
                                tracing::info!(%origin, ?decision, "decided in the tray");
                            }
                            Ok(Some((_, Err(e)))) => tracing::warn!("tray: {e}"),
                            Ok(None) | Err(_) => {}
                        }
                    }
                },
            }
            let now = current(&state).await;
            if now != shown {
                shown = now.clone();
                if !handle.update(now).await {
                    break;
                }
            }
        }
        handle.shutdown().await;
    });
    Ok(())
}
