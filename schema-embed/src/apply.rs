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
use crate::snippet::{Guard, GuardKind, Snippet, TransactionMode};

/// What applying a plan left to do.
pub(crate) enum Applied {
    /// Every step ran.
    Done,
    /// A `transaction: none` snippet had to release the lock (PostgreSQL, SQLite), or
    /// the next step's decision rests on a reading of the catalog that earlier steps
    /// may have made stale ([`Step::recheck`](crate::plan::Step)): plan again.
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
    let mut i = *next;
    while i < plan.steps.len() {
        *next = i;
        if !plan.steps[i].action.changes_database() {
            i += 1;
            continue;
        }
        let budget = S::STATEMENTS_PER_TRANSACTION.map(|budget| budget.saturating_sub(in_transaction));
        if budget == Some(0) {
            return Ok(Applied::Checkpoint);
        }
        // The plan's decision rests on a reading that earlier steps may have made stale:
        // plan again on a new one (the steps before are recorded, so they are skipped).
        if plan.steps[i].recheck {
            return Ok(Applied::Replan);
        }
        let step = &mut plan.steps[i];
        let snippet = &snippets[step.index];
        let started = Instant::now();
        if step.action == Action::Apply && recheck_unknown_guards(session, step, snippet).await? {
            step.action = Action::Adopt;
            step.reason = "every guard reports present once earlier snippets ran".into();
        }
        // Runs of steps that travel several to a message.
        let run = if S::PIPELINE_ATOMIC && in_the_lock(step, snippet) {
            let end = batch_end(&plan.steps, snippets, i, budget);
            Some(run_batch(session, &mut plan.steps[i..end], snippets, table).await)
        } else if S::PIPELINE_PROGRESS {
            let end = progress_run_end(&plan.steps, i);
            Some(run_progress(session, &mut plan.steps[i..end], snippets, table).await)
        } else {
            None
        };
        if let Some((done, stopped)) = run {
            for step in &plan.steps[i..i + done] {
                if step.action.changes_database() {
                    in_transaction += (step.statements_run as usize).max(1);
                    log_step(step);
                }
            }
            *next = i + done;
            if let Some(wait) = stopped? {
                return Ok(Applied::LockTimedOut(wait));
            }
            i += done;
            continue;
        }
        let step = &mut plan.steps[i];
        let mut replan = false;
        match step.action {
            Action::Adopt | Action::Baselined => {
                let row = ledger_row(snippet, final_state(step), Vec::new(), 0);
                session.write_ledger(table, &row).await.map_err(Error::db(format!(
                    "recording {} as {}",
                    snippet.path,
                    row.state.as_str()
                )))?;
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
        log_step(step);
        if replan {
            return Ok(Applied::Replan);
        }
        i += 1;
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

/// Whether a step changes the database inside the lock's transaction with nothing to
/// ask the database first: an adopt (its row only), or a snippet that runs in a
/// transaction and has no `unless` guard left to ask again right before it runs.
fn in_the_lock(step: &Step, snippet: &Snippet) -> bool {
    if step.recheck {
        return false;
    }
    match step.action {
        Action::Adopt | Action::Baselined => true,
        Action::Apply | Action::Reapply => snippet.transaction == TransactionMode::Wrapped && !asks_again(step),
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

/// How much SQL one message of a batch carries at most (the first snippet goes
/// whatever its size): large seeds should not make one message of many megabytes.
const BATCH_BYTES: usize = 1 << 20;

/// The end of the batch that starts at `start` (which the caller has checked): the
/// following steps that run [`in_the_lock`], as long as their statements fit `budget`
/// (PostgreSQL's statements per transaction; at most 256 without one) and their text
/// [`BATCH_BYTES`].
fn batch_end(steps: &[Step], snippets: &[Snippet], start: usize, budget: Option<usize>) -> usize {
    let budget = budget.unwrap_or(256);
    let mut statements = statements_counted(&steps[start]);
    let mut bytes = snippets[steps[start].index].sql.len();
    let mut end = start + 1;
    while let Some(step) = steps.get(end) {
        if step.action.changes_database() {
            statements += statements_counted(step);
            bytes += snippets[step.index].sql.len();
            if !in_the_lock(step, &snippets[step.index]) || statements > budget || bytes > BATCH_BYTES {
                break;
            }
        }
        end += 1;
    }
    end
}

/// Runs `steps` in one message inside the lock's transaction (PostgreSQL): each
/// snippet in a savepoint of its own, then a reading of the server's clock that times
/// it; adopts write no SQL. Records every completed step ([`Session::record_applied`]),
/// and returns how many of `steps` completed and what stopped the batch, if anything:
/// a failed snippet is rolled back alone, and the ones before it stand.
async fn run_batch<S: Session>(
    session: &mut S,
    steps: &mut [Step],
    snippets: &[Snippet],
    table: &LedgerTable,
) -> (usize, Result<Option<LockWait>, Error>) {
    let drops: Vec<Vec<String>> =
        steps
            .iter()
            .map(|step| {
                if step.action.runs_sql() {
                    invalid_index_drops::<S>(step, &snippets[step.index])
                } else {
                    Vec::new()
                }
            })
            .collect();
    // Each part with the step (in `steps`) it belongs to.
    let mut parts: Vec<(usize, Part, &str)> = Vec::new();
    for (k, step) in steps.iter().enumerate().filter(|(_, s)| s.action.runs_sql()) {
        let snippet = &snippets[step.index];
        parts.push((k, Part::Begin, S::UNIT_BEGIN));
        parts.extend(drops[k].iter().map(|d| (k, Part::DropInvalidIndex, d.as_str())));
        parts.extend(step.statements_to_run().map(|i| (k, Part::Statement(i), snippet.statement_sql(i))));
        parts.push((k, Part::Commit, S::UNIT_COMMIT));
        parts.push((k, Part::Clock, S::CLOCK));
    }
    let (readings, outcome) = if parts.is_empty() {
        (Vec::new(), Ok(()))
    } else {
        let sql: Vec<&str> = parts.iter().map(|(_, _, sql)| *sql).collect();
        let clock: Vec<bool> = parts.iter().map(|(_, part, _)| matches!(part, Part::Clock)).collect();
        let runs: Vec<(&Snippet, usize)> = parts
            .iter()
            .filter_map(|(k, part, _)| match part {
                Part::Statement(i) => Some((&snippets[steps[*k].index], *i)),
                _ => None,
            })
            .collect();
        session.statements_from(source(&runs));
        let sent = session.pipeline_clocked(&sql, &clock).await;
        session.statements_from(None);
        sent
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
        if let Err(e) = session.record_applied(table, &row).await {
            return (done, Err(Error::db(format!("recording {} in the ledger", snippet.path))(e)));
        }
        done = k + 1;
    }
    let Some((k, part, error)) = failure else { return (done, Ok(None)) };
    let snippet = &snippets[steps[k].index];
    (done, unit_failure::<S>(snippet, part, error))
}

/// What a failed part of a snippet's atomic unit means: a lock wait to retry, or the
/// error that stops the sync, naming the file and, for a statement, its line.
fn unit_failure<S: Session>(snippet: &Snippet, part: Part, error: sqlx::Error) -> Result<Option<LockWait>, Error> {
    let what = match part {
        Part::Begin => format!("beginning the transaction of {}", snippet.path),
        Part::DropInvalidIndex => format!("dropping an invalid index before {} (rolled back)", snippet.path),
        Part::Ledger => format!("recording {} in the ledger (rolled back)", snippet.path),
        Part::Commit | Part::Clock => format!("committing {}", snippet.path),
        Part::Start => format!("noting the start time of {}", snippet.path),
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
        Action::Baselined => LedgerState::Baselined,
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

/// One part of a snippet's atomic unit, to name what failed.
#[derive(Clone, Copy)]
enum Part {
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
}

/// SQLite: the snippet's statements and its ledger row in one transaction (a
/// savepoint of the lock's transaction), statement by statement (in-process, nothing
/// to save by sending them together); a failure leaves nothing behind. The ledger row
/// is written inside the savepoint: the unlock commits whatever the transaction holds.
async fn run_atomic<S: Session>(
    session: &mut S,
    step: &mut Step,
    snippet: &Snippet,
    table: &LedgerTable,
) -> Result<Option<LockWait>, Error> {
    let pending: Vec<usize> = step.statements_to_run().collect();
    let Some((part, error)) = one_by_one_atomic(session, step, snippet, table, &pending).await else {
        step.statements_run = pending.len() as u32;
        return Ok(None);
    };
    unit_failure::<S>(snippet, part, error)
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
            session.statements_from(source(&[(snippet, i)]));
            let executed = session.execute(snippet.statement_sql(i)).await;
            session.statements_from(None);
            if let Err(e) = executed {
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
    step.action == Action::Apply && snippet.guards.is_empty() && !guards.is_empty() && guards.iter().all(recovers)
}

/// Whether a guard decides the same on the next boot whatever later snippets did: a
/// catalog guard whose object nothing removes on purpose (an `unless` query may read
/// what later snippets change).
fn recovers(guard: &Guard) -> bool {
    guard.undone_by.is_none() && !matches!(guard.kind, GuardKind::Unless(_))
}

/// Whether a step has `unless` guards that could not be asked at planning time (they
/// read a table that an earlier snippet of this sync creates): they are asked again
/// right before it runs.
fn asks_again(step: &Step) -> bool {
    step.guards.iter().any(|g| matches!(g.status, GuardStatus::Unknown(_)))
}

/// Whether the row of an adopt may wait like [`progress_recoverable`] rows: lost, the
/// next boot adopts the snippet again from the same guards, when every one of them
/// [`recovers`].
fn adopt_recoverable(step: &Step, snippet: &Snippet) -> bool {
    step.action == Action::Adopt && snippet.all_guards().next().is_some() && snippet.all_guards().all(recovers)
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

/// What stopped a snippet at statement `index`, `completed` of its statements being
/// done and recorded: a lock wait to retry, or the error that names the statement.
fn statement_failure<S: Session>(
    snippet: &Snippet,
    index: usize,
    completed: usize,
    error: sqlx::Error,
) -> Result<Option<LockWait>, Error> {
    if S::is_lock_timeout(&error) {
        return Ok(Some(lock_wait(snippet, index, &error)));
    }
    let aftermath = if completed == 0 {
        "no statement of this snippet had completed; fix the statement and boot again".to_string()
    } else {
        format!(
            "{completed} earlier statement(s) of this snippet completed and are recorded; fix this statement and \
             boot again: the snippet resumes after them"
        )
    };
    Err(Error::Statement {
        path: snippet.path.to_string(),
        line: snippet.statements[index].line,
        statement: excerpt(snippet.statement_sql(index)),
        aftermath,
        source: error,
    })
}

/// What writing a statement's ledger row is, for its error: the final row of the
/// snippet's last statement, or a progress row.
fn row_write(snippet: &Snippet, last: bool) -> String {
    if last {
        format!("recording {} in the ledger", snippet.path)
    } else {
        format!("recording progress of {}", snippet.path)
    }
}

/// `transaction: none` snippets on PostgreSQL and SQLite: statements run one by one,
/// each completed one recorded in a `partial` ledger row, so that a snippet that
/// stopped half-way resumes after its completed statements once the failing one is
/// fixed. (MySQL runs every snippet this way, several statements per message:
/// [`run_progress`].)
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
    let pending: Vec<usize> = step.statements_to_run().collect();
    for (n, &i) in pending.iter().enumerate() {
        let statement = snippet.statement_sql(i);
        let last = n + 1 == pending.len();
        session.statements_from(source(&[(snippet, i)]));
        let executed = session.execute(statement).await;
        session.statements_from(None);
        if let Err(e) = executed {
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

/// How many statements of snippets one MySQL message carries at most.
const MESSAGE_STATEMENTS: usize = 256;

/// The end of the run that [`run_progress`] takes from `start` (a step that runs SQL,
/// whose guards the caller has asked again): the following steps that run SQL with
/// nothing to ask the database first, at most 256 of them, so that progress is
/// logged as it goes.
fn progress_run_end(steps: &[Step], start: usize) -> usize {
    let mut end = start + 1;
    let mut taken = 1;
    while let Some(step) = steps.get(end) {
        if step.action.changes_database() {
            if !step.invalid_indexes.is_empty() || asks_again(step) || step.recheck || taken == 256 {
                break;
            }
            taken += 1;
        }
        end += 1;
    }
    end
}

/// One statement that a message of [`run_progress`] carries.
struct Taken {
    /// Its step, in the run.
    step: usize,
    /// The last statement of its snippet.
    last: bool,
    /// Its row waits in the session's queue ([`progress_recoverable`]).
    deferred: bool,
    /// The parts of the message: the statement's, the one that opens its transaction
    /// (a row change committed with its row), and the last one that writes its row.
    statement_part: usize,
    begin_part: Option<usize>,
    row_part: Option<usize>,
    /// The row that records it.
    row: LedgerRow,
}

/// MySQL, whose DDL commits by itself: statements run one by one, each completed one
/// recorded in a `partial` ledger row, so that a snippet that stopped half-way resumes
/// after its completed statements once the failing one is fixed.
///
/// Statements travel several to a message (the text protocol takes a `;`-separated
/// list and stops at the first error): every statement whose row may wait
/// ([`progress_recoverable`]: the guarded DDL of first applications) joins the message,
/// up to [`MESSAGE_STATEMENTS`] or [`BATCH_BYTES`], and the first whose row may not
/// ends it, followed by that row (the upsert that also carries the rows queued before
/// the message). A statement that only changes rows commits together with its row, in
/// one transaction.
///
/// Each statement is timed by the arrival of its result (MySQL sends each one as its
/// statement ends), from the result before it. A row written in the message is built
/// before those times are known: its duration is the server's, from the snippet's start
/// noted in the same message ([`Session::PIPELINE_START`]). The rows of the deferred
/// statements, which could only carry the client's times if written after the message,
/// are queued for the next write instead ([`Session::defer_progress`]): losing them is
/// safe by the same reasoning that lets them wait at all.
///
/// Returns how many of `steps` completed, and what stopped the run, if anything: the
/// statements before the failing one stand and are recorded (or queued).
async fn run_progress<S: Session>(
    session: &mut S,
    steps: &mut [Step],
    snippets: &[Snippet],
    table: &LedgerTable,
) -> (usize, Result<Option<LockWait>, Error>) {
    let pending: Vec<Vec<usize>> =
        steps.iter().map(|s| if s.action.runs_sql() { s.statements_to_run().collect() } else { Vec::new() }).collect();
    // Whether each pending statement's row may wait.
    let deferrable: Vec<Vec<bool>> = pending
        .iter()
        .enumerate()
        .map(|(k, list)| {
            let (step, snippet) = (&steps[k], &snippets[steps[k].index]);
            list.iter().map(|&i| S::DEFERS_RECOVERABLE_PROGRESS && progress_recoverable(step, snippet, i)).collect()
        })
        .collect();
    // Whether a step writes a row of its own (which measures its duration from the
    // snippet's start, noted by the server in the same message).
    let carries_row: Vec<bool> = deferrable.iter().map(|list| list.iter().any(|d| !d)).collect();
    let mut progress: Vec<Vec<String>> = steps.iter().map(|s| s.progress.clone()).collect();
    // The time each step ran, over the messages that carried it.
    let mut elapsed = vec![Duration::ZERO; steps.len()];
    let (mut k, mut n) = (0, 0);
    loop {
        // Steps with nothing left to run: one that changes nothing is passed over; an
        // adopt whose row its guards recover is queued; an adopt, or a snippet whose
        // statements are all skipped, records its final row.
        while k < steps.len() && n == pending[k].len() {
            let (step, snippet) = (&steps[k], &snippets[steps[k].index]);
            if n == 0 && step.action.changes_database() {
                let row = ledger_row(snippet, final_state(step), Vec::new(), 0);
                if S::DEFERS_RECOVERABLE_PROGRESS && adopt_recoverable(step, snippet) {
                    session.defer_progress(table, &row);
                } else if let Err(e) = session.write_ledger(table, &row).await {
                    return (k, Err(Error::db(format!("recording {} in the ledger", snippet.path))(e)));
                }
            }
            (k, n) = (k + 1, 0);
        }
        if k == steps.len() {
            return (k, Ok(None));
        }
        if n == 0 {
            let (step, snippet) = (&steps[k], &snippets[steps[k].index]);
            for drop in invalid_index_drops::<S>(step, snippet) {
                if let Err(e) = session.execute(&drop).await {
                    return (k, Err(Error::db(format!("dropping an invalid index before {}", snippet.path))(e)));
                }
            }
        }

        // One message, from statement `n` of step `k` on.
        let mut parts: Vec<(usize, Part, std::borrow::Cow<'_, str>)> = Vec::new();
        let mut taken: Vec<Taken> = Vec::new();
        let mut bytes = 0;
        let mut done = progress[k].clone();
        loop {
            let (step, snippet) = (&steps[k], &snippets[steps[k].index]);
            let i = pending[k][n];
            let sql = snippet.statement_sql(i);
            if !taken.is_empty() && (taken.len() == MESSAGE_STATEMENTS || bytes + sql.len() > BATCH_BYTES) {
                break;
            }
            bytes += sql.len();
            let last = n + 1 == pending[k].len();
            let deferred = deferrable[k][n];
            // The last statement's row is final and records no progress.
            let row = if last {
                ledger_row(snippet, final_state(step), Vec::new(), 0)
            } else {
                done.push(statement_fingerprint(sql));
                ledger_row(snippet, LedgerState::Partial, done.clone(), 0)
            };
            if n == 0 && carries_row[k] {
                parts.extend(S::PIPELINE_START.map(|start| (k, Part::Start, start.into())));
            }
            let wrapped = !deferred && snippet.transaction == TransactionMode::Wrapped && changes_only_rows(sql);
            let begin_part = wrapped.then(|| {
                parts.push((k, Part::Begin, S::UNIT_BEGIN.into()));
                parts.len() - 1
            });
            parts.push((k, Part::Statement(i), sql.into()));
            let statement_part = parts.len() - 1;
            let row_part = (!deferred).then(|| {
                parts.push((k, Part::Ledger, session.ledger_upsert_literal(table, &row).into()));
                if wrapped {
                    parts.push((k, Part::Commit, S::UNIT_COMMIT.into()));
                }
                parts.len() - 1
            });
            taken.push(Taken { step: k, last, deferred, statement_part, begin_part, row_part, row });
            n += 1;
            if last {
                (k, n) = (k + 1, 0);
                while k < steps.len() && !steps[k].action.changes_database() {
                    k += 1;
                }
                // A step with nothing to run (an adopt, a snippet whose statements are all
                // skipped), or with invalid indexes to drop, starts a message of its own.
                if k == steps.len() || pending[k].is_empty() || !steps[k].invalid_indexes.is_empty() {
                    break;
                }
                done = progress[k].clone();
            }
            if !deferred {
                break;
            }
        }

        let sql: Vec<&str> = parts.iter().map(|(_, _, sql)| sql.as_ref()).collect();
        let runs: Vec<(&Snippet, usize)> = parts
            .iter()
            .filter_map(|(k, part, _)| match part {
                Part::Statement(i) => Some((&snippets[steps[*k].index], *i)),
                _ => None,
            })
            .collect();
        session.statements_from(source(&runs));
        let sent = Instant::now();
        let (arrivals, outcome) = session.pipeline_timed(&sql).await;
        session.statements_from(None);
        // Each part that ran took from the result before it (the first, from the send)
        // to its own, charged to its step.
        let mut previous = sent;
        for (p, arrived) in arrivals.iter().enumerate() {
            elapsed[parts[p].0] += arrived.saturating_duration_since(previous);
            previous = *arrived;
        }
        let failed = outcome.err();
        // Parts before `ran` ran.
        let ran = failed.as_ref().map_or(parts.len(), |(f, _)| *f);
        // The row-writing statement ends the message: its upsert carried the rows queued
        // before the message.
        let written = taken.last().filter(|t| t.row_part.is_some_and(|p| p < ran));
        if written.is_some() {
            session.deferred_written();
        }
        let mut complete = 0;
        for t in &taken {
            let completed = t.statement_part < ran && t.row_part.is_none_or(|p| p < ran);
            if !completed {
                break;
            }
            let ms = elapsed[t.step].as_millis() as u64;
            steps[t.step].statements_run += 1;
            progress[t.step] = t.row.progress.clone();
            // The rows of the message's deferred statements wait for the next write, with
            // the time measured here; unless the message wrote a later row of the snippet.
            if t.deferred && written.is_none_or(|w| w.step != t.step) {
                session.defer_progress(table, &LedgerRow { duration_ms: ms as i64, ..t.row.clone() });
            }
            if t.last {
                steps[t.step].duration_ms = ms;
                complete = t.step + 1;
            }
        }
        let Some((f, error)) = failed else { continue };
        let (s, part) = (parts[f].0, parts[f].1);
        let snippet = &snippets[steps[s].index];
        // A failure inside a row change's transaction leaves it open: undo it.
        let unit = taken.iter().find(|t| t.begin_part.is_some_and(|b| b < f) && t.row_part.is_some_and(|r| f <= r));
        if unit.is_some() {
            if let Err(e) = session.rollback().await {
                return (s, Err(Error::db(format!("rolling back the failed transaction of {}", snippet.path))(e)));
            }
        }
        let failure = match part {
            Part::Statement(i) => statement_failure::<S>(snippet, i, progress[s].len(), error),
            Part::Ledger | Part::Commit if unit.is_some() => {
                let what = format!("recording {} in the ledger (the statement was rolled back)", snippet.path);
                Err(Error::db(what)(error))
            }
            Part::Ledger => {
                let last = taken.iter().any(|t| t.row_part == Some(f) && t.last);
                Err(Error::db(row_write(snippet, last))(error))
            }
            _ => unit_failure::<S>(snippet, part, error),
        };
        return (complete.max(s), failure);
    }
}

/// Where the statements of a message come from, for bootschema's statement log: the
/// first one's file and line, and how many more statements and snippets travel with it.
fn source(runs: &[(&Snippet, usize)]) -> Option<String> {
    let (first, i) = runs.first()?;
    let mut text = format!("{}:{}", first.path, first.statements[*i].line);
    if runs.len() > 1 {
        let mut paths: Vec<&str> = runs.iter().map(|(s, _)| s.path.as_ref()).collect();
        paths.dedup();
        text.push_str(&format!(" and {} more statement(s) of {} snippet(s)", runs.len() - 1, paths.len()));
    }
    Some(text)
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
