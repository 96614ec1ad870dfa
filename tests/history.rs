//! Real histories on empty databases: bootschema must leave exactly the catalog that a
//! raw client replaying the same files in order leaves, apply nothing at the second
//! boot, and write the ledger's mark (no false drift).
//!
//! Each test here is a history that a prediction of "what earlier snippets of the same
//! sync leave behind" once got wrong (issue "Real migration histories").

mod common;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};

/// Syncs `files` into `db` and replays them with the raw client into a second, empty
/// database of the same kind, then compares: same catalog (ledger excluded), a second
/// boot that runs nothing, and the mark written.
async fn same_as_raw_replay(db: TestDb, files: &[(&str, &str)]) {
    let dir = SnippetDir::new(files);
    let set = dir.snippets();
    let report = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.steps.iter().all(|s| s.action == Action::Apply), "{:#?}", report.steps);

    let raw = TestDb::new(db.kind).await.expect("a second database of the same kind");
    for (path, text) in files {
        raw.run_client(text).unwrap_or_else(|e| panic!("the raw client fails on {path}: {e}"));
    }
    assert_eq!(catalog(&db).await, catalog(&raw).await, "bootschema and the raw client disagree");

    let second = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert!(second.steps.iter().all(|s| s.action == Action::Skip), "no drift: {:#?}", second.steps);
    assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(db.kind.dialect())), "the mark is written");
}

/// The catalog without bootschema's own ledger.
async fn catalog(db: &TestDb) -> Vec<String> {
    db.catalog().await.into_iter().filter(|line| !line.contains("bootschema_history")).collect()
}

on_every_database!(a_column_dropped_after_a_table_rename_is_added_again, a_table_dropped_and_created_again_is_created);

/// Add column `a.c`; rename `a` to `b`; drop `b.c`; add `b.c` again and fill it. The
/// re-add must run (it was once skipped: "present" was predicted through the rename).
async fn a_column_dropped_after_a_table_rename_is_added_again(db: TestDb) {
    same_as_raw_replay(
        db,
        &[
            ("0001_a.sql", "CREATE TABLE a (id INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"),
            ("0002_c.sql", "ALTER TABLE a ADD COLUMN c INTEGER;\n"),
            ("0003_rename.sql", "ALTER TABLE a RENAME TO b;\n"),
            ("0004_drop_c.sql", "-- destructive\nALTER TABLE b DROP COLUMN c;\n"),
            ("0005_c_again.sql", "ALTER TABLE b ADD COLUMN c INTEGER;\nUPDATE b SET c = 7 WHERE c IS NULL;\n"),
        ],
    )
    .await;
}

/// A table created, dropped, then created again with another shape in later snippets.
async fn a_table_dropped_and_created_again_is_created(db: TestDb) {
    same_as_raw_replay(
        db,
        &[
            (
                "0001_t.sql",
                "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);\nCREATE INDEX t_x ON t (x);\n",
            ),
            ("0002_drop.sql", "-- destructive\nDROP TABLE t;\n"),
            (
                "0003_t_again.sql",
                "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, y INTEGER);\nCREATE INDEX t_x ON t (y);\n",
            ),
        ],
    )
    .await;
}

/// `DROP VIEW v CASCADE` drops the materialized view built on it; the snippet that
/// drops it creates both again, and a later statement reads the materialized view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_materialized_view_dropped_by_cascade_is_created_again() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    same_as_raw_replay(
        db,
        &[
            ("0001_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);\n"),
            ("0002_v.sql", "CREATE VIEW v AS SELECT id, n FROM t;\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM v;\n"),
            (
                "0003_v_again.sql",
                "-- destructive\nDROP VIEW v CASCADE;\nCREATE VIEW v AS SELECT id, n, n * 2 AS twice FROM t;\n\
                 CREATE MATERIALIZED VIEW mv AS SELECT id, twice FROM v;\n",
            ),
            ("0004_uses_mv.sql", "CREATE INDEX mv_twice ON mv (twice);\n"),
        ],
    )
    .await;
}

