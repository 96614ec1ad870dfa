//! The audit trail: what a release command or a boot-time sync found and did, written
//! as it happens into a folder of its own, for people (`report.md`) and for machines
//! (JSON files side by side).
//!
//! `schema plan | apply | verify --report-dir DIR` (or `<PREFIX>_SCHEMA_REPORT_DIR`)
//! makes `DIR/<UTC time>-<command>/` (a suffix `-2`, `-3`, … when two runs start in the
//! same millisecond: an earlier run's trail is never written over), and the boot-time
//! sync `DIR/<UTC time>-boot/` when it changes the database or fails. In it:
//!
//! | file | what | when |
//! | --- | --- | --- |
//! | `report.md` | every section below, in the order it was written | appended as the work goes |
//! | `connection.json` | the target: kind, server version, host, port, database, environment, schemas in scope, extensions | once the server answered |
//! | `drift-before.json`, `drift-after.json` | the deep diff (the snippets replayed into a scratch database, compared with the target), or why it could not run | before the plan; after an apply |
//! | `snapshot-before.json`, `snapshot-after.json` | the schema before and after an apply (`schema snapshot --json`'s shape) | around an apply |
//! | `plan.json` | the plan, as `schema plan --json` prints it | before anything runs |
//! | `execution.jsonl` | one line per event: each statement (file, line, duration, outcome), each snippet done, each lock wait, each retry, each plan made again under the lock | appended at each event |
//! | `result.json` | what the sync did (`schema apply --json`'s shape), or its error and what was done before it | after the sync |
//! | `outcome.json` | exit status, error, start and end, the files | last |
//!
//! Each event is written to the file before the sync goes on (no buffer of the
//! trail's own), so a failed or killed run leaves its log up to the last event. Every
//! string goes through the release's redactor: no password reaches a file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use super::args::{Args, Command};
use super::document::{redact_strings, Document, Outcome};
use super::redact::Redactor;
use super::render::{self, Line, Mode};
use super::target::TargetInfo;
use super::{Console, Run, EXIT_ERROR, EXIT_NOT_IN_SYNC, EXIT_OK};
use crate::config::Settings;
use crate::deep::DeepReport;
use crate::dialect::Target;
use crate::error::{Error, ErrorKind};
use crate::events::{Event, EventSink, Sink};
use crate::plan::Action;
use crate::report::SyncReport;
use crate::snapshot::Snapshot;
use crate::snippet::Snippet;
use crate::sync::Syncer;

/// Before or after the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Before,
    After,
}

impl When {
    fn word(self) -> &'static str {
        match self {
            When::Before => "before",
            When::After => "after",
        }
    }
}

/// What a trail is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Of {
    /// A release command (`plan`, `apply`, `verify`).
    Command(Command),
    /// The boot-time sync ([`Syncer::run`]).
    Boot,
}

impl Of {
    fn label(self) -> String {
        match self {
            Of::Command(command) => command.to_string(),
            Of::Boot => "boot".to_string(),
        }
    }
}

/// One trail's folder and its files.
pub(crate) struct Trail {
    dir: PathBuf,
    of: Of,
    redactor: Redactor,
    started: Instant,
    started_at: SystemTime,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    markdown: Option<File>,
    log: Option<File>,
    /// Entries of the execution log so far.
    rows: usize,
    /// Whether the last section of `report.md` is the execution log's table.
    in_log: bool,
    /// The target, as the connection check wrote it.
    target: TargetInfo,
    /// Whether the connection check is written.
    connected: bool,
    /// Whether the plan section is written (later plans go to the log).
    planned: bool,
    /// The error the run ended with, for the outcome.
    error: Option<String>,
    /// The first write that failed.
    failed: Option<String>,
}

/// One entry of the execution log, rendered when its event happened.
pub(crate) struct Entry {
    json: Value,
    row: String,
}

