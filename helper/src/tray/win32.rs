//! The tray on Windows: an icon in the notification area
//! (`Shell_NotifyIconW`) with the same tooltip and menu as on Linux, owned
//! by a hidden window whose message loop runs on a thread of its own. A
//! click opens the page; the right button (or the keyboard's menu key)
//! shows the menu.

use std::sync::Mutex;

use tokio::sync::mpsc::UnboundedSender;
use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, POINT, WPARAM};
use windows_sys::Win32::Graphics::Gdi::{CreateBitmap, DeleteObject};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::Shell::{
    NIF_ICON, NIF_MESSAGE, NIF_TIP, NIM_ADD, NIM_DELETE, NIM_MODIFY, NOTIFYICONDATAW,
    Shell_NotifyIconW,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    AppendMenuW, CreateIconIndirect, CreatePopupMenu, CreateWindowExW, DefWindowProcW, DestroyIcon,
    DestroyMenu, DestroyWindow, DispatchMessageW, GetCursorPos, GetMessageW, HICON, HMENU,
    ICONINFO, MF_GRAYED, MF_POPUP, MF_SEPARATOR, MF_STRING, MSG, PostMessageW, PostQuitMessage,
    RegisterClassW, SetForegroundWindow, TPM_RETURNCMD, TPM_RIGHTBUTTON, TrackPopupMenu,
    TranslateMessage, WM_APP, WM_CLOSE, WM_CONTEXTMENU, WM_DESTROY, WM_LBUTTONUP, WM_RBUTTONUP,
    WNDCLASSW,
};

use super::TrayError;
use super::icon::{self, Look};
use super::menu::{self, Action, Entry, Snapshot};

/// The icon's messages to its window.
const WM_TRAY: u32 = WM_APP + 1;
/// "The snapshot changed": the tooltip and icon are redrawn.
const WM_TRAY_UPDATE: u32 = WM_APP + 2;
/// Pixels of the icon's side (the notification area's small icon).
const ICON_SIZE: u32 = 16;

/// What the window procedure works with (one tray per process).
struct TrayState {
    snapshot: Snapshot,
    actions: UnboundedSender<Action>,
    icon: HICON,
}

// SAFETY: HICON is a handle the window's thread alone uses; the state moves
// between threads only inside the mutex.
#[allow(unsafe_code)]
unsafe impl Send for TrayState {}

static STATE: Mutex<Option<TrayState>> = Mutex::new(None);

fn with_state<T>(f: impl FnOnce(&mut TrayState) -> T) -> Option<T> {
    let mut guard = STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.as_mut().map(f)
}

/// `text` as NUL-terminated UTF-16.
fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Copies `text` into a fixed UTF-16 field, cut to fit, NUL-terminated.
fn fill(field: &mut [u16], text: &str) {
    let mut n = 0;
    for (slot, c) in field.iter_mut().zip(text.encode_utf16()) {
        *slot = c;
        n += 1;
    }
    let end = n.min(field.len() - 1);
    field[end] = 0;
}

/// The icon for `look`: the disc, from ARGB bytes to a 32-bit bitmap
/// (BGRA in memory) with an all-zero mask (the alpha channel decides).
fn make_icon(look: Look) -> HICON {
    let argb = icon::disc(ICON_SIZE, look);
    let bgra: Vec<u8> = argb
        .chunks_exact(4)
        .flat_map(|p| [p[3], p[2], p[1], p[0]])
        .collect();
    let mask = vec![0u8; (ICON_SIZE * ICON_SIZE / 8) as usize];
    let side = ICON_SIZE as i32;
    #[allow(unsafe_code)]
    // SAFETY: the bit arrays hold exactly side × side pixels at the depths
    // given and outlive the calls; the bitmaps are deleted once the icon has
    // copied them.
    unsafe {
        let color = CreateBitmap(side, side, 1, 32, bgra.as_ptr().cast());
        let mono = CreateBitmap(side, side, 1, 1, mask.as_ptr().cast());
        let info = ICONINFO {
            fIcon: 1,
            xHotspot: 0,
            yHotspot: 0,
            hbmMask: mono,
            hbmColor: color,
        };
        let icon = CreateIconIndirect(&raw const info);
        DeleteObject(color);
        DeleteObject(mono);
        icon
    }
}

fn look(s: &Snapshot) -> Look {
    if menu::needs_attention(s) {
        Look::Attention
    } else if s.drives.is_empty() {
        Look::Idle
    } else {
        Look::Busy
    }
}

