//! How a session ends and what it leaves: its recorders are free before the
//! close frame goes out, a client that lost its session finds the recorder
//! again at once, and opening devices never holds up the event loop.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::time::Duration;

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::{Client, Helper};

/// Starts a write of `len` bytes and returns its first credit; panics on a refusal.
async fn started(c: &mut Client, id: u32, rec: &str, len: usize) -> u64 {
    c.start_write(id, rec, 0, len, json!({})).await;
    match c.recv().await {
        ServerMessage::WriteStarted { credit, .. } => credit,
        other => panic!("write {id} was not started: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_closed_for_a_protocol_error_gets_its_recorder_back_at_once() {
    let helper = Helper::start(&[",profile=disk,capacity=64MiB"], |c| {
        c.buffer_bytes = 1 << 20;
    })
    .await;
    let rec = helper.recorders[0].clone();
    for round in 0..20 {
        let mut c = helper.session().await;
        let credit = started(&mut c, 1, &rec, 8 << 20).await;
        // Half the credit, then a frame at the wrong offset: the helper
        // closes the session for it while the write is running.
        let half = usize::try_from(credit).unwrap() / 2;
        c.send_frame(1, 0, &vec![7u8; half]).await;
        c.send_frame(1, 1, &[7u8; 4096]).await;
        let (last, frame) = c.expect_close().await;
        assert!(
            matches!(&last, Some(ServerMessage::Error { code, .. }) if *code == webburn_shared::ErrorCode::BadOffset),
            "{last:?}"
        );
        assert!(frame.is_some(), "round {round}: a close frame");
        // Retried as soon as the close arrived: the recorder is free.
        let mut again = helper.session().await;
        started(&mut again, 1, &rec, 2048).await;
        again.send_frame(1, 0, &[1u8; 2048]).await;
        loop {
            match again.recv().await {
                ServerMessage::WriteResult { hresult, .. } => {
                    assert_eq!(hresult, HResult::S_OK, "round {round}");
                    break;
                }
                ServerMessage::Update { .. } | ServerMessage::Credit { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_its_socket_mid_write_can_start_again_at_once() {
    let helper = Helper::start(&[",profile=disk,capacity=64MiB"], |c| {
        c.buffer_bytes = 1 << 20;
    })
    .await;
    let rec = helper.recorders[0].clone();
    for round in 0..20 {
        let mut c = helper.session().await;
        let credit = started(&mut c, 1, &rec, 8 << 20).await;
        let half = usize::try_from(credit).unwrap() / 2;
        c.send_frame(1, 0, &vec![3u8; half]).await;
        // Gone without a close frame.
        drop(c);
        let mut again = helper.session().await;
        let credit = started(&mut again, 1, &rec, 2048).await;
        assert_eq!(credit, 2048, "round {round}");
        again.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn waiting_for_a_device_does_not_hold_up_other_sessions() {
    // A WRITE that takes 3 s at sector 0: the session that ends meanwhile
    // keeps the recorder until it completes, and the next claim waits for it.
    let helper = Helper::start(&[",profile=disk,capacity=64MiB,stall=0:3s"], |c| {
        c.buffer_bytes = 1 << 20;
    })
    .await;
    let rec = helper.recorders[0].clone();
    let mut first = helper.session().await;
    let credit = started(&mut first, 1, &rec, 4 << 20).await;
    let half = usize::try_from(credit).unwrap() / 2;
    first.send_frame(1, 0, &vec![5u8; half]).await;
    // The first update comes before the first WRITE: let the writer reach
    // the stalled WRITE, then lose the session.
    assert!(matches!(first.recv().await, ServerMessage::Update { .. }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waiting = helper.session().await;
    waiting.start_write(1, &rec, 0, 2048, json!({})).await;
    // Meanwhile, on the runtime's only worker thread, another session is served.
    let mut other = helper.session().await;
    other.send(json!({"type": "ping"})).await;
    assert_eq!(other.recv_reply().await, ServerMessage::Pong);
    // And the waiting claim gets the recorder once the last WRITE completed.
    match waiting.recv().await {
        ServerMessage::WriteStarted { credit, .. } => assert_eq!(credit, 2048),
        other => panic!("the claim did not wait for the ending session: {other:?}"),
    }
}
