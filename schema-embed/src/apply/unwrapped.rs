//! `transaction: none` snippets where the lock is itself a transaction (PostgreSQL's
//! `pg_advisory_xact_lock`, SQLite's `BEGIN IMMEDIATE`): the lock is released, the
//! statements run one by one, each completed one recorded in a `partial` ledger row
//! (so that a snippet that stopped half-way resumes after its completed statements
//! once the failing one is fixed), the lock is taken again, and the sync plans again.

use std::time::Instant;

use super::step::{final_state, finish, invalid_index_drops, ledger_row, row_write, statement_failure, Applied, Ran};
use crate::config::Settings;
use crate::dialect::Session;
use crate::error::Error;
use crate::ledger::{statement_fingerprint, LedgerState, LedgerTable};
use crate::plan::Step;
use crate::snippet::Snippet;

/// Runs `step` outside the lock; a completed step asks the sync to plan again.
pub(crate) async fn run<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
    settings: &Settings,
) -> Ran {
    let started = Instant::now();
    if let Err(e) = session.unlock().await {
        return (0, Err(e));
    }
    let ran = match session.enter_unwrapped().await {
        Ok(()) => {
            let ran = statement_by_statement(session, step, snippet, table).await;
            match session.leave_unwrapped().await {
                Err(e) if ran.is_ok() => Err(e),
                _ => ran,
            }
        }
        Err(e) => Err(e),
    };
    if let Err(e) = session.lock(table, settings).await {
        return (0, Err(e));
    }
    match ran {
        Ok(None) => {
            finish(step, started);
            (1, Ok(Some(Applied::Replan)))
        }
        other => (0, other),
    }
}

async fn statement_by_statement<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<Applied>, Error> {
    let started = Instant::now();
    for drop in invalid_index_drops::<S>(step, snippet) {
        session
            .execute(&drop)
            .await
            .map_err(Error::db(format!("dropping an invalid index before {}", snippet.path)))?;
    }
    let mut progress = step.progress.clone();
    let pending: Vec<usize> = step.statements_to_run().collect();
    for (n, &i) in pending.iter().enumerate() {
        let statement = snippet.statement_sql(i);
        let last = n + 1 == pending.len();
        if let Err(e) = super::step::execute_statement(session, snippet, i).await {
            return statement_failure::<S>(snippet, i, progress.len(), e);
        }
        step.statements_run += 1;
        let elapsed = started.elapsed().as_millis() as i64;
        // The last statement's row is final and records no progress (the fingerprint
        // is a SHA-256: not computed for nothing).
        let row = if last {
            ledger_row(snippet, final_state(step), Vec::new(), elapsed)
        } else {
            progress.push(statement_fingerprint(statement));
            ledger_row(snippet, LedgerState::Partial, progress.clone(), elapsed)
        };
        session.write_ledger(table, &row).await.map_err(Error::db(row_write(snippet, last)))?;
    }
    if pending.is_empty() {
        let row = ledger_row(snippet, final_state(step), Vec::new(), started.elapsed().as_millis() as i64);
        session
            .write_ledger(table, &row)
            .await
            .map_err(Error::db(format!("recording {} in the ledger", snippet.path)))?;
    }
    Ok(None)
}
