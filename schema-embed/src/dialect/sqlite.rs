//! SQLite: the lock is a `BEGIN IMMEDIATE` write transaction held for the whole sync,
//! each snippet a savepoint inside it; `sqlite_master` + `pragma_table_xinfo` snapshot.

use sqlx::{AssertSqlSafe, Row, Sqlite};

use super::conn::Conn;
use super::session::Session;
use super::sql::{
    bind_ledger_row, create_ledger, ledger_from, ledger_select, mark_from, mark_select, mark_values, quote_with,
    LedgerColumns, LedgerDdl, LEDGER_COLUMNS, LEDGER_ON_CONFLICT,
};
use crate::approve::Identity;
use crate::catalog::{catalog_key, CatalogSnapshot, Scope};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::foreign::ForeignRow;
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::{DialectKind, Tool};

/// A SQLite connection borrowed for one sync.
pub(crate) struct SqliteSession {
    conn: Conn<Sqlite>,
    /// While the write transaction is open: the `busy_timeout` to restore.
    held: Option<i64>,
}

impl SqliteSession {
    pub(crate) async fn open(pool: &sqlx::SqlitePool, settings: &Settings) -> Result<SqliteSession, Error> {
        // A private in-memory database exists on one connection only: a connection of
        // the sync's own would see another, empty one. The options have no getter for
        // either flag, and sqlx 0.9's `to_url_lossy` panics on the file name it gives
        // `sqlite::memory:` (`file:sqlx-in-memory-N` reads as a host and a port): the
        // flags are read from the options' `Debug`, which prints every field.
        let options = format!("{:?}", pool.connect_options());
        let private_memory = options.contains("in_memory: true") && options.contains("shared_cache: false");
        let own = !settings.pool_connection && !private_memory;
        let conn = Conn::borrow(pool, own, settings).await?;
        Ok(SqliteSession { conn, held: None })
    }
}

impl Drop for SqliteSession {
    fn drop(&mut self) {
        if self.held.is_some() {
            // Closing the connection rolls the open transaction back and frees the file.
            self.conn.close_on_drop();
        }
    }
}

/// The ledger's table is not there: a database that never synced.
fn ledger_missing(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.message().contains("no such table"))
}

/// SQLite's ledger table (`version INTEGER PRIMARY KEY` is the rowid).
const LEDGER_DDL: LedgerDdl = LedgerDdl {
    namespace: None,
    version: "INTEGER",
    short_text: "TEXT",
    progress_default: " DEFAULT ''",
    integer: "INTEGER",
    applied_at: "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    suffix: "",
};

fn is_busy(error: &sqlx::Error) -> bool {
    // SQLITE_BUSY (5) and its extended codes (e.g. 517, 261).
    matches!(error, sqlx::Error::Database(db)
        if db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5))
}

