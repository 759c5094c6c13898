//! Kiosk mode through the helper's HTTP surface and protocol: the settings
//! in `/v1/status`, no pairing (and no paired token accepted), the history of
//! discs done.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use serde_json::{Value, json};
use webburn_helper::server::kiosk::KioskSettings;
use webburn_helper::state::pairing_store::Status;
use webburn_shared::HResult;
use webburn_tests::pattern;
use webburn_tests::served::Helper;

const STATION: &str = "https://station.example";

async fn kiosk(options: &[&str]) -> Helper {
    Helper::start(options, |c| {
        c.allowed_origins = vec![STATION.into()];
        c.kiosk = Some(KioskSettings {
            title: "Photo CD".into(),
            copies: 2,
            ..KioskSettings::default()
        });
    })
    .await
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON: {body}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_hands_the_page_its_kiosk_settings() {
    let helper = kiosk(&[",profile=dvd+r"]).await;
    let (status, body) = helper
        .http("GET", "/v1/status", &[("Origin", STATION)])
        .await;
    assert_eq!(status, 200, "{body}");
    let k = &json_of(&body)["kiosk"];
    assert_eq!(k["title"], "Photo CD");
    assert_eq!(k["copies"], 2);
    assert_eq!(k["verification"], 2);
    assert_eq!(k["eject"], true);
    assert_eq!(k["countdownSeconds"], 15);
    // Outside kiosk mode there is no such key and no history.
    let plain = Helper::start(&[""], |_| {}).await;
    let own = plain.own_origin();
    let (_, body) = plain.http("GET", "/v1/status", &[("Origin", &own)]).await;
    assert!(json_of(&body).get("kiosk").is_none(), "{body}");
    let (status, _) = plain.http("GET", "/v1/history", &[("Origin", &own)]).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_pairs_with_no_one_and_ignores_tokens() {
    let helper = kiosk(&[""]).await;
    let stranger = "https://stranger.example";
    let (status, body) = helper
        .http("POST", "/v1/pair", &[("Origin", stranger)])
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("kiosk mode"), "{body}");
    // A token made before (here: straight in the store) opens nothing.
    let store = &helper.server.state.pairing;
    let (pending, _) = store.request(stranger).unwrap();
    store.approve(&pending.code).unwrap();
    let Status::Approved(token) = store.status(&pending.id, stranger).unwrap() else {
        panic!("not approved")
    };
    let (status, body) = helper
        .connect(Some(stranger), Some(&token), None)
        .await
        .unwrap_err();
    assert_eq!(status, 403, "{body}");
    // Its configured origin and its own page get in.
    helper
        .connect(Some(STATION), None, None)
        .await
        .unwrap()
        .hello()
        .await;
    helper.session().await.hello().await;
    let (status, _) = helper
        .http("GET", "/v1/history", &[("Origin", stranger)])
        .await;
    assert_eq!(status, 403, "the history is for the station's pages only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drive_of_every_burn_lands_in_the_history() {
    let helper = kiosk(&[",profile=dvd+r", ",profile=dvd+r,write-error=40"]).await;
    let mut c = helper.connect(Some(STATION), None, None).await.unwrap();
    c.hello().await;
    let data = pattern(512 * 1024, 4);
    let done = c
        .duplicate(
            1,
            &helper.recorders,
            &data,
            json!({"disc": {}}),
            |_, _, _| None,
        )
        .await;
    assert_eq!(
        done.hresults(),
        [
            HResult::S_OK,
            HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE
        ]
    );
    // The history is written off the session's thread: wait for both discs.
    let mut view = Value::Null;
    for _ in 0..100 {
        let (status, body) = helper
            .http("GET", "/v1/history", &[("Origin", STATION)])
            .await;
        assert_eq!(status, 200, "{body}");
        view = json_of(&body);
        if view["recent"].as_array().is_some_and(|r| r.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        (view["ok"].as_u64(), view["failed"].as_u64()),
        (Some(1), Some(1)),
        "{view}"
    );
    let recent = view["recent"].as_array().unwrap();
    let good = recent.iter().find(|d| d["ok"] == true).unwrap();
    assert_eq!(good["recorder"], helper.recorders[0].as_str());
    assert_eq!(good["bytes"], 512 * 1024);
    assert_eq!(good["verified"], true);
    assert_eq!(good["sha256"].as_str().unwrap().len(), 64);
    let bad = recent.iter().find(|d| d["ok"] == false).unwrap();
    assert_eq!(bad["result"], "E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE");
    assert_eq!(bad["recorder"], helper.recorders[1].as_str());
    let file = helper.dir.path().join("kiosk-history.json");
    assert!(file.is_file(), "kept in the data directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_ended_flash_is_recorded_with_the_bytes_it_wrote_not_its_room() {
    let helper = kiosk(&[",profile=disk,capacity=4MiB"]).await;
    let mut c = helper.connect(Some(STATION), None, None).await.unwrap();
    c.hello().await;
    let data = pattern(100 * 2048, 6);
    let burned = c
        .burn_to_end(1, &helper.recorders[0], (0, 1000), &data, json!({}))
        .await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    let mut recent = Vec::new();
    for _ in 0..100 {
        let (_, body) = helper
            .http("GET", "/v1/history", &[("Origin", STATION)])
            .await;
        recent = json_of(&body)["recent"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !recent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(recent[0]["bytes"], 100 * 2048, "{recent:?}");
}
