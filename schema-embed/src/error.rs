//! The one error type of the runtime.

use std::fmt;
use std::time::Duration;

use crate::config::Invalid;
use crate::plan::{Refusal, Step};
use crate::report::SyncReport;
use crate::snippet::{DialectKind, Tool};

/// Why a sync stopped, with what it had done by then: the error ([`Error::kind`]) and,
/// once the sync had a plan, the report of that plan with the steps that completed
/// before the failure ([`Error::report`]), as refinery's error carries its report. What
/// those steps did is committed and recorded in the ledger.
#[derive(Debug)]
pub struct Error {
    kind: Box<ErrorKind>,
    report: Option<Box<SyncReport>>,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// What went wrong, owned.
    pub fn into_kind(self) -> ErrorKind {
        *self.kind
    }

    /// The plan the sync was carrying out when it failed, with the outcome of each step
    /// that completed (`duration_ms`, `statements_run`): those are committed and
    /// recorded. `None` when the sync failed before it had a plan (a connection, a
    /// setting, the lock).
    pub fn report(&self) -> Option<&SyncReport> {
        self.report.as_deref()
    }

    /// The snippets that completed before the failure (applied, reapplied, adopted or
    /// baselined, and recorded).
    pub fn completed(&self) -> Vec<&Step> {
        self.report.iter().flat_map(|r| r.steps.iter()).filter(|s| s.completed).collect()
    }

    /// Attaches what the sync had done (kept if one is attached already: the first is
    /// the one closest to the failure).
    pub(crate) fn with_report(mut self, report: SyncReport) -> Error {
        if self.report.is_none() {
            self.report = Some(Box::new(report));
        }
        self
    }

