//! Other tools' folders read as they are: sqlx, diesel, refinery and Flyway layouts,
//! named or detected, each file carrying what its tool records of it.

mod common;

use bootschema::{OnChange, Snippet, Tool, TransactionMode};
use bootschema_build::Layout;
use common::SqlFolder;

fn foreign(s: &Snippet) -> (Tool, &str, &str) {
    let f = s.foreign.as_ref().unwrap_or_else(|| panic!("{} has no foreign origin", s.path));
    (f.tool, f.version.as_ref(), f.name.as_ref())
}

fn paths(snippets: &[Snippet]) -> Vec<&str> {
    snippets.iter().map(|s| s.path.as_ref()).collect()
}

#[test]
fn a_sqlx_folder_reads_as_sqlx_reads_it() {
    let dir = SqlFolder::new();
    dir.file("20240101000000_create_users.sql", "CREATE TABLE users (id BIGINT PRIMARY KEY);\r\n")
        .file("20240102000000_add_email.up.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n")
        .file("20240102000000_add_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n")
        .file(
            "20240103000000_index.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n",
        );
    let scan = dir.builder().layout(Layout::Sqlx).scan().unwrap_or_else(|e| panic!("{e}"));
    let pg = &scan.set.postgres;
    assert_eq!(
        paths(pg),
        ["sql/20240101000000_create_users.sql", "sql/20240102000000_add_email.up.sql", "sql/20240103000000_index.sql"]
    );
    assert_eq!(foreign(&pg[0]), (Tool::Sqlx, "20240101000000", "create users"));
    assert_eq!(pg[1].description, "add_email");
    assert_eq!(pg[1].version, 20240102000000);
    // SHA-384 of the file's bytes, CRLF included (known answer from coreutils' sha384sum).
    assert_eq!(
        pg[0].foreign.as_ref().map(|f| f.checksum.as_ref()),
        Some("4bff74accf4dbd004386cc93cd8907fe28e1e9893d1a66d5d37ef72c0354b1d0b768c4d7b72670ea9107465fdff7579f")
    );
    assert_eq!(pg[2].transaction, TransactionMode::None, "-- no-transaction, as sqlx spells it");
    assert_eq!(pg[0].transaction, TransactionMode::Wrapped);
    let note = scan.warnings.iter().find(|w| w.path.ends_with(".down.sql")).expect("a note about the down file");
    assert!(note.message.contains("down migration"), "{note}");
}

#[test]
fn reversible_files_tell_sqlx_apart_when_detected() {
    let dir = SqlFolder::new();
    dir.file("1_a.up.sql", "CREATE TABLE a (id INT);\n").file("1_a.down.sql", "DROP TABLE a;\n");
    dir.file("2_b.sql", "CREATE TABLE b (id INT);\n");
    let scan = dir.scan();
    assert_eq!(scan.set.sqlite.iter().map(|s| foreign(s).0).collect::<Vec<_>>(), [Tool::Sqlx, Tool::Sqlx]);
    // Plain `<version>_<desc>.sql` files alone are bootschema's own layout.
    let own = SqlFolder::new();
    own.file("1_a.sql", "CREATE TABLE a (id INT);\n");
    assert!(own.scan().set.sqlite[0].foreign.is_none());
}

#[test]
fn a_diesel_folder_reads_as_diesel_reads_it() {
    let dir = SqlFolder::new();
    dir.file("00000000000000_diesel_initial_setup/up.sql", "SELECT 1;\n")
        .file("00000000000000_diesel_initial_setup/down.sql", "SELECT 2;\n")
        .file("2024-01-01-120000_create_users/up.sql", "CREATE TABLE users (id BIGINT PRIMARY KEY);\n")
        .file("2024-01-01-120000_create_users/down.sql", "DROP TABLE users;\n")
        // Fewer digits: diesel compares its versions as text, so this comes last.
        .file("2024-02-01_add_email/up.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n")
        .file("2024-01-02-000000_index/up.sql", "CREATE INDEX CONCURRENTLY users_e ON users (id);\n")
        .file("2024-01-02-000000_index/metadata.toml", "run_in_transaction = false\n")
        .file(".keep", "");
    let scan = dir.scan();
    let pg = &scan.set.postgres;
    assert_eq!(
        paths(pg),
        [
            "sql/00000000000000_diesel_initial_setup/up.sql",
            "sql/2024-01-01-120000_create_users/up.sql",
            "sql/2024-01-02-000000_index/up.sql",
            "sql/2024-02-01_add_email/up.sql",
        ]
    );
    assert_eq!(foreign(&pg[1]), (Tool::Diesel, "20240101120000", "2024-01-01-120000_create_users"));
    assert_eq!(foreign(&pg[0]).1, "00000000000000");
    assert_eq!(pg[0].version, 0);
    assert_eq!(pg[3].version, 20240201);
    assert_eq!(pg[2].transaction, TransactionMode::None, "metadata.toml: run_in_transaction = false");
    assert_eq!(pg[1].transaction, TransactionMode::Wrapped);
    assert!(pg.iter().all(|s| s.foreign.as_ref().is_some_and(|f| f.checksum.is_empty())), "diesel keeps none");
}

