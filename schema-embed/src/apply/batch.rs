//! PostgreSQL's way: consecutive snippets travel in one message inside the lock's
//! transaction, inside one savepoint for the whole message, each followed by a reading
//! of the server's clock that times it; their ledger rows are written before the
//! commit, together.
//!
//! No snippet gets a savepoint of its own: a savepoint and its release cost each
//! snippet about 0.1 ms (a subtransaction, two more statements; 1.1 ms over twelve
//! snippets, measured with `psql`), some 5% of a ten-snippet sync. When a snippet of
//! the message fails, the whole message is rolled back to its savepoint, the snippets
//! before the failed one run again in a message of their own, and the failed one's
//! failure (its error, or a lock wait to retry) is returned as the first run met it,
//! without running it again: each snippet still stands or falls whole, with its ledger
//! row, as if it had its own transaction. What the snippets before it did outside the
//! transaction happens twice (a sequence's `nextval` in a seed skips the values the
//! rolled-back run took), as after any rolled-back transaction.
//!
//! A savepoint's locks last until its transaction ends, not until the savepoint is
//! released. So the transaction commits (and the lock is taken again, [`Applied::Checkpoint`])
//! right after a snippet that locked a table the database held before this sync (or
//! one the build could not name, on a database that held tables): the app's queries on
//! that table then wait for that snippet alone, never for the snippets after it.
//! Batching stays where it costs no one anything: objects created by the same sync, an
//! empty database. The transaction also commits every [`STATEMENTS_PER_TRANSACTION`].

use super::step::{
    final_state, invalid_index_drops, ledger_row, report_statement, unit_failure, unrun_row, Applied, Part, Ran, Work,
    MESSAGE_BYTES,
};
use super::{unit, unwrapped};
use crate::dialect::{PgSession, Session};
use crate::error::{Error, ErrorKind};
use crate::ledger::LedgerTable;
use crate::plan::{Action, Step};
use crate::snippet::{Snippet, TransactionMode};
use crate::text::excerpt;

/// How many statements the lock's transaction holds before it commits and the lock
/// is taken again. PostgreSQL keeps every lock a transaction takes until it ends, in
/// one shared table sized for `max_locks_per_transaction` (64) per connection: a first
/// sync of a few thousand snippets in one transaction fails with "out of shared memory"
/// (about 2,200 tables on a default server, fewer on a small managed one), and each
/// savepoint release walks every lock held, so time grows with the square of the
/// snippets. 256 statements hold a few hundred locks; measured flat from 100 to 1,000
/// statements per commit, 18% faster than one transaction at 5,000 snippets.
pub(crate) const STATEMENTS_PER_TRANSACTION: usize = 256;

/// Runs `steps[0]` and the steps that travel with it.
pub(crate) async fn run(session: &mut PgSession, steps: &mut [Step], work: &Work<'_>) -> Ran {
    let Work { snippets, table, settings, in_transaction } = *work;
    let budget = STATEMENTS_PER_TRANSACTION.saturating_sub(in_transaction);
    if budget == 0 {
        return (0, Ok(Some(Applied::Checkpoint)));
    }
    let snippet = &snippets[steps[0].index];
    let (done, then) = if in_the_lock(&steps[0], snippet) {
        let end = batch_end(steps, snippets, budget);
        match run_prefix(session, steps, end, snippets, table).await {
            Batch::Ran(done, then) => (done, then),
            // PostgreSQL parses a whole message before it runs any of it: a syntax error
            // in one snippet stopped the snippets before it too. They run again on their
            // own, and the error names the snippet it is in.
            Batch::Unparsed { step, error } => {
                let done = match step {
                    0 => 0,
                    _ => match run_prefix(session, steps, step, snippets, table).await {
                        Batch::Ran(done, Ok(None)) if done == step => done,
                        Batch::Ran(done, then) => return (done, then),
                        Batch::Unparsed { .. } | Batch::Undone(_) => return (0, Err(error)),
                    },
                };
                (done, Err(error))
            }
            Batch::Undone(_) => unreachable!("run_prefix runs again what a failure undid"),
        }
    } else if snippet.transaction == TransactionMode::Wrapped {
        match unit::run_one(session, &mut steps[0], snippet, table).await {
            Ok(None) => (1, Ok(None)),
            other => (0, other),
        }
    } else {
        return unwrapped::run(session, &mut steps[0], snippet, table, settings).await;
    };
    // After a snippet that holds a lock the app may wait for, commit before going on.
    let holds = steps[..done].iter().any(|s| s.locks_existing);
    let more = steps[done..].iter().any(|s| s.action.changes_database());
    match then {
        Ok(None) if holds && more => (done, Ok(Some(Applied::Checkpoint))),
        then => (done, then),
    }
}

