//! The SQL the dialects share: quoting, literals, the ledger's columns and reads, the
//! mark, `unless` probes, and several statements in one message.

use crate::error::{Error, ErrorKind};
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::DialectKind;

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

/// Runs statements in one message, for the databases whose text protocol takes several
/// statements in one message: the parts joined by `;` on lines of their own (so that a
/// part ending in a `--` comment cannot swallow the separator), and the index of the
/// failing part counted from the results that came back before the error (each
/// statement returns one). With `|part, row| …`, each row is handed over with the index
/// of the part that returned it (rows come before their statement's result).
/// With `|part| …` after it, that runs as each part's result arrives, with the part's
/// index.
macro_rules! pipeline_in_one_round_trip {
    ($conn:expr, $parts:expr) => {
        $crate::dialect::sql::pipeline_in_one_round_trip!($conn, $parts, |_part, _row| {}, |_done| {})
    };
    ($conn:expr, $parts:expr, |$part:ident, $row:ident| $on_row:expr) => {
        $crate::dialect::sql::pipeline_in_one_round_trip!($conn, $parts, |$part, $row| $on_row, |_done| {})
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
    let mut progress = crate::ledger::decode_progress(&progress);
    // A row baselined from another tool's ledger names the tool in its progress.
    let source = match progress.as_slice() {
        [one] if state == crate::ledger::LedgerState::Baselined => {
            one.strip_prefix(crate::ledger::SOURCE_PREFIX).and_then(crate::snippet::Tool::from_name)
        }
        _ => None,
    };
    if source.is_some() {
        progress.clear();
    }
    let row = LedgerRow { version: version as u64, description, path, checksum, state, progress, duration_ms, source };
    ledger.rows.insert(row.version, row);
    Ok(())
}

/// The ledger's table, column by column the same on every database but for the types
/// each spells its own way.
pub(crate) struct LedgerDdl {
    /// The statement that creates the ledger's namespace (`CREATE SCHEMA IF NOT EXISTS`,
    /// MySQL's `CREATE DATABASE IF NOT EXISTS`), where a qualified ledger needs one.
    pub namespace: Option<&'static str>,
    /// `version`'s type.
    pub version: &'static str,
    /// The type of `checksum` and `state` (short texts).
    pub short_text: &'static str,
    /// `progress`'s default, where the database takes one for a text column.
    pub progress_default: &'static str,
    /// `duration_ms`'s type.
    pub integer: &'static str,
    /// `applied_at`'s type and default.
    pub applied_at: &'static str,
    /// After the column list (MySQL's engine and character set).
    pub suffix: &'static str,
}

/// The `CREATE TABLE IF NOT EXISTS` of the ledger named `name` (quoted).
pub(crate) fn ledger_table_sql(name: &str, ddl: &LedgerDdl) -> String {
    let LedgerDdl { version, short_text, progress_default, integer, applied_at, suffix, .. } = ddl;
    format!(
        "CREATE TABLE IF NOT EXISTS {name} (
            version {version} NOT NULL PRIMARY KEY,
            description TEXT NOT NULL,
            path TEXT NOT NULL,
            checksum {short_text} NOT NULL,
            state {short_text} NOT NULL,
            progress TEXT NOT NULL{progress_default},
            duration_ms {integer} NOT NULL DEFAULT 0,
            applied_at {applied_at}
        ){suffix}"
    )
}

/// The statements that create the ledger (and its namespace, for a qualified one) if
/// it is not there.
pub(crate) fn ledger_create_sql<S: super::session::Session>(table: &LedgerTable, ddl: &LedgerDdl) -> Vec<String> {
    let mut statements = Vec::with_capacity(2);
    if let (Some(schema), Some(create)) = (&table.schema, ddl.namespace) {
        statements.push(format!("{create} {}", S::quote(schema)));
    }
    statements.push(ledger_table_sql(&S::ledger_name(table), ddl));
    statements
}

/// Creates the ledger (and its namespace, for a qualified one) if it is not there.
pub(crate) async fn create_ledger<S: super::session::Session>(
    session: &mut S,
    table: &LedgerTable,
    ddl: &LedgerDdl,
) -> Result<(), Error> {
    let statements = ledger_create_sql::<S>(table, ddl);
    let (table_sql, namespace) = statements.split_last().expect("the table's statement");
    for sql in namespace {
        session.execute(sql).await.map_err(Error::db("creating the ledger's schema"))?;
    }
    session.execute(table_sql).await.map_err(Error::db("creating the ledger table"))
}

/// The ledger from the read of its rows; a ledger table that is not there (`missing`
/// says so of the error) reads as a ledger that does not exist: a database that never
/// synced.
pub(crate) fn ledger_from(
    table: &LedgerTable,
    rows: Result<Vec<LedgerColumns>, sqlx::Error>,
    missing: impl Fn(&sqlx::Error) -> bool,
) -> Result<Ledger, Error> {
    match rows {
        Ok(rows) => {
            let mut ledger = Ledger { exists: true, ..Ledger::default() };
            for columns in rows {
                add_ledger_row(&mut ledger, table, columns)?;
            }
            Ok(ledger)
        }
        Err(e) if missing(&e) => Ok(Ledger::default()),
        Err(e) => Err(Error::db(format!("reading the ledger {}", table.display()))(e)),
    }
}

