//! The boot sequence on real databases: each test in a database of its own, on
//! PostgreSQL, MariaDB/MySQL and SQLite.

mod common;

use std::time::Duration;

use bootschema::{Action, ErrorKind};
use common::{syncer, Kind, SnippetDir, TestDb};

/// A small app's history: a table, an added column, an index, seed data guarded by
/// `unless`, and a run-once backfill.
const BASE: &[(&str, &str)] = &[
    (
        "0001_create_items.sql",
        "-- guard: table_missing(items)\nCREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
    ),
    ("0002_add_price.sql", "-- guard: column_missing(items.price)\nALTER TABLE items ADD COLUMN price INTEGER;\n"),
    ("0003_index_name.sql", "-- guard: index_missing(items_name_idx)\nCREATE INDEX items_name_idx ON items (name);\n"),
    (
        "0004_seed.sql",
        "-- guard: unless(SELECT 1 FROM items WHERE id = 1)\nINSERT INTO items (id, name, price) VALUES (1, 'first', NULL);\n",
    ),
    ("0005_backfill.sql", "-- A backfill cannot be guarded: it runs once, by the ledger.\nUPDATE items SET price = 0 WHERE price IS NULL;\n"),
];

fn actions(report: &bootschema::SyncReport) -> Vec<(u64, Action)> {
    report.steps.iter().map(|s| (s.version, s.action)).collect()
}

on_every_database!(
    fresh_database_gets_every_snippet_applied_and_recorded,
    second_boot_applies_nothing,
    hand_made_tables_are_adopted_without_running,
    edited_snippet_refuses_to_boot_naming_file_and_both_checksums,
    crlf_and_bom_changes_are_not_edits,
    drift_is_reported_and_not_recreated,
    destructive_snippet_is_blocked_unless_allowed,
    failing_snippet_leaves_schema_and_ledger_as_before,
    failed_snippet_completes_after_the_fix,
    a_guard_that_still_reports_missing_after_its_snippet_ran_fails_the_sync,
    concurrent_syncs_apply_each_snippet_exactly_once,
    lock_is_free_at_once_after_a_failed_sync,
    dry_run_changes_nothing,
    on_change_reapply_runs_again_when_the_text_changes,
    unless_guard_adopts_seed_data_already_there,
    per_dialect_snippet_replaces_the_portable_one,
    the_mark_records_the_synced_set_and_short_cuts_the_next_boot,
    a_missing_or_stale_mark_is_rewritten,
    an_older_release_leaves_the_newer_mark_alone,
    a_removed_old_snippet_does_not_prevent_the_mark,
    dry_run_ignores_the_mark,
    ledger_text_is_recorded_exactly,
    drift_found_by_a_full_look_removes_the_mark,
    a_checksum_changed_by_hand_removes_the_mark_at_the_next_full_look,
);

async fn fresh_database_gets_every_snippet_applied_and_recorded(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    let set = dir.snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 5, "{:?}", actions(&report));
    assert!(db.has_table("items").await);
    let ledger = db.ledger().await;
    assert_eq!(ledger.len(), 5, "{ledger:?}");
    assert!(ledger.iter().all(|row| row.contains(" applied sha256:")), "{ledger:?}");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items WHERE price = 0").await, 1, "the backfill ran after the seed");
}

async fn second_boot_applies_nothing(db: TestDb) {
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let ledger = db.ledger().await;
    let second = syncer(&set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:?}", actions(&second));
    assert_eq!(second.count(Action::Skip), 5);
    assert_eq!(db.ledger().await, ledger);
}

