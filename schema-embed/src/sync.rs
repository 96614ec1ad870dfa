//! The boot sequence: look, lock, look again, apply, verify, report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::apply::{apply, final_state, Applied, Apply};
use crate::approve::{ApprovedPlan, Identity, Parts};
use crate::catalog::{unless_query, CatalogSnapshot, Probes, Scope};
use crate::config::{Settings, SyncMode};
use crate::dialect::{Session, Target};
use crate::error::{Endpoint, Error, ErrorKind};
use crate::events::Event;
use crate::ledger::{Ledger, LedgerRow, LedgerState, LedgerTable, MarkRead};
use crate::plan::{plan, Action, Plan, Step};
use crate::report::SyncReport;
use crate::retry::backoff;
use crate::snippet::{DialectKind, GuardKind, Snippet, SnippetSet, Tool};
use crate::text::excerpt;
use crate::verify::verify;

/// Syncs a [`SnippetSet`] into a database: the boot-time entry point, and the engine
/// behind the release-phase commands.
///
/// Every setting has an environment variable that wins over the builder, so that
/// operators can change behaviour without a rebuild (see [`Settings`]).
///
/// ```no_run
/// # async fn boot(pool: sqlx::PgPool, snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
/// // snippets: &SNIPPETS, where static SNIPPETS: SnippetSet = bootschema::include_snippets!();
/// let report = bootschema::Syncer::new(snippets)
///     .lock_timeout(std::time::Duration::from_secs(10))
///     .ledger_table("ops.schema_history")
///     .run(&pool)
///     .await?;
/// println!("{}", report.summary());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Syncer<'a> {
    pub(crate) snippets: &'a SnippetSet,
    pub(crate) settings: Settings,
    pub(crate) read_environment: bool,
    read_sync_variable: bool,
    /// The only plan [`Syncer::run`] may carry out ([`Syncer::approved_plan`]).
    approved: Option<Arc<ApprovedPlan>>,
}

impl<'a> Syncer<'a> {
    /// A syncer with the default settings and the snippet set's environment prefix.
    pub fn new(snippets: &'a SnippetSet) -> Syncer<'a> {
        Syncer {
            snippets,
            settings: Settings::new(&snippets.env_prefix),
            read_environment: true,
            read_sync_variable: true,
            approved: None,
        }
    }

    /// Carries out `plan` and nothing else: [`Syncer::run`] computes the plan again
    /// under the lock, after its last look and before the first statement, and applies
    /// it only when it is the same plan as the approved one (the same snippets and
    /// checksums, the same action and statements for each, the same target, the same
    /// ledger rows, guard statuses and `unless` answers). Otherwise it refuses before
    /// running anything, releases the lock and writes nothing, not even the ledger's
    /// mark ([`ErrorKind::NotApproved`], naming each change since approval). A plan with
    /// nothing to do succeeds only while there is still nothing to do. With
    /// [`Syncer::dry_run`], the comparison is made (without the lock) and nothing runs.
    ///
    /// The plan comes from [`Syncer::plan_for_approval`], usually through a file
    /// (`schema plan --out`, [`ApprovedPlan::read`]). Approval is not consent to
    /// destructive snippets: those still need [`Syncer::allow_destructive`] (or
    /// `<PREFIX>_SCHEMA_ALLOW_DESTRUCTIVE=1`). An approved plan always reads the ledger
    /// and the catalog, never the mark's shortcut ([`Syncer::full_check`]).
    pub fn approved_plan(mut self, plan: ApprovedPlan) -> Self {
        self.approved = Some(Arc::new(plan));
        self
    }

    /// Overrides the environment prefix (`MYAPP` reads `MYAPP_SCHEMA_DRY_RUN`, …).
    pub fn env_prefix(mut self, prefix: &str) -> Self {
        self.settings.env_prefix = prefix.trim_end_matches('_').to_string();
        self
    }

    /// Plans and logs, changes nothing (`<PREFIX>_SCHEMA_DRY_RUN=1`).
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.settings.dry_run = yes;
        self
    }

    /// Lets snippets marked `-- destructive` run (`<PREFIX>_SCHEMA_ALLOW_DESTRUCTIVE=1`).
    pub fn allow_destructive(mut self, yes: bool) -> Self {
        self.settings.allow_destructive = yes;
        self
    }

    /// Whether the boot-time sync runs and how much a boot in sync reads
    /// (`<PREFIX>_SCHEMA_SYNC=off|on|full`); [`Syncer::enabled`] and
    /// [`Syncer::full_check`] are shorthands.
    pub fn sync_mode(mut self, mode: SyncMode) -> Self {
        self.settings.sync = mode;
        self
    }

    /// How many times a snippet is tried when its statements keep waiting longer than
    /// the DDL lock timeout (default 4, at least 1; `<PREFIX>_SCHEMA_DDL_ATTEMPTS`).
    pub fn ddl_attempts(mut self, attempts: u32) -> Self {
        self.settings.ddl_attempts = attempts.max(1);
        self
    }

    /// Turns the sync on or off (`<PREFIX>_SCHEMA_SYNC=off`).
    pub fn enabled(mut self, yes: bool) -> Self {
        self.settings.sync = match (yes, self.settings.sync) {
            (false, _) => SyncMode::Off,
            (true, SyncMode::Off) => SyncMode::On,
            (true, mode) => mode,
        };
        self
    }

    /// Leaves `<PREFIX>_SCHEMA_SYNC` unread, so that only [`Syncer::enabled`] decides.
    ///
    /// That variable turns off the *boot-time* sync, typically because a release phase
    /// syncs instead; the release-phase command (`myapp schema apply`) uses this so that
    /// it applies whatever the variable says. The other variables still apply.
    pub fn ignore_sync_variable(mut self) -> Self {
        self.read_sync_variable = false;
        self
    }

