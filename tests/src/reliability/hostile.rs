//! Hostile clients against a helper process: every rejection PROTOCOL.md
//! lists, trickled requests, thousands of rapid connects, random frames,
//! huge and deeply nested JSON, bad UTF-8, writes outside the medium, bad
//! counts, foreign origins and a DNS-rebinding Host. The helper must not
//! panic, must keep its memory and descriptors bounded and must answer with
//! the documented errors.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;

use super::{Door, Outcome, Planned, Scale, ensure, own_session, plan, wait_free};
use crate::child::ChildHelper;
use crate::pattern;
use crate::served::{Client, Event, connect};

/// The one origin besides its own the test helper admits.
const ALLOWED: &str = "https://kiosk.example";

/// A helper process with a 64 MiB emulated disk that also admits
/// [`ALLOWED`], and its data directory.
fn start() -> Result<(ChildHelper, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let args = vec![
        "--recorder".to_owned(),
        format!(
            "emulated:{},profile=disk,capacity=64MiB",
            dir.path().join("disk.img").display()
        ),
        "--allow-origin".to_owned(),
        ALLOWED.to_owned(),
    ];
    Ok((ChildHelper::start(dir.path(), 0, &args)?, dir))
}

fn recorder(dir: &Path) -> String {
    format!("emulated:{}", dir.join("disk.img").display())
}

/// The helper's log holds no panic.
fn no_panic(dir: &Path) -> Result<(), String> {
    let log = std::fs::read_to_string(dir.join("helper.log")).unwrap_or_default();
    ensure(!log.contains("panicked"), || {
        "the helper's log shows a panic".into()
    })
}

/// A new session still lists the recorder.
async fn serves(door: &Door) -> Result<(), String> {
    let mut c = own_session(door).await?;
    c.send(json!({"type": "listRecorders"})).await;
    match c.next_event().await {
        Event::Message(ServerMessage::Recorders { recorders }) if recorders.len() == 1 => Ok(()),
        other => Err(format!("the helper no longer serves: {other:?}")),
    }
}

/// What the helper answered: an error's code (and whether fatal), a close, or else.
async fn answer(c: &mut Client) -> String {
    loop {
        match c.next_event().await {
            Event::Message(ServerMessage::Error { code, fatal, .. }) => {
                return if fatal {
                    format!("{code} (closed)")
                } else {
                    code.to_string()
                };
            }
            Event::Message(ServerMessage::WriteResult { name, .. }) => return name,
            Event::Message(
                ServerMessage::Update { .. }
                | ServerMessage::Credit { .. }
                | ServerMessage::WriteStarted { .. }
                | ServerMessage::CancelResult { .. },
            ) => {}
            Event::Message(other) => return format!("{other:?}"),
            Event::Closed(code) => return format!("closed {code:?}"),
            Event::Garbage(g) => return format!("garbage {g}"),
            Event::Silent => return "silence".into(),
        }
    }
}

/// One bad input per row of PROTOCOL.md's error table.
struct Rejection {
    /// The documented code.
    name: &'static str,
    /// What the client sends.
    messages: Vec<Message>,
    /// Say hello first.
    hello: bool,
    /// The documented answer, as [`answer`] reports it.
    answer: &'static str,
}

fn rejections(rec: &str) -> Vec<Rejection> {
    rejection_table(rec)
        .into_iter()
        .map(|(name, messages, hello, answer)| Rejection {
            name,
            messages,
            hello,
            answer,
        })
        .collect()
}