#[test]
fn a_diesel_migration_without_up_sql_is_an_error() {
    let dir = SqlFolder::new();
    dir.file("2024-01-01-120000_create_users/down.sql", "DROP TABLE users;\n");
    let errors = match dir.builder().layout(Layout::Diesel).scan() {
        Ok(_) => panic!("a folder without up.sql must fail"),
        Err(e) => e.0,
    };
    assert!(errors[0].message.contains("has no `up.sql`"), "{}", errors[0]);
}

#[test]
#[cfg(feature = "refinery")]
fn a_refinery_folder_carries_refinerys_own_checksums() {
    let dir = SqlFolder::new();
    dir.file("V1__create_users.sql", "CREATE TABLE users (id BIGINT PRIMARY KEY);\n")
        .file("U3__merged_late.sql", "CREATE TABLE late (id INT);\n")
        .file("V2__add_email.sql", "ALTER TABLE users ADD COLUMN email TEXT;\r\n");
    let scan = dir.builder().layout(Layout::Refinery).scan().unwrap_or_else(|e| panic!("{e}"));
    let pg = &scan.set.postgres;
    assert_eq!(paths(pg), ["sql/V1__create_users.sql", "sql/V2__add_email.sql", "sql/U3__merged_late.sql"]);
    assert_eq!(foreign(&pg[1]), (Tool::Refinery, "2", "add_email"));
    for (snippet, file) in pg.iter().zip(["V1__create_users", "V2__add_email", "U3__merged_late"]) {
        let raw = std::fs::read_to_string(dir.path().join(format!("{file}.sql"))).expect("read");
        let expected = refinery_core::Migration::unapplied(file, &raw).expect("refinery reads it").checksum();
        assert_eq!(snippet.foreign.as_ref().map(|f| f.checksum.to_string()), Some(expected.to_string()), "{file}");
    }
}

#[test]
fn a_flyway_folder_orders_versions_by_parts_and_repeatables_last() {
    let dir = SqlFolder::new();
    dir.file("V1__init.sql", "CREATE TABLE t (id INT);\n")
        .file("V1.10__ten.sql", "ALTER TABLE t ADD COLUMN c10 INT;\n")
        .file("V1_2__two.sql", "\u{feff}CREATE TABLE t2 (id INT);\r\nINSERT INTO t2 VALUES (1);\n")
        .file("V2__two_point_oh.sql", "ALTER TABLE t ADD COLUMN c2 INT;\n")
        .file("R__b_views.sql", "CREATE OR REPLACE VIEW vb AS SELECT id FROM t;\n")
        .file("R__a_views.sql", "CREATE OR REPLACE VIEW va AS SELECT id FROM t;\n")
        .file("U2__undo.sql", "SELECT 1;\n");
    let scan = dir.scan();
    let pg = &scan.set.postgres;
    assert_eq!(
        paths(pg),
        [
            "sql/V1__init.sql",
            "sql/V1_2__two.sql",
            "sql/V1.10__ten.sql",
            "sql/V2__two_point_oh.sql",
            "sql/R__a_views.sql",
            "sql/R__b_views.sql",
        ]
    );
    assert_eq!(foreign(&pg[1]), (Tool::Flyway, "1.2", "two"));
    assert_eq!(foreign(&pg[3]).2, "two point oh");
    assert_eq!(foreign(&pg[4]), (Tool::Flyway, "", "a views"));
    assert_eq!(pg[4].on_change, OnChange::Reapply);
    assert_eq!(pg[0].on_change, OnChange::Refuse);
    // CRC-32 over the lines without their ends, the BOM removed (zlib's crc32 of
    // "CREATE TABLE t2 (id INT);INSERT INTO t2 VALUES (1);").
    assert_eq!(pg[1].foreign.as_ref().map(|f| f.checksum.as_ref()), Some("-1656192847"));
    let versions: Vec<u64> = pg.iter().map(|s| s.version).collect();
    let mut distinct = versions.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), versions.len(), "every file has its own number: {versions:?}");
    assert!(scan.warnings.iter().any(|w| w.path.ends_with("U2__undo.sql")), "{:?}", scan.warnings);
}

#[test]
#[cfg(not(feature = "refinery"))]
fn a_refinery_folder_without_the_feature_says_how_to_turn_it_on() {
    let dir = SqlFolder::new();
    dir.file("V1__init.sql", "CREATE TABLE t (id INT);\n");
    let error = dir.error();
    assert!(error.message.contains("`refinery` feature"), "{error}");
    assert!(error.help.contains("features = [\"refinery\"]"), "{error}");
    // Flyway, named, needs no feature.
    assert!(dir.builder().layout(Layout::Flyway).scan().is_ok());
}

