//! The session with the helper: ask `/v1/status`, pair if needed, open the
//! WebSocket, say hello, route the helper's messages, keep the session alive
//! and reconnect after a loss.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use futures_channel::{mpsc, oneshot};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{
    CloseEvent, CustomEvent, CustomEventInit, Event, EventTarget, MessageEvent, WebSocket,
};
use webburn_shared::http::{Admission, HelperStatus, PairState};
use webburn_shared::protocol::{
    ClientMessage, Limits, PROTOCOL_VERSION, RecorderDescription, ServerMessage, WS_PATH,
};
use webburn_shared::{ErrorCode, HResult, compat};

use crate::error::{hresult_error, with_code, with_sense};
use crate::http::{self, HttpError};
use crate::timer::sleep;

/// Where the connection stands; the page shows each differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Never connected, or closed by the page.
    Idle,
    /// Asking the helper, opening the socket.
    Connecting,
    /// Nothing answers on the helper's port.
    HelperNotRunning,
    /// The browser holds the request while it asks the person whether this
    /// page may reach the local network (Local Network Access).
    LocalNetworkPrompt,
    /// The browser refuses this page access to the local network.
    LocalNetworkDenied,
    /// Waiting for the user to approve this site on the helper.
    PairingPending,
    /// The user refused (or let the request expire).
    PairingRefused,
    /// The helper is too old for this page: the person must update it.
    HelperOutdated,
    /// The page is on the helper's own address but was not opened from the
    /// helper (its tray icon, `webburn-helper open`): it has no key to
    /// manage the helper, and the own address cannot pair.
    NotOpenedFromHelper,
    /// Ready.
    Connected,
    /// The connection broke; it will be tried again.
    Disconnected,
}

impl State {
    /// The name the page sees.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::HelperNotRunning => "helperNotRunning",
            State::LocalNetworkPrompt => "localNetworkPrompt",
            State::LocalNetworkDenied => "localNetworkDenied",
            State::PairingPending => "pairingPending",
            State::PairingRefused => "pairingRefused",
            State::HelperOutdated => "helperOutdated",
            State::NotOpenedFromHelper => "notOpenedFromHelper",
            State::Connected => "connected",
            State::Disconnected => "disconnected",
        }
    }
}

/// How long `/v1/status` may go unanswered before the library looks for a
/// Local Network Access prompt holding it.
const PROMPT_AFTER_MS: i32 = 1500;
/// How often the library pings a quiet session (the helper's idle timeout is 60 s).
const KEEPALIVE_MS: i32 = 20_000;
/// Reconnect delays grow to this.
const MAX_RETRY_MS: i32 = 10_000;

type Reply<T> = oneshot::Sender<Result<T, JsValue>>;

/// An open WebSocket with its callbacks; dropping it detaches them and closes it.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _keepalive: Closure<dyn FnMut()>,
    keepalive_id: i32,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onopen(None);
        self.ws.set_onerror(None);
        if let Some(w) = web_sys::window() {
            w.clear_interval_with_handle(self.keepalive_id);
        }
        let _ = self.ws.close();
    }
}

struct Inner {
    helper: String,
    /// Where the helper answered: `helper`, or its TLS sibling (an https
    /// page whose browser blocks `http://127.0.0.1` as mixed content).
    endpoint: Option<String>,
    state: State,
    socket: Option<Socket>,
    helper_version: Option<String>,
    /// What the helper listed (`None`: it lists nothing, or is not asked yet).
    helper_features: Option<Vec<String>>,
    limits: Option<Limits>,
    welcome: Vec<Reply<()>>,
    lists: VecDeque<Reply<Vec<RecorderDescription>>>,
    pairings: VecDeque<Reply<ServerMessage>>,
    /// Open writes: where their messages go, and how many results are still due.
    writes: HashMap<u32, (mpsc::UnboundedSender<ServerMessage>, usize)>,
    next_write_id: u32,
    events: EventTarget,
    auto_reconnect: bool,
    closed_by_page: bool,
    /// The last fatal error the helper sent, reported when the socket closes.
    last_fatal: Option<JsValue>,
    /// A pairing request waiting for the user: its id.
    pairing_id: Option<String>,
    /// The page reads the pairings (the helper's own page): it hears of
    /// their changes too (`watch`).
    watches_pairings: bool,
}