impl Trail {
    /// Makes the trail's folder under `parent` (created if needed): `<UTC time>-<what>`,
    /// with a suffix when that name is taken, and starts `report.md`.
    pub(crate) fn create(
        parent: &Path,
        of: Of,
        title: &str,
        redactor: Redactor,
        started: Instant,
    ) -> Result<Trail, String> {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create the folder: {e}"))?;
        let started_at = SystemTime::now() - started.elapsed();
        let stamp = folder_stamp(started_at);
        let mut n = 1;
        let dir = loop {
            let name = match n {
                1 => format!("{stamp}-{}", of.label()),
                _ => format!("{stamp}-{}-{n}", of.label()),
            };
            let dir = parent.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(format!("cannot create the folder {}: {e}", dir.display())),
            }
        };
        let markdown = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(dir.join("report.md"))
            .map_err(|e| format!("cannot create {}: {e}", dir.join("report.md").display()))?;
        let trail = Trail {
            dir,
            of,
            redactor,
            started,
            started_at,
            state: Mutex::new(State { markdown: Some(markdown), ..State::default() }),
        };
        let header = format!(
            "# bootschema: {title}\n\nStarted {} (bootschema {}). Each section was written as the work went; the \
             JSON files beside this one hold the same for machines (docs/release.md, \"The audit trail\").\n",
            rfc3339(started_at),
            env!("CARGO_PKG_VERSION"),
        );
        let mut state = trail.state();
        trail.append(&mut state, &header);
        drop(state);
        Ok(trail)
    }

    /// The trail's folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `text` to `report.md`, redacted; a failure is kept for the outcome.
    fn append(&self, state: &mut State, text: &str) {
        let text = self.redactor.redact(text);
        if let Some(file) = &mut state.markdown {
            if let Err(e) = file.write_all(text.as_bytes()) {
                note(state, format!("writing report.md: {e}"));
            }
        }
    }

    /// A section of `report.md`.
    fn section(&self, title: &str, body: &str) {
        let mut state = self.state();
        state.in_log = false;
        self.append(&mut state, &format!("\n## {title}\n\n{}\n", body.trim_end()));
    }

    /// Writes `value`, every string redacted, to the file `name` of the folder.
    fn json(&self, name: &str, mut value: Value) {
        redact_strings(&mut value, None, &self.redactor);
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        if let Err(e) = std::fs::write(self.dir.join(name), text) {
            note(&mut self.state(), format!("writing {name}: {e}"));
        }
    }

    /// The connection check: what the target is, never a secret.
    pub(crate) fn connection(&self, target: &TargetInfo, ledger_table: Option<&str>) {
        let kind = target.database.map_or_else(|| "not reached".to_string(), |k| k.to_string());
        let mut rows = vec![("database", kind)];
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                rows.push((name, value));
            }
        };
        add("server version", target.server_version.clone());
        add("host", target.host.clone());
        add("port", target.port.map(|p| p.to_string()));
        let name = if target.database == Some(crate::snippet::DialectKind::Sqlite) { "file" } else { "database name" };
        add(name, target.database_name.clone());
        add("environment", target.environment.clone());
        add("schemas in scope", Some(target.schemas.join(", ")));
        add("extensions", Some(extensions(target)));
        add("ledger table", ledger_table.map(str::to_string));
        let mut body = String::from("| | |\n| --- | --- |\n");
        for (name, value) in rows {
            body.push_str(&format!("| {name} | {} |\n", cell(&value)));
        }
        self.section("Connection", &body);
        self.json("connection.json", json!({ "target": target, "ledger_table": ledger_table }));
        let mut state = self.state();
        state.target = target.clone();
        state.connected = true;
    }

    /// Whether the connection check is written.
    pub(crate) fn connected(&self) -> bool {
        self.state().connected
    }

    /// Adds what was read of the schemas and extensions (PostgreSQL) after the
    /// connection check was written (the boot-time sync reads them last): a section,
    /// and `connection.json` again.
    fn scope(&self, schemas: Vec<String>, extensions_found: Vec<crate::snapshot::Extension>, ledger_table: &str) {
        if schemas.is_empty() && extensions_found.is_empty() {
            return;
        }
        let mut target = self.state().target.clone();
        (target.schemas, target.extensions) = (schemas, extensions_found);
        let body = format!(
            "Read after the sync.\n\n| | |\n| --- | --- |\n| schemas in scope | {} |\n| extensions | {} |\n",
            cell(&target.schemas.join(", ")),
            cell(&extensions(&target))
        );
        self.section("Schemas and extensions", &body);
        self.json("connection.json", json!({ "target": target, "ledger_table": ledger_table }));
        self.state().target = target;
    }

    /// The drift report: the deep diff, or why it could not be taken and how to make
    /// it possible (`hint`).
    pub(crate) fn drift(&self, when: When, deep: &Result<DeepReport, String>, strict: bool, hint: &str) {
        let title = format!("Drift {}", when.word());
        let file = format!("drift-{}.json", when.word());
        match deep {
            Ok(report) => {
                self.section(&title, &fenced(&render_lines(&render::deep(report, strict))));
                let mut value = serde_json::to_value(report).unwrap_or_default();
                if let Value::Object(map) = &mut value {
                    map.insert("checked".into(), json!(true));
                    map.insert("strict".into(), json!(strict));
                    map.insert("differs".into(), json!(report.differs(strict)));
                }
                self.json(&file, value);
            }
            Err(reason) => {
                self.section(&title, &format!("Not checked: {reason}\n\n{hint}"));
                self.json(&file, json!({ "checked": false, "reason": reason, "hint": hint }));
            }
        }
    }

    /// The schema before or after the sync, as `snapshot-<when>.json`.
    pub(crate) fn snapshot(&self, when: When, snapshot: &Result<Snapshot, String>) {
        let title = format!("Snapshot {}", when.word());
        let file = format!("snapshot-{}.json", when.word());
        match snapshot {
            Ok(snapshot) => {
                self.section(
                    &title,
                    &format!(
                        "`{file}`: {} table(s), {} view(s), {} sequence(s), {} type(s), {} extension(s); schemas {}.",
                        snapshot.tables.len(),
                        snapshot.views.len(),
                        snapshot.sequences.len(),
                        snapshot.types.len(),
                        snapshot.extensions.len(),
                        snapshot.schemas.join(", ")
                    ),
                );
                self.json(&file, serde_json::to_value(snapshot).unwrap_or_default());
            }
            Err(reason) => self.section(&title, &format!("Not read: {reason}")),
        }
    }

    /// The plan, before anything of it runs.
    pub(crate) fn plan(&self, report: &SyncReport, snippets: &[Snippet]) {
        let mut lines = render::steps(report, snippets, Mode::Plan);
        lines.push(render::summary(report, Mode::Plan));
        self.section("Plan", &fenced(&render_lines(&lines)));
        let value = self.document(report, snippets, false);
        self.json("plan.json", value);
        self.state().planned = true;
    }

    /// The plan file of `plan --out` (written) or `apply --plan` (carried out), copied
    /// as `approved-plan.json`: the trail then says what was approved, not only what ran.
    pub(crate) fn plan_file(&self, file: &Path, text: &str, digest: &str, applying: bool) {
        let what = if applying { "This apply carries out only the approved plan" } else { "The plan file written" };
        self.section(
            "Plan file",
            &format!("{what} `{}`, digest `{digest}`; copied as `approved-plan.json`.", file.display()),
        );
        self.json("approved-plan.json", serde_json::from_str(text).unwrap_or(Value::String(text.to_string())));
    }

    /// What the sync did, or its error and what was done before it.
    pub(crate) fn result(&self, outcome: Result<&SyncReport, &Error>, snippets: &[Snippet]) {
        if self.state().rows == 0 {
            let why = match outcome {
                Ok(report) if report.dry_run => "a dry run",
                Ok(_) => "nothing to apply",
                Err(_) => "the sync stopped before it",
            };
            self.section("Execution log", &format!("No statement ran ({why})."));
        }
        match outcome {
            Ok(report) => {
                let mode = if report.dry_run { Mode::Plan } else { Mode::Result };
                let mut lines = render::steps(report, snippets, mode);
                lines.push(render::summary(report, mode));
                self.section("Result", &fenced(&render_lines(&lines)));
                let mut value = self.document(report, snippets, !report.dry_run);
                if let Value::Object(map) = &mut value {
                    map.insert("error".into(), Value::Null);
                }
                self.json("result.json", value);
            }
            Err(error) => {
                let mut body = format!("The sync failed:\n\n{}\n", fenced(&error.to_string()));
                let mut value = json!({ "error": error.to_string() });
                if let Some(report) = error.report() {
                    let completed = report.steps.iter().filter(|s| s.completed).count();
                    body.push_str(&format!(
                        "\n{completed} snippet(s) completed and are recorded before the failure; the plan it \
                         was carrying out:\n\n"
                    ));
                    let mut lines = render::steps(report, snippets, Mode::Plan);
                    lines.push(render::summary(report, Mode::Plan));
                    body.push_str(&fenced(&render_lines(&lines)));
                    value = self.document(report, snippets, false);
                    if let Value::Object(map) = &mut value {
                        map.insert("error".into(), json!(error.to_string()));
                    }
                }
                self.section("Result", &body);
                self.json("result.json", value);
            }
        }
    }

    /// Notes the error the run ends with, for the outcome.
    pub(crate) fn note_error(&self, error: &str) {
        self.state().error = Some(error.to_string());
    }

    /// Writes the outcome, last; returns the folder, or the first write that failed.
    pub(crate) fn finish(&self, exit_code: i32) -> Result<PathBuf, String> {
        let finished = SystemTime::now();
        let error = self.state().error.clone();
        let status = match exit_code {
            EXIT_OK => "ok",
            EXIT_NOT_IN_SYNC => "not in sync",
            _ => "failed",
        };
        let ms = self.started.elapsed().as_millis() as u64;
        let mut body = format!("Exit status {exit_code} ({status}), finished {} after {ms} ms.", rfc3339(finished));
        if let Some(error) = &error {
            body.push_str(&format!("\n\n{}", fenced(error)));
        }
        self.section("Outcome", &body);
        let mut files: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
            })
            .unwrap_or_default();
        files.push("outcome.json".into());
        files.sort();
        files.dedup();
        self.json(
            "outcome.json",
            json!({
                "of": self.of.label(),
                "exit_code": exit_code,
                "status": status,
                "error": error,
                "started_at": rfc3339(self.started_at),
                "finished_at": rfc3339(finished),
                "duration_ms": ms,
                "files": files,
            }),
        );
        let mut state = self.state();
        state.markdown = None;
        state.log = None;
        match state.failed.take() {
            Some(failed) => Err(failed),
            None => Ok(self.dir.clone()),
        }
    }

    /// The `--json` document of a plan or a result.
    fn document(&self, report: &SyncReport, snippets: &[Snippet], is_result: bool) -> Value {
        let target = self.state().target.clone();
        let command = match self.of {
            Of::Command(command) => command,
            Of::Boot => Command::Apply,
        };
        let document = Document {
            command,
            target: &target,
            report: Some((report, snippets)),
            is_result,
            outcome: Outcome { status: "", exit_code: EXIT_OK, error: None },
            duration_ms: report.duration_ms,
            deep: None,
            plan_file: None,
        };
        let mut value = document.to_value(&self.redactor);
        if let Value::Object(map) = &mut value {
            map.remove("outcome");
            if self.of == Of::Boot {
                map.insert("command".into(), json!("boot"));
            }
        }
        value
    }

    /// Appends one entry to the execution log: a row of the table in `report.md` and a
    /// line of `execution.jsonl`, each written through to the file.
    pub(crate) fn log(&self, entry: &Entry) {
        let mut state = self.state();
        if !state.in_log {
            let title = if state.rows == 0 { "Execution log" } else { "Execution log, continued" };
            let header = format!(
                "\n## {title}\n\n| time (UTC) | event | where | statement | duration | outcome |\n\
                 | --- | --- | --- | --- | --- | --- |\n"
            );
            self.append(&mut state, &header);
            state.in_log = true;
        }
        self.append(&mut state, &entry.row);
        if state.log.is_none() {
            let path = self.dir.join("execution.jsonl");
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(file) => state.log = Some(file),
                Err(e) => note(&mut state, format!("creating execution.jsonl: {e}")),
            }
        }
        let mut value = entry.json.clone();
        redact_strings(&mut value, None, &self.redactor);
        let mut line = serde_json::to_string(&value).unwrap_or_default();
        line.push('\n');
        if let Some(file) = &mut state.log {
            if let Err(e) = file.write_all(line.as_bytes()) {
                note(&mut state, format!("writing execution.jsonl: {e}"));
            }
        }
        state.rows += 1;
    }
}

