//! The emulated drive's command interpreter: decodes each CDB with the same
//! typed codec the engine encodes with and answers like an MMC drive.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use super::spec::{BLOCK_SIZE, Medium, UnderrunMode};
use super::{Background, EmulatedRecorder};
use webburn_scsi::formatting::{FormatCapacities, FormatOption, FormatRequest, MediumFormat};
use webburn_scsi::replies::{Feature, feature};
use webburn_scsi::sense::{Sense, key};
use webburn_scsi::transport::{
    Completion, DataDirection, ScsiCommand, ScsiTransport, TransportError,
};
use webburn_scsi::{
    BufferCapacity, Capacity, Cdb, CdbError, Configuration, DiscInformation, DiscStatus,
    InquiryData, PerformanceDescriptor, SessionInfo, Toc, TocEntry, TrackInformation,
    WriteParameters, WriteSpeed, WriteSpeeds, write_parameters,
};

const NO_MEDIUM: Sense = Sense::new(key::NOT_READY, 0x3A, 0x00);
const TRAY_OPEN: Sense = Sense::new(key::NOT_READY, 0x3A, 0x02);
const INVALID_FIELD_IN_PARAMETERS: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x26, 0x00);
const INVALID_OPCODE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x20, 0x00);
const LBA_OUT_OF_RANGE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x21, 0x00);
const END_OF_USER_AREA: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x63, 0x00);
const INVALID_ADDRESS_FOR_WRITE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x21, 0x02);
const INVALID_FIELD: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x24, 0x00);
const PARAMETER_LIST_LENGTH: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x1A, 0x00);
const LONG_WRITE_IN_PROGRESS: Sense = Sense::new(key::NOT_READY, 0x04, 0x08);
const OPERATION_IN_PROGRESS: Sense = Sense::new(key::NOT_READY, 0x04, 0x07);
const WRITE_ERROR: Sense = Sense::new(key::MEDIUM_ERROR, 0x0C, 0x00);
const LOSS_OF_STREAMING: Sense = Sense::new(key::MEDIUM_ERROR, 0x0C, 0x09);
const CANNOT_WRITE_MEDIUM: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x30, 0x05);
/// SPC-4: MEDIUM NOT FORMATTED (a rewritable disc before FORMAT UNIT).
const NOT_FORMATTED: Sense = Sense::new(key::NOT_READY, 0x30, 0x10);
/// SPC-4: ERASE FAILURE (a BLANK that failed).
const ERASE_FAILURE: Sense = Sense::new(key::MEDIUM_ERROR, 0x51, 0x00);
/// SPC-4: LOGICAL UNIT NOT READY, FORMAT IN PROGRESS.
const FORMAT_IN_PROGRESS: Sense = Sense::new(key::NOT_READY, 0x04, 0x04);
/// SPC-4: MEDIUM FORMAT CORRUPTED (a format that did not finish).
const FORMAT_CORRUPTED: Sense = Sense::new(key::MEDIUM_ERROR, 0x31, 0x00);
/// SPC-4: FORMAT COMMAND FAILED.
const FORMAT_FAILED: Sense = Sense::new(key::MEDIUM_ERROR, 0x31, 0x01);

type Answer = Result<Completion, TransportError>;

/// Copies `reply` into the data-in buffer (cut to the allocation length).
#[allow(clippy::unnecessary_wraps)] // shaped like every other command handler
fn data_in(data: DataDirection<'_>, reply: &[u8]) -> Answer {
    match data {
        DataDirection::FromDevice(buf) => {
            let n = buf.len().min(reply.len());
            buf[..n].copy_from_slice(&reply[..n]);
            Ok(Completion {
                residue: buf.len() - n,
                ..Completion::good()
            })
        }
        _ => Ok(Completion::check(INVALID_FIELD, 0)),
    }
}

fn data_len(data: &DataDirection<'_>) -> usize {
    match data {
        DataDirection::None => 0,
        DataDirection::ToDevice(d) => d.len(),
        DataDirection::FromDevice(d) => d.len(),
    }
}

/// True if the WRITE of `blocks` sectors at `lba` touches `at`.
fn covers(lba: i64, blocks: u32, at: Option<i64>) -> bool {
    at.is_some_and(|at| (lba..lba + i64::from(blocks)).contains(&at))
}

impl EmulatedRecorder {
    /// Why there is no medium to work on, if there is none.
    fn absent(&self) -> Option<Sense> {
        if self.tray_open {
            Some(TRAY_OPEN)
        } else if self.removed {
            Some(NO_MEDIUM)
        } else {
            None
        }
    }

