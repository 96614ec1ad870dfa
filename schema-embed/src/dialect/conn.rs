//! The connection a sync runs on, and how its statements are logged.
//!
//! sqlx logs every statement a connection runs (`sqlx::query`: the whole text at
//! `DEBUG`, and at `WARN` when it is slower than a second), with the log settings of the
//! connection's options. On the app's own connections that printed whole seeds and
//! batches (a 10 MB seed wrote 10.9 MB to stderr at each boot). So the sync runs on a
//! connection of its own, opened with the pool's connect options and sqlx's statement
//! logging turned off, and bootschema logs each statement itself, bounded: where it comes
//! from (file and line), its first characters, its duration (`DEBUG`, `WARN` when slow).
//!
//! The fast path of a boot (one read of the ledger's mark, a short statement of
//! bootschema's own) runs on a connection borrowed from the pool, so that a boot in
//! sync costs no connection set-up; the first statement after it opens the sync's own.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_core::Stream;
use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Database, Either, Execute, Executor, Pool};

use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::events::{Event, EventSink, Sink};
use crate::text::excerpt;

/// The target of bootschema's statement events.
pub(crate) const LOG_TARGET: &str = "bootschema::sql";

/// Where a sync's statements run.
pub(crate) struct Conn<DB: Database> {
    inner: Inner<DB>,
    pool: Pool<DB>,
    /// Whether the sync may open its own connection (see [`Conn::own`]).
    own_allowed: bool,
    /// Statements slower than this are logged at `WARN`.
    slow: Duration,
    /// Where the statements being sent come from (`sql/0003_seed.sql:1`), for the log.
    pub(crate) source: Option<String>,
    /// Whether the statements being sent wait for the schema lock: their time is a
    /// wait for another instance, logged as such, never as a slow statement.
    pub(crate) locking: bool,
    /// The sync's own connection while it is being opened ([`Conn::start_own`]).
    pending: Option<Pending<DB>>,
    /// Where the sync reports its events ([`crate::events`]), if anywhere.
    events: Option<Sink>,
    /// Whether the last message sent ended by opening the savepoint of the next batch of
    /// snippets (PostgreSQL; see [`Conn::savepoint_ahead`]); any statement clears it.
    savepoint_ahead: bool,
}

/// A connection being opened in a task of its own; dropped, the task is aborted (a
/// connection it already opened is closed with it).
struct Pending<DB: Database>(tokio::task::JoinHandle<Result<DB::Connection, Error>>);

impl<DB: Database> Drop for Pending<DB> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum Inner<DB: Database> {
    Borrowed(PoolConnection<DB>),
    Own(DB::Connection),
}

impl<DB: Database> Conn<DB> {
    /// A connection borrowed from `pool`, until [`Conn::own`].
    /// Statements slower than `settings.slow_statement` are logged at `WARN`; events go
    /// to `settings.events`.
    pub(crate) async fn borrow(pool: &Pool<DB>, own_allowed: bool, settings: &Settings) -> Result<Conn<DB>, Error> {
        let conn = pool.acquire().await.map_err(Error::db(format!("connecting to {}", DB::NAME)))?;
        Ok(Conn {
            inner: Inner::Borrowed(conn),
            pool: pool.clone(),
            own_allowed,
            slow: settings.slow_statement,
            source: None,
            locking: false,
            pending: None,
            events: settings.events.clone(),
            savepoint_ahead: false,
        })
    }

    /// Notes that the message just sent ended by opening the savepoint a batch of
    /// snippets opens first (`SAVEPOINT bootschema_batch`), so that the batch need not
    /// send it: [`Conn::take_savepoint_ahead`] says so until any other statement runs.
    pub(crate) fn savepoint_ahead(&mut self) {
        self.savepoint_ahead = true;
    }

    /// Whether the savepoint of [`Conn::savepoint_ahead`] is open with nothing sent
    /// since (taking it).
    pub(crate) fn take_savepoint_ahead(&mut self) -> bool {
        std::mem::take(&mut self.savepoint_ahead)
    }

