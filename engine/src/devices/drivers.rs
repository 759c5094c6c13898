//! The device paths webburn writes through, one module each.

#[cfg(any(feature = "emulated", test))]
pub mod emulated;
#[cfg(target_os = "linux")]
pub mod sg;
#[cfg(windows)]
pub mod spti;
pub mod usb;
