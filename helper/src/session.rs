//! One WebSocket session of protocol v1 (PROTOCOL.md): hello, the recorder
//! list, writes fed by credit-controlled data frames, events, cancel, results.
//!
//! The session loop owns the socket. A write runs WriteSection on a blocking
//! thread ([`write::OpenWrite`]); everything that thread has to say comes back
//! as a [`WriteEvent`] through one channel, so the loop is the only writer of
//! the socket.

mod consent;
mod erase;
mod pairing_messages;
mod read_session;
mod source;
mod write;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;
use webburn_shared::error_code::close;
use webburn_shared::protocol::{
    CLIENT_MESSAGE_TYPES, ClientMessage, ConsentAct, Limits, PROTOCOL_VERSION, SenseInfo,
    ServerMessage, StartWrite,
};
use webburn_shared::{DataFrameHeader, DiscReport, ErrorCode, HResult};

use crate::state::activity::{Activity, DriveActivity};
use crate::state::consents::Decision;
use crate::state::history::{DiscRecord, History};
use crate::state::pairing_store::PairingStore;
use crate::state::registry::{Registry, SessionId};
use webburn_engine::burn::Progress;
use webburn_engine::disc::erase::EraseProgress;
use webburn_engine::{EngineConfig, EngineError};
use write::{OpenWrite, Violation, WriteContext};

/// What a running write reports to its session, each about one write id
/// and one target (recorder) of it.
#[derive(Debug)]
pub(crate) enum WriteEvent {
    /// An Update event (with the disc flow's args for a `disc` write).
    Update(TargetId, Progress),
    /// The target's engine took this many bytes.
    Credit(TargetId, u64),
    /// WriteSection (or the disc flow, with its report) returned; for an
    /// erase, EraseMedia.
    Done(TargetId, Result<Option<DiscReport>, EngineError>),
    /// An erase's Update event.
    Erase(u32, EraseProgress),
    /// The person decided about the request held under this write id.
    Consent(u32, Decision),
}

/// A request held until the person decides (see [`consent`]): its id, the
/// code the person sees, and the message to run again once allowed.
#[derive(Debug)]
struct Held {
    write_id: u32,
    code: String,
    msg: ClientMessage,
}

/// One target (recorder) of one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TargetId {
    /// The client's id of the write.
    pub write_id: u32,
    /// 0 for `recorder`, i for `duplicateTo[i - 1]`.
    pub target: u32,
}

/// How long small data frames are gathered before the engine gets them.
const GATHER_WAIT: Duration = Duration::from_millis(5);

/// How long one message may wait for a client that does not read.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a session that ends waits for its write's last WRITE to
/// complete (and its recorders to be free) before it closes the socket.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// What a session needs from the server.
#[derive(Debug, Clone)]
pub(crate) struct SessionContext {
    /// Unique within this helper run.
    pub id: SessionId,
    /// The page's origin, for logs.
    pub origin: String,
    /// The recorders on offer.
    pub registry: Arc<Registry>,
    /// Buffer and timeouts of each write's engine.
    pub engine: EngineConfig,
    /// Limits announced in `welcome`.
    pub limits: Limits,
    /// Features announced in `welcome`.
    pub features: Vec<String>,
    /// Close after this long waiting for a client that owes a message.
    pub idle_timeout: Duration,
    /// The session comes from the helper's own page (it may manage pairings).
    pub own_page: bool,
    /// The token a paired origin connected with: the session ends when
    /// its pairing is revoked. `None` for the own page and configured origins.
    pub pairing_token: Option<String>,
    /// Pairing requests and tokens.
    pub pairing: PairingStore,
    /// Kiosk mode: every drive's result is recorded here.
    pub history: Option<Arc<History>>,
    /// What every drive is doing, for the tray.
    pub activity: Arc<Activity>,
}

impl SessionContext {
    /// The origin whose approvals count for removable disks; `None` for the
    /// helper's own page (the person at the computer).
    pub(crate) fn page_origin(&self) -> Option<String> {
        (!self.own_page).then(|| self.origin.clone())
    }
}

/// The changes a client asked to be told of (`watch`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Watching {
    recorders: bool,
    pairings: bool,
}

/// How the session ended.
#[derive(Debug)]
enum End {
    /// The client closed the socket or it broke.
    ClientGone(String),
    /// The helper closed it (violation, idle).
    Closed(ErrorCode),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::ClientGone(why) => write!(f, "client gone ({why})"),
            End::Closed(code) => write!(f, "closed by the helper ({code})"),
        }
    }
}

/// What handling one client message leads to.
#[derive(Debug)]
enum Step {
    /// Send these and go on.
    Reply(Vec<ServerMessage>),
    /// Send the error with this code and close the session with the code's
    /// close code.
    Fatal(ErrorCode, String),
}

