//! IWriteEngine2EventArgs (and, for DiscFormat2Data, its
//! IDiscFormat2DataEventArgs) for the page: the `update` event's `detail`,
//! and the same properties on the event itself.

use js_sys::Reflect;
use wasm_bindgen::prelude::{JsValue, wasm_bindgen};
use web_sys::{CustomEvent, CustomEventInit, EventTarget};
use webburn_shared::{DataEventArgs, WriteEngineEventArgs};

/// The progress of a write, as IWriteEngine2EventArgs gives it.
#[wasm_bindgen]
#[derive(Debug, Clone, Copy)]
pub struct WriteEngine2EventArgs {
    args: WriteEngineEventArgs,
    data: Option<DataEventArgs>,
}

#[wasm_bindgen]
impl WriteEngine2EventArgs {
    /// StartLba: the startingBlockAddress of the write.
    #[wasm_bindgen(getter, js_name = startLba)]
    pub fn start_lba(&self) -> i32 {
        self.args.start_lba
    }
    /// SectorCount: numberOfBlocks of the write.
    #[wasm_bindgen(getter, js_name = sectorCount)]
    pub fn sector_count(&self) -> i32 {
        self.args.sector_count
    }
    /// LastReadLba: the last sector taken from the data.
    #[wasm_bindgen(getter, js_name = lastReadLba)]
    pub fn last_read_lba(&self) -> i32 {
        self.args.last_read_lba
    }
    /// LastWrittenLba: the last sector the device accepted.
    #[wasm_bindgen(getter, js_name = lastWrittenLba)]
    pub fn last_written_lba(&self) -> i32 {
        self.args.last_written_lba
    }
    /// TotalSystemBuffer, bytes.
    #[wasm_bindgen(getter, js_name = totalSystemBuffer)]
    pub fn total_system_buffer(&self) -> i32 {
        self.args.total_system_buffer
    }
    /// UsedSystemBuffer, bytes.
    #[wasm_bindgen(getter, js_name = usedSystemBuffer)]
    pub fn used_system_buffer(&self) -> i32 {
        self.args.used_system_buffer
    }
    /// FreeSystemBuffer, bytes.
    #[wasm_bindgen(getter, js_name = freeSystemBuffer)]
    pub fn free_system_buffer(&self) -> i32 {
        self.args.free_system_buffer
    }
    /// Milliseconds since the write started (webburn addition).
    #[wasm_bindgen(getter, js_name = elapsedMs)]
    pub fn elapsed_ms(&self) -> f64 {
        self.args.elapsed_ms as f64
    }
    /// Bytes per second written over the last interval (webburn addition).
    #[wasm_bindgen(getter, js_name = currentBytesPerSecond)]
    pub fn current_bytes_per_second(&self) -> f64 {
        self.args.current_bytes_per_second as f64
    }
    /// The drive's buffer in bytes, from READ BUFFER CAPACITY; 0 if unknown
    /// (webburn addition).
    #[wasm_bindgen(getter, js_name = driveBufferTotal)]
    pub fn drive_buffer_total(&self) -> f64 {
        self.args.drive_buffer_total as f64
    }
    /// Bytes in the drive's buffer not yet recorded (webburn addition).
    #[wasm_bindgen(getter, js_name = driveBufferUsed)]
    pub fn drive_buffer_used(&self) -> f64 {
        self.args.drive_buffer_used as f64
    }
    /// (LastWrittenLba - StartLba + 1) / SectorCount, 0..1.
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> f64 {
        self.args.progress()
    }
    /// CurrentAction (IMAPI_FORMAT2_DATA_WRITE_ACTION); DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = currentAction)]
    pub fn current_action(&self) -> Option<i32> {
        self.data.map(|d| d.current_action.into())
    }
    /// ElapsedTime in seconds; DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = elapsedTime)]
    pub fn elapsed_time(&self) -> Option<i32> {
        self.data.map(|d| d.elapsed_time)
    }
    /// RemainingTime in seconds (-1 while unknown); DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = remainingTime)]
    pub fn remaining_time(&self) -> Option<i32> {
        self.data.map(|d| d.remaining_time)
    }
    /// TotalTime in seconds (-1 while unknown); DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = totalTime)]
    pub fn total_time(&self) -> Option<i32> {
        self.data.map(|d| d.total_time)
    }
    /// The write speed in force, sectors per second (-1 unknown); DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = writeSpeed)]
    pub fn write_speed(&self) -> Option<i32> {
        self.data.map(|d| d.write_speed)
    }
    /// The last sector read back and found equal; DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = lastVerifiedLba)]
    pub fn last_verified_lba(&self) -> Option<i32> {
        self.data.map(|d| d.last_verified_lba)
    }
    /// Read-back rate in bytes per second; DiscFormat2Data only.
    #[wasm_bindgen(getter, js_name = verifyBytesPerSecond)]
    pub fn verify_bytes_per_second(&self) -> Option<f64> {
        self.data.map(|d| d.verify_bytes_per_second as f64)
    }

    /// Event args from the helper's JSON form (for tests and tools).
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(json: &str) -> Result<WriteEngine2EventArgs, JsValue> {
        serde_json::from_str(json)
            .map(|args| WriteEngine2EventArgs { args, data: None })
            .map_err(|e| crate::error::invalid(&e.to_string()))
    }
}

