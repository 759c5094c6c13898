//! Measures a burn through the WebSocket protocol against the same burn
//! through the engine directly, in one run, on emulated removable disks
//! (unlimited speed). Run with:
//!
//! ```sh
//! cargo run --release -p webburn-tests --example protocol_throughput -- [MiB] [DIR]
//! ```

#![allow(clippy::unwrap_used)] // a measurement tool, not product code

use std::time::Instant;

use webburn_engine::EngineConfig;
use webburn_shared::HResult;
use webburn_tests::served::Helper;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(512, |a| a.parse().unwrap());
    let dir = args
        .next()
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let data = webburn_tests::pattern(mib << 20, 1);
    let secs = |t: Instant| t.elapsed().as_secs_f64();

    let helper = Helper::start(&[",profile=disk"], |_| {}).await;
    let mut client = helper.session().await;
    let t = Instant::now();
    let burned = client
        .burn(1, &helper.recorders[0], 0, &data, 1 << 20)
        .await;
    let ws = secs(t);
    assert_eq!(burned.hresult(), HResult::S_OK);
    assert!(
        std::fs::read(&helper.images[0]).unwrap() == data,
        "protocol image differs"
    );

    let scratch = tempfile::tempdir_in(&dir).unwrap();
    let (rec, img, _) = webburn_tests::emulated(scratch.path(), "direct.img", ",profile=disk");
    let engine = webburn_tests::engine(&rec, EngineConfig::default());
    let t = Instant::now();
    let (r, _) = tokio::task::block_in_place(|| {
        webburn_tests::write(
            &engine,
            &data[..],
            Some(data.len() as u64),
            0,
            (data.len() / 2048) as i32,
        )
    });
    let direct = secs(t);
    r.unwrap();
    assert!(std::fs::read(&img).unwrap() == data, "direct image differs");

    let mb = data.len() as f64 / 1e6;
    println!("{mib} MiB, images compared identical");
    println!(
        "protocol (WebSocket, 1 MiB frames): {ws:.2} s  {:.1} MB/s",
        mb / ws
    );
    println!(
        "engine direct (same data):          {direct:.2} s  {:.1} MB/s",
        mb / direct
    );
    println!("protocol / direct: {:.2}", direct / ws);
}
