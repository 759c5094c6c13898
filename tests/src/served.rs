//! A helper server started in-process on 127.0.0.1 (port 0), and a protocol
//! v1 client over a real socket (tokio-tungstenite), for the server tests.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use webburn_helper::server::{RunningServer, ServerConfig};
use webburn_shared::protocol::{Limits, ServerMessage, WS_PATH};
use webburn_shared::{DataEventArgs, DataFrameHeader, HResult, WriteEngineEventArgs};

/// How long a test waits for any one message before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running helper with its data directory and emulated recorders.
#[derive(Debug)]
pub struct Helper {
    /// The server.
    pub server: RunningServer,
    /// Data directory (pairing store) and images.
    pub dir: tempfile::TempDir,
    /// Recorder ids as the helper lists them, in the order of the options given.
    pub recorders: Vec<String>,
    /// Their image files.
    pub images: Vec<PathBuf>,
}

impl Helper {
    /// Starts a helper offering one emulated recorder per entry of `options`
    /// (e.g. `",profile=disk"`), after `tweak` adjusts the config.
    pub async fn start(options: &[&str], tweak: impl FnOnce(&mut ServerConfig)) -> Helper {
        let dir = crate::media::scratch_dir();
        let mut config = ServerConfig::defaults(dir.path());
        config.port = 0;
        let images: Vec<PathBuf> = (0..options.len())
            .map(|i| dir.path().join(format!("rec{i}.img")))
            .collect();
        config.recorders = images
            .iter()
            .zip(options)
            .map(|(p, o)| format!("emulated:{}{o}", p.display()))
            .collect();
        tweak(&mut config);
        let server = webburn_helper::server::start(config)
            .await
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let registry = std::sync::Arc::clone(&server.state.registry);
        let recorders = tokio::task::spawn_blocking(move || registry.list(0, None))
            .await
            .unwrap_or_else(|e| panic!("list: {e}"))
            .into_iter()
            .map(|r| r.id)
            .collect();
        Helper {
            server,
            dir,
            recorders,
            images,
        }
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// The helper's own origin.
    pub fn own_origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The own-page cookie this run's browser holds once it opened the
    /// helper's own link (`webburn-own-PORT=KEY`).
    pub fn own_cookie(&self) -> String {
        own_cookie(self.port(), self.server.state.own_key.as_str())
    }

    /// A greeted session from the helper's own page (its origin and key).
    pub async fn session(&self) -> Client {
        let mut c = self
            .connect(Some(&self.own_origin()), None, None)
            .await
            .unwrap_or_else(|r| panic!("own origin refused: {r:?}"));
        c.hello().await;
        c
    }

    /// Opens `/v1/ws` with the given Origin, token and Host (default: the
    /// right one), and the own-page cookie when the origin is the helper's
    /// own, as its page has it; a refusal comes back as (HTTP status, body).
    pub async fn connect(
        &self,
        origin: Option<&str>,
        token: Option<&str>,
        host: Option<&str>,
    ) -> Result<Client, (u16, String)> {
        let cookie = (origin == Some(self.own_origin().as_str())).then(|| self.own_cookie());
        connect(self.port(), origin, token, host, cookie.as_deref()).await
    }

    /// Checks that the helper still serves: a new session is greeted and lists recorders.
    pub async fn assert_serves(&self) {
        let mut c = self.session().await;
        c.send(json!({"type": "listRecorders"})).await;
        match c.recv().await {
            ServerMessage::Recorders { recorders } => {
                assert_eq!(recorders.len(), self.recorders.len());
            }
            other => panic!("expected recorders, got {other:?}"),
        }
    }

    /// A greeted session of a page of `origin` paired as the person pairs
    /// it: the page asks (`POST /v1/pair`), the person approves the code,
    /// the page collects its token and connects with it.
    pub async fn paired(&self, origin: &str) -> Client {
        let (status, body) = self.http("POST", "/v1/pair", &[("Origin", origin)]).await;
        assert_eq!(status, 202, "pairing {origin}: {body}");
        let id = serde_json::from_str::<Value>(&body).unwrap_or_default()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let code = self.pairing_code(origin);
        self.server
            .state
            .pairing
            .approve(&code)
            .unwrap_or_else(|e| panic!("approve {code}: {e}"));
        let (_, body) = self
            .http("GET", &format!("/v1/pair/{id}"), &[("Origin", origin)])
            .await;
        let token = serde_json::from_str::<Value>(&body).unwrap_or_default()["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token for {origin}: {body}"))
            .to_owned();
        let mut c = self
            .connect(Some(origin), Some(&token), None)
            .await
            .unwrap_or_else(|r| panic!("{origin} refused: {r:?}"));
        c.hello().await;
        c
    }