async fn hand_made_tables_are_adopted_without_running(db: TestDb) {
    let index = "CREATE INDEX items_name_idx ON items (name)";
    db.pool
        .exec("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, price INTEGER)")
        .await
        .unwrap();
    db.pool.exec(index).await.unwrap();
    db.pool.exec("INSERT INTO items (id, name, price) VALUES (1, 'made by hand', NULL)").await.unwrap();
    let set = SnippetDir::new(BASE).snippets();
    // The backfill has no guard: nothing proves whether it ran on this database.
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), ErrorKind::Refused(_)), "{text}");
    assert!(text.contains("0005_backfill.sql") && text.contains("BSTEST_SCHEMA_BASELINE"), "{text}");
    assert!(!db.has_table("bootschema_history").await, "a refusal creates nothing");
    let plan = syncer(&set).plan(db.target()).await.unwrap();
    assert_eq!(
        actions(&plan),
        vec![(1, Action::Adopt), (2, Action::Adopt), (3, Action::Adopt), (4, Action::Adopt), (5, Action::Unproven)]
    );
    // With the history's end named, the proven snippets are baselined, the rest runs.
    let report = syncer(&set).baseline(4).run(db.target()).await.unwrap();
    assert_eq!(
        actions(&report),
        vec![
            (1, Action::Baselined),
            (2, Action::Baselined),
            (3, Action::Baselined),
            (4, Action::Baselined),
            (5, Action::Apply)
        ]
    );
    let ledger = db.ledger().await;
    assert!(ledger[0].starts_with("1 baselined "), "{ledger:?}");
    assert_eq!(db.pool.strings("SELECT name FROM items").await, vec!["made by hand"], "the seed did not run");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items WHERE price = 0").await, 1, "the backfill ran");
}

async fn edited_snippet_refuses_to_boot_naming_file_and_both_checksums(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    let before = dir.snippets();
    syncer(&before).run(db.target()).await.unwrap();
    dir.write(
        "0002_add_price.sql",
        "-- guard: column_missing(items.price)\nALTER TABLE items ADD COLUMN price BIGINT;\n",
    );
    dir.write("0006_more.sql", "CREATE TABLE more_items (id INTEGER);\n");
    let after = dir.snippets();
    let err = syncer(&after).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), ErrorKind::Refused(_)), "{text}");
    assert!(text.contains("sql/0002_add_price.sql"), "{text}");
    assert!(text.contains(&*before.for_dialect(db.target().dialect())[1].checksum), "old checksum: {text}");
    assert!(text.contains(&*after.for_dialect(db.target().dialect())[1].checksum), "new checksum: {text}");
    assert!(!db.has_table("more_items").await, "nothing is applied when the plan is refused");
}

async fn crlf_and_bom_changes_are_not_edits(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    for (path, text) in BASE {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(text.replace('\n', "\r\n").into_bytes());
        dir.write_bytes(path, &bytes);
    }
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Skip), 5, "{:?}", actions(&report));
}

async fn drift_is_reported_and_not_recreated(db: TestDb) {
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let drop = match db.kind {
        Kind::MySql => "DROP INDEX items_name_idx ON items",
        _ => "DROP INDEX items_name_idx",
    };
    db.pool.exec(drop).await.unwrap();
    // A boot whose ledger mark is current reads nothing else: it cannot see the drift.
    let boot = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!((boot.unchanged, boot.steps.len()), (5, 0));
    // The full check (`SYNC=full`, `schema apply`) and the plan (`schema plan|verify`) do.
    let full = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    let plan = syncer(&set).plan(db.target()).await.unwrap();
    for report in [&full, &plan] {
        let step = &report.steps[2];
        assert_eq!(step.action, Action::Drift);
        assert!(step.reason.contains("index_missing(items_name_idx)"), "{}", step.reason);
    }
    assert!(!db.catalog().await.iter().any(|l| l.contains("items_name_idx")), "drift is not repaired silently");
    // With the mark gone, every boot looks at everything until the drift is resolved.
    db.pool.exec("DELETE FROM bootschema_history WHERE version = -1").await.unwrap();
    let boot = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(boot.steps[2].action, Action::Drift);
    assert_eq!(db.mark().await, None, "a drifted set gets no mark");
}

async fn destructive_snippet_is_blocked_unless_allowed(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write("0006_drop_price.sql", "-- destructive\nALTER TABLE items DROP COLUMN price;\n");
    let set = dir.snippets();
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("sql/0006_drop_price.sql") && text.contains("BSTEST_SCHEMA_ALLOW_DESTRUCTIVE=1"), "{text}");
    assert!(db.catalog().await.iter().any(|l| l.contains("price")), "the column is still there");
    let report = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap();
    assert_eq!(report.steps[5].action, Action::Apply);
    assert!(!db.catalog().await.iter().any(|l| l.contains("price")), "the column is gone");
}

