//! The duplicator through the helper's protocol: one upload (`startWrite`
//! with `duplicateTo`) burned onto several emulated recorders at once, each
//! with its own lock, buffer, progress and result.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::media::{image_at, image_len, real};
use webburn_tests::served::Helper;
use webburn_tests::{image, pattern};

const SECTOR: usize = 2048;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_drives_burn_one_upload_and_a_failing_drive_does_not_stop_the_others() {
    let helper = Helper::start(
        &[
            ",profile=dvd+r",
            ",profile=dvd+r",
            ",profile=dvd+r,write-error=300",
            ",profile=dvd+r",
        ],
        |c| c.buffer_bytes = 1 << 20,
    )
    .await;
    let mut c = helper.session().await;
    let data = pattern(6 << 20, 77);
    let disc = json!({"disc": {"verification": 2}});
    let done = c
        .duplicate(1, &helper.recorders, &data, disc, |_, _, _| None)
        .await;
    assert!(done.started);
    assert_eq!(
        done.hresults(),
        [
            HResult::S_OK,
            HResult::S_OK,
            HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
            HResult::S_OK
        ]
    );
    assert_eq!(done.sent, data.len() as u64, "the data was sent once");
    let mut hashes = Vec::new();
    for (i, r) in done.results.iter().enumerate() {
        let ServerMessage::WriteResult { target, disc, .. } = r else {
            unreachable!()
        };
        assert_eq!(*target as usize, i);
        if i != 2 {
            let report = disc.as_ref().expect("a disc report");
            assert!(report.verified, "target {i} was verified");
            hashes.push(report.sha256.clone());
            assert!(image(&helper.images[i]) == data, "image {i} differs");
        }
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    let failed = image(&helper.images[2]);
    // The failing WRITE is the 64 KiB unit 288..=319 that covers sector 300.
    assert_eq!(
        failed.len(),
        288 * SECTOR,
        "the failing drive stopped at 288"
    );
    assert!(failed == data[..failed.len()]);
    for t in 0..4 {
        let last = done
            .updates
            .iter()
            .rev()
            .find_map(|(target, a)| (*target == t).then_some(*a))
            .unwrap_or_else(|| panic!("no update from target {t}"));
        let expected = if t == 2 { 287 } else { 3071 };
        assert_eq!(last.last_written_lba, expected, "target {t}");
    }
    // Every recorder is free again.
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    assert!(recorders.iter().all(|r| !r.in_use));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slowest_drive_sets_the_pace_within_one_buffer() {
    let buffer = 1usize << 20;
    let helper = Helper::start(
        &[
            ",profile=disk,capacity=64MiB",
            ",profile=disk,capacity=64MiB,speed=6MB/s",
        ],
        |c| c.buffer_bytes = buffer,
    )
    .await;
    let mut c = helper.session().await;
    let data = pattern(8 << 20, 5);
    let mut worst_ahead = 0i64;
    let done = c
        .duplicate(
            1,
            &helper.recorders,
            &data,
            json!({}),
            |target, args, sent| {
                if target == 1 {
                    let written = (i64::from(args.last_written_lba) + 1) * SECTOR as i64;
                    worst_ahead = worst_ahead.max(sent as i64 - written);
                }
                None
            },
        )
        .await;
    assert_eq!(done.hresults(), [HResult::S_OK, HResult::S_OK]);
    for img in &helper.images {
        assert!(image(img) == data);
    }
    // Credit follows the slow drive: what it has not written yet is at most
    // its queue (one window) and its ring (one buffer) plus a frame.
    let bound = (2 * buffer + 256 * 1024) as i64;
    assert!(
        worst_ahead <= bound,
        "the client got {worst_ahead} bytes ahead of the slow drive (bound {bound})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_one_drive_leaves_the_other_burning() {
    let helper = Helper::start(
        &[",profile=disk,speed=8MB/s", ",profile=disk,speed=8MB/s"],
        |c| c.buffer_bytes = 1 << 20,
    )
    .await;
    let mut c = helper.session().await;
    let data = pattern(8 << 20, 9);
    let mut asked = false;
    let done = c
        .duplicate(4, &helper.recorders, &data, json!({}), |target, args, _| {
            (target == 1 && args.last_written_lba > 100 && !std::mem::replace(&mut asked, true))
                .then(|| json!({"type": "cancelWrite", "writeId": 4, "target": 1}))
        })
        .await;
    assert!(asked);
    assert_eq!(
        done.hresults(),
        [HResult::S_OK, HResult::E_IMAPI_REQUEST_CANCELLED]
    );
    assert!(image(&helper.images[0]) == data);
    let cut = image(&helper.images[1]);
    assert!(cut.len() < data.len() && cut[..] == data[..cut.len()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_per_drive_unless_the_write_itself_is_wrong() {
    let helper = Helper::start(&[",profile=disk", ",profile=disk", ",profile=disk"], |_| {}).await;
    let data = pattern(256 * 1024, 3);
    let mut c = helper.session().await;

    // A drive named twice: the whole write is refused, one result per target.
    let twice = [helper.recorders[0].clone(), helper.recorders[0].clone()];
    let done = c
        .duplicate(1, &twice, &data, json!({}), |_, _, _| None)
        .await;
    assert!(!done.started);
    assert_eq!(done.hresults(), [HResult::E_INVALIDARG; 2]);

    // A drive another session holds, and one the helper does not offer: only
    // those are refused; the others burn.
    let mut other = helper.session().await;
    other
        .start_write(1, &helper.recorders[2], 0, 64 << 20, json!({}))
        .await;
    assert!(matches!(
        other.recv().await,
        ServerMessage::WriteStarted { .. }
    ));
    let targets = [
        helper.recorders[0].clone(),
        "emulated:/nonexistent/x.img".to_owned(),
        helper.recorders[2].clone(),
        helper.recorders[1].clone(),
    ];
    let done = c
        .duplicate(2, &targets, &data, json!({}), |_, _, _| None)
        .await;
    assert!(done.started);
    assert_eq!(
        done.hresults(),
        [
            HResult::S_OK,
            HResult::E_INVALIDARG,
            HResult::E_IMAPI_RECORDER_LOCKED,
            HResult::S_OK
        ]
    );
    assert!(image(&helper.images[0])[..data.len()] == data[..]);
    assert!(image(&helper.images[1])[..data.len()] == data[..]);
    assert!(
        image(&helper.images[2]).is_empty(),
        "the held drive was not touched"
    );

    // More than 16 drives: refused as a whole.
    let many: Vec<String> = (0..17).map(|i| format!("emulated:/x/{i}.img")).collect();
    let done = c
        .duplicate(3, &many, &data, json!({}), |_, _, _| None)
        .await;
    assert_eq!(done.hresults(), [HResult::E_INVALIDARG; 17]);
    other.close().await;
}

/// A duplicator's day at real sizes: one open-ended upload (an image whose
/// size only its end tells, as a gzip is) flashed onto sixteen 32 GB cards
/// at once, the section each card's whole room; each card holds the image
/// and nothing after it, and each verified against the same SHA-256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_32_gb_cards_take_one_open_ended_upload_each_verified() {
    let cards = [real::CARD_32GB; 16];
    let helper = Helper::start(&cards, |c| {
        c.buffer_bytes = 4 << 20;
        c.max_sessions = 2;
    })
    .await;
    let mut c = helper.session().await;
    c.bytes_per_sector = 512;
    let data = pattern(24 << 20, 16);
    let room: u64 = 62_333_952;
    let extra = json!({
        "numberOfBlocks": room,
        "totalBytes": room * 512,
        "disc": {"verification": 2, "openEnd": true},
    });
    let done = c
        .duplicate(1, &helper.recorders, &data, extra, |_, _, _| None)
        .await;
    assert_eq!(done.hresults(), [HResult::S_OK; 16]);
    assert_eq!(done.sent, data.len() as u64, "the data was sent once");
    let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&data));
    for (i, r) in done.results.iter().enumerate() {
        let ServerMessage::WriteResult {
            disc: Some(report), ..
        } = r
        else {
            panic!("card {i}: {r:?}")
        };
        assert!(report.verified, "card {i}");
        assert_eq!(report.sha256, sha, "card {i}");
        assert_eq!(image_len(&helper.images[i]), data.len() as u64, "card {i}");
        assert!(
            image_at(&helper.images[i], 0, data.len()) == data,
            "card {i}"
        );
    }
}
