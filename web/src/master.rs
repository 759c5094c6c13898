//! DiscMaster2: the connection to the helper and its list of recorders
//! (IDiscMaster2's Count, Item and IsSupportedEnvironment).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;
use webburn_shared::HResult;
use webburn_shared::protocol::{ClientMessage, RecorderDescription, ServerMessage};

use crate::connection::Connection;
use crate::error::{hresult_error, invalid};
use crate::recorder::DiscRecorder2;

/// The helper's default address.
pub(crate) const DEFAULT_HELPER: &str = "http://127.0.0.1:47801";

/// The recorders of one helper (IDiscMaster2), and the connection to it.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct DiscMaster2 {
    connection: Connection,
    recorders: Rc<RefCell<Vec<RecorderDescription>>>,
}

#[wasm_bindgen]
impl DiscMaster2 {
    /// A master for the helper at `helper` (default `http://127.0.0.1:47801`;
    /// a page served by the helper passes `location.origin`). With
    /// `autoReconnect` (default true) a lost connection is tried again.
    #[wasm_bindgen(constructor)]
    pub fn new(
        helper: Option<String>,
        auto_reconnect: Option<bool>,
    ) -> Result<DiscMaster2, JsValue> {
        let helper = helper.unwrap_or_else(|| DEFAULT_HELPER.to_owned());
        if !(helper.starts_with("http://") || helper.starts_with("https://")) {
            return Err(invalid(&format!(
                "the helper address must start with http:// or https://, not {helper:?}"
            )));
        }
        Ok(DiscMaster2 {
            connection: Connection::new(&helper, auto_reconnect.unwrap_or(true))?,
            recorders: Rc::new(RefCell::new(Vec::new())),
        })
    }

    /// Connects (pairing first when the helper asks for it) and lists the
    /// recorders. Rejects with E_CONNECTION_REFUSED (helper not running),
    /// E_ACCESSDENIED (local network denied, or pairing refused).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self) -> Promise {
        let this = self.clone();
        future_to_promise(async move {
            this.connection.connect().await?;
            this.refresh_now().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Closes the connection (no reconnect).
    pub fn close(&self) {
        self.connection.close();
    }

    /// `idle`, `connecting`, `helperNotRunning`, `localNetworkPrompt`
    /// (the browser asks the person), `localNetworkDenied`,
    /// `pairingPending`, `pairingRefused`, `helperOutdated`,
    /// `notOpenedFromHelper` (the helper's own address, not opened from the
    /// helper), `connected` or `disconnected`.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> String {
        self.connection.state().as_str().to_owned()
    }

    /// The helper's address.
    #[wasm_bindgen(getter)]
    pub fn helper(&self) -> String {
        self.connection.helper()
    }

    /// The helper's version, once known.
    #[wasm_bindgen(getter, js_name = helperVersion)]
    pub fn helper_version(&self) -> Option<String> {
        self.connection.helper_version()
    }

    /// What to tell the person when the helper is too old for this page
    /// (`state` is `helperOutdated`): "Update the webburn helper (installed
    /// 0.1.0, this page needs 0.2.0 or newer)"; undefined otherwise.
    #[wasm_bindgen(getter, js_name = helperUpdate)]
    pub fn helper_update(&self) -> Option<String> {
        (self.connection.state() == crate::connection::State::HelperOutdated).then(|| {
            webburn_shared::compat::update_text(
                &self.connection.helper_version().unwrap_or_default(),
            )
        })
    }

    /// The features the helper lists (undefined until asked, or for a
    /// helper that lists none: it has the baseline).
    #[wasm_bindgen(getter, js_name = helperFeatures)]
    pub fn helper_features(&self) -> Option<Vec<String>> {
        self.connection.helper_features()
    }

    /// IsSupportedEnvironment: this browser has WebSocket, fetch and Blob.
    #[wasm_bindgen(getter, js_name = isSupportedEnvironment)]
    pub fn is_supported_environment(&self) -> bool {
        let g = js_sys::global();
        ["WebSocket", "fetch", "Blob"]
            .iter()
            .all(|k| Reflect::get(&g, &(*k).into()).is_ok_and(|v| !v.is_undefined()))
    }

    /// Count: recorders in the last list.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> u32 {
        self.recorders.borrow().len() as u32
    }

    /// Item(index): the unique id of a recorder in the last list.
    pub fn item(&self, index: u32) -> Result<String, JsValue> {
        self.recorders
            .borrow()
            .get(index as usize)
            .map(|r| r.id.clone())
            .ok_or_else(|| {
                invalid(&format!(
                    "index {index} is past the {} recorders",
                    self.count()
                ))
            })
    }

    /// The recorder with this unique id, from the last list.
    pub fn recorder(
        &self,
        #[wasm_bindgen(js_name = uniqueId)] unique_id: &str,
    ) -> Result<DiscRecorder2, JsValue> {
        self.recorders
            .borrow()
            .iter()
            .find(|r| r.id == unique_id)
            .map(|desc| DiscRecorder2 {
                desc: desc.clone(),
                connection: self.connection.clone(),
            })
            .ok_or_else(|| invalid(&format!("no recorder {unique_id:?}")))
    }

    /// Asks the helper again; resolves to every recorder (DiscRecorder2[]).
    #[wasm_bindgen(unchecked_return_type = "Promise<DiscRecorder2[]>")]
    pub fn recorders(&self) -> Promise {
        let this = self.clone();
        future_to_promise(async move {
            this.refresh_now().await?;
            let all: Array = this
                .recorders
                .borrow()
                .iter()
                .map(|desc| {
                    JsValue::from(DiscRecorder2 {
                        desc: desc.clone(),
                        connection: this.connection.clone(),
                    })
                })
                .collect();
            Ok(all.into())
        })
    }

