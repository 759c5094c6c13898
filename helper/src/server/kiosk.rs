//! Kiosk mode (`serve --kiosk FILE`): a station locked to its own page, the
//! origins and the recorders its config names, with no pairing, and the
//! settings its page runs the burn loop with.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use webburn_shared::VerificationLevel;

use crate::units::parse_duration;

/// The `[kiosk]` table of a config file (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KioskFile {
    /// Shown at the top of the kiosk page.
    pub title: Option<String>,
    /// Copies per drive, burned one after another (1..=99).
    pub copies: Option<u32>,
    /// Read-back after each burn: none, quick or full.
    pub verify: Option<String>,
    /// Eject each disc when it is done.
    pub eject: Option<bool>,
    /// Time between copies to change discs, e.g. `15s`.
    pub countdown: Option<String>,
    /// How many discs the history keeps (1..=10000).
    pub history: Option<usize>,
    /// Burn the customer's files and folders as a disc every computer
    /// opens (a photo kiosk), instead of one disc image.
    pub files: Option<bool>,
}

/// The kiosk settings in force; `/v1/status` hands them to the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KioskSettings {
    /// Page title.
    pub title: String,
    /// Copies per drive.
    pub copies: u32,
    /// BurnVerificationLevel of every burn.
    pub verification: VerificationLevel,
    /// Eject when done.
    pub eject: bool,
    /// Seconds between copies.
    pub countdown_seconds: u32,
    /// Discs the history keeps.
    pub history_size: usize,
    /// The page takes files and folders and burns them as a file system.
    pub files: bool,
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            title: "Disc station".into(),
            copies: 1,
            verification: VerificationLevel::Full,
            eject: true,
            countdown_seconds: 15,
            history_size: 200,
            files: false,
        }
    }
}

impl KioskSettings {
    /// The defaults with `file`'s keys applied.
    pub fn from_file(file: &KioskFile) -> Result<Self, String> {
        let mut k = KioskSettings::default();
        if let Some(t) = &file.title {
            k.title = t.trim().chars().take(120).collect();
        }
        if let Some(c) = file.copies {
            if !(1..=99).contains(&c) {
                return Err(format!("kiosk copies must be 1..=99, not {c}"));
            }
            k.copies = c;
        }
        if let Some(v) = &file.verify {
            k.verification = v.parse().map_err(|e| format!("kiosk verify: {e}"))?;
        }
        if let Some(e) = file.eject {
            k.eject = e;
        }
        if let Some(c) = &file.countdown {
            let d = parse_duration(c).map_err(|e| format!("kiosk countdown: {e}"))?;
            if d > Duration::from_secs(3600) {
                return Err(format!("kiosk countdown '{c}' is over an hour"));
            }
            k.countdown_seconds = d.as_secs() as u32;
        }
        if let Some(f) = file.files {
            k.files = f;
        }
        if let Some(h) = file.history {
            if !(1..=10_000).contains(&h) {
                return Err(format!("kiosk history must be 1..=10000, not {h}"));
            }
            k.history_size = h;
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_apply_over_the_defaults_and_bad_values_are_named() {
        let file: KioskFile = toml::from_str(
            r#"
            title = "Photo CD"
            copies = 3
            verify = "quick"
            eject = false
            countdown = "1min"
            history = 50
            "#,
        )
        .unwrap();
        let k = KioskSettings::from_file(&file).unwrap();
        assert_eq!(k.title, "Photo CD");
        assert_eq!(k.copies, 3);
        assert_eq!(k.verification, VerificationLevel::Quick);
        assert!(!k.eject);
        assert_eq!((k.countdown_seconds, k.history_size), (60, 50));
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(json["countdownSeconds"], 60);
        assert_eq!(json["verification"], 1);
        for (bad, says) in [
            ("copies = 0", "copies"),
            ("verify = \"most\"", "verify"),
            ("countdown = \"2h\"", "countdown"),
            ("countdown = \"90min\"", "countdown"),
            ("history = 0", "history"),
        ] {
            let file: KioskFile = toml::from_str(bad).unwrap();
            let e = KioskSettings::from_file(&file).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(toml::from_str::<KioskFile>("colour = 1").is_err());
    }
}