/// A handle on the session; clones share it.
#[derive(Clone)]
pub(crate) struct Connection(Rc<RefCell<Inner>>);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Connection({}, {})",
            self.0.borrow().helper,
            self.state().as_str()
        )
    }
}

fn token_key(helper: &str) -> String {
    format!("webburn.token:{helper}")
}

/// Whether this page was served over https (where browsers may block
/// `http://` requests as mixed content).
fn page_is_https() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| js_sys::Reflect::get(&l, &"protocol".into()))
        .ok()
        .and_then(|p| p.as_string())
        .is_some_and(|p| p == "https:")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

impl Connection {
    /// A connection to the helper at `helper` (e.g. `http://127.0.0.1:47801`), not yet open.
    pub(crate) fn new(helper: &str, auto_reconnect: bool) -> Result<Connection, JsValue> {
        Ok(Connection(Rc::new(RefCell::new(Inner {
            helper: helper.trim_end_matches('/').to_owned(),
            endpoint: None,
            state: State::Idle,
            socket: None,
            helper_version: None,
            helper_features: None,
            limits: None,
            welcome: Vec::new(),
            lists: VecDeque::new(),
            pairings: VecDeque::new(),
            writes: HashMap::new(),
            next_write_id: 1,
            events: EventTarget::new()?,
            auto_reconnect,
            closed_by_page: false,
            last_fatal: None,
            pairing_id: None,
            watches_pairings: false,
        }))))
    }

    /// The helper's base URL.
    pub(crate) fn helper(&self) -> String {
        self.0.borrow().helper.clone()
    }

    /// Where requests go: the helper's address, or its TLS sibling once
    /// only that answered.
    pub(crate) fn endpoint(&self) -> String {
        let inner = self.0.borrow();
        inner
            .endpoint
            .clone()
            .unwrap_or_else(|| inner.helper.clone())
    }

    /// `/v1/status` at the helper, else (an https page, a loopback helper)
    /// at its TLS sibling, which then serves the whole session.
    async fn reach(&self, token: Option<&str>) -> Result<HelperStatus, HttpError> {
        let helper = self.helper();
        let first = {
            let asked = http::status(&helper, token);
            let waited = sleep(PROMPT_AFTER_MS);
            futures_util::pin_mut!(asked, waited);
            match futures_util::future::select(asked, waited).await {
                futures_util::future::Either::Left((answer, _)) => answer,
                futures_util::future::Either::Right(((), asked)) => {
                    // Still unanswered: an https page's browser may be asking
                    // the person (Local Network Access); say so meanwhile.
                    if page_is_https() && http::local_network_prompting().await {
                        self.set_state(State::LocalNetworkPrompt);
                    }
                    asked.await
                }
            }
        };
        let Err(HttpError::Network(_)) = &first else {
            self.0.borrow_mut().endpoint = None;
            return first;
        };
        let Some(tls) = webburn_shared::http::tls_sibling(&helper).filter(|_| page_is_https())
        else {
            return first;
        };
        match http::status(&tls, token).await {
            Ok(status) => {
                self.0.borrow_mut().endpoint = Some(tls);
                Ok(status)
            }
            Err(_) => first,
        }
    }

    /// The state.
    pub(crate) fn state(&self) -> State {
        self.0.borrow().state
    }

    /// Listeners of `statechange` events.
    pub(crate) fn events(&self) -> EventTarget {
        self.0.borrow().events.clone()
    }

    /// The helper's version, once connected.
    pub(crate) fn helper_version(&self) -> Option<String> {
        self.0.borrow().helper_version.clone()
    }

