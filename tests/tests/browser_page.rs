//! The page and the wasm library in headless Chromium against a helper on
//! 127.0.0.1: a 64 MiB disc burn (checked, closed, verified) compared byte
//! for byte (with screenshots for docs/), a verify failure, raw sectors,
//! cancel, every data type, the library's rejections, and a page of a second
//! origin refused until paired.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::path::{Path, PathBuf};
use std::time::Duration;

use webburn_tests::browser::{Browser, Engine, www_dir, www_dir_for};
use webburn_tests::every_engine;
use webburn_tests::served::Helper;
use webburn_tests::{image, pattern};

const LONG: Duration = Duration::from_secs(30);

async fn helper_with_page(www: &Path, options: &[&str]) -> Helper {
    let www = www.to_path_buf();
    Helper::start(options, move |c| c.www = Some(www)).await
}

fn docs() -> PathBuf {
    webburn_tests::screenshots_dir()
}

every_engine! {
async fn a_64_mib_file_burns_from_the_page_byte_for_byte(engine) {
    let www = www_dir_for(engine);
    // 24x DVD+R: about two seconds, long enough to see the burn in progress.
    let helper = helper_with_page(&www, &[",profile=dvd+r,speed=24x"]).await;
    let data = pattern(64 << 20, 2026);
    let src = helper.dir.path().join("holiday-photos.iso");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start_in(engine).await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    browser.burn(&src).await;
    browser
        .wait_for("25 % progress", LONG, || async {
            browser.progress().await >= 0.25
        })
        .await;
    let mid = browser.screenshot().await;
    let still_running = browser.progress().await < 1.0;
    assert_eq!(
        browser.result(LONG).await,
        "S_OK",
        "{}",
        browser.text("result").await
    );
    let done = browser.screenshot().await;
    // The docs' pictures come from the page as built here (not, say, a
    // bundle of it made by the npm package check).
    // Chromium's are the docs'; the other engines' carry their name.
    if std::env::var_os("WEBBURN_NO_SCREENSHOTS").is_none() {
        std::fs::create_dir_all(docs()).unwrap();
        if engine == Engine::Chromium {
            if still_running {
                std::fs::write(docs().join("burn-progress.png"), mid).unwrap();
            }
            std::fs::write(docs().join("burn-done.png"), done).unwrap();
        } else {
            std::fs::write(docs().join(format!("burn-done-{}.png", engine.name())), done).unwrap();
        }
    }
    let result = browser.text("result").await;
    assert!(result.starts_with("Done: 67.1 MB in"), "{result}");
    assert!(result.contains("verified"), "{result}");
    let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&data));
    assert_eq!(
        browser.attr("result", "data-sha256").await.as_deref(),
        Some(sha.as_str())
    );
    assert_eq!(browser.text("action").await, "Done");
    assert!(
        (browser.progress().await - 1.0).abs() < 1e-9,
        "the bar is full"
    );
    assert_eq!(browser.text("percent").await, "100.0 %");
    let samples = browser
        .eval("return window.webburn.samples.length")
        .await
        .as_u64()
        .unwrap();
    assert!(samples >= 3, "update events: {samples}");
    // The log names each step; the SHA-256 wraps inside its panel.
    let log = browser.text("log").await;
    for step in [
        "step: Checking the disc",
        "step: Preparing the drive",
        "step: Writing",
        "step: Closing the disc",
        "step: Verifying",
        "step: Done",
    ] {
        assert!(log.contains(step), "{step} missing from the log: {log}");
    }
    let overflows = browser
        .eval("const r = document.getElementById('result'); return r.scrollWidth > r.clientWidth")
        .await;
    assert_eq!(
        overflows,
        serde_json::Value::Bool(false),
        "the result runs out of its panel"
    );
    // The page names its icon, so no browser asks for /favicon.ico.
    let icon = browser
        .eval_async(
            "fetch(document.querySelector('link[rel=icon]').href).then((r) => done(r.status))",
        )
        .await;
    assert_eq!(icon.as_u64(), Some(200));
    let img = image(&helper.images[0]);
    assert_eq!(img.len(), data.len());
    assert!(img == data, "the disc image differs from the file");
}
}