    /// Reads the ledger and the catalog on every boot, even when the ledger's mark says
    /// the embedded set is recorded (`<PREFIX>_SCHEMA_SYNC=full`): drift is then
    /// reported at every boot, at the cost of the catalog queries. The release-phase
    /// `schema apply` always does this.
    pub fn full_check(mut self, yes: bool) -> Self {
        self.settings.sync = if yes { SyncMode::Full } else { SyncMode::On };
        self
    }

    /// How long to wait for another instance's schema lock, and how long one DDL
    /// statement may wait for a table lock (`<PREFIX>_SCHEMA_LOCK_TIMEOUT` sets both).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.settings.lock_wait = timeout;
        self.settings.ddl_lock_timeout = timeout;
        self
    }

    /// How long one DDL statement may wait for a table lock before it is retried.
    pub fn ddl_lock_timeout(mut self, timeout: Duration) -> Self {
        self.settings.ddl_lock_timeout = timeout;
        self
    }

    /// Records every snippet at or below `version` as `baselined`, without running it,
    /// where the database holds no record of that history: a database that another tool
    /// or a hand-run script brought up to date joins this way
    /// (`<PREFIX>_SCHEMA_BASELINE=<version>`). On an empty database, and for snippets
    /// that bootschema's ledger already covers, the baseline changes nothing, so it may
    /// stay set. See the README, "Bringing an existing history".
    pub fn baseline(mut self, version: u64) -> Self {
        self.settings.baseline = Some(version);
        self
    }

    /// Where `tool` recorded what it applied, when not in its default table
    /// ([`Tool::default_table`]): a table name, schema-qualified where the database has
    /// schemas (`"ops._sqlx_migrations"`; on MySQL a qualification names a database).
    /// The first boot on a database that tool migrated reads that table, records every
    /// snippet it lists as `baselined` (checksums verified where the tool keeps one),
    /// and never changes it (`<PREFIX>_SCHEMA_FOREIGN_LEDGERS=sqlx=ops._sqlx_migrations`).
    /// See the README, "Switching from sqlx / diesel / refinery / Flyway".
    ///
    /// ```no_run
    /// # async fn boot(pool: sqlx::PgPool, snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
    /// bootschema::Syncer::new(snippets)
    ///     .foreign_ledger(bootschema::Tool::Sqlx, "ops._sqlx_migrations")
    ///     .run(&pool)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// If `table` is not one or two plain identifiers (letters, digits and `_`).
    pub fn foreign_ledger(mut self, tool: Tool, table: &str) -> Self {
        if let Err(invalid) = LedgerTable::parse(table) {
            panic!("`{}` is not a table name for {tool}'s ledger: expected {}", invalid.value, invalid.expected);
        }
        self.settings.foreign_ledgers[tool.index()] = Some(table.to_string());
        self
    }

    /// Whether the first boot reads the ledgers of sqlx, diesel, refinery and Flyway
    /// (default yes; `<PREFIX>_SCHEMA_FOREIGN_LEDGERS=off`). Off, a database one of them
    /// migrated joins like any other that holds a history without a record: adopted
    /// where guards prove it, else refused until a baseline is given.
    pub fn foreign_ledgers(mut self, yes: bool) -> Self {
        self.settings.foreign_ledgers =
            if yes { Tool::ALL.map(|tool| Some(tool.default_table().to_string())) } else { [None, None, None, None] };
        self
    }

    /// Lets the sync write into one of the server's own databases (PostgreSQL's
    /// `postgres` or a template, MySQL's `mysql`, `sys`, `information_schema`,
    /// `performance_schema`), which it refuses by default: a URL without the app's
    /// database name lands there (`<PREFIX>_SCHEMA_ALLOW_MAINTENANCE_DATABASE=1`).
    pub fn allow_maintenance_database(mut self, yes: bool) -> Self {
        self.settings.allow_maintenance_database = yes;
        self
    }

    /// Sets a MySQL session variable on bootschema's own connection while it syncs, and
    /// restores it before the connection goes back to the app's pool
    /// (`<PREFIX>_SCHEMA_MYSQL_SESSION=name=value,…`). For a history that needs it:
    /// `.mysql_session_variable("foreign_key_checks", "0")` for files that reference a
    /// table created later. Ignored on PostgreSQL and SQLite (see the README).
    ///
    /// # Panics
    /// If `name` is not a plain identifier or `value` not a number or a word.
    pub fn mysql_session_variable(mut self, name: &str, value: &str) -> Self {
        let pair = crate::config::parse_session_variable(&format!("{name}={value}"))
            .unwrap_or_else(|| panic!("`{name} = {value}` is not a plain MySQL session variable and value"));
        self.settings.mysql_session.retain(|(n, _)| *n != pair.0);
        self.settings.mysql_session.push(pair);
        self
    }

    /// PostgreSQL: the schemas the sync works in, in order (default: the connection's
    /// search path; `<PREFIX>_SCHEMA_SCHEMAS=app,public`). The snippets then run with
    /// exactly this search path (the first schema is where unqualified names are
    /// created, and where an unqualified ledger table lives), guards resolve unqualified
    /// names through it, and [`Syncer::snapshot`], `schema diff` and drift read these
    /// schemas. Ignored on MySQL and SQLite. See the README, "Schema scope and
    /// extensions".
    ///
    /// # Panics
    /// If a name is not a plain identifier (letters, digits, `_`, `$`).
    pub fn schemas<I, S>(mut self, schemas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.settings.schemas = schema_list(schemas);
        self
    }

    /// PostgreSQL: schemas left out of the scope (`<PREFIX>_SCHEMA_EXCLUDE_SCHEMAS`): the
    /// snapshot, the diff and drift do not read them, and a guard never finds an
    /// unqualified name there (a name the snippet qualifies with the schema still is).
    /// Ignored on MySQL and SQLite.
    ///
    /// # Panics
    /// If a name is not a plain identifier (letters, digits, `_`, `$`).
    pub fn exclude_schemas<I, S>(mut self, schemas: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.settings.exclude_schemas = schema_list(schemas);
        self
    }

    /// Runs the sync on a connection borrowed from the app's pool instead of one of its
    /// own (see [`Settings::pool_connection`]): for a pool whose `after_connect` sets up
    /// each connection. sqlx then logs bootschema's statements with the pool's log
    /// settings, a whole seed included when it is slow.
    pub fn pool_connection(mut self, yes: bool) -> Self {
        self.settings.pool_connection = yes;
        self
    }

    /// A statement of the sync slower than this is logged at `WARN` (default 1 s), with
    /// its file, line, first characters and duration, never its whole text
    /// (`<PREFIX>_SCHEMA_SLOW_STATEMENT`).
    pub fn slow_statement(mut self, threshold: Duration) -> Self {
        self.settings.slow_statement = threshold;
        self
    }

    /// How long [`Syncer::connect`] may take to establish a connection (default 10 s;
    /// `<PREFIX>_SCHEMA_CONNECT_TIMEOUT`).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Hands every event of the sync to `sink` as it happens: each plan it is about to
    /// carry out, each statement of a snippet that ran or failed, each snippet done,
    /// each wait for the schema lock, each retry (see [`crate::events`]). Without a
    /// sink nothing of this is built.
    pub fn events(mut self, sink: std::sync::Arc<dyn crate::events::EventSink>) -> Self {
        self.settings.events = Some(crate::events::Sink(sink));
        self
    }

    /// Writes the audit trail of each sync that changes the database, or fails, into a
    /// new folder under `folder` (`<PREFIX>_SCHEMA_REPORT_DIR`): the connection check,
    /// the plan and the execution log, in Markdown and JSON, each written as it happens.
    /// A boot with nothing to do writes nothing. Needs the `release` feature (on by
    /// default). See docs/release.md, "The audit trail".
    pub fn report_dir(mut self, folder: impl Into<std::path::PathBuf>) -> Self {
        self.settings.report_dir = Some(folder.into());
        self
    }

    /// With [`Syncer::report_dir`]: every boot also writes the deep diffs before and
    /// after the sync and the snapshots before and after, replaying the snippets into a
    /// scratch database twice (`<PREFIX>_SCHEMA_REPORT_DEEP=1`): slow, for when it is
    /// asked for.
    pub fn report_deep(mut self, yes: bool) -> Self {
        self.settings.report_deep = yes;
        self
    }

    /// Opens a pool on `url` (`postgres://…`, `mysql://…`, `sqlite:…`) within the
    /// connect timeout. When that fails, the error ([`ErrorKind::Connect`](crate::ErrorKind::Connect)) names the host,
    /// port and database that could not be reached and why: the server's refusal,
    /// nothing listening, no answer, or a server of another kind on that port (a
    /// `mysql://` URL on PostgreSQL's port). Never the URL's password.
    ///
    /// ```no_run
    /// # async fn boot(snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
    /// let syncer = bootschema::Syncer::new(snippets);
    /// let target = syncer.connect("postgres://app@db.internal:5432/shop").await?;
    /// syncer.run(target).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, url: &str) -> Result<Target, Error> {
        let settings = self.settings()?;
        crate::connect::connect(url, settings.connect_timeout, &settings.var("CONNECT_TIMEOUT")).await
    }

    /// Leaves every snippet above `version` out of the plan (the release-phase `schema
    /// baseline`).
    #[cfg(feature = "release")]
    pub(crate) fn up_to(mut self, version: u64) -> Self {
        self.settings.up_to = Some(version);
        self
    }

    /// The snippets of `dialect` that a run with `settings` plans, and their mark.
    fn set_for(&self, dialect: DialectKind, settings: &Settings) -> Set<'a> {
        let snippets = self.snippets_for(dialect, settings);
        let mark = match settings.up_to {
            Some(_) => std::borrow::Cow::Owned(crate::snippet::set_mark(snippets)),
            None => self.snippets.mark(dialect),
        };
        Set { snippets, mark }
    }

    /// The snippets of `dialect` that a run with `settings` plans.
    fn snippets_for(&self, dialect: DialectKind, settings: &Settings) -> &'a [Snippet] {
        let all = self.snippets.for_dialect(dialect);
        match settings.up_to {
            Some(version) => &all[..crate::plan::last_at_or_below(all, version).map_or(0, |end| end + 1)],
            None => all,
        }
    }

    /// The ledger table (default `bootschema_history`), optionally schema-qualified. On
    /// MySQL and MariaDB, where a schema is a database, the qualification must be the
    /// app's own database: a ledger elsewhere would be shared by every app database on
    /// the server, and the sync refuses it.
    pub fn ledger_table(mut self, name: &str) -> Self {
        self.settings.ledger_table = name.to_string();
        self
    }

    /// Ignores the environment: only the builder's settings count (for tests and tools
    /// that must not be steered by the process environment).
    pub fn ignore_environment(mut self) -> Self {
        self.read_environment = false;
        self
    }

    /// The settings a run would use, the environment applied.
    pub fn settings(&self) -> Result<Settings, Error> {
        self.settings.check_schemas()?;
        if self.read_environment {
            let sync_variable = self.settings.var("SYNC");
            let settings = self.settings.clone().with_env(|name| {
                if !self.read_sync_variable && name == sync_variable {
                    return None;
                }
                std::env::var(name).ok()
            })?;
            Ok(settings)
        } else {
            Ok(self.settings.clone())
        }
    }

    /// Reads the ledger and the catalog and returns the plan, changing nothing and
    /// taking no lock. Edited and blocked snippets appear in it; it never refuses.
    pub async fn plan(&self, target: impl Into<Target>) -> Result<SyncReport, Error> {
        let settings = self.settings()?;
        let target = target.into();
        let table = settings.ledger(target.dialect())?;
        let set = self.set_for(target.dialect(), &settings);
        let started = Instant::now();
        let mut report = match &target {
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => {
                let mut s = crate::dialect::PgSession::open(pool, &settings).await?;
                s.own_connection().await?;
                look(&mut s, &set, &table, &settings).await?
            }
            #[cfg(feature = "mysql")]
            Target::MySql(pool) => {
                let mut s = crate::dialect::MySqlSession::open(pool, &settings).await?;
                s.own_connection().await?;
                look(&mut s, &set, &table, &settings).await?
            }
            #[cfg(feature = "sqlite")]
            Target::Sqlite(pool) => {
                let mut s = crate::dialect::SqliteSession::open(pool, &settings).await?;
                s.own_connection().await?;
                look(&mut s, &set, &table, &settings).await?
            }
        }
        .into_report(&table, true);
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Reads the ledger and the catalog as [`Syncer::plan`] does, and returns the plan
    /// both as a report and as a reviewer approves it: with the target's identity and
    /// what it was decided from, for [`ApprovedPlan::write`] and later
    /// [`Syncer::approved_plan`]. In the approved plan, destructive snippets are decided
    /// as if allowed (the reviewer sees what they would run); the report shows them as
    /// the settings decide (blocked unless allowed). Changes nothing, takes no lock.
    pub async fn plan_for_approval(&self, target: impl Into<Target>) -> Result<(SyncReport, ApprovedPlan), Error> {
        let settings = self.settings()?;
        let target = target.into();
        let table = settings.ledger(target.dialect())?;
        let set = self.set_for(target.dialect(), &settings);
        let endpoint = target.endpoint();
        let started = Instant::now();
        let (looked, approved) = match &target {
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => {
                let session = crate::dialect::PgSession::open(pool, &settings).await?;
                look_for_approval(session, &set, &table, &settings, &endpoint).await?
            }
            #[cfg(feature = "mysql")]
            Target::MySql(pool) => {
                let session = crate::dialect::MySqlSession::open(pool, &settings).await?;
                look_for_approval(session, &set, &table, &settings, &endpoint).await?
            }
            #[cfg(feature = "sqlite")]
            Target::Sqlite(pool) => {
                let session = crate::dialect::SqliteSession::open(pool, &settings).await?;
                look_for_approval(session, &set, &table, &settings, &endpoint).await?
            }
        };
        let mut report = looked.into_report(&table, true);
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok((report, approved))
    }

    /// Reads the schema in scope as a [`Snapshot`](crate::Snapshot): tables, columns,
    /// keys, indexes, views, sequences, types and extensions, sorted, without the
    /// ledger; takes no lock and changes nothing. A constant number of catalog queries,
    /// whatever the schema's size.
    pub async fn snapshot(&self, target: impl Into<Target>) -> Result<crate::Snapshot, Error> {
        let settings = self.settings()?;
        let target = target.into();
        let table = settings.ledger(target.dialect())?;
        let acquire = |what: &'static str| move |e: sqlx::Error| Error::db(format!("connecting to {what}"))(e);
        match target {
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire("PostgreSQL"))?;
                let scope = crate::snapshot::postgres::SchemaScope {
                    include: &settings.schemas,
                    exclude: &settings.exclude_schemas,
                };
                crate::snapshot::postgres::read(&mut conn, (table.schema.as_deref(), &table.table), scope).await
            }
            #[cfg(feature = "mysql")]
            Target::MySql(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire("MySQL"))?;
                crate::snapshot::mysql::read(&mut conn, &table.table).await
            }
            #[cfg(feature = "sqlite")]
            Target::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(acquire("SQLite"))?;
                crate::snapshot::sqlite::read(&mut conn, &table.table).await
            }
        }
    }

    /// PostgreSQL: the schemas in scope and the installed extensions (each with the
    /// schemas it created), for the connection header of the release commands; empty on
    /// MySQL and SQLite. Two catalog queries, outside any boot.
    #[cfg(feature = "release")]
    pub(crate) async fn scope_facts(
        &self,
        target: &Target,
    ) -> Result<(Vec<String>, Vec<crate::snapshot::Extension>), Error> {
        match target {
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => {
                let settings = self.settings()?;
                let mut conn =
                    pool.acquire().await.map_err(|e| Error::db("connecting to PostgreSQL".to_string())(e))?;
                let mut extensions = crate::snapshot::postgres::extensions(&mut conn).await?;
                let owned: Vec<String> = extensions.iter().flat_map(|e| e.owns_schemas.clone()).collect();
                // Every database has `plpgsql` (from `template1`): the header leaves it out.
                extensions.retain(|e| e.name != "plpgsql");
                let scope = crate::snapshot::postgres::SchemaScope {
                    include: &settings.schemas,
                    exclude: &settings.exclude_schemas,
                };
                let schemas = crate::snapshot::postgres::schemas_in_scope(&mut conn, scope, &owned).await?;
                Ok((schemas, extensions))
            }
            #[allow(unreachable_patterns)]
            _ => Ok((Vec::new(), Vec::new())),
        }
    }

    /// Runs the boot sequence: plans without the lock, and when there is work takes
    /// the lock, plans again, applies, verifies, releases the lock on every path, and
    /// returns the report (also logged through `tracing`).
    ///
    /// With [`Syncer::report_dir`] (and no [`Syncer::events`] sink of the caller's), a
    /// sync that changes the database or fails writes its audit trail there.
    pub async fn run(&self, target: impl Into<Target>) -> Result<SyncReport, Error> {
        let settings = self.settings()?;
        let target = target.into();
        if settings.report_dir.is_some() && settings.events.is_none() && settings.sync != SyncMode::Off {
            #[cfg(feature = "release")]
            return crate::release::audit::boot(self, settings, target).await;
            #[cfg(not(feature = "release"))]
            tracing::warn!(
                target: "bootschema",
                "{} is set, but this build of bootschema has no `release` feature: no audit trail is written",
                settings.var("REPORT_DIR")
            );
        }
        self.run_with(settings, target).await
    }

    /// [`Syncer::run`] with `settings` (the environment applied).
    pub(crate) async fn run_with(&self, settings: Settings, target: Target) -> Result<SyncReport, Error> {
        if settings.sync == SyncMode::Off {
            tracing::info!(target: "bootschema", "schema sync is off ({}=off); nothing read", settings.var("SYNC"));
            return Ok(SyncReport {
                dialect: target.dialect(),
                server_version: String::new(),
                dry_run: settings.dry_run,
                disabled: true,
                ledger_table: settings.ledger_table.clone(),
                steps: Vec::new(),
                unchanged: 0,
                orphans: Vec::new(),
                foreign_missing: Vec::new(),
                embedded: self.snippets.for_dialect(target.dialect()).len(),
                duration_ms: 0,
            });
        }
        let table = settings.ledger(target.dialect())?;
        let set = self.set_for(target.dialect(), &settings);
        let approving = self.approved.as_deref().map(|plan| Approving { plan, endpoint: target.endpoint() });
        let approving = approving.as_ref();
        let span = tracing::info_span!(target: "bootschema", "schema_sync", dialect = %target.dialect());
        async {
            match &target {
                #[cfg(feature = "postgres")]
                Target::Postgres(pool) => {
                    let session = crate::dialect::PgSession::open(pool, &settings).await?;
                    run_on(session, &set, &table, &settings, approving).await
                }
                #[cfg(feature = "mysql")]
                Target::MySql(pool) => {
                    let session = crate::dialect::MySqlSession::open(pool, &settings).await?;
                    run_on(session, &set, &table, &settings, approving).await
                }
                #[cfg(feature = "sqlite")]
                Target::Sqlite(pool) => {
                    let session = crate::dialect::SqliteSession::open(pool, &settings).await?;
                    run_on(session, &set, &table, &settings, approving).await
                }
            }
        }
        .instrument(span)
        .await
    }
}

