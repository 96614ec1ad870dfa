//! One wrapped snippet and its ledger row in a savepoint of the lock's transaction,
//! statement by statement: a failure leaves nothing behind (SQLite's way for every
//! snippet, PostgreSQL's for a snippet whose guards are asked again right before it).

use std::time::Instant;

use super::step::{final_state, invalid_index_drops, ledger_row, unit_failure, Applied, Part};
use crate::dialect::Session;
use crate::error::Error;
use crate::ledger::LedgerTable;
use crate::plan::Step;
use crate::snippet::Snippet;

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
            if let Err(e) = super::step::execute_statement(session, snippet, i).await {
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