    /// The sink the sync reports its events to, if any.
    pub(crate) fn events(&self) -> Option<&dyn EventSink> {
        self.events.as_ref().map(|sink| &*sink.0)
    }

    /// Starts opening the sync's own connection in the background, so that the server's
    /// connection set-up (a process fork on PostgreSQL) overlaps the reads that go on
    /// on the borrowed one meanwhile; [`Conn::own`] then waits for it. Does nothing when
    /// [`Conn::own`] would do nothing.
    pub(crate) fn start_own(&mut self) {
        if !self.own_allowed || !matches!(self.inner, Inner::Borrowed(_)) || self.pending.is_some() {
            return;
        }
        let options = (*self.pool.connect_options()).clone().disable_statement_logging();
        let timeout = self.pool.options().get_acquire_timeout();
        self.pending = Some(Pending(tokio::spawn(async move { connect::<DB>(options, timeout).await })));
    }

    /// Whether the sync's own connection is being opened in the background.
    pub(crate) fn opening(&self) -> bool {
        self.pending.is_some()
    }

    /// Goes on with a connection of the sync's own, opened with the pool's connect
    /// options and sqlx's statement logging off (the borrowed one goes back to the
    /// pool). Nothing must be open on the borrowed connection (a transaction, a lock).
    /// Does nothing when already done, or when the syncer keeps to the pool's
    /// connection ([`crate::Syncer::pool_connection`]).
    pub(crate) async fn own(&mut self) -> Result<(), Error> {
        if !self.own_allowed || !matches!(self.inner, Inner::Borrowed(_)) {
            return Ok(());
        }
        let conn = match self.pending.take() {
            Some(mut pending) => match (&mut pending.0).await {
                Ok(conn) => conn?,
                Err(join) => {
                    let source = sqlx::Error::WorkerCrashed;
                    tracing::warn!(target: "bootschema", "opening bootschema's connection stopped: {join}");
                    return Err(ErrorKind::Database { context: context::<DB>(), source }.into());
                }
            },
            None => {
                let options = (*self.pool.connect_options()).clone().disable_statement_logging();
                connect::<DB>(options, self.pool.options().get_acquire_timeout()).await?
            }
        };
        self.inner = Inner::Own(conn);
        Ok(())
    }

    /// Closes the connection when dropped instead of returning it to the pool (a
    /// connection of the sync's own is always closed).
    pub(crate) fn close_on_drop(&mut self) {
        if let Inner::Borrowed(conn) = &mut self.inner {
            conn.close_on_drop();
        }
    }

    fn connection(&mut self) -> &mut DB::Connection {
        match &mut self.inner {
            Inner::Borrowed(conn) => conn,
            Inner::Own(conn) => conn,
        }
    }
}

impl<DB: Database> std::fmt::Debug for Conn<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Borrowed(_) => "borrowed",
            Inner::Own(_) => "own",
        };
        f.debug_struct("Conn").field("database", &DB::NAME).field("connection", &kind).finish()
    }
}

fn context<DB: Database>() -> String {
    format!("opening bootschema's connection to {}", DB::NAME)
}

/// Opens a connection with `options`, within `timeout`.
async fn connect<DB: Database>(
    options: <DB::Connection as sqlx::Connection>::Options,
    timeout: Duration,
) -> Result<DB::Connection, Error> {
    let started = Instant::now();
    let conn = match tokio::time::timeout(timeout, options.connect()).await {
        Ok(conn) => conn.map_err(Error::db(context::<DB>()))?,
        Err(_) => {
            return Err(ErrorKind::Database { context: context::<DB>(), source: sqlx::Error::PoolTimedOut }.into())
        }
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(target: "bootschema", database = DB::NAME, ms, "bootschema's own connection is open");
    Ok(conn)
}

/// A statement taken apart and put together again, so that its text can be logged.
struct Rebuilt<DB: Database> {
    sql: sqlx::SqlStr,
    arguments: Option<DB::Arguments>,
    persistent: bool,
}

impl<DB: Database> Execute<'_, DB> for Rebuilt<DB> {
    fn sql(self) -> sqlx::SqlStr {
        self.sql
    }
    fn statement(&self) -> Option<&DB::Statement> {
        None
    }
    fn take_arguments(&mut self) -> Result<Option<DB::Arguments>, sqlx::error::BoxDynError> {
        Ok(self.arguments.take())
    }
    fn persistent(&self) -> bool {
        self.persistent
    }
}

