//! Faults on the devices and the connection: each ends with its HRESULT, an
//! exact LastWrittenLba, nothing on the medium past what was reported, the
//! recorder free again and the helper still serving.

use std::time::{Duration, Instant};

use serde_json::json;
use webburn_emulated::usb_stick::SimulatedStick;
use webburn_engine::devices::Recorder;
use webburn_engine::{EngineConfig, WriteEngine};
use webburn_scsi::transport::usb_bot::BotTransport;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;

use super::{Door, Outcome, Planned, ensure, plan, wait_free};
use crate::browser::{Browser, www_dir};
use crate::child::ChildHelper;
use crate::served::{Helper, connect};
use crate::{image, pattern};

const SECTOR: usize = 2048;
/// Sectors each fault case writes (2 MiB).
const SECTORS: usize = 1024;

/// A fault of the emulated recorder and what it must come to.
struct Fault {
    /// Its test's name.
    key: &'static str,
    name: &'static str,
    option: &'static str,
    expected: HResult,
    last_written: i32,
}

/// A fault at LBA 300 stops the 32-sector WRITE at 288..=319: 287 is the last good sector.
const FAULTS: [Fault; 5] = [
    Fault {
        key: "faults_busy_three_times",
        name: "busy (2/04/07) three times at LBA 100",
        option: ",profile=bd-r,busy=3@100",
        expected: HResult::S_OK,
        last_written: SECTORS as i32 - 1,
    },
    Fault {
        key: "faults_write_error",
        name: "write error (3/0C/00) at LBA 300",
        option: ",profile=bd-r,write-error=300",
        expected: HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
        last_written: 287,
    },
    Fault {
        key: "faults_medium_removed",
        name: "medium removed at LBA 300",
        option: ",profile=bd-r,remove-at=300",
        expected: HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
        last_written: 287,
    },
    Fault {
        key: "faults_write_stalls",
        name: "a WRITE stalls 3 s, past the 1 s command timeout, at LBA 300",
        option: ",profile=bd-r,stall=300:3s",
        expected: HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT,
        last_written: 287,
    },
    Fault {
        key: "faults_device_vanishes",
        name: "the device vanishes at LBA 300",
        option: ",profile=bd-r,vanish-at=300",
        expected: HResult::E_DEV_NOT_EXIST,
        last_written: 287,
    },
];

fn name_of(h: HResult) -> &'static str {
    h.name().unwrap_or("UNKNOWN")
}

/// A write cut short: the image is whole sectors, the data's beginning, and
/// at least everything reported written (LastWrittenLba `reported`); returns
/// its sectors.
fn clean_prefix(img: &[u8], data: &[u8], reported: i32) -> Result<usize, String> {
    let sectors = img.len() / SECTOR;
    holds_prefix(img, data, sectors)?;
    ensure(
        i64::try_from(sectors).unwrap_or(0) > i64::from(reported),
        || format!("{sectors} sectors on the disc but {reported} reported written"),
    )?;
    Ok(sectors)
}

/// The image holds exactly the first `sectors` sectors of `data`.
fn holds_prefix(img: &[u8], data: &[u8], sectors: usize) -> Result<(), String> {
    ensure(img.len() == sectors * SECTOR, || {
        format!("the image holds {} bytes, not {sectors} sectors", img.len())
    })?;
    ensure(img == &data[..img.len()], || {
        "the image differs from the data".into()
    })
}

async fn through_server(f: &'static Fault) -> Outcome {
    let helper = Helper::start(&[f.option], |c| {
        c.buffer_bytes = 1 << 20;
        c.command_timeout = Duration::from_secs(1);
    })
    .await;
    let data = pattern(SECTORS * SECTOR, 77);
    let mut c = helper.session().await;
    let burned = c.burn(1, &helper.recorders[0], 0, &data, 256 * 1024).await;
    let h = burned.hresult();
    ensure(h == f.expected, || {
        format!("ended with {}, not {}", name_of(h), name_of(f.expected))
    })?;
    let last = burned.updates.last().map_or(-1, |u| u.last_written_lba);
    ensure(last == f.last_written, || {
        format!("LastWrittenLba {last}, not {}", f.last_written)
    })?;
    let sectors = usize::try_from(last + 1).unwrap_or(0);
    holds_prefix(&image(&helper.images[0]), &data, sectors)?;
    wait_free(&Door::of(&helper), Duration::from_secs(2)).await?;
    let mut other = helper.session().await;
    let again = other
        .burn(2, &helper.recorders[0], last + 1, &data[..SECTOR], SECTOR)
        .await;
    ensure(again.hresult() == HResult::S_OK, || {
        format!("the next write at {} got {:?}", last + 1, again.result)
    })?;
    helper.assert_serves().await;
    Ok(format!(
        "{}, LastWrittenLba {last}, the image holds exactly sectors 0..={last} of the data; \
         the recorder was free (a write at {}: S_OK); still serving",
        name_of(h),
        last + 1
    ))
}

