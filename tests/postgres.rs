//! PostgreSQL-only behaviour: `transaction: none`, invalid indexes, schema-qualified
//! guards, the advisory lock.

mod common;

use bootschema::{Action, GuardStatus};
use common::{syncer, Kind, SnippetDir, TestDb};

async fn postgres() -> Option<TestDb> {
    TestDb::new(Kind::Postgres).await
}

#[tokio::test]
async fn create_index_concurrently_runs_outside_a_transaction() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[
        ("0001_items.sql", "-- guard: table_missing(items)\nCREATE TABLE items (id INT PRIMARY KEY, name TEXT);\n"),
        (
            "0002_index.sql",
            "-- guard: index_missing(items_name_idx)\n-- transaction: none\nCREATE INDEX CONCURRENTLY items_name_idx ON items (name);\n",
        ),
    ]);
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Apply);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'items_name_idx'").await, 1);
}

#[tokio::test]
async fn an_invalid_index_counts_as_missing() {
    let Some(db) = postgres().await else { return };
    db.pool.exec("CREATE TABLE items (id INT, name TEXT); INSERT INTO items VALUES (1, 'a'), (2, 'a');").await.unwrap();
    // A unique index built concurrently over duplicates fails and stays behind, invalid.
    assert!(db.pool.exec("CREATE UNIQUE INDEX CONCURRENTLY items_name_key ON items (name)").await.is_err());
    let dir = SnippetDir::new(&[(
        "0001_unique.sql",
        "-- guard: index_missing(items_name_key)\n-- transaction: none\nCREATE UNIQUE INDEX CONCURRENTLY items_name_key ON items (name);\n",
    )]);
    // Baseline 0: the hand-made table is no history of the snippet; its guard decides.
    let plan = syncer(&dir.snippets()).baseline(0).plan(db.target()).await.unwrap();
    assert_eq!(plan.steps[0].action, Action::Apply);
    assert_eq!(plan.steps[0].guards[0].status, GuardStatus::Missing);
}

#[tokio::test]
async fn schema_qualified_guards_look_in_their_schema_only() {
    let Some(db) = postgres().await else { return };
    // A same-named table in `public` must not make the billing snippet look applied.
    db.pool.exec("CREATE TABLE invoices (id INT, total INT)").await.unwrap();
    let dir = SnippetDir::new(&[
        ("0001_schema.sql", "-- guard: unless(SELECT 1 FROM pg_namespace WHERE nspname = 'billing')\nCREATE SCHEMA billing;\n"),
        ("0002_invoices.sql", "-- guard: table_missing(billing.invoices)\nCREATE TABLE billing.invoices (id INT);\n"),
        ("0003_total.sql", "-- guard: column_missing(billing.invoices.total)\nALTER TABLE billing.invoices ADD COLUMN total INT;\n"),
        (
            "0004_key.sql",
            "-- guard: constraint_missing(billing.invoices.invoices_id_key)\nALTER TABLE billing.invoices ADD CONSTRAINT invoices_id_key UNIQUE (id);\n",
        ),
    ]);
    let set = dir.snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 4, "{:?}", report.steps.iter().map(|s| s.action).collect::<Vec<_>>());
    let again = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(again.count(Action::Skip), 4);
}

#[tokio::test]
async fn quoted_guard_names_keep_their_case() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[(
        "0001_mixed.sql",
        "-- guard: table_missing(\"MixedCase\")\nCREATE TABLE \"MixedCase\" (id INT);\n",
    )]);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let again = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert_eq!(again.steps[0].action, Action::Skip, "the quoted name is found as written");
}

/// The PostgreSQL lock table's slots: `max_locks_per_transaction` for every process
/// that can hold locks.
async fn lock_slots(db: &TestDb) -> i64 {
    db.pool
        .count(
            "SELECT current_setting('max_locks_per_transaction')::int8 * ( \
             current_setting('max_connections')::int8 + current_setting('max_prepared_transactions')::int8 \
             + current_setting('autovacuum_max_workers')::int8 + 1 \
             + current_setting('max_worker_processes')::int8 + current_setting('max_wal_senders')::int8)",
        )
        .await
}

