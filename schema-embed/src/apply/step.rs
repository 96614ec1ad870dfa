//! What the executors share: the outcome of a run, the ledger row of a step, what a
//! failure means, and where the statements of a message come from for the log.

use std::time::{Duration, Instant};

use crate::catalog::GuardStatus;
use crate::config::Settings;
use crate::dialect::Session;
use crate::error::{db_message, Error, ErrorKind};
use crate::events::{Event, StatementEvent};
use crate::ledger::{LedgerRow, LedgerState, LedgerTable};
use crate::plan::{Action, Step};
use crate::snippet::{ObjectName, Snippet, TransactionMode};
use crate::text::excerpt;

/// What applying a plan left to do.
pub(crate) enum Applied {
    /// Every step ran.
    Done,
    /// A `transaction: none` snippet had to release the lock (PostgreSQL, SQLite), or
    /// the next step's decision rests on a reading of the catalog that earlier steps
    /// may have made stale ([`Step::recheck`](crate::plan::Step)): plan again.
    Replan,
    /// The lock's transaction ends here (PostgreSQL: it holds its budget of statements,
    /// or the snippet just run locked a table the app uses): the caller commits, takes
    /// the lock again and, if nobody changed the ledger meanwhile, goes on from the next
    /// step.
    Checkpoint,
    /// A statement waited longer than the DDL lock timeout for a table lock. Its snippet
    /// was rolled back (or, where statements commit one by one, stopped after its
    /// recorded progress); the caller releases everything, backs off and tries again.
    LockTimedOut(LockWait),
}

/// The statement that timed out waiting for a table lock.
pub(crate) struct LockWait {
    pub version: u64,
    pub path: String,
    pub line: u32,
    pub statement: String,
    /// The table it locks first, as the build read it.
    pub table: Option<ObjectName>,
    pub message: String,
}

/// What one call of `Apply::run` did: how many of the steps it was given completed
/// (and are recorded), and what stops the walk, if anything (`Ok(None)`: go on).
pub(crate) type Ran = (usize, Result<Option<Applied>, Error>);

/// What every step of one [`apply`] shares.
#[derive(Clone, Copy)]
pub(crate) struct Work<'a> {
    pub snippets: &'a [Snippet],
    pub table: &'a LedgerTable,
    pub settings: &'a Settings,
    /// Statements run in the lock's transaction since the lock was taken.
    pub in_transaction: usize,
}

/// Records an adopted or baselined snippet: its row, no SQL.
pub(crate) async fn record_adopted<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<(), Error> {
    let row = unrun_row(step, snippet);
    session.write_ledger(table, &row).await.map_err(Error::db(format!(
        "recording {} as {}",
        snippet.path,
        row.state.as_str()
    )))
}

/// Whether a step has `unless` guards that could not be asked at planning time (they
/// read a table that an earlier snippet of this sync creates): they are asked again
/// right before it runs.
pub(crate) fn asks_again(step: &Step) -> bool {
    step.guards.iter().any(|g| matches!(g.status, GuardStatus::Unknown(_)))
}

/// The row of a step recorded without running (adopted, baselined): a row `baselined`
/// from another tool's ledger names that tool (see [`LedgerRow::source`]).
pub(crate) fn unrun_row(step: &Step, snippet: &Snippet) -> LedgerRow {
    match step.source.filter(|_| step.action == Action::Baselined) {
        Some(tool) => LedgerRow {
            source: Some(tool),
            ..ledger_row(snippet, LedgerState::Baselined, LedgerRow::source_progress(tool), 0)
        },
        None => ledger_row(snippet, final_state(step), Vec::new(), 0),
    }
}

pub(crate) fn ledger_row(snippet: &Snippet, state: LedgerState, progress: Vec<String>, duration_ms: i64) -> LedgerRow {
    LedgerRow {
        source: None,
        version: snippet.version,
        description: snippet.description.to_string(),
        path: snippet.path.to_string(),
        checksum: snippet.checksum.to_string(),
        state,
        progress,
        duration_ms,
    }
}

/// The state of the ledger row a completed step leaves.
pub(crate) fn final_state(step: &Step) -> LedgerState {
    match step.action {
        Action::Reapply => LedgerState::Reapplied,
        Action::Adopt => LedgerState::Adopted,
        Action::Baselined => LedgerState::Baselined,
        _ => LedgerState::Applied,
    }
}

/// The statements that drop the invalid indexes a failed `CREATE INDEX CONCURRENTLY`
/// left behind, so that the snippet can build them again.
pub(crate) fn invalid_index_drops<S: Session>(step: &Step, snippet: &Snippet) -> Vec<String> {
    step.invalid_indexes
        .iter()
        .map(|(schema, index)| {
            tracing::warn!(
                target: "bootschema", path = %snippet.path, index = %index,
                "dropping the invalid index {schema}.{index} left by a failed build, to build it again"
            );
            let concurrently = if snippet.transaction == TransactionMode::None { "CONCURRENTLY " } else { "" };
            format!("DROP INDEX {concurrently}IF EXISTS {}.{}", S::quote(schema), S::quote(index))
        })
        .collect()
}

fn lock_wait(snippet: &Snippet, index: usize, error: &sqlx::Error) -> LockWait {
    let statement = &snippet.statements[index];
    LockWait {
        version: snippet.version,
        path: snippet.path.to_string(),
        line: statement.line,
        statement: snippet.statement_sql(index).to_string(),
        table: statement.tables.as_ref().and_then(|t| t.first().cloned()),
        message: db_message(error),
    }
}