/// Syncs `snippets` into `target` with the default settings and the environment's
/// overrides: the one call an app makes at boot.
///
/// ```no_run
/// # async fn boot(pool: sqlx::SqlitePool, snippets: &bootschema::SnippetSet) -> Result<(), bootschema::Error> {
/// // snippets: &SNIPPETS, where static SNIPPETS: SnippetSet = bootschema::include_snippets!();
/// bootschema::sync(snippets, &pool).await?;
/// # Ok(()) }
/// ```
pub async fn sync(snippets: &SnippetSet, target: impl Into<Target>) -> Result<SyncReport, Error> {
    Syncer::new(snippets).run(target).await
}

/// The embedded snippets of one dialect and their mark.
struct Set<'a> {
    snippets: &'a [Snippet],
    mark: std::borrow::Cow<'a, str>,
}

/// Whether a plan, once applied, leaves the set as the mark describes it: every snippet
/// recorded with its checksum, and nothing to warn about at the next boot.
///
/// A ledger row newer than every embedded snippet means that a newer release has
/// synced and this process runs an older binary (a rolling deploy, a rollback): it
/// leaves the newer release's mark alone rather than flip it back and forth. Rows of
/// older snippets that are no longer embedded (squashed or deleted files) do not
/// prevent the mark.
fn leaves_set_recorded(plan: &Plan) -> bool {
    let newest = plan.steps.iter().map(|s| s.version).max();
    !plan.newer_release
        && plan.steps.iter().all(|s| {
            matches!(s.action, Action::Skip | Action::Apply | Action::Adopt | Action::Baselined | Action::Reapply)
        })
        && plan.orphans.iter().all(|o| newest.is_some_and(|n| o.version < n))
}

