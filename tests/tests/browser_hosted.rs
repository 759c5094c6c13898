//! A site on a real https origin using the npm package (examples/hosted-site,
//! built against the packed tarball by `cargo xtask test`), talking to the
//! helper on 127.0.0.1, in Chromium, Firefox and WebKit. The site is served
//! over TLS with a certificate from a per-test authority the browser trusts
//! (Chromium's and Firefox's NSS databases, WebKit's per-host certificate),
//! and Chromium and Firefox are told its address is public (Chromium's
//! `--ip-address-space-overrides` switch, Firefox's
//! `network.lna.address_space.public.override` pref), so Local Network
//! Access applies to it as to a site on the Internet: the page must get the
//! `loopback-network` permission (both engines name it so), pair with the
//! helper, and only then burn. WebKit blocks `http://127.0.0.1` from an
//! https page as mixed content: the page says the helper does not answer.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::path::{Path, PathBuf};
use std::time::Duration;

use webburn_helper::state::local_ca::LocalCa;
use webburn_tests::browser::{Browser, Engine, Setup, www_dir_for};
use webburn_tests::every_engine;
use webburn_tests::https::{HttpsSite, TestCa, certutil_available};
use webburn_tests::readers::{self, Reader};
use webburn_tests::served::Helper;
use webburn_tests::{pattern, prerequisite_missing};

const LONG: Duration = Duration::from_secs(60);
/// The site's name; the browser resolves it to 127.0.0.1.
const SITE: &str = "records.example";
/// The permission for reaching loopback addresses (Chromium 156, Firefox 153).
const LOOPBACK: &str = "loopback-network";

/// The bundled example: `$WEBBURN_HOSTED_SITE`, else target/npm/hosted-site/dist.
fn site_dir(engine: Engine) -> PathBuf {
    let dir = std::env::var_os("WEBBURN_HOSTED_SITE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/npm/hosted-site/dist"),
        PathBuf::from,
    );
    let built = ["index.html", "site.js", "webburn_web_bg.wasm"]
        .iter()
        .all(|f| dir.join(f).is_file());
    // The browser half (chromedriver) is checked the usual way.
    www_dir_for(engine);
    if built && certutil_available() {
        return dir;
    }
    prerequisite_missing(&format!(
        "the hosted-site tests need the example bundled in {} (cargo xtask package) and certutil",
        dir.display()
    ))
}

/// The site on https, a browser trusting its authority and treating it as public.
struct Hosted {
    /// Serves while the test runs.
    _site: HttpsSite,
    browser: Browser,
    origin: String,
    _home: tempfile::TempDir,
}

impl Hosted {
    /// `helper_tls`: the helper's local authority and server certificate,
    /// trusted as `install` trusts them.
    async fn start(dir: &Path, engine: Engine, helper_tls: Option<(PathBuf, PathBuf)>) -> Hosted {
        let ca = TestCa::new();
        let site = HttpsSite::start(dir, &ca, SITE).await;
        let home = tempfile::tempdir().unwrap();
        let trusted = site.trusted(home.path(), true);
        let origin = engine.origin_of(&trusted);
        let browser = Browser::start_with(&Setup {
            engine,
            home: Some(home.path().to_path_buf()),
            site: Some(trusted),
            helper_tls,
        })
        .await;
        Hosted {
            _site: site,
            browser,
            origin,
            _home: home,
        }
    }

    /// Sets the site's answer to the loopback prompt before its page loads
    /// (a permission belongs to the origin: the style sheet is on it).
    async fn answer_prompt(&self, state: &str) {
        self.browser
            .goto(&format!("{}/site.css", self.origin))
            .await;
        self.browser.set_permission(LOOPBACK, state);
    }

    /// Opens the site's page talking to `helper`.
    async fn open(&self, helper: &Helper) {
        self.browser
            .goto(&format!(
                "{}/?helper=http://127.0.0.1:{}",
                self.origin,
                helper.port()
            ))
            .await;
    }

    async fn advice(&self) -> String {
        self.browser.text("advice").await
    }
}

