//! One write of a session: the engine running WriteSection on a blocking
//! thread, fed from the session's data frames, and the credit bookkeeping.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc::UnboundedSender;
use webburn_shared::protocol::StartWrite;
use webburn_shared::{DataFrameHeader, ErrorCode, HResult, Section};

use super::source::{FeedSender, feed};
use super::{TargetId, WriteEvent};
use crate::state::history::History;
use crate::state::registry::{Claim, Registry, SessionId};
use webburn_engine::burn::{Burn, BurnPlan};
use webburn_engine::cancel::CancelToken;
use webburn_engine::{EngineConfig, EngineError, WriteEngine};

/// What a session's write runs with: the engine's sizes, the process-wide
/// state and where its events go.
pub(crate) struct WriteContext<'a> {
    /// The engine's buffer and timeout.
    pub config: EngineConfig,
    /// Who holds which recorder.
    pub registry: &'a Arc<Registry>,
    /// The session that writes.
    pub session: SessionId,
    /// Its page's origin, for the disks that ask (`None`: the helper's own page).
    pub origin: Option<&'a str>,
    /// Where the targets' events go.
    pub events: &'a UnboundedSender<WriteEvent>,
    /// A kiosk's history, which counts every disc.
    pub history: Option<&'a Arc<History>>,
}

/// A data frame that breaks the protocol; the session ends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The `code` of the error message.
    pub code: ErrorCode,
    /// What exactly was wrong.
    pub detail: String,
}

/// One recorder a write goes to.
#[derive(Debug)]
struct Target {
    /// Its index: 0 for `recorder`, i for `duplicateTo[i - 1]`.
    index: u32,
    /// Its recorder id.
    recorder: String,
    /// Its engine while the burn runs (the burn's task owns it, so the
    /// device closes as soon as the task ends).
    engine: Weak<WriteEngine>,
    /// Payloads go here; `None` once it is cancelled, its data ended or it is done.
    data: Option<FeedSender>,
    /// Its stop signal, shared with its engine, its data source and its disc flow.
    cancel: CancelToken,
    finished: Arc<AtomicBool>,
    /// Bytes its engine took so far.
    taken: u64,
    /// Its result was sent.
    done: bool,
}

impl Target {
    /// Still taking the client's data: it holds back the credit.
    fn live(&self) -> bool {
        self.data.is_some() && !self.done
    }

    /// See [`OpenWrite::cancel`].
    fn cancel(&mut self) -> HResult {
        if self.finished.load(Ordering::Acquire) {
            return HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS;
        }
        if self.cancel.is_cancelled() {
            return HResult::S_OK;
        }
        // Nothing more is written from here on: the engine, its data source
        // and the disc flow all see it at once.
        self.cancel.cancel();
        let engine = self.engine.clone();
        let tx = self.data.take();
        let stop = move || {
            // A WRITE in flight completes; the writer stops after it.
            if let Some(engine) = engine.upgrade() {
                engine.cancel_write();
            }
            drop(tx);
        };
        // CancelWrite waits briefly for a WRITE in flight: not on the event loop.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(stop)),
            Err(_) => stop(),
        }
        HResult::S_OK
    }
}

/// A running write: one upload fed to one or more recorders (targets), each
/// with its own engine, lock, buffer, progress and result.
#[derive(Debug)]
pub(crate) struct OpenWrite {
    pub id: u32,
    /// Binary messages are payload alone (no data-frame header).
    pub raw_frames: bool,
    targets: Vec<Target>,
    /// Bytes the section needs (numberOfBlocks x BytesPerSector).
    needed: u64,
    /// The credit window: what each target's queue may hold.
    window: u64,
    /// Bytes received so far: the offset the next frame must carry.
    received: u64,
    /// Credit granted so far, counted from offset 0.
    granted: u64,
    /// Payloads of small frames not yet handed to the engines.
    small: BytesMut,
}

/// A write refused before it started, for every target it named.
pub(crate) type Refusals = Vec<(u32, EngineError)>;

/// Frames with less payload than this are gathered before the engine gets them.
const COALESCE_BYTES: usize = 64 * 1024;

/// Claims target `recorder_id`, makes its burn and checks the (valid)
/// section against its medium (the disc flow's medium checks for a `disc` write),
/// all before any credit is granted; returns the burn and the claim, or
/// the HRESULT to answer with. Blocking: it opens the device and asks it
/// about its medium.
fn prepare(
    req: &StartWrite,
    section: Section,
    recorder_id: &str,
    ctx: &WriteContext<'_>,
) -> Result<(Burn, Claim), EngineError> {
    let claim = claim(recorder_id, ctx)?;
    let medium = ctx.registry.cached(recorder_id).map(|i| i.medium);
    let plan = BurnPlan {
        config: ctx.config,
        properties: req.properties.clone(),
        section,
        source_len: Some(req.total_bytes),
        disc: req.disc,
        synchronize: false,
    };
    let burn = Burn::new(plan, claim.recorder().clone(), medium).and_then(|burn| {
        burn.check()?;
        Ok(burn)
    });
    match burn {
        Ok(burn) => Ok((burn, claim)),
        Err(e) => {
            // The drive was this write's and its disc was refused: a kiosk
            // counts that disc as failed, as it would a failure while writing.
            if let Some(history) = ctx.history {
                let bytes = req.section_bytes();
                super::record(history, recorder_id.to_owned(), bytes, &Err(e.clone()));
            }
            Err(e)
        }
    }
}