/// The notification icon's data for `snapshot`.
fn icon_data(hwnd: HWND, snapshot: &Snapshot, icon: HICON) -> NOTIFYICONDATAW {
    let mut nid = NOTIFYICONDATAW {
        cbSize: std::mem::size_of::<NOTIFYICONDATAW>() as u32,
        hWnd: hwnd,
        uID: 1,
        uFlags: NIF_ICON | NIF_MESSAGE | NIF_TIP,
        uCallbackMessage: WM_TRAY,
        hIcon: icon,
        ..Default::default()
    };
    let (title, detail) = menu::tooltip(snapshot);
    let tip = if detail.is_empty() {
        title
    } else {
        format!("{title}\n{detail}")
    };
    fill(&mut nid.szTip, &tip);
    nid
}

/// Builds the popup menu for `entries`, numbering items into `items`.
fn build_menu(entries: &[Entry], items: &mut Vec<Action>) -> HMENU {
    #[allow(unsafe_code)]
    // SAFETY: creates an empty menu; the caller destroys it (with its submenus).
    let hmenu = unsafe { CreatePopupMenu() };
    for e in entries {
        let (flags, id, text) = match e {
            Entry::Label(t) => (MF_STRING | MF_GRAYED, 0, t.as_str()),
            Entry::Separator => (MF_SEPARATOR, 0, ""),
            Entry::Item(t, action) => {
                items.push(action.clone());
                (MF_STRING, items.len(), t.as_str())
            }
            Entry::Submenu(t, sub) => (MF_POPUP, build_menu(sub, items) as usize, t.as_str()),
        };
        let text = wide(text);
        #[allow(unsafe_code)]
        // SAFETY: `hmenu` is the menu made above; `text` is NUL-terminated
        // and copied by the call; a submenu's handle passes to its parent.
        unsafe {
            AppendMenuW(hmenu, flags, id, text.as_ptr());
        }
    }
    hmenu
}

/// Shows the menu at the pointer and carries out the chosen item.
fn show_menu(hwnd: HWND) {
    let Some(entries) = with_state(|s| menu::entries(&s.snapshot)) else {
        return;
    };
    let mut items = Vec::new();
    let hmenu = build_menu(&entries, &mut items);
    let mut at = POINT { x: 0, y: 0 };
    #[allow(unsafe_code)]
    // SAFETY: `hmenu` and `hwnd` are live; the window is brought to the
    // foreground first so the menu closes when the user clicks elsewhere.
    let chosen = unsafe {
        GetCursorPos(&raw mut at);
        SetForegroundWindow(hwnd);
        let chosen = TrackPopupMenu(
            hmenu,
            TPM_RETURNCMD | TPM_RIGHTBUTTON,
            at.x,
            at.y,
            0,
            hwnd,
            std::ptr::null(),
        );
        DestroyMenu(hmenu);
        chosen
    };
    let index = usize::try_from(chosen).unwrap_or(0);
    if let Some(action) = index.checked_sub(1).and_then(|i| items.get(i)).cloned() {
        with_state(|s| s.actions.send(action));
    }
}

fn redraw(hwnd: HWND) {
    with_state(|s| {
        let new_icon = make_icon(look(&s.snapshot));
        let nid = icon_data(hwnd, &s.snapshot, new_icon);
        #[allow(unsafe_code)]
        // SAFETY: `nid` is complete and names this window's icon; the old
        // icon is destroyed once the shell has the new one.
        unsafe {
            Shell_NotifyIconW(NIM_MODIFY, &raw const nid);
            DestroyIcon(s.icon);
        }
        s.icon = new_icon;
    });
}

#[allow(unsafe_code)]
unsafe extern "system" fn window_proc(
    hwnd: HWND,
    msg: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    match msg {
        WM_TRAY => {
            // The mouse message is in the low word of lparam.
            match (lparam & 0xFFFF) as u32 {
                WM_LBUTTONUP => {
                    with_state(|s| s.actions.send(Action::OpenPage));
                }
                WM_RBUTTONUP | WM_CONTEXTMENU => show_menu(hwnd),
                _ => {}
            }
            0
        }
        WM_TRAY_UPDATE => {
            redraw(hwnd);
            0
        }
        WM_CLOSE => {
            // SAFETY: this thread's own window.
            unsafe { DestroyWindow(hwnd) };
            0
        }
        WM_DESTROY => {
            with_state(|s| {
                let nid = icon_data(hwnd, &s.snapshot, s.icon);
                // SAFETY: removes this window's icon; then the icon is freed.
                unsafe {
                    Shell_NotifyIconW(NIM_DELETE, &raw const nid);
                    DestroyIcon(s.icon);
                }
            });
            // SAFETY: ends this thread's message loop.
            unsafe { PostQuitMessage(0) };
            0
        }
        // SAFETY: the default handling of every other message.
        _ => unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) },
    }
}