fn docs() -> PathBuf {
    webburn_tests::screenshots_dir()
}

every_engine! {
async fn a_hosted_https_site_allowed_on_loopback_pairs_and_burns_files(engine)
    in [chromium: Chromium, firefox: Firefox]
{
    let dir = site_dir(engine);
    readers::require();
    let helper = Helper::start(&[",profile=dvd+r"], |_| {}).await;
    let hosted = Hosted::start(&dir, engine, None).await;
    let b = &hosted.browser;
    hosted.answer_prompt("granted").await;
    hosted.open(&helper).await;
    assert_eq!(
        b.eval("return [location.protocol, isSecureContext]").await,
        serde_json::json!(["https:", true]),
        "the site is a secure https page"
    );
    pair_burn_and_read_back(&hosted, &helper, engine).await;
}
}

/// The page waits for approval, is approved on the helper, burns two files
/// as a disc with verify; xorriso reads both back byte for byte.
async fn pair_burn_and_read_back(hosted: &Hosted, helper: &Helper, engine: Engine) {
    let b = &hosted.browser;
    b.wait_state("pairingPending", LONG).await;
    let origin = hosted.origin.clone();
    assert!(hosted.advice().await.contains(&origin), "names the site");
    if std::env::var_os("WEBBURN_NO_SCREENSHOTS").is_none() {
        std::fs::create_dir_all(docs()).unwrap();
        let name = match engine {
            Engine::Chromium => "hosted-pairing.png".to_owned(),
            _ => format!("hosted-pairing-{}.png", engine.name()),
        };
        std::fs::write(docs().join(name), b.screenshot().await).unwrap();
    }
    let code = helper.pairing_code(&origin);
    helper.server.state.pairing.approve(&code).unwrap();
    b.wait_state("connected", LONG).await;
    b.wait_recorders(LONG).await;
    // Two files chosen in the page, burned as a disc with a file system.
    let files = tempfile::tempdir().unwrap();
    let a = files.path().join("statement.pdf");
    let c = files.path().join("exhibit-12.jpg");
    std::fs::write(&a, pattern(300_000, 1)).unwrap();
    std::fs::write(&c, pattern(2 << 20, 2)).unwrap();
    b.type_into("files", &format!("{}\n{}", a.display(), c.display()))
        .await;
    b.click_burn().await;
    assert_eq!(b.result(LONG).await, "S_OK", "{}", b.text("result").await);
    let text = b.text("result").await;
    assert!(text.contains("2 files burned and verified"), "{text}");
    // The disc, read by xorriso: the two files, byte for byte.
    let out = helper.dir.path().join("read");
    let tree = Reader::Xorriso.extract(&helper.images[0], &out);
    assert_eq!(tree.len(), 2, "{tree:?}");
    for f in [&a, &c] {
        let name = f.file_name().unwrap();
        assert!(
            std::fs::read(out.join(name)).unwrap() == std::fs::read(f).unwrap(),
            "{} differs",
            name.display()
        );
    }
}

every_engine! {
async fn a_hosted_site_blocked_from_loopback_says_what_to_do_until_allowed(engine)
    in [chromium: Chromium, firefox: Firefox]
{
    let dir = site_dir(engine);
    let helper = Helper::start(&[",profile=dvd+r"], |_| {}).await;
    let hosted = Hosted::start(&dir, engine, None).await;
    let b = &hosted.browser;
    // The person chose Block: the page says where to allow it, and the
    // policy a managed computer uses. (Headless Chromium refuses a prompt
    // nobody answers the same way.)
    hosted.answer_prompt("denied").await;
    hosted.open(&helper).await;
    b.wait_state("localNetworkDenied", LONG).await;
    let advice = hosted.advice().await;
    assert!(advice.contains("site settings"), "{advice}");
    assert!(advice.contains("LoopbackNetworkAllowedForUrls"), "{advice}");
    if std::env::var_os("WEBBURN_NO_SCREENSHOTS").is_none() {
        std::fs::create_dir_all(docs()).unwrap();
        if engine == Engine::Chromium {
            std::fs::write(docs().join("hosted-lna-denied.png"), b.screenshot().await).unwrap();
        }
    }
    // The browser kept every request from the helper: nothing asked to pair.
    let (pending, _) = helper.server.state.pairing.list().unwrap();
    assert!(pending.is_empty(), "no request reached the helper");
    // Allowed in the site settings, Connect goes on to pairing.
    b.set_permission(LOOPBACK, "granted");
    b.click("connect").await;
    b.wait_state("pairingPending", LONG).await;
    let _ = helper.pairing_code(&hosted.origin);
}
}

