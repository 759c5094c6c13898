//! The helper's configuration: a TOML file, overridden by command-line flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::state::pairing_store::normalize_origin;
use serde::Deserialize;

use super::kiosk::{KioskError, KioskFile, KioskSettings};
use webburn_shared::units::{UnitError, parse_duration, parse_size};

/// Why a config file (or a command-line setting) is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not TOML of the settings this helper knows.
    #[error("config file {}: {source}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: toml::de::Error,
    },
    /// A size or duration that does not parse.
    #[error("{setting}: {source}")]
    Unit {
        /// The setting.
        setting: &'static str,
        /// Why.
        source: UnitError,
    },
    /// A size outside what the setting takes.
    #[error("{setting} must be between {min} and {max} bytes, not {value}")]
    OutOfRange {
        /// The setting.
        setting: &'static str,
        /// Its value in bytes.
        value: u64,
        /// The least it takes.
        min: u64,
        /// The most it takes.
        max: u64,
    },
    /// `www` names a folder without the page.
    #[error("www: {} has no index.html", .0.display())]
    NoPage(PathBuf),
    /// An entry of `other-accounts` that is no account.
    #[error("other-accounts: {0:?} is neither a user id (1001) nor a Windows SID (S-1-5-21-...)")]
    BadAccount(String),
    /// `device-approval` is neither `once` nor a duration.
    #[error("device-approval must be \"once\" or a duration (10min): {0}")]
    BadApproval(UnitError),
    /// The `[kiosk]` table.
    #[error(transparent)]
    Kiosk(#[from] KioskError),
}

/// A size or duration of `setting`, or why it does not parse.
fn unit<T>(
    setting: &'static str,
    text: &str,
    parse: fn(&str) -> Result<T, UnitError>,
) -> Result<T, ConfigError> {
    parse(text).map_err(|source| ConfigError::Unit { setting, source })
}

/// The port the helper listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 47801;

/// The config file as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// TCP port on 127.0.0.1 and ::1.
    pub port: Option<u16>,
    /// Origins allowed without pairing, e.g. `https://burn.example.com`.
    pub allowed_origins: Option<Vec<String>>,
    /// System buffer size, e.g. `16MiB`.
    pub buffer: Option<String>,
    /// Recorder ids offered to clients (default: the default emulated recorder).
    pub recorders: Option<Vec<String>>,
    /// Also offer the system's optical drives and its free removable disks,
    /// those only once the person approved a page (default true; other
    /// disks are offered only when listed in `recorders`).
    pub discover_drives: Option<bool>,
    /// Log filter, e.g. `info` or `webburn_helper=debug`.
    pub log: Option<String>,
    /// Most WebSocket sessions at once.
    pub max_sessions: Option<usize>,
    /// Close a session after this long without a client message, e.g. `60s`.
    pub idle_timeout: Option<String>,
    /// Largest binary message (data-frame header + payload).
    pub max_frame: Option<String>,
    /// Largest text message.
    pub max_message: Option<String>,
    /// Serve the page from this directory instead of the built-in placeholder.
    pub www: Option<PathBuf>,
    /// Kiosk mode's settings (the `[kiosk]` table); its presence turns kiosk mode on.
    pub kiosk: Option<KioskFile>,
    /// Also listen with TLS (`https://`, `wss://`) when `install` has made
    /// the local certificate authority (default true).
    pub tls: Option<bool>,
    /// The TLS port (default: the HTTP port + 1).
    pub tls_port: Option<u16>,
    /// Other OS accounts whose processes may use the helper (Unix user
    /// ids, Windows SIDs): a kiosk whose browser runs as another user.
    /// By default only the account that runs the helper.
    pub other_accounts: Option<Vec<String>>,
    /// Let `http://` sites on other hosts than loopback ask to pair
    /// (default false: only https sites and loopback pages).
    pub pair_http: Option<bool>,
    /// How long the person's approval of a page for a found disk lasts:
    /// `once` (one write, the default) or a duration (`10min`).
    pub device_approval: Option<String>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// TCP port (0 = any free port, for tests).
    pub port: u16,
    /// Origins allowed without pairing, normalized.
    pub allowed_origins: Vec<String>,
    /// System buffer size in bytes (also the credit window).
    pub buffer_bytes: usize,
    /// Recorder ids offered to clients.
    pub recorders: Vec<String>,
    /// Offer the system's optical drives and removable disks besides `recorders`.
    pub discover_drives: bool,
    /// Log filter.
    pub log: String,
    /// Most WebSocket sessions at once.
    pub max_sessions: usize,
    /// Idle timeout of a session.
    pub idle_timeout: Duration,
    /// Largest binary message.
    pub max_frame_bytes: usize,
    /// Largest text message.
    pub max_message_bytes: usize,
    /// The per-user data directory (pairing tokens, default recorder image).
    pub data_dir: PathBuf,
    /// The per-WRITE command timeout.
    pub command_timeout: Duration,
    /// Directory the page is served from (`None`: the built-in page).
    pub www: Option<PathBuf>,
    /// Kiosk mode: fixed origins and recorders, no pairing, a history.
    pub kiosk: Option<KioskSettings>,
    /// The features `/v1/status` and `welcome` list: this build's (tests
    /// play older and newer helpers with other lists).
    pub features: Vec<String>,
    /// Listen with TLS too, when the local certificate authority exists.
    pub tls: bool,
    /// The TLS port; `None`: the HTTP port + 1.
    pub tls_port: Option<u16>,
    /// OS accounts besides the helper's own whose processes it serves.
    pub other_accounts: Vec<crate::account::Account>,
    /// `http://` origins beyond loopback may ask to pair.
    pub pair_http: bool,
    /// How long the person's consents last.
    pub consent: crate::state::consents::Lifetimes,
}

