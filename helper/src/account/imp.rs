//! Windows: the user SID of a process token, and the process that owns a
//! TCP connection (IP Helper's GetExtendedTcpTable, TCP_TABLE_OWNER_PID_ALL).
#![allow(unsafe_code)] // Win32 calls (FFI), each block says why it holds

use std::net::{IpAddr, SocketAddr};

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INSUFFICIENT_BUFFER, HANDLE, LocalFree, NO_ERROR,
};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID, TCP_TABLE_OWNER_PID_ALL,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::Security::Authorization::ConvertSidToStringSidW;
use windows_sys::Win32::Security::{GetTokenInformation, TOKEN_QUERY, TOKEN_USER, TokenUser};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
};

use super::{Account, OwnerUnknown};

/// A handle closed when dropped.
struct Owned(HANDLE);

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the handle came from OpenProcess/OpenProcessToken and is
        // closed once, here.
        unsafe { CloseHandle(self.0) };
    }
}

/// The failure of Win32 call `what`, from its last error.
fn last_error(what: &'static str) -> OwnerUnknown {
    OwnerUnknown::System {
        what,
        source: std::io::Error::last_os_error(),
    }
}

/// The user SID of `process`'s token, as text.
fn user_of(process: HANDLE) -> Result<Account, OwnerUnknown> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: `process` is a valid process handle; `token` is written on success.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &raw mut token) } == 0 {
        return Err(last_error("OpenProcessToken"));
    }
    let token = Owned(token);
    // TOKEN_USER and the SID after it: 128 bytes hold any SID.
    let mut buf = vec![0u64; 16];
    let mut len = 0u32;
    // SAFETY: the buffer is 128 writable bytes, aligned for TOKEN_USER.
    let ok = unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            buf.as_mut_ptr().cast(),
            (buf.len() * 8) as u32,
            &raw mut len,
        )
    };
    if ok == 0 {
        return Err(last_error("GetTokenInformation"));
    }
    // SAFETY: GetTokenInformation filled a TOKEN_USER at the start of `buf`.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` points into `buf`, alive here; `text` is allocated by
    // the call and freed below with LocalFree.
    if unsafe { ConvertSidToStringSidW(sid, &raw mut text) } == 0 {
        return Err(last_error("ConvertSidToStringSidW"));
    }
    // SAFETY: `text` is a NUL-terminated UTF-16 string from the call
    // above (a SID's text is far shorter than 256 units).
    let len = (0..256)
        .take_while(|&i| unsafe { *text.add(i) } != 0)
        .count();
    // SAFETY: `len` units were just read as part of the same string.
    let units = unsafe { std::slice::from_raw_parts(text, len) };
    let sid = String::from_utf16_lossy(units);
    // SAFETY: allocated by ConvertSidToStringSidW, freed once.
    unsafe { LocalFree(text.cast()) };
    Ok(Account::Sid(sid))
}

pub(super) fn current() -> Option<Account> {
    // SAFETY: the pseudo handle of this process needs no closing.
    user_of(unsafe { GetCurrentProcess() }).ok()
}

/// The connection table of `family` (AF_INET or AF_INET6), as u32 words.
fn table(family: u16) -> Result<Vec<u32>, OwnerUnknown> {
    let mut size = 0u32;
    let mut buf: Vec<u32> = Vec::new();
    for _ in 0..4 {
        // SAFETY: `buf` holds `size` writable bytes (none at first, when
        // the call only says how many it needs).
        let r = unsafe {
            GetExtendedTcpTable(
                buf.as_mut_ptr().cast(),
                &raw mut size,
                0,
                u32::from(family),
                TCP_TABLE_OWNER_PID_ALL,
                0,
            )
        };
        match r {
            NO_ERROR => return Ok(buf),
            ERROR_INSUFFICIENT_BUFFER => buf = vec![0u32; (size as usize).div_ceil(4) + 64],
            other => {
                return Err(OwnerUnknown::System {
                    what: "GetExtendedTcpTable",
                    source: std::io::Error::from_raw_os_error(other as i32),
                });
            }
        }
    }
    Err(OwnerUnknown::System {
        what: "GetExtendedTcpTable",
        source: std::io::Error::other("the table kept growing"),
    })
}

/// A port as the table holds it: network byte order in the low 16 bits.
fn port(raw: u32) -> u16 {
    u16::from_be(raw as u16)
}

/// The process that owns the client end `peer` -> `local`.
fn owning_pid(peer: SocketAddr, local: SocketAddr) -> Result<u32, OwnerUnknown> {
    let family = if peer.is_ipv4() { AF_INET } else { AF_INET6 };
    let words = table(family)?;
    let count = *words
        .first()
        .ok_or(OwnerUnknown::NotListed { peer, local })? as usize;
    let rows = &words[1..];
    let found = match (peer.ip(), local.ip()) {
        (IpAddr::V4(p), IpAddr::V4(l)) => {
            let size = std::mem::size_of::<MIB_TCPROW_OWNER_PID>() / 4;
            rows.chunks_exact(size).take(count).find_map(|r| {
                let row = MIB_TCPROW_OWNER_PID {
                    dwState: r[0],
                    dwLocalAddr: r[1],
                    dwLocalPort: r[2],
                    dwRemoteAddr: r[3],
                    dwRemotePort: r[4],
                    dwOwningPid: r[5],
                };
                (row.dwLocalAddr.to_ne_bytes() == p.octets()
                    && port(row.dwLocalPort) == peer.port()
                    && row.dwRemoteAddr.to_ne_bytes() == l.octets()
                    && port(row.dwRemotePort) == local.port())
                .then_some(row.dwOwningPid)
            })
        }
        (IpAddr::V6(p), IpAddr::V6(l)) => {
            let size = std::mem::size_of::<MIB_TCP6ROW_OWNER_PID>() / 4;
            let bytes = |w: &[u32]| -> [u8; 16] {
                let mut b = [0u8; 16];
                for (i, x) in w.iter().enumerate() {
                    b[i * 4..i * 4 + 4].copy_from_slice(&x.to_ne_bytes());
                }
                b
            };
            rows.chunks_exact(size).take(count).find_map(|r| {
                (bytes(&r[0..4]) == p.octets()
                    && port(r[5]) == peer.port()
                    && bytes(&r[6..10]) == l.octets()
                    && port(r[11]) == local.port())
                .then_some(r[13])
            })
        }
        _ => None,
    };
    found.ok_or(OwnerUnknown::NotListed { peer, local })
}

pub(super) fn owner_of(peer: SocketAddr, local: SocketAddr) -> Result<Account, OwnerUnknown> {
    let pid = owning_pid(peer, local)?;
    if pid == 0 {
        // The System Idle Process owns no connection: the table does not
        // say (Wine 8 fills in 0 for every row).
        return Err(OwnerUnknown::NoProcess(peer));
    }
    // SAFETY: opening a process by id for a query; the handle is closed by `Owned`.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(last_error("OpenProcess"));
    }
    let process = Owned(process);
    user_of(process.0)
}