/// Claims `recorder_id` for the session (a disk the helper found only for
/// an origin the person allowed), or says why not. Blocking: it opens the
/// device.
pub(super) fn claim(recorder_id: &str, ctx: &WriteContext<'_>) -> Result<Claim, EngineError> {
    if recorder_id.is_empty() {
        return Err(EngineError::new(
            HResult::E_IMAPI_RECORDER_REQUIRED,
            "no recorder was named",
        ));
    }
    ctx.registry
        .claim(recorder_id, ctx.session, ctx.origin)
        .map_err(|h| {
            let detail = match h {
                HResult::E_IMAPI_RECORDER_LOCKED => {
                    format!("{recorder_id} is in use by another session")
                }
                HResult::E_ACCESSDENIED => format!(
                    "{recorder_id} is a disk the person has not allowed this site to write to: ask on the helper first"
                ),
                _ => format!("this helper offers no recorder {recorder_id:?}"),
            };
            EngineError::new(h, detail)
        })
}

/// Starts one target's burn on a blocking thread.
fn start_target(
    at: TargetId,
    recorder: &str,
    burn: Burn,
    claim: Claim,
    ctx: &WriteContext<'_>,
) -> Target {
    let cancel = CancelToken::new();
    let (tx, source) = feed(ctx.events.clone(), at, &cancel);
    let finished = Arc::new(AtomicBool::new(false));
    let engine = Arc::downgrade(burn.engine());
    // What a kiosk's history records of this drive: the bytes the drive
    // took (an open-ended write ends before its section).
    let (recorder_id, section) = (recorder.to_owned(), burn.section());
    let history = ctx.history.cloned();
    let task = {
        let (cancel, finished) = (cancel.clone(), Arc::clone(&finished));
        let events = ctx.events.clone();
        move || {
            let mut written = 0u64;
            let result = if cancel.is_cancelled() {
                Err(EngineError::cancelled())
            } else {
                burn.run(source, &cancel, |p| {
                    let sectors = p.args.last_written_lba - p.args.start_lba + 1;
                    written =
                        u64::try_from(sectors).unwrap_or(0) * u64::from(section.bytes_per_sector());
                    let _ = events.send(WriteEvent::Update(at, p));
                })
            };
            finished.store(true, Ordering::Release);
            let result = match result {
                Err(_) if cancel.is_cancelled() => Err(EngineError::cancelled()),
                r => r,
            };
            // The recorder is free, and a kiosk's history holds the disc,
            // before the session hears of the end; the device closes when
            // its last holder lets go: this task first, the session's
            // handle when it reads Done.
            drop(burn);
            drop(claim);
            if let Some(history) = &history {
                super::record(history, recorder_id, written, &result);
            }
            let _ = events.send(WriteEvent::Done(at, result));
        }
    };
    tokio::task::spawn_blocking(task);
    Target {
        index: at.target,
        recorder: recorder.to_owned(),
        engine,
        data: Some(tx),
        cancel,
        finished,
        taken: 0,
        done: false,
    }
}

impl OpenWrite {
    /// Validates `req` and starts it on each of its recorders, each on a
    /// blocking thread that reports through `events` and releases its recorder
    /// when it ends. Blocking (it opens devices): call it on a blocking
    /// thread of the runtime. Returns the write (if any target started) and the
    /// targets refused, with why.
    pub(super) fn start(req: &StartWrite, ctx: &WriteContext<'_>) -> (Option<OpenWrite>, Refusals) {
        // Everything the request says on its own first (targets, properties,
        // section): a malformed write opens no device. Then for each target
        // its recorder, its claim and the section against its medium.
        let section = match req.validate() {
            Ok(section) => section,
            Err(e) => {
                let e = EngineError::from(e);
                let all = (0u32..).zip(req.recorders()).map(|(i, _)| (i, e.clone()));
                return (None, all.collect());
            }
        };
        let mut targets = Vec::new();
        let mut refused = Vec::new();
        for (index, recorder) in (0u32..).zip(req.recorders()) {
            let at = TargetId {
                write_id: req.write_id,
                target: index,
            };
            match prepare(req, section, recorder, ctx) {
                Ok((burn, claim)) => targets.push(start_target(at, recorder, burn, claim, ctx)),
                Err(e) => refused.push((index, e)),
            }
        }
        if targets.is_empty() {
            return (None, refused);
        }
        let write = OpenWrite {
            id: req.write_id,
            raw_frames: req.raw_frames,
            targets,
            needed: req.section_bytes(),
            window: ctx.config.buffer_bytes as u64,
            received: 0,
            granted: 0,
            small: BytesMut::new(),
        };
        (Some(write), refused)
    }

