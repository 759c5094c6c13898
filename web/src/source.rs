//! The data a page hands to writeSection: a Blob or File (sent as Blob
//! slices, never copied through wasm memory), an ArrayBuffer or typed array
//! (wrapped in a Blob by the browser), or a ReadableStream of bytes.

use js_sys::{Array, ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use crate::error::invalid;

/// A data source with what has been taken from it so far.
#[derive(Debug)]
pub(crate) enum Source {
    /// Bytes in a Blob: size known, sliced at will.
    Blob(Blob),
    /// A stream: length unknown, read chunk by chunk.
    Stream(StreamSource),
}

/// A ReadableStream being read.
#[derive(Debug)]
pub(crate) struct StreamSource {
    reader: JsValue,
    /// The current chunk and how much of it was sent.
    chunk: Option<(Uint8Array, u32)>,
    /// The stream said done.
    pub ended: bool,
}

/// One piece of data ready to go into a frame.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Send this (a Blob slice or a chunk's subarray).
    Data(JsValue, u64),
    /// A stream must be read first.
    NeedRead,
    /// The stream ended.
    Ended,
}

fn call0(target: &JsValue, method: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &method.into())?
        .dyn_into::<Function>()
        .map_err(|_| invalid(&format!("the data has no {method}() method")))?
        .call0(target)
}

/// An ArrayBuffer of any realm: `instanceof` knows only this realm's, and a
/// buffer may come from a frame (or, in Firefox, a WebDriver script's
/// sandbox). Its `Symbol.toStringTag` names it wherever it was made.
fn is_array_buffer(data: &JsValue) -> bool {
    data.is_instance_of::<ArrayBuffer>()
        || (data.is_object()
            && data.unchecked_ref::<js_sys::Object>().to_string() == "[object ArrayBuffer]")
}

impl Source {
    /// Recognizes `data`; anything else is E_INVALIDARG.
    pub(crate) fn new(data: &JsValue) -> Result<Source, JsValue> {
        if let Some(blob) = data.dyn_ref::<Blob>() {
            return Ok(Source::Blob(blob.clone()));
        }
        if is_array_buffer(data) || ArrayBuffer::is_view(data) {
            let parts = Array::of1(data);
            return Ok(Source::Blob(Blob::new_with_buffer_source_sequence(&parts)?));
        }
        if data.is_instance_of::<web_sys::ReadableStream>() {
            let reader = call0(data, "getReader")?;
            return Ok(Source::Stream(StreamSource {
                reader,
                chunk: None,
                ended: false,
            }));
        }
        Err(invalid(
            "data must be a Blob, File, ArrayBuffer, typed array or ReadableStream",
        ))
    }

    /// The size, when known up front.
    pub(crate) fn size(&self) -> Option<u64> {
        match self {
            Source::Blob(b) => Some(b.size() as u64),
            Source::Stream(_) => None,
        }
    }

    /// The first byte between `from` and `to` that can no longer be read:
    /// a File chosen by the person that changed or vanished since (the
    /// browser then drops the upload's socket). Probes one byte every 64 KiB
    /// and at `to - 1`; `None` for streams and when everything reads.
    pub(crate) async fn first_unreadable(&self, from: u64, to: u64) -> Option<u64> {
        let Source::Blob(b) = self else {
            return None;
        };
        let mut at = from;
        while at < to {
            let slice = b.slice_with_f64_and_f64(at as f64, (at + 1) as f64).ok()?;
            if JsFuture::from(slice.array_buffer()).await.is_err() {
                return Some(at);
            }
            at = if at + (64 << 10) >= to && at + 1 < to {
                to - 1
            } else {
                at + (64 << 10)
            };
        }
        None
    }

    /// Up to `max` bytes starting at `offset` (blobs) or at the stream's position.
    pub(crate) fn piece(&mut self, offset: u64, max: u64) -> Result<Piece, JsValue> {
        match self {
            Source::Blob(b) => {
                let end = (offset + max).min(b.size() as u64);
                let slice = b.slice_with_f64_and_f64(offset as f64, end as f64)?;
                Ok(Piece::Data(slice.into(), end - offset))
            }
            Source::Stream(s) => {
                let Some((chunk, used)) = s.chunk.take() else {
                    return Ok(if s.ended {
                        Piece::Ended
                    } else {
                        Piece::NeedRead
                    });
                };
                let len = chunk.length();
                let n = (u64::from(len - used)).min(max) as u32;
                let sub = chunk.subarray(used, used + n);
                if used + n < len {
                    s.chunk = Some((chunk, used + n));
                }
                Ok(Piece::Data(sub.into(), u64::from(n)))
            }
        }
    }

    /// The stream's next read, as a future (None for blobs).
    pub(crate) fn read(&self) -> Result<Option<JsFuture>, JsValue> {
        match self {
            Source::Blob(_) => Ok(None),
            Source::Stream(s) => Ok(Some(JsFuture::from(Promise::from(call0(
                &s.reader, "read",
            )?)))),
        }
    }

    /// Takes a read's result (`{done, value}`).
    pub(crate) fn take_read(&mut self, result: &JsValue) -> Result<(), JsValue> {
        let Source::Stream(s) = self else {
            return Ok(());
        };
        if Reflect::get(result, &"done".into())?.is_truthy() {
            s.ended = true;
            return Ok(());
        }
        let value = Reflect::get(result, &"value".into())?;
        let chunk = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| invalid("a ReadableStream chunk is not a Uint8Array"))?;
        if chunk.length() > 0 {
            s.chunk = Some((chunk, 0));
        }
        Ok(())
    }

    /// Lets go of a stream (after the section, or on failure).
    pub(crate) fn release(&self) {
        if let Source::Stream(s) = self {
            let _ = call0(&s.reader, "cancel");
        }
    }
}
