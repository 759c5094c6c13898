//! Which pages may write to which removable disks. A disk the helper found
//! (a USB stick, a card in a reader) is written only after the person at
//! the computer approved it for the asking page's origin on the helper
//! itself (its own page or the tray): a page asks, the helper shows
//! "https://site wants to write to SanDisk Ultra 32 GB (sdb)" with a short
//! code, the person allows or refuses. A disk over [`LARGE_DISK_BYTES`] is
//! more likely a backup drive than a stick: allowing it takes a second
//! confirmation.
//!
//! Approvals are kept in memory: they end when the helper stops or the
//! device goes away, and bind to the device's identity (vendor, model,
//! size, where it is plugged), so another stick that later gets the same
//! node is asked about afresh.

use std::time::Instant;

use webburn_shared::protocol::{Approval, DeviceRequest};

use super::pairing_store::{PairingError, REQUEST_TTL, new_code};

/// Disks above this size (256 GB, as packages count) need a second confirmation.
pub const LARGE_DISK_BYTES: u64 = 256_000_000_000;
/// Most device requests waiting at once (a page cannot flood the helper).
pub const MAX_REQUESTS: usize = 16;

/// A disk as the person is asked about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The recorder's id.
    pub id: String,
    /// What tells this device from another at the same id.
    pub identity: String,
    /// For people: `SanDisk Ultra 32 GB (sdb)`.
    pub label: String,
    /// Its size.
    pub size_bytes: u64,
}

impl Device {
    /// Its approval needs `confirm_large`.
    pub fn is_large(&self) -> bool {
        self.size_bytes > LARGE_DISK_BYTES
    }
}

#[derive(Debug)]
struct Request {
    code: String,
    origin: String,
    device: Device,
    created: Instant,
}

#[derive(Debug, PartialEq, Eq)]
struct Grant {
    origin: String,
    id: String,
    identity: String,
}

/// Why a device request or decision failed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// Too many requests wait.
    #[error("too many device requests are waiting; try again in a few minutes")]
    TooMany,
    /// No waiting request shows this code.
    #[error("no device request is waiting with code {0}")]
    NoSuchCode(String),
    /// A large disk was allowed without the second confirmation.
    #[error("{0} is larger than 256 GB: confirm a second time that everything on it may be erased")]
    NeedsConfirmation(String),
    /// No random code could be made.
    #[error(transparent)]
    Code(#[from] PairingError),
}

/// The waiting requests and the approvals given.
#[derive(Debug, Default)]
pub struct DeviceApprovals {
    requests: Vec<Request>,
    grants: Vec<Grant>,
}

impl DeviceApprovals {
    fn expire(&mut self) {
        self.requests.retain(|r| r.created.elapsed() < REQUEST_TTL);
    }

    /// Where `origin` stands with `device`.
    pub fn state(&mut self, origin: &str, device: &Device) -> Approval {
        self.expire();
        if self.allowed(origin, device) {
            Approval::Approved
        } else if self
            .requests
            .iter()
            .any(|r| r.origin == origin && r.device == *device)
        {
            Approval::Asked
        } else {
            Approval::Needed
        }
    }

    /// `origin` may write to `device`.
    pub fn allowed(&self, origin: &str, device: &Device) -> bool {
        self.grants
            .iter()
            .any(|g| g.origin == origin && g.id == device.id && g.identity == device.identity)
    }

    /// `origin` asks for `device`; asking again while it waits gets the same code.
    pub fn request(&mut self, origin: &str, device: Device) -> Result<String, ApprovalError> {
        self.expire();
        if let Some(r) = self
            .requests
            .iter()
            .find(|r| r.origin == origin && r.device == device)
        {
            return Ok(r.code.clone());
        }
        if self.requests.len() >= MAX_REQUESTS {
            return Err(ApprovalError::TooMany);
        }
        let code = new_code()?;
        self.requests.push(Request {
            code: code.clone(),
            origin: origin.to_owned(),
            device,
            created: Instant::now(),
        });
        Ok(code)
    }

    fn take(&mut self, code: &str) -> Result<Request, ApprovalError> {
        self.expire();
        let at = self
            .requests
            .iter()
            .position(|r| r.code.eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| ApprovalError::NoSuchCode(code.to_owned()))?;
        Ok(self.requests.remove(at))
    }

