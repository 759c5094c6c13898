//! Disk images and the compressed files people download them as, packed by
//! the real tools (xz, zstd, bzip2, gzip, zip).

use std::path::Path;
use std::process::Command;

use crate::pattern;

/// A disk image of `len` bytes (a multiple of 512): an MBR whose one Linux
/// partition starts at sector 2048 (or 1 for small images), then stretches
/// of pattern data between runs of zeros, as a real image has.
pub fn disk_image(len: usize, seed: u64) -> Vec<u8> {
    let mut img = pattern(len, seed);
    for (i, chunk) in img.chunks_mut(256 << 10).enumerate() {
        if i % 3 == 1 {
            chunk.fill(0);
        }
    }
    let sectors = (len / 512) as u32;
    let start: u32 = if sectors > 4096 { 2048 } else { 1 };
    img[..512].fill(0);
    let entry = &mut img[446..462];
    entry[4] = 0x83;
    entry[8..12].copy_from_slice(&start.to_le_bytes());
    entry[12..16].copy_from_slice(&(sectors - start).to_le_bytes());
    img[510] = 0x55;
    img[511] = 0xAA;
    img
}

/// A benchmark image of `len` bytes: a third zeros (free space), a third
/// random (compressed files inside the image), a third letters (text and
/// code, which compress about two to one), in 1 MiB stretches.
pub fn bench_image(len: usize) -> Vec<u8> {
    let mut img = pattern(len, 2026);
    for (i, chunk) in img.chunks_mut(1 << 20).enumerate() {
        match i % 3 {
            0 => chunk.fill(0),
            1 => {}
            _ => chunk.iter_mut().for_each(|b| *b = b'a' + *b % 26),
        }
    }
    img
}

/// The compressor command for `format` (`xz`, `gzip`, `zstd`, `bzip2`):
/// each reads stdin and writes stdout.
fn compressor(format: &str) -> Option<Command> {
    let mut c = match format {
        "xz" => {
            // Several blocks, as xz -T writes them.
            let mut c = Command::new("xz");
            c.args(["-c", "-3", "--block-size=1MiB", "-T1"]);
            c
        }
        "gzip" => {
            let mut c = Command::new("gzip");
            c.args(["-c", "-6", "-n"]);
            c
        }
        // From a pipe zstd cannot declare the content size.
        "zstd-stream" => {
            let mut c = Command::new("zstd");
            c.args(["-c", "-q", "-3"]);
            c
        }
        "bzip2" => {
            let mut c = Command::new("bzip2");
            c.args(["-c", "-9"]);
            c
        }
        _ => return None,
    };
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    Some(c)
}

/// `data` packed as `format` (`xz`, `gzip`, `zstd`, `zstd-stream` (from a
/// pipe: no content size), `bzip2` or `zip`, the entry named `name`), or
/// `None` when the tool is missing.
pub fn pack(format: &str, data: &[u8], dir: &Path, name: &str) -> Option<Vec<u8>> {
    if format == "zstd" {
        // From a file, as `zstd image.img` makes downloads: the frame
        // declares the content size.
        let src = dir.join(name);
        std::fs::write(&src, data).ok()?;
        let out = Command::new("zstd")
            .args(["-q", "-3", "-c"])
            .arg(&src)
            .output()
            .ok()?;
        assert!(out.status.success(), "zstd failed");
        return Some(out.stdout);
    }
    if format == "zip" {
        let src = dir.join(name);
        std::fs::write(&src, data).ok()?;
        let out = dir.join(format!("{name}.zip"));
        let _ = std::fs::remove_file(&out);
        let status = Command::new("zip")
            .current_dir(dir)
            .args(["-q", "-6"])
            .arg(&out)
            .arg(name)
            .status()
            .ok()?;
        assert!(status.success(), "zip failed");
        return std::fs::read(&out).ok();
    }
    let mut child = compressor(format)?.spawn().ok()?;
    let mut stdin = child.stdin.take()?;
    let input = data.to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(&input)
    });
    let out = child.wait_with_output().ok()?;
    feeder.join().ok()?.ok()?;
    assert!(out.status.success(), "{format} failed");
    Some(out.stdout)
}
