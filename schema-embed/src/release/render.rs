//! The human output: a header naming the target, one line per snippet, statement detail
//! where it matters, and a closing summary. Built as styled [`Line`]s, so that colour
//! and redaction are decided once, where the lines are written.

use anstyle::{AnsiColor, Style};

use super::target::{TargetInfo, TargetPart};
use crate::catalog::GuardStatus;
use crate::plan::{Action, Step};
use crate::report::SyncReport;
use crate::snippet::Snippet;

/// One line of output: text segments, each with an optional style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Line(pub Vec<(Style, String)>);

impl Line {
    pub(crate) fn new() -> Line {
        Line(Vec::new())
    }

    pub(crate) fn plain(self, text: impl Into<String>) -> Line {
        self.styled(Style::new(), text)
    }

    pub(crate) fn styled(mut self, style: Style, text: impl Into<String>) -> Line {
        self.0.push((style, text.into()));
        self
    }

    /// This line followed by the segments of `other`.
    pub(crate) fn styled_line(mut self, other: Line) -> Line {
        self.0.extend(other.0);
        self
    }

    /// The line as text, with ANSI styles when `colour`, each segment passed through
    /// `redact` before it is styled.
    pub(crate) fn render(&self, colour: bool, redact: impl Fn(&str) -> String) -> String {
        self.0
            .iter()
            .map(|(style, text)| {
                let text = redact(text);
                if colour && *style != Style::new() {
                    format!("{}{text}{}", style.render(), style.render_reset())
                } else {
                    text
                }
            })
            .collect()
    }
}

const fn fg(colour: AnsiColor) -> Style {
    Style::new().fg_color(Some(anstyle::Color::Ansi(colour)))
}

pub(crate) const BOLD: Style = Style::new().bold();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const GREEN: Style = fg(AnsiColor::Green);
pub(crate) const CYAN: Style = fg(AnsiColor::Cyan);
pub(crate) const BLUE: Style = fg(AnsiColor::Blue);
pub(crate) const YELLOW: Style = fg(AnsiColor::Yellow);
pub(crate) const RED: Style = fg(AnsiColor::Red);
const WARNING: Style = fg(AnsiColor::Red).bold();

/// Whether a report is what a sync would do, or what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A plan: nothing was changed.
    Plan,
    /// The report of `apply`: what was done.
    Result,
}

/// The symbol and colour of an action: ✓ skip, + apply, ≈ adopt, ↻ reapply, ! the rest.
fn symbol(action: Action) -> (&'static str, Style) {
    match action {
        Action::Skip => ("✓", GREEN),
        Action::Apply => ("+", GREEN.bold()),
        Action::Adopt | Action::Baselined => ("≈", CYAN.bold()),
        Action::Reapply => ("↻", BLUE.bold()),
        Action::Drift => ("!", YELLOW.bold()),
        Action::Edited | Action::Blocked | Action::Unproven => ("!", RED.bold()),
    }
}

fn word(action: Action, mode: Mode) -> &'static str {
    match (action, mode) {
        (Action::Skip, _) => "up to date",
        (Action::Apply, Mode::Plan) => "apply",
        (Action::Apply, Mode::Result) => "applied",
        (Action::Adopt, Mode::Plan) => "adopt",
        (Action::Adopt, Mode::Result) => "adopted",
        (Action::Baselined, Mode::Plan) => "baseline",
        (Action::Baselined, Mode::Result) => "baselined",
        (Action::Unproven, _) => "unproven",
        (Action::Reapply, Mode::Plan) => "reapply",
        (Action::Reapply, Mode::Result) => "reapplied",
        (Action::Edited, _) => "edited",
        (Action::Drift, _) => "drift",
        (Action::Blocked, _) => "blocked",
    }
}

