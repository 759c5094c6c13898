//! `webburn-helper serve` (the default command): the localhost server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Notify;

use webburn_shared::HResult;

use super::CliError;
use crate::server::config::{ConfigError, ConfigFile, ServerConfig, default_config_path};
use crate::server::kiosk::KioskSettings;
use crate::tray::TrayMode;

/// Options of `serve`; each overrides the config file's setting.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Config file (default: <config dir>/webburn/config.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Kiosk mode with this config file: only its origins and recorders, no
    /// pairing, the kiosk page and a history of discs (docs/operators.md, "Kiosk mode and the duplicator").
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub kiosk: Option<PathBuf>,
    /// TCP port on 127.0.0.1 and ::1 (default 47801; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Allow this origin without pairing (repeatable; replaces the file's list).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Offer this recorder (repeatable; replaces the file's list).
    #[arg(long = "recorder", value_name = "ID")]
    pub recorders: Vec<String>,
    /// System buffer per write, e.g. 16MiB.
    #[arg(long, value_name = "SIZE")]
    pub buffer: Option<String>,
    /// Log filter, e.g. info or webburn_helper=debug (WEBBURN_LOG wins).
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
    /// Most WebSocket sessions at once.
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,
    /// Close a session after this long without a message it owes, e.g. 60s.
    #[arg(long, value_name = "DURATION")]
    pub idle_timeout: Option<String>,
    /// Serve the page from DIR (e.g. target/www, built by `cargo xtask serve`).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// The tray icon: auto (where a desktop's tray host runs), on, off.
    #[arg(long, value_enum, default_value_t = TrayMode::Auto)]
    pub tray: TrayMode,
}

impl ServeArgs {
    fn as_overrides(&self) -> ConfigFile {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        ConfigFile {
            port: self.port,
            allowed_origins: list(&self.allow_origins),
            buffer: self.buffer.clone(),
            recorders: list(&self.recorders),
            log: self.log.clone(),
            max_sessions: self.max_sessions,
            idle_timeout: self.idle_timeout.clone(),
            www: self.www.clone(),
            ..ConfigFile::default()
        }
    }
}

/// The settings in force: defaults, then the config (or kiosk) file, then
/// the flags. Kiosk mode offers only the recorders listed, nothing discovered.
pub fn resolve(data_dir: &Path, args: &ServeArgs) -> Result<ServerConfig, CliError> {
    let bad = |e: String| CliError::new(HResult::E_INVALIDARG, e);
    let refused = |e: ConfigError| bad(e.to_string());
    let mut config = ServerConfig::defaults(data_dir);
    let path = args
        .kiosk
        .as_ref()
        .or(args.config.as_ref())
        .cloned()
        .or_else(|| default_config_path().filter(|p| p.exists()));
    let file = match &path {
        Some(p) => config.load_file(p).map_err(refused)?,
        None => ConfigFile::default(),
    };
    if args.kiosk.is_some() && config.kiosk.is_none() {
        config.kiosk = Some(KioskSettings::default());
    }
    config.apply_file(&args.as_overrides()).map_err(refused)?;
    if config.kiosk.is_some() {
        let listed = !args.recorders.is_empty() || file.recorders.is_some_and(|r| !r.is_empty());
        if !listed {
            return Err(bad(
                "kiosk mode needs its recorders listed: recorders = [\"/dev/sr0\", ...] in the kiosk file"
                    .into(),
            ));
        }
        config.discover_drives = false;
    }
    Ok(config)
}

