//! IMAPI2FS for pages: `FileSystemImage`, `FsiDirectoryItem` and
//! `FileSystemImageResult`. A page adds the person's Files and folders, sets
//! the volume name, lays the image out (its size is known before anything is
//! written) and burns `result.imageStream` with `DiscFormat2Data.write`.
//!
//! The image stream is a Blob composed of the image's metadata (a few
//! kilobytes per file) and the chosen Files themselves: the browser reads
//! each File only when the upload reaches it, and its bytes never pass
//! through wasm memory.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Blob, CustomEvent, CustomEventInit, EventTarget};
use webburn_fsimage::{FileItem, FileSystems, FsError, Piece};
use webburn_shared::compat;
use webburn_shared::protocol::{ClientMessage, ServerMessage};

use crate::error::hresult_error;
use crate::recorder::DiscRecorder2;

type Image = webburn_fsimage::FileSystemImage<Blob>;

fn fs_error(e: &FsError) -> JsValue {
    hresult_error(e.hresult(), &e.to_string())
}

fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The property of an image stream naming the sector it was laid out for:
/// DiscFormat2Data refuses to write it anywhere else.
pub(crate) const START_ADDRESS: &str = "webburnStartAddress";

/// A number property of a JS object, if it has one.
fn number(v: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(v, &JsValue::from_str(name)).ok()?.as_f64()
}

/// A string property of a JS object, if it has one.
fn string(v: &JsValue, name: &str) -> Option<String> {
    Reflect::get(v, &JsValue::from_str(name)).ok()?.as_string()
}

/// IFileSystemImage: the files and folders of a disc, its name, its file
/// systems and the room on the medium.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct FileSystemImage {
    image: Rc<RefCell<Image>>,
    events: EventTarget,
}

/// Files between two `update` events while the image is composed.
const UPDATE_EVERY: usize = 256;

