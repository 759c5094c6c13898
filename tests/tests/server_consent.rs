//! A paired page's acts that erase or reveal what a disc holds wait for the
//! person: erasing a CD-RW, reading which files a disc holds, burning
//! afresh over a DVD+RW that holds files. The page gets `consentNeeded`
//! with the code the helper's own page shows; allowed there, the request
//! goes on as if just sent; refused, it ends `E_ACCESSDENIED`
//! (`consentRefused`) and the disc is as it was. The helper's own page and
//! configured (kiosk) origins are never asked.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use serde_json::json;
use webburn_shared::protocol::{ConsentAct, ServerMessage};
use webburn_shared::{ErrorCode, HResult};
use webburn_tests::served::{Client, Helper};
use webburn_tests::{image, pattern};

const SITE: &str = "https://burn.example";

/// The next message that is not an update: the held request's
/// `consentNeeded`, checked, and its code.
async fn consent_needed(c: &mut Client, write_id: u32, act: ConsentAct) -> String {
    match c.recv_reply().await {
        ServerMessage::ConsentNeeded {
            write_id: id,
            act: a,
            code,
            ..
        } => {
            assert_eq!((id, a), (write_id, act));
            code
        }
        other => panic!("expected consentNeeded, got {other:?}"),
    }
}

/// What the helper's own page lists: the waiting request with `code`.
async fn own_page_shows(helper: &Helper, code: &str) -> webburn_shared::protocol::DeviceRequest {
    let mut own = helper.session().await;
    own.send(json!({"type": "listPairings"})).await;
    let ServerMessage::Pairings { devices, .. } = own.recv().await else {
        panic!("no pairings list")
    };
    devices
        .into_iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("the own page does not show request {code}"))
}

/// The own page allows (or refuses) the request showing `code`.
async fn decide(helper: &Helper, code: &str, allow: bool) {
    let mut own = helper.session().await;
    let kind = if allow { "approveDevice" } else { "denyDevice" };
    own.send(json!({"type": kind, "code": code})).await;
    match own.recv().await {
        ServerMessage::Pairings { .. } => {}
        other => panic!("{kind}: {other:?}"),
    }
}

