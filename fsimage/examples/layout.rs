//! Lays out an image of N files (100,000 by default) in 1,000 folders and
//! prints, as JSON, how long the layout took and the memory the tree and the
//! plan hold per file (VmRSS before and after, Linux). Used by `cargo xtask bench`.

use std::time::Instant;

use webburn_fsimage::{FileItem, FileSystemImage};

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: u64 = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let before = rss_bytes();
    let started = Instant::now();
    let mut image = FileSystemImage::new(1_796_068_468);
    for i in 0..files {
        let path = format!("folder {:04}/photo_{i:06} taken on holiday.jpg", i % 1000);
        image.root().add_file(
            &path,
            FileItem {
                size: 2_000_000 + i,
                mtime: 1_700_000_000,
                source: i,
            },
        )?;
    }
    let added = started.elapsed();
    let laid_out = Instant::now();
    let result = image.create_result_image()?;
    let layout = laid_out.elapsed();
    let after = rss_bytes();
    println!(
        "{{\"files\":{files},\"addSeconds\":{:.3},\"layoutSeconds\":{:.3},\"totalBlocks\":{},\"bytesPerFile\":{}}}",
        added.as_secs_f64(),
        layout.as_secs_f64(),
        result.total_blocks(),
        after.saturating_sub(before) / files.max(1)
    );
    Ok(())
}
