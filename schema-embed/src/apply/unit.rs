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
/// what stops the sync, if anything (a lock wait to retry). The step gets the duration
/// its ledger row records.
pub(crate) async fn run_one<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<Applied>, Error> {
    let pending: Vec<usize> = step.statements_to_run().collect();
    let (part, error) = match one_by_one(session, step, snippet, table, &pending).await {
        Ok(duration_ms) => {
            step.statements_run = pending.len() as u32;
            step.duration_ms = duration_ms;
            return Ok(None);
        }
        Err(failure) => failure,
    };
    unit_failure::<S>(snippet, part, error)
}

/// The unit itself: the duration its ledger row records, or what failed (the unit is
/// then rolled back).
async fn one_by_one<S: Session>(
    session: &mut S,
    step: &Step,
    snippet: &Snippet,
    table: &LedgerTable,
    pending: &[usize],
) -> Result<u64, (Part, sqlx::Error)> {
    let started = Instant::now();
    session.begin().await.map_err(|e| (Part::Begin, e))?;
    let ran = async {
        for drop in invalid_index_drops::<S>(step, snippet) {
            session.execute(&drop).await.map_err(|e| (Part::DropInvalidIndex, e))?;
        }
        for &i in pending {
            super::step::execute_statement(session, snippet, i).await.map_err(|e| (Part::Statement(i), e))?;
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let row = ledger_row(snippet, final_state(step), Vec::new(), duration_ms as i64);
        session.write_ledger(table, &row).await.map_err(|e| (Part::Ledger, e))?;
        Ok(duration_ms)
    }
    .await;
    match ran {
        Ok(duration_ms) => session.commit().await.map(|()| duration_ms).map_err(|e| (Part::Commit, e)),
        Err(failure) => match session.rollback().await {
            Ok(()) => Err(failure),
            Err(e) => Err((Part::Commit, e)),
        },
    }
}