    /// The first credit: as much as the buffer holds, at most what is needed.
    pub(super) fn initial_credit(&mut self) -> u64 {
        self.granted = self.needed.min(self.window);
        self.granted
    }

    /// Target `index`'s engine took `taken` more bytes: the credit to grant
    /// now. The slowest target still taking data sets the pace, so no
    /// target's queue holds more than the window.
    pub(super) fn more_credit(&mut self, index: u32, taken: u64) -> u64 {
        if let Some(t) = self.targets.iter_mut().find(|t| t.index == index) {
            t.taken += taken;
        }
        self.grant()
    }

    fn grant(&mut self) -> u64 {
        let Some(slowest) = self
            .targets
            .iter()
            .filter(|t| t.live())
            .map(|t| t.taken)
            .min()
        else {
            return 0;
        };
        let limit = slowest.saturating_add(self.window).min(self.needed);
        let grant = limit.saturating_sub(self.granted);
        self.granted += grant;
        grant
    }

    /// Target `index` sent its result: it no longer holds back the others.
    /// Returns the credit that frees.
    pub(super) fn target_done(&mut self, index: u32) -> u64 {
        if let Some(t) = self.targets.iter_mut().find(|t| t.index == index) {
            t.done = true;
            t.data = None;
        }
        self.grant()
    }

    /// The recorder id of target `index`.
    pub(super) fn recorder_of(&self, index: u32) -> String {
        self.targets
            .iter()
            .find(|t| t.index == index)
            .map(|t| t.recorder.clone())
            .unwrap_or_default()
    }

    /// Every target has sent its result.
    pub(super) fn all_done(&self) -> bool {
        self.targets.iter().all(|t| t.done)
    }

    /// Bytes received so far: the offset of the next payload.
    pub(super) fn received(&self) -> u64 {
        self.received
    }

    /// True while the client holds credit it has not used: the helper is
    /// waiting for its data.
    pub(super) fn awaiting_data(&self) -> bool {
        self.targets.iter().any(Target::live) && self.received < self.granted
    }

    /// Takes a data frame's payload for this write.
    pub(super) fn accept(
        &mut self,
        header: DataFrameHeader,
        payload: &Bytes,
    ) -> Result<(), Violation> {
        if header.offset != self.received {
            return Err(Violation {
                code: ErrorCode::BadOffset,
                detail: format!(
                    "data frame for write {} starts at offset {}, expected {}",
                    self.id, header.offset, self.received
                ),
            });
        }
        let end = self.received + payload.len() as u64;
        if end > self.granted {
            return Err(Violation {
                code: ErrorCode::CreditExceeded,
                detail: format!(
                    "data frame for write {} ends at offset {end}, beyond the {} bytes of credit granted",
                    self.id, self.granted
                ),
            });
        }
        self.received = end;
        if payload.len() >= COALESCE_BYTES {
            self.flush();
            self.queue(payload);
        } else {
            // Small frames are copied together, so a client sending tiny frames
            // cannot make the helper hold a queue entry per few bytes of credit.
            self.small.extend_from_slice(payload);
            if self.small.len() >= COALESCE_BYTES || end == self.granted {
                self.flush();
            }
        }
        Ok(())
    }

    /// The client's source ended early: the engine sees the end of its data
    /// after what was received (and ends with E_INVALIDARG).
    pub(super) fn end_of_data(&mut self) {
        self.flush();
        for t in &mut self.targets {
            t.data = None;
        }
    }

    /// True while small payloads wait to be handed to the engine.
    pub(super) fn has_small(&self) -> bool {
        !self.small.is_empty()
    }

    /// Hands the gathered small payloads to the engine.
    pub(super) fn flush(&mut self) {
        if !self.small.is_empty() {
            let gathered = self.small.split().freeze();
            self.queue(&gathered);
        }
    }

    fn queue(&self, payload: &Bytes) {
        if payload.is_empty() {
            return;
        }
        for tx in self.targets.iter().filter_map(|t| t.data.as_ref()) {
            // Shared, not copied. An engine may have stopped already (an
            // error); its result follows.
            tx.send(payload.clone());
        }
    }

    /// CancelWrite of every target, or of one (`target`): S_OK if one is
    /// still running (it will end with E_IMAPI_REQUEST_CANCELLED unless its
    /// last WRITE already completed, or with its own failure if it had
    /// already failed), S_IMAPI_WRITE_NOT_IN_PROGRESS if none is. Engines are stopped on blocking threads. Also used when the
    /// session ends, and after the client's data ended early.
    pub(super) fn cancel(&mut self, target: Option<u32>) -> HResult {
        let mut result = HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS;
        for t in &mut self.targets {
            if target.is_none_or(|i| i == t.index) && t.cancel() == HResult::S_OK {
                result = HResult::S_OK;
            }
        }
        result
    }
}

impl Drop for OpenWrite {
    /// A write nobody tracks any more (the session ended, the server shuts
    /// down) must not keep writing from what is left in its queue.
    fn drop(&mut self) {
        self.cancel(None);
    }
}
