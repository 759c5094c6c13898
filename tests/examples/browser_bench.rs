//! Browser figures for `cargo xtask bench`, one run, printed as one JSON
//! object on stdout:
//!
//! - `ceiling`: headless Chromium sending a generated file (a File, the Blob
//!   a user picks), in 1 MiB Blob
//!   slices with at most the helper's buffer in flight, to a WebSocket sink
//!   that only counts bytes;
//! - `ours`: the same File burned through the page's wasm library to an
//!   emulated disk at unlimited speed (the image is compared on the host);
//! - `files` and `iso`: a folder of 200 generated files chosen with the page's
//!   folder input, burned as files (the image built in the page, wasm), and a
//!   ready ISO of the same folder burned as a disc image, both through
//!   DiscFormat2Data (no verify) to an emulated disk, one after the other;
//! - `fidelity`: a generated File burned to an emulated 16x BD-R (72 MB/s) and
//!   to a 24x DVD+R (33.24 MB/s), both failing on a drive-buffer underrun, with
//!   every Update event's figures.
//!
//! Needs the built page (target/www). Run with
//! `cargo run --release -p webburn-tests --example browser_bench -- [MiB] [FIDELITY-MiB] [iso-first]`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool, not product code

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use webburn_tests::browser::{Browser, www_dir};
use webburn_tests::served::Helper;

/// Sends the Blob to the sink and waits for its count.
const TO_SINK: &str = "
(async () => {
  const blob = window.benchBlob;
  const ws = new WebSocket(SINK);
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('no sink')); });
  const counted = new Promise((res, rej) => {
    ws.onmessage = (m) => res(Number(m.data));
    ws.onclose = (e) => rej(new Error(`the sink's socket closed: code ${e.code} ${e.reason}`));
  });
  const t0 = performance.now();
  for (let off = 0; off < blob.size; off += 1 << 20) {
    while (ws.bufferedAmount > WINDOW) await new Promise((r) => setTimeout(r, 1));
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(blob.slice(off, off + (1 << 20)));
    window.benchProgress = { off, buffered: ws.bufferedAmount };
  }
  ws.send('end');
  const got = await counted;
  const ms = performance.now() - t0;
  ws.close();
  done({ ms, got });
})().catch((e) => done({ error: String(e) }));";

/// Burns the Blob with the library, recording every Update event.
const BURN: &str = "
(async () => {
  const { master, engine } = window.webburn;
  await master.recorders();
  engine.recorder = master.recorder(RECORDER);
  engine.bytesPerSector = 2048;
  const samples = [];
  const on = (e) => samples.push({ ms: e.elapsedMs, progress: e.progress, lba: e.lastWrittenLba,
    rate: e.currentBytesPerSecond, used: e.usedSystemBuffer, total: e.totalSystemBuffer });
  engine.addEventListener('update', on);
  const t0 = performance.now();
  try {
    await engine.writeSection(window.benchBlob, 0, window.benchBlob.size / 2048);
    done({ ms: performance.now() - t0, samples });
  } catch (e) {
    done({ error: `${e.name}: ${e.message} ${e.detail || ''}` });
  } finally {
    engine.removeEventListener('update', on);
  }
})();";

/// Burns the folder chosen in the page as files, or `window.benchBlob` (the
/// ready ISO), with DiscFormat2Data and no verify.
const FILES_BURN: &str = "
(async () => {
  const { master, format, FileSystemImage, chosen } = window.webburn;
  await master.recorders();
  format.recorder = master.recorder(RECORDER);
  format.burnVerificationLevel = 0;
  const t0 = performance.now();
  try {
    let data = window.benchBlob;
    if (AS_FILES) {
      const fsi = new FileSystemImage();
      for (const c of chosen) fsi.root.addFile(c.path, c.file);
      data = fsi.createResultImage().imageStream;
    }
    await format.write(data);
    done({ ms: performance.now() - t0, bytes: data.size });
  } catch (e) {
    done({ error: `${e.name}: ${e.message} ${e.detail || ''}` });
  }
})();";

/// The folder of files and the ISO of it: burned both ways, the ISO first
/// when `iso_first` (the benchmark turns the order every round).
async fn files_vs_iso(
    browser: &Browser,
    helper: &Helper,
    mib: usize,
    iso_first: bool,
) -> (Value, Value) {
    let folder = helper.dir.path().join("bench-folder");
    for i in 0..200usize {
        let p = folder.join(format!("album{:02}/photo{i:03}.jpg", i % 10));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            webburn_tests::pattern((mib << 20) / 200, i as u64 + 100),
        )
        .unwrap();
    }
    let iso = helper.dir.path().join("bench-folder.iso");
    let mut image = webburn_fsimage::FileSystemImage::new(0);
    image.root().add_tree(&folder, "bench-folder").unwrap();
    let result = image.create_result_image().unwrap();
    let mut reader = result.reader(|p: &std::path::PathBuf| {
        Ok(Box::new(std::fs::File::open(p)?) as Box<dyn std::io::Read + Send>)
    });
    std::io::copy(&mut reader, &mut std::fs::File::create(&iso).unwrap()).unwrap();
    browser
        .type_into("add-folder", &folder.to_string_lossy())
        .await;
    browser
        .eval("const f = document.getElementById('file'); f.value = ''; return true")
        .await;
    browser.type_into("file", &iso.to_string_lossy()).await;
    browser
        .eval("window.benchBlob = document.getElementById('file').files[0]; return true")
        .await;
    let run = |as_files: bool| {
        FILES_BURN
            .replace(
                "RECORDER",
                &Value::from(helper.recorders[0].as_str()).to_string(),
            )
            .replace("AS_FILES", if as_files { "true" } else { "false" })
    };
    let (files, iso_run) = if iso_first {
        let iso_run = run_async(browser, &run(false)).await;
        (run_async(browser, &run(true)).await, iso_run)
    } else {
        let files = run_async(browser, &run(true)).await;
        (files, run_async(browser, &run(false)).await)
    };
    for v in [&files, &iso_run] {
        assert!(v.get("error").is_none(), "{v}");
    }
    (files, iso_run)
}