    /// kB/s in the medium's speed figures for a user-data rate in bytes/s.
    fn to_kb(&self, rate: u64) -> u32 {
        let kb = u128::from(rate) * u128::from(self.spec.medium.speed_unit()) / 2048 / 1000;
        u32::try_from(kb).unwrap_or(u32::MAX)
    }

    /// The user-data rate in bytes/s of a speed in the medium's kB/s.
    fn to_rate(&self, kb: u32) -> u64 {
        u64::from(kb) * 1000 * 2048 / self.spec.medium.speed_unit()
    }

    /// The speeds GET PERFORMANCE lists, fastest first: the medium's usual
    /// multiples of 1x up to the drive's speed (all of them for an unlimited drive).
    fn write_speeds(&self) -> WriteSpeeds {
        let Some(one_x) = self.spec.medium.one_x() else {
            return WriteSpeeds::default();
        };
        let max = self.spec.speed.unwrap_or(u64::MAX);
        let mut speeds: Vec<u32> = self
            .spec
            .medium
            .speed_factors()
            .iter()
            .map(|&f| self.to_kb(u64::from(f) * one_x))
            .filter(|&k| self.to_rate(k) <= max)
            .collect();
        if let Some(top) = self.spec.speed.map(|m| self.to_kb(m))
            && speeds.last() != Some(&top)
        {
            speeds.push(top);
        }
        speeds.reverse();
        WriteSpeeds(
            speeds
                .into_iter()
                .map(|k| WriteSpeed {
                    end_lba: self.spec.capacity - 1,
                    read_kb_per_s: k,
                    write_kb_per_s: k,
                })
                .collect(),
        )
    }

    /// SET STREAMING: the drive writes at the fastest speed it offers that is
    /// not above the one asked for (the slowest if all are).
    fn set_streaming(&mut self, d: PerformanceDescriptor) {
        let speeds = self.write_speeds();
        if d.restore_defaults || speeds.0.is_empty() {
            self.buffer.set_rate(self.spec.speed);
            return;
        }
        let asked = d.write_bytes_per_second().map_or(u64::MAX, |b| b / 1000);
        let chosen = speeds
            .0
            .iter()
            .map(|w| w.write_kb_per_s)
            .find(|&k| u64::from(k) <= asked)
            .or_else(|| speeds.0.last().map(|w| w.write_kb_per_s));
        let rate = chosen.map(|k| self.to_rate(k));
        self.buffer.set_rate(rate);
    }

    /// SET CD SPEED: a CD writer's way to set the speed (in kB/s, FFFFh =
    /// maximum); DVD and BD drives refuse it.
    fn set_cd_speed(&mut self, write_kb: u16) -> Result<(), Sense> {
        if !matches!(self.spec.medium, Medium::CdR | Medium::CdRw) {
            return Err(INVALID_OPCODE);
        }
        let kb = if write_kb == 0xFFFF {
            u32::MAX
        } else {
            u32::from(write_kb)
        };
        self.set_streaming(PerformanceDescriptor::write_speed(kb, 0));
        Ok(())
    }

    /// MODE SELECT(10) of the Write Parameters page: only Test Write matters here.
    fn mode_select(&mut self, bytes: &[u8]) -> Result<(), Sense> {
        let page = WriteParameters::decode(bytes).map_err(|_| INVALID_FIELD_IN_PARAMETERS)?;
        if page.test_write() && !self.spec.medium.can_test_write() {
            return Err(INVALID_FIELD_IN_PARAMETERS);
        }
        if page.test_write() && !self.test_write {
            self.test_next = self.recorded;
        }
        self.test_write = page.test_write();
        self.multi_session = page.multi_session();
        Ok(())
    }

    #[allow(clippy::unnecessary_wraps)] // shaped like every other command handler
    fn fail(&mut self, sense: Sense, data: &DataDirection<'_>) -> Answer {
        self.last_sense = Some(sense);
        Ok(Completion::check(sense, data_len(data)))
    }

