//! The VM tier's benchmark: in the guest, our SG_IO path against sg_dd
//! (sg3-utils) writing the same bytes to the same scsi-hd, and our USB
//! Bulk-Only path against the kernel's usb-storage driver (`dd oflag=direct`)
//! on the same stick. Software emulation bounds every figure: only the
//! ratios mean something.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{initramfs, pattern, prepare};

/// Bytes written by each tool.
pub(crate) const BYTES: usize = 64 << 20;
/// BENCHMARKS.md's section of these figures.
pub(crate) const HEADING: &str = "## 5. VM tier: our transports vs Linux's drivers";
/// Rounds counted, after one that is not.
pub(crate) const ROUNDS: usize = 5;

/// Seconds each tool took in each round, as each reports it.
#[derive(Debug, Clone)]
pub(crate) struct VmBench {
    /// webburn-helper burn through SG_IO.
    pub ours_sg: Vec<f64>,
    /// sg_dd to the same sg device.
    pub sg_dd: Vec<f64>,
    /// webburn-helper burn through USB Bulk-Only.
    pub ours_usb: Vec<f64>,
    /// dd oflag=direct through the kernel's usb-storage.
    pub dd_usb: Vec<f64>,
    /// The stick's link and usb-storage's transfer limit, as the guest said.
    pub usb_link: String,
}

/// The median of `v` (not empty).
pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// The smallest and largest of `v`.
pub(crate) fn range(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// The number before `unit` in `text` (e.g. "1.23 secs").
fn number_before(text: &str, unit: &str) -> Option<f64> {
    let head = &text[..text.find(unit)?];
    head.split(|c: char| c.is_whitespace() || c == ',')
        .rev()
        .find(|w| !w.is_empty())?
        .parse()
        .ok()
}

/// The seconds of every counted round of `name`.
fn seconds(said: &[String], name: &str) -> Result<Vec<f64>> {
    let prefix = format!("bench {name} ");
    let mut all = Vec::new();
    for line in said.iter().filter_map(|l| l.strip_prefix(&prefix)) {
        let value = if line.starts_with('{') {
            if !line.contains("\"name\":\"S_OK\"") {
                bail!("{name} failed in the guest: {line}");
            }
            let at = line.find("\"seconds\":").context("no seconds")? + 10;
            line[at..]
                .split([',', '}'])
                .next()
                .and_then(|v| v.parse().ok())
        } else if name == "sg_dd" {
            number_before(line, "secs")
        } else {
            number_before(line, "seconds")
        };
        all.push(value.with_context(|| format!("cannot read the seconds of {name}: {line}"))?);
    }
    if all.len() != ROUNDS {
        bail!(
            "the guest reported {} rounds of {name}, not {ROUNDS}",
            all.len()
        );
    }
    Ok(all)
}

/// Boots the guest in benchmark mode and collects the four figures.
pub(crate) fn run() -> Result<VmBench> {
    let prepared = prepare("bench")?;
    let data = pattern(BYTES, 5);
    let machine = prepared.machine(None, 2 * BYTES as u64)?;
    let env = format!(
        "PORT={}\nRELAY={}\nOPTICAL=0\nBENCH=1\nROUNDS={ROUNDS}\n",
        machine.host_port, machine.guest_port
    );
    let archive = initramfs(
        &prepared.kernel,
        &prepared.helper,
        &[("bench.bin", &data)],
        &env,
        &["/usr/bin/sg_dd"],
    )?;
    std::fs::write(&machine.initrd, archive)?;
    eprintln!(
        "xtask: bench: booting the guest (console in {})",
        machine.console_log.display()
    );
    let mut vm = machine.start()?;
    let said = vm.read_until("poweroff", Duration::from_secs(600))?;
    vm.wait(Duration::from_secs(30))?;
    // The last writer of each device was a Linux tool: both wrote the same bytes.
    for (what, image) in [("sg", &machine.sg_image), ("usb", &machine.usb_image)] {
        let bytes = std::fs::read(image)?;
        if bytes.get(..BYTES) != Some(&data[..]) {
            bail!("the {what} image does not hold the benchmark's data");
        }
    }
    Ok(VmBench {
        ours_sg: seconds(&said, "ours-sg")?,
        sg_dd: seconds(&said, "sg_dd")?,
        ours_usb: seconds(&said, "ours-usb")?,
        dd_usb: seconds(&said, "dd-usb")?,
        usb_link: said
            .iter()
            .find_map(|l| l.strip_prefix("usb-link "))
            .unwrap_or("unknown")
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{median, number_before, range};

    #[test]
    fn median_and_range_of_the_rounds() {
        let v = [0.31, 0.28, 0.63, 0.29, 0.30];
        assert!((median(&v) - 0.30).abs() < 1e-12);
        let (lo, hi) = range(&v);
        assert!((lo - 0.28).abs() < 1e-12 && (hi - 0.63).abs() < 1e-12);
    }

    #[test]
    fn reads_the_tools_own_timings() {
        let sg_dd = "time to transfer data was 1.234567 secs, 54.36 MB/sec 131072+0 records in";
        assert_eq!(number_before(sg_dd, "secs"), Some(1.234_567));
        let dd = "64+0 records in 64+0 records out 67108864 bytes (64.0MB) copied, 2.5 seconds, 25.6MB/s";
        assert_eq!(number_before(dd, "seconds"), Some(2.5));
    }
}
