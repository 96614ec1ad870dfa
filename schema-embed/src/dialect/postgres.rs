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

use sqlx::{AssertSqlSafe, FromRow, Postgres, Row};

use std::collections::{BTreeSet, HashMap, HashSet};

use super::conn::Conn;
use super::session::Session;
use super::sql::{
    batch_probe_sql, bind_ledger_row, create_ledger, ledger_from, ledger_select, mark_from, mark_select, mark_values,
    quote_with, text_literal, LedgerColumns, LedgerDdl, LEDGER_COLUMNS, LEDGER_ON_CONFLICT,
};
use crate::approve::Identity;
use crate::catalog::{CatalogSnapshot, Routine, Scope};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::foreign::ForeignRow;
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::{DialectKind, ObjectName, Tool};

/// A PostgreSQL connection borrowed for one sync.
pub(crate) struct PgSession {
    conn: Conn<Postgres>,
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
    /// The mark's row (its values, `now()` last), written with the deferred rows, in
    /// the same message as the commit of the lock's transaction (the last thing a sync
    /// writes).
    deferred_mark: Option<String>,
    /// Whether the next lock also creates the ledger when it is missing
    /// ([`Session::create_ledger_with_lock`]), and whether the last one did.
    create_with_lock: bool,
    ledger_created: bool,
    /// Whether the lock's message found no ledger table: until the lock is released or
    /// the ledger created, a read of the ledger is an empty one, with no query (a query
    /// would fail, and need a savepoint rolled back, 2 round trips on a first sync).
    ledger_missing: bool,
    /// The configured scope ([`Settings::schemas`]): the search path the snippets run
    /// with, empty for the connection's own.
    schemas: Vec<String>,
    /// Schemas out of the scope ([`Settings::exclude_schemas`]), and the variable that
    /// sets them (for the error when the search path's first one is among them).
    exclude: Vec<String>,
    exclude_variable: String,
    /// The connection's search path before a `transaction: none` snippet set the
    /// configured one for its session, to restore after it.
    unwrapped_path: Option<String>,
}

impl PgSession {
    pub(crate) async fn open(pool: &sqlx::PgPool, settings: &Settings) -> Result<PgSession, Error> {
        let conn = Conn::borrow(pool, !settings.pool_connection, settings).await?;
        Ok(PgSession {
            conn,
            held: false,
            looking: false,
            deferred: Vec::new(),
            deferred_table: String::new(),
            deferred_mark: None,
            create_with_lock: false,
            ledger_created: false,
            ledger_missing: false,
            schemas: settings.schemas.clone(),
            exclude: settings.exclude_schemas.clone(),
            exclude_variable: settings.var("EXCLUDE_SCHEMAS"),
            unwrapped_path: None,
        })
    }

    /// `; SET LOCAL search_path = …` for a configured scope, else nothing: appended to
    /// the statement that opens the look's and the lock's transactions, so that the
    /// snippets, the `unless` queries and the other tools' ledgers see the scope's
    /// schemas, and the connection goes back as it came when the transaction ends.
    fn scope_path(&self) -> String {
        if self.schemas.is_empty() {
            return String::new();
        }
        format!("; SET LOCAL search_path = {}", search_path_list(&self.schemas))
    }

    /// The statement that opens a look.
    fn look_sql(&self) -> String {
        format!("{LOOK}{}", self.scope_path())
    }

