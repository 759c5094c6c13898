//! The helper as a separate process, for what an in-process server cannot
//! show: a SIGKILL and a restart, and the process's own memory and file
//! descriptors.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `webburn-helper` binary: `$WEBBURN_HELPER_BIN`, else the one cargo
/// built beside this test or example (target/PROFILE/webburn-helper).
pub fn helper_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("WEBBURN_HELPER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/PROFILE/deps/NAME or target/PROFILE/examples/NAME.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    profile_dir.join("webburn-helper")
}

/// A running `webburn-helper serve`.
#[derive(Debug)]
pub struct ChildHelper {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Its run's own-page key (from the link it prints).
    pub own_key: String,
}

impl ChildHelper {
    /// Starts `webburn-helper --data-dir DIR serve --port PORT ARGS...` (port
    /// 0: any) and waits for its ready line. Its log goes to DIR/helper.log.
    pub fn start(data_dir: &Path, port: u16, args: &[String]) -> Result<ChildHelper, String> {
        Self::start_with_env(data_dir, port, args, &[])
    }

    /// [`ChildHelper::start`] with these environment variables set (e.g. a
    /// desktop session's `DISPLAY` and `DBUS_SESSION_BUS_ADDRESS`).
    pub fn start_with_env(
        data_dir: &Path,
        port: u16,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<ChildHelper, String> {
        let bin = helper_bin();
        let log = std::fs::File::create(data_dir.join("helper.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(&bin)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--port", &port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout);
        let mut ready = String::new();
        lines.read_line(&mut ready).map_err(|e| e.to_string())?;
        let port = ready
            .trim()
            .strip_prefix("webburn-helper listening on http://127.0.0.1:")
            .and_then(|rest| rest.trim_end_matches('/').parse().ok())
            .ok_or_else(|| format!("no ready line from the helper: {ready:?}"))?;
        // The link with the run's key ends what it prints at start.
        let mut own_key = None;
        for _ in 0..64 {
            let mut line = String::new();
            if lines.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                break;
            }
            if let Some((_, key)) = line.trim().split_once("/own?key=") {
                own_key = Some(key.to_owned());
                break;
            }
        }
        let own_key = own_key.ok_or("no own-page link from the helper")?;
        // Keep reading, so a full pipe never blocks the helper.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while lines.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Ok(ChildHelper {
            child,
            port,
            own_key,
        })
    }

    /// The own-page cookie of its run (`webburn-own-PORT=KEY`).
    pub fn own_cookie(&self) -> String {
        crate::served::own_cookie(self.port, &self.own_key)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_field(&self, name: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Resident memory in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        self.status_field("VmRSS:").unwrap_or(0)
    }

    /// Open file descriptors.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `limit` for the process to end by itself; its exit status.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildHelper {
    fn drop(&mut self) {
        self.kill();
    }
}