/// `schema plan · PostgreSQL 16.4 · 127.0.0.1:5432 · database app · environment production`.
pub(crate) fn header(command: &str, target: &TargetInfo) -> Line {
    let mut line = Line::new().styled(BOLD, format!("schema {command}"));
    for (part, text) in target.describe() {
        line = line.styled(DIM, " · ");
        line = match part {
            TargetPart::Kind => line.styled(BOLD, text),
            TargetPart::Data => line.plain(text),
            TargetPart::Environment if is_production(&text) => line.styled(WARNING, text),
            TargetPart::Environment => line.styled(YELLOW.bold(), text),
        };
    }
    line
}

/// What `verify --deep` found: where the snippets were replayed, each difference with
/// the snippet that defines its object, then what is not from the snippets.
pub(crate) fn deep(report: &crate::deep::DeepReport, strict: bool) -> Vec<Line> {
    let mut lines = vec![Line::new().styled(
        DIM,
        format!(
            "  deep: replayed {} snippet(s) into {} (A: the snippets' schema, B: this database)",
            report.replayed, report.scratch
        ),
    )];
    for name in &report.cleaned_up {
        lines.push(Line::new().styled(DIM, format!("  deep: dropped {name}, left by a run that did not finish")));
    }
    for d in &report.differences {
        let mut line = Line::new().plain("  ").styled(RED.bold(), "≠ ").plain(d.difference.to_string());
        if let Some(path) = &d.snippet {
            line = line.styled(DIM, format!("  (defined by {path})"));
        }
        lines.push(line);
    }
    for d in &report.not_from_snippets {
        let style = if strict { RED.bold() } else { YELLOW };
        lines.push(Line::new().plain("  ").styled(style, "+ ").plain(format!(
            "not from the snippets: {}{}",
            d.difference.object,
            d.difference.b.as_deref().map(|b| format!(" ({b})")).unwrap_or_default()
        )));
    }
    let summary = format!(
        "  deep: {} difference(s) from the snippets' schema, {} object(s) not from the snippets{}",
        report.differences.len(),
        report.not_from_snippets.len(),
        if strict || report.not_from_snippets.is_empty() { "" } else { " (not counted without --strict)" }
    );
    let style = if report.differs(strict) { RED.bold() } else { GREEN.bold() };
    lines.push(Line::new().styled(style, summary));
    lines
}

/// The header, and on PostgreSQL a second line with the schemas in scope and the
/// installed extensions with the schemas they own.
pub(crate) fn header_lines(command: &str, target: &TargetInfo) -> Vec<Line> {
    let mut lines = vec![header(command, target)];
    if let Some(scope) = target.describe_scope() {
        lines.push(Line::new().styled(DIM, format!("  {scope}")));
    }
    lines
}

fn is_production(environment: &str) -> bool {
    let lower = environment.to_ascii_lowercase();
    lower.contains("prod") || lower.contains("live")
}

/// The snippet a step is about (steps keep their index into the dialect's snippets).
pub(crate) fn snippet_of<'s>(step: &Step, snippets: &'s [Snippet]) -> Option<&'s Snippet> {
    snippets
        .get(step.index)
        .filter(|s| s.version == step.version)
        .or_else(|| snippets.iter().find(|s| s.version == step.version))
}