/// Whether a plan holds what a person must look at (drift, an edited, blocked or
/// unproven snippet): the ledger's mark must not keep boots from seeing it.
fn needs_attention(plan: &Plan) -> bool {
    plan.steps.iter().any(|s| s.action.needs_person())
}

/// One look at the database: the ledger, the snapshot, the `unless` answers, the plan.
struct Look {
    plan: Plan,
    server_version: String,
    ledger: Ledger,
    /// The database the connection is in.
    database: String,
    /// The catalog and the `unless` answers the plan was decided from.
    snapshot: CatalogSnapshot,
    probes: Probes,
}

/// An approved plan being carried out ([`Syncer::approved_plan`]), and the connection's
/// host, port and name, which stand in where the server's identity is incomplete.
struct Approving<'p> {
    plan: &'p ApprovedPlan,
    endpoint: Endpoint,
}

impl Approving<'_> {
    /// Refuses unless `now` (computed from the last look, before anything of this sync
    /// ran when `done` is empty) is the approved plan: the whole plan before the first
    /// statement; after a step released the lock, the steps not yet carried out.
    fn check(&self, now: &ApprovedPlan, done: &BTreeMap<u64, Step>) -> Result<(), Error> {
        let changes = if done.is_empty() {
            self.plan.changes_since(now)
        } else {
            self.plan.changes_midway(now, &done.keys().copied().collect::<BTreeSet<u64>>())
        };
        if changes.is_empty() {
            return Ok(());
        }
        Err(ErrorKind::NotApproved { plan: self.plan.name(), changes, nothing_applied: done.is_empty() }.into())
    }
}

