//! MySQL's and MariaDB's way: their DDL commits by itself, so statements run one by
//! one, each completed one recorded in a `partial` ledger row, so that a snippet that
//! stopped half-way resumes after its completed statements once the failing one is
//! fixed; several statements and rows travel to a message.

use std::time::{Duration, Instant};

use super::step::{
    final_state, invalid_index_drops, ledger_row, row_write, statement_failure, unit_failure, unrun_row, Part, Ran,
    MESSAGE_BYTES,
};
use crate::dialect::{MySqlSession, Session};
use crate::error::Error;
use crate::ledger::{statement_fingerprint, LedgerRow, LedgerState, LedgerTable};
use crate::plan::{Action, Step};
use crate::snippet::{Guard, GuardKind, Snippet, StatementKind, TransactionMode};

/// Runs `steps[0]` and the following steps that run with nothing to ask first.
pub(crate) async fn run(
    session: &mut MySqlSession,
    steps: &mut [Step],
    snippets: &[Snippet],
    table: &LedgerTable,
) -> Ran {
    let end = progress_run_end(steps);
    run_progress(session, &mut steps[..end], snippets, table).await
}

/// Whether the progress row of statement `index` may wait for a later write
/// ([`MySqlSession::defer_progress`]): losing it in a crash must leave a ledger
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

/// Whether the row of an adopt may wait like [`progress_recoverable`] rows: lost, the
/// next boot adopts the snippet again from the same guards, when every one of them
/// [`recovers`].
///
/// So may the row of a snippet `baselined` from another tool's ledger: lost, the next
/// boot reads that ledger again (bootschema never changes it) and baselines the
/// snippet again. A history of a thousand such rows is then one write, with the mark.
fn adopt_recoverable(step: &Step, snippet: &Snippet) -> bool {
    match step.action {
        Action::Adopt => snippet.all_guards().next().is_some() && snippet.all_guards().all(recovers),
        Action::Baselined => step.source.is_some(),
        _ => false,
    }
}

/// When the parts of a message ended: each result's arrival, from the send.
struct Timing<'a> {
    sent: Instant,
    arrivals: &'a [Instant],
    /// When the message's last answer (a result or the error) arrived.
    ended: Instant,
}

