//! webburn's SCSI layer, the lowest of the helper's crates: typed MMC/SPC
//! CDBs, reply layouts and the few MMC queries the engine makes (at the
//! root), sense data and what a write loop does about it ([`sense`]), and
//! the one trait every device path implements with its implementations
//! ([`transport`]: SG_IO, SPTI, USB Bulk-Only). It knows nothing of
//! recorders, writes or the protocol.

// Addresses and lengths reach devices from here: no cast may wrap or cut one.
#![warn(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

pub mod cdb;
pub mod formatting;
pub mod replies;
pub mod sense;
pub mod transport;
pub mod write_parameters;
pub mod write_speeds;

use std::time::Duration;

use webburn_shared::HResult;

/// A length for a 16-bit length field (saturating: the lengths sent are
/// small constants and buffers sized by them).
pub(crate) fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// A length for an 8-bit length field (saturating, as [`len16`]).
pub(crate) fn len8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

use crate::sense::{Sense, SenseAction};
pub use cdb::{Cdb, CdbError, PerformanceDescriptor};
use formatting::{FormatCapacities, FormatRequest};
pub use replies::{
    BufferCapacity, Capacity, Configuration, DiscInformation, DiscStatus, InquiryData, ReplyError,
    SessionInfo, Toc, TocEntry, TrackInformation,
};
pub use write_parameters::WriteParameters;
pub use write_speeds::{WriteSpeed, WriteSpeeds, speed_sector_bytes};

use crate::transport::{DataDirection, ScsiCommand, ScsiStatus, ScsiTransport, TransportError};

/// Timeout for queries (libburn's default, 30 s).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout for WRITE and SYNCHRONIZE CACHE (libburn, 200 s).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(200);

/// A command that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ScsiError {
    /// CHECK CONDITION with this sense.
    #[error("the device reported sense {0}")]
    Sense(Sense),
    /// A status other than GOOD or CHECK CONDITION.
    #[error("the device answered with status {0:?}")]
    Status(ScsiStatus),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The reply could not be decoded.
    #[error(transparent)]
    Reply(#[from] ReplyError),
}

impl ScsiError {
    /// The HRESULT this failure maps to outside a running write.
    pub fn hresult(&self) -> HResult {
        match self {
            ScsiError::Sense(s) => sense::hresult_for(s, false),
            ScsiError::Status(ScsiStatus::Busy) => HResult::E_IMAPI_RECORDER_MEDIA_BUSY,
            ScsiError::Status(_) => HResult::E_IMAPI_UNEXPECTED_RESPONSE_FROM_DEVICE,
            ScsiError::Transport(t) => t.hresult(),
            ScsiError::Reply(_) => HResult::E_IMAPI_RECORDER_INVALID_RESPONSE_FROM_DEVICE,
        }
    }
}

/// Runs `cdb` and returns the number of data bytes moved; any status other
/// than GOOD (or a recovered error) is an error.
pub fn run(
    t: &mut dyn ScsiTransport,
    cdb: Cdb,
    data: DataDirection<'_>,
    timeout: Duration,
) -> Result<usize, ScsiError> {
    let len = match &data {
        DataDirection::None => 0,
        DataDirection::ToDevice(d) => d.len(),
        DataDirection::FromDevice(d) => d.len(),
    };
    let bytes = cdb.encode();
    let done = t.execute(ScsiCommand {
        cdb: bytes.as_slice(),
        data,
        timeout,
    })?;
    match done.status {
        ScsiStatus::Good => Ok(len.saturating_sub(done.residue)),
        ScsiStatus::CheckCondition => match done.sense {
            Some(s) if matches!(sense::classify(&s, false), SenseAction::Success) => {
                Ok(len.saturating_sub(done.residue))
            }
            Some(s) => Err(ScsiError::Sense(s)),
            None => Err(ScsiError::Status(ScsiStatus::CheckCondition)),
        },
        other => Err(ScsiError::Status(other)),
    }
}

fn query(t: &mut dyn ScsiTransport, cdb: Cdb, alloc: usize) -> Result<Vec<u8>, ScsiError> {
    let mut buf = vec![0u8; alloc];
    let n = run(t, cdb, DataDirection::FromDevice(&mut buf), QUERY_TIMEOUT)?;
    buf.truncate(n);
    Ok(buf)
}

/// INQUIRY: identity and device type.
pub fn inquiry(t: &mut dyn ScsiTransport) -> Result<InquiryData, ScsiError> {
    let alloc = len16(InquiryData::LEN);
    let b = query(
        t,
        Cdb::Inquiry {
            evpd: false,
            page: 0,
            alloc,
        },
        alloc.into(),
    )?;
    Ok(InquiryData::decode(&b)?)
}

/// TEST UNIT READY.
pub fn test_unit_ready(t: &mut dyn ScsiTransport) -> Result<(), ScsiError> {
    run(t, Cdb::TestUnitReady, DataDirection::None, QUERY_TIMEOUT).map(drop)
}

