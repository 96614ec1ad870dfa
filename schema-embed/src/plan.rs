//! The plan: what each snippet needs, decided from the ledger, the catalog snapshot
//! and the settings, before anything is applied.

use std::collections::HashMap;
use std::fmt;

use crate::catalog::{CatalogSnapshot, GuardStatus, Probes};
use crate::config::Settings;
use crate::foreign::{ForeignMissing, Standing};
use crate::ledger::{Ledger, LedgerState};
use crate::snippet::{DialectKind, Guard, GuardKind, GuardOrigin, OnChange, Snippet};

/// What is done with one snippet. See the table in the crate docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// In the ledger with the same checksum: nothing to do.
    Skip,
    /// Not in the ledger (or stopped half-way) and needed: run it, record it.
    Apply,
    /// Not in the ledger, every guard present: record it without running it.
    Adopt,
    /// At or below the baseline, in the database's history before bootschema: record it
    /// without running it.
    Baselined,
    /// The database holds objects but no record that this snippet ran, and some of its
    /// statements cannot be proven done by a guard: refuses the sync, before anything
    /// runs (a baseline, or a written guard, resolves it).
    Unproven,
    /// `on_change: reapply` and the text changed: run it again.
    Reapply,
    /// In the ledger with another checksum: refuses the sync.
    Edited,
    /// In the ledger, but a guard reports its object missing: warned, not re-created.
    Drift,
    /// Destructive and not allowed: refuses the sync.
    Blocked,
}

impl Action {
    /// Every action, in the order reports count them.
    pub const ALL: [Action; 9] = [
        Action::Skip,
        Action::Apply,
        Action::Adopt,
        Action::Baselined,
        Action::Reapply,
        Action::Edited,
        Action::Drift,
        Action::Blocked,
        Action::Unproven,
    ];

    /// Whether the step needs a person before the schema is in sync: drift, an edited,
    /// blocked or unproven snippet.
    pub fn needs_person(self) -> bool {
        matches!(self, Action::Drift | Action::Edited | Action::Blocked | Action::Unproven)
    }

    /// Whether the step changes the database (runs SQL or writes the ledger).
    pub fn changes_database(self) -> bool {
        matches!(self, Action::Apply | Action::Adopt | Action::Baselined | Action::Reapply)
    }

    /// Whether the step runs the snippet's SQL.
    pub fn runs_sql(self) -> bool {
        matches!(self, Action::Apply | Action::Reapply)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Skip => "skip",
            Action::Apply => "apply",
            Action::Adopt => "adopt",
            Action::Baselined => "baselined",
            Action::Unproven => "unproven",
            Action::Reapply => "reapply",
            Action::Edited => "edited",
            Action::Drift => "drift",
            Action::Blocked => "blocked",
        })
    }
}

/// One guard and what the snapshot said of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardReport {
    /// The guard as it would be written (`column_missing(users.email)`).
    pub guard: String,
    /// The line of the `-- guard:` directive, for written guards.
    pub line: Option<u32>,
    /// For inferred guards, the 0-based index of the statement they guard.
    pub statement: Option<u32>,
    /// The version of the snippet that drops or renames away the guard's object, if
    /// any: once it has run, *missing* is expected, not drift.
    pub undone_by: Option<u64>,
    /// Present, missing, or unknown (with the query's error).
    #[serde(flatten)]
    pub status: GuardStatus,
}

/// One snippet in the plan, and after a sync, what became of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The snippet's version.
    pub version: u64,
    /// The snippet's file.
    pub path: String,
    /// The snippet's description.
    pub description: String,
    /// What is (or was) done.
    pub action: Action,
    /// Why, in a few words.
    pub reason: String,
    /// The embedded snippet's checksum.
    pub checksum: String,
    /// The checksum in the ledger, when there is a row.
    pub recorded_checksum: Option<String>,
    /// For a step `baselined` from another tool's ledger: that tool (`"sqlx"` in the
    /// JSON plan). The reason says whether its checksum was verified.
    pub source: Option<crate::snippet::Tool>,
    /// Whether the snippet is marked `-- destructive`.
    pub destructive: bool,
    /// Every guard and its status.
    pub guards: Vec<GuardReport>,
    /// Statements (0-based) that will not run: completed earlier (a resumed partial
    /// snippet) or whose own guards report their objects present.
    pub statements_skipped: Vec<u32>,
    /// How many statements the snippet has.
    pub statements_total: u32,
    /// Every statement, with whether it runs and why.
    pub statements: Vec<StatementPlan>,
    /// How many statements ran (after a sync).
    pub statements_run: u32,
    /// How long the step took, in milliseconds (after a sync).
    pub duration_ms: u64,
    /// Whether this sync carried the step out (it changes the database and is now
    /// committed and recorded); in a failed sync's report ([`crate::Error::report`]),
    /// what was done before the failure.
    pub completed: bool,
    #[serde(skip)]
    pub(crate) index: usize,
    #[serde(skip)]
    pub(crate) progress: Vec<String>,
    /// Whether the step skips or adopts on a guard that an earlier step of the same
    /// sync may have made stale: the sync reads the catalog again when it gets here.
    #[serde(skip)]
    pub(crate) recheck: bool,
    /// `(schema, index)` of indexes a guard waits for that exist but are invalid (a
    /// failed `CREATE INDEX CONCURRENTLY`): dropped before the snippet runs again.
    #[serde(skip)]
    pub(crate) invalid_indexes: Vec<(String, String)>,
    /// Whether a statement it runs locks a table that the catalog held when the plan
    /// was made, or one the build could not name while the catalog held tables: a table
    /// the app may be using. On PostgreSQL the lock's transaction commits right after
    /// such a snippet, so that the app waits for it alone (`apply::batch`).
    #[serde(skip)]
    pub(crate) locks_existing: bool,
}

