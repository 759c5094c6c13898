//! The burn command's progress display: a redrawn line on a terminal, an
//! occasional plain line otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use webburn_shared::WriteEngineEventArgs;

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

impl ProgressLine {
    pub fn new(bytes_per_sector: u64, quiet: bool) -> Self {
        ProgressLine {
            bytes_per_sector,
            terminal: std::io::stderr().is_terminal(),
            quiet,
            last_plain: None,
        }
    }

    /// The line for one event: bar, percent, MB/s, ETA and system-buffer fill.
    pub fn render(&self, a: &WriteEngineEventArgs) -> String {
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
        let filled = (pct / 5.0) as usize;
        format!(
            "[{}{}] {pct:5.1}%  {:7.1} MB/s  ETA {eta}  buffer {fill:3.0}%",
            "#".repeat(filled.min(20)),
            ".".repeat(20 - filled.min(20)),
            a.current_bytes_per_second as f64 / 1e6,
        )
    }

    pub fn update(&mut self, a: &WriteEngineEventArgs) {
        if self.quiet {
            return;
        }
        let line = self.render(a);
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

    pub fn finish(&self) {
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
    }
}