/// One `SELECT` over the main database and every schema named by a guard.
fn snapshot_sql(schemas: &[String], triggers: bool) -> String {
    let parts: Vec<String> = schemas
        .iter()
        .map(|schema| {
            let m = format!("{}.sqlite_master", quote_with(schema, '"'));
            format!(
                "SELECT 'table' AS kind, ? AS schema_name, name AS table_name, '' AS object_name FROM {m}
                   WHERE type IN ('table', 'view')
                 UNION ALL
                 SELECT 'column', ?, m.name, p.name FROM {m} AS m, pragma_table_xinfo(m.name, ?) AS p
                   WHERE m.type IN ('table', 'view') AND p.hidden IN (0, 2, 3)
                 UNION ALL
                 SELECT 'index', ?, tbl_name, name FROM {m} WHERE type = 'index'
                 UNION ALL
                 SELECT 'sql', ?, name, sql FROM {m} WHERE type = 'table' AND sql IS NOT NULL{}",
                if triggers {
                    // Only where a guard names a trigger.
                    format!("\n UNION ALL\n SELECT 'trigger', ?, tbl_name, name FROM {m} WHERE type = 'trigger'")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    format!(
        "SELECT 'version' AS kind, sqlite_version(), '', ''\nUNION ALL\n\
         SELECT 'schema', name, '', '' FROM pragma_database_list\nUNION ALL\n{}",
        parts.join("\nUNION ALL\n")
    )
}

/// The names after `CONSTRAINT` in a `CREATE TABLE` statement: SQLite keeps named
/// constraints only in the table's SQL.
pub(crate) fn constraint_names(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = sql;
    let mut previous_is_word = false;
    while let Some(c) = rest.chars().next() {
        // Skip quoted text whole: a keyword inside a string or a quoted name is not one.
        let close = match c {
            '\'' => Some('\''),
            '"' => Some('"'),
            '`' => Some('`'),
            '[' => Some(']'),
            _ => None,
        };
        if let Some(close) = close {
            rest = match rest[1..].find(close) {
                Some(end) => &rest[1 + end + 1..],
                None => "",
            };
            previous_is_word = false;
            continue;
        }
        let is_keyword = !previous_is_word
            && rest.get(..10).is_some_and(|w| w.eq_ignore_ascii_case("constraint"))
            && rest[10..].starts_with(char::is_whitespace);
        if is_keyword {
            let after = rest[10..].trim_start();
            let name = match after.chars().next() {
                Some(open @ ('"' | '`' | '[')) => {
                    let close = if open == '[' { ']' } else { open };
                    after[1..].find(close).map(|end| after[1..1 + end].replace("\"\"", "\""))
                }
                Some(_) => {
                    let end =
                        after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(after.len());
                    Some(after[..end].to_string())
                }
                None => None,
            };
            names.extend(name.filter(|n| !n.is_empty()));
            rest = &rest[10..];
            previous_is_word = false;
            continue;
        }
        previous_is_word = c.is_alphanumeric() || c == '_';
        rest = &rest[c.len_utf8()..];
    }
    names
}

impl Session for SqliteSession {
    type Db = Sqlite;

    fn conn(&mut self) -> &mut Conn<Sqlite> {
        &mut self.conn
    }

    const KIND: DialectKind = DialectKind::Sqlite;
    const UNIT_BEGIN: &'static str = "SAVEPOINT bootschema_snippet";
    const UNIT_COMMIT: &'static str = "RELEASE bootschema_snippet";
    const UNIT_ROLLBACK: &'static str = "ROLLBACK TO bootschema_snippet; RELEASE bootschema_snippet";

    fn quote(ident: &str) -> String {
        quote_with(ident, '"')
    }

    async fn read_ledger(&mut self, table: &LedgerTable) -> Result<Ledger, Error> {
        let sql = ledger_select(&Self::ledger_name(table));
        let rows = sqlx::query_as::<_, LedgerColumns>(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await;
        ledger_from(table, rows, ledger_missing)
    }

    async fn read_foreign(&mut self, wanted: &[(Tool, LedgerTable)]) -> Result<Vec<ForeignRow>, Error> {
        let exists = |t: &LedgerTable| {
            let schema = Self::quote(t.schema.as_deref().unwrap_or("main"));
            format!(
                "(SELECT COUNT(*) FROM {schema}.sqlite_master WHERE type = 'table' AND name = '{}')",
                t.table.replace('\'', "''")
            )
        };
        super::sql::read_foreign_ledgers::<Sqlite>(
            &mut self.conn,
            wanted,
            exists,
            Self::ledger_name,
            |e| format!("CAST({e} AS TEXT)"),
            |e| format!("lower(hex({e}))"),
        )
        .await
    }

    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error> {
        let mut schemas = vec!["main".to_string()];
        schemas.extend(scope.schemas.iter().filter(|s| s.as_str() != "main").cloned());
        let triggers = !scope.triggers.is_empty();
        let mut query = sqlx::query(AssertSqlSafe(snapshot_sql(&schemas, triggers)));
        for schema in &schemas {
            for _ in 0..5 + usize::from(triggers) {
                query = query.bind(schema.clone());
            }
        }
        let rows = query.fetch_all(&mut self.conn).await.map_err(Error::db("reading the SQLite catalog"))?;
        let mut snapshot = CatalogSnapshot { search_path: vec!["main".into()], ..CatalogSnapshot::default() };
        for row in rows {
            let kind: String = row.get(0);
            let key = |i: usize| catalog_key(DialectKind::Sqlite, &row.get::<String, _>(i));
            match kind.as_str() {
                "version" => snapshot.server_version = row.get(1),
                "table" => {
                    snapshot.tables.insert((key(1), key(2)));
                }
                "column" => {
                    snapshot.columns.insert((key(1), key(2), key(3)));
                }
                "index" => {
                    snapshot.indexes.insert((key(1), key(3)), true);
                }
                "schema" => {
                    snapshot.schemas.insert(key(1));
                }
                "trigger" => {
                    snapshot.triggers.insert((key(1), key(2), key(3)));
                }
                _ => {
                    let sql: String = row.get(3);
                    for name in constraint_names(&sql) {
                        snapshot.constraints.insert((key(1), key(2), catalog_key(DialectKind::Sqlite, &name)));
                    }
                }
            }
        }
        Ok(snapshot)
    }

    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error> {
        super::sql::probe::<Sqlite>(&mut self.conn, queries).await
    }

    async fn lock(&mut self, _table: &LedgerTable, settings: &Settings) -> Result<(), Error> {
        let previous: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut self.conn)
            .await
            .map_err(Error::db("reading busy_timeout"))?;
        let wait_ms = settings.lock_wait.as_millis().clamp(1, i32::MAX as u128);
        self.execute(&format!("PRAGMA busy_timeout = {wait_ms}")).await.map_err(Error::db("setting busy_timeout"))?;
        // SQLite locks the whole file, so this wait is also the DDL's wait for "table"
        // locks: like a DDL lock timeout elsewhere, it is retried with backoff.
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            self.conn.locking = true;
            let begun = self.execute("BEGIN IMMEDIATE").await;
            self.conn.locking = false;
            match begun {
                Ok(()) => {
                    self.held = Some(previous);
                    return Ok(());
                }
                Err(e) if is_busy(&e) && attempt < settings.ddl_attempts => {
                    attempt += 1;
                    let pause = crate::retry::backoff(attempt);
                    if let Some(sink) = self.conn.events() {
                        sink.event(&crate::events::Event::Retry {
                            path: None,
                            line: None,
                            attempt,
                            attempts: settings.ddl_attempts,
                            pause,
                            reason: "the SQLite database is locked by another connection",
                        });
                    }
                    tracing::warn!(
                        target: "bootschema", attempt, pause_ms = pause.as_millis() as u64,
                        "the SQLite database is locked by another connection; retrying after a pause"
                    );
                    tokio::time::sleep(pause).await;
                }
                Err(e) => {
                    let _ = self.execute(&format!("PRAGMA busy_timeout = {previous}")).await;
                    return Err(if is_busy(&e) {
                        ErrorKind::LockTimeout {
                            waited: started.elapsed(),
                            holder: format!(
                                "the database file is locked by another connection (SQLite locks the whole file); \
                                 {attempt} attempts"
                            ),
                            variable: settings.var("LOCK_TIMEOUT"),
                        }
                        .into()
                    } else {
                        Error::db("taking the schema lock (BEGIN IMMEDIATE)")(e)
                    });
                }
            }
        }
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        let Some(previous) = self.held else { return Ok(()) };
        self.execute("COMMIT").await.map_err(Error::db("committing the sync"))?;
        self.held = None;
        self.execute(&format!("PRAGMA busy_timeout = {previous}")).await.map_err(Error::db("restoring busy_timeout"))
    }

    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error> {
        create_ledger(self, table, &LEDGER_DDL).await
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.map(|_| ())
    }

    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
             {LEDGER_ON_CONFLICT}",
            Self::ledger_name(table)
        );
        bind_ledger_row(sqlx::query(AssertSqlSafe(sql)), row).execute(&mut self.conn).await.map(|_| ())
    }

    async fn read_mark(&mut self, table: &LedgerTable) -> Result<MarkRead, Error> {
        let row =
            sqlx::raw_sql(AssertSqlSafe(mark_select(&Self::ledger_name(table)))).fetch_optional(&mut self.conn).await;
        mark_from(table, row, ledger_missing)
    }

    async fn write_mark(&mut self, table: &LedgerTable, mark: &str, earlier: &[String]) -> Result<(), sqlx::Error> {
        let Some(values) = mark_values(mark, earlier) else { return Ok(()) };
        self.execute(&format!(
            "INSERT INTO {} (version, description, path, checksum, state, progress, duration_ms) VALUES ({values}) \
             ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum, progress = excluded.progress, \
             applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            Self::ledger_name(table)
        ))
        .await
    }

    async fn identity(&mut self) -> Result<Identity, Error> {
        // The main database's file as SQLite opened it, made canonical (symbolic links
        // and `..` resolved): the same file however the URL names it.
        let file: Option<String> = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&mut self.conn)
            .await
            .map_err(Error::db("reading the database's file"))?;
        let file = file.unwrap_or_default();
        let mut facts = std::collections::BTreeMap::new();
        if file.is_empty() {
            facts.insert("path".to_string(), ":memory:".to_string());
            let note = "an in-memory database: nothing tells two apart, and it lives only as long as its process";
            return Ok(Identity { facts, unique: false, note: Some(note.to_string()) });
        }
        let path = std::fs::canonicalize(&file).map(|p| p.display().to_string()).unwrap_or(file);
        facts.insert("path".to_string(), path);
        Ok(Identity { facts, unique: true, note: None })
    }

    fn is_lock_timeout(error: &sqlx::Error) -> bool {
        is_busy(error)
    }
}

