//! Burns a generated file through the page and the wasm library in headless
//! Chromium to an emulated removable disk at unlimited speed, and prints the
//! rate the page reports. Needs the built page (`cargo xtask test` or
//! `cargo xtask serve` builds target/www). Run with:
//!
//! ```sh
//! cargo run --release -p webburn-tests --example page_throughput -- [MiB]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool, not product code

use std::time::Duration;

use webburn_tests::browser::{Browser, www_dir};
use webburn_tests::served::Helper;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mib: usize = std::env::args().nth(1).map_or(256, |a| a.parse().unwrap());
    let www = www_dir();
    let helper = Helper::start(&[",profile=disk,capacity=8GiB"], move |c| c.www = Some(www)).await;
    let data = webburn_tests::pattern(mib << 20, 9);
    let src = helper.dir.path().join("source.bin");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start().await;
    browser
        .open_page(&helper.server.url(), Duration::from_secs(30))
        .await;
    browser.burn(&src).await;
    browser.result(Duration::from_secs(600)).await;
    println!("{}", browser.text("result").await);
    assert!(
        std::fs::read(&helper.images[0]).unwrap() == data,
        "image differs"
    );
    println!("image compared identical");
}
