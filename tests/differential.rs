//! Differential tests: random but valid histories, each applied by the database's own
//! command-line client (`psql`, `mariadb`, `sqlite3`) replaying the files in order, and
//! by bootschema, each on a fresh database; the two dumps (schema and rows, ledger
//! excluded) must be equal, and a second boot must apply nothing and write the mark.
//!
//! The histories create, rename and drop tables, columns, indexes, views and (on
//! PostgreSQL) materialized views with and without `CASCADE`, change column types,
//! rename types, use over-long index names, seed and backfill rows, re-create what was
//! dropped, and create, rename, redefine and drop triggers, functions (with overloads)
//! and sequences (some owned by a column), so that the plan's prediction of what earlier snippets leave behind is
//! put to the test. Seeded and reproducible: a failing seed prints its history as files.
//!
//! CI runs `BOOTSCHEMA_DIFF_SEEDS` seeds per database (default 12); a longer soak is
//! `BOOTSCHEMA_DIFF_SEEDS=500 cargo test --test differential` (README "Tests").

mod common;
mod generator;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};

fn seeds() -> u64 {
    std::env::var("BOOTSCHEMA_DIFF_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12)
}

/// The syncer of a seed. On MySQL, with the server's own `sql_mode`, as the raw client
/// has it: a function or trigger keeps the `sql_mode` it was created under, and the
/// connection sqlx opens sets its own (`PIPES_AS_CONCAT`, …), which the dumps show.
fn sync(set: &bootschema::SnippetSet, kind: Kind) -> bootschema::Syncer<'_> {
    match kind {
        Kind::MySql => syncer(set).mysql_session_variable("sql_mode", "DEFAULT"),
        _ => syncer(set),
    }
}

/// One seed: `Err` with the reason when bootschema and the raw client disagree.
async fn one(kind: Kind, seed: u64) -> Result<(), String> {
    let files = generator::history_with_objects(kind.dialect(), seed);
    let raw = TestDb::new(kind).await.expect("database");
    for (path, text) in &files {
        // A history the raw client cannot replay is the generator's mistake: skip it
        // loudly rather than blame bootschema.
        if let Err(e) = raw.run_client(text) {
            return Err(format!("the raw client fails on {path} (a generator bug): {e}"));
        }
    }
    let db = TestDb::new(kind).await.expect("database");
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let dir = SnippetDir::new(&refs);
    let set = dir.snippets();
    let report =
        sync(&set, kind).allow_destructive(true).run(db.target()).await.map_err(|e| format!("bootschema: {e}"))?;
    if let Some(step) =
        report.steps.iter().find(|s| s.action != Action::Apply || s.statements_run != s.statements_total)
    {
        return Err(format!("{} was not run whole on an empty database: {} ({})", step.path, step.action, step.reason));
    }
    let (ours, theirs) = (db.dump(), raw.dump());
    if ours != theirs {
        let diff: Vec<String> = ours
            .lines()
            .filter(|l| !theirs.lines().any(|t| t == *l))
            .map(|l| format!("+ {l}"))
            .chain(theirs.lines().filter(|l| !ours.lines().any(|o| o == *l)).map(|l| format!("- {l}")))
            .collect();
        return Err(format!("the dumps differ (+ bootschema, - raw client):\n{}", diff.join("\n")));
    }
    let second =
        sync(&set, kind).allow_destructive(true).run(db.target()).await.map_err(|e| format!("second boot: {e}"))?;
    if let Some(step) = second.steps.iter().find(|s| s.action != Action::Skip) {
        return Err(format!("second boot: {} is {} ({})", step.path, step.action, step.reason));
    }
    if db.mark().await.as_deref() != Some(&*set.mark(kind.dialect())) {
        return Err("the ledger's mark was not written".into());
    }
    Ok(())
}

async fn differential(kind: Kind) {
    if common::server_url(kind).is_none() {
        return;
    }
    let mut failures = Vec::new();
    for seed in 1..=seeds() {
        if let Err(why) = one(kind, seed).await {
            let files: Vec<String> = generator::history_with_objects(kind.dialect(), seed)
                .into_iter()
                .map(|(p, t)| format!("--- {p}\n{t}"))
                .collect();
            failures.push(format!("seed {seed} on {kind:?}: {why}\n{}", files.join("")));
        }
    }
    assert!(failures.is_empty(), "{} of {} seeds failed:\n\n{}", failures.len(), seeds(), failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_match_the_raw_client_on_postgres() {
    differential(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_match_the_raw_client_on_mysql() {
    differential(Kind::MySql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_histories_match_the_raw_client_on_sqlite() {
    differential(Kind::Sqlite).await;
}
