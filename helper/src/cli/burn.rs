//! `webburn-helper burn FILE`: WriteSection of a file, then SYNCHRONIZE
//! CACHE; with `--disc`, the whole DiscFormat2Data flow (check, speed,
//! write, close, verify, eject).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde::Serialize;
use webburn_shared::protocol::WriteProperties;
use webburn_shared::{
    DataEventArgs, DiscOptions, DiscReport, HResult, Padded, Section, VerificationLevel,
    WriteAction, WriteEngineEventArgs,
};

use super::CliError;
use super::progress_line::ProgressLine;
use webburn_engine::burn::{Burn, BurnPlan};
use webburn_engine::cancel::CancelToken;
use webburn_engine::devices::{Recorder, RecorderInfo, default_recorder_id};
use webburn_engine::{EngineConfig, EngineError};
use webburn_shared::units::{format_bytes, parse_size};

/// Arguments of `burn`.
#[derive(Debug, Args)]
pub struct BurnArgs {
    /// The file to burn as it is (a disc image, raw sectors).
    #[arg(required_unless_present = "files")]
    pub file: Option<PathBuf>,
    /// Burn these files and folders as a file system every computer reads
    /// (ISO 9660 + Rock Ridge, Joliet, UDF): each folder's contents at the top.
    #[arg(long, num_args = 1.., conflicts_with = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub image: super::files::ImageArgs,
    /// Recorder id (default: the default emulated BD-R in the data directory).
    #[arg(long, value_name = "ID")]
    pub recorder: Option<String>,
    /// First LBA (default: the next writable address the drive reports, else 0).
    #[arg(long, allow_negative_numbers = true)]
    pub lba: Option<i32>,
    /// Sectors to write (default: the file size rounded up; the tail is zero-padded).
    #[arg(long)]
    pub sectors: Option<i32>,
    /// BytesPerSector (default: a disk's block size, 2048 for optical media).
    #[arg(long)]
    pub bytes_per_sector: Option<i32>,
    /// UseStreamingWrite12: WRITE(12) with the Streaming bit instead of WRITE(10).
    #[arg(long)]
    pub streaming: bool,
    /// StartingSectorsPerSecond hint (-1 = maximum).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub starting_sectors_per_second: i32,
    /// EndingSectorsPerSecond hint (-1 = maximum).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub ending_sectors_per_second: i32,
    /// System buffer size, e.g. 16MiB.
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub buffer: u64,
    /// Skip SYNCHRONIZE CACHE after the last WRITE.
    #[arg(long)]
    pub no_sync: bool,
    /// Burn a disc as DiscFormat2Data does: check the medium, set the speed,
    /// write, SYNCHRONIZE CACHE, close the track and session (sequential
    /// media), read back and compare.
    #[arg(long, conflicts_with = "no_sync")]
    pub disc: bool,
    /// With --disc: how much to read back (none, quick, full).
    #[arg(long, default_value = "full", value_parser = str::parse::<VerificationLevel>, requires = "disc")]
    pub verify: VerificationLevel,
    /// With --disc: write speed in sectors per second (the drive takes the
    /// nearest it offers at or below it); see `recorders` for the list.
    #[arg(long, requires = "disc")]
    pub speed: Option<i32>,
    /// With --disc: a test write (CD-R, DVD-R); nothing is recorded.
    #[arg(long, requires = "disc")]
    pub simulate: bool,
    /// With --disc: open the tray when done.
    #[arg(long, requires = "disc")]
    pub eject: bool,
    /// With --disc: power a disk on USB off when done, so it can be pulled out.
    #[arg(long, requires = "disc")]
    pub power_off: bool,
    /// With --disc: leave a write-once disc (CD-R, DVD±R, BD-R) open, so
    /// files can be added to it later (IMAPI's ForceMediaToBeClosed off).
    #[arg(long, requires = "disc")]
    pub leave_appendable: bool,
    /// With --files and --disc: add the files to those already on the disc
    /// (a disc left appendable): the new session holds the last session's
    /// files and these; a file of the same path is refused.
    #[arg(long, requires_all = ["files", "disc"])]
    pub append: bool,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The summary `--json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    recorder: String,
    hresult: HResult,
    name: &'static str,
    message: &'static str,
    detail: String,
    start_lba: i32,
    sector_count: i32,
    last_written_lba: i32,
    bytes: u64,
    seconds: f64,
    bytes_per_second: f64,
    events: u64,
    peak_rss_bytes: Option<u64>,
    /// With --disc: what the burn reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    disc: Option<DiscReport>,
    /// The first sector a verify found bad.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_bad_lba: Option<i32>,
}

/// Prints the `--json` summary line on stdout.
fn print_summary(summary: &Summary) {
    match serde_json::to_string(summary) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("webburn-helper: cannot print the summary: {e}"),
    }
}

/// Peak resident memory of this process (Linux: VmHWM).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The burn the arguments ask for: `sectors` sectors from `at` on its
/// recorder, with the arguments' properties and, with `--disc`, the disc flow.
fn plan(args: &BurnArgs, at: &Start<'_>, padded: u64, sectors: i32) -> Result<Burn, EngineError> {
    let properties = WriteProperties {
        recorder: at.recorder.id().to_owned(),
        bytes_per_sector: at.bps,
        starting_sectors_per_second: args.starting_sectors_per_second,
        ending_sectors_per_second: args.ending_sectors_per_second,
        use_streaming_write12: args.streaming,
    };
    properties.validate()?;
    let plan = BurnPlan {
        config: EngineConfig {
            buffer_bytes: usize::try_from(args.buffer).unwrap_or(usize::MAX),
            ..EngineConfig::default()
        },
        properties,
        section: Section::new(at.lba, sectors, at.bps)?,
        source_len: Some(padded),
        disc: args.disc.then_some(DiscOptions {
            verification: args.verify,
            write_speed: args.speed.unwrap_or(-1),
            simulate: args.simulate,
            eject: args.eject,
            power_off: args.power_off,
            open_end: false,
            leave_appendable: args.leave_appendable,
            grow_in_place: at.grow_in_place,
        }),
        synchronize: !args.disc && !args.no_sync,
    };
    Burn::new(plan, at.recorder.clone(), at.info.map(|i| i.medium))
}

/// A WriteSection source, zero-padded to whole sectors.
struct Input<R> {
    source: std::io::Chain<R, std::io::Take<std::io::Repeat>>,
    /// What it is, for the first line.
    what: String,
    len: u64,
    padded: u64,
    sectors: i32,
}

fn open_input(
    args: &BurnArgs,
    file: &Path,
    bps: i32,
) -> Result<Input<std::io::Take<File>>, CliError> {
    let invalid = |msg: String| CliError::new(HResult::E_INVALIDARG, msg);
    let opened =
        File::open(file).map_err(|e| invalid(format!("cannot open {}: {e}", file.display())))?;
    let len = opened
        .metadata()
        .map_err(|e| invalid(format!("cannot read {}: {e}", file.display())))?
        .len();
    if len == 0 {
        return Err(invalid(format!("{} is empty", file.display())));
    }
    if bps < 1 {
        return Err(invalid(format!(
            "--bytes-per-sector must be positive, not {bps}"
        )));
    }
    let span = Padded::new(len, bps as u64);
    let sectors = match args.sectors {
        Some(n) => n,
        None => i32::try_from(span.sectors)
            .map_err(|_| invalid(format!("{} is too large for one section", file.display())))?,
    };
    let source = opened
        .take(len)
        .chain(std::io::repeat(0).take(span.padding));
    Ok(Input {
        source,
        what: file.display().to_string(),
        len,
        padded: len + span.padding,
        sectors,
    })
}

/// The image of `--files` as a source: laid out first (refused before
/// anything is written when it does not fit the medium's free sectors),
/// then read file by file as the WRITEs go.
fn image_input<'a>(
    result: &'a webburn_fsimage::ResultImage<'a, PathBuf>,
    bps: i32,
) -> Result<Input<impl Read + Send + 'a>, CliError> {
    let len = result.total_bytes();
    let span = Padded::new(len, u64::from(bps.unsigned_abs()));
    let sectors = i32::try_from(span.sectors).map_err(|_| {
        CliError::new(
            HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
            "the image is too large for one section",
        )
    })?;
    let source = result
        .reader(super::files::open)
        .chain(std::io::repeat(0).take(span.padding));
    Ok(Input {
        source,
        what: "the image of the files".into(),
        len,
        padded: len + span.padding,
        sectors,
    })
}

/// BytesPerSector and the first LBA, from the arguments or else from what
/// the medium is: its block size (disks), its next writable address (READ
/// TRACK INFORMATION), else 2048 and LBA 0. The engine refuses what the
/// medium cannot take before its first WRITE.
fn medium_defaults(args: &BurnArgs, recorder: &Recorder) -> (i32, i32, Option<RecorderInfo>) {
    let info = recorder.describe().ok();
    let bps = args
        .bytes_per_sector
        .or(info
            .as_ref()
            .and_then(|i| i32::try_from(i.natural_sector_size()).ok()))
        .unwrap_or(2048);
    let start_lba = args
        .lba
        .or_else(|| {
            info.as_ref()?
                .next_writable
                .and_then(|n| i32::try_from(n).ok())
        })
        .unwrap_or(0);
    (bps, start_lba, info)
}

/// A line naming the step a disc burn moved to.
fn action_line(d: &DataEventArgs) -> String {
    let what = match d.current_action {
        WriteAction::ValidatingMedia => "Checking the medium",
        WriteAction::InitializingHardware => "Preparing the drive",
        WriteAction::WritingData if d.write_speed > 0 => {
            return format!("Writing at {} sectors/s", d.write_speed);
        }
        WriteAction::WritingData => "Writing",
        WriteAction::Finalization => "Closing",
        WriteAction::Verifying => "Verifying",
        WriteAction::Completed => "Completed",
        WriteAction::FormattingMedia | WriteAction::CalibratingPower => d.current_action.name(),
    };
    what.to_owned()
}

/// What a disc burn reports, for people.
fn report_line(r: &DiscReport) -> String {
    let mut parts = vec![format!("SHA-256 {}", r.sha256)];
    if r.verified {
        parts.push("verified".into());
    }
    if r.simulated {
        parts.push("simulated: nothing was recorded".into());
    }
    if r.speed_adjusted {
        parts.push(format!("speed adjusted to {} sectors/s", r.write_speed));
    }
    if r.ejected {
        parts.push("ejected".into());
    }
    if r.powered_off {
        parts.push("powered off: it can be unplugged".into());
    }
    parts.join(", ")
}

/// What a burn left behind for the summary.
struct Outcome {
    result: Result<Option<DiscReport>, EngineError>,
    last: WriteEngineEventArgs,
    events: u64,
}

/// WriteSection and SYNCHRONIZE CACHE, or the disc flow with `--disc`,
/// drawing progress as it goes.
fn burn(
    args: &BurnArgs,
    at: &Start<'_>,
    source: impl Read + Send,
    padded: u64,
    sectors: i32,
) -> Outcome {
    let bps = u64::from(at.bps.unsigned_abs());
    let mut line = ProgressLine::new(bps, args.quiet);
    // Nothing written until an event says otherwise (a write refused before
    // its first event reports no sectors).
    let mut last = WriteEngineEventArgs {
        start_lba: at.lba,
        sector_count: sectors,
        last_read_lba: at.lba.saturating_sub(1),
        last_written_lba: at.lba.saturating_sub(1),
        ..WriteEngineEventArgs::default()
    };
    let mut events = 0u64;
    let mut action = None;
    let result = plan(args, at, padded, sectors).and_then(|burn| {
        burn.run(source, &CancelToken::new(), |p| {
            events += 1;
            last = p.args;
            let Some(d) = p.data else {
                line.update(&p.args);
                return;
            };
            if action != Some(d.current_action) {
                action = Some(d.current_action);
                line.note(&action_line(&d));
            }
            match d.current_action {
                WriteAction::WritingData => line.update(&p.args),
                WriteAction::Verifying => line.verify(&p.args, &d),
                _ => {}
            }
        })
    });
    line.finish();
    Outcome {
        result,
        last,
        events,
    }
}

/// The recorder named with `--recorder`, else the default one.
fn recorder_or_default(named: Option<String>, data_dir: &Path) -> Result<String, CliError> {
    named
        .or_else(|| default_recorder_id(data_dir))
        .ok_or_else(|| {
            CliError::new(
                HResult::E_INVALIDARG,
                "this build has no emulated recorder: name one with --recorder",
            )
        })
}

/// `webburn-helper erase`: blanks the disc in `recorder`.
pub(super) fn erase(data_dir: &Path, recorder: Option<String>, full: bool) -> Result<(), CliError> {
    let id = recorder_or_default(recorder, data_dir)?;
    let recorder = Recorder::open(&id).map_err(|e| CliError::new(e.hresult(), e.to_string()))?;
    let mut guard = recorder
        .try_acquire()
        .map_err(|h| CliError::new(h, format!("{id} is in use by another writer")))?;
    let started = Instant::now();
    let mut line = ProgressLine::new(2048, false);
    let result = webburn_engine::disc::erase::erase(&mut **guard, full, |p| line.erase(p));
    line.finish();
    result.map_err(|e| CliError::new(e.hresult, e.detail))?;
    eprintln!(
        "Erased the disc in {id} ({}) in {:.1} s",
        if full { "full" } else { "minimal" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(super) fn run(data_dir: &Path, args: &BurnArgs) -> Result<(), CliError> {
    let id = recorder_or_default(args.recorder.clone(), data_dir)?;
    let recorder = Recorder::open(&id).map_err(|e| CliError::new(e.hresult(), e.to_string()))?;
    let (bps, start_lba, info) = medium_defaults(args, &recorder);
    let mut at = Start {
        recorder: &recorder,
        bps,
        lba: start_lba,
        info: info.as_ref(),
        grow_in_place: false,
    };
    if let Some(file) = &args.file {
        let input = open_input(args, file, bps).map_err(|e| refused(args, &at, e))?;
        return burn_input(args, &at, input);
    }
    let mut image =
        super::files::build(&args.files, &args.image).map_err(|e| refused(args, &at, e))?;
    if args.append {
        add_to_last_session(&mut image, &mut at, args).map_err(|e| refused(args, &at, e))?;
    }
    // ChooseImageDefaults: the medium's free sectors bound the image.
    let free = info
        .as_ref()
        .and_then(|i| i.free_sectors)
        .map(|f| u64::from(f) * u64::from(bps.unsigned_abs()) / 2048);
    image.set_free_media_blocks(free);
    let result = super::files::lay_out(&image, args.quiet).map_err(|e| refused(args, &at, e))?;
    let input = image_input(&result, bps).map_err(|e| refused(args, &at, e))?;
    burn_input(args, &at, input)
}

/// A burn refused before its write: with `--json`, its summary too (no
/// sector written), so a caller reads one JSON line whatever happened.
fn refused(args: &BurnArgs, at: &Start<'_>, e: CliError) -> CliError {
    if args.json {
        print_summary(&Summary {
            recorder: at.recorder.id().to_owned(),
            hresult: e.hresult,
            name: e.hresult.name().unwrap_or("UNKNOWN"),
            message: e.hresult.message(),
            detail: e.detail.clone(),
            start_lba: at.lba,
            sector_count: 0,
            last_written_lba: at.lba.saturating_sub(1),
            bytes: 0,
            seconds: 0.0,
            bytes_per_second: 0.0,
            events: 0,
            peak_rss_bytes: peak_rss(),
            disc: None,
            first_bad_lba: None,
        });
    }
    e
}

/// `--append`: the disc's last session is imported into `image`, which is
/// then written where the next session goes (`at` says where, and whether
/// it grows a rewritable disc in place); the volume keeps its name unless
/// `--volume` gives another.
fn add_to_last_session(
    image: &mut webburn_fsimage::FileSystemImage<PathBuf>,
    at: &mut Start<'_>,
    args: &BurnArgs,
) -> Result<(), CliError> {
    let recorder = at.recorder;
    let mut guard = recorder
        .try_acquire()
        .map_err(|h| CliError::new(h, format!("{} is in use by another writer", recorder.id())))?;
    let next = webburn_engine::disc::sessions::next_session(&mut **guard)
        .map_err(|e| CliError::new(e.hresult, e.detail))?;
    let Some(previous) = next.previous else {
        // A blank disc: the files make its first session.
        return Ok(());
    };
    let n = image
        .import_session(&previous, next.start)
        .map_err(|e| CliError::new(e.hresult(), e.to_string()))?;
    at.lba = i32::try_from(next.start).unwrap_or(i32::MAX);
    at.grow_in_place = next.grow_in_place;
    if let Some(name) = &args.image.volume {
        // --volume wins over the name the import brought.
        image
            .set_volume_name(name)
            .map_err(|e| CliError::new(e.hresult(), e.to_string()))?;
    }
    if !args.quiet {
        eprintln!(
            "Adding to the session at LBA {} ({n} files and folders of {:?} kept)",
            previous.start, previous.volume_name
        );
    }
    Ok(())
}

/// Where a burn goes: the recorder, its sector size and first LBA, and
/// whether it grows a rewritable disc's file system in place.
struct Start<'a> {
    recorder: &'a Recorder,
    bps: i32,
    lba: i32,
    info: Option<&'a RecorderInfo>,
    grow_in_place: bool,
}

/// Burns one source and reports how it went.
fn burn_input<R: Read + Send>(
    args: &BurnArgs,
    at: &Start<'_>,
    input: Input<R>,
) -> Result<(), CliError> {
    let Start {
        recorder,
        bps,
        lba: start_lba,
        ..
    } = *at;
    let Input {
        source,
        what,
        len,
        padded,
        sectors,
    } = input;
    let bps = u64::from(bps.unsigned_abs());

    if !args.quiet {
        eprintln!(
            "Burning {what} ({}) to {} at LBA {start_lba}, {sectors} sectors of {bps} bytes",
            format_bytes(len),
            recorder.id()
        );
    }
    let started = Instant::now();
    let outcome = burn(args, at, source, padded, sectors);
    finish(args, at, sectors, outcome, started.elapsed().as_secs_f64())
}

/// Prints how a burn went (the `--json` summary, the last lines) and turns
/// its failure into the command's.
fn finish(
    args: &BurnArgs,
    at: &Start<'_>,
    sectors: i32,
    outcome: Outcome,
    seconds: f64,
) -> Result<(), CliError> {
    let Outcome {
        result,
        last,
        events,
    } = outcome;
    let (recorder, start_lba) = (at.recorder, at.lba);
    let bps = u64::from(at.bps.unsigned_abs());
    let report = result.as_ref().ok().cloned().flatten();
    let result = result.map(drop);
    // No event, no WRITE: a refused write wrote nothing.
    let bytes = if events == 0 {
        0
    } else {
        last.sectors_written().max(0) as u64 * bps
    };
    let (hresult, detail) = match &result {
        Ok(()) => (HResult::S_OK, String::new()),
        Err(e) => (e.hresult, e.detail.clone()),
    };
    if args.json {
        print_summary(&Summary {
            recorder: recorder.id().to_owned(),
            hresult,
            name: hresult.name().unwrap_or("UNKNOWN"),
            message: hresult.message(),
            detail: detail.clone(),
            start_lba,
            sector_count: sectors,
            last_written_lba: last.last_written_lba,
            bytes,
            seconds,
            bytes_per_second: bytes as f64 / seconds.max(1e-9),
            events,
            peak_rss_bytes: peak_rss(),
            disc: report.clone(),
            first_bad_lba: result.as_ref().err().and_then(|e| e.bad_lba),
        });
    }
    match result {
        Ok(()) => {
            if !args.quiet {
                eprintln!(
                    "Done: {} in {seconds:.1} s ({:.1} MB/s), LBA {start_lba}..={}",
                    format_bytes(bytes),
                    bytes as f64 / seconds.max(1e-9) / 1e6,
                    last.last_written_lba
                );
                if let Some(r) = &report {
                    eprintln!("{}", report_line(r));
                }
            }
            Ok(())
        }
        Err(e) => Err(CliError::new(
            hresult,
            format!("{}; LastWrittenLba {}", e.detail, last.last_written_lba),
        )),
    }
}