/// One line per snippet, statement detail where a snippet is partly present or
/// destructive, and one line per orphaned ledger row.
pub(crate) fn steps(report: &SyncReport, snippets: &[Snippet], mode: Mode) -> Vec<Line> {
    let width = report.steps.iter().map(|s| s.description.chars().count()).max().unwrap_or(0).min(40);
    let mut lines = Vec::new();
    for step in &report.steps {
        let snippet = snippet_of(step, snippets);
        let (symbol, style) = symbol(step.action);
        let version = snippet.map_or_else(|| step.version.to_string(), |s| s.version_text.to_string());
        let mut line = Line::new()
            .plain("  ")
            .styled(style, symbol)
            .plain(" ")
            .styled(BOLD, version)
            .plain(format!(" {:<width$}  ", step.description))
            .styled(style, format!("{:<10} ", word(step.action, mode)));
        line = match (step.action, mode) {
            (Action::Skip, _) => line.styled(DIM, step.reason.clone()),
            (Action::Edited, _) => line.plain(format!(
                "{}: ledger {}, file {}",
                step.reason,
                short_checksum(step.recorded_checksum.as_deref().unwrap_or("?")),
                short_checksum(&step.checksum)
            )),
            (Action::Apply | Action::Reapply, Mode::Result) => line.plain(format!(
                "{} ms, {} of {} statement(s) ran",
                step.duration_ms, step.statements_run, step.statements_total
            )),
            _ => line.plain(step.reason.clone()),
        };
        if step.destructive {
            line = line.plain("  ").styled(WARNING, "[destructive]");
        }
        lines.push(line);
        lines.extend(guard_errors(report, step));
        if let Some(snippet) = snippet {
            lines.extend(statement_detail(step, snippet));
        }
    }
    for orphan in &report.orphans {
        lines.push(
            Line::new()
                .plain("  ")
                .styled(YELLOW.bold(), "?")
                .plain(format!(" {} {}  ", orphan.version, orphan.path))
                .styled(
                    YELLOW,
                    if orphan.newer {
                        "recorded by a newer release: newer than this binary; left as it is"
                    } else {
                        "recorded in the ledger, no longer embedded; left as it is"
                    },
                ),
        );
    }
    for missing in &report.foreign_missing {
        lines.push(
            Line::new()
                .plain("  ")
                .styled(YELLOW.bold(), "?")
                .plain(format!(" {} {}  ", missing.version, missing.name))
                .styled(
                    YELLOW,
                    format!(
                        "listed by {}'s ledger {}, no file in the folder; left as it is",
                        missing.tool, missing.table
                    ),
                ),
        );
    }
    lines
}

/// The `unless` guards of a step whose query failed, with the database's error: in red
/// when the failure is certain to stop the boot ([`failing_guards`]), dimmed when an
/// earlier snippet of the plan runs first (the query may read what it creates) and the
/// guard is asked again then.
fn guard_errors(report: &SyncReport, step: &Step) -> Vec<Line> {
    let certain = failing_guards(report).iter().any(|(s, _)| s.version == step.version);
    step.guards
        .iter()
        .filter_map(|g| match &g.status {
            GuardStatus::Unknown(error) => Some((g, error)),
            _ => None,
        })
        .map(|(guard, error)| {
            let at = guard.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let line = Line::new().plain("      ");
            if certain {
                line.styled(RED.bold(), "guard failed:").plain(format!(" `{}`{at}: {error}", guard.guard))
            } else {
                line.styled(
                    DIM,
                    format!("guard `{}`{at} asked again after the earlier snippets run; now: {error}", guard.guard),
                )
            }
        })
        .collect()
}

/// The `unless` guards whose query failed although no earlier snippet of the plan runs
/// first: asked again at boot against the same database, they fail again and the boot
/// stops (`Error::GuardQuery`). `plan`, `verify` and `status` exit 1 on them.
pub(crate) fn failing_guards(report: &SyncReport) -> Vec<(&Step, &crate::plan::GuardReport)> {
    let mut out = Vec::new();
    let mut earlier_runs = false;
    for step in &report.steps {
        if !earlier_runs {
            out.extend(step.guards.iter().filter(|g| matches!(g.status, GuardStatus::Unknown(_))).map(|g| (step, g)));
        }
        earlier_runs |= step.action.runs_sql();
    }
    out
}

/// The statements of a snippet that will run (or ran) while some of them are already
/// present, or that is destructive: which run, which do not, which destroy.
fn statement_detail(step: &Step, snippet: &Snippet) -> Vec<Line> {
    let runs = step.action.runs_sql() || step.action == Action::Blocked;
    if !runs || (step.statements_skipped.is_empty() && !step.destructive) {
        return Vec::new();
    }
    (0..snippet.statements.len())
        .map(|i| {
            let statement = &snippet.statements[i];
            let sql = snippet.statement_sql(i);
            let skipped = step.statements_skipped.contains(&(i as u32));
            let line = Line::new().plain("      ");
            let line = if skipped {
                line.styled(GREEN, "✓").plain(format!(" statement {} (line {}): ", i + 1, statement.line))
            } else {
                line.styled(GREEN.bold(), "+").plain(format!(" statement {} (line {}): ", i + 1, statement.line))
            };
            let line = line.styled(DIM, sql_excerpt(sql));
            let line = if skipped { line.styled(GREEN, "  already done") } else { line };
            if statement.destructive.is_some() {
                line.plain("  ").styled(WARNING, "destructive")
            } else {
                line
            }
        })
        .collect()
}

