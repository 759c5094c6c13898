//! DiscFormat2Data: IDiscFormat2Data's burn of a whole image onto the next
//! writable address, with the steps burners add around the WRITEs (medium
//! check, speed, simulation, closing, verify, eject), run by the helper.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use web_sys::Blob;
use webburn_shared::protocol::MAX_TARGETS;
use webburn_shared::{
    DiscOptions, DiscReport, ErrorCode, HResult, Padded, VerificationLevel, compat,
};

use crate::disk_image::DiskImage;
use crate::engine::{Outcome, WriteEngine2};
use crate::error::{hresult_error, invalid, with_code};
use crate::image_stream::Shape;
use crate::recorder::DiscRecorder2;

/// IDiscFormat2Data: writes data to a disc (or a disk) as one session.
#[wasm_bindgen]
#[derive(Debug)]
pub struct DiscFormat2Data {
    engine: WriteEngine2,
    options: Cell<DiscOptions>,
    /// Recorders `duplicate` burns besides `recorder`.
    duplicates: RefCell<Vec<DiscRecorder2>>,
}

/// Bytes in a Blob, an ArrayBuffer or a typed array; `None` for a stream.
fn data_size(data: &JsValue) -> Option<f64> {
    ["size", "byteLength"]
        .iter()
        .find_map(|k| Reflect::get(data, &JsValue::from_str(k)).ok()?.as_f64())
}

/// `data` followed by `pad` zero bytes, as a Blob (the data is not copied).
fn padded(data: &JsValue, pad: u32) -> Result<JsValue, JsValue> {
    let parts = Array::of2(data, &Uint8Array::new_with_length(pad));
    Ok(Blob::new_with_buffer_source_sequence(&parts)?.into())
}