    /// The features the helper listed, once asked.
    pub(crate) fn helper_features(&self) -> Option<Vec<String>> {
        self.0.borrow().helper_features.clone()
    }

    /// The session's limits, once connected.
    pub(crate) fn limits(&self) -> Option<Limits> {
        self.0.borrow().limits
    }

    /// A request of this page waits for the person's consent on the
    /// helper: a `consentneeded` event whose detail is `{writeId, act,
    /// recorderId, code}`, for the page to say what to do and where.
    fn consent_needed(&self, write_id: u32, act: &str, recorder_id: &str, code: &str) {
        let events = self.0.borrow().events.clone();
        let detail = js_sys::Object::new();
        for (k, v) in [
            ("writeId", JsValue::from(write_id)),
            ("act", JsValue::from_str(act)),
            ("recorderId", JsValue::from_str(recorder_id)),
            ("code", JsValue::from_str(code)),
        ] {
            let _ = js_sys::Reflect::set(&detail, &k.into(), &v);
        }
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        if let Ok(ev) = CustomEvent::new_with_event_init_dict("consentneeded", &init) {
            let _ = events.dispatch_event(&ev);
        }
    }

    /// Dispatches the event `kind`, without detail.
    fn notify(&self, kind: &str) {
        let events = self.0.borrow().events.clone();
        if let Ok(ev) = CustomEvent::new(kind) {
            let _ = events.dispatch_event(&ev);
        }
    }

    /// Asks the helper (one with the feature `watch`) to tell of changes
    /// to the recorder list, and to the pairings when the page reads them,
    /// so the page never polls.
    fn watch(&self) {
        let offered = self.helper_features().unwrap_or_default();
        if !offered.iter().any(|f| f == compat::WATCH) {
            return;
        }
        let pairings = self.0.borrow().watches_pairings;
        let _ = self.send(&ClientMessage::Watch {
            recorders: true,
            pairings,
        });
    }

    /// Whether the helper tells of changes (`recorderschanged`,
    /// `pairingschanged` events) rather than the page asking again.
    pub(crate) fn watches(&self) -> bool {
        self.helper_features()
            .unwrap_or_default()
            .iter()
            .any(|f| f == compat::WATCH)
    }

    fn set_state(&self, state: State) {
        let events = {
            let mut inner = self.0.borrow_mut();
            if inner.state == state {
                return;
            }
            inner.state = state;
            inner.events.clone()
        };
        let init = CustomEventInit::new();
        init.set_detail(&JsValue::from_str(state.as_str()));
        if let Ok(ev) = CustomEvent::new_with_event_init_dict("statechange", &init) {
            let _ = events.dispatch_event(&ev);
        }
    }

    fn token(&self) -> Option<String> {
        storage().and_then(|s| s.get_item(&token_key(&self.helper())).ok().flatten())
    }

    fn set_token(&self, token: Option<&str>) {
        if let Some(s) = storage() {
            let key = token_key(&self.helper());
            let _ = match token {
                Some(t) => s.set_item(&key, t),
                None => s.remove_item(&key),
            };
        }
    }

