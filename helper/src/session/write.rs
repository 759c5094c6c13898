//! One write of a session: the engine running WriteSection on a blocking
//! thread, fed from the session's data frames, and the credit bookkeeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc::UnboundedSender;
use webburn_shared::protocol::WriteProperties;
use webburn_shared::{DataFrameHeader, DiscOptions, HResult};

use super::WriteEvent;
use super::source::ChannelReader;
use crate::engine::{EngineConfig, EngineError, WriteEngine};
use crate::server::registry::{Registry, SessionId};

/// What `startWrite` asked for.
#[derive(Debug, Clone)]
pub(crate) struct WriteRequest {
    pub write_id: u32,
    pub properties: WriteProperties,
    pub starting_block_address: i32,
    pub number_of_blocks: i32,
    pub total_bytes: u64,
    pub raw_frames: bool,
    /// The DiscFormat2Data flow around the write, if asked for.
    pub disc: Option<DiscOptions>,
}

/// A data frame that breaks the protocol; the session ends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The `code` of the error message.
    pub code: &'static str,
    /// What exactly was wrong.
    pub detail: String,
}

/// A running write.
#[derive(Debug)]
pub(crate) struct OpenWrite {
    pub id: u32,
    /// Binary messages are payload alone (no data-frame header).
    pub raw_frames: bool,
    engine: Arc<WriteEngine>,
    /// Payloads go here; `None` once the write is being cancelled.
    data: Option<std::sync::mpsc::Sender<Bytes>>,
    cancel: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    /// Bytes the section needs (numberOfBlocks x BytesPerSector).
    needed: u64,
    /// Bytes received so far: the offset the next frame must carry.
    received: u64,
    /// Credit granted so far, counted from offset 0.
    granted: u64,
    /// Payloads of small frames not yet handed to the engine.
    small: BytesMut,
}

/// Frames with less payload than this are gathered before the engine gets them.
const COALESCE_BYTES: usize = 64 * 1024;

/// Puts the requested properties on a fresh engine and checks the section,
/// claiming the recorder; returns the engine or the HRESULT to answer with.
fn prepare(
    req: &WriteRequest,
    config: EngineConfig,
    registry: &Registry,
    session: SessionId,
) -> Result<WriteEngine, EngineError> {
    let p = &req.properties;
    let cached = registry.cached(&p.recorder);
    let engine = WriteEngine::new(EngineConfig {
        max_transfer: cached.as_ref().map_or(
            config.max_transfer,
            crate::devices::RecorderInfo::preferred_transfer_bytes,
        ),
        ..config
    });
    let invalid = |what: String| EngineError::new(HResult::E_INVALIDARG, what);
    engine
        .put_bytes_per_sector(p.bytes_per_sector)
        .map_err(|_| {
            invalid(format!(
                "bytesPerSector {} is not positive",
                p.bytes_per_sector
            ))
        })?;
    engine
        .put_starting_sectors_per_second(p.starting_sectors_per_second)
        .map_err(|_| {
            invalid(format!(
                "startingSectorsPerSecond {} is neither -1 nor positive",
                p.starting_sectors_per_second
            ))
        })?;
    engine
        .put_ending_sectors_per_second(p.ending_sectors_per_second)
        .map_err(|_| {
            invalid(format!(
                "endingSectorsPerSecond {} is neither -1 nor positive",
                p.ending_sectors_per_second
            ))
        })?;
    engine
        .put_use_streaming_write12(p.use_streaming_write12)
        .map_err(|h| EngineError::new(h, "useStreamingWrite12"))?;
    if p.recorder.is_empty() {
        return Err(EngineError::new(
            HResult::E_IMAPI_RECORDER_REQUIRED,
            "no recorder was named",
        ));
    }
    if let Some(why) = cached
        .as_ref()
        .and_then(|info| info.sector_size_mismatch(p.bytes_per_sector))
    {
        return Err(invalid(why));
    }
    let recorder = registry.claim(&p.recorder, session).map_err(|h| {
        let detail = if h == HResult::E_IMAPI_RECORDER_LOCKED {
            format!("{} is in use by another session", p.recorder)
        } else {
            format!("this helper offers no recorder {:?}", p.recorder)
        };
        EngineError::new(h, detail)
    })?;
    let checked = engine
        .put_recorder(recorder)
        .map_err(|h| EngineError::new(h, "recorder"))
        .and_then(|()| {
            engine.check_section(
                Some(req.total_bytes),
                req.starting_block_address,
                req.number_of_blocks,
            )
        });
    if let Err(e) = checked {
        registry.release(session);
        return Err(e);
    }
    Ok(engine)
}

