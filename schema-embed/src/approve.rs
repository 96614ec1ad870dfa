//! Approving a plan, and applying exactly that plan.
//!
//! `schema plan --out plan.json` ([`Syncer::plan_for_approval`]) writes the plan as a
//! reviewer approves it ([`ApprovedPlan`]): the target's identity, the embedded set,
//! every step with the statements it runs, and what the plan was decided from (the
//! ledger rows, every guard's status, the `unless` answers), each part digested. `schema
//! apply --plan plan.json` ([`Syncer::approved_plan`]) computes the plan again under the
//! lock, before the first statement, and refuses unless it is the same
//! ([`ErrorKind::NotApproved`], naming what changed since approval).
//!
//! [`Syncer::plan_for_approval`]: crate::Syncer::plan_for_approval
//! [`Syncer::approved_plan`]: crate::Syncer::approved_plan

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{GuardStatus, Probes};
use crate::error::{Endpoint, Error, ErrorKind};
use crate::ledger::Ledger;
use crate::plan::{Action, Plan};
use crate::snippet::{DialectKind, Snippet};

/// What a plan file says it is, so that a `--json` document or a snapshot given by
/// mistake is named as such.
const KIND: &str = "bootschema-plan";

/// The version of the plan file's shape; raised when a field changes meaning or goes.
/// A binary reads only its own format: the plan is made and applied by one release.
pub const PLAN_FORMAT: u32 = 1;

/// A plan as a reviewer approves it, and as `schema plan --out FILE` writes it: the
/// target, the embedded set, every step with the statements it runs, and what the plan
/// was decided from. Given to [`Syncer::approved_plan`](crate::Syncer::approved_plan),
/// it is the only plan a sync carries out.
///
/// ```no_run
/// # async fn release(pool: sqlx::PgPool, snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
/// // In CI: write the plan for review.
/// let (_report, plan) = bootschema::Syncer::new(snippets).plan_for_approval(&pool).await?;
/// plan.write("plan.json").expect("writing plan.json");
/// // In the release phase: apply exactly that plan, or nothing.
/// let approved = bootschema::ApprovedPlan::read("plan.json")?;
/// bootschema::Syncer::new(snippets).approved_plan(approved).run(&pool).await?;
/// # Ok(()) }
/// ```
///
/// The file's fields are documented in docs/release.md ("The plan file").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovedPlan {
    kind: String,
    format: u32,
    created_at: String,
    bootschema: String,
    /// A digest of everything the plan approves and was decided from (not of the
    /// target's description, nor of when and by which version it was written).
    digest: String,
    target: PlanTarget,
    ledger_table: String,
    snippets: PlanSet,
    steps: Vec<PlanStep>,
    basis: Basis,
    /// The file it was read from.
    #[serde(skip)]
    source: Option<PathBuf>,
}

/// The database a plan is for: what the connection says (host, port, name; never a
/// password) and what the server says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PlanTarget {
    dialect: DialectKind,
    host: Option<String>,
    port: Option<u16>,
    database_name: Option<String>,
    server_version: String,
    identity: Identity,
}

/// What the server says of the database, read on the sync's connection: the same after
/// a reconnect, different between two databases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// By name: PostgreSQL `system_identifier` (from `pg_control_system()`),
    /// `database_oid`, `database`; MySQL `server_uuid`, MariaDB `server_uid` and
    /// `hostname`, then `database`; SQLite `path` (the main file, canonical).
    pub facts: BTreeMap<String, String>,
    /// Whether the facts tell this database from any other. When either side's do not,
    /// the host, port and database name of the connection must match too.
    pub unique: bool,
    /// Why the facts are not unique, and how to make them so.
    pub note: Option<String>,
}

impl Identity {
    fn describe(&self) -> String {
        self.facts.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    }
}

/// The embedded snippets a plan was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PlanSet {
    /// The set's mark (`v1:<count>:<sha256>`), as the ledger records it.
    mark: String,
    count: usize,
}

/// One snippet in the plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PlanStep {
    version: u64,
    path: String,
    description: String,
    checksum: String,
    action: Action,
    reason: String,
    destructive: bool,
    /// The step is decided again when the sync reaches it: an earlier step of the same
    /// sync may change what its guards look at.
    recheck: bool,
    guards: Vec<PlanGuard>,
    /// For a step that runs SQL, each statement of the snippet, whole.
    statements: Vec<PlanStatement>,
}

