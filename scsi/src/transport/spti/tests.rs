//! SCSI_PASS_THROUGH_DIRECT's layout on literal bytes, pass-through outcome
//! decoding, the adapter's limits and the lock's caller name. Run by the
//! Windows build under Wine.

use std::mem::{offset_of, size_of};

use super::*;

#[test]
fn the_request_has_the_x64_layout() {
    // ntddscsi.h on x64: 56 bytes, DataBuffer 8-aligned at 24; the sense
    // buffer follows at 56.
    assert_eq!(size_of::<SCSI_PASS_THROUGH_DIRECT>(), 56);
    let offsets = [
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, Length), 0),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, ScsiStatus), 2),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, PathId), 3),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, TargetId), 4),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, Lun), 5),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, CdbLength), 6),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, SenseInfoLength), 7),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, DataIn), 8),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, DataTransferLength), 12),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, TimeOutValue), 16),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, DataBuffer), 24),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, SenseInfoOffset), 32),
        (offset_of!(SCSI_PASS_THROUGH_DIRECT, Cdb), 36),
        (offset_of!(SptdRequest, sense), 56),
    ];
    for (i, (got, want)) in offsets.into_iter().enumerate() {
        assert_eq!(got, want, "field {i}");
    }
    assert_eq!(size_of::<SptdRequest>(), 56 + SENSE_LEN);
    assert_eq!(IOCTL_SCSI_PASS_THROUGH_DIRECT, 0x4D014);
    assert_eq!(IOCTL_STORAGE_QUERY_PROPERTY, 0x2D_1400);
}

/// The request's bytes, without the data pointer (bytes 24..32).
fn bytes(r: &SptdRequest) -> Vec<u8> {
    // SptdRequest is plain data: copy its bytes through a u8 array of its size.
    let mut out = vec![0u8; size_of::<SptdRequest>()];
    let fields: [(&[u8], usize); 12] = [
        (&r.sptd.Length.to_le_bytes(), 0),
        (&[r.sptd.ScsiStatus], 2),
        (&[r.sptd.PathId], 3),
        (&[r.sptd.TargetId], 4),
        (&[r.sptd.Lun], 5),
        (&[r.sptd.CdbLength], 6),
        (&[r.sptd.SenseInfoLength], 7),
        (&[r.sptd.DataIn], 8),
        (&r.sptd.DataTransferLength.to_le_bytes(), 12),
        (&r.sptd.TimeOutValue.to_le_bytes(), 16),
        (&r.sptd.SenseInfoOffset.to_le_bytes(), 32),
        (&r.sptd.Cdb, 36),
    ];
    for (b, at) in fields {
        out[at..at + b.len()].copy_from_slice(b);
    }
    out
}

#[test]
fn a_write10_request_on_literal_bytes() {
    let mut data = vec![0u8; 32 * 2048];
    // WRITE(10) of 32 sectors at LBA 0x1234 (MMC-6 / SBC-3).
    let cdb = [0x2A, 0, 0, 0, 0x12, 0x34, 0, 0, 32, 0];
    let r = SptdRequest::new(
        &cdb,
        SCSI_IOCTL_DATA_OUT,
        data.as_mut_ptr(),
        data.len(),
        Duration::from_millis(7_500),
    )
    .unwrap();
    let mut want = vec![0u8; 56 + SENSE_LEN];
    want[..12].copy_from_slice(&[56, 0, 0, 0, 0, 0, 10, 32, 0, 0, 0, 0]);
    want[12..16].copy_from_slice(&[0x00, 0x00, 0x01, 0x00]); // 65,536 bytes
    want[16..20].copy_from_slice(&[8, 0, 0, 0]); // 7.5 s rounds up to 8
    want[32..36].copy_from_slice(&[56, 0, 0, 0]); // the sense follows
    want[36..46].copy_from_slice(&cdb);
    assert_eq!(bytes(&r), want);
    assert_eq!(r.sptd.DataBuffer.cast::<u8>(), data.as_mut_ptr());
}

#[test]
fn requests_read_none_and_refuse_bad_cdbs() {
    let mut buf = [0u8; 36];
    let inquiry = [0x12, 0, 0, 0, 36, 0];
    let r = SptdRequest::new(
        &inquiry,
        SCSI_IOCTL_DATA_IN,
        buf.as_mut_ptr(),
        36,
        Duration::from_millis(1),
    )
    .unwrap();
    assert_eq!((r.sptd.DataIn, r.sptd.CdbLength), (1, 6));
    assert_eq!(r.sptd.TimeOutValue, 1, "at least one second");
    let tur = SptdRequest::new(
        &[0; 6],
        SCSI_IOCTL_DATA_UNSPECIFIED,
        std::ptr::null_mut(),
        0,
        Duration::from_secs(1_000_000),
    )
    .unwrap();
    assert_eq!((tur.sptd.DataIn, tur.sptd.TimeOutValue), (2, 108_000));
    for bad in [&[0u8; 5][..], &[0u8; 17][..]] {
        assert!(matches!(
            SptdRequest::new(bad, 2, std::ptr::null_mut(), 0, Duration::from_secs(1)),
            Err(TransportError::InvalidCommand(_))
        ));
    }
}

