//! Reliability under concurrency and faults, on real servers: a herd of replicas,
//! `kill -9` at random moments, PgBouncer in transaction pooling, lock timeouts,
//! `CREATE INDEX CONCURRENTLY` under writes. `examples/crash_trials.rs` runs the long
//! version of the crash trials; RELIABILITY.md records the figures.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bootschema::{Action, ErrorKind};
use common::faults::{crash_trial, herd, myapp_snippets, warnings};
use common::{syncer, Kind, Pool, SnippetDir, TestDb};

fn myapp() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_myapp"))
}

on_every_database!(
    sixteen_replicas_booting_at_once_apply_each_snippet_once,
    killed_boots_recover_to_the_clean_schema,
    a_blocked_table_fails_after_retries_naming_it,
    a_blocker_that_ends_within_the_retries_lets_the_sync_succeed,
);

async fn sixteen_replicas_booting_at_once_apply_each_snippet_once(db: TestDb) {
    let boots = tokio::task::spawn_blocking({
        let url = db.url.clone();
        move || herd(myapp(), &url, 16)
    })
    .await
    .unwrap();
    for boot in &boots {
        assert!(boot.success, "a replica failed:\n{}", boot.stderr);
        assert!(warnings(boot).is_empty(), "a replica logged a warning or an error:\n{}", boot.stderr);
    }
    let applied: usize = boots
        .iter()
        .filter(|b| b.stdout.contains(" applied in "))
        .map(|b| b.stdout.lines().filter(|l| l.trim_start().starts_with("apply ")).count())
        .sum();
    let snippets = myapp_snippets().for_dialect(db.target().dialect()).len();
    assert_eq!(applied, snippets, "each snippet applied by exactly one replica");
    assert_eq!(db.ledger().await.len(), snippets);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM users").await, 16, "every replica served");
    let plan = syncer(&myapp_snippets()).plan(db.target()).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.action == Action::Skip), "ledger and schema agree");
}

async fn killed_boots_recover_to_the_clean_schema(db: TestDb) {
    let kind = db.kind;
    drop(db);
    let (reference, took) = common::faults::clean_apply(myapp(), kind).await.unwrap();
    // A few seeded trials here; `cargo run --example crash_trials` runs many more.
    for seed in 1..=4u64 {
        let trial = crash_trial(myapp(), kind, seed, took, &reference).await.unwrap();
        assert!(trial.problems.is_empty(), "trial {trial:?}");
    }
}

/// A long transaction holding a lock on `items`, as an app's reporting query would.
async fn hold_lock_on_items(db: &TestDb) -> (Pool, tokio::task::JoinHandle<()>, tokio::sync::oneshot::Sender<()>) {
    let blocker = db.new_pool().await;
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (held, is_held) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let blocker = blocker.clone();
        async move {
            on_pool!(&blocker, p => {
                let mut conn = p.acquire().await.unwrap();
                sqlx::raw_sql("BEGIN").execute(&mut *conn).await.unwrap();
                sqlx::raw_sql("SELECT COUNT(*) FROM items").execute(&mut *conn).await.unwrap();
                if matches!(blocker, Pool::Sqlite(_)) {
                    // SQLite locks the whole file: hold its write lock.
                    sqlx::raw_sql("INSERT INTO items (id, name) VALUES (99, 'held')").execute(&mut *conn).await.unwrap();
                }
                let _ = held.send(());
                let _ = released.await;
                sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
            })
        }
    });
    is_held.await.unwrap();
    (blocker, task, release)
}

const ITEMS: (&str, &str) = (
    "0001_items.sql",
    "-- guard: table_missing(items)\nCREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50));\n",
);
const ALTER: (&str, &str) =
    ("0002_add_note.sql", "-- guard: column_missing(items.note)\nALTER TABLE items ADD COLUMN note VARCHAR(50);\n");

