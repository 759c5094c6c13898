//! Kiosk mode (`serve --kiosk FILE`): a station locked to its own page, the
//! origins and the recorders its config names, with no pairing, and the
//! settings its page runs the burn loop with.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use webburn_shared::VerificationLevel;

use webburn_shared::disc::NotAValue;
use webburn_shared::units::{UnitError, parse_duration};

/// Why a `[kiosk]` table is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KioskError {
    /// A number outside what the key takes.
    #[error("kiosk {key} must be {min}..={max}, not {value}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// Its value.
        value: u64,
        /// The least it takes.
        min: u64,
        /// The most it takes.
        max: u64,
    },
    /// `verify` is not none, quick or full.
    #[error("kiosk verify: {0}")]
    Verify(#[from] NotAValue),
    /// `countdown` is not a duration.
    #[error("kiosk countdown: {0}")]
    Countdown(#[from] UnitError),
    /// `countdown` is over an hour.
    #[error("kiosk countdown '{0}' is over an hour")]
    CountdownTooLong(String),
}

/// `value` of `key` when it is within `min..=max`.
fn within(key: &'static str, value: u64, min: u64, max: u64) -> Result<u64, KioskError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(KioskError::OutOfRange {
            key,
            value,
            min,
            max,
        })
    }
}

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
    pub fn from_file(file: &KioskFile) -> Result<Self, KioskError> {
        let mut k = KioskSettings::default();
        if let Some(t) = &file.title {
            k.title = t.trim().chars().take(120).collect();
        }
        if let Some(c) = file.copies {
            within("copies", u64::from(c), 1, 99)?;
            k.copies = c;
        }
        if let Some(v) = &file.verify {
            k.verification = v.parse()?;
        }
        if let Some(e) = file.eject {
            k.eject = e;
        }
        if let Some(c) = &file.countdown {
            let d = parse_duration(c)?;
            if d > Duration::from_secs(3600) {
                return Err(KioskError::CountdownTooLong(c.clone()));
            }
            k.countdown_seconds = d.as_secs() as u32;
        }
        if let Some(f) = file.files {
            k.files = f;
        }
        if let Some(h) = file.history {
            within("history", h as u64, 1, 10_000)?;
            k.history_size = h;
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a refused case must be.
    type Expected = Box<dyn Fn(&KioskError) -> bool>;

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
        let out_of_range = |key: &'static str| move |e: &KioskError| matches!(e, KioskError::OutOfRange { key: k, .. } if *k == key);
        let cases: Vec<(&str, Expected)> = vec![
            ("copies = 0", Box::new(out_of_range("copies"))),
            (
                "verify = \"most\"",
                Box::new(|e| matches!(e, KioskError::Verify(_))),
            ),
            (
                "countdown = \"2h\"",
                Box::new(|e| matches!(e, KioskError::Countdown(_))),
            ),
            (
                "countdown = \"90min\"",
                Box::new(|e| matches!(e, KioskError::CountdownTooLong(_))),
            ),
            ("history = 0", Box::new(out_of_range("history"))),
        ];
        for (bad, expected) in cases {
            let file: KioskFile = toml::from_str(bad).unwrap();
            let e = KioskSettings::from_file(&file).unwrap_err();
            assert!(expected(&e), "{bad}: {e:?}");
        }
        assert!(toml::from_str::<KioskFile>("colour = 1").is_err());
    }
}
