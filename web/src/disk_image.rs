//! DiskImage (webburn addition): a chosen file as the disk image inside it.
//! `DiskImage.open(file)` tells the format by the first bytes (raw, gzip,
//! xz, zstd, bzip2 or a zip of one image) and finds the image's size where
//! the container declares it; `stream()` gives the image's bytes, decoded
//! while the file is read; `DiscFormat2Data.writeImage(image)` flashes it.

use std::ops::Range;

use js_sys::Promise;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Blob, ReadableStream};
use webburn_shared::HResult;
use webburn_unpack::{Format, MAGIC_LEN, Unpacker, zip};

use crate::error::hresult_error;
use crate::image_stream::{Decode, Decoded, Shape, corrupt, read_range, readable};

/// A disk image in a chosen file, compressed or not.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct DiskImage {
    file: Blob,
    format: Format,
    /// The bytes of the file the decoder reads.
    data: Range<u64>,
    size: Option<u64>,
    entry: Option<zip::Entry>,
}

fn unsupported(detail: &str) -> JsValue {
    hresult_error(HResult::E_IMAPI_DF2DATA_STREAM_NOT_SUPPORTED, detail)
}

/// What the container says: the range to decode, the size, the zip entry.
async fn layout(
    file: &Blob,
    format: Format,
    head: &[u8],
) -> Result<(Range<u64>, Option<u64>, Option<zip::Entry>), JsValue> {
    let len = file.size() as u64;
    let bad = |e: webburn_unpack::Error| corrupt(format.name(), &e.detail, None);
    Ok(match format {
        Format::Xz => {
            let tail = read_range(file, len.saturating_sub(4096)..len).await?;
            let index = webburn_unpack::xz_index_range(&tail, len).map_err(bad)?;
            let bytes = read_range(file, index.clone()).await?;
            let size = webburn_unpack::xz_size_from_index(&bytes, index.start).map_err(bad)?;
            (0..len, size, None)
        }
        Format::Zstd => (0..len, webburn_unpack::zstd_content_size(head), None),
        Format::Zip => {
            let tail = read_range(file, len.saturating_sub(zip::TAIL_LEN)..len).await?;
            let dir = zip::central_directory(&tail, len).map_err(bad)?;
            let dir_bytes = read_range(file, dir).await?;
            let entry = zip::single_entry(&dir_bytes).map_err(|e| unsupported(&e.detail))?;
            let local_end = (entry.local_offset + zip::LOCAL_HEADER_MAX).min(len);
            let local = read_range(file, entry.local_offset..local_end).await?;
            let start = zip::data_start(&local, &entry).map_err(bad)?;
            let end = start + entry.compressed;
            if end > len {
                return Err(bad(webburn_unpack::Error::new(
                    "the zip entry reaches past the end of the file: it is truncated",
                )));
            }
            (start..end, Some(entry.size), Some(entry))
        }
        Format::Raw => (0..len, Some(len), None),
        Format::Gzip | Format::Bzip2 => (0..len, None, None),
    })
}

#[wasm_bindgen]
impl DiskImage {
    /// Opens a chosen file (a Blob or File): resolves to the DiskImage, or
    /// rejects with E_IMAPI_DF2DATA_STREAM_NOT_SUPPORTED (a zip of several
    /// files, an encrypted entry) or IMAPI_E_DATA_STREAM_READ_FAILURE (a
    /// damaged container, `code: "corruptImage"`).
    #[wasm_bindgen(unchecked_return_type = "Promise<DiskImage>")]
    pub fn open(file: &Blob) -> Promise {
        let file = file.clone();
        future_to_promise(async move {
            let len = file.size() as u64;
            let head = read_range(&file, 0..len.min(64)).await?;
            let format = Format::detect(&head[..head.len().min(MAGIC_LEN)]);
            let (data, size, entry) = layout(&file, format, &head).await?;
            Ok(DiskImage {
                file,
                format,
                data,
                size,
                entry,
            }
            .into())
        })
    }

    /// `raw`, `gzip`, `xz`, `zstd`, `bzip2` or `zip`.
    #[wasm_bindgen(getter)]
    pub fn format(&self) -> String {
        self.format.name().to_owned()
    }

    /// The image's size in bytes where the file declares it (raw files, the
    /// xz index, the zstd frame header, the zip entry); `undefined` for gzip,
    /// bzip2 and zstd written from a pipe: their end is found by decoding.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> Option<f64> {
        self.size.map(|s| s as f64)
    }

    /// The file's own size.
    #[wasm_bindgen(getter, js_name = fileSize)]
    pub fn file_size(&self) -> f64 {
        self.file.size()
    }

    /// The zip entry's name (zip only).
    #[wasm_bindgen(getter, js_name = entryName)]
    pub fn entry_name(&self) -> Option<String> {
        self.entry.as_ref().map(|e| e.name.clone())
    }

    /// The image's bytes, decoded as the file is read. Errors with
    /// IMAPI_E_DATA_STREAM_READ_FAILURE (`code: "corruptImage"`,
    /// `imageOffset`: decoded bytes before the damage) when the file is
    /// corrupt or truncated.
    #[wasm_bindgen(unchecked_return_type = "ReadableStream<Uint8Array>")]
    pub fn stream(&self) -> Result<ReadableStream, JsValue> {
        readable(self.decoded(), None)
    }
}

impl DiskImage {
    /// The declared size, if any.
    pub(crate) fn declared(&self) -> Option<u64> {
        self.size
    }

    /// The raw file's Blob, when the image is the file as it is.
    pub(crate) fn raw(&self) -> Option<&Blob> {
        (self.format == Format::Raw).then_some(&self.file)
    }

    fn decoded(&self) -> Decoded {
        let (file, range) = (self.file.clone(), self.data.clone());
        let decode = match (self.format, self.entry.as_ref().map(|e| e.method)) {
            (Format::Gzip, _) => Decode::Browser {
                kind: "gzip",
                file,
                range,
                reader: None,
            },
            (Format::Zip, Some(zip::Method::Deflate)) => Decode::Browser {
                kind: "deflate-raw",
                file,
                range,
                reader: None,
            },
            (format, _) => match webburn_unpack::decoder(format) {
                Some(d) => Decode::Wasm {
                    unpacker: Unpacker::new(d),
                    file,
                    range,
                },
                None => Decode::Slice { file, range },
            },
        };
        Decoded::new(
            decode,
            self.entry.as_ref().map(zip::EntryCheck::new),
            self.format.name(),
        )
    }

    /// The image's bytes for a write: at most `shape.limit`, padded to whole sectors.
    pub(crate) fn shaped(&self, shape: Shape) -> Result<ReadableStream, JsValue> {
        readable(self.decoded(), Some(shape))
    }
}