every_engine! {
async fn webkit_blocks_the_helper_from_a_hosted_https_site_as_mixed_content(engine)
    in [webkit: WebKit]
{
    let dir = site_dir(engine);
    let helper = Helper::start(&[",profile=dvd+r"], |_| {}).await;
    let hosted = Hosted::start(&dir, engine, None).await;
    let b = &hosted.browser;
    hosted.open(&helper).await;
    assert_eq!(
        b.eval("return [location.protocol, isSecureContext]").await,
        serde_json::json!(["https:", true]),
        "the site is a secure https page"
    );
    // The request to http://127.0.0.1 never leaves the browser: to the
    // page, nothing answers.
    b.wait_state("helperNotRunning", LONG).await;
    let (pending, _) = helper.server.state.pairing.list().unwrap();
    assert!(pending.is_empty(), "no request reached the helper");
    // WebKit has no Local Network Access permission to ask about.
    let permission = b
        .eval_async(
            "navigator.permissions.query({ name: 'loopback-network' })\
             .then((s) => done(s.state), (e) => done('unknown: ' + e.name))",
        )
        .await;
    assert!(
        permission.as_str().is_some_and(|p| p.starts_with("unknown")),
        "{permission}"
    );
}
}

every_engine! {
async fn webkit_reaches_a_helper_with_its_local_authority_over_wss_and_burns(engine)
    in [webkit: WebKit]
{
    let dir = site_dir(engine);
    readers::require();
    // The helper after `install`: its local authority exists, so it also
    // listens with TLS on the next port.
    let helper = Helper::start(&[",profile=dvd+r"], |c| {
        LocalCa::of(&c.data_dir).create().unwrap();
    })
    .await;
    let tls = helper.server.tls_port.unwrap();
    assert_eq!(tls, helper.port() + 1);
    let ca = LocalCa::of(helper.dir.path());
    let hosted = Hosted::start(
        &dir,
        engine,
        Some((ca.cert_path(), ca.server_cert_path())),
    )
    .await;
    hosted.open(&helper).await;
    pair_burn_and_read_back(&hosted, &helper, engine).await;
    // The library went to https:// (and wss://) after http:// was blocked.
    let asked = hosted
        .browser
        .eval("return performance.getEntriesByType('resource').map((e) => e.name)")
        .await;
    let tls_status = format!("https://127.0.0.1:{tls}/v1/status");
    assert!(
        asked
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with(&tls_status))),
        "{asked}"
    );
}
}

every_engine! {
async fn while_firefox_asks_the_page_says_to_answer_its_prompt(engine)
    in [firefox: Firefox]
{
    let dir = site_dir(engine);
    let helper = Helper::start(&[",profile=dvd+r"], |_| {}).await;
    let hosted = Hosted::start(&dir, engine, None).await;
    // Nobody answers: Firefox holds the request while its prompt waits
    // (headless Chromium refuses such a prompt itself), and the library,
    // seeing the permission undecided, says what the browser is asking.
    hosted.open(&helper).await;
    hosted
        .browser
        .wait_state("localNetworkPrompt", LONG)
        .await;
    let advice = hosted.advice().await;
    assert!(advice.contains("Choose Allow"), "{advice}");
    let (pending, _) = helper.server.state.pairing.list().unwrap();
    assert!(pending.is_empty(), "no request reached the helper");
}
}