/// [`Syncer::plan_for_approval`] on one session: the look, and the plan as approved.
async fn look_for_approval<S: Session>(
    mut session: S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
    endpoint: &Endpoint,
) -> Result<(Look, ApprovedPlan), Error> {
    session.own_connection().await?;
    let looked = look(&mut session, set, table, settings).await?;
    let identity = session.identity().await?;
    let approved = looked.approval(S::KIND, set, table, settings, identity, endpoint);
    Ok((looked, approved))
}

impl Look {
    /// Refuses a sync that would change one of the server's own databases, unless the
    /// settings allow it.
    fn refuse_maintenance_database(&self, dialect: DialectKind, settings: &Settings) -> Result<(), Error> {
        let database = self.database.to_ascii_lowercase();
        let maintenance = match dialect {
            DialectKind::Postgres => database == "postgres" || database.starts_with("template"),
            DialectKind::MySql => {
                matches!(database.as_str(), "mysql" | "sys" | "information_schema" | "performance_schema")
            }
            DialectKind::Sqlite => false,
        };
        if maintenance && !settings.allow_maintenance_database {
            return Err(ErrorKind::MaintenanceDatabase {
                database: self.database.clone(),
                variable: settings.var("ALLOW_MAINTENANCE_DATABASE"),
            }
            .into());
        }
        Ok(())
    }

