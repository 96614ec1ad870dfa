//! Applying the plan: each `apply` / `reapply` snippet with its ledger row, atomically
//! where the database allows it, statement by statement with recorded progress where
//! it does not.

use std::time::{Duration, Instant};

use crate::catalog::{unless_query, GuardStatus};
use crate::config::Settings;
use crate::dialect::Session;
use crate::error::{db_message, excerpt, Error};
use crate::ledger::{statement_fingerprint, LedgerRow, LedgerState, LedgerTable};
use crate::plan::{Action, Plan, Step};
use crate::snippet::{GuardKind, Snippet, TransactionMode};

/// What applying a plan left to do.
pub(crate) enum Applied {
    /// Every step ran.
    Done,
    /// A `transaction: none` snippet had to release the lock (PostgreSQL, SQLite): plan
    /// again.
    Replan,
    /// The lock's transaction holds its budget of statements
    /// ([`Session::STATEMENTS_PER_TRANSACTION`]): the caller commits, takes the lock
    /// again and, if nobody changed the ledger meanwhile, goes on from the next step.
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
    pub message: String,
}

/// Applies the steps of `plan` from `*next` on that change the database, in order,
/// filling in each step's outcome; `*next` is left at the first step not done. Stops
/// at the first failure.
pub(crate) async fn apply<S: Session>(
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
    for (i, step) in plan.steps.iter_mut().enumerate().skip(*next) {
        *next = i;
        if !step.action.changes_database() {
            continue;
        }
        if S::STATEMENTS_PER_TRANSACTION.is_some_and(|budget| in_transaction >= budget) {
            return Ok(Applied::Checkpoint);
        }
        let snippet = &snippets[step.index];
        let started = Instant::now();
        if step.action == Action::Apply && recheck_unknown_guards(session, step, snippet).await? {
            step.action = Action::Adopt;
            step.reason = "every guard reports present once earlier snippets ran".into();
        }
        let mut replan = false;
        match step.action {
            Action::Adopt => {
                let row = ledger_row(snippet, LedgerState::Adopted, Vec::new(), 0);
                session
                    .write_ledger(table, &row)
                    .await
                    .map_err(Error::db(format!("recording {} as adopted", snippet.path)))?;
            }
            _ if S::ATOMIC_DDL && snippet.transaction == TransactionMode::Wrapped => {
                if let Some(wait) = run_atomic(session, step, snippet, table).await? {
                    return Ok(Applied::LockTimedOut(wait));
                }
            }
            _ => {
                replan = S::LOCK_IS_TRANSACTION;
                if replan {
                    session.unlock().await?;
                }
                let ran = run_statement_by_statement(session, step, snippet, table).await;
                if replan {
                    session.lock(table, settings).await?;
                }
                if let Some(wait) = ran? {
                    return Ok(Applied::LockTimedOut(wait));
                }
            }
        }
        step.duration_ms = started.elapsed().as_millis() as u64;
        *next = i + 1;
        in_transaction += (step.statements_run as usize).max(1);
        tracing::info!(
            target: "bootschema",
            version = step.version,
            path = %step.path,
            action = %step.action,
            statements = step.statements_run,
            ms = step.duration_ms,
            "{} {}", step.action, step.path
        );
        if replan {
            return Ok(Applied::Replan);
        }
    }
    *next = plan.steps.len();
    Ok(Applied::Done)
}

/// Evaluates again the `unless` guards that could not run at planning time (they read
/// a table that an earlier snippet of this sync creates). Returns whether every guard
/// of the step now reports present.
async fn recheck_unknown_guards<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
) -> Result<bool, Error> {
    if !step.guards.iter().any(|g| matches!(g.status, GuardStatus::Unknown(_))) {
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
                return Err(Error::GuardQuery {
                    path: snippet.path.to_string(),
                    line: report.line.unwrap_or(0),
                    query,
                    message,
                })
            }
        };
    }
    let guarded = !snippet.guards.is_empty();
    Ok(guarded && step.guards.iter().all(|g| !g.status.is_missing()))
}