/// One part of a snippet's atomic unit, to name what failed.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    Begin,
    DropInvalidIndex,
    Statement(usize),
    Ledger,
    Commit,
    /// The clock reading after a snippet of a batch.
    Clock,
    /// A statement that notes the time (MySQL: the start of a snippet that writes its
    /// row in the same message).
    Start,
    /// The end of the savepoint around a whole message (PostgreSQL).
    Batch,
}

/// What a failed part of a snippet's atomic unit means: a lock wait to retry, or the
/// error that stops the sync, naming the file and, for a statement, its line.
pub(crate) fn unit_failure<S: Session>(
    snippet: &Snippet,
    part: Part,
    error: sqlx::Error,
) -> Result<Option<Applied>, Error> {
    let what = match part {
        Part::Begin => format!("beginning the transaction of {}", snippet.path),
        Part::DropInvalidIndex => format!("dropping an invalid index before {} (rolled back)", snippet.path),
        Part::Ledger => format!("recording {} in the ledger (rolled back)", snippet.path),
        Part::Commit | Part::Clock => format!("committing {}", snippet.path),
        Part::Start => format!("noting the start time of {}", snippet.path),
        Part::Batch => format!("committing the batch that ends with {}", snippet.path),
        Part::Statement(i) => {
            if S::is_lock_timeout(&error) {
                return Ok(Some(Applied::LockTimedOut(lock_wait(snippet, i, &error))));
            }
            return Err(ErrorKind::Statement {
                path: snippet.path.to_string(),
                line: snippet.statements[i].line,
                statement: excerpt(snippet.statement_sql(i)),
                aftermath: "nothing of this snippet was kept (its transaction was rolled back); fix the statement \
                            and boot again"
                    .into(),
                source: error,
            }
            .into());
        }
    };
    Err(Error::db(what)(error))
}

/// What stopped a snippet at statement `index`, `completed` of its statements being
/// done and recorded: a lock wait to retry, or the error that names the statement.
pub(crate) fn statement_failure<S: Session>(
    snippet: &Snippet,
    index: usize,
    completed: usize,
    error: sqlx::Error,
) -> Result<Option<Applied>, Error> {
    if S::is_lock_timeout(&error) {
        return Ok(Some(Applied::LockTimedOut(lock_wait(snippet, index, &error))));
    }
    let aftermath = if completed == 0 {
        "no statement of this snippet had completed; fix the statement and boot again".to_string()
    } else {
        format!(
            "{completed} earlier statement(s) of this snippet completed and are recorded; fix this statement and \
             boot again: the snippet resumes after them"
        )
    };
    Err(ErrorKind::Statement {
        path: snippet.path.to_string(),
        line: snippet.statements[index].line,
        statement: excerpt(snippet.statement_sql(index)),
        aftermath,
        source: error,
    }
    .into())
}

/// What writing a statement's ledger row is, for its error: the final row of the
/// snippet's last statement, or a progress row.
pub(crate) fn row_write(snippet: &Snippet, last: bool) -> String {
    if last {
        format!("recording {} in the ledger", snippet.path)
    } else {
        format!("recording progress of {}", snippet.path)
    }
}

/// How much SQL one message carries at most (the first snippet or statement goes
/// whatever its size): large seeds should not make one message of many megabytes.
pub(crate) const MESSAGE_BYTES: usize = 1 << 20;

/// Times a step that ran on its own from `started`, for its outcome.
pub(crate) fn finish(step: &mut Step, started: Instant) {
    step.duration_ms = started.elapsed().as_millis() as u64;
}

/// Where the statements of a message come from, for bootschema's statement log
/// ([`Session::statements_from`]): the first one's file and line, and how many more
/// statements and snippets travel with it.
pub(crate) fn source(runs: &[(&Snippet, usize)]) -> Option<String> {
    let (first, i) = runs.first()?;
    let mut text = format!("{}:{}", first.path, first.statements[*i].line);
    if runs.len() > 1 {
        let mut paths: Vec<&str> = runs.iter().map(|(s, _)| s.path.as_ref()).collect();
        paths.dedup();
        text.push_str(&format!(" and {} more statement(s) of {} snippet(s)", runs.len() - 1, paths.len()));
    }
    Some(text)
}

/// [`source`] of the statement parts of a message, each with its step (in `steps`).
pub(crate) fn source_of(
    parts: impl Iterator<Item = (usize, Part)>,
    steps: &[Step],
    snippets: &[Snippet],
) -> Option<String> {
    let runs: Vec<(&Snippet, usize)> = parts
        .filter_map(|(k, part)| match part {
            Part::Statement(i) => Some((&snippets[steps[k].index], i)),
            _ => None,
        })
        .collect();
    source(&runs)
}

/// Runs statement `index` of `snippet` alone, named in the statement log and reported
/// to the sync's event sink.
pub(crate) async fn execute_statement<S: Session>(
    session: &mut S,
    snippet: &Snippet,
    index: usize,
) -> Result<(), sqlx::Error> {
    session.statements_from(source(&[(snippet, index)]));
    let started = Instant::now();
    let executed = session.execute(snippet.statement_sql(index)).await;
    session.statements_from(None);
    report_statement(session, snippet, index, Some(started.elapsed()), executed.as_ref().err());
    executed
}

/// Reports statement `index` of `snippet` to the sync's event sink, if there is one:
/// it ran (`error` is `None`) or failed, in `duration` when that is known.
pub(crate) fn report_statement<S: Session>(
    session: &mut S,
    snippet: &Snippet,
    index: usize,
    duration: Option<Duration>,
    error: Option<&sqlx::Error>,
) {
    let Some(sink) = session.events() else { return };
    let message = error.map(db_message);
    sink.event(&Event::Statement(StatementEvent {
        path: &snippet.path,
        line: snippet.statements[index].line,
        index,
        sql: snippet.statement_sql(index),
        duration,
        error: message.as_deref(),
    }));
}
