//! `webburn-helperw`: the same program as `webburn-helper`, built for
//! Windows' GUI subsystem so that starting it at login (the Run value, the
//! Start menu) opens no console window beside the tray icon. Elsewhere it is
//! an ordinary twin.

#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    webburn_helper::cli::main()
}
