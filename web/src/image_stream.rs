//! A disk image's bytes as a `ReadableStream`, decoded while the compressed
//! file is read: xz, zstd and bzip2 by webburn-unpack in wasm, gzip and zip's
//! deflate by the browser's `DecompressionStream`, stored zip entries and raw
//! files sliced. For a write the stream is shaped: it never gives more than
//! the section holds (one chunk is held back until the next one or the end
//! is known, so an image larger than the medium fails before its last bytes
//! leave the page), and its end is padded with zeros to whole sectors.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{Blob, ReadableStream};
use webburn_shared::HResult;
use webburn_unpack::zip::EntryCheck;
use webburn_unpack::{Out, Unpacker};

use crate::error::{hresult_error, invalid};

/// Compressed bytes read from the file at a time.
const READ_BYTES: u64 = 1 << 20;
/// Decoded bytes per chunk.
const CHUNK_BYTES: usize = 1 << 20;

/// Where decoded bytes come from.
pub(crate) enum Decode {
    /// webburn-unpack fed with slices of `range` of the file.
    Wasm {
        unpacker: Unpacker,
        file: Blob,
        range: Range<u64>,
    },
    /// The browser's DecompressionStream (`gzip`, `deflate-raw`) over `range`.
    Browser {
        kind: &'static str,
        file: Blob,
        range: Range<u64>,
        reader: Option<JsValue>,
    },
    /// The bytes of `range` as they are.
    Slice { file: Blob, range: Range<u64> },
}

/// The decoding state of one stream.
pub(crate) struct Decoded {
    pub decode: Decode,
    /// The zip entry's CRC-32 and length, checked at the end.
    pub check: Option<EntryCheck>,
    /// The format's name, for errors.
    pub format: &'static str,
    /// Decoded bytes given so far.
    pub produced: u64,
    buf: Vec<u8>,
}

/// The error a bad compressed file ends the stream with; `produced`: the
/// image's bytes decoded before the damage (`None`: found before decoding).
pub(crate) fn corrupt(format: &str, detail: &str, produced: Option<u64>) -> JsValue {
    let detail = match produced {
        Some(n) => format!(
            "the {format} file cannot be decoded after {n} bytes of the image: {detail}; nothing after that was written"
        ),
        None => format!("{detail}; nothing was written"),
    };
    let e = hresult_error(HResult::IMAPI_E_DATA_STREAM_READ_FAILURE, &detail);
    let _ = Reflect::set(&e, &"code".into(), &"corruptImage".into());
    let at = produced.map_or(JsValue::UNDEFINED, |n| JsValue::from(n as f64));
    let _ = Reflect::set(&e, &"imageOffset".into(), &at);
    e
}

pub(crate) async fn read_range(file: &Blob, range: Range<u64>) -> Result<Vec<u8>, JsValue> {
    let slice = file.slice_with_f64_and_f64(range.start as f64, range.end as f64)?;
    let buf = JsFuture::from(slice.array_buffer()).await.map_err(|_| {
        hresult_error(
            HResult::IMAPI_E_DATA_STREAM_READ_FAILURE,
            "the file could not be read (it changed or vanished after it was chosen)",
        )
    })?;
    Ok(Uint8Array::new(&buf).to_vec())
}

fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &method.into())?
        .dyn_into()
        .map_err(|_| invalid(&format!("{method} is not a function")))?;
    match args {
        [] => f.call0(target),
        [a] => f.call1(target, a),
        [a, b, ..] => f.call2(target, a, b),
    }
}

impl Decoded {
    pub(crate) fn new(decode: Decode, check: Option<EntryCheck>, format: &'static str) -> Self {
        Decoded {
            decode,
            check,
            format,
            produced: 0,
            buf: Vec::new(),
        }
    }

