//! `webburn-helper recorders`: identity and medium of each recorder, asked
//! of the device with INQUIRY, GET CONFIGURATION and READ CAPACITY: the
//! default emulated one, those named, and the SCSI devices the system has.

use std::path::Path;

use super::CliError;
use webburn_engine::devices::in_use::SystemView;
use webburn_engine::devices::removable::{removable_disks, size_label};
use webburn_engine::devices::{Recorder, default_recorder_id, discovered_ids};
use webburn_scsi::DiscStatus;
use webburn_shared::profile_label;

pub(super) fn run(data_dir: &Path, extra: &[String], json: bool) -> Result<(), CliError> {
    let mut ids: Vec<String> = default_recorder_id(data_dir).into_iter().collect();
    ids.extend(extra.iter().cloned());
    ids.extend(
        discovered_ids()
            .into_iter()
            .filter(|d| !ids.contains(d))
            .collect::<Vec<_>>(),
    );
    let mut listed = Vec::new();
    let mut failures = 0;
    for id in &ids {
        let info = Recorder::open(id)
            .map_err(|e| CliError::new(e.hresult(), e.to_string()))
            .and_then(|r| {
                r.describe()
                    .map_err(|e| CliError::new(e.hresult(), e.to_string()))
            });
        match info {
            Ok(info) => listed.push(info),
            Err(e) => {
                failures += 1;
                eprintln!("{id}: {}: {}", e.hresult, e.detail);
            }
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&listed)
            .map_err(|e| CliError::new(webburn_shared::HResult::E_FAIL, e.to_string()))?;
        println!("{text}");
    } else {
        for r in &listed {
            println!("{}", r.id);
            println!("  kind       {}", r.kind);
            println!(
                "  device     {} {} {}",
                r.vendor_id, r.product_id, r.product_revision
            );
            println!(
                "  medium     {} (profile {:#06x})",
                profile_label(r.current_profile),
                r.current_profile
            );
            let supported: Vec<String> = r
                .supported_profiles
                .iter()
                .map(|p| profile_label(*p))
                .collect();
            println!("  supports   {}", supported.join(", "));
            if let Some(status) = r.disc_status {
                println!("  status     {status:?}");
            }
            match (r.sessions, r.disc_status) {
                (Some(n), Some(DiscStatus::Appendable)) if n > 0 => println!(
                    "  sessions   {n}, open: add files with burn --files ... --disc --append"
                ),
                (Some(n), _) if n > 0 => println!("  sessions   {n}"),
                _ => {}
            }
            if let (Some(free), Some(block)) = (r.free_sectors, r.block_size) {
                println!("  free       {free} sectors of {block} bytes");
            }
            if let Some(nwa) = r.next_writable {
                println!("  next LBA   {nwa}");
            }
            if !r.write_speeds.is_empty() {
                let speeds: Vec<String> = r.write_speeds.iter().map(u32::to_string).collect();
                println!("  speeds     {} sectors/s", speeds.join(", "));
            }
            if r.can_simulate {
                println!("  simulate   yes (burn --disc --simulate)");
            }
        }
    }
    if !json {
        print_removable();
    }
    if failures == ids.len() {
        return Err(CliError::new(
            webburn_shared::HResult::E_IMAPI_RECORDER_REQUIRED,
            "no recorder could be opened",
        ));
    }
    Ok(())
}

/// The removable disks, with what a person needs to pick the right one.
fn print_removable() {
    let disks = removable_disks(&SystemView::default());
    if disks.is_empty() {
        return;
    }
    println!();
    println!("Removable disks (everything on one is erased when it is written):");
    for d in disks {
        let state = d
            .in_use
            .map_or_else(|| "free".to_owned(), |why| format!("refused: {why}"));
        println!(
            "  {}  {}  {} {}  {}  {}  {state}",
            d.id,
            d.block,
            d.vendor,
            d.model,
            size_label(d.size_bytes),
            d.bus
        );
    }
}