#[cfg(test)]
mod tests {
    use super::{constraint_names, snapshot_sql};

    #[test]
    fn named_constraints_are_read_from_the_table_sql() {
        let sql = "CREATE TABLE t (id INTEGER, email TEXT, CONSTRAINT t_email_key UNIQUE (email), \
                   constraint \"Chk\" CHECK (id > 0), note TEXT DEFAULT 'CONSTRAINT fake')";
        assert_eq!(constraint_names(sql), vec!["t_email_key", "Chk"]);
    }

    #[test]
    fn quoted_names_and_non_ascii_text_are_skipped_safely() {
        let sql = "CREATE TABLE \"ü'; constraint x\" (\"çà\" INT, CONSTRAINT \"k ü\" UNIQUE (\"çà\"))";
        assert_eq!(constraint_names(sql), vec!["k ü"]);
    }

    #[test]
    fn triggers_are_read_only_where_a_guard_names_one() {
        let schemas = vec!["main".to_string()];
        assert!(!snapshot_sql(&schemas, false).contains("'trigger'"));
        let with = snapshot_sql(&schemas, true);
        assert_eq!(with.matches("type = 'trigger'").count(), 1, "{with}");
        // One more `?` per schema: the binding loop counts on it.
        assert_eq!(with.matches('?').count(), snapshot_sql(&schemas, false).matches('?').count() + 1);
    }
}
