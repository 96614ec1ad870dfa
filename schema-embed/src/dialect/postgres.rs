//! PostgreSQL: the lock is a transaction holding `pg_advisory_xact_lock`, each snippet a
//! savepoint inside it; `pg_catalog` snapshot.
//!
//! Why a transaction-level lock rather than a session one: behind PgBouncer in
//! transaction pooling mode (common on Heroku-style platforms) a session advisory lock
//! stays on whichever server connection took it, and the unlock may reach another one,
//! so the lock leaks or is never taken. A transaction is pinned to one server
//! connection from `BEGIN` to `COMMIT`, so a lock that lives and dies with it works
//! through any pooler, and a crashed or killed replica can never leave it behind. Every
//! query also runs unprepared (`persistent(false)`), since transaction pooling cannot
//! keep named prepared statements either.

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Postgres, Row};

use super::{
    batch_probe_sql, ledger_row, ledger_select, mark_read, mark_select, mark_values, quote_with, Session,
    LEDGER_COLUMNS, LEDGER_ON_CONFLICT,
};
use crate::catalog::{CatalogSnapshot, Scope};
use crate::config::Settings;
use crate::error::Error;
use crate::ledger::{encode_progress, Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::DialectKind;

/// A PostgreSQL connection borrowed for one sync.
pub(crate) struct PgSession {
    conn: PoolConnection<Postgres>,
    /// Whether the lock's transaction is open.
    held: bool,
    /// Whether a look's read-only transaction is open.
    looking: bool,
    /// Ledger rows of snippets applied in the lock's transaction, written in one
    /// statement before anything reads the ledger and before the commit: the rows and
    /// the snippets still commit together, in one round trip instead of one each.
    deferred: Vec<(i64, String)>,
    /// The quoted ledger table the deferred rows go to.
    deferred_table: String,
}

impl PgSession {
    pub(crate) async fn open(pool: &sqlx::PgPool) -> Result<PgSession, Error> {
        let conn = pool.acquire().await.map_err(Error::db("connecting to PostgreSQL"))?;
        Ok(PgSession { conn, held: false, looking: false, deferred: Vec::new(), deferred_table: String::new() })
    }

    /// Writes the deferred ledger rows (one statement), if any.
    async fn flush_ledger(&mut self) -> Result<(), sqlx::Error> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        // Each version appears once: a snippet is applied once per transaction, and the
        // replans that could apply it again come after an unlock, which flushes.
        let rows = std::mem::take(&mut self.deferred);
        let values: Vec<&str> = rows.iter().map(|(_, v)| v.as_str()).collect();
        let sql = format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES {} {LEDGER_ON_CONFLICT}",
            self.deferred_table,
            values.join(", ")
        );
        self.execute(&sql).await
    }
}

impl PgSession {
    /// Inside the lock's transaction, a failed query would abort the whole transaction:
    /// reads that may fail (a ledger not created yet, an `unless` query over a table an
    /// earlier snippet creates) run inside a savepoint of their own.
    async fn open_read(&mut self) -> Result<(), Error> {
        if self.held {
            self.execute("SAVEPOINT bootschema_read").await.map_err(Error::db("opening a savepoint"))?;
        }
        Ok(())
    }

    async fn close_read(&mut self, succeeded: bool) -> Result<(), Error> {
        if self.looking && !succeeded {
            // Outside the lock, the failure aborted the look's transaction: start again.
            return self.execute(&format!("ROLLBACK; {LOOK}")).await.map_err(Error::db("restarting the look"));
        }
        if !self.held {
            return Ok(());
        }
        let sql = if succeeded {
            "RELEASE SAVEPOINT bootschema_read"
        } else {
            "ROLLBACK TO SAVEPOINT bootschema_read; RELEASE SAVEPOINT bootschema_read"
        };
        self.execute(sql).await.map_err(Error::db("closing a savepoint"))
    }
}

impl Drop for PgSession {
    fn drop(&mut self) {
        if self.held || self.looking {
            // The open transaction would go back to the pool with the connection:
            // close it instead, which rolls it back and releases the lock.
            self.conn.close_on_drop();
        }
    }
}

