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
    let plan = syncer(&dir.snippets()).plan(db.target()).await.unwrap();
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
