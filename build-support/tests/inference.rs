//! What the build infers from a snippet's DDL, and what it says about SQL it cannot
//! read or that loses data.

mod common;

use common::{assert_diagnostic, SqlFolder};

fn guards(scan: &bootschema_build::Scan, dialect: bootschema::DialectKind, snippet: usize) -> Vec<Vec<String>> {
    scan.set.for_dialect(dialect)[snippet]
        .statements
        .iter()
        .map(|s| s.guards.iter().map(|g| g.kind.to_string()).collect())
        .collect()
}

use bootschema::DialectKind::{MySql, Postgres, Sqlite};

#[test]
fn each_statement_gets_the_guards_of_its_ddl() {
    let sql = SqlFolder::new();
    sql.file(
        "0001_users.sql",
        "CREATE TABLE users (id INT PRIMARY KEY, name TEXT);\nALTER TABLE users ADD COLUMN email TEXT;\nCREATE INDEX users_email_idx ON users (email);\n",
    );
    let scan = sql.scan();
    for dialect in [Postgres, MySql, Sqlite] {
        assert_eq!(
            guards(&scan, dialect, 0),
            [vec!["table_missing(users)"], vec!["column_missing(users.email)"], vec!["index_missing(users_email_idx)"]],
            "{dialect}"
        );
    }
    assert!(scan.set.postgres[0].guards.is_empty(), "inferred guards belong to statements, not to the snippet");
}

#[test]
fn written_guards_turn_inference_off() {
    let sql = SqlFolder::new();
    sql.file(
        "0001_users.sql",
        "-- guard: table_missing(users)\nCREATE TABLE users (id INT);\nCREATE INDEX users_id ON users (id);\n",
    );
    let scan = sql.scan();
    assert_eq!(guards(&scan, Postgres, 0), [Vec::<String>::new(), vec![]]);
    assert_eq!(scan.set.postgres[0].guards[0].kind.to_string(), "table_missing(users)");
}

#[test]
fn the_new_guard_kinds_can_be_written() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_all.sql",
        "-- guard: schema_missing(billing)\n-- guard: type_missing(billing.currency)\n\
         -- guard: column_renamed(billing.prices.amount, cents)\n-- guard: table_renamed(billing.costs, prices)\n\
         -- guard: index_renamed(a_idx, b_idx)\nSELECT 1;\n",
    );
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    let written: Vec<String> = scan.set.postgres[0].guards.iter().map(|g| g.kind.to_string()).collect();
    assert_eq!(
        written,
        [
            "schema_missing(billing)",
            "type_missing(billing.currency)",
            "column_renamed(billing.prices.amount, cents)",
            "table_renamed(billing.costs, prices)",
            "index_renamed(a_idx, b_idx)"
        ]
    );
}

#[test]
fn a_rename_guard_without_its_new_name_is_an_error() {
    let sql = SqlFolder::new();
    sql.file(
        "0001_rename.sql",
        "-- guard: column_renamed(users.name)\nALTER TABLE users RENAME COLUMN name TO full_name;\n",
    );
    assert_diagnostic(
        &sql.error(),
        "sql/0001_rename.sql",
        Some(1),
        "expected two names",
        "column_renamed(users.name, full_name)",
    );
}

#[test]
fn a_type_guard_outside_postgres_is_an_error_naming_the_dialects() {
    let sql = SqlFolder::new();
    sql.file("0001_type.sql", "-- guard: type_missing(mood)\nSELECT 1;\n");
    let error = sql.error();
    assert_diagnostic(&error, "sql/0001_type.sql", Some(1), "is a PostgreSQL guard", "postgres/");
    assert!(error.message.contains("MySQL and SQLite"), "{error}");
}

#[test]
fn a_statement_the_parser_cannot_read_is_a_warning_with_file_and_line() {
    let sql = SqlFolder::new();
    sql.file("mysql/0001_engine.sql", "CREATE TABLE t (id INT);\n\nALTER TABLE t ENGINE = InnoDB;\n");
    let scan = sql.builder().dialects(&[MySql]).scan().expect("a parse failure never fails the build");
    assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
    let warning = &scan.warnings[0];
    assert_eq!((warning.path.as_str(), warning.line), ("sql/mysql/0001_engine.sql", Some(3)));
    assert!(warning.message.contains("cannot read `ALTER TABLE t ENGINE = InnoDB`"), "{warning}");
    assert!(warning.message.contains("runs once"), "{warning}");
    assert_eq!(guards(&scan, MySql, 0), [vec!["table_missing(t)"], vec![]]);
}

