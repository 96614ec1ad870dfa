//! Every kind of bad input fails the scan with the file, the line, what is wrong and
//! what to do.

mod common;

use common::{assert_diagnostic, SqlFolder};

const TABLE: &str = "CREATE TABLE users (id BIGINT PRIMARY KEY);\n";

#[test]
fn misspelt_directive_key_is_an_unknown_directive() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- Creates users.\n-- gaurd: table_missing(users)\n{TABLE}"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(2),
        "unknown directive `gaurd`",
        "-- guard: table_missing(users)",
    );
}

#[test]
fn misspelt_bare_directive_is_an_unknown_directive() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- destructve\n{TABLE}"));
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(1), "unknown directive `destructve`", "-- destructive");
}

#[test]
fn guard_call_under_an_unknown_key_is_an_unknown_directive() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- check: table_missing(users)\n{TABLE}"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(1),
        "unknown directive `check`",
        "-- guard: table_missing(users)",
    );
}

#[test]
fn directive_in_upper_case_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- Transaction: none\n{TABLE}"));
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(1), "lower case", "-- transaction: none");
}

#[test]
fn directive_without_colon_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- transaction none\n{TABLE}"));
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(1), "needs a `:`", "-- transaction: none");
}

#[test]
fn unknown_guard_kind_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- guard: table_exists(users)\n{TABLE}"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(1),
        "unknown guard `table_exists`",
        "did you mean `table_missing`?",
    );
}

#[test]
fn guard_with_unbalanced_parentheses_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- guard: table_missing(users\n{TABLE}"));
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(1), "unbalanced parentheses", "table_missing(users)");
}

#[test]
fn unless_query_with_unbalanced_parentheses_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_seed.sql", "-- guard: unless(SELECT count(* FROM settings)\nINSERT INTO settings VALUES (1);\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0001_seed.sql",
        Some(1),
        "unbalanced parentheses",
        "unless(SELECT 1 FROM settings",
    );
}

#[test]
fn guard_with_wrong_number_of_name_parts_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0002_email.sql", "-- guard: column_missing(email)\nALTER TABLE users ADD COLUMN email TEXT;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0002_email.sql",
        Some(1),
        "wrong number of name parts",
        "column_missing(users.email)",
    );
}

#[test]
fn guard_with_empty_unless_query_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_seed.sql", "-- guard: unless(  )\nINSERT INTO settings VALUES (1);\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0001_seed.sql",
        Some(1),
        "the query is empty",
        "unless(SELECT 1 FROM settings",
    );
}

#[test]
fn bad_transaction_value_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- transaction: maybe\n{TABLE}"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(1),
        "`maybe` is not a transaction mode",
        "-- transaction: none",
    );
}

#[test]
fn bad_on_change_value_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_view.sql", "-- on_change: always\nCREATE VIEW v AS SELECT 1;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0001_view.sql",
        Some(1),
        "`always` is not an on_change policy",
        "-- on_change: reapply",
    );
}

#[test]
fn repeated_directive_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- transaction: none\n-- transaction: wrapped\n{TABLE}"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(2),
        "given twice (first on line 1)",
        "keep a single `-- transaction: none` line",
    );
}

#[test]
fn directive_after_the_first_statement_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("{TABLE}-- transaction: none\nCREATE INDEX i ON users (id);\n"));
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(2),
        "comes after the first statement",
        "move it to the top",
    );
}

#[test]
fn same_version_twice_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_a.sql", TABLE).file("1_b.sql", "CREATE TABLE b (id INT);");
    assert_diagnostic(
        &sql.error(),
        "sql/1_b.sql",
        None,
        "version 1 is also used by `sql/0001_a.sql`",
        "rename one of the two files",
    );
}

