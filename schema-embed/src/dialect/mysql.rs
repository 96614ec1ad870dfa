//! MySQL / MariaDB: DDL commits implicitly, so progress is recorded per statement;
//! `GET_LOCK` for the lock; `information_schema` snapshot.

use std::collections::BTreeMap;
use std::time::Instant;

use sqlx::mysql::MySqlDatabaseError;
use sqlx::{AssertSqlSafe, MySql, Row};

use super::conn::Conn;
use super::session::Session;
use super::sql::{
    bind_ledger_row, create_ledger, ledger_from, ledger_select, mark_from, mark_select, mark_values, quote_with,
    LedgerColumns, LedgerDdl, LEDGER_COLUMNS,
};
use crate::approve::Identity;
use crate::catalog::{catalog_key, CatalogSnapshot, Routine, Scope};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::foreign::ForeignRow;
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::{DialectKind, ObjectName, Tool};

/// A MySQL connection borrowed for one sync.
pub(crate) struct MySqlSession {
    conn: Conn<MySql>,
    /// The lock's name while held, and the `lock_wait_timeout` to restore.
    held: Option<(String, i64)>,
    /// The session variables set for the sync, with the values to restore.
    restore: Vec<(String, String)>,
    /// Progress rows that the guards of their statements recover if they are lost
    /// ([`MySqlSession::defer_progress`]): by version, the latest row of each (a snippet's
    /// later row includes its earlier progress), as literal `VALUES` tuples.
    deferred: BTreeMap<u64, String>,
    /// The quoted ledger table the deferred rows go to.
    deferred_table: String,
    /// Whether a qualified ledger name was checked to name the app's own database.
    ledger_home_checked: bool,
    /// Whether a message may have set `@bootschema_started` on this connection
    /// ([`MySqlSession::PIPELINE_START`]): the unlock clears it.
    noted: bool,
}

impl MySqlSession {
    pub(crate) async fn open(pool: &sqlx::MySqlPool, settings: &Settings) -> Result<MySqlSession, Error> {
        let conn = Conn::borrow(pool, !settings.pool_connection, settings).await?;
        Ok(MySqlSession {
            conn,
            held: None,
            restore: Vec::new(),
            deferred: BTreeMap::new(),
            deferred_table: String::new(),
            ledger_home_checked: false,
            noted: false,
        })
    }

    /// A ledger qualified with a database must be in the app's own database: MySQL's
    /// schemas are databases, so `ops.schema_history` would be one ledger (and one mark)
    /// shared by every app database on the server, and a second, empty database would
    /// boot "in sync". An unqualified name costs nothing to check.
    async fn check_ledger_home(&mut self, table: &LedgerTable) -> Result<(), Error> {
        let Some(schema) = table.schema.as_deref().filter(|_| !self.ledger_home_checked) else { return Ok(()) };
        let database: Option<String> = sqlx::query_scalar("SELECT CONVERT(DATABASE() USING utf8mb4)")
            .fetch_one(&mut self.conn)
            .await
            .map_err(Error::db("reading the current database"))?;
        let database = database.unwrap_or_default();
        if !schema.eq_ignore_ascii_case(&database) {
            return Err(ErrorKind::Config {
                variable: "ledger_table".into(),
                value: table.display(),
                expected: "on MySQL and MariaDB, a ledger in the app's own database: an unqualified name \
                           (`schema_history`), or one qualified with the database the app connects to; a \
                           ledger in another database would be shared by every app database on the server",
            }
            .into());
        }
        self.ledger_home_checked = true;
        Ok(())
    }

    /// The upsert of `rows` (literal `VALUES` tuples) into the ledger `name`.
    fn upsert(name: &str, rows: &[&str]) -> String {
        format!("INSERT INTO {name} ({LEDGER_COLUMNS}) VALUES {} {ON_DUPLICATE}", rows.join(", "))
    }

    /// The upsert of the deferred rows alone, if any.
    fn deferred_upsert(&self) -> Option<String> {
        let rows: Vec<&str> = self.deferred.values().map(String::as_str).collect();
        (!rows.is_empty()).then(|| Self::upsert(&self.deferred_table, &rows))
    }