every_engine! {
async fn cancel_from_the_page_ends_in_request_cancelled(engine) {
    let www = www_dir_for(engine);
    let helper = helper_with_page(&www, &[",profile=dvd+r,speed=2x"]).await;
    let data = pattern(16 << 20, 7);
    let src = helper.dir.path().join("big.bin");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start_in(engine).await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    browser.burn(&src).await;
    browser
        .wait_for("some progress", LONG, || async {
            browser.progress().await > 0.05
        })
        .await;
    browser.click("cancel").await;
    assert_eq!(browser.result(LONG).await, "E_IMAPI_REQUEST_CANCELLED");
    assert!(
        browser
            .text("result")
            .await
            .contains("E_IMAPI_REQUEST_CANCELLED (0xC0AA0002)")
    );
    let img = image(&helper.images[0]);
    assert!(!img.is_empty() && img.len() < data.len());
    assert!(
        img == data[..img.len()],
        "what was written is the file's beginning"
    );
    // The recorder is free again: the page can burn at once.
    assert_eq!(browser.attr("burn", "disabled").await, None);
}
}

/// Byte `i` of the test data the scripts below build in the page.
fn js_byte(i: usize, seed: usize) -> u8 {
    ((i * 31 + seed * 7 + i / 2048) & 255) as u8
}

every_engine! {
async fn the_library_takes_every_data_type_and_rejects_bad_calls_with_hresults(engine) {
    let www = www_dir_for(engine);
    let helper = helper_with_page(&www, &[",profile=disk,capacity=64MiB"]).await;
    let browser = Browser::start_in(engine).await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    let out = browser
        .eval_async(
            r"
            const { master, WriteEngine2 } = window.webburn;
            const bytes = (n, seed) => { const a = new Uint8Array(n); for (let i = 0; i < n; i++) a[i] = (i * 31 + seed * 7 + Math.floor(i / 2048)) & 255; return a; };
            const outcome = async (f) => { try { await f(); return 'ok'; } catch (e) { return `${e.name}:${e.hresult}`; } };
            const thrown = (f) => { try { f(); return 'ok'; } catch (e) { return `${e.name}:${e.hresult}`; } };
            const e = new WriteEngine2();
            const r = {};
            r.defaults = [e.bytesPerSector, e.startingSectorsPerSecond, e.endingSectorsPerSecond, e.useStreamingWrite12, e.writeInProgress, e.recorder === undefined];
            r.noRecorder = await outcome(() => e.writeSection(bytes(2048, 0), 0, 1));
            e.recorder = master.recorder(master.item(0));
            r.noBps = await outcome(() => e.writeSection(bytes(2048, 0), 0, 1));
            r.badBps = thrown(() => { e.bytesPerSector = 0; });
            r.badRate = thrown(() => { e.endingSectorsPerSecond = -2; });
            e.bytesPerSector = 2048;
            r.short = await outcome(() => e.writeSection(bytes(100, 0), 0, 1));
            r.badData = await outcome(() => e.writeSection(42, 0, 1));
            r.zero = await outcome(() => e.writeSection(bytes(2048, 0), 0, 0));
            r.badItem = thrown(() => master.item(99));
            // Every data type, each at its own LBA.
            r.arrayBuffer = await outcome(() => e.writeSection(bytes(16 * 2048, 1).buffer, 0, 16));
            r.typedArray = await outcome(() => e.writeSection(new DataView(bytes(16 * 2048, 2).buffer), 16, 16));
            r.blob = await outcome(() => e.writeSection(new Blob([bytes(16 * 2048, 3)]), 32, 16));
            r.stream = await outcome(() => e.writeSection(new Blob([bytes(16 * 2048, 4)]).stream(), 48, 16));
            // A stream that ends early: its whole sectors are written, then E_INVALIDARG.
            r.shortStream = await outcome(() => e.writeSection(new Blob([bytes(3 * 2048 + 5, 5)]).stream(), 64, 16));
            // A second write while one runs; properties are locked meanwhile.
            const first = e.writeSection(bytes(2048 * 2048, 6), 100, 2048);
            r.inProgress = [e.writeInProgress, await outcome(() => e.writeSection(bytes(2048, 0), 0, 1)), thrown(() => { e.bytesPerSector = 512; })];
            r.first = await outcome(() => first);
            r.after = e.writeInProgress;
            done(r);
            ",
        )
        .await;
    let expect = |k: &str, v: serde_json::Value| assert_eq!(out[k], v, "{k}: {out}");
    expect(
        "defaults",
        serde_json::json!([-1, -1, -1, false, false, true]),
    );
    let invalid = serde_json::json!(format!("E_INVALIDARG:{}", 0x8007_0057_u32));
    expect(
        "noRecorder",
        serde_json::json!(format!("E_IMAPI_RECORDER_REQUIRED:{}", 0xC0AA_0003_u32)),
    );
    for k in [
        "noBps",
        "badBps",
        "badRate",
        "short",
        "badData",
        "zero",
        "badItem",
        "shortStream",
    ] {
        expect(k, invalid.clone());
    }
    for k in ["arrayBuffer", "typedArray", "blob", "stream", "first"] {
        expect(k, serde_json::json!("ok"));
    }
    let in_progress = format!("E_IMAPI_DF2DATA_WRITE_IN_PROGRESS:{}", 0xC0AA_0400_u32);
    expect(
        "inProgress",
        serde_json::json!([true, in_progress, in_progress]),
    );
    expect("after", serde_json::json!(false));
    let img = image(&helper.images[0]);
    for (seed, lba) in [(1, 0), (2, 16), (3, 32), (4, 48)] {
        let at = lba * 2048;
        assert!(
            (0..16 * 2048).all(|i| img[at + i] == js_byte(i, seed)),
            "data type {seed} at LBA {lba}"
        );
    }
    let at = 64 * 2048;
    assert!(
        (0..3 * 2048).all(|i| img[at + i] == js_byte(i, 5)),
        "the short stream's whole sectors"
    );
    assert!(
        img[at + 3 * 2048..at + 4 * 2048].iter().all(|&b| b == 0),
        "its partial sector is not written"
    );
}
}