    fn into_report(self, table: &LedgerTable, dry_run: bool) -> SyncReport {
        SyncReport::new(self.plan, self.server_version, table.display(), dry_run)
    }

    /// The plan as a reviewer approves it: decided from this look's facts with
    /// destructive snippets allowed, so that the approval shows what they run (whether
    /// they may run is the settings' decision, made after the comparison).
    fn approval(
        &self,
        dialect: DialectKind,
        set: &Set<'_>,
        table: &LedgerTable,
        settings: &Settings,
        identity: Identity,
        endpoint: &Endpoint,
    ) -> ApprovedPlan {
        let allowing;
        let plan = if settings.allow_destructive {
            &self.plan
        } else {
            let settings = Settings { allow_destructive: true, ..settings.clone() };
            allowing = plan(dialect, set.snippets, &self.ledger, &self.snapshot, &self.probes, &settings)
                .for_release(&self.ledger, &set.mark);
            &allowing
        };
        ApprovedPlan::new(Parts {
            plan,
            snippets: set.snippets,
            ledger: &self.ledger,
            probes: &self.probes,
            server_version: &self.server_version,
            database: &self.database,
            search_path: &self.snapshot.search_path,
            identity,
            endpoint,
            mark: &set.mark,
            ledger_table: table.display(),
        })
    }
}

async fn look<S: Session>(
    session: &mut S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
) -> Result<Look, Error> {
    look_with(session, set, table, settings, false).await
}

/// [`look`]; `no_ledger`: the ledger was just found missing, outside the lock (the look
/// is checked under the lock, see `carry_out`), so it is not read again, and the
/// catalog and the `unless` queries need no transaction of their own.
async fn look_with<S: Session>(
    session: &mut S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
    no_ledger: bool,
) -> Result<Look, Error> {
    let snippets = set.snippets;
    if !no_ledger {
        session.begin_look().await?;
    }
    let mut ledger = if no_ledger { Ledger::default() } else { session.read_ledger(table).await? };
    // Other tools' ledgers, while bootschema's does not record every snippet of their
    // layouts: what they list is baselined, or the boot refuses (a failed row, a file
    // that is not the one they applied).
    let wanted = crate::foreign::wanted(snippets, &ledger, settings)?;
    if !wanted.is_empty() {
        let rows = session.read_foreign(&wanted).await?;
        ledger.others = crate::foreign::match_rows(snippets, &wanted, rows)?;
    }
    let snapshot = session.snapshot(&Scope::of(S::KIND, snippets)).await?;
    let mut queries: Vec<String> = snippets
        .iter()
        .flat_map(Snippet::all_guards)
        .filter_map(|g| match &g.kind {
            GuardKind::Unless(q) => Some(unless_query(q).to_string()),
            _ => None,
        })
        .collect();
    queries.sort();
    queries.dedup();
    let answers = session.probe(&queries).await?;
    if !no_ledger {
        session.end_look().await?;
    }
    let probes: Probes = queries.into_iter().zip(answers).collect();
    let plan = plan(S::KIND, snippets, &ledger, &snapshot, &probes, settings).for_release(&ledger, &set.mark);
    if plan.newer_release {
        tracing::info!(
            target: "bootschema", dialect = %S::KIND,
            "a newer release synced after this binary's snippets: what it changed is left as it is, and no mark is written"
        );
    }
    Ok(Look {
        plan,
        server_version: snapshot.server_version.clone(),
        ledger,
        database: snapshot.database.clone(),
        snapshot,
        probes,
    })
}