    /// Writes the deferred rows, if any (one statement, one commit).
    async fn flush_deferred(&mut self) -> Result<(), sqlx::Error> {
        if let Some(sql) = self.deferred_upsert() {
            self.execute(&sql).await?;
            self.deferred.clear();
        }
        Ok(())
    }
}

impl Drop for MySqlSession {
    fn drop(&mut self) {
        if self.held.is_some() {
            self.conn.close_on_drop();
        }
    }
}

/// The ledger upsert's conflict clause (bound and literal writes alike).
const ON_DUPLICATE: &str = "ON DUPLICATE KEY UPDATE description = VALUES(description), path = VALUES(path), \
     checksum = VALUES(checksum), state = VALUES(state), progress = VALUES(progress), \
     duration_ms = VALUES(duration_ms), applied_at = VALUES(applied_at)";

/// ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR: the ledger is not there, a database that never
/// synced.
fn ledger_missing(error: &sqlx::Error) -> bool {
    matches!(error_number(error), Some(1146) | Some(1049))
}

/// MySQL's ledger table (InnoDB, so that a row commits with the statement it records).
const LEDGER_DDL: LedgerDdl = LedgerDdl {
    namespace: Some("CREATE DATABASE IF NOT EXISTS"),
    version: "BIGINT",
    short_text: "VARCHAR(80)",
    progress_default: "",
    integer: "BIGINT",
    applied_at: "TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)",
    suffix: " ENGINE = InnoDB DEFAULT CHARSET = utf8mb4",
};

fn error_number(error: &sqlx::Error) -> Option<u16> {
    match error {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>().map(|e| e.number()),
        _ => None,
    }
}

/// `GET_LOCK` names are server-wide and at most 64 characters: hash the database and
/// the ledger table into one.
fn lock_name(database: &str, table: &LedgerTable) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{database}:{}", table.display()).as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("bootschema:{hex}")
}

/// Every catalog column goes through `CONVERT(… USING utf8mb4)`: information_schema's
/// columns have server-dependent character sets and collations.
///
/// Each part filters on `TABLE_SCHEMA`, the column the server can use to open only the
/// named databases: filtering `TABLE_CONSTRAINTS` on `CONSTRAINT_SCHEMA` (the same
/// value, a constraint lives in its table's database) makes MariaDB walk every
/// database on the server, 20× slower with six databases and worse on a shared one.
fn snapshot_sql(explicit_schemas: usize) -> String {
    let schemas = schemas_list(explicit_schemas);
    let c = |col: &str| format!("CONVERT({col} USING utf8mb4)");
    format!(
        "SELECT 'path' AS kind, {db} AS schema_name, '' AS table_name, '' AS object_name
         UNION ALL
         SELECT 'version', {version}, '', ''
         UNION ALL
         SELECT 'table', {ts}, {tn}, '' FROM information_schema.TABLES WHERE TABLE_SCHEMA IN {schemas}
         UNION ALL
         SELECT 'column', {ts}, {tn}, {cn} FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN {schemas}
         UNION ALL
         SELECT DISTINCT 'index', {ts}, {tn}, {inn} FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN {schemas}
         UNION ALL
         SELECT 'constraint', {cts}, {ctn}, {ccn} FROM information_schema.TABLE_CONSTRAINTS
         WHERE TABLE_SCHEMA IN {schemas}",
        db = c("COALESCE(DATABASE(), '')"),
        version = c("VERSION()"),
        ts = c("TABLE_SCHEMA"),
        tn = c("TABLE_NAME"),
        cn = c("COLUMN_NAME"),
        inn = c("INDEX_NAME"),
        cts = c("CONSTRAINT_SCHEMA"),
        ctn = c("TABLE_NAME"),
        ccn = c("CONSTRAINT_NAME"),
    )
}

