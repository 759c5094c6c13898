//! The VM tier's host-side client: burns FILE through the WebSocket protocol
//! to the first recorder of a helper reached at 127.0.0.1:PORT (a helper in
//! the QEMU guest, through hostfwd), as the helper's own page would.
//!
//! `cargo run -p webburn-tests --example vm_client -- PORT FILE [INDEX [approval]]`,
//! with the guest helper's own-page key in `WEBBURN_OWN_KEY`.
//! Prints the recorders the helper lists and a line with the result; exits 1
//! unless the write succeeded. With `approval`, a page of
//! `http://approval.test` (an origin the guest's helper admits) first finds
//! the removable disk the helper discovered, is refused a write to it, asks
//! for it, and this client (the helper's own page) allows it. The write goes to the INDEXth recorder (0 by
//! default) and runs the DiscFormat2Data flow (as the page does by
//! default), so the guest's kernel disk is read back and compared too. A
//! compressed FILE (xz, zstd, bzip2) is decoded here first, as the page's
//! library does: with the size its container declares, or, where it
//! declares none, open-ended (`disc.openEnd`, the room on the disk, then
//! `endOfData`).

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::{Approval, RecorderDescription, ServerMessage};
use webburn_tests::served::{Client, connect, own_cookie};
use webburn_unpack::{Format, decode_all, xz_index_range, xz_size_from_index, zstd_content_size};

/// The page origin the guest's helper admits without pairing.
const APPROVAL_ORIGIN: &str = "http://approval.test";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(port), Some(file)) = (
        args.first().and_then(|p| p.parse::<u16>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: vm_client PORT FILE [INDEX]");
        std::process::exit(2);
    };
    let index: usize = args.get(2).and_then(|i| i.parse().ok()).unwrap_or(0);
    let probe_approval = args.get(3).is_some_and(|a| a == "approval");
    let file_bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let (data, declared) = unpack(&file_bytes);
    let origin = format!("http://127.0.0.1:{port}");
    let key = std::env::var("WEBBURN_OWN_KEY").unwrap_or_default();
    let cookie = own_cookie(port, &key);
    let mut c = connect(port, Some(&origin), None, None, Some(&cookie))
        .await
        .unwrap_or_else(|(status, body)| panic!("refused: {status} {body}"));
    c.hello().await;
    c.send(json!({"type": "listRecorders"})).await;
    let recorders = match c.recv().await {
        ServerMessage::Recorders { recorders } => recorders,
        other => panic!("expected recorders, got {other:?}"),
    };
    for r in &recorders {
        println!(
            "listed: {} kind={} device={} {} {} profiles={:?} current={:?} approval={:?} size={:?}",
            r.id,
            r.kind,
            r.vendor_id,
            r.product_id,
            r.product_revision,
            r.supported_profiles,
            r.current_profiles,
            r.approval,
            r.size_bytes
        );
    }
    if probe_approval {
        approval(port, &mut c).await;
    }
    let described = recorders
        .into_iter()
        .nth(index)
        .unwrap_or_else(|| panic!("the helper offers no recorder {index}"));
    let recorder = described.id;
    // A disk takes blocks of its own size (512 bytes for QEMU's scsi-hd).
    c.bytes_per_sector = described.block_size.map_or(2048, |b| b as usize);
    let mut data = data;
    data.resize(
        data.len().div_ceil(c.bytes_per_sector) * c.bytes_per_sector,
        0,
    );
    let started = std::time::Instant::now();
    let burned = if declared {
        c.burn_with(1, &recorder, 0, &data, json!({"disc": {"verification": 2}}))
            .await
    } else {
        let room = described.free_sectors.unwrap_or(0) as usize;
        println!("websocket: open-ended into {room} sectors");
        c.burn_to_end(1, &recorder, (0, room), &data, json!({"verification": 2}))
            .await
    };
    let seconds = started.elapsed().as_secs_f64();
    let hresult = burned.hresult();
    let verified =
        matches!(&burned.result, ServerMessage::WriteResult { disc: Some(d), .. } if d.verified);
    println!(
        "websocket: {} bytes to {recorder} in {seconds:.2} s ({:.1} MB/s, written and read back), {} updates, {:?}, verified: {verified}",
        burned.sent,
        burned.sent as f64 / seconds / 1e6,
        burned.updates.len(),
        hresult
    );
    if let ServerMessage::WriteResult { detail, .. } = &burned.result
        && !detail.is_empty()
    {
        println!("websocket: {detail}");
    }
    if let ServerMessage::WriteResult { disc: Some(d), .. } = &burned.result {
        println!(
            "websocket: sha256 {} partitions {:?}",
            d.sha256, d.partitions
        );
    }
    c.close().await;
    if hresult != HResult::S_OK || !verified {
        std::process::exit(1);
    }
}

