//! `webburn-helper pair`: approve, deny, list and revoke pairings of web
//! origins, in the data directory the running helper uses.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use webburn_shared::HResult;

use super::CliError;
use crate::state::pairing_store::normalize_origin;
use crate::state::pairing_store::{PairingError, PairingStore};

/// `pair` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PairCommand {
    /// Show waiting requests and paired origins.
    List,
    /// Approve the request showing CODE: its origin gets a token.
    Approve {
        /// The code the helper printed.
        code: String,
    },
    /// Refuse the request showing CODE.
    Deny {
        /// The code the helper printed.
        code: String,
    },
    /// Forget ORIGIN's token: its pages must pair again.
    Revoke {
        /// e.g. https://burn.example.com
        origin: String,
    },
}

fn failure(e: &PairingError) -> CliError {
    let h = match e {
        PairingError::NoSuchCode(_) => HResult::E_INVALIDARG,
        _ => HResult::E_FAIL,
    };
    CliError::new(h, e.to_string())
}

fn age(created: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let s = now.saturating_sub(created);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

pub(super) fn run(data_dir: &Path, cmd: &PairCommand) -> Result<(), CliError> {
    let store = PairingStore::new(data_dir);
    match cmd {
        PairCommand::List => {
            let (pending, paired) = store.list().map_err(|e| failure(&e))?;
            let waiting: Vec<_> = pending.iter().filter(|p| p.is_waiting()).collect();
            println!("waiting ({}):", waiting.len());
            for p in waiting {
                println!("  {}  {}  asked {}", p.code, p.origin, age(p.created));
            }
            println!("paired ({}):", paired.len());
            for p in &paired {
                println!("  {}  since {}", p.origin, age(p.created));
            }
        }
        PairCommand::Approve { code } => {
            let origin = store.approve(code).map_err(|e| failure(&e))?;
            println!("approved {origin}");
        }
        PairCommand::Deny { code } => {
            let origin = store.deny(code).map_err(|e| failure(&e))?;
            println!("refused {origin}");
        }
        PairCommand::Revoke { origin } => {
            let origin = normalize_origin(origin);
            if store.revoke(&origin).map_err(|e| failure(&e))? {
                println!("revoked {origin}");
            } else {
                return Err(CliError::new(
                    HResult::E_INVALIDARG,
                    format!("{origin} is not paired"),
                ));
            }
        }
    }
    Ok(())
}
