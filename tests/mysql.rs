//! MySQL-only behaviour: where DDL commits by itself, the ledger rows of statements
//! that their own guards recover are deferred, and a statement that only changes rows
//! commits together with its row.
//!
//! A crash is simulated at an exact point by a snippet that kills its own connection
//! (`KILL CONNECTION_ID()`): the sync loses its connection there, as a `kill -9` of the
//! app would lose it, and the server releases the lock.

mod common;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};

async fn mysql() -> Option<TestDb> {
    TestDb::new(Kind::MySql).await
}

const CRASH: (&str, &str) = ("0009_crash.sql", "KILL CONNECTION_ID();\n");

/// Three guarded DDL statements: their rows are deferred.
const GUARDED: [(&str, &str); 3] = [
    ("0001_create_a.sql", "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY);\n"),
    ("0002_add_b.sql", "ALTER TABLE a ADD COLUMN b INTEGER;\n"),
    ("0003_index_b.sql", "CREATE INDEX a_b_idx ON a (b);\n"),
];

#[tokio::test]
async fn a_crash_loses_only_ledger_rows_that_the_guards_recover() {
    let Some(db) = mysql().await else { return };
    let dir = SnippetDir::new(&GUARDED);
    dir.write(CRASH.0, CRASH.1);
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("0009_crash.sql"), "{err}");
    assert!(db.ledger().await.is_empty(), "the guarded statements' rows were still deferred: {:?}", db.ledger().await);
    assert!(db.has_table("a").await);

    dir.remove(CRASH.0);
    let report = syncer(&dir.snippets()).run(db.target()).await.expect("the next boot recovers");
    let actions: Vec<Action> = report.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, [Action::Adopt; 3], "nothing runs twice: {report:?}");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 3);
    assert!(ledger.iter().all(|row| row.contains(" adopted ")), "{ledger:?}");
    assert_eq!(
        db.pool.count("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'a_b_idx'").await,
        1
    );
}

#[tokio::test]
async fn a_row_change_commits_with_its_row_and_the_rows_deferred_before_its_message() {
    let Some(db) = mysql().await else { return };
    // Two messages: the three guarded statements with the first seed, then a fourth
    // guarded statement with the second seed, whose transaction carries the rows of the
    // first message's guarded statements (queued once their results came back). The
    // fourth's row is still queued when the connection dies.
    let dir = SnippetDir::new(&GUARDED);
    dir.write("0004_seed.sql", "INSERT INTO a (id, b) VALUES (1, 1);\n");
    dir.write("0005_add_c.sql", "ALTER TABLE a ADD COLUMN c INTEGER;\n");
    dir.write("0006_seed_c.sql", "UPDATE a SET c = 1 WHERE id = 1;\n");
    dir.write(CRASH.0, CRASH.1);
    assert!(syncer(&dir.snippets()).run(db.target()).await.is_err());
    let ledger = db.ledger().await;
    let versions: Vec<&str> = ledger.iter().map(|row| row.split(' ').next().unwrap()).collect();
    assert_eq!(
        versions,
        ["1", "2", "3", "4", "6"],
        "the second seed's transaction carried the queued rows: {ledger:?}"
    );
    assert!(ledger.iter().all(|row| row.contains(" applied ")), "{ledger:?}");

    dir.remove(CRASH.0);
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let actions: Vec<Action> = report.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions[..4], [Action::Skip; 4], "{report:?}");
    assert_eq!(actions[4..], [Action::Adopt, Action::Skip], "the lost row is recovered by its guard: {report:?}");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM a").await, 1, "the seed ran once");
}

