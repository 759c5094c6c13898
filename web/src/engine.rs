//! WriteEngine2: IWriteEngine2's properties, writeSection, cancelWrite and
//! `update` events, over the helper's protocol.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::mpsc::UnboundedReceiver;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;
use web_sys::EventTarget;
use webburn_shared::protocol::{ClientMessage, ServerMessage, StartWrite, WriteProperties};
use webburn_shared::section::{self, SectionError};
use webburn_shared::{DiscOptions, DiscReport, ErrorCode, HResult};

use crate::connection::Connection;
use crate::error::{hresult_error, invalid, with_bad_lba, with_code, with_sense};
use crate::event_args::{About, dispatch_update};
use crate::recorder::DiscRecorder2;
use crate::source::{Piece, Source};

#[derive(Debug)]
struct Props {
    recorder: Option<DiscRecorder2>,
    bytes_per_sector: i32,
    starting_sectors_per_second: i32,
    ending_sectors_per_second: i32,
    use_streaming_write12: bool,
}

#[derive(Debug)]
struct Running {
    write_id: u32,
    connection: Connection,
    /// Resolved when the helper answers a cancel.
    cancels: Vec<futures_channel::oneshot::Sender<()>>,
}

#[derive(Debug)]
struct Inner {
    props: Props,
    running: Option<Running>,
}

/// IWriteEngine2: writes a section of data to a recorder.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WriteEngine2 {
    inner: Rc<RefCell<Inner>>,
    events: EventTarget,
}

fn check_rate(name: &str, value: i32) -> Result<i32, JsValue> {
    section::check_rate(name, value).map_err(|e| section_error(&e))
}

fn section_error(e: &SectionError) -> JsValue {
    hresult_error(e.hresult, &e.detail)
}

