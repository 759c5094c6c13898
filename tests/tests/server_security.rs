//! Who may talk to the helper: every refusal happens before the WebSocket
//! upgrade with a 403 and a reason, and the helper serves others afterwards.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::Helper;

const PAGE: &str = "http://127.0.0.1:1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_origin_is_refused() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (status, body) = helper
        .connect(Some("https://evil.example"), None, None)
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert!(
        body.contains("origin https://evil.example is not paired"),
        "{body}"
    );
    // Another port on loopback is another origin.
    let (status, _) = helper.connect(Some(PAGE), None, None).await.unwrap_err();
    assert_eq!(status, 403);
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_origin_is_refused() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (status, body) = helper.connect(None, None, None).await.unwrap_err();
    assert_eq!(status, 403);
    assert!(body.contains("missing Origin"), "{body}");
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opaque_origin_can_neither_connect_nor_pair() {
    let helper = Helper::start(&[""], |_| {}).await;
    for origin in ["null", "file://", "chrome-extension://abcdef"] {
        let (status, body) = helper
            .connect(Some(origin), Some("anything"), None)
            .await
            .unwrap_err();
        assert_eq!(status, 403, "{origin}");
        assert!(
            body.contains("is opaque or not http(s)"),
            "{origin}: {body}"
        );
        let (status, body) = helper.http("POST", "/v1/pair", &[("Origin", origin)]).await;
        assert_eq!(status, 403, "{origin}: {body}");
        assert!(body.contains("cannot be paired"), "{origin}: {body}");
    }
    let (_, body) = helper
        .http("GET", "/v1/status", &[("Origin", "null")])
        .await;
    assert!(body.contains("\"opaqueOrigin\""), "{body}");
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_host_is_refused_everywhere() {
    let helper = Helper::start(&[""], |_| {}).await;
    let own = helper.own_origin();
    let port = helper.port();
    for host in [
        format!("evil.example:{port}"),
        format!("192.168.1.10:{port}"),
        "127.0.0.1:1".to_owned(),
        // The port only as the helper prints it.
        format!("127.0.0.1:0{port}"),
        format!("localhost:+{port}"),
    ] {
        let (status, body) = helper
            .connect(Some(&own), None, Some(&host))
            .await
            .unwrap_err();
        assert_eq!(status, 403, "{host}");
        assert!(body.contains("Host header"), "{body}");
        let (status, _) = helper.http("GET", "/", &[("Host", &host)]).await;
        assert_eq!(status, 403, "the page too, for {host}");
        let (status, _) = helper
            .http("POST", "/v1/pair", &[("Host", &host), ("Origin", PAGE)])
            .await;
        assert_eq!(status, 403, "pairing too, for {host}");
    }
    let (status, body) = helper
        .http("GET", "/", &[("Host", &format!("localhost:{port}"))])
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("webburn"));
    // Two Host headers are a bad request (RFC 9112 3.2), whichever comes first.
    let good = format!("127.0.0.1:{port}");
    for pair in [
        [good.as_str(), "evil.example"],
        ["evil.example", good.as_str()],
        [good.as_str(), good.as_str()],
    ] {
        let (status, body) = helper
            .http("GET", "/", &[("Host", pair[0]), ("Host", pair[1])])
            .await;
        assert_eq!(status, 400, "{pair:?}: {body}");
    }
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origins_need_no_pairing() {
    let helper = Helper::start(&[""], |c| {
        c.allowed_origins = vec!["https://kiosk.example".into()];
    })
    .await;
    let mut c = helper
        .connect(Some("https://kiosk.example"), None, None)
        .await
        .unwrap();
    c.hello().await;
    let (status, body) = helper
        .http("POST", "/v1/pair", &[("Origin", "https://kiosk.example")])
        .await;
    assert_eq!((status, body.contains("notNeeded")), (200, true), "{body}");
}

fn status_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON: {body}: {e}"))
}