/// The page a package installs beside the binary, if it is there:
/// BIN/../share/webburn/www (/usr/share/webburn/www for
/// /usr/bin/webburn-helper), or BIN's folder's `www` (the Windows installer's
/// layout).
fn installed_page() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let folder = exe.parent()?;
    [
        folder.parent().map(|p| p.join("share/webburn/www")),
        Some(folder.join("www")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("index.html").is_file())
}

impl ServerConfig {
    /// The defaults for `data_dir` (the page: the installed one, if any).
    pub fn defaults(data_dir: &Path) -> Self {
        ServerConfig {
            port: DEFAULT_PORT,
            allowed_origins: Vec::new(),
            buffer_bytes: webburn_engine::DEFAULT_BUFFER_BYTES,
            recorders: webburn_engine::devices::default_recorder_id(data_dir)
                .into_iter()
                .collect(),
            discover_drives: true,
            log: "info".into(),
            max_sessions: 8,
            idle_timeout: Duration::from_secs(60),
            max_frame_bytes: (1 << 20) + webburn_shared::frame::HEADER_LEN,
            max_message_bytes: 64 * 1024,
            data_dir: data_dir.to_path_buf(),
            command_timeout: webburn_scsi::WRITE_TIMEOUT,
            www: installed_page(),
            kiosk: None,
            features: webburn_shared::compat::offered(),
            tls: true,
            tls_port: None,
            other_accounts: Vec::new(),
            pair_http: false,
            consent: crate::state::consents::Lifetimes::default(),
        }
    }

    /// The TLS port to bind once the HTTP port `http` is bound: the
    /// configured one, else the next (where pages look for it).
    pub fn tls_port_for(&self, http: u16) -> u16 {
        self.tls_port
            .unwrap_or_else(|| http.saturating_add(webburn_shared::http::TLS_PORT_OFFSET))
    }

    /// Applies a config file's settings over the current ones.
    pub fn apply_file(&mut self, file: &ConfigFile) -> Result<(), ConfigError> {
        if let Some(port) = file.port {
            self.port = port;
        }
        if let Some(origins) = &file.allowed_origins {
            self.allowed_origins = origins.iter().map(|o| normalize_origin(o)).collect();
        }
        if let Some(buffer) = &file.buffer {
            self.buffer_bytes = parse_buffer(buffer)?;
        }
        if let Some(recorders) = &file.recorders {
            self.recorders.clone_from(recorders);
        }
        if let Some(d) = file.discover_drives {
            self.discover_drives = d;
        }
        if let Some(log) = &file.log {
            self.log.clone_from(log);
        }
        if let Some(n) = file.max_sessions {
            self.max_sessions = n.clamp(1, 1024);
        }
        if let Some(t) = &file.idle_timeout {
            self.idle_timeout =
                unit("idle-timeout", t, parse_duration)?.max(Duration::from_millis(100));
        }
        if let Some(f) = &file.max_frame {
            self.max_frame_bytes = bounded(
                unit("max-frame", f, parse_size)?,
                4096,
                64 << 20,
                "max-frame",
            )?;
        }
        if let Some(dir) = &file.www {
            if !dir.join("index.html").is_file() {
                return Err(ConfigError::NoPage(dir.clone()));
            }
            self.www = Some(dir.clone());
        }
        if let Some(k) = &file.kiosk {
            self.kiosk = Some(KioskSettings::from_file(k)?);
        }
        if let Some(t) = file.tls {
            self.tls = t;
        }
        if file.tls_port.is_some() {
            self.tls_port = file.tls_port;
        }
        if let Some(accounts) = &file.other_accounts {
            self.other_accounts = accounts
                .iter()
                .map(|a| parse_account(a))
                .collect::<Result<_, _>>()?;
        }
        if let Some(p) = file.pair_http {
            self.pair_http = p;
        }
        if let Some(d) = &file.device_approval {
            use crate::state::consents::Lifetime;
            self.consent.write = match d.trim() {
                "once" => Lifetime::Once,
                other => Lifetime::For(parse_duration(other).map_err(ConfigError::BadApproval)?),
            };
        }
        if let Some(m) = &file.max_message {
            self.max_message_bytes = bounded(
                unit("max-message", m, parse_size)?,
                1024,
                16 << 20,
                "max-message",
            )?;
        }
        Ok(())
    }

