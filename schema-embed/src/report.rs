//! The report of a sync: the plan with what became of each step, and its log lines.

use crate::plan::{Action, Plan, Step};
use crate::snippet::DialectKind;

/// What a sync did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// The database.
    pub dialect: DialectKind,
    /// The server's version.
    pub server_version: String,
    /// Whether this was a dry run (nothing was changed).
    pub dry_run: bool,
    /// Whether the sync was turned off (`<PREFIX>_SCHEMA_SYNC=off`): nothing was read.
    pub disabled: bool,
    /// The ledger table.
    pub ledger_table: String,
    /// Every snippet's step, with timings for those that ran.
    pub steps: Vec<Step>,
    /// Snippets known to be applied from the ledger's mark alone: the boot found the
    /// mark of the embedded set and read nothing else, so these have no step. They
    /// count as skipped ([`SyncReport::count`]).
    pub unchanged: usize,
    /// Ledger rows without an embedded snippet.
    pub orphans: Vec<crate::plan::Orphan>,
    /// Versions another tool's ledger lists whose file the folder lacks.
    pub foreign_missing: Vec<crate::foreign::ForeignMissing>,
    /// How many snippets the binary embeds for this database.
    pub embedded: usize,
    /// The whole sync's duration, in milliseconds.
    pub duration_ms: u64,
}

impl SyncReport {
    pub(crate) fn new(plan: Plan, server_version: String, ledger_table: String, dry_run: bool) -> SyncReport {
        SyncReport {
            dialect: plan.dialect,
            server_version,
            dry_run,
            disabled: false,
            ledger_table,
            embedded: plan.steps.len(),
            steps: plan.steps,
            unchanged: 0,
            orphans: plan.orphans,
            foreign_missing: plan.foreign_missing,
            duration_ms: 0,
        }
    }

    /// How many snippets ended with `action` (skipped ones include
    /// [`SyncReport::unchanged`]).
    pub fn count(&self, action: Action) -> usize {
        let unchanged = if action == Action::Skip { self.unchanged } else { 0 };
        unchanged + self.steps.iter().filter(|s| s.action == action).count()
    }

    /// The steps that ended with `action`.
    pub fn with_action(&self, action: Action) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.action == action)
    }

    /// Whether the sync changed (or, dry, would change) the database.
    pub fn changed_anything(&self) -> bool {
        self.steps.iter().any(|s| s.action.changes_database())
    }

    /// One line: `3 applied, 1 adopted, 12 skipped in 45 ms`.
    pub fn summary(&self) -> String {
        if self.disabled {
            return format!("schema sync is off: {} snippets embedded, none read", self.embedded);
        }
        if self.unchanged > 0 && self.steps.is_empty() {
            return format!("in sync: {} snippets recorded (ledger mark) in {} ms", self.unchanged, self.duration_ms);
        }
        let order = [
            (Action::Apply, "applied"),
            (Action::Reapply, "reapplied"),
            (Action::Adopt, "adopted"),
            (Action::Baselined, "baselined"),
            (Action::Skip, "skipped"),
            (Action::Drift, "drifted"),
            (Action::Edited, "edited"),
            (Action::Blocked, "blocked"),
            (Action::Unproven, "unproven"),
        ];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|(a, word)| match self.count(*a) {
                0 => None,
                n => Some(format!("{n} {word}")),
            })
            .collect();
        let parts = if parts.is_empty() { "no snippets".to_string() } else { parts.join(", ") };
        let verb = if self.dry_run { "dry run, would have: " } else { "" };
        format!("{verb}{parts} in {} ms", self.duration_ms)
    }

    /// Logs the report through `tracing`: a summary, each change, each warning.
    pub(crate) fn log(&self) {
        for step in &self.steps {
            match step.action {
                Action::Drift => tracing::warn!(
                    target: "bootschema", version = step.version, path = %step.path,
                    "drift: {} (not re-created; `schema verify` fails until it is resolved)", step.reason
                ),
                Action::Edited | Action::Blocked | Action::Unproven => tracing::error!(
                    target: "bootschema", version = step.version, path = %step.path, action = %step.action,
                    "{}", step.reason
                ),
                Action::Skip => {
                    tracing::debug!(target: "bootschema", version = step.version, path = %step.path, "skip")
                }
                action if self.dry_run => tracing::info!(
                    target: "bootschema", version = step.version, path = %step.path, action = %action,
                    "would {action}: {}", step.reason
                ),
                _ => {}
            }
            if step.action.runs_sql() {
                for statement in step.statements.iter().filter(|s| !s.run) {
                    tracing::info!(
                        target: "bootschema", version = step.version, path = %step.path, line = statement.line,
                        "{} statement {} (`{}`): {}",
                        if self.dry_run { "would skip" } else { "skipped" },
                        statement.index + 1, statement.sql, statement.reason
                    );
                }
            }
        }
        for orphan in &self.orphans {
            if orphan.newer {
                tracing::info!(
                    target: "bootschema", version = orphan.version, path = %orphan.path,
                    "the ledger records a snippet of a newer release (newer than this binary); left as it is"
                );
            } else {
                tracing::warn!(
                    target: "bootschema", version = orphan.version, path = %orphan.path,
                    "the ledger records a snippet that is no longer embedded; left as it is"
                );
            }
        }
        for missing in &self.foreign_missing {
            tracing::warn!(
                target: "bootschema", tool = %missing.tool, table = %missing.table, version = %missing.version,
                "{}'s ledger {} lists version {} ({}), whose file the folder no longer holds; left as it is",
                missing.tool, missing.table, missing.version, missing.name
            );
        }
        tracing::info!(target: "bootschema", dialect = %self.dialect, dry_run = self.dry_run, "schema sync: {}", self.summary());
    }
}