#[wasm_bindgen]
impl DiscFormat2Data {
    /// A burner with BurnVerificationLevel FULL, the drive's own speed, no
    /// simulation and no eject.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<DiscFormat2Data, JsValue> {
        let engine = WriteEngine2::new()?;
        engine.set_bytes_per_sector(2048)?;
        Ok(DiscFormat2Data {
            engine,
            options: Cell::new(DiscOptions::default()),
            duplicates: RefCell::new(Vec::new()),
        })
    }

    fn put(&self, f: impl FnOnce(&mut DiscOptions)) -> Result<(), JsValue> {
        if self.engine.write_in_progress() {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "settings cannot change while a burn runs",
            ));
        }
        let mut o = self.options.get();
        f(&mut o);
        self.options.set(o);
        Ok(())
    }

    /// Recorder.
    #[wasm_bindgen(getter)]
    pub fn recorder(&self) -> Option<DiscRecorder2> {
        self.engine.recorder()
    }

    /// Sets Recorder; a disk's own block size becomes the sector size.
    #[wasm_bindgen(setter)]
    pub fn set_recorder(&self, recorder: &DiscRecorder2) -> Result<(), JsValue> {
        self.engine.set_recorder(recorder)?;
        self.engine.set_bytes_per_sector(sector_size(recorder))
    }

    /// Adds a recorder that `duplicate` burns at the same time as `recorder`
    /// (webburn addition). E_INVALIDARG for a recorder already in the burn,
    /// one of another connection, or more than 16 in all.
    #[wasm_bindgen(js_name = addDuplicateRecorder)]
    pub fn add_duplicate_recorder(&self, recorder: &DiscRecorder2) -> Result<(), JsValue> {
        self.put(|_| ())?;
        let mut list = self.duplicates.borrow_mut();
        let id = &recorder.desc.id;
        let main = self.engine.recorder();
        if main.as_ref().is_some_and(|m| &m.desc.id == id) || list.iter().any(|d| &d.desc.id == id)
        {
            return Err(invalid(&format!("{id} is already in this burn")));
        }
        if list.len() + 1 >= MAX_TARGETS {
            return Err(invalid(&format!(
                "a burn may go to at most {MAX_TARGETS} recorders"
            )));
        }
        list.push(recorder.clone());
        Ok(())
    }

    /// Removes every duplicate recorder.
    #[wasm_bindgen(js_name = clearDuplicateRecorders)]
    pub fn clear_duplicate_recorders(&self) -> Result<(), JsValue> {
        self.put(|_| ())?;
        self.duplicates.borrow_mut().clear();
        Ok(())
    }

    /// The recorders added with addDuplicateRecorder.
    #[wasm_bindgen(getter, js_name = duplicateRecorders, unchecked_return_type = "DiscRecorder2[]")]
    pub fn duplicate_recorders(&self) -> Array {
        self.duplicates
            .borrow()
            .iter()
            .map(|r| JsValue::from(r.clone()))
            .collect()
    }

    /// BurnVerificationLevel: 0 none, 1 quick (first and last block), 2 full.
    #[wasm_bindgen(getter, js_name = burnVerificationLevel)]
    pub fn burn_verification_level(&self) -> i32 {
        self.options.get().verification.into()
    }

    /// Sets BurnVerificationLevel (0, 1 or 2, else E_INVALIDARG).
    #[wasm_bindgen(setter, js_name = burnVerificationLevel)]
    pub fn set_burn_verification_level(&self, level: i32) -> Result<(), JsValue> {
        let level = VerificationLevel::try_from(level).map_err(|e| invalid(&e.to_string()))?;
        self.put(|o| o.verification = level)
    }

    /// SetWriteSpeed: sectors per second, -1 for the drive's own choice. The
    /// drive takes the fastest speed it offers that is not above it.
    #[wasm_bindgen(js_name = setWriteSpeed)]
    pub fn set_write_speed(&self, sectors_per_second: i32) -> Result<(), JsValue> {
        if sectors_per_second == 0 || sectors_per_second < -1 {
            return Err(invalid(&format!(
                "the write speed must be -1 or positive, not {sectors_per_second}"
            )));
        }
        self.put(|o| o.write_speed = sectors_per_second)
    }

    /// RequestedWriteSpeed: what setWriteSpeed asked for (-1: the drive's choice).
    #[wasm_bindgen(getter, js_name = requestedWriteSpeed)]
    pub fn requested_write_speed(&self) -> i32 {
        self.options.get().write_speed
    }

    /// SupportedWriteSpeeds of the recorder's medium, sectors per second.
    #[wasm_bindgen(getter, js_name = supportedWriteSpeeds, unchecked_return_type = "number[]")]
    pub fn supported_write_speeds(&self) -> Array {
        self.engine
            .recorder()
            .map_or_else(Array::new, |r| r.supported_write_speeds())
    }

    /// A test write (CD-R, DVD-R): nothing is recorded (webburn addition).
    #[wasm_bindgen(getter)]
    pub fn simulate(&self) -> bool {
        self.options.get().simulate
    }

    /// Sets simulate.
    #[wasm_bindgen(setter)]
    pub fn set_simulate(&self, on: bool) -> Result<(), JsValue> {
        self.put(|o| o.simulate = on)
    }

    /// Open the tray when the burn is done (webburn addition).
    #[wasm_bindgen(getter, js_name = ejectWhenDone)]
    pub fn eject_when_done(&self) -> bool {
        self.options.get().eject
    }

    /// Sets ejectWhenDone.
    #[wasm_bindgen(setter, js_name = ejectWhenDone)]
    pub fn set_eject_when_done(&self, on: bool) -> Result<(), JsValue> {
        self.put(|o| o.eject = on)
    }

    /// Power a disk on USB off when the burn is done, so it can be pulled
    /// out (webburn addition; `poweredOff` in the result says whether it
    /// was; a helper without feature `powerOff` ignores it).
    #[wasm_bindgen(getter, js_name = powerOffWhenDone)]
    pub fn power_off_when_done(&self) -> bool {
        self.options.get().power_off
    }

    /// Sets powerOffWhenDone.
    #[wasm_bindgen(setter, js_name = powerOffWhenDone)]
    pub fn set_power_off_when_done(&self, on: bool) -> Result<(), JsValue> {
        self.put(|o| o.power_off = on)
    }

    /// ForceMediaToBeClosed: true (the default) closes a write-once disc
    /// for good; false leaves it appendable, so files can be added later
    /// (`FileSystemImage.importFileSystem`). Needs the helper feature
    /// `appendable`.
    #[wasm_bindgen(getter, js_name = forceMediaToBeClosed)]
    pub fn force_media_to_be_closed(&self) -> bool {
        !self.options.get().leave_appendable
    }

    /// Sets ForceMediaToBeClosed.
    #[wasm_bindgen(setter, js_name = forceMediaToBeClosed)]
    pub fn set_force_media_to_be_closed(&self, on: bool) -> Result<(), JsValue> {
        self.put(|o| o.leave_appendable = !on)
    }

    /// WriteInProgress.
    #[wasm_bindgen(getter, js_name = writeInProgress)]
    pub fn write_in_progress(&self) -> bool {
        self.engine.write_in_progress()
    }

    /// Write: burns `data` at the recorder's next writable address (LBA 0 on
    /// a disk), padded with zeros to whole sectors. A stream needs
    /// `numberOfBlocks`. Resolves to the burn's report; rejects with an Error
    /// carrying `hresult`, `name`, `detail`, `sense` and, for a failed
    /// verify, `firstBadLba`.
    #[wasm_bindgen(unchecked_return_type = "Promise<DiscFormat2DataResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>"
        )]
        data: &JsValue,
        #[wasm_bindgen(js_name = numberOfBlocks)] number_of_blocks: Option<i32>,
    ) -> Promise {
        match self.prepare(data, number_of_blocks) {
            Ok((data, lba, blocks)) => {
                let mut options = self.options.get();
                // A later session on a rewritable disc grows its file system in place.
                options.grow_in_place =
                    lba > 0 && self.engine.recorder().is_some_and(|r| rewritable(&r));
                self.engine
                    .start(&data, lba, blocks, Some(options), report_object)
            }
            Err(e) => Promise::reject(&e),
        }
    }

    /// WriteImage (webburn addition): flashes a [`DiskImage`] (raw or
    /// compressed) at the recorder's next writable address (LBA 0 on a
    /// disk), decoding it on the way; its end is padded with zeros to whole
    /// sectors. Where the image declares its size the medium is checked
    /// against it before anything is written; where it does not (gzip,
    /// bzip2, zstd from a pipe) the write takes the room on the medium and
    /// ends with the image (an image larger than the medium fails with
    /// E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA before its last
    /// bytes are sent). A corrupt or truncated file stops the write with
    /// IMAPI_E_DATA_STREAM_READ_FAILURE (`code: "corruptImage"`,
    /// `imageOffset`); the helper writes nothing after the good data.
    /// Resolves to the burn's report (`sha256` of the image as written).
    #[wasm_bindgen(js_name = writeImage, unchecked_return_type = "Promise<DiscFormat2DataResult>")]
    pub fn write_image(&self, image: &DiskImage) -> Promise {
        match self.prepare_image(image) {
            Ok((data, lba, blocks, open_end)) => {
                let mut options = self.options.get();
                options.open_end = open_end;
                self.engine
                    .start(&data, lba, blocks, Some(options), report_object)
            }
            Err(e) => Promise::reject(&e),
        }
    }

    /// The duplicator (webburn addition): burns `data` onto `recorder` and
    /// every duplicate recorder at once, from one upload. Each drive has its
    /// own lock, buffer, progress (`recorderIndex` in update events: 0 for
    /// `recorder`, i for the i-th duplicate) and result: a drive that fails
    /// does not stop the others. Resolves to one outcome per drive, in that
    /// order; rejects only when the burn as a whole cannot run.
    #[wasm_bindgen(unchecked_return_type = "Promise<DuplicateOutcome[]>")]
    pub fn duplicate(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>"
        )]
        data: &JsValue,
        #[wasm_bindgen(js_name = numberOfBlocks)] number_of_blocks: Option<i32>,
    ) -> Promise {
        let prepared = self
            .prepare(data, number_of_blocks)
            .map(|(data, lba, blocks)| (data, lba, blocks, false));
        self.duplicate_prepared(prepared)
    }

    /// The duplicator for a [`DiskImage`] (webburn addition): flashes the
    /// image, decoded once, onto `recorder` and every duplicate recorder at
    /// once (an SD-card duplicator), as `writeImage` does for one; an image
    /// whose size only its end tells takes the room of the smallest medium.
    #[wasm_bindgen(js_name = duplicateImage, unchecked_return_type = "Promise<DuplicateOutcome[]>")]
    pub fn duplicate_image(&self, image: &DiskImage) -> Promise {
        self.duplicate_prepared(self.prepare_image(image))
    }
}

