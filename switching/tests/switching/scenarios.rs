//! The switch, tool by tool and database by database: the other tool migrates a
//! database over its fixture history, then bootschema is pointed at the same folder
//! and the same database.

use std::path::{Path, PathBuf};

use bootschema::{Action, SnippetSet, SyncReport};

use crate::common::{syncer, Kind, TestDb};
use crate::dumps;
use crate::tools::{copy_fixture, Tool};

/// The folder of a fixture copy.
pub fn folder(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("migrations")
}

/// A copy of `tool`'s fixture history, migrated into `db` by the tool itself.
pub async fn migrated(tool: Tool, db: &TestDb) -> tempfile::TempDir {
    let dir = copy_fixture(tool, db.kind);
    tool.migrate(db, &folder(&dir)).await.unwrap_or_else(|e| panic!("{} on {:?}: {e}", tool.name(), db.kind));
    dir
}

/// What the app's `build.rs` does with one line: the folder read in the tool's layout,
/// its files up to the last one the tool applied marked as history
/// (`Builder::new().layout(..).history_until(..)`).
pub fn scan(tool: Tool, folder: &Path) -> SnippetSet {
    bootschema_build::Builder::new()
        .folder(folder)
        .base_dir(folder.parent().unwrap())
        .env_prefix("BSTEST")
        .layout(tool.layout())
        .history_until(tool.history_until())
        .scan()
        .unwrap_or_else(|e| panic!("the {} folder does not build:\n{e}", tool.name()))
        .set
}

/// How many rows bootschema's ledger holds (0 without the table).
pub async fn bootschema_rows(db: &TestDb) -> i64 {
    if db.has_table("bootschema_history").await {
        db.pool.count("SELECT COUNT(*) FROM bootschema_history WHERE version >= 0").await
    } else {
        0
    }
}

/// The files of the fixture history (snippets bootschema must baseline).
fn history_len(tool: Tool, kind: Kind) -> usize {
    match (tool, kind) {
        // diesel's own `00000000000000_diesel_initial_setup` (PostgreSQL only).
        (Tool::Diesel, Kind::Postgres) => 12,
        _ => 11,
    }
}

/// `myapp schema plan` on `db`: its exit code and its output (both streams).
async fn release_plan(set: &SnippetSet, db: &TestDb) -> (i32, String) {
    use bootschema::release::{Console, Release};
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let target = db.target();
    let code = {
        let mut console = Console::new(&mut out, &mut err);
        Release::new(syncer(set))
            .run(["plan"].map(std::ffi::OsString::from), || async { Ok::<_, std::io::Error>(target) }, &mut console)
            .await
    };
    (code, format!("{}{}", String::from_utf8_lossy(&out), String::from_utf8_lossy(&err)))
}

/// Asserts that every step of `report` is `baselined` from `tool`'s ledger, ran no
/// statement, and says whether its checksum was verified.
fn assert_all_baselined(tool: Tool, kind: Kind, report: &SyncReport) {
    assert_eq!(report.steps.len(), history_len(tool, kind), "{:#?}", report.steps);
    for step in &report.steps {
        assert_eq!(step.action, Action::Baselined, "{}: {:#?}", step.path, step);
        assert_eq!(step.statements_run, 0, "{}: nothing runs", step.path);
        let from = format!("from {}", tool.name());
        let reason = step.reason.to_lowercase();
        assert!(reason.contains(&from), "{}: the reason names the tool: {:?}", step.path, step.reason);
        if tool.keeps_checksums() {
            assert!(step.reason.contains("checksum verified"), "{}: {:?}", step.path, step.reason);
        } else {
            assert!(
                !step.reason.contains("checksum verified"),
                "{}: diesel keeps no checksum: {:?}",
                step.path,
                step.reason
            );
        }
    }
}