    /// The person allows the request showing `code`; returns who may now
    /// write to what. A large disk needs `confirm_large`.
    pub fn approve(
        &mut self,
        code: &str,
        confirm_large: bool,
    ) -> Result<(String, String), ApprovalError> {
        let r = self.take(code)?;
        if r.device.is_large() && !confirm_large {
            let label = r.device.label.clone();
            self.requests.push(r);
            return Err(ApprovalError::NeedsConfirmation(label));
        }
        self.grants.push(Grant {
            origin: r.origin.clone(),
            id: r.device.id.clone(),
            identity: r.device.identity.clone(),
        });
        Ok((r.origin, r.device.label))
    }

    /// The person refuses the request showing `code`.
    pub fn deny(&mut self, code: &str) -> Result<(String, String), ApprovalError> {
        let r = self.take(code)?;
        Ok((r.origin, r.device.label))
    }

    /// Device `id` went away: its requests and approvals end.
    pub fn forget(&mut self, id: &str) {
        self.requests.retain(|r| r.device.id != id);
        self.grants.retain(|g| g.id != id);
    }

    /// The requests waiting for the person, oldest first.
    pub fn waiting(&mut self) -> Vec<DeviceRequest> {
        self.expire();
        self.requests
            .iter()
            .map(|r| DeviceRequest {
                code: r.code.clone(),
                origin: r.origin.clone(),
                recorder_id: r.device.id.clone(),
                device: r.device.label.clone(),
                size_bytes: r.device.size_bytes,
                large: r.device.is_large(),
                age_seconds: r.created.elapsed().as_secs(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stick(size_bytes: u64, identity: &str) -> Device {
        Device {
            id: "sg:/dev/sg1".into(),
            identity: identity.into(),
            label: "SanDisk Ultra 32 GB (sdb)".into(),
            size_bytes,
        }
    }

    const SITE: &str = "https://site.example";

    #[test]
    fn a_request_waits_until_the_person_allows_it_for_that_origin_only() {
        let mut a = DeviceApprovals::default();
        let dev = stick(32_000_000_000, "usb2/2-1 SanDisk Ultra 32000000000");
        assert_eq!(a.state(SITE, &dev), Approval::Needed);
        let code = a.request(SITE, dev.clone()).unwrap();
        assert_eq!(a.request(SITE, dev.clone()).unwrap(), code, "asking again");
        assert_eq!(a.state(SITE, &dev), Approval::Asked);
        let waiting = a.waiting();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].device, "SanDisk Ultra 32 GB (sdb)");
        assert!(!waiting[0].large);
        assert_eq!(
            a.approve(&code.to_lowercase(), false).unwrap(),
            (SITE.to_owned(), dev.label.clone())
        );
        assert_eq!(a.state(SITE, &dev), Approval::Approved);
        assert!(a.allowed(SITE, &dev));
        assert!(!a.allowed("https://other.example", &dev));
        assert!(a.waiting().is_empty());
        // Another stick at the same node is asked about afresh.
        let other = stick(16_000_000_000, "usb2/2-1 Kingston DT 16000000000");
        assert_eq!(a.state(SITE, &other), Approval::Needed);
        // Unplugged: the approval ends.
        a.forget(&dev.id);
        assert_eq!(a.state(SITE, &dev), Approval::Needed);
    }

    #[test]
    fn a_large_disk_needs_the_second_confirmation() {
        let mut a = DeviceApprovals::default();
        let dev = stick(512_000_000_000, "usb2/2-1 Backup 512000000000");
        let code = a.request(SITE, dev.clone()).unwrap();
        assert!(a.waiting()[0].large);
        let e = a.approve(&code, false).unwrap_err();
        assert!(matches!(e, ApprovalError::NeedsConfirmation(_)), "{e}");
        assert!(e.to_string().contains("larger than 256 GB"), "{e}");
        assert_eq!(a.state(SITE, &dev), Approval::Asked, "still waiting");
        a.approve(&code, true).unwrap();
        assert!(a.allowed(SITE, &dev));
    }

    #[test]
    fn refused_unknown_and_too_many() {
        let mut a = DeviceApprovals::default();
        let dev = stick(32_000_000_000, "x");
        let code = a.request(SITE, dev.clone()).unwrap();
        a.deny(&code).unwrap();
        assert_eq!(a.state(SITE, &dev), Approval::Needed);
        assert!(matches!(
            a.approve(&code, true),
            Err(ApprovalError::NoSuchCode(_))
        ));
        for i in 0..MAX_REQUESTS {
            a.request(&format!("https://s{i}.example"), dev.clone())
                .unwrap();
        }
        assert!(matches!(
            a.request(SITE, dev.clone()),
            Err(ApprovalError::TooMany)
        ));
        a.forget(&dev.id);
        assert!(a.waiting().is_empty());
    }
}
