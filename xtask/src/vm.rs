//! `cargo xtask vm`: the helper's real device paths in a QEMU guest.
//!
//! The guest is a Debian kernel with a busybox initramfs and the helper built
//! static. It burns generated data (a) through SG_IO to a scsi-hd on
//! virtio-scsi, (b) through USB Bulk-Only (libusb) to a usb-storage device on
//! qemu-xhci with the kernel's driver detached, and (c) serves the WebSocket
//! protocol, forwarded to the host's 127.0.0.1, to which a client on the host
//! burns. After QEMU exits the host compares each backing image with its
//! source byte for byte, and checks nothing was written past it.

pub(crate) mod bench;
mod cpio;
mod kernel;
mod qemu;
mod tgt;
mod wine;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run, tools};

/// The Rust target of the static helper.
const TARGET: &str = "x86_64-unknown-linux-gnu";
/// Bytes burned on each path.
const DATA_BYTES: usize = 8 << 20;
/// Size of each backing image (the data is followed by zeroes that must stay).
const IMAGE_BYTES: u64 = 32 << 20;
/// The relay's port in the guest (the helper itself listens on loopback).
const GUEST_RELAY_PORT: u16 = 47900;

/// Deterministic test data (xorshift64), different for each seed.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Builds webburn-helper statically linked (it runs on the guest's bare busybox).
fn static_helper() -> Result<PathBuf> {
    let release = crate::release_helper(Some(TARGET), Some("-C target-feature=+crt-static"))?;
    Ok(release.join("webburn-helper"))
}

/// The initramfs: busybox, the modules in load order, the helper, the data
/// files and the init script, with `env` as /vm.env.
fn initramfs(
    kernel: &kernel::Kernel,
    helper: &Path,
    data: &[(&str, &[u8])],
    env: &str,
    programs: &[&str],
) -> Result<Vec<u8>> {
    let modules_dep = std::fs::read_to_string(kernel.modules.join("modules.dep"))?;
    let order = kernel::load_order(&modules_dep, kernel::GUEST_MODULES)?;
    let mut a = cpio::Archive::default();
    for d in [
        "bin", "dev", "proc", "sys", "tmp", "root", "data", "modules",
    ] {
        a.dir(d);
    }
    a.char_device("dev/console", 5, 1);
    a.file("bin/busybox", 0o755, &std::fs::read("/bin/busybox")?);
    a.file("init", 0o755, include_bytes!("vm/init.sh"));
    a.file("vm.env", 0o644, env.as_bytes());
    a.file("webburn-helper", 0o755, &std::fs::read(helper)?);
    let mut names = String::new();
    for m in &order {
        let name = m.rsplit('/').next().unwrap_or(m);
        a.file(
            &format!("modules/{name}"),
            0o644,
            &std::fs::read(kernel.modules.join(m))?,
        );
        names.push_str(name);
        names.push('\n');
    }
    a.file("modules/order", 0o644, names.as_bytes());
    add_programs(&mut a, programs)?;
    let mut dirs = std::collections::BTreeSet::new();
    for (name, bytes) in data {
        let path = format!("data/{name}");
        for (i, _) in path.match_indices('/').skip(1) {
            if dirs.insert(path[..i].to_owned()) {
                a.dir(&path[..i]);
            }
        }
        a.file(&path, 0o644, bytes);
    }
    Ok(a.finish())
}

/// Host programs for the guest's /bin, with the shared libraries `ldd` names.
fn add_programs(a: &mut cpio::Archive, programs: &[&str]) -> Result<()> {
    if programs.is_empty() {
        return Ok(());
    }
    for d in ["lib", "lib/x86_64-linux-gnu", "lib64"] {
        a.dir(d);
    }
    let mut libs = std::collections::BTreeSet::new();
    for program in programs {
        let path = Path::new(program);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(program);
        a.file(&format!("bin/{name}"), 0o755, &std::fs::read(path)?);
        let out = std::process::Command::new("ldd").arg(path).output()?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "libx.so => /lib/x86_64-linux-gnu/libx.so (0x...)" or "/lib64/ld-linux... (0x...)"
            if let Some(lib) = line
                .split_whitespace()
                .find(|w| w.starts_with('/'))
                .map(str::to_owned)
            {
                libs.insert(lib);
            }
        }
    }
    for lib in libs {
        let real = std::fs::canonicalize(&lib)?;
        let dest = lib.trim_start_matches('/').replace("usr/lib/", "lib/");
        a.file(&dest, 0o755, &std::fs::read(real)?);
    }
    Ok(())
}

