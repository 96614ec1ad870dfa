//! The release phase: the app's own binary as its schema tool.
//!
//! `myapp schema plan | apply | verify | status [--json]` is handled by one call in the
//! app's `main`, before it starts serving; any other command line is left to the app.
//! The commands run the same code as the boot-time sync ([`Syncer::plan`],
//! [`Syncer::run`]); this module only parses arguments and prints.
//!
//! ```no_run
//! # fn embedded() -> &'static bootschema::SnippetSet { unimplemented!() }
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let snippets = embedded(); // &SNIPPETS, from bootschema::include_snippets!()
//!     let url = std::env::var("DATABASE_URL")?;
//!     let connect = || sqlx::PgPool::connect(&url);
//!     // `myapp schema …` runs here and exits; anything else goes on.
//!     let release = bootschema::release::Release::new(bootschema::Syncer::new(snippets)).redact_url(&url);
//!     if let Some(code) = release.run_from_args(connect).await {
//!         std::process::exit(code);
//!     }
//!     let pool = connect().await?;
//!     bootschema::sync(snippets, &pool).await?;
//!     // … serve
//!     Ok(())
//! }
//! ```
//!
//! Exit status: 0 success, 1 an error (a usage error, a failed connection, a refusal,
//! a failed statement, and for `plan`, `verify` and `status` an `unless` guard whose
//! query fails with nothing run before it, which would stop a boot), 2 `verify` found
//! anything pending, edited, drifted or blocked.
//!
//! `<PREFIX>_SCHEMA_SYNC=off` turns off the boot-time sync only: `schema apply` applies
//! regardless ([`Syncer::ignore_sync_variable`]), and always reads the ledger and the
//! catalog ([`Syncer::full_check`]): it is the step that reports drift and repairs the
//! ledger's mark after a hand edit. The other variables keep their
//! meaning (`DRY_RUN=1` makes `apply` a dry run; `ALLOW_DESTRUCTIVE` gates destructive
//! snippets).
//!
//! `plan --out FILE` also writes the plan file to approve ([`crate::ApprovedPlan`]), and
//! `apply --plan FILE` carries out that plan only if the plan computed under the lock is
//! still the same ([`Syncer::approved_plan`]); a file that cannot be used is an error
//! before anything connects.
//!
//! Destructive snippets: at a terminal (stdin is one), `apply` lists them and asks; the
//! answer, or `--yes`, allows them for that run. Without a terminal it never waits for
//! input and only `<PREFIX>_SCHEMA_ALLOW_DESTRUCTIVE=1` allows them (`--yes` is ignored
//! there, so that a pipeline cannot skip the review by adding a flag). A variable set
//! to a false value wins over both, as the environment always does.
//!
//! Nothing printed holds a password or token of the connection string given to
//! [`Release::redact_url`], nor anything that looks like one (see [`redact()`]).

mod args;
pub(crate) mod audit;
mod document;
mod redact;
mod render;
mod target;

use std::ffi::OsString;
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

pub use args::Command;
pub use redact::{redact, MASK};

use args::{Args, Invocation, UsageError};
use document::{Document, Outcome};
use redact::Redactor;
use render::{Line, Mode};
use target::TargetInfo;

use crate::approve::ApprovedPlan;
use crate::dialect::Target;
use crate::error::{Error, ErrorKind};
use crate::plan::{Action, Step};
use crate::report::SyncReport;
use crate::snippet::Snippet;
use crate::sync::Syncer;

/// Exit status of a command that succeeded.
pub const EXIT_OK: i32 = 0;
/// Exit status of a command that failed: usage, connection, refusal, a failed statement.
pub const EXIT_ERROR: i32 = 1;
/// Exit status of `verify` when the database is not in sync.
pub const EXIT_NOT_IN_SYNC: i32 = 2;

/// The `schema` subcommand of an app: its syncer, and the secrets to keep out of the
/// output.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    syncer: Syncer<'a>,
    redactor: Redactor,
    program: Option<String>,
}