/// A WebSocket server that counts binary bytes and answers "end" with the count.
async fn sink() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let mut count = 0usize;
                while let Some(Ok(msg)) = ws.next().await {
                    match msg {
                        Message::Binary(b) => count += b.len(),
                        Message::Text(_) => {
                            let _ = ws.send(Message::text(count.to_string())).await;
                        }
                        Message::Close(_) => break,
                        _ => {}
                    }
                }
            });
        }
    });
    port
}

/// Runs an async script that calls `done(value)`, without holding the
/// WebDriver connection: the script stores its value and we poll for it.
async fn run_async(browser: &Browser, body: &str) -> Value {
    let start = format!(
        "window.benchDone = undefined; const done = (v) => {{ window.benchDone = v; }}; {body}; return true;"
    );
    browser.eval(&start).await;
    let mut polls = 0u32;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let v = browser
            .eval("return window.benchDone === undefined ? null : window.benchDone")
            .await;
        if !v.is_null() {
            return v;
        }
        polls += 1;
        if polls.is_multiple_of(50) {
            let p = browser.eval("return window.benchProgress || null").await;
            eprintln!("bench: still running after {} s ({p})", polls / 10);
        }
        assert!(polls < 9000, "the script did not finish within 15 minutes");
    }
}

/// Writes `mib` MiB of generated data to a file and chooses it in the page's
/// file input: the Blob is a File, as when a user picks one (Chromium keeps a
/// large generated in-memory Blob in its blob store, which stalls sends).
async fn choose_file(browser: &Browser, dir: &std::path::Path, mib: usize, seed: u64) -> Vec<u8> {
    let data = webburn_tests::pattern(mib << 20, seed);
    let path = dir.join(format!("bench-{seed}.bin"));
    std::fs::write(&path, &data).unwrap();
    browser
        .eval("const f = document.getElementById('file'); f.value = ''; return true")
        .await;
    browser.type_into("file", &path.to_string_lossy()).await;
    let size = browser
        .eval("window.benchBlob = document.getElementById('file').files[0]; return window.benchBlob.size")
        .await;
    assert_eq!(size.as_u64(), Some((mib as u64) << 20));
    data
}

async fn burn(browser: &Browser, recorder: &str) -> Value {
    let script = BURN.replace("RECORDER", &Value::from(recorder).to_string());
    let out = run_async(browser, &script).await;
    if out.get("error").is_some() {
        let log = browser.text("log").await;
        panic!("burn to {recorder}: {out}\nthe page's log:\n{log}");
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(512, |a| a.parse().unwrap());
    let fidelity_mib: usize = args.next().map_or(256, |a| a.parse().unwrap());
    let iso_first = args.next().is_some_and(|a| a == "iso-first");
    webburn_helper::cli::init_logging("warn");
    let www = www_dir();
    let helper = Helper::start(
        &[
            ",profile=disk,capacity=8GiB",
            ",profile=bd-r,speed=16x,underrun=fail",
            ",profile=dvd+r,speed=24x,underrun=fail",
        ],
        move |c| c.www = Some(www),
    )
    .await;
    let window = helper.server.state.config.buffer_bytes;
    let sink_port = sink().await;
    let browser = Browser::start().await;
    browser
        .client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(900)),
            None,
            None,
        ))
        .await
        .unwrap();
    browser
        .open_page(&helper.server.url(), Duration::from_secs(30))
        .await;

    let data = choose_file(&browser, helper.dir.path(), mib, 21).await;
    eprintln!("bench: {mib} MiB file chosen; sending it to the sink");
    let script = TO_SINK
        .replace("SINK", &format!("'ws://127.0.0.1:{sink_port}/'"))
        .replace("WINDOW", &window.to_string());
    let ceiling = run_async(&browser, &script).await;
    assert!(
        ceiling["got"].as_u64() >= Some((mib as u64) << 20),
        "{ceiling}"
    );
    eprintln!("bench: sink {ceiling}; burning to the disk");
    let ours = burn(&browser, &helper.recorders[0]).await;
    let image = std::fs::read(&helper.images[0]).unwrap();
    assert!(image == data, "the disk image differs from the file");
    drop((image, data));

    eprintln!("bench: a folder burned as files and its ISO burned as an image");
    let (files, iso) = files_vs_iso(&browser, &helper, mib.min(256), iso_first).await;

    let expected = choose_file(&browser, helper.dir.path(), fidelity_mib, 22).await;
    eprintln!("bench: burning to the 16x BD-R");
    let bd = burn(&browser, &helper.recorders[1]).await;
    eprintln!("bench: burning to the 24x DVD+R");
    let dvd = burn(&browser, &helper.recorders[2]).await;
    for i in [1, 2] {
        assert!(
            std::fs::read(&helper.images[i]).unwrap() == expected,
            "image {i} differs"
        );
    }
    let out = json!({
        "mib": mib,
        "fidelityMib": fidelity_mib,
        "ceiling": ceiling,
        "ours": ours,
        "files": files,
        "iso": iso,
        "isoFirst": iso_first,
        "bd16x": bd,
        "dvd24x": dvd,
    });
    println!("{out}");
}
