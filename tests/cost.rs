//! What a boot costs in queries: a database already in sync is read in one statement
//! (the ledger's mark), and in a constant number of statements with the full check,
//! whatever the number of snippets.
//!
//! Statements are counted from bootschema's own statement log events (`bootschema::sql`,
//! one per message sent, as sqlx's `sqlx::query` events were before the sync ran on a
//! connection whose sqlx logging is off), captured by a thread-local subscriber on a
//! single-threaded runtime. The count covers the two network databases, where round
//! trips are what costs.

mod common;

use std::cell::RefCell;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};
use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

thread_local! {
    /// Statements logged by sqlx on this thread, while counting is on.
    static STATEMENTS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// The start of a recorded message that carries the SQL of snippets.
const SNIPPETS: &str = "[snippets] ";

/// Records each `bootschema::sql` event into the current thread's list, if counting.
struct RecordStatements;

impl<S: tracing::Subscriber> Layer<S> for RecordStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "bootschema::sql" {
            return;
        }
        #[derive(Default)]
        struct Summary(String, String);
        impl tracing::field::Visit for Summary {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                match field.name() {
                    "message" => self.0 = format!("{value:?}"),
                    "source" => self.1 = format!("{value:?}"),
                    _ => {}
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                match field.name() {
                    "message" => self.0 = value.to_string(),
                    "source" => self.1 = value.to_string(),
                    _ => {}
                }
            }
        }
        let mut summary = Summary::default();
        event.record(&mut summary);
        // A message that carries snippets names the first one's file as its source.
        let marker = if summary.1.starts_with("bootschema") { "" } else { SNIPPETS };
        STATEMENTS.with(|s| {
            if let Some(list) = s.borrow_mut().as_mut() {
                list.push(format!("{marker}{}", summary.0));
            }
        });
    }
}

/// A process-wide subscriber (tracing caches per-callsite interest globally, so a
/// thread-local one would miss events), counting per thread.
fn install_recorder() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(RecordStatements);
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in this test binary");
    });
}

/// Runs `work` and returns its output with the statements sqlx logged meanwhile on this
/// thread (the test must run on a single-threaded runtime).
async fn recording<T>(work: impl std::future::Future<Output = T>) -> (T, Vec<String>) {
    STATEMENTS.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let output = work.await;
    (output, STATEMENTS.with(|s| s.borrow_mut().take()).unwrap())
}

/// `n` guarded snippets (a table each, every tenth with an index) and one seed
/// guarded by `unless`.
fn many_snippets(n: usize) -> SnippetDir {
    let dir = SnippetDir::new(&[]);
    for i in 1..=n {
        let mut text =
            format!("-- guard: table_missing(t{i})\nCREATE TABLE t{i} (id INTEGER NOT NULL PRIMARY KEY, v INTEGER);\n");
        if i % 10 == 0 {
            text = format!(
                "-- guard: table_missing(t{i})\n-- guard: index_missing(t{i}_v_idx)\nCREATE TABLE t{i} (id INTEGER NOT NULL PRIMARY KEY, v INTEGER);\nCREATE INDEX t{i}_v_idx ON t{i} (v);\n"
            );
        }
        dir.write(&format!("{i:04}_t{i}.sql"), &text);
    }
    dir.write(
        &format!("{:04}_seed.sql", n + 1),
        "-- guard: unless(SELECT 1 FROM t1 WHERE id = 1)\nINSERT INTO t1 (id, v) VALUES (1, 1);\n",
    );
    dir
}

/// Statements sent by a no-op boot of `n` snippets (`full`: with the full check).
async fn no_op_boot_statements(kind: Kind, n: usize, full: bool) -> Option<Vec<String>> {
    install_recorder();
    let db = TestDb::new(kind).await?;
    // A warm pool of one connection, so that no connection set-up is counted.
    let target: bootschema::Target = match kind {
        Kind::Postgres => PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap().into(),
        Kind::MySql => MySqlPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap().into(),
        Kind::Sqlite => unreachable!("see the module docs"),
    };
    let set = many_snippets(n).snippets();
    syncer(&set).run(target.clone()).await.unwrap();
    let (report, statements) = recording(syncer(&set).full_check(full).run(target)).await;
    let report = report.unwrap();
    assert_eq!(report.count(Action::Skip), n + 1);
    assert_eq!(report.unchanged, if full { 0 } else { n + 1 }, "only the fast path leaves steps out");
    Some(statements)
}

