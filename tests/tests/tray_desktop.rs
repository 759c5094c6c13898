//! The tray icon of `webburn-helper serve --tray on` on a real (virtual)
//! desktop: Xvfb, a session bus and xfce4-panel's status tray as the host.
//! The item registers, its tooltip and status follow the helper (idle, a site
//! asking to pair, writing N% to a drive), its menu (read through DBusMenu as
//! the host reads it) offers the pairing decision, the page and Quit; the
//! approval reaches the page as its token, Quit ends the helper. A screenshot
//! with the menu open goes to target/screenshots/tray-menu.png.

#![allow(clippy::unwrap_used, clippy::expect_used)] // support functions of the tests, not product code

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webburn_shared::protocol::ServerMessage;
use webburn_tests::child::ChildHelper;
use webburn_tests::desktop::Desktop;
use webburn_tests::pattern;
use webburn_tests::served::{self, http};

const SITE: &str = "https://photos.example";

async fn eventually(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One property of the tray item, as dbus-send prints it.
fn property(desktop: &Desktop, service: &str, name: &str) -> String {
    desktop
        .dbus_send(&[
            &format!("--dest={service}"),
            "/StatusNotifierItem",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.kde.StatusNotifierItem",
            &format!("string:{name}"),
        ])
        .unwrap_or_default()
}

/// The item's menu as (id, label) pairs, read with DBusMenu's GetLayout.
fn menu(desktop: &Desktop, service: &str) -> Vec<(i32, String)> {
    let out = desktop
        .dbus_send(&[
            &format!("--dest={service}"),
            "/MenuBar",
            "com.canonical.dbusmenu.GetLayout",
            "int32:0",
            "int32:-1",
            "array:string:",
        ])
        .unwrap_or_default();
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let mut items = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(label) = line
            .strip_prefix("variant")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix("string \""))
            .and_then(|l| l.strip_suffix('"'))
        else {
            continue;
        };
        if lines.get(i.wrapping_sub(1)) != Some(&"string \"label\"") {
            continue;
        }
        // The item's id is the last int32 before its properties.
        let id = lines[..i]
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("int32 ")?.parse().ok());
        if let Some(id) = id {
            items.push((id, label.to_owned()));
        }
    }
    items
}

fn click_item(desktop: &Desktop, service: &str, id: i32) {
    desktop
        .dbus_send(&[
            &format!("--dest={service}"),
            "/MenuBar",
            "com.canonical.dbusmenu.Event",
            &format!("int32:{id}"),
            "string:clicked",
            "variant:int32:0",
            "uint32:0",
        ])
        .unwrap();
}

/// Where the icon is: the middle of the pixels in its colours in the panel.
fn find_icon(desktop: &Desktop) -> Option<(u32, u32)> {
    let (width, _, rgb) = desktop.pixels().ok()?;
    let colours: [[u8; 3]; 3] = [[0x5b, 0x64, 0x70], [0xc2, 0x41, 0x0c], [0xb9, 0x1c, 0x1c]];
    let (mut count, mut sum_x, mut sum_y) = (0u64, 0u64, 0u64);
    for row in 0..40 {
        for col in 0..width {
            let at = ((row * width + col) * 3) as usize;
            let px = &rgb[at..at + 3];
            let ours = colours.iter().any(|c| {
                c.iter()
                    .zip(px)
                    .all(|(want, got)| want.abs_diff(*got) <= 12)
            });
            if ours {
                count += 1;
                sum_x += u64::from(col);
                sum_y += u64::from(row);
            }
        }
    }
    (count > 20).then(|| ((sum_x / count) as u32, (sum_y / count) as u32))
}

/// Opens the menu on screen (right click on the icon, then onto the pairing
/// entry so its submenu shows), saves target/screenshots/tray-menu.png, closes it.
async fn screenshot_menu(desktop: &Desktop) {
    let (x, y) = find_icon(desktop).expect("the icon on the panel");
    desktop.click(x, y, 3).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The pairing entry is the second row of the menu under the icon: the
    // tooltip goes away and its Approve/Refuse submenu opens.
    desktop.move_to(x + 150, y + 59).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shot = desktop.screenshot().unwrap();
    let docs = webburn_tests::screenshots_dir();
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("tray-menu.png"), shot).unwrap();
    desktop.click(x, y + 300, 1).unwrap();
}