#[tokio::test]
async fn a_first_sync_larger_than_the_lock_table_commits_in_batches() {
    let Some(db) = postgres().await else { return };
    // Each snippet locks three relations (the table, its key, its index) until its
    // transaction ends: in one transaction, this set would need more lock slots than
    // the server has ("out of shared memory").
    let tables = lock_slots(&db).await / 2;
    let folder = tempfile::tempdir().unwrap();
    let sql = folder.path().join("sql");
    std::fs::create_dir(&sql).unwrap();
    for i in 0..tables {
        std::fs::write(
            sql.join(format!("{:05}_t{i}.sql", i + 1)),
            format!("CREATE TABLE t{i} (id INT PRIMARY KEY, c INT);\nCREATE INDEX t{i}_c ON t{i} (c);\n"),
        )
        .unwrap();
    }
    let set = common::scan(&sql);
    let report = syncer(&set).run(db.target()).await.expect("a sync larger than the lock table succeeds");
    assert_eq!(report.count(Action::Apply) as i64, tables);
    assert_eq!(
        db.pool.count("SELECT COUNT(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^t[0-9]+$'").await,
        tables
    );
    // The rows of one transaction share its xmin: no transaction held more than 256
    // statements (128 of these snippets), and every one but the last held exactly that.
    let batches = db
        .pool
        .strings(
            "SELECT COUNT(*)::text FROM bootschema_history WHERE version >= 0 \
             GROUP BY xmin::text ORDER BY MIN(version)",
        )
        .await;
    let sizes: Vec<i64> = batches.iter().map(|n| n.parse().unwrap()).collect();
    assert_eq!(sizes.iter().sum::<i64>(), tables);
    assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == 128), "{sizes:?}");
    assert!(*sizes.last().unwrap() <= 128, "{sizes:?}");
    assert_eq!(db.advisory_locks().await, 0, "the lock is released");
    let again = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(again.unchanged as i64, tables, "the mark was written after the last batch");
}

#[tokio::test]
async fn replicas_that_take_the_lock_between_batches_apply_each_snippet_once() {
    let Some(db) = postgres().await else { return };
    // 700 run-once snippets: a replica commits every 256 and takes the lock again;
    // another one waiting gets it first, applies the next batch, and the first must
    // notice that the ledger changed and plan again rather than apply them twice.
    let folder = tempfile::tempdir().unwrap();
    let sql = folder.path().join("sql");
    std::fs::create_dir(&sql).unwrap();
    std::fs::write(sql.join("00001_counter.sql"), "CREATE TABLE counter (n INT NOT NULL);\n").unwrap();
    for i in 2..=700 {
        std::fs::write(sql.join(format!("{i:05}_count.sql")), format!("INSERT INTO counter (n) VALUES ({i});\n"))
            .unwrap();
    }
    let applied = db.boot_replicas(common::scan(&sql), 4).await;
    assert_eq!(applied, 700, "each snippet applied by exactly one replica");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM counter").await, 699, "each insert ran once");
    assert_eq!(db.pool.count("SELECT COUNT(DISTINCT n) FROM counter").await, 699);
    assert_eq!(db.ledger().await.len(), 700);
}

#[tokio::test]
async fn a_failed_snippet_in_a_batch_keeps_the_ones_before_it_and_nothing_of_itself() {
    let Some(db) = postgres().await else { return };
    // One message carries all four. The failure rolls the message back; the snippets
    // before the failed one run again on their own, and the failed one alone fails.
    let dir = SnippetDir::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\n"),
        ("0002_b.sql", "CREATE TABLE b (id INT);\n"),
        ("0003_bad.sql", "CREATE TABLE half (id INT);\nINSERT INTO no_such_table VALUES (1);\n"),
        ("0004_c.sql", "CREATE TABLE c (id INT);\n"),
    ]);
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("sql/0003_bad.sql:2"), "{err}");
    assert!(db.has_table("a").await && db.has_table("b").await, "the snippets before it stand");
    assert!(!db.has_table("half").await, "nothing of the failed snippet is kept");
    assert!(!db.has_table("c").await, "nothing after it ran");
    let ledger = db.ledger().await;
    let versions: Vec<&str> = ledger.iter().map(|row| row.split(' ').next().unwrap()).collect();
    assert_eq!(versions, ["1", "2"], "{ledger:?}");
}