struct Session {
    ctx: SessionContext,
    greeted: bool,
    last_write_id: Option<u32>,
    /// The last write started used raw frames (payload without header).
    last_raw: bool,
    open: Option<OpenWrite>,
    /// The erase that runs: its id and recorder.
    erasing: Option<(u32, String)>,
    /// The request waiting for the person's consent.
    held: Option<Held>,
    /// What the client asked to hear of (`watch`).
    watching: Watching,
    events_tx: UnboundedSender<WriteEvent>,
    events_rx: UnboundedReceiver<WriteEvent>,
}

/// Runs one session until the socket closes; any running write is cancelled
/// then, and its recorders are free before the socket is closed.
pub(crate) async fn run(mut socket: WebSocket, ctx: SessionContext) {
    let mut s = Session::new(ctx);
    tracing::info!(session = s.ctx.id, origin = %s.ctx.origin, "session opened");
    let end = s.drive(&mut socket).await;
    s.wind_down().await;
    s.ctx.activity.forget_session(s.ctx.id);
    tracing::info!(session = s.ctx.id, %end, "session closed");
}

fn sense_info(e: &EngineError) -> Option<SenseInfo> {
    e.sense.map(|s| SenseInfo {
        key: s.key,
        asc: s.asc,
        ascq: s.ascq,
        information: s.information,
    })
}

fn write_result(
    write_id: u32,
    target: u32,
    result: &Result<Option<DiscReport>, EngineError>,
) -> ServerMessage {
    let (hresult, detail, sense) = match result {
        Ok(_) => (HResult::S_OK, String::new(), None),
        Err(e) => (e.hresult, e.detail.clone(), sense_info(e)),
    };
    ServerMessage::WriteResult {
        write_id,
        target,
        hresult,
        name: hresult.name().unwrap_or("UNKNOWN").to_owned(),
        message: hresult.message().to_owned(),
        detail,
        sense,
        code: result.as_ref().err().and_then(|e| e.code),
        first_bad_lba: result.as_ref().err().and_then(|e| e.bad_lba),
        disc: result.as_ref().ok().cloned().flatten().map(Box::new),
    }
}

/// Adds one drive's result to the kiosk history (blocking: it writes the
/// history file). The write's own task calls it before the session hears of
/// the result, so a page that reads the history after a `writeResult` finds
/// that disc in it.
fn record(
    history: &History,
    recorder: String,
    bytes: u64,
    result: &Result<Option<DiscReport>, EngineError>,
) {
    let report = result.as_ref().ok().cloned().flatten();
    let disc = DiscRecord {
        time_ms: DiscRecord::now_ms(),
        recorder,
        bytes,
        ok: result.is_ok(),
        result: match result {
            Ok(_) => HResult::S_OK,
            Err(e) => e.hresult,
        }
        .name()
        .unwrap_or("UNKNOWN")
        .to_owned(),
        detail: result
            .as_ref()
            .err()
            .map(|e| e.detail.clone())
            .unwrap_or_default(),
        verified: report.as_ref().is_some_and(|r| r.verified),
        sha256: report.map(|r| r.sha256),
    };
    if let Err(e) = history.record(disc) {
        tracing::warn!("cannot save the kiosk history: {e}");
    }
}

/// Why a session cannot start a write or an erase: one of its own runs.
fn still_running(running: u32) -> EngineError {
    EngineError::new(
        HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
        format!("write {running} of this session is still running"),
    )
}

/// A non-fatal `error` answer.
fn answer(code: ErrorCode, detail: String) -> Step {
    Step::Reply(vec![ServerMessage::error(code, detail)])
}

fn violation(v: Violation) -> Step {
    Step::Fatal(v.code, v.detail)
}

/// The `type` of a JSON object, if it names no message this protocol has.
fn unknown_type(value: &serde_json::Value) -> Option<String> {
    match value.get("type") {
        Some(serde_json::Value::String(t)) if !CLIENT_MESSAGE_TYPES.contains(&t.as_str()) => {
            Some(t.clone())
        }
        _ => None,
    }
}

impl Session {
    /// A session before its `hello`.
    fn new(ctx: SessionContext) -> Session {
        let (events_tx, events_rx) = unbounded_channel();
        Session {
            ctx,
            greeted: false,
            last_write_id: None,
            last_raw: false,
            open: None,
            erasing: None,
            held: None,
            watching: Watching::default(),
            events_tx,
            events_rx,
        }
    }