#[test]
fn same_version_twice_in_a_dialect_folder_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("postgres/0003_a.sql", TABLE).file("postgres/3_b.sql", "CREATE TABLE b (id INT);");
    assert_diagnostic(&sql.error(), "sql/postgres/3_b.sql", None, "also used by `sql/postgres/0003_a.sql`", "rename");
}

#[test]
fn file_name_without_version_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("create_users.sql", TABLE);
    assert_diagnostic(
        &sql.error(),
        "sql/create_users.sql",
        None,
        "does not start with a version",
        "0001_create_users.sql",
    );
}

#[test]
fn file_name_with_empty_description_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_.sql", TABLE);
    assert_diagnostic(&sql.error(), "sql/0001_.sql", None, "empty description", "0001_create_users.sql");
}

#[test]
fn file_name_without_description_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001.sql", TABLE);
    assert_diagnostic(&sql.error(), "sql/0001.sql", None, "no description", "0001_create_users.sql");
}

#[test]
fn version_of_more_than_eighteen_digits_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("1234567890123456789_users.sql", TABLE);
    assert_diagnostic(&sql.error(), "sql/1234567890123456789_users.sql", None, "19 digits", "shorter version");
}

#[test]
fn file_that_is_not_utf8_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", b"-- users\nINSERT INTO t VALUES ('caf\xe9');\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0001_users.sql",
        Some(2),
        "not valid UTF-8 (invalid byte at offset 35)",
        "save the file as UTF-8",
    );
}

#[test]
fn snippet_without_statement_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", " \n\n");
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(1), "no statement", "or delete the file");
}

#[test]
fn a_snippet_of_comments_alone_is_a_recorded_no_op_with_a_warning() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("-- destructive\n{TABLE}"));
    sql.file("0002_emptied.sql", "-- This migration was emptied on purpose in 2021.\n/* nothing */\n");
    let scan = sql.scan();
    assert_eq!(scan.set.postgres[1].statements.len(), 0);
    let warning = scan.warnings.iter().find(|w| w.path == "sql/0002_emptied.sql").expect("a warning");
    assert!(warning.message.contains("only comments"), "{warning}");
}

#[test]
fn history_needs_no_destructive_line_and_later_files_still_do() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", TABLE);
    sql.file("0002_drop.sql", "DROP TABLE users;\n");
    sql.file("0003_drop_again.sql", "DROP TABLE users;\n");
    let errors = match sql.builder().history_until(2).scan() {
        Ok(_) => panic!("0003 is not history"),
        Err(errors) => errors.0,
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "sql/0003_drop_again.sql");
    sql.file("0003_drop_again.sql", "-- destructive\nDROP TABLE users;\n");
    let scan = sql.builder().history_until(2).scan().unwrap();
    let history = &scan.set.postgres[1];
    assert!(history.history && history.destructive, "history keeps what it is: a drop");
    assert!(!scan.set.postgres[2].history);
}

#[test]
fn versions_that_order_differently_as_numbers_and_as_text_are_a_warning() {
    let sql = SqlFolder::new();
    sql.file("20240101120000_users.sql", TABLE);
    sql.file("2024-03-13_170000_later.sql", "CREATE TABLE later (id BIGINT PRIMARY KEY);\n");
    let scan = sql.scan();
    let warning = scan.warnings.iter().find(|w| w.message.contains("order")).expect("a warning");
    assert!(
        warning.message.contains("2024-03-13_170000_later.sql") && warning.message.contains("20240101120000_users.sql"),
        "{warning}"
    );
}

#[test]
fn unterminated_string_is_an_error_at_the_line_it_opens() {
    let sql = SqlFolder::new();
    sql.file("0001_seed.sql", "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('a);\nINSERT INTO t VALUES (3);\n");
    assert_diagnostic(&sql.error(), "sql/0001_seed.sql", Some(2), "unterminated string literal", "close it with `'`");
}