async fn no_op_boot_reads_a_constant_number_of_statements(kind: Kind) {
    for full in [false, true] {
        let Some(small) = no_op_boot_statements(kind, 10, full).await else { return };
        let Some(large) = no_op_boot_statements(kind, 150, full).await else { return };
        assert_eq!(
            small.len(),
            large.len(),
            "the cost of a no-op boot (full check: {full}) grows with the number of snippets: {small:?} {large:?}"
        );
        // Fast path: the mark row only. Full check: the mark, then the ledger, the
        // catalog snapshot and the unless guards, one statement each; on PostgreSQL
        // inside a read-only transaction (BEGIN … COMMIT), for one consistent view, and
        // the snapshot in two (the columns and constraints of the tables found).
        let expected = match (full, kind) {
            (false, _) => 1,
            (true, Kind::Postgres) => 7,
            (true, _) => 4,
        };
        assert_eq!(small.len(), expected, "full check: {full}: {small:?}");
        assert!(small[0].contains("SELECT checksum FROM"), "the mark is read first: {small:?}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_no_op_boot_reads_a_constant_number_of_statements() {
    no_op_boot_reads_a_constant_number_of_statements(Kind::Postgres).await;
}

#[tokio::test(flavor = "current_thread")]
async fn mysql_no_op_boot_reads_a_constant_number_of_statements() {
    no_op_boot_reads_a_constant_number_of_statements(Kind::MySql).await;
}

/// Syncs `dir` into `db` on a pool of one connection and returns the report with how
/// many `INSERT`s the sync sent (`Com_insert`, counted per session: the sync runs on the
/// connection whose counter is read).
async fn sync_counting_inserts(db: &TestDb, dir: &SnippetDir) -> (bootschema::SyncReport, i64) {
    async fn inserts(pool: &sqlx::MySqlPool) -> i64 {
        let (_, value): (String, String) =
            sqlx::query_as("SHOW SESSION STATUS LIKE 'Com_insert'").fetch_one(pool).await.unwrap();
        value.parse().unwrap()
    }
    let pool = MySqlPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let before = inserts(&pool).await;
    // On the pool's connection, whose counter this reads (by default the sync opens its own).
    let report = syncer(&dir.snippets()).pool_connection(true).run(&pool).await.unwrap();
    (report, inserts(&pool).await - before)
}

#[tokio::test(flavor = "current_thread")]
async fn mysql_guarded_statements_share_the_next_ledger_write() {
    let Some(db) = TestDb::new(Kind::MySql).await else { return };
    // Groups of four: three guarded DDL statements (their rows deferred) and a seed,
    // which commits with its row and the three deferred ones of the group before (the
    // last group's go with the mark).
    let groups = 5;
    let dir = SnippetDir::new(&[]);
    for k in 0..groups {
        let v = 4 * k;
        dir.write(
            &format!("{:04}_t{k}.sql", v + 1),
            &format!("CREATE TABLE t{k} (id INTEGER NOT NULL PRIMARY KEY, c INTEGER);\n"),
        );
        dir.write(&format!("{:04}_d{k}.sql", v + 2), &format!("ALTER TABLE t{k} ADD COLUMN d INTEGER;\n"));
        dir.write(&format!("{:04}_i{k}.sql", v + 3), &format!("CREATE INDEX t{k}_c_idx ON t{k} (c);\n"));
        dir.write(&format!("{:04}_s{k}.sql", v + 4), &format!("INSERT INTO t{k} (id, c, d) VALUES (1, 1, 1);\n"));
    }
    let (report, sent) = sync_counting_inserts(&db, &dir).await;
    assert_eq!(report.count(Action::Apply), 4 * groups);
    // Per group: the seed and one ledger write; then the mark. Without deferral each
    // statement would send its own row: 4 * groups + groups + 1.
    assert_eq!(sent, 2 * groups as i64 + 1, "INSERTs sent by the sync");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 4 * groups);
    assert!(ledger.iter().all(|row| row.contains(" applied ")), "{ledger:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn mysql_fresh_sync_sends_each_run_of_guarded_ddl_with_the_next_row_in_one_message() {
    install_recorder();
    let Some(db) = TestDb::new(Kind::MySql).await else { return };
    // Groups of three guarded DDL snippets and a seed; the last group has no seed.
    let groups = 6;
    let dir = SnippetDir::new(&[]);
    for k in 0..groups {
        let v = 4 * k;
        // Tables that take 30 ms to create, seeds 200 ms to insert: the server times each.
        dir.write(
            &format!("{:04}_t{k}.sql", v + 1),
            &format!("CREATE TABLE t{k} (id INTEGER PRIMARY KEY, c INTEGER) AS SELECT 1 AS id, SLEEP(0.03) AS c;\n"),
        );
        dir.write(&format!("{:04}_d{k}.sql", v + 2), &format!("ALTER TABLE t{k} ADD COLUMN d INTEGER;\n"));
        // A snippet of two statements.
        dir.write(
            &format!("{:04}_i{k}.sql", v + 3),
            &format!("CREATE INDEX t{k}_c_idx ON t{k} (c);\nCREATE INDEX t{k}_d_idx ON t{k} (d);\n"),
        );
        if k + 1 < groups {
            dir.write(
                &format!("{:04}_s{k}.sql", v + 4),
                &format!("INSERT INTO t{k} (id, c, d) VALUES (2, SLEEP(0.2), 1);\n"),
            );
        }
    }
    let pool = MySqlPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let set = dir.snippets();
    // On the pool's connection, so that the end of the test sees what the sync left on it.
    let (report, statements) = recording(syncer(&set).pool_connection(true).run(&pool)).await;
    let report = report.unwrap();
    assert_eq!(report.count(Action::Apply), 4 * groups - 1);
    // One message per group: the seed's, carrying the three snippets before it; the
    // last group's three snippets in one message of their own.
    // (bootschema logs the start of each message: the group's first table.)
    let messages = statements.iter().filter(|s| s.contains("CREATE TABLE t")).count();
    assert_eq!(messages, groups, "{statements:#?}");
    assert_eq!(statements.len(), groups + 11, "the fixed cost of a fresh sync: {statements:#?}");
    // The report and the rows (the seeds', timed by the server, and the others', timed
    // by the arrival of their results) have each snippet's own time: at least its own
    // sleep, and, the snippets' times being disjoint, all of them together no more than
    // the sync's (a row charged with the time of the message that carried it would
    // count a seed's sleep twice). No upper bound on any one snippet: the machine may be
    // slow.
    let at_least = |path: &str| match () {
        _ if path.contains("_s") => 200,
        _ if path.contains("_t") => 30,
        _ => 0,
    };
    // A statement timed by the arrival of results started on the server before the
    // result before it reached the client: its time can come out short by that latency
    // (199.9 ms for a 200 ms sleep, truncated to 199; 187 ms on a loaded machine), hence
    // a tenth of slack and a millisecond. A row charged with the whole message, or with
    // nothing, is still far outside it.
    let slack = |ms: u64| ms / 10 + 1;
    for step in &report.steps {
        let want = at_least(&step.path);
        assert!(step.duration_ms + slack(want) >= want, "{step:?}");
    }
    let total: u64 = report.steps.iter().map(|s| s.duration_ms).sum();
    assert!(total <= report.duration_ms, "{total} ms of snippets in a sync of {} ms", report.duration_ms);
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT path, duration_ms FROM bootschema_history WHERE version >= 0")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 4 * groups - 1);
    for (path, ms) in &rows {
        let want = at_least(path);
        assert!(*ms + slack(want) as i64 >= want as i64, "{path}: {ms} ms");
    }
    let recorded: i64 = rows.iter().map(|(_, ms)| ms).sum();
    assert!(recorded <= report.duration_ms as i64, "{recorded} ms recorded for a sync of {} ms", report.duration_ms);
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 4 * groups - 1);
    assert!(ledger.iter().all(|row| row.contains(" applied ")), "{ledger:?}");
    // The connection goes back to the pool without this sync's user variables.
    let left: Option<String> =
        sqlx::query_scalar("SELECT CAST(@bootschema_started AS CHAR)").fetch_one(&pool).await.unwrap();
    assert_eq!(left, None);
}

#[tokio::test(flavor = "current_thread")]
async fn mysql_adopting_an_existing_schema_writes_every_row_with_the_mark() {
    let Some(db) = TestDb::new(Kind::MySql).await else { return };
    // A database built before bootschema: every object of the snippets is there.
    let dir = SnippetDir::new(&[]);
    for k in 0..10 {
        let create = format!("CREATE TABLE t{k} (id INTEGER PRIMARY KEY, c INTEGER)");
        db.pool.exec(&create).await.unwrap();
        dir.write(&format!("{:04}_t{k}.sql", 2 * k + 1), &format!("{create};\n"));
        let index = format!("CREATE INDEX t{k}_c_idx ON t{k} (c)");
        db.pool.exec(&index).await.unwrap();
        dir.write(&format!("{:04}_i{k}.sql", 2 * k + 2), &format!("{index};\n"));
    }
    // One snippet guarded by a query: its row is written at once, as before.
    dir.write("0021_seeded.sql", "-- guard: unless(SELECT 1 FROM t0)\nINSERT INTO t0 VALUES (1, 1);\n");
    db.pool.exec("INSERT INTO t0 VALUES (1, 1)").await.unwrap();
    let (report, sent) = sync_counting_inserts(&db, &dir).await;
    assert_eq!(report.count(Action::Adopt), 21, "{report:?}");
    // The guarded snippet's row, then the twenty others with the mark, in one INSERT.
    assert_eq!(sent, 2, "INSERTs sent by the sync");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 21);
    assert!(ledger.iter().all(|row| row.contains(" adopted ")), "{ledger:?}");
    assert!(db.mark().await.is_some());
}