    /// Sends one message; a client that stops reading for [`SEND_TIMEOUT`]
    /// is treated as gone (its write is cancelled, its recorder freed).
    async fn send(socket: &mut WebSocket, msg: &ServerMessage) -> Result<(), End> {
        let text = serde_json::to_string(msg).map_err(|e| End::ClientGone(e.to_string()))?;
        match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::text(text))).await {
            Ok(sent) => sent.map_err(|e| End::ClientGone(e.to_string())),
            Err(_) => Err(End::ClientGone(format!(
                "it read nothing for {} s",
                SEND_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Ends the open write, if any: cancels it and waits (up to
    /// [`WIND_DOWN`]) until every target has stopped and released its
    /// recorder. Their results are not sent: the session is closing.
    async fn wind_down(&mut self) {
        if let Some(held) = self.held.take() {
            self.ctx.registry.withdraw(&held.code);
        }
        let Some(w) = self.open.as_mut() else {
            return;
        };
        tracing::warn!(
            session = self.ctx.id,
            write = w.id,
            "session ending mid-write; cancelling it"
        );
        self.ctx.registry.session_ending(self.ctx.id);
        w.cancel(None);
        let until = Instant::now() + WIND_DOWN;
        while self.open.is_some() {
            let Ok(Some(event)) = tokio::time::timeout_at(until, self.events_rx.recv()).await
            else {
                tracing::warn!(session = self.ctx.id, "the write did not stop in time");
                break;
            };
            self.on_event(event);
        }
        self.open = None;
    }

    /// After a change of the pairings: ends the session if its origin's
    /// pairing was revoked. A file that cannot be read revokes nothing
    /// (the next change is looked at again).
    async fn check_pairing(&self) -> Step {
        let Some(token) = self.ctx.pairing_token.clone() else {
            return Step::Reply(Vec::new());
        };
        let (store, origin) = (self.ctx.pairing.clone(), self.ctx.origin.clone());
        let current =
            tokio::task::spawn_blocking(move || store.token_current(&origin, &token)).await;
        match current {
            Ok(Ok(false)) => {
                let detail = format!("the pairing of {} was revoked", self.ctx.origin);
                Step::Fatal(ErrorCode::PairingRevoked, detail)
            }
            Ok(Ok(true)) => Step::Reply(Vec::new()),
            Ok(Err(e)) => {
                tracing::warn!(session = self.ctx.id, error = %e, "the pairings could not be read");
                Step::Reply(Vec::new())
            }
            Err(e) => {
                tracing::warn!(session = self.ctx.id, error = %e, "the pairing check did not run");
                Step::Reply(Vec::new())
            }
        }
    }

    async fn drive(&mut self, socket: &mut WebSocket) -> End {
        let mut last_heard = Instant::now();
        // A paired session looks at its pairing whenever the pairings
        // change, and once at the start (a revoke may have come between the
        // handshake's check and now).
        let mut pairings = self.ctx.pairing.subscribe();
        if self.ctx.pairing_token.is_some() {
            pairings.mark_changed();
        }
        let mut recorders = self.ctx.registry.decisions();
        let mut was_waiting = true;
        loop {
            // Nothing is owed while the drive erases or the person decides.
            let waiting_on_client = self.erasing.is_none()
                && self.held.is_none()
                && self.open.as_ref().is_none_or(OpenWrite::awaiting_data);
            if waiting_on_client && !was_waiting {
                // The client owes us something only from now on: time spent
                // waiting for the drive does not count against it.
                last_heard = Instant::now();
            }
            was_waiting = waiting_on_client;
            let step = tokio::select! {
                msg = socket.recv() => match msg {
                    None => return End::ClientGone("closed".into()),
                    Some(Err(e)) => return End::ClientGone(e.to_string()),
                    Some(Ok(msg)) => {
                        last_heard = Instant::now();
                        self.on_message(msg).await
                    }
                },
                Some(event) = self.events_rx.recv() => match event {
                    WriteEvent::Consent(write_id, decision) => self.resume(write_id, decision).await,
                    other => Step::Reply(self.on_event(other)),
                },
                // Small frames wait at most this long for company.
                () = tokio::time::sleep(GATHER_WAIT), if self.open.as_ref().is_some_and(OpenWrite::has_small) => {
                    if let Some(w) = self.open.as_mut() {
                        w.flush();
                    }
                    Step::Reply(Vec::new())
                }
                Ok(()) = pairings.changed(), if self.ctx.pairing_token.is_some() || self.watching.pairings => {
                    match self.check_pairing().await {
                        Step::Reply(mut msgs) if self.watching.pairings => {
                            msgs.push(ServerMessage::PairingsChanged);
                            Step::Reply(msgs)
                        }
                        step => step,
                    }
                }
                Ok(()) = recorders.changed(), if self.watching.recorders || self.watching.pairings => {
                    // A device request made or decided: the list reads
                    // differently, and the own page's requests too.
                    let mut msgs = Vec::new();
                    if self.watching.recorders {
                        msgs.push(ServerMessage::RecordersChanged);
                    }
                    if self.watching.pairings {
                        msgs.push(ServerMessage::PairingsChanged);
                    }
                    Step::Reply(msgs)
                }
                () = tokio::time::sleep_until(last_heard + self.ctx.idle_timeout), if waiting_on_client => {
                    let detail = format!(
                        "no message from the client for {} s",
                        self.ctx.idle_timeout.as_secs_f32()
                    );
                    Step::Fatal(ErrorCode::IdleTimeout, detail)
                }
            };
            match step {
                Step::Reply(msgs) => {
                    for m in &msgs {
                        if let Err(end) = Self::send(socket, m).await {
                            return end;
                        }
                    }
                }
                Step::Fatal(code, detail) => {
                    let msg = ServerMessage::error(code, detail);
                    tracing::warn!(session = self.ctx.id, origin = %self.ctx.origin, ?msg, "closing the session");
                    let _ = Self::send(socket, &msg).await;
                    // A client that reconnects at once finds its recorders free.
                    self.wind_down().await;
                    let frame = CloseFrame {
                        code: code.close_code().unwrap_or(close::POLICY),
                        reason: code.as_str().into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return End::Closed(code);
                }
            }
        }
    }

    async fn on_message(&mut self, msg: Message) -> Step {
        match msg {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(data) => self.on_data(&data),
            // The socket layer answers pings; a close ends the loop at the next recv.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => Step::Reply(Vec::new()),
        }
    }

    /// Decodes a text message, or says what is wrong with it.
    fn decode(&self, text: &str) -> Result<ClientMessage, Step> {
        let limit = self.ctx.limits.max_message_bytes as usize;
        if text.len() > limit {
            let detail = format!(
                "a text message of {} bytes exceeds the limit of {limit}",
                text.len()
            );
            return Err(Step::Fatal(ErrorCode::MessageTooLarge, detail));
        }
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| answer(ErrorCode::BadJson, format!("not JSON: {e}")))?;
        if let Some(t) = unknown_type(&value) {
            return Err(answer(
                ErrorCode::UnknownType,
                format!("unknown message type {t:?}"),
            ));
        }
        let msg: ClientMessage = serde_json::from_value(value)
            .map_err(|e| answer(ErrorCode::BadMessage, format!("malformed message: {e}")))?;
        if !self.greeted && !matches!(msg, ClientMessage::Hello { .. }) {
            return Err(answer(
                ErrorCode::HelloRequired,
                "the first message must be hello".into(),
            ));
        }
        Ok(msg)
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let msg = match self.decode(text) {
            Ok(m) => m,
            Err(step) => return step,
        };
        match msg {
            ClientMessage::Hello { versions, client } => self.hello(&versions, client.as_deref()),
            ClientMessage::ListRecorders => {
                let (registry, id) = (Arc::clone(&self.ctx.registry), self.ctx.id);
                let origin = self.ctx.page_origin();
                match tokio::task::spawn_blocking(move || registry.list(id, origin.as_deref()))
                    .await
                {
                    Ok(recorders) => Step::Reply(vec![ServerMessage::Recorders { recorders }]),
                    Err(e) => answer(ErrorCode::Internal, e.to_string()),
                }
            }
            ClientMessage::StartWrite(_)
            | ClientMessage::EraseDisc { .. }
            | ClientMessage::ReadSession { .. } => Step::Reply(self.act(msg, false).await),
            ClientMessage::CancelWrite { write_id, target } => self.cancel_write(write_id, target),
            ClientMessage::EndOfData { write_id } => {
                if let Some(w) = self.open.as_mut().filter(|w| w.id == write_id) {
                    tracing::info!(
                        session = self.ctx.id,
                        write = write_id,
                        "the client's data ended early"
                    );
                    w.end_of_data();
                }
                Step::Reply(Vec::new())
            }
            ClientMessage::Ping => Step::Reply(vec![ServerMessage::Pong]),
            ClientMessage::Watch {
                recorders,
                pairings,
            } => {
                if pairings && !self.ctx.own_page {
                    let detail = "only the helper's own page may watch the pairings".into();
                    return answer(ErrorCode::NotAllowed, detail);
                }
                self.watching = Watching {
                    recorders,
                    pairings,
                };
                Step::Reply(Vec::new())
            }
            ClientMessage::RequestDevice { recorder_id } => {
                let Some(origin) = self.ctx.page_origin() else {
                    let detail = "the helper's own page writes to every disk it lists".into();
                    return answer(ErrorCode::NotAllowed, detail);
                };
                match self.ctx.registry.request_device(&recorder_id, &origin) {
                    Ok(code) => {
                        Step::Reply(vec![ServerMessage::DeviceRequested { recorder_id, code }])
                    }
                    Err(e) => answer(pairing_messages::request_error_code(&e), e.to_string()),
                }
            }
            ClientMessage::ListPairings
            | ClientMessage::ApprovePairing { .. }
            | ClientMessage::DenyPairing { .. }
            | ClientMessage::RevokePairing { .. }
            | ClientMessage::ApproveDevice { .. }
            | ClientMessage::DenyDevice { .. } => {
                if !self.ctx.own_page {
                    let detail =
                        "only the helper's own page may manage pairings and devices".into();
                    return answer(ErrorCode::NotAllowed, detail);
                }
                let (store, registry) = (self.ctx.pairing.clone(), Arc::clone(&self.ctx.registry));
                match tokio::task::spawn_blocking(move || {
                    pairing_messages::handle(&store, &registry, &msg)
                })
                .await
                {
                    Ok(reply) => Step::Reply(vec![reply]),
                    Err(e) => answer(ErrorCode::Internal, e.to_string()),
                }
            }
        }
    }

    fn hello(&mut self, versions: &[u32], client: Option<&str>) -> Step {
        if !versions.contains(&PROTOCOL_VERSION) {
            let detail = format!(
                "this helper speaks protocol version {PROTOCOL_VERSION}, the client offered {versions:?}"
            );
            return Step::Fatal(ErrorCode::UnsupportedVersion, detail);
        }
        self.greeted = true;
        tracing::info!(
            session = self.ctx.id,
            client = client.unwrap_or("?"),
            "hello"
        );
        Step::Reply(vec![ServerMessage::Welcome {
            version: PROTOCOL_VERSION,
            helper_version: env!("CARGO_PKG_VERSION").to_owned(),
            limits: self.ctx.limits,
            features: Some(self.ctx.features.clone()),
        }])
    }

    /// Takes `write_id` for a new write or erase: refused (`badWriteId`)
    /// unless it is greater than every id before it.
    fn take_write_id(&mut self, write_id: u32) -> Result<(), ServerMessage> {
        if let Some(last) = self.last_write_id.filter(|&l| write_id <= l) {
            let detail = format!("writeId {write_id} is not greater than the previous one, {last}");
            return Err(ServerMessage::error(ErrorCode::BadWriteId, detail));
        }
        self.last_write_id = Some(write_id);
        Ok(())
    }

    /// The write, erase or held request of this session, if any.
    fn running(&self) -> Option<u32> {
        self.open
            .as_ref()
            .map(|w| w.id)
            .or(self.erasing.as_ref().map(|e| e.0))
            .or(self.held.as_ref().map(|h| h.write_id))
    }

    /// A write, erase or session read: admitted (its id new, nothing else
    /// of the session running; `resumed` after the person's consent, when
    /// both were checked already), held for the person's consent where a
    /// paired page needs it, then run.
    async fn act(&mut self, msg: ClientMessage, resumed: bool) -> Vec<ServerMessage> {
        let (write_id, targets, act, grows) = match &msg {
            ClientMessage::StartWrite(req) => (
                req.write_id,
                req.recorders().map(str::to_owned).collect::<Vec<_>>(),
                ConsentAct::Overwrite,
                req.disc.is_some_and(|d| d.grow_in_place),
            ),
            ClientMessage::EraseDisc {
                write_id, recorder, ..
            } => (*write_id, vec![recorder.clone()], ConsentAct::Erase, false),
            ClientMessage::ReadSession { write_id, recorder } => {
                (*write_id, vec![recorder.clone()], ConsentAct::Read, false)
            }
            _ => return Vec::new(),
        };
        if !resumed {
            if let Err(refused) = self.take_write_id(write_id) {
                return vec![refused];
            }
            if let Some(running) = self.running() {
                let e = still_running(running);
                return (0u32..)
                    .zip(&targets)
                    .map(|(t, _)| write_result(write_id, t, &Err(e.clone())))
                    .collect();
            }
        }
        if let Some(held) = self.gate(write_id, &targets, act, grows).await {
            if let Some(code) = held.1 {
                self.hold(write_id, act, &targets[0], code, msg)
            } else {
                held.0
            }
        } else {
            match msg {
                ClientMessage::StartWrite(req) => self.start_write(req).await,
                ClientMessage::EraseDisc {
                    write_id,
                    recorder,
                    full,
                } => self.start_erase(write_id, recorder, full).await,
                ClientMessage::ReadSession { write_id, recorder } => {
                    self.read_session(write_id, recorder).await
                }
                _ => Vec::new(),
            }
        }
    }

    /// Asks whether the paired page may do `act` on `targets` (the
    /// helper's own page and configured origins are never asked). `None`:
    /// go on. Else what to answer, and the code when the request is held
    /// (one target needing consent; several are refused, each asked).
    async fn gate(
        &mut self,
        write_id: u32,
        targets: &[String],
        act: ConsentAct,
        grows: bool,
    ) -> Option<(Vec<ServerMessage>, Option<String>)> {
        self.ctx.pairing_token.as_ref()?;
        let origin = self.ctx.origin.clone();
        let (config, registry, id) = (self.ctx.engine, Arc::clone(&self.ctx.registry), self.ctx.id);
        let events = self.events_tx.clone();
        let targets = targets.to_vec();
        let gates = tokio::task::spawn_blocking(move || {
            let ctx = WriteContext {
                config,
                registry: &registry,
                session: id,
                origin: Some(&origin),
                events: &events,
                history: None,
            };
            targets
                .iter()
                .map(|t| consent::check(act, t, &origin, grows, &ctx))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let held: Vec<(u32, String)> = (0u32..)
            .zip(&gates)
            .filter_map(|(t, g)| match g {
                Ok(consent::Gate::Held(code)) => Some((t, code.clone())),
                _ => None,
            })
            .collect();
        if held.is_empty() {
            // A target the gate could not look at is left to the act itself,
            // which refuses it with the same error.
            return None;
        }
        if let ([(0, code)], 1) = (held.as_slice(), gates.len()) {
            return Some((Vec::new(), Some(code.clone())));
        }
        let code = webburn_shared::ErrorCode::ConsentNeeded;
        let replies = (0u32..)
            .zip(&gates)
            .map(|(t, g)| {
                let detail = match g {
                    Ok(consent::Gate::Held(c)) => format!(
                        "the person must allow this on the helper first (request {c}); then write again"
                    ),
                    _ => "another recorder of this write needs the person's consent first".into(),
                };
                write_result(
                    write_id,
                    t,
                    &Err(EngineError::new(code.hresult(), detail).with_code(code)),
                )
            })
            .collect();
        Some((replies, None))
    }

    /// Holds `msg` until the person decides about request `code`: a task
    /// waits for the decision (at most as long as the request lives) and
    /// hands it to the session loop.
    fn hold(
        &mut self,
        write_id: u32,
        act: ConsentAct,
        recorder: &str,
        code: String,
        msg: ClientMessage,
    ) -> Vec<ServerMessage> {
        tracing::info!(session = self.ctx.id, write = write_id, act = act.as_str(), %code, "held for the person's consent");
        let (registry, events) = (Arc::clone(&self.ctx.registry), self.events_tx.clone());
        let waited = code.clone();
        tokio::spawn(async move {
            let mut changed = registry.decisions();
            let decided = tokio::time::timeout(crate::state::pairing_store::REQUEST_TTL, async {
                loop {
                    if let Some(d) = registry.outcome(&waited) {
                        return d;
                    }
                    if changed.changed().await.is_err() {
                        return Decision::Refused;
                    }
                }
            })
            .await
            .unwrap_or(Decision::Refused);
            let _ = events.send(WriteEvent::Consent(write_id, decided));
        });
        self.held = Some(Held {
            write_id,
            code: code.clone(),
            msg,
        });
        vec![ServerMessage::ConsentNeeded {
            write_id,
            act,
            recorder_id: recorder.to_owned(),
            code,
        }]
    }

    /// The person decided about the held request `write_id`: it runs, or
    /// ends refused.
    async fn resume(&mut self, write_id: u32, decision: Decision) -> Step {
        let Some(held) = self.held.take_if(|h| h.write_id == write_id) else {
            return Step::Reply(Vec::new());
        };
        if decision == Decision::Refused {
            let code = webburn_shared::ErrorCode::ConsentRefused;
            let e = EngineError::new(
                code.hresult(),
                "the person refused this on the helper, or did not answer in time",
            )
            .with_code(code);
            tracing::info!(
                session = self.ctx.id,
                write = write_id,
                "the person refused the held request"
            );
            let targets = match &held.msg {
                ClientMessage::StartWrite(req) => req.recorders().count(),
                _ => 1,
            };
            let replies = (0..targets as u32)
                .map(|t| write_result(write_id, t, &Err(e.clone())))
                .collect();
            return Step::Reply(replies);
        }
        Step::Reply(self.act(held.msg, true).await)
    }

    /// Runs `job` (a request that takes no data: an erase, a session read)
    /// on a blocking thread with the session's [`WriteContext`] (it opens
    /// devices).
    async fn blocking_job<T: Send + 'static>(
        &mut self,
        write_id: u32,
        job: impl FnOnce(&WriteContext<'_>) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<T, Vec<ServerMessage>> {
        self.last_raw = false;
        let (config, registry, id) = (self.ctx.engine, Arc::clone(&self.ctx.registry), self.ctx.id);
        let (events, origin) = (self.events_tx.clone(), self.ctx.page_origin());
        tokio::task::spawn_blocking(move || {
            job(&WriteContext {
                config,
                registry: &registry,
                session: id,
                origin: origin.as_deref(),
                events: &events,
                history: None,
            })
        })
        .await
        .unwrap_or_else(|e| {
            Err(EngineError::new(
                HResult::E_FAIL,
                format!("internal error: {e}"),
            ))
        })
        .map_err(|e| {
            tracing::info!(session = self.ctx.id, write = write_id, error = %e, "refused");
            vec![write_result(write_id, 0, &Err(e))]
        })
    }

    /// `eraseDisc`: the erase runs on; its events and result follow.
    async fn start_erase(
        &mut self,
        write_id: u32,
        recorder: String,
        full: bool,
    ) -> Vec<ServerMessage> {
        let id = recorder.clone();
        let job = move |ctx: &WriteContext<'_>| erase::start(write_id, &id, full, ctx);
        match self.blocking_job(write_id, job).await {
            Ok(()) => {
                tracing::info!(session = self.ctx.id, write = write_id, %recorder, full, "erase started");
                self.erasing = Some((write_id, recorder));
                Vec::new()
            }
            Err(refused) => refused,
        }
    }

    /// `readSession`: the disc's last session, then the request's result.
    async fn read_session(&mut self, write_id: u32, recorder: String) -> Vec<ServerMessage> {
        let activity = Arc::clone(&self.ctx.activity);
        activity.update(
            self.ctx.id,
            write_id,
            0,
            DriveActivity::reading(recorder.clone()),
        );
        let job = move |ctx: &WriteContext<'_>| read_session::read(&recorder, ctx);
        let read = self.blocking_job(write_id, job).await;
        activity.finish(self.ctx.id, write_id, 0);
        match read {
            Ok((session, next_writable_address)) => vec![
                ServerMessage::SessionContents {
                    write_id,
                    session,
                    next_writable_address,
                },
                write_result(write_id, 0, &Ok(None)),
            ],
            Err(refused) => refused,
        }
    }

    async fn start_write(&mut self, req: StartWrite) -> Vec<ServerMessage> {
        self.last_raw = req.raw_frames;
        // Devices are opened and asked about their medium: not on the event loop.
        let (config, registry, id) = (self.ctx.engine, Arc::clone(&self.ctx.registry), self.ctx.id);
        let (events, history) = (self.events_tx.clone(), self.ctx.history.clone());
        let origin = self.ctx.page_origin();
        let started = {
            let req = req.clone();
            tokio::task::spawn_blocking(move || {
                let ctx = WriteContext {
                    config,
                    registry: &registry,
                    session: id,
                    origin: origin.as_deref(),
                    events: &events,
                    history: history.as_ref(),
                };
                OpenWrite::start(&req, &ctx)
            })
            .await
        };
        let (open, refused) = match started {
            Ok(r) => r,
            Err(e) => {
                let e = EngineError::new(HResult::E_FAIL, format!("internal error: {e}"));
                let all = (0u32..).zip(req.recorders()).map(|(t, _)| (t, e.clone()));
                (None, all.collect())
            }
        };
        let mut replies = Vec::new();
        if let Some(mut w) = open {
            let credit = w.initial_credit();
            tracing::info!(
                session = self.ctx.id,
                write = req.write_id,
                recorder = %req.properties.recorder,
                duplicates = req.duplicate_to.len(),
                lba = req.starting_block_address,
                blocks = req.number_of_blocks,
                "write started"
            );
            self.open = Some(w);
            replies.push(ServerMessage::WriteStarted {
                write_id: req.write_id,
                credit,
            });
        }
        for (target, e) in refused {
            tracing::info!(session = self.ctx.id, write = req.write_id, target, error = %e, "write refused");
            replies.push(write_result(req.write_id, target, &Err(e)));
        }
        replies
    }

    fn cancel_write(&mut self, write_id: u32, target: Option<u32>) -> Step {
        if let Some(held) = self.held.take_if(|h| h.write_id == write_id) {
            // It never began: the request is withdrawn, the write ends cancelled.
            self.ctx.registry.withdraw(&held.code);
            tracing::info!(
                session = self.ctx.id,
                write = write_id,
                "a held request cancelled"
            );
            return Step::Reply(vec![
                ServerMessage::CancelResult {
                    write_id,
                    hresult: HResult::S_OK,
                    name: "S_OK".to_owned(),
                },
                write_result(write_id, 0, &Err(EngineError::cancelled())),
            ]);
        }
        let hresult = match self.open.as_mut().filter(|w| w.id == write_id) {
            Some(w) => {
                tracing::info!(
                    session = self.ctx.id,
                    write = write_id,
                    ?target,
                    "cancel requested"
                );
                w.cancel(target)
            }
            None => HResult::S_IMAPI_WRITE_NOT_IN_PROGRESS,
        };
        Step::Reply(vec![ServerMessage::CancelResult {
            write_id,
            hresult,
            name: hresult.name().unwrap_or("UNKNOWN").to_owned(),
        }])
    }

    fn on_data(&mut self, data: &Bytes) -> Step {
        if !self.greeted {
            return answer(
                ErrorCode::HelloRequired,
                "the first message must be hello".into(),
            );
        }
        let limit = self.ctx.limits.max_frame_bytes as usize;
        if data.len() > limit {
            let detail = format!(
                "a data frame of {} bytes exceeds the limit of {limit}",
                data.len()
            );
            return Step::Fatal(ErrorCode::FrameTooLarge, detail);
        }
        if let Some(open) = self.open.as_mut().filter(|w| w.raw_frames) {
            // Payload alone: the open write's, at its next offset.
            let header = DataFrameHeader {
                write_id: open.id,
                offset: open.received(),
            };
            return match open.accept(header, data) {
                Ok(()) => Step::Reply(Vec::new()),
                Err(v) => violation(v),
            };
        }
        if self.open.is_none() && self.last_raw {
            // Late payload of a raw-framed write that has ended.
            return Step::Reply(Vec::new());
        }
        let header = match DataFrameHeader::decode(data) {
            Ok((h, _)) => h,
            Err(e) => {
                return violation(Violation {
                    code: ErrorCode::BadFrame,
                    detail: e.to_string(),
                });
            }
        };
        let payload = data.slice(webburn_shared::frame::HEADER_LEN..);
        let Some(open) = self.open.as_mut().filter(|w| w.id == header.write_id) else {
            return self.stray_data(header.write_id);
        };
        match open.accept(header, &payload) {
            Ok(()) => Step::Reply(Vec::new()),
            Err(v) => violation(v),
        }
    }

    /// A frame for a write that is not open: late frames of a write that has
    /// ended are dropped; anything else breaks the protocol.
    fn stray_data(&self, write_id: u32) -> Step {
        let ended = self.last_write_id.is_some_and(|l| write_id <= l);
        if ended {
            return Step::Reply(Vec::new());
        }
        let (code, detail) = match &self.open {
            None => (
                ErrorCode::NoWriteOpen,
                format!("data frame for write {write_id}, but no write is open"),
            ),
            Some(w) => (
                ErrorCode::WrongWriteId,
                format!(
                    "data frame for write {write_id}, but the open write is {}",
                    w.id
                ),
            ),
        };
        violation(Violation { code, detail })
    }

    fn on_event(&mut self, event: WriteEvent) -> Vec<ServerMessage> {
        let credit =
            |write_id, bytes| (bytes > 0).then_some(ServerMessage::Credit { write_id, bytes });
        match event {
            WriteEvent::Update(TargetId { write_id, target }, Progress { args, data }) => {
                if let Some(w) = self.open.as_ref().filter(|w| w.id == write_id) {
                    let recorder = w.recorder_of(target);
                    let now = DriveActivity::from_event(recorder, &args, data.as_ref());
                    self.ctx.activity.update(self.ctx.id, write_id, target, now);
                }
                vec![ServerMessage::Update {
                    write_id,
                    args,
                    data,
                    target,
                }]
            }
            WriteEvent::Credit(TargetId { write_id, target }, taken) => {
                let grant = self
                    .open
                    .as_mut()
                    .filter(|w| w.id == write_id)
                    .map_or(0, |w| w.more_credit(target, taken));
                credit(write_id, grant).into_iter().collect()
            }
            // Decisions are the loop's (they may run a request again); one
            // met while winding down only ends the held request.
            WriteEvent::Consent(write_id, _) => {
                if self.held.take_if(|h| h.write_id == write_id).is_some() {
                    tracing::info!(
                        session = self.ctx.id,
                        write = write_id,
                        "a held request ended with its session"
                    );
                }
                Vec::new()
            }
            WriteEvent::Erase(write_id, p) => {
                if let Some((_, recorder)) = self.erasing.as_ref().filter(|e| e.0 == write_id) {
                    let now = DriveActivity::erasing(
                        recorder.clone(),
                        p.elapsed_seconds,
                        p.estimated_total_seconds,
                    );
                    self.ctx.activity.update(self.ctx.id, write_id, 0, now);
                }
                vec![ServerMessage::EraseUpdate {
                    write_id,
                    elapsed_seconds: p.elapsed_seconds,
                    estimated_total_seconds: p.estimated_total_seconds,
                }]
            }
            WriteEvent::Done(TargetId { write_id, target }, result) => {
                if self.erasing.as_ref().is_some_and(|e| e.0 == write_id) {
                    self.erasing = None;
                    self.ctx.activity.finish(self.ctx.id, write_id, 0);
                }
                let mut freed = 0;
                if let Some(w) = self.open.as_mut().filter(|w| w.id == write_id) {
                    freed = w.target_done(target);
                    self.ctx.activity.finish(self.ctx.id, write_id, target);
                    if w.all_done() {
                        self.open = None;
                    }
                }
                match &result {
                    Ok(_) => {
                        tracing::info!(
                            session = self.ctx.id,
                            write = write_id,
                            target,
                            "write finished"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(session = self.ctx.id, write = write_id, target, error = %e, "write failed");
                    }
                }
                let mut replies = vec![write_result(write_id, target, &result)];
                replies.extend(credit(write_id, freed));
                replies
            }
        }
    }
}

#[cfg(test)]
mod tests;