impl PlanStep {
    fn runs(&self) -> Vec<u32> {
        self.statements.iter().filter(|s| s.run).map(|s| s.index).collect()
    }

    fn name(&self) -> String {
        self.path.clone()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PlanGuard {
    guard: String,
    /// For a guard inferred from a statement, that statement's 0-based index.
    statement: Option<u32>,
    #[serde(flatten)]
    status: GuardStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PlanStatement {
    index: u32,
    line: u32,
    run: bool,
    reason: String,
    sql: String,
}

/// What the plan was decided from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Basis {
    /// A digest of the rest of the basis and of every step's guard statuses.
    digest: String,
    /// The database the connection is in, and (PostgreSQL) the schemas names resolve in.
    database: String,
    search_path: Vec<String>,
    ledger: BasisLedger,
    probes: Vec<BasisProbe>,
    /// A newer release had synced (this binary left its changes alone).
    newer_release: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BasisLedger {
    exists: bool,
    rows: Vec<BasisRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BasisRow {
    version: u64,
    state: String,
    checksum: String,
    /// The fingerprints of the statements a partial row records as done.
    progress: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BasisProbe {
    query: String,
    /// Whether it returned a row; `None` when it failed.
    row: Option<bool>,
    error: Option<String>,
}

/// What a plan for approval is made of: one look at the database.
pub(crate) struct Parts<'a> {
    /// The plan, decided with destructive snippets allowed (see [`ApprovedPlan`]).
    pub plan: &'a Plan,
    pub snippets: &'a [Snippet],
    pub ledger: &'a Ledger,
    pub probes: &'a Probes,
    pub server_version: &'a str,
    pub database: &'a str,
    pub search_path: &'a [String],
    pub identity: Identity,
    pub endpoint: &'a Endpoint,
    pub mark: &'a str,
    pub ledger_table: String,
}

impl ApprovedPlan {
    pub(crate) fn new(parts: Parts<'_>) -> ApprovedPlan {
        let Parts { plan, snippets, ledger, probes, identity, endpoint, .. } = parts;
        let steps: Vec<PlanStep> = plan
            .steps
            .iter()
            .map(|step| {
                let snippet = &snippets[step.index];
                let statements = if step.action.runs_sql() {
                    step.statements
                        .iter()
                        .map(|s| PlanStatement {
                            index: s.index,
                            line: s.line,
                            run: s.run,
                            reason: s.reason.clone(),
                            sql: snippet.statement_sql(s.index as usize).trim().to_string(),
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                PlanStep {
                    version: step.version,
                    path: step.path.clone(),
                    description: step.description.clone(),
                    checksum: step.checksum.clone(),
                    action: step.action,
                    reason: step.reason.clone(),
                    destructive: step.destructive && !snippet.history,
                    recheck: step.recheck,
                    guards: step
                        .guards
                        .iter()
                        .map(|g| PlanGuard { guard: g.guard.clone(), statement: g.statement, status: g.status.clone() })
                        .collect(),
                    statements,
                }
            })
            .collect();
        let mut probes: Vec<BasisProbe> = probes
            .iter()
            .map(|(query, answer)| BasisProbe {
                query: query.clone(),
                row: answer.as_ref().ok().copied(),
                error: answer.as_ref().err().cloned(),
            })
            .collect();
        probes.sort_by(|a, b| a.query.cmp(&b.query));
        let mut basis = Basis {
            digest: String::new(),
            database: parts.database.to_string(),
            search_path: parts.search_path.to_vec(),
            ledger: BasisLedger {
                exists: ledger.exists,
                rows: ledger
                    .rows
                    .values()
                    .map(|r| BasisRow {
                        version: r.version,
                        state: r.state.as_str().to_string(),
                        checksum: r.checksum.clone(),
                        progress: r.progress.clone(),
                    })
                    .collect(),
            },
            probes,
            newer_release: plan.newer_release,
        };
        basis.digest = basis_digest(&basis, &steps);
        let mut approved = ApprovedPlan {
            kind: KIND.to_string(),
            format: PLAN_FORMAT,
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            bootschema: env!("CARGO_PKG_VERSION").to_string(),
            digest: String::new(),
            target: PlanTarget {
                dialect: plan.dialect,
                host: endpoint.host.clone(),
                port: endpoint.port,
                database_name: endpoint.database.clone(),
                server_version: parts.server_version.to_string(),
                identity,
            },
            ledger_table: parts.ledger_table,
            snippets: PlanSet { mark: parts.mark.to_string(), count: snippets.len() },
            steps,
            basis,
            source: None,
        };
        approved.digest = approved.computed_digest();
        approved
    }

    /// Reads a plan file written by `schema plan --out` (or [`ApprovedPlan::write`]).
    /// A file that cannot be read, is not a plan file, is of another format, is
    /// malformed, or whose content no longer matches its digest (changed by hand) is an
    /// [`ErrorKind::PlanFile`] naming it.
    pub fn read(path: impl AsRef<Path>) -> Result<ApprovedPlan, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| plan_file(path, format!("cannot read it: {e}")))?;
        let mut plan = ApprovedPlan::parse(&text).map_err(|problem| plan_file(path, problem))?;
        plan.source = Some(path.to_path_buf());
        Ok(plan)
    }

    /// Reads a plan from its JSON text, as [`ApprovedPlan::read`] does from a file.
    pub fn from_json(text: &str) -> Result<ApprovedPlan, Error> {
        ApprovedPlan::parse(text).map_err(|problem| plan_file(Path::new("(the plan given)"), problem))
    }

    fn parse(text: &str) -> Result<ApprovedPlan, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("it is not JSON ({e})"))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            let what = if value.get("command").is_some() {
                "a command's `--json` document"
            } else if value.get("tables").is_some() {
                "a schema snapshot"
            } else {
                "some other JSON"
            };
            return Err(format!(
                "it is not a plan file written by `schema plan --out` (it lacks \"kind\": \"{KIND}\"; it looks like {what})"
            ));
        }
        match value.get("format").and_then(|f| f.as_u64()) {
            Some(format) if format == u64::from(PLAN_FORMAT) => {}
            Some(format) => {
                let by = value.get("bootschema").and_then(|v| v.as_str()).unwrap_or("an unknown version");
                return Err(format!(
                    "it is a plan of format {format} (written by bootschema {by}), and this binary reads format \
                     {PLAN_FORMAT} only: make the plan with the same release that applies it"
                ));
            }
            None => return Err("it has no format version (\"format\")".into()),
        }
        let plan: ApprovedPlan = serde_json::from_value(value).map_err(|e| format!("it is malformed: {e}"))?;
        if plan.basis.digest != basis_digest(&plan.basis, &plan.steps) || plan.digest != plan.computed_digest() {
            return Err("its content does not match its digest: it was changed after it was written".into());
        }
        Ok(plan)
    }

    /// The plan file's text: pretty JSON, one trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes the plan file atomically: into a temporary file next to `path`, flushed
    /// to disk, then renamed over `path`, so that a reader never sees half a plan.
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        write_atomically(path.as_ref(), self.to_json().as_bytes())
    }

    /// `sha256:<hex>` of everything the plan approves and was decided from: the ledger
    /// table, the embedded set, every step (action, reason, guards, statements) and the
    /// basis. Not of the target's description nor of when it was written, so that the
    /// same plan made twice has the same digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// `sha256:<hex>` of what the plan was decided from: the ledger rows read, every
    /// guard's status, the `unless` answers, the database and its search path.
    pub fn basis_digest(&self) -> &str {
        &self.basis.digest
    }

    /// The file the plan was read from, if it was.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The database kind the plan is for.
    pub fn dialect(&self) -> DialectKind {
        self.target.dialect
    }

    /// How many steps change the database (run SQL or write the ledger).
    pub fn changes(&self) -> usize {
        self.steps.iter().filter(|s| s.action.changes_database()).count()
    }

    /// The files of the destructive snippets the plan runs: `apply --plan` still needs
    /// `<PREFIX>_SCHEMA_ALLOW_DESTRUCTIVE=1` (or consent at a terminal) for them.
    pub fn destructive(&self) -> Vec<&str> {
        self.steps.iter().filter(|s| s.destructive && s.action.runs_sql()).map(|s| s.path.as_str()).collect()
    }

    /// How the plan is named in messages: its file, or `the approved plan`.
    pub(crate) fn name(&self) -> String {
        match &self.source {
            Some(path) => path.display().to_string(),
            None => "the approved plan".to_string(),
        }
    }

    fn computed_digest(&self) -> String {
        digest_of(&(&self.ledger_table, &self.snippets, &self.steps, &self.basis))
    }

    /// What differs between this approved plan and `now`, the plan computed before the
    /// first statement; empty when they are the same plan.
    pub(crate) fn changes_since(&self, now: &ApprovedPlan) -> Vec<PlanChange> {
        if !same_target(&self.target, &now.target) {
            return vec![PlanChange::Target { approved: describe(&self.target), now: describe(&now.target) }];
        }
        if self.ledger_table != now.ledger_table {
            return vec![PlanChange::Facts {
                detail: format!(
                    "the ledger table is {}, the plan was made with {}",
                    now.ledger_table, self.ledger_table
                ),
            }];
        }
        let mut changes = Vec::new();
        let approved = by_version(&self.steps);
        let current = by_version(&now.steps);
        let versions: BTreeSet<u64> = approved.keys().chain(current.keys()).copied().collect();
        for version in versions {
            match (approved.get(&version), current.get(&version)) {
                (Some(a), None) => changes.push(PlanChange::SnippetRemoved { path: a.name() }),
                (None, Some(n)) => changes.push(PlanChange::SnippetAdded { path: n.name(), action: n.action }),
                (Some(a), Some(n)) => changes.extend(step_change(a, n)),
                (None, None) => {}
            }
        }
        changes.extend(ledger_changes(&self.basis.ledger, &now.basis.ledger));
        for (query, (was, is)) in probe_changes(&self.basis.probes, &now.basis.probes) {
            changes
                .push(PlanChange::Facts { detail: format!("the guard query `{query}` {was} when approved, {is} now") });
        }
        if self.basis.database != now.basis.database || self.basis.search_path != now.basis.search_path {
            changes.push(PlanChange::Facts {
                detail: format!(
                    "the connection's database and search path are {} [{}], the plan was made in {} [{}]",
                    now.basis.database,
                    now.basis.search_path.join(", "),
                    self.basis.database,
                    self.basis.search_path.join(", ")
                ),
            });
        }
        if self.basis.newer_release != now.basis.newer_release {
            changes.push(PlanChange::Facts {
                detail: if now.basis.newer_release {
                    "a newer release has synced since approval".into()
                } else {
                    "the ledger's record of newer releases changed".into()
                },
            });
        }
        if changes.is_empty() && (self.digest != now.digest || self.snippets != now.snippets) {
            changes.push(PlanChange::Facts {
                detail: format!("the plan's digest is {}, the approved one {}", now.digest, self.digest),
            });
        }
        changes
    }

    /// What differs between this approved plan and `now`, a plan computed again in the
    /// middle of the same sync (after a step released the lock): a step is as approved,
    /// or carried out by this sync (`done`, now skipped), or one the approved plan said
    /// is decided when the sync reaches it (applied or adopted, as its guards then say),
    /// or approved to run and now proven done by its guards (adopted: an earlier step of
    /// this sync made its objects), or runs fewer of its statements (completed by this
    /// sync before it stopped). Never more work than approved.
    pub(crate) fn changes_midway(&self, now: &ApprovedPlan, done: &BTreeSet<u64>) -> Vec<PlanChange> {
        let approved = by_version(&self.steps);
        let mut changes = Vec::new();
        for n in &now.steps {
            let Some(a) = approved.get(&n.version) else {
                changes.push(PlanChange::SnippetAdded { path: n.name(), action: n.action });
                continue;
            };
            let same_text = a.checksum == n.checksum;
            let carried_out = done.contains(&n.version) && n.action == Action::Skip;
            let decided_when_reached = a.recheck && matches!(n.action, Action::Apply | Action::Adopt);
            // What earlier steps of this sync created: approved to run, now proven done.
            let proven_done = a.action == Action::Apply && n.action == Action::Adopt;
            let allowed = a.runs();
            let as_approved = a.action == n.action && n.runs().iter().all(|i| allowed.contains(i));
            if same_text && (carried_out || decided_when_reached || proven_done || as_approved) {
                continue;
            }
            changes.extend(step_change(a, n));
        }
        let current = by_version(&now.steps);
        changes.extend(
            self.steps
                .iter()
                .filter(|a| !current.contains_key(&a.version))
                .map(|a| PlanChange::SnippetRemoved { path: a.name() }),
        );
        changes
    }
}

fn plan_file(path: &Path, problem: String) -> Error {
    ErrorKind::PlanFile { path: path.display().to_string(), problem }.into()
}

fn by_version(steps: &[PlanStep]) -> BTreeMap<u64, &PlanStep> {
    steps.iter().map(|s| (s.version, s)).collect()
}

fn digest_of<T: Serialize>(value: &T) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The digest of what a plan was decided from: the basis (its own digest left out) and
/// every step's guards with their statuses.
fn basis_digest(basis: &Basis, steps: &[PlanStep]) -> String {
    let guards: Vec<(u64, &Vec<PlanGuard>)> = steps.iter().map(|s| (s.version, &s.guards)).collect();
    digest_of(&(&basis.database, &basis.search_path, &basis.ledger, &basis.probes, basis.newer_release, guards))
}

/// Whether two plans are for the same database: the server's own identity, and where
/// that does not tell databases apart on either side, the connection's host, port and
/// database name as well.
fn same_target(approved: &PlanTarget, now: &PlanTarget) -> bool {
    if approved.dialect != now.dialect {
        return false;
    }
    let (a, n) = (&approved.identity, &now.identity);
    if a.unique && n.unique {
        return a.facts == n.facts;
    }
    let shared_agree = a.facts.iter().all(|(k, v)| n.facts.get(k).is_none_or(|w| w == v));
    shared_agree
        && approved.host == now.host
        && approved.port == now.port
        && approved.database_name == now.database_name
}

/// `postgres at db.internal:5432, database shop (system_identifier 7345…, …)`.
fn describe(target: &PlanTarget) -> String {
    let mut text = target.dialect.to_string();
    match (&target.host, target.port) {
        (Some(host), Some(port)) => text.push_str(&format!(" at {host}:{port}")),
        (Some(host), None) => text.push_str(&format!(" at {host}")),
        _ => {}
    }
    if let Some(name) = &target.database_name {
        let word = if target.dialect == DialectKind::Sqlite { "file" } else { "database" };
        text.push_str(&format!(", {word} {name}"));
    }
    text.push_str(&format!(" ({})", target.identity.describe()));
    text
}

fn status_word(status: &GuardStatus) -> String {
    match status {
        GuardStatus::Present => "present".into(),
        GuardStatus::Missing => "missing".into(),
        GuardStatus::Unknown(e) => format!("unknown ({e})"),
    }
}

/// How one step changed, if it did: its text, its action and why, the statements it
/// runs, or only the facts its guards found.
fn step_change(a: &PlanStep, n: &PlanStep) -> Option<PlanChange> {
    if a.checksum != n.checksum {
        return Some(PlanChange::SnippetEdited {
            path: n.name(),
            approved: a.checksum.clone(),
            now: n.checksum.clone(),
        });
    }
    let guards = guard_changes(a, n);
    if a.action != n.action {
        // What the ledger now records decides these; the guards decide the others.
        let by_ledger = matches!(n.action, Action::Skip | Action::Edited | Action::Drift | Action::Reapply);
        let why = if guards.is_empty() || by_ledger { n.reason.clone() } else { guards.join("; ") };
        return Some(PlanChange::Action { path: n.name(), approved: a.action, now: n.action, why });
    }
    let statements_differ = a.statements.len() != n.statements.len()
        || a.statements.iter().zip(&n.statements).any(|(x, y)| x.run != y.run || x.sql != y.sql);
    if statements_differ {
        let why = if guards.is_empty() { n.reason.clone() } else { guards.join("; ") };
        return Some(PlanChange::Statements { path: n.name(), approved: a.runs(), now: n.runs(), why });
    }
    if !guards.is_empty() {
        return Some(PlanChange::Facts { detail: format!("{}: {}", n.name(), guards.join("; ")) });
    }
    None
}

/// `column_missing(users.email) was missing, now present`, for each guard whose status
/// changed.
fn guard_changes(a: &PlanStep, n: &PlanStep) -> Vec<String> {
    let mut out = Vec::new();
    for g in &n.guards {
        let before = a.guards.iter().find(|x| x.guard == g.guard && x.statement == g.statement);
        match before {
            Some(b) if b.status != g.status => {
                out.push(format!("{} was {}, now {}", g.guard, status_word(&b.status), status_word(&g.status)))
            }
            None => out.push(format!("{} is new ({})", g.guard, status_word(&g.status))),
            _ => {}
        }
    }
    out
}

/// How the ledger changed: the table created or gone, rows added, removed or rewritten.
fn ledger_changes(a: &BasisLedger, n: &BasisLedger) -> Vec<PlanChange> {
    let mut out = Vec::new();
    if a.exists != n.exists {
        let what = if n.exists { "the ledger table was created since approval" } else { "the ledger table is gone" };
        out.push(what.to_string());
    }
    let before: BTreeMap<u64, &BasisRow> = a.rows.iter().map(|r| (r.version, r)).collect();
    let after: BTreeMap<u64, &BasisRow> = n.rows.iter().map(|r| (r.version, r)).collect();
    let mut recorded = Vec::new();
    for version in before.keys().chain(after.keys()).copied().collect::<BTreeSet<u64>>() {
        match (before.get(&version), after.get(&version)) {
            (None, Some(r)) => recorded.push(format!("{version} ({})", r.state)),
            (Some(_), None) => out.push(format!("the row of version {version} was removed")),
            (Some(x), Some(y)) if x != y => out.push(format!(
                "the row of version {version} changed ({} {} → {} {})",
                x.state, x.checksum, y.state, y.checksum
            )),
            _ => {}
        }
    }
    if !recorded.is_empty() {
        out.insert(0, format!("recorded since approval: version {}", abridge(&recorded)));
    }
    out.into_iter().map(|detail| PlanChange::Ledger { detail }).collect()
}

/// `a, b, c and 12 more`.
fn abridge(items: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = items.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

fn probe_changes(a: &[BasisProbe], n: &[BasisProbe]) -> Vec<(String, (String, String))> {
    let answer = |p: Option<&BasisProbe>| match p {
        None => "was not asked".to_string(),
        Some(BasisProbe { row: Some(true), .. }) => "returned a row".to_string(),
        Some(BasisProbe { row: Some(false), .. }) => "returned no row".to_string(),
        Some(BasisProbe { error, .. }) => format!("failed ({})", error.as_deref().unwrap_or("?")),
    };
    let queries: BTreeSet<&str> = a.iter().chain(n).map(|p| p.query.as_str()).collect();
    queries
        .into_iter()
        .filter_map(|q| {
            let (x, y) = (a.iter().find(|p| p.query == q), n.iter().find(|p| p.query == q));
            (x != y).then(|| (q.to_string(), (answer(x), answer(y))))
        })
        .collect()
}

/// Writes `bytes` to a temporary file in `path`'s folder, flushes it to disk and renames
/// it over `path`; the temporary file is removed on failure.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temporary = folder.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// One thing that differs between an approved plan and the plan computed before the
/// first statement ([`ErrorKind::NotApproved`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanChange {
    /// The plan was made for another database.
    Target {
        /// The approved plan's target: kind, host, port, name and the server's identity.
        approved: String,
        /// This one's.
        now: String,
    },
    /// A snippet embedded now that the approved plan does not have.
    SnippetAdded {
        /// The snippet's file.
        path: String,
        /// What the plan would do with it now.
        action: Action,
    },
    /// A snippet of the approved plan that is no longer embedded.
    SnippetRemoved {
        /// The snippet's file.
        path: String,
    },
    /// A snippet whose text differs from the approved one.
    SnippetEdited {
        /// The snippet's file.
        path: String,
        /// The approved checksum.
        approved: String,
        /// The embedded one.
        now: String,
    },
    /// A snippet whose action changed.
    Action {
        /// The snippet's file.
        path: String,
        /// The approved action.
        approved: Action,
        /// The action now.
        now: Action,
        /// Why: the guards whose status changed, or the step's reason.
        why: String,
    },
    /// A snippet that runs other statements than approved.
    Statements {
        /// The snippet's file.
        path: String,
        /// The 0-based statements the approved plan runs.
        approved: Vec<u32>,
        /// The ones it would run now.
        now: Vec<u32>,
        /// Why: the guards whose status changed, or the step's reason.
        why: String,
    },
    /// The ledger changed since approval.
    Ledger {
        /// What changed.
        detail: String,
    },
    /// Something else the plan was decided from changed: a guard's status, an `unless`
    /// answer, the search path.
    Facts {
        /// What changed.
        detail: String,
    },
}

impl fmt::Display for PlanChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[u32]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter().map(|i| (i + 1).to_string()).collect::<Vec<_>>().join(", ")
            }
        };
        match self {
            PlanChange::Target { approved, now } => {
                write!(f, "another database: the plan was approved for {approved}; this is {now}")
            }
            PlanChange::SnippetAdded { path, action } => {
                write!(f, "{path}: added since approval (it would {action})")
            }
            PlanChange::SnippetRemoved { path } => write!(f, "{path}: in the approved plan, no longer embedded"),
            PlanChange::SnippetEdited { path, approved, now } => {
                write!(f, "{path}: edited since approval (approved {approved}, now {now})")
            }
            PlanChange::Action { path, approved, now, why } => {
                write!(f, "{path}: approved {approved}, now {now}: {why}")
            }
            PlanChange::Statements { path, approved, now, why } => {
                write!(f, "{path}: approved to run statement(s) {}, now {}: {why}", list(approved), list(now))
            }
            PlanChange::Ledger { detail } => write!(f, "the ledger changed: {detail}"),
            PlanChange::Facts { detail } => f.write_str(detail),
        }
    }
}