impl Step {
    /// The 0-based indexes of the statements that run, in order: every statement of
    /// the snippet but the [`Step::statements_skipped`].
    pub(crate) fn statements_to_run(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.statements_total as usize).filter(|i| !self.statements_skipped.contains(&(*i as u32)))
    }
}

/// One statement of a step: whether it runs, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementPlan {
    /// The statement's 0-based index in its snippet.
    pub index: u32,
    /// The 1-based line of the file where it starts.
    pub line: u32,
    /// The statement's start, on one line, cut after 120 characters.
    pub sql: String,
    /// Whether it runs (for a step that runs SQL).
    pub run: bool,
    /// Why it runs or not, in a few words.
    pub reason: String,
    /// The statement's own guards and their status (inferred from its DDL).
    pub guards: Vec<GuardReport>,
}

/// A ledger row whose snippet is no longer embedded (a file removed after it was applied).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Orphan {
    /// The recorded version.
    pub version: u64,
    /// The recorded file.
    pub path: String,
    /// Whether it is newer than every embedded snippet: a newer release recorded it, and
    /// this binary is older (a rolling deploy, a rollback), not a file removed.
    pub newer: bool,
}

/// Every snippet's step, in version order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The database the plan is for.
    pub dialect: DialectKind,
    /// One step per embedded snippet, in version order.
    pub steps: Vec<Step>,
    /// Ledger rows without an embedded snippet: reported, never acted on.
    pub orphans: Vec<Orphan>,
    /// Versions another tool's ledger (sqlx, diesel, refinery, Flyway) lists whose file
    /// the folder lacks: reported, never acted on.
    pub foreign_missing: Vec<ForeignMissing>,
    /// A newer release synced after this binary's snippets did (this binary is the
    /// older one of a rolling deploy or a rollback): what that release changed
    /// (reapplied or edited snippets, objects it dropped) is left as it is, and this
    /// binary writes no mark.
    pub newer_release: bool,
}

impl Plan {
    /// The plan as this binary's release may carry it out: when a newer release has
    /// synced since this set's last sync ([`Ledger::newer_release_synced`]), a snippet
    /// whose row that release rewrote is neither reapplied, nor refused as edited, nor
    /// reported as drift. Otherwise an older pod restarting during a rolling deploy would
    /// undo what the new pods already use.
    pub(crate) fn for_release(mut self, ledger: &Ledger, mark: &str) -> Plan {
        if !ledger.newer_release_synced(mark) {
            return self;
        }
        self.newer_release = true;
        for step in self.steps.iter_mut() {
            if matches!(step.action, Action::Reapply | Action::Edited | Action::Drift) {
                step.reason = format!(
                    "left as it is: a newer release synced after this binary ({}, {})",
                    step.action, step.reason
                );
                step.action = Action::Skip;
                step.statements.iter_mut().for_each(|s| s.run = false);
                step.statements_skipped.clear();
            }
        }
        self
    }

    /// Whether any step changes the database.
    pub fn has_work(&self) -> bool {
        self.steps.iter().any(|s| s.action.changes_database())
    }

    /// The refusal this plan carries (edited or blocked snippets), if any.
    pub fn refusal(&self, settings: &Settings) -> Option<Refusal> {
        let pick = |action| self.steps.iter().filter(|s| s.action == action).cloned().collect::<Vec<_>>();
        let refusal = Refusal {
            edited: pick(Action::Edited),
            blocked: pick(Action::Blocked),
            unproven: pick(Action::Unproven),
            allow_variable: settings.var("ALLOW_DESTRUCTIVE"),
            baseline_variable: settings.var("BASELINE"),
        };
        (!refusal.edited.is_empty() || !refusal.blocked.is_empty() || !refusal.unproven.is_empty()).then_some(refusal)
    }
}