#[test]
fn outcomes_decode_to_completions() {
    let good = decode(
        &SptdResult {
            status: 0,
            sense_len: 0,
            transferred: 2048,
        },
        &[0; SENSE_LEN],
        2048,
    );
    assert_eq!(good, Completion::good());
    // CHECK CONDITION: 05/21/02 invalid address for write (MMC-6).
    let mut sense = [0u8; SENSE_LEN];
    sense[..14].copy_from_slice(&[0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x21, 0x02]);
    let check = decode(
        &SptdResult {
            status: 2,
            sense_len: 18,
            transferred: 0,
        },
        &sense,
        4096,
    );
    assert_eq!(check.status, ScsiStatus::CheckCondition);
    let s = check.sense.unwrap();
    assert_eq!((s.key, s.asc, s.ascq), (0x05, 0x21, 0x02));
    assert_eq!(check.residue, 4096);
    let short = decode(
        &SptdResult {
            status: 0,
            sense_len: 0,
            transferred: 1000,
        },
        &[0; SENSE_LEN],
        4096,
    );
    assert_eq!(short.residue, 3096);
    let busy = decode(
        &SptdResult {
            status: 8,
            ..SptdResult::default()
        },
        &[0; SENSE_LEN],
        0,
    );
    assert_eq!((busy.status, busy.sense), (ScsiStatus::Busy, None));
}

#[test]
fn win32_errors_map_to_transport_and_open_errors() {
    use std::io::ErrorKind;
    let e = |code: u32| std::io::Error::from_raw_os_error(i32::try_from(code).unwrap());
    let t = Duration::from_secs(3);
    assert!(matches!(
        os_error(e(ERROR_SEM_TIMEOUT), "d", t),
        TransportError::Timeout(_)
    ));
    for gone in [
        ERROR_DEVICE_NOT_CONNECTED,
        ERROR_NO_SUCH_DEVICE,
        ERROR_NOT_READY,
    ] {
        assert!(matches!(
            os_error(e(gone), "d", t),
            TransportError::DeviceGone(_)
        ));
    }
    let denied = open_error(e(ERROR_ACCESS_DENIED), r"\\.\PhysicalDrive1");
    assert_eq!(denied.kind(), ErrorKind::PermissionDenied);
    assert!(denied.to_string().contains("administrator"), "{denied}");
    assert_eq!(
        open_error(e(ERROR_SHARING_VIOLATION), "x").kind(),
        ErrorKind::ResourceBusy
    );
    assert_eq!(
        open_error(e(ERROR_FILE_NOT_FOUND), "x").kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn the_adapter_limits_come_from_its_descriptor() {
    let mut d = zeroed_adapter();
    assert_eq!(
        AdapterLimits::from_descriptor(&d, 0),
        AdapterLimits::DEFAULT
    );
    d.MaximumTransferLength = 0x2_0000;
    d.MaximumPhysicalPages = 17; // 16 whole pages = 64 KiB
    d.AlignmentMask = 3;
    assert_eq!(
        AdapterLimits::from_descriptor(&d, 32),
        AdapterLimits {
            max_transfer: 64 * 1024,
            alignment_mask: 3
        }
    );
    d.MaximumPhysicalPages = 0xFFFF_FFFF;
    d.MaximumTransferLength = 0xFFFF_FFFF;
    assert_eq!(
        AdapterLimits::from_descriptor(&d, 32).max_transfer,
        DISK_MAX_TRANSFER
    );
    // A short answer (Wine fakes only the device property) is not trusted.
    assert_eq!(
        AdapterLimits::from_descriptor(&d, 12),
        AdapterLimits::DEFAULT
    );
}

#[test]
fn aligned_copies_start_where_the_adapter_wants() {
    for mask in [0usize, 1, 3, 511] {
        let mut a = Aligned::new(4096, mask);
        assert_eq!(a.slice().len(), 4096);
        assert_eq!(a.slice().as_ptr() as usize & mask, 0, "mask {mask}");
    }
}

#[test]
fn the_caller_name_keeps_only_what_windows_allows() {
    let n = access::caller_name("webburn helper/1.0 <x>");
    assert_eq!(&n[..19], b"webburn helper1.0 x");
    assert!(n[19..].iter().all(|&b| b == 0));
    assert_eq!(
        size_of::<windows_sys::Win32::Devices::Cdrom::CDROM_EXCLUSIVE_LOCK>(),
        72
    );
}

#[test]
fn a_missing_device_is_named_and_not_found() {
    let e = SptiTransport::open(
        r"\\.\PhysicalDrive99",
        Target::Disk {
            number: 99,
            force: false,
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("PhysicalDrive99"), "{e}");
}

#[test]
fn the_disk_windows_runs_from_is_refused_unless_forced() {
    let refused = refuse_system_disk("PhysicalDrive0", &['C', 'D'], Some('C'), false);
    match refused {
        Err(e @ TransportError::InUse(_)) => {
            assert_eq!(
                e.hresult(),
                webburn_shared::HResult::E_IMAPI_RECORDER_LOCKED
            );
            assert!(
                e.to_string()
                    .contains("PhysicalDrive0 is the system's disk: C:"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(refuse_system_disk("PhysicalDrive0", &['C'], Some('C'), true).is_ok());
    assert!(refuse_system_disk("PhysicalDrive1", &['E'], Some('C'), false).is_ok());
    assert!(refuse_system_disk("PhysicalDrive1", &[], None, false).is_ok());
}