#[wasm_bindgen]
impl WriteEngine2 {
    /// An engine with IMAPI's defaults: no recorder, bytesPerSector -1, both
    /// rates -1, useStreamingWrite12 false.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<WriteEngine2, JsValue> {
        Ok(WriteEngine2 {
            inner: Rc::new(RefCell::new(Inner {
                props: Props {
                    recorder: None,
                    bytes_per_sector: -1,
                    starting_sectors_per_second: -1,
                    ending_sectors_per_second: -1,
                    use_streaming_write12: false,
                },
                running: None,
            })),
            events: EventTarget::new()?,
        })
    }

    fn put(&self, f: impl FnOnce(&mut Props)) -> Result<(), JsValue> {
        let mut inner = self.inner.borrow_mut();
        if inner.running.is_some() {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "properties cannot change while a write runs",
            ));
        }
        f(&mut inner.props);
        Ok(())
    }

    /// Recorder: the DiscRecorder2 to write to.
    #[wasm_bindgen(getter)]
    pub fn recorder(&self) -> Option<DiscRecorder2> {
        self.inner.borrow().props.recorder.clone()
    }

    /// Sets Recorder (the page keeps its DiscRecorder2: the engine holds a copy).
    #[wasm_bindgen(setter)]
    pub fn set_recorder(&self, recorder: &DiscRecorder2) -> Result<(), JsValue> {
        let recorder = recorder.clone();
        self.put(|p| p.recorder = Some(recorder))
    }

    /// BytesPerSector: -1 until set.
    #[wasm_bindgen(getter, js_name = bytesPerSector)]
    pub fn bytes_per_sector(&self) -> i32 {
        self.inner.borrow().props.bytes_per_sector
    }

    /// Sets BytesPerSector (at least 1, else E_INVALIDARG).
    #[wasm_bindgen(setter, js_name = bytesPerSector)]
    pub fn set_bytes_per_sector(&self, value: i32) -> Result<(), JsValue> {
        if value < 1 {
            return Err(invalid(&format!(
                "bytesPerSector must be at least 1, not {value}"
            )));
        }
        self.put(|p| p.bytes_per_sector = value)
    }

    /// StartingSectorsPerSecond: the rate the drive is expected to write at
    /// when the section starts (-1, the default: unknown). As in IMAPI it
    /// never slows the write and never reaches the drive: the helper uses it
    /// to time its waits on a full drive buffer. The drive's speed is
    /// DiscFormat2Data's `setWriteSpeed`.
    #[wasm_bindgen(getter, js_name = startingSectorsPerSecond)]
    pub fn starting_sectors_per_second(&self) -> i32 {
        self.inner.borrow().props.starting_sectors_per_second
    }

    /// Sets StartingSectorsPerSecond (-1 or positive, else E_INVALIDARG).
    #[wasm_bindgen(setter, js_name = startingSectorsPerSecond)]
    pub fn set_starting_sectors_per_second(&self, value: i32) -> Result<(), JsValue> {
        let v = check_rate("startingSectorsPerSecond", value)?;
        self.put(|p| p.starting_sectors_per_second = v)
    }

    /// EndingSectorsPerSecond: the expected rate at the section's end
    /// (a CAV drive speeds up outwards); a hint, as StartingSectorsPerSecond.
    #[wasm_bindgen(getter, js_name = endingSectorsPerSecond)]
    pub fn ending_sectors_per_second(&self) -> i32 {
        self.inner.borrow().props.ending_sectors_per_second
    }

    /// Sets EndingSectorsPerSecond (-1 or positive, else E_INVALIDARG).
    #[wasm_bindgen(setter, js_name = endingSectorsPerSecond)]
    pub fn set_ending_sectors_per_second(&self, value: i32) -> Result<(), JsValue> {
        let v = check_rate("endingSectorsPerSecond", value)?;
        self.put(|p| p.ending_sectors_per_second = v)
    }

    /// UseStreamingWrite12: WRITE(12) with the Streaming bit instead of WRITE(10).
    #[wasm_bindgen(getter, js_name = useStreamingWrite12)]
    pub fn use_streaming_write12(&self) -> bool {
        self.inner.borrow().props.use_streaming_write12
    }

    /// Sets UseStreamingWrite12.
    #[wasm_bindgen(setter, js_name = useStreamingWrite12)]
    pub fn set_use_streaming_write12(&self, value: bool) -> Result<(), JsValue> {
        self.put(|p| p.use_streaming_write12 = value)
    }

    /// WriteInProgress (read-only).
    #[wasm_bindgen(getter, js_name = writeInProgress)]
    pub fn write_in_progress(&self) -> bool {
        self.inner.borrow().running.is_some()
    }

    /// WriteSection: writes `numberOfBlocks` sectors of bytesPerSector bytes
    /// from `data` at `startingBlockAddress`. Resolves when the device has
    /// accepted the last sector; rejects with an Error carrying `hresult`,
    /// `name`, `detail` and, when the device gave it, `sense`.
    #[wasm_bindgen(js_name = writeSection, unchecked_return_type = "Promise<void>")]
    pub fn write_section(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>"
        )]
        data: &JsValue,
        #[wasm_bindgen(js_name = startingBlockAddress)] starting_block_address: i32,
        #[wasm_bindgen(js_name = numberOfBlocks)] number_of_blocks: i32,
    ) -> Promise {
        self.start(data, starting_block_address, number_of_blocks, None, |_| {
            JsValue::UNDEFINED
        })
    }

    /// CancelWrite: the running write stops before its next WRITE and its
    /// promise rejects with E_IMAPI_REQUEST_CANCELLED. Resolves once the
    /// helper has answered (at once if no write runs).
    #[wasm_bindgen(js_name = cancelWrite, unchecked_return_type = "Promise<void>")]
    pub fn cancel_write(&self) -> Promise {
        self.cancel(None)
    }

    /// Listens for `update` events: the event (and its `detail`) carries the
    /// IWriteEngine2EventArgs properties.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: WriteEngine2UpdateEvent) => void")] listener: &Function,
    ) -> Result<(), JsValue> {
        self.events.add_event_listener_with_callback(kind, listener)
    }

    /// Stops listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: WriteEngine2UpdateEvent) => void")] listener: &Function,
    ) -> Result<(), JsValue> {
        self.events
            .remove_event_listener_with_callback(kind, listener)
    }
}

/// How one recorder's part of a write ended: the disc flow's report, or the
/// Error to reject with.
pub(crate) type Outcome = Result<Option<DiscReport>, JsValue>;

/// A write that passed the checks and was announced to the helper.
struct Job {
    connection: Connection,
    write_id: u32,
    /// The recorder id of each target.
    recorders: Vec<String>,
    messages: UnboundedReceiver<ServerMessage>,
    source: Source,
    needed: u64,
    max_payload: u64,
}

impl WriteEngine2 {
    /// Cancels the running write, or one target of a duplicated write.
    pub(crate) fn cancel(&self, target: Option<u32>) -> Promise {
        let (tx, rx) = futures_channel::oneshot::channel();
        let sent = {
            let mut inner = self.inner.borrow_mut();
            match inner.running.as_mut() {
                Some(r) => {
                    r.cancels.push(tx);
                    Some(r.connection.send(&ClientMessage::CancelWrite {
                        write_id: r.write_id,
                        target,
                    }))
                }
                None => None,
            }
        };
        match sent {
            None | Some(Err(_)) => Promise::resolve(&JsValue::UNDEFINED),
            Some(Ok(())) => future_to_promise(async move {
                let _ = rx.await;
                Ok(JsValue::UNDEFINED)
            }),
        }
    }