/// Why a plan cannot be applied: the edited, blocked and unproven snippets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Applied snippets whose text changed.
    pub edited: Vec<Step>,
    /// Destructive snippets that are not allowed.
    pub blocked: Vec<Step>,
    /// Snippets of a history the database holds no record of, which guards cannot
    /// prove done.
    pub unproven: Vec<Step>,
    /// The variable that allows destructive snippets.
    pub allow_variable: String,
    /// The variable that sets a baseline.
    pub baseline_variable: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refusing to sync the schema; nothing was applied")?;
        for s in &self.edited {
            write!(
                f,
                "\n  {}: edited after it was applied (ledger {}, file {}). Applied snippets are history: \
                 restore the file and put the change in a new snippet, or mark it `-- on_change: reapply` \
                 if it is safe to run again",
                s.path,
                s.recorded_checksum.as_deref().unwrap_or("?"),
                s.checksum
            )?;
        }
        if let Some(first) = self.unproven.first() {
            let last = self.unproven.last().map_or(first.version, |s| s.version);
            write!(
                f,
                "\n  {}: {}. The database holds objects but no record of this part of the history, and \
                 running it again could repeat a seed or a backfill, or re-create what a later snippet renamed \
                 or dropped. If the database already holds the history up to some version, record it without \
                 running it: set {}=<version> (or `schema baseline <version>`, or `Syncer::baseline`); \
                 otherwise give the snippet a `-- guard:` that proves it done",
                first.path, first.reason, self.baseline_variable
            )?;
            if self.unproven.len() > 1 {
                write!(f, " ({} snippets are unproven, versions {} to {last})", self.unproven.len(), first.version)?;
            }
        }
        for s in &self.blocked {
            write!(
                f,
                "\n  {}: destructive, and destructive snippets are not allowed. Review it, then set {}=1 \
                 (or allow it on the builder) for the deploy that should run it",
                s.path, self.allow_variable
            )?;
        }
        Ok(())
    }
}

/// Decides every snippet's step.
pub(crate) fn plan(
    dialect: DialectKind,
    snippets: &[Snippet],
    ledger: &Ledger,
    snapshot: &CatalogSnapshot,
    probes: &Probes,
    settings: &Settings,
) -> Plan {
    // Guards decide from facts: a guard reports present only when the snapshot shows
    // its object, and nothing run earlier in this sync may have removed it since. The
    // prediction of what the earlier snippets that run create, rename and remove (the
    // `expected` catalog) may only say "missing": it sends work ahead, it never skips
    // any. Once a statement that may remove something is to run (a drop, a rename, a
    // CASCADE, anything the build could not read), a later step that would skip or
    // adopt on the strength of the snapshot is marked to be decided again, on a new
    // reading, when the sync reaches it.
    let mut expected = snapshot.clone();
    let mut assumed = false;
    let mut unsettled = false;
    // Which snippets belong to a history the database holds no record of: where the
    // database holds the snippets' objects but has no ledger, every one (or, with a
    // baseline, those at or below it: the operator says the history ends there); where
    // the ledger has rows, those older than its first row. (A ledger without rows was
    // created by a sync that went on to apply, under the lock, onto a database that was
    // empty or proven: what it holds is bootschema's work, as its guards tell.)
    // "Older" and "at or below" go by the order the snippets apply in (the build may
    // order them as text), not by their numbers.
    let first_recorded = snippets.iter().position(|s| ledger.rows.contains_key(&s.version));
    // Another tool's ledger with rows is the record of the history: what it lists is
    // baselined, and what it does not list is decided as on any database bootschema
    // manages.
    let recorded_elsewhere = ledger.others.recorded;
    let populated = !ledger.exists && !recorded_elsewhere && snapshot.holds_any(dialect, snippets);
    let baseline_end = settings.baseline.and_then(|b| last_at_or_below(snippets, b));
    let era = |index: usize| {
        let baselined = baseline_end.is_some_and(|end| index <= end);
        History {
            unrecorded: (populated && (settings.baseline.is_none() || baselined))
                || (!recorded_elsewhere && first_recorded.is_some_and(|first| index < first)),
            baseline: settings.baseline.filter(|_| baselined),
        }
    };
    // The guards each version undoes, found once (looking them up for every snippet
    // that runs, among every guard of the set, was quadratic: two thirds of a
    // 3,000-snippet sync's client time).
    let mut undone_by: HashMap<u64, Vec<&Guard>> = HashMap::new();
    for guard in snippets.iter().flat_map(Snippet::all_guards) {
        if let Some(version) = guard.undone_by {
            undone_by.entry(version).or_default().push(guard);
        }
    }
    let mut steps = Vec::with_capacity(snippets.len());
    for (index, snippet) in snippets.iter().enumerate() {
        let catalogs = Catalogs { facts: snapshot, probes, expected: &expected, assumed, unsettled };
        let step = plan_step(dialect, index, snippet, ledger, catalogs, era(index), settings);
        if step.action.runs_sql() {
            assumed = true;
            unsettled |= step.statements_to_run().any(|i| snippet.statements[i].catalog.may_remove());
            for guard in snippet.all_guards() {
                expected.assume_ran(dialect, guard);
            }
            for guard in undone_by.get(&snippet.version).into_iter().flatten() {
                expected.assume_undone(dialect, guard);
            }
        }
        steps.push(step);
    }
    let newest = snippets.iter().map(|s| s.version).max();
    let orphans = ledger
        .rows
        .values()
        .filter(|row| !snippets.iter().any(|s| s.version == row.version))
        .map(|row| Orphan {
            version: row.version,
            path: row.path.clone(),
            newer: newest.is_none_or(|newest| row.version > newest),
        })
        .collect();
    Plan { dialect, steps, orphans, foreign_missing: ledger.others.missing.clone(), newer_release: false }
}

/// What the plan knows of a snippet's era.
#[derive(Clone, Copy)]
struct History {
    /// The database holds no record of the era: objects but no ledger rows, or a
    /// snippet older than the ledger's first row.
    unrecorded: bool,
    /// The operator's baseline, when the snippet is at or below it.
    baseline: Option<u64>,
}

