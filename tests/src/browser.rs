//! Browsers driven through WebDriver (fantoccini): headless Chromium
//! (chromedriver), headless Firefox ESR (geckodriver) and WebKitGTK's
//! MiniBrowser (WebKitWebDriver, on a private Xvfb display), and the built
//! page (`target/www`, made by `cargo xtask test` / `serve`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::xvfb::Xvfb;

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

/// The window every engine gets, so screenshots match.
const WINDOW: (u32, u32) = (1100, 1000);

/// WebKitGTK's browser for automation (Debian's libwebkit2gtk-4.1-0).
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// A browser engine the page is tested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's Chromium, headless.
    Chromium,
    /// Debian's Firefox ESR, headless.
    Firefox,
    /// WebKitGTK's MiniBrowser (the engine of Safari and GNOME Web).
    WebKit,
}

impl Engine {
    /// Its name in file names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    /// Its WebDriver server: `$CHROMEDRIVER`, `$GECKODRIVER` (else
    /// geckodriver in target/tools/bin, where `cargo xtask test` installs
    /// it), Debian's WebKitWebDriver.
    pub fn driver(self) -> PathBuf {
        let var =
            |name: &str, default: PathBuf| std::env::var_os(name).map_or(default, PathBuf::from);
        match self {
            Engine::Chromium => var("CHROMEDRIVER", PathBuf::from("/usr/bin/chromedriver")),
            Engine::Firefox => var(
                "GECKODRIVER",
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/tools/bin/geckodriver"),
            ),
            Engine::WebKit => PathBuf::from("/usr/bin/WebKitWebDriver"),
        }
    }

    /// The browser program the driver starts.
    fn binary(self) -> &'static str {
        match self {
            Engine::Chromium => "/usr/bin/chromium",
            Engine::Firefox => "/usr/bin/firefox-esr",
            Engine::WebKit => MINIBROWSER,
        }
    }

    /// The session's capabilities; makes the engine trust `setup.site`
    /// (its files go below `setup.home`).
    fn capabilities(self, setup: &Setup) -> serde_json::Map<String, Value> {
        let mut caps = serde_json::Map::new();
        let site = setup.site.as_ref();
        let home = || {
            setup
                .home
                .clone()
                .unwrap_or_else(|| panic!("a trusted site needs Setup::home"))
        };
        match self {
            Engine::Chromium => {
                let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
                if let Some((ca, _)) = &setup.helper_tls {
                    crate::https::nss_trust(&home().join(".pki/nssdb"), ca);
                }
                if let Some(site) = site {
                    // Chromium on Linux trusts what $HOME/.pki/nssdb trusts.
                    crate::https::nss_trust(&home().join(".pki/nssdb"), &site.ca_pem);
                    args.push(format!("--host-resolver-rules=MAP {} 127.0.0.1", site.host));
                    if site.public {
                        args.push(format!(
                            "--ip-address-space-overrides=127.0.0.1:{}=public",
                            site.port
                        ));
                    }
                }
                caps.insert(
                    "goog:chromeOptions".into(),
                    json!({ "binary": self.binary(), "args": args }),
                );
            }
            Engine::Firefox => {
                let mut args = vec!["-headless".to_owned()];
                let mut prefs = serde_json::Map::new();
                // A profile of our own, its NSS database trusting the authorities.
                let cas: Vec<&PathBuf> = site
                    .map(|s| &s.ca_pem)
                    .into_iter()
                    .chain(setup.helper_tls.as_ref().map(|(ca, _)| ca))
                    .collect();
                if !cas.is_empty() {
                    let profile = home().join("firefox-profile");
                    for ca in cas {
                        crate::https::nss_trust(&profile, ca);
                    }
                    args.extend([
                        "-profile".to_owned(),
                        profile.to_string_lossy().into_owned(),
                    ]);
                }
                if let Some(site) = site {
                    prefs.insert("network.dns.localDomains".into(), json!(site.host));
                    if site.public {
                        prefs.insert(
                            "network.lna.address_space.public.override".into(),
                            json!(format!("127.0.0.1:{}", site.port)),
                        );
                    }
                }
                caps.insert("browserName".into(), json!("firefox"));
                caps.insert(
                    "moz:firefoxOptions".into(),
                    json!({ "binary": self.binary(), "args": args, "prefs": prefs }),
                );
            }
            Engine::WebKit => {
                // WebKitGTK takes the site's own certificate per host, and
                // cannot map a name: the site is reached as 127.0.0.1.
                let certificates: Vec<Value> = site
                    .map(|s| &s.cert_pem)
                    .into_iter()
                    .chain(setup.helper_tls.as_ref().map(|(_, server)| server))
                    .map(|pem| json!({ "host": "127.0.0.1", "certificateFile": pem }))
                    .collect();
                caps.insert(
                    "webkitgtk:browserOptions".into(),
                    json!({
                        "binary": self.binary(),
                        "args": ["--automation"],
                        "certificates": certificates,
                    }),
                );
            }
        }
        caps
    }

    /// The origin an engine reaches `site` at: its name, except in WebKit
    /// (no name mapping there), which uses the address.
    pub fn origin_of(self, site: &TrustedSite) -> String {
        match self {
            Engine::WebKit => format!("https://127.0.0.1:{}", site.port),
            _ => format!("https://{}:{}", site.host, site.port),
        }
    }
}

