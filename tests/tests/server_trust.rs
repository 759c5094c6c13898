//! Who the helper trusts, tested as an attacker would try: another OS
//! account on the same computer (run with `setpriv` as uid 65534, with
//! curl, a client we did not write), a local process that writes the own
//! page's Origin, one site that floods pairing, an http site, a squatter on
//! [::1]:PORT.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

#[cfg(target_os = "linux")]
use std::process::Command;

#[cfg(target_os = "linux")]
use webburn_tests::prerequisite_missing;
use webburn_tests::served::Helper;

/// `curl ARGS` as uid/gid 65534 (nobody): stdout, and whether it ran.
#[cfg(target_os = "linux")]
fn as_nobody(args: &[&str]) -> Option<String> {
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "curl",
        ])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The WebSocket upgrade request curl sends for `origin` (with `cookie`).
#[cfg(target_os = "linux")]
fn upgrade_args(port: u16, origin: &str, cookie: Option<&str>) -> Vec<String> {
    let mut a = vec![
        "-s".to_owned(),
        "-i".to_owned(),
        "--max-time".to_owned(),
        "5".to_owned(),
        "-H".to_owned(),
        "Connection: Upgrade".to_owned(),
        "-H".to_owned(),
        "Upgrade: websocket".to_owned(),
        "-H".to_owned(),
        "Sec-WebSocket-Version: 13".to_owned(),
        "-H".to_owned(),
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==".to_owned(),
        "-H".to_owned(),
        format!("Origin: {origin}"),
    ];
    if let Some(c) = cookie {
        a.push("-H".to_owned());
        a.push(format!("Cookie: {c}"));
    }
    a.push(format!("http://127.0.0.1:{port}/v1/ws"));
    a
}

/// Another account on the computer: refused before it says anything, even
/// holding the own page's key (read from a screen or a process list), on
/// IPv4 and IPv6; the helper's own account is served. (Linux, where the
/// test can be another account; Wine cannot say who owns a connection.)
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_is_refused_even_with_the_key() {
    let helper = Helper::start(&[",profile=disk,capacity=1MiB"], |c| c.tls = false).await;
    let port = helper.port();
    let own = helper.own_origin();
    let cookie = helper.own_cookie();
    let tools = ["setpriv", "curl"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !tools || !root {
        prerequisite_missing("setpriv and curl, run as root (to act as another account)");
    }
    let args = upgrade_args(port, &own, Some(&cookie));
    let theirs = tokio::task::spawn_blocking({
        let args = args.clone();
        move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            as_nobody(&args)
        }
    })
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("setpriv did not run"));
    assert!(
        theirs.starts_with("HTTP/1.1 403") && theirs.contains("account that runs it"),
        "{theirs}"
    );
    for url in [
        format!("http://127.0.0.1:{port}/v1/status"),
        format!("http://[::1]:{port}/v1/status"),
    ] {
        let origin = format!("Origin: {own}");
        let said = tokio::task::spawn_blocking(move || {
            as_nobody(&["-s", "-i", "--max-time", "5", "-H", &origin, &url])
        })
        .await
        .unwrap()
        .unwrap_or_default();
        assert!(said.starts_with("HTTP/1.1 403"), "{said}");
    }
    // The same request from this account is the own page.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(&args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    })
    .await
    .unwrap()
    .unwrap();
    assert!(out.starts_with("HTTP/1.1 101"), "{out}");
    helper.assert_serves().await;
}

/// A local process that writes the own page's Origin (no browser would let
/// a page do it, any program can) but has no key is not the own page: it
/// cannot open a session, list pairings or approve its own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_own_origin_without_the_key_is_no_own_page() {
    let helper = Helper::start(&[""], |_| {}).await;
    let own = helper.own_origin();
    let port = helper.port();
    for cookie in [
        None,
        Some(format!("webburn-own-{port}=00")),
        Some(format!("webburn-own-{}={}", port + 1, "0".repeat(64))),
    ] {
        let (status, body) =
            webburn_tests::served::connect(port, Some(&own), None, None, cookie.as_deref())
                .await
                .unwrap_err();
        assert_eq!(status, 403, "{cookie:?}");
        assert!(body.contains("opened from the helper"), "{body}");
    }
    // Its own pairing request is still only a request.
    let (status, body) = helper
        .http("POST", "/v1/pair", &[("Origin", "https://evil.example")])
        .await;
    assert_eq!(status, 202, "{body}");
    let (_, paired) = helper.server.state.pairing.list().unwrap();
    assert!(paired.is_empty());
    // The link with the key makes the browser's cookie and sends it home.
    let link = helper.server.own_url();
    let path = link.split_once(&format!("{port}")).unwrap().1;
    let (status, _) = helper.http("GET", path, &[]).await;
    assert_eq!(status, 303);
    let (status, body) = helper.http("GET", "/own?key=0123", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("earlier run"), "{body}");
}