/// Pairs PAGE through the HTTP endpoints, approving through the store as
/// `webburn-helper pair approve` does; returns the token.
async fn pair(helper: &Helper) -> String {
    let (status, body) = helper.http("POST", "/v1/pair", &[("Origin", PAGE)]).await;
    assert_eq!(status, 202, "{body}");
    let answer = status_of(&body);
    assert!(
        answer.get("code").is_none(),
        "the code is shown on the console, never to the page"
    );
    let id = answer["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/pair/{id}");
    let (_, body) = helper.http("GET", &path, &[("Origin", PAGE)]).await;
    assert_eq!(status_of(&body)["status"], "pending");
    let (_, body) = helper
        .http("GET", &path, &[("Origin", "https://other.example")])
        .await;
    assert_eq!(
        status_of(&body)["status"],
        "unknown",
        "another origin cannot collect it"
    );
    let store = &helper.server.state.pairing;
    let code = helper.pairing_code(PAGE);
    assert_eq!(store.approve(&code).unwrap(), PAGE);
    let (_, body) = helper.http("GET", &path, &[("Origin", PAGE)]).await;
    let answer = status_of(&body);
    assert_eq!(answer["status"], "approved");
    answer["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_origin_connects_until_its_token_is_revoked() {
    let helper = Helper::start(&[""], |_| {}).await;
    let token = pair(&helper).await;
    let mut c = helper
        .connect(Some(PAGE), Some(&token), None)
        .await
        .unwrap();
    c.hello().await;
    // The token is bound to its origin.
    let (status, body) = helper
        .connect(Some("https://evil.example"), Some(&token), None)
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert!(body.contains("not valid"), "{body}");
    // Revoked as `webburn-helper pair revoke` does, from another process's
    // view of the same data directory: the open session is closed too.
    let cli_store = webburn_helper::state::pairing_store::PairingStore::new(helper.dir.path());
    assert!(cli_store.revoke(PAGE).unwrap());
    let (last, frame) = c.expect_close().await;
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(4001), "{last:?}");
    assert!(
        matches!(&last, Some(ServerMessage::Error { code, fatal: true, .. }) if *code == webburn_shared::ErrorCode::PairingRevoked),
        "{last:?}"
    );
    let (status, body) = helper
        .connect(Some(PAGE), Some(&token), None)
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert!(body.contains("wrong or revoked"), "{body}");
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (status, body) = helper
        .connect(Some(PAGE), Some("00ff00ff"), None)
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert!(
        body.contains("not valid for origin http://127.0.0.1:1"),
        "{body}"
    );
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_request_is_reported_to_the_page() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (_, body) = helper.http("POST", "/v1/pair", &[("Origin", PAGE)]).await;
    let id = status_of(&body)["id"].as_str().unwrap().to_owned();
    let store = &helper.server.state.pairing;
    let code = helper.pairing_code(PAGE);
    store.deny(&code).unwrap();
    let (_, body) = helper
        .http("GET", &format!("/v1/pair/{id}"), &[("Origin", PAGE)])
        .await;
    assert_eq!(status_of(&body)["status"], "denied");
    // Preflights (including Private Network Access) are answered for any origin.
    let (status, _) = helper
        .http(
            "OPTIONS",
            "/v1/pair",
            &[
                ("Origin", PAGE),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Private-Network", "true"),
            ],
        )
        .await;
    assert_eq!(status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_on_a_locked_recorder_gets_recorder_locked() {
    let helper = Helper::start(&[",profile=disk", ",profile=disk"], |_| {}).await;
    let mut first = helper.session().await;
    first
        .start_write(1, &helper.recorders[0], 0, 1 << 20, json!({}))
        .await;
    assert!(matches!(
        first.recv().await,
        ServerMessage::WriteStarted { .. }
    ));
    let mut second = helper.session().await;
    second
        .start_write(1, &helper.recorders[0], 0, 2048, json!({}))
        .await;
    let ServerMessage::WriteResult {
        hresult,
        name,
        detail,
        ..
    } = second.recv_reply().await
    else {
        panic!()
    };
    assert_eq!(hresult, HResult::E_IMAPI_RECORDER_LOCKED);
    assert_eq!(name, "E_IMAPI_RECORDER_LOCKED");
    assert!(detail.contains("in use by another session"), "{detail}");
    second.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = second.recv_reply().await else {
        panic!()
    };
    assert!(recorders[0].in_use && !recorders[1].in_use);
    // The other recorder is free for the second session.
    let data = webburn_tests::pattern(256 * 1024, 4);
    let burned = second
        .burn(2, &helper.recorders[1], 0, &data, 64 * 1024)
        .await;
    assert_eq!(burned.hresult(), HResult::S_OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_beyond_the_limit_are_refused() {
    let helper = Helper::start(&[""], |c| c.max_sessions = 2).await;
    let a = helper.session().await;
    let _b = helper.session().await;
    let (status, body) = helper
        .connect(Some(&helper.own_origin()), None, None)
        .await
        .unwrap_err();
    assert_eq!(status, 503);
    assert!(body.contains("too many sessions"), "{body}");
    a.close().await;
    let mut again = None;
    for _ in 0..100 {
        if let Ok(c) = helper.connect(Some(&helper.own_origin()), None, None).await {
            again = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    again
        .expect("a closed session frees its place")
        .hello()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helpers_own_page_approves_pairings_and_no_other_page_can() {
    let helper = Helper::start(&[""], |_| {}).await;
    let (_, body) = helper.http("POST", "/v1/pair", &[("Origin", PAGE)]).await;
    let id = status_of(&body)["id"].as_str().unwrap().to_owned();
    let mut own = helper.session().await;
    own.send(json!({"type": "listPairings"})).await;
    let ServerMessage::Pairings {
        pending, paired, ..
    } = own.recv().await
    else {
        panic!()
    };
    assert_eq!((pending.len(), paired.len()), (1, 0));
    assert_eq!(pending[0].origin, PAGE);
    own.send(json!({"type": "approvePairing", "code": "NOPE42"}))
        .await;
    let ServerMessage::Error { code, hresult, .. } = own.recv().await else {
        panic!()
    };
    assert_eq!(
        (code.as_str(), hresult),
        ("noSuchCode", HResult::E_INVALIDARG)
    );
    own.send(json!({"type": "approvePairing", "code": pending[0].code}))
        .await;
    let ServerMessage::Pairings {
        pending, paired, ..
    } = own.recv().await
    else {
        panic!()
    };
    assert!(pending.is_empty());
    assert_eq!(paired[0].origin, PAGE);
    let (_, body) = helper
        .http("GET", &format!("/v1/pair/{id}"), &[("Origin", PAGE)])
        .await;
    let token = status_of(&body)["token"].as_str().unwrap().to_owned();
    // The paired page may burn, but not manage pairings.
    let mut paired_page = helper
        .connect(Some(PAGE), Some(&token), None)
        .await
        .unwrap();
    paired_page.hello().await;
    paired_page
        .send(json!({"type": "revokePairing", "origin": PAGE}))
        .await;
    let ServerMessage::Error { code, hresult, .. } = paired_page.recv().await else {
        panic!()
    };
    assert_eq!(
        (code.as_str(), hresult),
        ("notAllowed", HResult::E_ACCESSDENIED)
    );
    own.send(json!({"type": "revokePairing", "origin": PAGE}))
        .await;
    let ServerMessage::Pairings { paired, .. } = own.recv().await else {
        panic!()
    };
    assert!(paired.is_empty());
    let (status, _) = helper
        .connect(Some(PAGE), Some(&token), None)
        .await
        .unwrap_err();
    assert_eq!(status, 403, "revoked from the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helper_also_listens_on_ipv6_loopback_and_nowhere_else() {
    let helper = Helper::start(&[""], |_| {}).await;
    let port = helper.port();
    for addr in &helper.server.addrs {
        assert!(addr.ip().is_loopback(), "{addr} is not loopback");
    }
    let has_ipv6_loopback = std::net::TcpListener::bind("[::1]:0").is_ok();
    let listens_on_ipv6 = helper
        .server
        .addrs
        .iter()
        .any(std::net::SocketAddr::is_ipv6);
    assert_eq!(
        listens_on_ipv6, has_ipv6_loopback,
        "{:?}",
        helper.server.addrs
    );
    if !has_ipv6_loopback {
        // A machine without IPv6 loopback: nothing more to reach.
        return;
    }
    let url = format!("ws://[::1]:{port}/v1/ws");
    let mut req = url.into_client_request().unwrap();
    let origin = format!("http://[::1]:{port}");
    req.headers_mut().insert("origin", origin.parse().unwrap());
    req.headers_mut()
        .insert("cookie", helper.own_cookie().parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::text(r#"{"type":"hello","versions":[1]}"#))
        .await
        .unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    assert!(
        reply.to_text().unwrap().contains("\"welcome\""),
        "{reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_tells_a_page_how_it_stands_before_it_opens_the_socket() {
    let helper = Helper::start(&[""], |c| {
        c.allowed_origins = vec!["https://kiosk.example".into()];
    })
    .await;
    let admission = |body: &str| status_of(body)["admission"].as_str().unwrap().to_owned();
    let own = helper.own_origin();
    let cookie = helper.own_cookie();
    let (status, body) = helper
        .http(
            "GET",
            "/v1/status",
            &[("Origin", &own), ("Cookie", &cookie)],
        )
        .await;
    assert_eq!((status, admission(&body)), (200, "own".to_owned()));
    // The own origin without this run's key: any local process can say it.
    let (status, body) = helper.http("GET", "/v1/status", &[("Origin", &own)]).await;
    assert_eq!(
        (status, admission(&body)),
        (200, "ownKeyMissing".to_owned())
    );
    assert_eq!(status_of(&body)["wsPath"], "/v1/ws");
    let (_, body) = helper
        .http("GET", "/v1/status", &[("Origin", "https://kiosk.example")])
        .await;
    assert_eq!(admission(&body), "configured");
    let (_, body) = helper.http("GET", "/v1/status", &[("Origin", PAGE)]).await;
    assert_eq!(admission(&body), "notPaired");
    let (_, body) = helper
        .http("GET", "/v1/status?token=abc", &[("Origin", PAGE)])
        .await;
    assert_eq!(admission(&body), "badToken");
    let token = pair(&helper).await;
    let (_, body) = helper
        .http(
            "GET",
            &format!("/v1/status?token={token}"),
            &[("Origin", PAGE)],
        )
        .await;
    assert_eq!(admission(&body), "paired");
    let (status, _) = helper.http("GET", "/v1/status", &[]).await;
    assert_eq!(status, 403, "no Origin, no answer");
    // A same-origin GET carries no Origin; Fetch Metadata says where it comes from.
    let (status, body) = helper
        .http(
            "GET",
            "/v1/status",
            &[("Sec-Fetch-Site", "same-origin"), ("Cookie", &cookie)],
        )
        .await;
    assert_eq!((status, admission(&body)), (200, "own".to_owned()));
    let (status, _) = helper
        .http("GET", "/v1/status", &[("Sec-Fetch-Site", "cross-site")])
        .await;
    assert_eq!(status, 403);
}

/// A page's origin the helper lets in without pairing.
const SITE: &str = "https://site.example";

async fn list(
    c: &mut webburn_tests::served::Client,
) -> Vec<webburn_shared::protocol::RecorderDescription> {
    c.send(json!({"type": "listRecorders"})).await;
    loop {
        match c.recv().await {
            ServerMessage::Recorders { recorders } => return recorders,
            // A page that watches hears of changes in between.
            ServerMessage::RecordersChanged => {}
            other => panic!("no recorder list: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_writes_to_a_removable_disk_only_after_the_person_allows_it_on_the_helper() {
    use webburn_shared::protocol::Approval;
    let helper = Helper::start(&[",profile=disk,capacity=4MiB,ask"], |c| {
        c.allowed_origins = vec![SITE.into(), "https://other.example".into()];
    })
    .await;
    let stick = helper.recorders[0].clone();
    let mut page = helper.connect(Some(SITE), None, None).await.unwrap();
    page.hello().await;
    let listed = list(&mut page).await;
    assert_eq!(listed[0].approval, Some(Approval::Needed));
    assert_eq!(listed[0].size_bytes, Some(4 << 20));
    // Not approved: nothing is written.
    let data = vec![0x5Au8; 32 * 2048];
    let refused = page.burn(1, &stick, 0, &data, 64 * 1024).await;
    assert_eq!(refused.hresult(), HResult::E_ACCESSDENIED);
    assert_eq!(refused.sent, 0);
    let ServerMessage::WriteResult { detail, .. } = &refused.result else {
        panic!("{:?}", refused.result)
    };
    assert!(detail.contains("ask on the helper"), "{detail}");
    // The page asks; the helper's own page sees who wants what.
    page.send(json!({"type": "requestDevice", "recorderId": stick}))
        .await;
    let ServerMessage::DeviceRequested { code, recorder_id } = page.recv().await else {
        panic!()
    };
    assert_eq!(recorder_id, stick);
    assert_eq!(list(&mut page).await[0].approval, Some(Approval::Asked));
    // A page cannot approve itself.
    page.send(json!({"type": "approveDevice", "code": code}))
        .await;
    let ServerMessage::Error {
        code: why, hresult, ..
    } = page.recv().await
    else {
        panic!()
    };
    assert_eq!(
        (why.as_str(), hresult),
        ("notAllowed", HResult::E_ACCESSDENIED)
    );
    let mut own = helper.session().await;
    own.send(json!({"type": "listPairings"})).await;
    let ServerMessage::Pairings { devices, .. } = own.recv().await else {
        panic!()
    };
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].origin, SITE);
    assert_eq!(devices[0].device, "WEBBURN EMULATED DISK 4 MB");
    assert!(!devices[0].large);
    own.send(json!({"type": "approveDevice", "code": code}))
        .await;
    let ServerMessage::Pairings { devices, .. } = own.recv().await else {
        panic!()
    };
    assert!(devices.is_empty());
    assert_eq!(list(&mut page).await[0].approval, Some(Approval::Approved));
    let burned = page.burn(2, &stick, 0, &data, 64 * 1024).await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    let image = std::fs::read(&helper.images[0]).unwrap();
    assert_eq!(&image[..data.len()], &data[..]);
    // Another site is still asked about.
    let mut other = helper
        .connect(Some("https://other.example"), None, None)
        .await
        .unwrap();
    other.hello().await;
    assert_eq!(list(&mut other).await[0].approval, Some(Approval::Needed));
    let refused = other.burn(1, &stick, 0, &data, 64 * 1024).await;
    assert_eq!(refused.hresult(), HResult::E_ACCESSDENIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_over_256_gb_takes_a_second_confirmation_and_bad_requests_are_refused() {
    use webburn_shared::protocol::Approval;
    let helper = Helper::start(
        &[
            ",profile=disk,capacity=4MiB",
            ",profile=disk,capacity=300GB,ask",
        ],
        |c| c.allowed_origins = vec![SITE.into()],
    )
    .await;
    let (plain, big) = (helper.recorders[0].clone(), helper.recorders[1].clone());
    let mut page = helper.connect(Some(SITE), None, None).await.unwrap();
    page.hello().await;
    let mut own = helper.session().await;
    // A disk over 256 GB takes the second confirmation.
    page.send(json!({"type": "requestDevice", "recorderId": big}))
        .await;
    let ServerMessage::DeviceRequested { code, .. } = page.recv().await else {
        panic!()
    };
    own.send(json!({"type": "approveDevice", "code": code}))
        .await;
    let ServerMessage::Error {
        code: why,
        hresult,
        detail,
        ..
    } = own.recv().await
    else {
        panic!()
    };
    assert_eq!(
        (why.as_str(), hresult),
        ("needsConfirmation", HResult::E_INVALIDARG)
    );
    assert!(detail.contains("300 GB"), "{detail}");
    own.send(json!({"type": "approveDevice", "code": code, "confirmLarge": true}))
        .await;
    let ServerMessage::Pairings { .. } = own.recv().await else {
        panic!()
    };
    assert_eq!(list(&mut page).await[1].approval, Some(Approval::Approved));
    // A refused request, and asking for a drive that needs no approval.
    own.send(json!({"type": "denyDevice", "code": "NOPE42"}))
        .await;
    let ServerMessage::Error { code: why, .. } = own.recv().await else {
        panic!()
    };
    assert_eq!(why.as_str(), "noSuchCode");
    page.send(json!({"type": "requestDevice", "recorderId": plain}))
        .await;
    let ServerMessage::Error { code: why, .. } = page.recv().await else {
        panic!()
    };
    assert_eq!(why.as_str(), "notAllowed");
    assert_eq!(
        list(&mut page).await[0].approval,
        None,
        "a configured disk needs none"
    );
}

/// Reads `c`'s messages until `want`, skipping other change notices.
async fn until_change(c: &mut webburn_tests::served::Client, want: ServerMessage) {
    loop {
        let got = c.recv().await;
        if got == want {
            return;
        }
        assert!(
            matches!(
                got,
                ServerMessage::RecordersChanged | ServerMessage::PairingsChanged
            ),
            "waiting for {want:?}, got {got:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_pages_hear_of_device_requests_and_decisions_as_they_happen() {
    let helper = Helper::start(&[",profile=disk,capacity=4MiB,ask"], |c| {
        c.allowed_origins = vec![SITE.into()];
    })
    .await;
    let stick = helper.recorders[0].clone();
    let mut own = helper.session().await;
    own.send(json!({"type": "watch", "recorders": true, "pairings": true}))
        .await;
    let mut page = helper.connect(Some(SITE), None, None).await.unwrap();
    page.hello().await;
    // Only the helper's own page watches the pairings.
    page.send(json!({"type": "watch", "recorders": true, "pairings": true}))
        .await;
    let ServerMessage::Error { code, fatal, .. } = page.recv().await else {
        panic!("not refused")
    };
    assert_eq!((code.as_str(), fatal), ("notAllowed", false));
    page.send(json!({"type": "watch", "recorders": true})).await;
    page.send(json!({"type": "requestDevice", "recorderId": stick}))
        .await;
    let ServerMessage::DeviceRequested { code, .. } = page.recv().await else {
        panic!("no request")
    };
    // Both hear of the request without asking.
    until_change(&mut page, ServerMessage::RecordersChanged).await;
    until_change(&mut own, ServerMessage::PairingsChanged).await;
    own.send(json!({"type": "approveDevice", "code": code}))
        .await;
    // The decision reaches the page as a change of its list.
    until_change(&mut page, ServerMessage::RecordersChanged).await;
    assert_eq!(
        list(&mut page).await[0].approval,
        Some(webburn_shared::protocol::Approval::Approved)
    );
    helper.assert_serves().await;
}