#[test]
fn unterminated_dollar_quote_is_an_error_at_the_line_it_opens() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_f.sql", "SELECT 1;\nDO $body$\nBEGIN\n  PERFORM 1;\nEND $$;\n");
    assert_diagnostic(&sql.error(), "sql/postgres/0001_f.sql", Some(2), "unterminated dollar quote", "`$body$`");
}

#[test]
fn unterminated_block_comment_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", format!("{TABLE}/* the rest\n"));
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(2), "unterminated block comment", "close it with `*/`");
}

#[test]
fn unclosed_parenthesis_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", "CREATE TABLE users (\n  id BIGINT,\n  total NUMERIC(10, 2\n;\n");
    assert_diagnostic(&sql.error(), "sql/0001_users.sql", Some(3), "never closed", "add the missing `)`");
}

#[test]
fn string_that_only_some_dialects_read_as_unterminated_names_them() {
    let sql = SqlFolder::new();
    sql.file("0001_seed.sql", "INSERT INTO t VALUES ('it\\'s');\n");
    assert_diagnostic(&sql.error(), "sql/0001_seed.sql", Some(1), "(for PostgreSQL and SQLite)", "''");
}

#[test]
fn mysql_delimiter_line_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("mysql/0001_p.sql", "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\n");
    assert_diagnostic(
        &sql.error(),
        "sql/mysql/0001_p.sql",
        Some(1),
        "`DELIMITER` is a command of the mysql client",
        "sent to the server whole",
    );
}

#[test]
fn drop_table_without_destructive_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0004_drop_legacy.sql", "-- Old data is gone.\n\nDROP TABLE legacy_users;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0004_drop_legacy.sql",
        Some(3),
        "`DROP TABLE legacy_users` loses data",
        "add `-- destructive` at the top if this is intended (it will then need MYAPP_SCHEMA_ALLOW_DESTRUCTIVE=1 to run)",
    );
}

#[test]
fn truncate_without_destructive_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0004_clear.sql", "TRUNCATE sessions;\n");
    assert_diagnostic(&sql.error(), "sql/0004_clear.sql", Some(1), "`TRUNCATE sessions` loses data", "-- destructive");
}

#[test]
fn alter_table_drop_column_without_destructive_is_an_error() {
    let sql = SqlFolder::new();
    sql.file("0004_drop_email.sql", "ALTER TABLE users\n  DROP COLUMN email;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0004_drop_email.sql",
        Some(1),
        "`ALTER TABLE users DROP COLUMN email` loses data",
        "-- destructive",
    );
}

#[test]
fn destructive_help_uses_the_real_env_prefix() {
    let sql = SqlFolder::new();
    sql.file("0004_clear.sql", "TRUNCATE sessions;\n");
    let errors = sql.builder().env_prefix("SHOP").scan().expect_err("destructive");
    assert!(errors.0[0].help.contains("SHOP_SCHEMA_ALLOW_DESTRUCTIVE=1"), "{errors}");
}

#[test]
fn unknown_subfolder_is_an_error_naming_it() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", TABLE).file("oracle/0001_users.sql", TABLE);
    assert_diagnostic(&sql.error(), "sql/oracle", None, "`sql/oracle` is not a snippet folder", "`sql/postgres/`");
}

#[test]
fn missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let errors =
        bootschema_build::Builder::new().folder(dir.path().join("sql")).env_prefix("MYAPP").scan().unwrap_err();
    assert_diagnostic(&errors.0[0], "sql", None, "does not exist", "create it");
}

#[test]
fn every_error_of_every_file_is_reported_in_file_and_line_order() {
    let sql = SqlFolder::new();
    sql.file("0002_b.sql", "-- transaction: maybe\n-- on_change: never\nSELECT 1;\n")
        .file("0001_a.sql", "DROP TABLE a;\n");
    let found: Vec<(String, Option<u32>)> = sql.errors().into_iter().map(|d| (d.path, d.line)).collect();
    assert_eq!(
        found,
        [
            ("sql/0001_a.sql".to_owned(), Some(1)),
            ("sql/0002_b.sql".to_owned(), Some(1)),
            ("sql/0002_b.sql".to_owned(), Some(2))
        ]
    );
}

#[test]
fn a_statement_that_cannot_run_in_a_transaction_needs_transaction_none() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_users.sql", format!("-- destructive\n{TABLE}DROP INDEX CONCURRENTLY IF EXISTS old_idx;\n"));
    assert_diagnostic(
        &sql.error(),
        "sql/postgres/0001_users.sql",
        Some(3),
        "cannot run inside a transaction block (DROP INDEX CONCURRENTLY)",
        "-- transaction: none",
    );
    sql.file(
        "postgres/0001_users.sql",
        format!("-- destructive\n-- transaction: none\n{TABLE}DROP INDEX CONCURRENTLY IF EXISTS old_idx;\n"),
    );
    assert_eq!(sql.scan().set.postgres.len(), 1, "with `-- transaction: none` it builds");
}

#[test]
fn a_drop_with_cascade_is_destructive_whatever_it_drops() {
    for statement in
        ["DROP VIEW v CASCADE;", "DROP FUNCTION f(integer) CASCADE;", "DROP MATERIALIZED VIEW IF EXISTS mv CASCADE;"]
    {
        let sql = SqlFolder::new();
        sql.file("postgres/0001_drop.sql", format!("{statement}\n"));
        assert_diagnostic(&sql.error(), "sql/postgres/0001_drop.sql", Some(1), "CASCADE", "-- destructive");
    }
    let sql = SqlFolder::new();
    sql.file("postgres/0001_drop.sql", "DROP VIEW v;\n");
    assert_eq!(sql.scan().set.postgres.len(), 1, "a view alone holds no data");
}

#[test]
fn each_statement_carries_the_builds_reason_for_losing_data() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_changes.sql",
        "-- destructive\n\
         DELETE FROM t WHERE id = 1;\n\
         ALTER TABLE t DROP CONSTRAINT t_k;\n\
         ALTER TABLE t ALTER COLUMN c TYPE BIGINT;\n\
         DROP VIEW v;\n\
         DROP VIEW w CASCADE;\n\
         UPDATE t SET c = 0;\n",
    );
    let scan = sql.scan();
    let reasons: Vec<Option<&str>> = scan.set.postgres[0].statements.iter().map(|s| s.destructive.as_deref()).collect();
    assert_eq!(reasons[0], None, "a DELETE with a WHERE is a row change, not a loss");
    assert!(reasons[1].is_some_and(|r| r.contains("drops a column, constraint or index")), "{reasons:?}");
    assert!(reasons[2].is_some(), "a type change: {reasons:?}");
    assert_eq!(reasons[3], None, "a view holds no data");
    assert!(reasons[4].is_some_and(|r| r.contains("CASCADE")), "{reasons:?}");
    assert!(reasons[5].is_some_and(|r| r.contains("no WHERE")), "{reasons:?}");
}

#[test]
fn a_history_can_be_ordered_as_the_tool_that_wrote_it_compared_versions() {
    let sql = SqlFolder::new();
    sql.file("20240101120000_users.sql", TABLE);
    sql.file("2024-03-13_170000_later.sql", "CREATE TABLE later (id BIGINT PRIMARY KEY);\n");
    let scan = sql.builder().version_order(bootschema_build::VersionOrder::Text).scan().unwrap();
    let order: Vec<&str> = scan.set.postgres.iter().map(|s| s.path.as_ref()).collect();
    assert_eq!(order, ["sql/20240101120000_users.sql", "sql/2024-03-13_170000_later.sql"]);
    assert!(!scan.warnings.iter().any(|w| w.message.contains("order")), "the order is chosen: no warning");
    let numeric = sql.scan();
    assert_eq!(numeric.set.postgres[0].path, "sql/2024-03-13_170000_later.sql", "by number by default");
}