/// READ CAPACITY(10).
pub fn read_capacity(t: &mut dyn ScsiTransport) -> Result<Capacity, ScsiError> {
    Ok(Capacity::decode(&query(t, Cdb::ReadCapacity10, 8)?)?)
}

/// GET CONFIGURATION, all features (RT 0).
pub fn get_configuration(t: &mut dyn ScsiTransport) -> Result<Configuration, ScsiError> {
    let alloc = 4096;
    let cdb = Cdb::GetConfiguration {
        rt: 0,
        start_feature: 0,
        alloc,
    };
    Ok(Configuration::decode(&query(t, cdb, alloc.into())?)?)
}

/// READ DISC INFORMATION.
pub fn read_disc_information(t: &mut dyn ScsiTransport) -> Result<DiscInformation, ScsiError> {
    let alloc = len16(DiscInformation::LEN);
    Ok(DiscInformation::decode(&query(
        t,
        Cdb::ReadDiscInformation { alloc },
        alloc.into(),
    )?)?)
}

/// READ TRACK INFORMATION of track `number` (FFh: the invisible/incomplete track).
pub fn read_track_information(
    t: &mut dyn ScsiTransport,
    number: u32,
) -> Result<TrackInformation, ScsiError> {
    let alloc = len16(TrackInformation::LEN);
    let cdb = Cdb::ReadTrackInformation {
        address_type: 1,
        open: false,
        number,
        alloc,
    };
    Ok(TrackInformation::decode(&query(t, cdb, alloc.into())?)?)
}

/// READ TOC format 1: where the last complete session starts.
pub fn read_session_info(t: &mut dyn ScsiTransport) -> Result<SessionInfo, ScsiError> {
    let alloc = len16(SessionInfo::LEN);
    let cdb = Cdb::ReadToc {
        format: 1,
        track: 0,
        alloc,
    };
    Ok(SessionInfo::decode(&query(t, cdb, alloc.into())?)?)
}

/// READ TOC format 0: the tracks of the closed sessions and the lead-out.
pub fn read_toc(t: &mut dyn ScsiTransport) -> Result<Toc, ScsiError> {
    let alloc = 4 + 8 * 100;
    let cdb = Cdb::ReadToc {
        format: 0,
        track: 1,
        alloc,
    };
    Ok(Toc::decode(&query(t, cdb, alloc.into())?)?)
}

/// READ BUFFER CAPACITY (bytes).
pub fn read_buffer_capacity(t: &mut dyn ScsiTransport) -> Result<BufferCapacity, ScsiError> {
    let cdb = Cdb::ReadBufferCapacity {
        block: false,
        alloc: 12,
    };
    Ok(BufferCapacity::decode(&query(t, cdb, 12)?)?)
}

/// CLOSE TRACK/SESSION: `function` 1 closes track `number`, 2 the session
/// (5 and 6 finalize a DVD+R); waits for completion.
pub fn close_track_session(
    t: &mut dyn ScsiTransport,
    function: u8,
    number: u16,
) -> Result<(), ScsiError> {
    let cdb = Cdb::CloseTrackSession {
        immed: false,
        function,
        number,
    };
    run(t, cdb, DataDirection::None, WRITE_TIMEOUT).map(drop)
}

/// How long FORMAT UNIT may take when it does not return at once (libburn
/// allows 5 hours; a BD-RE's full certification takes about an hour).
pub const FORMAT_TIMEOUT: Duration = Duration::from_secs(5 * 3600);

/// READ FORMAT CAPACITIES: the medium's format state and the formats it takes.
pub fn read_format_capacities(t: &mut dyn ScsiTransport) -> Result<FormatCapacities, ScsiError> {
    let alloc = 252;
    let cdb = Cdb::ReadFormatCapacities { alloc };
    Ok(FormatCapacities::decode(&query(t, cdb, alloc.into())?)?)
}

/// FORMAT UNIT with `request`, waiting for it (unless it asks for Immed).
pub fn format_unit(t: &mut dyn ScsiTransport, request: &FormatRequest) -> Result<(), ScsiError> {
    let list = request.encode();
    let cdb = Cdb::FormatUnit { fmt_data: true };
    let timeout = if request.immed {
        WRITE_TIMEOUT
    } else {
        FORMAT_TIMEOUT
    };
    run(t, cdb, DataDirection::ToDevice(&list), timeout).map(drop)
}

/// How long a BLANK may take (IMAPI2 gives an erase one hour).
pub const BLANK_TIMEOUT: Duration = Duration::from_secs(3600);

/// BLANK: the whole disc with `full`, else its minimal parts. With `immed`
/// the drive answers at once and blanks on its own (TEST UNIT READY then
/// reports its progress, MMC-6 6.2); without, this waits for the end.
pub fn blank(t: &mut dyn ScsiTransport, full: bool, immed: bool) -> Result<(), ScsiError> {
    let cdb = Cdb::Blank {
        immed,
        kind: u8::from(!full),
    };
    let timeout = if immed { QUERY_TIMEOUT } else { BLANK_TIMEOUT };
    run(t, cdb, DataDirection::None, timeout).map(drop)
}