/// An https site on 127.0.0.1 the browser is to trust (`cargo test`'s own
/// authority, see [`crate::https`]) and, with `public`, to treat as a site
/// on the Internet for Local Network Access.
#[derive(Debug, Clone)]
pub struct TrustedSite {
    /// Its name (mapped to 127.0.0.1).
    pub host: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The authority's certificate (Chromium, Firefox).
    pub ca_pem: PathBuf,
    /// The site's own certificate (WebKit).
    pub cert_pem: PathBuf,
    /// Treat its address as public.
    pub public: bool,
}

/// The built page: `$WEBBURN_WWW`, else `target/www` of the workspace; the
/// test fails when it has not been built or chromedriver is missing (see
/// [`crate::prerequisite_missing`]).
pub fn www_dir() -> PathBuf {
    www_dir_for(Engine::Chromium)
}

/// The built page, and `engine` with its driver; the test fails when one is
/// missing.
pub fn www_dir_for(engine: Engine) -> PathBuf {
    let dir = std::env::var_os("WEBBURN_WWW").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/www"),
        PathBuf::from,
    );
    // The module's .wasm in pkg/ (the page as built here) or beside a bundle.
    let built = dir.join("index.html").is_file()
        && ["pkg/webburn_web_bg.wasm", "webburn_web_bg.wasm"]
            .iter()
            .any(|w| dir.join(w).is_file());
    let tools = engine.driver().exists() && Path::new(engine.binary()).exists();
    if built && tools {
        return dir;
    }
    crate::prerequisite_missing(&format!(
        "the browser tests need the built page in {} and {} with {}",
        dir.display(),
        engine.binary(),
        engine.driver().display()
    ))
}

/// What a session starts with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The engine (Chromium unless said).
    pub engine: Engine,
    /// `$HOME` for the driver and the browser (and where a trusted site's
    /// NSS databases go).
    pub home: Option<PathBuf>,
    /// An https site to trust.
    pub site: Option<TrustedSite>,
    /// The helper's local authority (`install` trusts it for the user) and
    /// its current server certificate (what WebKit takes).
    pub helper_tls: Option<(PathBuf, PathBuf)>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            engine: Engine::Chromium,
            home: None,
            site: None,
            helper_tls: None,
        }
    }
}

