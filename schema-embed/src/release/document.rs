//! The `--json` output: one document per command, whatever happened. Its shape is
//! documented in `docs/release.md` and checked by `tests/release.rs`.

use serde_json::{json, Map, Value};

use super::args::Command;
use super::redact::Redactor;
use super::render::{last_applied, snippet_of, sql_excerpt};
use super::target::TargetInfo;
use crate::plan::Action;
use crate::report::SyncReport;
use crate::snippet::Snippet;

/// The version of the document's shape; raised when a field changes meaning or goes.
pub(crate) const FORMAT: u32 = 1;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// `clean`, `pending`, `applied`, `dry_run`, `declined`, `refused` or `failed`.
    pub status: &'static str,
    /// The process's exit status.
    pub exit_code: i32,
    /// What went wrong, redacted.
    pub error: Option<String>,
}

/// What the document describes.
pub(crate) struct Document<'r> {
    pub command: Command,
    pub target: &'r TargetInfo,
    /// The plan file `plan --out` wrote or `apply --plan` carried out: its path, digest
    /// and how many steps change the database.
    pub plan_file: Option<Value>,
    /// The plan (`plan`, `verify`, `status`, and a failed `apply`) or the report of
    /// `apply`; none when the database could not be read.
    pub report: Option<(&'r SyncReport, &'r [Snippet])>,
    /// Whether `report` is what was done (`apply`) rather than what would be.
    pub is_result: bool,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// What `verify --deep` found, and whether `--strict` was given.
    pub deep: Option<(&'r crate::deep::DeepReport, bool)>,
}

/// Keys whose values are bootschema's own vocabulary or checksums: never secrets, and
/// left whole so that a password that happens to be `postgres` cannot corrupt them.
const VOCABULARY: [&str; 8] =
    ["command", "database", "action", "status", "checksum", "recorded_checksum", "source", "digest"];

impl Document<'_> {
    /// The document, every other string redacted.
    pub(crate) fn to_value(&self, redactor: &Redactor) -> Value {
        let mut counts = Map::new();
        for action in Action::ALL {
            let n = self.report.map_or(0, |(r, _)| r.count(action));
            counts.insert(action.to_string(), json!(n));
        }
        let (steps, orphans, foreign_missing) = match self.report {
            Some((report, snippets)) => (
                report.steps.iter().map(|step| step_value(step, snippets)).collect(),
                serde_json::to_value(&report.orphans).unwrap_or_default(),
                serde_json::to_value(&report.foreign_missing).unwrap_or_default(),
            ),
            None => (Vec::new(), json!([]), json!([])),
        };
        let report = self.report.map(|(r, _)| r);
        let mut document = json!({
            "format": FORMAT,
            "command": self.command,
            "target": self.target,
            "outcome": {
                "status": self.outcome.status,
                "exit_code": self.outcome.exit_code,
                "error": self.outcome.error,
            },
            "kind": report.map(|_| if self.is_result { "result" } else { "plan" }),
            "dry_run": report.is_some_and(|r| r.dry_run && self.is_result),
            "ledger_table": report.map(|r| r.ledger_table.clone()),
            "duration_ms": self.duration_ms,
            "counts": counts,
            "last_applied": report.and_then(|r| last_applied(r, self.is_result)).map(|s| json!({
                "version": s.version,
                "path": s.path,
                "description": s.description,
            })),
            "plan_file": self.plan_file,
            "steps": steps,
            "orphans": orphans,
            "foreign_missing": foreign_missing,
        });
        if let (Some((deep, strict)), Value::Object(map)) = (self.deep, &mut document) {
            let mut value = serde_json::to_value(deep).unwrap_or_default();
            if let Value::Object(fields) = &mut value {
                fields.insert("strict".into(), json!(strict));
                fields.insert("differs".into(), json!(deep.differs(strict)));
            }
            map.insert("deep".into(), value);
        }
        redact_strings(&mut document, None, redactor);
        document
    }
}

/// A step as `Step` serializes, with each statement's excerpt, whether it is skipped
/// and whether it is destructive (added to what `Step` already says of its statements).
fn step_value(step: &crate::plan::Step, snippets: &[Snippet]) -> Value {
    let mut value = serde_json::to_value(step).unwrap_or_default();
    let (Some(snippet), Value::Object(map)) = (snippet_of(step, snippets), &mut value) else {
        return value;
    };
    let mut statements = match map.remove("statements") {
        Some(Value::Array(statements)) => statements,
        _ => Vec::new(),
    };
    statements.resize(snippet.statements.len(), json!({}));
    for (i, statement) in statements.iter_mut().enumerate() {
        let sql = snippet.statement_sql(i);
        if let Value::Object(fields) = statement {
            fields.entry("index").or_insert(json!(i));
            fields.entry("line").or_insert(json!(snippet.statements[i].line));
            fields.entry("sql").or_insert_with(|| json!(sql_excerpt(sql)));
            fields.insert("skipped".into(), json!(step.statements_skipped.contains(&(i as u32))));
            fields.insert("destructive".into(), json!(snippet.statements[i].destructive.is_some()));
            fields.insert("kind".into(), json!(snippet.statements[i].kind));
        }
    }
    map.insert("statements".into(), Value::Array(statements));
    value
}

pub(crate) fn redact_strings(value: &mut Value, key: Option<&str>, redactor: &Redactor) {
    match value {
        Value::String(text) if !key.is_some_and(|k| VOCABULARY.contains(&k)) => *text = redactor.redact(text),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, key, redactor)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact_strings(v, Some(k), redactor)),
        _ => {}
    }
}