on_every_database!(a_column_renamed_in_the_snippet_that_creates_its_table_is_renamed);

/// A table created and renamed, then one of its columns renamed, all in one snippet
/// (found by the differential tests, seed 33): the column rename was skipped because,
/// read before the snippet ran, there was no table to rename it in.
async fn a_column_renamed_in_the_snippet_that_creates_its_table_is_renamed(db: TestDb) {
    same_as_raw_replay(
        db,
        &[
            (
                "0001_t.sql",
                "CREATE TABLE tc (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);\nALTER TABLE tc RENAME TO td;\n\
                 ALTER TABLE td RENAME COLUMN x TO y;\n",
            ),
            (
                "0002_again.sql",
                "ALTER TABLE td RENAME TO ta;\nCREATE TABLE td (id INTEGER NOT NULL PRIMARY KEY, y INTEGER);\n",
            ),
            ("0003_type.sql", "UPDATE ta SET y = 1 WHERE y IS NULL;\n"),
        ],
    )
    .await;
}

on_every_database!(an_index_dropped_with_its_renamed_table_is_no_drift);

/// An index on `ta`, `ta` renamed to `tb`, then `tb` dropped: the index went with it,
/// which is no failed guard and no drift (found by the differential tests, SQLite seed 2).
async fn an_index_dropped_with_its_renamed_table_is_no_drift(db: TestDb) {
    same_as_raw_replay(
        db,
        &[
            (
                "0001_t.sql",
                "CREATE TABLE ta (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);\nCREATE INDEX ix1 ON ta (x);\n\
                 ALTER TABLE ta RENAME TO tb;\n",
            ),
            ("0002_drop.sql", "-- destructive\nDROP TABLE tb;\n"),
        ],
    )
    .await;
}

/// A view dropped by `DROP TABLE … CASCADE` and never created again is no failed guard
/// (found by the differential tests, PostgreSQL seeds 1, 6 and 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_dropped_by_cascade_is_no_drift() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    same_as_raw_replay(
        db,
        &[
            (
                "0001_t.sql",
                "CREATE TABLE tc (id INTEGER NOT NULL PRIMARY KEY);\nCREATE VIEW va AS SELECT id FROM tc;\n",
            ),
            ("0002_mv.sql", "CREATE MATERIALIZED VIEW vc AS SELECT id FROM va;\n"),
            ("0003_drop.sql", "-- destructive\nDROP TABLE tc CASCADE;\n"),
        ],
    )
    .await;
}

/// An index name over 63 bytes, which PostgreSQL cuts: found under its cut name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_index_name_is_found_under_the_name_postgres_keeps() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let long = format!("ix_{}", "long".repeat(20));
    same_as_raw_replay(
        db,
        &[
            ("0001_t.sql", "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, x INTEGER);\n"),
            ("0002_ix.sql", &format!("CREATE INDEX {long} ON t (x);\n")),
        ],
    )
    .await;
}