fn ledger_row(snippet: &Snippet, state: LedgerState, progress: Vec<String>, duration_ms: i64) -> LedgerRow {
    LedgerRow {
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
        _ => LedgerState::Applied,
    }
}

/// The pause before attempt `attempt` after a lock timeout (attempt 2 is the first
/// retry): 200 ms, doubling, at most 6.4 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100 << attempt.clamp(1, 7).saturating_sub(1))
}

/// The statements that drop the invalid indexes a failed `CREATE INDEX CONCURRENTLY`
/// left behind, so that the snippet can build them again.
fn invalid_index_drops<S: Session>(step: &Step, snippet: &Snippet) -> Vec<String> {
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
    LockWait {
        version: snippet.version,
        path: snippet.path.to_string(),
        line: snippet.statements[index].line,
        statement: snippet.statement_sql(index).to_string(),
        message: db_message(error),
    }
}

/// One part of a pipelined snippet, to name what failed.
#[derive(Clone, Copy)]
enum Part {
    Begin,
    DropInvalidIndex,
    Statement(usize),
    Ledger,
    Commit,
}

/// PostgreSQL and SQLite: the snippet's statements and its ledger row in one
/// transaction (a savepoint of the lock's transaction); a failure leaves nothing behind.
///
/// Where the session pipelines (PostgreSQL), the savepoint, the statements, the ledger
/// row and the release travel as one message: one round trip per snippet.
async fn run_atomic<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<LockWait>, Error> {
    let pending: Vec<usize> =
        (0..snippet.statements.len()).filter(|i| !step.statements_skipped.contains(&(*i as u32))).collect();
    let failure = if S::PIPELINE_ATOMIC {
        pipelined_atomic(session, step, snippet, table, &pending).await
    } else {
        one_by_one_atomic(session, step, snippet, table, &pending).await
    };
    let Some((part, error)) = failure else {
        step.statements_run = pending.len() as u32;
        return Ok(None);
    };
    let what = match part {
        Part::Begin => format!("beginning the transaction of {}", snippet.path),
        Part::DropInvalidIndex => format!("dropping an invalid index before {} (rolled back)", snippet.path),
        Part::Ledger => format!("recording {} in the ledger (rolled back)", snippet.path),
        Part::Commit => format!("committing {}", snippet.path),
        Part::Statement(i) => {
            if S::is_lock_timeout(&error) {
                return Ok(Some(lock_wait(snippet, i, &error)));
            }
            return Err(Error::Statement {
                path: snippet.path.to_string(),
                line: snippet.statements[i].line,
                statement: excerpt(snippet.statement_sql(i)),
                aftermath: "nothing of this snippet was kept (its transaction was rolled back); fix the statement \
                            and boot again"
                    .into(),
                source: error,
            });
        }
    };
    Err(Error::db(what)(error))
}

/// The atomic unit in one round trip: savepoint, statements, release; its ledger row
/// goes with the lock's transaction ([`Session::record_applied`]). On failure the
/// savepoint is rolled back.
async fn pipelined_atomic<S: Session>(
    session: &mut S,
    step: &Step,
    snippet: &Snippet,
    table: &LedgerTable,
    pending: &[usize],
) -> Option<(Part, sqlx::Error)> {
    let started = Instant::now();
    let drops = invalid_index_drops::<S>(step, snippet);
    let mut parts: Vec<(Part, &str)> = vec![(Part::Begin, S::UNIT_BEGIN)];
    parts.extend(drops.iter().map(|d| (Part::DropInvalidIndex, d.as_str())));
    parts.extend(pending.iter().map(|&i| (Part::Statement(i), snippet.statement_sql(i))));
    parts.push((Part::Commit, S::UNIT_COMMIT));
    let sql: Vec<&str> = parts.iter().map(|(_, sql)| *sql).collect();
    if let Err((failed, error)) = session.pipeline(&sql).await {
        let part = parts[failed].0;
        if !matches!(part, Part::Begin) {
            if let Err(e) = session.rollback().await {
                return Some((Part::Commit, e));
            }
        }
        return Some((part, error));
    }
    let row = ledger_row(snippet, final_state(step), Vec::new(), started.elapsed().as_millis() as i64);
    session.record_applied(table, &row).await.err().map(|e| (Part::Ledger, e))
}