/// Statements (messages) sent by a fresh PostgreSQL sync of `n` snippets.
async fn fresh_sync_statements(n: usize) -> Option<Vec<String>> {
    install_recorder();
    let db = TestDb::new(Kind::Postgres).await?;
    let pool = PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let set = many_snippets(n).snippets();
    let (report, statements) = recording(syncer(&set).run(&pool)).await;
    let report = report.unwrap();
    assert_eq!(report.count(Action::Apply), n + 1);
    Some(statements)
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_fresh_sync_sends_the_snippets_of_a_batch_in_one_message() {
    // 10 and 100 snippets (110 statements) both fit one batch of the lock's
    // transaction: the same messages, whatever the number of snippets.
    let Some(small) = fresh_sync_statements(10).await else { return };
    let Some(large) = fresh_sync_statements(100).await else { return };
    assert_eq!(small.len(), large.len(), "{small:?}\n{large:?}");
    let batches = |list: &[String]| list.iter().filter(|s| s.starts_with(SNIPPETS)).count();
    // The tables and indexes in one message; the seed, whose `unless` guard reads a
    // table created by the sync, is asked again and runs in a message of its own.
    assert_eq!(batches(&large), 2, "{large:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_large_snippets_are_split_over_several_messages() {
    install_recorder();
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    // A table and three seeds of about 600 KiB each. A message carries at most 1 MiB of
    // SQL (a larger snippet goes alone): the table and the first seed, then one seed
    // per message.
    let values = |k: usize| {
        (0..20_000).map(|i| format!("({}, 'seed row {i:>15}')", k * 100_000 + i)).collect::<Vec<_>>().join(", ")
    };
    let dir = SnippetDir::new(&[("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY, v TEXT);\n")]);
    for k in 0..3 {
        dir.write(&format!("000{}_seed{k}.sql", k + 2), &format!("INSERT INTO t VALUES {};\n", values(k)));
    }
    let pool = PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let set = dir.snippets();
    let (report, statements) = recording(syncer(&set).run(&pool)).await;
    let report = report.unwrap();
    assert_eq!(report.count(Action::Apply), 4);
    let batches = statements.iter().filter(|s| s.starts_with(SNIPPETS)).count();
    assert_eq!(batches, 3, "{statements:?}");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM t").await, 60_000, "every row arrived once");
}

/// A fresh sync reads the catalog while its own connection is being opened (on the
/// pool's connection, before the lock), and under the lock only checks that the ledger
/// is still missing: no second catalog read before the snippets run.
async fn fresh_sync_reads_the_catalog_before_the_lock_only(kind: Kind, lock: &str) {
    install_recorder();
    let Some(db) = TestDb::new(kind).await else { return };
    let target: bootschema::Target = match kind {
        Kind::Postgres => PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap().into(),
        Kind::MySql => MySqlPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap().into(),
        Kind::Sqlite => unreachable!("see the module docs"),
    };
    let set = many_snippets(10).snippets();
    let (report, statements) = recording(syncer(&set).run(target)).await;
    assert_eq!(report.unwrap().count(Action::Apply), 11);
    let catalog_reads: Vec<usize> =
        statements.iter().enumerate().filter(|(_, s)| s.starts_with("SELECT 'path'")).map(|(i, _)| i).collect();
    let locked = statements.iter().position(|s| s.contains(lock)).expect("the lock is taken");
    let first_snippet = statements.iter().position(|s| s.contains("CREATE TABLE t1 ")).expect("t1 is created");
    assert!(catalog_reads.first().is_some_and(|&i| i < locked), "the catalog is read before the lock: {statements:#?}");
    assert!(
        !catalog_reads.iter().any(|&i| locked < i && i < first_snippet),
        "no catalog read between the lock and the snippets: {statements:#?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_fresh_sync_reads_the_catalog_before_the_lock_only() {
    fresh_sync_reads_the_catalog_before_the_lock_only(Kind::Postgres, "pg_advisory_xact_lock").await;
}

#[tokio::test(flavor = "current_thread")]
async fn mysql_fresh_sync_reads_the_catalog_before_the_lock_only() {
    fresh_sync_reads_the_catalog_before_the_lock_only(Kind::MySql, "GET_LOCK").await;
}