/// Logs one statement when its results end (or the stream is dropped).
struct Logged<'e, T> {
    inner: BoxStream<'e, Result<T, sqlx::Error>>,
    started: Instant,
    sql: String,
    source: Option<String>,
    slow: Duration,
    locking: bool,
    /// Where a wait for the schema lock is reported (set only while `locking`).
    events: Option<Sink>,
    done: bool,
}

impl<T> Logged<'_, T> {
    fn finish(&mut self, failed: bool) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        let ms = elapsed.as_secs_f64() * 1000.0;
        let source = self.source.as_deref().unwrap_or("bootschema");
        let statement = excerpt(&self.sql);
        if let Some(sink) = &self.events {
            sink.event(&Event::LockWait { waited: elapsed });
        }
        if self.locking {
            // Replicas that boot together wait for each other here by design.
            if elapsed >= self.slow {
                tracing::info!(target: LOG_TARGET, source, elapsed_ms = ms as u64, failed, "waited {ms:.0} ms for the schema lock");
            } else {
                tracing::debug!(target: LOG_TARGET, source, elapsed_ms = ms, failed, "{statement}");
            }
        } else if elapsed >= self.slow {
            tracing::warn!(
                target: LOG_TARGET, source, elapsed_ms = ms as u64, bytes = self.sql.len(), failed,
                "slow statement ({ms:.0} ms, {} bytes): {statement}", self.sql.len()
            );
        } else {
            tracing::debug!(
                target: LOG_TARGET, source, elapsed_ms = ms, bytes = self.sql.len(), failed, "{statement}"
            );
        }
    }
}

impl<T> Stream for Logged<'_, T> {
    type Item = Result<T, sqlx::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(None) => self.finish(false),
            Poll::Ready(Some(Err(_))) => self.finish(true),
            _ => {}
        }
        next
    }
}

impl<T> Drop for Logged<'_, T> {
    fn drop(&mut self) {
        self.finish(false);
    }
}

impl<'c, DB: Database> Executor<'c> for &'c mut Conn<DB>
where
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        mut query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        self.savepoint_ahead = false;
        let (slow, source, locking) = (self.slow, self.source.clone(), self.locking);
        let events = if locking { self.events.clone() } else { None };
        let connection = self.connection();
        if query.statement().is_some() {
            // A prepared statement (bootschema sends none): as it is.
            return connection.fetch_many(query);
        }
        let arguments = match query.take_arguments() {
            Ok(arguments) => arguments,
            Err(e) => return Box::pin(futures_core_once(Err(sqlx::Error::Encode(e)))),
        };
        let persistent = query.persistent();
        let sql = query.sql();
        let text = sql.as_str().to_string();
        let inner = connection.fetch_many(Rebuilt::<DB> { sql, arguments, persistent });
        Box::pin(Logged { inner, started: Instant::now(), sql: text, source, slow, locking, events, done: false })
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let mut stream = self.fetch_many(query);
        Box::pin(async move {
            // Every result is read, so that the connection is left ready.
            let mut first = None;
            while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
                if let Either::Right(row) = item? {
                    first.get_or_insert(row);
                }
            }
            Ok(first)
        })
    }

    fn prepare_with<'e>(
        self,
        sql: sqlx::SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        'c: 'e,
    {
        self.savepoint_ahead = false;
        self.connection().prepare_with(sql, parameters)
    }
}

/// A stream of one item.
fn futures_core_once<T>(item: T) -> impl Stream<Item = T> {
    struct Once<T>(Option<T>);
    // Never pinned structurally: the item is only moved out.
    impl<T> Unpin for Once<T> {}
    impl<T> Stream for Once<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
            Poll::Ready(self.0.take())
        }
    }
    Once(Some(item))
}
