//! A data-stage buffer in the kernel's own memory for the device. A bulk
//! transfer from an ordinary buffer makes Linux's usbfs copy the data into
//! the kernel first; from memory mapped from the device's usbfs file
//! (libusb_dev_mem_alloc, libusb 1.0.21) the host controller takes it where
//! it is. The helper copies each command's data into this buffer instead,
//! which the kernel then does not copy again. Where the system has no such
//! mapping (other platforms, old kernels, usbfs's memory limit reached),
//! there is no buffer and transfers go as before.
#![allow(unsafe_code)] // libusb's device-memory calls (FFI), each block says why it holds

use std::os::raw::c_uchar;

use rusb::ffi::libusb_device_handle;
use rusb::{Context, DeviceHandle};

unsafe extern "C" {
    fn libusb_dev_mem_alloc(handle: *mut libusb_device_handle, length: usize) -> *mut c_uchar;
    fn libusb_dev_mem_free(
        handle: *mut libusb_device_handle,
        buffer: *mut c_uchar,
        length: usize,
    ) -> i32;
}

/// Memory mapped from a device's usbfs file; freed on drop (before the
/// handle closes: its owner drops it first).
#[derive(Debug)]
pub struct DeviceMemory {
    handle: *mut libusb_device_handle,
    ptr: *mut c_uchar,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone; libusb's
// handle may be used from any thread.
unsafe impl Send for DeviceMemory {}

impl DeviceMemory {
    /// `len` bytes for the device behind `handle`, if the system maps them.
    /// The caller drops this value before it closes `handle`.
    pub(super) fn new(handle: &DeviceHandle<Context>, len: usize) -> Option<DeviceMemory> {
        let handle = handle.as_raw();
        // SAFETY: `handle` is an open libusb handle (its owner keeps it open
        // for as long as this value lives); libusb returns NULL on failure.
        let ptr = unsafe { libusb_dev_mem_alloc(handle, len) };
        (!ptr.is_null()).then_some(DeviceMemory { handle, ptr, len })
    }

    /// Its size.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// The buffer.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` points to `len` bytes mapped for this value alone,
        // valid until drop; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for DeviceMemory {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` came from libusb_dev_mem_alloc on `handle`,
        // which is still open, and are freed once.
        unsafe {
            libusb_dev_mem_free(self.handle, self.ptr, self.len);
        }
    }
}