    fn inquiry(&self) -> InquiryData {
        let product = match self.spec.medium {
            Medium::DvdPlusR => "EMULATED DVD+R",
            Medium::DvdMinusR => "EMULATED DVD-R",
            Medium::CdR => "EMULATED CD-R",
            Medium::CdRw => "EMULATED CD-RW",
            Medium::DvdMinusRwSequential | Medium::DvdMinusRwRestricted => "EMULATED DVD-RW",
            Medium::BdR => "EMULATED BD-R",
            Medium::RemovableDisk => "EMULATED DISK",
            Medium::DvdPlusRw => "EMULATED DVD+RW",
            Medium::BdRe => "EMULATED BD-RE",
        };
        InquiryData {
            device_type: if self.spec.medium == Medium::RemovableDisk {
                0x00
            } else {
                0x05
            },
            removable: true,
            vendor: "WEBBURN".into(),
            product: product.into(),
            revision: concat!(
                env!("CARGO_PKG_VERSION_MAJOR"),
                ".",
                env!("CARGO_PKG_VERSION_MINOR")
            )
            .into(),
        }
    }

    fn configuration(&self, rt: u8, start: u16) -> Configuration {
        let medium = self.spec.medium;
        let present = self.absent().is_none();
        let current = if present { medium.profile() } else { 0 };
        let supported: &[u16] = if medium == Medium::RemovableDisk {
            &[0x02]
        } else {
            &[0x43, 0x41, 0x1B, 0x1A, 0x14, 0x13, 0x11, 0x0A, 0x09]
        };
        let profiles: Vec<(u16, bool)> = supported.iter().map(|&p| (p, p == current)).collect();
        let mut features = vec![Configuration::profile_list(&profiles)];
        if medium.sequential() {
            let buf = u8::from(self.spec.underrun == UnderrunMode::Protect);
            features.push(Feature {
                code: feature::INCREMENTAL_STREAMING_WRITABLE,
                current: present,
                data: vec![0x00, 0x01, buf, 0x00],
            });
            features.push(Feature {
                code: feature::CD_TRACK_AT_ONCE,
                current: present && matches!(medium, Medium::CdR | Medium::CdRw),
                // BUF and Test Write.
                data: vec![buf << 6 | 0x04, 0, 0, 0],
            });
            features.push(Feature {
                code: feature::DVD_R_WRITE,
                current: present
                    && matches!(medium, Medium::DvdMinusR | Medium::DvdMinusRwSequential),
                // BUF and Test Write.
                data: vec![buf << 6 | 0x04, 0, 0, 0],
            });
            features.push(Feature {
                code: feature::REAL_TIME_STREAMING,
                current: present,
                // SW | WSPD | RBCB.
                data: vec![0x13, 0, 0, 0],
            });
        }
        if medium.formattable() {
            features.push(Feature {
                code: feature::RANDOM_WRITABLE,
                current: present && self.formatted,
                // Block size 2048, blocking 16 (a DVD ECC block), PP.
                data: vec![0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0x10, 0x01, 0],
            });
            features.push(Feature {
                code: feature::FORMATTABLE,
                current: present,
                data: vec![0, 0, 0, 0],
            });
        }
        features.retain(|f| match rt {
            1 => f.current && f.code >= start,
            2 => f.code == start,
            _ => f.code >= start,
        });
        Configuration {
            current_profile: current,
            features,
        }
    }

    /// The closed sessions of a sequential disc (a disc finalized before
    /// sessions were remembered holds one, all it recorded).
    fn closed_sessions(&self) -> Vec<(u32, u32)> {
        if self.sessions.is_empty() && self.closed && self.recorded > 0 {
            return vec![(0, self.recorded)];
        }
        self.sessions.clone()
    }

    /// READ TRACK INFORMATION: on a sequential disc one track per session
    /// (track n in session n), the last the open one; found by number (FFh:
    /// the open track), by LBA or by session. `None`: no such track.
    fn track_information(&self, address_type: u8, number: u32) -> Option<TrackInformation> {
        let capacity = self.spec.capacity;
        let medium = self.spec.medium;
        if !medium.sequential() {
            let blank = medium.formattable() && !self.formatted;
            let known = match address_type {
                0 => number < capacity,
                _ => number == 1 || number == 0xFF,
            };
            return known.then_some(TrackInformation {
                track: 1,
                session: 1,
                blank,
                start: 0,
                next_writable: Some(0),
                free_blocks: capacity,
                size: capacity,
                last_recorded: if blank { 0 } else { capacity - 1 },
            });
        }
        let closed = self.closed_sessions();
        let open = u32::try_from(closed.len()).unwrap_or(u32::MAX) + 1;
        let last = if self.closed { open - 1 } else { open };
        let track = match address_type {
            // By LBA: the closed session holding it, else the open track.
            0 => closed
                .iter()
                .position(|&(a, b)| (a..b).contains(&number))
                .map_or(last, |i| i as u32 + 1),
            1 if number == 0xFF => last,
            _ => number,
        };
        if track == 0 || track > last.max(1) {
            return None;
        }
        let t16 = u16::try_from(track).unwrap_or(u16::MAX);
        if let Some(&(start, end)) = closed.get(track as usize - 1) {
            return Some(TrackInformation {
                track: t16,
                session: t16,
                blank: false,
                start,
                next_writable: None,
                free_blocks: 0,
                size: end - start,
                last_recorded: end.saturating_sub(1),
            });
        }
        let start = self.open_session_start();
        Some(TrackInformation {
            track: t16,
            session: t16,
            blank: self.recorded == start,
            start,
            next_writable: (!self.closed).then_some(self.recorded),
            free_blocks: if self.closed {
                0
            } else {
                capacity - self.recorded
            },
            size: capacity - start,
            last_recorded: self.recorded.saturating_sub(1),
        })
    }

