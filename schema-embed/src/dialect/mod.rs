//! Everything that differs between databases, behind one trait: catalog queries, the
//! lock, quoting, transactions and the ledger's SQL. One file per database.

mod conn;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "mysql")]
pub(crate) use mysql::MySqlSession;
#[cfg(feature = "postgres")]
pub(crate) use postgres::PgSession;
#[cfg(feature = "sqlite")]
pub(crate) use sqlite::SqliteSession;

use crate::catalog::{CatalogSnapshot, Scope};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::{DialectKind, ObjectName};

/// The database a sync runs against: the app's own pool, whose connect options
/// bootschema opens its own connection with (see [`crate::Syncer::pool_connection`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Target {
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// A MySQL / MariaDB pool.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// A SQLite pool.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

impl Target {
    /// The database kind.
    pub fn dialect(&self) -> DialectKind {
        match self {
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => DialectKind::Postgres,
            #[cfg(feature = "mysql")]
            Target::MySql(_) => DialectKind::MySql,
            #[cfg(feature = "sqlite")]
            Target::Sqlite(_) => DialectKind::Sqlite,
        }
    }
}

macro_rules! target_from {
    ($feature:literal, $pool:ty, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl From<$pool> for Target {
            fn from(pool: $pool) -> Target {
                Target::$variant(pool)
            }
        }
        #[cfg(feature = $feature)]
        impl From<&$pool> for Target {
            fn from(pool: &$pool) -> Target {
                Target::$variant(pool.clone())
            }
        }
    };
}
target_from!("postgres", sqlx::PgPool, Postgres);
target_from!("mysql", sqlx::MySqlPool, MySql);
target_from!("sqlite", sqlx::SqlitePool, Sqlite);

/// The sync's connection ([`conn::Conn`]: borrowed from the app's pool for the fast
/// path, then its own), and what the sync asks of its database.
///
/// A session that is dropped while it holds the lock (an error path that forgot to
/// unlock, a cancelled future) closes its connection instead of returning it to the
/// pool, so that a lock or an open transaction can never outlive the sync.
pub(crate) trait Session: Send {
    /// Which database this is.
    const KIND: DialectKind;

    /// Quotes an identifier for this database.
    fn quote(ident: &str) -> String;

    /// `"schema"."table"` of the ledger, quoted.
    fn ledger_name(table: &LedgerTable) -> String {
        match &table.schema {
            Some(schema) => format!("{}.{}", Self::quote(schema), Self::quote(&table.table)),
            None => Self::quote(&table.table),
        }
    }

    /// Starts a look (ledger, snapshot, probes) outside the lock, so that all of it
    /// reads one consistent state of the database.
    async fn begin_look(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Ends the look started by [`Session::begin_look`].
    async fn end_look(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Reads the ledger; a missing table reads as an empty ledger that does not exist.
    async fn read_ledger(&mut self, table: &LedgerTable) -> Result<Ledger, Error>;

    /// Reads the catalog objects of `scope` in one query.
    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error>;

    /// Runs `unless` queries: whether each returns a row, or its error.
    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error>;

    /// Takes the schema lock, waiting at most `settings.lock_wait`, and bounds DDL lock
    /// waits by `settings.ddl_lock_timeout` until [`Session::unlock`].
    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error>;

    /// Releases the lock and restores the connection's settings.
    async fn unlock(&mut self) -> Result<(), Error>;

    /// Creates the ledger table if it does not exist (called under the lock).
    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error>;

    /// The statement that opens the unit holding one snippet and its ledger row.
    const UNIT_BEGIN: &'static str;
    /// The statement that commits it.
    const UNIT_COMMIT: &'static str;
    /// The statement(s) that roll it back.
    const UNIT_ROLLBACK: &'static str;

    /// Opens the unit that holds one snippet and its ledger row.
    async fn begin(&mut self) -> Result<(), sqlx::Error> {
        self.execute(Self::UNIT_BEGIN).await
    }
    /// Commits it.
    async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.execute(Self::UNIT_COMMIT).await
    }
    /// Rolls it back.
    async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.execute(Self::UNIT_ROLLBACK).await
    }

    /// Runs one statement of a snippet, as written (simple/text protocol).
    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error>;

    /// Inserts or replaces a ledger row.
    async fn write_ledger(&mut self, table: &LedgerTable, row: &LedgerRow) -> Result<(), sqlx::Error>;

    /// Reads the ledger's mark, never inside a transaction, in one round trip.
    async fn read_mark(&mut self, table: &LedgerTable) -> Result<MarkRead, Error>;

    /// Writes the ledger's mark (under the lock; within the lock's transaction where the
    /// lock is one).
    /// `earlier` are the marks the row holds now (see [`mark_values`]).
    async fn write_mark(&mut self, table: &LedgerTable, mark: &str, earlier: &[String]) -> Result<(), sqlx::Error>;