/// An ISO 9660 volume (`webburn-helper image`) holding one file `name`.
fn volume_of(helper: &Helper, name: &str) -> Vec<u8> {
    let dir = helper.dir.path().join(format!("files-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), b"private").unwrap();
    let iso = helper.dir.path().join(format!("{name}.iso"));
    let out = std::process::Command::new(webburn_tests::child::helper_bin())
        .env("WEBBURN_DATA_DIR", helper.dir.path())
        .args([
            "image",
            &dir.to_string_lossy(),
            "-o",
            &iso.to_string_lossy(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&iso).unwrap()
}

/// A volume holding `payroll.xlsx`.
fn volume(helper: &Helper) -> Vec<u8> {
    volume_of(helper, "payroll.xlsx")
}

/// Burns `data` to `recorder` as a closed disc from the helper's own page.
async fn burn_own(helper: &Helper, recorder: &str, data: &[u8]) {
    let mut own = helper.session().await;
    let disc = json!({"disc": {"verification": 0}});
    let done = own.burn_with(1, recorder, 0, data, disc).await;
    assert_eq!(done.hresult(), HResult::S_OK, "{:?}", done.result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_disc_waits_for_the_person_who_may_refuse_or_allow_it() {
    let helper = Helper::start(&[",profile=cd-rw,capacity=1MiB"], |_| {}).await;
    let cd = helper.recorders[0].clone();
    let data = pattern(256 << 10, 9);
    burn_own(&helper, &cd, &data).await;
    let mut page = helper.paired(SITE).await;
    page.send(json!({"type": "eraseDisc", "writeId": 1, "recorder": cd}))
        .await;
    let code = consent_needed(&mut page, 1, ConsentAct::Erase).await;
    let shown = own_page_shows(&helper, &code).await;
    assert_eq!(
        (shown.act, shown.origin.as_str()),
        (ConsentAct::Erase, SITE)
    );
    assert!(shown.device.starts_with("the CD-RW in "), "{shown:?}");
    // Another job meanwhile is refused: the erase holds the session.
    page.send(json!({"type": "readSession", "writeId": 2, "recorder": cd}))
        .await;
    match page.recv_reply().await {
        ServerMessage::WriteResult { hresult, .. } => {
            assert_eq!(hresult, HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS);
        }
        other => panic!("{other:?}"),
    }
    // Refused: nothing happens to the disc.
    decide(&helper, &code, false).await;
    match page.recv_reply().await {
        ServerMessage::WriteResult {
            write_id: 1,
            hresult,
            code,
            ..
        } => {
            assert_eq!(hresult, HResult::E_ACCESSDENIED);
            assert_eq!(code, Some(ErrorCode::ConsentRefused));
        }
        other => panic!("{other:?}"),
    }
    assert!(image(&helper.images[0])[..data.len()] == data[..]);
    // Asked again and allowed: the erase runs as if just sent.
    page.send(json!({"type": "eraseDisc", "writeId": 3, "recorder": cd}))
        .await;
    let code = consent_needed(&mut page, 3, ConsentAct::Erase).await;
    decide(&helper, &code, true).await;
    loop {
        match page.recv_reply().await {
            ServerMessage::EraseUpdate { write_id: 3, .. } => {}
            ServerMessage::WriteResult {
                write_id: 3,
                hresult,
                ..
            } => {
                assert_eq!(hresult, HResult::S_OK);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(image(&helper.images[0]).is_empty(), "the CD-RW is blank");
    // The consent was for that one erase: the disc, burned again, is asked about.
    burn_own(&helper, &cd, &data).await;
    page.send(json!({"type": "eraseDisc", "writeId": 4, "recorder": cd}))
        .await;
    let again = consent_needed(&mut page, 4, ConsentAct::Erase).await;
    // Cancelled while held: the request goes, the write ends cancelled.
    page.send(json!({"type": "cancelWrite", "writeId": 4}))
        .await;
    assert!(matches!(
        page.recv().await,
        ServerMessage::CancelResult {
            hresult: HResult::S_OK,
            ..
        }
    ));
    match page.recv().await {
        ServerMessage::WriteResult { hresult, .. } => {
            assert_eq!(hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        helper
            .server
            .state
            .registry
            .device_requests()
            .iter()
            .all(|d| d.code != again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_discs_files_is_allowed_for_a_while_and_for_that_disc() {
    let helper = Helper::start(&[",profile=dvd+rw,capacity=64MiB"], |_| {}).await;
    let rw = helper.recorders[0].clone();
    let mut page = helper.paired(SITE).await;
    // A blank disc holds nothing to reveal: nobody is asked.
    page.send(json!({"type": "readSession", "writeId": 1, "recorder": rw}))
        .await;
    assert!(matches!(
        page.recv_reply().await,
        ServerMessage::SessionContents { write_id: 1, .. }
    ));
    page.recv_reply().await;
    // Files on it: the person is asked.
    burn_own(&helper, &rw, &volume(&helper)).await;
    page.send(json!({"type": "readSession", "writeId": 2, "recorder": rw}))
        .await;
    let code = consent_needed(&mut page, 2, ConsentAct::Read).await;
    decide(&helper, &code, true).await;
    match page.recv_reply().await {
        ServerMessage::SessionContents {
            write_id: 2,
            session: Some(s),
            ..
        } => assert!(s.items.iter().any(|i| i.path == "payroll.xlsx"), "{s:?}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        page.recv_reply().await,
        ServerMessage::WriteResult {
            hresult: HResult::S_OK,
            ..
        }
    ));
    // Again within minutes: no new question.
    page.send(json!({"type": "readSession", "writeId": 3, "recorder": rw}))
        .await;
    assert!(matches!(
        page.recv_reply().await,
        ServerMessage::SessionContents { write_id: 3, .. }
    ));
    page.recv_reply().await;
    // Another disc with other files in the drive is asked about afresh.
    let mut other = helper.session().await;
    let disc = json!({"disc": {"verification": 0}});
    let burned = other
        .burn_with(9, &rw, 0, &volume_of(&helper, "letter.txt"), disc)
        .await;
    assert_eq!(burned.hresult(), HResult::S_OK);
    page.send(json!({"type": "readSession", "writeId": 4, "recorder": rw}))
        .await;
    consent_needed(&mut page, 4, ConsentAct::Read).await;
    // The helper's own page is the person: never asked.
    let mut own = helper.session().await;
    own.send(json!({"type": "readSession", "writeId": 1, "recorder": rw}))
        .await;
    assert!(matches!(
        own.recv_reply().await,
        ServerMessage::SessionContents { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burning_over_files_asks_first_but_adding_to_them_does_not() {
    let helper = Helper::start(&[",profile=dvd+rw,capacity=64MiB"], |_| {}).await;
    let rw = helper.recorders[0].clone();
    // Files on the disc, burned by the helper's own page.
    let volume = volume(&helper);
    burn_own(&helper, &rw, &volume).await;
    let mut page = helper.paired(SITE).await;
    let fresh = pattern(64 << 10, 3);
    page.start_write(1, &rw, 0, fresh.len(), json!({"disc": {"verification": 0}}))
        .await;
    let code = consent_needed(&mut page, 1, ConsentAct::Overwrite).await;
    assert!(
        image(&helper.images[0])[..volume.len()] == volume[..],
        "nothing written while the person decides"
    );
    decide(&helper, &code, true).await;
    match page.recv_reply().await {
        ServerMessage::WriteStarted { write_id: 1, .. } => {}
        other => panic!("{other:?}"),
    }
    page.close().await;
}
