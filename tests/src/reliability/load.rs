//! Load: eight sessions burning to eight recorders at once, and a thousand
//! connect/pair/disconnect cycles, against a helper process whose memory and
//! descriptors are watched.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webburn_shared::HResult;
use webburn_shared::protocol::ServerMessage;

use super::{Door, Outcome, Planned, Scale, ensure, own_session, plan};
use crate::child::ChildHelper;
use crate::pattern;
use crate::served::{Client, connect, http};

const PROFILES: [&str; 4] = [
    ",profile=bd-r",
    ",profile=dvd+r",
    ",profile=disk,capacity=1GiB",
    ",profile=dvd-r",
];

/// Eight sessions, eight recorders, at once; every image compared.
async fn eight_sessions(scale: Scale) -> Outcome {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut args = Vec::new();
    let mut ids = Vec::new();
    for i in 0..8 {
        let path = dir.path().join(format!("rec{i}.img"));
        args.push("--recorder".to_owned());
        args.push(format!(
            "emulated:{}{}",
            path.display(),
            PROFILES[i % PROFILES.len()]
        ));
        ids.push((format!("emulated:{}", path.display()), path));
    }
    let helper = ChildHelper::start(dir.path(), 0, &args)?;
    let door = Door::of_child(&helper);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (id, path)) in ids.into_iter().enumerate() {
        let door = door.clone();
        tasks.push(tokio::spawn(async move {
            let data = pattern(scale.load_mib << 20, 100 + i as u64);
            let mut c = own_session(&door).await?;
            // Half of them run the disc flow, with its read-back.
            let extra = if i % 2 == 0 {
                json!({})
            } else {
                json!({"disc": {}})
            };
            let burned = c.burn_with(1, &id, 0, &data, extra).await;
            ensure(burned.hresult() == HResult::S_OK, || {
                format!("session {i}: {:?}", burned.result)
            })?;
            let img = std::fs::read(&path).map_err(|e| e.to_string())?;
            ensure(
                img.len() >= data.len() && img[..data.len()] == data[..],
                || format!("session {i}: the image differs"),
            )?;
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = 8 * (scale.load_mib << 20);
    Ok(format!(
        "8 x {} MiB (BD-R, DVD+R, disk, DVD-R; half with the disc flow's read-back) in {secs:.1} s, \
         {:.0} MB/s together; every image equal to its data; helper memory {} KiB",
        scale.load_mib,
        total as f64 / secs / 1e6,
        helper.rss_kib()
    ))
}

/// POST /v1/pair as `origin`; the request's id.
async fn ask(port: u16, origin: &str) -> Result<String, String> {
    let (status, body) = http(port, "POST", "/v1/pair", &[("Origin", origin)]).await;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{status} {body}: {e}"))?;
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{status} {body}"))
}

async fn pairings(own: &mut Client, msg: Value) -> Result<ServerMessage, String> {
    own.send(msg).await;
    match own.recv().await {
        p @ ServerMessage::Pairings { .. } => Ok(p),
        other => Err(format!("expected pairings, got {other:?}")),
    }
}

/// One cycle: ask, approve on the own page, collect the token, connect
/// with it, disconnect, revoke.
async fn pair_once(port: u16, own: &mut Client, i: usize) -> Result<(), String> {
    let origin = format!("https://site{i}.example");
    let id = ask(port, &origin).await?;
    let ServerMessage::Pairings { pending, .. } =
        pairings(own, json!({"type": "listPairings"})).await?
    else {
        return Err("no pairings".into());
    };
    let code = pending
        .iter()
        .find(|p| p.origin == origin)
        .map(|p| p.code.clone())
        .ok_or("the request is not listed")?;
    pairings(own, json!({"type": "approvePairing", "code": code})).await?;
    let (_, body) = http(
        port,
        "GET",
        &format!("/v1/pair/{id}"),
        &[("Origin", &origin)],
    )
    .await;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{body}: {e}"))?;
    let token = v["token"]
        .as_str()
        .ok_or_else(|| format!("no token: {body}"))?;
    let mut c = connect(port, Some(&origin), Some(token), None, None)
        .await
        .map_err(|r| format!("the paired origin was refused: {r:?}"))?;
    c.hello().await;
    c.close().await;
    pairings(own, json!({"type": "revokePairing", "origin": origin})).await?;
    Ok(())
}

async fn pair_cycles(scale: Scale) -> Outcome {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let args = vec![
        "--recorder".to_owned(),
        format!(
            "emulated:{},profile=disk,capacity=16MiB",
            dir.path().join("d.img").display()
        ),
    ];
    let helper = ChildHelper::start(dir.path(), 0, &args)?;
    let port = helper.port;
    let door = Door::of_child(&helper);
    let mut own = own_session(&door).await?;
    for i in 0..10 {
        pair_once(port, &mut own, i).await?;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (fds0, rss0) = (helper.fds(), helper.rss_kib());
    let started = Instant::now();
    for i in 10..10 + scale.pair_cycles {
        pair_once(port, &mut own, i)
            .await
            .map_err(|e| format!("cycle {i}: {e}"))?;
    }
    let secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (fds1, rss1) = (helper.fds(), helper.rss_kib());
    ensure(fds1 <= fds0 + 2, || format!("descriptors {fds0} -> {fds1}"))?;
    ensure(rss1 <= rss0 + 8 * 1024, || {
        format!("memory {rss0} KiB -> {rss1} KiB")
    })?;
    let store = std::fs::metadata(dir.path().join("pairing.json")).map_or(0, |m| m.len());
    ensure(store < 4096, || {
        format!("pairing.json grew to {store} bytes")
    })?;
    Ok(format!(
        "{} cycles (ask, approve on the own page, collect the token, connect, disconnect, revoke) in {secs:.1} s; \
         descriptors {fds0} -> {fds1}, memory {rss0} -> {rss1} KiB, pairing.json {store} bytes",
        scale.pair_cycles
    ))
}

/// Every load case at `scale`, not run yet.
pub fn cases(scale: Scale) -> Vec<Planned> {
    vec![
        plan(
            "load_eight_sessions_at_once",
            "load",
            format!(
                "8 sessions burning {} MiB each to 8 recorders at once",
                scale.load_mib
            ),
            "all S_OK, every image equal to its data",
            eight_sessions(scale),
        ),
        plan(
            "load_pair_cycles",
            "load",
            format!("{} connect/pair/disconnect cycles", scale.pair_cycles),
            "every cycle paired and connected; no growth in descriptors, memory or the pairing store",
            pair_cycles(scale),
        ),
    ]
}
