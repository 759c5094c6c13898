//! Page load to `connected`: the burning page opened in a fresh headless
//! Chromium (a new profile each time, so nothing is cached), from two builds
//! of the page taking turns (A B A B ...), each served by its own helper.
//! The figure is the page's own user-timing mark `webburn:connected`
//! (milliseconds from the start of navigation; www/common.js sets it when
//! the state first becomes `connected`). Prints one JSON object on stdout:
//! `{"a": [ms, ...], "b": [ms, ...]}`.
//!
//! `cargo run --release -p webburn-tests --example page_load -- DIR-A DIR-B [ROUNDS]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool, not product code

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use webburn_tests::browser::Browser;
use webburn_tests::served::Helper;

const LONG: Duration = Duration::from_secs(60);

const CONNECTED_AT: &str = "const m = performance.getEntriesByName('webburn:connected', 'mark')[0]; \
     return m ? m.startTime : null";

async fn helper_for(dir: PathBuf) -> Helper {
    Helper::start(&[",profile=dvd+r"], move |c| c.www = Some(dir)).await
}

async fn one_load(helper: &Helper) -> f64 {
    let browser = Browser::start().await;
    browser.goto(&helper.server.url()).await;
    browser.wait_state("connected", LONG).await;
    browser
        .eval(CONNECTED_AT)
        .await
        .as_f64()
        .expect("the page marks webburn:connected")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        panic!("usage: page_load DIR-A DIR-B [ROUNDS]");
    };
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(7);
    let helpers = [
        helper_for(PathBuf::from(a)).await,
        helper_for(PathBuf::from(b)).await,
    ];
    // One load of each first, not counted: the disk cache of the files warms.
    for h in &helpers {
        one_load(h).await;
    }
    let mut ms = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, h) in helpers.iter().enumerate() {
            ms[i].push(one_load(h).await);
        }
    }
    println!("{}", json!({ "a": ms[0], "b": ms[1] }));
}