    fn disc_information(&self) -> DiscInformation {
        let medium = self.spec.medium;
        let closed = u16::try_from(self.closed_sessions().len()).unwrap_or(u16::MAX);
        let open_has_data = self.recorded > self.open_session_start();
        let (status, last_session_state, sessions) = match (medium.sequential(), self.closed) {
            // A rewritable disc is blank until it is formatted, then
            // overwritable anywhere, like other random-access media.
            (false, _) if medium.formattable() && !self.formatted => (DiscStatus::Blank, 0, 1),
            (false, _) => (DiscStatus::Random, 3, 1),
            (true, true) => (DiscStatus::Complete, 3, closed.max(1)),
            (true, false) if closed == 0 && !open_has_data => (DiscStatus::Blank, 0, 1),
            // The open session counts, empty (0) or incomplete (1).
            (true, false) => (DiscStatus::Appendable, u8::from(open_has_data), closed + 1),
        };
        DiscInformation {
            status,
            last_session_state,
            erasable: medium.erasable(),
            sessions,
            first_track_last_session: sessions,
            last_track_last_session: sessions,
        }
    }

    /// READ TOC/PMA/ATIP format 0 (the closed sessions' tracks and the
    /// lead-out) or 1 (where the last closed session starts); a disc with
    /// no closed session has no TOC.
    fn toc(&self, format: u8) -> Result<Vec<u8>, Sense> {
        let closed = self.closed_sessions();
        let n = u8::try_from(closed.len()).unwrap_or(u8::MAX);
        let Some(&(last_start, last_end)) = closed.last() else {
            return Err(INVALID_FIELD);
        };
        match format {
            0 => {
                let mut entries: Vec<TocEntry> = (1u8..)
                    .zip(&closed)
                    .map(|(track, &(start, _))| TocEntry { track, start })
                    .collect();
                entries.push(TocEntry {
                    track: TocEntry::LEAD_OUT,
                    start: last_end,
                });
                Ok(Toc {
                    first: 1,
                    last: n,
                    entries,
                }
                .encode())
            }
            1 => Ok(SessionInfo {
                first_session: 1,
                last_session: n,
                first_track: n,
                start: last_start,
            }
            .encode()
            .to_vec()),
            _ => Err(INVALID_FIELD),
        }
    }

    /// READ FORMAT CAPACITIES: a rewritable disc offers its full format;
    /// other media report what they hold.
    fn format_capacities(&self) -> FormatCapacities {
        let medium = self.spec.medium;
        let capacity = self.spec.capacity;
        let current = match (self.absent(), medium.formattable() && !self.formatted) {
            (Some(_), _) => MediumFormat::NoMedium,
            (None, true) => MediumFormat::Unformatted,
            (None, false) => MediumFormat::Formatted,
        };
        let options = medium
            .format_type()
            .map(|format_type| FormatOption {
                blocks: capacity,
                format_type,
                param: if medium == Medium::BdRe { 0x3000 } else { 0 },
            })
            .into_iter()
            .collect();
        FormatCapacities {
            current,
            blocks: capacity,
            block_len: BLOCK_SIZE,
            options,
        }
    }

