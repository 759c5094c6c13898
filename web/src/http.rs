//! The helper's HTTP endpoints the library uses before it opens the socket:
//! `GET /v1/status` and pairing (`POST /v1/pair`, `GET /v1/pair/{id}`).

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};
use webburn_shared::http::{HelperStatus, PairAnswer};

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// Nothing answered (helper not running, or network access denied).
    Network(String),
    /// The helper answered with an error status or an unreadable body.
    Answer(String),
}

async fn request<T: DeserializeOwned>(method: &str, url: &str) -> Result<T, HttpError> {
    let init = RequestInit::new();
    init.set_method(method);
    let global = js_sys::global();
    let fetch = js_sys::Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| HttpError::Network("this environment has no fetch".into()))?;
    let promise = fetch
        .call2(&global, &JsValue::from_str(url), &init)
        .map_err(|e| HttpError::Network(describe(&e)))?;
    let resp: Response = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(|e| HttpError::Network(describe(&e)))?
        .dyn_into()
        .map_err(|_| HttpError::Answer("fetch did not give a Response".into()))?;
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if !resp.ok() {
        return Err(HttpError::Answer(format!(
            "{} {}: {}",
            resp.status(),
            resp.status_text(),
            text.trim()
        )));
    }
    serde_json::from_str(&text)
        .map_err(|e| HttpError::Answer(format!("unreadable answer {text:?}: {e}")))
}

/// A JS exception as text.
pub(crate) fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            js_sys::Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

fn with_token(url: String, token: Option<&str>) -> String {
    match token {
        Some(t) => format!("{url}?token={t}"),
        None => url,
    }
}

/// `GET /v1/status`.
pub(crate) async fn status(helper: &str, token: Option<&str>) -> Result<HelperStatus, HttpError> {
    request("GET", &with_token(format!("{helper}/v1/status"), token)).await
}

/// `POST /v1/pair`.
pub(crate) async fn ask_to_pair(helper: &str) -> Result<PairAnswer, HttpError> {
    request("POST", &format!("{helper}/v1/pair")).await
}

/// `GET /v1/pair/{id}`.
pub(crate) async fn pairing_status(helper: &str, id: &str) -> Result<PairAnswer, HttpError> {
    request("GET", &format!("{helper}/v1/pair/{id}")).await
}

/// The browser's answer on reaching the helper on this computer. Recent
/// Chromium (156 here) and Firefox (153) ask for `loopback-network` (the
/// helper listens on 127.0.0.1); the first Chromium versions with Local
/// Network Access had one permission, `local-network-access`, read only
/// where the newer name is unknown. `None`: no such permission here.
async fn loopback_permission() -> Option<String> {
    match permission_state("loopback-network").await {
        Some(state) => Some(state),
        None => permission_state("local-network-access").await,
    }
}

/// True when the browser says this page may not reach the helper.
pub(crate) async fn local_network_denied() -> bool {
    loopback_permission().await.is_some_and(|s| s == "denied")
}

/// True while the browser has not decided whether this page may reach the
/// helper (the permission reads `prompt`): a request it holds is waiting
/// for the person's answer.
pub(crate) async fn local_network_prompting() -> bool {
    loopback_permission().await.is_some_and(|s| s == "prompt")
}

/// The browser's answer for permission `name` (`granted`, `denied`,
/// `prompt`); `None` where the browser does not know the name.
async fn permission_state(name: &str) -> Option<String> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let permissions = js_sys::Reflect::get(&navigator, &"permissions".into()).ok()?;
    let query = js_sys::Reflect::get(&permissions, &"query".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let arg = js_sys::Object::new();
    js_sys::Reflect::set(&arg, &"name".into(), &name.into()).ok()?;
    let promise = query.call1(&permissions, &arg).ok()?;
    // Browsers reject a query for a permission they do not have.
    let status = JsFuture::from(js_sys::Promise::from(promise)).await.ok()?;
    js_sys::Reflect::get(&status, &"state".into())
        .ok()?
        .as_string()
}
