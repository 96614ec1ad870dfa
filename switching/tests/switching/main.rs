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