    /// FORMAT UNIT with its parameter list: the medium's own full format,
    /// at most its capacity (0 blocks: all of it). Without Immed it returns
    /// formatted; with Immed the drive formats on its own for a while
    /// ([`Self::background_state`]).
    fn format_unit(&mut self, data: &DataDirection<'_>) -> Answer {
        let DataDirection::ToDevice(list) = data else {
            return self.fail(INVALID_FIELD, data);
        };
        if let Some(sense) = self.absent() {
            return self.fail(sense, data);
        }
        let Some(want) = self.spec.medium.format_type() else {
            return self.fail(CANNOT_WRITE_MEDIUM, data);
        };
        let Ok(request) = FormatRequest::decode(list) else {
            return self.fail(PARAMETER_LIST_LENGTH, data);
        };
        let blocks = request.format.blocks;
        if request.format.format_type != want || blocks > self.spec.capacity {
            return self.fail(INVALID_FIELD_IN_PARAMETERS, data);
        }
        let fails = self.format_errors_left > 0;
        if fails {
            self.format_errors_left -= 1;
        }
        if request.immed {
            // The drive formats on its own (a fiftieth of the disc at its
            // speed: lead-in and the start; the rest in the background as
            // it is written); a failure is a format interrupted, reported
            // when the time is up.
            self.background = Some(Background {
                started: Instant::now(),
                length: self.blank_length(false),
                in_progress: FORMAT_IN_PROGRESS,
                failure: fails.then_some(FORMAT_CORRUPTED),
            });
        } else if fails {
            return self.fail(FORMAT_FAILED, data);
        }
        if !fails {
            self.mark_formatted()?;
        }
        Ok(Completion::good())
    }

    /// How long a BLANK takes: rewriting every sector (`full`) or the
    /// lead-in's share of them (a fiftieth) at the drive's speed; at once
    /// for a drive without a speed.
    fn blank_length(&self, full: bool) -> Duration {
        let Some(rate) = self.spec.speed.filter(|&r| r > 0) else {
            return Duration::ZERO;
        };
        let capacity = u64::from(self.spec.capacity);
        let sectors = if full {
            capacity
        } else {
            (capacity / 50).max(1)
        };
        Duration::from_secs_f64((sectors * u64::from(BLOCK_SIZE)) as f64 / rate as f64)
    }

    /// BLANK: a CD-RW or DVD-RW is blank again, its sessions gone; other
    /// media cannot be blanked. It takes [`Self::blank_length`]: with Immed
    /// the drive answers at once and reports its progress until then (a
    /// failure shows at the end, as a deferred error); without, the
    /// command returns when it is done.
    fn blank(
        &mut self,
        immed: bool,
        kind: u8,
        data: &DataDirection<'_>,
        timeout: Duration,
    ) -> Answer {
        if !self.spec.medium.blankable() || kind > 1 {
            return self.fail(CANNOT_WRITE_MEDIUM, data);
        }
        self.flush(timeout)?;
        let fails = self.blank_errors_left > 0;
        if fails {
            self.blank_errors_left -= 1;
        } else {
            self.file.set_len(0)?;
            self.file.sync_all()?;
            self.reopen_blank()?;
        }
        let length = self.blank_length(kind == 0);
        if immed {
            self.background = Some(Background {
                started: Instant::now(),
                length,
                in_progress: OPERATION_IN_PROGRESS,
                failure: fails.then_some(ERASE_FAILURE),
            });
            return Ok(Completion::good());
        }
        std::thread::sleep(length.min(timeout));
        if length >= timeout && length > Duration::ZERO {
            return Err(TransportError::Timeout(timeout));
        }
        if fails {
            return self.fail(ERASE_FAILURE, data);
        }
        Ok(Completion::good())
    }

    /// While an Immed BLANK or FORMAT UNIT runs: the sense every command
    /// but INQUIRY and GET CONFIGURATION gets (2/04/07 or 2/04/04 with the
    /// progress, SPC-4 4.5.2.4.4). When it has ended: its deferred error,
    /// once, if it failed.
    fn background_state(&mut self) -> Option<Sense> {
        let b = self.background?;
        let elapsed = b.started.elapsed();
        if elapsed < b.length {
            let done = elapsed.as_secs_f64() / b.length.as_secs_f64();
            let mut sense = b.in_progress;
            sense.progress = Some((done * 65536.0).min(65535.0) as u16);
            return Some(sense);
        }
        self.background = None;
        b.failure.map(|f| Sense {
            deferred: true,
            ..f
        })
    }