every_engine! {
async fn a_page_of_another_origin_is_refused_until_paired(engine) {
    let www = www_dir_for(engine);
    let helper = helper_with_page(&www, &[",profile=disk"]).await;
    // Two more helpers only serve the page: their origins are other origins.
    let site = helper_with_page(&www, &[""]).await;
    let other_site = helper_with_page(&www, &[""]).await;
    let origin = format!("http://127.0.0.1:{}", site.port());
    let page = format!(
        "{}?helper=http://127.0.0.1:{}",
        site.server.url(),
        helper.port()
    );
    let browser = Browser::start_in(engine).await;
    browser.goto(&page).await;
    browser.wait_state("pairingPending", LONG).await;
    assert!(
        browser
            .text("connection-text")
            .await
            .contains("webburn-helper pair approve")
    );
    let (status, _) = helper.connect(Some(&origin), None, None).await.unwrap_err();
    assert_eq!(status, 403, "not paired yet");
    let store = &helper.server.state.pairing;
    let code = helper.pairing_code(&origin);
    store.approve(&code).unwrap();
    browser.wait_state("connected", LONG).await;
    let token = browser
        .eval(&format!(
            "return localStorage.getItem('webburn.token:http://127.0.0.1:{}')",
            helper.port()
        ))
        .await;
    assert_eq!(
        token.as_str().map(str::len),
        Some(64),
        "the token is kept for this origin"
    );
    // The paired page burns.
    browser.wait_recorders(LONG).await;
    let data = pattern(1 << 20, 3);
    let src = helper.dir.path().join("small.bin");
    std::fs::write(&src, &data).unwrap();
    browser.burn(&src).await;
    assert_eq!(browser.result(LONG).await, "S_OK");
    assert!(image(&helper.images[0])[..data.len()] == data[..]);
    // Another site whose request the user refuses.
    let refused = format!(
        "{}?helper=http://127.0.0.1:{}",
        other_site.server.url(),
        helper.port()
    );
    browser.goto(&refused).await;
    browser.wait_state("pairingPending", LONG).await;
    let other_origin = format!("http://127.0.0.1:{}", other_site.port());
    let code = helper.pairing_code(&other_origin);
    store.deny(&code).unwrap();
    browser.wait_state("pairingRefused", LONG).await;
    assert!(browser.text("connection-text").await.contains("refused"));
}
}

