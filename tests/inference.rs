//! Guards inferred from the DDL, on real databases: statements whose objects are there
//! are skipped one by one, renames run once, and a drop in a later snippet is no drift.

mod common;

use bootschema::{Action, GuardStatus};
use common::{syncer, Kind, SnippetDir, TestDb};

on_every_database!(
    a_snippet_adding_two_columns_adds_only_the_missing_one,
    the_plan_lists_every_statement_with_whether_it_runs,
    a_snippet_whose_statements_are_all_done_is_adopted,
    a_rename_runs_once_and_is_adopted_where_done_by_hand,
    a_column_dropped_by_a_later_snippet_is_no_drift,
    a_column_dropped_by_hand_is_drift,
    a_backfill_makes_the_snippet_run_once_but_present_statements_are_skipped,
);

const TABLE: (&str, &str) =
    ("0001_create_items.sql", "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100));\n");
const TWO_COLUMNS: (&str, &str) = (
    "0002_add_price_and_stock.sql",
    "ALTER TABLE items ADD COLUMN price INTEGER;\nALTER TABLE items ADD COLUMN stock INTEGER;\n",
);

async fn a_snippet_adding_two_columns_adds_only_the_missing_one(db: TestDb) {
    let dir = SnippetDir::new(&[TABLE]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    // Someone added `price` by hand (or a MySQL run stopped after the first statement).
    db.pool.exec("ALTER TABLE items ADD COLUMN price INTEGER").await.unwrap();
    dir.write(TWO_COLUMNS.0, TWO_COLUMNS.1);
    let report = syncer(&dir.snippets()).run(db.target()).await.expect("no duplicate-column error");
    let step = &report.steps[1];
    assert_eq!(step.action, Action::Apply, "{}", step.reason);
    assert_eq!(step.statements_skipped, vec![0], "the ALTER adding `price` is skipped");
    assert_eq!(step.statements_run, 1, "only `stock` is added");
    assert_eq!(db.pool.count("SELECT COUNT(price) + COUNT(stock) + 1 FROM items").await, 1, "both columns exist");
    assert!(db.ledger().await[1].starts_with("2 applied "));
}

async fn the_plan_lists_every_statement_with_whether_it_runs(db: TestDb) {
    let dir = SnippetDir::new(&[TABLE]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    db.pool.exec("ALTER TABLE items ADD COLUMN price INTEGER").await.unwrap();
    dir.write(TWO_COLUMNS.0, TWO_COLUMNS.1);
    let plan = syncer(&dir.snippets()).plan(db.target()).await.unwrap();
    let statements = &plan.steps[1].statements;
    assert_eq!(statements.len(), 2);
    assert_eq!((statements[0].index, statements[0].line, statements[0].run), (0, 1, false));
    assert!(statements[0].reason.contains("present"), "{}", statements[0].reason);
    assert_eq!(statements[0].guards[0].guard, "column_missing(items.price)");
    assert_eq!(statements[0].guards[0].status, GuardStatus::Present);
    assert_eq!((statements[1].line, statements[1].run), (2, true));
    assert_eq!(statements[1].sql, "ALTER TABLE items ADD COLUMN stock INTEGER");
    assert!(statements[1].reason.contains("column_missing(items.stock)"), "{}", statements[1].reason);
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["steps"][1]["statements"][0]["run"], false, "the per-statement plan is serialized: {json}");
    assert_eq!(json["steps"][1]["statements_skipped"][0], 0);
}

async fn a_snippet_whose_statements_are_all_done_is_adopted(db: TestDb) {
    db.pool
        .exec("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100), price INTEGER, stock INTEGER)")
        .await
        .unwrap();
    let set = SnippetDir::new(&[TABLE, TWO_COLUMNS]).snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.steps.iter().map(|s| s.action).collect::<Vec<_>>(), [Action::Adopt, Action::Adopt]);
    assert!(db.ledger().await.iter().all(|r| r.contains(" adopted ")));
}

async fn a_rename_runs_once_and_is_adopted_where_done_by_hand(db: TestDb) {
    let files = [TABLE, ("0002_rename_name.sql", "ALTER TABLE items RENAME COLUMN name TO title;\n")];
    // A fresh database: the rename is needed although `items` is created in the same sync.
    let report = syncer(&SnippetDir::new(&files).snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Apply, "{}", report.steps[1].reason);
    assert_eq!(db.pool.count("SELECT COUNT(title) FROM items").await, 0, "the column is now `title`");
    let again = syncer(&SnippetDir::new(&files).snippets()).run(db.target()).await.unwrap();
    assert!(!again.changed_anything(), "{:?}", again.steps.iter().map(|s| &s.reason).collect::<Vec<_>>());

    // Another database, renamed by hand before it ever synced: adopted, not run.
    let other = TestDb::new(db.kind).await.unwrap();
    other.pool.exec("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, title VARCHAR(100))").await.unwrap();
    let report = syncer(&SnippetDir::new(&files).snippets()).run(other.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Adopt, "{}", report.steps[1].reason);
}

