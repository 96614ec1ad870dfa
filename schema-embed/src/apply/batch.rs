//! PostgreSQL's way: consecutive snippets travel in one message inside the lock's
//! transaction, each in a savepoint of its own followed by a reading of the server's
//! clock that times it; their ledger rows are written before the commit, together.
//!
//! A savepoint's locks last until its transaction ends, not until the savepoint is
//! released. So the transaction commits (and the lock is taken again, [`Applied::Checkpoint`])
//! right after a snippet that locked a table the database held before this sync (or
//! one the build could not name, on a database that held tables): the app's queries on
//! that table then wait for that snippet alone, never for the snippets after it.
//! Batching stays where it costs no one anything: objects created by the same sync, an
//! empty database. The transaction also commits every [`STATEMENTS_PER_TRANSACTION`].

use super::{
    atomic, final_state, invalid_index_drops, ledger_row, unit_failure, unwrapped, Applied, Part, Ran, Work,
    MESSAGE_BYTES,
};
use crate::dialect::{PgSession, Session};
use crate::error::Error;
use crate::ledger::LedgerTable;
use crate::plan::{Action, Step};
use crate::snippet::{Snippet, TransactionMode};

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
        run_batch(session, &mut steps[..end], snippets, table).await
    } else if snippet.transaction == TransactionMode::Wrapped {
        let started = std::time::Instant::now();
        match atomic::run_one(session, &mut steps[0], snippet, table).await {
            Ok(None) => {
                super::finish(&mut steps[0], started);
                (1, Ok(None))
            }
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
        Action::Apply | Action::Reapply => snippet.transaction == TransactionMode::Wrapped && !super::asks_again(step),
        _ => false,
    }
}

/// How many statements a step counts against the budget (at least one, as for an
/// adopt).
fn statements_counted(step: &Step) -> usize {
    if step.action.runs_sql() {
        step.statements_to_run().count().max(1)
    } else {
        1
    }
}

/// The end of the batch that starts at `steps[0]` (which the caller has checked): the
/// following steps that run [`in_the_lock`], as long as their statements fit `budget`
/// and their text [`MESSAGE_BYTES`], up to the first that locks a table the app uses
/// ([`Step::locks_existing`]), included.
fn batch_end(steps: &[Step], snippets: &[Snippet], budget: usize) -> usize {
    let mut statements = statements_counted(&steps[0]);
    let mut bytes = snippets[steps[0].index].sql.len();
    let mut end = 1;
    if steps[0].locks_existing {
        return end;
    }
    while let Some(step) = steps.get(end) {
        if step.action.changes_database() {
            statements += statements_counted(step);
            bytes += snippets[step.index].sql.len();
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

/// Runs `steps` in one message inside the lock's transaction: each snippet in a
/// savepoint of its own, then a reading of the server's clock that times it; adopts
/// write no SQL. Records every completed step ([`PgSession::record_applied`]), and
/// returns how many of `steps` completed and what stopped the batch, if anything: a
/// failed snippet is rolled back alone, and the ones before it stand.
async fn run_batch(session: &mut PgSession, steps: &mut [Step], snippets: &[Snippet], table: &LedgerTable) -> Ran {
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
    for (k, step) in steps.iter().enumerate().filter(|(_, s)| s.action.runs_sql()) {
        let snippet = &snippets[step.index];
        parts.push((k, Part::Begin, PgSession::UNIT_BEGIN));
        parts.extend(drops[k].iter().map(|d| (k, Part::DropInvalidIndex, d.as_str())));
        parts.extend(step.statements_to_run().map(|i| (k, Part::Statement(i), snippet.statement_sql(i))));
        parts.push((k, Part::Commit, PgSession::UNIT_COMMIT));
        parts.push((k, Part::Clock, PgSession::CLOCK));
    }
    let (readings, outcome) = if parts.is_empty() {
        (Vec::new(), Ok(()))
    } else {
        let sql: Vec<&str> = parts.iter().map(|(_, _, sql)| *sql).collect();
        let clock: Vec<bool> = parts.iter().map(|(_, part, _)| matches!(part, Part::Clock)).collect();
        session.pipeline_clocked(&sql, &clock).await
    };
    let failure = outcome.err().map(|(failed, error)| (parts[failed].0, parts[failed].1, error));
    if let Some((_, part, _)) = &failure {
        if !matches!(part, Part::Begin) {
            if let Err(e) = session.rollback().await {
                return (0, Err(Error::db("rolling back a failed snippet")(e)));
            }
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
            Action::Adopt | Action::Baselined => ledger_row(snippet, final_state(step), Vec::new(), 0),
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
    let Some((k, part, error)) = failure else { return (done, Ok(None)) };
    let snippet = &snippets[steps[k].index];
    (done, unit_failure::<PgSession>(snippet, part, error))
}
