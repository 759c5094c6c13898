//! Bulk-Only against a scripted pipe (each USB operation and its answer,
//! in order).

use std::collections::VecDeque;
use std::time::Duration;

use webburn_shared::HResult;

use super::wrapper::{CBW_LEN, Cbw, Csw, CswStatus};
use super::*;

/// One expected USB operation and what it answers.
#[derive(Debug)]
enum Step {
    /// bulk OUT of a CBW whose CDB starts with this opcode.
    Cbw(u8),
    /// bulk OUT of data.
    DataOut(Result<usize, PipeError>),
    /// bulk IN answering these bytes, or an error.
    In(Result<Vec<u8>, PipeError>),
    /// CLEAR_FEATURE(ENDPOINT_HALT).
    ClearHalt(Endpoint),
    /// Bulk-Only Mass Storage Reset.
    Reset,
}

#[derive(Debug)]
struct Scripted {
    steps: VecDeque<Step>,
    /// Tags of the CBWs sent.
    tags: Vec<u32>,
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Self {
        Scripted {
            steps: steps.into(),
            tags: Vec::new(),
        }
    }

    fn next(&mut self, what: &str) -> Step {
        self.steps
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected {what}: the script is over"))
    }
}

impl BulkPipe for Scripted {
    fn bulk_out(&mut self, data: &[u8], _: Duration) -> Result<usize, PipeError> {
        match self.next("bulk OUT") {
            Step::Cbw(op) => {
                let cbw = Cbw::decode(data).unwrap_or_else(|| panic!("not a CBW: {data:?}"));
                assert_eq!(cbw.cdb[0], op, "CDB opcode");
                self.tags.push(cbw.tag);
                Ok(CBW_LEN)
            }
            Step::DataOut(r) => r,
            other => panic!("bulk OUT, but the script expects {other:?}"),
        }
    }

    fn bulk_in(&mut self, buf: &mut [u8], _: Duration) -> Result<usize, PipeError> {
        match self.next("bulk IN") {
            Step::In(Ok(bytes)) => {
                buf[..bytes.len()].copy_from_slice(&bytes);
                Ok(bytes.len())
            }
            Step::In(Err(e)) => Err(e),
            other => panic!("bulk IN, but the script expects {other:?}"),
        }
    }

    fn clear_halt(&mut self, ep: Endpoint) -> Result<(), PipeError> {
        match self.next("clear halt") {
            Step::ClearHalt(want) => {
                assert_eq!(ep, want, "cleared the wrong endpoint");
                Ok(())
            }
            other => panic!("clear halt {ep:?}, but the script expects {other:?}"),
        }
    }

    fn mass_storage_reset(&mut self) -> Result<(), PipeError> {
        match self.next("reset") {
            Step::Reset => Ok(()),
            other => panic!("reset, but the script expects {other:?}"),
        }
    }

    fn get_max_lun(&mut self) -> Result<u8, PipeError> {
        Err(PipeError::Stall)
    }
}

fn csw(tag: u32, residue: u32, status: CswStatus) -> Step {
    Step::In(Ok(Csw {
        tag,
        residue,
        status,
    }
    .encode()
    .to_vec()))
}