async fn run_on<S: Apply>(
    mut session: S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
    approving: Option<&Approving<'_>>,
) -> Result<SyncReport, Error> {
    let started = Instant::now();
    let snippets = set.snippets;
    // The fast path: one row says whether the last complete sync left exactly this set
    // recorded. A dry run always looks at everything: it is a preview; so does an
    // approved plan, which is compared with what the look finds.
    let read = if settings.dry_run { None } else { Some(session.read_mark(table).await?) };
    let mark_current = matches!(&read, Some(MarkRead::Mark(m)) if *m == set.mark);
    if mark_current && settings.sync != SyncMode::Full && approving.is_none() {
        let report = SyncReport {
            dialect: S::KIND,
            server_version: String::new(),
            dry_run: false,
            disabled: false,
            ledger_table: table.display(),
            steps: Vec::new(),
            unchanged: snippets.len(),
            orphans: Vec::new(),
            foreign_missing: Vec::new(),
            embedded: snippets.len(),
            duration_ms: started.elapsed().as_millis() as u64,
        };
        tracing::info!(target: "bootschema", dialect = %S::KIND, "schema sync: {}", report.summary());
        return Ok(report);
    }
    // Past the fast path, the sync goes on on a connection of its own (see
    // `dialect::conn`: sqlx logs nothing of it, bootschema logs it bounded). It is
    // opened in the background while the first look runs on the borrowed connection.
    session.start_own_connection();
    // A database that never synced has work for certain: it goes to the lock with the
    // look taken meanwhile, which stands if the ledger is still missing under the lock
    // (see `carry_out`). Any other database is looked at first without the lock, so
    // that a boot with nothing to do (an older release during a rolling deploy, a full
    // check) never waits for the lock while another instance applies.
    // (Without a connection to wait for, the look under the lock is the only one; so
    // with a configured PostgreSQL scope, whose search path only a transaction can set
    // without touching the borrowed connection, and the `unless` queries and other
    // tools' ledgers must be read through it.)
    // An approved plan is compared with a look before the lock too (a plan that no
    // longer holds is refused without waiting for the lock), and the look under the lock
    // is always a new one.
    let mut unlocked_look = None;
    if read == Some(MarkRead::NoLedger) && !snippets.is_empty() && approving.is_none() {
        if session.conn().opening() && (S::KIND != DialectKind::Postgres || settings.schemas.is_empty()) {
            unlocked_look = Some(look_with(&mut session, set, table, settings, true).await?);
        }
    } else {
        let first = look(&mut session, set, table, settings).await?;
        if let Some(approving) = approving {
            let identity = session.identity().await?;
            let now = first.approval(S::KIND, set, table, settings, identity, &approving.endpoint);
            if let Err(error) = approving.check(&now, &BTreeMap::new()) {
                return Err(error.with_report(first.into_report(table, settings.dry_run)));
            }
        }
        let refusal = first.plan.refusal(settings);
        // A mark that the look contradicts (drift, an edit, a ledger changed by hand)
        // goes: every boot after this one looks again and warns until it is resolved.
        if matches!(read, Some(MarkRead::Mark(_))) && !settings.dry_run && needs_attention(&first.plan) {
            session.clear_mark(table).await?;
        }
        // In sync but without the current mark (the first boot of a release that
        // changed nothing, a ledger edited by hand): take the lock once to write it.
        let write_mark = !mark_current && first.ledger.exists && leaves_set_recorded(&first.plan);
        if first.plan.has_work() && !settings.dry_run {
            first.refuse_maintenance_database(S::KIND, settings)?;
        }
        if settings.dry_run || !(first.plan.has_work() || write_mark) || refusal.is_some() {
            let mut report = first.into_report(table, settings.dry_run);
            report.duration_ms = started.elapsed().as_millis() as u64;
            report.log();
            return match refusal {
                Some(refusal) => Err(ErrorKind::Refused(Box::new(refusal)).into()),
                None => Ok(report),
            };
        }
    }

    session.own_connection().await?;
    // A look before the lock found no ledger and a plan that will create one: the lock
    // creates it in the same round trip (if the lock finds the ledger still missing,
    // that look stands and its plan runs; otherwise the ledger is there already). Never
    // for a plan that would be refused, which must leave no ledger behind.
    if let Some(look) = &unlocked_look {
        if look.plan.has_work()
            && look.plan.refusal(settings).is_none()
            && look.refuse_maintenance_database(S::KIND, settings).is_ok()
        {
            session.create_ledger_with_lock();
        }
    }
    session.lock(table, settings).await?;
    let outcome = locked(&mut session, set, table, settings, unlocked_look, approving).await;
    let released = session.unlock().await;
    let (plan, server_version) = match (outcome, released) {
        (Ok(done), Ok(())) => done,
        (Err(error), Ok(())) => return Err(error),
        // The unlock commits (PostgreSQL, SQLite): when it fails, what the report says
        // was done may not stand.
        (Err(error), Err(_)) => return Err(error.without_report()),
        (Ok(_), Err(error)) => return Err(error),
    };
    let mut report = SyncReport::new(plan, server_version, table.display(), false);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.log();
    Ok(report)
}

/// What a sync under the lock has done so far: its latest plan and the steps it
/// carried out, for the report of a failed sync ([`Error::report`]).
#[derive(Default)]
struct Progress {
    plan: Option<Plan>,
    server_version: String,
    executed: BTreeMap<u64, Step>,
}

impl Progress {
    /// The latest plan, with the steps carried out so far in place of theirs.
    fn plan(&self) -> Option<Plan> {
        let mut plan = self.plan.clone()?;
        for step in plan.steps.iter_mut() {
            if let Some(done) = self.executed.get(&step.version) {
                *step = done.clone();
            }
        }
        Some(plan)
    }
}

/// Under the lock: plan again (another instance may have synced meanwhile), apply,
/// verify. Loops when a step had to release the lock. A failure carries the report of
/// what was done before it.
async fn locked<S: Apply>(
    session: &mut S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
    unlocked_look: Option<Look>,
    approving: Option<&Approving<'_>>,
) -> Result<(Plan, String), Error> {
    let mut progress = Progress::default();
    let outcome = carry_out(session, set, table, settings, &mut progress, unlocked_look, approving).await;
    outcome.map_err(|error| match progress.plan() {
        Some(plan) => {
            let report = SyncReport::new(plan, progress.server_version, table.display(), false);
            error.with_report(report)
        }
        None => error,
    })
}