/// A USB stick unplugged mid-write: libusb's no-device errors on every
/// later transfer, through the Bulk-Only transport and the engine.
fn usb_unplugged() -> Outcome {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let img = dir.path().join("stick.img");
    let spec = format!(
        "emulated:{},profile=disk,capacity=16MiB,vanish-at=300",
        img.display()
    );
    let stick = SimulatedStick::new(&spec).map_err(|e| e.to_string())?;
    let recorder = Recorder::from_transport(
        "usb-sim".into(),
        Box::new(BotTransport::new(stick, 0, 65536)),
    );
    let engine = WriteEngine::new(EngineConfig {
        buffer_bytes: 1 << 20,
        ..EngineConfig::default()
    });
    engine
        .put_recorder(recorder.clone())
        .map_err(|h| h.to_string())?;
    engine
        .put_bytes_per_sector(2048)
        .map_err(|h| h.to_string())?;
    let data = pattern(SECTORS * SECTOR, 78);
    let mut last = -1;
    let r = engine.write_section(&data[..], Some(data.len() as u64), 0, SECTORS as i32, |a| {
        last = a.last_written_lba;
    });
    let h = r.err().map_or(HResult::S_OK, |e| e.hresult);
    ensure(h == HResult::E_DEV_NOT_EXIST, || {
        format!("ended with {}", name_of(h))
    })?;
    ensure(last == 287, || format!("LastWrittenLba {last}, not 287"))?;
    holds_prefix(&std::fs::read(&img).map_err(|e| e.to_string())?, &data, 288)?;
    ensure(recorder.try_acquire().is_ok(), || {
        "the recorder stayed locked".into()
    })?;
    Ok(
        "E_DEV_NOT_EXIST, LastWrittenLba 287, the stick holds exactly sectors 0..=287; \
        the recorder was free"
            .into(),
    )
}