    /// Drops the report: what it says was done may not stand.
    pub(crate) fn without_report(mut self) -> Error {
        self.report = None;
        self
    }

    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let context = context.into();
        move |source| ErrorKind::Database { context, source }.into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error { kind: Box::new(kind), report: None }
    }
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Error {
        let Invalid { variable, value, expected } = invalid;
        ErrorKind::Config { variable, value, expected }.into()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let done = self.completed();
        if !done.is_empty() {
            let names: Vec<&str> = done.iter().take(5).map(|s| s.path.as_str()).collect();
            let more = if done.len() > 5 { format!(" and {} more", done.len() - 5) } else { String::new() };
            write!(f, "\n  completed and recorded before the failure: {}{more}", names.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

/// Everything that can stop a sync. Each variant names the snippet, file, line or
/// setting it is about and says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
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

    /// Deep verify could not build the schema the snippets define: the scratch database
    /// could not be created, or a snippet failed on it (the message says which and what
    /// to do). The target is untouched.
    #[error("deep verify: {message}")]
    Replay {
        /// What failed, and what to do.
        message: String,
    },

    /// The audit trail asked for (`<PREFIX>_SCHEMA_REPORT_DIR`, [`crate::Syncer::report_dir`])
    /// cannot be written: checked before the sync reads anything.
    #[error("cannot write the audit trail under `{folder}`: {message}; give {variable} a folder the app may write in, or unset it")]
    AuditTrail {
        /// The folder asked for.
        folder: String,
        /// What failed.
        message: String,
        /// The variable that names the folder.
        variable: String,
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
    #[error("{}", connect_message(.kind, .endpoint, .reason))]
    Connect {
        /// The database kind the URL's scheme names, if it names one.
        kind: Option<DialectKind>,
        /// Host, port and database of the URL (never its password).
        endpoint: Endpoint,
        /// Why, in words: the server's error, or what answered on the port.
        reason: String,
    },

    /// The ledger holds a row bootschema cannot read (edited by hand, or written by
    /// a newer bootschema).
    #[error("the ledger {table} has a row it cannot read: version {version}: {problem}; restore the row or remove it")]
    Ledger {
        /// The ledger table.
        table: String,
        /// The row's version.
        version: i64,
        /// What is wrong with it.
        problem: String,
    },

    /// A file differs from the one another tool (sqlx, refinery, Flyway) recorded when
    /// it applied it: the checksum in that tool's ledger is not the file's. Nothing was
    /// applied.
    #[error(
        "refusing to sync the schema; nothing was applied: {path} (version {version}) is not the file {tool} \
         applied: {table} records checksum {recorded}, the file's is {computed}. Restore the file as it was when \
         {tool} applied it (from version control) and put the change in a new file; if the database really holds \
         the edited text, correct the checksum in {table} by hand (bootschema only reads that table)"
    )]
    ForeignChecksum {
        /// The tool whose ledger it is.
        tool: Tool,
        /// That tool's ledger table.
        table: String,
        /// The snippet's file.
        path: String,
        /// The version as that tool records it.
        version: String,
        /// The checksum in that tool's ledger.
        recorded: String,
        /// The checksum of the embedded file, computed the way that tool computes it.
        computed: String,
    },

    /// Another tool's ledger records a migration that failed or stopped half-way (sqlx
    /// `success = false`, Flyway `success = false`): what it left behind is not known.
    /// Nothing was applied.
    #[error(
        "refusing to sync the schema; nothing was applied: {table} records {what} as failed ({tool} wrote \
         success = false): it may have stopped half-way, and bootschema cannot tell what it left behind. {help}"
    )]
    ForeignFailed {
        /// The tool whose ledger it is.
        tool: Tool,
        /// That tool's ledger table.
        table: String,
        /// The row: its version and description, and the file it is when embedded.
        what: String,
        /// The version as that tool records it.
        version: String,
        /// What the operator must do.
        help: String,
    },

    /// A plan file (`schema plan --out`, [`crate::ApprovedPlan::read`]) that cannot be
    /// used: unreadable, not a plan file, of another format, malformed, or changed by
    /// hand after it was written. Nothing was read from the database.
    #[error(
        "cannot use the plan file {path}: {problem}. Write it again with `schema plan --out {path}` and have it \
         reviewed"
    )]
    PlanFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        problem: String,
    },

    /// The plan computed under the lock, before the first statement, is not the
    /// approved one ([`crate::Syncer::approved_plan`]): each change since approval is
    /// named. Nothing was applied (no ledger row, no mark), unless `nothing_applied` is
    /// false: then the plan read again in the middle of the sync (after a step released
    /// the lock) was no longer the approved one, and the steps completed before are
    /// recorded ([`crate::Error::completed`]).
    #[error("{}", crate::approve::not_approved_message(.plan, .changes, *.nothing_applied))]
    NotApproved {
        /// The approved plan's file, or `the approved plan`.
        plan: String,
        /// What changed since approval.
        changes: Vec<crate::approve::PlanChange>,
        /// Whether the sync stopped before changing anything.
        nothing_applied: bool,
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

/// Where a connection was going: the parts of the URL that may be shown (never a
/// password).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The host (or socket path); none for SQLite.
    pub host: Option<String>,
    /// The port; none for SQLite and sockets.
    pub port: Option<u16>,
    /// The database's name; for SQLite, its file.
    pub database: Option<String>,
}

impl Endpoint {
    fn describe(&self, kind: DialectKind) -> String {
        let mut text = kind.to_string();
        match (&self.host, self.port) {
            (Some(host), Some(port)) => text.push_str(&format!(" at {host}:{port}")),
            (Some(host), None) => text.push_str(&format!(" at {host}")),
            _ => {}
        }
        match (&self.database, kind) {
            (Some(name), DialectKind::Sqlite) => text.push_str(&format!(" (file {name})")),
            (Some(name), _) => text.push_str(&format!(", database {name}")),
            (None, _) => {}
        }
        text
    }
}

/// The message of [`ErrorKind::Connect`].
pub(crate) fn connect_message(kind: &Option<DialectKind>, endpoint: &Endpoint, reason: &str) -> String {
    match kind {
        Some(kind) => format!("cannot connect to {}: {reason}", endpoint.describe(*kind)),
        None => format!("cannot connect: {reason}"),
    }
}