impl<'a> Release<'a> {
    /// The subcommand for the app's syncer: use the one the app boots with, so that
    /// both use the same ledger table, prefix and timeouts.
    ///
    /// The syncer is turned on and told to ignore `<PREFIX>_SCHEMA_SYNC` (which turns
    /// off the boot-time sync only).
    pub fn new(syncer: Syncer<'a>) -> Release<'a> {
        Release {
            syncer: syncer.enabled(true).full_check(true).ignore_sync_variable(),
            redactor: Redactor::default(),
            program: None,
        }
    }

    /// The connection string the app connects with: its password and tokens never
    /// appear in the output, errors included, even where a driver would repeat them.
    /// May be called for several strings.
    pub fn redact_url(mut self, url: &str) -> Release<'a> {
        self.redactor = self.redactor.with_url(url);
        self
    }

    /// Handles `<program> schema …` when that is the process's command line, printing
    /// to stdout and stderr, and returns the exit status; returns `None` (having read
    /// and printed nothing, and without calling `connect`) for any other command line.
    ///
    /// `connect` opens the app's pool; it is called only once the arguments are valid.
    pub async fn run_from_args<F, Fut, T, E>(mut self, connect: F) -> Option<i32>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: Into<Target>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut args = std::env::args_os();
        let program = args.next();
        if args.next().as_deref() != Some("schema".as_ref()) {
            return None;
        }
        if let Some(name) = program.as_deref().map(std::path::Path::new).and_then(|p| p.file_name()) {
            self.program = Some(name.to_string_lossy().into_owned());
        }
        Some(self.run(args, connect, &mut Console::stdio()).await)
    }

    /// Runs the command named by `args` (the words after `schema`: `["apply", "--json"]`)
    /// and returns its exit status. For apps that name the subcommand differently, and
    /// for tests.
    ///
    /// A failure to write the output (`> /dev/full`) is exit status 1 with the error on
    /// stderr; a reader that went away (`| head -1`) ends the output quietly.
    pub async fn run<I, F, Fut, T, E>(&self, args: I, connect: F, console: &mut Console<'_>) -> i32
    where
        I: IntoIterator<Item = OsString>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: Into<Target>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let code = self.run_command(args, connect, console).await;
        match console.out_error.take() {
            Some(e) => {
                console.err_line(&self.error_line(&format!("cannot write the output: {e}")), &self.redactor);
                EXIT_ERROR
            }
            None => code,
        }
    }

    async fn run_command<I, F, Fut, T, E>(&self, args: I, connect: F, console: &mut Console<'_>) -> i32
    where
        I: IntoIterator<Item = OsString>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        T: Into<Target>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let prefix = self.syncer.settings.env_prefix.clone();
        let program = self.program.clone().unwrap_or_else(|| prefix.to_ascii_lowercase());
        let args = match args::parse(args) {
            Ok(Invocation::Run(args)) => args,
            Ok(Invocation::Help(command)) => {
                console.out_text(&args::usage(&program, &prefix, command));
                return EXIT_OK;
            }
            Err(UsageError(message)) => {
                let usage = args::usage(&program, &prefix, None);
                console.err_line(&self.error_line(&message), &self.redactor);
                console.err_text(&format!("\n{usage}"));
                return EXIT_ERROR;
            }
        };
        let mut run = Run {
            release: self,
            args,
            program,
            target: TargetInfo { environment: self.environment(&prefix), ..TargetInfo::default() },
            started,
            deep: None,
            plan_file: None,
            audit: audit::Audit::default(),
        };
        if let Err(e) = self.syncer.settings() {
            return run.failed(console, None, "failed", e.to_string());
        }
        // The approved plan is read before connecting: a file that cannot be used is
        // an error of the command line's, and the database is not touched.
        if let Some(path) = run.args.plan.clone() {
            match ApprovedPlan::read(&path) {
                Ok(plan) => run.plan_file = Some(plan),
                Err(e) if run.args.json => return run.failed(console, None, "failed", e.to_string()),
                Err(e) => {
                    console.err_line(&self.error_line(&self.redactor.redact(&e.to_string())), &self.redactor);
                    return EXIT_ERROR;
                }
            }
        }
        // `diff` reads the two schemas it is given, not the app's database.
        if run.args.command == Command::Diff {
            return run.diff(console).await;
        }
        // The audit trail's folder is made before the database is touched.
        if let Err(message) = run.audit.open(&run.args, &self.syncer, &self.redactor, &run.program) {
            return run.failed(console, None, "failed", message);
        }
        let target: Target = match connect().await {
            Ok(target) => target.into(),
            Err(e) => {
                let e = e.into();
                // From `Syncer::connect`, also wrapped by the app: the URL's host, port
                // and database go into the header and the JSON's target.
                let connect = std::iter::successors(Some(&*e as &(dyn std::error::Error + 'static)), |e| e.source())
                    .find_map(|e| match e.downcast_ref::<Error>().map(Error::kind) {
                        Some(ErrorKind::Connect { endpoint, .. }) => Some((e, endpoint)),
                        _ => None,
                    });
                let message = match connect {
                    Some((error, endpoint)) => {
                        run.target.host = endpoint.host.clone();
                        run.target.port = endpoint.port;
                        run.target.database_name = endpoint.database.clone();
                        error.to_string()
                    }
                    None => format!("cannot connect to the database: {}", error_chain(&*e)),
                };
                let code = run.failed(console, None, "failed", message);
                return run.close_trail(console, code);
            }
        };
        run.target = TargetInfo::of(&target, run.target.environment.take());
        if run.args.command != Command::Snapshot {
            // What the connection check shows besides the server: the schemas in scope
            // and the extensions (PostgreSQL). Not worth failing the command over.
            match run.release.syncer.scope_facts(&target).await {
                Ok((schemas, extensions)) => (run.target.schemas, run.target.extensions) = (schemas, extensions),
                Err(e) => tracing::debug!(target: "bootschema", "reading the schemas and extensions: {e}"),
            }
        }
        let code = match run.args.command {
            Command::Apply => run.apply(console, target).await,
            Command::Baseline => run.baseline(console, target).await,
            Command::Snapshot => run.snapshot(console, target).await,
            _ => run.look(console, target).await,
        };
        run.close_trail(console, code)
    }

    /// `<PREFIX>_ENV`, unless the syncer ignores the environment.
    fn environment(&self, prefix: &str) -> Option<String> {
        if !self.syncer.read_environment {
            return None;
        }
        std::env::var(format!("{prefix}_ENV")).ok().filter(|v| !v.trim().is_empty())
    }

    fn error_line(&self, message: &str) -> Line {
        Line::new().styled(render::RED.bold(), "error:").plain(format!(" {message}"))
    }
}

/// One command being run.
struct Run<'r, 'a> {
    release: &'r Release<'a>,
    args: Args,
    program: String,
    target: TargetInfo,
    started: Instant,
    /// What `verify --deep` found, for the JSON document.
    deep: Option<crate::deep::DeepReport>,
    /// The plan file: written by `plan --out`, or read for `apply --plan`.
    plan_file: Option<ApprovedPlan>,
    /// The audit trail (`--report-dir`), if asked for.
    audit: audit::Audit,
}

impl Run<'_, '_> {
    fn snippets(&self, report: &SyncReport) -> &[Snippet] {
        self.release.syncer.snippets.for_dialect(report.dialect)
    }

    fn redactor(&self) -> &Redactor {
        &self.release.redactor
    }

    /// `plan`, `verify`, `status`: read the plan, print it, change nothing; `plan --out
    /// FILE` also writes the plan file to approve.
    async fn look(&mut self, console: &mut Console<'_>, target: Target) -> i32 {
        let syncer = &self.release.syncer;
        let looked = match self.args.out.clone() {
            Some(path) => {
                syncer.plan_for_approval(target.clone()).await.map(|(report, plan)| (report, Some((path, plan))))
            }
            None => syncer.plan(target.clone()).await.map(|report| (report, None)),
        };
        let (report, approval) = match looked {
            Ok(looked) => looked,
            Err(e) => return self.failed(console, None, "failed", e.to_string()),
        };
        self.target.server_version = Some(report.server_version.clone());
        if let Some((path, plan)) = approval {
            if let Err(e) = plan.write(&path) {
                let message = format!("cannot write the plan file `{}`: {e}", path.display());
                return self.failed(console, Some(&report), "failed", message);
            }
            self.plan_file = Some(plan);
        }
        self.trail_before(&target, &report).await;
        // `verify --deep`: the shape too, from the snippets replayed into a scratch
        // database.
        let deep = if self.args.deep {
            match self.verify_deep(target).await {
                Ok(deep) => Some(deep),
                Err(e) => return self.failed(console, Some(&report), "failed", e),
            }
        } else {
            None
        };
        let clean = render::is_clean(&report) && !deep.as_ref().is_some_and(|d| d.differs(self.args.strict));
        // A guard whose query fails with nothing run before it fails the boot the same
        // way: the look says so and fails (exit 1), whatever the command.
        let failing = render::failing_guards(&report);
        let error = (!failing.is_empty()).then(|| {
            let guards: Vec<String> = failing
                .iter()
                .map(|(step, guard)| {
                    let at = guard.line.map(|l| format!(":{l}")).unwrap_or_default();
                    let error = match &guard.status {
                        crate::GuardStatus::Unknown(e) => e.as_str(),
                        _ => "",
                    };
                    format!("{}{at}: the guard query `{}` failed: {error}", step.path, guard.guard)
                })
                .collect();
            format!("{}; a boot would stop there: fix the query (it runs as written)", guards.join("; "))
        });
        let code = match () {
            _ if error.is_some() => EXIT_ERROR,
            _ if self.args.command == Command::Verify && !clean => EXIT_NOT_IN_SYNC,
            _ => EXIT_OK,
        };
        let status = match () {
            _ if error.is_some() => "failed",
            _ if clean => "clean",
            _ => "pending",
        };
        let error = error.map(|e| self.redactor().redact(&e));
        let outcome = Outcome { status, exit_code: code, error: error.clone() };
        if self.args.json {
            if let Some(error) = &error {
                console.err_line(&self.release.error_line(error), self.redactor());
            }
            self.deep = deep;
            return self.json(console, Some(&report), false, outcome);
        }
        let mut lines = render::header_lines(&self.args.command.to_string(), &self.target);
        if self.args.command == Command::Status {
            lines.extend(self.status_lines(&report));
        } else {
            lines.extend(render::steps(&report, self.snippets(&report), Mode::Plan));
            lines.push(render::summary(&report, Mode::Plan));
            if let Some(deep) = &deep {
                lines.extend(render::deep(deep, self.args.strict));
            }
            lines.extend(self.next_step(&report));
        }
        lines.extend(self.plan_file_lines());
        console.out_lines(&lines, self.redactor());
        if let Some(error) = &error {
            console.err_line(&self.release.error_line(error), self.redactor());
        }
        code
    }

    /// The short view of `status`.
    fn status_lines(&self, report: &SyncReport) -> Vec<Line> {
        let mut lines = vec![Line::new().plain("  ").styled(
            if render::is_clean(report) { render::GREEN.bold() } else { render::YELLOW.bold() },
            format!("{} snippet(s): {}", report.steps.len(), render::counts(report, Mode::Plan)),
        )];
        let last = match render::last_applied(report, false) {
            Some(step) => {
                let version = render::snippet_of(step, self.snippets(report))
                    .map_or_else(|| step.version.to_string(), |s| s.version_text.to_string());
                format!("{version} {} ({})", step.description, step.path)
            }
            None => "none: the ledger is empty".to_string(),
        };
        lines.push(Line::new().plain("  last applied: ").plain(last));
        if !report.orphans.is_empty() {
            lines.push(
                Line::new().plain("  ").styled(
                    render::YELLOW,
                    format!("{} ledger row(s) without an embedded snippet", report.orphans.len()),
                ),
            );
        }
        lines.push(Line::new().styled(render::DIM, format!("  read in {} ms", report.duration_ms)));
        lines.extend(self.next_step(report).map(|line| Line::new().plain("  ").styled_line(line)));
        lines
    }

    /// What to run next, when the plan is not clean.
    fn next_step(&self, report: &SyncReport) -> Option<Line> {
        let program = &self.program;
        let needs_person = report.steps.iter().any(|s| s.action.needs_person());
        let text = if needs_person && self.args.command == Command::Status {
            format!("edited, drifted, blocked or unproven snippets need a person: `{program} schema plan` says why")
        } else if needs_person {
            "edited, drifted, blocked or unproven snippets need a person: see their reasons above".to_string()
        } else if report.steps.iter().any(|s| s.action.changes_database()) {
            format!("run `{program} schema apply` to sync")
        } else {
            return None;
        };
        let style = if self.args.command == Command::Verify { render::RED.bold() } else { render::DIM };
        Some(Line::new().styled(style, text))
    }

    /// What `plan --out` wrote, and what its approval does not cover.
    fn plan_file_lines(&self) -> Vec<Line> {
        let (Some(plan), Some(path)) = (&self.plan_file, &self.args.out) else { return Vec::new() };
        let path = path.display();
        let mut lines =
            vec![Line::new().styled(render::GREEN.bold(), format!("plan written to {path}")).plain(format!(
                " ({} change(s), digest {}): review it; `{} schema apply --plan {path}` applies exactly this plan",
                plan.changes(),
                short_digest(plan.digest()),
                self.program
            ))];
        let variable = self.release.syncer.settings.var("ALLOW_DESTRUCTIVE");
        for file in plan.destructive() {
            lines.push(Line::new().styled(
                render::YELLOW,
                format!("  {file} is destructive: approval is not consent; `apply --plan` also needs {variable}=1"),
            ));
        }
        lines
    }

    /// `apply`: plan, ask at a terminal before destructive snippets, sync, report.
    async fn apply(&mut self, console: &mut Console<'_>, target: Target) -> i32 {
        let plan = match self.release.syncer.plan(target.clone()).await {
            Ok(plan) => plan,
            Err(e) => return self.failed(console, None, "failed", e.to_string()),
        };
        self.target.server_version = Some(plan.server_version.clone());
        self.trail_before(&target, &plan).await;
        let mut syncer = self.release.syncer.clone();
        if let Some(approved) = &self.plan_file {
            syncer = syncer.approved_plan(approved.clone());
        }
        if let Some(sink) = self.audit.sink() {
            syncer = syncer.events(sink);
        }
        let destructive: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|s| s.destructive && (s.action.runs_sql() || s.action == Action::Blocked))
            .collect();
        if !destructive.is_empty() && console.input.is_some() {
            if !self.args.yes && !self.confirm(console, &destructive) {
                return self.failed(
                    console,
                    Some(&plan),
                    "declined",
                    "declined at the prompt; nothing was applied".into(),
                );
            }
            syncer = syncer.allow_destructive(true);
        }
        let result = syncer.run(target.clone()).await;
        self.trail_after(&target, result.as_ref()).await;
        match result {
            Ok(report) => {
                let outcome = Outcome {
                    status: if report.dry_run { "dry_run" } else { "applied" },
                    exit_code: EXIT_OK,
                    error: None,
                };
                if self.args.json {
                    return self.json(console, Some(&report), true, outcome);
                }
                let mode = if report.dry_run { Mode::Plan } else { Mode::Result };
                let mut lines = render::header_lines("apply", &self.target);
                lines.extend(render::steps(&report, self.snippets(&report), mode));
                lines.push(render::summary(&report, mode));
                if let (Some(path), Some(plan)) = (&self.args.plan, &self.plan_file) {
                    let what = if report.dry_run {
                        "is what a sync would do now (compared without the lock)"
                    } else {
                        "was carried out, and nothing else"
                    };
                    let digest = short_digest(plan.digest());
                    lines.push(Line::new().plain(format!("the approved plan {} ({digest}) {what}", path.display())));
                }
                if report.dry_run {
                    let variable = self.release.syncer.settings.var("DRY_RUN");
                    lines.push(
                        Line::new().styled(render::YELLOW.bold(), format!("{variable} is set: nothing was applied")),
                    );
                }
                console.out_lines(&lines, self.redactor());
                EXIT_OK
            }
            Err(e) => {
                let refused = matches!(e.kind(), ErrorKind::Refused(_))
                    || matches!(e.kind(), ErrorKind::NotApproved { nothing_applied: true, .. });
                let status = if refused { "refused" } else { "failed" };
                let mut message = e.to_string();
                if status == "refused" && self.args.yes && console.input.is_none() && !destructive.is_empty() {
                    message.push_str(&format!(
                        "\n  (--yes is consent given at a terminal; without one, set {}=1)",
                        self.release.syncer.settings.var("ALLOW_DESTRUCTIVE")
                    ));
                }
                // What the sync had done before it failed, when it got that far.
                self.failed(console, Some(e.report().unwrap_or(&plan)), status, message)
            }
        }
    }

    /// `baseline <version>`: records the history the database holds, up to the version,
    /// without running it, and nothing else.
    async fn baseline(&mut self, console: &mut Console<'_>, target: Target) -> i32 {
        let version = self.args.version.unwrap_or_default();
        let syncer = self.release.syncer.clone().baseline(version).up_to(version).ignore_sync_variable();
        let plan = match syncer.plan(target.clone()).await {
            Ok(plan) => plan,
            Err(e) => return self.failed(console, None, "failed", e.to_string()),
        };
        self.target.server_version = Some(plan.server_version.clone());
        let would_run: Vec<&Step> = plan.steps.iter().filter(|s| s.action.runs_sql()).collect();
        let refusal = if let Some(step) = would_run.first() {
            Some(format!(
                "refusing to baseline: bootschema already records this database's history, and {} (at or below \
                 {version}) would run, not be baselined: {}. A baseline only records the history of a database \
                 that bootschema has not synced; run `{} schema apply`",
                step.path, step.reason, self.program
            ))
        } else if plan.count(Action::Baselined) == 0 {
            Some(format!(
                "nothing to baseline at or below {version}: every such snippet is recorded already, or the database \
                 holds none of their objects (an empty database gets them from `{} schema apply`)",
                self.program
            ))
        } else {
            None
        };
        if let Some(message) = refusal {
            return self.failed(console, Some(&plan), "refused", message);
        }
        match syncer.run(target).await {
            Ok(report) => {
                let outcome = Outcome { status: "baselined", exit_code: EXIT_OK, error: None };
                if self.args.json {
                    return self.json(console, Some(&report), true, outcome);
                }
                let mut lines = render::header_lines("baseline", &self.target);
                lines.extend(render::steps(&report, self.snippets(&report), Mode::Result));
                lines.push(render::summary(&report, Mode::Result));
                console.out_lines(&lines, self.redactor());
                EXIT_OK
            }
            Err(e) => {
                let status = if matches!(e.kind(), ErrorKind::Refused(_)) { "refused" } else { "failed" };
                self.failed(console, Some(e.report().unwrap_or(&plan)), status, e.to_string())
            }
        }
    }

    /// Lists the destructive snippets on stderr and asks; `true` only for `y` / `yes`.
    fn confirm(&self, console: &mut Console<'_>, destructive: &[&Step]) -> bool {
        let target: String = self.target.describe().into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(" · ");
        let mut lines = vec![Line::new()
            .styled(render::RED.bold(), format!("{} destructive snippet(s)", destructive.len()))
            .plain(format!(" would run on {target}:"))];
        for step in destructive {
            lines.push(Line::new().plain(format!("  {} {}  ({})", step.version, step.description, step.path)));
        }
        console.err_lines(&lines, self.redactor());
        console.err_text("Apply them? Type `yes` to continue: ");
        let answer = console.read_line().unwrap_or_default();
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }

    /// `diff A B`: reads both schemas (URLs or snapshot files), prints how they differ.
    async fn diff(&mut self, console: &mut Console<'_>) -> i32 {
        let operands = self.args.operands.clone();
        let redactor = operands.iter().fold(self.redactor().clone(), |r, op| r.with_url(op));
        let mut sides = Vec::new();
        for (label, operand) in ["A", "B"].into_iter().zip(&operands) {
            match self.schema_of(operand).await {
                Ok(snapshot) => sides.push(snapshot),
                Err(message) => {
                    let message = redactor.redact(&format!("cannot read schema {label} (`{operand}`): {message}"));
                    console.err_line(&self.release.error_line(&message), &redactor);
                    if self.args.json {
                        let document =
                            serde_json::json!({ "command": "diff", "exit_code": EXIT_ERROR, "error": message });
                        console.out_text(&format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default()));
                    }
                    return EXIT_ERROR;
                }
            }
        }
        let differences = crate::snapshot::diff(&sides[0], &sides[1]);
        let code = if differences.is_empty() { EXIT_OK } else { EXIT_NOT_IN_SYNC };
        // The sources go into the snippet's header with their passwords masked.
        let suggestion = self.args.suggest.then(|| {
            let origin = crate::snapshot::Origin {
                a: Some(redactor.redact(&operands[0])),
                b: Some(redactor.redact(&operands[1])),
                file_name: Some(crate::snapshot::suggested_file_name(
                    self.release.syncer.snippets,
                    sides[0].dialect,
                    sides[1].dialect,
                )),
            };
            let mut suggestion = crate::snapshot::suggest_for(&sides[0], &sides[1], &origin);
            suggestion.sql = redactor.redact(&suggestion.sql);
            for n in &mut suggestion.not_suggested {
                n.reason = redactor.redact(&n.reason);
            }
            suggestion
        });
        if self.args.json {
            let mut document = serde_json::json!({
                "command": "diff",
                "a": { "source": redactor.redact(&operands[0]), "dialect": sides[0].dialect },
                "b": { "source": redactor.redact(&operands[1]), "dialect": sides[1].dialect },
                "same": differences.is_empty(),
                "differences": differences,
                "exit_code": code,
            });
            if let Some(suggestion) = &suggestion {
                document["suggestion"] = serde_json::to_value(suggestion).unwrap_or_default();
            }
            console.out_text(&format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default()));
            return code;
        }
        let dialect =
            |s: &crate::Snapshot| serde_json::to_value(s.dialect).ok().and_then(|v| v.as_str().map(str::to_owned));
        let mut text = format!(
            "schema diff\n  A: {} ({})\n  B: {} ({})\n",
            operands[0],
            dialect(&sides[0]).unwrap_or_default(),
            operands[1],
            dialect(&sides[1]).unwrap_or_default()
        );
        if differences.is_empty() {
            text.push_str("the same schema\n");
        } else {
            for d in &differences {
                text.push_str(&format!("  {d}\n"));
            }
            text.push_str(&format!("{} difference(s)\n", differences.len()));
        }
        if let Some(suggestion) = &suggestion {
            text.push_str(&format!(
                "\nsuggested snippet ({} statement(s), {} difference(s) left as comments):\n\n{}",
                suggestion.statements,
                suggestion.not_suggested.len(),
                suggestion.sql
            ));
        }
        console.out_text(&redactor.redact(&text));
        code
    }

    /// One side of `diff`: a snapshot file, or the schema behind a database URL.
    async fn schema_of(&self, operand: &str) -> Result<crate::Snapshot, String> {
        let path = std::path::Path::new(operand);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}"))?;
            return crate::Snapshot::from_json(&text);
        }
        if operand.contains("://") || operand.starts_with("sqlite:") {
            let syncer = &self.release.syncer;
            let target = syncer.connect(operand).await.map_err(|e| e.to_string())?;
            return syncer.snapshot(target).await.map_err(|e| e.to_string());
        }
        Err("neither a snapshot file nor a database URL (postgres://…, mysql://…, sqlite:…)".into())
    }

    /// `snapshot`: the schema as one document, text or JSON, on stdout or into `--out`.
    async fn snapshot(&mut self, console: &mut Console<'_>, target: Target) -> i32 {
        let snapshot = match self.release.syncer.snapshot(target).await {
            Ok(snapshot) => snapshot,
            Err(e) => return self.failed(console, None, "failed", e.to_string()),
        };
        let text = if self.args.json { snapshot.to_json() } else { snapshot.to_text() };
        let text = self.redactor().redact(&text);
        match &self.args.out {
            None => console.out_text(&text),
            Some(path) => {
                if let Err(e) = std::fs::write(path, text.as_bytes()) {
                    let message = format!("cannot write the snapshot to `{}`: {e}", path.display());
                    return self.failed(console, None, "failed", message);
                }
                console.err_text(&format!(
                    "snapshot of {} tables, {} views written to {}\n",
                    snapshot.tables.len(),
                    snapshot.views.len(),
                    path.display()
                ));
            }
        }
        EXIT_OK
    }

    /// Prints a failure: the plan when there is one, then the (redacted) error.
    fn failed(&self, console: &mut Console<'_>, plan: Option<&SyncReport>, status: &'static str, error: String) -> i32 {
        let error = self.redactor().redact(&error);
        self.audit.note_error(&error);
        let error_line = self.release.error_line(&error);
        if self.args.json {
            console.err_line(&error_line, self.redactor());
            let outcome = Outcome { status, exit_code: EXIT_ERROR, error: Some(error) };
            return self.json(console, plan, false, outcome);
        }
        let mut lines = render::header_lines(&self.args.command.to_string(), &self.target);
        if let Some(plan) = plan {
            lines.extend(render::steps(plan, self.snippets(plan), Mode::Plan));
            lines.push(render::summary(plan, Mode::Plan));
        }
        console.out_lines(&lines, self.redactor());
        console.err_line(&error_line, self.redactor());
        EXIT_ERROR
    }

    fn json(&self, console: &mut Console<'_>, report: Option<&SyncReport>, is_result: bool, outcome: Outcome) -> i32 {
        let code = outcome.exit_code;
        let plan_file = self.plan_file.as_ref().map(|plan| {
            let path = self.args.out.as_ref().or(self.args.plan.as_ref());
            serde_json::json!({
                "path": path.map(|p| p.display().to_string()),
                "digest": plan.digest(),
                "changes": plan.changes(),
            })
        });
        let document = Document {
            command: self.args.command,
            target: &self.target,
            plan_file,
            report: report.map(|r| (r, self.snippets(r))),
            is_result,
            outcome,
            duration_ms: self.started.elapsed().as_millis() as u64,
            deep: self.deep.as_ref().map(|d| (d, self.args.strict)),
        };
        let text = serde_json::to_string_pretty(&document.to_value(self.redactor())).unwrap_or_default();
        console.out_text(&format!("{text}\n"));
        code
    }
}

