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
fn the_guards_of_routines_triggers_sequences_extensions_and_policies_can_be_written() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_all.sql",
        "-- guard: function_missing(billing.total)\n-- guard: procedure_missing(purge)\n\
         -- guard: trigger_missing(users.\"Touch\")\n-- guard: sequence_missing(invoice_no)\n\
         -- guard: extension_missing(pgcrypto)\n-- guard: policy_missing(billing.docs.own)\nSELECT 1;\n",
    );
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    let written: Vec<String> = scan.set.postgres[0].guards.iter().map(|g| g.kind.to_string()).collect();
    assert_eq!(
        written,
        [
            "function_missing(billing.total)",
            "procedure_missing(purge)",
            "trigger_missing(users.\"Touch\")",
            "sequence_missing(invoice_no)",
            "extension_missing(pgcrypto)",
            "policy_missing(billing.docs.own)"
        ]
    );
    let sql = SqlFolder::new();
    sql.file("0001_seq.sql", "-- guard: sequence_missing(s)\nSELECT 1;\n");
    let error = sql.error();
    assert_diagnostic(&error, "sql/0001_seq.sql", Some(1), "SQLite has no sequences", "mysql/");
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
    assert_eq!(
        guards(&scan, MySql, 0),
        [vec!["table_missing(a)"], vec!["trigger_missing(a.a_bi)"], vec!["index_missing(a_n)"]]
    );
    assert!(
        scan.warnings.is_empty(),
        "a trigger's body is not read by the parser, and is no warning: {:?}",
        scan.warnings
    );
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
fn routines_triggers_sequences_extensions_and_policies_are_guarded() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_all.sql",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;
         CREATE TABLE docs (id INT, owner TEXT);
         CREATE SEQUENCE docs_seq OWNED BY docs.id;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE FUNCTION add(a integer, b int4 DEFAULT 1, OUT c int) AS $$ SELECT a + b $$ LANGUAGE sql;
         CREATE FUNCTION add(a text, b varchar(9)) RETURNS text AS $$ SELECT a || b $$ LANGUAGE sql;
         CREATE PROCEDURE purge(days int) LANGUAGE sql AS $$ DELETE FROM docs WHERE id < days $$;
         CREATE TRIGGER docs_touch BEFORE UPDATE ON docs FOR EACH ROW EXECUTE FUNCTION touch();
         ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON docs USING (owner = current_user);
",
    );
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    assert_eq!(
        guards(&scan, Postgres, 0),
        [
            vec!["extension_missing(pgcrypto)"],
            vec!["table_missing(docs)"],
            vec!["sequence_missing(docs_seq)"],
            vec!["function_missing(touch())"],
            vec!["function_missing(add(int4,int4))"],
            vec!["function_missing(add(text,varchar))"],
            vec!["procedure_missing(purge(int4))"],
            vec!["trigger_missing(docs.docs_touch)"],
            vec![],
            vec!["policy_missing(docs.own)"],
        ]
    );
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
}

#[test]
fn drops_renames_and_cascades_of_these_objects_undo_their_guards() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_create.sql",
        "CREATE TABLE t (id INT);
CREATE SEQUENCE s;
CREATE FUNCTION f(int) RETURNS int AS 'SELECT 1' LANGUAGE sql;
         CREATE FUNCTION f(text) RETURNS int AS 'SELECT 2' LANGUAGE sql;
         CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER t_trg BEFORE INSERT ON t FOR EACH ROW EXECUTE PROCEDURE trg();
         CREATE POLICY p ON t USING (true);