/// The atomic unit statement by statement (SQLite: in-process, nothing to save).
async fn one_by_one_atomic<S: Session>(
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
            if let Err(e) = session.execute(snippet.statement_sql(i)).await {
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

/// Whether the progress row of statement `index` may wait for a later write
/// ([`Session::DEFERS_RECOVERABLE_PROGRESS`]): losing it in a crash must leave a ledger
/// from which the next boot does exactly what is left.
///
/// That holds for a statement of a first application whose own inferred guards, none
/// of whose objects anything removes on purpose (`undone_by`), report its object
/// present once it has run: with its row lost, the next boot finds the snippet
/// unrecorded (or at an earlier progress), sees that statement's object, and skips it
/// (or adopts the snippet when every statement's object is there). A snippet with
/// written guards never qualifies: its guards decide for the whole snippet, so a
/// snippet cut off after its first statement could be adopted without its backfill.
/// Rows of everything else (seeds, backfills, unguarded DDL) are written at once and
/// carry the deferred rows with them.
fn progress_recoverable(step: &Step, snippet: &Snippet, index: usize) -> bool {
    let guards = &snippet.statements[index].guards;
    step.action == Action::Apply
        && snippet.guards.is_empty()
        && !guards.is_empty()
        && guards.iter().all(|g| g.undone_by.is_none() && !matches!(g.kind, GuardKind::Unless(_)))
}

/// Whether a statement only changes rows (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, or a
/// `WITH` query), as far as its first word tells: on MySQL it can then commit together
/// with its ledger row. Anything else runs as before, outside a transaction: DDL
/// commits by itself, and a few statements (`SET TRANSACTION`) refuse to run inside one.
pub(crate) fn changes_only_rows(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--").or_else(|| rest.strip_prefix('#')) {
            rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(comment) = rest.strip_prefix("/*").filter(|c| !c.starts_with('!')) {
            rest = comment.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    ["INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"].iter().any(|w| w.eq_ignore_ascii_case(&word))
}

/// MySQL, and `transaction: none` everywhere: statements run one by one, each
/// completed one recorded in a `partial` ledger row, so that a snippet that stopped
/// half-way resumes after its completed statements once the failing one is fixed.
///
/// Where the session pipelines progress (MySQL), each statement travels with the row
/// that records it: one round trip per statement, and the same order on the server. A
/// statement that only changes rows commits together with its row (one transaction);
/// the row of a statement its own guards recover is deferred
/// ([`progress_recoverable`]) and written with the next row that is not.
async fn run_statement_by_statement<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<LockWait>, Error> {
    let started = Instant::now();
    for drop in invalid_index_drops::<S>(step, snippet) {
        session
            .execute(&drop)
            .await
            .map_err(Error::db(format!("dropping an invalid index before {}", snippet.path)))?;
    }
    let mut progress = step.progress.clone();
    let pending: Vec<usize> =
        (0..snippet.statements.len()).filter(|i| !step.statements_skipped.contains(&(*i as u32))).collect();
    for (n, &i) in pending.iter().enumerate() {
        let statement = snippet.statement_sql(i);
        let last = n + 1 == pending.len();
        let mut done = progress.clone();
        done.push(statement_fingerprint(statement));
        let row = if last {
            ledger_row(snippet, final_state(step), Vec::new(), started.elapsed().as_millis() as i64)
        } else {
            ledger_row(snippet, LedgerState::Partial, done.clone(), started.elapsed().as_millis() as i64)
        };
        let (statement_failed, ledger_failed) = if S::PIPELINE_PROGRESS {
            let deferred = S::DEFERS_RECOVERABLE_PROGRESS && progress_recoverable(step, snippet, i);
            let upsert = if deferred { String::new() } else { session.ledger_upsert_literal(table, &row) };
            let wrapped = !deferred && snippet.transaction == TransactionMode::Wrapped && changes_only_rows(statement);
            let mut parts: Vec<&str> = Vec::with_capacity(5);
            if n == 0 {
                parts.extend(S::PIPELINE_START);
            }
            if wrapped {
                parts.push(S::UNIT_BEGIN);
            }
            let at = parts.len();
            parts.push(statement);
            if !deferred {
                parts.push(&upsert);
            }
            if wrapped {
                parts.push(S::UNIT_COMMIT);
            }
            match session.pipeline(&parts).await {
                Ok(()) if deferred => {
                    let row = LedgerRow { duration_ms: started.elapsed().as_millis() as i64, ..row.clone() };
                    session.defer_progress(table, &row);
                    (None, None)
                }
                Ok(()) => {
                    session.deferred_written();
                    (None, None)
                }
                Err((k, e)) => {
                    // A wrapped statement and its row are undone together; the
                    // deferred rows stay queued for the unlock.
                    if wrapped {
                        let _ = session.rollback().await;
                    }
                    if k <= at {
                        (Some(e), None)
                    } else if wrapped {
                        let what = format!("recording {} in the ledger (the statement was rolled back)", snippet.path);
                        return Err(Error::db(what)(e));
                    } else {
                        (None, Some(e))
                    }
                }
            }
        } else {
            match session.execute(statement).await {
                Err(e) => (Some(e), None),
                Ok(()) => (None, session.write_ledger(table, &row).await.err()),
            }
        };
        if let Some(e) = statement_failed {
            if S::is_lock_timeout(&e) {
                return Ok(Some(lock_wait(snippet, i, &e)));
            }
            let aftermath = if progress.is_empty() {
                "no statement of this snippet had completed; fix the statement and boot again".to_string()
            } else {
                format!(
                    "{} earlier statement(s) of this snippet completed and are recorded; fix this statement and \
                     boot again: the snippet resumes after them",
                    progress.len()
                )
            };
            return Err(Error::Statement {
                path: snippet.path.to_string(),
                line: snippet.statements[i].line,
                statement: excerpt(statement),
                aftermath,
                source: e,
            });
        }
        step.statements_run += 1;
        if let Some(e) = ledger_failed {
            let what = if last { "recording {} in the ledger" } else { "recording progress of {}" };
            return Err(Error::db(what.replace("{}", &snippet.path))(e));
        }
        progress = done;
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

#[cfg(test)]
mod tests {
    use super::{backoff, changes_only_rows};
    use std::time::Duration;

    #[test]
    fn only_row_changes_are_recognised_by_their_first_word() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  update t SET a = 1",
            "-- backfill\nUPDATE t SET a = 1",
            "/* why */ DELETE FROM t WHERE a = 1",
            "# note\nREPLACE INTO t VALUES (1)",
            "WITH x AS (SELECT 1) UPDATE t SET a = 1",
        ] {
            assert!(changes_only_rows(sql), "{sql}");
        }
        for sql in [
            "CREATE TABLE t (a INT)",
            "ALTER TABLE t ADD COLUMN insert_at INT",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "/*!50001 INSERT INTO t VALUES (1) */",
            "INSERTED",
            "-- INSERT\nCREATE INDEX i ON t (a)",
            "",
        ] {
            assert!(!changes_only_rows(sql), "{sql}");
        }
    }

    #[test]
    fn backoff_starts_at_200_ms_and_doubles_up_to_a_bound() {
        let pauses: Vec<u128> = (2..=9).map(|a| backoff(a).as_millis()).collect();
        assert_eq!(pauses, vec![200, 400, 800, 1600, 3200, 6400, 6400, 6400]);
        assert_eq!(backoff(0), Duration::from_millis(100));
    }
}