/// A type renamed with `ALTER TYPE … RENAME`: the guard of the snippet that created it
/// is undone, not drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_type_is_no_drift() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    same_as_raw_replay(
        db,
        &[
            ("0001_mood.sql", "CREATE TYPE mood AS ENUM ('a', 'b');\n"),
            ("0002_rename.sql", "ALTER TYPE mood RENAME TO feeling;\n"),
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Adopting a database that another tool (here: the raw client) brought up to date.

/// A history with what guards cannot prove done: a table created and later renamed
/// away (its old `CREATE TABLE` reads as "missing"), a seed and a backfill.
const ADOPTED: &[(&str, &str)] = &[
    ("0001_users.sql", "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50));\n"),
    ("0002_seed.sql", "INSERT INTO users (id, name) VALUES (1, 'admin');\n"),
    ("0003_rename.sql", "ALTER TABLE users RENAME TO accounts;\n"),
    ("0004_email.sql", "ALTER TABLE accounts ADD COLUMN email VARCHAR(100);\n"),
    ("0005_backfill.sql", "UPDATE accounts SET email = 'admin@example.invalid' WHERE email IS NULL;\n"),
];

/// The snippet that comes after the adopted history.
const AFTER: (&str, &str) = ("0006_index.sql", "CREATE INDEX accounts_email ON accounts (email);\n");

/// A database that holds the history of `files`, replayed by the raw client.
async fn replayed(kind: Kind, files: &[(&str, &str)]) -> Option<TestDb> {
    let db = TestDb::new(kind).await?;
    for (path, text) in files {
        db.run_client(text).unwrap_or_else(|e| panic!("the raw client fails on {path}: {e}"));
    }
    Some(db)
}

on_every_database!(
    adopting_refuses_unproven_history_and_changes_nothing,
    a_baseline_records_the_history_and_applies_what_follows
);

async fn adopting_refuses_unproven_history_and_changes_nothing(db: TestDb) {
    let db = replayed(db.kind, ADOPTED).await.unwrap();
    let before = db.dump();
    let mut files = ADOPTED.to_vec();
    files.push(AFTER);
    let set = SnippetDir::new(&files).snippets();
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), bootschema::ErrorKind::Refused(_)), "{text}");
    // The first snippet that guards cannot prove: the old CREATE TABLE of the renamed table.
    assert!(text.contains("0001_users.sql") && text.contains("BSTEST_SCHEMA_BASELINE"), "{text}");
    assert_eq!(db.dump(), before, "nothing ran, nothing was recorded");
    assert!(!db.has_table("bootschema_history").await);
    let plan = syncer(&set).plan(db.target()).await.unwrap();
    let unproven: Vec<u64> = plan.steps.iter().filter(|s| s.action == Action::Unproven).map(|s| s.version).collect();
    assert_eq!(unproven, vec![1, 2, 5, 6], "{:#?}", plan.steps);
}

async fn a_baseline_records_the_history_and_applies_what_follows(db: TestDb) {
    let kind = db.kind;
    let db = replayed(kind, ADOPTED).await.unwrap();
    let mut files = ADOPTED.to_vec();
    files.push(AFTER);
    let set = SnippetDir::new(&files).snippets();
    let report = syncer(&set).baseline(5).run(db.target()).await.unwrap();
    let actions: Vec<Action> = report.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, [vec![Action::Baselined; 5], vec![Action::Apply]].concat());
    // The same database as the raw client replaying every file.
    let all = replayed(kind, &files).await.unwrap();
    assert_eq!(db.dump(), all.dump());
    let ledger = db.ledger().await;
    assert!(ledger[..5].iter().all(|row| row.contains(" baselined ")), "{ledger:?}");
    // The next boot (the variable may stay set) has nothing to do.
    let second = syncer(&set).baseline(5).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(kind.dialect())));
}