/// `sha256:` and the first 12 digits, for a line of text.
fn short_digest(digest: &str) -> String {
    format!("{}…", &digest[..digest.len().min(19)])
}

/// An error and its sources on one line, each source left out when the message before
/// already says it (drivers often repeat their cause in their own message).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// Where a command writes, and whether a person can answer its questions.
///
/// [`Console::stdio`] is the process's own: colour when the stream is a terminal and
/// `NO_COLOR` is unset, questions when stdin is a terminal. [`Console::new`] writes to
/// any pair of writers, plain, with nobody to ask (as in a release phase).
pub struct Console<'io> {
    out: Box<dyn Write + 'io>,
    err: Box<dyn Write + 'io>,
    out_colour: bool,
    err_colour: bool,
    input: Option<Box<dyn BufRead + 'io>>,
    /// The first error writing to `out` other than a reader that went away.
    out_error: Option<std::io::Error>,
}

impl std::fmt::Debug for Console<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("out_colour", &self.out_colour)
            .field("err_colour", &self.err_colour)
            .field("interactive", &self.input.is_some())
            .finish()
    }
}

impl<'io> Console<'io> {
    /// Plain output to `out` and `err`, and no terminal to ask.
    pub fn new(out: impl Write + 'io, err: impl Write + 'io) -> Console<'io> {
        Console {
            out: Box::new(out),
            err: Box::new(err),
            out_colour: false,
            err_colour: false,
            input: None,
            out_error: None,
        }
    }

    /// A person answers the questions (`apply` before destructive snippets) from `input`,
    /// as at a terminal.
    pub fn answers(mut self, input: impl BufRead + 'io) -> Console<'io> {
        self.input = Some(Box::new(input));
        self
    }

    /// Colours the output (both streams) or not.
    pub fn colour(mut self, yes: bool) -> Console<'io> {
        self.out_colour = yes;
        self.err_colour = yes;
        self
    }
}

