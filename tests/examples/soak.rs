//! The reliability battery at its soak scale (10,000 connects, 1,000 pairing
//! cycles, 5,000 random frames, 8 x 64 MiB at once): prints the cases as
//! Markdown tables and exits 1 if any failed. `cargo xtask soak` runs it
//! (with the helper built in release mode and the page built) and writes
//! RELIABILITY.md.

use webburn_tests::reliability::{Scale, markdown, run_all};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cases = run_all(Scale::soak()).await;
    print!("{}", markdown(&cases));
    if cases.iter().any(|c| !c.pass) {
        std::process::exit(1);
    }
}
