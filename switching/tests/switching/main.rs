//! Switching to bootschema from sqlx, refinery, diesel and Flyway, with the real tools
//! (issue "Switch from sqlx, diesel, refinery or Flyway in one step", item 4).
//!
//! Each tool migrates a database over its own fixture history (`fixtures/<tool>/
//! <database>/`: eleven files with a table and a column renamed, a column dropped, an
//! index, a seed, a backfill and a view), on every database that tool supports:
//! sqlx's `Migrator` (PostgreSQL, MariaDB, SQLite), refinery's `Runner` (tokio-postgres,
//! mysql_async, rusqlite), diesel's `MigrationHarness` (PostgreSQL, MySQL, SQLite).
//! Flyway cannot run here (a Java program; no package of it on the registries this
//! machine reaches): its layout is read for real, its run is the files replayed by the
//! database's own client in Flyway's order, and its ledger is written by hand from
//! Flyway's documented table format, with CRC-32 checksums computed by this test
//! ([`flyway`]).
//!
//! Then bootschema is pointed at the same folder and the same database:
//! - the first boot runs nothing and records every file as `baselined` (from the tool,
//!   checksum verified where the tool keeps one), the catalog is unchanged (the dump
//!   tools' schema before and after) and the tool's ledger is unchanged (its rows);
//! - a file added afterwards applies, and the result equals the tool's own run;
//! - an edited file refuses (sqlx, refinery, Flyway: the tools that keep checksums);
//! - a failed row refuses (sqlx, Flyway: the tools that record failures).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod dumps;
mod flyway;
mod scenarios;
mod tools;

use common::{Kind, TestDb};
use scenarios::{
    a_failed_row_refuses, a_file_the_folder_lacks_is_reported, a_new_snippet_applies_after_the_switch,
    a_tampered_file_refuses, first_boot_baselines_everything,
};
use tools::Tool;

// ---------------------------------------------------------------------------------
// The fixtures: each tool, run over its folder, leaves the same schema and data.

on_every_database!(every_tool_leaves_the_same_database);

/// The four fixture histories of one database are one history: each tool (Flyway by
/// replay) leaves the same tables, columns, indexes, constraints and views, and the
/// seeds and backfills ran once.
async fn every_tool_leaves_the_same_database(db: TestDb) {
    let mut catalogs = Vec::new();
    for tool in [Tool::Sqlx, Tool::Refinery, Tool::Diesel, Tool::Flyway] {
        let db = TestDb::new(db.kind).await.unwrap();
        scenarios::migrated(tool, &db).await;
        let files = match (tool, db.kind) {
            (Tool::Diesel, Kind::Postgres) => 12,
            _ => 11,
        };
        assert_eq!(dumps::count(&db, tool.table()).await, files, "{}: one ledger row per file", tool.name());
        assert_eq!(
            db.pool.count("SELECT COUNT(*) FROM users WHERE role = 'admin' AND display_name = 'Admin'").await,
            1
        );
        assert_eq!(db.pool.count("SELECT COUNT(*) FROM published_articles WHERE slug = 'hello-world'").await, 1);
        assert_eq!(db.pool.count("SELECT COUNT(*) FROM tags").await, 3);
        let catalog: Vec<String> = db
            .catalog()
            .await
            .into_iter()
            .filter(|line| !line.contains(tool.table()) && !line.contains("sqlite_sequence"))
            .collect();
        assert!(catalog.iter().any(|l| l.contains("articles_user_id_idx")), "{catalog:#?}");
        // Renamed away and dropped (the renamed table keeps its constraints' names).
        assert!(!catalog.iter().any(|l| l.contains("legacy_flags") || l.starts_with("table posts ")), "{catalog:#?}");
        assert!(catalog.iter().any(|l| l.contains(" published_articles ")), "{catalog:#?}");
        catalogs.push((tool, catalog));
    }
    for (tool, catalog) in &catalogs[1..] {
        assert_eq!(catalog, &catalogs[0].1, "{} and sqlx leave different catalogs", tool.name());
    }
}

// ---------------------------------------------------------------------------------
// The first boot after the switch.

macro_rules! scenario {
    ($($name:ident: $scenario:ident($tool:expr);)*) => {
        $(async fn $name(db: TestDb) { $scenario($tool, db).await })*
        on_every_database!($($name),*);
    };
}

scenario! {
    sqlx_first_boot_baselines: first_boot_baselines_everything(Tool::Sqlx);
    refinery_first_boot_baselines: first_boot_baselines_everything(Tool::Refinery);
    diesel_first_boot_baselines: first_boot_baselines_everything(Tool::Diesel);
    flyway_first_boot_baselines: first_boot_baselines_everything(Tool::Flyway);

    sqlx_new_snippet_applies: a_new_snippet_applies_after_the_switch(Tool::Sqlx);
    refinery_new_snippet_applies: a_new_snippet_applies_after_the_switch(Tool::Refinery);
    diesel_new_snippet_applies: a_new_snippet_applies_after_the_switch(Tool::Diesel);
    flyway_new_snippet_applies: a_new_snippet_applies_after_the_switch(Tool::Flyway);

    sqlx_tampered_file_refuses: a_tampered_file_refuses(Tool::Sqlx);
    refinery_tampered_file_refuses: a_tampered_file_refuses(Tool::Refinery);
    flyway_tampered_file_refuses: a_tampered_file_refuses(Tool::Flyway);

    sqlx_missing_file_reported: a_file_the_folder_lacks_is_reported(Tool::Sqlx);
    refinery_missing_file_reported: a_file_the_folder_lacks_is_reported(Tool::Refinery);
    diesel_missing_file_reported: a_file_the_folder_lacks_is_reported(Tool::Diesel);
    flyway_missing_file_reported: a_file_the_folder_lacks_is_reported(Tool::Flyway);
}