    /// The code of the pairing request `origin` has waiting (what the helper
    /// prints on its console).
    pub fn pairing_code(&self, origin: &str) -> String {
        let (pending, _) = self
            .server
            .state
            .pairing
            .list()
            .unwrap_or_else(|e| panic!("pairing store: {e}"));
        pending
            .into_iter()
            .find(|p| p.origin == origin && p.is_waiting())
            .unwrap_or_else(|| panic!("no pairing request from {origin}"))
            .code
    }

    /// A plain HTTP/1.1 request to the helper; returns (status, body).
    pub async fn http(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        http(self.port(), method, path, headers).await
    }
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port` with `Connection: close`.
/// A `Host` in `headers` replaces the default one.
pub async fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        let _ = write!(req, "Host: 127.0.0.1:{port}\r\n");
    }
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("no HTTP answer"))
        .unwrap_or_else(|e| panic!("read: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The own-page cookie of a helper on `port` whose run's key is `key`.
pub fn own_cookie(port: u16, key: &str) -> String {
    format!("webburn-own-{port}={key}")
}

/// Opens `/v1/ws` of a helper on 127.0.0.1:`port` with the given Origin,
/// token, Host (default: the right one) and Cookie header; a refusal comes
/// back as (HTTP status, body).
pub async fn connect(
    port: u16,
    origin: Option<&str>,
    token: Option<&str>,
    host: Option<&str>,
    cookie: Option<&str>,
) -> Result<Client, (u16, String)> {
    let query = token.map(|t| format!("?token={t}")).unwrap_or_default();
    let url = format!("ws://127.0.0.1:{port}{WS_PATH}{query}");
    let mut req = url
        .into_client_request()
        .unwrap_or_else(|e| panic!("request: {e}"));
    let h = req.headers_mut();
    if let Some(o) = origin {
        h.insert(
            "origin",
            HeaderValue::from_str(o).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    if let Some(host) = host {
        h.insert(
            "host",
            HeaderValue::from_str(host).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    if let Some(cookie) = cookie {
        h.insert(
            "cookie",
            HeaderValue::from_str(cookie).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(Client {
            ws,
            bytes_per_sector: 2048,
        }),
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            Err((resp.status().as_u16(), body.unwrap_or_default()))
        }
        Err(e) => Err((0, format!("connect failed: {e}"))),
    }
}

/// What [`Client::next_event`] saw.
#[derive(Debug)]
pub enum Event {
    /// A message.
    Message(ServerMessage),
    /// A close frame (its code) or the socket's end (`None`).
    Closed(Option<u16>),
    /// Text that is not a protocol message.
    Garbage(String),
    /// Nothing within [`WAIT`].
    Silent,
}

/// One protocol v1 session, client side.
#[derive(Debug)]
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// BytesPerSector of the writes this client starts (2048 unless set).
    pub bytes_per_sector: usize,
}

/// What a write through the protocol came to.
#[derive(Debug)]
pub struct Burned {
    /// The `writeResult`.
    pub result: ServerMessage,
    /// Every `update`'s args.
    pub updates: Vec<WriteEngineEventArgs>,
    /// The disc flow's args of every `update` that had them.
    pub data: Vec<DataEventArgs>,
    /// Bytes sent.
    pub sent: u64,
    /// Credit granted in total (writeStarted + credit messages).
    pub granted: u64,
}

impl Burned {
    /// The HRESULT of the write.
    pub fn hresult(&self) -> HResult {
        match &self.result {
            ServerMessage::WriteResult { hresult, .. } => *hresult,
            other => panic!("not a writeResult: {other:?}"),
        }
    }

    /// The report of a `disc` write that succeeded (panics otherwise).
    pub fn disc_report(&self) -> &webburn_shared::DiscReport {
        match &self.result {
            ServerMessage::WriteResult {
                hresult: HResult::S_OK,
                disc: Some(report),
                ..
            } => report,
            other => panic!("not a successful disc write: {other:?}"),
        }
    }
}

/// What a duplicated write through the protocol came to.
#[derive(Debug)]
pub struct Duplicated {
    /// The `writeResult` of each target, by target index.
    pub results: Vec<ServerMessage>,
    /// Every `update`'s target and args, in arrival order.
    pub updates: Vec<(u32, WriteEngineEventArgs)>,
    /// Bytes sent.
    pub sent: u64,
    /// Whether `writeStarted` came (some target started).
    pub started: bool,
}

impl Duplicated {
    /// The HRESULT of each target.
    pub fn hresults(&self) -> Vec<HResult> {
        self.results
            .iter()
            .map(|r| match r {
                ServerMessage::WriteResult { hresult, .. } => *hresult,
                other => panic!("not a writeResult: {other:?}"),
            })
            .collect()
    }
}

impl Client {
    /// One write to `recorders[0]` duplicated to the others (frames of
    /// 256 KiB within the credit) until every target's `writeResult`.
    /// `watch` sees each update (target, args, bytes sent so far) and may
    /// return a message to send, e.g. a cancel of one target. An
    /// open-ended write (`extra.disc.openEnd`, its section in `extra`) ends
    /// its data with `endOfData`.
    pub async fn duplicate(
        &mut self,
        write_id: u32,
        recorders: &[String],
        data: &[u8],
        extra: Value,
        mut watch: impl FnMut(u32, &WriteEngineEventArgs, u64) -> Option<Value>,
    ) -> Duplicated {
        let mut fields = json!({"duplicateTo": recorders[1..]});
        if let (Some(f), Value::Object(e)) = (fields.as_object_mut(), extra) {
            f.extend(e);
        }
        let open_end = fields["disc"]["openEnd"] == Value::Bool(true);
        self.start_write(write_id, &recorders[0], 0, data.len(), fields)
            .await;
        let mut results: Vec<Option<ServerMessage>> = recorders.iter().map(|_| None).collect();
        let (mut sent, mut granted, mut started) = (0u64, 0u64, false);
        let mut ended = false;
        let mut updates = Vec::new();
        while results.iter().any(Option::is_none) {
            while sent < granted && (sent as usize) < data.len() {
                let n = (256 * 1024)
                    .min((granted - sent) as usize)
                    .min(data.len() - sent as usize);
                self.send_frame(write_id, sent, &data[sent as usize..sent as usize + n])
                    .await;
                sent += n as u64;
            }
            if open_end && !ended && sent as usize == data.len() {
                ended = true;
                self.send(json!({"type": "endOfData", "writeId": write_id}))
                    .await;
            }
            match self.recv().await {
                ServerMessage::WriteStarted { credit, .. } => (started, granted) = (true, credit),
                ServerMessage::Credit { bytes, .. } => granted += bytes,
                ServerMessage::Update { target, args, .. } => {
                    if let Some(msg) = watch(target, &args, sent) {
                        self.send(msg).await;
                    }
                    updates.push((target, args));
                }
                r @ ServerMessage::WriteResult { target, .. } => {
                    let slot = &mut results[target as usize];
                    assert!(slot.is_none(), "two results for target {target}");
                    *slot = Some(r);
                }
                ServerMessage::CancelResult { .. } => {}
                other => panic!("unexpected during a duplicated write: {other:?}"),
            }
        }
        assert!(
            open_end || granted <= data.len() as u64,
            "credit past the end: {granted}"
        );
        Duplicated {
            results: results.into_iter().flatten().collect(),
            updates,
            sent,
            started,
        }
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    /// Sends a text message as is.
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text))
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Sends a data frame.
    pub async fn send_frame(&mut self, write_id: u32, offset: u64, payload: &[u8]) {
        let mut frame = DataFrameHeader { write_id, offset }.encode().to_vec();
        frame.extend_from_slice(payload);
        self.send_binary(frame).await;
    }

    /// Sends a binary message as is.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::binary(bytes))
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Sends any message, reporting a failure instead of panicking (a
    /// hostile client's sends may meet a closed socket).
    pub async fn try_send(&mut self, msg: Message) -> Result<(), String> {
        self.ws.send(msg).await.map_err(|e| e.to_string())
    }

    /// Sends a text frame whose payload is `bytes` as they are (e.g. not UTF-8).
    pub async fn try_send_raw_text(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        self.try_send(Message::Frame(Frame::message(
            bytes,
            OpCode::Data(Data::Text),
            true,
        )))
        .await
    }

    /// What comes next from the helper, without panicking: a message, the
    /// close (with its code) or the end of the socket.
    pub async fn next_event(&mut self) -> Event {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Err(_) => return Event::Silent,
                Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str(t.as_str()) {
                    Ok(m) => return Event::Message(m),
                    Err(e) => return Event::Garbage(format!("{e}: {t}")),
                },
                Ok(Some(Ok(Message::Close(f)))) => {
                    return Event::Closed(f.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return Event::Closed(None),
            }
        }
    }

    /// The next text message, decoded; fails the test after [`WAIT`].
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no message within {WAIT:?}"));
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return serde_json::from_str(t.as_str())
                        .unwrap_or_else(|e| panic!("undecodable server message {t}: {e}"));
                }
                Some(Ok(Message::Close(f))) => panic!("closed by the helper: {f:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error: {e}"),
                None => panic!("socket ended"),
            }
        }
    }

    /// The next message that is not an `update` or `credit` of a running write.
    pub async fn recv_reply(&mut self) -> ServerMessage {
        loop {
            match self.recv().await {
                ServerMessage::Update { .. } | ServerMessage::Credit { .. } => {}
                other => return other,
            }
        }
    }

    /// Waits for the helper to close the session; returns its last text
    /// message before the close and the close frame.
    pub async fn expect_close(&mut self) -> (Option<ServerMessage>, Option<CloseFrame>) {
        let mut last = None;
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("the helper did not close within {WAIT:?}"));
            match msg {
                Some(Ok(Message::Text(t))) => last = serde_json::from_str(t.as_str()).ok(),
                Some(Ok(Message::Close(f))) => return (last, f),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (last, None),
            }
        }
    }

    /// hello with version 1; returns the announced limits.
    pub async fn hello(&mut self) -> Limits {
        self.send(json!({"type": "hello", "versions": [1], "client": "webburn-tests"}))
            .await;
        match self.recv().await {
            ServerMessage::Welcome {
                version, limits, ..
            } => {
                assert_eq!(version, 1);
                limits
            }
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Sends `startWrite` for `data` (BytesPerSector as set, 2048 by default)
    /// with `extra` fields merged in.
    pub async fn start_write(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data_len: usize,
        extra: Value,
    ) {
        let mut msg = json!({
            "type": "startWrite",
            "writeId": write_id,
            "recorder": recorder,
            "bytesPerSector": self.bytes_per_sector,
            "startingBlockAddress": lba,
            "numberOfBlocks": data_len / self.bytes_per_sector,
            "totalBytes": data_len,
        });
        if let (Some(m), Value::Object(e)) = (msg.as_object_mut(), extra) {
            m.extend(e);
        }
        self.send(msg).await;
    }

    /// WriteSection through the protocol: startWrite, then data frames of at
    /// most `chunk` bytes, never past the credit, until the writeResult.
    pub async fn burn(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data: &[u8],
        chunk: usize,
    ) -> Burned {
        self.burn_until(write_id, recorder, lba, data, chunk, |_| false)
            .await
    }

    /// Like [`Client::burn`] with `extra` fields in `startWrite` (e.g. `disc`).
    pub async fn burn_with(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data: &[u8],
        extra: Value,
    ) -> Burned {
        self.burn_inner(write_id, recorder, lba, data, 256 * 1024, extra, |_| false)
            .await
    }

    /// An open-ended disc write (`disc.openEnd`): the section is `room`
    /// sectors from `lba`, the data (whole sectors) ends before it and
    /// `endOfData` says so.
    pub async fn burn_to_end(
        &mut self,
        write_id: u32,
        recorder: &str,
        (lba, room): (i32, usize),
        data: &[u8],
        disc: Value,
    ) -> Burned {
        let mut disc = disc;
        if let Value::Object(d) = &mut disc {
            d.insert("openEnd".into(), Value::Bool(true));
        }
        let room_bytes = room * self.bytes_per_sector;
        let extra = json!({ "numberOfBlocks": room, "totalBytes": room_bytes, "disc": disc });
        self.burn_inner(write_id, recorder, lba, data, 256 * 1024, extra, |_| false)
            .await
    }

    /// WriteSection through the protocol with `extra` fields in
    /// `startWrite` (e.g. `disc`, or `numberOfBlocks` and `totalBytes` of
    /// an open-ended section), data frames of at most `chunk` bytes.
    pub async fn burn_in_frames(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data: &[u8],
        chunk: usize,
        extra: Value,
    ) -> Burned {
        self.burn_inner(write_id, recorder, lba, data, chunk, extra, |_| false)
            .await
    }

    /// Like [`Client::burn`], but returns as soon as an update satisfies
    /// `stop` (its `result` is then a `pong` placeholder, the write still open).
    pub async fn burn_until(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data: &[u8],
        chunk: usize,
        stop: impl Fn(&WriteEngineEventArgs) -> bool,
    ) -> Burned {
        self.burn_inner(write_id, recorder, lba, data, chunk, json!({}), stop)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn burn_inner(
        &mut self,
        write_id: u32,
        recorder: &str,
        lba: i32,
        data: &[u8],
        chunk: usize,
        extra: Value,
        stop: impl Fn(&WriteEngineEventArgs) -> bool,
    ) -> Burned {
        let open_end = extra["disc"]["openEnd"] == Value::Bool(true);
        let mut ended = false;
        self.start_write(write_id, recorder, lba, data.len(), extra)
            .await;
        let mut granted = match self.recv().await {
            ServerMessage::WriteStarted {
                write_id: id,
                credit,
            } => {
                assert_eq!(id, write_id);
                credit
            }
            result @ ServerMessage::WriteResult { .. } => {
                return Burned {
                    result,
                    updates: Vec::new(),
                    data: Vec::new(),
                    sent: 0,
                    granted: 0,
                };
            }
            other => panic!("expected writeStarted, got {other:?}"),
        };
        let mut sent = 0u64;
        let (mut updates, mut flow) = (Vec::new(), Vec::new());
        loop {
            while sent < granted && (sent as usize) < data.len() {
                let n = chunk
                    .min((granted - sent) as usize)
                    .min(data.len() - sent as usize);
                self.send_frame(write_id, sent, &data[sent as usize..sent as usize + n])
                    .await;
                sent += n as u64;
            }
            if open_end && !ended && sent as usize == data.len() {
                ended = true;
                self.send(json!({"type": "endOfData", "writeId": write_id}))
                    .await;
            }
            match self.recv().await {
                ServerMessage::Credit {
                    write_id: id,
                    bytes,
                } if id == write_id => granted += bytes,
                ServerMessage::Update { args, data, .. } => {
                    let done = stop(&args);
                    updates.push(args);
                    flow.extend(data);
                    if done {
                        return Burned {
                            result: ServerMessage::Pong,
                            updates,
                            data: flow,
                            sent,
                            granted,
                        };
                    }
                }
                result @ ServerMessage::WriteResult { .. } => {
                    assert!(
                        open_end || granted <= data.len() as u64,
                        "credit past the end: {granted}"
                    );
                    return Burned {
                        result,
                        updates,
                        data: flow,
                        sent,
                        granted,
                    };
                }
                other => panic!("unexpected during a write: {other:?}"),
            }
        }
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
