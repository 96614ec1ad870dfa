//! How the folder becomes each dialect's list of snippets.

mod common;

use bootschema::{DialectKind, Snippet};
use common::SqlFolder;

fn paths(list: &[Snippet]) -> Vec<&str> {
    list.iter().map(|s| s.path.as_ref()).collect()
}

#[test]
fn snippets_apply_in_numeric_version_order() {
    let sql = SqlFolder::new();
    sql.file("10_ten.sql", "SELECT 10;").file("2_two.sql", "SELECT 2;").file("0001_one.sql", "SELECT 1;");
    let scan = sql.scan();
    assert_eq!(paths(&scan.set.postgres), ["sql/0001_one.sql", "sql/2_two.sql", "sql/10_ten.sql"]);
    assert_eq!(scan.set.postgres.iter().map(|s| s.version).collect::<Vec<_>>(), [1, 2, 10]);
}

#[test]
fn dated_versions_compare_as_numbers_without_dashes() {
    let sql = SqlFolder::new();
    sql.file("2025-03-01-1200_later.sql", "SELECT 2;").file("20250301_earlier.sql", "SELECT 1;");
    let scan = sql.scan();
    let snippets = &scan.set.sqlite;
    assert_eq!(paths(snippets), ["sql/20250301_earlier.sql", "sql/2025-03-01-1200_later.sql"]);
    assert_eq!((snippets[1].version, snippets[1].version_text.as_ref()), (202503011200, "2025-03-01-1200"));
    assert_eq!(snippets[1].description, "later");
}

#[test]
fn portable_snippet_applies_on_every_dialect() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (id INT);");
    let scan = sql.scan();
    for dialect in DialectKind::ALL {
        assert_eq!(paths(scan.set.for_dialect(dialect)), ["sql/0001_users.sql"], "{dialect}");
    }
}

#[test]
fn dialect_file_replaces_the_portable_one_for_its_dialect_only() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (id INT);")
        .file("0002_email.sql", "ALTER TABLE users ADD COLUMN email TEXT;")
        .file("postgres/0002_email.sql", "ALTER TABLE users ADD COLUMN email CITEXT;");
    let scan = sql.scan();
    assert_eq!(paths(&scan.set.postgres), ["sql/0001_users.sql", "sql/postgres/0002_email.sql"]);
    assert_eq!(paths(&scan.set.mysql), ["sql/0001_users.sql", "sql/0002_email.sql"]);
    assert_eq!(paths(&scan.set.sqlite), ["sql/0001_users.sql", "sql/0002_email.sql"]);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
}

#[test]
fn version_only_some_dialects_have_is_a_warning_naming_the_others() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (id INT);")
        .file("postgres/0002_ext.sql", "CREATE EXTENSION citext;")
        .file("sqlite/0002_ext.sql", "SELECT 1;");
    let scan = sql.scan();
    assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
    let warning = &scan.warnings[0];
    assert_eq!((warning.path.as_str(), warning.line), ("sql/postgres/0002_ext.sql", None));
    assert!(
        warning.message.contains("version 0002 has a snippet for PostgreSQL and SQLite but none for MySQL"),
        "{warning}"
    );
    assert!(warning.help.contains("`sql/mysql/0002_ext.sql`"), "{warning}");
}

#[test]
fn missing_dialect_warning_only_counts_built_dialects() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_users.sql", "CREATE TABLE users (id INT);");
    let scan = sql.builder().dialects(&[DialectKind::Postgres]).scan().unwrap();
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
}

#[test]
fn dialects_not_built_get_no_snippets_and_are_not_checked() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (id INT);").file("mysql/not a snippet.sql", "DELIMITER //");
    let scan = sql.builder().dialects(&[DialectKind::Postgres, DialectKind::Sqlite]).scan().unwrap();
    assert_eq!(paths(&scan.set.postgres), ["sql/0001_users.sql"]);
    assert!(scan.set.mysql.is_empty());
}

#[test]
fn non_sql_and_hidden_files_are_ignored() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (id INT);")
        .file("README.md", "notes")
        .file(".#0002_x.sql", "editor lock file")
        .file("postgres/notes.txt", "more notes");
    assert_eq!(paths(&sql.scan().set.postgres), ["sql/0001_users.sql"]);
}

#[test]
fn snippet_carries_its_directives_and_normalised_text() {
    let sql = SqlFolder::new();
    let text = "-- guard: index_missing(users_email_idx)\n-- transaction: none\n-- destructive: rebuilds the index\n\
                -- on_change: reapply\nDROP INDEX IF EXISTS users_email_old;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n";
    sql.file("postgres/0003_index.sql", text.replace('\n', "\r\n"));
    let scan = sql.builder().dialects(&[DialectKind::Postgres]).scan().unwrap();
    let s = &scan.set.postgres[0];
    assert_eq!(s.sql, text);
    assert_eq!(s.guards[0].kind.to_string(), "index_missing(users_email_idx)");
    assert_eq!(s.guards[0].origin, bootschema::GuardOrigin::Written { line: 1 });
    assert_eq!(s.transaction, bootschema::TransactionMode::None);
    assert!(s.destructive);
    assert_eq!(s.on_change, bootschema::OnChange::Reapply);
    assert_eq!(scan.set.env_prefix, "MYAPP");
}