async fn a_blocked_table_fails_after_retries_naming_it(db: TestDb) {
    let dir = SnippetDir::new(&[ITEMS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(ALTER.0, ALTER.1);
    let (_blocker, task, release) = hold_lock_on_items(&db).await;
    // Meanwhile the app keeps reading the table: it must never wait longer than the timeout.
    let reader = db.new_pool().await;
    let probe = tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        for _ in 0..40 {
            let started = Instant::now();
            let _ = reader.count("SELECT COUNT(*) FROM items").await;
            worst = worst.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        worst
    });
    let started = Instant::now();
    let err = syncer(&dir.snippets()).lock_timeout(Duration::from_secs(1)).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    match db.kind {
        Kind::Sqlite => {
            // SQLite locks the file, not a table: the sync waits for its lock and says so.
            assert!(matches!(err.kind(), ErrorKind::LockTimeout { .. }), "{text}");
        }
        _ => {
            assert!(matches!(err.kind(), ErrorKind::DdlLockTimeout { attempts: 4, .. }), "{text}");
            assert!(text.contains("sql/0002_add_note.sql:2") && text.contains("table items"), "{text}");
        }
    }
    if db.kind == Kind::Postgres {
        assert!(text.contains("pid "), "names the blocking process: {text}");
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    let worst = probe.await.unwrap();
    assert!(worst < Duration::from_millis(2500), "an app query waited {worst:?}, longer than the 1 s timeout allows");
    release.send(()).unwrap();
    task.await.unwrap();
    assert!(!db.catalog().await.iter().any(|l| l.contains("note")), "nothing was half-applied");
}

async fn a_blocker_that_ends_within_the_retries_lets_the_sync_succeed(db: TestDb) {
    let dir = SnippetDir::new(&[ITEMS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(ALTER.0, ALTER.1);
    let (_blocker, task, release) = hold_lock_on_items(&db).await;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = release.send(());
    });
    let report = syncer(&dir.snippets()).lock_timeout(Duration::from_secs(1)).run(db.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Apply);
    task.await.unwrap();
    assert!(db.catalog().await.iter().any(|l| l.contains("note")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_boots_through_pgbouncer_in_transaction_mode_leave_no_lock() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let server = common::server_url(Kind::Postgres).unwrap();
    let Some(bouncer) = common::faults::PgBouncer::start(&server) else { return };
    let url = bouncer.url_for(&db.url);
    let boots = tokio::task::spawn_blocking(move || herd(myapp(), &url, 16)).await.unwrap();
    for boot in &boots {
        assert!(boot.success, "a replica failed through pgbouncer:\n{}", boot.stderr);
        assert!(warnings(boot).is_empty(), "{}", boot.stderr);
    }
    let snippets = myapp_snippets().for_dialect(db.target().dialect()).len();
    assert_eq!(db.ledger().await.len(), snippets);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM users").await, 16);
    // Checked while the bouncer still holds its server connections: nothing of the
    // sync may stay open on them.
    let open = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                AND state LIKE 'idle in transaction%'";
    assert_eq!(db.pool.count(open).await, 0, "no transaction left open on a pooled server connection");
    assert_eq!(db.advisory_locks().await, 0, "no lock left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_concurrently_works_under_concurrent_writes() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let dir = SnippetDir::new(&[ITEMS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let writer = db.new_pool().await;
    let writes = tokio::spawn(async move {
        for id in 1000..1400 {
            writer.exec(&format!("INSERT INTO items (id, name) VALUES ({id}, 'n{id}')")).await.unwrap();
        }
    });
    dir.write(
        "0002_index.sql",
        "-- guard: index_missing(items_name_idx)\n-- transaction: none\nCREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n",
    );
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    writes.await.unwrap();
    assert_eq!(report.steps[1].action, Action::Apply);
    let valid = "SELECT COUNT(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 WHERE i.relname = 'items_name_idx' AND x.indisvalid";
    assert_eq!(db.pool.count(valid).await, 1);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items").await, 400, "no write was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_index_left_by_a_failed_build_is_rebuilt_on_the_next_boot() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let dir = SnippetDir::new(&[
        ITEMS,
        (
            "0002_unique_name.sql",
            "-- guard: index_missing(items_name_key)\n-- transaction: none\nCREATE UNIQUE INDEX CONCURRENTLY items_name_key ON items (name);\n",
        ),
    ]);
    let items_only = SnippetDir::new(&[ITEMS]);
    syncer(&items_only.snippets()).run(db.target()).await.unwrap();
    db.pool.exec("INSERT INTO items (id, name) VALUES (1, 'twin'), (2, 'twin')").await.unwrap();
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("sql/0002_unique_name.sql:3"), "{err}");
    let invalid = "SELECT COUNT(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                   WHERE i.relname = 'items_name_key' AND NOT x.indisvalid";
    assert_eq!(db.pool.count(invalid).await, 1, "the failed build left an invalid index");
    db.pool.exec("DELETE FROM items WHERE id = 2").await.unwrap();
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Apply);
    assert_eq!(db.pool.count(invalid).await, 0);
    let valid = invalid.replace("NOT x.indisvalid", "x.indisvalid");
    assert_eq!(db.pool.count(&valid).await, 1, "rebuilt, valid");
}

on_every_database!(hostile_identifiers_reach_the_database_only_quoted_or_bound);

/// Table, column and index names with quotes, semicolons, spaces and non-ASCII letters
/// are found by their guards exactly (so the second boot skips), and nothing in them
/// is ever executed: they reach the database as bound parameters or quoted identifiers.
async fn hostile_identifiers_reach_the_database_only_quoted_or_bound(db: TestDb) {
    let table = "we;ird \"q\" ü'); DROP TABLE victim; --";
    let (q, guard_q) = match db.kind {
        // MySQL quotes identifiers with backticks.
        Kind::MySql => (format!("`{table}`"), format!("`{table}`")),
        _ => {
            let quoted = format!("\"{}\"", table.replace('"', "\"\""));
            (quoted.clone(), quoted)
        }
    };
    db.pool.exec("CREATE TABLE victim (id INTEGER)").await.unwrap();
    // Dialect files: a backtick or a `'` inside a quoted name means different things to
    // different databases' lexers.
    let folder = match db.kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
        Kind::Sqlite => "sqlite",
    };
    let dir = SnippetDir::new(&[]);
    for (name, text) in [
        ("0001_weird.sql", &format!("-- guard: table_missing({guard_q})\nCREATE TABLE {q} (id INTEGER);\n")),
        (
            "0002_weird_column.sql",
            &format!(
                "-- guard: column_missing({guard_q}.{col})\nALTER TABLE {q} ADD COLUMN {col} INTEGER;\n",
                col = if db.kind == Kind::MySql { "`çà;\"x`" } else { "\"çà;\"\"x\"" }
            ),
        ),
        (
            "0003_weird_index.sql",
            &format!(
                "-- guard: index_missing({idx})\nCREATE INDEX {idx} ON {q} (id);\n",
                idx = if db.kind == Kind::MySql { "`idx; ü`" } else { "\"idx; ü\"" }
            ),
        ),
    ] {
        dir.write(&format!("{folder}/{name}"), text);
    }
    let set = dir.snippets();
    let first = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(first.count(Action::Apply), 3);
    let second = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(
        second.count(Action::Skip),
        3,
        "{:?}",
        second.steps.iter().map(|s| (&s.path, s.action, &s.reason)).collect::<Vec<_>>()
    );
    assert!(db.has_table("victim").await, "nothing in a name was executed");
}
