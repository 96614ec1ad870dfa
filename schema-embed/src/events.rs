//! What a sync reports as it happens: each plan it is about to carry out, each
//! statement of a snippet that ran or failed, each snippet done, each wait for the
//! schema lock and each retry after a lock timeout. An [`EventSink`] given to
//! [`Syncer::events`](crate::Syncer::events) receives them in order, from inside the
//! sync, before the sync goes on: the audit trail (`--report-dir`,
//! `<PREFIX>_SCHEMA_REPORT_DIR`) is written from them, and an app may keep its own
//! record the same way.
//!
//! ```no_run
//! # async fn boot(pool: sqlx::PgPool, snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
//! use bootschema::events::Event;
//! let sink = |event: &Event<'_>| {
//!     if let Event::Statement(s) = event {
//!         eprintln!("{}:{} {:?} {}", s.path, s.line, s.duration, s.error.unwrap_or("ok"));
//!     }
//! };
//! bootschema::Syncer::new(snippets).events(std::sync::Arc::new(sink)).run(&pool).await?;
//! # Ok(()) }
//! ```
//!
//! Without a sink, nothing is built and nothing is called: each place that could
//! report tests one `Option` (a boot in sync reaches none of them). A sink runs on the
//! sync's task while the sync holds the schema lock: it should return quickly (append
//! to a file, send to a channel), and must not call into the sync.

use std::sync::Arc;
use std::time::Duration;

use crate::plan::Step;
use crate::report::SyncReport;
use crate::snippet::Snippet;

/// Receives a sync's events as they happen (see the [module docs](self)). Any
/// `Fn(&Event<'_>) + Send + Sync` closure is one.
pub trait EventSink: Send + Sync {
    /// Called once per event, in the order they happen.
    fn event(&self, event: &Event<'_>);
}

impl<F> EventSink for F
where
    F: Fn(&Event<'_>) + Send + Sync,
{
    fn event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// One thing that happened during a sync.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The plan the sync is about to carry out, made under the schema lock; made and
    /// reported again after a `transaction: none` snippet, between batches when another
    /// instance changed the ledger, and after a lock timeout.
    Planned {
        /// The plan, as [`crate::Syncer::plan`] reports one.
        report: &'a SyncReport,
        /// The embedded snippets of the database's dialect (the steps' statements).
        snippets: &'a [Snippet],
    },
    /// A statement of a snippet ran, or failed.
    Statement(StatementEvent<'a>),
    /// A snippet is done and recorded in the ledger (applied, reapplied, adopted or
    /// baselined), with its duration and how many statements ran.
    Step(&'a Step),
    /// The sync waited for the schema lock (another instance held it, or nobody did and
    /// the wait was a round trip). A wait that ran out ends the sync with
    /// [`crate::ErrorKind::LockTimeout`].
    LockWait {
        /// How long the statement that takes the lock took.
        waited: Duration,
    },
    /// A lock wait ran out and the work is tried again after a pause: a statement that
    /// waited longer than the DDL lock timeout for a table (its snippet was rolled back
    /// or stopped after its recorded progress), or SQLite's write lock.
    Retry {
        /// The snippet whose statement timed out; `None` for SQLite's write lock.
        path: Option<&'a str>,
        /// The statement's line in that file.
        line: Option<u32>,
        /// The attempt about to be made (2 is the first retry).
        attempt: u32,
        /// How many attempts are allowed (`<PREFIX>_SCHEMA_DDL_ATTEMPTS`).
        attempts: u32,
        /// The pause before it.
        pause: Duration,
        /// What timed out, as the database said it.
        reason: &'a str,
    },
}

/// A statement of a snippet that ran ([`StatementEvent::error`] is `None`) or failed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StatementEvent<'a> {
    /// The snippet's file (`sql/0003_add_email.sql`).
    pub path: &'a str,
    /// The statement's first line in that file.
    pub line: u32,
    /// The statement's index in the snippet (0-based).
    pub index: usize,
    /// The statement's whole text.
    pub sql: &'a str,
    /// How long it took. `None` where it was sent in one message with other statements
    /// and its own time is not known: PostgreSQL runs consecutive snippets in one
    /// message and times each snippet, not each statement (see [`Event::Step`]).
    pub duration: Option<Duration>,
    /// The database's error, when it failed. A statement that ran is not necessarily
    /// kept: on PostgreSQL and SQLite a failure later in the same snippet rolls the
    /// whole snippet back (the sync's error says so).
    pub error: Option<&'a str>,
}

/// The sink a sync reports to, as [`crate::Settings`] carries it: compared by identity.
#[derive(Clone)]
pub(crate) struct Sink(pub(crate) Arc<dyn EventSink>);

impl Sink {
    pub(crate) fn event(&self, event: &Event<'_>) {
        self.0.event(event);
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink")
    }
}

impl PartialEq for Sink {
    fn eq(&self, other: &Sink) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Sink {}