async fn failing_snippet_leaves_schema_and_ledger_as_before(db: TestDb) {
    if db.kind == Kind::MySql {
        // MySQL commits DDL implicitly: there the promise is to resume, tested in
        // failed_snippet_completes_after_the_fix.
        return;
    }
    let dir = SnippetDir::new(BASE);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let (catalog, ledger) = (db.catalog().await, db.ledger().await);
    dir.write(
        "0006_bad.sql",
        "CREATE TABLE extra (id INTEGER);\nALTER TABLE items ADD COLUMN note VARCHAR(10);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), ErrorKind::Statement { line: 3, .. }), "{text}");
    assert!(text.contains("sql/0006_bad.sql:3") && text.contains("INSERT INTO no_such_table"), "{text}");
    assert_eq!(db.catalog().await, catalog, "the failed snippet left nothing behind");
    assert_eq!(db.ledger().await, ledger);
}

async fn failed_snippet_completes_after_the_fix(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let three = |second_table: &str| {
        format!(
            "ALTER TABLE items ADD COLUMN a INTEGER;\nALTER TABLE {second_table} ADD COLUMN b INTEGER;\nALTER TABLE items ADD COLUMN c INTEGER;\n"
        )
    };
    dir.write("0006_three_columns.sql", &three("no_such_table"));
    let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("sql/0006_three_columns.sql:2"), "{err}");
    if db.kind == Kind::MySql {
        let ledger = db.ledger().await;
        assert!(ledger.last().unwrap().starts_with("6 partial "), "progress is recorded: {ledger:?}");
        assert!(err.to_string().contains("resumes after them"), "{err}");
    }
    dir.write("0006_three_columns.sql", &three("items"));
    let report = syncer(&dir.snippets()).run(db.target()).await.expect("no duplicate column error after the fix");
    assert_eq!(report.steps[5].action, Action::Apply);
    assert_eq!(db.pool.count("SELECT COUNT(a) + COUNT(b) + COUNT(c) FROM items").await, 0, "a, b and c exist");
    assert!(db.ledger().await.last().unwrap().starts_with("6 applied "));
}

async fn concurrent_syncs_apply_each_snippet_exactly_once(db: TestDb) {
    let applied = db.boot_replicas(SnippetDir::new(BASE).snippets(), 8).await;
    assert_eq!(applied, 5, "each snippet applied by exactly one replica");
    assert_eq!(db.ledger().await.len(), 5);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items").await, 1, "the seed ran once");
}

async fn lock_is_free_at_once_after_a_failed_sync(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    dir.write("0006_bad.sql", "INSERT INTO no_such_table VALUES (1);\n");
    assert!(syncer(&dir.snippets()).run(db.target()).await.is_err());
    dir.remove("0006_bad.sql");
    // Another replica, with a lock wait too short to outlast a leaked lock.
    let other = db.new_pool().await;
    dir.write("0006_good.sql", "CREATE TABLE good (id INTEGER);\n");
    let started = std::time::Instant::now();
    let report = syncer(&dir.snippets()).lock_timeout(Duration::from_secs(1)).run(other.target()).await.unwrap();
    assert_eq!(report.steps[5].action, Action::Apply);
    assert!(started.elapsed() < Duration::from_secs(1), "the lock was waited for");
    if db.kind == Kind::Postgres {
        assert_eq!(db.advisory_locks().await, 0);
    }
}

async fn dry_run_changes_nothing(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    let before = db.catalog().await;
    let report = syncer(&dir.snippets()).dry_run(true).run(db.target()).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.count(Action::Apply), 5);
    assert_eq!(db.catalog().await, before, "no ledger table, no DDL");

    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write("0006_more.sql", "-- guard: table_missing(more_items)\nCREATE TABLE more_items (id INTEGER);\n");
    let (catalog, ledger) = (db.catalog().await, db.ledger().await);
    let report = syncer(&dir.snippets()).dry_run(true).run(db.target()).await.unwrap();
    assert_eq!(report.steps[5].action, Action::Apply);
    assert_eq!((db.catalog().await, db.ledger().await), (catalog, ledger));
}