/// IMAPI2FS's DFileSystemImageEvents.Update: the file being added to the
/// image stream and the sectors laid so far of all of them.
fn dispatch_update(target: &EventTarget, current_file: &str, copied: u64, total: u64) {
    let detail = Object::new();
    let init = CustomEventInit::new();
    let fields: [(&str, JsValue); 3] = [
        ("currentFile", current_file.into()),
        ("copiedSectors", (copied as f64).into()),
        ("totalSectors", (total as f64).into()),
    ];
    for (k, v) in &fields {
        let _ = Reflect::set(&detail, &(*k).into(), v);
    }
    init.set_detail(&detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict("update", &init) {
        for (k, v) in &fields {
            let _ = Reflect::set(&event, &(*k).into(), v);
        }
        let _ = target.dispatch_event(&event);
    }
}

#[wasm_bindgen]
impl FileSystemImage {
    /// An empty image: ISO 9660 + Joliet + UDF, named after today's date, no size limit.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<FileSystemImage, JsValue> {
        Ok(FileSystemImage {
            image: Rc::new(RefCell::new(Image::new(now_seconds()))),
            events: EventTarget::new()?,
        })
    }

    /// VolumeName.
    #[wasm_bindgen(getter, js_name = volumeName)]
    pub fn volume_name(&self) -> String {
        self.image.borrow().volume_name().to_owned()
    }

    /// Sets VolumeName (at most 32 printable characters, else IMAPI_E_INVALID_PARAM).
    #[wasm_bindgen(setter, js_name = volumeName)]
    pub fn set_volume_name(&self, name: &str) -> Result<(), JsValue> {
        self.image
            .borrow_mut()
            .set_volume_name(name)
            .map_err(|e| fs_error(&e))
    }

    /// FileSystemsToCreate: 1 ISO 9660 (with Rock Ridge), 2 Joliet, 4 UDF; default 7.
    #[wasm_bindgen(getter, js_name = fileSystemsToCreate)]
    pub fn file_systems_to_create(&self) -> u32 {
        self.image.borrow().file_systems().0
    }

    /// Sets FileSystemsToCreate.
    #[wasm_bindgen(setter, js_name = fileSystemsToCreate)]
    pub fn set_file_systems_to_create(&self, value: u32) -> Result<(), JsValue> {
        self.image
            .borrow_mut()
            .set_file_systems(FileSystems(value))
            .map_err(|e| fs_error(&e))
    }

    /// FreeMediaBlocks: 2048-byte blocks the image may take (0 = no limit).
    #[wasm_bindgen(getter, js_name = freeMediaBlocks)]
    pub fn free_media_blocks(&self) -> f64 {
        self.image
            .borrow()
            .free_media_blocks()
            .map_or(0.0, |b| b as f64)
    }

    /// Sets FreeMediaBlocks (0 = no limit).
    #[wasm_bindgen(setter, js_name = freeMediaBlocks)]
    pub fn set_free_media_blocks(&self, blocks: f64) {
        let blocks = (blocks >= 1.0).then_some(blocks as u64);
        self.image.borrow_mut().set_free_media_blocks(blocks);
    }

    /// ChooseImageDefaults: FreeMediaBlocks from the recorder's loaded
    /// medium (its free sectors in 2048-byte blocks).
    #[wasm_bindgen(js_name = chooseImageDefaults)]
    pub fn choose_image_defaults(&self, recorder: &DiscRecorder2) {
        let bytes = u64::from(recorder.desc.block_size.unwrap_or(2048));
        let free = recorder
            .desc
            .free_sectors
            .map(|f| u64::from(f) * bytes / 2048);
        self.image.borrow_mut().set_free_media_blocks(free);
    }

    /// ImportFileSystem from a recorder (webburn's form of IMAPI2FS's
    /// MultisessionInterfaces + ImportFileSystem): the files and folders of
    /// the last session on the disc in `recorder` join the image, their
    /// data left where it is, and the image is laid out for the disc's next
    /// writable address; burned with `DiscFormat2Data.write`, the new
    /// session holds the old files and the new ones. A later session
    /// records ISO 9660 and Joliet (not UDF). Resolves to the number of
    /// items imported (0 for a blank disc, which needs nothing imported).
    /// A file the image already holds at the same path rejects with
    /// IMAPI_E_DUP_NAME; a closed disc with E_IMAPI_DF2DATA_MEDIA_NOT_BLANK.
    #[wasm_bindgen(js_name = importFileSystem, unchecked_return_type = "Promise<number>")]
    pub fn import_file_system(&self, recorder: &DiscRecorder2) -> Promise {
        let (image, recorder) = (Rc::clone(&self.image), recorder.clone());
        future_to_promise(async move {
            let id = recorder.desc.id.clone();
            let mut contents = None;
            let read = |write_id| ClientMessage::ReadSession {
                write_id,
                recorder: id,
            };
            let on = |msg| {
                if let ServerMessage::SessionContents {
                    session,
                    next_writable_address,
                    ..
                } = msg
                {
                    contents = Some((session, next_writable_address));
                }
            };
            recorder
                .connection
                .request((compat::APPENDABLE, "add files to a disc"), read, on)
                .await?;
            let Some((Some(session), next)) = contents else {
                return Ok(JsValue::from(0));
            };
            let n = image
                .borrow_mut()
                .import_session(&session, next)
                .map_err(|e| fs_error(&e))?;
            Ok(JsValue::from(n as f64))
        })
    }

    /// Where the image will be written: 0, or after an import the disc's
    /// next writable address (webburn addition).
    #[wasm_bindgen(getter, js_name = sessionStartAddress)]
    pub fn session_start_address(&self) -> f64 {
        f64::from(self.image.borrow().session_start())
    }

    /// Root: the top folder.
    #[wasm_bindgen(getter)]
    pub fn root(&self) -> FsiDirectoryItem {
        FsiDirectoryItem {
            image: Rc::clone(&self.image),
            path: String::new(),
        }
    }

    /// FileCount: files in the image.
    #[wasm_bindgen(getter, js_name = fileCount)]
    pub fn file_count(&self) -> f64 {
        self.image.borrow().root_ref().counts().0 as f64
    }

    /// DirectoryCount: folders in the image (the top one not counted).
    #[wasm_bindgen(getter, js_name = directoryCount)]
    pub fn directory_count(&self) -> f64 {
        self.image.borrow().root_ref().counts().1 as f64
    }

    /// Bytes of all the files (webburn addition).
    #[wasm_bindgen(getter, js_name = dataBytes)]
    pub fn data_bytes(&self) -> f64 {
        self.image.borrow().root_ref().data_bytes() as f64
    }

    /// Listens for `update` events while the image is composed
    /// (DFileSystemImageEvents): `currentFile`, `copiedSectors` and
    /// `totalSectors` on the event and in `detail`, every 256 files and once
    /// at the end (`currentFile` "").
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: FileSystemImageUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.events.add_event_listener_with_callback(kind, listener)
    }

    /// Stops listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: FileSystemImageUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.events
            .remove_event_listener_with_callback(kind, listener)
    }

    /// CreateResultImage: lays the image out and composes its stream.
    /// Throws IMAPI_E_IMAGE_SIZE_LIMIT when it is larger than FreeMediaBlocks.
    #[wasm_bindgen(js_name = createResultImage)]
    pub fn create_result_image(&self) -> Result<FileSystemImageResult, JsValue> {
        let image = self.image.borrow();
        let result = image.create_result_image().map_err(|e| fs_error(&e))?;
        let parts = Array::new();
        let total = result.total_blocks();
        let mut at = 0u64;
        // The group of UPDATE_EVERY files an event was last fired for.
        let mut reported = None;
        for piece in result.pieces() {
            match piece {
                Piece::Bytes(b) => {
                    at += b.len() as u64;
                    parts.push(&Uint8Array::from(b.as_slice()));
                }
                Piece::File {
                    index,
                    name,
                    source,
                    size,
                    pad,
                } => {
                    if reported != Some(index / UPDATE_EVERY) {
                        reported = Some(index / UPDATE_EVERY);
                        dispatch_update(&self.events, &name, at / 2048, total);
                    }
                    at += size + pad;
                    parts.push(source);
                    if pad > 0 {
                        parts.push(&Uint8Array::new_with_length(
                            u32::try_from(pad).unwrap_or(0),
                        ));
                    }
                }
            }
        }
        let stream = Blob::new_with_blob_sequence(&parts)?;
        let start = f64::from(result.session_start());
        Reflect::set(&stream, &START_ADDRESS.into(), &start.into())?;
        dispatch_update(&self.events, "", total, total);
        Ok(FileSystemImageResult {
            total_blocks: result.total_blocks() as f64,
            stream,
        })
    }
}

