//! The guest kernel: Debian's current `linux-image-*-amd64`, resolved through
//! the `linux-image-amd64` metapackage (never pinned), fetched with
//! `apt-get download`, unpacked under target/vm/kernel, and the modules the
//! guest needs with everything they depend on, in load order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run;

/// The drivers the guest loads: virtio (PCI, SCSI, network), SCSI generic and
/// disk,
/// the xHCI controller and the kernel's usb-storage driver (which the helper
/// detaches from its device), FAT (a mounted disk the helper must refuse),
/// and the CD-ROM driver with ISO 9660 (Joliet: UTF-8 names) and UDF, to
/// mount a disc the helper burned; 9p over virtio, through which the Windows
/// run reaches the host's Wine; loop devices, to mount a session of a disc
/// image.
pub(super) const GUEST_MODULES: &[&str] = &[
    "kernel/drivers/virtio/virtio_pci.ko",
    "kernel/drivers/scsi/virtio_scsi.ko",
    "kernel/drivers/scsi/sg.ko",
    "kernel/drivers/scsi/sd_mod.ko",
    "kernel/drivers/net/virtio_net.ko",
    "kernel/drivers/usb/host/xhci-pci.ko",
    "kernel/drivers/usb/storage/usb-storage.ko",
    "kernel/fs/fat/fat.ko",
    "kernel/fs/fat/vfat.ko",
    "kernel/fs/nls/nls_cp437.ko",
    "kernel/fs/nls/nls_ascii.ko",
    "kernel/fs/nls/nls_utf8.ko",
    "kernel/drivers/scsi/sr_mod.ko",
    "kernel/fs/isofs/isofs.ko",
    "kernel/fs/udf/udf.ko",
    "kernel/drivers/block/loop.ko",
    "kernel/fs/9p/9p.ko",
    "kernel/net/9p/9pnet_virtio.ko",
];

/// An unpacked kernel package.
#[derive(Debug)]
pub(super) struct Kernel {
    /// `vmlinuz-*`.
    pub image: PathBuf,
    /// `lib/modules/VERSION`.
    pub modules: PathBuf,
}

/// The package `linux-image-amd64` depends on now, e.g. `linux-image-6.1.0-57-amd64`.
fn current_package() -> Result<String> {
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-amd64"])
        .output()
        .context("apt-cache depends linux-image-amd64")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let dep = l.trim().strip_prefix("Depends:")?.trim();
            dep.starts_with("linux-image-").then(|| dep.to_owned())
        })
        .context("apt-cache depends linux-image-amd64 names no linux-image package")
}

/// Downloads and unpacks the current kernel into `dir` (once per version).
pub(super) fn fetch(dir: &Path) -> Result<Kernel> {
    let package = current_package()?;
    let version = package
        .strip_prefix("linux-image-")
        .unwrap_or(&package)
        .to_owned();
    let unpacked = dir.join(&package);
    let image = unpacked.join(format!("boot/vmlinuz-{version}"));
    let modules = unpacked.join(format!("lib/modules/{version}"));
    if !modules.join("modules.dep").exists() {
        std::fs::create_dir_all(dir)?;
        let mut download = Command::new("apt-get");
        download.current_dir(dir).args(["download", &package]);
        run(download, &format!("apt-get download {package}"))?;
        let deb = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!("{package}_"))
                        && Path::new(n).extension().is_some_and(|e| e == "deb")
                })
            })
            .with_context(|| format!("apt-get download left no {package}_*.deb"))?;
        let mut unpack = Command::new("dpkg-deb");
        unpack.arg("-x").arg(&deb).arg(&unpacked);
        run(unpack, &format!("dpkg-deb -x {}", deb.display()))?;
        // The package carries no modules.dep (depmod makes it at install time).
        let mut depmod = Command::new("busybox");
        depmod.arg("depmod").arg("-b").arg(&unpacked).arg(&version);
        run(depmod, "busybox depmod (the guest kernel's modules.dep)")?;
        let _ = std::fs::remove_file(&deb);
    }
    if !image.exists() {
        bail!("{} is missing from {package}", image.display());
    }
    Ok(Kernel { image, modules })
}

/// Places `m` after its dependencies.
fn visit<'a>(
    m: &'a str,
    deps: &BTreeMap<&'a str, Vec<&'a str>>,
    placed: &mut BTreeSet<&'a str>,
    order: &mut Vec<String>,
    depth: usize,
) -> Result<()> {
    if placed.contains(m) {
        return Ok(());
    }
    if depth > 64 {
        bail!("module dependencies of {m} loop");
    }
    let ds = deps
        .get(m)
        .with_context(|| format!("modules.dep has no {m}"))?;
    for d in ds {
        visit(d, deps, placed, order, depth + 1)?;
    }
    placed.insert(m);
    order.push(m.to_owned());
    Ok(())
}

/// `wanted` and everything they depend on, dependencies first.
pub(super) fn load_order(modules_dep: &str, wanted: &[&str]) -> Result<Vec<String>> {
    let deps: BTreeMap<&str, Vec<&str>> = modules_dep
        .lines()
        .filter_map(|l| {
            let (module, deps) = l.split_once(':')?;
            Some((module.trim(), deps.split_whitespace().collect()))
        })
        .collect();
    let mut order = Vec::new();
    let mut placed = BTreeSet::new();
    for m in wanted {
        visit(m, &deps, &mut placed, &mut order, 0)?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::load_order;

    #[test]
    fn dependencies_come_first_and_once() {
        let dep = "k/a.ko: k/b.ko k/c.ko\nk/b.ko: k/c.ko\nk/c.ko:\nk/d.ko: k/c.ko\n";
        assert_eq!(
            load_order(dep, &["k/a.ko", "k/d.ko"]).unwrap(),
            ["k/c.ko", "k/b.ko", "k/a.ko", "k/d.ko"]
        );
        assert!(load_order(dep, &["k/x.ko"]).is_err());
    }
}