async fn on_change_reapply_runs_again_when_the_text_changes(db: TestDb) {
    let view = |columns: &str| {
        format!(
            "-- guard: table_missing(item_names)\n-- on_change: reapply\nDROP VIEW IF EXISTS item_names;\nCREATE VIEW item_names AS SELECT {columns} FROM items;\n"
        )
    };
    let dir = SnippetDir::new(BASE);
    dir.write("0006_view.sql", &view("name"));
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write("0006_view.sql", &view("id, name"));
    let set = dir.snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.steps[5].action, Action::Reapply);
    let ledger = db.ledger().await;
    assert!(
        ledger[5].starts_with("6 reapplied ")
            && ledger[5].ends_with(&*set.for_dialect(db.target().dialect())[5].checksum)
    );
    assert_eq!(db.pool.count("SELECT COUNT(id) FROM item_names").await, 1, "the new view has the id column");
    let again = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!((again.count(Action::Skip), again.unchanged), (6, 6), "the reapply left the new mark");
    let full = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert_eq!(full.steps[5].action, Action::Skip);
}

async fn unless_guard_adopts_seed_data_already_there(db: TestDb) {
    let dir = SnippetDir::new(&BASE[..3]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    db.pool.exec("INSERT INTO items (id, name) VALUES (1, 'already here')").await.unwrap();
    dir.write(BASE[3].0, BASE[3].1);
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap();
    assert_eq!(report.steps[3].action, Action::Adopt);
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM items").await, 1);
}

async fn per_dialect_snippet_replaces_the_portable_one(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    let folder = match db.kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
        Kind::Sqlite => "sqlite",
    };
    dir.write(
        &format!("{folder}/0002_add_price.sql"),
        "-- guard: column_missing(items.price)\nALTER TABLE items ADD COLUMN price DECIMAL(10, 2);\n",
    );
    let set = dir.snippets();
    let snippet = &set.for_dialect(db.target().dialect())[1];
    assert_eq!(snippet.path, format!("sql/{folder}/0002_add_price.sql"));
    syncer(&set).run(db.target()).await.unwrap();
    let catalog = db.catalog().await.join("\n").to_lowercase();
    assert!(catalog.contains("price numeric") || catalog.contains("price decimal"), "{catalog}");
}

async fn the_mark_records_the_synced_set_and_short_cuts_the_next_boot(db: TestDb) {
    let dialect = db.target().dialect();
    let dir = SnippetDir::new(BASE);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(dialect)));
    let again = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!((again.unchanged, again.steps.len(), again.changed_anything()), (5, 0, false));
    assert!(again.summary().starts_with("in sync: 5 snippets recorded (ledger mark)"), "{}", again.summary());
    // A new snippet changes the set's mark: the boot reads everything and applies it.
    dir.write("0006_more.sql", "CREATE TABLE more_items (id INTEGER);\n");
    let grown = dir.snippets();
    assert_ne!(grown.mark(dialect), set.mark(dialect));
    let report = syncer(&grown).run(db.target()).await.unwrap();
    assert_eq!((report.count(Action::Apply), report.count(Action::Skip), report.unchanged), (1, 5, 0));
    assert_eq!(db.mark().await.as_deref(), Some(&*grown.mark(dialect)));
}

async fn a_missing_or_stale_mark_is_rewritten(db: TestDb) {
    let dialect = db.target().dialect();
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    for damage in [
        "DELETE FROM bootschema_history WHERE version = -1",
        "UPDATE bootschema_history SET checksum = 'v1:5:00' WHERE version = -1",
    ] {
        db.pool.exec(damage).await.unwrap();
        let report = syncer(&set).run(db.target()).await.unwrap();
        assert_eq!((report.unchanged, report.count(Action::Skip)), (0, 5), "{damage}: a full look");
        assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(dialect)), "{damage}: the mark is written again");
        if db.kind == Kind::Postgres {
            assert_eq!(db.advisory_locks().await, 0, "{damage}: the lock taken to write it is released");
        }
    }
    // A ledger row deleted by hand together with the mark: the snippet is adopted again.
    db.pool.exec("DELETE FROM bootschema_history WHERE version IN (-1, 1)").await.unwrap();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(report.steps[0].action, Action::Adopt);
    assert_eq!(db.ledger().await.len(), 5);
}

