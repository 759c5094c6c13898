//! The device paths webburn writes through, one module each.

pub mod emulated;
#[cfg(target_os = "linux")]
pub mod sg;
#[cfg(windows)]
pub mod spti;
pub mod usb;
