//! The bytes of a disc, as ImportFileSystem reads them when files are added
//! to it: any volume descriptors, folders, Rock Ridge and Joliet records.
//! The import ends (no loop), allocates within its limits and either
//! refuses the disc or returns items whose paths are within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webburn_fsimage::import_session;

const SECTOR: usize = 2048;

fuzz_target!(|disc: &[u8]| {
    let mut read = |lba: u32, count: u32| -> Result<Vec<u8>, String> {
        // The disc repeats: any sector a record names holds fuzzer bytes.
        if disc.is_empty() || count > 32 * 1024 {
            return Err("no such sectors".into());
        }
        let mut out = vec![0u8; count as usize * SECTOR];
        for (i, b) in out.iter_mut().enumerate() {
            let at = (lba as usize).wrapping_mul(SECTOR).wrapping_add(i);
            *b = disc[at % disc.len()];
        }
        Ok(out)
    };
    if let Ok(session) = import_session(&mut read, 0) {
        for item in &session.items {
            assert!(item.path.len() <= 4096);
            assert!(!item.path.is_empty());
        }
    }
});
