//! DiscRecorder2: one recorder the helper offers, with IDiscRecorder2's
//! identity properties.

use js_sys::Array;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use webburn_shared::MediumKind;
use webburn_shared::protocol::{Approval, RecorderDescription};

use crate::connection::Connection;

/// A recorder (IDiscRecorder2), obtained from `DiscMaster2`.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct DiscRecorder2 {
    pub(crate) desc: RecorderDescription,
    pub(crate) connection: Connection,
}

fn numbers(v: &[u16]) -> Array {
    v.iter().map(|&p| JsValue::from(p)).collect()
}

#[wasm_bindgen]
impl DiscRecorder2 {
    /// ActiveDiscRecorder: the recorder's unique id.
    #[wasm_bindgen(getter, js_name = activeDiscRecorder)]
    pub fn active_disc_recorder(&self) -> String {
        self.desc.id.clone()
    }
    /// VendorId (INQUIRY).
    #[wasm_bindgen(getter, js_name = vendorId)]
    pub fn vendor_id(&self) -> String {
        self.desc.vendor_id.clone()
    }
    /// ProductId (INQUIRY).
    #[wasm_bindgen(getter, js_name = productId)]
    pub fn product_id(&self) -> String {
        self.desc.product_id.clone()
    }
    /// ProductRevision (INQUIRY).
    #[wasm_bindgen(getter, js_name = productRevision)]
    pub fn product_revision(&self) -> String {
        self.desc.product_revision.clone()
    }
    /// VolumePathNames: where the device is mounted; the helper does not
    /// mount, so this names the device itself.
    #[wasm_bindgen(getter, js_name = volumePathNames, unchecked_return_type = "string[]")]
    pub fn volume_path_names(&self) -> Array {
        let path = self
            .desc
            .id
            .split_once(':')
            .map_or(self.desc.id.as_str(), |(_, p)| p);
        Array::of1(&JsValue::from_str(path))
    }
    /// SupportedProfiles: MMC profile numbers.
    #[wasm_bindgen(getter, js_name = supportedProfiles, unchecked_return_type = "number[]")]
    pub fn supported_profiles(&self) -> Array {
        numbers(&self.desc.supported_profiles)
    }
    /// CurrentProfiles: the loaded medium's profiles.
    #[wasm_bindgen(getter, js_name = currentProfiles, unchecked_return_type = "number[]")]
    pub fn current_profiles(&self) -> Array {
        numbers(&self.desc.current_profiles)
    }
    /// `emulated`, `sg` or `usb` (webburn addition).
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.desc.kind.clone()
    }
    /// Free sectors on the medium, when known (webburn addition).
    #[wasm_bindgen(getter, js_name = freeSectors)]
    pub fn free_sectors(&self) -> Option<u32> {
        self.desc.free_sectors
    }
    /// Where a sequential medium takes the next write, when known (webburn addition).
    #[wasm_bindgen(getter, js_name = nextWritableAddress)]
    pub fn next_writable_address(&self) -> Option<u32> {
        self.desc.next_writable_address
    }
    /// The medium's block size, when known (webburn addition).
    #[wasm_bindgen(getter, js_name = blockSize)]
    pub fn block_size(&self) -> Option<u32> {
        self.desc.block_size
    }
    /// `disc` or `disk`: what the recorder writes (webburn addition).
    #[wasm_bindgen(getter, js_name = mediumKind, unchecked_return_type = "\"disc\" | \"disk\"")]
    pub fn medium_kind(&self) -> String {
        match self.desc.medium_kind {
            MediumKind::Disc => "disc",
            MediumKind::Disk => "disk",
        }
        .to_owned()
    }
    /// The sector size a burn on the loaded medium uses: a disk's own block
    /// size, 2048 on discs (webburn addition).
    #[wasm_bindgen(getter, js_name = sectorSize)]
    pub fn sector_size(&self) -> u32 {
        self.desc.sector_size
    }
    /// SupportedWriteSpeeds for the loaded medium, sectors per second, fastest first.
    #[wasm_bindgen(getter, js_name = supportedWriteSpeeds, unchecked_return_type = "number[]")]
    pub fn supported_write_speeds(&self) -> Array {
        self.desc
            .write_speeds
            .iter()
            .map(|&s| JsValue::from(s))
            .collect()
    }

    /// The drive can simulate (test write) on the loaded medium (webburn addition).
    #[wasm_bindgen(getter, js_name = canSimulate)]
    pub fn can_simulate(&self) -> bool {
        self.desc.can_simulate
    }

    /// Another session is writing to it (webburn addition).
    #[wasm_bindgen(getter, js_name = inUse)]
    pub fn in_use(&self) -> bool {
        self.desc.in_use
    }

    /// A disk's size in bytes (webburn addition).
    #[wasm_bindgen(getter, js_name = sizeBytes)]
    pub fn size_bytes(&self) -> Option<f64> {
        // Exact in a double up to 8 PiB.
        self.desc.size_bytes.map(|b| b as f64)
    }

    /// A removable disk the helper found: `needed` (ask with
    /// `DiscMaster2.requestDevice`), `asked` (the person has not decided
    /// yet) or `approved`; absent when the recorder needs no approval
    /// (webburn addition).
    #[wasm_bindgen(
        getter,
        unchecked_return_type = "\"needed\" | \"asked\" | \"approved\" | undefined"
    )]
    pub fn approval(&self) -> Option<String> {
        self.desc.approval.map(|a| {
            match a {
                Approval::Needed => "needed",
                Approval::Asked => "asked",
                Approval::Approved => "approved",
            }
            .to_owned()
        })
    }
}
