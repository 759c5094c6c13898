//! Starting the helper with the user's session: the autostart entry of each
//! platform, generated here (and unit-tested on all of them, since only
//! Linux runs the tests): a systemd user unit or an XDG autostart entry on
//! Linux, a LaunchAgent on macOS, the HKCU Run key on Windows.

use std::path::{Path, PathBuf};

/// How the helper is started at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `~/.config/systemd/user/webburn-helper.service`, enabled with systemctl --user.
    SystemdUser,
    /// `~/.config/autostart/webburn-helper.desktop` (any XDG desktop).
    XdgAutostart,
    /// `~/Library/LaunchAgents/org.webburn.helper.plist` (macOS).
    LaunchAgent,
    /// `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, value `webburn-helper` (Windows).
    WindowsRun,
}

/// The name every entry uses.
pub(crate) const NAME: &str = "webburn-helper";
/// The LaunchAgent's label.
pub(crate) const LAUNCH_AGENT_LABEL: &str = "org.webburn.helper";
/// The registry key of per-user programs started at login.
pub(crate) const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";

impl Method {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Method::SystemdUser => "systemd",
            Method::XdgAutostart => "xdg",
            Method::LaunchAgent => "launchagent",
            Method::WindowsRun => "windows-run",
        }
    }

    /// Where the entry lives, under the user's config directory (Linux),
    /// home (macOS); the registry key for Windows.
    pub fn location(self, config_dir: &Path, home: &Path) -> PathBuf {
        match self {
            Method::SystemdUser => config_dir
                .join("systemd/user")
                .join(format!("{NAME}.service")),
            Method::XdgAutostart => config_dir.join("autostart").join(format!("{NAME}.desktop")),
            Method::LaunchAgent => home
                .join("Library/LaunchAgents")
                .join(format!("{LAUNCH_AGENT_LABEL}.plist")),
            Method::WindowsRun => PathBuf::from(RUN_KEY),
        }
    }

    /// The entry's contents for the helper at `exe` run with `args`.
    pub fn contents(self, exe: &Path, args: &[String]) -> String {
        match self {
            Method::SystemdUser => systemd_unit(exe, args),
            Method::XdgAutostart => xdg_desktop(exe, args),
            Method::LaunchAgent => launch_agent(exe, args),
            Method::WindowsRun => windows_run_value(exe, args),
        }
    }
}

fn words(exe: &Path, args: &[String]) -> Vec<String> {
    std::iter::once(exe.display().to_string())
        .chain(args.iter().cloned())
        .collect()
}