#[tokio::test]
async fn a_snippet_cut_off_after_a_guarded_statement_resumes_with_the_rest() {
    let Some(db) = mysql().await else { return };
    // One snippet: a guarded statement (deferred), then a backfill that is not.
    let dir = SnippetDir::new(&[(
        "0001_table_and_backfill.sql",
        "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY, b INTEGER);\nKILL CONNECTION_ID();\n",
    )]);
    assert!(syncer(&dir.snippets()).run(db.target()).await.is_err());
    assert!(db.ledger().await.is_empty(), "{:?}", db.ledger().await);

    // The fix: the backfill the kill stood for.
    dir.write(
        "0001_table_and_backfill.sql",
        "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY, b INTEGER);\nINSERT INTO a VALUES (1, 2);\n",
    );
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[0].action, Action::Apply, "a snippet with an unguarded statement is never adopted");
    assert_eq!(report.steps[0].statements_skipped, [0], "the table is there: only the insert runs");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM a").await, 1);
}

#[tokio::test]
async fn written_guards_keep_every_row_immediate() {
    let Some(db) = mysql().await else { return };
    // The written guard decides for the whole snippet: were the first statement's row
    // deferred and lost, the next boot would find the column and adopt the snippet
    // without its backfill.
    let dir = SnippetDir::new(&[
        ("0001_create_a.sql", "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO a VALUES (1);\n"),
        (
            "0002_add_b.sql",
            "-- guard: column_missing(a.b)\nALTER TABLE a ADD COLUMN b INTEGER;\nKILL CONNECTION_ID();\n",
        ),
    ]);
    assert!(syncer(&dir.snippets()).run(db.target()).await.is_err());
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert!(ledger[1].starts_with("2 partial "), "the column's progress is recorded: {ledger:?}");
}

#[tokio::test]
async fn a_seed_whose_row_cannot_be_written_is_rolled_back() {
    let Some(db) = mysql().await else { return };
    let dir = SnippetDir::new(&GUARDED);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    // The ledger refuses the seed's row: the write after the insert fails.
    db.pool.exec("ALTER TABLE bootschema_history ADD CONSTRAINT no_four CHECK (version <> 4)").await.unwrap();
    dir.write("0004_seed.sql", "INSERT INTO a (id, b) VALUES (1, 1);\n");
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("0004_seed.sql") && err.to_string().contains("rolled back"), "{err}");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM a").await, 0, "the insert went with its row");

    db.pool.exec("ALTER TABLE bootschema_history DROP CONSTRAINT no_four").await.unwrap();
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[3].action, Action::Apply);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM a").await, 1, "the seed ran once");
}

#[tokio::test]
async fn a_statement_that_fails_inside_a_message_keeps_the_ones_before_it_recorded() {
    let Some(db) = mysql().await else { return };
    // One message: two guarded snippets, then a snippet whose second statement fails.
    let dir = SnippetDir::new(&GUARDED[..2]);
    dir.write("0003_indexes.sql", "CREATE INDEX a_b_idx ON a (b);\nCREATE INDEX a_c_idx ON a (c);\n");
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err().to_string();
    assert!(err.contains("sql/0003_indexes.sql:2: statement failed"), "{err}");
    assert!(err.contains("1 earlier statement(s) of this snippet completed"), "{err}");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 3, "{ledger:?}");
    assert!(ledger[0].starts_with("1 applied ") && ledger[1].starts_with("2 applied "), "{ledger:?}");
    assert!(ledger[2].starts_with("3 partial "), "the first index is recorded: {ledger:?}");

    dir.write("0003_indexes.sql", "CREATE INDEX a_b_idx ON a (b);\nCREATE INDEX a_id_idx ON a (id);\n");
    let report = syncer(&dir.snippets()).run(db.target()).await.expect("the fixed snippet resumes");
    assert_eq!(report.steps[2].action, Action::Apply, "{report:?}");
    assert_eq!(report.steps[2].statements_run, 1, "only the fixed statement runs: {report:?}");
    assert!(db.ledger().await.iter().all(|row| row.contains(" applied ")), "{:?}", db.ledger().await);
}