/// Whether a step changes the database inside the lock's transaction with nothing to
/// ask the database first: an adopt (its row only), or a snippet that runs in a
/// transaction and has no `unless` guard left to ask again right before it runs.
fn in_the_lock(step: &Step, snippet: &Snippet) -> bool {
    if step.recheck {
        return false;
    }
    match step.action {
        Action::Adopt | Action::Baselined => true,
        Action::Apply | Action::Reapply => {
            snippet.transaction == TransactionMode::Wrapped && !super::step::asks_again(step)
        }
        _ => false,
    }
}

/// How many statements a step counts against the budget: none for an adopt or a
/// baseline, which sends nothing but its ledger row (written with the others before
/// the commit), so that a history of a thousand baselined snippets is one write.
fn statements_counted(step: &Step) -> usize {
    if step.action.runs_sql() {
        step.statements_to_run().count().max(1)
    } else {
        0
    }
}

/// How many bytes of SQL a step adds to the message: its text, when it runs.
fn bytes_sent(step: &Step, snippet: &Snippet) -> usize {
    if step.action.runs_sql() {
        snippet.sql.len()
    } else {
        0
    }
}

/// The end of the batch that starts at `steps[0]` (which the caller has checked): the
/// following steps that run [`in_the_lock`], as long as their statements fit `budget`
/// and their text [`MESSAGE_BYTES`], up to the first that locks a table the app uses
/// ([`Step::locks_existing`]), included.
fn batch_end(steps: &[Step], snippets: &[Snippet], budget: usize) -> usize {
    let mut statements = statements_counted(&steps[0]);
    let mut bytes = bytes_sent(&steps[0], &snippets[steps[0].index]);
    let mut end = 1;
    if steps[0].locks_existing {
        return end;
    }
    while let Some(step) = steps.get(end) {
        if step.action.changes_database() {
            statements += statements_counted(step);
            bytes += bytes_sent(step, &snippets[step.index]);
            if !in_the_lock(step, &snippets[step.index]) || statements > budget || bytes > MESSAGE_BYTES {
                break;
            }
            if step.locks_existing {
                return end + 1;
            }
        }
        end += 1;
    }
    end
}

/// Runs `steps[..end]` in one message; when a snippet fails after others of the
/// message ran ([`Batch::Undone`]), runs the ones before it again, in a message of
/// their own, and then returns the failed snippet's failure (its error, or a lock wait
/// to retry) as if it had run alone: the failed snippet is not run again, so that a
/// statement that failed after a long time (a lock wait, `statement_timeout`) costs
/// that time once.
async fn run_prefix(
    session: &mut PgSession,
    steps: &mut [Step],
    mut end: usize,
    snippets: &[Snippet],
    table: &LedgerTable,
) -> Batch {
    let mut failed: Option<Failed> = None;
    loop {
        match run_batch(session, &mut steps[..end], snippets, table).await {
            Batch::Undone(failure) => {
                end = failure.step;
                failed = Some(failure);
            }
            Batch::Ran(done, Ok(None)) => {
                let Some(Failed { step, part, ran, error }) = failed.filter(|f| f.step == done) else {
                    return Batch::Ran(done, Ok(None));
                };
                let snippet = &snippets[steps[step].index];
                for &i in &ran {
                    report_statement(session, snippet, i, None, None);
                }
                if let Part::Statement(i) = part {
                    report_statement(session, snippet, i, None, Some(&error));
                }
                return Batch::Ran(done, unit_failure::<PgSession>(snippet, part, error));
            }
            // A failure of the run again stops the sync there.
            other => return other,
        }
    }
}

/// A statement of `steps[step]` that failed after snippets before it in the same
/// message had run ([`Batch::Undone`]).
struct Failed {
    step: usize,
    /// The part that failed: one of the snippet's statements, or a drop of an invalid
    /// index before them.
    part: Part,
    /// The snippet's statements that ran before it (reported once the snippets before
    /// the snippet are recorded again).
    ran: Vec<usize>,
    error: sqlx::Error,
}

/// What a batch did.
enum Batch {
    /// How many of its steps completed, and what stopped it, if anything.
    Ran(usize, Result<Option<Applied>, Error>),
    /// A statement of a snippet failed after snippets before it in the same message had
    /// run: the whole message was rolled back, nothing of it stands, and the steps before
    /// the failed one run again ([`run_prefix`]).
    Undone(Failed),
    /// The server could not parse the message: nothing of it ran, and the transaction
    /// is back where it was before the message. `error` names the statement of
    /// `steps[step]` that holds the syntax error.
    Unparsed { step: usize, error: Error },
}

