//! The page's "Files and folders" mode in headless Chromium: a folder chosen
//! with the directory input is laid out as ISO 9660 + Rock Ridge, Joliet and
//! UDF in the page (wasm), burned to an emulated DVD+R with verify, and the
//! disc read back by xorriso and 7-Zip; a single file that is not a disc
//! image is offered as a file; a tree too large for the disc is refused
//! before any WRITE; a blank DVD+RW is formatted by the first burn, grows
//! with the files the next adds and is burned afresh by a third, each read
//! back by xorriso; a closed CD-RW is
//! erased from the page after a confirmation and burned again; files added
//! to a DVD+R left open make sessions that each hold every file so far.

#![allow(clippy::unwrap_used)] // support functions of the tests, not product code

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use webburn_tests::browser::{Browser, Engine, www_dir, www_dir_for};
use webburn_tests::every_engine;
use webburn_tests::readers::{self, Reader, tree_of};
use webburn_tests::served::Helper;
use webburn_tests::{image, pattern};

const LONG: Duration = Duration::from_secs(60);

async fn helper_with_page(www: &Path, options: &[&str]) -> Helper {
    let www = www.to_path_buf();
    Helper::start(options, move |c| c.www = Some(www)).await
}

/// A helper serving the page with one emulated recorder (`options`) and
/// headless Chromium (the test fails without the page, the browser or the
/// disc readers).
async fn page_and_readers(options: &str) -> (Helper, Browser) {
    let www = www_dir();
    readers::require();
    let helper = helper_with_page(&www, &[options]).await;
    (helper, Browser::start().await)
}

fn docs() -> PathBuf {
    webburn_tests::screenshots_dir()
}

/// A folder of photos and notes, two levels, with an empty file and Unicode names.
fn folder(root: &Path) {
    let files: [(&str, usize); 6] = [
        ("2024/beach.jpg", 3 << 20),
        ("2024/dunes.jpg", 1_500_001),
        ("2024/raw/IMG_0001.CR2", 700_000),
        ("notes/r\u{e9}sum\u{e9}.txt", 12),
        ("notes/empty.txt", 0),
        ("\u{65e5}\u{672c}.txt", 9),
    ];
    for (i, (path, len)) in files.iter().enumerate() {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, pattern(*len, i as u64 + 7)).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64 * 3601))
            .unwrap();
    }
}

async fn choose_files_mode(browser: &Browser) {
    browser
        .eval(
            "document.querySelector('input[name=\"mode\"][value=\"files\"]').click(); return true",
        )
        .await;
}

/// Opens the page, picks the files mode and `folder` with the directory
/// input, and waits until the chosen total satisfies `shown`.
async fn choose_folder(
    browser: &Browser,
    helper: &Helper,
    folder: &Path,
    what: &str,
    shown: impl Fn(&str) -> bool,
) {
    browser.open_page(&helper.server.own_url(), LONG).await;
    choose_files_mode(browser).await;
    browser
        .type_into("add-folder", &folder.to_string_lossy())
        .await;
    browser
        .wait_for(what, LONG, || async {
            shown(&browser.text("chosen-total").await)
        })
        .await;
}