    /// Starts a write (with the DiscFormat2Data flow when `disc` is given);
    /// the promise resolves to what `done` makes of the helper's report.
    pub(crate) fn start(
        &self,
        data: &JsValue,
        lba: i32,
        blocks: i32,
        disc: Option<DiscOptions>,
        done: impl FnOnce(Option<DiscReport>) -> JsValue + 'static,
    ) -> Promise {
        self.start_many(data, (lba, blocks), disc, &[], |outcomes| {
            outcomes
                .into_iter()
                .next()
                .unwrap_or_else(|| Err(hresult_error(HResult::E_FAIL, "no result")))
                .map(done)
        })
    }

    /// Starts one write that goes to the recorder and to each of
    /// `duplicates` at once; resolves to what `done` makes of the outcome of
    /// each (rejects only when the write as a whole fails).
    pub(crate) fn start_many(
        &self,
        data: &JsValue,
        (lba, blocks): (i32, i32),
        disc: Option<DiscOptions>,
        duplicates: &[DiscRecorder2],
        done: impl FnOnce(Vec<Outcome>) -> Result<JsValue, JsValue> + 'static,
    ) -> Promise {
        match self.begin(data, lba, blocks, disc, duplicates) {
            Ok(job) => {
                let (inner, events) = (Rc::clone(&self.inner), self.events.clone());
                future_to_promise(async move {
                    let result = job.run(&events).await;
                    let cancels = inner
                        .borrow_mut()
                        .running
                        .take()
                        .map(|r| r.cancels)
                        .unwrap_or_default();
                    for c in cancels {
                        let _ = c.send(());
                    }
                    result.and_then(done)
                })
            }
            Err(e) => Promise::reject(&e),
        }
    }

    /// The checks IMAPI makes before writing, then `startWrite`.
    fn begin(
        &self,
        data: &JsValue,
        lba: i32,
        blocks: i32,
        disc: Option<DiscOptions>,
        duplicates: &[DiscRecorder2],
    ) -> Result<Job, JsValue> {
        let mut inner = self.inner.borrow_mut();
        if inner.running.is_some() {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "a write of this engine is running",
            ));
        }
        let p = &inner.props;
        let recorder = p.recorder.clone().ok_or_else(|| {
            hresult_error(HResult::E_IMAPI_RECORDER_REQUIRED, "set the recorder first")
        })?;
        if p.bytes_per_sector < 1 {
            return Err(invalid("bytesPerSector was never set"));
        }
        let source = Source::new(data)?;
        let connection = recorder.connection.clone();
        let max_payload = connection
            .limits()
            .map_or(1 << 20, |l| {
                u64::from(l.max_frame_bytes)
                    .saturating_sub(webburn_shared::frame::HEADER_LEN as u64)
            })
            .max(1);
        let mut recorders = vec![recorder.desc.id.clone()];
        for d in duplicates {
            if !d.connection.same_as(&connection) {
                return Err(invalid(&format!(
                    "{} belongs to another connection than the recorder",
                    d.desc.id
                )));
            }
            recorders.push(d.desc.id.clone());
        }
        let mut start = StartWrite {
            write_id: 0,
            properties: WriteProperties {
                recorder: recorder.desc.id.clone(),
                bytes_per_sector: p.bytes_per_sector,
                starting_sectors_per_second: p.starting_sectors_per_second,
                ending_sectors_per_second: p.ending_sectors_per_second,
                use_streaming_write12: p.use_streaming_write12,
            },
            starting_block_address: lba,
            number_of_blocks: blocks,
            total_bytes: source.size().unwrap_or(u64::MAX),
            raw_frames: true,
            disc,
            duplicate_to: recorders[1..].to_vec(),
        };
        // The helper makes the same check; a page learns of a mistake at once.
        let needed = start.validate().map_err(|e| section_error(&e))?.bytes();
        start.total_bytes = source.size().unwrap_or(needed);
        let (write_id, messages) = connection.register_write(recorders.len());
        start.write_id = write_id;
        connection.send(&ClientMessage::StartWrite(start))?;
        inner.running = Some(Running {
            write_id,
            connection: connection.clone(),
            cancels: Vec::new(),
        });
        Ok(Job {
            connection,
            write_id,
            recorders,
            messages,
            source,
            needed,
            max_payload,
        })
    }
}

impl Job {
    /// Sends data within the credit and follows the helper's messages to the end.
    async fn run(mut self, events: &EventTarget) -> Result<Vec<Outcome>, JsValue> {
        let result = self.pump(events).await;
        self.source.release();
        result
    }