    /// Removes the ledger's mark, so that the next boot looks at everything again: a
    /// full look found drift, an edited snippet, or a ledger that no longer matches.
    async fn clear_mark(&mut self, table: &LedgerTable) -> Result<(), Error> {
        let sql = format!("DELETE FROM {} WHERE version = {}", Self::ledger_name(table), crate::ledger::MARK_VERSION);
        self.execute(&sql).await.map_err(Error::db("removing the ledger's mark"))
    }

    /// Goes on with a connection of the sync's own, opened with the pool's connect
    /// options and sqlx's statement logging off (see [`conn`]); nothing must be open on
    /// the borrowed one.
    async fn own_connection(&mut self) -> Result<(), Error>;

    /// Names where the statements sent next come from (`sql/0003_seed.sql:1`), for
    /// bootschema's statement log; `None` for bootschema's own statements.
    fn statements_from(&mut self, source: Option<String>);

    /// Whether an error is a lock timeout worth retrying.
    fn is_lock_timeout(error: &sqlx::Error) -> bool;

    /// Says what is known of who holds the lock on `table` that a statement waited for
    /// (PostgreSQL: the blocking process ids).
    async fn describe_lock_wait(&mut self, _table: &ObjectName) -> String {
        String::new()
    }
}

/// Quotes with `quote`, doubling it inside: `"a""b"`.
pub(crate) fn quote_with(ident: &str, quote: char) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    out.push(quote);
    for c in ident.chars() {
        if c == quote {
            out.push(quote);
        }
        out.push(c);
    }
    out.push(quote);
    out
}

/// `SELECT EXISTS (q0) AS g0, EXISTS (q1) AS g1, …`: every `unless` query in one round trip.
pub(crate) fn batch_probe_sql(queries: &[String]) -> String {
    let parts: Vec<String> = queries.iter().enumerate().map(|(i, q)| format!("EXISTS ({q}) AS g{i}")).collect();
    format!("SELECT {}", parts.join(", "))
}

/// The columns every dialect's ledger upsert writes, in this order.
pub(crate) const LEDGER_COLUMNS: &str =
    "version, description, path, checksum, state, progress, duration_ms, applied_at";

/// The upsert's conflict clause on PostgreSQL and SQLite (same syntax).
pub(crate) const LEDGER_ON_CONFLICT: &str = "ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description, \
     path = EXCLUDED.path, checksum = EXCLUDED.checksum, state = EXCLUDED.state, progress = EXCLUDED.progress, \
     duration_ms = EXCLUDED.duration_ms, applied_at = EXCLUDED.applied_at";

/// `row`'s first six columns (version to progress) as literals ([`text_literal`]), for
/// ledger writes that travel inside a multi-statement message.
pub(crate) fn ledger_values_literal(kind: DialectKind, row: &LedgerRow) -> String {
    let text = |t: &str| text_literal(kind, t);
    format!(
        "{}, {}, {}, {}, {}, {}",
        row.version as i64,
        text(&row.description),
        text(&row.path),
        text(&row.checksum),
        text(row.state.as_str()),
        text(&crate::ledger::encode_progress(&row.progress)),
    )
}

/// A ledger row's columns, shared by every dialect's `read_ledger`.
pub(crate) fn ledger_select(name: &str) -> String {
    format!(
        "SELECT version, description, path, checksum, state, progress, duration_ms FROM {name} \
         WHERE version >= {} ORDER BY version",
        crate::ledger::MARK_VERSION
    )
}

/// The mark row's read: one row by primary key, sent as plain text (one round trip).
pub(crate) fn mark_select(name: &str) -> String {
    format!("SELECT checksum FROM {name} WHERE version = {}", crate::ledger::MARK_VERSION)
}

/// [`Session::pipeline`] for the databases whose text protocol takes several
/// statements in one message: the parts joined by `;` on lines of their own (so that a
/// part ending in a `--` comment cannot swallow the separator), and the index of the
/// failing part counted from the results that came back before the error (each
/// statement returns one). With `|part, row| …`, each row is handed over with the index
/// of the part that returned it (rows come before their statement's result).
/// With `|part| …` after it, that runs as each part's result arrives, with the part's
/// index.
macro_rules! pipeline_in_one_round_trip {
    ($conn:expr, $parts:expr) => {
        super::pipeline_in_one_round_trip!($conn, $parts, |_part, _row| {}, |_done| {})
    };
    ($conn:expr, $parts:expr, |$part:ident, $row:ident| $on_row:expr) => {
        super::pipeline_in_one_round_trip!($conn, $parts, |$part, $row| $on_row, |_done| {})
    };
    ($conn:expr, $parts:expr, |$part:ident, $row:ident| $on_row:expr, |$done:ident| $on_result:expr) => {{
        let parts: &[&str] = $parts;
        let sql = parts.join("\n;\n");
        let mut stream = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).fetch_many($conn);
        let mut done = 0usize;
        loop {
            let next = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await;
            match next {
                None => break Ok(()),
                Some(Ok(sqlx::Either::Left(_))) => {
                    let $done = done;
                    $on_result;
                    done += 1
                }
                Some(Ok(sqlx::Either::Right($row))) => {
                    let $part = done;
                    $on_row
                }
                Some(Err(e)) => break Err((done.min(parts.len().saturating_sub(1)), e)),
            }
        }
    }};
}
pub(crate) use pipeline_in_one_round_trip;