/// Starts a 32 MiB burn to the emulated stick through the protocol and
/// returns once a tenth is written, with the write still running.
async fn start_burn(port: u16, cookie: &str) -> served::Client {
    let own = format!("http://127.0.0.1:{port}");
    let mut c = served::connect(port, Some(&own), None, None, Some(cookie))
        .await
        .unwrap();
    c.hello().await;
    c.send(json!({"type": "listRecorders"})).await;
    let ServerMessage::Recorders { recorders } = c.recv().await else {
        panic!("no list")
    };
    let stick = recorders
        .iter()
        .find(|r| r.id.contains("stick.img"))
        .unwrap();
    let file = pattern(32 << 20, 8);
    let running = c
        .burn_until(1, &stick.id, 0, &file, 256 * 1024, |u| u.progress() > 0.1)
        .await;
    assert!(
        matches!(running.result, ServerMessage::Pong),
        "still writing"
    );
    c
}

/// What `GET /v1/pair/{id}` says once it is no longer pending.
async fn pairing_answer(port: u16, id: &str) -> Value {
    let path = format!("/v1/pair/{id}");
    let mut answer = Value::Null;
    for _ in 0..50 {
        let (_, body) = http(port, "GET", &path, &[("Origin", SITE)]).await;
        answer = serde_json::from_str(&body).unwrap();
        if answer["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    answer
}

/// The id of the menu entry labelled `label`.
fn item_id(desktop: &Desktop, service: &str, label: &str) -> i32 {
    menu(desktop, service)
        .into_iter()
        .find(|(_, l)| l == label)
        .unwrap_or_else(|| panic!("no menu entry {label:?}"))
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_shows_status_asks_about_pairing_and_quits() {
    let desktop = Desktop::start();
    let data = tempfile::tempdir().unwrap();
    let slow = format!(
        "emulated:{},profile=disk,capacity=64MiB,speed=4MB/s",
        data.path().join("stick.img").display()
    );
    let args = ["--tray", "on", "--recorder", &slow].map(str::to_owned);
    let mut helper = ChildHelper::start_with_env(data.path(), 0, &args, &desktop.env()).unwrap();
    let port = helper.port;
    eventually("the item in the tray", Duration::from_secs(10), || {
        !desktop.tray_items().is_empty()
    })
    .await;
    let item = desktop.tray_items().remove(0);
    let service = item.split('/').next().unwrap().to_owned();
    assert!(property(&desktop, &service, "ToolTip").contains("webburn: Idle"));
    assert!(property(&desktop, &service, "Status").contains("\"Active\""));

    // A site asks to pair: the icon asks for attention.
    let (status, body) = http(port, "POST", "/v1/pair", &[("Origin", SITE)]).await;
    assert_eq!(status, 202, "{body}");
    let pair_id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("NeedsAttention", Duration::from_secs(5), || {
        property(&desktop, &service, "Status").contains("NeedsAttention")
    })
    .await;

    // A burn: the tooltip names the drive and the percent.
    let c = start_burn(port, &helper.own_cookie()).await;
    eventually(
        "the tooltip to show the write",
        Duration::from_secs(5),
        || {
            let tip = property(&desktop, &service, "ToolTip");
            tip.contains("webburn: Writing") && tip.contains("% to ")
        },
    )
    .await;

    // The menu, as the host reads it, and on screen.
    let labels: Vec<String> = menu(&desktop, &service)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert!(labels[0].contains(": Writing "), "{labels:?}");
    let asks = format!("{SITE} asks to burn (code ");
    assert!(labels.iter().any(|l| l.starts_with(&asks)), "{labels:?}");
    let approve = format!("Approve {SITE}");
    for want in [
        &approve,
        &format!("Refuse {SITE}"),
        "Open the burning page",
        "Quit webburn",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} in {labels:?}");
    }
    screenshot_menu(&desktop).await;
    c.close().await;

    // Approve from the menu: the page collects its token.
    click_item(&desktop, &service, item_id(&desktop, &service, &approve));
    let answer = pairing_answer(port, &pair_id).await;
    assert_eq!(answer["status"], "approved", "{answer}");
    eventually("the attention to end", Duration::from_secs(5), || {
        property(&desktop, &service, "Status").contains("\"Active\"")
    })
    .await;

    // Quit from the menu ends the helper, and the item leaves the tray.
    click_item(
        &desktop,
        &service,
        item_id(&desktop, &service, "Quit webburn"),
    );
    let exit = tokio::task::spawn_blocking(move || helper.wait_exit(Duration::from_secs(10)))
        .await
        .unwrap();
    assert!(exit.is_some_and(|s| s.success()), "exit: {exit:?}");
    eventually("the item to leave the tray", Duration::from_secs(5), || {
        desktop.tray_items().is_empty()
    })
    .await;
}