#[tokio::test]
async fn each_snippet_of_a_batch_is_timed_on_its_own() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\n"),
        ("0002_wait.sql", "SELECT pg_sleep(1);\n"),
        ("0003_b.sql", "CREATE TABLE b (id INT);\n"),
    ]);
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let ms: Vec<u64> = report.steps.iter().map(|s| s.duration_ms).collect();
    assert!(ms[1] >= 1000, "the sleeping snippet took its second: {ms:?}");
    assert!(ms[0] < 1000 && ms[2] < 1000, "its neighbours are not charged for it: {ms:?}");
    let recorded = db.pool.count("SELECT duration_ms FROM bootschema_history WHERE version = 2").await;
    assert!(recorded >= 1000, "the ledger row has the same duration: {recorded}");
}

/// The clock after each snippet is read as PostgreSQL prints a `timestamptz`: a
/// snippet that moves the session to another time zone (a half-hour offset) leaves the
/// timing right; one that changes `DateStyle` leaves the readings unreadable, which
/// costs the timing of what follows it in the batch (reported as taking no time) and
/// nothing else.
#[tokio::test]
async fn the_timing_of_a_batch_survives_snippets_that_change_the_session_clock_settings() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\n"),
        ("0002_zone.sql", "SET TIME ZONE 'Asia/Kolkata';\n"),
        ("0003_wait.sql", "SELECT pg_sleep(0.3);\n"),
        ("0004_style.sql", "SET DateStyle = 'German';\n"),
        ("0005_wait.sql", "SELECT pg_sleep(0.3);\n"),
        ("0006_t.sql", "CREATE TABLE t (id INT);\n"),
    ]);
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let ms: Vec<u64> = report.steps.iter().map(|s| s.duration_ms).collect();
    // The first reading is in UTC (the arrival too), the next ones at +05:30.
    assert!(ms[0] < 300 && ms[1] < 300, "the change of zone is no jump of hours: {ms:?}");
    assert!((300..1000).contains(&ms[2]), "timed across the change of time zone: {ms:?}");
    assert_eq!(&ms[3..], [0, 0, 0], "no reading after the DateStyle change is made up: {ms:?}");
    assert!(db.has_table("t").await);
    assert_eq!(db.ledger().await.len(), 6, "every snippet is recorded");
    let again = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert!(again.steps.iter().all(|s| !s.action.runs_sql()), "{again:?}");
}

/// A URL without the app's database name lands in `postgres`: the sync refuses to
/// write there, before anything (no ledger, no table), unless allowed.
#[tokio::test]
async fn a_maintenance_database_is_refused() {
    let Some(_db) = postgres().await else { return };
    let server = common::server_url(Kind::Postgres).unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b).to_string();
    let pool = sqlx::PgPool::connect(&format!("{base}/postgres")).await.unwrap();
    let table = format!("bs_maintenance_{}", std::process::id());
    let set = SnippetDir::new(&[("0001_t.sql", &*format!("CREATE TABLE {table} (id INT);\n"))]).snippets();
    let result = syncer(&set).ledger_table(&format!("{table}_history")).run(&pool).await;
    let exists = |name: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_tables WHERE tablename = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let created = (exists(table.clone()).await, exists(format!("{table}_history")).await);
    // Clean up whatever a wrong outcome left in the shared database before asserting.
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}, {table}_history")))
        .execute(&pool)
        .await;
    let err = result.unwrap_err();
    assert!(matches!(err.kind(), bootschema::ErrorKind::MaintenanceDatabase { .. }), "{err}");
    assert!(
        err.to_string().contains("`postgres`") && err.to_string().contains("BSTEST_SCHEMA_ALLOW_MAINTENANCE_DATABASE")
    );
    assert_eq!(created, (0, 0), "nothing was created");
}

