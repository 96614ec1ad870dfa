//! Applying the plan: each `apply` / `reapply` snippet with its ledger row.
//!
//! [`apply`] walks the plan and hands each step that changes the database to the way
//! its database applies snippets, one module each, chosen by [`Apply::run`]:
//!
//! * [`batch`] (PostgreSQL): snippets, each in a savepoint of the lock's transaction,
//!   several to a message; the transaction commits after a snippet that locked a table
//!   the app already uses, and every 256 statements;
//! * [`progress`] (MySQL/MariaDB, whose DDL commits by itself): statement by statement,
//!   each recorded in the ledger as it completes, several to a message;
//! * [`atomic`] (SQLite): each snippet and its ledger row in one savepoint, statement by
//!   statement (in-process: nothing to save by sending them together).
//!
//! [`unwrapped`] runs `transaction: none` snippets where the lock is a transaction
//! (PostgreSQL, SQLite): the lock is released, statements run one by one with recorded
//! progress, and the sync plans again. What they share (the outcome of a run, ledger
//! rows, failures, the statement log's source) is in `step.rs`, which imports none of
//! them.

#[cfg(feature = "sqlite")]
pub(crate) mod atomic;
#[cfg(feature = "postgres")]
pub(crate) mod batch;
#[cfg(feature = "mysql")]
pub(crate) mod progress;
mod step;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
mod unit;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
pub(crate) mod unwrapped;

pub(crate) use step::{final_state, Applied, Ran, Work};

use self::step::asks_again;
use crate::catalog::{unless_query, GuardStatus};
use crate::config::Settings;
use crate::dialect::Session;
use crate::error::{Error, ErrorKind};
use crate::ledger::LedgerTable;
use crate::plan::{Action, Plan, Step};
use crate::snippet::{GuardKind, Snippet};

/// How a database applies steps: the one item that chooses the executor.
pub(crate) trait Apply: Session {
    /// Runs `steps[0]`, which changes the database and whose `unless` guards were asked
    /// again, and as many of the following steps as travel with it.
    async fn run(&mut self, steps: &mut [Step], work: &Work<'_>) -> Ran;
}

#[cfg(feature = "postgres")]
impl Apply for crate::dialect::PgSession {
    async fn run(&mut self, steps: &mut [Step], work: &Work<'_>) -> Ran {
        batch::run(self, steps, work).await
    }
}

#[cfg(feature = "mysql")]
impl Apply for crate::dialect::MySqlSession {
    async fn run(&mut self, steps: &mut [Step], work: &Work<'_>) -> Ran {
        progress::run(self, steps, work.snippets, work.table).await
    }
}

#[cfg(feature = "sqlite")]
impl Apply for crate::dialect::SqliteSession {
    async fn run(&mut self, steps: &mut [Step], work: &Work<'_>) -> Ran {
        atomic::run(self, steps, work).await
    }
}

/// Applies the steps of `plan` from `*next` on that change the database, in order,
/// filling in each step's outcome; `*next` is left at the first step not done. Stops
/// at the first failure.
pub(crate) async fn apply<S: Apply>(
    session: &mut S,
    plan: &mut Plan,
    next: &mut usize,
    snippets: &[Snippet],
    table: &LedgerTable,
    settings: &Settings,
) -> Result<Applied, Error> {
    // Statements run in the lock's transaction so far: every call starts right after
    // the lock was taken.
    let mut in_transaction = 0;
    let mut i = *next;
    while i < plan.steps.len() {
        *next = i;
        if !plan.steps[i].action.changes_database() {
            i += 1;
            continue;
        }
        // The plan's decision rests on a reading that earlier steps may have made stale:
        // plan again on a new one (the steps before are recorded, so they are skipped).
        if plan.steps[i].recheck {
            return Ok(Applied::Replan);
        }
        let step = &mut plan.steps[i];
        let snippet = &snippets[step.index];
        if step.action == Action::Apply && recheck_unknown_guards(session, step, snippet).await? {
            step.action = Action::Adopt;
            step.reason = "every guard reports present once earlier snippets ran".into();
        }
        let work = Work { snippets, table, settings, in_transaction };
        let (done, then) = session.run(&mut plan.steps[i..], &work).await;
        for step in &plan.steps[i..i + done] {
            if step.action.changes_database() {
                // What the lock's transaction holds: statements run (an adopt's or a
                // baseline's row alone takes no lock worth counting).
                if step.action.runs_sql() {
                    in_transaction += (step.statements_run as usize).max(1);
                }
                log_step(step);
                if let Some(sink) = session.events() {
                    sink.event(&crate::events::Event::Step(step));
                }
            }
        }
        i += done;
        *next = i;
        if let Some(stop) = then? {
            return Ok(stop);
        }
    }
    *next = plan.steps.len();
    Ok(Applied::Done)
}

fn log_step(step: &Step) {
    tracing::info!(
        target: "bootschema",
        version = step.version,
        path = %step.path,
        action = %step.action,
        statements = step.statements_run,
        ms = step.duration_ms,
        "{} {}", step.action, step.path
    );
}

/// Evaluates again the `unless` guards that could not run at planning time (they read
/// a table that an earlier snippet of this sync creates). Returns whether every guard
/// of the step now reports present.
async fn recheck_unknown_guards<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
) -> Result<bool, Error> {
    if !asks_again(step) {
        return Ok(false);
    }
    for (report, guard) in step.guards.iter_mut().zip(snippet.all_guards()) {
        let (GuardStatus::Unknown(_), GuardKind::Unless(query)) = (&report.status, &guard.kind) else { continue };
        let query = unless_query(query).to_string();
        let answer = session.probe(std::slice::from_ref(&query)).await?.pop().unwrap_or(Ok(false));
        report.status = match answer {
            Ok(true) => GuardStatus::Present,
            Ok(false) => GuardStatus::Missing,
            Err(message) => {
                return Err(ErrorKind::GuardQuery {
                    path: snippet.path.to_string(),
                    line: report.line.unwrap_or(0),
                    query,
                    message,
                }
                .into())
            }
        };
    }
    let guarded = !snippet.guards.is_empty();
    Ok(guarded && step.guards.iter().all(|g| !g.status.is_missing()))
}