/// The mark from its read ([`mark_select`]), as [`ledger_from`] reads the ledger.
pub(crate) fn mark_from<R: sqlx::Row>(
    table: &LedgerTable,
    row: Result<Option<R>, sqlx::Error>,
    missing: impl Fn(&sqlx::Error) -> bool,
) -> Result<MarkRead, Error>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row {
        Ok(row) => Ok(mark_read(row)),
        Err(e) if missing(&e) => Ok(MarkRead::NoLedger),
        Err(e) => Err(Error::db(format!("reading the mark of the ledger {}", table.display()))(e)),
    }
}

/// Runs the `unless` queries in one statement ([`batch_probe_sql`]), and when that fails
/// (often: one reads a table that does not exist yet), each on its own, so that every
/// guard gets its own answer (MySQL, SQLite; PostgreSQL wraps each read in a
/// transaction of its own).
pub(crate) async fn probe<DB>(
    conn: &mut super::conn::Conn<DB>,
    queries: &[String],
) -> Result<Vec<Result<bool, String>>, Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let batch = sqlx::query(sqlx::AssertSqlSafe(batch_probe_sql(queries))).fetch_one(&mut *conn).await;
    if let Ok(row) = batch {
        return Ok((0..queries.len()).map(|i| Ok(row.get::<i64, _>(i) != 0)).collect());
    }
    let mut out = Vec::with_capacity(queries.len());
    for q in queries {
        let one = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(batch_probe_sql(std::slice::from_ref(q))))
            .fetch_one(&mut *conn)
            .await;
        out.push(one.map(|v| v != 0).map_err(|e| crate::error::db_message(&e)));
    }
    Ok(out)
}

/// Runs `sql` and returns its rows, each of seven text (or NULL) columns: the rows of
/// another tool's ledger ([`crate::foreign::select`]).
pub(crate) async fn text_rows<DB>(
    conn: &mut super::conn::Conn<DB>,
    sql: String,
) -> Result<Vec<[Option<String>; 7]>, sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Option<String>: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            let mut out: [Option<String>; 7] = Default::default();
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = row.try_get::<Option<String>, _>(i)?;
            }
            Ok(out)
        })
        .collect()
}

/// Reads other tools' ledgers where a failed query needs no savepoint (MySQL, SQLite;
/// PostgreSQL reads inside the lock's transaction): one query says which of `wanted`
/// exist (`exists`: a scalar subquery counting one table), then one read of each that
/// does ([`crate::foreign::select`], with the dialect's `text` and `hex` spellings).
pub(crate) async fn read_foreign_ledgers<DB>(
    conn: &mut super::conn::Conn<DB>,
    wanted: &[(crate::snippet::Tool, LedgerTable)],
    exists: impl Fn(&LedgerTable) -> String,
    ledger_name: impl Fn(&LedgerTable) -> String,
    text: impl Fn(&str) -> String + Copy,
    hex: impl Fn(&str) -> String + Copy,
) -> Result<Vec<crate::foreign::ForeignRow>, Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Option<String>: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let counts: Vec<String> = wanted.iter().map(|(_, t)| exists(t)).collect();
    let found = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {}", counts.join(", "))))
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::db("looking for the ledgers of sqlx, diesel, refinery and Flyway"))?;
    let mut rows = Vec::new();
    for (i, (tool, table)) in wanted.iter().enumerate() {
        if found.try_get::<i64, _>(i).unwrap_or(0) == 0 {
            continue;
        }
        let sql = crate::foreign::select(*tool, &ledger_name(table), text, hex);
        let read = text_rows::<DB>(conn, sql).await.map_err(foreign_read_failed(*tool, table))?;
        rows.extend(read.into_iter().filter_map(crate::foreign::row));
    }
    Ok(rows)
}

/// What reading another tool's ledger failed with: the table's name and what
/// bootschema expected of it.
pub(crate) fn foreign_read_failed(
    tool: crate::snippet::Tool,
    table: &LedgerTable,
) -> impl FnOnce(sqlx::Error) -> Error {
    let context = format!(
        "reading {tool}'s ledger {} (is it {tool}'s table? name another with `Syncer::foreign_ledger`, or turn \
         the reading off with `Syncer::foreign_ledgers(false)`)",
        table.display()
    );
    Error::db(context)
}

/// Binds a ledger row's seven values (version to duration) to an upsert whose
/// placeholders take them in [`LEDGER_COLUMNS`] order.
pub(crate) fn bind_ledger_row<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, DB::Arguments>,
    row: &'q LedgerRow,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(row.version as i64)
        .bind(row.description.as_str())
        .bind(row.path.as_str())
        .bind(row.checksum.as_str())
        .bind::<&'q str>(row.state.as_str())
        .bind(crate::ledger::encode_progress(&row.progress))
        .bind(row.duration_ms)
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