impl DiscFormat2Data {
    /// Starts a duplicated write of prepared data (data, address, sectors, open end).
    fn duplicate_prepared(&self, prepared: Result<(JsValue, i32, i32, bool), JsValue>) -> Promise {
        let duplicates = self.duplicates.borrow().clone();
        let bps = self.engine.bytes_per_sector();
        if let Some(d) = duplicates.iter().find(|d| sector_size(d) != bps) {
            return Promise::reject(&invalid(&format!(
                "{} has {}-byte sectors, the recorder {bps}",
                d.desc.id,
                sector_size(d)
            )));
        }
        let mut ids: Vec<String> = self
            .engine
            .recorder()
            .map(|r| r.desc.id.clone())
            .into_iter()
            .collect();
        ids.extend(duplicates.iter().map(|d| d.desc.id.clone()));
        match prepared {
            Ok((data, lba, blocks, open_end)) => {
                let mut options = self.options.get();
                options.open_end = open_end;
                self.engine.start_many(
                    &data,
                    (lba, blocks),
                    Some(options),
                    &duplicates,
                    move |outcomes| Ok(outcomes_array(&ids, outcomes)),
                )
            }
            Err(e) => Promise::reject(&e),
        }
    }
}

#[wasm_bindgen]
impl DiscFormat2Data {
    /// CancelWrite: stops the burn at its next step (or WRITE, or READ); with
    /// `recorderIndex`, only that drive of a duplicated burn.
    #[wasm_bindgen(js_name = cancelWrite, unchecked_return_type = "Promise<void>")]
    pub fn cancel_write(
        &self,
        #[wasm_bindgen(js_name = recorderIndex)] recorder_index: Option<u32>,
    ) -> Promise {
        self.engine.cancel(recorder_index)
    }