    /// The next decoded chunk; `None` at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<Uint8Array>, JsValue> {
        let chunk = match &mut self.decode {
            Decode::Slice { file, range } => {
                if range.start >= range.end {
                    None
                } else {
                    let end = range.end.min(range.start + READ_BYTES);
                    let bytes = read_range(file, range.start..end).await?;
                    range.start = end;
                    Some(Uint8Array::from(bytes.as_slice()))
                }
            }
            Decode::Wasm {
                unpacker,
                file,
                range,
            } => {
                if self.buf.is_empty() {
                    self.buf = vec![0; CHUNK_BYTES];
                }
                loop {
                    match unpacker.next(&mut self.buf) {
                        Ok(Out::Data(n)) => break Some(Uint8Array::from(&self.buf[..n])),
                        Ok(Out::End) => break None,
                        Ok(Out::NeedInput) if range.start < range.end => {
                            let end = range.end.min(range.start + READ_BYTES);
                            let bytes = read_range(file, range.start..end).await?;
                            range.start = end;
                            unpacker.push(&bytes);
                        }
                        Ok(Out::NeedInput) => unpacker.end_input(),
                        Err(e) => {
                            return Err(corrupt(self.format, &e.to_string(), Some(self.produced)));
                        }
                    }
                }
            }
            Decode::Browser {
                kind,
                file,
                range,
                reader,
            } => {
                if reader.is_none() {
                    let slice =
                        file.slice_with_f64_and_f64(range.start as f64, range.end as f64)?;
                    let ctor = Reflect::get(&js_sys::global(), &"DecompressionStream".into())?;
                    let ctor: Function = ctor.dyn_into().map_err(|_| {
                        hresult_error(
                            HResult::E_IMAPI_DF2DATA_STREAM_NOT_SUPPORTED,
                            "this browser has no DecompressionStream",
                        )
                    })?;
                    let args = js_sys::Array::of1(&JsValue::from_str(kind));
                    let ds = Reflect::construct(&ctor, &args)?;
                    let stream = call(&slice, "stream", &[])?;
                    let piped = call(&stream, "pipeThrough", &[&ds])?;
                    *reader = Some(call(&piped, "getReader", &[])?);
                }
                let r = reader.as_ref().ok_or_else(|| invalid("no reader"))?;
                let result = JsFuture::from(Promise::from(call(r, "read", &[])?))
                    .await
                    .map_err(|e| {
                        let why = Reflect::get(&e, &"message".into())
                            .ok()
                            .and_then(|m| m.as_string())
                            .unwrap_or_default();
                        corrupt(
                            self.format,
                            &format!("the data is corrupt or truncated ({why})"),
                            Some(self.produced),
                        )
                    })?;
                if Reflect::get(&result, &"done".into())?.is_truthy() {
                    None
                } else {
                    Some(Reflect::get(&result, &"value".into())?.dyn_into::<Uint8Array>()?)
                }
            }
        };
        match &chunk {
            Some(c) => {
                self.produced += u64::from(c.length());
                if let Some(check) = &mut self.check {
                    check.update(&c.to_vec());
                }
            }
            None => {
                if let Some(check) = self.check.take() {
                    check
                        .finish()
                        .map_err(|e| corrupt(self.format, &e.detail, Some(self.produced)))?;
                }
            }
        }
        Ok(chunk)
    }

    /// Lets go of the browser's decoder.
    fn release(&self) {
        if let Decode::Browser {
            reader: Some(r), ..
        } = &self.decode
        {
            let _ = call(r, "cancel", &[]);
        }
    }
}

/// How a write's stream is held to its section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Bytes the section holds: never more is given.
    pub limit: u64,
    /// The end is padded with zeros to a multiple of this.
    pub sector: u64,
    /// The size the container declares, if it does: more or fewer bytes is an error.
    pub declared: Option<u64>,
}

struct Shaping {
    decoded: Decoded,
    shape: Option<Shape>,
    held: Option<Uint8Array>,
    /// Bytes enqueued so far.
    given: u64,
}

