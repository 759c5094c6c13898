//! The session's own rules, without a socket: what it answers to each
//! message before any write runs (the protocol tests in tests/ drive it
//! through a real WebSocket).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use webburn_scsi::sense::Sense;

use super::*;

fn limits() -> Limits {
    Limits {
        max_message_bytes: 1024,
        max_frame_bytes: 4096,
        idle_timeout_seconds: 60,
        buffer_bytes: 1 << 20,
    }
}

/// A session of a paired page (or the helper's own), with no recorders.
fn session(dir: &std::path::Path, own_page: bool) -> Session {
    Session::new(SessionContext {
        id: 1,
        origin: "https://burn.example".into(),
        registry: Arc::new(Registry::open(&[], None).unwrap()),
        engine: EngineConfig::default(),
        limits: limits(),
        features: vec!["openEnd".into()],
        idle_timeout: Duration::from_secs(60),
        own_page,
        pairing_token: None,
        pairing: PairingStore::new(dir),
        history: None,
        activity: Arc::default(),
    })
}

/// The code of a one-message `error` reply, or of a fatal step.
fn code_of(step: &Step) -> (ErrorCode, bool) {
    match step {
        Step::Fatal(code, _) => (*code, true),
        Step::Reply(msgs) => match msgs.as_slice() {
            [ServerMessage::Error { code, fatal, .. }] => (*code, *fatal),
            other => panic!("not one error: {other:?}"),
        },
    }
}

fn decoded_code(s: &Session, text: &str) -> (ErrorCode, bool) {
    code_of(&s.decode(text).unwrap_err())
}