/// A page of another origin and a removable disk the helper found: refused
/// until asked for and allowed by `own` (the helper's own page).
async fn approval(port: u16, own: &mut Client) {
    let mut page = connect(port, Some(APPROVAL_ORIGIN), None, None, None)
        .await
        .unwrap_or_else(|(status, body)| panic!("{APPROVAL_ORIGIN} refused: {status} {body}"));
    page.hello().await;
    let found = list(&mut page)
        .await
        .into_iter()
        .find(|r| r.approval == Some(Approval::Needed))
        .unwrap_or_else(|| panic!("the helper offers no found disk that needs approval"));
    page.bytes_per_sector = found.block_size.map_or(512, |b| b as usize);
    let one = vec![0u8; page.bytes_per_sector];
    let refused = page.burn(1, &found.id, 0, &one, one.len()).await;
    assert_eq!(
        refused.hresult(),
        HResult::E_ACCESSDENIED,
        "{:?}",
        refused.result
    );
    page.send(json!({"type": "requestDevice", "recorderId": found.id}))
        .await;
    let ServerMessage::DeviceRequested { code, .. } = page.recv().await else {
        panic!("requestDevice was not answered")
    };
    own.send(json!({"type": "listPairings"})).await;
    let ServerMessage::Pairings { devices, .. } = own.recv().await else {
        panic!("listPairings was not answered")
    };
    let asked = devices
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("the own page does not show request {code}: {devices:?}"));
    own.send(json!({"type": "approveDevice", "code": code}))
        .await;
    let ServerMessage::Pairings { .. } = own.recv().await else {
        panic!("approveDevice was not answered")
    };
    let now = list(&mut page).await;
    let approved = now
        .iter()
        .any(|r| r.id == found.id && r.approval == Some(Approval::Approved));
    assert!(approved, "{now:?}");
    println!(
        "approval: {} found as {}, refused ({:?}) until {} wants to write to {} was allowed",
        asked.device,
        found.id,
        refused.hresult(),
        asked.origin,
        asked.device
    );
    page.close().await;
}

async fn list(c: &mut Client) -> Vec<RecorderDescription> {
    c.send(json!({"type": "listRecorders"})).await;
    match c.recv().await {
        ServerMessage::Recorders { recorders } => recorders,
        other => panic!("expected recorders, got {other:?}"),
    }
}

/// The image in `file`: decoded when compressed; whether its size was
/// declared (raw, the xz index, the zstd frame header) or only its end tells.
fn unpack(file: &[u8]) -> (Vec<u8>, bool) {
    let format = Format::detect(file);
    let declared = match format {
        Format::Raw => return (file.to_vec(), true),
        Format::Xz => {
            let tail = &file[file.len().saturating_sub(4096)..];
            let index = xz_index_range(tail, file.len() as u64)
                .unwrap_or_else(|e| panic!("the xz footer: {e}"));
            let bytes = &file[index.start as usize..index.end as usize];
            xz_size_from_index(bytes, index.start)
                .unwrap_or_else(|e| panic!("the xz index: {e}"))
                .is_some()
        }
        Format::Zstd => zstd_content_size(file).is_some(),
        _ => false,
    };
    let data = decode_all(format, file).unwrap_or_else(|e| panic!("{}: {e}", format.name()));
    println!(
        "websocket: a {} image of {} bytes ({} compressed), size {}",
        format.name(),
        data.len(),
        file.len(),
        if declared {
            "declared"
        } else {
            "known at its end"
        }
    );
    (data, declared)
}