// ---------------------------------------------------------------------------------
// Flyway's repeatable files.

on_every_database!(flyway_changed_repeatable_runs_again);

/// Flyway's repeatable `R__published_articles.sql`, changed after Flyway last ran it
/// (the view gains a column, at the end, as PostgreSQL's `CREATE OR REPLACE VIEW` requires): the first boot baselines every versioned file and runs
/// the repeatable one again, as `flyway migrate` would; the view then has the column.
async fn flyway_changed_repeatable_runs_again(db: TestDb) {
    let dir = scenarios::migrated(Tool::Flyway, &db).await;
    let folder = scenarios::folder(&dir);
    let view = folder.join("R__published_articles.sql");
    let text = std::fs::read_to_string(&view).unwrap();
    std::fs::write(&view, text.replace("AS author", "AS author, a.body")).unwrap();
    let rows = dumps::rows(&db, Tool::Flyway.table());
    let set = scenarios::scan(Tool::Flyway, &folder);
    let report = common::syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<(&str, bootschema::Action)> =
        report.steps.iter().map(|s| (s.path.rsplit('/').next().unwrap(), s.action)).collect();
    assert_eq!(actions.len(), 11, "{actions:?}");
    assert!(actions[..10].iter().all(|(_, a)| *a == bootschema::Action::Baselined), "{actions:?}");
    assert_eq!(actions[10], ("R__published_articles.sql", bootschema::Action::Reapply), "{:#?}", report.steps);
    assert!(report.steps[10].reason.contains("changed since flyway last ran it"), "{}", report.steps[10].reason);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM published_articles WHERE body = 'Welcome to the blog.'").await, 1);
    assert_eq!(dumps::rows(&db, Tool::Flyway.table()), rows, "Flyway's ledger is never written");
    let second = common::syncer(&set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
}

// ---------------------------------------------------------------------------------
// Failed rows.

on_every_database!(sqlx_failed_row_refuses, flyway_failed_row_refuses);

/// sqlx's row with `success = false`. On MariaDB sqlx writes it itself: it inserts the
/// row as failed, runs the file, then marks it done, all in one transaction that the
/// file's first DDL statement commits implicitly; a later statement that fails leaves
/// the failed row behind (this test's broken file does exactly that). On PostgreSQL
/// and SQLite, sqlx 0.9 records a migration only once it succeeded (also under
/// `-- no-transaction`), so no run of sqlx leaves such a row: the test sets
/// `success = false` by hand on the last row, as an older sqlx or an interrupted
/// manual repair would leave it.
async fn sqlx_failed_row_refuses(db: TestDb) {
    let dir = scenarios::migrated(Tool::Sqlx, &db).await;
    let folder = scenarios::folder(&dir);
    let version = if db.kind == Kind::MySql {
        let (path, version) = Tool::Sqlx.add_migration(
            &folder,
            "audit_log",
            "CREATE TABLE audit_log (id BIGINT PRIMARY KEY);\nINSERT INTO no_such_table (id) VALUES (1);\n",
        );
        let err = Tool::Sqlx.migrate(&db, &folder).await.expect_err("the broken file fails under sqlx");
        assert!(err.contains("no_such_table"), "{path}: {err}");
        version.to_string()
    } else {
        db.pool.exec("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 20240111093000").await.unwrap();
        "20240111093000".to_string()
    };
    a_failed_row_refuses(Tool::Sqlx, &db, &folder, &version).await;
}

/// Flyway's row with `success = false`, set by hand (Flyway cannot run here): what
/// Flyway leaves on a database without transactional DDL (MySQL, MariaDB) when a
/// migration fails half-way, and what `flyway repair` removes.
async fn flyway_failed_row_refuses(db: TestDb) {
    let dir = scenarios::migrated(Tool::Flyway, &db).await;
    let falsy = if db.kind == Kind::Sqlite { "0" } else { "FALSE" };
    db.pool.exec(&format!("UPDATE flyway_schema_history SET success = {falsy} WHERE version = '4.1'")).await.unwrap();
    a_failed_row_refuses(Tool::Flyway, &db, &scenarios::folder(&dir), "4.1").await;
}

/// The history boundary of a Flyway folder follows Flyway's order: with the history
/// marked up to `4.1` (bootschema's 1411), a new `V5__` file (bootschema's 5, a smaller
/// number) is not history, so its drop needs `-- destructive` like any new file's.
#[test]
fn flyway_history_ends_where_flyways_order_says() {
    let dir = tools::copy_fixture(Tool::Flyway, Kind::Postgres);
    let folder = scenarios::folder(&dir);
    let (path, _) = Tool::Flyway.add_migration(&folder, "drop_article_tags", "DROP TABLE article_tags;\n");
    let err = bootschema_build::Builder::new()
        .folder(&folder)
        .base_dir(dir.path())
        .env_prefix("BSTEST")
        .layout(Tool::Flyway.layout())
        .history_until(Tool::Flyway.history_until())
        .scan()
        .map(|_| ())
        .expect_err("a new drop without `-- destructive` fails the build");
    let text = err.to_string();
    assert!(text.contains(&path) && text.contains("-- destructive"), "{text}");
    assert!(!text.contains("drop_users_legacy_flags"), "the history's own drop is exempt: {text}");
}