#[test]
fn statements_are_ranges_of_the_text_with_their_lines() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "-- guard: table_missing(users)\n\nCREATE TABLE users (id INT);\n-- why\nCREATE INDEX users_id ON users (id);\n");
    let scan = sql.scan();
    let s = &scan.set.mysql[0];
    assert_eq!(s.statements.len(), 2);
    assert_eq!((s.statement_sql(0), s.statements[0].line), ("CREATE TABLE users (id INT)", 3));
    assert_eq!((s.statement_sql(1), s.statements[1].line), ("CREATE INDEX users_id ON users (id)", 5));
    assert!(s.statements.iter().all(|st| st.guards.is_empty()));
}

#[test]
fn ordinary_comments_at_the_top_are_allowed() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "-- Users of the app.\n-- author: Jane\n-- note: see ticket 42\n-- guard against double inserts below\nCREATE TABLE users (id INT);\n");
    assert!(sql.scan().set.postgres[0].guards.is_empty());
}

#[test]
fn destructive_directive_allows_drop() {
    let sql = SqlFolder::new();
    sql.file("0004_drop.sql", "-- destructive\nDROP TABLE legacy;\nTRUNCATE t;\nALTER TABLE u DROP COLUMN c;\n");
    assert!(sql.scan().set.sqlite[0].destructive);
}

#[test]
fn portable_snippet_keeps_one_text_split_per_dialect() {
    let sql = SqlFolder::new();
    sql.file(
        "0001_trigger.sql",
        "CREATE TABLE a (n INT);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET n = 1;\nEND;\n",
    );
    let scan = sql.scan();
    assert_eq!(scan.set.sqlite[0].statements.len(), 2, "SQLite keeps the trigger body in one statement");
    assert_eq!(scan.set.postgres[0].statements.len(), 3, "PostgreSQL has no BEGIN … END triggers: split at every `;`");
    assert_eq!(scan.set.sqlite[0].sql, scan.set.postgres[0].sql);
}

#[test]
fn paths_are_relative_to_an_explicit_base_dir() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_users.sql", "CREATE TABLE users (id INT);");
    let base = sql.path().parent().unwrap().parent().unwrap().to_path_buf();
    let scan = sql.builder().base_dir(&base).scan().unwrap();
    let expected =
        format!("{}/sql/postgres/0001_users.sql", sql.path().parent().unwrap().file_name().unwrap().to_string_lossy());
    assert_eq!(scan.set.postgres[0].path, expected);
}

#[test]
fn directive_block_of_the_design_is_accepted() {
    let sql = SqlFolder::new();
    sql.file(
        "0002_add_email.sql",
        "-- guard: table_missing(users)\n\
         -- guard: column_missing(users.email)\n\
         -- guard: index_missing(users_email_idx)\n\
         -- guard: constraint_missing(users.users_email_key)\n\
         -- guard: unless(SELECT 1 FROM settings WHERE key = 'seeded')\n\
         -- transaction: none          -- e.g. CREATE INDEX CONCURRENTLY; never wrapped in BEGIN\n\
         -- destructive                -- this snippet may DROP / TRUNCATE / rewrite data\n\
         -- on_change: reapply         -- views, functions: run again whenever the text changes\n\
         ALTER TABLE users ADD COLUMN email TEXT;\n",
    );
    let scan = sql.scan();
    let s = &scan.set.postgres[0];
    let guards: Vec<String> = s.guards.iter().map(|g| g.kind.to_string()).collect();
    assert_eq!(
        guards,
        [
            "table_missing(users)",
            "column_missing(users.email)",
            "index_missing(users_email_idx)",
            "constraint_missing(users.users_email_key)",
            "unless(SELECT 1 FROM settings WHERE key = 'seeded')",
        ]
    );
    assert_eq!(
        (s.transaction, s.destructive, s.on_change),
        (bootschema::TransactionMode::None, true, bootschema::OnChange::Reapply)
    );
    assert_eq!((s.statement_sql(0), s.statements[0].line), ("ALTER TABLE users ADD COLUMN email TEXT", 9));
}

#[test]
fn files_that_look_like_snippets_but_are_not_sql_are_named_in_a_warning() {
    let sql = SqlFolder::new();
    sql.file("0001_one.sql", "SELECT 1;").file("0002_init.psql", "SELECT 2;").file("0003_x.SQL", "SELECT 3;");
    sql.file("README.md", "notes");
    let scan = sql.scan();
    assert_eq!(paths(&scan.set.postgres), ["sql/0001_one.sql"]);
    let named: Vec<&str> =
        scan.warnings.iter().filter(|w| w.message.contains("is not read")).map(|w| w.path.as_str()).collect();
    assert_eq!(named, ["sql/0002_init.psql", "sql/0003_x.SQL"], "a README is left alone");
}
