//! Media at their real sizes for the tests, kept cheap: emulated images are
//! sparse files (the emulated drive stores zeros past an image's end by
//! lengthening it), sources that are islands of data in runs of zeros, and
//! reads of one range of an image instead of all of it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Emulated recorder options of media at their real capacities.
pub mod real {
    /// A "32 GB" SD card: 62,333,952 blocks of 512 bytes.
    pub const CARD_32GB: &str = ",profile=disk,block=512,capacity=31914983424";
    /// A "64 GB" SD card: 124,735,488 blocks of 512 bytes.
    pub const CARD_64GB: &str = ",profile=disk,block=512,capacity=63864569856";
    /// A "256 GB" card: 500,118,192 blocks of 512 bytes (past 2^28 LBAs).
    pub const CARD_256GB: &str = ",profile=disk,block=512,capacity=256060514304";
    /// A single-layer BD-R: 12,219,392 sectors (25.0 GB).
    pub const BD_R: &str = ",profile=bd-r";
    /// A dual-layer BD-R: 24,438,784 sectors (50.0 GB).
    pub const BD_R_DL: &str = ",profile=bd-r,capacity=50050629632";
    /// A DVD+R: 2,295,104 sectors (4.7 GB).
    pub const DVD_PLUS_R: &str = ",profile=dvd+r";
    /// A DVD-R: 2,295,104 sectors (4.7 GB).
    pub const DVD_MINUS_R: &str = ",profile=dvd-r";
    /// An 80-minute CD-R: 359,847 sectors (737 MB of data).
    pub const CD_R: &str = ",profile=cd-r";
}

/// `len` bytes of `seed`'s [`crate::pattern`] in islands: `island` bytes of
/// data at the start of every `period` bytes and in the last `island` bytes,
/// zeros between. Read it as a source of any size without holding it.
#[derive(Debug, Clone)]
pub struct Islands {
    len: u64,
    at: u64,
    island: u64,
    period: u64,
    data: Vec<u8>,
}

impl Islands {
    /// A source of `len` bytes with `island` bytes of data every `period`.
    pub fn new(len: u64, island: usize, period: u64, seed: u64) -> Islands {
        assert!(island as u64 <= period, "islands fit their period");
        Islands {
            len,
            at: 0,
            island: island as u64,
            period,
            data: crate::pattern(island, seed),
        }
    }

    /// The byte at `pos` and how many bytes from there are the same kind
    /// (data or zeros), and where the data starts in `self.data`.
    fn run_at(&self, pos: u64) -> (Option<usize>, u64) {
        let tail = self.len.saturating_sub(self.island);
        if pos >= tail {
            // The last island: the pattern from its start.
            return (Some((pos - tail) as usize), self.len - pos);
        }
        let within = pos % self.period;
        if within < self.island {
            let run = (self.island - within).min(tail - pos);
            (Some(within as usize), run)
        } else {
            let run = (self.period - within).min(tail - pos);
            (None, run)
        }
    }

    /// SHA-256 of the whole source, read afresh.
    pub fn sha256(&self) -> String {
        let mut fresh = self.clone();
        fresh.at = 0;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = fresh.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return format!("{:x}", h.finalize());
            }
            h.update(&buf[..n]);
        }
    }

    /// Writes this source as the file `path`: its islands written, the
    /// zeros between them left as holes.
    pub fn write_sparse(&self, path: &Path) {
        self.try_write_sparse(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    fn try_write_sparse(&self, path: &Path) -> io::Result<()> {
        use std::io::Write as _;
        let mut f = File::create(path)?;
        f.set_len(self.len)?;
        let mut pos = 0;
        while pos < self.len {
            let (data, run) = self.run_at(pos);
            if let Some(from) = data {
                f.seek(SeekFrom::Start(pos))?;
                f.write_all(&self.data[from..from + run as usize])?;
            }
            pos += run;
        }
        Ok(())
    }

    /// Checks that `path` holds this source at byte `offset`, reading only
    /// the islands and sampling the zeros between them.
    pub fn assert_written_at(&self, path: &Path, offset: u64) {
        let mut pos = 0;
        while pos < self.len {
            let (data, run) = self.run_at(pos);
            let take = run.min(1 << 20);
            let got = image_at(path, offset + pos, take as usize);
            match data {
                Some(from) => assert!(
                    got[..] == self.data[from..from + take as usize],
                    "{}: the data at byte {} differs",
                    path.display(),
                    offset + pos
                ),
                None => assert!(
                    got.iter().all(|&b| b == 0),
                    "{}: the zeros at byte {} are not zeros",
                    path.display(),
                    offset + pos
                ),
            }
            pos += run;
        }
    }
}

impl Read for Islands {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.len {
            return Ok(0);
        }
        let (data, run) = self.run_at(self.at);
        let n = (buf.len() as u64).min(run) as usize;
        match data {
            Some(from) => buf[..n].copy_from_slice(&self.data[from..from + n]),
            None => buf[..n].fill(0),
        }
        self.at += n as u64;
        Ok(n)
    }
}

/// A scratch folder for media images, removed when dropped: in memory
/// (`/dev/shm`) where there is one, since reading the holes of a sparse
/// file there costs no zero-filled pages, else the system's temp folder.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let made = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    };
    made.unwrap_or_else(|e| panic!("a scratch folder: {e}"))
}

/// `len` bytes of the image at byte `offset` (zeros past its end, as the
/// emulated drive reads them).
pub fn image_at(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut out = vec![0u8; len];
    f.seek(SeekFrom::Start(offset))
        .unwrap_or_else(|e| panic!("seek {}: {e}", path.display()));
    let mut filled = 0;
    while filled < len {
        match f.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => panic!("read {}: {e}", path.display()),
        }
    }
    out
}

/// The image file's length: how far anything was written (sequential discs:
/// what is recorded).
pub fn image_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Bytes of disk the file takes (its allocated blocks): a sparse image of
/// a big medium takes only what was written.
#[cfg(unix)]
pub fn allocated(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.blocks() * 512)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn islands_are_data_then_zeros_and_the_tail_is_data() {
        let mut s = Islands::new(10_000, 100, 1000, 3);
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 10_000);
        let pat = crate::pattern(100, 3);
        assert_eq!(&all[..100], &pat[..]);
        assert!(all[100..1000].iter().all(|&b| b == 0));
        assert_eq!(&all[1000..1100], &pat[..]);
        assert_eq!(&all[9900..], &pat[..]);
        assert!(all[9100..9900].iter().all(|&b| b == 0));
        assert_eq!(s.sha256(), format!("{:x}", Sha256::digest(&all)));
    }
}