async fn an_older_release_leaves_the_newer_mark_alone(db: TestDb) {
    let dialect = db.target().dialect();
    let old = SnippetDir::new(BASE).snippets();
    let dir = SnippetDir::new(BASE);
    dir.write("0006_more.sql", "CREATE TABLE more_items (id INTEGER);\n");
    let new = dir.snippets();
    syncer(&new).run(db.target()).await.unwrap();
    // The old binary of a rolling deploy boots after the new one synced.
    let report = syncer(&old).run(db.target()).await.unwrap();
    assert_eq!((report.count(Action::Skip), report.orphans.len()), (5, 1));
    assert!(report.orphans[0].newer, "called newer than this binary, not a removed file");
    assert_eq!(db.mark().await.as_deref(), Some(&*new.mark(dialect)), "the newer release's mark stays");
    let report = syncer(&new).run(db.target()).await.unwrap();
    assert_eq!(report.unchanged, 6, "so the new replicas keep booting on the fast path");
}

async fn a_removed_old_snippet_does_not_prevent_the_mark(db: TestDb) {
    let dialect = db.target().dialect();
    let all = SnippetDir::new(BASE).snippets();
    syncer(&all).run(db.target()).await.unwrap();
    // Without its newest snippet the set looks like an older release: no new mark.
    let older = SnippetDir::new(&BASE[..4]).snippets();
    syncer(&older).run(db.target()).await.unwrap();
    assert_eq!(db.mark().await.as_deref(), Some(&*all.mark(dialect)), "version 5 is newer: the mark stays");
    // Without its oldest snippet (squashed away), the set is marked.
    let squashed = SnippetDir::new(&BASE[1..]).snippets();
    let report = syncer(&squashed).run(db.target()).await.unwrap();
    assert_eq!((report.count(Action::Skip), report.orphans.len()), (4, 1));
    assert!(!report.orphans[0].newer, "a removed file, not a newer release's");
    assert_eq!(db.mark().await.as_deref(), Some(&*squashed.mark(dialect)), "version 1 is older: marked");
    assert_eq!(syncer(&squashed).run(db.target()).await.unwrap().unchanged, 4);
}

async fn dry_run_ignores_the_mark(db: TestDb) {
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let report = syncer(&set).dry_run(true).run(db.target()).await.unwrap();
    assert_eq!((report.unchanged, report.steps.len(), report.count(Action::Skip)), (0, 5, 5), "a preview reads all");
}

async fn ledger_text_is_recorded_exactly(db: TestDb) {
    // Pipelined snippets write their ledger row with literals: quotes, backslashes and
    // non-ASCII text must arrive as they are, whatever the server's escaping settings.
    let dir = SnippetDir::new(BASE);
    let name = "0006_café_o'neil_back\\slash.sql";
    dir.write(name, "CREATE TABLE extra (id INTEGER);\nCREATE TABLE extra2 (id INTEGER);\n");
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    let rows = db.pool.strings("SELECT description FROM bootschema_history WHERE version = 6").await;
    assert_eq!(rows, vec!["café_o'neil_back\\slash".to_string()]);
    let rows = db.pool.strings("SELECT path FROM bootschema_history WHERE version = 6").await;
    assert_eq!(rows, vec![format!("sql/{name}")]);
    let negative = db.pool.count("SELECT COUNT(*) FROM bootschema_history WHERE duration_ms < 0").await;
    assert_eq!(negative, 0);
}

async fn a_guard_that_still_reports_missing_after_its_snippet_ran_fails_the_sync(db: TestDb) {
    let dir = SnippetDir::new(BASE);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    // The guard names a column the snippet does not add (a typo): verify catches it.
    dir.write(
        "0006_email.sql",
        "-- guard: column_missing(items.emial)\nALTER TABLE items ADD COLUMN email VARCHAR(100);\n",
    );
    let set = dir.snippets();
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::GuardStillMissing { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("sql/0006_email.sql") && text.contains("column_missing(items.emial)"), "{text}");
    let new_mark = set.mark(db.target().dialect()).into_owned();
    assert_ne!(db.mark().await, Some(new_mark), "a set that failed verification gets no mark");

    // The same for a table guard, in a snippet of its own.
    let dir = SnippetDir::new(BASE);
    dir.write("0006_logs.sql", "-- guard: table_missing(log)\nCREATE TABLE logs (id INTEGER);\n");
    let other = TestDb::new(db.kind).await.unwrap();
    let err = syncer(&dir.snippets()).run(other.target()).await.unwrap_err();
    assert!(err.to_string().contains("table_missing(log)"), "{err}");
}