/// FsiDirectoryItem: a folder of the image, to add files and folders to.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct FsiDirectoryItem {
    image: Rc<RefCell<Image>>,
    path: String,
}

impl FsiDirectoryItem {
    fn inside(&self, path: &str) -> String {
        if self.path.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.path)
        }
    }
}

#[wasm_bindgen]
impl FsiDirectoryItem {
    /// FullPath: the folder's path in the image ("" for the top).
    #[wasm_bindgen(getter, js_name = fullPath)]
    pub fn full_path(&self) -> String {
        self.path.clone()
    }

    /// The names of the folder's items, in name order, folders with a
    /// trailing `/` (webburn's form of IMAPI2FS's item enumeration): after
    /// `importFileSystem`, what the disc holds.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn names(&self) -> Array {
        let image = self.image.borrow();
        let Some(dir) = image.root_ref().find_folder(&self.path) else {
            return Array::new();
        };
        dir.entries()
            .iter()
            .map(|(name, node)| match node {
                webburn_fsimage::Node::Directory(_) => JsValue::from(format!("{name}/")),
                _ => JsValue::from(name.as_str()),
            })
            .collect()
    }

    /// AddFile: `data` (a File or Blob) as `path` below this folder (its
    /// folders made as needed); the time is the File's lastModified, or
    /// `lastModified` (ms since 1970) when given. IMAPI_E_DUP_NAME if the
    /// name is taken.
    #[wasm_bindgen(js_name = addFile)]
    pub fn add_file(
        &self,
        path: &str,
        data: &Blob,
        #[wasm_bindgen(js_name = lastModified)] last_modified: Option<f64>,
    ) -> Result<(), JsValue> {
        let ms = last_modified
            .or_else(|| number(data, "lastModified"))
            .unwrap_or_else(js_sys::Date::now);
        let item = FileItem {
            size: data.size() as u64,
            mtime: (ms / 1000.0) as i64,
            source: data.clone(),
        };
        self.image
            .borrow_mut()
            .root()
            .add_file(&self.inside(path), item)
            .map_err(|e| fs_error(&e))
    }

    /// AddDirectory: the folder `path` below this one (and its parents).
    #[wasm_bindgen(js_name = addDirectory)]
    pub fn add_directory(&self, path: &str) -> Result<(), JsValue> {
        self.image
            .borrow_mut()
            .root()
            .add_directory(&self.inside(path), now_seconds())
            .map_err(|e| fs_error(&e))
    }

    /// AddTree: Files as a file input with `webkitdirectory` or a folder
    /// drop gives them: each at its `webkitRelativePath` (else its name)
    /// below this folder.
    #[wasm_bindgen(js_name = addTree)]
    pub fn add_tree(
        &self,
        #[wasm_bindgen(unchecked_param_type = "FileList | File[]")] files: &JsValue,
    ) -> Result<(), JsValue> {
        let list = Array::from(files);
        for f in list.iter() {
            let blob: Blob = f
                .clone()
                .dyn_into()
                .map_err(|_| crate::error::invalid("addTree takes Files"))?;
            let path = string(&f, "webkitRelativePath")
                .filter(|p| !p.is_empty())
                .or_else(|| string(&f, "name"))
                .unwrap_or_default();
            self.add_file(&path, &blob, None)?;
        }
        Ok(())
    }

    /// Remove: the file or folder (with its contents) at `path` below this one.
    pub fn remove(&self, path: &str) -> Result<(), JsValue> {
        self.image
            .borrow_mut()
            .root()
            .remove(&self.inside(path))
            .map(drop)
            .map_err(|e| fs_error(&e))
    }
}

/// IFileSystemImageResult: the laid-out image.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct FileSystemImageResult {
    total_blocks: f64,
    stream: Blob,
}

#[wasm_bindgen]
impl FileSystemImageResult {
    /// TotalBlocks: 2048-byte blocks of the image.
    #[wasm_bindgen(getter, js_name = totalBlocks)]
    pub fn total_blocks(&self) -> f64 {
        self.total_blocks
    }

    /// BlockSize: 2048.
    #[wasm_bindgen(getter, js_name = blockSize)]
    pub fn block_size(&self) -> u32 {
        2048
    }

    /// ImageStream: the image as a Blob (metadata and the Files themselves),
    /// for `DiscFormat2Data.write`.
    #[wasm_bindgen(getter, js_name = imageStream)]
    pub fn image_stream(&self) -> Blob {
        self.stream.clone()
    }
}