/// A savepoint's locks last until its transaction commits: a snippet that alters a
/// table the app reads must not keep it locked while later snippets run (here a long
/// backfill of another table): the sync commits right after it.
#[tokio::test]
async fn a_table_the_app_uses_is_free_as_soon_as_its_snippet_ends() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[(
        "0001_hot.sql",
        "CREATE TABLE hot (id INT PRIMARY KEY);\nINSERT INTO hot SELECT generate_series(1, 100);\n",
    )]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write("0002_w.sql", "ALTER TABLE hot ADD COLUMN w INT;\n");
    dir.write("0003_other.sql", "CREATE TABLE other (id INT);\nSELECT pg_sleep(4);\n");
    let set = dir.snippets();
    let target = db.target();
    let sync = tokio::spawn(async move { syncer(&set).run(target).await });
    // Wait until the backfill runs, then read `hot` as the app would, bounded to 1 s.
    let common::Pool::Postgres(pool) = &db.pool else { unreachable!() };
    let started = std::time::Instant::now();
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND state = 'active' \
             AND pid <> pg_backend_pid()",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if running > 0 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the backfill never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET statement_timeout = 1000").execute(&mut *conn).await.unwrap();
    let read: Result<i64, _> = sqlx::query_scalar("SELECT count(*) FROM hot").fetch_one(&mut *conn).await;
    let backfill_running = !sync.is_finished();
    sqlx::raw_sql("RESET statement_timeout").execute(&mut *conn).await.unwrap();
    drop(conn);
    assert_eq!(read.expect("the app's read of `hot` waited for the backfill of another table"), 100);
    assert!(backfill_running, "the read is meant to happen during the backfill");
    let report = sync.await.unwrap().unwrap();
    assert_eq!(report.count(Action::Apply), 2);
    assert_eq!(
        db.pool
            .count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'hot' AND column_name = 'w'")
            .await,
        1
    );
}

/// PostgreSQL parses a whole message before it runs any of it: a syntax error in one
/// snippet of a batch must name that snippet, and the snippets before it, in the same
/// message or in an earlier one of the same transaction, must stand and be recorded.
#[tokio::test]
async fn a_syntax_error_in_a_batch_names_its_snippet_and_the_ones_before_it_stand() {
    let Some(db) = postgres().await else { return };
    // More than a message carries: the first snippet travels alone.
    let big = format!("CREATE TABLE a (t TEXT);\nINSERT INTO a VALUES ('{}');\n", "x".repeat(1_100_000));
    let dir = SnippetDir::new(&[
        ("0001_a.sql", big.as_str()),
        ("0002_b.sql", "CREATE TABLE b (id INT);\nINSERT INTO b VALUES (1);\n"),
        ("0003_c.sql", "CREATE TABLE c (id INT);\nSELEC 1;\n"),
        ("0004_d.sql", "CREATE TABLE d (id INT);\n"),
    ]);
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    match err.kind() {
        bootschema::ErrorKind::Statement { path, line, .. } => {
            assert!(path.ends_with("0003_c.sql"), "{err}");
            assert_eq!(*line, 2, "{err}");
        }
        other => panic!("expected the statement of 0003 to be named, got {other}"),
    }
    let tables = db
        .pool
        .strings("SELECT table_name::text FROM information_schema.tables WHERE table_name IN ('a', 'b', 'c', 'd') ORDER BY 1")
        .await;
    assert_eq!(tables, ["a", "b"]);
    let recorded =
        db.pool.strings("SELECT path FROM bootschema_history WHERE version BETWEEN 1 AND 4 ORDER BY version").await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    // Fixed, the next boot applies the rest.
    dir.write("0003_c.sql", "CREATE TABLE c (id INT);\nSELECT 1;\n");
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 2);
}

