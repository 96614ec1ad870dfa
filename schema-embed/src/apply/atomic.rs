//! SQLite's way, also PostgreSQL's for a snippet that runs alone: the snippet's
//! statements and its ledger row in one savepoint of the lock's transaction, statement
//! by statement; a failure leaves nothing behind. The ledger row is written inside the
//! savepoint: the unlock commits whatever the transaction holds.

use std::time::Instant;

use super::{
    final_state, finish, invalid_index_drops, ledger_row, record_adopted, unit_failure, unwrapped, Applied, Part, Ran,
    Work,
};
use crate::dialect::{Session, SqliteSession};
use crate::error::Error;
use crate::ledger::LedgerTable;
use crate::plan::{Action, Step};
use crate::snippet::{Snippet, TransactionMode};

/// Runs `steps[0]` alone (SQLite: in-process, nothing to save by sending snippets
/// together).
pub(crate) async fn run(session: &mut SqliteSession, steps: &mut [Step], work: &Work<'_>) -> Ran {
    let Work { snippets, table, settings, .. } = *work;
    let step = &mut steps[0];
    let snippet = &snippets[step.index];
    let started = Instant::now();
    let stop = match step.action {
        Action::Adopt | Action::Baselined => record_adopted(session, step, snippet, table).await.map(|()| None),
        _ if snippet.transaction == TransactionMode::Wrapped => run_one(session, step, snippet, table).await,
        _ => return unwrapped::run(session, step, snippet, table, settings).await,
    };
    match stop {
        Ok(None) => {
            finish(step, started);
            (1, Ok(None))
        }
        other => (0, other),
    }
}

/// Runs one wrapped snippet and its ledger row in a savepoint, statement by statement:
/// what stops the sync, if anything (a lock wait to retry).
pub(crate) async fn run_one<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<Applied>, Error> {
    let pending: Vec<usize> = step.statements_to_run().collect();
    let Some((part, error)) = one_by_one(session, step, snippet, table, &pending).await else {
        step.statements_run = pending.len() as u32;
        return Ok(None);
    };
    unit_failure::<S>(snippet, part, error)
}

async fn one_by_one<S: Session>(
    session: &mut S,
    step: &Step,
    snippet: &Snippet,
    table: &LedgerTable,
    pending: &[usize],
) -> Option<(Part, sqlx::Error)> {
    let started = Instant::now();
    if let Err(e) = session.begin().await {
        return Some((Part::Begin, e));
    }
    let mut failure = None;
    for drop in invalid_index_drops::<S>(step, snippet) {
        if let Err(e) = session.execute(&drop).await {
            failure = Some((Part::DropInvalidIndex, e));
            break;
        }
    }
    if failure.is_none() {
        for &i in pending {
            if let Err(e) = super::execute_statement(session, snippet, i).await {
                failure = Some((Part::Statement(i), e));
                break;
            }
        }
    }
    if failure.is_none() {
        let row = ledger_row(snippet, final_state(step), Vec::new(), started.elapsed().as_millis() as i64);
        match session.write_ledger(table, &row).await {
            Ok(()) => return session.commit().await.err().map(|e| (Part::Commit, e)),
            Err(e) => failure = Some((Part::Ledger, e)),
        }
    }
    if let Err(e) = session.rollback().await {
        return Some((Part::Commit, e));
    }
    failure
}
