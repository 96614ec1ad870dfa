//! The long run of the crash trials: boots the reference app against a fresh database,
//! `kill -9`s it at a seeded random moment, boots it again, and checks that the schema
//! equals a clean apply's and that ledger and schema agree. Prints a table per database.
//!
//! ```text
//! cargo build && cargo run --example crash_trials -- 30
//! ```
//!
//! Needs `BOOTSCHEMA_TEST_POSTGRES_URL` / `BOOTSCHEMA_TEST_MYSQL_URL` for those two
//! databases (SQLite always runs). Each trial is reproducible from its seed.

#[path = "../tests/common/mod.rs"]
#[allow(unused_macros, unused_imports)]
mod common;

use std::time::Instant;

use common::faults::{clean_apply, crash_trial, sibling_myapp};
use common::Kind;

#[tokio::main]
async fn main() {
    let trials: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let bin = sibling_myapp();
    println!("crash trials: {trials} per database, binary {}", bin.display());
    println!();
    println!("| database | trials | killed mid-boot | recovered | failures | rows or objects lost | time |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        if common::server_url(kind).is_none() {
            println!("| {kind:?} | skipped: no URL | | | | | |");
            continue;
        }
        let started = Instant::now();
        let (reference, took) = clean_apply(&bin, kind).await.expect("a database to compare with");
        // Kill anywhere from before the first query to after the last.
        let window = took.mul_f64(1.2);
        let (mut killed, mut failures, mut lost) = (0, 0, 0);
        for seed in 1..=trials {
            let trial = crash_trial(&bin, kind, seed * 7919 + kind as u64, window, &reference).await.unwrap();
            killed += trial.killed as u64;
            if !trial.problems.is_empty() {
                failures += 1;
                lost += trial.problems.iter().filter(|p| p.contains("missing")).count();
                eprintln!("seed {} (delay {} ms): {:#?}", trial.seed, trial.delay_ms, trial.problems);
            }
        }
        println!(
            "| {kind:?} | {trials} | {killed} | {} | {failures} | {lost} | {:.1} s |",
            trials - failures,
            started.elapsed().as_secs_f64()
        );
    }
}
