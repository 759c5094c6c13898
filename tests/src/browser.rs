//! Headless Chromium driven through chromedriver (WebDriver, fantoccini),
//! and the built page (`target/www`, made by `cargo xtask test` / `serve`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Chromium's flags for a headless run as root on a machine without a network.
pub const CHROMIUM_ARGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1100,1000",
];

/// The built page: `$WEBBURN_WWW`, else `target/www` of the workspace; `None`
/// when it has not been built (see [`crate::prerequisite_missing`]).
pub fn www_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WEBBURN_WWW").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/www"),
        PathBuf::from,
    );
    // The module's .wasm in pkg/ (the page as built here) or beside a bundle.
    let built = dir.join("index.html").is_file()
        && ["pkg/webburn_web_bg.wasm", "webburn_web_bg.wasm"]
            .iter()
            .any(|w| dir.join(w).is_file());
    let tools = std::path::Path::new(&chromedriver()).exists();
    if built && tools {
        return Some(dir);
    }
    crate::prerequisite_missing(&format!(
        "the browser tests need the built page in {} and chromedriver at {}",
        dir.display(),
        chromedriver()
    ));
    None
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// What a session starts with beyond [`CHROMIUM_ARGS`].
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// `$HOME` for chromedriver and Chromium (a test's own NSS database).
    pub home: Option<PathBuf>,
    /// More Chromium flags.
    pub args: Vec<String>,
}

/// A headless Chromium session; dropping it ends the session and chromedriver.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    port: u16,
    session: Option<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or_else(|e| panic!("no free port: {e}"), |a| a.port())
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a session.
    pub async fn start() -> Browser {
        Browser::start_with(&Setup::default()).await
    }

    /// As [`Browser::start`], with `setup`'s home and extra flags.
    pub async fn start_with(setup: &Setup) -> Browser {
        let port = free_port();
        let mut command = Command::new(chromedriver());
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Chromium inherits it: its NSS database is $HOME/.pki/nssdb.
        if let Some(home) = &setup.home {
            command.env("HOME", home);
        }
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver: {e}"));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).chain(setup.args.iter().cloned()).collect::<Vec<_>>(),
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session: {e}"));
        let session = client.session_id().await.ok().flatten();
        Browser {
            client,
            driver,
            port,
            session,
        }
    }

    /// Sets a permission for the current page's origin (WebDriver's
    /// "Set Permission": `name` as `navigator.permissions.query` takes it,
    /// `state` is `granted`, `denied` or `prompt`).
    pub fn set_permission(&self, name: &str, state: &str) {
        let id = self
            .session
            .as_deref()
            .unwrap_or_else(|| panic!("no session id"));
        let body = json!({ "descriptor": { "name": name }, "state": state }).to_string();
        let (status, answer) = self
            .driver_request("POST", &format!("/session/{id}/permissions"), &body)
            .unwrap_or_else(|e| panic!("chromedriver: {e}"));
        assert_eq!(status, 200, "set permission {name} {state}: {answer}");
    }

    /// One request to chromedriver itself, for what fantoccini lacks:
    /// the HTTP status and the whole answer.
    fn driver_request(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        s.write_all(req.as_bytes())?;
        // chromedriver may keep the connection open: read the head, then
        // Content-Length bytes.
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let body_at = loop {
            if let Some(i) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut buf)? {
                0 => break answer.len(),
                n => answer.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&answer[..body_at]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while answer.len() < body_at + length {
            match s.read(&mut buf)? {
                0 => break,
                n => answer.extend_from_slice(&buf[..n]),
            }
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok((status, String::from_utf8_lossy(&answer).into_owned()))
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// An attribute of the element with `id`; `None` also while there is no
    /// such element (a page still loading).
    pub async fn attr(&self, id: &str, name: &str) -> Option<String> {
        let el = self.client.find(Locator::Id(id)).await.ok()?;
        el.attr(name).await.ok().flatten()
    }

    /// The text of the element with `id`.
    pub async fn text(&self, id: &str) -> String {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        el.text()
            .await
            .unwrap_or_else(|e| panic!("#{id} text: {e}"))
    }

    /// Clicks the element with `id`.
    pub async fn click(&self, id: &str) {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click #{id}: {e}"));
    }

    /// Types `text` into the element with `id` (a file input takes a path).
    pub async fn type_into(&self, id: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("keys #{id}: {e}"));
    }

    /// Runs a script and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an async script: it calls `done(value)` (its last argument) when finished.
    pub async fn eval_async(&self, body: &str) -> Value {
        let script = format!("const done = arguments[arguments.length - 1]; {body}");
        self.client
            .execute_async(&script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{body}"))
    }

    /// Waits until `check` holds (polling every 50 ms), or fails naming `what`.
    pub async fn wait_for<F, Fut>(&self, what: &str, timeout: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            if started.elapsed() > timeout {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails the test, leaving a screenshot in target/ and printing the page's log.
    async fn fail(&self, why: &str) -> ! {
        let shot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        let log = self
            .client
            .execute(
                "const l = document.getElementById('log'); return l ? l.innerText : ''",
                Vec::new(),
            )
            .await
            .unwrap_or_default();
        panic!(
            "{why}; screenshot in {}; the page's log:\n{}",
            shot.display(),
            log.as_str().unwrap_or_default()
        );
    }

    /// Waits for the page's connection state (`#state[data-state]`).
    pub async fn wait_state(&self, state: &str, timeout: Duration) {
        self.wait_for(&format!("state {state}"), timeout, || async {
            self.attr("state", "data-state").await.as_deref() == Some(state)
        })
        .await;
    }

    /// Opens the burning page at `url` and waits until it lists the recorders.
    pub async fn open_page(&self, url: &str, timeout: Duration) {
        self.goto(url).await;
        self.wait_state("connected", timeout).await;
        self.wait_recorders(timeout).await;
    }

    /// Waits until the page lists at least one recorder.
    pub async fn wait_recorders(&self, timeout: Duration) {
        self.wait_for("the recorder list", timeout, || async {
            self.eval("return document.getElementById('recorder').options.length")
                .await
                .as_u64()
                > Some(0)
        })
        .await;
    }

    /// Chooses `file` in the page and clicks Burn.
    pub async fn burn(&self, file: &std::path::Path) {
        self.type_into("file", &file.to_string_lossy()).await;
        self.click("burn").await;
    }

    /// The progress bar's value, 0..1.
    pub async fn progress(&self) -> f64 {
        self.eval("return document.getElementById('progress').value")
            .await
            .as_f64()
            .unwrap_or(0.0)
    }

    /// Waits for the burn's result and returns its HRESULT name (`S_OK` on success).
    pub async fn result(&self, timeout: Duration) -> String {
        self.wait_for("the burn's result", timeout, || async {
            self.attr("result", "data-hresult").await.is_some()
        })
        .await;
        self.attr("result", "data-hresult")
            .await
            .unwrap_or_default()
    }

    /// Closes the page's window, as a user closing the tab.
    pub async fn close_tab(&self) {
        let _ = self.client.clone().close_window().await;
    }

    /// A PNG screenshot of the page.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (chromedriver quits Chromium), then chromedriver itself.
        if let Some(id) = &self.session {
            let _ = self.driver_request("DELETE", &format!("/session/{id}"), "");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