every_engine! {
async fn a_folder_chosen_in_the_page_burns_as_files_every_reader_opens(engine) {
    let www = www_dir_for(engine);
    readers::require();
    let helper = helper_with_page(&www, &[",profile=dvd+r,capacity=64MiB,speed=24x"]).await;
    let source = helper.dir.path().join("Holiday");
    folder(&source);
    let browser = Browser::start_in(engine).await;
    // The directory input takes the folder, as a person picks it. Only
    // chromedriver can hand an input a directory (geckodriver and
    // WebKitWebDriver refuse one): there the six files are picked with
    // "Add files", and the disc holds them without their folders.
    let whole_folder = engine == Engine::Chromium;
    if whole_folder {
        choose_folder(&browser, &helper, &source, "the chosen files", |t| {
            t.starts_with("6 files")
        })
        .await;
    } else {
        browser.open_page(&helper.server.own_url(), LONG).await;
        choose_files_mode(&browser).await;
        let paths: Vec<String> = tree_of(&source)
            .into_iter()
            .filter(|(_, i)| !matches!(i, readers::Item::Dir))
            .map(|(k, _)| source.join(k).to_string_lossy().into_owned())
            .collect();
        browser.type_into("add-files", &paths.join("\n")).await;
        browser
            .wait_for("the chosen files", LONG, || async {
                browser.text("chosen-total").await.starts_with("6 files")
            })
            .await;
    }
    browser.type_into("volume", "Holiday 2024").await;
    let total = browser.text("chosen-total").await;
    assert!(total.contains("MB free"), "{total}");
    let chosen = browser.text("chosen").await;
    assert!(
        !whole_folder || chosen.contains("Holiday/ – 6 files"),
        "{chosen}"
    );
    browser
        .eval("document.activeElement.blur(); window.scrollTo(0, 0); return true")
        .await;
    if engine == Engine::Chromium && std::env::var_os("WEBBURN_NO_SCREENSHOTS").is_none() {
        std::fs::create_dir_all(docs()).unwrap();
        std::fs::write(docs().join("burn-files.png"), browser.screenshot().await).unwrap();
    }
    browser.click_burn().await;
    assert_eq!(
        browser.result(LONG).await,
        "S_OK",
        "{}",
        browser.text("result").await
    );
    let result = browser.text("result").await;
    assert!(
        result.starts_with("Done: 6 files") && result.contains("verified"),
        "{result}"
    );
    // The disc, read by readers no one here wrote: the folder, byte for byte.
    let disc = helper.images[0].clone();
    let want = {
        let mut t = std::collections::BTreeMap::new();
        t.insert("Holiday".to_owned(), readers::Item::Dir);
        for (k, v) in tree_of(&source) {
            if whole_folder {
                t.insert(format!("Holiday/{k}"), v);
            } else if !matches!(v, readers::Item::Dir) {
                let name = k.rsplit('/').next().unwrap_or(&k).to_owned();
                t.insert(name, v);
            }
        }
        t
    };
    for reader in [Reader::Xorriso, Reader::SevenZipUdf, Reader::Bsdtar] {
        let got = reader.extract(&disc, &helper.dir.path().join(format!("x-{reader:?}")));
        let files = |t: &readers::Tree| -> Vec<(String, readers::Item)> {
            t.iter()
                .filter(|(_, i)| !matches!(i, readers::Item::Dir))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        assert_eq!(files(&got), files(&want), "{reader:?}");
    }
    let label = readers::run(
        std::process::Command::new("isoinfo")
            .arg("-d")
            .arg("-i")
            .arg(&disc),
    );
    assert!(label.contains("Volume id: HOLIDAY_2024"), "{label}");
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_no_disc_image_is_offered_as_a_file() {
    let (helper, browser) = page_and_readers(",profile=dvd+r,capacity=64MiB").await;
    let photo = helper.dir.path().join("wedding.jpg");
    std::fs::write(&photo, pattern(200_000, 3)).unwrap();
    browser.open_page(&helper.server.own_url(), LONG).await;
    browser.type_into("file", &photo.to_string_lossy()).await;
    browser
        .wait_for("the not-an-image notice", LONG, || async {
            browser.attr("not-image", "hidden").await.is_none()
        })
        .await;
    assert!(
        browser
            .text("not-image-text")
            .await
            .contains("not a disc image")
    );
    browser.click("as-file").await;
    browser
        .wait_for("files mode with the photo", LONG, || async {
            browser.text("chosen").await.contains("wedding.jpg")
        })
        .await;
    browser.click_burn().await;
    assert_eq!(
        browser.result(LONG).await,
        "S_OK",
        "{}",
        browser.text("result").await
    );
    let got = Reader::Xorriso.extract(&helper.images[0], &helper.dir.path().join("x"));
    assert_eq!(got, tree_of_file(&photo));
}

fn tree_of_file(path: &Path) -> readers::Tree {
    let dir = path.parent().unwrap().join("only");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join(path.file_name().unwrap());
    std::fs::copy(path, &copy).unwrap();
    let f = std::fs::File::options().write(true).open(&copy).unwrap();
    f.set_modified(std::fs::metadata(path).unwrap().modified().unwrap())
        .unwrap();
    tree_of(&dir)
}

/// Burns one file `name` from the page (files mode already chosen) and
/// checks that xorriso finds that file alone on the disc.
async fn burn_one_file(browser: &Browser, helper: &Helper, round: usize, name: &str) {
    let file = choose_and_burn(browser, helper, round, name).await;
    // Every reader sees this burn's file alone: the disc was overwritten.
    let out = helper.dir.path().join(format!("read-{round}"));
    let got = Reader::Xorriso.extract(&helper.images[0], &out);
    assert_eq!(got, tree_of_file(&file), "burn {round}");
}

/// Chooses one new file `name` in the page (files mode already chosen) and
/// burns it; returns it.
async fn choose_and_burn(browser: &Browser, helper: &Helper, round: usize, name: &str) -> PathBuf {
    let source = helper.dir.path().join(format!("round-{round}"));
    std::fs::create_dir_all(&source).unwrap();
    let file = source.join(name);
    std::fs::write(&file, pattern(300_000 + round, round as u64 + 20)).unwrap();
    browser.click("clear-files").await;
    browser
        .type_into("add-files", &file.to_string_lossy())
        .await;
    browser
        .wait_for("the chosen file", LONG, || async {
            browser.text("chosen").await.contains(name)
        })
        .await;
    browser
        .eval("document.getElementById('result').removeAttribute('data-hresult')")
        .await;
    browser.click_burn().await;
    assert_eq!(
        browser.result(LONG).await,
        "S_OK",
        "{}",
        browser.text("result").await
    );
    file
}

/// The sessions the emulated disc `image` has closed: their first sectors.
fn session_starts(image: &Path) -> Vec<u64> {
    let marker = image.with_extension("img.sessions");
    std::fs::read_to_string(marker)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_added_from_the_page_to_a_disc_left_open_make_sessions_holding_all_of_them() {
    let (helper, browser) = page_and_readers(",profile=dvd+r,capacity=64MiB").await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    choose_files_mode(&browser).await;
    let image = &helper.images[0];
    let mut want = readers::Tree::new();
    for (round, name) in ["scan-jan.pdf", "scan-feb.pdf", "scan-mar.pdf"]
        .iter()
        .enumerate()
    {
        browser
            .wait_for("the leave-open choice", LONG, || async {
                browser.attr("leave-open-row", "hidden").await.is_none()
            })
            .await;
        // Open for the first two burns; the third closes the disc.
        let open = browser
            .eval("return document.getElementById('leave-open').checked")
            .await;
        if open.as_bool() != Some(round < 2) {
            browser.click("leave-open").await;
        }
        if round > 0 {
            let held = || async { browser.attr("on-disc", "data-files").await };
            browser
                .wait_for("what the disc holds", LONG, || async {
                    held().await.as_deref() == Some(round.to_string().as_str())
                })
                .await;
            let said = browser.text("on-disc").await;
            assert!(
                said.contains("are added to them") && said.contains("scan-jan.pdf"),
                "what the disc holds is named: {said}"
            );
        }
        let file = choose_and_burn(&browser, &helper, round, name).await;
        want.extend(tree_of_file(&file));
        let starts = session_starts(image);
        assert_eq!(starts.len(), round + 1, "{starts:?}");
        // The newest session holds every file burned so far.
        let out = helper.dir.path().join(format!("session-{round}"));
        let got = Reader::Xorriso.extract_session(image, starts[round], &out);
        assert_eq!(got, want, "session {round} at {}", starts[round]);
        browser.wait_recorders(LONG).await;
    }
    assert!(
        image.with_extension("img.closed").is_file(),
        "the last burn closed the disc"
    );
    // The first session still holds the first file alone.
    let out = helper.dir.path().join("first-again");
    let first = Reader::Xorriso.extract_session(image, 0, &out);
    assert_eq!(first.len(), 1, "{first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dvd_plus_rw_is_formatted_then_grows_with_added_files_or_is_burned_afresh() {
    let (helper, browser) = page_and_readers(",profile=dvd+rw,capacity=64MiB").await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    choose_files_mode(&browser).await;
    let image = &helper.images[0];
    // The first burn formats the blank disc.
    let march = choose_and_burn(&browser, &helper, 0, "march.pdf").await;
    let formatted = image.with_extension("img.formatted");
    assert!(formatted.is_file(), "the first burn formatted the disc");
    let read = |n: &str| Reader::Xorriso.extract(image, &helper.dir.path().join(n));
    assert_eq!(read("r0"), tree_of_file(&march));
    // The page finds the file on the disc and adds the next one to it: the
    // file system grows in place, every reader sees both at sector 16.
    browser.wait_recorders(LONG).await;
    browser
        .wait_for("what the disc holds", LONG, || async {
            browser.attr("on-disc", "data-files").await.as_deref() == Some("1")
        })
        .await;
    assert_eq!(browser.attr("add-to-disc-row", "hidden").await, None);
    let april = choose_and_burn(&browser, &helper, 1, "april.pdf").await;
    let mut both = tree_of_file(&march);
    both.extend(tree_of_file(&april));
    assert_eq!(read("r1"), both);
    // Burned afresh: the disc holds the new file alone.
    browser.wait_recorders(LONG).await;
    browser
        .wait_for("what the disc holds", LONG, || async {
            browser.attr("on-disc", "data-files").await.as_deref() == Some("2")
        })
        .await;
    browser.click("add-to-disc").await;
    let may = choose_and_burn(&browser, &helper, 2, "may.pdf").await;
    assert_eq!(read("r2"), tree_of_file(&may));
    assert_eq!(
        browser.attr("erase-disc", "hidden").await.as_deref(),
        Some("true"),
        "a DVD+RW needs no erase"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_cd_rw_is_erased_from_the_page_after_a_confirmation_and_burned_again() {
    // 1024 sectors at 4x: a full erase takes 3.4 s.
    let (helper, browser) = page_and_readers(",profile=cd-rw,capacity=2MiB,speed=4x").await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    choose_files_mode(&browser).await;
    burn_one_file(&browser, &helper, 0, "scan-1.pdf").await;
    let shown = || async { browser.attr("erase-disc", "hidden").await.is_none() };
    browser.wait_for("the erase offer", LONG, shown).await;
    assert!(browser.text("erase-text").await.contains("CD-RW is closed"));
    // The first click only asks; "Keep it" leaves the disc alone.
    browser.click("erase").await;
    let asked = browser.text("erase-confirm-text").await;
    assert!(
        asked.contains("Nothing on it can be read afterwards"),
        "{asked}"
    );
    browser.click("erase-no").await;
    assert_eq!(
        browser.attr("erase-confirm", "hidden").await.as_deref(),
        Some("true")
    );
    assert!(!image(&helper.images[0]).is_empty(), "kept");
    browser
        .eval("document.getElementById('result').removeAttribute('data-hresult')")
        .await;
    browser.click("full-erase").await;
    browser.click("erase").await;
    browser.click("erase-yes").await;
    browser
        .wait_for("the erase's progress", LONG, || async {
            browser.text("action").await.contains("Erasing the disc")
        })
        .await;
    assert_eq!(
        browser.result(LONG).await,
        "S_OK",
        "{}",
        browser.text("result").await
    );
    let said = browser.text("result").await;
    assert!(
        said.contains("Erased") && said.contains("full erase"),
        "{said}"
    );
    assert!(
        image(&helper.images[0]).is_empty(),
        "the disc is blank again"
    );
    browser
        .wait_for("the blank disc listed", LONG, || async {
            browser.attr("erase-disc", "hidden").await.is_some()
        })
        .await;
    burn_one_file(&browser, &helper, 1, "scan-2.pdf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_too_large_for_the_disc_is_refused_before_any_write() {
    let www = www_dir();
    let helper = helper_with_page(&www, &[",profile=dvd+r,capacity=1MiB"]).await;
    let source = helper.dir.path().join("Big");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("movie.mp4"), pattern(3 << 20, 9)).unwrap();
    let browser = Browser::start().await;
    choose_folder(&browser, &helper, &source, "the too-large total", |t| {
        t.contains("too much for this disc")
    })
    .await;
    browser.click_burn().await;
    assert_eq!(browser.result(LONG).await, "IMAPI_E_IMAGE_SIZE_LIMIT");
    assert!(image(&helper.images[0]).is_empty(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composing_an_image_reports_its_progress_in_update_events() {
    let www = www_dir();
    let helper = helper_with_page(&www, &[",profile=dvd+r"]).await;
    let browser = Browser::start().await;
    browser.open_page(&helper.server.own_url(), LONG).await;
    let got = browser
        .eval(
            "const fsi = new window.webburn.FileSystemImage(); const seen = []; \
             fsi.addEventListener('update', (e) => seen.push([e.currentFile, e.copiedSectors, e.totalSectors, e.detail.totalSectors])); \
             for (let i = 0; i < 600; i += 1) fsi.root.addFile(`f/${String(i).padStart(3, '0')}.txt`, new Blob(['x'.repeat(i)])); \
             const r = fsi.createResultImage(); \
             return { seen, total: r.totalBlocks, size: r.imageStream.size }",
        )
        .await;
    let seen = got["seen"].as_array().unwrap();
    let total = got["total"].as_f64().unwrap();
    assert_eq!(got["size"].as_f64(), Some(total * 2048.0));
    // The first file with data of every 256 (000.txt is empty) and once at the end.
    let names: Vec<&str> = seen.iter().map(|e| e[0].as_str().unwrap()).collect();
    assert_eq!(names, ["001.txt", "256.txt", "512.txt", ""]);
    let copied: Vec<f64> = seen.iter().map(|e| e[1].as_f64().unwrap()).collect();
    assert!(copied.windows(2).all(|w| w[0] < w[1]), "{copied:?}");
    assert_eq!(copied.last().copied(), Some(total));
    assert!(
        seen.iter()
            .all(|e| e[2].as_f64() == Some(total) && e[3].as_f64() == Some(total))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_after_it_was_chosen_ends_the_burn_clearly() {
    let www = www_dir();
    let helper = helper_with_page(&www, &[",profile=dvd+r,capacity=64MiB"]).await;
    let folder = helper.dir.path().join("Changing");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.bin"), pattern(3 << 20, 1)).unwrap();
    std::fs::write(folder.join("b.bin"), pattern(3 << 20, 2)).unwrap();
    let browser = Browser::start().await;
    choose_folder(&browser, &helper, &folder, "the chosen files", |t| {
        t.starts_with("2 files")
    })
    .await;
    // b.bin shrinks after it was chosen, before the burn reads it.
    std::fs::write(folder.join("b.bin"), pattern(1 << 20, 2)).unwrap();
    browser.click_burn().await;
    let hresult = browser.result(LONG).await;
    let text = browser.text("result").await;
    assert_ne!(hresult, "S_OK", "{text}");
    assert_eq!(hresult, "IMAPI_E_DATA_STREAM_INCONSISTENCY", "{text}");
    // Where b.bin's data starts in the image the page laid out (same names and sizes).
    let mut layout = webburn_fsimage::FileSystemImage::new(0);
    for name in ["a.bin", "b.bin"] {
        let item = webburn_fsimage::FileItem {
            size: 3 << 20,
            mtime: 0,
            source: (),
        };
        layout
            .root()
            .add_file(&format!("Changing/{name}"), item)
            .unwrap();
    }
    let result = layout.create_result_image().unwrap();
    let offset = readers::data_offset(&result, "b.bin");
    let img = image(&helper.images[0]);
    let from = usize::try_from(offset).unwrap().min(img.len());
    assert!(
        img[from..].iter().all(|&b| b == 0),
        "bytes of or after b.bin reached the disc"
    );
}

/// A file over 4 GiB chosen in the page (a video, a backup) is laid out
/// in the page as ISO 9660 level 3 (several extents) and UDF and streamed
/// from the page to an emulated BD-R at its real size; the disc's sectors
/// past LBA 2^21 hold byte offsets past 4 GiB. xorriso compares every file
/// of the disc with the source folder, content included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_4_gib_is_streamed_from_the_page_and_reads_back() {
    use webburn_tests::media::{Islands, real};
    let (helper, browser) = page_and_readers(real::BD_R).await;
    let source = helper.dir.path().join("Backup");
    std::fs::create_dir_all(&source).unwrap();
    // 4.5 GiB: 1 MiB of data at every 256 MiB and at the end, holes between.
    let big = Islands::new((9 << 30) / 2, 1 << 20, 256 << 20, 44);
    big.write_sparse(&source.join("disk.vhd"));
    std::fs::write(source.join("after.txt"), pattern(5000, 45)).unwrap();
    browser.open_page(&helper.server.own_url(), LONG).await;
    choose_files_mode(&browser).await;
    let paths = ["disk.vhd", "after.txt"].map(|n| source.join(n).to_string_lossy().into_owned());
    browser.type_into("add-files", &paths.join("\n")).await;
    browser
        .wait_for("the chosen files", LONG, || async {
            browser.text("chosen-total").await.starts_with("2 files")
        })
        .await;
    browser.click_burn().await;
    let result = browser.result(Duration::from_secs(900)).await;
    let text = browser.text("result").await;
    assert_eq!(result, "S_OK", "{text}");
    assert!(text.contains("verified"), "{text}");
    let disc = &helper.images[0];
    assert!(
        webburn_tests::media::image_len(disc) > 9 << 29,
        "the disc holds the file"
    );
    readers::xorriso_compare(disc, 0, &source, &["disk.vhd", "after.txt"]);
}
