//! The tray's content as plain data: what the icon's tooltip and menu say
//! for a snapshot of the helper, and what each menu action does. Nothing here
//! needs a desktop, so all of it is tested headless.

use webburn_shared::WriteAction;
use webburn_shared::protocol::DeviceRequest;

pub(crate) use crate::state::activity::Job;
use crate::state::pairing_store::PairingStore;
use crate::state::registry::Registry;

/// One busy drive as the tray names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DriveLine {
    /// The drive's product name (or its id when it never answered).
    pub name: String,
    /// 0..=100.
    pub percent: u8,
    /// The disc flow's step, when known.
    pub action: Option<WriteAction>,
    /// What it does.
    pub job: Job,
}

/// A site waiting for the user's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingLine {
    /// The code `webburn-helper pair approve` takes.
    pub code: String,
    /// The site.
    pub origin: String,
}

/// What the tray shows, gathered from the helper's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Snapshot {
    /// The page "Open" goes to.
    pub page_url: String,
    /// Kiosk mode (no pairing).
    pub kiosk: bool,
    /// Drives writing now.
    pub drives: Vec<DriveLine>,
    /// Sites asking to pair.
    pub pending: Vec<PendingLine>,
    /// Sites asking to write to a removable disk.
    pub devices: Vec<DeviceRequest>,
}

/// What a menu item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Let the site with this pairing code use the recorders.
    Approve(String),
    /// Refuse the site with this pairing code.
    Deny(String),
    /// Let the site of this device request write to the disk (a large one
    /// only with `confirm_large`, its second confirmation).
    AllowDevice {
        /// The request's code.
        code: String,
        /// The second confirmation of a disk over 256 GB.
        confirm_large: bool,
    },
    /// Refuse the device request with this code.
    RefuseDevice(String),
    /// Open the helper's page in the browser.
    OpenPage,
    /// Stop the helper.
    Quit,
}

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Text that cannot be clicked.
    Label(String),
    /// A line between groups.
    Separator,
    /// A clickable item.
    Item(String, Action),
    /// A submenu.
    Submenu(String, Vec<Entry>),
}

/// What one drive is doing, in a few words.
pub(crate) fn drive_line(d: &DriveLine) -> String {
    let name = &d.name;
    match d.job {
        Job::Erase => return format!("Erasing the disc in {name} ({}%)", d.percent),
        Job::Read => return format!("Reading which files the disc in {name} holds"),
        Job::Write => {}
    }
    match d.action {
        Some(WriteAction::ValidatingMedia) => format!("Checking the disc in {name}"),
        Some(
            WriteAction::FormattingMedia
            | WriteAction::InitializingHardware
            | WriteAction::CalibratingPower,
        ) => format!("Preparing {name}"),
        Some(WriteAction::Finalization) => format!("Closing the disc in {name}"),
        Some(WriteAction::Verifying) => format!("Verifying {}% on {name}", d.percent),
        Some(WriteAction::Completed) => format!("Done on {name}"),
        Some(WriteAction::WritingData) | None => format!("Writing {}% to {name}", d.percent),
    }
}

/// The one-line status: idle, the one drive's line, or how many drives burn.
pub(crate) fn status(s: &Snapshot) -> String {
    match s.drives.as_slice() {
        [] => "Idle".into(),
        [one] => drive_line(one),
        many => format!("Burning on {} drives", many.len()),
    }
}

/// The tooltip: a title and the detail under it.
pub(crate) fn tooltip(s: &Snapshot) -> (String, String) {
    let mut lines: Vec<String> = if s.drives.len() > 1 {
        s.drives.iter().map(drive_line).collect()
    } else {
        Vec::new()
    };
    for p in &s.pending {
        lines.push(format!("{} asks to use your recorders", p.origin));
    }
    for d in &s.devices {
        lines.push(format!("{} wants to {}", d.origin, d.act.wants(&d.device)));
    }
    (format!("webburn: {}", status(s)), lines.join("\n"))
}

/// A pairing or device request waits: the icon asks for attention.
pub(crate) fn needs_attention(s: &Snapshot) -> bool {
    !s.pending.is_empty() || !s.devices.is_empty()
}