/// The rows of [`rejections`]: code, messages, hello first, answer.
#[allow(clippy::too_many_lines, clippy::type_complexity)] // a table, one row per documented error
fn rejection_table(rec: &str) -> Vec<(&'static str, Vec<Message>, bool, &'static str)> {
    let start_write = |id: u32| {
        json!({"type": "startWrite", "writeId": id, "recorder": rec, "bytesPerSector": 2048,
               "startingBlockAddress": 0, "numberOfBlocks": 1, "totalBytes": 2048})
    };
    vec![
        ("badJson", vec![Message::text("{not json")], true, "badJson"),
        (
            "unknownType",
            vec![Message::text(r#"{"type":"format"}"#)],
            true,
            "unknownType",
        ),
        (
            "badMessage",
            vec![Message::text(r#"{"type":"cancelWrite"}"#)],
            true,
            "badMessage",
        ),
        (
            "helloRequired",
            vec![Message::text(r#"{"type":"ping"}"#)],
            false,
            "helloRequired",
        ),
        (
            "unsupportedVersion",
            vec![Message::text(r#"{"type":"hello","versions":[7]}"#)],
            false,
            "unsupportedVersion (closed)",
        ),
        (
            "messageTooLarge",
            vec![Message::text(format!(
                r#"{{"type":"ping","x":"{}"}}"#,
                "a".repeat(70_000)
            ))],
            true,
            "messageTooLarge (closed)",
        ),
        (
            "frameTooLarge",
            vec![Message::binary(vec![0u8; (1 << 20) + 17])],
            true,
            "frameTooLarge (closed)",
        ),
        (
            "badFrame",
            vec![Message::binary(b"nope".to_vec())],
            true,
            "badFrame (closed)",
        ),
        (
            "noWriteOpen",
            vec![Message::binary(
                webburn_shared::DataFrameHeader {
                    write_id: 9,
                    offset: 0,
                }
                .encode()
                .to_vec(),
            )],
            true,
            "noWriteOpen (closed)",
        ),
        (
            "badOffset",
            vec![
                Message::text(start_write(1).to_string()),
                Message::binary(
                    [
                        &webburn_shared::DataFrameHeader {
                            write_id: 1,
                            offset: 5,
                        }
                        .encode()[..],
                        &[0u8; 16],
                    ]
                    .concat(),
                ),
            ],
            true,
            "badOffset (closed)",
        ),
        (
            "creditExceeded",
            vec![
                Message::text(start_write(1).to_string()),
                Message::binary(
                    [
                        &webburn_shared::DataFrameHeader {
                            write_id: 1,
                            offset: 0,
                        }
                        .encode()[..],
                        &vec![0u8; 4096][..],
                    ]
                    .concat(),
                ),
            ],
            true,
            "creditExceeded (closed)",
        ),
        (
            "badWriteId",
            vec![
                Message::text(json!({"type":"cancelWrite","writeId":3}).to_string()),
                Message::text(start_write(0).to_string()),
                Message::text(start_write(0).to_string()),
            ],
            true,
            "badWriteId",
        ),
        (
            "notAllowed",
            vec![Message::text(r#"{"type":"listPairings"}"#)],
            true,
            "notAllowed",
        ),
    ]
}

/// One bad input per row of PROTOCOL.md's error table, each on a fresh
/// session: the documented code, fatal or not as documented.
async fn every_rejection() -> Outcome {
    let (helper, dir) = start()?;
    let port = helper.port;
    let door = Door::of_child(&helper);
    let cases = rejections(&recorder(dir.path()));
    let mut seen = Vec::new();
    for Rejection {
        name,
        messages,
        hello,
        answer: want,
    } in cases
    {
        // Pairing is for the helper's own page: a configured origin is refused it.
        let origin = if name == "notAllowed" {
            ALLOWED.to_owned()
        } else {
            format!("http://127.0.0.1:{port}")
        };
        let mut c = connect(port, Some(&origin), None, None, Some(&door.cookie))
            .await
            .map_err(|r| format!("{name}: refused: {r:?}"))?;
        if hello {
            c.hello().await;
        }
        for m in messages {
            let _ = c.try_send(m).await;
        }
        let got = answer(&mut c).await;
        // A write the case left open is released as its socket closes.
        c.close().await;
        wait_free(&door, Duration::from_secs(2)).await?;
        ensure(got == want, || {
            format!("{name}: answered {got}, not {want}")
        })?;
        seen.push(name);
    }
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(format!(
        "{} rejections, each with its documented code and fatality: {}; still serving, no panic",
        seen.len(),
        seen.join(", ")
    ))
}

/// What a refused client sends.
struct Refusal<'a> {
    /// What it is, for the report.
    name: &'a str,
    origin: Option<&'a str>,
    token: Option<&'a str>,
    host: Option<&'a str>,
}

/// Refusals before the upgrade: foreign origin, opaque origin, no origin,
/// DNS rebinding, bad token; each an HTTP 403 with its reason.
async fn refused_upgrades() -> Outcome {
    let (helper, dir) = start()?;
    let port = helper.port;
    let door = Door::of_child(&helper);
    let rebinding = format!("evil.example:{port}");
    let foreign = Refusal {
        name: "another site's page",
        origin: Some("https://evil.example"),
        token: None,
        host: None,
    };
    let cases = [
        Refusal {
            name: "Origin: null",
            origin: Some("null"),
            ..foreign
        },
        Refusal {
            name: "no Origin",
            origin: None,
            ..foreign
        },
        Refusal {
            name: "DNS-rebinding Host",
            host: Some(rebinding.as_str()),
            ..foreign
        },
        Refusal {
            name: "a made-up token",
            token: Some("00ff00ff"),
            ..foreign
        },
        foreign,
    ];
    let mut seen = Vec::new();
    for Refusal {
        name,
        origin,
        token,
        host,
    } in cases
    {
        match connect(port, origin, token, host, None).await {
            Ok(_) => return Err(format!("{name}: the upgrade was accepted")),
            Err((403, body)) => seen.push(format!("{name}: 403 {}", body.trim())),
            Err((status, body)) => return Err(format!("{name}: {status} {body}")),
        }
    }
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(seen.join("; "))
}

/// Connections that send half a request and then nothing: the helper keeps
/// serving meanwhile and drops them after its header timeout.
async fn slow_upgrades(scale: Scale) -> Outcome {
    let (helper, dir) = start()?;
    let port = helper.port;
    let door = Door::of_child(&helper);
    serves(&door).await?;
    let baseline = helper.fds();
    let mut slow = Vec::new();
    for _ in 0..scale.slow_clients {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs")
            .await
            .map_err(|e| e.to_string())?;
        slow.push(s);
    }
    serves(&door).await?;
    let held = helper.fds();
    let started = Instant::now();
    // HEADER_TIMEOUT is 10 s.
    let mut open = slow.len();
    while open > 0 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        open = 0;
        for s in &slow {
            let mut b = [0u8; 1];
            if matches!(s.try_read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock) {
                open += 1;
            }
        }
    }
    let dropped_after = started.elapsed();
    ensure(open == 0, || {
        format!("{open} trickling connections still open after 20 s")
    })?;
    drop(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = helper.fds();
    ensure(after <= baseline + 2, || {
        format!("descriptors {baseline} before, {after} after")
    })?;
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(format!(
        "{} trickling connections (descriptors {baseline} -> {held}); a normal session was served meanwhile; \
         all dropped by the helper within {:.1} s; descriptors back to {after}",
        scale.slow_clients,
        dropped_after.as_secs_f64()
    ))
}

/// Rapid connect/hello/close: no growth in descriptors or memory.
async fn rapid_connects(scale: Scale) -> Outcome {
    let (helper, dir) = start()?;
    let port = helper.port;
    let door = Door::of_child(&helper);
    let origin = format!("http://127.0.0.1:{port}");
    let one = |origin: String| {
        let cookie = door.cookie.clone();
        async move {
            match connect(port, Some(&origin), None, None, Some(&cookie)).await {
                Ok(mut c) => {
                    c.hello().await;
                    c.close().await;
                    Ok(())
                }
                Err((503, _)) => Err(503),
                Err((status, _)) => Err(status),
            }
        }
    };
    for _ in 0..50 {
        let _ = one(origin.clone()).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (fds0, rss0) = (helper.fds(), helper.rss_kib());
    let started = Instant::now();
    let results: Vec<Result<(), u16>> = futures_util::stream::iter(0..scale.connects)
        .map(|_| one(origin.clone()))
        .buffer_unordered(4)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let busy = results.iter().filter(|r| matches!(r, Err(503))).count();
    let failed: Vec<u16> = results
        .iter()
        .filter_map(|r| r.err())
        .filter(|&s| s != 503)
        .collect();
    ensure(failed.is_empty(), || {
        format!(
            "{} connects failed, e.g. {:?}",
            failed.len(),
            failed.first()
        )
    })?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds1, rss1) = (helper.fds(), helper.rss_kib());
    ensure(fds1 <= fds0 + 2, || format!("descriptors {fds0} -> {fds1}"))?;
    ensure(rss1 <= rss0 + 16 * 1024, || {
        format!("memory {rss0} KiB -> {rss1} KiB")
    })?;
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(format!(
        "{} connects in {secs:.1} s ({:.0}/s), {busy} answered 503 at the session limit, none failed; \
         descriptors {fds0} -> {fds1}, memory {rss0} -> {rss1} KiB",
        scale.connects,
        scale.connects as f64 / secs
    ))
}

/// Random bytes as text and binary messages of random sizes (a fixed seed):
/// each gets a documented error or a close; the helper lives on.
async fn random_frames(scale: Scale) -> Outcome {
    let (helper, dir) = start()?;
    let door = Door::of_child(&helper);
    let (fds0, rss0) = (helper.fds(), helper.rss_kib());
    let bytes = pattern(3 << 20, 4242);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    let mut c = own_session(&door).await?;
    for _ in 0..scale.random_frames {
        let r = next();
        let size = match r % 4 {
            0 => (r >> 8) as usize % 64,
            1 => (r >> 8) as usize % 70_000,
            2 => (r >> 8) as usize % ((1 << 20) + 32),
            _ => (r >> 8) as usize % (3 << 20),
        };
        let at = (r >> 32) as usize % (bytes.len() - size);
        let payload = bytes[at..at + size].to_vec();
        let sent = match (r >> 4) % 3 {
            0 => c.try_send(Message::binary(payload)).await,
            1 => c.try_send_raw_text(payload).await,
            _ => {
                c.try_send(Message::text(
                    String::from_utf8_lossy(&payload).into_owned(),
                ))
                .await
            }
        };
        let got = if sent.is_err() {
            "send refused (closed)".to_owned()
        } else {
            answer(&mut c).await
        };
        let closed = got.contains("closed") || got == "silence";
        *answers.entry(got).or_default() += 1;
        if closed {
            c = own_session(&door).await?;
        }
    }
    let known = [
        "badFrame",
        "badJson",
        "frameTooLarge",
        "messageTooLarge",
        "noWriteOpen",
        "unknownType",
        "badMessage",
        "closed",
        "send refused",
    ];
    let strange: Vec<&String> = answers
        .keys()
        .filter(|k| !known.iter().any(|n| k.starts_with(n)))
        .collect();
    ensure(strange.is_empty(), || {
        format!("undocumented answers: {strange:?}")
    })?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fds1, rss1) = (helper.fds(), helper.rss_kib());
    ensure(fds1 <= fds0 + 2, || format!("descriptors {fds0} -> {fds1}"))?;
    ensure(rss1 <= rss0 + 32 * 1024, || {
        format!("memory {rss0} KiB -> {rss1} KiB")
    })?;
    serves(&door).await?;
    no_panic(dir.path())?;
    let summary: Vec<String> = answers.iter().map(|(k, n)| format!("{k} x{n}")).collect();
    Ok(format!(
        "{} random frames (0..3 MiB, text, binary, invalid UTF-8): {}; descriptors {fds0} -> {fds1}, memory {rss0} -> {rss1} KiB",
        scale.random_frames,
        summary.join(", ")
    ))
}

/// Huge, deeply nested and malformed JSON.
async fn nasty_json() -> Outcome {
    let (helper, dir) = start()?;
    let door = Door::of_child(&helper);
    let deep_array = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    // `None`: a text frame that is not UTF-8.
    let cases: Vec<(&str, Option<Message>, &str)> = vec![
        (
            "30,000 nested arrays",
            Some(Message::text(deep_array)),
            "badJson",
        ),
        (
            "10,000 nested objects",
            Some(Message::text(deep_object)),
            "badJson",
        ),
        (
            "a 60 KiB string in a ping",
            Some(Message::text(format!(
                r#"{{"type":"ping","pad":"{}"}}"#,
                "x".repeat(60_000)
            ))),
            "Pong",
        ),
        (
            "a 100 KiB message",
            Some(Message::text(format!(
                r#"{{"type":"ping","pad":"{}"}}"#,
                "x".repeat(100_000)
            ))),
            "messageTooLarge (closed)",
        ),
        // Past the socket layer's own cap (twice the 1 MiB frame limit).
        (
            "a 3 MiB message",
            Some(Message::text("y".repeat(3 << 20))),
            "closed",
        ),
        ("invalid UTF-8 in a text frame", None, "closed"),
        (
            "numberOfBlocks 2^40",
            Some(Message::text(
                r#"{"type":"startWrite","writeId":1,"recorder":"x","bytesPerSector":2048,"startingBlockAddress":0,"numberOfBlocks":1099511627776,"totalBytes":1}"#,
            )),
            "badMessage",
        ),
    ];
    let mut seen = Vec::new();
    for (name, msg, want) in cases {
        let mut c = own_session(&door).await?;
        let sent = match msg {
            Some(m) => c.try_send(m).await,
            None => {
                c.try_send_raw_text(vec![b'{', 0xC3, 0x28, 0xFF, b'}'])
                    .await
            }
        };
        let got = if sent.is_err() {
            "closed".to_owned()
        } else {
            answer(&mut c).await
        };
        ensure(got.starts_with(want), || {
            format!("{name}: answered {got}, not {want}")
        })?;
        seen.push(format!("{name}: {got}"));
    }
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(seen.join("; "))
}

/// A bad startWrite: what, LBA, numberOfBlocks, bytesPerSector, totalBytes
/// and the HRESULT it must end with.
type BadWrite = (&'static str, i32, i64, i32, i64, HResult);

/// Bad writes to a 64 MiB disk of 2048-byte sectors (32,768 of them).
const BAD_WRITES: [BadWrite; 12] = [
    (
        "start at the end",
        32_768,
        1,
        2048,
        2048,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
    ),
    (
        "start far past the end",
        40_000,
        1,
        2048,
        2048,
        HResult::E_INVALIDARG,
    ),
    (
        "a section running off the end",
        32_767,
        2,
        2048,
        4096,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
    ),
    ("a negative start", -1, 1, 2048, 2048, HResult::E_INVALIDARG),
    (
        "the most negative start",
        i32::MIN,
        1,
        2048,
        2048,
        HResult::E_INVALIDARG,
    ),
    (
        "numberOfBlocks 2147483647 from 0",
        0,
        2_147_483_647,
        2048,
        4_398_046_509_056,
        HResult::E_IMAPI_DF2DATA_STREAM_TOO_LARGE_FOR_CURRENT_MEDIA,
    ),
    ("numberOfBlocks 0", 0, 0, 2048, 0, HResult::E_INVALIDARG),
    ("numberOfBlocks -5", 0, -5, 2048, 0, HResult::E_INVALIDARG),
    (
        "an LBA that overflows",
        i32::MAX,
        2,
        2048,
        4096,
        HResult::E_INVALIDARG,
    ),
    ("bytesPerSector 0", 0, 1, 0, 2048, HResult::E_INVALIDARG),
    (
        "bytesPerSector 512 on a 2048-byte disk",
        0,
        1,
        512,
        512,
        HResult::E_INVALIDARG,
    ),
    (
        "totalBytes short of the section",
        0,
        4,
        2048,
        100,
        HResult::E_INVALIDARG,
    ),
];

/// Writes outside the medium and bad counts: refused with their HRESULTs,
/// nothing written.
async fn bad_writes() -> Outcome {
    let (helper, dir) = start()?;
    let door = Door::of_child(&helper);
    let rec = recorder(dir.path());
    let mut c = own_session(&door).await?;
    let mut seen = Vec::new();
    for (i, (name, lba, blocks, bps, total, want)) in BAD_WRITES.into_iter().enumerate() {
        let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
        c.send(
            json!({"type": "startWrite", "writeId": id, "recorder": rec, "bytesPerSector": bps,
                      "startingBlockAddress": lba, "numberOfBlocks": blocks, "totalBytes": total}),
        )
        .await;
        let result = loop {
            match c.next_event().await {
                // The refusal comes before any credit: the client never sends a byte.
                Event::Message(ServerMessage::WriteStarted { credit, .. }) => {
                    return Err(format!(
                        "{name}: writeStarted with {credit} bytes of credit"
                    ));
                }
                Event::Message(ServerMessage::WriteResult { hresult, .. }) => break hresult,
                Event::Message(_) => {}
                other => return Err(format!("{name}: {other:?}")),
            }
        };
        ensure(result == want, || {
            format!(
                "{name}: {}, not {}",
                result.name().unwrap_or("?"),
                want.name().unwrap_or("?")
            )
        })?;
        seen.push(format!("{name}: {}", result.name().unwrap_or("?")));
    }
    let img = std::fs::read(dir.path().join("disk.img")).unwrap_or_default();
    ensure(img.iter().all(|&b| b == 0), || {
        "something was written".into()
    })?;
    serves(&door).await?;
    no_panic(dir.path())?;
    Ok(format!(
        "{}; the disk holds nothing written",
        seen.join("; ")
    ))
}

/// Every hostile case at `scale`, not run yet.
pub fn cases(scale: Scale) -> Vec<Planned> {
    let h = "hostile";
    vec![
        plan(
            "hostile_every_documented_rejection",
            h,
            "every rejection PROTOCOL.md lists",
            "each answered with its documented code, fatal ones closing; no panic",
            every_rejection(),
        ),
        plan(
            "hostile_refused_upgrades",
            h,
            "foreign origin, Origin null, no Origin, DNS-rebinding Host, made-up token",
            "HTTP 403 with the reason before any upgrade",
            refused_upgrades(),
        ),
        plan(
            "hostile_slow_requests",
            h,
            format!(
                "{} connections trickling an unfinished request",
                scale.slow_clients
            ),
            "others served meanwhile; the helper drops them after its 10 s header timeout; descriptors back",
            slow_upgrades(scale),
        ),
        plan(
            "hostile_rapid_connects",
            h,
            format!("{} rapid connects (connect, hello, close)", scale.connects),
            "all served or told 503 at the session limit; no growth in descriptors or memory",
            rapid_connects(scale),
        ),
        plan(
            "hostile_random_frames",
            h,
            format!("{} frames of random size and content", scale.random_frames),
            "documented errors or a close for each; memory and descriptors bounded; no panic",
            random_frames(scale),
        ),
        plan(
            "hostile_nasty_json",
            h,
            "huge, deeply nested and malformed JSON, invalid UTF-8",
            "badJson / messageTooLarge / a close; no stack overflow, no panic",
            nasty_json(),
        ),
        plan(
            "hostile_writes_outside_the_medium",
            h,
            "writes outside the medium, negative and overflowing counts",
            "E_INVALIDARG or STREAM_TOO_LARGE instead of writeStarted: no credit, nothing written",
            bad_writes(),
        ),
    ]
}
