//! The DiscFormat2Data flow on top of WriteSection, as burners do it: check
//! the medium, set speed and write mode, write, SYNCHRONIZE CACHE, close the
//! track and the session, read back and compare, eject. Each step is named
//! by CurrentAction in the events (IDiscFormat2DataEventArgs).

pub mod busy;
mod checksum;
pub mod digest;
pub mod erase;
pub mod identity;
pub mod medium;
pub mod sessions;
pub mod verify;

use std::io::Read;
use std::sync::MutexGuard;
use std::time::Instant;

use webburn_shared::{
    DataEventArgs, DiscOptions, DiscReport, HResult, VerificationLevel, WriteAction,
    WriteEngineEventArgs,
};

use webburn_shared::Section;

use crate::cancel::CancelToken;
use crate::devices::Recorder;
use crate::{EngineError, UPDATE_INTERVAL, WriteEngine};
use digest::DigestingReader;
use verify::ReadBack;
use webburn_scsi::transport::ScsiTransport;

/// The time estimates of IDiscFormat2DataEventArgs.
#[derive(Debug)]
struct Clock {
    started: Instant,
    /// Bytes the burn writes and, when verifying, reads back.
    section_bytes: u64,
    /// `section_bytes` is what will be written: not before an open-ended
    /// write's data has ended (its section is only the room it may take).
    length_known: bool,
    bytes_per_sector: u64,
    verify: bool,
}

impl Clock {
    /// Seconds left at `rate` bytes/s with `left` bytes to move; -1 if unknown.
    fn args(&self, action: WriteAction, left: u64, rate: f64) -> DataEventArgs {
        let elapsed = self.started.elapsed().as_secs_f64();
        let remaining = if action == WriteAction::Completed {
            0
        } else if rate > 0.0 && self.length_known {
            (left as f64 / rate).ceil() as i32
        } else {
            -1
        };
        DataEventArgs {
            current_action: action,
            elapsed_time: elapsed as i32,
            remaining_time: remaining,
            total_time: if remaining < 0 {
                -1
            } else {
                elapsed as i32 + remaining
            },
            ..DataEventArgs::default()
        }
    }
}

/// The burn's state between steps: the last engine args and the data args.
struct Flow<'a, F> {
    on_update: F,
    last: WriteEngineEventArgs,
    data: DataEventArgs,
    clock: Clock,
    cancel: &'a CancelToken,
}

impl<F: FnMut(&WriteEngineEventArgs, &DataEventArgs)> Flow<'_, F> {
    fn step(&mut self, action: WriteAction) -> Result<(), EngineError> {
        if self.cancel.is_cancelled() && action != WriteAction::Completed {
            return Err(EngineError::cancelled());
        }
        self.report(action, self.rate());
        Ok(())
    }

    /// Fires an event for `action`, its times estimated at `rate` bytes/s
    /// (the speed and the verify progress carried over).
    fn report(&mut self, action: WriteAction, rate: f64) {
        let keep = self.data;
        self.data = DataEventArgs {
            write_speed: keep.write_speed,
            last_verified_lba: keep.last_verified_lba,
            verify_bytes_per_second: keep.verify_bytes_per_second,
            ..self.clock.args(action, self.left(action), rate)
        };
        (self.on_update)(&self.last, &self.data);
    }

    /// Average write rate so far in bytes/s.
    fn rate(&self) -> f64 {
        let bytes = self.written_bytes();
        let secs = self.last.elapsed_ms as f64 / 1000.0;
        if secs > 0.0 { bytes as f64 / secs } else { 0.0 }
    }

    fn written_bytes(&self) -> u64 {
        self.last.sectors_written().max(0) as u64 * self.clock.bytes_per_sector
    }

    /// Bytes still to write and to read back.
    fn left(&self, action: WriteAction) -> u64 {
        let total = self.clock.section_bytes;
        let verify = if self.clock.verify { total } else { 0 };
        match action {
            WriteAction::Verifying => {
                let done =
                    i64::from(self.data.last_verified_lba) - i64::from(self.last.start_lba) + 1;
                total.saturating_sub(done.max(0) as u64 * self.clock.bytes_per_sector)
            }
            WriteAction::Finalization | WriteAction::Completed => verify,
            _ => total.saturating_sub(self.written_bytes()) + verify,
        }
    }
}