    /// Listens for `update` events: IWriteEngine2EventArgs plus CurrentAction,
    /// ElapsedTime, RemainingTime, TotalTime and the verify progress.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: DiscFormat2DataUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.engine.add_event_listener(kind, listener)
    }

    /// Stops listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: DiscFormat2DataUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.engine.remove_event_listener(kind, listener)
    }
}

/// A formatted rewritable disc written anywhere (DVD-RAM, DVD-RW restricted
/// overwrite, DVD+RW, DVD+RW DL, BD-RE): a later session grows its file
/// system in place.
fn rewritable(recorder: &DiscRecorder2) -> bool {
    recorder
        .desc
        .current_profiles
        .first()
        .is_some_and(|p| webburn_shared::medium::is_rewritable(*p))
}

/// The sector size a burn on `recorder` uses (the helper says: a disk's own
/// block size, else 2048).
fn sector_size(recorder: &DiscRecorder2) -> i32 {
    i32::try_from(recorder.desc.sector_size).unwrap_or(2048)
}

/// A burn's report as a plain object (DiscFormat2DataResult).
fn report_object(report: Option<DiscReport>) -> JsValue {
    serde_json::to_string(&report.unwrap_or_default())
        .ok()
        .and_then(|t| js_sys::JSON::parse(&t).ok())
        .unwrap_or(JsValue::NULL)
}

/// One DuplicateOutcome per drive.
fn outcomes_array(ids: &[String], outcomes: Vec<Outcome>) -> JsValue {
    let list = Array::new();
    for (index, (id, outcome)) in ids.iter().zip(outcomes).enumerate() {
        let o = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&o, &k.into(), v);
        };
        set("recorderIndex", &(index as u32).into());
        set("recorderId", &id.into());
        set("ok", &outcome.is_ok().into());
        match outcome {
            Ok(report) => set("report", &report_object(report)),
            Err(e) => set("error", &e),
        }
        list.push(&o);
    }
    list.into()
}

