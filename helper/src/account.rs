//! The operating-system account the helper runs as, and the account that
//! owns the other end of a loopback TCP connection: every local process
//! can reach a port on 127.0.0.1, and the helper serves only its own
//! account's (its data directory is private to it, and so are the disks it
//! writes for that person).
//!
//! - Linux: the effective uid, and the `uid` column of `/proc/net/tcp` and
//!   `/proc/net/tcp6` for the client's end of the connection (the row
//!   whose local address is the peer and whose remote address is ours).
//! - Windows: the user SID of the process token, and the owning process of
//!   the connection from `GetExtendedTcpTable` (TCP_TABLE_OWNER_PID_ALL),
//!   whose token's user SID is compared.
//! - Elsewhere the owner is unknown.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// An account, as the operating system names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Account {
    /// A Unix user id.
    Uid(u32),
    /// A Windows security identifier (`S-1-5-21-...`).
    Sid(String),
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Uid(uid) => write!(f, "uid {uid}"),
            Account::Sid(sid) => f.write_str(sid),
        }
    }
}

/// Why the owner of a connection is not known.
#[derive(Debug, thiserror::Error)]
pub enum OwnerUnknown {
    /// A system call or file the answer comes from failed.
    #[error("{what}: {source}")]
    System {
        /// The call or file.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The connection is not in the system's table (it has closed).
    #[error("{peer} -> {local} is not in the connection table")]
    NotListed {
        /// The client's end.
        peer: SocketAddr,
        /// Ours.
        local: SocketAddr,
    },
    /// The table names no process for it (Wine fills in 0).
    #[error("the connection table names no process for {0}")]
    NoProcess(SocketAddr),
    /// This system does not say.
    #[error("this system does not say who owns a connection")]
    Unsupported,
}

/// Who the other end of a connection belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerOwner {
    /// This account.
    Same,
    /// Another account.
    Other(Account),
    /// Not known (no table entry, or no way to ask on this system).
    Unknown(String),
}

/// The account this process runs as, where the system can say.
pub fn current() -> Option<Account> {
    imp::current()
}

/// Who owns the client end of the connection from `peer` to `local`.
pub fn peer_owner(peer: SocketAddr, local: SocketAddr) -> PeerOwner {
    match (imp::owner_of(peer, local), current()) {
        (Ok(owner), Some(me)) if owner == me => PeerOwner::Same,
        (Ok(owner), Some(_)) => PeerOwner::Other(owner),
        (Ok(_), None) => PeerOwner::Unknown("this process's account is unknown".into()),
        (Err(why), _) => PeerOwner::Unknown(why.to_string()),
    }
}

/// One socket of `/proc/net/tcp{,6}`: its two ends and its owner.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn proc_net_row(line: &str) -> Option<(String, String, u32)> {
    let mut cols = line.split_whitespace();
    let _slot = cols.next()?;
    let local = cols.next()?.to_ascii_uppercase();
    let remote = cols.next()?.to_ascii_uppercase();
    let uid = cols.nth(4)?.parse().ok()?;
    Some((local, remote, uid))
}

/// An address as `/proc/net/tcp{,6}` prints it: the address's 32-bit words
/// in the machine's byte order as hex, a colon, the port as hex.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn proc_net_address(addr: SocketAddr) -> String {
    let octets: Vec<u8> = match addr.ip() {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    let mut out = String::new();
    for word in octets.chunks_exact(4) {
        let w = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]);
        let _ = write!(out, "{w:08X}");
    }
    let _ = write!(out, ":{:04X}", addr.port());
    out
}

/// The uid that owns the socket whose ends are `peer` (local) and `local`
/// (remote) in the text of `/proc/net/tcp{,6}`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn uid_in(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (proc_net_address(peer), proc_net_address(local));
    table
        .lines()
        .skip(1)
        .filter_map(proc_net_row)
        .find(|(l, r, _)| *l == want_local && *r == want_remote)
        .map(|(_, _, uid)| uid)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::net::SocketAddr;

    use super::{Account, OwnerUnknown};

    #[allow(clippy::unnecessary_wraps)] // `None` on systems that cannot say
    pub(super) fn current() -> Option<Account> {
        // SAFETY: geteuid takes no arguments, touches no memory of ours and
        // cannot fail (POSIX).
        #[allow(unsafe_code)]
        let uid = unsafe { libc::geteuid() };
        Some(Account::Uid(uid))
    }

    pub(super) fn owner_of(peer: SocketAddr, local: SocketAddr) -> Result<Account, OwnerUnknown> {
        let file = if peer.is_ipv4() {
            "/proc/net/tcp"
        } else {
            "/proc/net/tcp6"
        };
        let table = std::fs::read_to_string(file)
            .map_err(|source| OwnerUnknown::System { what: file, source })?;
        super::uid_in(&table, peer, local)
            .map(Account::Uid)
            .ok_or(OwnerUnknown::NotListed { peer, local })
    }
}

#[cfg(windows)]
mod imp;

#[cfg(not(any(target_os = "linux", windows)))]
mod imp {
    use std::net::SocketAddr;

    use super::{Account, OwnerUnknown};

    pub(super) fn current() -> Option<Account> {
        None
    }

    pub(super) fn owner_of(_: SocketAddr, _: SocketAddr) -> Result<Account, OwnerUnknown> {
        Err(OwnerUnknown::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_proc_net_tcp_are_matched_by_both_ends() {
        // The format of /proc/net/tcp (the kernel's tcp4_seq_show), two
        // ends of one loopback connection and a listener, on a
        // little-endian machine: 127.0.0.1 is 0100007F.
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:BA79 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1000 1 0 100 0 0 10 0\n\
           1: 0100007F:D431 0100007F:BA79 01 00000000:00000000 00:00000000 00000000  1001        0 2000 1 0 20 4 30 10 -1\n\
           2: 0100007F:BA79 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3000 1 0 20 4 30 10 -1\n";
        if cfg!(target_endian = "little") {
            let server: SocketAddr = "127.0.0.1:47737".parse().unwrap_or_else(|e| panic!("{e}"));
            let client: SocketAddr = "127.0.0.1:54321".parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(proc_net_address(server), "0100007F:BA79");
            assert_eq!(uid_in(table, client, server), Some(1001));
            assert_eq!(uid_in(table, server, client), Some(0));
            let other: SocketAddr = "127.0.0.1:1".parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(uid_in(table, other, server), None);
            let v6: SocketAddr = "[::1]:47737".parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                proc_net_address(v6),
                "00000000000000000000000001000000:BA79"
            );
        }
    }

    /// A real loopback connection of this process: its owner is this account.
    #[cfg(any(target_os = "linux", windows))]
    #[test]
    fn a_connection_of_this_process_is_this_accounts() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let local = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let client = std::net::TcpStream::connect(local).unwrap_or_else(|e| panic!("{e}"));
        let (_server_end, peer) = listener.accept().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(peer, client.local_addr().unwrap_or_else(|e| panic!("{e}")));
        assert!(current().is_some());
        let owner = peer_owner(peer, local);
        if cfg!(windows) && std::env::var_os("WINEPREFIX").is_some() {
            // Wine's connection table names no owning process.
            assert!(
                matches!(&owner, PeerOwner::Unknown(why) if why.contains("names no process")),
                "{owner:?}"
            );
        } else {
            assert_eq!(owner, PeerOwner::Same);
        }
    }
}