/// Runs the whole burn on `engine` (recorder and properties already put),
/// reporting every step through `on_update`; `cancel` stops it between
/// steps, during the WRITEs and during the read-back. `source` holds at
/// least the section's bytes.
pub fn burn<R: Read + Send>(
    engine: &WriteEngine,
    source: R,
    section: Section,
    options: DiscOptions,
    cancel: &CancelToken,
    on_update: impl FnMut(&WriteEngineEventArgs, &DataEventArgs),
) -> Result<DiscReport, EngineError> {
    let recorder = engine.recorder().ok_or_else(|| {
        EngineError::new(HResult::E_IMAPI_RECORDER_REQUIRED, "no recorder was put")
    })?;
    let verify = options.verification != VerificationLevel::None && !options.simulate;
    let mut flow = Flow::new(on_update, section, verify, cancel);
    flow.clock.length_known = !options.open_end;

    let (checked, speed) = flow.prepare(&recorder, section, options)?;
    let (written, digest) = flow.write(engine, source, section, options.open_end);
    let finished = written.and_then(|()| flow.finalize(&recorder, &checked, options));
    if options.simulate {
        // Test Write goes off again whatever happened.
        if let Ok(mut guard) = hold(&recorder)
            && let Err(e) = webburn_scsi::set_test_write(&mut **guard, false)
        {
            tracing::warn!(error = %e, "turning Test Write off failed");
        }
    }
    finished?;
    if verify {
        flow.step(WriteAction::Verifying)?;
        read_back(&mut flow, &recorder, &digest, engine, options.verification)?;
    }
    if options.grow_in_place && !options.simulate {
        // The new session is on the disc: the disc now opens on it.
        let start = u32::try_from(section.start()).unwrap_or(0);
        sessions::point_to_grown_session(&mut **hold(&recorder)?, start)?;
    }
    // A flashed image's partitions appear without unplugging the disk.
    let partitions = if checked.is_disk() && !options.simulate {
        recorder.reread_partitions()
    } else {
        Vec::new()
    };
    let mut ejected = false;
    if options.eject {
        match webburn_scsi::load_or_eject(&mut **hold(&recorder)?, true) {
            Ok(()) => ejected = true,
            Err(e) => tracing::warn!(error = %e, "the burn succeeded but the tray did not open"),
        }
    }
    let mut powered_off = false;
    if options.power_off && checked.is_disk() {
        match recorder.power_off() {
            Ok(device) => {
                tracing::info!(device = %device.display(), "the disk was powered off");
                powered_off = true;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the burn succeeded but the disk was not powered off");
            }
        }
    }
    flow.step(WriteAction::Completed)?;
    Ok(DiscReport {
        sha256: digest.hex(),
        write_speed: speed.sectors_per_second,
        speed_adjusted: speed.adjusted,
        verified: verify,
        simulated: options.simulate,
        ejected,
        powered_off,
        partitions,
    })
}

/// VALIDATING_MEDIA's checks alone, writing nothing: a caller refuses a
/// burn the medium cannot take before it accepts any of the data.
pub fn precheck(engine: &WriteEngine, section: Section) -> Result<(), EngineError> {
    let recorder = engine.recorder().ok_or_else(|| {
        EngineError::new(HResult::E_IMAPI_RECORDER_REQUIRED, "no recorder was put")
    })?;
    let mut guard = hold(&recorder)?;
    let t: &mut dyn ScsiTransport = &mut **guard;
    // Nothing can cancel a write before it has started.
    medium::ensure_ready(t, &CancelToken::new())?;
    medium::check(t, section).map(|_| ())
}

impl<'a, F: FnMut(&WriteEngineEventArgs, &DataEventArgs)> Flow<'a, F> {
    fn new(on_update: F, section: Section, verify: bool, cancel: &'a CancelToken) -> Self {
        let before = section.start().saturating_sub(1);
        Flow {
            on_update,
            last: WriteEngineEventArgs {
                start_lba: section.start(),
                sector_count: section.count_i32(),
                last_read_lba: before,
                last_written_lba: before,
                ..WriteEngineEventArgs::default()
            },
            data: DataEventArgs {
                write_speed: -1,
                last_verified_lba: before,
                ..DataEventArgs::default()
            },
            clock: Clock {
                started: Instant::now(),
                section_bytes: section.bytes(),
                length_known: true,
                bytes_per_sector: u64::from(section.bytes_per_sector()),
                verify,
            },
            cancel,
        }
    }

    /// VALIDATING_MEDIA and INITIALIZING_HARDWARE: tray, medium, speed, Test Write.
    fn prepare(
        &mut self,
        recorder: &Recorder,
        section: Section,
        options: DiscOptions,
    ) -> Result<(medium::MediumCheck, medium::SpeedChoice), EngineError> {
        self.step(WriteAction::ValidatingMedia)?;
        let mut guard = hold(recorder)?;
        let t: &mut dyn ScsiTransport = &mut **guard;
        medium::ensure_ready(t, self.cancel)?;
        // A blank DVD+RW or BD-RE is checked as it will be once formatted.
        let checked = medium::check(t, section)?;
        if options.simulate && !checked.can_test_write {
            let name = webburn_shared::medium_name(checked.profile);
            return Err(EngineError::new(
                HResult::E_IMAPI_DF2DATA_MEDIA_IS_NOT_SUPPORTED,
                format!(
                    "a {name} cannot be written in simulation (Test Write exists for CD-R and DVD-R)"
                ),
            ));
        }
        if options.grow_in_place && (checked.sequential || section.start() < 32) {
            return Err(EngineError::new(
                HResult::E_INVALIDARG,
                "a file system grows in place on a formatted rewritable disc, after its volume",
            ));
        }
        if let Some(request) = medium::blank_format(t)? {
            self.step(WriteAction::FormattingMedia)?;
            let mut reported = 0;
            medium::format(t, &request, self.cancel, |p| {
                // An event a second while the drive formats.
                let second = p.elapsed_seconds();
                if second > reported {
                    reported = second;
                    self.report(WriteAction::FormattingMedia, 0.0);
                }
            })?;
        }
        self.step(WriteAction::InitializingHardware)?;
        let speed = medium::set_speed(t, &checked, options.write_speed)?;
        if options.simulate {
            webburn_scsi::set_test_write(t, true).map_err(|e| {
                EngineError::new(e.hresult(), format!("turning Test Write on failed: {e}"))
            })?;
        }
        self.data.write_speed = speed.sectors_per_second;
        Ok((checked, speed))
    }

