//! Timestamps in the three forms the image records: ECMA-119's 7-byte
//! directory record date (9.1.5) and 17-byte volume descriptor date (8.4.26.1),
//! and ECMA-167's 12-byte timestamp (1/7.3). All in UTC.

/// A moment as calendar fields (UTC), from seconds since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    /// Full year, e.g. 2026.
    pub year: i64,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
}

fn small(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(0)
}

impl Civil {
    /// The calendar date of `unix` seconds (days-from-civil inverted, proleptic Gregorian).
    pub(crate) fn from_unix(unix: i64) -> Civil {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month: small(month),
            day: small(day),
            hour: small(secs / 3600),
            minute: small(secs % 3600 / 60),
            second: small(secs % 60),
        }
    }

    /// Seconds since 1970-01-01 UTC (days-from-civil, proleptic Gregorian).
    pub(crate) fn to_unix(self) -> i64 {
        let year = self.year - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// Reads an ECMA-119 9.1.5 record date, its GMT offset applied.
    pub(crate) fn unix_of_iso_record(d: [u8; 7]) -> i64 {
        let civil = Civil {
            year: 1900 + i64::from(d[0]),
            month: d[1].clamp(1, 12),
            day: d[2].clamp(1, 31),
            hour: d[3],
            minute: d[4],
            second: d[5],
        };
        // The offset counts 15-minute units east of GMT.
        civil.to_unix() - i64::from(d[6] as i8) * 15 * 60
    }

    /// ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second,
    /// offset from GMT in 15-minute units (0). Years outside 1900..=2155 are clamped.
    pub(crate) fn iso_record(self) -> [u8; 7] {
        let years = u8::try_from((self.year - 1900).clamp(0, 255)).unwrap_or(0);
        [
            years,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            0,
        ]
    }

    /// ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" in digits, then the GMT offset (0).
    pub(crate) fn iso_descriptor(self) -> [u8; 17] {
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}00",
            self.year.clamp(1, 9999),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second
        );
        let mut out = [0u8; 17];
        out[..16].copy_from_slice(&text.as_bytes()[..16]);
        out
    }

    /// ECMA-167 1/7.3: type 1 (local time) with offset 0, year, month, day,
    /// hour, minute, second, and zero fractions.
    pub(crate) fn udf(self) -> [u8; 12] {
        let mut out = [0u8; 12];
        // Type 1 in the top 4 bits, timezone offset 0 minutes in the low 12.
        out[0..2].copy_from_slice(&0x1000u16.to_le_bytes());
        let year = i16::try_from(self.year.clamp(1, 9999)).unwrap_or(1970);
        out[2..4].copy_from_slice(&year.to_le_bytes());
        out[4] = self.month;
        out[5] = self.day;
        out[6] = self.hour;
        out[7] = self.minute;
        out[8] = self.second;
        out
    }
}

/// "Not specified" in a volume descriptor (ECMA-119 8.4.26.1): sixteen '0's and 0.
pub(crate) const ISO_UNSPECIFIED: [u8; 17] = *b"0000000000000000\0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_moments() {
        let c = Civil::from_unix(0);
        assert_eq!((c.year, c.month, c.day, c.hour), (1970, 1, 1, 0));
        // 2026-11-30 19:54:28 UTC
        let c = Civil::from_unix(1_796_068_468);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2026, 11, 30, 19, 54, 28)
        );
        // 2000-02-29 (a leap day)
        let c = Civil::from_unix(951_782_400);
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
        assert_eq!(c.iso_record(), [100, 2, 29, 0, 0, 0, 0]);
        assert_eq!(&c.iso_descriptor()[..16], b"2000022900000000");
        assert_eq!(c.udf(), [0x00, 0x10, 0xD0, 0x07, 2, 29, 0, 0, 0, 0, 0, 0]);
        for t in [0, 951_782_400, 1_796_068_468, -86_401] {
            assert_eq!(Civil::from_unix(t).to_unix(), t);
        }
        // One hour east of GMT is an hour earlier in UTC.
        let mut east = Civil::from_unix(951_782_400).iso_record();
        east[6] = 4;
        assert_eq!(Civil::unix_of_iso_record(east), 951_782_400 - 3600);
    }
}