/// The first boot on a database the tool migrated: the plan shows every file as
/// `baselined (from <tool>…)`, the boot runs nothing and records every file as
/// baselined, the catalog and the tool's ledger are unchanged, and the second boot
/// is the ledger mark's single read.
pub async fn first_boot_baselines_everything(tool: Tool, db: TestDb) {
    let dir = migrated(tool, &db).await;
    let (schema, rows) = (dumps::schema(&db), dumps::rows(&db, tool.table()));
    let set = scan(tool, &folder(&dir));

    let plan = syncer(&set).plan(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_all_baselined(tool, db.kind, &plan);
    // `myapp schema plan`, as the operator reads it.
    let (code, out) = release_plan(&set, &db).await;
    assert_eq!(code, 0, "{out}");
    let from = format!("baselined (from {}", tool.name());
    assert_eq!(out.to_lowercase().matches(&from).count(), history_len(tool, db.kind), "{out}");
    assert_eq!(bootschema_rows(&db).await, 0, "a dry run records nothing");

    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_all_baselined(tool, db.kind, &report);
    assert_eq!(dumps::schema(&db), schema, "the catalog is unchanged (bootschema's ledger excluded)");
    assert_eq!(dumps::rows(&db, tool.table()), rows, "{}'s ledger is only read", tool.name());
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), history_len(tool, db.kind), "{ledger:?}");
    assert!(ledger.iter().all(|row| row.contains(" baselined ")), "{ledger:?}");

    let second = syncer(&set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert_eq!(second.unchanged, history_len(tool, db.kind));
    assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(db.kind.dialect())), "the mark is written");
}

/// After the switch, a file added in the tool's layout applies, and only it; the
/// database is then the same as the tool itself leaves when it migrates the whole
/// folder (new file included) into an empty database.
pub async fn a_new_snippet_applies_after_the_switch(tool: Tool, db: TestDb) {
    let dir = migrated(tool, &db).await;
    let rows = dumps::rows(&db, tool.table());
    let set = scan(tool, &folder(&dir));
    syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));

    let sql = "ALTER TABLE users ADD COLUMN bio TEXT;\nUPDATE users SET bio = 'Runs the blog.' WHERE role = 'admin';\n";
    let (path, version) = tool.add_migration(&folder(&dir), "add_users_bio", sql);
    let set = scan(tool, &folder(&dir));
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let applied: Vec<(u64, &str)> =
        report.steps.iter().filter(|s| s.action == Action::Apply).map(|s| (s.version, s.path.as_str())).collect();
    assert_eq!(applied.len(), 1, "only the new file runs: {:#?}", report.steps);
    assert_eq!(applied[0].0, version, "{path}");
    assert!(applied[0].1.ends_with(&path), "{} is {path}", applied[0].1);
    assert_eq!(report.count(Action::Skip), history_len(tool, db.kind), "{:#?}", report.steps);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM users WHERE bio = 'Runs the blog.'").await, 1);
    assert_eq!(dumps::rows(&db, tool.table()), rows, "{}'s ledger is never written", tool.name());

    // The tool itself, migrating the same folder into an empty database, leaves the
    // same catalog (both ledgers aside: bootschema's is excluded, the tool's own
    // table is the same table).
    let other = TestDb::new(db.kind).await.expect("a second database");
    tool.migrate(&other, &folder(&dir)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dumps::schema(&db), dumps::schema(&other), "bootschema after {} = {} alone", tool.name(), tool.name());
}

/// A file edited after the tool applied it: the first boot refuses, naming the file,
/// the version and both checksums, and changes nothing.
pub async fn a_tampered_file_refuses(tool: Tool, db: TestDb) {
    assert!(tool.keeps_checksums());
    let dir = migrated(tool, &db).await;
    let (schema, rows) = (dumps::schema(&db), dumps::rows(&db, tool.table()));
    let seed = tool.file_of(&folder(&dir), "seed_admin");
    let text = std::fs::read_to_string(&seed).unwrap();
    std::fs::write(&seed, text.replace("'Admin'", "'Administrator'")).unwrap();
    let set = scan(tool, &folder(&dir));

    let (version, recorded) = recorded_checksum(tool, &db).await;
    for result in [syncer(&set).plan(db.target()).await, syncer(&set).run(db.target()).await] {
        let err = result.expect_err("an edited file refuses");
        let text = err.to_string();
        let file = seed.file_name().unwrap().to_string_lossy();
        let file =
            if tool == Tool::Diesel { seed.parent().unwrap().file_name().unwrap().to_string_lossy() } else { file };
        assert!(text.contains(&*file), "names the file {file}: {text}");
        assert!(text.contains(&version), "names the version {version}: {text}");
        assert!(
            text.to_lowercase().contains(&recorded.to_lowercase()),
            "names the recorded checksum {recorded}: {text}"
        );
        assert!(text.to_lowercase().contains(tool.name()), "names the tool: {text}");
    }
    assert_eq!(dumps::schema(&db), schema, "nothing ran");
    assert_eq!(dumps::rows(&db, tool.table()), rows);
    assert_eq!(bootschema_rows(&db).await, 0, "nothing was recorded");
}

