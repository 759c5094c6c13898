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
        let port = free_port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
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
            json!({ "binary": "/usr/bin/chromium", "args": CHROMIUM_ARGS }),
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
        if let Some(id) = &self.session
            && let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port))
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.port
            );
            if s.write_all(req.as_bytes()).is_ok() {
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
