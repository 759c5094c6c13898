//! The VM tier's host-side client: burns FILE through the WebSocket protocol
//! to the first recorder of a helper reached at 127.0.0.1:PORT (a helper in
//! the QEMU guest, through hostfwd), as the helper's own page would.
//!
//! `cargo run -p webburn-tests --example vm_client -- PORT FILE`
//! Prints the recorders the helper lists and a line with the result; exits 1
//! unless the write succeeded. The write runs the DiscFormat2Data flow (as
//! the page does by default), so the guest's kernel disk is read back and
//! compared too.

use serde_json::json;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;
use webburn_tests::served::connect;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(port), Some(file)) = (
        args.first().and_then(|p| p.parse::<u16>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: vm_client PORT FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let origin = format!("http://127.0.0.1:{port}");
    let mut c = connect(port, Some(&origin), None, None)
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
            "listed: {} kind={} device={} {} {} profiles={:?} current={:?}",
            r.id,
            r.kind,
            r.vendor_id,
            r.product_id,
            r.product_revision,
            r.supported_profiles,
            r.current_profiles
        );
    }
    let described = recorders
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the helper offers no recorder"));
    let recorder = described.id;
    // A disk takes blocks of its own size (512 bytes for QEMU's scsi-hd).
    c.bytes_per_sector = described.block_size.map_or(2048, |b| b as usize);
    let started = std::time::Instant::now();
    let burned = c
        .burn_with(1, &recorder, 0, &data, json!({"disc": {"verification": 2}}))
        .await;
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
    c.close().await;
    if hresult != HResult::S_OK || !verified {
        std::process::exit(1);
    }
}