    fn write(
        &mut self,
        lba: i32,
        blocks: u32,
        data: &DataDirection<'_>,
        timeout: Duration,
    ) -> Answer {
        let DataDirection::ToDevice(bytes) = data else {
            return self.fail(INVALID_FIELD, data);
        };
        let lba64 = i64::from(lba);
        let faults = self.spec.faults.clone();
        if covers(lba64, blocks, faults.vanish_at) {
            self.gone = true;
            return Err(TransportError::DeviceGone(
                "the emulated drive was unplugged".into(),
            ));
        }
        if covers(lba64, blocks, faults.remove_at) {
            self.removed = true;
        }
        if let Some(sense) = self.absent() {
            return self.fail(sense, data);
        }
        if self.spec.medium.formattable() && !self.formatted {
            return self.fail(NOT_FORMATTED, data);
        }
        if bytes.len() as u64 != u64::from(blocks) * u64::from(self.spec.block_size) {
            return self.fail(INVALID_FIELD, data);
        }
        let capacity = i64::from(self.spec.capacity);
        if lba < 0 || lba64 > capacity {
            return self.fail(LBA_OUT_OF_RANGE.with_information(lba as u32), data);
        }
        if lba64 + i64::from(blocks) > capacity {
            return self.fail(END_OF_USER_AREA.with_information(lba as u32), data);
        }
        if self.spec.medium.sequential() {
            let next = if self.test_write {
                self.test_next
            } else {
                self.recorded
            };
            if self.closed {
                return self.fail(CANNOT_WRITE_MEDIUM, data);
            }
            if lba as u32 != next {
                return self.fail(INVALID_ADDRESS_FOR_WRITE.with_information(lba as u32), data);
            }
        }
        if self.buffer.take_underrun() && self.spec.underrun == UnderrunMode::Fail {
            return self.fail(LOSS_OF_STREAMING.with_information(lba as u32), data);
        }
        if self.busy_left > 0 && faults.busy.is_some_and(|(_, at)| lba64 >= at) {
            self.busy_left -= 1;
            return self.fail(OPERATION_IN_PROGRESS, data);
        }
        if let Some(at) = faults
            .write_error_at
            .filter(|&at| covers(lba64, blocks, Some(at)))
        {
            return self.fail(WRITE_ERROR.with_information(at as u32), data);
        }
        if let Some((at, stall)) = faults.stall.filter(|_| !self.stall_done)
            && covers(lba64, blocks, Some(at))
        {
            self.stall_done = true;
            std::thread::sleep(stall.min(timeout));
            if stall >= timeout {
                return Err(TransportError::Timeout(timeout));
            }
        }
        if !self.buffer.try_accept(bytes.len()) {
            return self.fail(LONG_WRITE_IN_PROGRESS, data);
        }
        if self.test_write {
            self.test_next = lba as u32 + blocks;
            return Ok(Completion::good());
        }
        let offset = self.spec.offset(lba as u32);
        match faults
            .corrupt_at
            .filter(|&at| covers(lba64, blocks, Some(at)))
        {
            Some(at) => {
                let mut bad = bytes.to_vec();
                bad[(at - lba64) as usize * self.spec.block_size as usize] ^= 0xFF;
                self.store(offset, &bad)?;
            }
            None => self.store(offset, bytes)?,
        }
        if self.spec.medium.sequential() {
            self.recorded = lba as u32 + blocks;
        }
        Ok(Completion::good())
    }

