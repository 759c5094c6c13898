//! The authority's key at rest. On Windows it is sealed with DPAPI
//! (CryptProtectData, for the current user): a copy of the file, a backup
//! or another account reading it gets nothing usable. Elsewhere the file's
//! mode (0600 in a 0700 folder) is the protection and the bytes are kept
//! as they are.

/// The bytes to store for `key`.
pub(super) fn seal(key: &[u8]) -> std::io::Result<Vec<u8>> {
    imp::seal(key)
}

/// The key from the bytes stored.
pub(super) fn open(stored: &[u8]) -> std::io::Result<Vec<u8>> {
    imp::open(stored)
}

#[cfg(not(windows))]
#[allow(clippy::unnecessary_wraps)] // DPAPI's can fail; the file's mode cannot
mod imp {
    pub(super) fn seal(key: &[u8]) -> std::io::Result<Vec<u8>> {
        Ok(key.to_vec())
    }

    pub(super) fn open(stored: &[u8]) -> std::io::Result<Vec<u8>> {
        Ok(stored.to_vec())
    }
}

#[cfg(windows)]
#[allow(unsafe_code)] // DPAPI calls (FFI), each block says why it holds
mod imp {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Cryptography::{
        CRYPT_INTEGER_BLOB, CRYPTPROTECT_UI_FORBIDDEN, CryptProtectData, CryptUnprotectData,
    };

    /// Copies DPAPI's output and frees it.
    fn take(out: CRYPT_INTEGER_BLOB) -> Vec<u8> {
        // SAFETY: on success DPAPI allocated `cbData` bytes at `pbData`.
        let bytes = unsafe { std::slice::from_raw_parts(out.pbData, out.cbData as usize) }.to_vec();
        // SAFETY: allocated by DPAPI with LocalAlloc, freed once.
        unsafe { LocalFree(out.pbData.cast()) };
        bytes
    }

    fn input(bytes: &[u8]) -> std::io::Result<CRYPT_INTEGER_BLOB> {
        Ok(CRYPT_INTEGER_BLOB {
            cbData: u32::try_from(bytes.len()).map_err(std::io::Error::other)?,
            pbData: bytes.as_ptr().cast_mut(),
        })
    }

    /// Runs one DPAPI call from `bytes` to a blob DPAPI allocates; its output.
    fn call(
        bytes: &[u8],
        f: impl FnOnce(*const CRYPT_INTEGER_BLOB, *mut CRYPT_INTEGER_BLOB) -> i32,
    ) -> std::io::Result<Vec<u8>> {
        let data = input(bytes)?;
        let mut out = CRYPT_INTEGER_BLOB {
            cbData: 0,
            pbData: std::ptr::null_mut(),
        };
        if f(&raw const data, &raw mut out) == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(take(out))
    }

    pub(super) fn seal(key: &[u8]) -> std::io::Result<Vec<u8>> {
        call(key, |data, out| {
            // SAFETY: `data` points at `key`, alive and only read; `out` is
            // filled on success.
            unsafe {
                CryptProtectData(
                    data,
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    CRYPTPROTECT_UI_FORBIDDEN,
                    out,
                )
            }
        })
    }

    pub(super) fn open(stored: &[u8]) -> std::io::Result<Vec<u8>> {
        call(stored, |data, out| {
            // SAFETY: as in `seal`; no description is asked for.
            unsafe {
                CryptUnprotectData(
                    data,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                    std::ptr::null(),
                    std::ptr::null(),
                    CRYPTPROTECT_UI_FORBIDDEN,
                    out,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_to_itself() {
        let key = b"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
        let sealed = seal(key).unwrap_or_else(|e| panic!("{e}"));
        if cfg!(windows) {
            assert!(
                !sealed.windows(key.len()).any(|w| w == key),
                "the key is not stored in the clear"
            );
        }
        assert_eq!(open(&sealed).unwrap_or_else(|e| panic!("{e}")), key);
    }
}