/// `sha256:0123456789ab…`.
fn short_checksum(checksum: &str) -> String {
    match checksum.char_indices().nth(19) {
        Some((cut, _)) => format!("{}…", &checksum[..cut]),
        None => checksum.to_string(),
    }
}

/// A statement's beginning on one line, its leading comments left out.
pub(crate) fn sql_excerpt(sql: &str) -> String {
    crate::text::excerpt(strip_leading_comments(sql))
}

fn strip_leading_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(rest) = sql.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return sql;
        }
    }
}

/// Counts in the words of `mode`: `2 to apply, 1 to adopt, 5 up to date`.
pub(crate) fn counts(report: &SyncReport, mode: Mode) -> String {
    let order: [(Action, &str, &str); 9] = [
        (Action::Apply, "to apply", "applied"),
        (Action::Reapply, "to reapply", "reapplied"),
        (Action::Adopt, "to adopt", "adopted"),
        (Action::Baselined, "to baseline", "baselined"),
        (Action::Unproven, "unproven", "unproven"),
        (Action::Skip, "up to date", "up to date"),
        (Action::Drift, "drifted", "drifted"),
        (Action::Edited, "edited", "edited"),
        (Action::Blocked, "blocked", "blocked"),
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|(action, plan, result)| match report.count(*action) {
            0 => None,
            n => Some(format!("{n} {}", if mode == Mode::Plan { plan } else { result })),
        })
        .collect();
    if parts.is_empty() {
        "no snippets".to_string()
    } else {
        parts.join(", ")
    }
}

/// The closing line: `7 snippets: 2 to apply, 5 up to date (read in 12 ms)`.
pub(crate) fn summary(report: &SyncReport, mode: Mode) -> Line {
    let total = report.steps.len();
    let counts = counts(report, mode);
    let clean = is_clean(report);
    let style = match mode {
        Mode::Plan if clean => GREEN.bold(),
        Mode::Plan => YELLOW.bold(),
        Mode::Result => GREEN.bold(),
    };
    let time = match mode {
        Mode::Plan => format!(" (read in {} ms)", report.duration_ms),
        Mode::Result => format!(" in {} ms", report.duration_ms),
    };
    Line::new().styled(style, format!("{total} snippet(s): {counts}")).styled(DIM, time)
}

/// Whether every snippet is up to date: nothing pending, edited, drifted or blocked.
pub(crate) fn is_clean(report: &SyncReport) -> bool {
    report.steps.iter().all(|s| s.action == Action::Skip)
}

/// The most recent snippet the ledger records: the highest version with a ledger row,
/// or, in the report of `apply` (`is_result`), that the sync just recorded.
pub(crate) fn last_applied(report: &SyncReport, is_result: bool) -> Option<&Step> {
    report
        .steps
        .iter()
        .filter(|s| s.recorded_checksum.is_some() || (is_result && s.action.changes_database()))
        .max_by_key(|s| s.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_is_added_only_when_asked_and_redaction_happens_first() {
        let line = Line::new().styled(RED, "pass=1").plain(" ok");
        assert_eq!(line.render(false, |t| t.replace('1', "*")), "pass=* ok");
        let coloured = line.render(true, |t| t.to_string());
        assert!(coloured.starts_with("\u{1b}[31mpass=1\u{1b}[0m"), "{coloured:?}");
    }

    #[test]
    fn excerpts_leave_leading_comments_out() {
        assert_eq!(sql_excerpt("-- a view\n/* note */ DROP VIEW\n  IF EXISTS v"), "DROP VIEW IF EXISTS v");
    }
}