    /// Listens for `statechange` events (`event.detail` is the new state)
    /// and `consentneeded` events (`event.detail` is `{writeId, act,
    /// recorderId, code}`: an erase, a read of a disc's files or a burn over
    /// files of this page waits until the person allows it on the helper,
    /// where the request shows `code`; it then goes on, or ends refused
    /// with `E_ACCESSDENIED`, `code: "consentRefused"`), and, where the
    /// helper tells of changes (`watchesChanges`), `recorderschanged` (the
    /// recorder list may read differently: call `recorders()`) and, on the
    /// helper's own page once it has listed them, `pairingschanged`.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MasterEvent")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: CustomEvent<any>) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.connection
            .events()
            .add_event_listener_with_callback(kind, listener)
    }

    /// Stops listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MasterEvent")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: CustomEvent<any>) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.connection
            .events()
            .remove_event_listener_with_callback(kind, listener)
    }

    /// The helper tells this page when its recorders (and, on its own page,
    /// the pairings) change: listen for `recorderschanged` and
    /// `pairingschanged` instead of asking again. False for an older helper.
    #[wasm_bindgen(getter, js_name = watchesChanges)]
    pub fn watches_changes(&self) -> bool {
        self.connection.watches()
    }

    /// The helper's own page only: waiting pairing requests, paired
    /// origins and device requests, `{pending: [{code, origin, ageSeconds}],
    /// paired: [{origin, ageSeconds}], devices: [{code, origin, device, large, ..}]}`.
    #[wasm_bindgen(js_name = listPairings, unchecked_return_type = "Promise<Pairings>")]
    pub fn list_pairings(&self) -> Promise {
        self.pairing(ClientMessage::ListPairings)
    }

    /// The helper's own page only: approve the request showing `code`.
    #[wasm_bindgen(js_name = approvePairing, unchecked_return_type = "Promise<Pairings>")]
    pub fn approve_pairing(&self, code: String) -> Promise {
        self.pairing(ClientMessage::ApprovePairing { code })
    }

    /// The helper's own page only: refuse the request showing `code`.
    #[wasm_bindgen(js_name = denyPairing, unchecked_return_type = "Promise<Pairings>")]
    pub fn deny_pairing(&self, code: String) -> Promise {
        self.pairing(ClientMessage::DenyPairing { code })
    }

    /// The helper's own page only: forget `origin`'s token.
    #[wasm_bindgen(js_name = revokePairing, unchecked_return_type = "Promise<Pairings>")]
    pub fn revoke_pairing(&self, origin: String) -> Promise {
        self.pairing(ClientMessage::RevokePairing { origin })
    }

    /// Asks the person at the computer to let this page write to a
    /// removable disk the helper found (a recorder whose `approval` is
    /// `needed`); resolves with the short code the helper shows beside the
    /// request. The recorder's `approval` says `asked` until the person
    /// decides (list again with `refresh`).
    #[wasm_bindgen(js_name = requestDevice, unchecked_return_type = "Promise<string>")]
    pub fn request_device(&self, recorder_id: String) -> Promise {
        self.pairing(ClientMessage::RequestDevice { recorder_id })
    }

    /// The helper's own page only: let the page of the device request
    /// showing `code` write to its disk; a disk over 256 GB needs
    /// `confirmLarge` (else `code` `needsConfirmation`).
    #[wasm_bindgen(js_name = approveDevice, unchecked_return_type = "Promise<Pairings>")]
    pub fn approve_device(&self, code: String, confirm_large: bool) -> Promise {
        self.pairing(ClientMessage::ApproveDevice {
            code,
            confirm_large,
        })
    }

    /// The helper's own page only: refuse the device request showing `code`.
    #[wasm_bindgen(js_name = denyDevice, unchecked_return_type = "Promise<Pairings>")]
    pub fn deny_device(&self, code: String) -> Promise {
        self.pairing(ClientMessage::DenyDevice { code })
    }
}

impl DiscMaster2 {
    async fn refresh_now(&self) -> Result<(), JsValue> {
        let list = self.connection.list_recorders().await?;
        *self.recorders.borrow_mut() = list;
        Ok(())
    }

    fn pairing(&self, msg: ClientMessage) -> Promise {
        let connection = self.connection.clone();
        future_to_promise(async move {
            match connection.pairing(&msg).await? {
                ServerMessage::Pairings {
                    pending,
                    paired,
                    devices,
                } => {
                    let out = Object::new();
                    Reflect::set(&out, &"pending".into(), &to_js(&pending)?)?;
                    Reflect::set(&out, &"paired".into(), &to_js(&paired)?)?;
                    Reflect::set(&out, &"devices".into(), &to_js(&devices)?)?;
                    Ok(out.into())
                }
                ServerMessage::DeviceRequested { code, .. } => Ok(code.into()),
                other => Err(hresult_error(
                    HResult::E_FAIL,
                    &format!("unexpected answer {other:?}"),
                )),
            }
        })
    }
}

/// A serde value as a plain JS value (through JSON text).
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text =
        serde_json::to_string(value).map_err(|e| hresult_error(HResult::E_FAIL, &e.to_string()))?;
    js_sys::JSON::parse(&text)
}