    /// WRITING_DATA: WriteSection with the source digested on its way.
    /// With `open_end` the data may end before the section: the burn (and
    /// its verify) then covers the sectors the data filled.
    fn write<R: Read + Send>(
        &mut self,
        engine: &WriteEngine,
        source: R,
        section: Section,
        open_end: bool,
    ) -> (Result<(), EngineError>, digest::SectionDigest) {
        if let Err(e) = self.step(WriteAction::WritingData) {
            return (Err(e), digest::Digester::new(0, 1).finish());
        }
        let bps = u64::from(section.bytes_per_sector());
        let mut digesting = DigestingReader::new(source, u64::from(section.count()), bps);
        let cancel = self.cancel;
        let on_update = |args: &WriteEngineEventArgs| {
            self.last = *args;
            self.report(WriteAction::WritingData, self.rate());
        };
        let (start, count) = (section.start(), section.count_i32());
        let mut written = if open_end {
            engine.write_section_to_end(&mut digesting, start, count, cancel, on_update)
        } else {
            let len = Some(section.bytes());
            engine.write_section_until(&mut digesting, len, start, count, cancel, on_update)
        };
        if open_end && written.is_ok() {
            // The burn is as long as the data was.
            let sectors = self
                .last
                .last_written_lba
                .saturating_sub(start)
                .saturating_add(1);
            self.last.sector_count = sectors;
            self.clock.section_bytes = sectors.max(0) as u64 * bps;
            self.clock.length_known = true;
            if sectors <= 0 {
                written = Err(EngineError::new(
                    HResult::E_INVALIDARG,
                    "the data ended before its first sector: nothing was written",
                ));
            }
        }
        (written, digesting.finish())
    }

    /// FINALIZATION: SYNCHRONIZE CACHE, then close the track and the session
    /// of a sequential medium (not after a simulation).
    fn finalize(
        &mut self,
        recorder: &Recorder,
        checked: &medium::MediumCheck,
        options: DiscOptions,
    ) -> Result<(), EngineError> {
        self.step(WriteAction::Finalization)?;
        let mut guard = hold(recorder)?;
        let t: &mut dyn ScsiTransport = &mut **guard;
        medium::synchronize(t)?;
        if checked.sequential && !options.simulate {
            medium::close_track_and_session(t, checked.profile, !options.leave_appendable)?;
        }
        Ok(())
    }
}

/// The recorder's transport, for one step.
pub fn hold(recorder: &Recorder) -> Result<MutexGuard<'_, Box<dyn ScsiTransport>>, EngineError> {
    recorder
        .try_acquire()
        .map_err(|h| EngineError::new(h, format!("{} is in use by another writer", recorder.id())))
}

/// The VERIFYING step: reads back under the recorder's lock, with events
/// every [`UPDATE_INTERVAL`].
fn read_back<F: FnMut(&WriteEngineEventArgs, &DataEventArgs)>(
    flow: &mut Flow<'_, F>,
    recorder: &Recorder,
    digest: &digest::SectionDigest,
    engine: &WriteEngine,
    level: VerificationLevel,
) -> Result<(), EngineError> {
    let mut guard = hold(recorder)?;
    let t: &mut dyn ScsiTransport = &mut **guard;
    let unit_bytes = engine.config().max_transfer.min(t.max_transfer_bytes());
    let start = flow.last.start_lba;
    let sectors = u64::from(flow.last.sector_count.unsigned_abs());
    let cancel = flow.cancel;
    let bps = digest.bytes_per_sector;
    let (mut last_at, mut last_done) = (Instant::now(), 0u64);
    let began = Instant::now();
    let mut on_progress = |done: u64| {
        let now = Instant::now();
        if now.duration_since(last_at) < UPDATE_INTERVAL {
            return;
        }
        let dt = now.duration_since(last_at).as_secs_f64();
        let rate = ((done - last_done) * bps) as f64 / dt;
        (last_at, last_done) = (now, done);
        flow.data.last_verified_lba = start + i32::try_from(done).unwrap_or(i32::MAX) - 1;
        flow.data.verify_bytes_per_second = rate as u64;
        let avg = (done * bps) as f64 / began.elapsed().as_secs_f64().max(1e-3);
        flow.report(WriteAction::Verifying, avg);
    };
    verify::read_back(
        t,
        ReadBack {
            start_lba: start,
            sectors,
            unit_bytes,
            level,
        },
        digest,
        cancel,
        &mut on_progress,
    )?;
    flow.data.last_verified_lba = flow.last.last_written_lba;
    Ok(())
}