    /// Connects: status, pairing if needed (waiting for the user), socket, hello.
    pub(crate) async fn connect(&self) -> Result<(), JsValue> {
        if self.state() == State::Connected {
            return Ok(());
        }
        self.0.borrow_mut().closed_by_page = false;
        self.set_state(State::Connecting);
        let helper = self.helper();
        let mut token = self.token();
        let status = match self.reach(token.as_deref()).await {
            Ok(s) => s,
            Err(HttpError::Network(detail)) => {
                return Err(if http::local_network_denied().await {
                    self.set_state(State::LocalNetworkDenied);
                    hresult_error(
                        HResult::E_ACCESSDENIED,
                        "the browser denies this page access to the local network",
                    )
                } else {
                    self.set_state(State::HelperNotRunning);
                    hresult_error(
                        HResult::E_CONNECTION_REFUSED,
                        &format!("{helper}: {detail}"),
                    )
                });
            }
            Err(HttpError::Answer(detail)) => {
                self.set_state(State::Idle);
                return Err(hresult_error(
                    HResult::E_FAIL,
                    &format!("the helper at {helper} refused: {detail}"),
                ));
            }
        };
        let missing = compat::missing(status.features.as_deref());
        let outdated = status.protocol < PROTOCOL_VERSION || !missing.is_empty();
        self.0.borrow_mut().helper_features = status.features;
        if outdated {
            self.0.borrow_mut().helper_version = Some(status.helper_version.clone());
            self.set_state(State::HelperOutdated);
            let why = format!(
                "{} (it lacks {})",
                compat::update_text(&status.helper_version),
                if missing.is_empty() {
                    format!("protocol version {PROTOCOL_VERSION}")
                } else {
                    missing.join(", ")
                }
            );
            return Err(with_code(
                hresult_error(HResult::E_NOTIMPL, &why),
                Some(ErrorCode::HelperOutdated),
            ));
        }
        self.0.borrow_mut().helper_version = Some(status.helper_version);
        if status.admission == Admission::OwnKeyMissing {
            self.set_state(State::NotOpenedFromHelper);
            return Err(hresult_error(
                HResult::E_ACCESSDENIED,
                "this is the helper's own page only when opened from the helper: its tray icon, or webburn-helper open",
            ));
        }
        if status.admission.needs_pairing() {
            self.set_token(None);
            token = self.pair().await?;
        }
        self.open(token.as_deref()).await
    }

    /// Asks to pair and waits for the user's answer; returns the token.
    async fn pair(&self) -> Result<Option<String>, JsValue> {
        let helper = self.endpoint();
        let failed = |e: HttpError| match e {
            HttpError::Network(d) | HttpError::Answer(d) => hresult_error(HResult::E_FAIL, &d),
        };
        let asked = http::ask_to_pair(&helper).await.map_err(failed)?;
        if asked.status == PairState::NotNeeded {
            return Ok(None);
        }
        let id = asked.id.unwrap_or_default();
        self.0.borrow_mut().pairing_id = Some(id.clone());
        self.set_state(State::PairingPending);
        let refused = |this: &Connection, why: &str| {
            this.0.borrow_mut().pairing_id = None;
            this.set_state(State::PairingRefused);
            hresult_error(HResult::E_ACCESSDENIED, why)
        };
        loop {
            sleep(1000).await;
            if self.0.borrow().closed_by_page {
                return Err(hresult_error(
                    HResult::E_IMAPI_REQUEST_CANCELLED,
                    "closed while pairing",
                ));
            }
            let answer = http::pairing_status(&helper, &id).await.map_err(failed)?;
            match answer.status {
                PairState::Approved => {
                    self.0.borrow_mut().pairing_id = None;
                    let token = answer.token.unwrap_or_default();
                    self.set_token(Some(&token));
                    return Ok(Some(token));
                }
                PairState::Pending => {}
                PairState::Denied => {
                    return Err(refused(self, "the helper's user refused this site"));
                }
                _ => return Err(refused(self, "the pairing request expired unanswered")),
            }
        }
    }