",
    );
    sql.file(
        "postgres/0002_own.sql",
        "ALTER SEQUENCE s OWNED BY t.id;
ALTER FUNCTION f(integer) RENAME TO g;
",
    );
    sql.file(
        "postgres/0003_drop.sql",
        "-- destructive
DROP FUNCTION g(int4);
DROP FUNCTION trg() CASCADE;
",
    );
    sql.file(
        "postgres/0004_drop.sql",
        "-- destructive
DROP TABLE t;
",
    );
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    let undone: Vec<(String, Option<u64>)> =
        scan.set.postgres[0].all_guards().map(|g| (g.kind.to_string(), g.undone_by)).collect();
    assert_eq!(
        undone,
        [
            ("table_missing(t)".into(), Some(4)),
            // Owned by t.id from snippet 2 on: it goes with the table.
            ("sequence_missing(s)".into(), Some(4)),
            // Renamed away by snippet 2; the overload f(text) stays.
            ("function_missing(f(int4))".into(), Some(2)),
            ("function_missing(f(text))".into(), None),
            ("function_missing(trg())".into(), Some(3)),
            // The CASCADE of its function drops the trigger before its table goes.
            ("trigger_missing(t.t_trg)".into(), Some(3)),
            ("policy_missing(t.p)".into(), Some(4)),
        ]
    );
}

#[test]
fn a_sequence_renamed_or_dropped_as_a_table_is_undone() {
    let sql = SqlFolder::new();
    sql.file("0001_s.sql", "CREATE SEQUENCE s;\nCREATE SEQUENCE m;\n");
    sql.file("0002_rename.sql", "ALTER TABLE s RENAME TO s2;\n");
    sql.file("mysql/0003_drop.sql", "-- destructive\nDROP TABLE m;\n");
    let scan = sql.builder().dialects(&[Postgres, MySql]).scan().unwrap();
    let undone = |d| scan.set.for_dialect(d)[0].all_guards().map(|g| g.undone_by).collect::<Vec<_>>();
    assert_eq!(undone(Postgres), [Some(2), None]);
    assert_eq!(undone(MySql), [Some(2), Some(3)]);
}

#[test]
fn a_create_or_replace_of_an_existing_function_is_not_guarded() {
    let sql = SqlFolder::new();
    sql.file(
        "postgres/0001_f.sql",
        "CREATE OR REPLACE FUNCTION f(int) RETURNS int AS 'SELECT 1' LANGUAGE sql;
",
    );
    sql.file(
        "postgres/0002_f.sql",
        "CREATE OR REPLACE FUNCTION f(integer) RETURNS int AS 'SELECT 2' LANGUAGE sql;
         CREATE OR REPLACE FUNCTION f(text) RETURNS int AS 'SELECT 3' LANGUAGE sql;
",
    );
    let scan = sql.builder().dialects(&[Postgres]).scan().unwrap();
    assert_eq!(guards(&scan, Postgres, 0), [vec!["function_missing(f(int4))"]], "the first one creates it");
    assert_eq!(
        guards(&scan, Postgres, 1),
        [vec![], vec!["function_missing(f(text))"]],
        "the second redefines f(int4): it must run; f(text) is another function"
    );
}

#[test]
fn sqlite_and_mysql_guard_what_they_have() {
    let sql = SqlFolder::new();
    sql.file(
        "sqlite/0001_t.sql",
        "CREATE TABLE t (n INT);
CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
  UPDATE t SET n = 1;
END;
",
    );
    sql.file(
        "mysql/0001_t.sql",
        "CREATE TABLE t (n INT);
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
         CREATE SEQUENCE s;
CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW SET @n = 1;
",
    );
    sql.file(
        "mysql/0002_drop.sql",
        "DROP TRIGGER t_ai;
DROP FUNCTION IF EXISTS twice;
",
    );
    let scan = sql.builder().dialects(&[Sqlite, MySql]).scan().unwrap();
    assert_eq!(guards(&scan, Sqlite, 0), [vec!["table_missing(t)"], vec!["trigger_missing(t.t_ai)"]]);
    assert_eq!(
        guards(&scan, MySql, 0),
        [
            vec!["table_missing(t)"],
            vec!["function_missing(twice)"],
            vec!["sequence_missing(s)"],
            vec!["trigger_missing(t.t_ai)"]
        ]
    );
    let undone: Vec<Option<u64>> = scan.set.mysql[0].all_guards().map(|g| g.undone_by).collect();
    assert_eq!(undone, [None, Some(2), None, Some(2)]);
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
