//! A downloaded image as the page reads it: the format told by the first
//! bytes, the size where the container declares it (xz index, zip
//! directory, zstd frame header) and the decoders fed the whole file. None
//! panics; the output stays bounded by what the decoders may produce.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_unpack::{Format, Out, Unpacker, decoder, zip};

fuzz_target!(|file: &[u8]| {
    let len = file.len() as u64;
    let format = Format::detect(file);
    let _ = webburn_unpack::zstd_content_size(file);
    if let Ok(index) = webburn_unpack::xz_index_range(file, len) {
        if let (Ok(start), Ok(end)) = (usize::try_from(index.start), usize::try_from(index.end)) {
            if let Some(bytes) = file.get(start..end) {
                let _ = webburn_unpack::xz_size_from_index(bytes, index.start);
            }
        }
    }
    if let Ok(dir) = zip::central_directory(file, len) {
        if let Some(bytes) = file.get(dir.start as usize..(dir.end as usize).min(file.len())) {
            if let Ok(entry) = zip::single_entry(bytes) {
                let local = file.get(entry.local_offset as usize..).unwrap_or_default();
                let _ = zip::data_start(local, &entry);
            }
        }
    }
    for f in [format, Format::Xz, Format::Zstd, Format::Bzip2] {
        let Some(d) = decoder(f) else { continue };
        let mut u = Unpacker::new(d);
        u.push(file);
        u.end_input();
        let mut buf = vec![0u8; 1 << 16];
        // At most 64 MiB of output per decoder and input.
        for _ in 0..1024 {
            match u.next(&mut buf) {
                Ok(Out::Data(_)) => {}
                Ok(_) | Err(_) => break,
            }
        }
    }
});
