//! A throwaway desktop for the tray tests: Xvfb, a private D-Bus session bus
//! and xfce4-panel with only its status tray (a StatusNotifierItem host), plus
//! the means to look at it (screenshots) and poke it (xdotool clicks,
//! dbus-send calls). Every process it starts is ended by its pid when it is
//! dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;

use crate::xvfb::Xvfb;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};

/// The programs a desktop needs (apt: xvfb, xfce4-panel, xdotool, dbus).
const PROGRAMS: [&str; 5] = ["Xvfb", "xfce4-panel", "xdotool", "dbus-daemon", "dbus-send"];

/// xfce4-panel's settings: one panel along the top holding only the status tray.
const PANEL_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"#;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Result<(), String> {
    let until = Instant::now() + limit;
    while !ok() {
        if Instant::now() > until {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A running Xvfb + session bus + tray host.
#[derive(Debug)]
pub struct Desktop {
    dir: tempfile::TempDir,
    /// `:N`.
    pub display: String,
    /// The session bus address.
    pub bus: String,
    children: Vec<Child>,
    /// Dropped after the programs on it (fields drop in order).
    xvfb: Option<Xvfb>,
}

impl Desktop {
    /// Starts the desktop; the test fails when its programs are missing
    /// (see [`crate::prerequisite_missing`]).
    pub fn start() -> Desktop {
        let missing: Vec<&str> = PROGRAMS.into_iter().filter(|p| !on_path(p)).collect();
        if !missing.is_empty() {
            crate::prerequisite_missing(&format!("the tray tests need {missing:?}"));
        }
        match Self::launch() {
            Ok(d) => d,
            Err(e) => panic!("the test desktop did not start: {e}"),
        }
    }

    fn launch() -> Result<Desktop, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut desktop = Desktop {
            display: String::new(),
            bus: String::new(),
            children: Vec::new(),
            xvfb: None,
            dir,
        };
        let root = desktop.dir.path().to_path_buf();
        let runtime = root.join("run");
        let panel_dir = root.join("config/xfce4/xfconf/xfce-perchannel-xml");
        std::fs::create_dir_all(&panel_dir).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&runtime).map_err(|e| e.to_string())?;
        std::fs::write(panel_dir.join("xfce4-panel.xml"), PANEL_XML).map_err(|e| e.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700));
        }

        let xvfb = Xvfb::start(800, 480)?;
        desktop.display.clone_from(&xvfb.display);
        desktop.xvfb = Some(xvfb);

        let bus_path = root.join("bus");
        desktop.bus = format!("unix:path={}", bus_path.display());
        // Services the bus starts (xfconfd) read the panel settings above.
        let bus = Command::new("dbus-daemon")
            .envs(desktop.env())
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={}", desktop.bus))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("dbus-daemon: {e}"))?;
        desktop.children.push(bus);
        wait_until("the session bus", Duration::from_secs(10), || {
            bus_path.exists()
        })?;

        let panel = Command::new("xfce4-panel")
            .arg("--disable-wm-check")
            .envs(desktop.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("xfce4-panel: {e}"))?;
        desktop.children.push(panel);
        wait_until("the tray host", Duration::from_secs(20), || {
            desktop
                .bus_names()
                .iter()
                .any(|n| n == "org.kde.StatusNotifierWatcher")
        })?;
        Ok(desktop)
    }

    /// The environment a program of this desktop runs with.
    pub fn env(&self) -> Vec<(String, String)> {
        let root = self.dir.path();
        vec![
            ("DISPLAY".into(), self.display.clone()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus.clone()),
            (
                "XDG_CONFIG_HOME".into(),
                root.join("config").display().to_string(),
            ),
            (
                "XDG_RUNTIME_DIR".into(),
                root.join("run").display().to_string(),
            ),
            // No accessibility bus (it would start programs of its own).
            ("NO_AT_BRIDGE".into(), "1".into()),
        ]
    }

    /// `dbus-send --print-reply` on this desktop's bus; its output.
    pub fn dbus_send(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.bus))
            .arg("--print-reply")
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The names on the session bus.
    pub fn bus_names(&self) -> Vec<String> {
        self.dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListNames",
        ])
        .map(|out| quoted_strings(&out))
        .unwrap_or_default()
    }

    /// The StatusNotifierItems the tray host shows (`SERVICE/PATH` each).
    pub fn tray_items(&self) -> Vec<String> {
        self.dbus_send(&[
            "--dest=org.kde.StatusNotifierWatcher",
            "/StatusNotifierWatcher",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.kde.StatusNotifierWatcher",
            "string:RegisteredStatusNotifierItems",
        ])
        .map(|out| quoted_strings(&out))
        .unwrap_or_default()
    }

    /// A PNG of the whole screen.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        let (conn, screen) = x11rb::connect(Some(&self.display)).map_err(|e| e.to_string())?;
        let root = &conn.setup().roots[screen];
        let (w, h) = (root.width_in_pixels, root.height_in_pixels);
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, w, h, u32::MAX)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        // Depth 24 in 32-bit pixels, least significant byte first: B, G, R, X.
        let rgb: Vec<u8> = image
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        let mut png_bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut png_bytes, u32::from(w), u32::from(h));
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(png_bytes)
    }

    /// The screen as (width, height, RGB bytes).
    pub fn pixels(&self) -> Result<(u32, u32, Vec<u8>), String> {
        let png_bytes = self.screenshot()?;
        let mut reader = png::Decoder::new(png_bytes.as_slice())
            .read_info()
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
        buf.truncate(info.buffer_size());
        Ok((info.width, info.height, buf))
    }

    fn xdotool(&self, args: &[&str]) -> Result<(), String> {
        let status = Command::new("xdotool")
            .envs(self.env())
            .args(args)
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("xdotool: {status}"))
    }

    /// Clicks mouse `button` (1 left, 3 right) at (x, y).
    pub fn click(&self, x: u32, y: u32, button: u8) -> Result<(), String> {
        let (x, y, b) = (x.to_string(), y.to_string(), button.to_string());
        self.xdotool(&["mousemove", &x, &y, "click", &b])
    }

    /// Moves the mouse to (x, y).
    pub fn move_to(&self, x: u32, y: u32) -> Result<(), String> {
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string()])
    }
}

/// The `string "..."` values of dbus-send's output.
pub fn quoted_strings(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("string \"")?
                .strip_suffix('"')
                .map(str::to_owned)
        })
        .collect()
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // The panel first, then the bus (its activated services end with
        // it), then the X server.
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.xvfb = None;
    }
}
