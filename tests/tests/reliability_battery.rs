//! The reliability and security battery at its quick scale (the long runs
//! are `cargo xtask soak`, which writes RELIABILITY.md): faults, hostile
//! clients and load against real servers and helper processes, one test
//! per case so a failure names its case.

use webburn_tests::reliability::{Scale, case, cases};

/// The cases watch the process's descriptors and memory and start helper
/// processes: they run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs the case `key` at the quick scale and fails with what it observed.
async fn run_case(key: &str) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(planned) = cases(Scale::quick()).into_iter().find(|c| c.key == key) else {
        panic!("the battery has no case {key}");
    };
    let done = case(planned).await;
    assert!(
        done.pass,
        "{}\nexpected: {}\nobserved: {}",
        done.name, done.expected, done.observed
    );
}

macro_rules! battery {
    ($($key:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $key() {
                run_case(stringify!($key)).await;
            }
        )*

        #[test]
        fn every_case_of_the_battery_has_a_test() {
            let mut planned: Vec<&str> = cases(Scale::quick()).iter().map(|c| c.key).collect();
            let mut tested = vec![$(stringify!($key)),*];
            planned.sort_unstable();
            tested.sort_unstable();
            assert_eq!(planned, tested);
        }
    };
}

battery! {
    faults_busy_three_times,
    faults_write_error,
    faults_medium_removed,
    faults_write_stalls,
    faults_device_vanishes,
    faults_usb_stick_unplugged,
    faults_socket_drops,
    faults_tab_closes,
    faults_helper_killed_and_restarted,
    hostile_every_documented_rejection,
    hostile_refused_upgrades,
    hostile_slow_requests,
    hostile_rapid_connects,
    hostile_random_frames,
    hostile_nasty_json,
    hostile_writes_outside_the_medium,
    load_eight_sessions_at_once,
    load_pair_cycles,
    sizes_dvd_filled,
}
