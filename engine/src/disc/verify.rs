//! Verify: reads the section back with READ(10) and compares it with the
//! digests taken while it streamed to the drive.

use webburn_shared::{HResult, VerificationLevel};

use super::digest::{Digester, SectionDigest};
use crate::EngineError;
use crate::cancel::CancelToken;
use webburn_scsi::sense;
use webburn_scsi::transport::ScsiTransport;
use webburn_scsi::{self as scsi, ScsiError};

/// What to read back.
#[derive(Debug, Clone, Copy)]
pub struct ReadBack {
    /// First LBA of the section.
    pub start_lba: i32,
    /// Sectors in the section.
    pub sectors: u64,
    /// Largest READ in bytes.
    pub unit_bytes: usize,
    /// Full or quick.
    pub level: VerificationLevel,
}

fn mismatch(lba: i64, block_sectors: u64) -> EngineError {
    let detail = if block_sectors == 1 {
        format!("sector {lba} reads back different from what was written")
    } else {
        format!(
            "the block of sectors {lba}..={} reads back different from what was written",
            lba + block_sectors as i64 - 1
        )
    };
    EngineError::new(HResult::E_IMAPI_BURN_VERIFICATION_FAILED, detail).at_lba(lba)
}

fn read_failed(lba: i64, e: ScsiError) -> EngineError {
    match e {
        ScsiError::Sense(s) if s.key == sense::key::MEDIUM_ERROR => {
            let at = s.information.map_or(lba, i64::from);
            EngineError::new(
                HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
                format!("sector {at} cannot be read back: {s}"),
            )
            .with_sense(s)
            .at_lba(at)
        }
        ScsiError::Sense(s) => EngineError::new(
            e.hresult(),
            format!("READ at {lba} failed while verifying: {s}"),
        )
        .with_sense(s),
        other => EngineError::new(
            other.hresult(),
            format!("READ at {lba} failed while verifying: {other}"),
        ),
    }
}

/// The sector ranges `what.level` reads back: none, every sector, or the
/// first and the last digest block.
fn ranges(what: &ReadBack, expected: &SectionDigest) -> Vec<(u64, u64)> {
    let last_block = expected.blocks.len().saturating_sub(1) as u64;
    match what.level {
        VerificationLevel::None => Vec::new(),
        VerificationLevel::Full => vec![(0, what.sectors)],
        // The first and the last block.
        VerificationLevel::Quick => {
            let b = expected.block_sectors;
            let first = (0, b.min(what.sectors));
            let last = (last_block * b, what.sectors);
            if last_block == 0 {
                vec![first]
            } else {
                vec![first, last]
            }
        }
    }
}

/// Reads back the blocks `level` asks for and compares them with `expected`;
/// `on_progress` gets the sectors compared so far after each READ. Stops
/// with E_IMAPI_REQUEST_CANCELLED when `cancel` fires.
pub fn read_back(
    t: &mut dyn ScsiTransport,
    what: ReadBack,
    expected: &SectionDigest,
    cancel: &CancelToken,
    on_progress: &mut dyn FnMut(u64),
) -> Result<(), EngineError> {
    let bps = expected.bytes_per_sector;
    let unit_sectors = ((what.unit_bytes as u64 / bps).clamp(1, u64::from(u16::MAX))) as u16;
    let ranges = ranges(&what, expected);
    let mut buf = vec![0u8; usize::from(unit_sectors) * bps as usize];
    let mut compared = 0u64;
    for (from, to) in ranges {
        let first_block = from / expected.block_sectors;
        let mut digester = Digester::with_blocks(expected.block_sectors, bps);
        let mut checked = 0usize;
        let mut at = from;
        while at < to {
            if cancel.is_stopped() {
                return Err(EngineError::cancelled());
            }
            let n = (to - at).min(u64::from(unit_sectors)) as u16;
            let lba = i64::from(what.start_lba) + at as i64;
            let bytes = usize::from(n) * bps as usize;
            let lba32 = i32::try_from(lba).map_err(|_| {
                EngineError::new(
                    HResult::E_INVALIDARG,
                    format!("LBA {lba} does not fit READ(10)"),
                )
            })?;
            let got =
                scsi::read10(t, lba32, n, &mut buf[..bytes]).map_err(|e| read_failed(lba, e))?;
            if got < bytes {
                return Err(EngineError::new(
                    HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
                    format!("READ at {lba} returned {got} of {bytes} bytes"),
                )
                .at_lba(lba + (got as u64 / bps) as i64));
            }
            digester.update(&buf[..bytes]);
            at += u64::from(n);
            compared += u64::from(n);
            let done = digester.blocks_done();
            while checked < done {
                let index = first_block as usize + checked;
                if expected.blocks.get(index) != digester.block(checked) {
                    let bad =
                        i64::from(what.start_lba) + (index as u64 * expected.block_sectors) as i64;
                    return Err(mismatch(bad, expected.block_sectors));
                }
                checked += 1;
            }
            on_progress(compared);
        }
        let finished = digester.finish();
        if let Some(&tail) = finished.blocks.get(checked) {
            let index = first_block as usize + checked;
            if expected.blocks.get(index) != Some(&tail) {
                let bad =
                    i64::from(what.start_lba) + (index as u64 * expected.block_sectors) as i64;
                return Err(mismatch(bad, expected.block_sectors));
            }
        }
        if what.level == VerificationLevel::Full && finished.whole != expected.whole {
            return Err(EngineError::new(
                HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
                format!(
                    "the SHA-256 read back is {}, written {}",
                    finished.hex(),
                    expected.hex()
                ),
            ));
        }
    }
    Ok(())
}