async fn a_column_dropped_by_a_later_snippet_is_no_drift(db: TestDb) {
    let dir = SnippetDir::new(&[TABLE, TWO_COLUMNS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write("0003_drop_stock.sql", "-- destructive\nALTER TABLE items DROP COLUMN stock;\n");
    let set = dir.snippets();
    let undone = &set.for_dialect(db.target().dialect())[1].statements[1].guards[0];
    assert_eq!(undone.undone_by, Some(3), "the build records which snippet undoes the guard");
    let report = syncer(&set).allow_destructive(true).run(db.target()).await.expect("verify accepts the drop");
    assert_eq!(report.steps[2].action, Action::Apply);
    let again = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert_eq!(again.steps[1].action, Action::Skip, "not drift: {}", again.steps[1].reason);
    assert!(!again.changed_anything());
}

async fn a_column_dropped_by_hand_is_drift(db: TestDb) {
    let set = SnippetDir::new(&[TABLE, TWO_COLUMNS]).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    db.pool.exec("ALTER TABLE items DROP COLUMN stock").await.unwrap();
    let report = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert_eq!(report.steps[1].action, Action::Drift);
    assert!(report.steps[1].reason.contains("column_missing(items.stock)"), "{}", report.steps[1].reason);
}

async fn a_backfill_makes_the_snippet_run_once_but_present_statements_are_skipped(db: TestDb) {
    let backfill = (
        "0002_price_with_backfill.sql",
        "ALTER TABLE items ADD COLUMN price INTEGER;\nUPDATE items SET price = 0 WHERE price IS NULL;\n",
    );
    db.pool
        .exec("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100), price INTEGER)")
        .await
        .unwrap();
    db.pool.exec("INSERT INTO items (id, name) VALUES (1, 'a')").await.unwrap();
    // Baseline 0: the hand-made table is no history of the snippets; guards decide.
    let report = syncer(&SnippetDir::new(&[TABLE, backfill]).snippets()).baseline(0).run(db.target()).await.unwrap();
    assert_eq!(report.steps[0].action, Action::Adopt);
    assert_eq!(report.steps[1].action, Action::Apply, "not every statement is guarded: it runs once");
    assert_eq!(report.steps[1].statements_skipped, vec![0], "the column is there");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items WHERE price = 0").await, 1, "the backfill ran");
}

#[tokio::test]
async fn postgres_schema_and_enum_type_are_guarded() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let files = [(
        "0001_billing.sql",
        "CREATE SCHEMA billing;\nCREATE TYPE billing.currency AS ENUM ('EUR', 'USD');\nCREATE TABLE billing.prices (amount INTEGER, currency billing.currency);\n",
    )];
    let set = SnippetDir::new(&files).snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.steps[0].action, Action::Apply);
    let guards: Vec<&str> = report.steps[0].guards.iter().map(|g| g.guard.as_str()).collect();
    assert_eq!(guards, ["schema_missing(billing)", "type_missing(billing.currency)", "table_missing(billing.prices)"]);

    let other = TestDb::new(Kind::Postgres).await.unwrap();
    other.pool.exec("CREATE SCHEMA billing; CREATE TYPE billing.currency AS ENUM ('EUR', 'USD')").await.unwrap();
    let report = syncer(&set).baseline(0).run(other.target()).await.unwrap();
    assert_eq!(report.steps[0].action, Action::Apply);
    assert_eq!(report.steps[0].statements_skipped, vec![0, 1], "schema and type are there: only the table is created");
}

#[tokio::test]
async fn mysql_database_is_guarded_as_a_schema() {
    let Some(db) = TestDb::new(Kind::MySql).await else { return };
    let name = format!("bs_schema_{}", std::process::id());
    let files =
        [("mysql/0001_reporting.sql", format!("CREATE DATABASE {name};\nCREATE TABLE {name}.totals (day DATE);\n"))];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let set = SnippetDir::new(&files).snippets();
    let result = syncer(&set).run(db.target()).await;
    let again = syncer(&set).full_check(true).run(db.target()).await;
    let _ = db.pool.exec(&format!("DROP DATABASE IF EXISTS {name}")).await;
    let report = result.unwrap();
    assert_eq!(report.steps[0].guards[0].guard, format!("schema_missing({name})"));
    assert_eq!(report.steps[0].action, Action::Apply);
    assert_eq!(again.unwrap().steps[0].action, Action::Skip, "the database is there: no drift");
}
