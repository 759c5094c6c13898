//! The tray on Linux desktops: a StatusNotifierItem (with its DBusMenu) on
//! the session bus, shown by the desktop's tray host.

use ksni::TrayMethods;
use tokio::sync::mpsc::UnboundedSender;

use super::icon::{self, Look};
use super::menu::{self, Action, Entry, Snapshot};

/// Pixels of the icon's side.
const ICON_SIZE: u32 = 32;

/// The item the tray host shows.
#[derive(Debug)]
pub(super) struct TrayItem {
    /// What it shows now.
    pub snapshot: Snapshot,
    actions: UnboundedSender<Action>,
}

fn pixmap(look: Look) -> Vec<ksni::Icon> {
    vec![ksni::Icon {
        width: ICON_SIZE as i32,
        height: ICON_SIZE as i32,
        data: icon::disc(ICON_SIZE, look),
    }]
}

fn convert(entries: Vec<Entry>) -> Vec<ksni::MenuItem<TrayItem>> {
    use ksni::menu::{StandardItem, SubMenu};
    entries
        .into_iter()
        .map(|e| match e {
            Entry::Label(label) => StandardItem {
                label,
                enabled: false,
                ..Default::default()
            }
            .into(),
            Entry::Separator => ksni::MenuItem::Separator,
            Entry::Item(label, action) => StandardItem {
                label,
                activate: Box::new(move |tray: &mut TrayItem| {
                    // The helper's loop carries it out; a closed loop means it is stopping.
                    let _ = tray.actions.send(action.clone());
                }),
                ..Default::default()
            }
            .into(),
            Entry::Submenu(label, entries) => SubMenu {
                label,
                submenu: convert(entries),
                ..Default::default()
            }
            .into(),
        })
        .collect()
}

impl ksni::Tray for TrayItem {
    fn id(&self) -> String {
        "webburn-helper".into()
    }

    fn title(&self) -> String {
        "webburn".into()
    }

    fn status(&self) -> ksni::Status {
        if menu::needs_attention(&self.snapshot) {
            ksni::Status::NeedsAttention
        } else {
            ksni::Status::Active
        }
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        pixmap(if self.snapshot.drives.is_empty() {
            Look::Idle
        } else {
            Look::Busy
        })
    }

    fn attention_icon_pixmap(&self) -> Vec<ksni::Icon> {
        pixmap(Look::Attention)
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        let (title, description) = menu::tooltip(&self.snapshot);
        ksni::ToolTip {
            title,
            description,
            ..Default::default()
        }
    }

    /// A click on the icon opens the page.
    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.actions.send(Action::OpenPage);
    }

    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        convert(menu::entries(&self.snapshot))
    }
}

/// Shows the item; `Err` says why not (no session bus, no tray host).
pub(super) async fn spawn(
    snapshot: Snapshot,
    actions: UnboundedSender<Action>,
) -> Result<ksni::Handle<TrayItem>, super::TrayError> {
    TrayItem { snapshot, actions }
        .spawn()
        .await
        .map_err(|e| super::TrayError::NoHost(e.to_string()))
}