/// Drift that the mark hides from normal boots is seen by the next full look (`schema
/// apply`, `SYNC=full`), which removes the mark: every boot after it warns until the
/// drift is resolved.
async fn drift_found_by_a_full_look_removes_the_mark(db: TestDb) {
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    assert!(db.mark().await.is_some());
    let drop = match db.kind {
        Kind::MySql => "DROP INDEX items_name_idx ON items",
        _ => "DROP INDEX items_name_idx",
    };
    db.pool.exec(drop).await.unwrap();
    let hidden = syncer(&set).run(db.target()).await.unwrap();
    assert!(hidden.steps.is_empty(), "the mark's shortcut reads one row and sees nothing");
    let full = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert_eq!(full.count(Action::Drift), 1, "{:?}", actions(&full));
    assert_eq!(db.mark().await, None, "the full look removed the mark");
    let next = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(next.count(Action::Drift), 1, "a normal boot now warns: {:?}", actions(&next));
    assert_eq!(db.mark().await, None, "and writes no mark while the drift lasts");
}

async fn a_checksum_changed_by_hand_removes_the_mark_at_the_next_full_look(db: TestDb) {
    let set = SnippetDir::new(BASE).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    db.pool.exec("UPDATE bootschema_history SET checksum = 'sha256:0123' WHERE version = 2").await.unwrap();
    let err = syncer(&set).full_check(true).run(db.target()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Refused(_)), "{err}");
    assert_eq!(db.mark().await, None);
    let err = syncer(&set).run(db.target()).await.unwrap_err();
    assert!(err.to_string().contains("0002_add_price.sql"), "every boot now refuses, naming the file: {err}");
}

/// A rolling deploy: old and new binaries boot in any order, also at once. The new
/// release changed a view (`on_change: reapply`); an old pod that restarts must not put
/// the old view back, nor refuse, nor report drift.
mod rolling_deploy {
    use super::*;

    fn release(view: &str) -> SnippetDir {
        SnippetDir::new(&[
            ("0001_t.sql", "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER);\n"),
            ("0002_v.sql", &*format!("-- on_change: reapply\nDROP VIEW IF EXISTS v;\nCREATE VIEW v AS {view};\n")),
        ])
    }

    async fn has_twice(db: &TestDb) -> bool {
        db.catalog().await.iter().any(|l| l.contains("twice"))
    }

    async fn an_older_binary_never_undoes_a_newer_ones_reapply(db: TestDb) {
        let old = release("SELECT id, a FROM t").snippets();
        let new = release("SELECT id, a, a * 2 AS twice FROM t").snippets();
        syncer(&old).run(db.target()).await.unwrap();
        let upgraded = syncer(&new).run(db.target()).await.unwrap();
        assert_eq!(upgraded.steps[1].action, Action::Reapply);
        assert!(has_twice(&db).await);
        for _ in 0..2 {
            let report = syncer(&old).run(db.target()).await.unwrap();
            assert!(!report.changed_anything(), "{:?}", actions(&report));
            assert!(report.steps[1].reason.contains("newer release"), "{}", report.steps[1].reason);
            assert!(has_twice(&db).await, "the newest text stays");
            let report = syncer(&new).run(db.target()).await.unwrap();
            assert!(!report.changed_anything() && report.unchanged == 2, "the new release keeps its fast path");
        }
        // Old and new pods at once.
        let mut tasks = Vec::new();
        for k in 0..6 {
            let set = std::sync::Arc::new(if k % 2 == 0 { old.clone() } else { new.clone() });
            let pool = db.new_pool().await;
            tasks.push(tokio::spawn(async move { syncer(&set).run(pool.target()).await.map(|_| ()) }));
        }
        for task in tasks {
            task.await.unwrap().expect("every pod boots");
        }
        assert!(has_twice(&db).await, "the newest text stays");
    }

    on_every_database!(an_older_binary_never_undoes_a_newer_ones_reapply);
}

/// An editor adding or removing the final newline of an applied file is no edit; a
/// ledger written by an older bootschema (whose checksum covered that newline) is
/// accepted and gets the current checksums at the next sync.
mod final_newline {
    use super::*;