/// A device request's submenu: allowing a large disk takes one more step,
/// naming what is erased.
fn device_entry(d: &DeviceRequest) -> Entry {
    let allow = if d.large {
        Entry::Submenu(
            format!("Allow {} (a large disk)…", d.origin),
            vec![Entry::Item(
                format!("Yes, erase everything on {}", d.device),
                Action::AllowDevice {
                    code: d.code.clone(),
                    confirm_large: true,
                },
            )],
        )
    } else {
        let what = match d.act.consequence() {
            "" => String::new(),
            c => format!(" ({c})"),
        };
        Entry::Item(
            format!("Allow {}{what}", d.origin),
            Action::AllowDevice {
                code: d.code.clone(),
                confirm_large: false,
            },
        )
    };
    Entry::Submenu(
        format!(
            "{} wants to {} (code {})",
            d.origin,
            d.act.wants(&d.device),
            d.code
        ),
        vec![
            allow,
            Entry::Item(
                format!("Refuse {}", d.origin),
                Action::RefuseDevice(d.code.clone()),
            ),
        ],
    )
}

/// The menu for `s`, top to bottom.
pub(crate) fn entries(s: &Snapshot) -> Vec<Entry> {
    let mut menu = vec![Entry::Label(format!(
        "webburn {}: {}",
        env!("CARGO_PKG_VERSION"),
        status(s)
    ))];
    if s.drives.len() > 1 {
        menu.extend(s.drives.iter().map(|d| Entry::Label(drive_line(d))));
    }
    if !s.pending.is_empty() {
        menu.push(Entry::Separator);
        for p in &s.pending {
            menu.push(Entry::Submenu(
                format!("{} asks to burn (code {})", p.origin, p.code),
                vec![
                    Entry::Item(
                        format!("Approve {}", p.origin),
                        Action::Approve(p.code.clone()),
                    ),
                    Entry::Item(format!("Refuse {}", p.origin), Action::Deny(p.code.clone())),
                ],
            ));
        }
    }
    if !s.devices.is_empty() {
        menu.push(Entry::Separator);
        menu.extend(s.devices.iter().map(device_entry));
    }
    menu.push(Entry::Separator);
    let open = if s.kiosk {
        "Open the kiosk page"
    } else {
        "Open the burning page"
    };
    menu.push(Entry::Item(open.into(), Action::OpenPage));
    menu.push(Entry::Item("Quit webburn".into(), Action::Quit));
    menu
}

