//! Burning through the helper's WebSocket protocol over real sockets on
//! 127.0.0.1: bytes, credit, events, cancel, device errors, session loss.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::time::{Duration, Instant};

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::Helper;
use webburn_tests::{image, pattern};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_mib_file_burns_byte_for_byte_within_its_credit() {
    // A 1 MiB buffer makes the 12 MiB file need many credit grants.
    let helper = Helper::start(&[",profile=bd-r"], |c| c.buffer_bytes = 1 << 20).await;
    let mut c = helper.session().await;
    let data = pattern(12 << 20, 31);
    let burned = c.burn(1, &helper.recorders[0], 0, &data, 256 * 1024).await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    assert_eq!(burned.sent, data.len() as u64);
    assert_eq!(
        burned.granted,
        data.len() as u64,
        "credit adds up to exactly the section"
    );
    let img = image(&helper.images[0]);
    assert_eq!(img.len(), data.len());
    assert!(img == data, "the image differs from the file");
    let first = burned.updates.first().unwrap();
    let last = burned.updates.last().unwrap();
    assert_eq!((first.start_lba, first.sector_count), (0, 6144));
    assert_eq!(first.total_system_buffer, 1 << 20);
    assert_eq!(
        last.last_written_lba, 6143,
        "the last update reports the last sector"
    );
    // The helper goes on serving, and the recorder shows the written track.
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    assert_eq!(recorders[0].next_writable_address, Some(6144));
    assert!(!recorders[0].in_use);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorder_list_carries_identity_and_profiles() {
    let helper = Helper::start(&[",profile=dvd+r", ",profile=disk,capacity=64MiB"], |_| {}).await;
    let mut c = helper.session().await;
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    assert_eq!(recorders.len(), 2);
    let dvd = &recorders[0];
    assert_eq!(dvd.id, helper.recorders[0]);
    assert_eq!(dvd.kind, "emulated");
    assert!(
        !dvd.vendor_id.is_empty() && !dvd.product_id.is_empty() && !dvd.product_revision.is_empty()
    );
    assert_eq!(dvd.current_profiles, vec![0x1B]);
    assert!(dvd.supported_profiles.contains(&0x1B));
    assert_eq!(dvd.block_size, Some(2048));
    let disk = &recorders[1];
    assert_eq!(disk.current_profiles, vec![0x02]);
    assert_eq!(disk.free_sectors, Some(32768));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_mid_write_ends_in_request_cancelled() {
    let helper = Helper::start(&[",profile=disk,speed=4MB/s"], |c| c.buffer_bytes = 1 << 20).await;
    let mut c = helper.session().await;
    let data = pattern(16 << 20, 5);
    let partial = c
        .burn_until(3, &helper.recorders[0], 0, &data, 128 * 1024, |u| {
            u.last_written_lba > 100
        })
        .await;
    assert_eq!(partial.result, ServerMessage::Pong, "the write ended early");
    c.send(json!({"type": "cancelWrite", "writeId": 3})).await;
    let mut cancel_result = None;
    let result = loop {
        match c.recv().await {
            ServerMessage::CancelResult {
                write_id,
                hresult,
                name,
            } => {
                assert_eq!(
                    (write_id, hresult, name.as_str()),
                    (3, HResult::S_OK, "S_OK")
                );
                cancel_result = Some(hresult);
            }
            r @ ServerMessage::WriteResult { .. } => break r,
            ServerMessage::Update { .. } | ServerMessage::Credit { .. } => {}
            other => panic!("unexpected: {other:?}"),
        }
    };
    assert!(
        cancel_result.is_some(),
        "cancelResult comes before the writeResult"
    );
    let ServerMessage::WriteResult { hresult, name, .. } = result else {
        unreachable!()
    };
    assert_eq!(hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
    assert_eq!(name, "E_IMAPI_REQUEST_CANCELLED");
    // Late frames of the cancelled write are ignored, not a violation.
    c.send_frame(3, partial.sent, &data[..2048]).await;
    c.send(json!({"type": "cancelWrite", "writeId": 3})).await;
    let ServerMessage::CancelResult { hresult, .. } = c.recv().await else {
        panic!("no cancelResult")
    };
    assert_eq!(hresult, HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS);
    // What was written before the cancel is the file's beginning.
    let img = image(&helper.images[0]);
    assert!(img.len() > 100 * 2048 && img.len() < data.len());
    assert!(
        img == data[..img.len()],
        "written sectors hold the file's bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_error_arrives_with_its_hresult_and_sense() {
    let helper = Helper::start(&[",profile=disk,write-error=100"], |_| {}).await;
    let mut c = helper.session().await;
    let data = pattern(1 << 20, 9);
    let burned = c.burn(1, &helper.recorders[0], 0, &data, 64 * 1024).await;
    let ServerMessage::WriteResult {
        hresult,
        sense,
        detail,
        ..
    } = &burned.result
    else {
        panic!()
    };
    assert_eq!(
        *hresult,
        HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
        "{detail}"
    );
    let sense = sense.unwrap_or_else(|| panic!("no sense in {:?}", burned.result));
    assert_eq!((sense.key, sense.asc, sense.ascq), (3, 0x0C, 0x00));
    assert!(burned.updates.last().unwrap().last_written_lba < 100);
    helper.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_writes_are_refused_with_their_hresult_before_any_data() {
    let helper = Helper::start(&[",profile=disk"], |_| {}).await;
    let rec = helper.recorders[0].clone();
    let mut c = helper.session().await;
    let cases = [
        (json!({"bytesPerSector": 0}), HResult::E_INVALIDARG),
        (json!({"numberOfBlocks": 0}), HResult::E_INVALIDARG),
        (json!({"totalBytes": 2047}), HResult::E_INVALIDARG),
        (
            json!({"startingSectorsPerSecond": 0}),
            HResult::E_INVALIDARG,
        ),
        (json!({"recorder": ""}), HResult::E_IMAPI_RECORDER_REQUIRED),
        (
            json!({"recorder": "emulated:/etc/passwd"}),
            HResult::E_INVALIDARG,
        ),
    ];
    for (i, (extra, expected)) in cases.into_iter().enumerate() {
        let id = i as u32 + 1;
        c.start_write(id, &rec, 0, 2048, extra.clone()).await;
        match c.recv().await {
            ServerMessage::WriteResult {
                write_id,
                hresult,
                name,
                ..
            } => {
                assert_eq!((write_id, hresult), (id, expected), "{extra}");
                assert_eq!(Some(name.as_str()), expected.name());
            }
            other => panic!("{extra}: expected writeResult, got {other:?}"),
        }
    }
    assert_eq!(
        std::fs::metadata(&helper.images[0]).unwrap().len(),
        0,
        "nothing was written"
    );
    // A write id that does not grow is an error, and a second write while one
    // runs gets E_IMAPI_DF2DATA_WRITE_IN_PROGRESS.
    c.start_write(6, &rec, 0, 2048, json!({})).await;
    let ServerMessage::Error { code, fatal, .. } = c.recv().await else {
        panic!("no error")
    };
    assert_eq!((code.as_str(), fatal), ("badWriteId", false));
    c.start_write(10, &rec, 0, 4096, json!({})).await;
    assert!(matches!(
        c.recv().await,
        ServerMessage::WriteStarted { write_id: 10, .. }
    ));
    c.start_write(11, &rec, 0, 2048, json!({})).await;
    let reply = c.recv_reply().await;
    let ServerMessage::WriteResult {
        write_id, hresult, ..
    } = reply
    else {
        panic!("{reply:?}")
    };
    assert_eq!(
        (write_id, hresult),
        (11, HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_socket_mid_write_frees_the_recorder_within_a_second() {
    let helper = Helper::start(&[",profile=disk,speed=4MB/s"], |c| c.buffer_bytes = 1 << 20).await;
    let rec = helper.recorders[0].clone();
    let mut first = helper.session().await;
    let data = pattern(16 << 20, 77);
    let partial = first
        .burn_until(1, &rec, 0, &data, 128 * 1024, |u| u.last_written_lba > 64)
        .await;
    assert_eq!(partial.result, ServerMessage::Pong);
    // While the first session writes, a second one is locked out; a malformed
    // write of its is refused for what it says before any recorder is claimed.
    let mut second = helper.session().await;
    second
        .start_write(1, &rec, 0, 2048, json!({"numberOfBlocks": 0}))
        .await;
    let ServerMessage::WriteResult { hresult, .. } = second.recv().await else {
        panic!()
    };
    assert_eq!(hresult, HResult::E_INVALIDARG);
    second.start_write(2, &rec, 0, 2048, json!({})).await;
    let ServerMessage::WriteResult { hresult, .. } = second.recv().await else {
        panic!()
    };
    assert_eq!(hresult, HResult::E_IMAPI_RECORDER_LOCKED);
    let closed_at = Instant::now();
    first.close().await;
    let mut id = 3;
    let freed = loop {
        second.start_write(id, &rec, 0, 2048, json!({})).await;
        match second.recv().await {
            ServerMessage::WriteResult { hresult, .. }
                if hresult == HResult::E_IMAPI_RECORDER_LOCKED =>
            {
                assert!(
                    closed_at.elapsed() < Duration::from_secs(5),
                    "still locked after 5 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
                id += 1;
            }
            ServerMessage::WriteStarted { .. } => break closed_at.elapsed(),
            other => panic!("unexpected: {other:?}"),
        }
    };
    assert!(
        freed < Duration::from_secs(1),
        "the recorder was freed after {freed:?}"
    );
    // Finish that one-sector write, then burn a whole file in the new session.
    second.send_frame(id, 0, &data[..2048]).await;
    loop {
        if let ServerMessage::WriteResult { hresult, .. } = second.recv().await {
            assert_eq!(hresult, HResult::S_OK);
            break;
        }
    }
    let small = pattern(2 << 20, 78);
    let burned = second.burn(id + 1, &rec, 0, &small, 512 * 1024).await;
    assert_eq!(burned.hresult(), HResult::S_OK);
    assert!(image(&helper.images[0])[..small.len()] == small[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_unaligned_frames_burn_byte_for_byte() {
    // 1000-byte frames straddle sectors; the helper gathers them before the engine.
    let helper = Helper::start(&[",profile=dvd+r"], |c| c.buffer_bytes = 256 * 1024).await;
    let mut c = helper.session().await;
    let data = pattern(2 << 20, 12);
    let burned = c.burn(1, &helper.recorders[0], 0, &data, 1000).await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    assert!(image(&helper.images[0]) == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_ends_early_writes_its_whole_sectors_then_fails_with_invalidarg() {
    let helper = Helper::start(&[",profile=disk"], |_| {}).await;
    let mut c = helper.session().await;
    let data = pattern(10 * 2048 + 100, 8);
    // Announce 16 sectors, send 10 and a bit, then say the data ended.
    c.start_write(1, &helper.recorders[0], 0, 16 * 2048, json!({}))
        .await;
    assert!(matches!(c.recv().await, ServerMessage::WriteStarted { .. }));
    c.send_frame(1, 0, &data).await;
    c.send(json!({"type": "endOfData", "writeId": 1})).await;
    let ServerMessage::WriteResult {
        hresult, detail, ..
    } = c.recv_reply().await
    else {
        panic!()
    };
    assert_eq!(hresult, HResult::E_INVALIDARG, "{detail}");
    let img = image(&helper.images[0]);
    assert_eq!(img.len(), 10 * 2048, "only whole sectors are written");
    assert!(img[..] == data[..10 * 2048]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_frames_carry_payload_alone_in_order() {
    let helper = Helper::start(&[",profile=disk"], |c| c.buffer_bytes = 1 << 20).await;
    let rec = helper.recorders[0].clone();
    let mut c = helper.session().await;
    let data = pattern(3 << 20, 31);
    c.start_write(1, &rec, 0, data.len(), json!({"rawFrames": true}))
        .await;
    let mut granted = match c.recv().await {
        ServerMessage::WriteStarted { credit, .. } => credit,
        other => panic!("{other:?}"),
    };
    let mut sent = 0usize;
    let result = loop {
        while (sent as u64) < granted {
            let n = (granted as usize - sent).min(200_000);
            c.send_binary(data[sent..sent + n].to_vec()).await;
            sent += n;
        }
        match c.recv().await {
            ServerMessage::Credit { bytes, .. } => granted += bytes,
            ServerMessage::Update { .. } => {}
            ServerMessage::WriteResult { hresult, .. } => break hresult,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(result, HResult::S_OK);
    assert_eq!(sent, data.len());
    assert_eq!(image(&helper.images[0])[..data.len()], data[..]);
    // A late payload of the ended raw write is dropped; the session goes on.
    c.send_binary(vec![1u8; 4096]).await;
    c.send(json!({"type": "ping"})).await;
    assert_eq!(c.recv_reply().await, ServerMessage::Pong);
    // Beyond the credit is still a violation.
    c.start_write(2, &rec, 0, 2048, json!({"rawFrames": true}))
        .await;
    assert!(matches!(c.recv().await, ServerMessage::WriteStarted { .. }));
    c.send_binary(vec![0u8; 4096]).await;
    let (last, _) = c.expect_close().await;
    assert!(
        matches!(&last, Some(ServerMessage::Error { code, .. }) if *code == webburn_shared::ErrorCode::CreditExceeded),
        "{last:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disc_write_reports_each_action_and_its_verified_digest() {
    let helper = Helper::start(
        &[",profile=dvd+r,speed=16x", ",profile=bd-r,corrupt-at=300"],
        |_| {},
    )
    .await;
    let mut c = helper.session().await;
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    assert_eq!(recorders[0].write_speeds, [10_820, 8_115, 5_410, 2_705]);
    assert!(!recorders[0].can_simulate);
    let data = pattern(3 << 20, 41);
    let disc = json!({"disc": {"verification": 2, "writeSpeed": 5_410, "eject": true}});
    let burned = c.burn_with(1, &helper.recorders[0], 0, &data, disc).await;
    let report = burned.disc_report();
    assert!(report.verified && report.ejected, "{report:?}");
    assert_eq!((report.write_speed, report.speed_adjusted), (5_410, false));
    assert_eq!(report.sha256.len(), 64);
    let mut actions: Vec<i32> = burned
        .data
        .iter()
        .map(|d| d.current_action.into())
        .collect();
    actions.dedup();
    assert_eq!(actions, [0, 2, 4, 5, 7, 6], "{:?}", burned.data);
    assert_eq!(
        burned.data.len(),
        burned.updates.len(),
        "every update carries both"
    );
    assert!(image(&helper.images[0]) == data);

    // A corrupted sector: the result names it; the session goes on.
    let bad = c
        .burn_with(2, &helper.recorders[1], 0, &data, json!({"disc": {}}))
        .await;
    let ServerMessage::WriteResult {
        hresult,
        first_bad_lba,
        name,
        ..
    } = &bad.result
    else {
        panic!("{:?}", bad.result)
    };
    assert_eq!(
        *hresult,
        HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
        "{name}"
    );
    assert_eq!(*first_bad_lba, Some(300));
    c.send(json!({"type": "ping"})).await;
    assert_eq!(c.recv_reply().await, ServerMessage::Pong);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_during_verify_ends_the_disc_write() {
    // At 20 MB/s the read-back of 24 MiB takes over a second: time enough
    // for the cancel to arrive mid-verify.
    let helper = Helper::start(&[",profile=disk,speed=20MB/s"], |_| {}).await;
    let mut c = helper.session().await;
    let data = pattern(24 << 20, 42);
    let rec = helper.recorders[0].clone();
    c.start_write(1, &rec, 0, data.len(), json!({"disc": {}}))
        .await;
    let mut granted = match c.recv().await {
        ServerMessage::WriteStarted { credit, .. } => credit,
        other => panic!("{other:?}"),
    };
    let mut sent = 0u64;
    let hresult = loop {
        while sent < granted {
            let n = (granted - sent).min(1 << 20) as usize;
            c.send_frame(1, sent, &data[sent as usize..sent as usize + n])
                .await;
            sent += n as u64;
        }
        match c.recv().await {
            ServerMessage::Credit { bytes, .. } => granted += bytes,
            ServerMessage::Update { data: Some(d), .. }
                if d.current_action == webburn_shared::WriteAction::Verifying =>
            {
                c.send(json!({"type": "cancelWrite", "writeId": 1})).await;
            }
            ServerMessage::Update { .. } | ServerMessage::CancelResult { .. } => {}
            ServerMessage::WriteResult { hresult, .. } => break hresult,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(hresult, HResult::E_IMAPI_REQUEST_CANCELLED);
}

/// An image whose size only its end tells: the section is the stick's room,
/// the data ends before it with `endOfData`, and the burn and its verify end
/// with the data; nothing past it is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_ended_disc_write_ends_with_end_of_data_and_is_verified() {
    let helper = Helper::start(&[",profile=disk,capacity=16MiB"], |_| {}).await;
    let mut c = helper.session().await;
    let data = pattern(5 << 20, 43);
    let room = (16 << 20) / 2048;
    let burned = c
        .burn_to_end(
            1,
            &helper.recorders[0],
            (0, room),
            &data,
            json!({"verification": 2}),
        )
        .await;
    let report = burned.disc_report();
    assert!(report.verified, "{report:?}");
    assert_eq!(burned.sent, data.len() as u64);
    let img = image(&helper.images[0]);
    assert!(img[..data.len()] == data[..]);
    assert!(
        img[data.len()..].iter().all(|&b| b == 0),
        "nothing past the data"
    );
    let last = burned.updates.last().unwrap();
    assert_eq!(last.last_written_lba, (data.len() / 2048) as i32 - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erase_reports_its_time_then_its_result_and_the_disc_takes_a_burn_again() {
    // A CD-RW of 512 sectors at 4x: a full erase takes 1.7 s.
    let helper = Helper::start(
        &[",profile=cd-rw,capacity=1MiB,speed=4x", ",profile=dvd+r"],
        |_| {},
    )
    .await;
    let mut c = helper.session().await;
    let (cd_rw, dvd_r) = (&helper.recorders[0], &helper.recorders[1]);
    let data = pattern(64 * 2048, 3);
    assert_eq!(
        c.burn(1, cd_rw, 0, &data, 64 * 1024).await.hresult(),
        HResult::S_OK
    );
    assert_eq!(image(&helper.images[0]).len(), data.len());
    c.send(json!({"type": "eraseDisc", "writeId": 2, "recorder": cd_rw, "full": true}))
        .await;
    // One job at a time in a session: a second erase waits for none.
    c.send(json!({"type": "eraseDisc", "writeId": 3, "recorder": cd_rw}))
        .await;
    let (mut updates, mut refused) = (Vec::new(), None);
    let result = loop {
        match c.recv().await {
            ServerMessage::EraseUpdate {
                write_id: 2,
                elapsed_seconds,
                estimated_total_seconds,
            } => updates.push((elapsed_seconds, estimated_total_seconds)),
            ServerMessage::WriteResult {
                write_id: 3,
                hresult,
                ..
            } => refused = Some(hresult),
            r @ ServerMessage::WriteResult { write_id: 2, .. } => break r,
            other => panic!("unexpected: {other:?}"),
        }
    };
    assert_eq!(refused, Some(HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS));
    let ServerMessage::WriteResult {
        hresult, detail, ..
    } = &result
    else {
        unreachable!()
    };
    assert_eq!(*hresult, HResult::S_OK, "{detail}");
    assert!(updates.len() >= 2, "{updates:?}");
    assert!(updates.windows(2).all(|w| w[0].0 <= w[1].0), "{updates:?}");
    let last = updates.last().unwrap();
    assert!(
        last.0 >= 1 && last.1 == last.0,
        "the end says the time it took: {updates:?}"
    );
    assert!(
        updates.iter().any(|u| u.1 > 0 && u.1 < 5),
        "the drive's progress gives an estimate near the 1.7 s it takes: {updates:?}"
    );
    assert!(image(&helper.images[0]).is_empty(), "blank again");
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    assert_eq!(recorders[0].next_writable_address, Some(0));
    assert!(!recorders[0].in_use);
    let again = pattern(8 * 2048, 4);
    assert_eq!(
        c.burn(4, cd_rw, 0, &again, 64 * 1024).await.hresult(),
        HResult::S_OK
    );
    assert!(image(&helper.images[0]) == again);
    // Write-once media cannot be erased; ids still only grow.
    c.send(json!({"type": "eraseDisc", "writeId": 5, "recorder": dvd_r}))
        .await;
    let ServerMessage::WriteResult { hresult, .. } = c.recv().await else {
        panic!("no result")
    };
    assert_eq!(hresult, HResult::E_IMAPI_ERASE_MEDIA_IS_NOT_ERASABLE);
    c.send(json!({"type": "eraseDisc", "writeId": 5, "recorder": cd_rw}))
        .await;
    let ServerMessage::Error { code, .. } = c.recv().await else {
        panic!("no error")
    };
    assert_eq!(code, webburn_shared::ErrorCode::BadWriteId);
}
