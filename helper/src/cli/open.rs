//! `webburn-helper open`: opens the helper's own page in the person's
//! browser, with the key of the helper that runs (see `server::security`'s
//! `OwnKey`): `serve` leaves its link in the data directory, readable by
//! this account alone.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use webburn_shared::HResult;

use super::CliError;

/// Where `serve` leaves its own-page link.
pub(super) fn link_file(data_dir: &Path) -> PathBuf {
    data_dir.join("own-page.url")
}

pub(super) fn run(data_dir: &Path) -> Result<(), CliError> {
    let not_running = || {
        CliError::new(
            HResult::E_FAIL,
            format!(
                "no helper runs for {}: start it with `webburn-helper serve`",
                data_dir.display()
            ),
        )
    };
    if super::instance::running(data_dir).is_none() {
        return Err(not_running());
    }
    let link = std::fs::read_to_string(link_file(data_dir)).map_err(|_| not_running())?;
    let link = link.trim();
    // A launcher without a console may have closed stdout: the link is
    // opened all the same.
    let _ = writeln!(std::io::stdout(), "{link}");
    let (program, args) = crate::tray::menu::open_command(std::env::consts::OS, link);
    let opened = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match opened {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(CliError::new(
            HResult::E_FAIL,
            format!("{program} could not open the page ({s}): open the link above yourself"),
        )),
        Err(e) => Err(CliError::new(
            HResult::E_FAIL,
            format!("cannot run {program} ({e}): open the link above yourself"),
        )),
    }
}
