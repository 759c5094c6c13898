//! Protocol errors: each gets the documented `error` message (fatal ones end
//! the session with a close code), and the helper serves other sessions after.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::{Client, Helper};

/// Expects a fatal `error` with `code` and `hresult`, then a close with `close_code`.
async fn expect_fatal(c: &mut Client, code: &str, hresult: HResult, close_code: u16) {
    let (last, frame) = c.expect_close().await;
    match last {
        Some(ServerMessage::Error {
            code: got,
            hresult: h,
            fatal,
            name,
            detail,
            ..
        }) => {
            assert_eq!((got.as_str(), h, fatal), (code, hresult, true), "{detail}");
            assert_eq!(Some(name.as_str()), hresult.name());
            assert!(!detail.is_empty());
        }
        other => panic!("expected a fatal {code} error, got {other:?}"),
    }
    let frame = frame.unwrap_or_else(|| panic!("no close frame after {code}"));
    assert_eq!(u16::from(frame.code), close_code);
    assert_eq!(frame.reason.as_str(), code);
}

/// Expects a non-fatal `error` with `code`, then checks the session still answers.
async fn expect_error(c: &mut Client, code: &str, hresult: HResult) {
    match c.recv_reply().await {
        ServerMessage::Error {
            code: got,
            hresult: h,
            fatal,
            ..
        } => {
            assert_eq!((got.as_str(), h, fatal), (code, hresult, false));
        }
        other => panic!("expected a {code} error, got {other:?}"),
    }
    c.send(json!({"type": "ping"})).await;
    assert_eq!(
        c.recv_reply().await,
        ServerMessage::Pong,
        "the session goes on after {code}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_ends_the_session() {
    let helper = Helper::start(&[",profile=disk"], |c| c.max_frame_bytes = 64 * 1024 + 16).await;
    let mut c = helper.session().await;
    c.start_write(1, &helper.recorders[0], 0, 1 << 20, json!({}))
        .await;
    assert!(matches!(c.recv().await, ServerMessage::WriteStarted { .. }));
    c.send_frame(1, 0, &vec![0u8; 64 * 1024 + 1]).await;
    expect_fatal(&mut c, "frameTooLarge", HResult::E_INVALIDARG, 1009).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_text_message_ends_the_session() {
    let helper = Helper::start(&[""], |c| c.max_message_bytes = 4096).await;
    let mut c = helper.session().await;
    let pad = "x".repeat(5000);
    c.send(json!({"type": "ping", "pad": pad})).await;
    expect_fatal(&mut c, "messageTooLarge", HResult::E_INVALIDARG, 1009).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_beyond_the_credit_ends_the_session_and_frees_the_recorder() {
    let helper = Helper::start(&[",profile=disk"], |c| c.buffer_bytes = 64 * 1024).await;
    let mut c = helper.session().await;
    c.start_write(1, &helper.recorders[0], 0, 1 << 20, json!({}))
        .await;
    let ServerMessage::WriteStarted { credit, .. } = c.recv().await else {
        panic!()
    };
    assert_eq!(credit, 64 * 1024, "the first credit is the buffer");
    c.send_frame(1, 0, &vec![7u8; 128 * 1024]).await;
    expect_fatal(&mut c, "creditExceeded", HResult::E_INVALIDARG, 1008).await;
    // The recorder is free again for the next session.
    let mut next = helper.session().await;
    let data = webburn_tests::pattern(128 * 1024, 1);
    let mut burned = next
        .burn(1, &helper.recorders[0], 0, &data, 32 * 1024)
        .await;
    for _ in 0..100 {
        if burned.hresult() != HResult::E_IMAPI_RECORDER_LOCKED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        next = helper.session().await;
        burned = next
            .burn(1, &helper.recorders[0], 0, &data, 32 * 1024)
            .await;
    }
    assert_eq!(burned.hresult(), HResult::S_OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_with_no_write_open_ends_the_session() {
    let helper = Helper::start(&[""], |_| {}).await;
    let mut c = helper.session().await;
    c.send_frame(1, 0, b"stray").await;
    expect_fatal(&mut c, "noWriteOpen", HResult::E_UNEXPECTED, 1008).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_with_a_wrong_id_offset_or_header_end_the_session() {
    let helper = Helper::start(&[",profile=disk", ",profile=disk", ",profile=disk"], |_| {}).await;
    for (i, (code, hresult)) in [
        ("wrongWriteId", HResult::E_UNEXPECTED),
        ("badOffset", HResult::E_INVALIDARG),
        ("badFrame", HResult::E_INVALIDARG),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = helper.session().await;
        c.start_write(5, &helper.recorders[i], 0, 1 << 20, json!({}))
            .await;
        assert!(matches!(c.recv().await, ServerMessage::WriteStarted { .. }));
        match code {
            "wrongWriteId" => c.send_frame(6, 0, &[0u8; 2048]).await,
            "badOffset" => c.send_frame(5, 2048, &[0u8; 2048]).await,
            _ => c.send_binary(b"XXXX not a header".to_vec()).await,
        }
        expect_fatal(&mut c, code, hresult, 1008).await;
    }
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_an_error_the_session_survives() {
    let helper = Helper::start(&[""], |_| {}).await;
    let mut c = helper.session().await;
    c.send_text("{\"type\": \"listRecorders\"").await;
    expect_error(&mut c, "badJson", HResult::E_INVALIDARG).await;
    c.send(json!({"type": "startWrite", "writeId": "one"}))
        .await;
    expect_error(&mut c, "badMessage", HResult::E_INVALIDARG).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_message_type_is_an_error_the_session_survives() {
    let helper = Helper::start(&[""], |_| {}).await;
    let mut c = helper.session().await;
    c.send(json!({"type": "formatDisc"})).await;
    expect_error(&mut c, "unknownType", HResult::E_NOTIMPL).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_comes_first_and_needs_version_1() {
    let helper = Helper::start(&[""], |_| {}).await;
    let own = helper.own_origin();
    let mut c = helper.connect(Some(&own), None, None).await.unwrap();
    c.send(json!({"type": "listRecorders"})).await;
    match c.recv().await {
        ServerMessage::Error { code, fatal, .. } => {
            assert_eq!((code.as_str(), fatal), ("helloRequired", false));
        }
        other => panic!("{other:?}"),
    }
    c.send(json!({"type": "hello", "versions": [2, 3]})).await;
    expect_fatal(&mut c, "unsupportedVersion", HResult::E_INVALIDARG, 1008).await;
    let mut c = helper.connect(Some(&own), None, None).await.unwrap();
    let limits = c.hello().await;
    assert_eq!(limits.buffer_bytes, 16 << 20);
    assert_eq!(limits.max_frame_bytes, (1 << 20) + 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_closed_after_the_idle_timeout() {
    let helper = Helper::start(&[""], |c| {
        c.idle_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let mut c = helper.session().await;
    expect_fatal(&mut c, "idleTimeout", HResult::E_FAIL, 1001).await;
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_spent_waiting_for_the_drive_does_not_count_as_client_silence() {
    // The client owes nothing while its credit is used up and the drive
    // drains the buffer (half a second per MiB here, longer than the idle timeout).
    let helper = Helper::start(&[",profile=disk,speed=2MB/s,drive-buffer=64KiB"], |c| {
        c.idle_timeout = std::time::Duration::from_millis(300);
        c.buffer_bytes = 1 << 20;
    })
    .await;
    let mut c = helper.session().await;
    let data = webburn_tests::pattern(5 << 20, 11);
    let burned = c.burn(1, &helper.recorders[0], 0, &data, 256 * 1024).await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    assert_eq!(
        std::fs::read(&helper.images[0]).unwrap()[..data.len()],
        data[..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_after_end_of_data_stops_the_write() {
    let helper = Helper::start(&[",profile=disk,speed=1MB/s,drive-buffer=64KiB"], |_| {}).await;
    let mut c = helper.session().await;
    let data = webburn_tests::pattern(4 << 20, 12);
    c.start_write(1, &helper.recorders[0], 0, data.len(), json!({}))
        .await;
    assert!(matches!(c.recv().await, ServerMessage::WriteStarted { .. }));
    // Two of the four MiB, then the source ends: the engine would write for
    // about two seconds more and end with E_INVALIDARG, but the user cancels.
    for (i, part) in data[..2 << 20].chunks(1 << 20).enumerate() {
        c.send_frame(1, (i << 20) as u64, part).await;
    }
    c.send(json!({"type": "endOfData", "writeId": 1})).await;
    c.send(json!({"type": "cancelWrite", "writeId": 1})).await;
    let mut cancel = None;
    let result = loop {
        match c.recv_reply().await {
            ServerMessage::CancelResult { hresult, .. } => cancel = Some(hresult),
            ServerMessage::WriteResult { hresult, .. } => break hresult,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(cancel, Some(HResult::S_OK));
    assert_eq!(result, HResult::E_IMAPI_REQUEST_CANCELLED);
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_frame_before_hello_is_refused_like_any_message() {
    let helper = Helper::start(&[""], |_| {}).await;
    let own = helper.own_origin();
    let mut c = helper.connect(Some(&own), None, None).await.unwrap();
    c.send_frame(1, 0, &[0u8; 16]).await;
    match c.recv().await {
        ServerMessage::Error {
            code,
            hresult,
            fatal,
            ..
        } => assert_eq!(
            (code.as_str(), hresult, fatal),
            ("helloRequired", HResult::E_UNEXPECTED, false)
        ),
        other => panic!("{other:?}"),
    }
    c.hello().await;
}
