//! The burn command's progress display: a redrawn line on a terminal, an
//! occasional plain line otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use webburn_shared::{DataEventArgs, WriteEngineEventArgs};

/// Draws progress from Update events.
#[derive(Debug)]
pub(super) struct ProgressLine {
    bytes_per_sector: u64,
    terminal: bool,
    quiet: bool,
    last_plain: Option<Instant>,
}

/// "m:ss" for people.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// A 20-character bar for `pct` percent drawn with `mark`.
fn bar(pct: f64, mark: char) -> String {
    let filled = ((pct / 5.0) as usize).min(20);
    format!(
        "[{}{}]",
        mark.to_string().repeat(filled),
        ".".repeat(20 - filled)
    )
}

impl ProgressLine {
    pub(super) fn new(bytes_per_sector: u64, quiet: bool) -> Self {
        ProgressLine {
            bytes_per_sector,
            terminal: std::io::stderr().is_terminal(),
            quiet,
            last_plain: None,
        }
    }

    /// The line for one event: bar, percent, MB/s, ETA and system-buffer fill.
    pub(super) fn render(&self, a: &WriteEngineEventArgs) -> String {
        let pct = a.progress() * 100.0;
        let written = a.sectors_written().max(0) as u64 * self.bytes_per_sector;
        let total = u64::try_from(a.sector_count).unwrap_or(0) * self.bytes_per_sector;
        let elapsed = Duration::from_millis(a.elapsed_ms);
        let avg = if elapsed.as_secs_f64() > 0.0 {
            written as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let eta = if avg > 0.0 {
            clock(Duration::from_secs_f64(
                (total - written.min(total)) as f64 / avg,
            ))
        } else {
            "--:--".into()
        };
        let fill = if a.total_system_buffer > 0 {
            f64::from(a.used_system_buffer) * 100.0 / f64::from(a.total_system_buffer)
        } else {
            0.0
        };
        format!(
            "{} {pct:5.1}%  {:7.1} MB/s  ETA {eta}  buffer {fill:3.0}%",
            bar(pct, '#'),
            a.current_bytes_per_second as f64 / 1e6,
        )
    }

    /// The line for a verify event: bar, percent read back and its rate.
    pub(super) fn render_verify(a: &WriteEngineEventArgs, d: &DataEventArgs) -> String {
        let done = i64::from(d.last_verified_lba) - i64::from(a.start_lba) + 1;
        let pct = if a.sector_count > 0 {
            (done.max(0) as f64 * 100.0 / f64::from(a.sector_count)).min(100.0)
        } else {
            0.0
        };
        let left = if d.remaining_time >= 0 {
            clock(Duration::from_secs(d.remaining_time.unsigned_abs().into()))
        } else {
            "--:--".into()
        };
        format!(
            "{} {pct:5.1}% verified  {:7.1} MB/s  ETA {left}",
            bar(pct, '='),
            d.verify_bytes_per_second as f64 / 1e6,
        )
    }

    /// The line for an erase: bar, elapsed and expected time.
    pub(super) fn render_erase(p: webburn_engine::disc::erase::EraseProgress) -> String {
        let elapsed = Duration::from_secs(p.elapsed_seconds.into());
        if p.estimated_total_seconds == 0 {
            return format!("{} erasing, {}", bar(0.0, '~'), clock(elapsed));
        }
        let total = Duration::from_secs(p.estimated_total_seconds.into());
        let pct = (elapsed.as_secs_f64() * 100.0 / total.as_secs_f64()).min(100.0);
        format!(
            "{} {pct:5.1}% erased  {} of about {}",
            bar(pct, '~'),
            clock(elapsed),
            clock(total)
        )
    }

    /// Progress of an erase.
    pub(super) fn erase(&mut self, p: webburn_engine::disc::erase::EraseProgress) {
        self.draw(&Self::render_erase(p));
    }

    /// Progress of a write.
    pub(super) fn update(&mut self, a: &WriteEngineEventArgs) {
        let line = self.render(a);
        self.draw(&line);
    }

    /// Progress of a read-back.
    pub(super) fn verify(&mut self, a: &WriteEngineEventArgs, d: &DataEventArgs) {
        self.draw(&Self::render_verify(a, d));
    }

    /// A line of its own (a step of a disc burn).
    pub(super) fn note(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        if self.terminal {
            eprint!("\r\x1b[K");
        }
        eprintln!("{text}");
        self.last_plain = None;
    }

    fn draw(&mut self, line: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r{line}");
            let _ = err.flush();
        } else if self
            .last_plain
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
        {
            self.last_plain = Some(Instant::now());
            let _ = writeln!(err, "{line}");
        }
    }

    pub(super) fn finish(&self) {
        if self.terminal && !self.quiet {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_percent_rate_eta_and_fill() {
        let line = ProgressLine {
            bytes_per_sector: 2048,
            terminal: false,
            quiet: false,
            last_plain: None,
        };
        let a = WriteEngineEventArgs {
            start_lba: 0,
            sector_count: 1000,
            last_written_lba: 499,
            total_system_buffer: 100,
            used_system_buffer: 25,
            free_system_buffer: 75,
            elapsed_ms: 2000,
            current_bytes_per_second: 12_500_000,
            ..Default::default()
        };
        let s = line.render(&a);
        assert!(s.starts_with("[##########..........]  50.0%"), "{s}");
        assert!(s.contains("12.5 MB/s"), "{s}");
        assert!(s.contains("ETA 0:02"), "{s}");
        assert!(s.contains("buffer  25%"), "{s}");
        let d = DataEventArgs {
            last_verified_lba: 249,
            verify_bytes_per_second: 30_000_000,
            remaining_time: 75,
            ..Default::default()
        };
        let v = ProgressLine::render_verify(&a, &d);
        assert!(
            v.starts_with("[=====...............]  25.0% verified"),
            "{v}"
        );
        assert!(v.contains("30.0 MB/s") && v.contains("ETA 1:15"), "{v}");
    }
}