every_engine! {
async fn a_lost_connection_is_shown_and_reconnected(engine) {
    let www = www_dir_for(engine);
    // The helper closes sessions quiet for 1.5 s (the library pings every 20 s).
    let www = www.clone();
    let helper = Helper::start(&[""], move |c| {
        c.www = Some(www);
        c.idle_timeout = Duration::from_millis(1500);
    })
    .await;
    let browser = Browser::start_in(engine).await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    let log = || async { browser.text("log").await };
    browser
        .wait_for("the loss to show", LONG, || async {
            log().await.contains("state: disconnected")
        })
        .await;
    browser
        .wait_for("the reconnect", LONG, || async {
            let text = log().await;
            text.rfind("state: connected") > text.find("state: disconnected")
        })
        .await;
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_verifies_by_default_and_names_the_first_bad_sector() {
    let www = www_dir();
    let helper = helper_with_page(&www, &[",profile=disk,capacity=64MiB,corrupt-at=100"]).await;
    let data = pattern(4 << 20, 9);
    let src = helper.dir.path().join("stick.img");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start().await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    assert_eq!(
        browser
            .eval("return document.getElementById('verify').checked")
            .await,
        true,
        "verify is on by default"
    );
    assert_eq!(
        browser.attr("simulate", "disabled").await.as_deref(),
        Some("true")
    );
    browser.burn(&src).await;
    assert_eq!(
        browser.result(LONG).await,
        "E_IMAPI_BURN_VERIFICATION_FAILED"
    );
    let text = browser.text("result").await;
    assert!(text.contains("first bad sector 100"), "{text}");
    assert_eq!(browser.text("action").await, "Verifying");
    // Raw sectors: WriteSection alone, at the chosen sector, no read-back.
    browser
        .eval("document.querySelector('input[name=mode][value=section]').click(); return true")
        .await;
    browser.type_into("lba", "16").await;
    browser.click_burn().await;
    browser
        .wait_for("the second result", LONG, || async {
            browser.attr("result", "data-hresult").await.as_deref() == Some("S_OK")
        })
        .await;
    let img = image(&helper.images[0]);
    // Up to the corrupting sector 100, what the drive holds is the file.
    assert!(img[16 * 2048..100 * 2048] == data[..84 * 2048]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_helper_is_asked_to_update_and_a_newer_one_serves_todays_page() {
    let www = www_dir();
    // An older helper: it lists fewer features than this library needs.
    let old_www = www.clone();
    let older = Helper::start(&[",profile=disk"], move |c| {
        c.www = Some(old_www);
        c.features = vec!["rawFrames".into(), "discFlow".into()];
    })
    .await;
    let browser = Browser::start().await;
    browser.goto(&older.server.url()).await;
    browser.wait_state("helperOutdated", LONG).await;
    let help = browser.text("connection-text").await;
    let needed = webburn_shared::compat::MIN_HELPER_VERSION;
    assert_eq!(
        help,
        format!(
            "Update the webburn helper (installed {}, this page needs {needed} or newer).",
            env!("CARGO_PKG_VERSION")
        )
    );
    let error = browser
        .eval_async(
            "window.webburn.master.connect().then(() => done('connected'), (e) => done(`${e.name} ${e.code} ${e.detail}`))",
        )
        .await;
    let error = error.as_str().unwrap_or_default().to_owned();
    assert!(
        error.starts_with("E_NOTIMPL helperOutdated Update the webburn helper")
            && error.contains("it lacks verify, mediumKind"),
        "{error}"
    );
    // A newer helper: more features than this library knows; the page
    // connects and burns as with its own.
    let new_www = www.clone();
    let newer = Helper::start(&[",profile=disk"], move |c| {
        c.www = Some(new_www);
        c.features.push("somethingNew".into());
    })
    .await;
    browser.open_page(&newer.server.own_url(), LONG).await;
    browser.wait_recorders(LONG).await;
    let features = browser
        .eval("return window.webburn.master.helperFeatures.join(' ')")
        .await;
    assert!(
        features
            .as_str()
            .unwrap_or_default()
            .ends_with("somethingNew")
    );
    let data = pattern(1 << 20, 4);
    let src = newer.dir.path().join("small.bin");
    std::fs::write(&src, &data).unwrap();
    browser.burn(&src).await;
    assert_eq!(browser.result(LONG).await, "S_OK");
    assert!(image(&newer.images[0])[..data.len()] == data[..]);
}