impl Console<'static> {
    /// The process's stdout, stderr and, when it is a terminal, stdin.
    pub fn stdio() -> Console<'static> {
        let colour_allowed = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let stdin = std::io::stdin();
        Console {
            out_colour: colour_allowed && std::io::stdout().is_terminal(),
            err_colour: colour_allowed && std::io::stderr().is_terminal(),
            input: if stdin.is_terminal() { Some(Box::new(stdin.lock())) } else { None },
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            out_error: None,
        }
    }
}

impl Console<'_> {
    /// Notes a failed write to `out`: a reader that went away (`| head -1`) ends the
    /// output quietly; any other error (`> /dev/full`) makes the command fail.
    fn out_written(&mut self, result: std::io::Result<()>) {
        if let Err(e) = result {
            if e.kind() != std::io::ErrorKind::BrokenPipe && self.out_error.is_none() {
                self.out_error = Some(e);
            }
        }
    }

    fn out_lines(&mut self, lines: &[Line], redactor: &Redactor) {
        let mut text = String::new();
        for line in lines {
            text.push_str(&line.render(self.out_colour, |t| redactor.redact(t)));
            text.push('\n');
        }
        let written = self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush());
        self.out_written(written);
    }

    fn err_lines(&mut self, lines: &[Line], redactor: &Redactor) {
        for line in lines {
            let _ = writeln!(self.err, "{}", line.render(self.err_colour, |t| redactor.redact(t)));
        }
        let _ = self.err.flush();
    }

    fn err_line(&mut self, line: &Line, redactor: &Redactor) {
        self.err_lines(std::slice::from_ref(line), redactor);
    }

    /// Text of the program's own (usage, JSON already redacted).
    fn out_text(&mut self, text: &str) {
        let written = self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush());
        self.out_written(written);
    }

    fn err_text(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        self.input.as_mut()?.read_line(&mut line).ok()?;
        Some(line)
    }
}
