//! DiscFormat2Erase: IDiscFormat2Erase's EraseMedia, run by the helper
//! (`eraseDisc`), with its `update` events (elapsed and expected seconds).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};
use webburn_shared::protocol::{ClientMessage, ServerMessage};
use webburn_shared::{HResult, compat, physical_media_type};

use crate::error::hresult_error;
use crate::recorder::DiscRecorder2;

/// IDiscFormat2Erase: blanks a CD-RW or DVD-RW so it can be burned again
/// as a blank disc. A DVD+RW or BD-RE needs no erase (a burn overwrites it:
/// E_IMAPI_ERASE_MEDIA_IS_NOT_SUPPORTED); write-once media cannot be
/// erased (E_IMAPI_ERASE_MEDIA_IS_NOT_ERASABLE).
#[wasm_bindgen]
#[derive(Debug)]
pub struct DiscFormat2Erase {
    recorder: RefCell<Option<DiscRecorder2>>,
    full: Cell<bool>,
    client_name: RefCell<String>,
    running: Rc<Cell<bool>>,
    events: EventTarget,
}

#[wasm_bindgen]
impl DiscFormat2Erase {
    /// An eraser with no recorder and a quick (minimal) erase.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<DiscFormat2Erase, JsValue> {
        Ok(DiscFormat2Erase {
            recorder: RefCell::new(None),
            full: Cell::new(false),
            client_name: RefCell::new(String::new()),
            running: Rc::new(Cell::new(false)),
            events: EventTarget::new()?,
        })
    }

    fn settable(&self) -> Result<(), JsValue> {
        if self.running.get() {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "settings cannot change while an erase runs",
            ));
        }
        Ok(())
    }

    /// Recorder.
    #[wasm_bindgen(getter)]
    pub fn recorder(&self) -> Option<DiscRecorder2> {
        self.recorder.borrow().clone()
    }

    /// Sets Recorder.
    #[wasm_bindgen(setter)]
    pub fn set_recorder(&self, recorder: &DiscRecorder2) -> Result<(), JsValue> {
        self.settable()?;
        *self.recorder.borrow_mut() = Some(recorder.clone());
        Ok(())
    }

    /// FullErase: blank every sector (minutes to an hour) instead of only
    /// the parts that say what is on the disc (about a minute).
    #[wasm_bindgen(getter, js_name = fullErase)]
    pub fn full_erase(&self) -> bool {
        self.full.get()
    }

    /// Sets FullErase.
    #[wasm_bindgen(setter, js_name = fullErase)]
    pub fn set_full_erase(&self, on: bool) -> Result<(), JsValue> {
        self.settable()?;
        self.full.set(on);
        Ok(())
    }

    /// CurrentPhysicalMediaType: IMAPI_MEDIA_PHYSICAL_TYPE of the disc in
    /// the recorder when it was listed (3 CD-RW, 10 DVD-RW, 0 unknown).
    #[wasm_bindgen(getter, js_name = currentPhysicalMediaType)]
    pub fn current_physical_media_type(&self) -> u32 {
        let profile = self
            .recorder
            .borrow()
            .as_ref()
            .and_then(|r| r.desc.current_profiles.first().copied());
        physical_media_type(profile)
    }

    /// ClientName: the application's name.
    #[wasm_bindgen(getter, js_name = clientName)]
    pub fn client_name(&self) -> String {
        self.client_name.borrow().clone()
    }

    /// Sets ClientName.
    #[wasm_bindgen(setter, js_name = clientName)]
    pub fn set_client_name(&self, name: String) {
        *self.client_name.borrow_mut() = name;
    }

    /// EraseMedia: blanks the disc; resolves when the drive is done,
    /// rejects with an Error carrying `hresult`, `name`, `detail` and
    /// `sense`. An erase cannot be cancelled once the drive has begun.
    #[wasm_bindgen(js_name = eraseMedia, unchecked_return_type = "Promise<void>")]
    pub fn erase_media(&self) -> Promise {
        match self.begin() {
            Ok(run) => run,
            Err(e) => Promise::reject(&e),
        }
    }

    /// Listens for `update` events: `elapsedSeconds` and
    /// `estimatedTotalSeconds` (0 while the drive has not said).
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: DiscFormat2EraseUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.events.add_event_listener_with_callback(kind, listener)
    }

    /// Stops listening.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "\"update\"")] kind: &str,
        #[wasm_bindgen(unchecked_param_type = "(event: DiscFormat2EraseUpdateEvent) => void")]
        listener: &Function,
    ) -> Result<(), JsValue> {
        self.events
            .remove_event_listener_with_callback(kind, listener)
    }
}

impl DiscFormat2Erase {
    /// IMAPI's checks, then `eraseDisc`; the promise follows the helper's
    /// messages to the result.
    fn begin(&self) -> Result<Promise, JsValue> {
        if self.running.get() {
            return Err(hresult_error(
                HResult::E_IMAPI_DF2DATA_WRITE_IN_PROGRESS,
                "an erase of this object is running",
            ));
        }
        let recorder = self.recorder.borrow().clone().ok_or_else(|| {
            hresult_error(
                HResult::E_IMAPI_ERASE_RECORDER_NOT_SUPPORTED,
                "set the recorder first",
            )
        })?;
        self.running.set(true);
        let (running, events, full) = (
            Rc::clone(&self.running),
            self.events.clone(),
            self.full.get(),
        );
        Ok(future_to_promise(async move {
            let id = recorder.desc.id.clone();
            let erase = |write_id| ClientMessage::EraseDisc {
                write_id,
                recorder: id,
                full,
            };
            let on = |msg| {
                if let ServerMessage::EraseUpdate {
                    elapsed_seconds,
                    estimated_total_seconds,
                    ..
                } = msg
                {
                    dispatch(&events, elapsed_seconds, estimated_total_seconds);
                }
            };
            let result = recorder
                .connection
                .request((compat::ERASE, "erase discs"), erase, on)
                .await;
            running.set(false);
            result.map(|()| JsValue::UNDEFINED)
        }))
    }
}

/// The `update` event: the two figures on the event and in `detail`.
fn dispatch(target: &EventTarget, elapsed: u32, estimated: u32) {
    let detail = js_sys::Object::new();
    let fields = [
        ("elapsedSeconds", elapsed),
        ("estimatedTotalSeconds", estimated),
    ];
    for (k, v) in fields {
        let _ = Reflect::set(&detail, &k.into(), &v.into());
    }
    let init = CustomEventInit::new();
    init.set_detail(&detail);
    let Ok(event) = CustomEvent::new_with_event_init_dict("update", &init) else {
        return;
    };
    for (k, v) in fields {
        let _ = Reflect::set(&event, &k.into(), &v.into());
    }
    let _ = target.dispatch_event(&event);
}