/// SYNCHRONIZE CACHE of the whole medium, waiting for completion.
pub fn synchronize_cache(t: &mut dyn ScsiTransport) -> Result<(), ScsiError> {
    let cdb = Cdb::SynchronizeCache {
        immed: false,
        lba: 0,
        blocks: 0,
    };
    run(t, cdb, DataDirection::None, WRITE_TIMEOUT).map(drop)
}

/// GET PERFORMANCE type 03h: the write speeds for the loaded medium.
pub fn get_write_speeds(t: &mut dyn ScsiTransport) -> Result<WriteSpeeds, ScsiError> {
    let max_descriptors = 32;
    let alloc = 8 + usize::from(max_descriptors) * WriteSpeed::LEN;
    let reply = query(t, Cdb::GetWriteSpeeds { max_descriptors }, alloc)?;
    Ok(WriteSpeeds::decode(&reply)?)
}

/// SET STREAMING: asks for `kb_per_s` (kB = 1000 B) from LBA 0 to `end_lba`.
pub fn set_write_speed(
    t: &mut dyn ScsiTransport,
    kb_per_s: u32,
    end_lba: u32,
) -> Result<(), ScsiError> {
    let descriptor = PerformanceDescriptor::write_speed(kb_per_s, end_lba).encode();
    let cdb = Cdb::SetStreaming {
        param_len: len16(PerformanceDescriptor::LEN),
    };
    run(t, cdb, DataDirection::ToDevice(&descriptor), QUERY_TIMEOUT).map(drop)
}

/// SET CD SPEED (CLV): `write_kb_per_s` (kB = 1000 B), reads at the maximum.
pub fn set_cd_speed(t: &mut dyn ScsiTransport, write_kb_per_s: u16) -> Result<(), ScsiError> {
    let cdb = Cdb::SetCdSpeed {
        read_kb: 0xFFFF,
        write_kb: write_kb_per_s,
    };
    run(t, cdb, DataDirection::None, QUERY_TIMEOUT).map(drop)
}

/// Turns Test Write (simulation) on or off: MODE SENSE(10) of page 05h, the
/// bit changed, MODE SELECT(10) of the same page.
pub fn set_test_write(t: &mut dyn ScsiTransport, on: bool) -> Result<(), ScsiError> {
    change_write_parameters(t, |page| page.set_test_write(on))
}

/// Sets the Write Parameters page's Multi-session field (MMC-6 7.5.4.9):
/// `next` leaves room for another session when this one is closed (11b),
/// else the disc is finalized with it (00b). CD and DVD-R media heed it.
pub fn set_multi_session(t: &mut dyn ScsiTransport, next: bool) -> Result<(), ScsiError> {
    change_write_parameters(t, |page| page.set_multi_session(next))
}

/// MODE SENSE(10) of page 05h, `change` applied, MODE SELECT(10) of it.
fn change_write_parameters(
    t: &mut dyn ScsiTransport,
    change: impl FnOnce(&mut WriteParameters),
) -> Result<(), ScsiError> {
    let alloc = len16(write_parameters::HEADER_LEN + 256);
    let cdb = Cdb::ModeSense10 {
        control: 0,
        page: write_parameters::PAGE,
        alloc,
    };
    let mut page = WriteParameters::decode(&query(t, cdb, alloc.into())?)?;
    change(&mut page);
    let list = page.encode_select();
    let cdb = Cdb::ModeSelect10 {
        save: false,
        param_len: len16(list.len()),
    };
    run(t, cdb, DataDirection::ToDevice(&list), QUERY_TIMEOUT).map(drop)
}

/// START STOP UNIT: `eject` opens the tray, otherwise it is closed (loaded).
pub fn load_or_eject(t: &mut dyn ScsiTransport, eject: bool) -> Result<(), ScsiError> {
    let cdb = Cdb::StartStopUnit {
        immed: false,
        start: !eject,
        load_eject: true,
    };
    run(t, cdb, DataDirection::None, WRITE_TIMEOUT).map(drop)
}

/// WRITE(10) of `data` (whole sectors of 2048 bytes) at `lba`, waiting for it.
pub fn write10(t: &mut dyn ScsiTransport, lba: i32, data: &[u8]) -> Result<(), ScsiError> {
    let blocks = u16::try_from(data.len() / 2048).unwrap_or(u16::MAX);
    let cdb = Cdb::Write10 {
        fua: false,
        lba,
        blocks,
    };
    run(t, cdb, DataDirection::ToDevice(data), WRITE_TIMEOUT).map(drop)
}

/// READ(10) of `blocks` sectors at `lba` into `buf`; returns the bytes read.
pub fn read10(
    t: &mut dyn ScsiTransport,
    lba: i32,
    blocks: u16,
    buf: &mut [u8],
) -> Result<usize, ScsiError> {
    run(
        t,
        Cdb::Read10 { lba, blocks },
        DataDirection::FromDevice(buf),
        WRITE_TIMEOUT,
    )
}