/// A free port on the host's loopback.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn blank_image(path: &Path, bytes: u64) -> Result<()> {
    let f = std::fs::File::create(path)?;
    f.set_len(bytes)?;
    Ok(())
}

/// Checks that `image` starts with `data` and holds only zeroes after it.
fn compare(what: &str, image: &Path, data: &[u8]) -> Result<()> {
    let bytes = std::fs::read(image).with_context(|| format!("{}", image.display()))?;
    if bytes.len() < data.len() {
        bail!("{what}: the image is shorter than the data");
    }
    if let Some(i) = bytes.iter().zip(data).position(|(a, b)| a != b) {
        bail!(
            "{what}: {} differs from the source at byte {i}",
            image.display()
        );
    }
    if let Some(i) = bytes[data.len()..].iter().position(|&b| b != 0) {
        bail!(
            "{what}: {} has data past the burn, at byte {}",
            image.display(),
            data.len() + i
        );
    }
    println!(
        "vm: {what}: {} bytes identical to the source, the {} bytes after them untouched",
        data.len(),
        bytes.len() - data.len()
    );
    Ok(())
}

/// `result NAME {json}` lines of the guest must say S_OK.
fn check_result(said: &[String], name: &str) -> Result<()> {
    let prefix = format!("result {name} ");
    let line = said
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .with_context(|| format!("the guest reported no {name} result"))?;
    if !line.contains("\"name\":\"S_OK\"") {
        bail!("the {name} burn in the guest failed: {line}");
    }
    Ok(())
}

/// The guest's burn to a disk holding a mounted FAT file system was refused
/// with E_IMAPI_RECORDER_LOCKED, naming the mount point.
fn check_refused_while_mounted(said: &[String], name: &str) -> Result<()> {
    let prefix = format!("mounted {name} ");
    let line = said
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .with_context(|| format!("the guest reported no burn to the mounted {name} disk"))?;
    if !(line.contains("E_IMAPI_RECORDER_LOCKED") && line.contains("/mnt/busy")) {
        bail!("the burn to the mounted {name} disk was not refused naming /mnt/busy: {line}");
    }
    println!("vm: {name}: a disk with a mounted file system is refused: {line}");
    Ok(())
}

/// The folder the guest burns as files onto the DVD+R: (path below the
/// folder, bytes).
fn disc_tree() -> Vec<(String, Vec<u8>)> {
    vec![
        ("photos/beach.jpg".into(), pattern(300_000, 11)),
        ("photos/2024/dune.jpg".into(), pattern(70_001, 12)),
        (
            "notes/readme.txt".into(),
            b"burned as files by webburn\n".to_vec(),
        ),
        ("empty.txt".into(), Vec::new()),
        ("Scans 2024/caf\u{e9} menu.pdf".into(), pattern(5000, 13)),
    ]
}

/// The files the guest adds to an emulated DVD+R, one session each: (the
/// session's folder, path below it, bytes).
fn session_files() -> Vec<(&'static str, String, Vec<u8>)> {
    vec![
        ("first", "scans/january.pdf".into(), pattern(40_000, 21)),
        ("second", "scans/february.pdf".into(), pattern(50_001, 22)),
        (
            "second",
            "notes/todo.txt".into(),
            b"file the taxes\n".to_vec(),
        ),
        ("third", "scans/march.pdf".into(), pattern(60_002, 23)),
    ]
}

/// The folders the guest burns as files, below /data: the tree for the
/// DVD+R in `tree/`, each session's files in `sessions/<session>/`.
fn guest_folders<'a>(
    tree: &'a [(String, Vec<u8>)],
    sessions: &'a [(&str, String, Vec<u8>)],
) -> Vec<(String, &'a [u8])> {
    let tree = tree
        .iter()
        .map(|(p, d)| (format!("tree/{p}"), d.as_slice()));
    let sessions = sessions
        .iter()
        .map(|(part, p, d)| (format!("sessions/{part}/{p}"), d.as_slice()));
    tree.chain(sessions).collect()
}