/// A browser session; dropping it ends the session, the driver and its display.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// Which engine.
    pub engine: Engine,
    driver: Child,
    port: u16,
    session: Option<String>,
    /// WebKit's display; dropped after the driver.
    _display: Option<Xvfb>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or_else(|e| panic!("no free port: {e}"), |a| a.port())
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a Chromium session.
    pub async fn start() -> Browser {
        Browser::start_with(&Setup::default()).await
    }

    /// A session of `engine`.
    pub async fn start_in(engine: Engine) -> Browser {
        Browser::start_with(&Setup {
            engine,
            ..Setup::default()
        })
        .await
    }

    /// Starts `setup`'s engine's driver on a free loopback port and opens a session.
    pub async fn start_with(setup: &Setup) -> Browser {
        let engine = setup.engine;
        let port = free_port();
        let mut command = Command::new(engine.driver());
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // The browser inherits it: Chromium's NSS database is $HOME/.pki/nssdb.
        if let Some(home) = &setup.home {
            command.env("HOME", home);
        }
        let display = (engine == Engine::WebKit).then(|| {
            Xvfb::start(WINDOW.0 + 100, WINDOW.1 + 100)
                .unwrap_or_else(|e| panic!("WebKit's display: {e}"))
        });
        if let Some(d) = &display {
            command.env("DISPLAY", &d.display);
        }
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", engine.driver().display()));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} did not listen",
                engine.driver().display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(engine.capabilities(setup))
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("no {} WebDriver session: {e}", engine.name()));
        let session = client.session_id().await.ok().flatten();
        if engine != Engine::Chromium {
            let _ = client.set_window_size(WINDOW.0, WINDOW.1).await;
        }
        Browser {
            client,
            engine,
            driver,
            port,
            session,
            _display: display,
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
        // In an async function of its own: only Chromium runs a script's body
        // as one (the WebDriver spec says a plain function).
        let script = format!(
            "const done = arguments[arguments.length - 1]; \
             (async () => {{ {body} \n}})().catch((e) => done({{ scriptError: String(e) }}));"
        );
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
        self.click_burn().await;
    }

    /// Clicks Burn once it is enabled and waits until the page reacts (the
    /// button locks, or a result is shown). WebKitGTK's driver now and then
    /// drops a click while another engine's browser runs beside it: a click
    /// the page never saw is made again (at most three times).
    pub async fn click_burn(&self) {
        const REACTED: &str = "const b = document.getElementById('burn'); \
             return b.disabled || document.getElementById('result').hasAttribute('data-hresult')";
        self.wait_for("Burn enabled", Duration::from_secs(60), || async {
            self.attr("burn", "disabled").await.is_none()
        })
        .await;
        for attempt in 1..=3 {
            self.click("burn").await;
            let since = Instant::now();
            while since.elapsed() < Duration::from_secs(3) {
                if self.eval(REACTED).await.as_bool() == Some(true) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            eprintln!(
                "{:?}: the page did not react to Burn (click {attempt})",
                self.engine
            );
        }
        self.fail("the page never reacted to Burn").await;
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

    /// A PNG screenshot of the page, after two animation frames (WebKit
    /// paints a change a frame late).
    pub async fn screenshot(&self) -> Vec<u8> {
        self.eval_async("requestAnimationFrame(() => requestAnimationFrame(() => done(true)));")
            .await;
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

/// A browser test run once per engine: `every_engine! { async fn name(engine) { .. } }`
/// declares `name(engine: Engine)` and a module `name` with the tests
/// `chromium`, `firefox` and `webkit` (so `cargo test name::webkit` runs
/// one). `every_engine! { async fn name(engine) in [chromium: Chromium,
/// firefox: Firefox] { .. } }` names the engines.
#[macro_export]
macro_rules! every_engine {
    ($(#[$meta:meta])* async fn $name:ident($engine:ident) $body:block) => {
        $crate::every_engine! {
            $(#[$meta])*
            async fn $name($engine)
                in [chromium: Chromium, firefox: Firefox, webkit: WebKit] $body
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($engine:ident)
        in [$($test:ident: $which:ident),+] $body:block) => {
        $(#[$meta])*
        async fn $name($engine: $crate::browser::Engine) $body

        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$name($crate::browser::Engine::$which).await;
                }
            )+
        }
    };
}
