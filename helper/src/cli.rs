//! The `webburn-helper` command line: `serve` (the default), `pair`,
//! `recorders`, `burn`, `install`, `uninstall` and `status`.

mod burn;
mod files;
mod install;
mod instance;
mod open;
mod pair;
mod progress_line;
mod recorders;
mod serve;
mod trust;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use webburn_shared::HResult;

pub use burn::BurnArgs;
pub use pair::PairCommand;
pub use serve::{ServeArgs, resolve as resolve_serve_config};

/// webburn's native helper: burns files to discs and USB storage.
#[derive(Debug, Parser)]
#[command(
    name = "webburn-helper",
    version,
    about = "webburn's helper: lets the web pages you allow burn discs and write USB sticks and SD cards on this computer"
)]
pub struct Cli {
    /// Per-user data directory (default: $WEBBURN_DATA_DIR or the platform's data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The helper's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the page and the WebSocket on 127.0.0.1 and ::1 (the default).
    Serve(ServeArgs),
    /// Approve, deny, list or revoke web pages' pairings.
    #[command(subcommand)]
    Pair(PairCommand),
    /// List recorders: the default emulated one plus any named with --recorder.
    Recorders {
        /// Also list this recorder (repeatable), e.g. emulated:/tmp/disc.img,profile=dvd+r.
        #[arg(long = "recorder", value_name = "ID")]
        recorders: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Burn a file with IWriteEngine2's WriteSection.
    Burn(BurnArgs),
    /// Erase a CD-RW or DVD-RW (IDiscFormat2Erase): minimal by default.
    Erase {
        /// The recorder (default: the default emulated one).
        #[arg(long, value_name = "ID")]
        recorder: Option<String>,
        /// Blank the whole disc, not only what says what is on it (slower).
        #[arg(long)]
        full: bool,
    },
    /// Writes an image (ISO 9660 + Rock Ridge, Joliet, UDF) of files and
    /// folders to a file, for inspection or for another program.
    Image(files::ImageCommand),
    /// Start the helper with your session (systemd user unit or XDG autostart;
    /// LaunchAgent on macOS; the Run key on Windows).
    Install(install::InstallArgs),
    /// Remove what `install` added.
    Uninstall,
    /// Show whether the helper is installed and running.
    Status,
    /// Open the helper's own page (where sites and disks are allowed) in
    /// the browser: the link of the helper that runs, with its key.
    Open,
}

/// A failure the CLI reports: an HRESULT plus details.
#[derive(Debug)]
pub struct CliError {
    /// The HRESULT.
    pub hresult: HResult,
    /// What happened.
    pub detail: String,
}

impl CliError {
    /// A failure with an HRESULT and a detail.
    pub fn new(hresult: HResult, detail: impl Into<String>) -> Self {
        CliError {
            hresult,
            detail: detail.into(),
        }
    }

    /// Prints "webburn-helper: NAME (0x...): message" and the detail to stderr.
    pub fn report(&self) {
        eprintln!("webburn-helper: {}", self.hresult);
        if !self.detail.is_empty() {
            eprintln!("  {}", self.detail);
        }
    }
}

/// Logs to stderr with `WEBBURN_LOG` if set, else `filter`. A closed or
/// broken stderr loses the log but stops nothing (a launcher may close it).
pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEBBURN_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .try_init();
}

/// The data directory (`--data-dir`, else the default), made and checked
/// private (see `state::private`).
fn data_dir(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    use crate::state::private;
    let fail = |e: private::DataDirError| CliError::new(HResult::E_ACCESSDENIED, e.to_string());
    let dir = match given {
        Some(d) => d,
        None => private::default_dir().map_err(fail)?,
    };
    private::prepare(&dir).map_err(fail)?;
    Ok(dir)
}

/// Runs the command line; exit status 0 on success, 1 on a failure, 2 on bad usage.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = match data_dir(cli.data_dir.clone()) {
        Ok(dir) => dir,
        Err(e) => {
            e.report();
            return ExitCode::from(1);
        }
    };
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()));
    if !matches!(command, Command::Serve(_)) {
        init_logging("warn");
    }
    let result = match command {
        Command::Serve(args) => serve::run(&data_dir, &args),
        Command::Pair(cmd) => pair::run(&data_dir, &cmd),
        Command::Recorders { recorders, json } => recorders::run(&data_dir, &recorders, json),
        Command::Burn(args) => burn::run(&data_dir, &args),
        Command::Erase { recorder, full } => burn::erase(&data_dir, recorder, full),
        Command::Image(cmd) => files::run_image(&cmd),
        Command::Install(args) => install::install(&args, &data_dir),
        Command::Uninstall => install::uninstall(&data_dir),
        Command::Status => install::status(&data_dir),
        Command::Open => open::run(&data_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["webburn-helper"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["webburn-helper", "serve", "--port", "0"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Serve(a)) if a.port == Some(0)));
    }
}