#[test]
fn messages_are_checked_before_they_are_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    let long = format!("{{\"type\":\"ping\",\"pad\":\"{}\"}}", "x".repeat(2000));
    assert_eq!(decoded_code(&s, &long), (ErrorCode::MessageTooLarge, true));
    assert_eq!(decoded_code(&s, "{not json"), (ErrorCode::BadJson, false));
    assert_eq!(
        decoded_code(&s, r#"{"type":"formatC"}"#),
        (ErrorCode::UnknownType, false)
    );
    assert_eq!(
        decoded_code(&s, r#"{"type":"cancelWrite"}"#),
        (ErrorCode::BadMessage, false)
    );
    assert_eq!(
        decoded_code(&s, r#"{"type":"ping"}"#),
        (ErrorCode::HelloRequired, false)
    );
    let hello = s.decode(r#"{"type":"hello","versions":[1]}"#).unwrap();
    assert!(matches!(hello, ClientMessage::Hello { .. }));
    s.greeted = true;
    assert_eq!(s.decode(r#"{"type":"ping"}"#).unwrap(), ClientMessage::Ping);
}

#[test]
fn hello_needs_a_version_the_helper_speaks_and_announces_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    assert_eq!(
        code_of(&s.hello(&[PROTOCOL_VERSION + 1], Some("test"))),
        (ErrorCode::UnsupportedVersion, true)
    );
    assert!(!s.greeted);
    let Step::Reply(msgs) = s.hello(&[PROTOCOL_VERSION + 1, PROTOCOL_VERSION], None) else {
        panic!("hello refused")
    };
    assert!(s.greeted);
    match msgs.as_slice() {
        [
            ServerMessage::Welcome {
                version,
                limits: l,
                features,
                ..
            },
        ] => {
            assert_eq!((*version, *l), (PROTOCOL_VERSION, limits()));
            assert_eq!(features.as_deref(), Some(&["openEnd".to_owned()][..]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn write_ids_only_grow() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    assert!(s.take_write_id(5).is_ok());
    for stale in [5, 4, 0] {
        match s.take_write_id(stale) {
            Err(ServerMessage::Error { code, fatal, .. }) => {
                assert_eq!((code, fatal), (ErrorCode::BadWriteId, false));
            }
            other => panic!("{stale}: {other:?}"),
        }
    }
    assert!(s.take_write_id(6).is_ok());
}

#[test]
fn data_frames_need_hello_a_limit_and_an_open_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    let frame = |write_id, payload: &[u8]| {
        let mut b = DataFrameHeader {
            write_id,
            offset: 0,
        }
        .encode()
        .to_vec();
        b.extend_from_slice(payload);
        Bytes::from(b)
    };
    assert_eq!(
        code_of(&s.on_data(&frame(1, b"x"))),
        (ErrorCode::HelloRequired, false)
    );
    s.greeted = true;
    assert_eq!(
        code_of(&s.on_data(&Bytes::from(vec![0; 5000]))),
        (ErrorCode::FrameTooLarge, true)
    );
    assert_eq!(
        code_of(&s.on_data(&Bytes::from_static(b"no"))),
        (ErrorCode::BadFrame, true)
    );
    assert_eq!(
        code_of(&s.on_data(&frame(1, b"x"))),
        (ErrorCode::NoWriteOpen, true)
    );
    // A late frame of a write that has ended is dropped.
    s.last_write_id = Some(3);
    assert!(matches!(s.on_data(&frame(2, b"x")), Step::Reply(m) if m.is_empty()));
}

#[test]
fn a_cancel_of_no_write_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    let Step::Reply(msgs) = s.cancel_write(7, None) else {
        panic!("fatal")
    };
    match msgs.as_slice() {
        [
            ServerMessage::CancelResult {
                write_id, hresult, ..
            },
        ] => assert_eq!(
            (*write_id, *hresult),
            (7, HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS)
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_write_result_carries_the_errors_code_sense_and_bad_sector() {
    let failed = EngineError::new(
        HResult::E_IMAPI_BURN_VERIFICATION_FAILED,
        "sector 9 differs",
    )
    .with_sense(Sense::new(3, 0x11, 0))
    .with_code(ErrorCode::NotNextWritableAddress)
    .at_lba(9);
    match write_result(4, 1, &Err(failed)) {
        ServerMessage::WriteResult {
            write_id,
            target,
            hresult,
            name,
            sense,
            code,
            first_bad_lba,
            disc,
            ..
        } => {
            assert_eq!(
                (write_id, target, hresult),
                (4, 1, HResult::E_IMAPI_BURN_VERIFICATION_FAILED)
            );
            assert_eq!(name, "E_IMAPI_BURN_VERIFICATION_FAILED");
            let sense = sense.unwrap();
            assert_eq!((sense.key, sense.asc, sense.ascq), (3, 0x11, 0));
            assert_eq!(
                (code, first_bad_lba),
                (Some(ErrorCode::NotNextWritableAddress), Some(9))
            );
            assert!(disc.is_none());
        }
        other => panic!("{other:?}"),
    }
    match write_result(5, 0, &Ok(None)) {
        ServerMessage::WriteResult {
            hresult,
            code,
            sense,
            ..
        } => assert_eq!((hresult, code, sense), (HResult::S_OK, None, None)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_the_helpers_own_page_manages_pairings_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    s.greeted = true;
    let step = s.on_text(r#"{"type":"listPairings"}"#).await;
    assert_eq!(code_of(&step), (ErrorCode::NotAllowed, false));
    let mut own = session(dir.path(), true);
    own.greeted = true;
    let Step::Reply(msgs) = own.on_text(r#"{"type":"listPairings"}"#).await else {
        panic!("fatal")
    };
    assert!(
        matches!(msgs.as_slice(), [ServerMessage::Pairings { .. }]),
        "{msgs:?}"
    );
    // The own page writes to every disk it lists: nothing to request.
    let step = own
        .on_text(r#"{"type":"requestDevice","recorderId":"usb:1:2"}"#)
        .await;
    assert_eq!(code_of(&step), (ErrorCode::NotAllowed, false));
}

#[tokio::test]
async fn only_the_own_page_watches_the_pairings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), false);
    s.greeted = true;
    let step = s
        .on_text(r#"{"type":"watch","recorders":true,"pairings":true}"#)
        .await;
    assert_eq!(code_of(&step), (ErrorCode::NotAllowed, false));
    assert_eq!(s.watching, Watching::default());
    let step = s.on_text(r#"{"type":"watch","recorders":true}"#).await;
    assert!(matches!(step, Step::Reply(m) if m.is_empty()));
    assert_eq!(
        s.watching,
        Watching {
            recorders: true,
            pairings: false
        }
    );
}
