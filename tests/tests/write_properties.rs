//! A property test of the whole write path: random media (disks of 512-,
//! 2048- and 4096-byte blocks, DVD+R, BD-R, CD-R; small or at their real
//! capacities), random sections (where they start, how long, open-ended or
//! not), random frame sizes and the disc flow or a bare WriteSection, each
//! through the protocol to a fresh helper's emulated recorder. Every write
//! ends as a model of the medium predicts: refused before any credit when
//! the medium cannot take it, else the image holds the data at its address
//! and nothing past it, and a disc burn's SHA-256 and verify agree.

#![allow(clippy::unwrap_used)] // a test: a failed step is a failed test

use proptest::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use webburn_shared::HResult;
use webburn_tests::media::{image_at, image_len};
use webburn_tests::pattern;
use webburn_tests::served::Helper;

/// The medium in the emulated drive.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Disk { block: u32 },
    DvdPlusR,
    BdR,
    CdR,
}

impl Kind {
    fn block(self) -> u32 {
        match self {
            Kind::Disk { block } => block,
            _ => 2048,
        }
    }

    fn sequential(self) -> bool {
        !matches!(self, Kind::Disk { .. })
    }

    /// The emulated recorder's options and its capacity in sectors.
    fn options(self, size: Size) -> (String, u64) {
        let block = u64::from(self.block());
        let (profile, real) = match self {
            Kind::Disk { .. } => ("disk", 62_333_952 * 512),
            Kind::DvdPlusR => ("dvd+r", 2_295_104 * 2048),
            Kind::BdR => ("bd-r", 12_219_392 * 2048),
            Kind::CdR => ("cd-r", 359_847 * 2048),
        };
        let bytes = match size {
            Size::Real => real,
            Size::Sectors(n) => u64::from(n) * block,
        };
        let block_option = match self {
            Kind::Disk { block } => format!(",block={block}"),
            _ => String::new(),
        };
        (
            format!(",profile={profile}{block_option},capacity={bytes}"),
            bytes / block,
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Size {
    /// The medium's real capacity (a 32 GB card for a disk).
    Real,
    /// A small medium of this many sectors.
    Sectors(u32),
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// IWriteEngine2's WriteSection alone.
    Raw,
    /// IDiscFormat2Data's flow.
    Disc { verification: u8, open_end: bool },
}

#[derive(Debug, Clone)]
struct Case {
    kind: Kind,
    size: Size,
    sectors: u32,
    /// Where the section starts, as a fraction of the medium (disks) or
    /// how far from the next writable address (sequential media: mostly 0).
    start: f64,
    off_nwa: i32,
    chunk: usize,
    mode: Mode,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    let kind = prop_oneof![
        3 => prop_oneof![Just(512u32), Just(2048), Just(4096)].prop_map(|block| Kind::Disk { block }),
        1 => Just(Kind::DvdPlusR),
        1 => Just(Kind::BdR),
        1 => Just(Kind::CdR),
    ];
    let size = prop_oneof![
        1 => Just(Size::Real),
        1 => (16u32..4096).prop_map(Size::Sectors),
    ];
    let mode = prop_oneof![
        1 => Just(Mode::Raw),
        3 => (0u8..=2, any::<bool>()).prop_map(|(verification, open_end)| Mode::Disc { verification, open_end }),
    ];
    let off_nwa = prop_oneof![8 => Just(0i32), 1 => -64i32..64, 1 => Just(2_000_000)];
    (
        kind,
        size,
        1u32..=1024,
        0.0f64..1.0,
        off_nwa,
        1024usize..=(1 << 20),
        mode,
        any::<u64>(),
    )
        .prop_map(
            |(kind, size, sectors, start, off_nwa, chunk, mode, seed)| Case {
                kind,
                size,
                sectors,
                start,
                off_nwa,
                chunk,
                mode,
                seed,
            },
        )
}

/// What the medium's model says the write comes to.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    Refused(HResult),
    Written,
}

fn run(case: &Case) -> Result<(), TestCaseError> {
    let (options, capacity) = case.kind.options(case.size);
    let block = case.kind.block();
    let bps = u64::from(block);
    let start: i64 = if case.kind.sequential() {
        i64::from(case.off_nwa)
    } else {
        ((capacity as f64 * case.start) as i64).min(capacity as i64 - 1)
    };
    let open_end = matches!(case.mode, Mode::Disc { open_end: true, .. });
    let room = capacity as i64 - start.max(0);
    // An open-ended image is never longer than the room it is given.
    let sectors = if open_end {
        i64::from(case.sectors).min(room.max(1))
    } else {
        i64::from(case.sectors)
    };
    let data = pattern((sectors as u64 * bps) as usize, case.seed);
    // (An open-ended write past the medium's end takes a section of one.)
    let section = if open_end { room.max(1) } else { sectors };
    let expected = if case.kind.sequential() && start != 0 {
        // Only the next writable address (0 on a blank disc).
        Expected::Refused(HResult::E_INVALIDARG)
    } else if start + section > capacity as i64 {
        Expected::Refused(HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA)
    } else {
        Expected::Written
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let burned = rt.block_on(async {
        let helper = Helper::start(&[options.as_str()], |c| {
            c.tls = false;
            c.discover_drives = false;
        })
        .await;
        let mut client = helper.session().await;
        client.bytes_per_sector = block as usize;
        let mut extra = json!({
            "numberOfBlocks": section,
            "totalBytes": section as u64 * bps,
        });
        if let Mode::Disc {
            verification,
            open_end,
        } = case.mode
        {
            extra["disc"] = json!({"verification": verification, "openEnd": open_end});
        }
        let lba = i32::try_from(start).unwrap();
        let burned = client
            .burn_in_frames(1, &helper.recorders[0], lba, &data, case.chunk, extra)
            .await;
        (burned, helper)
    });
    let (burned, helper) = burned;
    let image = &helper.images[0];
    match expected {
        Expected::Refused(h) => {
            prop_assert_eq!(burned.hresult(), h, "{:?}", burned.result);
            prop_assert_eq!(burned.granted, 0, "refused before any credit");
            prop_assert_eq!(image_len(image), 0, "nothing written");
        }
        Expected::Written => {
            prop_assert_eq!(burned.hresult(), HResult::S_OK, "{:?}", burned.result);
            let at = start as u64 * bps;
            prop_assert!(
                image_at(image, at, data.len()) == data,
                "the data is at byte {}",
                at
            );
            prop_assert_eq!(
                image_len(image),
                at + data.len() as u64,
                "nothing past the data"
            );
            if let Mode::Disc { verification, .. } = case.mode {
                let report = burned.disc_report();
                prop_assert_eq!(&report.sha256, &format!("{:x}", Sha256::digest(&data)));
                prop_assert_eq!(report.verified, verification != 0);
            } else {
                let bare = matches!(
                    burned.result,
                    webburn_shared::protocol::ServerMessage::WriteResult { disc: None, .. }
                );
                prop_assert!(bare, "a bare WriteSection reports no disc");
            }
        }
    }
    drop(rt);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_write_ends_as_the_medium_model_says(case in case()) {
        run(&case)?;
    }
}

/// The cases that failed before their fixes, kept as plain tests.
#[test]
fn known_cases() {
    let open = Mode::Disc {
        verification: 2,
        open_end: true,
    };
    for case in [
        // An open-ended flash of a few MiB to a 32 GB card (the block
        // table of the verify was sized by the card).
        Case {
            kind: Kind::Disk { block: 512 },
            size: Size::Real,
            sectors: 1000,
            start: 0.0,
            off_nwa: 0,
            chunk: 1 << 20,
            mode: open,
            seed: 1,
        },
        // A bare WriteSection far from a blank DVD+R's next writable
        // address reached the drive after credit was granted.
        Case {
            kind: Kind::DvdPlusR,
            size: Size::Real,
            sectors: 16,
            start: 0.0,
            off_nwa: 2_000_000,
            chunk: 4096,
            mode: Mode::Raw,
            seed: 2,
        },
    ] {
        run(&case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    }
}