    /// The statement that writes the deferred ledger rows and the deferred mark, if
    /// any (taking them): one upsert, the mark one more row of it (the mark's row is
    /// written whole each time, its fixed columns as they were).
    fn take_deferred(&mut self) -> Vec<String> {
        // Each version appears once: a snippet is applied once per transaction, and the
        // replans that could apply it again come after an unlock, which flushes; the
        // mark's version is no snippet's.
        let mut values: Vec<String> = std::mem::take(&mut self.deferred).into_iter().map(|(_, v)| v).collect();
        values.extend(self.deferred_mark.take());
        if values.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES {} {LEDGER_ON_CONFLICT}",
            self.deferred_table,
            values.join(", ")
        )]
    }

    /// Writes the deferred ledger rows and mark (one round trip), if any.
    async fn flush_ledger(&mut self) -> Result<(), sqlx::Error> {
        let statements = self.take_deferred();
        if statements.is_empty() {
            return Ok(());
        }
        self.execute(&statements.join(";\n")).await
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
            let sql = format!("ROLLBACK; {}", self.look_sql());
            return self.execute(&sql).await.map_err(Error::db("restarting the look"));
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

/// The ledger's table (undefined_table) or schema (invalid_schema_name) is not there:
/// a database that never synced.
fn ledger_missing(error: &sqlx::Error) -> bool {
    is_code(error, "42P01") || is_code(error, "3F000")
}

/// PostgreSQL's ledger table.
const LEDGER_DDL: LedgerDdl = LedgerDdl {
    namespace: Some("CREATE SCHEMA IF NOT EXISTS"),
    version: "BIGINT",
    short_text: "TEXT",
    progress_default: " DEFAULT ''",
    integer: "BIGINT",
    applied_at: "TIMESTAMPTZ NOT NULL DEFAULT now()",
    suffix: "",
};

fn is_code(error: &sqlx::Error, code: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

/// A look outside the lock reads inside one read-only transaction: the ledger and the
/// catalog are seen at the same instant, and behind PgBouncer in transaction pooling
/// mode the unprepared statements stay on one server connection.
const LOOK: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The catalog queries of a snapshot, built for its scope and sent in the simple
/// protocol (the names travel as escaped literals).
///
/// Each part reads one catalog table with an index-friendly filter; schemas come back
/// by name (`regnamespace`'s output, which quotes a name only where it must be quoted:
/// [`unquote_ident`]), not joined. A new connection's first query over the catalogs
/// costs mostly its planning (each catalog table, each join and each function looked
/// up for the first time on that connection), and a sync's looks run on new
/// connections. So:
/// - one part reads every relation a guard names, tables, views, indexes and sequences
///   alike (`pg_class` by name: `name[]`, so that its index on names serves), with an
///   index's validity from a subquery per index row (no part joins catalogs: a join's
///   first estimate on a connection costs statistics lookups);
/// - the search path is one JSON array beside the server's version, and `pg_namespace`
///   is read only for schemas a guard names;
/// - parts with nothing to look for are left out, and columns and constraints are read
///   by a second query only for the tables the first one found (a fresh database never
///   plans against `pg_attribute` or `pg_constraint`), or, after an apply, in the same
///   query for the tables by name, and only those a guard asks about.
///
/// Measured on a new connection to a fresh database (PostgreSQL 15, `psql`'s timing of
/// the query alone): the first look of a ten-snippet set 2.6 ms as a UNION of one part
/// per kind with a join on `pg_namespace`, 1.6 ms so; the look after the apply 2.2 ms,
/// 1.8 ms.
///
/// `path` is the configured scope ([`Settings::schemas`]), which takes the place of the
/// connection's search path; empty, the search path is read.
fn snapshot_sql(scope: &Scope, path: &[String]) -> String {
    let path = if path.is_empty() { "current_schemas(false)".to_string() } else { array_literal(path, "text") };
    let mut parts = vec![format!(
        "SELECT 'path', array_to_json({path})::text, current_setting('server_version'), true, \
         current_database()::text"
    )];
    let explicit: BTreeSet<&String> = scope.schemas.union(&scope.namespaces).collect();
    if !explicit.is_empty() {
        parts.push(format!(
            "SELECT 'ns', '', n.nspname::text, true, n.nspname::text FROM pg_namespace n WHERE n.nspname = ANY({})",
            name_array(explicit.iter().copied())
        ));
    }
    let relations: BTreeSet<&String> = scope.tables.iter().chain(&scope.indexes).chain(&scope.sequences).collect();
    if !relations.is_empty() {
        let mut kinds = Vec::new();
        if !scope.tables.is_empty() {
            kinds.extend(["'r'", "'p'", "'v'", "'m'", "'f'"]);
        }
        if !scope.indexes.is_empty() {
            kinds.extend(["'i'", "'I'"]);
        }
        if !scope.sequences.is_empty() {
            kinds.push("'S'");
        }
        // An index's validity comes from a subquery per index row, not from a join with
        // `pg_index`: a join costs the planner of a new connection about half a
        // millisecond of statistics lookups (the first query of the look, and the one
        // after the apply, are each a new connection's first of their kind).
        let valid = if scope.indexes.is_empty() {
            "true"
        } else {
            "CASE WHEN c.relkind IN ('i', 'I') THEN COALESCE((SELECT x.indisvalid AND x.indisready \
             FROM pg_index x WHERE x.indexrelid = c.oid), true) ELSE true END"
        };
        parts.push(format!(
            "SELECT 'rel ' || c.relkind::text, c.oid::text, c.relname::text, {valid}, \
             c.relnamespace::regnamespace::text FROM pg_class c WHERE c.relname = ANY({}) AND c.relkind IN ({})",
            name_array(relations.iter().copied()),
            kinds.join(", ")
        ));
    }
    if !scope.types.is_empty() {
        parts.push(format!(
            "SELECT 'type', '', y.typname::text, true, y.typnamespace::regnamespace::text FROM pg_type y \
             WHERE y.typname = ANY({}) AND (y.typrelid = 0 OR (SELECT r.relkind FROM pg_class r WHERE r.oid = y.typrelid) = 'c')",
            name_array(&scope.types)
        ));
    }
    // Functions, procedures, triggers, extensions and policies: each part only where a
    // guard names one, so that a set without them pays nothing.
    if !scope.routines.is_empty() {
        // A routine's input argument types (what tells overloads apart) as `pg_type`
        // names, in order: `proargtypes` holds exactly the types of its identity.
        parts.push(format!(
            "SELECT 'routine', (p.prokind = 'p')::text || ' ' || \
             COALESCE((SELECT string_agg(t.typname::text, ',' ORDER BY u.n) \
             FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS u(o, n) JOIN pg_type t ON t.oid = u.o), ''), \
             p.proname::text, true, p.pronamespace::regnamespace::text FROM pg_proc p WHERE p.proname = ANY({})",
            name_array(&scope.routines)
        ));
    }
    if !scope.triggers.is_empty() {
        parts.push(format!(
            "SELECT 'trigger', g.tgrelid::text, g.tgname::text, true, '' FROM pg_trigger g \
             WHERE g.tgname = ANY({}) AND NOT g.tgisinternal",
            name_array(&scope.triggers)
        ));
    }
    if !scope.policies.is_empty() {
        parts.push(format!(
            "SELECT 'policy', y.polrelid::text, y.polname::text, true, '' FROM pg_policy y WHERE y.polname = ANY({})",
            name_array(&scope.policies)
        ));
    }
    if !scope.extensions.is_empty() {
        parts.push(format!(
            "SELECT 'extension', e.extname::text, '', true, '' FROM pg_extension e WHERE e.extname = ANY({})",
            name_array(&scope.extensions)
        ));
    }
    if scope.after_apply && !scope.tables.is_empty() {
        // The tables were just created, and the DDL that created them has loaded the
        // catalogs' metadata on this connection: the details in the same query save the
        // second round trip. Only those a guard asks about: the first planning of a
        // query on `pg_attribute` or `pg_constraint` costs a connection about half a
        // millisecond each. The tables' oids as an array built by a subquery of its own
        // (an init plan), not a semi-join, whose estimate costs as much again.
        let tables = format!(
            "ARRAY(SELECT c.oid FROM pg_class c WHERE c.relname = ANY({}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))",
            name_array(&scope.tables)
        );
        parts.extend(relation_details_sql(&tables, ", true, ''", scope.columns, scope.constraints));
    }
    parts.join("\nUNION ALL\n")
}

/// The columns and constraints of the relations `oids` (an oid array: a literal, or
/// `ARRAY(subquery)`), with `extra` columns appended to fit the query they are part of:
/// each when asked for, `None` when neither is.
fn relation_details_sql(oids: &str, extra: &str, columns: bool, constraints: bool) -> Option<String> {
    let mut parts = Vec::with_capacity(2);
    if columns {
        parts.push(format!(
            "SELECT 'column', a.attrelid::text, a.attname::text{extra} FROM pg_attribute a \
             WHERE a.attrelid = ANY({oids}) AND a.attnum > 0 AND NOT a.attisdropped"
        ));
    }
    if constraints {
        parts.push(format!(
            "SELECT 'constraint', k.conrelid::text, k.conname::text{extra} FROM pg_constraint k \
             WHERE k.conrelid = ANY({oids})"
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
}

/// A schema name as `regnamespace` prints it (`quote_ident`: in double quotes, with
/// inner quotes doubled, where the bare name would not read back as itself), bare.
fn unquote_ident(printed: &str) -> String {
    match printed.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => printed.to_string(),
    }
}

/// The search path read as `array_to_json(…)::text`: a JSON array of names.
fn path_from_json(json: &str) -> Result<Vec<String>, serde_json::Error> {
    serde_json::from_str(json)
}

/// A `timestamptz` as PostgreSQL prints it with DateStyle ISO
/// (`2026-12-07 15:30:31.876543+00`, the offset `±HH`, `±HH:MM` or `±HH:MM:SS`), in
/// microseconds since 1970-01-01 UTC; `None` for anything else.
fn timestamptz_micros(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once(' ')?;
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let sign_at = rest.find(['+', '-'])?;
    let (time, offset) = rest.split_at(sign_at);
    let mut hms = time.splitn(3, ':');
    let (hour, minute) = (hms.next()?.parse::<i64>().ok()?, hms.next()?.parse::<i64>().ok()?);
    let seconds_text = hms.next()?;
    let (whole, fraction) = seconds_text.split_once('.').unwrap_or((seconds_text, ""));
    let second = whole.parse::<i64>().ok()?;
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) || !(1..=12).contains(&month) {
        return None;
    }
    let micros = format!("{fraction:0<6}").parse::<i64>().ok()?;
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let mut offset_seconds = 0;
    for (k, part) in offset[1..].split(':').enumerate() {
        offset_seconds += part.parse::<i64>().ok()? * [3600, 60, 1].get(k)?;
    }
    // Days from the civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - sign * offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// An oid array literal of the relations found.
fn oid_array<'a>(oids: impl Iterator<Item = &'a String>) -> String {
    let oids: Vec<&str> = oids.map(String::as_str).filter(|o| o.bytes().all(|b| b.is_ascii_digit())).collect();
    format!("'{{{}}}'::oid[]", oids.join(","))
}

/// `"app", "public"`: schema names quoted for `SET search_path`.
fn search_path_list(schemas: &[String]) -> String {
    schemas.iter().map(|s| quote_with(s, '"')).collect::<Vec<_>>().join(", ")
}

/// `ARRAY[E'…', …]::<element>[]`.
fn array_literal<'a>(names: impl IntoIterator<Item = &'a String>, element: &str) -> String {
    let items: Vec<String> = names.into_iter().map(|n| text_literal(DialectKind::Postgres, n)).collect();
    format!("ARRAY[{}]::{element}[]", items.join(", "))
}

/// `ARRAY[E'…', …]::name[]`: compared with a catalog's `name` column, the catalog's
/// index on it serves (against `text[]` the column is cast, and every row is read).
fn name_array<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    array_literal(names, "name")
}

impl PgSession {
    /// Runs `parts` in order in one round trip (the simple query protocol takes several
    /// statements at once); on failure, the index of the failing part.
    pub(crate) async fn pipeline(&mut self, parts: &[&str]) -> Result<(), (usize, sqlx::Error)> {
        super::sql::pipeline_in_one_round_trip!(&mut self.conn, parts)
    }

    /// A query that reads the server's clock: after each snippet of a batch
    /// ([`PgSession::pipeline_clocked`]), it times that snippet. `clock_timestamp()`
    /// moves on within a message, and its text (DateStyle ISO, which sqlx sets when it
    /// connects) is read here. Every expression around it costs: ten readings of
    /// `date_part('epoch', clock_timestamp() - statement_timestamp())` cost a ten-snippet
    /// batch 0.7 ms on a new connection, ten of this one 0.3 ms, ten `SELECT 1` 0.15 ms
    /// (200 fresh connections each, the variants interleaved).
    pub(crate) const CLOCK: &'static str = "SELECT clock_timestamp()";

    /// [`PgSession::CLOCK`] for the first snippet of a message, with the arrival of the
    /// message (`statement_timestamp()`, the same for every statement in it) that the
    /// first snippet is timed from.
    pub(crate) const CLOCK_FIRST: &'static str = "SELECT clock_timestamp(), statement_timestamp()";

    /// Runs `parts` like [`PgSession::pipeline`] and returns, with the outcome, the
    /// readings of the parts marked in `clock` that ran (the first a
    /// [`PgSession::CLOCK_FIRST`], the others [`PgSession::CLOCK`]), in order, as
    /// microseconds since the message arrived, also when a later part failed. A reading
    /// that does not parse (a snippet changed `DateStyle`) reads as the one before it,
    /// and the snippet it times as taking no time.
    pub(crate) async fn pipeline_clocked(
        &mut self,
        parts: &[&str],
        clock: &[bool],
    ) -> (Vec<i64>, Result<(), (usize, sqlx::Error)>) {
        let mut readings = Vec::new();
        let mut arrival = None;
        let outcome = super::sql::pipeline_in_one_round_trip!(&mut self.conn, parts, |part, row| {
            if clock.get(part).copied().unwrap_or(false) {
                let read = |column: usize| row.try_get_unchecked::<&str, _>(column).ok().and_then(timestamptz_micros);
                if row.len() > 1 {
                    arrival = read(1);
                }
                let last = readings.last().copied().unwrap_or(0);
                let reading = read(0).zip(arrival).map_or(last, |(now, arrival)| (now - arrival).max(last));
                readings.push(reading);
            }
        });
        (readings, outcome)
    }

    /// Records a snippet that ran inside the lock's transaction: its row waits for one
    /// statement that writes all the rows of the transaction, before the commit (so that
    /// they still commit together with their snippets) and before any read of the ledger.
    pub(crate) fn record_applied(&mut self, table: &LedgerTable, row: &LedgerRow) {
        let values =
            format!("({}, {}, now())", super::sql::ledger_values_literal(DialectKind::Postgres, row), row.duration_ms);
        self.deferred_table = Self::ledger_name(table);
        self.deferred.push((row.version as i64, values));
    }
}

impl Session for PgSession {
    type Db = Postgres;

    fn conn(&mut self) -> &mut Conn<Postgres> {
        &mut self.conn
    }

    const KIND: DialectKind = DialectKind::Postgres;
    const UNIT_BEGIN: &'static str = "SAVEPOINT bootschema_snippet";
    const UNIT_COMMIT: &'static str = "RELEASE SAVEPOINT bootschema_snippet";
    const UNIT_ROLLBACK: &'static str =
        "ROLLBACK TO SAVEPOINT bootschema_snippet; RELEASE SAVEPOINT bootschema_snippet";

    fn quote(ident: &str) -> String {
        quote_with(ident, '"')
    }

    async fn begin_look(&mut self) -> Result<(), Error> {
        if !self.held {
            let sql = self.look_sql();
            self.execute(&sql).await.map_err(Error::db("starting a read-only transaction"))?;
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
        if self.held && self.ledger_missing {
            return Ok(Ledger::default());
        }
        // Under the lock, the read's savepoint travels with it: one round trip.
        let select = ledger_select(&Self::ledger_name(table));
        let sql = if self.held {
            format!("SAVEPOINT bootschema_read; {select}; RELEASE SAVEPOINT bootschema_read")
        } else {
            select
        };
        let rows = match sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await {
            Ok(rows) => rows.iter().map(FromRow::from_row).collect::<Result<Vec<LedgerColumns>, sqlx::Error>>(),
            Err(e) => {
                self.close_read(false).await?;
                Err(e)
            }
        };
        ledger_from(table, rows, ledger_missing)
    }

    async fn read_foreign(&mut self, wanted: &[(Tool, LedgerTable)]) -> Result<Vec<ForeignRow>, Error> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // One query: which of the tables exist (`to_regclass` follows the search path
        // for an unqualified name, as the tools' own queries do).
        let exists: Vec<String> = wanted
            .iter()
            .map(|(_, t)| {
                format!("to_regclass({}) IS NOT NULL", text_literal(DialectKind::Postgres, &Self::ledger_name(t)))
            })
            .collect();
        self.open_read().await?;
        let found = sqlx::query(AssertSqlSafe(format!("SELECT {}", exists.join(", "))))
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await;
        self.close_read(found.is_ok()).await?;
        let found = found.map_err(Error::db("looking for the ledgers of sqlx, diesel, refinery and Flyway"))?;
        let mut rows = Vec::new();
        for (i, (tool, table)) in wanted.iter().enumerate() {
            if !found.try_get::<bool, _>(i).unwrap_or(false) {
                continue;
            }
            let sql = crate::foreign::select(
                *tool,
                &Self::ledger_name(table),
                |e| format!("CAST({e} AS TEXT)"),
                |e| format!("encode({e}, 'hex')"),
            );
            self.open_read().await?;
            let read = super::sql::text_rows::<Postgres>(&mut self.conn, sql).await;
            self.close_read(read.is_ok()).await?;
            let read = read.map_err(super::sql::foreign_read_failed(*tool, table))?;
            rows.extend(read.into_iter().filter_map(crate::foreign::row));
        }
        Ok(rows)
    }

    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error> {
        let failed = |e: sqlx::Error| Error::db("reading the PostgreSQL catalog")(e);
        let rows = sqlx::raw_sql(AssertSqlSafe(snapshot_sql(scope, &self.schemas)))
            .fetch_all(&mut self.conn)
            .await
            .map_err(&failed)?;
        let rows = rows
            .iter()
            .map(FromRow::from_row)
            .collect::<Result<Vec<(String, String, String, bool, String)>, sqlx::Error>>()
            .map_err(&failed)?;
        let mut snapshot = CatalogSnapshot::default();
        // Only objects in the schemas of the scope (the search path and the explicitly
        // named ones) are kept. UNION ALL promises no order: the path first.
        for (_, a, b, _, database) in rows.iter().filter(|r| r.0 == "path") {
            snapshot.search_path = path_from_json(a).map_err(|e| {
                failed(sqlx::Error::Protocol(format!("the search path `{a}` did not read as a JSON array: {e}")))
            })?;
            snapshot.server_version = b.clone();
            snapshot.database = database.clone();
        }
        let explicit: HashSet<&str> = scope.schemas.union(&scope.namespaces).map(String::as_str).collect();
        let path = snapshot.search_path.clone();
        let in_scope = |schema: &str| explicit.contains(schema) || path.iter().any(|s| s == schema);
        let mut relations: HashMap<String, (String, String)> = HashMap::new();
        // (kind, relation oid, name) of columns and constraints, joined once every
        // relation is known.
        let mut details: Vec<(String, String, String)> = Vec::new();
        for (kind, a, b, valid, namespace) in &rows {
            let schema = unquote_ident(namespace);
            match kind.as_str() {
                "path" => {}
                "ns" => {
                    if explicit.contains(b.as_str()) {
                        snapshot.schemas.insert(b.clone());
                    }
                }
                "column" | "constraint" | "trigger" | "policy" => details.push((kind.clone(), a.clone(), b.clone())),
                "extension" => {
                    snapshot.extensions.insert(a.clone());
                }
                _ if !in_scope(&schema) => {}
                "type" => {
                    snapshot.types.insert((schema, b.clone()));
                }
                "routine" => {
                    let Some((procedure, args)) = a.split_once(' ') else { continue };
                    let routine = Routine { procedure: procedure == "true", args: args.to_owned() };
                    snapshot.routines.entry((schema, b.clone())).or_default().push(routine);
                }
                relation => match relation.strip_prefix("rel ") {
                    Some("r" | "p" | "v" | "m" | "f") if scope.tables.contains(b) => {
                        relations.insert(a.clone(), (schema.clone(), b.clone()));
                        snapshot.tables.insert((schema, b.clone()));
                    }
                    Some("i" | "I") if scope.indexes.contains(b) => {
                        snapshot.indexes.insert((schema, b.clone()), *valid);
                    }
                    Some("S") if scope.sequences.contains(b) => {
                        snapshot.sequences.insert((schema, b.clone()));
                    }
                    _ => {}
                },
            }
        }
        // Before an apply, the details of the relations found, by oid, in a second query
        // (built only when it is sent).
        let details_sql = match !scope.after_apply && !relations.is_empty() {
            true => relation_details_sql(&oid_array(relations.keys()), ", true, ''", true, true),
            false => None,
        };
        if let Some(sql) = details_sql {
            let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut self.conn).await.map_err(&failed)?;
            for row in &rows {
                let (kind, oid, name, _, _): (String, String, String, bool, String) =
                    FromRow::from_row(row).map_err(&failed)?;
                details.push((kind, oid, name));
            }
        }
        for (kind, oid, name) in details {
            let Some((schema, table)) = relations.get(&oid) else { continue };
            let key = (schema.clone(), table.clone(), name);
            match kind.as_str() {
                "column" => snapshot.columns.insert(key),
                "trigger" => snapshot.triggers.insert(key),
                "policy" => snapshot.policies.insert(key),
                _ => snapshot.constraints.insert(key),
            };
        }
        if !self.exclude.is_empty() {
            // Unqualified names are created in the first schema of the path: a scope
            // without it would never see what the snippets create.
            if let Some(home) = snapshot.search_path.first().filter(|s| self.exclude.contains(s)) {
                return Err(ErrorKind::Config {
                    variable: self.exclude_variable.clone(),
                    value: home.clone(),
                    expected: "schemas other than the first of the search path, where the snippets' unqualified \
                               names are created: leave it in the scope, or name the schemas to work in \
                               (`<PREFIX>_SCHEMA_SCHEMAS`, `Syncer::schemas`) with another one first",
                }
                .into());
            }
            snapshot.search_path.retain(|s| !self.exclude.contains(s));
        }
        Ok(snapshot)
    }

    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        self.open_read().await?;
        let batch =
            sqlx::query(AssertSqlSafe(batch_probe_sql(queries))).persistent(false).fetch_one(&mut self.conn).await;
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
                .fetch_one(&mut self.conn)
                .await;
            self.close_read(one.is_ok()).await?;
            out.push(one.map_err(|e| crate::error::db_message(&e)));
        }
        Ok(out)
    }

    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error> {
        let key = lock_key(table);
        let ms = |d: std::time::Duration| d.as_millis().max(1);
        // One round trip, which also tells whether the ledger exists yet; `SET LOCAL`
        // ends with the transaction, so nothing needs restoring on the app's connection.
        // On a first sync it also creates the ledger (a no-op where another instance
        // created it meanwhile) and opens the savepoint of the first batch of snippets;
        // the message's time, logged and reported as the wait for the lock, then holds
        // the ledger's creation too (a few milliseconds, once).
        let lock_wait = format!("SET LOCAL lock_timeout = '{}ms'", ms(settings.lock_wait));
        let lock = format!("SELECT pg_advisory_xact_lock({key})");
        let ddl_wait = format!("SET LOCAL lock_timeout = '{}ms'", ms(settings.ddl_lock_timeout));
        let scope = self.scope_path();
        let exists =
            format!("SELECT to_regclass({})::text", text_literal(DialectKind::Postgres, &Self::ledger_name(table)));
        let mut parts: Vec<&str> = vec!["BEGIN", &lock_wait, &lock, &ddl_wait];
        if let Some(path) = scope.strip_prefix("; ") {
            parts.push(path);
        }
        parts.push(&exists);
        let asked = parts.len() - 1;
        let create = std::mem::take(&mut self.create_with_lock)
            .then(|| super::sql::ledger_create_sql::<Self>(table, &LEDGER_DDL));
        let creating = parts.len();
        if let Some(statements) = &create {
            parts.extend(statements.iter().map(String::as_str));
            parts.push(crate::apply::batch::BATCH_BEGIN);
        }
        self.held = true;
        self.conn.locking = true;
        let mut ledger: Option<String> = None;
        let locked = super::sql::pipeline_in_one_round_trip!(&mut self.conn, &parts, |part, row| {
            if part == asked {
                ledger = row.try_get(0).ok().flatten();
            }
        });
        self.conn.locking = false;
        let locked = match locked {
            Err((failed, e)) if failed >= creating => {
                let _ = self.execute("ROLLBACK").await;
                self.held = false;
                return Err(Error::db("creating the ledger table")(e));
            }
            other => other.map_err(|(_, e)| e),
        };
        match locked {
            Ok(()) => {
                self.ledger_missing = ledger.is_none();
                self.ledger_created = create.is_some();
                if create.is_some() {
                    self.conn.savepoint_ahead();
                }
                Ok(())
            }
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
                .fetch_all(&mut self.conn)
                .await
                .unwrap_or_default();
                Err(ErrorKind::LockTimeout {
                    waited: settings.lock_wait,
                    holder: format!("advisory lock {key}, held by backend pid {holders:?}"),
                    variable: settings.var("LOCK_TIMEOUT"),
                }
                .into())
            }
        }
    }

    async fn unlock(&mut self) -> Result<(), Error> {
        if !self.held {
            return Ok(());
        }
        // The deferred ledger rows, the mark and the commit: one round trip.
        let rows = self.take_deferred();
        let mut parts: Vec<&str> = rows.iter().map(String::as_str).collect();
        parts.push("COMMIT");
        if let Err((failed, e)) = self.pipeline(&parts).await {
            let what = if failed + 1 < parts.len() {
                "recording the applied snippets in the ledger"
            } else {
                "committing the sync"
            };
            return Err(Error::db(what)(e));
        }
        self.held = false;
        Ok(())
    }

    async fn enter_unwrapped(&mut self) -> Result<(), Error> {
        if self.schemas.is_empty() {
            return Ok(());
        }
        // Outside a transaction `SET LOCAL` would not last: the session's search path is
        // set, and put back as it was once the snippet's statements are done.
        let sql = format!(
            "SELECT current_setting('search_path'), set_config('search_path', {}, false)",
            text_literal(DialectKind::Postgres, &search_path_list(&self.schemas))
        );
        let (previous, _): (String, String) = sqlx::query_as(AssertSqlSafe(sql))
            .persistent(false)
            .fetch_one(&mut self.conn)
            .await
            .map_err(Error::db("setting the search path of the scope"))?;
        self.unwrapped_path = Some(previous);
        Ok(())
    }

    async fn leave_unwrapped(&mut self) -> Result<(), Error> {
        let Some(previous) = self.unwrapped_path.take() else { return Ok(()) };
        sqlx::query("SELECT set_config('search_path', $1, false)")
            .bind(previous)
            .persistent(false)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
            .map_err(Error::db("restoring the search path"))
    }

    async fn describe_lock_wait(&mut self, table: &ObjectName) -> String {
        let name = DialectKind::Postgres.fold(&table.name.value, table.name.quoted);
        let holders: Vec<(i32, String, Option<String>)> = sqlx::query_as(
            "SELECT l.pid, l.mode, a.state FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE c.relname = $1 AND l.granted AND l.pid <> pg_backend_pid() ORDER BY l.pid",
        )
        .bind(&name)
        .persistent(false)
        .fetch_all(&mut self.conn)
        .await
        .unwrap_or_default();
        let holders: Vec<String> = holders
            .iter()
            .map(|(pid, mode, state)| format!("pid {pid} ({mode}, {})", state.as_deref().unwrap_or("?")))
            .collect();
        if holders.is_empty() {
            format!("; table {table} was locked by another session")
        } else {
            format!("; table {table} is locked by {}", holders.join(", "))
        }
    }

    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error> {
        if !std::mem::take(&mut self.ledger_created) {
            create_ledger(self, table, &LEDGER_DDL).await?;
        }
        self.ledger_missing = false;
        Ok(())
    }

    fn create_ledger_with_lock(&mut self) {
        self.create_with_lock = true;
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut self.conn).await.map(|_| ())
    }

    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error> {
        let sql = format!(
            "INSERT INTO {} ({LEDGER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) {LEDGER_ON_CONFLICT}",
            Self::ledger_name(table)
        );
        bind_ledger_row(sqlx::query(AssertSqlSafe(sql)), row)
            .persistent(false)
            .execute(&mut self.conn)
            .await
            .map(|_| ())
    }

    async fn read_mark(&mut self, table: &LedgerTable) -> Result<MarkRead, Error> {
        // Simple protocol: one round trip, nothing prepared (PgBouncer-safe).
        let row =
            sqlx::raw_sql(AssertSqlSafe(mark_select(&Self::ledger_name(table)))).fetch_optional(&mut self.conn).await;
        mark_from(table, row, ledger_missing)
    }

    async fn write_mark(&mut self, table: &LedgerTable, mark: &str, earlier: &[String]) -> Result<(), sqlx::Error> {
        let Some(values) = mark_values(mark, earlier) else { return Ok(()) };
        let sql = format!(
            "INSERT INTO {} (version, description, path, checksum, state, progress, duration_ms) VALUES ({values}) \
             ON CONFLICT (version) DO UPDATE SET checksum = EXCLUDED.checksum, progress = EXCLUDED.progress, \
             applied_at = now()",
            Self::ledger_name(table)
        );
        if !self.held {
            return self.execute(&sql).await;
        }
        // Under the lock, the mark goes with the deferred rows and the commit: it commits
        // with them or not at all, one round trip fewer.
        self.deferred_table = Self::ledger_name(table);
        self.deferred_mark = Some(format!("({values}, now())"));
        Ok(())
    }

    async fn identity(&mut self) -> Result<Identity, Error> {
        // `pg_control_system()` tells one cluster from another (its system identifier
        // survives restarts and upgrades, and differs between clusters, where database
        // oids repeat: the first database of every cluster is 16384 or so). A role that
        // may not run it (some managed services revoke it) gets the rest, and the
        // connection's host, port and name are compared too.
        let (readable, oid, name): (bool, String, String) = sqlx::query_as(
            "SELECT COALESCE(has_function_privilege(to_regprocedure('pg_catalog.pg_control_system()'), 'EXECUTE'), \
             false), d.oid::text, d.datname::text FROM pg_database d WHERE d.datname = current_database()",
        )
        .persistent(false)
        .fetch_one(&mut self.conn)
        .await
        .map_err(Error::db("reading the database's identity"))?;
        let system: Option<String> = if readable {
            sqlx::query_scalar("SELECT system_identifier::text FROM pg_control_system()")
                .persistent(false)
                .fetch_one(&mut self.conn)
                .await
                .map_err(Error::db("reading the server's system identifier"))?
        } else {
            None
        };
        let mut facts = std::collections::BTreeMap::new();
        facts.insert("database".to_string(), name);
        facts.insert("database_oid".to_string(), oid);
        let note = match &system {
            Some(id) => {
                facts.insert("system_identifier".to_string(), id.clone());
                None
            }
            None => Some(
                "pg_control_system() is not readable by this role, so the server's system identifier is unknown: \
                 the connection's host, port and database name must match as well (GRANT EXECUTE ON FUNCTION \
                 pg_control_system() TO the role to compare the server itself)"
                    .to_string(),
            ),
        };
        Ok(Identity { unique: system.is_some(), facts, note })
    }

    fn is_lock_timeout(error: &sqlx::Error) -> bool {
        is_code(error, "55P03")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(tables: &[&str]) -> Scope {
        Scope { tables: tables.iter().map(|t| t.to_string()).collect(), ..Scope::default() }
    }

    #[test]
    fn a_set_without_routines_triggers_sequences_extensions_or_policies_reads_none() {
        let sql = snapshot_sql(&scope(&["users"]), &[]);
        for catalog in ["pg_proc", "pg_trigger", "pg_policy", "pg_extension", "'S'", "pg_namespace", "pg_attribute"] {
            assert!(!sql.contains(catalog), "{catalog} is read only where a guard names one: {sql}");
        }
        assert_eq!(sql.matches("UNION ALL").count(), 1, "the path, the relations: {sql}");
        assert!(sql.contains("ARRAY[E'users']::name[]") || sql.contains("ARRAY['users']::name[]"), "{sql}");
    }

    #[test]
    fn each_kind_of_object_is_one_more_part_of_the_same_query() {
        let mut scope = scope(&["docs"]);
        scope.routines.insert("add".into());
        scope.triggers.insert("docs_touch".into());
        scope.policies.insert("own".into());
        scope.sequences.insert("docs_no".into());
        scope.extensions.insert("pgcrypto".into());
        scope.namespaces.insert("app".into());
        let sql = snapshot_sql(&scope, &[]);
        for catalog in ["pg_proc", "pg_trigger", "pg_policy", "pg_extension", "'S'", "pg_namespace"] {
            assert_eq!(sql.matches(catalog).count(), 1, "{catalog}: {sql}");
        }
        // Tables and sequences are one part: both are relations.
        assert_eq!(sql.matches("FROM pg_class c WHERE").count(), 1, "{sql}");
        assert_eq!(sql.matches("UNION ALL").count(), 6, "{sql}");
        assert!(sql.contains("ARRAY[E'add']") || sql.contains("ARRAY['add']"), "{sql}");
    }

    #[test]
    fn after_an_apply_only_the_details_a_guard_asks_about_are_read() {
        let mut scope = Scope { after_apply: true, ..scope(&["docs"]) };
        assert!(!snapshot_sql(&scope, &[]).contains("pg_attribute"));
        scope.columns = true;
        let sql = snapshot_sql(&scope, &[]);
        assert!(sql.contains("pg_attribute") && !sql.contains("pg_constraint"), "{sql}");
        scope.constraints = true;
        assert!(snapshot_sql(&scope, &[]).contains("pg_constraint"));
    }

    #[test]
    fn the_catalog_query_joins_nothing_where_a_guard_names_only_relations() {
        // Joins cost a new connection's planner statistics lookups; an index's validity
        // is a subquery per index, and only where a guard names an index.
        let mut scope = Scope { after_apply: true, columns: true, constraints: true, ..scope(&["docs"]) };
        let sql = snapshot_sql(&scope, &[]);
        assert!(!sql.contains(" JOIN ") && !sql.contains("pg_index"), "{sql}");
        assert!(sql.contains("ANY(ARRAY(SELECT c.oid FROM pg_class c"), "the tables' oids as an init plan: {sql}");
        scope.indexes.insert("docs_idx".into());
        let sql = snapshot_sql(&scope, &[]);
        assert!(
            !sql.contains(" JOIN ") && sql.matches("FROM pg_index x WHERE x.indexrelid = c.oid").count() == 1,
            "{sql}"
        );
    }

    #[test]
    fn the_clock_reads_as_postgresql_prints_a_timestamptz() {
        assert_eq!(timestamptz_micros("1970-01-01 00:00:00+00"), Some(0));
        assert_eq!(timestamptz_micros("1970-01-01 00:00:01.5+00"), Some(1_500_000));
        assert_eq!(timestamptz_micros("2026-12-07 15:30:31.876543+00"), Some(1_796_657_431_876_543));
        // The same instant in other zones.
        assert_eq!(timestamptz_micros("2026-12-07 21:00:31.876543+05:30"), Some(1_796_657_431_876_543));
        assert_eq!(timestamptz_micros("2026-12-07 12:30:31.876543-03"), Some(1_796_657_431_876_543));
        assert_eq!(timestamptz_micros("2026-12-07 15:30:41.876543+00:00:10"), Some(1_796_657_431_876_543));
        // Leap day and year ends.
        assert_eq!(
            timestamptz_micros("2024-03-01 00:00:00+00").unwrap()
                - timestamptz_micros("2024-02-28 00:00:00+00").unwrap(),
            2 * 86_400_000_000
        );
        assert_eq!(
            timestamptz_micros("2027-01-01 00:00:00.000001+00").unwrap()
                - timestamptz_micros("2026-12-31 23:59:59.999999+00").unwrap(),
            2
        );
        // Other DateStyles, and garbage, read as nothing.
        for other in [
            "Mon Dec 07 15:30:31.876543 2026 UTC",
            "07.12.2026 15:30:31.876543 UTC",
            "12/07/2026 15:30:31.876543 UTC",
            "",
            "x",
        ] {
            assert_eq!(timestamptz_micros(other), None, "{other}");
        }
    }

    #[test]
    fn schema_names_read_back_as_regnamespace_prints_them() {
        assert_eq!(unquote_ident("public"), "public");
        assert_eq!(unquote_ident("\"My Schema\""), "My Schema");
        assert_eq!(unquote_ident("\"a\"\"b\""), "a\"b");
        assert_eq!(path_from_json(r#"["app","My \"x\" schema","p\u00e9"]"#).unwrap(), ["app", "My \"x\" schema", "pé"]);
    }
}