/// `myapp schema baseline <version>` records the baseline and nothing else, and refuses
/// where bootschema already records the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_command_records_a_baseline_and_nothing_else() {
    use bootschema::release::{Console, Release};
    let db = replayed(Kind::Sqlite, ADOPTED).await.unwrap();
    let mut files = ADOPTED.to_vec();
    files.push(AFTER);
    let set = SnippetDir::new(&files).snippets();
    let run = |args: &'static [&'static str]| {
        let set = &set;
        let target = db.target();
        async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = {
                let mut console = Console::new(&mut out, &mut err);
                Release::new(syncer(set))
                    .run(
                        args.iter().map(std::ffi::OsString::from),
                        || async { Ok::<_, std::io::Error>(target) },
                        &mut console,
                    )
                    .await
            };
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
        }
    };
    let (code, out, err) = run(&["baseline", "5"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("baselined"), "{out}");
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 5, "only the baseline is recorded: {ledger:?}");
    assert!(!db.catalog().await.iter().any(|l| l.contains("accounts_email")), "0006 did not run");
    let (code, _, err) = run(&["baseline", "5"]).await;
    assert_eq!(code, 1, "a second baseline refuses");
    assert!(err.contains("nothing to baseline"), "{err}");
    let (code, out, err) = run(&["apply"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(db.catalog().await.iter().any(|l| l.contains("accounts_email")), "0006 ran after the baseline");
}

// ---------------------------------------------------------------------------------
// A history imported as it is.

on_every_database!(an_imported_history_runs_whole_without_edits);

/// Files marked as history by one line of build configuration: a drop without
/// `-- destructive` runs on an empty database without the destructive switch, and a
/// file emptied on purpose is a recorded no-op.
async fn an_imported_history_runs_whole_without_edits(db: TestDb) {
    let files = [
        ("0001_t.sql", "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, old INTEGER);\n"),
        ("0002_emptied.sql", "-- Emptied in 2021: the index it built was never used.\n"),
        ("0003_drop_old.sql", "ALTER TABLE t DROP COLUMN old;\n"),
        ("0004_seed.sql", "INSERT INTO t (id) VALUES (1);\n"),
    ];
    let dir = SnippetDir::new(&files);
    let folder = dir.dir.path().join("sql");
    let scan = bootschema_build::Builder::new()
        .folder(&folder)
        .base_dir(dir.dir.path())
        .env_prefix("BSTEST")
        .history_until(3)
        .scan()
        .unwrap_or_else(|e| panic!("{e}"));
    let set = scan.set;
    // Not allowed to run destructive snippets: history is exempt.
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.steps.iter().all(|s| s.action == Action::Apply), "{:#?}", report.steps);
    assert_eq!(report.steps[1].statements_total, 0);
    assert_eq!(db.ledger().await.len(), 4, "the emptied file is recorded too");
    let raw = TestDb::new(db.kind).await.unwrap();
    for (path, text) in &files {
        raw.run_client(text).unwrap_or_else(|e| panic!("the raw client fails on {path}: {e}"));
    }
    assert_eq!(db.dump(), raw.dump());
}

/// `DROP TABLE … CASCADE` drops the foreign keys that reference the table: the guard of
/// the snippet that added one is undone, not a failed guard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_key_dropped_by_cascade_is_no_drift() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    same_as_raw_replay(
        db,
        &[
            ("0001_parent.sql", "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"),
            (
                "0002_child.sql",
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER);\n\
                 ALTER TABLE child ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id);\n",
            ),
            ("0003_drop.sql", "-- destructive\nDROP TABLE parent CASCADE;\n"),
        ],
    )
    .await;
}

/// A view over a table that is renamed later, then dropped with `CASCADE` under its
/// new name: the view went with it (found by the differential tests, PostgreSQL seeds
/// 11, 26 and 62 of 100).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_over_a_renamed_table_dropped_by_cascade_is_no_drift() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    same_as_raw_replay(
        db,
        &[
            (
                "0001_t.sql",
                "CREATE TABLE tc (id INTEGER NOT NULL PRIMARY KEY);\nCREATE VIEW vb AS SELECT id FROM tc;\n",
            ),
            ("0002_rename.sql", "ALTER TABLE tc RENAME TO tb;\n"),
            ("0003_drop.sql", "-- destructive\nDROP TABLE tb CASCADE;\n"),
        ],
    )
    .await;
}

on_every_database!(a_history_ordered_as_text_applies_in_that_order);

/// A tool that compared versions as text applied `20240101120000_users` before
/// `2024-03-13_170000_email` (version 20240313), which reads the table the first
/// creates; with the build told so, an empty database gets them in that order.
async fn a_history_ordered_as_text_applies_in_that_order(db: TestDb) {
    let dir = SnippetDir::new(&[
        ("20240101120000_users.sql", "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);\n"),
        ("2024-03-13_170000_email.sql", "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n"),
    ]);
    let scan = bootschema_build::Builder::new()
        .folder(dir.dir.path().join("sql"))
        .base_dir(dir.dir.path())
        .env_prefix("BSTEST")
        .version_order(bootschema_build::VersionOrder::Text)
        .scan()
        .unwrap_or_else(|e| panic!("{e}"));
    let report = syncer(&scan.set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(order, [20240101120000, 20240313]);
    assert!(report.steps.iter().all(|s| s.action == Action::Apply));
    let second = syncer(&scan.set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything() && second.unchanged == 2, "the mark short-cuts the next boot");
}
