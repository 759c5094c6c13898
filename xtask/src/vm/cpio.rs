//! A "newc" cpio archive, the format the kernel unpacks as its initramfs.
//! Written here so that building the guest needs neither root (for the
//! console device node) nor a cpio tool.

use std::io::Write;

/// An archive being written.
#[derive(Debug, Default)]
pub(super) struct Archive {
    out: Vec<u8>,
    inode: u32,
}

const DIR: u32 = 0o040_000;
const FILE: u32 = 0o100_000;
const CHAR_DEVICE: u32 = 0o020_000;

impl Archive {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        self.inode += 1;
        let fields = [
            self.inode,
            mode,
            0,
            0,
            1,
            0,
            u32::try_from(data.len()).unwrap_or(u32::MAX),
            0,
            0,
            rdev.0,
            rdev.1,
            u32::try_from(name.len() + 1).unwrap_or(u32::MAX),
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            // Writing into a Vec cannot fail.
            let _ = write!(self.out, "{f:08X}");
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// A directory (parents must come first).
    pub(super) fn dir(&mut self, name: &str) {
        self.entry(name, DIR | 0o755, (0, 0), &[]);
    }

    /// A regular file with permission bits `perm`.
    pub(super) fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, FILE | perm, (0, 0), data);
    }

    /// A character device node.
    pub(super) fn char_device(&mut self, name: &str, major: u32, minor: u32) {
        self.entry(name, CHAR_DEVICE | 0o600, (major, minor), &[]);
    }

    /// The finished archive.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::Archive;

    #[test]
    fn newc_entries_on_literal_bytes() {
        let mut a = Archive::default();
        a.file("init", 0o755, b"hi");
        let bytes = a.finish();
        let header = "070701\
                      00000001000081ED000000000000000000000001\
                      0000000000000002000000000000000000000000\
                      000000000000000500000000";
        assert_eq!(&bytes[..110], header.as_bytes());
        // Name "init\0" ends at 115, padded to 116; then the data, padded to 120.
        assert_eq!(&bytes[110..120], b"init\0\0hi\0\0");
        assert_eq!(&bytes[120..126], b"070701");
        assert!(bytes.len().is_multiple_of(4));
    }
}