impl EventSink for Trail {
    fn event(&self, event: &Event<'_>) {
        if let Event::Planned { report, snippets } = event {
            if !self.state().planned {
                return self.plan(report, snippets);
            }
        }
        self.log(&entry(event, self.started));
    }
}

fn note(state: &mut State, failure: String) {
    if state.failed.is_none() {
        tracing::warn!(target: "bootschema", "the audit trail is incomplete: {failure}");
        state.failed = Some(failure);
    }
}

/// The entry of an event, stamped now.
pub(crate) fn entry(event: &Event<'_>, started: Instant) -> Entry {
    let now = SystemTime::now();
    let at = rfc3339(now);
    let time = at.get(11..23).unwrap_or(&at).to_string();
    let ms = |d: Duration| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    let (mut json, cells): (Value, [String; 5]) = match *event {
        Event::Planned { report, .. } => {
            let steps: Vec<Value> = report
                .steps
                .iter()
                .filter(|s| s.action != Action::Skip)
                .map(|s| json!({ "version": s.version, "path": s.path, "action": s.action }))
                .collect();
            let counts = render::counts(report, Mode::Plan);
            (
                json!({ "event": "planned", "counts": counts, "steps": steps }),
                ["plan".into(), String::new(), String::new(), String::new(), format!("made under the lock: {counts}")],
            )
        }
        Event::Statement(s) => {
            let excerpt = render::sql_excerpt(s.sql);
            let outcome = match s.error {
                None => "ok".to_string(),
                Some(error) => format!("**error**: {error}"),
            };
            (
                json!({
                    "event": "statement",
                    "path": s.path,
                    "line": s.line,
                    "index": s.index,
                    "sql": excerpt,
                    "duration_ms": s.duration.map(ms),
                    "outcome": if s.error.is_some() { "error" } else { "ok" },
                    "error": s.error,
                }),
                ["statement".into(), format!("{}:{}", s.path, s.line), code(&excerpt), duration(s.duration), outcome],
            )
        }
        Event::Step(step) => {
            let done = match step.action {
                Action::Apply => "applied",
                Action::Reapply => "reapplied",
                Action::Adopt => "adopted",
                Action::Baselined => "baselined",
                _ => "done",
            };
            (
                json!({
                    "event": "step",
                    "version": step.version,
                    "path": step.path,
                    "action": step.action,
                    "statements_run": step.statements_run,
                    "statements_total": step.statements_total,
                    "duration_ms": step.duration_ms,
                }),
                [
                    "snippet".into(),
                    step.path.clone(),
                    String::new(),
                    format!("{} ms", step.duration_ms),
                    format!("{done}: {} of {} statement(s) ran", step.statements_run, step.statements_total),
                ],
            )
        }
        Event::LockWait { waited } => (
            json!({ "event": "lock_wait", "waited_ms": ms(waited) }),
            ["lock wait".into(), "schema lock".into(), String::new(), duration(Some(waited)), "taken".into()],
        ),
        Event::Retry { path, line, attempt, attempts, pause, reason } => {
            let place = match (path, line) {
                (Some(path), Some(line)) => format!("{path}:{line}"),
                (Some(path), None) => path.to_string(),
                _ => "schema lock".to_string(),
            };
            (
                json!({
                    "event": "retry",
                    "path": path,
                    "line": line,
                    "attempt": attempt,
                    "attempts": attempts,
                    "pause_ms": pause.as_millis() as u64,
                    "reason": reason,
                }),
                [
                    "retry".into(),
                    place,
                    String::new(),
                    format!("pause {} ms", pause.as_millis()),
                    format!("attempt {attempt} of {attempts} next: {reason}"),
                ],
            )
        }
    };
    if let Value::Object(map) = &mut json {
        map.insert("at".into(), json!(at));
        map.insert("elapsed_ms".into(), json!(ms(started.elapsed())));
    }
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    Entry { json, row: format!("| {time} | {} |\n", cells.join(" | ")) }
}