/// Each of the guest's three burns to the disc left open verified, and its
/// kernel mounted the last session (iso9660, `sbsector`) with every file of
/// every session there, each SHA-256 the host's.
fn check_sessions(said: &[String], files: &[(&str, String, Vec<u8>)]) -> Result<()> {
    use sha2::Digest as _;
    for part in ["first", "second", "third"] {
        let line = said
            .iter()
            .find_map(|l| l.strip_prefix(&format!("session {part} ")))
            .with_context(|| format!("the guest reported no {part} session"))?;
        let summary: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("not a JSON summary: {line}"))?;
        if summary["disc"]["verified"] != true {
            bail!("the {part} session did not verify: {line}");
        }
    }
    let starts = said
        .iter()
        .find_map(|l| l.strip_prefix("sessions at "))
        .context("the guest reported no session addresses")?;
    for (_, path, data) in files {
        let want = format!(
            "sessions iso9660 {:x}  ./{path}",
            sha2::Sha256::digest(data)
        );
        if !said.contains(&want) {
            bail!("the guest's mount of the last session has no {path} with the host's SHA-256");
        }
    }
    let count = said
        .iter()
        .filter(|l| l.starts_with("sessions iso9660 "))
        .count();
    if count != files.len() {
        bail!("the last session shows {count} files, not {}", files.len());
    }
    println!(
        "vm: three sessions at sectors {}; the guest kernel mounted the last (sbsector) with all {count} files, every SHA-256 equal",
        starts.trim()
    );
    Ok(())
}

/// The guest's `burn --files --disc` of the DVD+R verified what it wrote,
/// its kernel mounted the disc as iso9660 and as udf with every file's
/// SHA-256 the host's, and a second burn was refused: the disc is closed
/// (tgt reports a closed DVD+R as a DVD-ROM, which is refused as read-only).
fn check_disc_flow(said: &[String], tree: &[(String, Vec<u8>)]) -> Result<()> {
    use sha2::Digest as _;
    let line = said
        .iter()
        .find_map(|l| l.strip_prefix("result optical "))
        .context("the guest reported no optical result")?;
    let summary: serde_json::Value =
        serde_json::from_str(line).with_context(|| format!("not a JSON summary: {line}"))?;
    let disc = &summary["disc"];
    if disc["verified"] != true || disc["sha256"].as_str().map(str::len) != Some(64) {
        bail!("the DVD+R burn of the folder did not verify: {line}");
    }
    println!(
        "vm: optical --files --disc verified, SHA-256 {}, ejected: {}",
        disc["sha256"], disc["ejected"]
    );
    for fs in ["iso9660", "udf"] {
        for (path, data) in tree {
            let want = format!("disc {fs} {:x}  ./{path}", sha2::Sha256::digest(data));
            if !said.contains(&want) {
                bail!("the guest's {fs} mount of the disc has no {path} with the host's SHA-256");
            }
        }
        let count = said
            .iter()
            .filter(|l| l.starts_with(&format!("disc {fs} ")))
            .count();
        if count != tree.len() {
            bail!(
                "the guest's {fs} mount shows {count} files, not {}",
                tree.len()
            );
        }
        println!(
            "vm: the guest kernel mounted the disc as {fs}: {} files, every SHA-256 equal",
            tree.len()
        );
    }
    let again = said
        .iter()
        .find_map(|l| l.strip_prefix("optical again "))
        .context("the guest reported no second optical burn")?;
    if ![
        "E_IMAPI_DF2DATA_MEDIA_NOT_BLANK",
        "E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED",
    ]
    .iter()
    .any(|name| again.contains(name))
    {
        bail!("a second burn to the closed DVD+R was not refused: {again}");
    }
    Ok(())
}