/// Why a decision taken in the tray did not go through.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecisionError {
    /// The pairing request (approve or deny).
    #[error(transparent)]
    Pairing(#[from] crate::state::pairing_store::PairingError),
    /// The device request (allow or refuse).
    #[error(transparent)]
    Device(#[from] crate::state::consents::ApprovalError),
}

/// Carries out a pairing or device decision; returns the origin it was
/// about, or why it failed. `None` for actions that are not decisions.
pub(crate) fn decide(
    store: &PairingStore,
    registry: &Registry,
    action: &Action,
) -> Option<Result<String, DecisionError>> {
    Some(match action {
        Action::Approve(code) => store.approve(code).map_err(DecisionError::from),
        Action::Deny(code) => store.deny(code).map_err(DecisionError::from),
        Action::AllowDevice {
            code,
            confirm_large,
        } => registry
            .approve_device(code, *confirm_large)
            .map(|d| d.origin)
            .map_err(DecisionError::from),
        Action::RefuseDevice(code) => registry
            .deny_device(code)
            .map(|d| d.origin)
            .map_err(DecisionError::from),
        Action::OpenPage | Action::Quit => return None,
    })
}

/// The program and arguments that open `url` in the user's browser.
pub(crate) fn open_command(os: &str, url: &str) -> (String, Vec<String>) {
    match os {
        "macos" => ("open".into(), vec![url.into()]),
        // `start` is a cmd built-in; the empty title keeps a quoted URL from becoming one.
        "windows" => (
            "cmd".into(),
            vec!["/C".into(), "start".into(), String::new(), url.into()],
        ),
        _ => ("xdg-open".into(), vec![url.into()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(name: &str, percent: u8, action: Option<WriteAction>) -> DriveLine {
        DriveLine {
            name: name.into(),
            percent,
            action,
            job: Job::Write,
        }
    }

    fn labels(menu: &[Entry]) -> Vec<String> {
        menu.iter()
            .map(|e| match e {
                Entry::Label(t) | Entry::Item(t, _) | Entry::Submenu(t, _) => t.clone(),
                Entry::Separator => "---".into(),
            })
            .collect()
    }

    #[test]
    fn idle_offers_the_page_and_quit() {
        let s = Snapshot {
            page_url: "http://127.0.0.1:47801/".into(),
            ..Snapshot::default()
        };
        let menu = entries(&s);
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(
            labels(&menu),
            [
                format!("webburn {v}: Idle"),
                "---".into(),
                "Open the burning page".into(),
                "Quit webburn".into()
            ]
        );
        assert_eq!(
            menu[2],
            Entry::Item("Open the burning page".into(), Action::OpenPage)
        );
        assert_eq!(tooltip(&s), ("webburn: Idle".into(), String::new()));
        assert!(!needs_attention(&s));
    }

    #[test]
    fn a_write_shows_its_drive_step_and_percent() {
        let mut s = Snapshot::default();
        s.drives
            .push(drive("DVD-RW DRIVE", 42, Some(WriteAction::WritingData)));
        assert_eq!(status(&s), "Writing 42% to DVD-RW DRIVE");
        s.drives[0].action = Some(WriteAction::Verifying);
        s.drives[0].percent = 80;
        assert_eq!(status(&s), "Verifying 80% on DVD-RW DRIVE");
        s.drives[0].action = Some(WriteAction::ValidatingMedia);
        assert_eq!(status(&s), "Checking the disc in DVD-RW DRIVE");
        s.drives[0].action = None;
        assert_eq!(
            status(&s),
            "Writing 80% to DVD-RW DRIVE",
            "a raw WriteSection"
        );
        // A duplicator: a summary, then a line per drive.
        s.drives
            .push(drive("BD DRIVE", 10, Some(WriteAction::Finalization)));
        let mut erasing = drive("CD-RW DRIVE", 40, None);
        erasing.job = Job::Erase;
        assert_eq!(
            drive_line(&erasing),
            "Erasing the disc in CD-RW DRIVE (40%)"
        );
        erasing.job = Job::Read;
        assert_eq!(
            drive_line(&erasing),
            "Reading which files the disc in CD-RW DRIVE holds"
        );
        let menu = labels(&entries(&s));
        assert!(menu[0].ends_with("Burning on 2 drives"), "{menu:?}");
        assert_eq!(menu[1], "Writing 80% to DVD-RW DRIVE");
        assert_eq!(menu[2], "Closing the disc in BD DRIVE");
        assert_eq!(
            tooltip(&s).1,
            "Writing 80% to DVD-RW DRIVE\nClosing the disc in BD DRIVE"
        );
    }

    #[test]
    fn a_pairing_request_asks_for_attention_with_approve_and_refuse() {
        let s = Snapshot {
            pending: vec![PendingLine {
                code: "K7P2-9XQ4".into(),
                origin: "https://burn.example".into(),
            }],
            ..Snapshot::default()
        };
        assert!(needs_attention(&s));
        let menu = entries(&s);
        let Entry::Submenu(label, choices) = &menu[2] else {
            panic!("{menu:?}")
        };
        assert_eq!(label, "https://burn.example asks to burn (code K7P2-9XQ4)");
        assert_eq!(
            choices,
            &[
                Entry::Item(
                    "Approve https://burn.example".into(),
                    Action::Approve("K7P2-9XQ4".into())
                ),
                Entry::Item(
                    "Refuse https://burn.example".into(),
                    Action::Deny("K7P2-9XQ4".into())
                ),
            ]
        );
        assert!(tooltip(&s).1.contains("https://burn.example asks"));
    }

    fn device_request(large: bool) -> DeviceRequest {
        DeviceRequest {
            code: "M4QZ7R".into(),
            act: webburn_shared::protocol::ConsentAct::Write,
            origin: "https://site.example".into(),
            recorder_id: "sg:/dev/sg1".into(),
            device: "SanDisk Ultra 32 GB (sdb)".into(),
            size_bytes: 32_000_000_000,
            large,
            age_seconds: 3,
        }
    }

    #[test]
    fn a_request_to_erase_or_read_a_disc_says_so() {
        use webburn_shared::protocol::ConsentAct;
        let mut erase = device_request(false);
        erase.act = ConsentAct::Erase;
        erase.device = "the CD-RW in HL-DT-ST DVDRAM".into();
        let mut read = erase.clone();
        read.act = ConsentAct::Read;
        read.code = "K2PX9A".into();
        let s = Snapshot {
            devices: vec![erase, read],
            ..Snapshot::default()
        };
        assert!(tooltip(&s).1.contains(
            "https://site.example wants to read which files the CD-RW in HL-DT-ST DVDRAM holds"
        ));
        let menu = entries(&s);
        let (Entry::Submenu(erase_label, erase_choices), Entry::Submenu(_, read_choices)) =
            (&menu[2], &menu[3])
        else {
            panic!("{menu:?}")
        };
        assert_eq!(
            erase_label,
            "https://site.example wants to erase the CD-RW in HL-DT-ST DVDRAM (code M4QZ7R)"
        );
        assert!(
            matches!(&erase_choices[0], Entry::Item(l, _) if l == "Allow https://site.example (everything on it will be erased)")
        );
        assert!(matches!(&read_choices[0], Entry::Item(l, _) if l == "Allow https://site.example"));
    }

    #[test]
    fn a_device_request_names_site_and_disk_and_a_large_one_asks_twice() {
        let mut s = Snapshot {
            devices: vec![device_request(false)],
            ..Snapshot::default()
        };
        assert!(needs_attention(&s));
        assert!(
            tooltip(&s)
                .1
                .contains("https://site.example wants to write to SanDisk Ultra 32 GB (sdb)")
        );
        let menu = entries(&s);
        let Entry::Submenu(label, choices) = &menu[2] else {
            panic!("{menu:?}")
        };
        assert_eq!(
            label,
            "https://site.example wants to write to SanDisk Ultra 32 GB (sdb) (code M4QZ7R)"
        );
        let allow = Action::AllowDevice {
            code: "M4QZ7R".into(),
            confirm_large: false,
        };
        assert!(
            matches!(&choices[0], Entry::Item(_, a) if *a == allow),
            "{choices:?}"
        );
        assert_eq!(
            choices[1],
            Entry::Item(
                "Refuse https://site.example".into(),
                Action::RefuseDevice("M4QZ7R".into())
            )
        );
        s.devices[0].large = true;
        let menu = entries(&s);
        let Entry::Submenu(_, choices) = &menu[2] else {
            panic!("{menu:?}")
        };
        let Entry::Submenu(_, confirm) = &choices[0] else {
            panic!("a large disk's Allow is a second step: {choices:?}")
        };
        assert_eq!(
            confirm[0],
            Entry::Item(
                "Yes, erase everything on SanDisk Ultra 32 GB (sdb)".into(),
                Action::AllowDevice {
                    code: "M4QZ7R".into(),
                    confirm_large: true
                }
            )
        );
    }

    #[test]
    fn device_decisions_reach_the_registry() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        let spec = format!(
            "emulated:{},profile=disk,capacity=1MiB,ask",
            dir.path().join("stick.img").display()
        );
        let reg = Registry::open(&[spec], None).unwrap();
        let id = reg.list(1, None)[0].id.clone();
        let code = reg.request_device(&id, "https://site.example").unwrap();
        let allow = Action::AllowDevice {
            code,
            confirm_large: false,
        };
        assert_eq!(
            decide(&store, &reg, &allow).unwrap().unwrap(),
            "https://site.example"
        );
        let listed = reg.list(2, Some("https://site.example"));
        assert_eq!(
            listed[0].approval,
            Some(webburn_shared::protocol::Approval::Approved)
        );
        let again = decide(&store, &reg, &Action::RefuseDevice("NOPE".into())).unwrap();
        assert!(
            matches!(
                again,
                Err(DecisionError::Device(
                    crate::state::consents::ApprovalError::NoSuchCode(ref c)
                )) if c == "NOPE"
            ),
            "{again:?}"
        );
    }

    #[test]
    fn a_kiosk_opens_its_own_page() {
        let s = Snapshot {
            kiosk: true,
            ..Snapshot::default()
        };
        assert!(labels(&entries(&s)).contains(&"Open the kiosk page".to_owned()));
    }

    #[test]
    fn pairing_decisions_reach_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        let reg = Registry::open(&[], None).unwrap();
        let (a, _) = store.request("https://a.example").unwrap();
        let (b, _) = store.request("https://b.example").unwrap();
        let approved = decide(&store, &reg, &Action::Approve(a.code.clone())).unwrap();
        assert_eq!(approved.unwrap(), "https://a.example");
        let refused = decide(&store, &reg, &Action::Deny(b.code.clone())).unwrap();
        assert_eq!(refused.unwrap(), "https://b.example");
        let (pending, paired) = store.list().unwrap();
        assert!(pending.iter().all(|p| !p.is_waiting()), "{pending:?}");
        assert!(paired.iter().any(|p| p.origin == "https://a.example"));
        assert!(!paired.iter().any(|p| p.origin == "https://b.example"));
        assert!(
            decide(&store, &reg, &Action::Approve("NOPE".into()))
                .unwrap()
                .is_err()
        );
        assert!(decide(&store, &reg, &Action::Quit).is_none());
    }

    #[test]
    fn the_page_opens_with_each_platforms_opener() {
        let url = "http://127.0.0.1:47801/";
        assert_eq!(
            open_command("linux", url),
            ("xdg-open".into(), vec![url.into()])
        );
        assert_eq!(
            open_command("macos", url),
            ("open".into(), vec![url.into()])
        );
        let (cmd, args) = open_command("windows", url);
        assert_eq!(
            (cmd.as_str(), args.as_slice()),
            (
                "cmd",
                &["/C".to_owned(), "start".into(), String::new(), url.into()][..]
            )
        );
    }
}