    /// Opens the socket and waits for `welcome`.
    async fn open(&self, token: Option<&str>) -> Result<(), JsValue> {
        let helper = self.endpoint();
        let ws_base = helper.replacen("http", "ws", 1);
        let url = match token {
            Some(t) => format!("{ws_base}{WS_PATH}?token={t}"),
            None => format!("{ws_base}{WS_PATH}"),
        };
        let ws = WebSocket::new(&url)?;
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let (tx, rx) = oneshot::channel();
        self.0.borrow_mut().welcome.push(tx);
        let on_open: Closure<dyn FnMut(Event)> = {
            let ws = ws.clone();
            Closure::once(move |_: Event| {
                let hello = ClientMessage::Hello {
                    versions: vec![PROTOCOL_VERSION],
                    client: Some(format!("webburn-web {}", env!("CARGO_PKG_VERSION"))),
                };
                if let Ok(text) = serde_json::to_string(&hello) {
                    let _ = ws.send_with_str(&text);
                }
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let this = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                this.on_text(&text);
            }
        });
        let this = self.clone();
        let on_close =
            Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| this.on_close(&e));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let pinger = {
            let ws = ws.clone();
            Closure::<dyn FnMut()>::new(move || {
                if ws.ready_state() == WebSocket::OPEN {
                    let _ = ws.send_with_str(r#"{"type":"ping"}"#);
                }
            })
        };
        let keepalive_id = web_sys::window()
            .and_then(|w| {
                w.set_interval_with_callback_and_timeout_and_arguments_0(
                    pinger.as_ref().unchecked_ref(),
                    KEEPALIVE_MS,
                )
                .ok()
            })
            .unwrap_or(0);
        self.0.borrow_mut().socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _keepalive: pinger,
            keepalive_id,
        });
        match rx.await {
            Ok(result) => result,
            Err(_) => Err(hresult_error(
                HResult::E_FAIL,
                "the connection closed while opening",
            )),
        }
    }

    fn on_text(&self, text: &str) {
        let msg: ServerMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                web_sys::console::warn_1(
                    &format!("webburn: unreadable message from the helper: {e}").into(),
                );
                return;
            }
        };
        let write_id = match &msg {
            ServerMessage::WriteStarted { write_id, .. }
            | ServerMessage::Credit { write_id, .. }
            | ServerMessage::Update { write_id, .. }
            | ServerMessage::CancelResult { write_id, .. }
            | ServerMessage::EraseUpdate { write_id, .. }
            | ServerMessage::SessionContents { write_id, .. }
            | ServerMessage::WriteResult { write_id, .. } => Some(*write_id),
            _ => None,
        };
        if let Some(id) = write_id {
            let mut inner = self.0.borrow_mut();
            let result = matches!(msg, ServerMessage::WriteResult { .. });
            if let Some((tx, due)) = inner.writes.get_mut(&id) {
                let _ = tx.unbounded_send(msg);
                if result {
                    *due = due.saturating_sub(1);
                    if *due == 0 {
                        inner.writes.remove(&id);
                    }
                }
            }
            return;
        }
        match msg {
            ServerMessage::Welcome {
                helper_version,
                limits,
                features,
                ..
            } => {
                let waiters = {
                    let mut inner = self.0.borrow_mut();
                    inner.helper_version = Some(helper_version);
                    if features.is_some() {
                        inner.helper_features = features;
                    }
                    inner.limits = Some(limits);
                    std::mem::take(&mut inner.welcome)
                };
                self.set_state(State::Connected);
                self.watch();
                for w in waiters {
                    let _ = w.send(Ok(()));
                }
            }
            ServerMessage::Recorders { recorders } => {
                if let Some(w) = self.0.borrow_mut().lists.pop_front() {
                    let _ = w.send(Ok(recorders));
                }
            }
            ServerMessage::ConsentNeeded {
                write_id,
                act,
                recorder_id,
                code,
            } => self.consent_needed(write_id, act.as_str(), &recorder_id, &code),
            ServerMessage::RecordersChanged => self.notify("recorderschanged"),
            ServerMessage::PairingsChanged => self.notify("pairingschanged"),
            p @ (ServerMessage::Pairings { .. } | ServerMessage::DeviceRequested { .. }) => {
                if let Some(w) = self.0.borrow_mut().pairings.pop_front() {
                    let _ = w.send(Ok(p));
                }
            }
            ServerMessage::Error {
                hresult,
                detail,
                code,
                fatal,
                ..
            } => {
                let err = with_code(
                    hresult_error(hresult, &format!("{code}: {detail}")),
                    Some(code),
                );
                let mut inner = self.0.borrow_mut();
                if fatal {
                    inner.last_fatal = Some(err);
                } else if code.answers_pairing() {
                    if let Some(w) = inner.pairings.pop_front() {
                        let _ = w.send(Err(err));
                    }
                } else {
                    web_sys::console::warn_1(&err);
                }
            }
            _ => {}
        }
    }

    fn on_close(&self, e: &CloseEvent) {
        let (was, waiters, lists, pairings, reconnect, fatal) = {
            let mut inner = self.0.borrow_mut();
            inner.socket = None;
            // Every running write ends with the close's code and reason.
            let reason = if e.reason().is_empty() {
                String::new()
            } else {
                format!(", {:?}", e.reason())
            };
            let lost = ServerMessage::error(
                ErrorCode::ConnectionLost,
                format!(
                    "the connection to the helper was lost (WebSocket close code {}{reason}); the helper stopped the write",
                    e.code()
                ),
            );
            for (tx, _) in inner.writes.values() {
                let _ = tx.unbounded_send(lost.clone());
            }
            inner.writes.clear();
            (
                inner.state,
                std::mem::take(&mut inner.welcome),
                std::mem::take(&mut inner.lists),
                std::mem::take(&mut inner.pairings),
                inner.auto_reconnect && !inner.closed_by_page,
                inner.last_fatal.take(),
            )
        };
        let err = || {
            fatal.clone().unwrap_or_else(|| {
                hresult_error(
                    HResult::E_FAIL,
                    &format!(
                        "the connection to the helper closed (code {}, {:?})",
                        e.code(),
                        e.reason()
                    ),
                )
            })
        };
        for w in waiters {
            let _ = w.send(Err(err()));
        }
        for w in lists {
            let _ = w.send(Err(err()));
        }
        for w in pairings {
            let _ = w.send(Err(err()));
        }
        if self.0.borrow().closed_by_page {
            self.set_state(State::Idle);
            return;
        }
        self.set_state(State::Disconnected);
        if reconnect && was == State::Connected {
            let this = self.clone();
            wasm_bindgen_futures::spawn_local(async move { this.reconnect().await });
        }
    }

    /// Tries again with growing delays until connected, refused or closed.
    async fn reconnect(&self) {
        let mut delay = 1000;
        loop {
            sleep(delay).await;
            if self.0.borrow().closed_by_page || self.state() == State::Connected {
                return;
            }
            if self.connect().await.is_ok() {
                return;
            }
            if matches!(
                self.state(),
                State::PairingRefused
                    | State::LocalNetworkDenied
                    | State::HelperOutdated
                    | State::NotOpenedFromHelper
            ) {
                return;
            }
            delay = (delay * 2).min(MAX_RETRY_MS);
        }
    }

    /// Closes the session; no reconnect follows.
    pub(crate) fn close(&self) {
        let socket = {
            let mut inner = self.0.borrow_mut();
            inner.closed_by_page = true;
            inner.writes.clear();
            inner.socket.take()
        };
        drop(socket);
        self.set_state(State::Idle);
    }

    /// Sends a text message.
    pub(crate) fn send(&self, msg: &ClientMessage) -> Result<(), JsValue> {
        let text = serde_json::to_string(msg)
            .map_err(|e| hresult_error(HResult::E_FAIL, &e.to_string()))?;
        self.with_socket(|ws| ws.send_with_str(&text))
    }

    /// Sends a Blob or a typed array as one binary message.
    pub(crate) fn send_binary(&self, data: &JsValue) -> Result<(), JsValue> {
        self.with_socket(|ws| match data.dyn_ref::<web_sys::Blob>() {
            Some(blob) => ws.send_with_blob(blob),
            None => ws.send_with_array_buffer_view(data.unchecked_ref()),
        })
    }

    fn with_socket(
        &self,
        f: impl FnOnce(&WebSocket) -> Result<(), JsValue>,
    ) -> Result<(), JsValue> {
        let ws = self.0.borrow().socket.as_ref().map(|s| s.ws.clone());
        match ws {
            Some(ws) if self.state() == State::Connected => f(&ws),
            _ => Err(hresult_error(
                HResult::E_CONNECTION_REFUSED,
                "not connected to the helper",
            )),
        }
    }

    /// Lists the recorders.
    pub(crate) async fn list_recorders(&self) -> Result<Vec<RecorderDescription>, JsValue> {
        let (tx, rx) = oneshot::channel();
        self.send(&ClientMessage::ListRecorders)?;
        self.0.borrow_mut().lists.push_back(tx);
        rx.await
            .unwrap_or_else(|_| Err(hresult_error(HResult::E_FAIL, "the connection closed")))
    }

    /// Sends a pairing message (own page only) and waits for `pairings`.
    pub(crate) async fn pairing(&self, msg: &ClientMessage) -> Result<ServerMessage, JsValue> {
        // The pairing messages are the helper's own page's (a device
        // request is any page's): that page hears of their changes too.
        if !matches!(msg, ClientMessage::RequestDevice { .. })
            && !std::mem::replace(&mut self.0.borrow_mut().watches_pairings, true)
        {
            self.watch();
        }
        let (tx, rx) = oneshot::channel();
        self.send(msg)?;
        self.0.borrow_mut().pairings.push_back(tx);
        rx.await
            .unwrap_or_else(|_| Err(hresult_error(HResult::E_FAIL, "the connection closed")))
    }

    /// Both handles lead to the same helper session.
    pub(crate) fn same_as(&self, other: &Connection) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// A request that runs under a write id and ends with one `writeResult`
    /// (an erase, a session read): sends `build(id)`, hands every other
    /// message of it to `on`, and resolves with its result (an Error with
    /// `hresult`, `detail`, `sense` and `code` when it failed). Needs the
    /// helper feature `feature`; an older helper gives E_NOTIMPL,
    /// `code: "helperOutdated"`, saying it cannot do `what`.
    pub(crate) async fn request(
        &self,
        (feature, what): (&str, &str),
        build: impl FnOnce(u32) -> ClientMessage,
        mut on: impl FnMut(ServerMessage),
    ) -> Result<(), JsValue> {
        let offered = self.helper_features().unwrap_or_default();
        if !offered.iter().any(|f| f == feature) {
            return Err(with_code(
                hresult_error(
                    HResult::E_NOTIMPL,
                    &format!("this helper is too old to {what}: update the webburn helper"),
                ),
                Some(ErrorCode::HelperOutdated),
            ));
        }
        let (write_id, mut messages) = self.register_write(1);
        self.send(&build(write_id))?;
        loop {
            match futures_util::StreamExt::next(&mut messages).await {
                Some(ServerMessage::WriteResult {
                    hresult,
                    detail,
                    sense,
                    code,
                    ..
                }) => {
                    if hresult.is_failure() {
                        let e = with_sense(hresult_error(hresult, &detail), sense);
                        return Err(with_code(e, code));
                    }
                    return Ok(());
                }
                Some(ServerMessage::Error {
                    hresult,
                    detail,
                    code,
                    fatal: true,
                    ..
                }) => return Err(with_code(hresult_error(hresult, &detail), Some(code))),
                Some(other) => on(other),
                None => {
                    return Err(hresult_error(
                        HResult::E_FAIL,
                        &format!("the connection to the helper was lost while it went to {what}"),
                    ));
                }
            }
        }
    }

    /// A new write id and the channel its messages arrive on, until each of
    /// its `targets` has sent its result.
    pub(crate) fn register_write(
        &self,
        targets: usize,
    ) -> (u32, mpsc::UnboundedReceiver<ServerMessage>) {
        let (tx, rx) = mpsc::unbounded();
        let mut inner = self.0.borrow_mut();
        let id = inner.next_write_id;
        inner.next_write_id += 1;
        inner.writes.insert(id, (tx, targets));
        (id, rx)
    }
}