impl DiscFormat2Data {
    /// The data padded to whole sectors, the first LBA and the sector count.
    /// The stream, address, sector count and open end of an image's write.
    fn prepare_image(&self, image: &DiskImage) -> Result<(JsValue, i32, i32, bool), JsValue> {
        if let Some(file) = image.raw() {
            let (data, lba, blocks) = self.prepare(file, None)?;
            return Ok((data, lba, blocks, false));
        }
        let recorder = self.engine.recorder().ok_or_else(|| {
            hresult_error(HResult::E_IMAPI_RECORDER_REQUIRED, "set the recorder first")
        })?;
        let bps = u64::try_from(self.engine.bytes_per_sector())
            .unwrap_or(1)
            .max(1);
        let lba = recorder
            .desc
            .next_writable_address
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or(0);
        let too_big = |what: u64| {
            hresult_error(
                HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
                &format!("{what} bytes cannot be written as one section"),
            )
        };
        let (blocks, open_end) = match image.declared() {
            Some(0) => return Err(invalid("the image is empty")),
            Some(size) => (Padded::new(size, bps).sectors, false),
            None => {
                let offered = recorder.connection.helper_features().unwrap_or_default();
                if !offered.iter().any(|f| f == compat::OPEN_END) {
                    return Err(with_code(
                        hresult_error(
                            HResult::E_NOTIMPL,
                            "this helper is too old to write an image whose size only its end tells (gzip, bzip2): update the webburn helper",
                        ),
                        Some(ErrorCode::HelperOutdated),
                    ));
                }
                // The smallest medium of a duplicated write bounds them all.
                let mut room = u64::MAX;
                for r in std::iter::once(&recorder).chain(self.duplicates.borrow().iter()) {
                    let free = r.desc.free_sectors.ok_or_else(|| {
                        hresult_error(
                            HResult::E_IMAPI_RECORDER_MEDIA_NO_MEDIA,
                            &format!("{} holds no medium", r.desc.id),
                        )
                    })?;
                    if free == 0 {
                        return Err(hresult_error(
                            HResult::E_IMAPI_DF2DATA_MEDIA_NOT_BLANK,
                            &format!("the medium in {} has no room to write to", r.desc.id),
                        ));
                    }
                    room = room.min(u64::from(free));
                }
                (room, true)
            }
        };
        let count = i32::try_from(blocks).map_err(|_| too_big(blocks * bps))?;
        let shape = Shape {
            limit: blocks * bps,
            sector: bps,
            declared: image.declared(),
        };
        Ok((image.shaped(shape)?.into(), lba, count, open_end))
    }

    fn prepare(&self, data: &JsValue, blocks: Option<i32>) -> Result<(JsValue, i32, i32), JsValue> {
        let recorder = self.engine.recorder().ok_or_else(|| {
            hresult_error(HResult::E_IMAPI_RECORDER_REQUIRED, "set the recorder first")
        })?;
        let bps = u64::try_from(self.engine.bytes_per_sector())
            .unwrap_or(1)
            .max(1);
        let mut lba = recorder
            .desc
            .next_writable_address
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or(0);
        // An image laid out for one session start is written there only: on
        // a rewritable disc after its volume, elsewhere at the next writable address.
        let start = Reflect::get(data, &crate::fsimage::START_ADDRESS.into())
            .ok()
            .and_then(|v| v.as_f64())
            .map(|v| v as i64);
        if let Some(start) = start.filter(|_| rewritable(&recorder)) {
            lba = i32::try_from(start).map_err(|_| invalid("the image starts past the disc"))?;
        }
        if let Some(start) = start
            && start != i64::from(lba)
        {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_INVALID_MEDIA_STATE,
                &format!(
                    "the image was laid out for sector {start} but the disc's next writable address is {lba}: {}",
                    if start == 0 {
                        "add its files to those on the disc (FileSystemImage.importFileSystem) or use a blank disc"
                    } else {
                        "import the disc's files again"
                    }
                ),
            ));
        }
        let Some(size) = data_size(data) else {
            let blocks =
                blocks.ok_or_else(|| invalid("a stream has no size: give numberOfBlocks"))?;
            return Ok((data.clone(), lba, blocks));
        };
        // A Blob's size and a buffer's byteLength are whole numbers below 2^53.
        let size = size as u64;
        let blocks = match blocks {
            Some(b) => b,
            None => i32::try_from(Padded::new(size, bps).sectors)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| invalid(&format!("{size} bytes cannot be burned as one section")))?,
        };
        let pad = u64::try_from(blocks)
            .unwrap_or(0)
            .saturating_mul(bps)
            .saturating_sub(size);
        if pad == 0 {
            return Ok((data.clone(), lba, blocks));
        }
        if pad >= bps {
            return Err(invalid(&format!(
                "the data holds {size} bytes, short of {blocks} sectors"
            )));
        }
        Ok((padded(data, pad as u32)?, lba, blocks))
    }
}