#[test]
fn a_mysql_trigger_between_two_statements_is_split_around() {
    let sql = SqlFolder::new();
    sql.file(
        "mysql/0001_audit.sql",
        "CREATE TABLE a (n INT);\nCREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW\nBEGIN\n  IF NEW.n < 0 THEN\n    SET NEW.n = 0;\n  END IF;\nEND;\nCREATE INDEX a_n ON a (n);\n",
    );
    let scan = sql.builder().dialects(&[MySql]).scan().unwrap();
    let snippet = &scan.set.mysql[0];
    assert_eq!(snippet.statements.len(), 3);
    assert!(snippet.statement_sql(1).starts_with("CREATE TRIGGER") && snippet.statement_sql(1).ends_with("END"));
    assert_eq!(snippet.statements[2].line, 8);
    assert_eq!(guards(&scan, MySql, 0), [vec!["table_missing(a)"], vec![], vec!["index_missing(a_n)"]]);
    assert!(scan.warnings.is_empty(), "a trigger is not read by the parser, and is no warning: {:?}", scan.warnings);
}

#[test]
fn a_later_drop_undoes_the_guards_of_what_it_drops() {
    let sql = SqlFolder::new();
    sql.file("0001_t.sql", "CREATE TABLE t (id INT);\nCREATE INDEX t_id ON t (id);\n");
    sql.file("0002_c.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    sql.file("0003_drop.sql", "-- destructive\nDROP TABLE t;\n");
    let scan = sql.scan();
    let undone: Vec<Option<u64>> =
        scan.set.sqlite[..2].iter().flat_map(|s| s.all_guards()).map(|g| g.undone_by).collect();
    assert_eq!(undone, [Some(3), Some(3), Some(3)]);
}

#[test]
fn a_create_or_replace_of_an_existing_view_is_not_guarded() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_v.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS a;\n");
    sql.file("postgres/0002_v.sql", "CREATE OR REPLACE VIEW v AS SELECT 1 AS a, 2 AS b;\n");
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    assert_eq!(guards(&scan, Postgres, 0), [vec!["table_missing(v)"]], "the first one creates it");
    assert_eq!(guards(&scan, Postgres, 1), [Vec::<String>::new()], "the second redefines it: it must run");
}

#[test]
fn delete_without_where_needs_destructive() {
    let sql = SqlFolder::new();
    sql.file("0001_purge.sql", "-- Start afresh.\nDELETE FROM sessions;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/0001_purge.sql",
        Some(2),
        "`DELETE FROM sessions` loses data (it deletes every row: there is no WHERE)",
        "-- destructive",
    );
}

#[test]
fn update_without_where_needs_destructive() {
    let sql = SqlFolder::new();
    sql.file("0001_reset.sql", "UPDATE users SET verified = 0;\n");
    assert_diagnostic(&sql.error(), "sql/0001_reset.sql", Some(1), "changes every row", "-- destructive");
}

#[test]
fn column_type_change_needs_destructive() {
    let sql = SqlFolder::new();
    sql.file("postgres/0001_widen.sql", "ALTER TABLE t ALTER COLUMN c TYPE BIGINT;\n");
    sql.file("mysql/0001_widen.sql", "SELECT 1;\nALTER TABLE t MODIFY c BIGINT;\n");
    sql.file("sqlite/0001_widen.sql", "SELECT 1;\n");
    let errors = sql.errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_diagnostic(
        &errors[0],
        "sql/mysql/0001_widen.sql",
        Some(2),
        "MODIFY / CHANGE redefine a column",
        "-- destructive",
    );
    assert_diagnostic(&errors[1], "sql/postgres/0001_widen.sql", Some(1), "changes a column's type", "-- destructive");
}

#[test]
fn drop_index_and_drop_constraint_need_destructive() {
    let sql = SqlFolder::new();
    sql.file("0001_drop.sql", "DROP INDEX t_idx;\n");
    assert_diagnostic(&sql.error(), "sql/0001_drop.sql", Some(1), "it drops an index", "-- destructive");
    let sql = SqlFolder::new();
    sql.file("postgres/0001_drop.sql", "ALTER TABLE t DROP CONSTRAINT t_key;\n");
    assert_diagnostic(
        &sql.error(),
        "sql/postgres/0001_drop.sql",
        Some(1),
        "drops a column, constraint or index",
        "-- destructive",
    );
}
