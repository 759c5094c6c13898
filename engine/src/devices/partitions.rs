//! After an image was written to a disk: the system is asked to read the
//! disk's partition table again, so the image's partitions appear without
//! unplugging the stick (Linux: BLKFLSBUF, then BLKRRPART on the block
//! device; both need CAP_SYS_ADMIN). A disk whose kernel driver was let go of
//! for USB Bulk-Only is read again by the kernel itself when the driver
//! comes back.

use super::in_use::SystemView;

/// `_IO(0x12, 95)`: re-read the partition table (linux/fs.h).
#[cfg(target_os = "linux")]
const BLKRRPART: u64 = 0x125F;
/// `_IO(0x12, 97)`: flush and drop the block device's cached blocks (linux/fs.h).
#[cfg(target_os = "linux")]
const BLKFLSBUF: u64 = 0x1261;

/// Asks the kernel to read `disk`'s partition table again; the partitions
/// it then knows.
#[cfg(target_os = "linux")]
pub fn reread(view: &SystemView, disk: &str) -> std::io::Result<Vec<String>> {
    use std::os::fd::AsRawFd;
    let dev = std::fs::File::open(std::path::Path::new("/dev").join(disk))?;
    for request in [BLKFLSBUF, BLKRRPART] {
        #[allow(unsafe_code)]
        // SAFETY: both requests take no argument (the third is ignored) and
        // `dev` is an open block device for the call's duration.
        let rc = unsafe { libc::ioctl(dev.as_raw_fd(), request as _, 0) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(view.partitions(disk))
}

/// Elsewhere the system reads the table when the device comes back.
#[cfg(not(target_os = "linux"))]
pub fn reread(_view: &SystemView, _disk: &str) -> std::io::Result<Vec<String>> {
    Ok(Vec::new())
}
