//! The kiosk page and the duplicator in headless Chromium against a helper in
//! kiosk mode: one file burned onto four emulated drives at once, twice (an
//! autoloader changes the discs during the countdown), one drive failing
//! without stopping the others, every disc compared byte for byte, the
//! counter and history; Stop and burning again, and the helper killed and
//! restarted mid-burn (recovery). A screenshot of the page mid-duplication
//! goes to target/screenshots (`cargo xtask screenshots` copies it to docs/).

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::path::{Path, PathBuf};
use std::time::Duration;

use webburn_helper::server::kiosk::KioskSettings;
use webburn_tests::browser::{Browser, Engine, www_dir, www_dir_for};
use webburn_tests::child::ChildHelper;
use webburn_tests::every_engine;
use webburn_tests::served::Helper;
use webburn_tests::{image, pattern};

const LONG: Duration = Duration::from_secs(60);

async fn kiosk(www: &Path, options: &[&str], copies: u32) -> Helper {
    let www = www.to_path_buf();
    Helper::start(options, move |c| {
        c.www = Some(www);
        c.kiosk = Some(KioskSettings {
            title: "Photo CD station".into(),
            copies,
            countdown_seconds: 2,
            ..KioskSettings::default()
        });
    })
    .await
}

/// The `data-` attribute `name` of drive tile `index`.
async fn tile(browser: &Browser, index: usize, name: &str) -> String {
    browser
        .eval(&format!(
            "const li = document.querySelector('#drives li[data-index=\"{index}\"]'); \
             return li ? (li.dataset['{name}'] || '') : ''"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The smallest progress among the drive tiles.
async fn slowest_tile(browser: &Browser) -> f64 {
    browser
        .eval(
            "const bars = [...document.querySelectorAll('#drives progress')]; \
             return bars.length ? Math.min(...bars.map((b) => b.value)) : 0",
        )
        .await
        .as_f64()
        .unwrap_or(0.0)
}

async fn wait_phase(browser: &Browser, phases: &[&str]) -> String {
    browser
        .wait_for(&format!("phase {phases:?}"), LONG, || async {
            let p = browser
                .attr("phase", "data-phase")
                .await
                .unwrap_or_default();
            phases.contains(&p.as_str())
        })
        .await;
    browser
        .attr("phase", "data-phase")
        .await
        .unwrap_or_default()
}

/// Waits until the kiosk page shows `n` drive tiles.
async fn wait_tiles(browser: &Browser, n: usize) {
    browser
        .wait_for("the drive tiles", LONG, || async {
            browser
                .eval("return document.querySelectorAll('#drives li').length")
                .await
                .as_u64()
                == Some(n as u64)
        })
        .await;
}

/// Opens the helper's page (which moves on to the kiosk page) and waits for `n` drive tiles.
async fn open_kiosk(browser: &Browser, url: &str, n: usize) {
    browser.goto(url).await;
    browser.wait_state("connected", LONG).await;
    wait_tiles(browser, n).await;
}

/// Chooses `file`, presses Burn and waits until every drive is past `fraction`.
async fn start_burn(browser: &Browser, file: &Path, fraction: f64) {
    browser.type_into("file", &file.to_string_lossy()).await;
    browser.click("start").await;
    let what = format!("{:.0} % on every drive", fraction * 100.0);
    browser
        .wait_for(&what, LONG, || async {
            slowest_tile(browser).await >= fraction
        })
        .await;
}

/// Waits until Burn can be pressed (a file is chosen, the last run wound up).
async fn wait_start_enabled(browser: &Browser) {
    browser
        .wait_for("Burn enabled", LONG, || async {
            browser
                .eval("return !document.getElementById('start').disabled")
                .await
                == true
        })
        .await;
}

/// The disc the changer put in the output bin: `IMAGE.n`.
fn output(image_path: &Path, n: u32) -> PathBuf {
    PathBuf::from(format!("{}.{n}", image_path.display()))
}

every_engine! {
async fn the_kiosk_duplicates_one_file_onto_four_drives_twice(engine) {
    let www = www_dir_for(engine);
    // 8x DVD+R (about 11 MB/s) with an autoloader; drive 3 fails at 10 MiB.
    let drive = ",profile=dvd+r,speed=8x,changer=on";
    let failing = format!("{drive},write-error=5000");
    let helper = kiosk(&www, &[drive, drive, &failing, drive], 2).await;
    let data = pattern(24 << 20, 1999);
    let src = helper.dir.path().join("wedding-photos.iso");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start_in(engine).await;
    open_kiosk(&browser, &helper.server.url(), 4).await;
    assert_eq!(browser.text("title").await, "Photo CD station");
    assert_eq!(
        browser
            .eval("return document.getElementById('copies').value")
            .await,
        "2"
    );
    // Mid-duplication: every drive past a quarter of copy 1.
    start_burn(&browser, &src, 0.25).await;
    let mid = browser.screenshot().await;
    let mid_phase = browser.attr("phase", "data-phase").await;

    // Copy 1 done: three good discs, one failed drive; the countdown runs.
    assert_eq!(wait_phase(&browser, &["countdown"]).await, "countdown");
    for (i, want) in ["ok", "ok", "failed", "ok"].iter().enumerate() {
        assert_eq!(
            tile(&browser, i, "state").await,
            *want,
            "drive {i} after copy 1"
        );
    }
    assert_eq!(
        tile(&browser, 2, "hresult").await,
        "E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE"
    );
    let countdown = browser.text("countdown-text").await;
    assert!(
        countdown.starts_with("Copy 2 of 2 starts in"),
        "{countdown}"
    );

    // Copy 2 after the countdown, then ready for the next disc.
    assert_eq!(
        wait_phase(&browser, &["partial", "done", "error"]).await,
        "partial"
    );
    let phase = browser.text("phase").await;
    assert!(phase.starts_with("6 of 8 discs burned"), "{phase}");
    assert_eq!(
        browser.attr("counter", "data-ok").await.as_deref(),
        Some("6")
    );
    assert_eq!(
        browser.attr("counter", "data-failed").await.as_deref(),
        Some("2")
    );
    let listed = browser
        .eval("return document.querySelectorAll('#history li').length")
        .await;
    assert_eq!(listed, 8, "every disc is in the history");
    for i in [0, 1, 3] {
        for n in [1, 2] {
            let disc = image(&output(&helper.images[i], n));
            assert!(disc == data, "drive {i}, copy {n} differs from the file");
        }
        assert!(
            image(&helper.images[i]).is_empty(),
            "drive {i} holds a blank disc"
        );
    }
    // The failing drive kept its cut-short disc (not closed, not ejected):
    // the second copy refused it rather than writing after it.
    let cut = image(&helper.images[2]);
    assert!(!cut.is_empty() && cut.len() < data.len() && cut[..] == data[..cut.len()]);
    assert!(!output(&helper.images[2], 1).exists());

    let docs = webburn_tests::screenshots_dir();
    std::fs::create_dir_all(&docs).unwrap();
    let done = browser.screenshot().await;
    if engine == Engine::Chromium {
        if mid_phase.as_deref() == Some("burning") {
            std::fs::write(docs.join("kiosk-duplicating.png"), mid).unwrap();
        }
        std::fs::write(docs.join("kiosk-done.png"), done).unwrap();
    } else {
        std::fs::write(docs.join(format!("kiosk-done-{}.png", engine.name())), done).unwrap();
    }
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_then_burn_again_recovers() {
    let www = www_dir();
    let drive = ",profile=disk,capacity=64MiB,speed=8MB/s";
    let helper = kiosk(&www, &[drive, drive], 1).await;
    let data = pattern(16 << 20, 77);
    let src = helper.dir.path().join("stick.img");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start().await;
    open_kiosk(&browser, &helper.server.url(), 2).await;
    start_burn(&browser, &src, 0.1).await;
    browser.click("stop").await;
    assert_eq!(wait_phase(&browser, &["stopped"]).await, "stopped");
    for i in 0..2 {
        assert_eq!(
            tile(&browser, i, "hresult").await,
            "E_IMAPI_REQUEST_CANCELLED"
        );
    }
    // Ready again: the same file burns to the end on both drives.
    wait_start_enabled(&browser).await;
    browser.click("start").await;
    assert_eq!(
        wait_phase(&browser, &["done", "partial", "error"]).await,
        "done"
    );
    for img in &helper.images {
        assert!(image(img)[..data.len()] == data[..]);
    }
    assert_eq!(
        browser.attr("counter", "data-ok").await.as_deref(),
        Some("2")
    );
    assert_eq!(
        browser.attr("counter", "data-failed").await.as_deref(),
        Some("2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_page_recovers_when_its_helper_dies_and_comes_back() {
    let www = www_dir();
    let dir = tempfile::tempdir().unwrap();
    let images: Vec<PathBuf> = ["a.img", "b.img"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    let recorders: Vec<String> = images
        .iter()
        .map(|p| {
            format!(
                "\"emulated:{},profile=disk,capacity=64MiB,speed=4MB/s\"",
                p.display()
            )
        })
        .collect();
    let kiosk_file = dir.path().join("kiosk.toml");
    let text = format!(
        "recorders = [{}]\n[kiosk]\ntitle = \"Recovery station\"\ncountdown = \"1s\"\n",
        recorders.join(", ")
    );
    std::fs::write(&kiosk_file, text).unwrap();
    let args: Vec<String> = [
        "--kiosk",
        &kiosk_file.to_string_lossy(),
        "--www",
        &www.to_string_lossy(),
        "--tray",
        "off",
    ]
    .map(str::to_owned)
    .to_vec();
    let mut first = ChildHelper::start(dir.path(), 0, &args).unwrap();
    let port = first.port;
    let data = pattern(16 << 20, 31);
    let src = dir.path().join("film.iso");
    std::fs::write(&src, &data).unwrap();
    let browser = Browser::start().await;
    open_kiosk(&browser, &format!("http://127.0.0.1:{port}/"), 2).await;
    start_burn(&browser, &src, 0.1).await;

    // The helper dies mid-burn: the page says so and waits for it.
    first.kill();
    assert_eq!(wait_phase(&browser, &["error"]).await, "error");
    let said = browser.text("phase").await;
    assert!(said.contains("press Burn to try again"), "{said}");

    // It comes back on the same port: the page reconnects by itself and is ready.
    let _second = ChildHelper::start(dir.path(), port, &args).unwrap();
    browser.wait_state("connected", LONG).await;
    assert_eq!(wait_phase(&browser, &["ready"]).await, "ready");
    browser.click("start").await;
    assert_eq!(
        wait_phase(&browser, &["done", "partial", "error"]).await,
        "done"
    );
    for img in &images {
        assert!(image(img)[..data.len()] == data[..]);
    }
    assert_eq!(
        browser.attr("counter", "data-ok").await.as_deref(),
        Some("2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_kiosk_burns_the_customers_photos_as_files_on_every_drive() {
    let www = www_dir();
    webburn_tests::readers::require();
    let www_dir = www.clone();
    let helper = Helper::start(
        &[
            ",profile=dvd+r,capacity=64MiB",
            ",profile=dvd+r,capacity=64MiB",
        ],
        move |c| {
            c.www = Some(www_dir);
            c.kiosk = Some(KioskSettings {
                title: "Photo CD station".into(),
                files: true,
                eject: false,
                ..KioskSettings::default()
            });
        },
    )
    .await;
    let photos = helper.dir.path().join("customer");
    std::fs::create_dir_all(&photos).unwrap();
    let names = ["IMG_0001.jpg", "IMG_0002.jpg", "party \u{1F389}.jpg"];
    for (i, n) in names.iter().enumerate() {
        std::fs::write(photos.join(n), pattern(400_000 + i * 77_777, i as u64 + 40)).unwrap();
    }
    let browser = Browser::start().await;
    open_kiosk(&browser, &helper.server.url(), 2).await;
    assert_eq!(browser.text("setup-title").await, "1 · Choose the photos");
    let paths: Vec<String> = names
        .iter()
        .map(|n| photos.join(n).to_string_lossy().into_owned())
        .collect();
    browser.type_into("file", &paths.join("\n")).await;
    browser
        .wait_for("three photos chosen", LONG, || async {
            browser.text("file-label").await.starts_with("3 photos")
        })
        .await;
    browser.click("start").await;
    assert_eq!(
        wait_phase(&browser, &["done", "partial", "error"]).await,
        "done"
    );
    let want = webburn_tests::readers::tree_of(&photos);
    for (i, disc) in helper.images.iter().enumerate() {
        let got = webburn_tests::readers::Reader::Xorriso
            .extract(disc, &helper.dir.path().join(format!("x{i}")));
        assert_eq!(got, want, "drive {i}");
    }
}

/// An SD-card duplicator: a compressed image (an .img.xz whose index gives
/// its size, then an .img.bz2 whose size only its end tells) chosen once,
/// decoded once in the page and flashed onto three cards at once, each
/// verified and equal to the image byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duplicator_flashes_a_compressed_image_onto_every_card() {
    let www = www_dir();
    let card = ",profile=disk,capacity=24MiB";
    // The cards stay in (no eject): the second image goes onto the same cards.
    let helper = Helper::start(&[card, card, card], move |c| {
        c.www = Some(www.clone());
        c.kiosk = Some(KioskSettings {
            title: "SD card duplicator".into(),
            copies: 1,
            eject: false,
            ..KioskSettings::default()
        });
    })
    .await;
    let browser = Browser::start().await;
    open_kiosk(&browser, &helper.server.url(), 3).await;
    for (seed, format, name) in [
        (11, "xz", "raspios.img.xz"),
        (12, "bzip2", "firmware.img.bz2"),
    ] {
        let img = webburn_tests::packed::disk_image(6 << 20, seed);
        let Some(packed) = webburn_tests::packed::pack(format, &img, helper.dir.path(), "card.img")
        else {
            webburn_tests::prerequisite_missing(format);
        };
        let src = helper.dir.path().join(name);
        std::fs::write(&src, &packed).unwrap();
        browser.type_into("file", &src.to_string_lossy()).await;
        wait_start_enabled(&browser).await;
        browser.click("start").await;
        assert_eq!(
            wait_phase(&browser, &["done", "partial", "error"]).await,
            "done",
            "{format}: {}",
            browser.text("phase").await
        );
        for (i, card) in helper.images.iter().enumerate() {
            let disk = image(card);
            assert!(
                disk[..img.len()] == img[..],
                "{format}: card {i} holds the image"
            );
            assert_eq!(tile(&browser, i, "state").await, "ok", "{format}: card {i}");
        }
    }
}
