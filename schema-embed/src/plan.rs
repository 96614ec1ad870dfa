//! The plan: what each snippet needs, decided from the ledger, the catalog snapshot
//! and the settings, before anything is applied.

use std::fmt;

use crate::catalog::{CatalogSnapshot, GuardStatus, Probes};
use crate::config::Settings;
use crate::ledger::{Ledger, LedgerState};
use crate::snippet::{DialectKind, Guard, GuardOrigin, OnChange, Snippet};

/// What is done with one snippet. See the table in the crate docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// In the ledger with the same checksum: nothing to do.
    Skip,
    /// Not in the ledger (or stopped half-way) and needed: run it, record it.
    Apply,
    /// Not in the ledger, every guard present: record it without running it.
    Adopt,
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
    /// Whether the step changes the database (runs SQL or writes the ledger).
    pub fn changes_database(self) -> bool {
        matches!(self, Action::Apply | Action::Adopt | Action::Reapply)
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
    /// Whether the snippet is marked `-- destructive`.
    pub destructive: bool,
    /// Every guard and its status.
    pub guards: Vec<GuardReport>,
    /// Statements (0-based) that will not run: completed earlier (a resumed partial
    /// snippet) or whose own guards report their objects present.
    pub statements_skipped: Vec<u32>,
    /// How many statements the snippet has.
    pub statements_total: u32,
    /// How many statements ran (after a sync).
    pub statements_run: u32,
    /// How long the step took, in milliseconds (after a sync).
    pub duration_ms: u64,
    #[serde(skip)]
    pub(crate) index: usize,
    #[serde(skip)]
    pub(crate) progress: Vec<String>,
}

/// A ledger row whose snippet is no longer embedded (a file removed after it was applied).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Orphan {
    /// The recorded version.
    pub version: u64,
    /// The recorded file.
    pub path: String,
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
}

impl Plan {
    /// Whether any step changes the database.
    pub fn has_work(&self) -> bool {
        self.steps.iter().any(|s| s.action.changes_database())
    }

    /// How many steps have `action`.
    pub fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }

    /// The refusal this plan carries (edited or blocked snippets), if any.
    pub fn refusal(&self, settings: &Settings) -> Option<Refusal> {
        let pick = |action| self.steps.iter().filter(|s| s.action == action).cloned().collect::<Vec<_>>();
        let refusal = Refusal {
            edited: pick(Action::Edited),
            blocked: pick(Action::Blocked),
            allow_variable: settings.var("ALLOW_DESTRUCTIVE"),
        };
        (!refusal.edited.is_empty() || !refusal.blocked.is_empty()).then_some(refusal)
    }
}

/// Why a plan cannot be applied: the edited and blocked snippets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Applied snippets whose text changed.
    pub edited: Vec<Step>,
    /// Destructive snippets that are not allowed.
    pub blocked: Vec<Step>,
    /// The variable that allows destructive snippets.
    pub allow_variable: String,
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
    let steps = snippets
        .iter()
        .enumerate()
        .map(|(index, snippet)| plan_step(dialect, index, snippet, ledger, snapshot, probes, settings))
        .collect();
    let orphans = ledger
        .rows
        .values()
        .filter(|row| !snippets.iter().any(|s| s.version == row.version))
        .map(|row| Orphan { version: row.version, path: row.path.clone() })
        .collect();
    Plan { dialect, steps, orphans }
}

fn plan_step(
    dialect: DialectKind,
    index: usize,
    snippet: &Snippet,
    ledger: &Ledger,
    snapshot: &CatalogSnapshot,
    probes: &Probes,
    settings: &Settings,
) -> Step {
    let guards: Vec<(&Guard, GuardStatus)> =
        snippet.all_guards().map(|g| (g, snapshot.status(dialect, g, probes))).collect();
    let row = ledger.rows.get(&snippet.version);
    let any_missing = guards.iter().any(|(_, status)| status.is_missing());
    // A snippet is guarded when its own guards decide it, or when every statement has
    // guards of its own; anything else runs exactly once, by the ledger alone.
    let guarded = !snippet.guards.is_empty()
        || (!snippet.statements.is_empty() && snippet.statements.iter().all(|s| !s.guards.is_empty()));

    let mut progress = Vec::new();
    let (action, reason) = match row {
        Some(row) if row.state == LedgerState::Partial => {
            progress = row.progress.clone();
            (Action::Apply, format!("stopped half-way before; {} statement(s) done, resuming", row.progress.len()))
        }
        Some(row) if row.checksum == snippet.checksum => match guards.iter().find(|(_, s)| s.is_missing()) {
            Some((guard, _)) => (Action::Drift, format!("recorded, but {} reports missing", guard.kind)),
            None => (Action::Skip, format!("recorded ({})", row.state.as_str())),
        },
        Some(_) if snippet.on_change == OnChange::Reapply => (Action::Reapply, "text changed; on_change: reapply".into()),
        Some(_) => (Action::Edited, "text changed after it was applied".into()),
        None if !guarded => (Action::Apply, "not recorded; no guard, runs once".into()),
        None if any_missing => {
            let missing: Vec<String> =
                guards.iter().filter(|(_, s)| s.is_missing()).map(|(g, _)| g.kind.to_string()).collect();
            (Action::Apply, format!("not recorded; missing: {}", missing.join(", ")))
        }
        None => (Action::Adopt, "not recorded; every guard reports present".into()),
    };
    let (action, reason) = if action.runs_sql() && snippet.destructive && !settings.allow_destructive {
        (Action::Blocked, format!("destructive; would {action}, set {}=1 to allow", settings.var("ALLOW_DESTRUCTIVE")))
    } else {
        (action, reason)
    };

    // Statements that will not run: completed by an earlier partial run, or guarded on
    // their own with every such guard present.
    let statements_skipped = if action.runs_sql() {
        (0..snippet.statements.len())
            .filter(|&i| {
                let statement = &snippet.statements[i];
                let done = progress.contains(&crate::ledger::statement_fingerprint(snippet.statement_sql(i)));
                let present = !statement.guards.is_empty()
                    && statement.guards.iter().all(|g| !snapshot.status(dialect, g, probes).is_missing());
                done || (action == Action::Apply && present)
            })
            .map(|i| i as u32)
            .collect()
    } else {
        Vec::new()
    };

    Step {
        version: snippet.version,
        path: snippet.path.to_string(),
        description: snippet.description.to_string(),
        action,
        reason,
        checksum: snippet.checksum.to_string(),
        recorded_checksum: row.map(|r| r.checksum.clone()),
        destructive: snippet.destructive,
        guards: guards
            .into_iter()
            .map(|(g, status)| GuardReport {
                guard: g.kind.to_string(),
                line: match g.origin {
                    GuardOrigin::Written { line } => Some(line),
                    GuardOrigin::Inferred { .. } => None,
                },
                statement: match g.origin {
                    GuardOrigin::Inferred { statement } => Some(statement),
                    GuardOrigin::Written { .. } => None,
                },
                status,
            })
            .collect(),
        statements_skipped,
        statements_total: snippet.statements.len() as u32,
        statements_run: 0,
        duration_ms: 0,
        index,
        progress,
    }
}