/// The running icon.
#[derive(Debug)]
pub(super) struct Handle {
    /// The window (a handle is an address; kept as a number to cross threads).
    hwnd: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Shows `snapshot`; `false` once the icon is gone.
    pub(super) fn update(&self, snapshot: Snapshot) -> bool {
        if with_state(|s| s.snapshot = snapshot).is_none() {
            return false;
        }
        #[allow(unsafe_code)]
        // SAFETY: posting to a window that is gone fails harmlessly.
        let posted = unsafe { PostMessageW(self.hwnd as HWND, WM_TRAY_UPDATE, 0, 0) };
        posted != 0
    }

    /// Removes the icon and ends its thread.
    pub(super) fn shutdown(mut self) {
        #[allow(unsafe_code)]
        // SAFETY: as in `update`.
        unsafe {
            PostMessageW(self.hwnd as HWND, WM_CLOSE, 0, 0);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Creates the hidden window and the icon on their own thread; `Err` says
/// why not (no desktop, no notification area).
pub(super) fn spawn(
    snapshot: Snapshot,
    actions: UnboundedSender<Action>,
) -> Result<Handle, TrayError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<usize, TrayError>>();
    let thread = std::thread::Builder::new()
        .name("tray".into())
        .spawn(move || run(snapshot, actions, &ready_tx))
        .map_err(|e| TrayError::Thread(e.to_string()))?;
    match ready_rx.recv() {
        Ok(Ok(hwnd)) => Ok(Handle {
            hwnd,
            thread: Some(thread),
        }),
        Ok(Err(why)) => {
            let _ = thread.join();
            Err(why)
        }
        Err(_) => Err(TrayError::Thread("it ended".into())),
    }
}

/// The tray thread: window, icon, message loop.
fn run(
    snapshot: Snapshot,
    actions: UnboundedSender<Action>,
    ready: &std::sync::mpsc::Sender<Result<usize, TrayError>>,
) {
    let class = wide("webburn-tray");
    let title = wide("webburn");
    #[allow(unsafe_code)]
    // SAFETY: the class and title strings outlive the calls; the window
    // procedure is a plain function; a null module is this program.
    let hwnd = unsafe {
        let instance = GetModuleHandleW(std::ptr::null());
        let wc = WNDCLASSW {
            lpfnWndProc: Some(window_proc),
            hInstance: instance,
            lpszClassName: class.as_ptr(),
            ..Default::default()
        };
        RegisterClassW(&raw const wc);
        CreateWindowExW(
            0,
            class.as_ptr(),
            title.as_ptr(),
            0,
            0,
            0,
            0,
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            instance,
            std::ptr::null(),
        )
    };
    if hwnd.is_null() {
        let _ = ready.send(Err(TrayError::NoHost(format!(
            "no window for the icon: {}",
            std::io::Error::last_os_error()
        ))));
        return;
    }
    let icon = make_icon(look(&snapshot));
    let nid = icon_data(hwnd, &snapshot, icon);
    #[allow(unsafe_code)]
    // SAFETY: `nid` names this window and a live icon.
    let added = unsafe { Shell_NotifyIconW(NIM_ADD, &raw const nid) };
    if added == 0 {
        #[allow(unsafe_code)]
        // SAFETY: this thread's own window and icon, no longer needed.
        unsafe {
            DestroyWindow(hwnd);
            DestroyIcon(icon);
        }
        let _ = ready.send(Err(TrayError::NoHost(
            "the notification area refused the icon".into(),
        )));
        return;
    }
    *STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(TrayState {
        snapshot,
        actions,
        icon,
    });
    let _ = ready.send(Ok(hwnd as usize));
    let mut msg = MSG::default();
    #[allow(unsafe_code)]
    // SAFETY: the standard message loop of this thread's window.
    unsafe {
        while GetMessageW(&raw mut msg, std::ptr::null_mut(), 0, 0) > 0 {
            TranslateMessage(&raw const msg);
            DispatchMessageW(&raw const msg);
        }
    }
    *STATE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
}
