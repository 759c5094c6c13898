//! The `webburn-helper` command line: `recorders` and `burn`.

mod burn;
mod progress_line;
mod recorders;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use webburn_shared::HResult;

pub use burn::BurnArgs;

/// webburn's native helper: burns files to discs and USB storage.
#[derive(Debug, Parser)]
#[command(name = "webburn-helper", version, about)]
pub struct Cli {
    /// Per-user data directory (default: $WEBBURN_DATA_DIR or the platform's data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The helper's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
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

/// Runs the command line; exit status 0 on success, 1 on a failure, 2 on bad usage.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(crate::devices::data_dir);
    let result = match cli.command {
        Command::Recorders { recorders, json } => recorders::run(&data_dir, &recorders, json),
        Command::Burn(args) => burn::run(&data_dir, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            e.report();
            ExitCode::from(1)
        }
    }
}
