//! sg_io_hdr's layout, SG_IO outcome decoding and sysfs enumeration.

use std::mem::{offset_of, size_of};

use webburn_shared::HResult;

use super::*;

#[test]
fn sg_io_hdr_has_the_kernels_layout() {
    // <scsi/sg.h> on 64-bit Linux: 88 bytes, pointers 8-aligned.
    assert_eq!(size_of::<SgIoHdr>(), 88);
    let offsets = [
        (offset_of!(SgIoHdr, interface_id), 0),
        (offset_of!(SgIoHdr, dxfer_direction), 4),
        (offset_of!(SgIoHdr, cmd_len), 8),
        (offset_of!(SgIoHdr, mx_sb_len), 9),
        (offset_of!(SgIoHdr, iovec_count), 10),
        (offset_of!(SgIoHdr, dxfer_len), 12),
        (offset_of!(SgIoHdr, dxferp), 16),
        (offset_of!(SgIoHdr, cmdp), 24),
        (offset_of!(SgIoHdr, sbp), 32),
        (offset_of!(SgIoHdr, timeout), 40),
        (offset_of!(SgIoHdr, flags), 44),
        (offset_of!(SgIoHdr, pack_id), 48),
        (offset_of!(SgIoHdr, usr_ptr), 56),
        (offset_of!(SgIoHdr, status), 64),
        (offset_of!(SgIoHdr, masked_status), 65),
        (offset_of!(SgIoHdr, msg_status), 66),
        (offset_of!(SgIoHdr, sb_len_wr), 67),
        (offset_of!(SgIoHdr, host_status), 68),
        (offset_of!(SgIoHdr, driver_status), 70),
        (offset_of!(SgIoHdr, resid), 72),
        (offset_of!(SgIoHdr, duration), 76),
        (offset_of!(SgIoHdr, info), 80),
    ];
    for (i, (got, want)) in offsets.into_iter().enumerate() {
        assert_eq!(got, want, "field {i}");
    }
    assert_eq!(SG_IO, 0x2285);
}

const T: Duration = Duration::from_secs(5);

#[test]
fn outcomes_decode_as_the_reference_says() {
    let good = SgResult {
        resid: 512,
        ..SgResult::default()
    };
    assert_eq!(
        decode(&good, &[], T, 2048).unwrap(),
        Completion {
            status: ScsiStatus::Good,
            sense: None,
            residue: 512
        }
    );
    // CHECK CONDITION with fixed sense 2/04/08 written.
    let sense = Sense::new(2, 0x04, 0x08).to_fixed_bytes();
    let check = SgResult {
        status: 0x02,
        sb_len_wr: 18,
        driver_status: DRIVER_SENSE,
        info: 1,
        ..SgResult::default()
    };
    let c = decode(&check, &sense, T, 0).unwrap();
    assert_eq!(c.status, ScsiStatus::CheckCondition);
    assert_eq!(
        c.sense.map(|s| (s.key, s.asc, s.ascq)),
        Some((2, 0x04, 0x08))
    );
    // DRIVER_SENSE without the status byte still carries sense.
    let driver = SgResult {
        driver_status: DRIVER_SENSE,
        sb_len_wr: 18,
        info: 1,
        ..SgResult::default()
    };
    assert!(decode(&driver, &sense, T, 0).unwrap().sense.is_some());
    let busy = SgResult {
        status: 0x08,
        info: 1,
        ..SgResult::default()
    };
    assert_eq!(decode(&busy, &[], T, 0).unwrap().status, ScsiStatus::Busy);
}

#[test]
fn host_and_driver_failures_have_their_hresults() {
    let cases = [
        (
            SgResult {
                host_status: 0x01,
                info: 1,
                ..SgResult::default()
            },
            HResult::E_DEV_NOT_EXIST,
        ),
        (
            SgResult {
                host_status: 0x04,
                info: 1,
                ..SgResult::default()
            },
            HResult::E_DEV_NOT_EXIST,
        ),
        (
            SgResult {
                host_status: 0x03,
                info: 1,
                ..SgResult::default()
            },
            HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT,
        ),
        (
            SgResult {
                driver_status: 0x06,
                info: 1,
                ..SgResult::default()
            },
            HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT,
        ),
        (
            SgResult {
                host_status: 0x07,
                info: 1,
                ..SgResult::default()
            },
            HResult::E_IMAPI_RECORDER_INVALID_RESPONSE_FROM_DEVICE,
        ),
    ];
    for (r, want) in cases {
        assert_eq!(decode(&r, &[], T, 0).unwrap_err().hresult(), want, "{r:?}");
    }
}

#[test]
fn devices_are_listed_from_sysfs() {
    let sys = tempfile::tempdir().unwrap();
    let add = |name: &str, vendor: &str, model: &str, ty: &str| {
        let dev = sys
            .path()
            .join("class/scsi_generic")
            .join(name)
            .join("device");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(dev.join("vendor"), format!("{vendor}  \n")).unwrap();
        std::fs::write(dev.join("model"), format!("{model}\n")).unwrap();
        std::fs::write(dev.join("rev"), "2.5+\n").unwrap();
        std::fs::write(dev.join("type"), format!("{ty}\n")).unwrap();
        dev
    };
    add("sg1", "QEMU", "QEMU DVD-ROM", "5");
    let disk = add("sg0", "QEMU", "QEMU HARDDISK", "0");
    let queue = disk.join("block/sda/queue");
    std::fs::create_dir_all(&queue).unwrap();
    std::fs::write(queue.join("max_hw_sectors_kb"), "32767\n").unwrap();
    let found = list(sys.path());
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].path, PathBuf::from("/dev/sg0"));
    assert_eq!(
        (found[0].vendor.as_str(), found[0].device_type),
        ("QEMU", 0)
    );
    assert_eq!(
        (found[1].model.as_str(), found[1].device_type),
        ("QEMU DVD-ROM", 5)
    );
    assert_eq!(found[1].revision, "2.5+");
    assert_eq!(
        max_hw_bytes(sys.path(), Path::new("/dev/sg0")),
        Some(32767 * 1024)
    );
    assert_eq!(max_hw_bytes(sys.path(), Path::new("/dev/sg1")), None);
    assert!(list(Path::new("/nonexistent")).is_empty());
}

#[test]
fn opening_a_missing_device_fails_cleanly() {
    let err = SgTransport::open(Path::new("/dev/sg-webburn-none")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}
