//! The one error type of the runtime.

use std::time::Duration;

use crate::plan::Refusal;

/// Everything that can stop a sync. Each variant names the snippet, file, line or
/// setting it is about and says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable or builder setting has a value bootschema cannot use.
    #[error("{variable}={value:?} is not valid: expected {expected}")]
    Config {
        /// The variable, e.g. `MYAPP_SCHEMA_DRY_RUN`.
        variable: String,
        /// The value found.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },

    /// Another instance held the schema lock for longer than the lock timeout.
    #[error(
        "timed out after {}s waiting for the schema lock ({holder}); another instance is probably \
         syncing: let it finish, or raise {variable}",
        waited.as_secs_f64()
    )]
    LockTimeout {
        /// How long bootschema waited.
        waited: Duration,
        /// What is known of the holder (lock name, process id where the database tells).
        holder: String,
        /// The variable that sets the wait.
        variable: String,
    },

    /// The connection is in one of the server's own databases (PostgreSQL's `postgres`
    /// or a template, MySQL's `mysql`, `sys`, `information_schema`,
    /// `performance_schema`): most likely a URL without the app's database name.
    #[error(
        "refusing to sync the schema into `{database}`, a database of the server itself, not an app's (is the \
         app's database name missing from the URL?); nothing was applied. Point the URL at the app's database, \
         or set {variable}=1 if the schema belongs there"
    )]
    MaintenanceDatabase {
        /// The database the connection is in.
        database: String,
        /// The variable that allows it.
        variable: String,
    },

    /// The plan holds edited or blocked snippets; nothing was applied.
    #[error("{0}")]
    Refused(Box<Refusal>),

    /// A statement of a snippet failed.
    #[error("{path}:{line}: statement failed: {statement}\n  database said: {}\n  {aftermath}", db_message(.source))]
    Statement {
        /// The snippet's file.
        path: String,
        /// The line where the statement starts.
        line: u32,
        /// The statement's beginning, on one line.
        statement: String,
        /// What was kept and what to do next.
        aftermath: String,
        /// The underlying driver error.
        #[source]
        source: sqlx::Error,
    },

    /// A statement kept failing on lock timeouts: something else holds a lock on its table.
    #[error(
        "{path}:{line}: gave up after {attempts} attempts: the statement waited longer than {}s for a \
         lock ({detail}); nothing of this snippet was kept. Find the long transaction holding the lock, \
         or raise {variable}",
        timeout.as_secs_f64()
    )]
    DdlLockTimeout {
        /// The snippet's file.
        path: String,
        /// The line where the statement starts.
        line: u32,
        /// How many times the snippet was tried.
        attempts: u32,
        /// The lock timeout of each attempt.
        timeout: Duration,
        /// The statement and what the database said of the lock.
        detail: String,
        /// The variable that sets the timeout.
        variable: String,
    },

    /// An `unless(…)` guard's query failed.
    #[error("{path}:{line}: the guard query `{query}` failed: {message}; fix the query (it runs as written)")]
    GuardQuery {
        /// The snippet's file.
        path: String,
        /// The line of the guard.
        line: u32,
        /// The query.
        query: String,
        /// The database's message.
        message: String,
    },

    /// A snippet ran, but one of its guards still reports its object missing.
    #[error(
        "{path}: the snippet ran, but its guard `{guard}` still reports missing, so the guard does not \
         describe what the snippet creates; correct the guard (the snippet is recorded and will not run again)"
    )]
    GuardStillMissing {
        /// The snippet's file.
        path: String,
        /// The guard, as written.
        guard: String,
    },

    /// A connection from a URL ([`crate::Syncer::connect`]) could not be established
    /// within the connect timeout.
    #[error("{}", crate::connect::connect_message(.kind, .endpoint, .reason))]
    Connect {
        /// The database kind the URL's scheme names, if it names one.
        kind: Option<crate::snippet::DialectKind>,
        /// Host, port and database of the URL (never its password).
        endpoint: crate::connect::Endpoint,
        /// Why, in words: the server's error, or what answered on the port.
        reason: String,
    },

    /// Any other database failure, with what bootschema was doing.
    #[error("{context}: {}", db_message(.source))]
    Database {
        /// What bootschema was doing.
        context: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let context = context.into();
        move |source| Error::Database { context, source }
    }
}

/// The database's own message for an error, without the driver's prefix, with its
/// code and, on PostgreSQL, its detail and hint; never the server's source location
/// (sqlx's Display of a PostgreSQL error ends with `at line 3655`, a line of the
/// server's C source, which means nothing to a user).
pub(crate) fn db_message(error: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = error else { return error.to_string() };
    let mut text = db.message().to_string();
    if let Some(code) = db.code() {
        text.push_str(&format!(" (code {code})"));
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            text.push_str(&format!("; detail: {detail}"));
        }
        if let Some(hint) = pg.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
    }
    text
}

/// A statement's beginning, on one line, short enough for a log line.
pub(crate) fn excerpt(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