    /// Reads and applies a TOML config file; returns what it said.
    pub fn load_file(&mut self, path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: ConfigFile = toml::from_str(&text).map_err(|source| ConfigError::Syntax {
            path: path.to_path_buf(),
            source,
        })?;
        self.apply_file(&file)?;
        Ok(file)
    }

    /// The protocol limits this config announces.
    pub fn limits(&self) -> webburn_shared::protocol::Limits {
        webburn_shared::protocol::Limits {
            max_message_bytes: self.max_message_bytes as u32,
            max_frame_bytes: self.max_frame_bytes as u32,
            idle_timeout_seconds: self.idle_timeout.as_secs().max(1) as u32,
            buffer_bytes: self.buffer_bytes as u32,
        }
    }
}

/// An account of `other-accounts`: a Unix user id or a Windows SID.
fn parse_account(text: &str) -> Result<crate::account::Account, ConfigError> {
    use crate::account::Account;
    let t = text.trim();
    if let Ok(uid) = t.parse::<u32>() {
        return Ok(Account::Uid(uid));
    }
    if t.starts_with("S-1-") && t[4..].chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Ok(Account::Sid(t.to_owned()));
    }
    Err(ConfigError::BadAccount(text.to_owned()))
}

fn bounded(value: u64, min: u64, max: u64, setting: &'static str) -> Result<usize, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value as usize)
    } else {
        Err(ConfigError::OutOfRange {
            setting,
            value,
            min,
            max,
        })
    }
}

/// Parses a system buffer size (64 KiB ..= 1 GiB).
pub fn parse_buffer(s: &str) -> Result<usize, ConfigError> {
    bounded(
        unit("buffer", s, parse_size)?,
        64 * 1024,
        webburn_engine::MAX_BUFFER_BYTES as u64,
        "buffer",
    )
}

/// The config file used when none is named: `<config dir>/webburn/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("webburn").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_the_defaults() {
        let mut c = ServerConfig::defaults(Path::new("/data"));
        assert_eq!(c.port, DEFAULT_PORT);
        let image = Path::new("/data").join("default-bd-r.img");
        assert_eq!(c.recorders, vec![format!("emulated:{}", image.display())]);
        let file: ConfigFile = toml::from_str(
            r#"
            port = 9000
            allowed-origins = ["https://Burn.Example.com/"]
            buffer = "32MiB"
            recorders = ["emulated:/srv/a.img,profile=dvd+r"]
            log = "debug"
            max-sessions = 2
            idle-timeout = "5s"
            max-frame = "256KiB"
            max-message = "8KiB"
            "#,
        )
        .unwrap();
        c.apply_file(&file).unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(
            c.allowed_origins,
            vec!["https://burn.example.com".to_owned()]
        );
        assert_eq!(c.buffer_bytes, 32 << 20);
        assert_eq!(c.recorders.len(), 1);
        assert_eq!(c.max_sessions, 2);
        assert_eq!(c.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.max_frame_bytes, 256 * 1024);
        assert_eq!(c.limits().max_message_bytes, 8192);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(toml::from_str::<ConfigFile>("colour = 1").is_err());
        let mut c = ServerConfig::defaults(Path::new("/d"));
        let bad = ConfigFile {
            buffer: Some("1KiB".into()),
            ..ConfigFile::default()
        };
        assert!(matches!(
            c.apply_file(&bad),
            Err(ConfigError::OutOfRange {
                setting: "buffer",
                ..
            })
        ));
        let bad = ConfigFile {
            max_frame: Some("1GiB".into()),
            ..ConfigFile::default()
        };
        assert!(matches!(
            c.apply_file(&bad),
            Err(ConfigError::OutOfRange {
                setting: "max-frame",
                ..
            })
        ));
        let missing = c
            .load_file(Path::new("/nonexistent/webburn.toml"))
            .unwrap_err();
        assert!(matches!(missing, ConfigError::Read { .. }), "{missing}");
    }

    /// The operators' guide's example file (docs/operators.md,
    /// "Configuration file") is one the helper takes, key for key.
    #[test]
    fn the_operators_guides_example_file_is_valid() {
        let guide = include_str!("../../../docs/operators.md");
        let section = guide
            .split("### Configuration file")
            .nth(1)
            .unwrap_or_default();
        let example = section
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap_or_default();
        let mut file: ConfigFile = toml::from_str(example).unwrap();
        // The example's page folder, made here (the helper checks it).
        assert_eq!(file.www.as_deref(), Some(Path::new("/opt/webburn/www")));
        let www = tempfile::tempdir().unwrap();
        std::fs::write(www.path().join("index.html"), "<!doctype html>").unwrap();
        file.www = Some(www.path().to_path_buf());
        let mut c = ServerConfig::defaults(Path::new("/d"));
        c.apply_file(&file).unwrap();
        assert_eq!(c.other_accounts.len(), 1);
        assert!(!c.pair_http);
        assert_eq!(c.consent.write, crate::state::consents::Lifetime::Once);
    }
}