/// The position of the last snippet at or below `version`, in the order the snippets
/// apply in: the snippet of that version, or else the last one whose number is not
/// greater (the two are the same where the snippets are ordered by number).
pub(crate) fn last_at_or_below(snippets: &[Snippet], version: u64) -> Option<usize> {
    snippets.iter().rposition(|s| s.version == version).or_else(|| snippets.iter().rposition(|s| s.version <= version))
}

/// What a step is planned against.
#[derive(Clone, Copy)]
struct Catalogs<'a> {
    /// The catalog as read.
    facts: &'a CatalogSnapshot,
    /// The answers of the `unless` queries, as read with it.
    probes: &'a Probes,
    /// The catalog as the earlier steps that run are expected to leave it.
    expected: &'a CatalogSnapshot,
    /// Whether an earlier step of this sync runs SQL.
    assumed: bool,
    /// Whether an earlier step runs a statement that may remove objects.
    unsettled: bool,
}

impl Catalogs<'_> {
    /// A guard's status: missing when the facts or the prediction say so, present only
    /// when both do.
    fn status(&self, dialect: DialectKind, guard: &Guard) -> GuardStatus {
        let fact = self.facts.status(dialect, guard, self.probes);
        if fact.is_missing() {
            return fact;
        }
        self.expected.status_expected(dialect, guard, self.probes, self.assumed)
    }

    /// Whether a guard found present may be stale by the time its step runs: a catalog
    /// object after a statement that may remove objects, an `unless` query after any
    /// statement (rows change too).
    fn stale(&self, guard: &Guard) -> bool {
        match guard.kind {
            GuardKind::Unless(_) => self.assumed,
            _ => self.unsettled,
        }
    }
}