/// The message of [`ErrorKind::NotApproved`].
pub(crate) fn not_approved_message(plan: &str, changes: &[PlanChange], nothing_applied: bool) -> String {
    let mut text = if nothing_applied {
        format!(
            "refusing to apply: the plan computed under the lock is not the one approved in {plan}; nothing was \
             applied. Since approval:"
        )
    } else {
        format!(
            "stopped: the plan read again under the lock is no longer the one approved in {plan}; the snippets \
             completed before are recorded. Since approval:"
        )
    };
    // The first changes name the cause; a thousand lines would hide it.
    const SHOWN: usize = 20;
    for change in changes.iter().take(SHOWN) {
        text.push_str(&format!("\n  - {change}"));
    }
    if changes.len() > SHOWN {
        text.push_str(&format!("\n  - and {} more change(s)", changes.len() - SHOWN));
    }
    text.push_str(
        "\n  Make a new plan (`schema plan --out FILE`), review it, and apply that one (`schema apply --plan FILE`)",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, facts: &[(&str, &str)], unique: bool) -> PlanTarget {
        PlanTarget {
            dialect: DialectKind::Postgres,
            host: Some(host.to_string()),
            port: Some(5432),
            database_name: Some("shop".into()),
            server_version: "16".into(),
            identity: Identity {
                facts: facts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                unique,
                note: None,
            },
        }
    }

    #[test]
    fn a_server_that_identifies_itself_is_the_same_target_through_any_host_name() {
        let server = [("system_identifier", "7345"), ("database_oid", "16384"), ("database", "shop")];
        let proxy = target("shop.proxy.example", &server, true);
        let internal = target("db.internal", &server, true);
        assert!(same_target(&proxy, &internal), "one cluster, two routes to it");
        let other_cluster = [("system_identifier", "9999"), ("database_oid", "16384"), ("database", "shop")];
        assert!(!same_target(&proxy, &target("shop.proxy.example", &other_cluster, true)));
        let mut mysql = internal.clone();
        mysql.dialect = DialectKind::MySql;
        assert!(!same_target(&internal, &mysql));
    }

    #[test]
    fn an_incomplete_identity_needs_the_same_connection_too() {
        // Database oids repeat between clusters: without the system identifier, the
        // host, port and name must match as well.
        let partial = [("database_oid", "16384"), ("database", "shop")];
        let full = [("system_identifier", "7345"), ("database_oid", "16384"), ("database", "shop")];
        let approved = target("db.internal", &partial, false);
        assert!(same_target(&approved, &target("db.internal", &partial, false)));
        assert!(!same_target(&approved, &target("staging.internal", &partial, false)));
        assert!(same_target(&approved, &target("db.internal", &full, true)), "the shared facts agree");
        let moved = [("database_oid", "16999"), ("database", "shop")];
        assert!(!same_target(&approved, &target("db.internal", &moved, false)), "another database, same name");
    }

    #[test]
    fn the_ledger_change_lists_rows_recorded_since_approval() {
        let row = |version, state: &str| BasisRow {
            version,
            state: state.into(),
            checksum: format!("sha256:{version}"),
            progress: Vec::new(),
        };
        let before = BasisLedger { exists: true, rows: vec![row(1, "applied")] };
        let after = BasisLedger { exists: true, rows: vec![row(1, "applied"), row(2, "adopted"), row(3, "applied")] };
        let changes = ledger_changes(&before, &after);
        assert_eq!(
            changes,
            [PlanChange::Ledger { detail: "recorded since approval: version 2 (adopted), 3 (applied)".into() }]
        );
        assert!(ledger_changes(&after, &after).is_empty());
    }
}
