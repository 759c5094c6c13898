//! The HTTP surface: the Host check on everything, the page, the WebSocket
//! (admitted or refused before the upgrade) and the pairing endpoints.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use webburn_shared::http::{self, PairAnswer, PairState};
use webburn_shared::protocol::WS_PATH;

use super::AppState;
use super::security::{self, Admission, Refusal};
use crate::session::{self, SessionContext};
use crate::state::pairing_store::normalize_origin;
use crate::state::pairing_store::{PairingError, Status};
use webburn_engine::EngineConfig;

type Shared = State<Arc<AppState>>;

/// The helper's routes.
pub(super) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(WS_PATH, get(websocket))
        .route("/v1/status", get(status).options(preflight))
        .route("/v1/pair", post(pair_request).options(preflight))
        .route("/v1/pair/{id}", get(pair_status).options(preflight))
        .route("/v1/history", get(history).options(preflight))
        .route("/own", get(own_page_key))
        .fallback(get(super::assets::serve))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            host_check,
        ))
        .with_state(state)
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, format!("{reason}\n")).into_response()
}

/// Refuses any request whose Host is not this helper on loopback (DNS
/// rebinding), and with 400 one that carries more than one Host header
/// (RFC 9112 section 3.2).
async fn host_check(State(st): Shared, req: Request, next: Next) -> Response {
    if req.headers().get_all(header::HOST).iter().count() > 1 {
        tracing::warn!(path = req.uri().path(), "refused: several Host headers");
        return refuse(StatusCode::BAD_REQUEST, "more than one Host header");
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if security::host_allowed(host, st.ports) {
        next.run(req).await
    } else {
        tracing::warn!(host = ?host, path = req.uri().path(), "refused: bad Host");
        refuse(StatusCode::FORBIDDEN, &Refusal::BadHost.to_string())
    }
}

fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
}

/// The Origin, or for a same-origin GET (browsers send no Origin with those)
/// the origin the Host names, when Fetch Metadata says the request is same-origin.
fn origin_or_same(headers: &HeaderMap) -> Option<String> {
    if let Some(o) = origin_of(headers) {
        return Some(o.to_owned());
    }
    let same = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "same-origin");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    same.then(|| host.map(|h| format!("http://{h}"))).flatten()
}

/// `NAME=` from a query string (tokens and keys are hex: no decoding).
fn query_value<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// `token=` from a query string.
fn token_of(query: Option<&str>) -> Option<&str> {
    query_value(query, "token")
}

fn cookies_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::COOKIE).and_then(|c| c.to_str().ok())
}

