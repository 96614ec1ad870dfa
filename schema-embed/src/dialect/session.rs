//! The one trait behind which the databases differ: what the sync asks of its
//! connection (catalog, lock, ledger, statements).

use super::conn::Conn;
use crate::approve::Identity;
use crate::catalog::{CatalogSnapshot, Scope};
use crate::config::Settings;
use crate::error::Error;
use crate::foreign::ForeignRow;
use crate::ledger::{Ledger, LedgerRow, LedgerTable, MarkRead};
use crate::snippet::{DialectKind, ObjectName, Tool};

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

    /// Reads other tools' ledgers (sqlx, diesel, refinery, Flyway): one query says which
    /// of `wanted` exist, then one read of each that does ([`crate::foreign::select`]).
    /// Only reads.
    async fn read_foreign(&mut self, wanted: &[(Tool, LedgerTable)]) -> Result<Vec<ForeignRow>, Error>;

    /// Reads the catalog objects of `scope` in one query.
    async fn snapshot(&mut self, scope: &Scope) -> Result<CatalogSnapshot, Error>;

    /// Runs `unless` queries: whether each returns a row, or its error.
    async fn probe(&mut self, queries: &[String]) -> Result<Vec<Result<bool, String>>, Error>;

    /// Takes the schema lock, waiting at most `settings.lock_wait`, and bounds DDL lock
    /// waits by `settings.ddl_lock_timeout` until [`Session::unlock`].
    async fn lock(&mut self, table: &LedgerTable, settings: &Settings) -> Result<(), Error>;

    /// Releases the lock and restores the connection's settings.
    async fn unlock(&mut self) -> Result<(), Error>;

    /// Before the statements of a `transaction: none` snippet run outside the lock:
    /// gives the connection the settings the lock's transaction held (PostgreSQL: the
    /// configured search path, [`Settings::schemas`]).
    async fn enter_unwrapped(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// After them, on every path: restores what [`Session::enter_unwrapped`] changed.
    async fn leave_unwrapped(&mut self) -> Result<(), Error> {
        Ok(())
    }

    /// Creates the ledger table if it does not exist (called under the lock).
    async fn create_ledger(&mut self, table: &LedgerTable) -> Result<(), Error>;

    /// Asks the next [`Session::lock`] to create the ledger too, if it is missing, in
    /// the same round trip (PostgreSQL; elsewhere nothing): the look before the lock
    /// found no ledger and a plan that creates it. [`Session::create_ledger`] then
    /// sends nothing. A read of the ledger under that lock still finds it missing, as
    /// it was when the lock was taken.
    fn create_ledger_with_lock(&mut self) {}

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

    /// The sqlx database this session speaks.
    type Db: sqlx::Database;

    /// The sync's connection.
    fn conn(&mut self) -> &mut Conn<Self::Db>;

    /// Goes on with a connection of the sync's own, opened with the pool's connect
    /// options and sqlx's statement logging off (see `conn.rs`); nothing must be open
    /// on the borrowed one.
    async fn own_connection(&mut self) -> Result<(), Error> {
        self.conn().own().await
    }

    /// Starts opening the sync's own connection in the background (see
    /// [`Conn::start_own`]); [`Session::own_connection`] waits for it.
    fn start_own_connection(&mut self) {
        self.conn().start_own();
    }

    /// Names where the statements sent next come from (`sql/0003_seed.sql:1`), for
    /// bootschema's statement log; `None` for bootschema's own statements.
    fn statements_from(&mut self, source: Option<String>) {
        self.conn().source = source;
    }

    /// The sink the sync reports its events to ([`crate::events`]), if any: every
    /// place that reports tests this first, so that without one nothing is built.
    fn events(&mut self) -> Option<&dyn crate::events::EventSink> {
        self.conn().events()
    }

    /// Whether an error is a lock timeout worth retrying.
    fn is_lock_timeout(error: &sqlx::Error) -> bool;

    /// What the server says of the database this session is in, for an approved plan's
    /// target ([`Identity`]): reads only what the role may read, and never fails on a
    /// missing privilege (under the lock, PostgreSQL's transaction must survive it).
    async fn identity(&mut self) -> Result<Identity, Error>;

    /// Says what is known of who holds the lock on `table` that a statement waited for
    /// (PostgreSQL: the blocking process ids).
    async fn describe_lock_wait(&mut self, _table: &ObjectName) -> String {
        String::new()
    }
}