pub(super) fn run(data_dir: &Path, args: &ServeArgs) -> Result<(), CliError> {
    let config = resolve(data_dir, args)?;
    super::init_logging(&config.log);
    // One helper per data directory (its pairings and images are not shared).
    let mut instance = super::instance::claim(data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(HResult::E_FAIL, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let server = crate::server::start(config)
            .await
            .map_err(|e| CliError::new(HResult::E_FAIL, e.to_string()))?;
        let quit = Arc::new(Notify::new());
        let tray =
            crate::tray::start(Arc::clone(&server.state), args.tray, Arc::clone(&quit)).await;
        if let Err(why) = tray {
            server.shutdown().await;
            return Err(CliError::new(
                HResult::E_FAIL,
                format!("cannot show the tray icon: {why}"),
            ));
        }
        instance.announce(server.port);
        announce(&server);
        // `webburn-helper open` opens the own page from this file, which
        // only this account can read (written after the ready lines).
        let link = super::open::link_file(data_dir);
        if let Err(e) = crate::state::private::write(&link, server.own_url().as_bytes()) {
            tracing::warn!("cannot write {}: {e}", link.display());
        }
        wait_for_stop(&quit).await;
        tracing::info!("stopping");
        server.shutdown().await;
        let _ = std::fs::remove_file(&link);
        Ok(())
    })
}

/// Prints the ready line (scripts and tests wait for it) and what serves.
/// One write, and a closed or broken stdout does not stop the helper: a
/// launcher may read the first line and go away.
fn announce(server: &crate::server::RunningServer) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let mut text = format!("webburn-helper listening on {}\n", server.url());
    if let Some(tls) = server.tls_port {
        let _ = writeln!(
            text,
            "  and on https://127.0.0.1:{tls}/ (TLS, the local certificate authority)"
        );
    }
    if let Some(k) = &server.state.config.kiosk {
        let _ = writeln!(text, "  kiosk mode: {} (pairing off)", k.title);
    }
    for id in &server.state.config.recorders {
        let _ = writeln!(text, "  recorder {id}");
    }
    // The link with this run's key (`webburn-helper open` opens it).
    let _ = writeln!(text, "  the helper's own page: {}", server.own_url());
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        tracing::warn!("cannot print the ready lines: {e}");
    }
}

/// Resolves on Ctrl-C, SIGTERM or the tray's Quit.
async fn wait_for_stop(quit: &Notify) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                () = quit.notified() => {}
            }
            return;
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = quit.notified() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kiosk_args(dir: &Path, text: &str) -> ServeArgs {
        let path = dir.join("kiosk.toml");
        std::fs::write(&path, text).unwrap();
        ServeArgs {
            kiosk: Some(path),
            ..ServeArgs::default()
        }
    }

    #[test]
    fn kiosk_mode_offers_only_the_recorders_its_file_lists() {
        let dir = tempfile::tempdir().unwrap();
        let args = kiosk_args(
            dir.path(),
            r#"
            allowed-origins = ["https://station.example"]
            recorders = ["emulated:/srv/a.img,profile=dvd+r", "emulated:/srv/b.img,profile=dvd+r"]
            [kiosk]
            title = "Station 3"
            copies = 5
            "#,
        );
        let c = resolve(dir.path(), &args).unwrap();
        let k = c.kiosk.unwrap();
        assert_eq!((k.title.as_str(), k.copies), ("Station 3", 5));
        assert!(!c.discover_drives, "nothing is discovered in kiosk mode");
        assert_eq!(c.recorders.len(), 2);
        assert_eq!(c.allowed_origins, ["https://station.example"]);
        // No [kiosk] table: the defaults.
        let args = kiosk_args(dir.path(), "recorders = [\"emulated:/srv/a.img\"]");
        assert_eq!(
            resolve(dir.path(), &args).unwrap().kiosk,
            Some(KioskSettings::default())
        );
    }

    #[test]
    fn a_kiosk_without_recorders_or_with_bad_settings_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(dir.path(), &kiosk_args(dir.path(), "port = 9000")).unwrap_err();
        assert_eq!(e.hresult, HResult::E_INVALIDARG);
        assert!(e.detail.contains("recorders listed"), "{e:?}");
        let bad = "recorders = [\"emulated:/a\"]\n[kiosk]\ncopies = 100";
        let e = resolve(dir.path(), &kiosk_args(dir.path(), bad)).unwrap_err();
        assert!(e.detail.contains("copies"), "{e:?}");
    }
}
