//! What "unchanged" is compared with: the database's own dump tools.

use std::process::Command;

use crate::common::{mysql_parts, sqlite_path, Kind, TestDb};

/// Runs the dump tool of `db`'s kind with `args` before the database (PostgreSQL:
/// `pg_dump`, MySQL: `mysqldump`, SQLite: `sqlite3 <file>`) and returns its output
/// without comments and without the lines that differ between two runs over the same
/// database (`pg_dump`'s `\restrict` keys).
fn run(db: &TestDb, args: &[&str], tail: &[&str]) -> String {
    let mut command = match db.kind {
        Kind::Postgres => {
            let mut c = Command::new("pg_dump");
            c.args(["--no-owner", "--no-privileges"]).args(args).args(["-d", &db.url]).args(tail);
            c
        }
        Kind::MySql => {
            let (user, password, host, port, database) = mysql_parts(&db.url);
            let mut c = Command::new("mysqldump");
            c.args(["-h", &host, "-P", &port, "-u", &user, "--skip-comments", "--skip-dump-date"]).args(args);
            c.arg(&database).args(tail);
            if !password.is_empty() {
                c.env("MYSQL_PWD", password);
            }
            c
        }
        Kind::Sqlite => {
            let mut c = Command::new("sqlite3");
            c.arg(sqlite_path(&db.url)).args(args).args(tail);
            c
        }
    };
    let out = command.output().unwrap_or_else(|e| panic!("the dump tool of {:?} cannot start: {e}", db.kind));
    assert!(out.status.success(), "dumping {:?}: {}", db.kind, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("a UTF-8 dump")
        .lines()
        .filter(|l| !(l.starts_with("--") || l.starts_with("\\restrict") || l.starts_with("\\unrestrict")))
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The catalog as the dump tool writes it (`pg_dump --schema-only`, `mysqldump
/// --no-data`, `sqlite3 .schema`), bootschema's ledger excluded (the other tool's
/// ledger table is in it).
pub fn schema(db: &TestDb) -> String {
    let text = match db.kind {
        Kind::Postgres => run(db, &["--schema-only", "--exclude-table=bootschema_history"], &[]),
        Kind::MySql => {
            let database = mysql_parts(&db.url).4;
            run(db, &["--no-data", &format!("--ignore-table={database}.bootschema_history")], &[])
        }
        Kind::Sqlite => run(db, &[".schema"], &[]),
    };
    // Whole statements that name the ledger go (SQLite's .schema cannot exclude).
    let text = format!("{text}\n");
    let kept: String = text.split_inclusive(";\n").filter(|s| !s.contains("bootschema_history")).collect();
    assert!(kept.contains("users"), "the dump holds the history's tables:\n{kept}");
    kept
}

/// Every row of `table`, as the dump tool writes them (`pg_dump --data-only`,
/// `mysqldump --no-create-info`, `sqlite3 .dump`).
pub fn rows(db: &TestDb, table: &str) -> String {
    let text = match db.kind {
        Kind::Postgres => run(db, &["--data-only", &format!("--table={table}")], &[]),
        Kind::MySql => run(db, &["--no-create-info", "--skip-extended-insert", "--hex-blob"], &[table]),
        Kind::Sqlite => run(db, &[&format!(".dump {table}")], &[]),
    };
    assert!(text.contains(table), "the dump of {table} names it:\n{text}");
    text
}

/// The rows of `table` counted (the tool's ledger, say).
pub async fn count(db: &TestDb, table: &str) -> i64 {
    db.pool.count(&format!("SELECT COUNT(*) FROM {table}")).await
}