fn plan_step(
    dialect: DialectKind,
    index: usize,
    snippet: &Snippet,
    ledger: &Ledger,
    catalogs: Catalogs<'_>,
    history: History,
    settings: &Settings,
) -> Step {
    let guards: Vec<(&Guard, GuardStatus)> = snippet.all_guards().map(|g| (g, catalogs.status(dialect, g))).collect();
    let row = ledger.rows.get(&snippet.version);
    // A guard whose object a later snippet (already recorded) or this one removes on
    // purpose reports missing without anything having drifted.
    let undone = |g: &Guard| g.undone_by.is_some_and(|v| v == snippet.version || ledger.rows.contains_key(&v));
    let any_missing = guards.iter().any(|(_, status)| status.is_missing());
    // A snippet is guarded when its own guards decide it, or when every statement has
    // guards of its own; anything else runs exactly once, by the ledger alone.
    let guarded = !snippet.guards.is_empty()
        || (!snippet.statements.is_empty() && snippet.statements.iter().all(|s| !s.guards.is_empty()));

    let mut progress = Vec::new();
    let (action, reason) = match row {
        // A re-runnable snippet starts again from the top: its statement that was
        // cut off may have completed without being recorded.
        Some(_) if row.is_some_and(|r| r.state == LedgerState::Partial) && snippet.on_change == OnChange::Reapply => {
            (Action::Apply, "stopped half-way before; on_change: reapply, so it runs again from the start".into())
        }
        Some(row) if row.state == LedgerState::Partial => {
            progress = row.progress.clone();
            (Action::Apply, format!("stopped half-way before; {} statement(s) done, resuming", row.progress.len()))
        }
        Some(row) if row.checksum == snippet.checksum || row.checksum == snippet.legacy_checksum => {
            match guards.iter().find(|(g, s)| s.is_missing() && !undone(g)) {
                Some((guard, _)) => (Action::Drift, format!("recorded, but {} reports missing", guard.kind)),
                None => (Action::Skip, format!("recorded ({})", row.state.as_str())),
            }
        }
        Some(_) if snippet.on_change == OnChange::Reapply => {
            (Action::Reapply, "text changed; on_change: reapply".into())
        }
        Some(_) => (Action::Edited, "text changed after it was applied".into()),
        None if !guarded => (Action::Apply, "not recorded; no guard, runs once".into()),
        None if any_missing => {
            let named = |unknown: bool| -> Vec<String> {
                guards
                    .iter()
                    .filter(|(_, s)| s.is_missing() && matches!(s, GuardStatus::Unknown(_)) == unknown)
                    .map(|(g, _)| g.kind.to_string())
                    .collect()
            };
            let (missing, unknown) = (named(false), named(true));
            let mut reason = String::from("not recorded");
            if !missing.is_empty() {
                reason.push_str(&format!("; missing: {}", missing.join(", ")));
            }
            // A query that failed while an earlier snippet of this sync runs first (it
            // may create what the query reads) is asked again then; one that failed with
            // nothing before it will fail at boot too.
            if !unknown.is_empty() && catalogs.assumed {
                reason.push_str(&format!("; asked again once the earlier snippets have run: {}", unknown.join(", ")));
            } else if !unknown.is_empty() {
                reason.push_str(&format!("; unknown, the query failed: {}", unknown.join(", ")));
            }
            (Action::Apply, reason)
        }
        None => (Action::Adopt, "not recorded; every guard reports present".into()),
    };
    // Another tool's ledger lists it: recorded without running, as that tool left it.
    let standing = if row.is_none() { ledger.others.standing.get(&index) } else { None };
    let (action, reason) = match standing {
        Some(Standing::Applied { tool, why }) => (Action::Baselined, format!("baselined (from {tool}, {why})")),
        Some(Standing::Changed { tool, recorded }) => (
            Action::Reapply,
            format!(
                "changed since {tool} last ran it ({tool}'s checksum {recorded}, the file's {}): runs again, as \
                 {tool} would run it",
                snippet.foreign.as_ref().map_or("", |f| f.checksum.as_ref())
            ),
        ),
        None => (action, reason),
    };
    // A history the database holds no record of is never run on a guess: it is
    // baselined, adopted where every statement is guard-proven, or refused.
    let (action, reason) = match (row, history.baseline) {
        _ if standing.is_some() => (action, reason),
        (None, Some(baseline)) if history.unrecorded => {
            (Action::Baselined, format!("at or below the baseline {baseline}: recorded without running"))
        }
        (None, _) if history.unrecorded && action.runs_sql() && !snippet.statements.is_empty() => {
            let why = match snippet.statements.iter().position(|s| s.guards.is_empty()) {
                Some(i) if snippet.guards.is_empty() => format!(
                    "line {}, `{}`, has no guard that could prove it done",
                    snippet.statements[i].line,
                    crate::text::excerpt(snippet.statement_sql(i))
                ),
                _ => format!("its guards report missing ({reason})"),
            };
            (Action::Unproven, format!("no record that it ran; {why}"))
        }
        _ => (action, reason),
    };
    let (action, reason) = if action.runs_sql()
        && snippet.destructive
        && !snippet.history
        && !settings.allow_destructive
    {
        (Action::Blocked, format!("destructive; would {action}, set {}=1 to allow", settings.var("ALLOW_DESTRUCTIVE")))
    } else {
        (action, reason)
    };

    // Statements that will not run: completed by an earlier partial run, or guarded on
    // their own with every such guard present.
    let mut statements = Vec::with_capacity(snippet.statements.len());
    let mut statements_skipped = Vec::new();
    for (i, statement) in snippet.statements.iter().enumerate() {
        let index = i as u32;
        let reports: Vec<GuardReport> = guards
            .iter()
            .filter(|(g, _)| matches!(g.origin, GuardOrigin::Inferred { statement } if statement == index))
            .map(|(g, status)| guard_report(g, status.clone()))
            .collect();
        let done =
            action.runs_sql() && progress.contains(&crate::ledger::statement_fingerprint(snippet.statement_sql(i)));
        let present = !statement.guards.is_empty() && reports.iter().all(|r| !r.status.is_missing());
        let (run, reason) = if !action.runs_sql() {
            (false, format!("the snippet is not run ({action})"))
        } else if done {
            (false, "completed in an earlier run that stopped half-way".to_owned())
        } else if action == Action::Apply && present {
            (false, "every guard of the statement reports present".to_owned())
        } else if reports.is_empty() {
            (true, "runs with its snippet".to_owned())
        } else {
            let missing: Vec<&str> =
                reports.iter().filter(|r| r.status.is_missing()).map(|r| r.guard.as_str()).collect();
            if missing.is_empty() {
                (true, "runs with its snippet".to_owned())
            } else {
                (true, format!("missing: {}", missing.join(", ")))
            }
        };
        if action.runs_sql() && !run {
            statements_skipped.push(index);
        }
        statements.push(StatementPlan {
            index,
            line: statement.line,
            sql: crate::text::excerpt(snippet.statement_sql(i)),
            run,
            reason,
            guards: reports,
        });
    }

    // A step that skips or adopts anything on a present guard that may be stale is
    // decided again when the sync reaches it.
    let recheck = row.is_none()
        && matches!(action, Action::Apply | Action::Adopt)
        && guards.iter().any(|(g, status)| !status.is_missing() && catalogs.stale(g));
    let reason = if recheck {
        format!("{reason} (read again before it runs: an earlier snippet of this sync may change what it looks at)")
    } else {
        reason
    };
    let locks_existing = action.runs_sql()
        && (0..snippet.statements.len())
            .filter(|i| !statements_skipped.contains(&(*i as u32)))
            .any(|i| catalogs.facts.locked_by(dialect, &snippet.statements[i]));
    Step {
        version: snippet.version,
        path: snippet.path.to_string(),
        description: snippet.description.to_string(),
        action,
        reason,
        checksum: snippet.checksum.to_string(),
        recorded_checksum: row.map(|r| r.checksum.clone()),
        source: match standing {
            Some(Standing::Applied { tool, .. }) if action == Action::Baselined => Some(*tool),
            _ => row.and_then(|r| r.source),
        },
        destructive: snippet.destructive,
        guards: guards.into_iter().map(|(g, status)| guard_report(g, status)).collect(),
        statements_skipped,
        statements_total: snippet.statements.len() as u32,
        statements,
        statements_run: 0,
        completed: false,
        duration_ms: 0,
        index,
        progress,
        recheck,
        locks_existing,
        invalid_indexes: if action.runs_sql() {
            snippet
                .all_guards()
                .filter_map(|g| match &g.kind {
                    GuardKind::IndexMissing(name) => catalogs.facts.invalid_index(dialect, name),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

fn guard_report(g: &Guard, status: GuardStatus) -> GuardReport {
    GuardReport {
        guard: g.kind.to_string(),
        line: match g.origin {
            GuardOrigin::Written { line } => Some(line),
            GuardOrigin::Inferred { .. } => None,
        },
        statement: match g.origin {
            GuardOrigin::Inferred { statement } => Some(statement),
            GuardOrigin::Written { .. } => None,
        },
        undone_by: g.undone_by,
        status,
    }
}

#[cfg(test)]
mod tests {
    //! The decision table, one case per state and per guard outcome: the plan is a pure
    //! function of the snippets, the ledger, the catalog and the settings.

    use std::borrow::Cow;

    use super::*;
    use crate::ledger::LedgerRow;
    use crate::snippet::{CatalogChange, Ident, ObjectName, Statement, TransactionMode};

    const PG: DialectKind = DialectKind::Postgres;

    fn table(name: &str) -> GuardKind {
        GuardKind::TableMissing(ObjectName { schema: None, name: Ident::bare(name.to_string()) })
    }

    /// A snippet of `statements`, each with its inferred guards and its catalog change.
    fn snippet(version: u64, statements: &[(&[GuardKind], CatalogChange)]) -> Snippet {
        let mut sql = String::new();
        let mut list = Vec::new();
        for (i, (guards, catalog)) in statements.iter().enumerate() {
            let start = sql.len() as u32;
            sql.push_str(&format!("SELECT {i}"));
            let guards: Vec<Guard> = guards
                .iter()
                .map(|kind| Guard {
                    kind: kind.clone(),
                    origin: GuardOrigin::Inferred { statement: i as u32 },
                    undone_by: None,
                })
                .collect();
            list.push(Statement {
                line: i as u32 + 1,
                start,
                end: sql.len() as u32,
                guards: Cow::Owned(guards),
                catalog: *catalog,
                destructive: None,
                kind: crate::snippet::StatementKind::Schema,
                tables: None,
            });
            sql.push_str(";\n");
        }
        Snippet {
            version,
            version_text: Cow::Owned(version.to_string()),
            description: Cow::Borrowed("s"),
            path: Cow::Owned(format!("sql/{version}_s.sql")),
            checksum: Cow::Owned(format!("sha256:{version}")),
            legacy_checksum: Cow::Owned(format!("sha256:legacy{version}")),
            sql: Cow::Owned(sql),
            statements: Cow::Owned(list),
            guards: Cow::Borrowed(&[]),
            transaction: TransactionMode::Wrapped,
            destructive: false,
            on_change: OnChange::Refuse,
            history: false,
            foreign: None,
        }
    }

    fn row(snippet: &Snippet, state: LedgerState, checksum: &str) -> LedgerRow {
        LedgerRow {
            version: snippet.version,
            description: snippet.description.to_string(),
            path: snippet.path.to_string(),
            checksum: checksum.to_string(),
            state,
            progress: Vec::new(),
            duration_ms: 0,
            source: None,
        }
    }

    fn ledger(exists: bool, rows: Vec<LedgerRow>) -> Ledger {
        Ledger { exists, rows: rows.into_iter().map(|r| (r.version, r)).collect(), ..Ledger::default() }
    }

    fn catalog(tables: &[&str]) -> CatalogSnapshot {
        let mut s = CatalogSnapshot { search_path: vec!["public".into()], ..CatalogSnapshot::default() };
        s.tables.extend(tables.iter().map(|t| ("public".to_string(), t.to_string())));
        s
    }

    fn decide(snippets: &[Snippet], ledger: &Ledger, catalog: &CatalogSnapshot, settings: &Settings) -> Vec<Action> {
        plan(PG, snippets, ledger, catalog, &Probes::new(), settings).steps.iter().map(|s| s.action).collect()
    }

    const ADDS: CatalogChange = CatalogChange::Adds;
    const REMOVES: CatalogChange = CatalogChange::Removes;

    #[test]
    fn each_state_of_a_recorded_snippet() {
        let settings = Settings::new("T");
        let s = snippet(1, &[(&[table("t")], ADDS)]);
        let same = row(&s, LedgerState::Applied, &s.checksum);
        let other = row(&s, LedgerState::Applied, "sha256:else");
        let present = catalog(&["t"]);
        let cases: [(&str, Ledger, &CatalogSnapshot, Action); 3] = [
            ("recorded, guard present", ledger(true, vec![same.clone()]), &present, Action::Skip),
            ("recorded, guard missing", ledger(true, vec![same]), &CatalogSnapshot::default(), Action::Drift),
            ("recorded with another checksum", ledger(true, vec![other.clone()]), &present, Action::Edited),
        ];
        for (case, ledger, catalog, expected) in cases {
            assert_eq!(decide(std::slice::from_ref(&s), &ledger, catalog, &settings), [expected], "{case}");
        }
        let mut reapply = s.clone();
        reapply.on_change = OnChange::Reapply;
        assert_eq!(decide(&[reapply], &ledger(true, vec![other]), &present, &settings), [Action::Reapply]);
    }

    #[test]
    fn each_state_of_a_snippet_not_recorded() {
        let settings = Settings::new("T");
        let create = snippet(1, &[(&[table("t")], ADDS)]);
        let empty = ledger(true, Vec::new());
        assert_eq!(decide(std::slice::from_ref(&create), &empty, &catalog(&[]), &settings), [Action::Apply]);
        assert_eq!(decide(std::slice::from_ref(&create), &empty, &catalog(&["t"]), &settings), [Action::Adopt]);
        let mut destructive = create.clone();
        destructive.destructive = true;
        assert_eq!(decide(&[destructive.clone()], &empty, &catalog(&[]), &settings), [Action::Blocked]);
        let allowed = Settings { allow_destructive: true, ..settings.clone() };
        assert_eq!(decide(&[destructive], &empty, &catalog(&[]), &allowed), [Action::Apply]);
        let run_once = snippet(1, &[(&[], ADDS)]);
        assert_eq!(decide(&[run_once], &empty, &catalog(&["t"]), &settings), [Action::Apply]);
    }

    #[test]
    fn a_snippet_that_locks_a_table_the_database_held_is_marked() {
        let settings = Settings::new("T");
        let on = |tables: Option<&[&str]>| {
            let mut s = snippet(1, &[(&[], ADDS)]);
            let names = tables.map(|t| {
                t.iter().map(|n| ObjectName { schema: None, name: Ident::bare(n.to_string()) }).collect::<Vec<_>>()
            });
            s.statements.to_mut()[0].tables = names.map(Cow::Owned);
            s
        };
        let locks = |s: Snippet, catalog: &CatalogSnapshot| {
            plan(PG, &[s], &ledger(true, Vec::new()), catalog, &Probes::new(), &settings).steps[0].locks_existing
        };
        let held = catalog(&["hot"]);
        assert!(locks(on(Some(&["hot"])), &held), "ALTER TABLE hot …");
        assert!(!locks(on(Some(&["new"])), &held), "a table this sync creates");
        assert!(!locks(on(Some(&[])), &held), "CREATE FUNCTION …");
        assert!(locks(on(None), &held), "a DO block, on a database with tables");
        assert!(!locks(on(None), &catalog(&[])), "a DO block, on an empty database");
    }

    #[test]
    fn a_failed_unless_query_is_asked_again_when_an_earlier_snippet_runs_first() {
        let settings = Settings::new("T");
        let unless = GuardKind::Unless("SELECT 1 FROM settings".into());
        let mut seed = snippet(2, &[(&[], ADDS)]);
        seed.guards =
            Cow::Owned(vec![Guard { kind: unless, origin: GuardOrigin::Written { line: 1 }, undone_by: None }]);
        let query = "SELECT 1 FROM settings".to_string();
        let probes: Probes = [(query, Err("no such table: settings".to_string()))].into_iter().collect();
        let reasons = |snippets: &[Snippet]| -> Vec<String> {
            plan(PG, snippets, &ledger(true, Vec::new()), &catalog(&[]), &probes, &settings)
                .steps
                .into_iter()
                .map(|s| s.reason)
                .collect()
        };
        let alone = reasons(std::slice::from_ref(&seed));
        assert!(alone[0].contains("unknown, the query failed"), "{alone:?}");
        let after = reasons(&[snippet(1, &[(&[table("settings")], ADDS)]), seed]);
        assert!(after[1].contains("asked again once the earlier snippets have run"), "{after:?}");
    }

    #[test]
    fn a_prediction_never_says_present() {
        // On an empty database, the second CREATE of `t` runs (after a drop the build
        // did not see, or as the raw client would run it): no earlier snippet's
        // prediction makes it an adopt.
        let settings = Settings::new("T");
        let snippets = [snippet(1, &[(&[table("t")], ADDS)]), snippet(2, &[(&[table("t")], ADDS)])];
        assert_eq!(decide(&snippets, &ledger(false, Vec::new()), &catalog(&[]), &settings), [Action::Apply; 2]);
    }

    #[test]
    fn a_present_guard_after_a_statement_that_may_remove_is_read_again() {
        let settings = Settings::new("T");
        let snippets = [snippet(1, &[(&[], REMOVES)]), snippet(2, &[(&[table("u")], ADDS)])];
        let p = plan(PG, &snippets, &ledger(true, Vec::new()), &catalog(&["u"]), &Probes::new(), &settings);
        assert_eq!(p.steps[1].action, Action::Adopt);
        assert!(p.steps[1].recheck, "{}", p.steps[1].reason);
        // Only statements that may remove something unsettle the catalog.
        let snippets = [snippet(1, &[(&[], ADDS)]), snippet(2, &[(&[table("u")], ADDS)])];
        let p = plan(PG, &snippets, &ledger(true, Vec::new()), &catalog(&["u"]), &Probes::new(), &settings);
        assert!(!p.steps[1].recheck);
    }

    #[test]
    fn history_without_a_record_is_adopted_where_proven_baselined_or_unproven() {
        let snippets = [snippet(1, &[(&[table("t")], ADDS)]), snippet(2, &[(&[], ADDS)]), snippet(3, &[(&[], ADDS)])];
        let populated = catalog(&["t"]);
        let no_ledger = ledger(false, Vec::new());
        let settings = Settings::new("T");
        assert_eq!(
            decide(&snippets, &no_ledger, &populated, &settings),
            [Action::Adopt, Action::Unproven, Action::Unproven]
        );
        let baseline = |b| Settings { baseline: Some(b), ..settings.clone() };
        assert_eq!(
            decide(&snippets, &no_ledger, &populated, &baseline(2)),
            [Action::Baselined, Action::Baselined, Action::Apply]
        );
        // An empty database has no history: the baseline changes nothing.
        assert_eq!(decide(&snippets, &no_ledger, &catalog(&[]), &baseline(2)), [Action::Apply; 3]);
        // With ledger rows, the era without a record is what is older than the first row.
        let recorded = ledger(true, vec![row(&snippets[1], LedgerState::Applied, &snippets[1].checksum)]);
        assert_eq!(decide(&snippets, &recorded, &populated, &settings), [Action::Adopt, Action::Skip, Action::Apply],);
        let early = snippet(0, &[(&[], ADDS)]);
        let all = [early, snippets[1].clone()];
        assert_eq!(decide(&all, &recorded, &populated, &settings), [Action::Unproven, Action::Skip]);
        assert_eq!(decide(&all, &recorded, &populated, &baseline(0)), [Action::Baselined, Action::Skip]);
    }

    #[test]
    fn older_and_at_or_below_go_by_the_order_snippets_apply_in() {
        // Ordered as text by the build: 20240101120000 applies before 20240313.
        let snippets = [snippet(20240101120000, &[(&[], ADDS)]), snippet(20240313, &[(&[], ADDS)])];
        let populated = catalog(&["t"]);
        let mut with_t = snippets.clone();
        with_t[0] = snippet(20240101120000, &[(&[table("t")], ADDS)]);
        let baseline = Settings { baseline: Some(20240313), ..Settings::new("T") };
        assert_eq!(
            decide(&with_t, &ledger(false, Vec::new()), &populated, &baseline),
            [Action::Baselined, Action::Baselined],
            "both are at or below the second in apply order, whatever their numbers"
        );
        let recorded = ledger(true, vec![row(&snippets[1], LedgerState::Applied, &snippets[1].checksum)]);
        assert_eq!(
            decide(&snippets, &recorded, &populated, &Settings::new("T")),
            [Action::Unproven, Action::Skip],
            "the first applies before the first recorded one: older, though its number is greater"
        );
    }

    #[test]
    fn an_older_binary_leaves_a_newer_releases_changes_alone() {
        let mut s = snippet(1, &[(&[table("t")], ADDS)]);
        s.on_change = OnChange::Reapply;
        let rewritten = row(&s, LedgerState::Reapplied, "sha256:newer");
        let mut ledger = ledger(true, vec![rewritten]);
        let decide = |ledger: &Ledger, mark: &str| {
            plan(PG, std::slice::from_ref(&s), ledger, &catalog(&["t"]), &Probes::new(), &Settings::new("T"))
                .for_release(ledger, mark)
        };
        ledger.marks = vec!["v1:1:old".into(), "v1:1:new".into()];
        let older = decide(&ledger, "v1:1:old");
        assert!(older.newer_release);
        assert_eq!(older.steps[0].action, Action::Skip, "{}", older.steps[0].reason);
        // A set never seen before is the newer one; the current one is not older either.
        assert_eq!(decide(&ledger, "v1:1:another").steps[0].action, Action::Reapply);
        assert_eq!(decide(&ledger, "v1:1:new").steps[0].action, Action::Reapply);
    }

    #[test]
    fn a_snippet_stopped_half_way_resumes() {
        let settings = Settings::new("T");
        let s = snippet(1, &[(&[], ADDS), (&[], ADDS)]);
        let mut partial = row(&s, LedgerState::Partial, &s.checksum);
        partial.progress = vec![crate::ledger::statement_fingerprint(s.statement_sql(0))];
        let p =
            plan(PG, std::slice::from_ref(&s), &ledger(true, vec![partial]), &catalog(&[]), &Probes::new(), &settings);
        assert_eq!(p.steps[0].action, Action::Apply);
        assert_eq!(p.steps[0].statements_skipped, vec![0]);
    }

    #[test]
    fn an_unless_guard_that_could_not_run_is_unknown_and_a_stale_answer_is_read_again() {
        let settings = Settings::new("T");
        let mut seed = snippet(2, &[(&[], ADDS)]);
        seed.guards = Cow::Owned(vec![Guard {
            kind: GuardKind::Unless(Cow::Borrowed("SELECT 1 FROM t")),
            origin: GuardOrigin::Written { line: 1 },
            undone_by: None,
        }]);
        let earlier = snippet(1, &[(&[], ADDS)]);
        let snippets = [earlier, seed];
        let mut probes = Probes::new();
        probes.insert("SELECT 1 FROM t".into(), Err("no such table".into()));
        let empty = ledger(true, Vec::new());
        let p = plan(PG, &snippets, &empty, &catalog(&[]), &probes, &settings);
        assert_eq!(p.steps[1].action, Action::Apply);
        assert!(matches!(p.steps[1].guards[0].status, GuardStatus::Unknown(_)));
        probes.insert("SELECT 1 FROM t".into(), Ok(true));
        let p = plan(PG, &snippets, &empty, &catalog(&[]), &probes, &settings);
        assert_eq!(p.steps[1].action, Action::Adopt);
        assert!(p.steps[1].recheck, "an earlier snippet runs first: rows may have changed");
    }
}
