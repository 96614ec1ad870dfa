//! SQLite's way: each snippet alone (in-process, nothing to save by sending snippets
//! together), its statements and its ledger row in one savepoint of the lock's
//! transaction (`unit.rs`); a failure leaves nothing behind. The unlock commits
//! whatever the transaction holds.

use std::time::Instant;

use super::step::{finish, record_adopted, Ran, Work};
use super::{unit, unwrapped};
use crate::dialect::SqliteSession;
use crate::plan::{Action, Step};
use crate::snippet::TransactionMode;

/// Runs `steps[0]` alone (SQLite: in-process, nothing to save by sending snippets
/// together).
pub(crate) async fn run(session: &mut SqliteSession, steps: &mut [Step], work: &Work<'_>) -> Ran {
    let Work { snippets, table, settings, .. } = *work;
    let step = &mut steps[0];
    let snippet = &snippets[step.index];
    let stop = match step.action {
        Action::Adopt | Action::Baselined => {
            let started = Instant::now();
            let recorded = record_adopted(session, step, snippet, table).await;
            finish(step, started);
            recorded.map(|()| None)
        }
        _ if snippet.transaction == TransactionMode::Wrapped => unit::run_one(session, step, snippet, table).await,
        _ => return unwrapped::run(session, step, snippet, table, settings).await,
    };
    match stop {
        Ok(None) => (1, Ok(None)),
        other => (0, other),
    }
}