/// The savepoint around a whole message, so that a message the server cannot parse
/// (which aborts the transaction before anything of it runs) leaves the work of earlier
/// messages of the same transaction standing.
pub(crate) const BATCH_BEGIN: &str = "SAVEPOINT bootschema_batch";
const BATCH_END: &str = "RELEASE SAVEPOINT bootschema_batch";
const BATCH_UNDO: &str = "ROLLBACK TO SAVEPOINT bootschema_batch; RELEASE SAVEPOINT bootschema_batch";

/// Runs `steps` in one message inside the lock's transaction, in one savepoint: each
/// snippet followed by a reading of the server's clock that times it; adopts write no
/// SQL. Records every completed step ([`PgSession::record_applied`]), and returns how
/// many of `steps` completed and what stopped the batch, if anything. A failure rolls
/// the whole message back: when it was the first snippet of the message to run SQL,
/// that snippet's failure is returned (the adopts before it stand); after others, they
/// run again ([`Batch::Undone`]).
async fn run_batch(session: &mut PgSession, steps: &mut [Step], snippets: &[Snippet], table: &LedgerTable) -> Batch {
    let drops: Vec<Vec<String>> = steps
        .iter()
        .map(|step| {
            if step.action.runs_sql() {
                invalid_index_drops::<PgSession>(step, &snippets[step.index])
            } else {
                Vec::new()
            }
        })
        .collect();
    // Each part with the step (in `steps`) it belongs to.
    let mut parts: Vec<(usize, Part, &str)> = Vec::new();
    // The first clock reading also reads the message's arrival.
    let mut clocked = false;
    for (k, step) in steps.iter().enumerate().filter(|(_, s)| s.action.runs_sql()) {
        let snippet = &snippets[step.index];
        parts.extend(drops[k].iter().map(|d| (k, Part::DropInvalidIndex, d.as_str())));
        parts.extend(step.statements_to_run().map(|i| (k, Part::Statement(i), snippet.statement_sql(i))));
        let clock = if clocked { PgSession::CLOCK } else { PgSession::CLOCK_FIRST };
        clocked = true;
        parts.push((k, Part::Clock, clock));
    }
    let (readings, outcome) = if parts.is_empty() {
        (Vec::new(), Ok(()))
    } else {
        // The lock's message may have opened it already, with nothing sent since.
        if !session.conn().take_savepoint_ahead() {
            if let Err(e) = session.execute(BATCH_BEGIN).await {
                return Batch::Ran(0, Err(Error::db("opening the savepoint of a batch of snippets")(e)));
            }
        }
        if let Some(&(k, _, _)) = parts.last() {
            parts.push((k, Part::Batch, BATCH_END));
        }
        let sql: Vec<&str> = parts.iter().map(|(_, _, sql)| *sql).collect();
        let clock: Vec<bool> = parts.iter().map(|(_, part, _)| matches!(part, Part::Clock)).collect();
        session.statements_from(super::step::source_of(parts.iter().map(|(k, part, _)| (*k, *part)), steps, snippets));
        let sent = session.pipeline_clocked(&sql, &clock).await;
        session.statements_from(None);
        sent
    };
    let mut failure = outcome.err();
    if let Some((0, error)) = &failure {
        let sql: Vec<&str> = parts.iter().map(|(_, _, sql)| *sql).collect();
        if let Some(at) = unparsed_part(error, &sql) {
            if let Err(e) = session.execute(BATCH_UNDO).await {
                return Batch::Ran(0, Err(Error::db("rolling back a batch the server could not parse")(e)));
            }
            let (k, part, _) = parts[at];
            let snippet = &snippets[steps[k].index];
            let Some((_, source)) = failure.take() else { return Batch::Ran(0, Ok(None)) };
            let error = match part {
                Part::Statement(i) => {
                    // Nothing of the message ran: this statement alone is reported.
                    report_statement(session, snippet, i, None, Some(&source));
                    ErrorKind::Statement {
                        path: snippet.path.to_string(),
                        line: snippet.statements[i].line,
                        statement: excerpt(snippet.statement_sql(i)),
                        aftermath: "nothing of this snippet ran (the server could not parse it); the snippets \
                                    before it ran on their own and are recorded; fix the statement and boot again"
                            .into(),
                        source,
                    }
                    .into()
                }
                _ => Error::db(format!("running the batch that holds {}", snippet.path))(source),
            };
            return Batch::Unparsed { step: k, error };
        }
    }
    let failed_at = failure.as_ref().map(|(failed, _)| *failed);
    let failure = failure.map(|(failed, error)| (parts[failed].0, parts[failed].1, error));
    if let Some(&(k, part, _)) = failure.as_ref() {
        // The whole message is undone. A snippet's own statement failed: when snippets
        // before it in the message ran SQL, they run again without it; when none did,
        // its failure is the batch's. Our own statements between snippets (a clock
        // reading, the savepoint's release) take the whole message with them.
        if let Err(e) = session.execute(BATCH_UNDO).await {
            return Batch::Ran(0, Err(Error::db("rolling back a failed snippet")(e)));
        }
        let inside = matches!(part, Part::DropInvalidIndex | Part::Statement(_));
        if inside && steps[..k].iter().any(|s| s.action.runs_sql()) {
            let Some((_, _, error)) = failure else { return Batch::Ran(0, Ok(None)) };
            let at = failed_at.unwrap_or(0);
            let ran = parts[..at]
                .iter()
                .filter_map(|&(j, p, _)| match p {
                    Part::Statement(i) if j == k => Some(i),
                    _ => None,
                })
                .collect();
            return Batch::Undone(Failed { step: k, part, ran, error });
        }
        if !inside {
            let Some((_, _, error)) = failure else { return Batch::Ran(0, Ok(None)) };
            return Batch::Ran(0, unit_failure::<PgSession>(&snippets[steps[k].index], part, error));
        }
    }
    // Every step before the failed one completed (the message ran in order up to the
    // failing part); the clock readings only time them.
    let mut readings = readings.into_iter();
    let mut clock = 0;
    let mut done = 0;
    for (k, step) in steps.iter_mut().enumerate() {
        if failure.as_ref().is_some_and(|(failed, _, _)| *failed == k) {
            break;
        }
        let snippet = &snippets[step.index];
        let row = match step.action {
            Action::Adopt | Action::Baselined => unrun_row(step, snippet),
            action if action.runs_sql() => {
                let reading = readings.next().unwrap_or(clock);
                step.duration_ms = (reading - clock).max(0) as u64 / 1000;
                step.statements_run = step.statements_to_run().count() as u32;
                clock = reading;
                ledger_row(snippet, final_state(step), Vec::new(), step.duration_ms as i64)
            }
            _ => {
                done = k + 1;
                continue;
            }
        };
        session.record_applied(table, &row);
        done = k + 1;
    }
    if session.events().is_some() {
        let failed = failed_at.zip(failure.as_ref().map(|(_, _, error)| error));
        report_statements(session, &parts, steps, snippets, done, failed);
    }
    let Some((k, part, error)) = failure else { return Batch::Ran(done, Ok(None)) };
    let snippet = &snippets[steps[k].index];
    Batch::Ran(done, unit_failure::<PgSession>(snippet, part, error))
}