impl OpenWrite {
    /// Validates `req` and starts WriteSection on a blocking thread. The
    /// thread reports through `events` and releases the recorder when it ends.
    pub fn start(
        req: &WriteRequest,
        config: EngineConfig,
        registry: &Arc<Registry>,
        session: SessionId,
        events: &UnboundedSender<WriteEvent>,
    ) -> Result<OpenWrite, EngineError> {
        let engine = Arc::new(prepare(req, config, registry, session)?);
        let needed = u64::from(req.number_of_blocks.unsigned_abs())
            * u64::from(req.properties.bytes_per_sector.unsigned_abs());
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let stopped = {
            let engine = Arc::clone(&engine);
            Box::new(move || engine.stopping())
        };
        let source = ChannelReader::new(
            rx,
            events.clone(),
            req.write_id,
            Arc::clone(&cancel),
            stopped,
        );
        let id = req.write_id;
        let section = crate::disc::Section {
            source_len: Some(req.total_bytes),
            start_lba: req.starting_block_address,
            sector_count: req.number_of_blocks,
        };
        let disc = req.disc;
        let task = {
            let engine = Arc::clone(&engine);
            let (cancel, finished) = (Arc::clone(&cancel), Arc::clone(&finished));
            let (registry, events) = (Arc::clone(registry), events.clone());
            move || {
                let updates = events.clone();
                let result = if cancel.load(Ordering::Acquire) {
                    Err(EngineError::cancelled())
                } else if let Some(options) = disc {
                    let stop = || cancel.load(Ordering::Acquire);
                    crate::disc::burn(&engine, source, section, options, &stop, |args, data| {
                        let _ = updates.send(WriteEvent::Update(id, *args, Some(*data)));
                    })
                    .map(Some)
                } else {
                    engine
                        .write_section(
                            source,
                            section.source_len,
                            section.start_lba,
                            section.sector_count,
                            |args| {
                                let _ = updates.send(WriteEvent::Update(id, *args, None));
                            },
                        )
                        .map(|()| None)
                };
                finished.store(true, Ordering::Release);
                let result = match result {
                    Err(_) if cancel.load(Ordering::Acquire) => Err(EngineError::cancelled()),
                    r => r,
                };
                // The device closes when its last holder lets go: this task
                // first, the session's handle when it reads Done.
                drop(engine);
                registry.release(session);
                let _ = events.send(WriteEvent::Done(id, result));
            }
        };
        tokio::task::spawn_blocking(task);
        Ok(OpenWrite {
            id,
            raw_frames: req.raw_frames,
            engine,
            data: Some(tx),
            cancel,
            finished,
            needed,
            received: 0,
            granted: 0,
            small: BytesMut::new(),
        })
    }

    /// The first credit: as much as the buffer holds, at most what is needed.
    pub fn initial_credit(&mut self, buffer_bytes: usize) -> u64 {
        self.granted = self.needed.min(buffer_bytes as u64);
        self.granted
    }

    /// Turns bytes the engine took into credit to grant (never past the end).
    pub fn more_credit(&mut self, taken: u64) -> u64 {
        if self.data.is_none() {
            return 0;
        }
        let grant = taken.min(self.needed - self.granted);
        self.granted += grant;
        grant
    }

    /// Bytes received so far: the offset of the next payload.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// True while the client holds credit it has not used: the helper is
    /// waiting for its data.
    pub fn awaiting_data(&self) -> bool {
        self.data.is_some() && self.received < self.granted
    }

    /// Takes a data frame's payload for this write.
    pub fn accept(&mut self, header: DataFrameHeader, payload: Bytes) -> Result<(), Violation> {
        if header.offset != self.received {
            return Err(Violation {
                code: "badOffset",
                detail: format!(
                    "data frame for write {} starts at offset {}, expected {}",
                    self.id, header.offset, self.received
                ),
            });
        }
        let end = self.received + payload.len() as u64;
        if end > self.granted {
            return Err(Violation {
                code: "creditExceeded",
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
            self.small.extend_from_slice(&payload);
            if self.small.len() >= COALESCE_BYTES || end == self.granted {
                self.flush();
            }
        }
        Ok(())
    }

    /// The client's source ended early: the engine sees the end of its data
    /// after what was received (and ends with E_INVALIDARG).
    pub fn end_of_data(&mut self) {
        self.flush();
        self.data = None;
    }

    /// True while small payloads wait to be handed to the engine.
    pub fn has_small(&self) -> bool {
        !self.small.is_empty()
    }

    /// Hands the gathered small payloads to the engine.
    pub fn flush(&mut self) {
        if !self.small.is_empty() {
            let gathered = self.small.split().freeze();
            self.queue(gathered);
        }
    }

    fn queue(&self, payload: Bytes) {
        if let Some(tx) = &self.data
            && !payload.is_empty()
        {
            // The engine may have stopped already (an error); its result follows.
            let _ = tx.send(payload);
        }
    }

    /// CancelWrite: S_OK if the write is still running (it will end with
    /// E_IMAPI_REQUEST_CANCELLED unless its last WRITE already completed),
    /// S_IMAPI_WRITE_NOT_IN_PROGRESS if WriteSection has returned. The engine
    /// is stopped on a blocking thread. Also used when the session ends, and
    /// after the client's data ended early (the engine may still be writing).
    pub fn cancel(&mut self) -> HResult {
        if self.finished.load(Ordering::Acquire) {
            return HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS;
        }
        if self.cancel.swap(true, Ordering::AcqRel) {
            // Already cancelling.
            return HResult::S_OK;
        }
        let engine = Arc::clone(&self.engine);
        let tx = self.data.take();
        let stop = move || {
            engine.cancel_write();
            // Wakes the reader if it waits for data; it sees the cancel and stops.
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

impl Drop for OpenWrite {
    /// A write nobody tracks any more (the session ended, the server shuts
    /// down) must not keep writing from what is left in its queue.
    fn drop(&mut self) {
        self.cancel();
    }
}