fn write10(t: &mut BotTransport<Scripted>, data: &[u8]) -> Result<Completion, TransportError> {
    let cdb = [0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    t.execute(ScsiCommand {
        cdb: &cdb,
        data: DataDirection::ToDevice(data),
        timeout: Duration::from_secs(1),
    })
}

fn inquiry(t: &mut BotTransport<Scripted>, buf: &mut [u8]) -> Result<Completion, TransportError> {
    let cdb = [0x12, 0, 0, 0, 36, 0];
    t.execute(ScsiCommand {
        cdb: &cdb,
        data: DataDirection::FromDevice(buf),
        timeout: Duration::from_secs(1),
    })
}

fn bot(steps: Vec<Step>) -> BotTransport<Scripted> {
    BotTransport::new(Scripted::new(steps), 0, 65536)
}

fn assert_done(t: BotTransport<Scripted>) {
    let pipe = t.into_pipe();
    assert!(pipe.steps.is_empty(), "script steps left: {:?}", pipe.steps);
}

#[test]
fn a_write_passes_cbw_data_csw() {
    let mut t = bot(vec![
        Step::Cbw(0x2A),
        Step::DataOut(Ok(2048)),
        csw(1, 0, CswStatus::Passed),
    ]);
    assert_eq!(write10(&mut t, &[7; 2048]).unwrap(), Completion::good());
    assert_eq!(t.max_lun(), 0, "a stalled Get Max LUN means one LUN");
    assert_done(t);
}

#[test]
fn a_failed_command_is_followed_by_request_sense() {
    let sense = crate::sense::Sense::new(3, 0x0C, 0x00)
        .to_fixed_bytes()
        .to_vec();
    let mut t = bot(vec![
        Step::Cbw(0x2A),
        Step::DataOut(Ok(2048)),
        csw(1, 2048, CswStatus::Failed),
        Step::Cbw(0x03),
        Step::In(Ok(sense)),
        csw(2, 0, CswStatus::Passed),
    ]);
    let done = write10(&mut t, &[7; 2048]).unwrap();
    assert_eq!(done.status, ScsiStatus::CheckCondition);
    let s = done.sense.unwrap();
    assert_eq!((s.key, s.asc, s.ascq), (3, 0x0C, 0x00));
    assert_eq!(done.residue, 2048, "nothing was written");
    assert_eq!(t.into_pipe().tags, vec![1, 2], "each CBW has its own tag");
}

#[test]
fn a_short_in_transfer_reports_the_residue() {
    let mut t = bot(vec![
        Step::Cbw(0x12),
        Step::In(Ok(vec![5; 24])),
        csw(1, 0, CswStatus::Passed),
    ]);
    let mut buf = [0u8; 36];
    let done = inquiry(&mut t, &mut buf).unwrap();
    assert_eq!(
        (done.status, done.residue),
        (ScsiStatus::Good, 12),
        "the device said 0, but 12 bytes never came"
    );
    assert_done(t);
}

#[test]
fn a_stalled_data_stage_is_cleared_and_the_csw_still_read() {
    let mut t = bot(vec![
        Step::Cbw(0x12),
        Step::In(Err(PipeError::Stall)),
        Step::ClearHalt(Endpoint::In),
        csw(1, 36, CswStatus::Passed),
    ]);
    let done = inquiry(&mut t, &mut [0u8; 36]).unwrap();
    assert_eq!(done.residue, 36);
    let mut t = bot(vec![
        Step::Cbw(0x2A),
        Step::DataOut(Err(PipeError::Stall)),
        Step::ClearHalt(Endpoint::Out),
        csw(1, 2048, CswStatus::Failed),
        Step::Cbw(0x03),
        Step::In(Ok(crate::sense::Sense::new(5, 0x24, 0)
            .to_fixed_bytes()
            .to_vec())),
        csw(2, 0, CswStatus::Passed),
    ]);
    let done = write10(&mut t, &[0; 2048]).unwrap();
    assert_eq!(done.sense.map(|s| s.asc), Some(0x24));
    assert_done(t);
}

#[test]
fn a_stalled_csw_is_cleared_and_read_again_and_a_zlp_skipped() {
    let mut t = bot(vec![
        Step::Cbw(0x2A),
        Step::DataOut(Ok(2048)),
        Step::In(Err(PipeError::Stall)),
        Step::ClearHalt(Endpoint::In),
        Step::In(Ok(Vec::new())),
        csw(1, 0, CswStatus::Passed),
    ]);
    assert_eq!(write10(&mut t, &[1; 2048]).unwrap(), Completion::good());
    assert_done(t);
}

/// The steps of reset recovery.
fn recovery() -> [Step; 3] {
    [
        Step::Reset,
        Step::ClearHalt(Endpoint::In),
        Step::ClearHalt(Endpoint::Out),
    ]
}

fn assert_protocol_error(r: Result<Completion, TransportError>, what: &str) {
    match r {
        Err(e @ TransportError::Protocol(_)) => {
            assert!(e.to_string().contains(what), "{e}");
            assert_eq!(
                e.hresult(),
                HResult::E_IMAPI_RECORDER_INVALID_RESPONSE_FROM_DEVICE
            );
        }
        other => panic!("expected a protocol error about {what}, got {other:?}"),
    }
}

#[test]
fn a_phase_error_ends_in_reset_recovery() {
    let mut steps = vec![
        Step::Cbw(0x2A),
        Step::DataOut(Ok(2048)),
        csw(1, 0, CswStatus::PhaseError),
    ];
    steps.extend(recovery());
    let mut t = bot(steps);
    assert_protocol_error(write10(&mut t, &[0; 2048]), "phase error");
    assert_done(t);
}

#[test]
fn bad_csws_end_in_reset_recovery() {
    let cases: Vec<(Step, &str)> = vec![
        (csw(99, 0, CswStatus::Passed), "tag"),
        (Step::In(Ok(vec![0x55; 12])), "13 bytes"),
        (
            Step::In(Ok(Cbw {
                tag: 1,
                data_len: 0,
                data_in: false,
                lun: 0,
                cdb: vec![0],
            }
            .encode()
            .unwrap()[..13]
                .to_vec())),
            "signature",
        ),
        (csw(1, 0, CswStatus::Invalid(7)), "status 7"),
    ];
    for (bad, what) in cases {
        let mut steps = vec![Step::Cbw(0x2A), Step::DataOut(Ok(2048)), bad];
        steps.extend(recovery());
        let mut t = bot(steps);
        assert_protocol_error(write10(&mut t, &[0; 2048]), what);
        assert_done(t);
    }
}

#[test]
fn a_csw_that_stalls_twice_ends_in_reset_recovery() {
    let mut steps = vec![
        Step::Cbw(0x2A),
        Step::DataOut(Ok(2048)),
        Step::In(Err(PipeError::Stall)),
        Step::ClearHalt(Endpoint::In),
        Step::In(Err(PipeError::Stall)),
    ];
    steps.extend(recovery());
    let mut t = bot(steps);
    assert_protocol_error(write10(&mut t, &[0; 2048]), "CSW");
    assert_done(t);
}

#[test]
fn timeouts_and_vanished_devices_have_their_hresults() {
    let mut steps = vec![Step::Cbw(0x2A), Step::DataOut(Err(PipeError::Timeout))];
    steps.extend(recovery());
    let mut t = bot(steps);
    let err = write10(&mut t, &[0; 2048]).unwrap_err();
    assert_eq!(err.hresult(), HResult::E_IMAPI_RECORDER_COMMAND_TIMEOUT);
    assert_done(t);
    let vanishings = [
        vec![Step::DataOut(Err(PipeError::NoDevice))],
        vec![Step::Cbw(0x2A), Step::DataOut(Err(PipeError::NoDevice))],
        vec![
            Step::Cbw(0x2A),
            Step::DataOut(Ok(2048)),
            Step::In(Err(PipeError::NoDevice)),
        ],
    ];
    for (stage, steps) in vanishings.into_iter().enumerate() {
        let mut t = bot(steps);
        let err = write10(&mut t, &[0; 2048]).unwrap_err();
        assert_eq!(
            err.hresult(),
            HResult::E_DEV_NOT_EXIST,
            "gone at stage {stage}"
        );
        assert_done(t);
    }
}

#[test]
fn cdbs_no_transport_carries_are_refused_before_any_transfer() {
    // The wire takes 1 to 16 bytes (USB Bulk-Only 5.1); the transports carry
    // 6 to 16 (`CDB_LENGTHS`), as SG_IO and SPTI do.
    for cdb in [&[0x00][..], &[0x12, 0, 0, 0, 36][..], &[0u8; 17][..]] {
        let mut t = bot(Vec::new());
        let r = t.execute(ScsiCommand {
            cdb,
            data: DataDirection::None,
            timeout: Duration::from_secs(1),
        });
        assert!(
            matches!(r, Err(TransportError::InvalidCommand(_))),
            "{} bytes: {r:?}",
            cdb.len()
        );
        assert_done(t);
    }
}