/// The version and checksum the tool recorded for the seed file (3rd of the history),
/// as text.
async fn recorded_checksum(tool: Tool, db: &TestDb) -> (String, String) {
    let hex = match db.kind {
        Kind::Postgres => "encode(checksum, 'hex')",
        _ => "LOWER(HEX(checksum))",
    };
    let text = |column: &str| match db.kind {
        Kind::MySql => format!("CAST({column} AS CHAR)"),
        _ => format!("CAST({column} AS TEXT)"),
    };
    let (version, sql) = match tool {
        Tool::Sqlx => ("20240103093000", format!("SELECT {hex} FROM _sqlx_migrations WHERE version = 20240103093000")),
        Tool::Refinery => ("3", format!("SELECT {} FROM refinery_schema_history WHERE version = 3", text("checksum"))),
        Tool::Flyway => {
            ("1.2", format!("SELECT {} FROM flyway_schema_history WHERE version = '1.2'", text("checksum")))
        }
        Tool::Diesel => unreachable!("diesel keeps no checksum"),
    };
    let recorded = db.pool.strings(&sql).await.pop().expect("the tool recorded the seed");
    (version.to_string(), recorded)
}

/// A row its tool marked as failed (`success = false`) for `version`, the folder
/// holding that migration: the first boot refuses, naming the version and what the
/// operator must do, and changes nothing.
pub async fn a_failed_row_refuses(tool: Tool, db: &TestDb, folder: &Path, version: &str) {
    let (schema, rows) = (dumps::schema(db), dumps::rows(db, tool.table()));
    let failed = db.pool.count(&format!("SELECT COUNT(*) FROM {} WHERE success = FALSE", tool.table())).await;
    assert_eq!(failed, 1, "the failed row is there");
    let set = scan(tool, folder);
    for result in [syncer(&set).plan(db.target()).await, syncer(&set).run(db.target()).await] {
        let text = result.expect_err("a failed row refuses").to_string();
        assert!(text.contains(version), "names the version {version}: {text}");
        assert!(text.to_lowercase().contains(tool.name()), "names the tool: {text}");
        assert!(text.contains("fail") || text.contains("success"), "says what is wrong with the row: {text}");
    }
    assert_eq!(dumps::schema(db), schema, "nothing ran");
    assert_eq!(dumps::rows(db, tool.table()), rows, "the row is left for the operator");
    assert_eq!(bootschema_rows(db).await, 0, "nothing was recorded");
}

/// A file the tool applied and the folder no longer holds (deleted or squashed after
/// it ran): the first boot baselines the others, runs nothing, and reports the version
/// the tool's ledger lists without a file.
pub async fn a_file_the_folder_lacks_is_reported(tool: Tool, db: TestDb) {
    let dir = migrated(tool, &db).await;
    let (schema, rows) = (dumps::schema(&db), dumps::rows(&db, tool.table()));
    let seed = tool.file_of(&folder(&dir), "seed_admin");
    if tool == Tool::Diesel {
        std::fs::remove_dir_all(seed.parent().unwrap()).unwrap();
    } else {
        std::fs::remove_file(&seed).unwrap();
        let _ = std::fs::remove_file(seed.to_string_lossy().replace(".up.sql", ".down.sql"));
    }
    let set = scan(tool, &folder(&dir));
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.steps.len(), history_len(tool, db.kind) - 1);
    assert!(report.steps.iter().all(|s| s.action == Action::Baselined), "{:#?}", report.steps);
    let missing: Vec<(String, String)> =
        report.foreign_missing.iter().map(|m| (m.tool.name().to_lowercase(), m.version.clone())).collect();
    let version = match tool {
        Tool::Sqlx | Tool::Diesel => "20240103093000",
        Tool::Refinery => "3",
        Tool::Flyway => "1.2",
    };
    assert_eq!(missing, [(tool.name().to_string(), version.to_string())], "{:#?}", report.foreign_missing);
    // diesel records no name, the others the file's description.
    let name = &report.foreign_missing[0].name;
    assert!(if tool == Tool::Diesel { name.is_empty() } else { name.contains("seed") }, "{name:?}");
    assert_eq!(report.foreign_missing[0].table, tool.table());
    assert_eq!(dumps::schema(&db), schema, "nothing ran");
    assert_eq!(dumps::rows(&db, tool.table()), rows, "{}'s ledger keeps its row", tool.name());
}