/// `2025-03-01T12:00:00.123Z`.
fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// `20250301T120000.123Z`: the start of a trail's folder name, sorted by time.
fn folder_stamp(time: SystemTime) -> String {
    let text = rfc3339(time);
    let (date, clock) = text.split_once('T').unwrap_or((&text, ""));
    format!("{}T{}", date.replace('-', ""), clock.replace(':', ""))
}

fn duration(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => format!("{:.1} ms", d.as_secs_f64() * 1000.0),
        None => "with its snippet".to_string(),
    }
}

/// Text for a cell of a Markdown table: on one line, its pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\r', "").replace('\n', " ").replace('|', "\\|")
}

/// Inline code that holds `text` whatever backticks it contains.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// A fenced block of plain text.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

fn render_lines(lines: &[Line]) -> String {
    lines.iter().map(|line| line.render(false, str::to_string)).collect::<Vec<_>>().join("\n")
}

fn extensions(target: &TargetInfo) -> String {
    target
        .extensions
        .iter()
        .map(|e| {
            let mut text = format!("{} {} in {}", e.name, e.version, e.schema);
            if !e.owns_schemas.is_empty() {
                text.push_str(&format!(" (owns {})", e.owns_schemas.join(", ")));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to do when the deep diff cannot be taken, for a release command.
fn dev_url_hint(program: &str, command: Command) -> String {
    format!(
        "The deep diff replays the snippets into a scratch database: on PostgreSQL and MySQL the role must be \
         allowed to create one on the target's server, or `--dev-url URL` names another server where it may \
         (`{program} schema {command} --report-dir DIR --dev-url postgres://user@dev-host/postgres`). The rest of \
         this trail does not depend on it."
    )
}

/// What to do when the deep diff cannot be taken, for the boot-time sync.
const BOOT_HINT: &str = "The deep diff replays the snippets into a scratch database on the target's server: the role \
     must be allowed to create one. `schema verify --deep --dev-url URL` takes it elsewhere. The rest of this trail \
     does not depend on it.";

/// The deep diff, as the trail records it.
async fn deep_diff(syncer: &Syncer<'_>, target: &Target, dev_url: Option<&str>) -> Result<DeepReport, String> {
    syncer.verify_deep(target.clone(), dev_url).await.map_err(|e| e.to_string())
}

async fn snapshot_of(syncer: &Syncer<'_>, target: &Target) -> Result<Snapshot, String> {
    syncer.snapshot(target.clone()).await.map_err(|e| e.to_string())
}

/// A release command's audit trail: none unless `--report-dir` (or the variable) asks.
#[derive(Default)]
pub(crate) struct Audit {
    trail: Option<Arc<Trail>>,
    /// The deep diff taken before the work, for `verify --deep` to use.
    deep_before: Option<Result<DeepReport, String>>,
}

impl Audit {
    /// Makes the trail's folder for `plan`, `apply` and `verify` when `--report-dir`, or
    /// else `<PREFIX>_SCHEMA_REPORT_DIR`, names one; before the database is touched.
    pub(crate) fn open(
        &mut self,
        args: &Args,
        syncer: &Syncer<'_>,
        redactor: &Redactor,
        program: &str,
    ) -> Result<(), String> {
        if !matches!(args.command, Command::Plan | Command::Apply | Command::Verify) {
            return Ok(());
        }
        let settings = syncer.settings().map_err(|e| e.to_string())?;
        let Some(parent) = args.report_dir.clone().or(settings.report_dir) else { return Ok(()) };
        // A `--dev-url` may hold a password too.
        let redactor = args.dev_url.iter().fold(redactor.clone(), |r, url| r.with_url(url));
        let title = format!("`{program} schema {}`", args.command);
        let trail = Trail::create(&parent, Of::Command(args.command), &title, redactor, Instant::now())
            .map_err(|e| format!("cannot write the audit trail under `{}`: {e}", parent.display()))?;
        self.trail = Some(Arc::new(trail));
        Ok(())
    }

    /// The trail as the sync's event sink, when there is one.
    pub(crate) fn sink(&self) -> Option<Arc<dyn EventSink>> {
        self.trail.clone().map(|trail| trail as Arc<dyn EventSink>)
    }

    /// Notes the error a command ends with.
    pub(crate) fn note_error(&self, error: &str) {
        if let Some(trail) = &self.trail {
            trail.note_error(error);
        }
    }
}

impl Run<'_, '_> {
    /// Writes what the trail holds before the work: the connection check, the drift
    /// report (and, for `apply`, the snapshot), the plan.
    pub(super) async fn trail_before(&mut self, target: &Target, plan: &SyncReport) {
        let Some(trail) = self.audit.trail.clone() else { return };
        trail.connection(&self.target, Some(&plan.ledger_table));
        let syncer = &self.release.syncer;
        let deep = deep_diff(syncer, target, self.args.dev_url.as_deref()).await;
        trail.drift(When::Before, &deep, self.args.strict, &dev_url_hint(&self.program, self.args.command));
        self.audit.deep_before = Some(deep);
        if self.args.command == Command::Apply {
            trail.snapshot(When::Before, &snapshot_of(syncer, target).await);
        }
        trail.plan(plan, self.snippets(plan));
        let file = if self.args.command == Command::Apply { &self.args.plan } else { &self.args.out };
        if let (Some(approved), Some(file)) = (&self.plan_file, file) {
            trail.plan_file(file, &approved.to_json(), approved.digest(), self.args.command == Command::Apply);
        }
    }

    /// Writes what the trail holds after an apply: its result, the drift report and
    /// the snapshot after it.
    pub(super) async fn trail_after(&self, target: &Target, outcome: Result<&SyncReport, &Error>) {
        let Some(trail) = &self.audit.trail else { return };
        let dialect = target.dialect();
        trail.result(outcome, self.release.syncer.snippets.for_dialect(dialect));
        let syncer = &self.release.syncer;
        let deep = deep_diff(syncer, target, self.args.dev_url.as_deref()).await;
        trail.drift(When::After, &deep, self.args.strict, &dev_url_hint(&self.program, self.args.command));
        trail.snapshot(When::After, &snapshot_of(syncer, target).await);
    }

    /// `verify --deep`: the deep diff the trail took before, or a new one.
    pub(super) async fn verify_deep(&mut self, target: Target) -> Result<DeepReport, String> {
        match self.audit.deep_before.take() {
            Some(deep) => deep,
            None => deep_diff(&self.release.syncer, &target, self.args.dev_url.as_deref()).await,
        }
    }

    /// Writes the outcome and says where the trail is (stderr); a trail that could not
    /// be written whole makes the command fail.
    pub(super) fn close_trail(&self, console: &mut Console<'_>, code: i32) -> i32 {
        let Some(trail) = &self.audit.trail else { return code };
        // A command that stopped before the plan was read (no connection, a plan that
        // could not be read) still says what it tried to reach.
        if !trail.connected() {
            trail.connection(&self.target, None);
        }
        match trail.finish(code) {
            Ok(dir) => {
                console.err_text(&format!("audit trail: {}\n", dir.display()));
                code
            }
            Err(failure) => {
                let message = format!("the audit trail in {} is incomplete: {failure}", trail.dir().display());
                console.err_line(&self.release.error_line(&message), self.redactor());
                EXIT_ERROR
            }
        }
    }
}

/// The boot-time sync with `<PREFIX>_SCHEMA_REPORT_DIR` ([`Syncer::run`]): the sync
/// reports its events to a trail that makes its folder when the sync has something to
/// change (or fails); a boot with nothing to do writes nothing. With
/// `<PREFIX>_SCHEMA_REPORT_DEEP=1` every boot writes a trail, with the deep diffs and
/// snapshots before and after.
pub(crate) async fn boot(syncer: &Syncer<'_>, settings: Settings, target: Target) -> Result<SyncReport, Error> {
    let started = Instant::now();
    let folder = settings.report_dir.clone().unwrap_or_default();
    let unwritable = |message: String| -> Error {
        ErrorKind::AuditTrail { folder: folder.display().to_string(), message, variable: settings.var("REPORT_DIR") }
            .into()
    };
    // Checked before anything is read: a boot that was asked for a trail and cannot
    // write one stops here, having changed nothing.
    std::fs::create_dir_all(&folder).map_err(|e| unwritable(e.to_string()))?;
    let environment = if syncer.read_environment {
        std::env::var(format!("{}_ENV", settings.env_prefix)).ok().filter(|v| !v.trim().is_empty())
    } else {
        None
    };
    let info = TargetInfo::of(&target, environment);
    let ledger_table = settings.ledger(target.dialect()).map(|t| t.display()).unwrap_or_default();
    let snippets = syncer.snippets.for_dialect(target.dialect());
    if settings.report_deep {
        let trail = Trail::create(&folder, Of::Boot, "the boot-time sync", Redactor::default(), started)
            .map(Arc::new)
            .map_err(unwritable)?;
        let mut info = info;
        let plan = syncer.plan(target.clone()).await;
        if let Ok(plan) = &plan {
            info.server_version = Some(plan.server_version.clone());
        }
        if let Ok((schemas, extensions_found)) = syncer.scope_facts(&target).await {
            (info.schemas, info.extensions) = (schemas, extensions_found);
        }
        trail.connection(&info, Some(&ledger_table));
        trail.drift(When::Before, &deep_diff(syncer, &target, None).await, false, BOOT_HINT);
        trail.snapshot(When::Before, &snapshot_of(syncer, &target).await);
        if let Ok(plan) = &plan {
            trail.plan(plan, snippets);
        }
        let mut settings = settings;
        settings.events = Some(Sink(trail.clone()));
        let result = syncer.run_with(settings, target.clone()).await;
        trail.result(result.as_ref(), snippets);
        trail.drift(When::After, &deep_diff(syncer, &target, None).await, false, BOOT_HINT);
        trail.snapshot(When::After, &snapshot_of(syncer, &target).await);
        close_boot(&trail, &result);
        return result;
    }
    let boot =
        Arc::new(BootTrail { folder, ledger_table, target: info, started, state: Mutex::new(BootState::default()) });
    let mut with_sink = settings;
    with_sink.events = Some(Sink(boot.clone()));
    let result = syncer.run_with(with_sink, target.clone()).await;
    if result.is_err() {
        // A sync that failed before it planned work (a lock wait that ran out, a
        // refusal) leaves a trail too, with the events it had.
        let server_version = result.as_ref().err().and_then(|e| e.report()).map(|r| r.server_version.clone());
        let mut state = boot.state();
        boot.open(&mut state, server_version);
        boot.flush(&mut state);
    }
    let trail = boot.state().trail.clone();
    if let Some(trail) = trail {
        if let Ok((schemas, extensions_found)) = syncer.scope_facts(&target).await {
            trail.scope(schemas, extensions_found, &boot.ledger_table);
        }
        trail.result(result.as_ref(), snippets);
        close_boot(&trail, &result);
    }
    result
}

/// Ends a boot's trail: its outcome, and a log line saying where it is.
fn close_boot(trail: &Trail, result: &Result<SyncReport, Error>) {
    if let Err(e) = result {
        trail.note_error(&e.to_string());
    }
    let code = if result.is_ok() { EXIT_OK } else { EXIT_ERROR };
    match trail.finish(code) {
        Ok(dir) => tracing::info!(target: "bootschema", "audit trail of the sync: {}", dir.display()),
        Err(failure) => tracing::warn!(
            target: "bootschema", "the audit trail in {} is incomplete: {failure}", trail.dir().display()
        ),
    }
}

/// The boot-time sync's trail, made when the sync first plans work (or fails); the
/// events before that (a wait for the lock) wait in memory until then.
struct BootTrail {
    folder: PathBuf,
    ledger_table: String,
    target: TargetInfo,
    started: Instant,
    state: Mutex<BootState>,
}

#[derive(Default)]
struct BootState {
    trail: Option<Arc<Trail>>,
    pending: Vec<Entry>,
    /// The trail could not be made (warned once; the boot goes on).
    failed: bool,
}

impl BootTrail {
    fn state(&self) -> MutexGuard<'_, BootState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes the trail's folder and writes the connection check.
    fn open(&self, state: &mut BootState, server_version: Option<String>) {
        if state.trail.is_some() || state.failed {
            return;
        }
        match Trail::create(&self.folder, Of::Boot, "the boot-time sync", Redactor::default(), self.started) {
            Ok(trail) => {
                let mut target = self.target.clone();
                target.server_version = server_version;
                trail.connection(&target, Some(&self.ledger_table));
                state.trail = Some(Arc::new(trail));
            }
            Err(e) => {
                tracing::warn!(
                    target: "bootschema", "cannot write the audit trail under {}: {e}; the sync goes on without it",
                    self.folder.display()
                );
                state.failed = true;
            }
        }
    }

    /// Writes the events that waited for the trail to be made.
    fn flush(&self, state: &mut BootState) {
        if let Some(trail) = state.trail.clone() {
            for pending in std::mem::take(&mut state.pending) {
                trail.log(&pending);
            }
        }
    }
}

impl EventSink for BootTrail {
    fn event(&self, event: &Event<'_>) {
        let mut state = self.state();
        if state.trail.is_none() {
            let Event::Planned { report, .. } = event else {
                state.pending.push(entry(event, self.started));
                return;
            };
            let work = report.steps.iter().any(|s| s.action.changes_database() || s.action.needs_person());
            if !work {
                return;
            }
            self.open(&mut state, Some(report.server_version.clone()));
            if let Some(trail) = state.trail.clone() {
                trail.event(event);
                self.flush(&mut state);
            }
            return;
        }
        if let Some(trail) = &state.trail {
            trail.event(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_sort_by_time_and_hold_no_colon() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_740_830_400_123);
        assert_eq!(folder_stamp(time), "20250301T120000.123Z");
    }

    #[test]
    fn markdown_cells_and_code_survive_pipes_newlines_and_backticks() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
        assert_eq!(code("SELECT `x`"), "`` SELECT `x` ``");
        assert_eq!(code("SELECT 1"), "` SELECT 1 `");
        assert!(fenced("a\n```\nb").starts_with("````text\n"));
    }

    #[test]
    fn a_second_trail_in_the_same_folder_never_writes_over_the_first() {
        let parent = std::env::temp_dir().join(format!("bootschema-audit-{}", std::process::id()));
        let started = Instant::now();
        let first = Trail::create(&parent, Of::Boot, "t", Redactor::default(), started).unwrap();
        let second = Trail::create(&parent, Of::Boot, "t", Redactor::default(), started).unwrap();
        assert_ne!(first.dir(), second.dir());
        assert!(second.dir().to_string_lossy().ends_with("-boot-2"), "{}", second.dir().display());
        std::fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn every_string_of_an_entry_and_a_section_is_redacted() {
        let parent = std::env::temp_dir().join(format!("bootschema-audit-redact-{}", std::process::id()));
        let redactor = Redactor::default().with_url("postgres://app:hunter22@db/app");
        let trail = Trail::create(&parent, Of::Boot, "t", redactor, Instant::now()).unwrap();
        let statement = crate::events::StatementEvent {
            path: "sql/0001_x.sql",
            line: 3,
            index: 0,
            sql: "CREATE ROLE x PASSWORD 'hunter22'",
            duration: Some(Duration::from_millis(2)),
            error: Some("role x: password hunter22 rejected"),
        };
        trail.event(&Event::Statement(statement));
        trail.section("Note", "connecting to postgres://app:hunter22@db/app");
        let dir = trail.finish(EXIT_ERROR).unwrap();
        for file in ["report.md", "execution.jsonl", "outcome.json"] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(!text.contains("hunter22"), "{file}: {text}");
            assert!(text.contains("***") || file == "outcome.json", "{file}: {text}");
        }
        let log = std::fs::read_to_string(dir.join("execution.jsonl")).unwrap();
        let line: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
        assert_eq!(
            (line["event"].as_str(), line["outcome"].as_str(), line["line"].as_u64()),
            (Some("statement"), Some("error"), Some(3))
        );
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