    /// The error a fatal `error` ends the write with. The browser drops the
    /// socket when a chosen File can no longer be read: that is said as
    /// IMAPI_E_DATA_STREAM_INCONSISTENCY rather than "connection lost".
    async fn fatal(&self, hresult: HResult, code: ErrorCode, detail: &str, sent: u64) -> JsValue {
        if code == ErrorCode::ConnectionLost
            && let Some(at) = self
                .source
                .first_unreadable(sent.saturating_sub(32 << 20), sent)
                .await
        {
            return hresult_error(
                HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY,
                &format!(
                    "a file changed or became unreadable after it was chosen (byte {at} of the data); the helper stopped the write and wrote nothing after it"
                ),
            );
        }
        with_code(hresult_error(hresult, detail), Some(code))
    }

    /// The data source failed (a corrupt compressed image, a stream the
    /// page errored): the helper is told to stop before its next WRITE, and
    /// once the `left` targets still writing have answered, the write ends
    /// with the source's error.
    async fn abandon(&mut self, error: JsValue, mut left: usize) -> JsValue {
        let cancel = ClientMessage::CancelWrite {
            write_id: self.write_id,
            target: None,
        };
        if self.connection.send(&cancel).is_ok() {
            while left > 0 {
                match self.messages.next().await {
                    Some(ServerMessage::WriteResult { .. }) => left -= 1,
                    Some(ServerMessage::Error { fatal: true, .. }) | None => break,
                    Some(_) => {}
                }
            }
        }
        error
    }

    async fn pump(&mut self, events: &EventTarget) -> Result<Vec<Outcome>, JsValue> {
        let (mut sent, mut granted) = (0u64, 0u64);
        let mut outcomes: Vec<Option<Outcome>> = self.recorders.iter().map(|_| None).collect();
        let mut pending_read = None;
        let mut ended = false;
        loop {
            while !ended && sent < granted.min(self.needed) {
                let max = (granted.min(self.needed) - sent).min(self.max_payload);
                match self.source.piece(sent, max)? {
                    Piece::Data(piece, n) => {
                        // rawFrames: the slice goes as it is, no Blob is built.
                        self.connection.send_binary(&piece)?;
                        sent += n;
                    }
                    Piece::NeedRead => {
                        if pending_read.is_none() {
                            pending_read = self.source.read()?;
                        }
                        break;
                    }
                    Piece::Ended => {
                        ended = true;
                        self.connection.send(&ClientMessage::EndOfData {
                            write_id: self.write_id,
                        })?;
                    }
                }
            }
            let msg = match pending_read.as_mut() {
                Some(read) => match select(read, self.messages.next()).await {
                    Either::Left((result, _)) => {
                        pending_read = None;
                        match result {
                            Ok(read) => self.source.take_read(&read)?,
                            Err(e) => {
                                let left = outcomes.iter().filter(|o| o.is_none()).count();
                                return Err(self.abandon(e, left).await);
                            }
                        }
                        continue;
                    }
                    Either::Right((msg, _)) => msg,
                },
                None => self.messages.next().await,
            };
            let Some(msg) = msg else {
                return Err(hresult_error(
                    HResult::E_FAIL,
                    "the connection to the helper was lost; the helper stopped the write",
                ));
            };
            match msg {
                ServerMessage::WriteStarted { credit, .. } => granted = credit,
                ServerMessage::Credit { bytes, .. } => granted += bytes,
                ServerMessage::Update {
                    args, data, target, ..
                } => {
                    let id = self
                        .recorders
                        .get(target as usize)
                        .map_or("", String::as_str);
                    dispatch_update(events, args, data, About { index: target, id });
                }
                ServerMessage::Error {
                    hresult,
                    detail,
                    code,
                    fatal: true,
                    ..
                } => return Err(self.fatal(hresult, code, &detail, sent).await),
                ServerMessage::WriteResult {
                    target,
                    hresult,
                    detail,
                    sense,
                    code,
                    first_bad_lba,
                    disc,
                    ..
                } => {
                    let outcome = if hresult.is_failure() {
                        let e = with_sense(hresult_error(hresult, &detail), sense);
                        Err(with_code(with_bad_lba(e, first_bad_lba), code))
                    } else {
                        Ok(disc.map(|d| *d))
                    };
                    if let Some(slot) = outcomes.get_mut(target as usize) {
                        *slot = Some(outcome);
                    }
                    if outcomes.iter().all(Option::is_some) {
                        return Ok(outcomes.into_iter().flatten().collect());
                    }
                }
                _ => {}
            }
        }
    }
}
