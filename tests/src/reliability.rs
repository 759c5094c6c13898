//! The reliability and security battery: faults on the devices and the
//! connection, hostile clients, and load, each case with what is expected
//! and what was observed. `tests/tests/reliability_battery.rs` runs each case as a
//! test of its own at [`Scale::quick`] in every test run; `cargo xtask soak`
//! runs them all at [`Scale::soak`] and writes RELIABILITY.md from [`markdown`].

pub mod faults;
pub mod hostile;
pub mod load;
pub mod sizes;

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::json;
use webburn_shared::protocol::ServerMessage;

use crate::served::{Client, Event, connect};

/// One case of the battery and how it went.
#[derive(Debug, Clone)]
pub struct Case {
    /// `faults`, `hostile`, `load` or `sizes`.
    pub group: &'static str,
    /// What was done.
    pub name: String,
    /// What should happen.
    pub expected: String,
    /// What did happen.
    pub observed: String,
    /// Observed matches expected.
    pub pass: bool,
    /// How long the case took.
    pub seconds: f64,
}

/// How hard the battery pushes.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// WebSocket connects in the rapid-connect case.
    pub connects: usize,
    /// Connect/pair/disconnect cycles.
    pub pair_cycles: usize,
    /// Random frames sent by the hostile client.
    pub random_frames: usize,
    /// Connections trickling an unfinished request.
    pub slow_clients: usize,
    /// MiB each of the 8 concurrent sessions burns.
    pub load_mib: usize,
    /// Fill the largest media too (a 25 and a 50 GB BD-R, a 256 GB card),
    /// not only a DVD+R.
    pub full_media: bool,
}

impl Scale {
    /// The subset every test run includes (about a minute).
    pub fn quick() -> Scale {
        Scale {
            connects: 1_000,
            pair_cycles: 100,
            random_frames: 200,
            slow_clients: 64,
            load_mib: 8,
            full_media: false,
        }
    }

    /// `cargo xtask soak`: the figures.
    pub fn soak() -> Scale {
        Scale {
            connects: 10_000,
            pair_cycles: 1_000,
            random_frames: 5_000,
            slow_clients: 200,
            load_mib: 64,
            full_media: true,
        }
    }
}

/// A case's observation: `Ok` when it matched the expectation.
pub type Outcome = Result<String, String>;

/// Fails the case with `msg` unless `cond`.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(msg()) }
}

/// A helper's own page: its port and the own-page cookie of its run.
#[derive(Debug, Clone)]
pub struct Door {
    /// The helper's port on 127.0.0.1.
    pub port: u16,
    /// `webburn-own-PORT=KEY`.
    pub cookie: String,
}

impl Door {
    /// The own page of a helper process.
    pub fn of_child(helper: &crate::child::ChildHelper) -> Door {
        Door {
            port: helper.port,
            cookie: helper.own_cookie(),
        }
    }

    /// The own page of an in-process helper.
    pub fn of(helper: &crate::served::Helper) -> Door {
        Door {
            port: helper.port(),
            cookie: helper.own_cookie(),
        }
    }
}

/// A greeted session from the helper's own page behind `door`.
pub async fn own_session(door: &Door) -> Result<Client, String> {
    let port = door.port;
    let origin = format!("http://127.0.0.1:{port}");
    let mut c = connect(port, Some(&origin), None, None, Some(&door.cookie))
        .await
        .map_err(|r| format!("own origin refused: {r:?}"))?;
    c.hello().await;
    Ok(c)
}

/// Waits until no session holds a recorder (asking a fresh session each
/// time), at most `within`; returns how long that took.
pub async fn wait_free(door: &Door, within: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        let mut c = own_session(door).await?;
        c.send(json!({"type": "listRecorders"})).await;
        if let Event::Message(ServerMessage::Recorders { recorders }) = c.next_event().await
            && recorders.iter().all(|r| !r.in_use)
        {
            return Ok(started.elapsed());
        }
        ensure(started.elapsed() < within, || {
            format!("a recorder was still held after {within:?}")
        })?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Longest a single case may run.
const CASE_LIMIT: Duration = Duration::from_secs(600);

/// A case of the battery, not run yet.
pub struct Planned {
    /// Its name in the test list (`faults_write_error`).
    pub key: &'static str,
    /// `faults`, `hostile` or `load`.
    pub group: &'static str,
    /// What is done.
    pub name: String,
    /// What should happen.
    pub expected: String,
    /// The case itself; nothing runs until it is awaited.
    pub body: Pin<Box<dyn Future<Output = Outcome> + Send>>,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned")
            .field("key", &self.key)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Plans a case.
pub fn plan(
    key: &'static str,
    group: &'static str,
    name: impl Into<String>,
    expected: impl Into<String>,
    body: impl Future<Output = Outcome> + Send + 'static,
) -> Planned {
    Planned {
        key,
        group,
        name: name.into(),
        expected: expected.into(),
        body: Box::pin(body),
    }
}

/// Every case at `scale`, in order, not run yet.
pub fn cases(scale: Scale) -> Vec<Planned> {
    let mut all = faults::cases();
    all.extend(hostile::cases(scale));
    all.extend(load::cases(scale));
    all.extend(sizes::cases(scale));
    all
}

/// Runs one case on its own task: a panic or a hang is a failed case, not
/// the end of the battery.
pub async fn case(planned: Planned) -> Case {
    let Planned {
        group,
        name,
        expected,
        body,
        ..
    } = planned;
    let started = Instant::now();
    let task = tokio::spawn(body);
    let (pass, observed) = match tokio::time::timeout(CASE_LIMIT, task).await {
        Ok(Ok(Ok(o))) => (true, o),
        Ok(Ok(Err(o))) => (false, o),
        Ok(Err(e)) => (false, format!("the case panicked: {e}")),
        Err(_) => (false, format!("no end within {CASE_LIMIT:?}")),
    };
    let c = Case {
        group,
        name,
        expected,
        observed,
        pass,
        seconds: started.elapsed().as_secs_f64(),
    };
    eprintln!(
        "reliability: [{}] {} {}: {}",
        c.group,
        if c.pass { "PASS" } else { "FAIL" },
        c.name,
        c.observed
    );
    c
}

/// Every case at `scale`, in order.
pub async fn run_all(scale: Scale) -> Vec<Case> {
    let mut done = Vec::new();
    for planned in cases(scale) {
        done.push(case(planned).await);
    }
    done
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The cases as Markdown tables, one per group.
pub fn markdown(cases: &[Case]) -> String {
    let mut out = String::new();
    for (group, title) in [
        ("faults", "Faults on the devices and the connection"),
        ("hostile", "Hostile clients"),
        ("load", "Load"),
        ("sizes", "Media filled to their last sector"),
    ] {
        let _ = write!(
            out,
            "## {title}\n\n| case | expected | observed | result |\n|---|---|---|---|\n"
        );
        for c in cases.iter().filter(|c| c.group == group) {
            let _ = writeln!(
                out,
                "| {} | {} | {} ({:.1} s) | {} |",
                cell(&c.name),
                cell(&c.expected),
                cell(&c.observed),
                c.seconds,
                if c.pass { "pass" } else { "**FAIL**" }
            );
        }
        out.push('\n');
    }
    out
}