/// A word quoted for systemd's ExecStart (C-style escapes; `%` doubled).
fn systemd_word(w: &str) -> String {
    let escaped = w
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    if escaped.is_empty() || escaped.contains([' ', '\t', '\'', '"', ';', '$']) {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

/// The systemd user unit.
pub(crate) fn systemd_unit(exe: &Path, args: &[String]) -> String {
    let exec: Vec<String> = words(exe, args).iter().map(|w| systemd_word(w)).collect();
    format!(
        "[Unit]\n\
         Description=webburn helper: lets web pages burn discs and USB storage\n\
         After=graphical-session.target\n\n\
         [Service]\n\
         ExecStart={}\n\
         Restart=on-failure\n\
         RestartSec=2\n\n\
         [Install]\n\
         WantedBy=default.target\n",
        exec.join(" ")
    )
}

/// A word quoted for a desktop entry's Exec key.
fn desktop_word(w: &str) -> String {
    let needs = w.is_empty()
        || w.contains([
            ' ', '\t', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')',
            '`',
        ]);
    let w = w.replace('%', "%%");
    if needs {
        let inner = w
            .replace('\\', "\\\\\\\\")
            .replace('"', "\\\\\"")
            .replace('`', "\\\\`")
            .replace('$', "\\\\$");
        format!("\"{inner}\"")
    } else {
        w
    }
}

/// The XDG autostart desktop entry.
pub(crate) fn xdg_desktop(exe: &Path, args: &[String]) -> String {
    let exec: Vec<String> = words(exe, args).iter().map(|w| desktop_word(w)).collect();
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=webburn helper\n\
         Comment=Lets web pages burn discs and USB storage\n\
         Exec={}\n\
         Terminal=false\n\
         NoDisplay=true\n\
         X-GNOME-Autostart-enabled=true\n",
        exec.join(" ")
    )
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The LaunchAgent property list.
pub(crate) fn launch_agent(exe: &Path, args: &[String]) -> String {
    let program = words(exe, args).iter().fold(String::new(), |mut out, w| {
        use std::fmt::Write as _;
        let _ = writeln!(out, "    <string>{}</string>", xml(w));
        out
    });
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \x20 <key>Label</key>\n  <string>{LAUNCH_AGENT_LABEL}</string>\n\
         \x20 <key>ProgramArguments</key>\n  <array>\n{program}  </array>\n\
         \x20 <key>RunAtLoad</key>\n  <true/>\n\
         \x20 <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n\
         </dict>\n</plist>\n"
    )
}

/// A word quoted for a Windows command line (CommandLineToArgvW rules).
fn windows_word(w: &str) -> String {
    if !w.is_empty() && !w.contains([' ', '\t', '"']) {
        return w.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in w.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// The Run key's value: the command line Windows runs at login.
pub(crate) fn windows_run_value(exe: &Path, args: &[String]) -> String {
    let mut line = format!("\"{}\"", exe.display());
    for a in args {
        line.push(' ');
        line.push_str(&windows_word(a));
    }
    line
}

/// The arguments of `reg.exe` that set (`add`) or remove (`delete`) the Run value.
pub(crate) fn reg_command(add: Option<&str>) -> Vec<String> {
    let mut v = vec![
        if add.is_some() { "add" } else { "delete" }.to_owned(),
        RUN_KEY.to_owned(),
        "/v".to_owned(),
        NAME.to_owned(),
    ];
    if let Some(value) = add {
        v.extend([
            "/t".to_owned(),
            "REG_SZ".to_owned(),
            "/d".to_owned(),
            value.to_owned(),
        ]);
    }
    v.push("/f".to_owned());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve() -> Vec<String> {
        vec!["serve".into(), "--port".into(), "47801".into()]
    }

    #[test]
    fn systemd_unit_quotes_paths_and_doubles_percents() {
        let unit = systemd_unit(Path::new("/opt/web burn/webburn-helper"), &serve());
        assert!(
            unit.contains("ExecStart=\"/opt/web burn/webburn-helper\" serve --port 47801\n"),
            "{unit}"
        );
        assert!(unit.contains("Restart=on-failure") && unit.contains("WantedBy=default.target"));
        assert_eq!(systemd_word("50%"), "50%%");
        assert_eq!(systemd_word("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn desktop_entry_quotes_as_the_spec_says() {
        let entry = xdg_desktop(Path::new("/usr/bin/webburn-helper"), &serve());
        assert!(
            entry.contains("Exec=/usr/bin/webburn-helper serve --port 47801\n"),
            "{entry}"
        );
        assert!(entry.starts_with("[Desktop Entry]\nType=Application\n"));
        assert_eq!(desktop_word("/home/a b/x"), "\"/home/a b/x\"");
        assert_eq!(desktop_word("$HOME"), "\"\\\\$HOME\"");
        assert_eq!(desktop_word("100%"), "100%%");
    }

    #[test]
    fn launch_agent_lists_each_argument_and_escapes_xml() {
        let plist = launch_agent(Path::new("/Applications/webburn & co/helper"), &serve());
        assert!(
            plist.contains(
                "<string>/Applications/webburn &amp; co/helper</string>\n    <string>serve</string>"
            ),
            "{plist}"
        );
        assert!(plist.contains("<key>Label</key>\n  <string>org.webburn.helper</string>"));
        assert!(plist.contains("<key>RunAtLoad</key>\n  <true/>"));
    }

    #[test]
    fn windows_run_value_quotes_as_commandlinetoargvw_reads() {
        let exe = Path::new(r"C:\Program Files\webburn\webburn-helper.exe");
        assert_eq!(
            windows_run_value(exe, &serve()),
            r#""C:\Program Files\webburn\webburn-helper.exe" serve --port 47801"#
        );
        assert_eq!(windows_word(r"C:\a b\"), r#""C:\a b\\""#);
        assert_eq!(windows_word(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(
            reg_command(Some("x")),
            [
                "add",
                RUN_KEY,
                "/v",
                "webburn-helper",
                "/t",
                "REG_SZ",
                "/d",
                "x",
                "/f"
            ]
        );
        assert_eq!(
            reg_command(None),
            ["delete", RUN_KEY, "/v", "webburn-helper", "/f"]
        );
    }

    #[test]
    fn locations() {
        let (c, h) = (Path::new("/c"), Path::new("/h"));
        assert_eq!(
            Method::SystemdUser.location(c, h),
            Path::new("/c/systemd/user/webburn-helper.service")
        );
        assert_eq!(
            Method::XdgAutostart.location(c, h),
            Path::new("/c/autostart/webburn-helper.desktop")
        );
        assert_eq!(
            Method::LaunchAgent.location(c, h),
            Path::new("/h/Library/LaunchAgents/org.webburn.helper.plist")
        );
    }
}