    /// Records `bytes` at `offset` of the image. Zeros past the end of the
    /// file only lengthen it: the image stays sparse, so a medium at its
    /// real size filled from a sparse source costs no disk space.
    fn store(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        const ZEROS: [u8; 4096] = [0; 4096];
        let end = offset + bytes.len() as u64;
        // Slice equality is memcmp: fast also in debug builds.
        let zeros = || bytes.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()]);
        if offset >= self.file.metadata()?.len() && zeros() {
            return self.file.set_len(end);
        }
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(bytes)
    }

    fn read(&mut self, lba: i32, blocks: u16, buf: &mut [u8]) -> Answer {
        let want = usize::from(blocks) * self.spec.block_size as usize;
        if self.spec.medium.formattable() && !self.formatted {
            return self.fail(NOT_FORMATTED, &DataDirection::FromDevice(buf));
        }
        let readable = if self.spec.medium.sequential() {
            self.recorded
        } else {
            self.spec.capacity
        };
        if lba < 0 || buf.len() < want || i64::from(lba) + i64::from(blocks) > i64::from(readable) {
            let sense = if buf.len() < want {
                INVALID_FIELD
            } else {
                LBA_OUT_OF_RANGE
            };
            return self.fail(sense, &DataDirection::FromDevice(buf));
        }
        self.file
            .seek(SeekFrom::Start(self.spec.offset(lba as u32)))?;
        // Past the end of the file a random-access medium reads as zeros.
        let out = &mut buf[..want];
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut out[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        out[filled..].fill(0);
        // The drive reads no faster than it writes.
        if let Some(rate) = self.spec.speed {
            std::thread::sleep(Duration::from_secs_f64(want as f64 / rate as f64));
        }
        Ok(Completion::good())
    }

    /// The data-in reply of a query command, or the sense it fails with.
    fn query_reply(&mut self, cdb: Cdb) -> Result<Vec<u8>, Sense> {
        Ok(match cdb {
            Cdb::RequestSense { .. } => {
                let sense = self.absent().or_else(|| self.last_sense.take());
                sense
                    .unwrap_or(Sense::new(key::NO_SENSE, 0, 0))
                    .to_fixed_bytes()
                    .to_vec()
            }
            Cdb::Inquiry { evpd: true, .. } => return Err(INVALID_FIELD),
            Cdb::Inquiry { .. } => self.inquiry().encode().to_vec(),
            Cdb::ReadCapacity10 => {
                let medium = self.spec.medium;
                let last = if medium.sequential() || (medium.formattable() && !self.formatted) {
                    self.recorded.saturating_sub(1)
                } else {
                    self.spec.capacity - 1
                };
                Capacity {
                    last_lba: last,
                    block_len: self.spec.block_size,
                }
                .encode()
                .to_vec()
            }
            Cdb::GetConfiguration {
                rt, start_feature, ..
            } => self.configuration(rt, start_feature).encode(),
            Cdb::ReadDiscInformation { .. } => self.disc_information().encode().to_vec(),
            Cdb::ReadTrackInformation {
                address_type,
                number,
                ..
            } => self
                .track_information(address_type, number)
                .ok_or(INVALID_FIELD)?
                .encode()
                .to_vec(),
            Cdb::ReadToc { format, .. } if self.spec.medium.sequential() => self.toc(format)?,
            Cdb::ReadBufferCapacity { block, .. } => {
                let (size, free) = self.buffer.capacity();
                let free = if block {
                    free / u64::from(BLOCK_SIZE)
                } else {
                    free
                };
                BufferCapacity {
                    size: size as u32,
                    free: free as u32,
                }
                .encode()
                .to_vec()
            }
            Cdb::GetWriteSpeeds { .. } if self.spec.medium.one_x().is_some() => {
                self.write_speeds().encode()
            }
            Cdb::ModeSense10 {
                page: write_parameters::PAGE,
                ..
            } if self.spec.medium.sequential() => {
                let mut page = WriteParameters::new(0, self.test_write);
                page.set_multi_session(self.multi_session);
                page.encode_sense()
            }
            Cdb::ModeSense10 { .. } => return Err(INVALID_FIELD),
            Cdb::ReadFormatCapacities { .. } => self.format_capacities().encode(),
            _ => return Err(INVALID_OPCODE),
        })
    }

    /// Waits for the drive buffer to drain and flushes the image (SYNCHRONIZE
    /// CACHE, CLOSE TRACK/SESSION).
    fn flush(&mut self, timeout: Duration) -> Result<(), TransportError> {
        if !self.buffer.flush(timeout) {
            return Err(TransportError::Timeout(timeout));
        }
        self.file.sync_data()?;
        Ok(())
    }

    /// CLOSE TRACK/SESSION: 1 closes the track, 2 the session; DVD+R and
    /// BD-R are finalized with 5 or 6 (MMC-6 6.3).
    fn close_track_session(
        &mut self,
        function: u8,
        data: &DataDirection<'_>,
        timeout: Duration,
    ) -> Answer {
        let medium = self.spec.medium;
        let known = match function {
            1 | 2 => true,
            5 | 6 => !medium.finalizes_by_mode_page(),
            _ => false,
        };
        if !medium.sequential() || !known {
            return self.fail(INVALID_FIELD, data);
        }
        self.flush(timeout)?;
        if self.test_write || function == 1 {
            // A track closes into its session; a simulated one leaves nothing.
            return Ok(Completion::good());
        }
        if self.closed {
            return self.fail(CANNOT_WRITE_MEDIUM, data);
        }
        let finalize = match function {
            2 => medium.finalizes_by_mode_page() && !self.multi_session,
            _ => true,
        };
        if self.close_session(finalize).is_err() {
            return self.fail(WRITE_ERROR, data);
        }
        Ok(Completion::good())
    }

    fn handle(&mut self, cdb: Cdb, data: DataDirection<'_>, timeout: Duration) -> Answer {
        let no_medium_ok = matches!(
            cdb,
            Cdb::Inquiry { .. }
                | Cdb::RequestSense { .. }
                | Cdb::GetConfiguration { .. }
                | Cdb::StartStopUnit { .. }
                | Cdb::ReadFormatCapacities { .. }
        );
        if let Some(sense) = self.absent().filter(|_| !no_medium_ok) {
            return self.fail(sense, &data);
        }
        if !matches!(cdb, Cdb::Inquiry { .. } | Cdb::GetConfiguration { .. })
            && let Some(sense) = self.background_state()
        {
            if matches!(cdb, Cdb::RequestSense { .. }) {
                return data_in(data, &sense.to_fixed_bytes());
            }
            return self.fail(sense, &data);
        }
        match cdb {
            Cdb::StartStopUnit {
                load_eject: true,
                start,
                ..
            } => {
                if !start {
                    // The drive finishes what it holds before the tray opens.
                    self.flush(timeout)?;
                    if self.spec.changer && (self.recorded > 0 || self.closed) {
                        let bin = self.change_disc()?;
                        tracing::info!(disc = %bin.display(), "changer: disc out, blank in");
                        return Ok(Completion::good());
                    }
                }
                self.set_tray(!start)?;
                Ok(Completion::good())
            }
            Cdb::TestUnitReady | Cdb::StartStopUnit { .. } => Ok(Completion::good()),
            Cdb::Write10 { lba, blocks, .. } => self.write(lba, blocks.into(), &data, timeout),
            Cdb::Write12 { lba, blocks, .. } => self.write(lba, blocks, &data, timeout),
            Cdb::Read10 { lba, blocks } => match data {
                DataDirection::FromDevice(buf) => self.read(lba, blocks, buf),
                other => self.fail(INVALID_FIELD, &other),
            },
            Cdb::SynchronizeCache { .. } => {
                self.flush(timeout)?;
                Ok(Completion::good())
            }
            Cdb::SetStreaming { param_len } => match data {
                DataDirection::ToDevice(bytes) if usize::from(param_len) == bytes.len() => {
                    match PerformanceDescriptor::decode(bytes) {
                        Some(d) => {
                            self.set_streaming(d);
                            Ok(Completion::good())
                        }
                        None => self.fail(PARAMETER_LIST_LENGTH, &data),
                    }
                }
                other => self.fail(PARAMETER_LIST_LENGTH, &other),
            },
            Cdb::SetCdSpeed { write_kb, .. } => match self.set_cd_speed(write_kb) {
                Ok(()) => Ok(Completion::good()),
                Err(sense) => self.fail(sense, &data),
            },
            Cdb::ModeSelect10 { param_len, .. } => match data {
                DataDirection::ToDevice(bytes) if usize::from(param_len) == bytes.len() => {
                    match self.mode_select(bytes) {
                        Ok(()) => Ok(Completion::good()),
                        Err(sense) => self.fail(sense, &data),
                    }
                }
                other => self.fail(PARAMETER_LIST_LENGTH, &other),
            },
            Cdb::FormatUnit { fmt_data: true } => self.format_unit(&data),
            Cdb::Blank { immed, kind } => self.blank(immed, kind, &data, timeout),
            Cdb::FormatUnit { fmt_data: false } => self.fail(INVALID_FIELD, &data),
            Cdb::CloseTrackSession { function, .. } => {
                self.close_track_session(function, &data, timeout)
            }
            query => match self.query_reply(query) {
                Ok(reply) => data_in(data, &reply),
                Err(sense) => self.fail(sense, &data),
            },
        }
    }
}

impl ScsiTransport for EmulatedRecorder {
    fn execute(&mut self, command: ScsiCommand<'_>) -> Answer {
        if self.gone {
            return Err(TransportError::DeviceGone(
                "the emulated drive was unplugged".into(),
            ));
        }
        if !(6..=16).contains(&command.cdb.len()) {
            return Err(TransportError::InvalidCommand(format!(
                "CDB length {} is outside 6..=16",
                command.cdb.len()
            )));
        }
        match Cdb::decode(command.cdb) {
            Ok(cdb) => self.handle(cdb, command.data, command.timeout),
            Err(CdbError::UnsupportedOpcode(_) | CdbError::Empty) => {
                self.fail(INVALID_OPCODE, &command.data)
            }
            Err(CdbError::TooShort { .. } | CdbError::InvalidField(_)) => {
                self.fail(INVALID_FIELD, &command.data)
            }
        }
    }

    fn max_transfer_bytes(&self) -> usize {
        self.spec.max_transfer
    }
}