/// Whether `text` holds sqlx's rendering of the server's C source line (`… at line 3655`).
fn names_a_server_source_line(text: &str) -> bool {
    text.match_indices("at line ").any(|(i, m)| text[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// A PostgreSQL error says what the server said (message, SQLSTATE, detail), never the
/// line of the server's C source that raised it, which means nothing to a user (issue
/// 16, item 11).
#[tokio::test]
async fn a_failed_statement_shows_the_servers_message_without_its_source_line() {
    let Some(db) = postgres().await else { return };
    let dir = SnippetDir::new(&[(
        "0001_items.sql",
        "CREATE TABLE items (id INT PRIMARY KEY);\nINSERT INTO items VALUES (1), (1);\n",
    )]);
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("0001_items.sql:2"), "{text}");
    assert!(text.contains("duplicate key value violates unique constraint"), "the server's message: {text}");
    assert!(text.contains("23505") && text.contains("Key (id)=(1) already exists"), "code and detail: {text}");
    assert!(!names_a_server_source_line(&text), "the server's C source line: {text}");
    // sqlx's own rendering has it: this test would see it.
    let raw = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
    assert!(
        names_a_server_source_line(&raw),
        "sqlx's own Display no longer has it, so the check proves nothing: {raw}"
    );

    // An error bootschema meets outside a snippet (a ledger schema the server refuses,
    // a `Database` error), through the release command's output.
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let set = SnippetDir::new(&[("0001_a.sql", "CREATE TABLE a (id INT);\n")]).snippets();
    let release = bootschema::release::Release::new(syncer(&set).ledger_table("pg_catalog.schema_history"));
    let target = db.target();
    let code = release
        .run(
            ["apply".into()],
            || async { Ok::<_, std::io::Error>(target) },
            &mut bootschema::release::Console::new(&mut out, &mut errors),
        )
        .await;
    let errors = String::from_utf8_lossy(&errors).into_owned();
    assert_eq!(code, 1, "{errors}");
    assert!(errors.contains("unacceptable schema name") && errors.contains("code 42939"), "{errors}");
    assert!(!names_a_server_source_line(&errors), "{errors}");
}

/// A role that may connect but not create tables: the first sync fails on the ledger's
/// creation (which travels with the lock), says so with the server's reason, and leaves
/// nothing behind: no table, no lock. Granted the privilege, the same sync goes through.
#[tokio::test]
async fn a_role_that_cannot_create_the_ledger_is_told_so_and_leaves_nothing() {
    let Some(db) = postgres().await else { return };
    let role = format!("bs_nocreate_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&common::server_url(Kind::Postgres).unwrap()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN")))
        .execute(&admin)
        .await
        .unwrap();
    // PostgreSQL 15 and later: nobody but the owner creates in `public`; older servers
    // let everyone, so the test takes the privilege away itself.
    db.pool.exec(&format!("REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")).await.unwrap();
    let (scheme, rest) = db.url.split_once("://").unwrap();
    let role_url = format!("{scheme}://{role}@{}", rest.split_once('@').unwrap().1);
    let pool = sqlx::PgPool::connect(&role_url).await.unwrap();
    let dir = SnippetDir::new(&[("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n")]);
    let set = dir.snippets();

    let err = syncer(&set).run(&pool).await.unwrap_err().to_string();
    assert!(err.contains("creating the ledger table") && err.contains("permission denied"), "{err}");
    assert!(!db.has_table("bootschema_history").await && !db.has_table("t").await, "nothing is left");
    let locks = "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                 WHERE l.locktype = 'advisory' AND d.datname = current_database()";
    assert_eq!(db.pool.count(locks).await, 0, "no lock is held");

    db.pool.exec(&format!("GRANT CREATE ON SCHEMA public TO {role}")).await.unwrap();
    let report = syncer(&set).run(&pool).await.unwrap();
    assert_eq!(report.count(Action::Apply), 1);
    assert!(db.has_table("t").await);
    pool.close().await;
    db.pool.exec(&format!("DROP OWNED BY {role}")).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE {role}"))).execute(&admin).await.unwrap();
}

/// A snippet that fails after others of its message ran is not run again: the message
/// is rolled back, the snippets before it run again on their own (as documented, what
/// they did outside the transaction, a sequence's `nextval`, then happens twice), and its
/// own failure is returned as the first run met it, once.
#[tokio::test]
async fn a_failed_snippet_of_a_batch_runs_once_and_the_ones_before_it_run_again() {
    let Some(db) = postgres().await else { return };
    db.pool.exec("CREATE SEQUENCE before_runs; CREATE SEQUENCE failed_runs").await.unwrap();
    let dir = SnippetDir::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\nSELECT nextval('before_runs');\n"),
        (
            "0002_bad.sql",
            "CREATE TABLE half (id INT);\nSELECT nextval('failed_runs');\nINSERT INTO no_such_table VALUES (1);\n",
        ),
    ]);
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("sql/0002_bad.sql:3"), "{err}");
    assert!(db.has_table("a").await && !db.has_table("half").await);
    assert_eq!(db.pool.count("SELECT last_value FROM failed_runs").await, 1, "the failed snippet ran once");
    assert_eq!(db.pool.count("SELECT last_value FROM before_runs").await, 2, "the one before it ran again");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert!(ledger[0].starts_with("1 "), "{ledger:?}");
}