impl From<WriteEngineEventArgs> for WriteEngine2EventArgs {
    fn from(args: WriteEngineEventArgs) -> Self {
        WriteEngine2EventArgs { args, data: None }
    }
}

/// Which recorder of a write an event is about: its index (0 for the
/// recorder, i for the i-th duplicate) and its id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct About<'a> {
    /// The target index.
    pub index: u32,
    /// The recorder id.
    pub id: &'a str,
}

/// Dispatches an `update` event on `target`: `detail` is the args object, and
/// the event itself carries the same properties and the recorder's
/// `recorderIndex` and `recorderId`.
pub(crate) fn dispatch_update(
    target: &EventTarget,
    args: WriteEngineEventArgs,
    data: Option<DataEventArgs>,
    about: About<'_>,
) {
    let detail = WriteEngine2EventArgs { args, data };
    let init = CustomEventInit::new();
    let fields: [(&str, f64); 12] = [
        ("startLba", f64::from(args.start_lba)),
        ("sectorCount", f64::from(args.sector_count)),
        ("lastReadLba", f64::from(args.last_read_lba)),
        ("lastWrittenLba", f64::from(args.last_written_lba)),
        ("totalSystemBuffer", f64::from(args.total_system_buffer)),
        ("usedSystemBuffer", f64::from(args.used_system_buffer)),
        ("freeSystemBuffer", f64::from(args.free_system_buffer)),
        ("elapsedMs", args.elapsed_ms as f64),
        (
            "currentBytesPerSecond",
            args.current_bytes_per_second as f64,
        ),
        ("driveBufferTotal", args.drive_buffer_total as f64),
        ("driveBufferUsed", args.drive_buffer_used as f64),
        ("progress", args.progress()),
    ];
    init.set_detail(&JsValue::from(detail));
    let Ok(event) = CustomEvent::new_with_event_init_dict("update", &init) else {
        return;
    };
    for (k, v) in fields {
        let _ = Reflect::set(&event, &k.into(), &v.into());
    }
    let _ = Reflect::set(&event, &"recorderIndex".into(), &about.index.into());
    let _ = Reflect::set(&event, &"recorderId".into(), &about.id.into());
    if let Some(d) = data {
        let extra: [(&str, f64); 7] = [
            ("currentAction", f64::from(i32::from(d.current_action))),
            ("elapsedTime", f64::from(d.elapsed_time)),
            ("remainingTime", f64::from(d.remaining_time)),
            ("totalTime", f64::from(d.total_time)),
            ("writeSpeed", f64::from(d.write_speed)),
            ("lastVerifiedLba", f64::from(d.last_verified_lba)),
            ("verifyBytesPerSecond", d.verify_bytes_per_second as f64),
        ];
        for (k, v) in extra {
            let _ = Reflect::set(&event, &k.into(), &v.into());
        }
    }
    let _ = target.dispatch_event(&event);
}

#[cfg(all(test, target_arch = "wasm32"))]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn update_events_carry_the_args_on_the_event_and_in_detail() {
        let target = EventTarget::new().unwrap();
        let seen: Rc<RefCell<Vec<web_sys::Event>>> = Rc::default();
        let sink = Rc::clone(&seen);
        let listener =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e| sink.borrow_mut().push(e));
        target
            .add_event_listener_with_callback("update", listener.as_ref().unchecked_ref())
            .unwrap();
        let args = WriteEngineEventArgs {
            start_lba: 10,
            sector_count: 4,
            last_written_lba: 11,
            ..Default::default()
        };
        let first = About {
            index: 0,
            id: "emulated:a",
        };
        dispatch_update(&target, args, None, first);
        let data = DataEventArgs {
            current_action: webburn_shared::WriteAction::Verifying,
            last_verified_lba: 11,
            ..Default::default()
        };
        let third = About {
            index: 2,
            id: "emulated:c",
        };
        dispatch_update(&target, args, Some(data), third);
        let events = seen.borrow();
        assert_eq!(events.len(), 2);
        for (e, (index, id)) in events
            .iter()
            .zip([(0.0, "emulated:a"), (2.0, "emulated:c")])
        {
            let get = |k: &str| Reflect::get(e, &k.into()).unwrap();
            assert_eq!(get("recorderIndex").as_f64(), Some(index));
            assert_eq!(get("recorderId").as_string().as_deref(), Some(id));
        }
        assert_eq!(
            Reflect::get(&events[0], &"currentAction".into()).unwrap(),
            JsValue::UNDEFINED
        );
        assert_eq!(
            Reflect::get(&events[1], &"currentAction".into())
                .unwrap()
                .as_f64(),
            Some(7.0)
        );
        let e = &events[0];
        assert_eq!(e.type_(), "update");
        assert_eq!(
            Reflect::get(e, &"lastWrittenLba".into()).unwrap().as_f64(),
            Some(11.0)
        );
        assert_eq!(
            Reflect::get(e, &"progress".into()).unwrap().as_f64(),
            Some(0.5)
        );
        let detail = e.unchecked_ref::<CustomEvent>().detail();
        assert_eq!(
            Reflect::get(&detail, &"startLba".into()).unwrap().as_f64(),
            Some(10.0)
        );
    }
}