/// [`Session::pipeline_clocked`] on top of [`pipeline_in_one_round_trip`]: the first
/// column of each row returned by a part marked in `clock`, as an `i64`.
macro_rules! pipeline_clocked_in_one_round_trip {
    ($conn:expr, $parts:expr, $clock:expr) => {{
        let clock: &[bool] = $clock;
        let mut readings = Vec::new();
        let outcome = super::pipeline_in_one_round_trip!($conn, $parts, |part, row| {
            if clock.get(part).copied().unwrap_or(false) {
                readings.push(sqlx::Row::try_get::<i64, _>(&row, 0).unwrap_or(0));
            }
        });
        (readings, outcome)
    }};
}
pub(crate) use pipeline_clocked_in_one_round_trip;

/// A string literal that means the same whatever the server's settings: PostgreSQL's
/// escape string (`E'…'`, unaffected by `standard_conforming_strings`), MySQL's
/// hexadecimal literal converted to text (unaffected by `NO_BACKSLASH_ESCAPES`).
pub(crate) fn text_literal(kind: DialectKind, text: &str) -> String {
    match kind {
        DialectKind::MySql => {
            const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
            let mut literal = String::with_capacity(text.len() * 2 + 32);
            literal.push_str("CONVERT(X'");
            for b in text.bytes() {
                literal.push(char::from(DIGITS[usize::from(b >> 4)]));
                literal.push(char::from(DIGITS[usize::from(b & 15)]));
            }
            literal.push_str("' USING utf8mb4)");
            literal
        }
        _ => format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''")),
    }
}

/// What the mark query returned: a row or none.
pub(crate) fn mark_read<R: sqlx::Row>(row: Option<R>) -> MarkRead
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    match row.and_then(|r| r.try_get::<String, _>(0usize).ok()) {
        Some(mark) => MarkRead::Mark(mark),
        None => MarkRead::Unmarked,
    }
}

/// The mark row's values, as literals (the mark is checked to be plain ASCII).
///
/// The row's `progress` keeps the marks written before, oldest first (at most
/// [`crate::ledger::MARKS_KEPT`]): the order in which releases synced, which tells an
/// older binary that a newer one has synced since (see [`crate::plan`]).
pub(crate) fn mark_values(mark: &str, earlier: &[String]) -> Option<String> {
    let literal = crate::ledger::mark_literal(mark)?;
    let mut kept: Vec<&str> =
        earlier.iter().map(String::as_str).filter(|m| *m != mark && crate::ledger::mark_literal(m).is_some()).collect();
    let excess = kept.len().saturating_sub(crate::ledger::MARKS_KEPT);
    kept.drain(..excess);
    Some(format!(
        "{}, '{}', '', '{literal}', 'mark', '{}', 0",
        crate::ledger::MARK_VERSION,
        crate::ledger::MARK_DESCRIPTION.replace('\'', "''"),
        kept.join(" ")
    ))
}

/// The columns of a ledger row as the ledger's query reads them: version,
/// description, path, checksum, state, progress, duration.
pub(crate) type LedgerColumns = (i64, String, String, String, String, String, i64);

/// Adds one row of the ledger's table to `ledger`: a snippet's row, naming the row when
/// its state is unknown, or the mark's, whose checksum and progress give the marks in
/// the order releases synced.
pub(crate) fn add_ledger_row(ledger: &mut Ledger, table: &LedgerTable, columns: LedgerColumns) -> Result<(), Error> {
    let (version, description, path, checksum, state, progress, duration_ms) = columns;
    if version == crate::ledger::MARK_VERSION {
        ledger.marks = progress.split_whitespace().map(str::to_owned).chain(std::iter::once(checksum)).collect();
        return Ok(());
    }
    let state = crate::ledger::LedgerState::parse(&state).ok_or_else(|| ErrorKind::Ledger {
        table: table.display(),
        version,
        problem: format!(
            "state {state:?} is none of applied, adopted, baselined, reapplied or partial (was the ledger edited by hand?)"
        ),
    })?;
    let row = LedgerRow {
        version: version as u64,
        description,
        path,
        checksum,
        state,
        progress: crate::ledger::decode_progress(&progress),
        duration_ms,
    };
    ledger.rows.insert(row.version, row);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::text_literal;
    use crate::snippet::DialectKind;

    #[test]
    fn text_literals_survive_every_server_setting() {
        let text = "a'\\é";
        assert_eq!(text_literal(DialectKind::MySql, text), "CONVERT(X'61275CC3A9' USING utf8mb4)");
        assert_eq!(text_literal(DialectKind::MySql, ""), "CONVERT(X'' USING utf8mb4)");
        assert_eq!(text_literal(DialectKind::Postgres, text), "E'a''\\\\é'");
    }
}