/// The advisory lock key of a ledger table: the first 8 bytes of a SHA-256, so that
/// apps with different ledger tables in one database do not wait on each other.
fn lock_key(table: &LedgerTable) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("bootschema:{}", table.display()).as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 has 32 bytes"))
}

fn is_code(error: &sqlx::Error, code: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

/// A look outside the lock reads inside one read-only transaction: the ledger and the
/// catalog are seen at the same instant, and behind PgBouncer in transaction pooling
/// mode the unprepared statements stay on one server connection.
const LOOK: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

const SNAPSHOT: &str = r#"
WITH sp AS (
    SELECT s.nspname::text AS nspname, s.ord
    FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(nspname, ord)
), ns AS (
    SELECT n.oid, n.nspname::text AS nspname FROM pg_namespace n
    WHERE n.nspname IN (SELECT nspname FROM sp) OR n.nspname = ANY($1)
)
SELECT 'path' AS kind, sp.nspname AS schema_name, '' AS table_name, '' AS object_name, true AS valid, sp.ord AS ord
FROM sp
UNION ALL
SELECT 'version', current_setting('server_version'), '', '', true, 0
UNION ALL
SELECT 'table', ns.nspname, c.relname::text, '', true, 0
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname = ANY($2)
UNION ALL
SELECT 'column', ns.nspname, c.relname::text, a.attname::text, true, 0
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname = ANY($2) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index', ns.nspname, t.relname::text, i.relname::text, x.indisvalid AND x.indisready, 0
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
JOIN ns ON ns.oid = i.relnamespace
WHERE i.relname = ANY($3)
UNION ALL
SELECT 'constraint', ns.nspname, t.relname::text, k.conname::text, true, 0
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN ns ON ns.oid = t.relnamespace
WHERE t.relname = ANY($2)
UNION ALL
SELECT 'schema', ns.nspname, '', '', true, 0 FROM ns WHERE ns.nspname = ANY($1)
UNION ALL
SELECT 'type', ns.nspname, '', y.typname::text, true, 0
FROM pg_type y JOIN ns ON ns.oid = y.typnamespace LEFT JOIN pg_class r ON r.oid = y.typrelid
WHERE y.typname = ANY($4) AND (y.typrelid = 0 OR r.relkind = 'c')
"#;

impl Session for PgSession {
    const KIND: DialectKind = DialectKind::Postgres;
    const ATOMIC_DDL: bool = true;
    const LOCK_IS_TRANSACTION: bool = true;
    const UNIT_BEGIN: &'static str = "SAVEPOINT bootschema_snippet";
    const UNIT_COMMIT: &'static str = "RELEASE SAVEPOINT bootschema_snippet";
    const UNIT_ROLLBACK: &'static str =
        "ROLLBACK TO SAVEPOINT bootschema_snippet; RELEASE SAVEPOINT bootschema_snippet";

    fn quote(ident: &str) -> String {
        quote_with(ident, '"')
    }

    async fn begin_look(&mut self) -> Result<(), Error> {
        if !self.held {
            self.execute(LOOK).await.map_err(Error::db("starting a read-only transaction"))?;
            self.looking = true;
        }
        Ok(())
    }

    async fn end_look(&mut self) -> Result<(), Error> {
        if self.looking {
            self.execute("COMMIT").await.map_err(Error::db("ending a read-only transaction"))?;
            self.looking = false;
        }
        Ok(())
    }

    async fn read_ledger(&mut self, table: &LedgerTable) -> Result<Ledger, Error> {
        self.flush_ledger().await.map_err(Error::db("recording the applied snippets in the ledger"))?;
        let sql = ledger_select(&Self::ledger_name(table));
        self.open_read().await?;
        let rows = sqlx::query_as::<_, (i64, String, String, String, String, String, i64)>(AssertSqlSafe(sql))
            .persistent(false)
            .fetch_all(&mut *self.conn)
            .await;
        self.close_read(rows.is_ok()).await?;
        match rows {
            Ok(rows) => {
                let mut ledger = Ledger { exists: true, ..Ledger::default() };
                for (v, d, p, c, s, pr, ms) in rows {
                    let row = ledger_row(v, d, p, c, s, pr, ms)?;
                    ledger.rows.insert(row.version, row);
                }
                Ok(ledger)
            }
            // undefined_table, invalid_schema_name: a database that never synced.
            Err(e) if is_code(&e, "42P01") || is_code(&e, "3F000") => Ok(Ledger::default()),
            Err(e) => Err(Error::db(format!("reading the ledger {}", table.display()))(e)),
        }
    }

    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error> {
        let list = |set: &std::collections::BTreeSet<String>| set.iter().cloned().collect::<Vec<String>>();
        let rows = sqlx::query(SNAPSHOT)
            .bind(scope.schemas.union(&scope.namespaces).cloned().collect::<Vec<String>>())
            .bind(list(&scope.tables))
            .bind(list(&scope.indexes))
            .bind(list(&scope.types))
            .persistent(false)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(Error::db("reading the PostgreSQL catalog"))?;
        let mut snapshot = CatalogSnapshot::default();
        let mut path: Vec<(i64, String)> = Vec::new();
        for row in rows {
            let kind: String = row.get(0);
            let schema: String = row.get(1);
            let table: String = row.get(2);
            let object: String = row.get(3);
            let valid: bool = row.get(4);
            match kind.as_str() {
                "path" => path.push((row.get(5), schema)),
                "version" => snapshot.server_version = schema,
                "table" => {
                    snapshot.tables.insert((schema, table));
                }
                "column" => {
                    snapshot.columns.insert((schema, table, object));
                }
                "index" => {
                    snapshot.indexes.insert((schema, object), valid);
                }
                "schema" => {
                    snapshot.schemas.insert(schema);
                }
                "type" => {
                    snapshot.types.insert((schema, object));
                }
                _ => {
                    snapshot.constraints.insert((schema, table, object));
                }
            }
        }
        path.sort();
        snapshot.search_path = path.into_iter().map(|(_, s)| s).collect();
        Ok(snapshot)
    }

    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        self.open_read().await?;
        let batch =
            sqlx::query(AssertSqlSafe(batch_probe_sql(queries))).persistent(false).fetch_one(&mut *self.conn).await;
        self.close_read(batch.is_ok()).await?;
        if let Ok(row) = batch {
            return Ok((0..queries.len()).map(|i| Ok(row.get::<bool, _>(i))).collect());
        }
        // One query failed (often: it reads a table that does not exist yet); ask each
        // on its own so that every guard gets its own answer.
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            self.open_read().await?;
            let one = sqlx::query_scalar::<_, bool>(AssertSqlSafe(batch_probe_sql(std::slice::from_ref(q))))
                .persistent(false)
                .fetch_one(&mut *self.conn)
                .await;
            self.close_read(one.is_ok()).await?;
            out.push(one.map_err(|e| crate::error::db_message(&e)));
        }
        Ok(out)
    }

    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error> {
        let key = lock_key(table);
        let ms = |d: std::time::Duration| d.as_millis().max(1);
        // One round trip; `SET LOCAL` ends with the transaction, so nothing needs
        // restoring on the app's connection.
        let sql = format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SELECT pg_advisory_xact_lock({key}); \
             SET LOCAL lock_timeout = '{}ms'",
            ms(settings.lock_wait),
            ms(settings.ddl_lock_timeout)
        );
        self.held = true;
        match self.execute(&sql).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.execute("ROLLBACK").await;
                self.held = false;
                if !is_code(&e, "55P03") {
                    return Err(Error::db("taking the schema lock (pg_advisory_xact_lock)")(e));
                }
                let holders: Vec<i32> = sqlx::query_scalar(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND classid = ($1 >> 32)::int8::oid AND objid = ($1 & 4294967295)::oid AND objsubid = 1",
                )
                .bind(key)
                .persistent(false)
                .fetch_all(&mut *self.conn)
                .await
                .unwrap_or_default();
                Err(Error::LockTimeout {
                    waited: settings.lock_wait,
                    holder: format!("advisory lock {key}, held by backend pid {holders:?}"),
                    variable: settings.var("LOCK_TIMEOUT"),
                })
            }
        }
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if !self.held {
            return Ok(());
        }
        self.flush_ledger().await.map_err(Error::db("recording the applied snippets in the ledger"))?;
        self.execute("COMMIT").await.map_err(Error::db("committing the sync"))?;
        self.held = false;
        Ok(())
    }

    async fn describe_lock_wait(&mut self, statement: &str) -> String {
        let Some(table) = super::target_table(statement) else { return String::new() };
        let holders: Vec<(i32, String, Option<String>)> = sqlx::query_as(
            "SELECT l.pid, l.mode, a.state FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE c.relname = $1 AND l.granted AND l.pid <> pg_backend_pid() ORDER BY l.pid",
        )
        .bind(&table.name)
        .persistent(false)
        .fetch_all(&mut *self.conn)
        .await
        .unwrap_or_default();
        let holders: Vec<String> = holders
            .iter()
            .map(|(pid, mode, state)| format!("pid {pid} ({mode}, {})", state.as_deref().unwrap_or("?")))
            .collect();
        if holders.is_empty() {
            format!("; table {} was locked by another session", table.display)
        } else {
            format!("; table {} is locked by {}", table.display, holders.join(", "))
        }
    }

    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error> {
        if let Some(schema) = &table.schema {
            self.execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", Self::quote(schema)))
                .await
                .map_err(Error::db("creating the ledger's schema"))?;
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                path TEXT NOT NULL,
                checksum TEXT NOT NULL,
                state TEXT NOT NULL,
                progress TEXT NOT NULL DEFAULT '',
                duration_ms BIGINT NOT NULL DEFAULT 0,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
            Self::ledger_name(table)
        );
        self.execute(&sql).await.map_err(Error::db("creating the ledger table"))
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *self.conn).await.map(|_| ())
    }

    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) {LEDGER_ON_CONFLICT}",
            Self::ledger_name(table)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(row.version as i64)
            .bind(&row.description)
            .bind(&row.path)
            .bind(&row.checksum)
            .bind(row.state.as_str())
            .bind(encode_progress(&row.progress))
            .bind(row.duration_ms)
            .persistent(false)
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
    }

    const PIPELINE_ATOMIC: bool = true;

    async fn pipeline(&mut self, parts: &[&str]) -> Result<(), (usize, sqlx::Error)> {
        super::pipeline_in_one_round_trip!(&mut *self.conn, parts)
    }

    async fn record_applied(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let values =
            format!("({}, {}, now())", super::ledger_values_literal(DialectKind::Postgres, row), row.duration_ms);
        self.deferred_table = Self::ledger_name(table);
        self.deferred.push((row.version as i64, values));
        Ok(())
    }

    async fn read_mark(&mut self, table: &LedgerTable) -> Result<MarkRead, Error> {
        // Simple protocol: one round trip, nothing prepared (PgBouncer-safe).
        let row =
            sqlx::raw_sql(AssertSqlSafe(mark_select(&Self::ledger_name(table)))).fetch_optional(&mut *self.conn).await;
        match row {
            Ok(row) => Ok(mark_read(row)),
            Err(e) if is_code(&e, "42P01") || is_code(&e, "3F000") => Ok(MarkRead::NoLedger),
            Err(e) => Err(Error::db(format!("reading the mark of the ledger {}", table.display()))(e)),
        }
    }

    async fn write_mark(&mut self, table: &LedgerTable, mark: &str) -> Result<(), sqlx::Error> {
        let Some(values) = mark_values(mark) else { return Ok(()) };
        self.execute(&format!(
            "INSERT INTO {} (version, description, path, checksum, state, progress, duration_ms) VALUES ({values}) \
             ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
            Self::ledger_name(table)
        ))
        .await
    }

    fn is_lock_timeout(error: &sqlx::Error) -> bool {
        is_code(error, "55P03")
    }
}