/// The client's socket drops mid-write: the write stops, the recorder is
/// free within a second, and a new session resumes at the next writable
/// address.
async fn socket_drop() -> Outcome {
    let helper = Helper::start(&[",profile=bd-r,speed=4x"], |c| c.buffer_bytes = 1 << 20).await;
    let rec = helper.recorders[0].clone();
    let data = pattern(16 << 20, 79);
    let mut c = helper.session().await;
    let burned = c
        .burn_until(1, &rec, 0, &data, 256 * 1024, |a| a.last_written_lba > 500)
        .await;
    let reported = burned.updates.last().map_or(-1, |u| u.last_written_lba);
    drop(c);
    let freed = wait_free(&Door::of(&helper), Duration::from_secs(1)).await?;
    let mut other = helper.session().await;
    let img = image(&helper.images[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure(image(&helper.images[0]).len() == img.len(), || {
        "WRITEs went on after the recorder was released".into()
    })?;
    let sectors = clean_prefix(&img, &data, reported)?;
    let rest = other
        .burn(
            2,
            &rec,
            sectors as i32,
            &data[sectors * SECTOR..],
            256 * 1024,
        )
        .await;
    ensure(rest.hresult() == HResult::S_OK, || {
        format!("resuming: {:?}", rest.result)
    })?;
    ensure(image(&helper.images[0]) == data, || {
        "the resumed image differs".into()
    })?;
    Ok(format!(
        "write stopped at sector {sectors} (last reported {reported}), recorder free {} ms \
         after the drop, no WRITE after; a new session resumed there and the image equals the data",
        freed.as_millis()
    ))
}

/// The browser tab closes mid-burn.
async fn tab_closed() -> Outcome {
    let www = www_dir();
    let helper = Helper::start(&[",profile=bd-r,speed=4x"], move |c| c.www = Some(www)).await;
    let data = pattern(32 << 20, 80);
    let src = helper.dir.path().join("tab.bin");
    std::fs::write(&src, &data).map_err(|e| e.to_string())?;
    let browser = Browser::start().await;
    browser
        .open_page(&helper.server.own_url(), Duration::from_secs(30))
        .await;
    browser.burn(&src).await;
    browser
        .wait_for("some progress", Duration::from_secs(30), || async {
            browser.progress().await > 0.05
        })
        .await;
    browser.close_tab().await;
    let freed = wait_free(&Door::of(&helper), Duration::from_secs(3)).await?;
    let img = image(&helper.images[0]);
    holds_prefix(&img, &data, img.len() / SECTOR)?;
    helper.assert_serves().await;
    Ok(format!(
        "the burn stopped at sector {}, recorder free {} ms after the tab closed, the image \
         is the file's beginning; still serving",
        img.len() / SECTOR,
        freed.as_millis()
    ))
}

/// SIGKILL mid-write, then a restart on the same port: what reached the
/// disc is a clean prefix, the image is not left locked, and the burn
/// resumes at the next writable address.
async fn killed_and_restarted() -> Outcome {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let img_path = dir.path().join("bd.img");
    let args = vec![
        "--recorder".to_owned(),
        format!("emulated:{},profile=bd-r,speed=8x", img_path.display()),
        "--buffer".to_owned(),
        "4MiB".to_owned(),
    ];
    let mut first = ChildHelper::start(dir.path(), 0, &args)?;
    let port = first.port;
    let origin = format!("http://127.0.0.1:{port}");
    let data = pattern(32 << 20, 81);
    let rec = format!("emulated:{}", img_path.display());
    let mut c = connect(port, Some(&origin), None, None, Some(&first.own_cookie()))
        .await
        .map_err(|r| format!("refused: {r:?}"))?;
    c.hello().await;
    let burned = c
        .burn_until(1, &rec, 0, &data, 1 << 20, |a| a.last_written_lba > 2000)
        .await;
    let reported = burned.updates.last().map_or(-1, |u| u.last_written_lba);
    first.kill();
    drop(c);
    let img = std::fs::read(&img_path).map_err(|e| e.to_string())?;
    let sectors = clean_prefix(&img, &data, reported)?;
    let restarted = Instant::now();
    let second = ChildHelper::start(dir.path(), port, &args)?;
    let up = restarted.elapsed();
    let mut c = connect(
        second.port,
        Some(&origin),
        None,
        None,
        Some(&second.own_cookie()),
    )
    .await
    .map_err(|r| format!("refused after the restart: {r:?}"))?;
    c.hello().await;
    c.send(json!({"type": "listRecorders"})).await;
    let nwa = match c.recv().await {
        ServerMessage::Recorders { recorders } => recorders
            .first()
            .filter(|r| !r.in_use)
            .and_then(|r| r.next_writable_address),
        _ => None,
    };
    ensure(nwa == u32::try_from(sectors).ok(), || {
        format!("after the restart the drive says next writable {nwa:?}, the image holds {sectors}")
    })?;
    let rest = c
        .burn(2, &rec, sectors as i32, &data[sectors * SECTOR..], 1 << 20)
        .await;
    ensure(rest.hresult() == HResult::S_OK, || {
        format!("resuming: {:?}", rest.result)
    })?;
    ensure(
        std::fs::read(&img_path).map_err(|e| e.to_string())? == data,
        || "the resumed image differs from the data".into(),
    )?;
    Ok(format!(
        "killed after LastWrittenLba {reported} was reported: the image held {sectors} whole \
         sectors equal to the data; restarted on port {port} in {} ms, the image not locked, \
         next writable {sectors}; the rest burned there and the image equals the data",
        up.as_millis()
    ))
}

/// Every fault case, not run yet.
pub fn cases() -> Vec<Planned> {
    let g = "faults";
    let mut cases: Vec<Planned> = FAULTS
        .iter()
        .map(|f| {
            let expected = format!(
                "{}, LastWrittenLba {}, nothing written past it, recorder free, still serving",
                name_of(f.expected),
                f.last_written
            );
            plan(f.key, g, f.name, expected, through_server(f))
        })
        .collect();
    cases.extend([
        plan(
            "faults_usb_stick_unplugged",
            g,
            "USB Bulk-Only stick unplugged at LBA 300 (libusb no-device errors)",
            "E_DEV_NOT_EXIST, LastWrittenLba 287, nothing past it, recorder free",
            async {
                tokio::task::spawn_blocking(usb_unplugged)
                    .await
                    .map_err(|e| e.to_string())?
            },
        ),
        plan(
            "faults_socket_drops",
            g,
            "the client's socket drops mid-write",
            "the write stops, recorder free within 1 s, no WRITE after, a new session resumes",
            socket_drop(),
        ),
        plan(
            "faults_tab_closes",
            g,
            "the browser tab closes mid-burn",
            "the write stops, recorder free, the image is the file's beginning, still serving",
            tab_closed(),
        ),
        plan(
            "faults_helper_killed_and_restarted",
            g,
            "the helper is killed (SIGKILL) mid-write and restarted",
            "a clean prefix on the disc, the image not locked, the burn resumes at the next writable address",
            killed_and_restarted(),
        ),
    ]);
    cases
}