/// Reports to the sync's event sink each statement of a message that ran, timed by
/// the arrival of its result, and the part that failed (`failed`: its index and error)
/// if it is a statement, timed up to the error.
fn report_statements(
    session: &mut MySqlSession,
    parts: &[(usize, Part, std::borrow::Cow<'_, str>)],
    timing: Timing<'_>,
    steps: &[Step],
    snippets: &[Snippet],
    failed: Option<(usize, &sqlx::Error)>,
) {
    for (p, (k, part, _)) in parts.iter().enumerate() {
        let error = match failed {
            Some((at, _)) if p > at => break,
            Some((at, error)) if p == at => Some(error),
            _ => None,
        };
        let start = if p == 0 { timing.sent } else { timing.arrivals.get(p - 1).copied().unwrap_or(timing.sent) };
        let end = timing.arrivals.get(p).copied().unwrap_or(timing.ended);
        if let Part::Statement(i) = part {
            let snippet = &snippets[steps[*k].index];
            super::step::report_statement(session, snippet, *i, Some(end.saturating_duration_since(start)), error);
        }
    }
}

/// How many statements of snippets one MySQL message carries at most.
const MESSAGE_STATEMENTS: usize = 256;

/// The end of the run that [`run_progress`] takes from `steps[0]` (a step that runs SQL,
/// whose guards the caller has asked again): the following steps that run SQL with
/// nothing to ask the database first, at most 256 of them, so that progress is
/// logged as it goes.
fn progress_run_end(steps: &[Step]) -> usize {
    let mut end = 1;
    let mut taken = 1;
    while let Some(step) = steps.get(end) {
        if step.action.changes_database() {
            if !step.invalid_indexes.is_empty() || super::step::asks_again(step) || step.recheck || taken == 256 {
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
/// up to [`MESSAGE_STATEMENTS`] or [`MESSAGE_BYTES`], and the first whose row may not
/// ends it, followed by that row (the upsert that also carries the rows queued before
/// the message). A statement that only changes rows commits together with its row, in
/// one transaction.
///
/// Each statement is timed by the arrival of its result (MySQL sends each one as its
/// statement ends), from the result before it. A row written in the message is built
/// before those times are known: its duration is the server's, from the snippet's start
/// noted in the same message ([`MySqlSession::PIPELINE_START`]). The rows of the deferred
/// statements, which could only carry the client's times if written after the message,
/// are queued for the next write instead ([`MySqlSession::defer_progress`]): losing them is
/// safe by the same reasoning that lets them wait at all.
///
/// Returns how many of `steps` completed, and what stopped the run, if anything: the
/// statements before the failing one stand and are recorded (or queued).
async fn run_progress(
    session: &mut MySqlSession,
    steps: &mut [Step],
    snippets: &[Snippet],
    table: &LedgerTable,
) -> Ran {
    let pending: Vec<Vec<usize>> =
        steps.iter().map(|s| if s.action.runs_sql() { s.statements_to_run().collect() } else { Vec::new() }).collect();
    // Whether each pending statement's row may wait.
    let deferrable: Vec<Vec<bool>> = pending
        .iter()
        .enumerate()
        .map(|(k, list)| {
            let (step, snippet) = (&steps[k], &snippets[steps[k].index]);
            list.iter().map(|&i| progress_recoverable(step, snippet, i)).collect()
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
                let row = if step.action.runs_sql() {
                    ledger_row(snippet, final_state(step), Vec::new(), 0)
                } else {
                    unrun_row(step, snippet)
                };
                if adopt_recoverable(step, snippet) {
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
            for drop in invalid_index_drops::<MySqlSession>(step, snippet) {
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
            if !taken.is_empty() && (taken.len() == MESSAGE_STATEMENTS || bytes + sql.len() > MESSAGE_BYTES) {
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
                parts.push((k, Part::Start, MySqlSession::PIPELINE_START.into()));
            }
            let wrapped = !deferred
                && snippet.transaction == TransactionMode::Wrapped
                && snippet.statements[i].kind == StatementKind::Rows;
            let begin_part = wrapped.then(|| {
                parts.push((k, Part::Begin, MySqlSession::UNIT_BEGIN.into()));
                parts.len() - 1
            });
            parts.push((k, Part::Statement(i), sql.into()));
            let statement_part = parts.len() - 1;
            let row_part = (!deferred).then(|| {
                parts.push((k, Part::Ledger, session.ledger_upsert_literal(table, &row).into()));
                if wrapped {
                    parts.push((k, Part::Commit, MySqlSession::UNIT_COMMIT.into()));
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
        session.statements_from(super::step::source_of(parts.iter().map(|(k, part, _)| (*k, *part)), steps, snippets));
        let sent = Instant::now();
        let (arrivals, outcome) = session.pipeline_timed(&sql).await;
        let ended = Instant::now();
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
        if session.events().is_some() {
            let timing = Timing { sent, arrivals: &arrivals, ended };
            report_statements(session, &parts, timing, steps, snippets, failed.as_ref().map(|(f, e)| (*f, e)));
        }
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
            Part::Statement(i) => statement_failure::<MySqlSession>(snippet, i, progress[s].len(), error),
            Part::Ledger | Part::Commit if unit.is_some() => {
                let what = format!("recording {} in the ledger (the statement was rolled back)", snippet.path);
                Err(Error::db(what)(error))
            }
            Part::Ledger => {
                let last = taken.iter().any(|t| t.row_part == Some(f) && t.last);
                Err(Error::db(row_write(snippet, last))(error))
            }
            _ => unit_failure::<MySqlSession>(snippet, part, error),
        };
        return (complete.max(s), failure);
    }
}