/// Reports to the sync's event sink each statement of a message that ran, up to the
/// part that failed (`failed`: its index and error), reported with its error. The
/// server's clock is read once per snippet: a statement is timed only when it is the
/// one statement its snippet ran (one of the first `done` steps, which completed).
fn report_statements(
    session: &mut PgSession,
    parts: &[(usize, Part, &str)],
    steps: &[Step],
    snippets: &[Snippet],
    done: usize,
    failed: Option<(usize, &sqlx::Error)>,
) {
    for (p, &(k, part, _)) in parts.iter().enumerate() {
        let error = match failed {
            Some((at, _)) if p > at => break,
            Some((at, error)) if p == at => Some(error),
            _ => None,
        };
        let Part::Statement(i) = part else { continue };
        let step = &steps[k];
        let alone = k < done && step.statements_run == 1;
        let duration = alone.then(|| std::time::Duration::from_millis(step.duration_ms));
        report_statement(session, &snippets[step.index], i, duration, error);
    }
}

/// The part of a message that holds the syntax error the server found parsing it,
/// from the error's position (1-based, in characters of the whole message, whose parts
/// are joined by `\n;\n`); `None` for any other error.
fn unparsed_part(error: &sqlx::Error, parts: &[&str]) -> Option<usize> {
    let db = error.as_database_error()?.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    if db.code() != "42601" {
        return None;
    }
    let Some(sqlx::postgres::PgErrorPosition::Original(position)) = db.position() else { return None };
    let mut start = 0;
    let mut found = None;
    for (i, part) in parts.iter().enumerate() {
        if start < position {
            found = Some(i);
        }
        start += part.chars().count() + 3;
    }
    found
}