    async fn an_editors_final_newline_is_not_an_edit(db: TestDb) {
        let dir = SnippetDir::new(BASE);
        let set = dir.snippets();
        syncer(&set).run(db.target()).await.unwrap();
        // The ledger as an older bootschema wrote it: the untrimmed texts' checksums, no mark.
        for snippet in set.for_dialect(db.kind.dialect()) {
            db.pool
                .exec(&format!(
                    "UPDATE bootschema_history SET checksum = '{}' WHERE version = {}",
                    snippet.legacy_checksum, snippet.version
                ))
                .await
                .unwrap();
        }
        db.pool.exec("DELETE FROM bootschema_history WHERE version = -1").await.unwrap();
        let report = syncer(&set).run(db.target()).await.unwrap();
        assert!(!report.changed_anything(), "{:?}", actions(&report));
        assert!(report.steps.iter().all(|s| s.action == Action::Skip), "{:?}", actions(&report));
        let ledger = db.ledger().await;
        for snippet in set.for_dialect(db.kind.dialect()) {
            assert!(ledger.iter().any(|row| row.ends_with(&*snippet.checksum)), "rewritten: {ledger:?}");
        }
        assert!(db.mark().await.is_some());
        // Now the editor strips the final newline of an applied file, or adds blank lines.
        let (path, text) = BASE[1];
        dir.write(path, text.trim_end());
        let report = syncer(&dir.snippets()).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.unchanged, 5, "the same set: the mark's shortcut");
        dir.write(path, &format!("{text}\n\n"));
        let report = syncer(&dir.snippets()).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.unchanged, 5);
    }

    on_every_database!(an_editors_final_newline_is_not_an_edit);
}

/// A failed sync says what it did before the failure: the error carries the plan with
/// the snippets that completed (committed and recorded), as refinery's error carries its
/// report, and its text names them.
mod a_failure_keeps_its_progress {
    use super::*;

    async fn the_error_carries_what_completed_before_it(db: TestDb) {
        let dir = SnippetDir::new(&BASE[..2]);
        syncer(&dir.snippets()).run(db.target()).await.unwrap();
        dir.write("0003_index_name.sql", BASE[2].1);
        dir.write("0004_extra.sql", "CREATE TABLE extra (id INTEGER);\n");
        dir.write("0005_bad.sql", "INSERT INTO no_such_table VALUES (1);\n");
        dir.write("0006_after.sql", "CREATE TABLE after_bad (id INTEGER);\n");
        let err = syncer(&dir.snippets()).run(db.target()).await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Statement { .. }), "{err}");
        let report = err.report().expect("a sync that failed under the lock reports its plan");
        let completed: Vec<&str> = err.completed().iter().map(|s| s.path.as_str()).collect();
        assert_eq!(completed, ["sql/0003_index_name.sql", "sql/0004_extra.sql"], "{err}");
        assert_eq!(report.steps.len(), 6);
        assert!(!report.steps[4].completed && !report.steps[5].completed);
        assert!(!report.steps[0].completed, "recorded by an earlier sync, not this one");
        let text = err.to_string();
        assert!(
            text.contains("completed and recorded before the failure: sql/0003_index_name.sql, sql/0004_extra.sql"),
            "{text}"
        );
        // What the report says completed stands.
        let ledger = db.ledger().await;
        let versions: Vec<&str> = ledger.iter().filter_map(|row| row.split(' ').next()).collect();
        assert_eq!(versions, ["1", "2", "3", "4"]);
    }

    on_every_database!(the_error_carries_what_completed_before_it);
}

/// A pool on `sqlite::memory:` (what tests often use) syncs: sqlx 0.9 panics when asked
/// for such a pool's URL, which bootschema once did to tell private in-memory databases
/// from shared ones; and the sync's own connection sees the pool's database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_pool_syncs() {
    let set = SnippetDir::new(&[("0001_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n")]).snippets();
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let report = syncer(&set).run(&pool).await.unwrap();
    assert_eq!(report.count(bootschema::Action::Apply), 1, "{report:#?}");
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 't'").fetch_one(&pool).await.unwrap();
    assert_eq!(tables, 1);
    let again = syncer(&set).run(&pool).await.unwrap();
    assert_eq!(again.count(bootschema::Action::Apply), 0, "{again:#?}");
}
