//! PostgreSQL: transactional DDL, a session advisory lock, `pg_catalog` snapshot.

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Postgres, Row};

use super::{batch_probe_sql, ledger_row, ledger_select, quote_with, Session};
use crate::catalog::{CatalogSnapshot, Scope};
use crate::config::Settings;
use crate::error::Error;
use crate::ledger::{encode_progress, Ledger, LedgerRow, LedgerTable};
use crate::snippet::DialectKind;

/// A PostgreSQL connection borrowed for one sync.
pub(crate) struct PgSession {
    conn: PoolConnection<Postgres>,
    /// The advisory lock key while the lock is held, and the `lock_timeout` to restore.
    held: Option<(i64, String)>,
}

impl PgSession {
    pub(crate) async fn open(pool: &sqlx::PgPool) -> Result<PgSession, Error> {
        let conn = pool.acquire().await.map_err(Error::db("connecting to PostgreSQL"))?;
        Ok(PgSession { conn, held: None })
    }
}

impl Drop for PgSession {
    fn drop(&mut self) {
        if self.held.is_some() {
            // The session lock and settings would go back to the pool with the
            // connection: close it instead, which releases them.
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
"#;

impl Session for PgSession {
    const KIND: DialectKind = DialectKind::Postgres;
    const ATOMIC_DDL: bool = true;
    const LOCK_IS_TRANSACTION: bool = false;

    fn quote(ident: &str) -> String {
        quote_with(ident, '"')
    }

    async fn read_ledger(&mut self, table: &LedgerTable) -> Result<Ledger, Error> {
        let sql = ledger_select(&Self::ledger_name(table));
        let rows = sqlx::query_as::<_, (i64, String, String, String, String, String, i64)>(AssertSqlSafe(sql))
            .fetch_all(&mut *self.conn)
            .await;
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
            .bind(list(&scope.schemas))
            .bind(list(&scope.tables))
            .bind(list(&scope.indexes))
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
        let batch = sqlx::query(AssertSqlSafe(batch_probe_sql(queries))).fetch_one(&mut *self.conn).await;
        if let Ok(row) = batch {
            return Ok((0..queries.len()).map(|i| Ok(row.get::<bool, _>(i))).collect());
        }
        // One query failed (often: it reads a table that does not exist yet); ask each
        // on its own so that every guard gets its own answer.
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            let one = sqlx::query_scalar::<_, bool>(AssertSqlSafe(batch_probe_sql(std::slice::from_ref(q))))
                .fetch_one(&mut *self.conn)
                .await;
            out.push(one.map_err(|e| crate::error::db_message(&e)));
        }
        Ok(out)
    }

    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error> {
        let key = lock_key(table);
        let previous: String = sqlx::query_scalar("SELECT current_setting('lock_timeout')")
            .fetch_one(&mut *self.conn)
            .await
            .map_err(Error::db("reading lock_timeout"))?;
        sqlx::query("SELECT set_config('lock_timeout', $1, false)")
            .bind(format!("{}ms", settings.lock_wait.as_millis().max(1)))
            .execute(&mut *self.conn)
            .await
            .map_err(Error::db("setting lock_timeout"))?;
        // From here on the connection carries session state: mark it so that every
        // path, errors included, releases or discards it.
        self.held = Some((key, previous));
        let locked = sqlx::query("SELECT pg_advisory_lock($1)").bind(key).execute(&mut *self.conn).await;
        match locked {
            Ok(_) => {}
            Err(e) if is_code(&e, "55P03") => {
                let holders: Vec<i32> = sqlx::query_scalar(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND classid = ($1 >> 32)::int8::oid AND objid = ($1 & 4294967295)::oid AND objsubid = 1",
                )
                .bind(key)
                .fetch_all(&mut *self.conn)
                .await
                .unwrap_or_default();
                let _ = self.unlock().await;
                return Err(Error::LockTimeout {
                    waited: settings.lock_wait,
                    holder: format!("advisory lock {key}, held by backend pid {holders:?}"),
                    variable: settings.var("LOCK_TIMEOUT"),
                });
            }
            Err(e) => return Err(Error::db("taking the schema lock (pg_advisory_lock)")(e)),
        }
        sqlx::query("SELECT set_config('lock_timeout', $1, false)")
            .bind(format!("{}ms", settings.ddl_lock_timeout.as_millis().max(1)))
            .execute(&mut *self.conn)
            .await
            .map_err(Error::db("setting lock_timeout"))?;
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        let Some((key, previous)) = self.held.clone() else { return Ok(()) };
        sqlx::query("SELECT pg_advisory_unlock($1), set_config('lock_timeout', $2, false)")
            .bind(key)
            .bind(previous)
            .execute(&mut *self.conn)
            .await
            .map_err(Error::db("releasing the schema lock"))?;
        self.held = None;
        Ok(())
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

    async fn begin(&mut self) -> Result<(), sqlx::Error> {
        self.execute("BEGIN").await
    }

    async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.execute("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.execute("ROLLBACK").await
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *self.conn).await.map(|_| ())
    }

    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {} (version, description, path, checksum, state, progress, duration_ms, applied_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())
             ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description, path = EXCLUDED.path,
                 checksum = EXCLUDED.checksum, state = EXCLUDED.state, progress = EXCLUDED.progress,
                 duration_ms = EXCLUDED.duration_ms, applied_at = EXCLUDED.applied_at",
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
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
    }

    fn is_lock_timeout(error: &sqlx::Error) -> bool {
        is_code(error, "55P03")
    }
}