/// One site with many subdomains cannot fill the requests waiting for the
/// person; a site the person refused is told so at once for a while;
/// polling does not rewrite the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_site_cannot_block_pairing_for_others() {
    let helper = Helper::start(&[""], |_| {}).await;
    let mut accepted = 0;
    for i in 0..16 {
        let origin = format!("https://s{i}.evil.example");
        let (status, _) = helper
            .http("POST", "/v1/pair", &[("Origin", &origin)])
            .await;
        if status == 202 {
            accepted += 1;
        } else {
            assert_eq!(status, 429, "{origin}");
        }
    }
    assert_eq!(accepted, 2, "two requests of one site wait at most");
    let (status, body) = helper
        .http("POST", "/v1/pair", &[("Origin", "https://legit.example")])
        .await;
    assert_eq!(status, 202, "{body}");
    // The person refuses legit.example's request: asked again, the answer is
    // "denied" at once, for its other subdomains too.
    let code = helper.pairing_code("https://legit.example");
    helper.server.state.pairing.deny(&code).unwrap();
    for origin in ["https://legit.example", "https://www.legit.example"] {
        let (status, body) = helper.http("POST", "/v1/pair", &[("Origin", origin)]).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"denied\""), "{origin}: {body}");
    }
    // 200 polls of unknown requests leave the store's file alone.
    let store = helper.dir.path().join("pairing.json");
    let before = std::fs::metadata(&store).unwrap();
    for i in 0..200 {
        helper
            .http(
                "GET",
                &format!("/v1/pair/{i:032x}"),
                &[("Origin", "https://legit.example")],
            )
            .await;
    }
    let after = std::fs::metadata(&store).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(before.ino(), after.ino(), "not replaced either");
    }
}

/// Pairing is for https sites (and loopback pages, for development): an
/// http site on the network could be anyone on that network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_https_sites_and_loopback_pages_may_pair() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (status, body) = helper
        .http("POST", "/v1/pair", &[("Origin", "http://burn.example")])
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not https"), "{body}");
    for origin in [
        "https://burn.example",
        "http://127.0.0.1:9",
        "http://localhost:9",
    ] {
        let (status, body) = helper.http("POST", "/v1/pair", &[("Origin", origin)]).await;
        assert_eq!(status, 202, "{origin}: {body}");
    }
    let lax = Helper::start(&[""], |c| c.pair_http = true).await;
    let (status, _) = lax
        .http("POST", "/v1/pair", &[("Origin", "http://burn.example")])
        .await;
    assert_eq!(status, 202, "pair-http = true lets it ask");
}

/// A program that holds [::1]:PORT first would get every page that reaches
/// `localhost` over IPv6: where ::1 exists the helper does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_on_ipv6_loopback_stops_the_start() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        // Without ::1 nobody can squat it; the helper listens on 127.0.0.1.
        let helper = Helper::start(&[""], |_| {}).await;
        assert!(
            helper
                .server
                .addrs
                .iter()
                .all(std::net::SocketAddr::is_ipv4)
        );
        return;
    }
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let _squatter = std::net::TcpListener::bind(("::1", port)).unwrap();
    let dir = webburn_tests::media::scratch_dir();
    let mut config = webburn_helper::server::ServerConfig::defaults(dir.path());
    config.port = port;
    config.recorders = vec![format!("emulated:{}", dir.path().join("a.img").display())];
    config.discover_drives = false;
    let e = webburn_helper::server::start(config).await.unwrap_err();
    assert!(e.to_string().contains("[::1]"), "{e}");
}

/// What `/v1/status` tells a page: enough to pair, nothing of a kiosk
/// station unless the page is admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_tells_a_stranger_only_what_it_needs_to_pair() {
    let helper = Helper::start(&[""], |c| {
        c.allowed_origins = vec!["https://station.example".into()];
        c.kiosk = Some(webburn_helper::server::kiosk::KioskSettings {
            title: "Records office".into(),
            ..Default::default()
        });
    })
    .await;
    let (_, stranger) = helper
        .http("GET", "/v1/status", &[("Origin", "https://evil.example")])
        .await;
    assert!(stranger.contains("\"notPaired\""), "{stranger}");
    assert!(!stranger.contains("Records office"), "{stranger}");
    let (_, station) = helper
        .http(
            "GET",
            "/v1/status",
            &[("Origin", "https://station.example")],
        )
        .await;
    assert!(station.contains("Records office"), "{station}");
}
