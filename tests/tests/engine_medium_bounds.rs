//! No address outside the medium reaches a device: every section is held
//! against the loaded medium (lowest address, last writable sector, sector
//! size) and refused before `writeStarted`, with no credit granted; the
//! disc flow's medium checks run before credit too (the CLI's refusals are
//! in helper/tests/cli_commands.rs).

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::{Client, Helper};
use webburn_tests::{image, pattern};

/// Sends a raw `startWrite` and returns the HRESULT of the `writeResult`
/// that must come instead of `writeStarted`.
async fn refused(
    c: &mut Client,
    id: u32,
    recorder: &str,
    lba: i64,
    blocks: i64,
    bps: i64,
) -> HResult {
    c.send(
        json!({"type": "startWrite", "writeId": id, "recorder": recorder,
        "bytesPerSector": bps, "startingBlockAddress": lba, "numberOfBlocks": blocks,
        "totalBytes": blocks.max(0) * bps.max(0)}),
    )
    .await;
    match c.recv().await {
        ServerMessage::WriteResult { hresult, .. } => hresult,
        other => panic!("write {id} ({lba}, {blocks}, {bps}) was not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_outside_a_dvd_plus_r_are_refused_before_any_credit() {
    // 512 KiB = 256 sectors of 2048 bytes.
    let helper = Helper::start(&[",profile=dvd+r,capacity=512KiB"], |_| {}).await;
    let rec = helper.recorders[0].clone();
    let mut c = helper.session().await;
    let too_large = HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA;
    let cases: [(i64, i64, i64, HResult); 9] = [
        (-1, 1, 2048, HResult::E_INVALIDARG),
        (-2_147_483_648, 1, 2048, HResult::E_INVALIDARG),
        (0, 2_147_483_647, 2048, too_large),
        (0, 257, 2048, too_large),
        // Not the blank disc's next writable address (0).
        (255, 2, 2048, HResult::E_INVALIDARG),
        (300, 1, 2048, HResult::E_INVALIDARG),
        (0, 1, 1, HResult::E_INVALIDARG),
        (0, 1, 4096, HResult::E_INVALIDARG),
        (0, 1, 2352, HResult::E_INVALIDARG),
    ];
    for (i, (lba, blocks, bps, want)) in cases.into_iter().enumerate() {
        let got = refused(&mut c, i as u32 + 1, &rec, lba, blocks, bps).await;
        assert_eq!(got, want, "startWrite at {lba}, {blocks} x {bps}");
    }
    assert!(image(&helper.images[0]).is_empty(), "nothing was written");
    // The whole disc still burns, and the recorder was never left locked.
    let data = pattern(512 << 10, 5);
    let burned = c.burn(100, &rec, 0, &data, 64 << 10).await;
    assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
    assert!(image(&helper.images[0]) == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disc_burn_on_a_closed_disc_is_refused_before_any_credit() {
    let helper = Helper::start(&[",profile=dvd+r,capacity=4MiB"], |_| {}).await;
    let rec = helper.recorders[0].clone();
    let mut c = helper.session().await;
    let data = pattern(1 << 20, 9);
    let disc = json!({"disc": {"verification": 0}});
    let first = c.burn_with(1, &rec, 0, &data, disc.clone()).await;
    assert_eq!(first.hresult(), HResult::S_OK, "{:?}", first.result);
    // The disc is closed now: the next burn (and a raw write) gets no credit.
    let second = c.burn_with(2, &rec, 512, &data, disc).await;
    assert_eq!(second.hresult(), HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK);
    assert_eq!((second.granted, second.updates.len()), (0, 0));
    let raw = c.burn(3, &rec, 512, &data, 64 << 10).await;
    assert_eq!(raw.hresult(), HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK);
    assert_eq!(raw.granted, 0);
    // Too large for the room left: refused before credit as well.
    let helper = Helper::start(&[",profile=bd-r,capacity=1MiB"], |_| {}).await;
    let mut c = helper.session().await;
    let big = pattern(2 << 20, 1);
    let burned = c
        .burn_with(1, &helper.recorders[0], 0, &big, json!({"disc": {}}))
        .await;
    assert_eq!(
        burned.hresult(),
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA
    );
    assert_eq!((burned.granted, burned.updates.len()), (0, 0));
    assert!(image(&helper.images[0]).is_empty());
}