async fn carry_out<S: Apply>(
    session: &mut S,
    set: &Set<'_>,
    table: &LedgerTable,
    settings: &Settings,
    progress: &mut Progress,
    mut unlocked_look: Option<Look>,
    approving: Option<&Approving<'_>>,
) -> Result<(Plan, String), Error> {
    let snippets = set.snippets;
    let mut attempts: BTreeMap<u64, u32> = BTreeMap::new();
    let mut identity: Option<Identity> = None;
    loop {
        // A look taken before the lock on a database without a ledger stands while the
        // ledger is still missing under the lock: every sync creates the ledger, under
        // the lock, before it changes anything (and on PostgreSQL and SQLite in the
        // same transaction), so no other instance has changed the database since.
        // Otherwise (another instance synced meanwhile) the sync looks again.
        let looked = match unlocked_look.take() {
            Some(earlier) if !session.read_ledger(table).await?.exists => earlier,
            _ => look(session, set, table, settings).await?,
        };
        progress.plan = Some(looked.plan.clone());
        progress.server_version.clone_from(&looked.server_version);
        // An approved plan: this look, under the lock and before the first statement
        // (or the next one, after a step released the lock), must find the approved
        // plan. The target is the same one all through the sync's connection.
        if let Some(approving) = approving {
            let identity = match &identity {
                Some(known) => known.clone(),
                None => identity.insert(session.identity().await?).clone(),
            };
            let now = looked.approval(S::KIND, set, table, settings, identity, &approving.endpoint);
            approving.check(&now, &progress.executed)?;
        }
        if let Some(sink) = session.events() {
            let report = SyncReport::new(looked.plan.clone(), looked.server_version.clone(), table.display(), false);
            sink.event(&Event::Planned { report: &report, snippets });
        }
        if looked.plan.has_work() {
            looked.refuse_maintenance_database(S::KIND, settings)?;
        }
        let Look { mut plan, server_version, ledger, .. } = looked;
        if let Some(refusal) = plan.refusal(settings) {
            return Err(ErrorKind::Refused(Box::new(refusal)).into());
        }
        if plan.has_work() && !ledger.exists {
            session.create_ledger(table).await?;
        }
        let mut next = 0;
        let applied = loop {
            let applied = apply(session, &mut plan, &mut next, snippets, table, settings).await;
            // Whatever happens next, the steps before `next` ran.
            for step in plan.steps[..next].iter_mut().filter(|s| s.action.changes_database()) {
                step.completed = true;
                progress.executed.insert(step.version, step.clone());
            }
            let applied = applied?;
            // After a batch, the same plan goes on while the ledger is as this sync left it.
            if !matches!(applied, Applied::Checkpoint)
                || !checkpoint(session, table, settings, &ledger, &plan.steps[..next]).await?
            {
                break applied;
            }
        };
        match applied {
            Applied::Done => {
                for step in plan.steps.iter_mut() {
                    if let Some(done) = progress.executed.get(&step.version) {
                        *step = done.clone();
                    }
                }
                verify(session, &plan, snippets).await?;
                // Rows recorded with the checksum of an older bootschema (before the end
                // of a file was trimmed) get the current one, so that an editor's final
                // newline is no edit from now on.
                for step in plan.steps.iter().filter(|s| s.action == Action::Skip) {
                    let snippet = &snippets[step.index];
                    let Some(row) = ledger.rows.get(&step.version) else { continue };
                    if row.checksum != snippet.checksum && row.checksum == snippet.legacy_checksum {
                        let row = LedgerRow { checksum: snippet.checksum.to_string(), ..row.clone() };
                        session
                            .write_ledger(table, &row)
                            .await
                            .map_err(Error::db(format!("recording the current checksum of {}", snippet.path)))?;
                    }
                }
                if leaves_set_recorded(&plan) {
                    session
                        .write_mark(table, &set.mark, &ledger.marks)
                        .await
                        .map_err(Error::db("writing the ledger's mark"))?;
                } else if needs_attention(&plan) {
                    session.clear_mark(table).await?;
                }
                return Ok((plan, server_version));
            }
            // A step released the lock, or another instance changed the ledger between
            // two batches: plan again.
            Applied::Replan | Applied::Checkpoint => {}
            Applied::LockTimedOut(wait) => {
                let attempt = attempts.entry(wait.version).or_insert(1);
                if *attempt >= settings.ddl_attempts {
                    let holders = match &wait.table {
                        Some(table) => session.describe_lock_wait(table).await,
                        None => String::new(),
                    };
                    return Err(ErrorKind::DdlLockTimeout {
                        path: wait.path,
                        line: wait.line,
                        attempts: *attempt,
                        timeout: settings.ddl_lock_timeout,
                        detail: format!("`{}`: {}{holders}", excerpt(&wait.statement), wait.message),
                        variable: settings.var("LOCK_TIMEOUT"),
                    }
                    .into());
                }
                *attempt += 1;
                let pause = backoff(*attempt);
                if let Some(sink) = session.events() {
                    sink.event(&Event::Retry {
                        path: Some(&wait.path),
                        line: Some(wait.line),
                        attempt: *attempt,
                        attempts: settings.ddl_attempts,
                        pause,
                        reason: &wait.message,
                    });
                }
                tracing::warn!(
                    target: "bootschema", path = %wait.path, line = wait.line, attempt = *attempt,
                    pause_ms = pause.as_millis() as u64,
                    "lock timeout on `{}`; releasing every lock, retrying after a pause", excerpt(&wait.statement)
                );
                // Commit what is done and release every table lock while waiting, so
                // that the app's own queries are never held up by this sync.
                session.unlock().await?;
                tokio::time::sleep(pause).await;
                session.lock(table, settings).await?;
            }
        }
    }
}

/// Commits the lock's transaction and takes the lock again: the transaction has held
/// its budget of statements, or a snippet locked a table the app uses (see
/// `apply::batch`). Returns whether the ledger is exactly what this sync left, so that the plan still holds;
/// otherwise another instance took the lock in between, and the caller plans again.
async fn checkpoint<S: Session>(
    session: &mut S,
    table: &LedgerTable,
    settings: &Settings,
    looked: &Ledger,
    done: &[Step],
) -> Result<bool, Error> {
    let recorded = |ledger: &Ledger| -> BTreeMap<u64, (LedgerState, String)> {
        ledger.rows.values().map(|r| (r.version, (r.state, r.checksum.clone()))).collect()
    };
    let mut expected = recorded(looked);
    for step in done.iter().filter(|s| s.action.changes_database()) {
        expected.insert(step.version, (final_state(step), step.checksum.clone()));
    }
    session.unlock().await?;
    session.lock(table, settings).await?;
    let unchanged = recorded(&session.read_ledger(table).await?) == expected;
    tracing::debug!(target: "bootschema", steps = done.len(), unchanged, "committed a batch of snippets, lock taken again");
    Ok(unchanged)
}

/// Schema names for [`Syncer::schemas`] and [`Syncer::exclude_schemas`], each checked to
/// be one plain name.
fn schema_list<I: IntoIterator<Item = S>, S: AsRef<str>>(schemas: I) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in schemas {
        let name = name.as_ref();
        if crate::config::parse_schema_list(name).as_deref() != Some(&[name.to_string()][..]) {
            panic!("`{name}` is not a plain PostgreSQL schema name (letters, digits, `_`, `$`)");
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}
