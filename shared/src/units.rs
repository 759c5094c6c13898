//! Parsing and printing of sizes, rates and durations given by people
//! (`16MiB`, `72MB/s`, `500ms`).

use std::time::Duration;

/// Why a size, rate or duration given by a person does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a number with a unit.
    #[error("'{0}' is not a size (e.g. 16MiB, 4GB, 65536)")]
    NotASize(String),
    /// A unit the parser does not know.
    #[error("unknown size unit '{unit}' in '{text}'")]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole text.
        text: String,
    },
    /// Not a size per second.
    #[error("'{0}' is not a rate (e.g. 72MB/s)")]
    NotARate(String),
    /// Not a number with ms, s or min.
    #[error("'{0}' is not a duration (e.g. 500ms, 3s)")]
    NotADuration(String),
    /// Negative, or too large to hold.
    #[error("'{0}' is out of range")]
    OutOfRange(String),
}

/// Lowercase hex of `bytes` (digests, tokens, keys).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Parses a byte size: a number with an optional unit B, kB, MB, GB, KiB, MiB, GiB
/// (decimal units are powers of 1000, binary ones of 1024).
pub fn parse_size(s: &str) -> Result<u64, UnitError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| UnitError::NotASize(s.to_owned()))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "kB" | "KB" => 1000,
        "M" | "MB" => 1000 * 1000,
        "G" | "GB" => 1000 * 1000 * 1000,
        "K" | "KiB" => 1024,
        "MiB" => 1024 * 1024,
        "GiB" => 1024 * 1024 * 1024,
        other => {
            return Err(UnitError::UnknownUnit {
                unit: other.to_owned(),
                text: s.to_owned(),
            });
        }
    };
    let bytes = value * mult as f64;
    if !bytes.is_finite() || !(0.0..=9.0e18).contains(&bytes) {
        return Err(UnitError::OutOfRange(s.to_owned()));
    }
    Ok(bytes.round() as u64)
}

/// Parses a rate such as `72MB/s` or `33000kB/s` into bytes per second.
pub fn parse_rate(s: &str) -> Result<u64, UnitError> {
    let size = s
        .strip_suffix("/s")
        .ok_or_else(|| UnitError::NotARate(s.to_owned()))?;
    parse_size(size)
}

/// Parses a duration: a number with ms, s or min.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let s = s.trim();
    let (num, mult_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("min") {
        (n, 60_000.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(UnitError::NotADuration(s.to_owned()));
    };
    let v: f64 = num
        .parse()
        .map_err(|_| UnitError::NotADuration(s.to_owned()))?;
    if !v.is_finite() || !(0.0..=1.0e9).contains(&v) {
        return Err(UnitError::OutOfRange(s.to_owned()));
    }
    Ok(Duration::from_secs_f64(v * mult_ms / 1000.0))
}

/// Formats bytes for people with binary units (`16.0 MiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("4GB"), Ok(4_000_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("lots"), Err(UnitError::NotASize("lots".into())));
        assert!(matches!(
            parse_size("3 parsecs"),
            Err(UnitError::UnknownUnit { unit, .. }) if unit == "parsecs"
        ));
        assert!(matches!(
            parse_size("99999999999GiB"),
            Err(UnitError::OutOfRange(_))
        ));
    }

    #[test]
    fn rates_and_durations() {
        assert_eq!(parse_rate("72MB/s"), Ok(72_000_000));
        assert_eq!(parse_rate("72MB"), Err(UnitError::NotARate("72MB".into())));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(
            parse_duration("3"),
            Err(UnitError::NotADuration("3".into()))
        );
        assert!(matches!(
            parse_duration("-1s"),
            Err(UnitError::NotADuration(_) | UnitError::OutOfRange(_))
        ));
    }

    #[test]
    fn formats() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(16 << 20), "16.0 MiB");
    }
}