impl Shaping {
    fn too_much(&self, total: u64) -> JsValue {
        let Some(shape) = self.shape else {
            return JsValue::UNDEFINED;
        };
        match shape.declared {
            Some(d) => hresult_error(
                HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY,
                &format!(
                    "the {} file holds more than the {d} bytes its header declares (at least {total}); nothing after them was written",
                    self.decoded.format
                ),
            ),
            None => hresult_error(
                HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
                &format!(
                    "the image is larger than the {} bytes the medium holds; the write stopped before its end",
                    shape.limit
                ),
            ),
        }
    }

    /// One pull: enqueues a chunk, or closes, or errors.
    async fn pull(&mut self, controller: &JsValue) -> Result<(), JsValue> {
        loop {
            let Some(chunk) = self.decoded.next().await? else {
                return self.end(controller);
            };
            let Some(shape) = self.shape else {
                // Unshaped: nothing is held back.
                self.given += u64::from(chunk.length());
                return call(controller, "enqueue", &[&chunk]).map(drop);
            };
            let held_len = self.held.as_ref().map_or(0, |h| u64::from(h.length()));
            let total = self.given + held_len + u64::from(chunk.length());
            if total > shape.limit {
                return Err(self.too_much(total));
            }
            if let Some(h) = self.held.replace(chunk) {
                self.given += u64::from(h.length());
                return call(controller, "enqueue", &[&h]).map(drop);
            }
        }
    }

    /// The decoded data ended: the held chunk, the padding, the close.
    fn end(&mut self, controller: &JsValue) -> Result<(), JsValue> {
        let held_len = self.held.as_ref().map_or(0, |h| u64::from(h.length()));
        let total = self.given + held_len;
        if let Some(shape) = self.shape {
            if let Some(d) = shape.declared
                && total != d
            {
                return Err(hresult_error(
                    HResult::IMAPI_E_DATA_STREAM_INCONSISTENCY,
                    &format!(
                        "the {} file ends after {total} bytes of the image, not the {d} its header declares",
                        self.decoded.format
                    ),
                ));
            }
            if total == 0 {
                return Err(invalid("the image is empty"));
            }
        }
        if let Some(h) = self.held.take() {
            self.given += u64::from(h.length());
            call(controller, "enqueue", &[&h])?;
        }
        if let Some(s) = self.shape {
            let pad = (s.sector - total % s.sector) % s.sector;
            if pad > 0 {
                let zeros = Uint8Array::new_with_length(pad as u32);
                call(controller, "enqueue", &[&zeros])?;
            }
        }
        call(controller, "close", &[]).map(drop)
    }
}

/// A ReadableStream of `decoded`'s bytes, held to `shape` when given.
pub(crate) fn readable(decoded: Decoded, shape: Option<Shape>) -> Result<ReadableStream, JsValue> {
    let state = Rc::new(RefCell::new(Some(Shaping {
        decoded,
        shape,
        held: None,
        given: 0,
    })));
    let pull = {
        let state = Rc::clone(&state);
        Closure::<dyn FnMut(JsValue) -> Promise>::new(move |controller: JsValue| {
            let state = Rc::clone(&state);
            future_to_promise(async move {
                // Taken out while it works: a stream pulls again only after
                // this promise settles.
                let Some(mut s) = state.borrow_mut().take() else {
                    return Ok(JsValue::UNDEFINED);
                };
                let result = s.pull(&controller).await;
                if let Err(e) = result {
                    s.decoded.release();
                    let _ = call(&controller, "error", &[&e]);
                    return Ok(JsValue::UNDEFINED);
                }
                *state.borrow_mut() = Some(s);
                Ok(JsValue::UNDEFINED)
            })
        })
    };
    let cancel = {
        let state = Rc::clone(&state);
        Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
            if let Some(s) = state.borrow_mut().take() {
                s.decoded.release();
            }
        })
    };
    let source = Object::new();
    Reflect::set(&source, &"pull".into(), &pull.into_js_value())?;
    Reflect::set(&source, &"cancel".into(), &cancel.into_js_value())?;
    ReadableStream::new_with_underlying_source(&source)
}
