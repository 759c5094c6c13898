//! The reliability and security battery at its quick scale (the long runs
//! are `cargo xtask soak`, which writes RELIABILITY.md): faults, hostile
//! clients and load against real servers and helper processes.

use webburn_tests::reliability::{Scale, markdown, run_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_of_the_battery_passes_at_the_quick_scale() {
    let cases = run_all(Scale::quick()).await;
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{}: {}", c.name, c.observed))
        .collect();
    assert!(
        failed.is_empty(),
        "{}\n\nfailed:\n{}",
        markdown(&cases),
        failed.join("\n")
    );
}