/// Decides admission on a blocking thread (the pairing file is read).
async fn decide(
    st: &Arc<AppState>,
    origin: Option<&str>,
    token: Option<&str>,
    cookies: Option<&str>,
) -> Result<Result<Admission, Refusal>, Response> {
    let (st, origin, token, cookies) = (
        Arc::clone(st),
        origin.map(str::to_owned),
        token.map(str::to_owned),
        cookies.map(str::to_owned),
    );
    tokio::task::spawn_blocking(move || {
        let creds = security::Credentials {
            origin: origin.as_deref(),
            token: token.as_deref(),
            cookies: cookies.as_deref(),
        };
        let admitted = security::admit(
            creds,
            &st.own_key,
            st.ports,
            &st.config.allowed_origins,
            &st.pairing,
        );
        match admitted {
            // A kiosk's browser opens the helper's page at boot, without
            // this run's key: the operator configured it, as an origin.
            Err(Refusal::OwnKeyMissing(_)) if st.config.kiosk.is_some() => {
                Ok(Admission::Configured)
            }
            // A kiosk knows only its own page and its configured origins.
            Ok(Admission::Paired) if st.config.kiosk.is_some() => Err(Refusal::NotPaired(
                normalize_origin(origin.as_deref().unwrap_or_default()),
            )),
            other => other,
        }
    })
    .await
    .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

/// GET /v1/status: lets a page tell "helper not running" from "not paired"
/// before it opens the WebSocket (browsers hide the upgrade's HTTP status).
async fn status(State(st): Shared, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let Some(origin) = origin_or_same(&headers) else {
        return refuse(StatusCode::FORBIDDEN, &Refusal::MissingOrigin.to_string());
    };
    let origin = origin.as_str();
    let admission = match decide(
        &st,
        Some(origin),
        token_of(query.as_deref()),
        cookies_of(&headers),
    )
    .await
    {
        Ok(Ok(Admission::Own)) => http::Admission::Own,
        Ok(Ok(Admission::Configured)) => http::Admission::Configured,
        Ok(Ok(Admission::Paired)) => http::Admission::Paired,
        Ok(Err(Refusal::BadToken(_))) => http::Admission::BadToken,
        Ok(Err(Refusal::OpaqueOrigin(_))) => http::Admission::OpaqueOrigin,
        Ok(Err(Refusal::OwnKeyMissing(_))) => http::Admission::OwnKeyMissing,
        Ok(Err(_)) => http::Admission::NotPaired,
        Err(failure) => return failure,
    };
    let status = http::HelperStatus {
        protocol: webburn_shared::protocol::PROTOCOL_VERSION,
        helper_version: env!("CARGO_PKG_VERSION").to_owned(),
        ws_path: WS_PATH.to_owned(),
        admission,
        features: Some(st.config.features.clone()),
    };
    let admitted = matches!(
        admission,
        http::Admission::Own | http::Admission::Configured | http::Admission::Paired
    );
    let mut body = json!(status);
    // A page not admitted learns what it needs to pair (the protocol, the
    // version and features it checks first), nothing of the station.
    if let Some(k) = st.config.kiosk.as_ref().filter(|_| admitted) {
        body["kiosk"] = json!(k);
    }
    cors(axum::Json(body).into_response(), origin)
}

/// GET /v1/history: kiosk mode's counters and recent discs, for the pages
/// it admits (404 outside kiosk mode).
async fn history(State(st): Shared, headers: HeaderMap) -> Response {
    let Some(origin) = origin_or_same(&headers) else {
        return refuse(StatusCode::FORBIDDEN, &Refusal::MissingOrigin.to_string());
    };
    let Some(history) = st.history.clone() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no history: the helper is not in kiosk mode",
        );
    };
    match decide(&st, Some(&origin), None, cookies_of(&headers)).await {
        Ok(Ok(_)) => {}
        Ok(Err(refusal)) => return refuse(StatusCode::FORBIDDEN, &refusal.to_string()),
        Err(failure) => return failure,
    }
    match tokio::task::spawn_blocking(move || history.view()).await {
        Ok(view) => cors(axum::Json(view).into_response(), &origin),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn websocket(
    State(st): Shared,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let origin = origin_of(&headers);
    let token = token_of(query.as_deref());
    let admission = match decide(&st, origin, token, cookies_of(&headers)).await {
        Ok(Ok(a)) => a,
        Ok(Err(refusal)) => {
            tracing::warn!(origin = ?origin, "refused: {refusal}");
            return refuse(StatusCode::FORBIDDEN, &refusal.to_string());
        }
        Err(failure) => return failure,
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let Ok(permit) = Arc::clone(&st.sessions).try_acquire_owned() else {
        tracing::warn!(origin = ?origin, "refused: too many sessions");
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("too many sessions (at most {})", st.config.max_sessions),
        );
    };
    let c = &st.config;
    let ctx = SessionContext {
        id: st.next_session.fetch_add(1, Ordering::Relaxed),
        origin: normalize_origin(origin.unwrap_or_default()),
        registry: Arc::clone(&st.registry),
        engine: EngineConfig {
            buffer_bytes: c.buffer_bytes,
            command_timeout: c.command_timeout,
            ..EngineConfig::default()
        },
        limits: c.limits(),
        features: c.features.clone(),
        idle_timeout: c.idle_timeout,
        own_page: admission == Admission::Own,
        // A paired session lives only as long as its pairing.
        pairing_token: (admission == Admission::Paired)
            .then(|| token.unwrap_or_default().to_owned()),
        pairing: st.pairing.clone(),
        history: st.history.clone(),
        activity: Arc::clone(&st.activity),
    };
    tracing::info!(session = ctx.id, origin = %ctx.origin, ?admission, "admitted");
    // The socket layer cuts off only messages far past the limits; the session
    // answers anything over them with an error first.
    let hard_cap = 2 * c.max_frame_bytes.max(c.max_message_bytes);
    upgrade
        .max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        .on_upgrade(move |socket| async move {
            session::run(socket, ctx).await;
            drop(permit);
        })
}

/// GET /own?key=KEY: the link the tray, `serve` and `webburn-helper open`
/// open. With this run's key it becomes the browser's own-page cookie
/// (HttpOnly: no script reads it; SameSite=Strict: no other site's request
/// carries it) and the page opens without the key in its address; any
/// other key is refused.
async fn own_page_key(
    State(st): Shared,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let presented = query_value(query.as_deref(), "key").unwrap_or_default();
    if !st.own_key.matches(presented) {
        tracing::warn!("refused: an own-page link with a wrong key");
        return refuse(
            StatusCode::FORBIDDEN,
            "this link is from an earlier run of the helper: open its page again from the tray icon or with `webburn-helper open`",
        );
    }
    // The port the browser asked: the cookie is the page's on that port.
    let port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .unwrap_or(st.ports.http);
    let secure = if Some(port) == st.ports.tls {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
        security::own_cookie(port),
        st.own_key.as_str()
    );
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// CORS headers that let a page of `origin` read the answer.
fn cors(mut resp: Response, origin: &str) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// Answers CORS preflights, including Chrome's Private Network Access one.
async fn preflight(headers: HeaderMap) -> Response {
    let Some(origin) = origin_of(&headers) else {
        return refuse(StatusCode::FORBIDDEN, &Refusal::MissingOrigin.to_string());
    };
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    if headers.contains_key("access-control-request-private-network") {
        h.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    cors(resp, origin)
}

fn pairing_failure(e: &PairingError) -> Response {
    let status = match e {
        PairingError::TooMany | PairingError::TooManyForSite(_) => StatusCode::TOO_MANY_REQUESTS,
        // Answered as a refusal before it gets here.
        PairingError::RecentlyRefused(_) => StatusCode::FORBIDDEN,
        PairingError::NoSuchCode(_) => StatusCode::NOT_FOUND,
        PairingError::NoRandomness(_) | PairingError::Store { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    refuse(status, &e.to_string())
}

/// POST /v1/pair: a page asks to pair. The code goes to the helper's console
/// only; the page gets an id to poll.
async fn pair_request(State(st): Shared, headers: HeaderMap) -> Response {
    let Some(raw) = origin_of(&headers) else {
        return refuse(StatusCode::FORBIDDEN, &Refusal::MissingOrigin.to_string());
    };
    let origin = normalize_origin(raw);
    if !security::nameable_origin(&origin) {
        let why = Refusal::OpaqueOrigin(origin).to_string();
        return refuse(StatusCode::FORBIDDEN, &why);
    }
    let trusted = security::own_origins(st.ports).contains(&origin)
        || st.config.allowed_origins.contains(&origin);
    if trusted {
        return cors(
            axum::Json(PairAnswer::only(PairState::NotNeeded)).into_response(),
            raw,
        );
    }
    if st.config.kiosk.is_some() {
        let why =
            format!("kiosk mode: this helper pairs with no site ({origin} is not configured)");
        return cors(refuse(StatusCode::FORBIDDEN, &why), raw);
    }
    if !security::pairable(&origin, st.config.pair_http) {
        let why = format!(
            "{origin} is not https: anyone on its network could act as it; the helper pairs only with https sites (and loopback pages)"
        );
        return cors(refuse(StatusCode::FORBIDDEN, &why), raw);
    }
    let result = {
        let (st, origin) = (Arc::clone(&st), origin.clone());
        tokio::task::spawn_blocking(move || st.pairing.request(&origin)).await
    };
    let resp = match result {
        Ok(Ok((p, new))) => {
            if new {
                announce(&p.origin, &p.code);
            }
            let body = PairAnswer {
                id: Some(p.id),
                expires_in_seconds: Some(crate::state::pairing_store::REQUEST_TTL.as_secs()),
                ..PairAnswer::only(PairState::Pending)
            };
            (StatusCode::ACCEPTED, axum::Json(body)).into_response()
        }
        // Refused a short while ago: told so at once, nobody is asked.
        Ok(Err(PairingError::RecentlyRefused(_))) => {
            axum::Json(PairAnswer::only(PairState::Denied)).into_response()
        }
        Ok(Err(e)) => pairing_failure(&e),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    cors(resp, raw)
}

/// Shows a new pairing code on the console and in the log (a closed
/// console is no error: the log and the tray have it too).
fn announce(origin: &str, code: &str) {
    use std::io::Write as _;
    tracing::warn!(%origin, %code, "pairing requested");
    let _ = writeln!(
        std::io::stderr(),
        "\nwebburn: the page {origin} asks to use your recorders.\n  \
         If you opened it, approve with:  webburn-helper pair approve {code}\n  \
         otherwise refuse with:           webburn-helper pair deny {code}\n"
    );
}

/// GET /v1/pair/{id}: where the page's request stands; an approval carries
/// the token, handed out this once.
async fn pair_status(State(st): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let Some(raw) = origin_of(&headers) else {
        return refuse(StatusCode::FORBIDDEN, &Refusal::MissingOrigin.to_string());
    };
    let origin = normalize_origin(raw);
    let result = {
        let st = Arc::clone(&st);
        tokio::task::spawn_blocking(move || st.pairing.status(&id, &origin)).await
    };
    let resp = match result {
        Ok(Ok(status)) => {
            let body = match status {
                Status::Pending => PairAnswer::only(PairState::Pending),
                Status::Approved(token) => PairAnswer {
                    token: Some(token),
                    ..PairAnswer::only(PairState::Approved)
                },
                Status::Denied => PairAnswer::only(PairState::Denied),
                Status::Unknown => PairAnswer::only(PairState::Unknown),
            };
            axum::Json(body).into_response()
        }
        Ok(Err(e)) => pairing_failure(&e),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    cors(resp, raw)
}
