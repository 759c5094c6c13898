//! Compressed disk images flashed from the burning page: an xz, a gzip, a
//! zstd (with and without its content size), a bzip2 and a zip image, packed
//! by the real tools, chosen in the page and written to an emulated SD card
//! at its real size (32 GB in 512-byte blocks; 256 GB for the sizes past
//! 2^28 blocks), decoded in the page on the way, in Chromium, Firefox and
//! WebKit; the card holds the image byte for byte and nothing after it, the
//! verify passed, and the last one is ejected when done. Images whose size
//! only their end tells are written open-ended: the card is their section.
//! A truncated xz fails naming the offset, and nothing is written past the
//! good data.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use webburn_tests::browser::{Browser, www_dir_for};
use webburn_tests::media::{image_len, real};
use webburn_tests::packed::{disk_image, pack};
use webburn_tests::served::Helper;
use webburn_tests::{every_engine, image, prerequisite_missing};

const LONG: Duration = Duration::from_secs(60);
const LEN: usize = 6 << 20;

async fn helper_with_page(www: &Path, card: &str) -> Helper {
    let www = www.to_path_buf();
    Helper::start(&[card], move |c| {
        c.www = Some(www);
    })
    .await
}

every_engine! {
async fn every_compressed_format_is_flashed_byte_for_byte_and_verified(engine) {
    let www = www_dir_for(engine);
    let helper = helper_with_page(&www, real::CARD_32GB).await;
    let browser = Browser::start_in(engine).await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    // Like a flashing tool's drive selector: what will be erased, and its size.
    browser
        .wait_for("the erase warning", LONG, || async {
            browser.text("erase-warning").await.contains("will be erased")
        })
        .await;
    let warning = browser.text("erase-warning").await;
    assert_eq!(warning, "Everything on WEBBURN EMULATED DISK (32 GB) will be erased.");
    flash_each(&browser, &helper, &FORMATS).await;
}
}

/// Every format the page decodes: (seed, packer, file name).
const FORMATS: [(u64, &str, &str); 6] = [
    (1, "xz", "raspios.img.xz"),
    (2, "gzip", "firmware.img.gz"),
    (3, "zstd", "debian.img.zst"),
    (4, "zstd-stream", "piped.img.zst"),
    (5, "bzip2", "old.img.bz2"),
    (6, "zip", "raspios.img"),
];

/// Flashes each of `formats` in turn from the open page, checking the
/// result, the SHA-256, the card's bytes and that nothing follows them;
/// the last is ejected.
async fn flash_each(browser: &Browser, helper: &Helper, formats: &[(u64, &str, &str)]) {
    for (i, &(seed, format, name)) in formats.iter().enumerate() {
        let img = disk_image(LEN, seed);
        let Some(packed) = pack(format, &img, helper.dir.path(), name) else {
            prerequisite_missing(format);
        };
        let file = helper.dir.path().join(if format == "zip" {
            format!("{name}.zip")
        } else {
            name.to_owned()
        });
        std::fs::write(&file, &packed).unwrap();
        // "Eject when done" on the last round only: the stick's medium is
        // ejected (START STOP UNIT). Set either way: WebKit keeps the page's
        // settings from an earlier run.
        let last = i + 1 == formats.len();
        browser
            .eval(&format!(
                "const e = document.getElementById('eject'); if (e.checked !== {last}) e.click();"
            ))
            .await;
        // The last round's button comes back once its burn has wound up.
        browser.type_into("file", &file.to_string_lossy()).await;
        browser.click_burn().await;
        let result = browser.result(LONG).await;
        let text = browser.text("result").await;
        assert_eq!(result, "S_OK", "{format}: {text}");
        assert!(text.contains("verified"), "{format}: {text}");
        assert_eq!(text.contains("ejected"), last, "{format}: {text}");
        let sha = browser
            .attr("result", "data-sha256")
            .await
            .unwrap_or_default();
        assert_eq!(sha, format!("{:x}", Sha256::digest(&img)), "{format}");
        let disk = image(&helper.images[0]);
        assert!(disk[..LEN] == img[..], "{format}: the card holds the image");
        assert_eq!(
            image_len(&helper.images[0]),
            LEN as u64,
            "{format}: nothing after it"
        );
        let log = browser.text("log").await;
        let kind = format.trim_end_matches("-stream");
        assert!(log.contains(&format!("a {kind} image")), "{format}: {log}");
        // Clear the page's result for the next round.
        browser
            .eval("document.getElementById('result').removeAttribute('data-hresult')")
            .await;
    }
}

/// A 256 GB card: 500 million blocks, the sizes only decoding tells
/// (gzip, bzip2) and a declared one (xz).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_gb_card_takes_sized_and_open_ended_images() {
    let www = www_dir_for(webburn_tests::browser::Engine::Chromium);
    let helper = helper_with_page(&www, real::CARD_256GB).await;
    let browser = Browser::start().await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    browser
        .wait_for("the erase warning", LONG, || async {
            browser.text("erase-warning").await.contains("(256 GB)")
        })
        .await;
    flash_each(&browser, &helper, &[FORMATS[1], FORMATS[4], FORMATS[0]]).await;
}

/// The number after `after ` in the page's result text.
fn offset_in(text: &str) -> usize {
    text.split("after ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_images_stop_naming_the_offset_and_nothing_follows_the_good_data() {
    let www = www_dir_for(webburn_tests::browser::Engine::Chromium);
    let helper = helper_with_page(&www, real::CARD_32GB).await;
    let browser = Browser::start().await;
    browser.open_page(&helper.server.own_url(), LONG).await;

    // An xz without its end has no index: refused before anything is written.
    let img = disk_image(LEN, 9);
    let Some(xz) = pack("xz", &img, helper.dir.path(), "image.img") else {
        prerequisite_missing("xz");
    };
    let cut = xz.len() * 2 / 3;
    let file = helper.dir.path().join("cut.img.xz");
    std::fs::write(&file, &xz[..cut]).unwrap();
    browser.burn(&file).await;
    let result = browser.result(LONG).await;
    let text = browser.text("result").await;
    assert_eq!(result, "IMAPI_E_DATA_STREAM_READ_FAILURE", "{text}");
    assert!(
        text.contains(&format!("ends at byte {cut}")) && text.contains("truncated"),
        "{text}"
    );
    assert!(
        image(&helper.images[0]).iter().all(|&b| b == 0),
        "nothing was written"
    );
    browser
        .eval("document.getElementById('result').removeAttribute('data-hresult')")
        .await;

    // A bzip2 tells its end only by decoding: the write stops where the data does.
    let Some(bz) = pack("bzip2", &img, helper.dir.path(), "image.img") else {
        prerequisite_missing("bzip2");
    };
    let file = helper.dir.path().join("cut.img.bz2");
    std::fs::write(&file, &bz[..bz.len() * 2 / 3]).unwrap();
    browser.burn(&file).await;
    let result = browser.result(LONG).await;
    let text = browser.text("result").await;
    assert_eq!(result, "IMAPI_E_DATA_STREAM_READ_FAILURE", "{text}");
    assert!(text.contains("truncated"), "{text}");
    let good = offset_in(&text);
    assert!(good > 0 && good < LEN, "{text}");
    let disk = image(&helper.images[0]);
    // The image file grows as it is written: what lies past its end was never written.
    assert!(
        disk.get(good..)
            .is_none_or(|rest| rest.iter().all(|&b| b == 0)),
        "nothing past the good data"
    );
    // The cancel may reach the helper before its first WRITE or after a few.
    let written = disk.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    assert!(
        disk[..written] == img[..written],
        "what was written is the image's start"
    );
}