#[tokio::test]
async fn adopt_rows_that_their_guards_recover_wait_and_come_back_after_a_crash() {
    let Some(db) = mysql().await else { return };
    for (_, sql) in GUARDED {
        db.pool.exec(sql.trim_end().trim_end_matches(';')).await.unwrap();
    }
    let dir = SnippetDir::new(&GUARDED);
    dir.write(CRASH.0, CRASH.1);
    // Baseline 0: the hand-made objects are no history of the snippets; guards decide.
    assert!(syncer(&dir.snippets()).baseline(0).run(db.target()).await.is_err());
    assert!(db.ledger().await.is_empty(), "the adopt rows were still queued: {:?}", db.ledger().await);

    dir.remove(CRASH.0);
    let report = syncer(&dir.snippets()).run(db.target()).await.expect("the next boot adopts them again");
    assert_eq!(report.count(Action::Adopt), 3, "{report:?}");
    assert_eq!(db.ledger().await.len(), 3);
}

/// A history whose first file references a table it creates later needs
/// `foreign_key_checks = 0`: one setting, on bootschema's own connection only.
#[tokio::test]
async fn a_session_variable_applies_a_history_with_forward_references_and_is_restored() {
    let Some(db) = mysql().await else { return };
    let dir = SnippetDir::new(&[
        (
            "0001_orders.sql",
            "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, \
             CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id));\n",
        ),
        ("0002_customers.sql", "CREATE TABLE customers (id INT PRIMARY KEY);\n"),
    ]);
    let set = dir.snippets();
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("0001_orders.sql"), "without the setting MariaDB refuses: {err}");

    let other = TestDb::new(Kind::MySql).await.unwrap();
    // One connection, and the sync on the pool's connection, so that the app's next
    // query gets the very connection the sync used (by default the sync opens its own).
    let pool = sqlx::mysql::MySqlPoolOptions::new().max_connections(1).connect(&other.url).await.unwrap();
    let syncer = syncer(&set).mysql_session_variable("foreign_key_checks", "0").pool_connection(true);
    let report = syncer.run(&pool).await.unwrap();
    assert_eq!(report.count(Action::Apply), 2);
    let checks: i64 = sqlx::query_scalar("SELECT @@SESSION.foreign_key_checks").fetch_one(&pool).await.unwrap();
    assert_eq!(checks, 1, "the app's connection has its foreign key checks back");
    assert!(other.catalog().await.iter().any(|l| l.contains("orders_customer")), "the foreign key exists");
}

/// MySQL's schemas are databases: a ledger qualified with another database would be one
/// ledger and one mark for every app database on the server (a second, empty database
/// would boot "in sync"). Only the app's own database may qualify it.
#[tokio::test]
async fn a_qualified_ledger_must_be_in_the_apps_own_database() {
    let Some(a) = mysql().await else { return };
    let b = TestDb::new(Kind::MySql).await.unwrap();
    let name_a = a.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let set = SnippetDir::new(&[("0001_items.sql", "CREATE TABLE items (id INT PRIMARY KEY);\n")]).snippets();
    let shared = format!("{name_a}.schema_history");
    syncer(&set).ledger_table(&shared).run(a.target()).await.expect("its own database may qualify the ledger");
    assert!(a.has_table("items").await);
    let err = syncer(&set).ledger_table(&shared).run(b.target()).await.unwrap_err();
    assert!(err.to_string().contains("app's own database") && err.to_string().contains(&shared), "{err}");
    assert!(!b.has_table("items").await, "nothing ran on the other database");
    // The same unqualified setting gives each database a ledger of its own.
    syncer(&set).ledger_table("schema_history").run(b.target()).await.unwrap();
    assert!(b.has_table("items").await && b.has_table("schema_history").await);
}

/// MySQL's own databases are refused too.
#[tokio::test]
async fn a_maintenance_database_is_refused() {
    let Some(db) = mysql().await else { return };
    let base = db.url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    let pool = sqlx::MySqlPool::connect(&format!("{base}/sys")).await.unwrap();
    let set = SnippetDir::new(&[("0001_t.sql", "CREATE TABLE bs_never (id INT);\n")]).snippets();
    let err = syncer(&set).run(&pool).await.unwrap_err();
    assert!(matches!(err.kind(), bootschema::ErrorKind::MaintenanceDatabase { .. }), "{err}");
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sys' \
         AND TABLE_NAME IN ('bs_never', 'bootschema_history')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "nothing was created");
}