/// The host's WebSocket client burns `file` (decoded first when
/// compressed) through hostfwd to the guest helper's `index`th recorder, and
/// the discovered optical drive must be on the list it gets; with
/// `approval`, a page of another origin is first refused the discovered
/// stick, asks for it, and the client allows it as the helper's own page.
/// Returns what it printed.
fn host_client(
    port: u16,
    own_key: &str,
    file: &Path,
    index: usize,
    approval: bool,
) -> Result<String> {
    let mut client = cargo();
    client
        .env("WEBBURN_OWN_KEY", own_key)
        .args([
            "run",
            "-q",
            "-p",
            "webburn-tests",
            "--example",
            "vm_client",
            "--",
        ])
        .arg(port.to_string())
        .arg(file)
        .arg(index.to_string());
    if approval {
        client.arg("approval");
    }
    eprintln!("xtask: the host's WebSocket client burns through hostfwd");
    let out = client.output().context("cannot run the host's client")?;
    let printed = String::from_utf8_lossy(&out.stdout);
    for line in printed.lines() {
        println!("vm: {line}");
    }
    if !out.status.success() {
        bail!(
            "the WebSocket burn failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // The optical drive was not configured: the server found it by itself
    // (closed by the CLI burn, it now holds a DVD-ROM: profile 10h).
    if !printed.lines().any(|l| {
        l.starts_with("listed: sg:") && l.contains("kind=sg") && l.contains("VIRTUAL-CDROM")
    }) {
        bail!("the protocol's recorder list does not offer the discovered optical drive");
    }
    Ok(printed.into_owned())
}

/// The own-page key the guest's helper printed last (`own key KEY`).
fn own_key(said: &[String]) -> Result<String> {
    said.iter()
        .rev()
        .find_map(|l| l.strip_prefix("own key "))
        .map(str::to_owned)
        .context("the guest's helper said no own-page key")
}

/// A disk image of `len` bytes: an MBR whose one Linux partition starts at
/// sector 2048, then pattern data, as a downloaded image starts.
fn disk_image(len: usize, seed: u64) -> Vec<u8> {
    let mut img = pattern(len, seed);
    let sectors = (len / 512) as u32;
    img[..512].fill(0);
    img[446 + 4] = 0x83;
    img[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    img[446 + 12..446 + 16].copy_from_slice(&(sectors - 2048).to_le_bytes());
    img[510] = 0x55;
    img[511] = 0xAA;
    img
}

/// `data` packed by `tool` (`xz` or `bzip2`) into `path`.
fn pack(tool: &str, data: &[u8], path: &Path) -> Result<()> {
    let raw = path.with_extension("raw");
    std::fs::write(&raw, data)?;
    let out = std::process::Command::new(tool)
        .args(["-c", "-3"])
        .arg(&raw)
        .output()
        .with_context(|| format!("cannot run {tool}"))?;
    if !out.status.success() {
        bail!("{tool}: {}", String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(path, out.stdout)?;
    Ok(())
}

/// The guest read the stick through the kernel's driver after the CLI's
/// Bulk-Only burn: `usb sha256 HEX after N nonzero`.
fn check_usb_read_back(said: &[String], data: &[u8]) -> Result<()> {
    use sha2::Digest as _;
    let want = format!(
        "usb sha256 {:x} after 0 nonzero",
        sha2::Sha256::digest(data)
    );
    if !said.iter().any(|l| l.trim() == want) {
        bail!("the stick read back in the guest is not the Bulk-Only burn's data (want {want:?})");
    }
    println!(
        "vm: USB Bulk-Only: the stick read back through the kernel's driver equals the data, zeros after it"
    );
    Ok(())
}

/// The guest's `recorders` lists the usb-storage stick among the removable
/// disks (on the USB bus, with its size), and neither scsi-hd.
fn check_removable(said: &[String]) -> Result<()> {
    let line = said
        .iter()
        .find_map(|l| l.strip_prefix("removable: "))
        .context("the guest did not list removable disks")?;
    let stick = line.contains("QEMU HARDDISK") && line.contains(" usb ");
    if !stick || line.contains("WB-SG") || line.contains("WB-WS") {
        bail!("the removable disks listed are not the stick alone: {line}");
    }
    println!("vm: discovery: {line}");
    Ok(())
}

/// The guest's helper offered the usb-storage stick it found (not
/// configured) to pages only with approval: the client's `approval:` line
/// names it with its block device.
fn check_approval(printed: &str) -> Result<()> {
    let line = printed
        .lines()
        .find(|l| l.starts_with("approval: "))
        .context("no approval flow ran")?;
    if !(line.contains("QEMU HARDDISK") && line.contains("(sd") && line.contains("E_ACCESSDENIED"))
    {
        bail!("the found stick's approval went otherwise: {line}");
    }
    println!("vm: {line}");
    Ok(())
}

/// The guest's last burn powered the stick off: the helper said so and the
/// USB device left the bus.
fn check_power_off(said: &[String]) -> Result<()> {
    let burn = said
        .iter()
        .find_map(|l| l.strip_prefix("power-off "))
        .context("the guest did not power the stick off")?;
    if !burn.contains("\"poweredOff\":true") {
        bail!("the helper did not power the stick off: {burn}");
    }
    let after = said
        .iter()
        .find_map(|l| l.strip_prefix("usb after power-off: "))
        .context("the guest did not look for the stick after powering it off")?;
    if after.starts_with("usb:") {
        bail!("the stick is still on the bus after it was powered off: {after}");
    }
    println!(
        "vm: USB: powered off when done, the stick left the bus (block devices now: {})",
        after.trim()
    );
    Ok(())
}

/// `partitions NAME sdX sdX1` lines of the guest: the flashed image's
/// partition is known to the kernel.
fn check_partitions(said: &[String], name: &str) -> Result<()> {
    let prefix = format!("partitions {name} ");
    let line = said
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .with_context(|| format!("the guest reported no partitions of {name}"))?;
    if !line.split_whitespace().any(|p| p.ends_with('1')) {
        bail!("no partition of the image flashed to {name} appeared: {line}");
    }
    println!("vm: {name}: the kernel sees the flashed image's partition ({line})");
    Ok(())
}

/// What every boot needs: the tools, the kernel, the static helper, and an
/// empty work directory target/vm/`name`.
struct Prepared {
    kernel: kernel::Kernel,
    helper: PathBuf,
    work: PathBuf,
}

fn prepare(name: &str) -> Result<Prepared> {
    tools::vm_packages()?;
    tools::image_readers()?;
    let vm_dir = root().join("target/vm");
    let kernel = kernel::fetch(&vm_dir.join("kernel"))?;
    let helper = static_helper()?;
    let work = vm_dir.join(name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    Ok(Prepared {
        kernel,
        helper,
        work,
    })
}

impl Prepared {
    /// The guest's machine in the work directory, its three images blank.
    fn machine(
        &self,
        optical: Option<(String, String)>,
        image_bytes: u64,
    ) -> Result<qemu::Machine> {
        let work = &self.work;
        let machine = qemu::Machine {
            kernel: self.kernel.image.clone(),
            initrd: work.join("initramfs.cpio"),
            sg_image: work.join("sg.img"),
            ws_image: work.join("ws.img"),
            usb_image: work.join("usb.img"),
            optical,
            host_port: free_port()?,
            guest_port: GUEST_RELAY_PORT,
            console_log: work.join("console.log"),
            shares: Vec::new(),
        };
        for image in [&machine.sg_image, &machine.ws_image, &machine.usb_image] {
            blank_image(image, image_bytes)?;
        }
        Ok(machine)
    }
}

/// The DVD+R's backing file, read on the host by xorriso: the folder's files.
fn read_back_disc(image: &Path, tree: &[(String, Vec<u8>)], work: &Path) -> Result<()> {
    let out = work.join("disc-extracted");
    let _ = std::fs::remove_dir_all(&out);
    let mut x = std::process::Command::new("xorriso");
    x.args(["-osirrox", "on", "-indev"])
        .arg(image)
        .args(["-extract", "/"])
        .arg(&out);
    run(x, "xorriso -extract (the burned DVD+R, on the host)")?;
    for (path, data) in tree {
        let got =
            std::fs::read(out.join(path)).with_context(|| format!("{path} is not on the disc"))?;
        if got != *data {
            bail!("{path} on the disc differs from the host's");
        }
    }
    println!(
        "vm: optical (tgt's DVD+R over iSCSI): xorriso on the host finds the {} files equal",
        tree.len()
    );
    Ok(())
}

/// Runs only the VM tier's Windows run.
pub(crate) fn run_windows_vm() -> Result<()> {
    wine::run_windows_helper()
}

/// Runs the VM tier.
pub(crate) fn run_vm() -> Result<()> {
    let started = Instant::now();
    let prepared = prepare("run")?;
    let Prepared {
        kernel,
        helper,
        work,
    } = &prepared;

    let sg_data = pattern(DATA_BYTES, 1);
    let usb_data = pattern(DATA_BYTES, 2);
    // Flashed through the protocol: an xz image (its size in the index) to
    // the scsi-hd over SG_IO, a bzip2 image (size known at its end) to the
    // stick over Bulk-Only; the host client decodes them as the page does.
    let ws_data = disk_image(DATA_BYTES, 3);
    let flash_data = disk_image(DATA_BYTES + (1 << 20), 4);
    let tree = disc_tree();
    let optical_image = work.join("optical.img");
    let target = tgt::Target::start(free_port()?, &optical_image, &work.join("tgtd.log"))?;
    tools::compressors()?;
    let ws_file = work.join("ws.img.xz");
    pack("xz", &ws_data, &ws_file)?;
    let flash_file = work.join("flash.img.bz2");
    pack("bzip2", &flash_data, &flash_file)?;
    let machine = prepared.machine(
        Some((target.portal.clone(), tgt::IQN.to_owned())),
        IMAGE_BYTES,
    )?;
    let env = format!(
        "PORT={}\nRELAY={}\nOPTICAL=1\nUSB_BYTES={DATA_BYTES}\n",
        machine.host_port, machine.guest_port
    );
    let sessions = session_files();
    let folders = guest_folders(&tree, &sessions);
    let mut data: Vec<(&str, &[u8])> = vec![
        ("sg.bin", &sg_data),
        ("usb.bin", &usb_data),
        ("flash.bin", &flash_data),
    ];
    data.extend(folders.iter().map(|(p, d)| (p.as_str(), *d)));
    let archive = initramfs(kernel, helper, &data, &env, &[])?;
    std::fs::write(&machine.initrd, archive)?;

    eprintln!(
        "xtask: booting the guest (console in {})",
        machine.console_log.display()
    );
    let mut vm = machine.start()?;
    let said = vm.read_until("ready", Duration::from_secs(240))?;
    check_removable(&said)?;
    check_refused_while_mounted(&said, "sg")?;
    check_refused_while_mounted(&said, "usb")?;
    check_result(&said, "sg")?;
    check_result(&said, "usb")?;
    check_result(&said, "optical")?;
    check_disc_flow(&said, &tree)?;
    check_sessions(&said, &sessions)?;
    if !said
        .iter()
        .any(|l| l.starts_with("optical after close:") && l.contains("Complete"))
    {
        bail!("the DVD+R is not complete after CLOSE TRACK/SESSION");
    }
    check_usb_read_back(&said, &usb_data)?;
    let ws = host_client(machine.host_port, &own_key(&said)?, &ws_file, 0, true)?;
    check_approval(&ws)?;
    if !ws.contains("size declared") || !ws.contains("partitions [\"sd") {
        bail!(
            "the xz image's size was not declared, or the helper found no partition after flashing it"
        );
    }
    // The helper again, now with the stick configured for Bulk-Only.
    vm.tell("next")?;
    let again = vm.read_until("ready again", Duration::from_secs(60))?;
    let flash = host_client(machine.host_port, &own_key(&again)?, &flash_file, 1, false)?;
    if !flash.contains("open-ended") {
        bail!("the bzip2 image was not flashed open-ended");
    }
    vm.tell("done")?;
    let after = vm.read_until("poweroff", Duration::from_secs(60))?;
    check_partitions(&after, "ws")?;
    check_partitions(&after, "usb")?;
    check_power_off(&after)?;
    vm.wait(Duration::from_secs(30))?;
    drop(target);

    compare(
        "SG_IO (scsi-hd on virtio-scsi)",
        &machine.sg_image,
        &sg_data,
    )?;
    compare(
        "an xz image flashed end to end (host client decodes -> guest helper -> SG_IO -> scsi-hd)",
        &machine.ws_image,
        &ws_data,
    )?;
    compare(
        "a bzip2 image flashed open-ended (host client decodes -> guest helper -> USB Bulk-Only -> usb-storage)",
        &machine.usb_image,
        &flash_data,
    )?;
    read_back_disc(&optical_image, &tree, work)?;
    wine::run_windows_helper()?;
    println!("vm: passed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