#[test]
#[cfg(feature = "refinery")]
fn plain_v_files_detect_as_refinery_with_a_note() {
    let dir = SqlFolder::new();
    dir.file("V1__init.sql", "CREATE TABLE t (id INT);\n");
    let scan = dir.scan();
    assert_eq!(foreign(&scan.set.postgres[0]).0, Tool::Refinery);
    assert!(scan.warnings.iter().any(|w| w.message.contains("both refinery and Flyway")), "{:?}", scan.warnings);
    let named = dir.builder().layout(Layout::Flyway).scan().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(foreign(&named.set.postgres[0]).0, Tool::Flyway);
    assert!(named.warnings.is_empty(), "{:?}", named.warnings);
}

#[test]
fn mixed_layouts_are_an_error_naming_two_files() {
    let dir = SqlFolder::new();
    dir.file("0001_create_users.sql", "CREATE TABLE users (id INT);\n");
    dir.file("V2__add_email.sql", "ALTER TABLE users ADD COLUMN email TEXT;\n");
    let error = dir.error();
    assert!(error.message.contains("sql/0001_create_users.sql"), "{error}");
    assert!(error.message.contains("sql/V2__add_email.sql"), "{error}");
    assert!(error.help.contains("Builder::layout"), "{error}");
}

#[test]
fn a_history_of_another_tool_imports_with_one_line() {
    let dir = SqlFolder::new();
    dir.file("1_create.sql", "CREATE TABLE t (id INT, old TEXT);\n")
        .file("2_drop.up.sql", "ALTER TABLE t DROP COLUMN old;\n");
    let error = dir.error();
    assert!(error.help.contains("history_until"), "the help names the one line: {error}");
    let scan = dir.builder().history_until(2).scan().unwrap_or_else(|e| panic!("{e}"));
    assert!(scan.set.postgres[1].history);
}

/// diesel's own first migration on PostgreSQL (as `diesel setup` writes it: two
/// functions with dollar-quoted bodies, under a block of comments) builds as it is.
#[test]
fn diesels_initial_setup_builds_for_postgres() {
    let dir = SqlFolder::new();
    dir.file(
        "00000000000000_diesel_initial_setup/up.sql",
        "-- This file was automatically created by Diesel to setup helper functions\n\
         -- and other internal bookkeeping. This file is safe to edit, any future\n\
         -- changes will be added to existing projects as new migrations.\n\
         \n\
         -- Sets up a trigger for the given table to automatically set a column called\n\
         -- `updated_at` whenever the row is modified (unless `updated_at` was included\n\
         -- in the modified columns)\n\
         --\n\
         -- # Example\n\
         --\n\
         -- ```sql\n\
         -- CREATE TABLE users (id SERIAL PRIMARY KEY, updated_at TIMESTAMP NOT NULL DEFAULT NOW());\n\
         --\n\
         -- SELECT diesel_manage_updated_at('users');\n\
         -- ```\n\
         CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\n\
         BEGIN\n\
         \x20   EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n\
         \x20                   FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\n\
         END;\n\
         $$ LANGUAGE plpgsql;\n\
         \n\
         CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\n\
         BEGIN\n\
         \x20   IF (\n\
         \x20       NEW IS DISTINCT FROM OLD AND\n\
         \x20       NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at\n\
         \x20   ) THEN\n\
         \x20       NEW.updated_at := current_timestamp;\n\
         \x20   END IF;\n\
         \x20   RETURN NEW;\n\
         END;\n\
         $$ LANGUAGE plpgsql;\n",
    )
    .file(
        "00000000000000_diesel_initial_setup/down.sql",
        "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\n",
    );
    let scan = dir.builder().dialects(&[bootschema::DialectKind::Postgres]).scan().unwrap_or_else(|e| panic!("{e}"));
    let setup = &scan.set.postgres[0];
    assert_eq!(foreign(setup), (Tool::Diesel, "00000000000000", "00000000000000_diesel_initial_setup"));
    assert_eq!(setup.statements.len(), 2, "two functions, split at the end of each body");
    assert!(setup.statement_sql(1).starts_with("CREATE OR REPLACE FUNCTION diesel_set_updated_at()"));
}

/// `history_until` in a Flyway folder goes by Flyway's order: `2` comes after `1.10`,
/// though its number (2) is smaller than that of 1.10 (11210).
#[test]
fn history_goes_by_the_tools_order() {
    let dir = SqlFolder::new();
    dir.file("V1__init.sql", "CREATE TABLE t (id INT, c INT);\n")
        .file("V1.10__drop.sql", "ALTER TABLE t DROP COLUMN c;\n")
        .file("V2__drop_again.sql", "DROP TABLE t;\n");
    let scan = dir.builder().layout(Layout::Flyway).history_until(11210).scan();
    let errors = match scan {
        Ok(scan) => panic!("V2 is after the history and needs -- destructive: {:?}", scan.set.postgres),
        Err(e) => e.0,
    };
    assert!(errors.iter().all(|e| e.path.ends_with("V2__drop_again.sql")), "{errors:?}");
    let scan = dir.builder().layout(Layout::Flyway).history_until(2).scan().unwrap_or_else(|e| panic!("{e}"));
    assert!(scan.set.postgres.iter().all(|s| s.history));
}
