//! The `webburn-helper` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    webburn_helper::cli::main()
}