/// `(DATABASE(), ?, …)`: the current database and the ones guards name.
fn schemas_list(explicit_schemas: usize) -> String {
    if explicit_schemas > 0 {
        format!("(DATABASE(), {})", vec!["?"; explicit_schemas].join(", "))
    } else {
        String::from("(DATABASE())")
    }
}

/// Stored functions and procedures: `kind` is `function` or `procedure`. MySQL does
/// not overload, so the name identifies each.
const ROUTINES_SQL: &str =
    "SELECT CONVERT(LOWER(ROUTINE_TYPE) USING utf8mb4), CONVERT(ROUTINE_SCHEMA USING utf8mb4), '', \
     CONVERT(ROUTINE_NAME USING utf8mb4) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN {schemas}";

/// Triggers, with the table each is on.
const TRIGGERS_SQL: &str = "SELECT 'trigger', CONVERT(TRIGGER_SCHEMA USING utf8mb4), \
     CONVERT(EVENT_OBJECT_TABLE USING utf8mb4), CONVERT(TRIGGER_NAME USING utf8mb4) \
     FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN {schemas}";

/// MariaDB's sequences (10.3 and later), which are tables of their own kind; MySQL has
/// none, and the part finds none there.
const SEQUENCES_SQL: &str = "SELECT 'sequence', CONVERT(TABLE_SCHEMA USING utf8mb4), \
     CONVERT(TABLE_NAME USING utf8mb4), '' FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA IN {schemas} AND TABLE_TYPE = 'SEQUENCE'";

impl MySqlSession {
    /// A statement that notes when a snippet that writes its own row in the same
    /// message started, for that row's duration (measured by the server: the row is
    /// built before the message is sent).
    pub(crate) const PIPELINE_START: &'static str = "SET @bootschema_started = NOW(3)";

    /// Runs `parts` in order in one round trip and returns, with the outcome (on
    /// failure, the index of the failing part), when the result of each part that ran
    /// arrived (MySQL sends each statement's result as soon as the statement ends, also
    /// inside a multi-statement message).
    pub(crate) async fn pipeline_timed(&mut self, parts: &[&str]) -> (Vec<Instant>, Result<(), (usize, sqlx::Error)>) {
        self.noted = true;
        let mut arrivals = Vec::with_capacity(parts.len());
        let outcome = super::sql::pipeline_in_one_round_trip!(&mut self.conn, parts, |_part, _row| {}, |_done| {
            arrivals.push(Instant::now())
        });
        (arrivals, outcome)
    }

    /// `row`'s upsert as one self-contained statement (literals only), for
    /// [`MySqlSession::pipeline_timed`], carrying in the same statement the rows deferred
    /// so far ([`MySqlSession::defer_progress`]) but for an earlier one of `row`'s
    /// snippet; `row`'s duration is measured by the server from
    /// [`MySqlSession::PIPELINE_START`]. The deferred rows stay queued until
    /// [`MySqlSession::deferred_written`] says the upsert ran.
    pub(crate) fn ledger_upsert_literal(&self, table: &LedgerTable, row: &LedgerRow) -> String {
        // `NOW()` is each statement's own start, also inside a multi-statement message.
        let own = format!(
            "({}, COALESCE(TIMESTAMPDIFF(MICROSECOND, @bootschema_started, NOW(3)) DIV 1000, 0), \
             CURRENT_TIMESTAMP(3))",
            super::sql::ledger_values_literal(DialectKind::MySql, row)
        );
        // A later row of a snippet includes its earlier progress: it replaces the
        // queued one.
        let mut rows: Vec<&str> =
            self.deferred.iter().filter(|(v, _)| **v != row.version).map(|(_, r)| r.as_str()).collect();
        rows.push(&own);
        Self::upsert(&Self::ledger_name(table), &rows)
    }

    /// Queues `row` until the next [`MySqlSession::ledger_upsert_literal`] that runs,
    /// the next ledger read, the mark, or the unlock, whichever comes first: every
    /// ledger write outside a transaction is a commit and a log flush of its own (see
    /// `apply::progress` for which rows may wait and why losing one is safe).
    pub(crate) fn defer_progress(&mut self, table: &LedgerTable, row: &LedgerRow) {
        let values = format!(
            "({}, {}, CURRENT_TIMESTAMP(3))",
            super::sql::ledger_values_literal(DialectKind::MySql, row),
            row.duration_ms
        );
        self.deferred_table = Self::ledger_name(table);
        self.deferred.insert(row.version, values);
    }

    /// The upsert built by [`MySqlSession::ledger_upsert_literal`] ran: its deferred
    /// rows are written.
    pub(crate) fn deferred_written(&mut self) {
        self.deferred.clear();
    }
}

impl Session for MySqlSession {
    type Db = MySql;

    fn conn(&mut self) -> &mut Conn<MySql> {
        &mut self.conn
    }

    const KIND: DialectKind = DialectKind::MySql;
    const UNIT_BEGIN: &'static str = "BEGIN";
    const UNIT_COMMIT: &'static str = "COMMIT";
    const UNIT_ROLLBACK: &'static str = "ROLLBACK";

    fn quote(ident: &str) -> String {
        quote_with(ident, '`')
    }

    async fn read_ledger(&mut self, table: &LedgerTable) -> Result<Ledger, Error> {
        self.check_ledger_home(table).await?;
        self.flush_deferred().await.map_err(Error::db("recording the applied statements in the ledger"))?;
        let sql = ledger_select(&Self::ledger_name(table));
        let rows = sqlx::query_as::<_, LedgerColumns>(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await;
        ledger_from(table, rows, ledger_missing)
    }

    async fn read_foreign(&mut self, wanted: &[(Tool, LedgerTable)]) -> Result<Vec<ForeignRow>, Error> {
        let text = |t: &str| super::sql::text_literal(DialectKind::MySql, t);
        let exists = |t: &LedgerTable| {
            let schema = t.schema.as_deref().map_or("DATABASE()".to_owned(), text);
            format!(
                "(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {})",
                text(&t.table)
            )
        };
        super::sql::read_foreign_ledgers::<MySql>(
            &mut self.conn,
            wanted,
            exists,
            Self::ledger_name,
            |e| format!("CONVERT({e} USING utf8mb4)"),
            |e| format!("LOWER(HEX({e}))"),
        )
        .await
    }

    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error> {
        let mut sql = snapshot_sql(scope.schemas.len());
        let mut in_schemas = 4;
        // Routines, triggers and (MariaDB) sequences, only where a guard names one: a
        // set without them pays nothing.
        for (wanted, part) in [
            (!scope.routines.is_empty(), ROUTINES_SQL),
            (!scope.triggers.is_empty(), TRIGGERS_SQL),
            (!scope.sequences.is_empty(), SEQUENCES_SQL),
        ] {
            if wanted {
                sql.push_str("\n UNION ALL\n ");
                sql.push_str(&part.replace("{schemas}", &schemas_list(scope.schemas.len())));
                in_schemas += 1;
            }
        }
        if !scope.namespaces.is_empty() {
            // The databases `schema_missing` guards ask about.
            sql.push_str(&format!(
                "\n UNION ALL\n SELECT 'schema', CONVERT(SCHEMA_NAME USING utf8mb4), '', '' \
                 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ({})",
                vec!["?"; scope.namespaces.len()].join(", ")
            ));
        }
        // Each `IN (...)` list is bound once per part of the UNION.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for _ in 0..in_schemas {
            for schema in &scope.schemas {
                query = query.bind(schema.clone());
            }
        }
        for schema in &scope.namespaces {
            query = query.bind(schema.clone());
        }
        let rows = query.fetch_all(&mut self.conn).await.map_err(Error::db("reading the MySQL catalog"))?;
        let mut snapshot = CatalogSnapshot::default();
        for row in rows {
            let kind: String = row.get(0);
            let key = |i: usize| catalog_key(DialectKind::MySql, &row.get::<String, _>(i));
            match kind.as_str() {
                "path" => {
                    let db = key(1);
                    if !db.is_empty() {
                        snapshot.database = db.clone();
                        snapshot.search_path.push(db);
                    }
                }
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
                "function" | "procedure" => {
                    let routine = Routine { procedure: kind == "procedure", args: String::new() };
                    snapshot.routines.entry((key(1), key(3))).or_default().push(routine);
                }
                "trigger" => {
                    snapshot.triggers.insert((key(1), key(2), key(3)));
                }
                "sequence" => {
                    snapshot.sequences.insert((key(1), key(2)));
                }
                _ => {
                    snapshot.constraints.insert((key(1), key(2), key(3)));
                }
            }
        }
        Ok(snapshot)
    }

    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error> {
        super::sql::probe::<MySql>(&mut self.conn, queries).await
    }

    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error> {
        let (database, previous): (Option<String>, i64) =
            sqlx::query_as("SELECT CONVERT(DATABASE() USING utf8mb4), CAST(@@SESSION.lock_wait_timeout AS SIGNED)")
                .fetch_one(&mut self.conn)
                .await
                .map_err(Error::db("reading the session"))?;
        let name = lock_name(database.as_deref().unwrap_or(""), table);
        let wait = settings.lock_wait.as_secs_f64();
        self.conn.locking = true;
        let got: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT GET_LOCK(?, ?)").bind(&name).bind(wait).fetch_one(&mut self.conn).await;
        self.conn.locking = false;
        let got = got.map_err(Error::db("taking the schema lock (GET_LOCK)"))?;
        if got != Some(1) {
            let holder: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
                .bind(&name)
                .fetch_one(&mut self.conn)
                .await
                .unwrap_or(None);
            return Err(ErrorKind::LockTimeout {
                waited: settings.lock_wait,
                holder: format!("GET_LOCK('{name}'), held by connection id {holder:?}"),
                variable: settings.var("LOCK_TIMEOUT"),
            }
            .into());
        }
        self.held = Some((name, previous));
        let seconds = settings.ddl_lock_timeout.as_secs().max(1);
        let mut set = format!("SET SESSION lock_wait_timeout = {seconds}");
        // The app's own session variables (names and values checked to be plain), with
        // what to restore them to.
        for (variable, value) in &settings.mysql_session {
            let current: Option<String> =
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT CONVERT(@@SESSION.{variable}, CHAR)")))
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(Error::db(format!("reading the session variable {variable}")))?;
            let restore = match current {
                None => "DEFAULT".to_owned(),
                Some(number) if number.parse::<i64>().is_ok() => number,
                Some(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''")),
            };
            self.restore.push((variable.clone(), restore));
            set.push_str(&format!(", SESSION {variable} = {value}"));
        }
        self.execute(&set).await.map_err(Error::db("setting the session variables of the sync"))?;
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        let Some((name, previous)) = self.held.clone() else { return Ok(()) };
        // The deferred rows go before the lock, so that the next holder reads them; the
        // lock is released whatever that write says.
        let flushed = self.flush_deferred().await;
        // The connection goes back to the app's pool as it came: its setting restored,
        // this sync's user variables cleared.
        let mut restore = format!("SET SESSION lock_wait_timeout = {previous}");
        for (variable, value) in std::mem::take(&mut self.restore) {
            restore.push_str(&format!(", SESSION {variable} = {value}"));
        }
        if std::mem::take(&mut self.noted) {
            restore.push_str(", @bootschema_started = NULL");
        }
        self.execute(&restore).await.map_err(Error::db("restoring lock_wait_timeout"))?;
        sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(&name)
            .execute(&mut self.conn)
            .await
            .map_err(Error::db("releasing the schema lock"))?;
        self.held = None;
        flushed.map_err(Error::db("recording the applied statements in the ledger"))
    }

    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error> {
        create_ledger(self, table, &LEDGER_DDL).await
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.map(|_| ())
    }

    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(3)) {ON_DUPLICATE}",
            Self::ledger_name(table)
        );
        bind_ledger_row(sqlx::query(AssertSqlSafe(sql)), row).execute(&mut self.conn).await.map(|_| ())
    }

    async fn read_mark(&mut self, table: &LedgerTable) -> Result<MarkRead, Error> {
        self.check_ledger_home(table).await?;
        // Text protocol: one round trip, nothing prepared.
        let row =
            sqlx::raw_sql(AssertSqlSafe(mark_select(&Self::ledger_name(table)))).fetch_optional(&mut self.conn).await;
        mark_from(table, row, ledger_missing)
    }

    async fn write_mark(&mut self, table: &LedgerTable, mark: &str, earlier: &[String]) -> Result<(), sqlx::Error> {
        let Some(values) = mark_values(mark, earlier) else { return Ok(()) };
        // The mark says every row is written: the deferred ones go in the same statement,
        // which writes all of them or none (one commit). The mark's other columns are
        // constants: the full conflict clause rewrites them unchanged.
        let mark = format!("({values}, CURRENT_TIMESTAMP(3))");
        let mut rows: Vec<&str> = self.deferred.values().map(String::as_str).collect();
        rows.push(&mark);
        self.execute(&Self::upsert(&Self::ledger_name(table), &rows)).await?;
        self.deferred.clear();
        Ok(())
    }

    async fn describe_lock_wait(&mut self, table: &ObjectName) -> String {
        // Open transactions are what hold metadata locks; name the oldest ones.
        let open: Vec<i64> = sqlx::query_scalar(
            "SELECT CAST(trx_mysql_thread_id AS SIGNED) FROM information_schema.INNODB_TRX \
             WHERE trx_mysql_thread_id <> CONNECTION_ID() ORDER BY trx_started LIMIT 5",
        )
        .fetch_all(&mut self.conn)
        .await
        .unwrap_or_default();
        if open.is_empty() {
            format!("; table {table} was locked by another session")
        } else {
            format!("; table {table} is locked; open transactions on connection ids {open:?}")
        }
    }

    async fn identity(&mut self) -> Result<Identity, Error> {
        // MySQL keeps a `server_uuid` in its data directory; MariaDB has none, but a
        // `server_uid` (a hash of the host's hardware address and the port) and its host
        // name. `SHOW` lists what the server has, without failing on what it lacks.
        let rows = sqlx::raw_sql(AssertSqlSafe(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_uuid', 'server_uid', 'hostname', 'server_id')"
                .to_string(),
        ))
        .fetch_all(&mut self.conn)
        .await
        .map_err(Error::db("reading the server's identity"))?;
        let text = |row: &sqlx::mysql::MySqlRow, i: usize| -> String {
            row.try_get::<String, _>(i)
                .or_else(|_| row.try_get::<Vec<u8>, _>(i).map(|b| String::from_utf8_lossy(&b).into_owned()))
                .unwrap_or_default()
        };
        let variables: BTreeMap<String, String> =
            rows.iter().map(|r| (text(r, 0).to_ascii_lowercase(), text(r, 1))).filter(|(_, v)| !v.is_empty()).collect();
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut self.conn)
            .await
            .map_err(Error::db("reading the database's name"))?;
        let mut facts = BTreeMap::new();
        facts.insert("database".to_string(), database.unwrap_or_default());
        let pick = |names: &[&str], facts: &mut BTreeMap<String, String>| {
            for name in names {
                if let Some(value) = variables.get(*name) {
                    facts.insert(name.to_string(), value.clone());
                }
            }
        };
        let (unique, note) = if variables.contains_key("server_uuid") {
            pick(&["server_uuid"], &mut facts);
            (true, None)
        } else if variables.contains_key("server_uid") {
            pick(&["server_uid", "hostname"], &mut facts);
            (true, None)
        } else {
            pick(&["server_id", "hostname"], &mut facts);
            let note = "the server has neither server_uuid (MySQL) nor server_uid (MariaDB): the connection's \
                        host, port and database name must match as well";
            (false, Some(note.to_string()))
        };
        Ok(Identity { facts, unique, note })
    }

    fn is_lock_timeout(error: &sqlx::Error) -> bool {
        // ER_LOCK_WAIT_TIMEOUT: metadata-lock and row-lock waits alike.
        error_number(error) == Some(1205)
    }
}
