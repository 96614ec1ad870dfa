//! Settings of a sync, from the builder and from the environment (which wins).

use crate::snippet::Tool;
use std::time::Duration;

/// Whether and how the boot-time sync looks (`<PREFIX>_SCHEMA_SYNC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SyncMode {
    /// No boot-time sync (`off`): for apps that sync only in a release phase
    /// (`myapp schema apply` syncs whatever the variable says).
    Off,
    /// The default (`on`): a boot whose ledger mark says the embedded set is recorded
    /// reads that one row and stops; drift is then reported by `schema plan` /
    /// `schema verify` and by every boot that has something to apply.
    #[default]
    On,
    /// Every boot reads the ledger and the catalog (`full`), so that drift is warned
    /// about at every boot.
    Full,
}

/// The settings a sync runs with, after the environment has been applied. Built by
/// [`crate::Syncer`] (each field has a builder method and, where it belongs, an
/// environment variable); [`Settings::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Prefix of the environment variables, without the trailing `_`.
    pub env_prefix: String,
    /// Plan and log, change nothing.
    pub dry_run: bool,
    /// Run snippets marked `-- destructive`.
    pub allow_destructive: bool,
    /// Whether the boot-time sync runs, and how much it reads when the ledger's mark
    /// says the set is recorded (`<PREFIX>_SCHEMA_SYNC=off|on|full`).
    pub sync: SyncMode,
    /// How long to wait for the schema lock held by another instance.
    pub lock_wait: Duration,
    /// How long one DDL statement may wait for a table lock before it is retried.
    pub ddl_lock_timeout: Duration,
    /// How many times a snippet is tried when its statements keep hitting lock timeouts
    /// (`<PREFIX>_SCHEMA_DDL_ATTEMPTS`, at least 1; SQLite: how many times its write
    /// lock is asked for).
    pub ddl_attempts: u32,
    /// The ledger table, optionally schema-qualified (`ops.schema_history`).
    pub ledger_table: String,
    /// Records every snippet at or below this version that has no record of its era
    /// as `baselined`, without running it (`<PREFIX>_SCHEMA_BASELINE`): how a database
    /// that another tool or a hand-run script brought up to date joins. See the
    /// README, "Bringing an existing history".
    pub baseline: Option<u64>,
    /// MySQL session variables set on bootschema's own connection while it holds the
    /// lock, and restored before the connection goes back to the app's pool
    /// (`<PREFIX>_SCHEMA_MYSQL_SESSION=foreign_key_checks=0`): a history whose first
    /// file references a table it creates later needs `foreign_key_checks = 0`.
    /// PostgreSQL and SQLite have no use for it (see the README) and ignore it.
    pub mysql_session: Vec<(String, String)>,
    /// Lets the sync write into one of the server's own databases (PostgreSQL's
    /// `postgres` and templates, MySQL's `mysql`, `sys`, `information_schema`,
    /// `performance_schema`), which it refuses by default
    /// (`<PREFIX>_SCHEMA_ALLOW_MAINTENANCE_DATABASE=1`).
    pub allow_maintenance_database: bool,
    /// Plans only the snippets at or below this version (the release-phase `schema
    /// baseline` records the baseline alone); the ledger's mark is then not written.
    pub up_to: Option<u64>,
    /// Runs the sync on a connection borrowed from the app's pool, as a query of the
    /// app would, instead of one of its own opened with the pool's connect options and
    /// sqlx's statement logging off (the default). For a pool whose `after_connect`
    /// sets up each connection (a `search_path`, …); sqlx then logs bootschema's
    /// statements with the pool's log settings, whole seeds included.
    pub pool_connection: bool,
    /// A statement of the sync slower than this is logged at `WARN`, bounded (file,
    /// line, first characters, duration); faster ones at `DEBUG`
    /// (`<PREFIX>_SCHEMA_SLOW_STATEMENT`).
    pub slow_statement: Duration,
    /// How long a connection from a URL ([`crate::Syncer::connect`]) may take to be
    /// established before the attempt fails, naming the host, port and database
    /// (`<PREFIX>_SCHEMA_CONNECT_TIMEOUT`).
    pub connect_timeout: Duration,
    /// Per tool, in [`Tool::ALL`] order, the table where that tool recorded what it
    /// applied, read at the first boot for the snippets of its folder layout that
    /// bootschema's ledger does not record yet (default: each tool's own table,
    /// [`Tool::default_table`]); `None` leaves that tool's ledger unread
    /// (`<PREFIX>_SCHEMA_FOREIGN_LEDGERS=sqlx=ops._sqlx_migrations,flyway=off`, or `off`
    /// for all of them). See the README, "Switching from sqlx / diesel / refinery /
    /// Flyway".
    pub foreign_ledgers: [Option<String>; 4],
    /// PostgreSQL: the schemas bootschema works in, in order (`<PREFIX>_SCHEMA_SCHEMAS=app,public`);
    /// empty (the default) means the connection's search path. When set, the sync runs
    /// its snippets with exactly this search path (the first schema is where unqualified
    /// names are created, and where an unqualified ledger table lives), guards resolve
    /// unqualified names through it, and the snapshot, the diff and drift read these
    /// schemas. Ignored on MySQL and SQLite, whose database is the one schema.
    pub schemas: Vec<String>,
    /// PostgreSQL: schemas left out of the scope (`<PREFIX>_SCHEMA_EXCLUDE_SCHEMAS=audit`):
    /// not read by the snapshot, the diff or drift, and never where a guard finds an
    /// unqualified name. The schema where unqualified names are created cannot be
    /// excluded. Ignored on MySQL and SQLite.
    pub exclude_schemas: Vec<String>,
    /// A folder where each sync that changes the database (or fails) writes its audit
    /// trail, in a new folder of its own: the connection check, the plan and the
    /// execution log, as Markdown and JSON (`<PREFIX>_SCHEMA_REPORT_DIR`; also the
    /// default `--report-dir` of `schema plan | apply | verify`). A boot with nothing to
    /// do writes nothing. Needs the `release` feature (on by default). See
    /// docs/release.md, "The audit trail".
    pub report_dir: Option<std::path::PathBuf>,
    /// With [`Settings::report_dir`]: every boot also replays the snippets into a
    /// scratch database before and after the sync, and writes the deep diffs and the
    /// snapshots before and after (`<PREFIX>_SCHEMA_REPORT_DEEP=1`). Slow: a boot in
    /// sync then replays every snippet twice.
    pub report_deep: bool,
    /// Where the sync reports its events ([`crate::Syncer::events`]), if anywhere.
    pub(crate) events: Option<crate::events::Sink>,
}

/// A setting bootschema cannot use: the variable (or builder setting), the value
/// found and what would have been accepted. It becomes [`crate::ErrorKind::Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub variable: String,
    pub value: String,
    pub expected: &'static str,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={:?} is not valid: expected {}", self.variable, self.value, self.expected)
    }
}

/// The ledger table's default name.
pub const DEFAULT_LEDGER_TABLE: &str = "bootschema_history";

impl Settings {
    /// The defaults, for the variables of `env_prefix` (`MYAPP` reads `MYAPP_SCHEMA_*`).
    pub fn new(env_prefix: &str) -> Settings {
        Settings {
            env_prefix: env_prefix.to_string(),
            dry_run: false,
            allow_destructive: false,
            sync: SyncMode::On,
            lock_wait: Duration::from_secs(60),
            ddl_lock_timeout: Duration::from_secs(5),
            ddl_attempts: 4,
            ledger_table: DEFAULT_LEDGER_TABLE.to_string(),
            baseline: None,
            mysql_session: Vec::new(),
            allow_maintenance_database: false,
            up_to: None,
            pool_connection: false,
            slow_statement: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            foreign_ledgers: Tool::ALL.map(|tool| Some(tool.default_table().to_string())),
            schemas: Vec::new(),
            exclude_schemas: Vec::new(),
            report_dir: None,
            report_deep: false,
            events: None,
        }
    }

    /// The full name of one of the prefix's variables, e.g. `MYAPP_SCHEMA_DRY_RUN`.
    pub fn var(&self, suffix: &str) -> String {
        format!("{}_SCHEMA_{suffix}", self.env_prefix)
    }

    /// Applies the environment's overrides, read through `lookup` (the process environment
    /// in production; a map in tests).
    pub(crate) fn with_env(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, Invalid> {
        let prefix = self.env_prefix.clone();
        let read = |suffix: &str| {
            let variable = format!("{prefix}_SCHEMA_{suffix}");
            lookup(&variable).filter(|v| !v.trim().is_empty()).map(|value| (variable, value))
        };
        if let Some((variable, value)) = read("DRY_RUN") {
            self.dry_run = parse_flag(&variable, &value)?;
        }
        if let Some((variable, value)) = read("ALLOW_DESTRUCTIVE") {
            self.allow_destructive = parse_flag(&variable, &value)?;
        }
        if let Some((variable, value)) = read("SYNC") {
            if value.trim().eq_ignore_ascii_case("full") {
                self.sync = SyncMode::Full;
            } else {
                let on = parse_flag(&variable, &value).map_err(|_| Invalid {
                    variable: variable.clone(),
                    value: value.clone(),
                    expected: "on (the default: a boot in sync reads one row), full (read the ledger and the \
                               catalog on every boot) or off (no boot-time sync); also 1/0, true/false, yes/no",
                })?;
                self.sync = if on { SyncMode::On } else { SyncMode::Off };
            }
        }
        if let Some((variable, value)) = read("ALLOW_MAINTENANCE_DATABASE") {
            self.allow_maintenance_database = parse_flag(&variable, &value)?;
        }
        if let Some((variable, value)) = read("BASELINE") {
            self.baseline = Some(value.trim().parse().map_err(|_| Invalid {
                variable,
                value: value.clone(),
                expected: "a snippet version, as a number (the digits of its file name's prefix: 20250301 for \
                           `2025-03-01_x.sql`)",
            })?);
        }
        if let Some((variable, value)) = read("MYSQL_SESSION") {
            self.mysql_session = value
                .split(',')
                .filter(|pair| !pair.trim().is_empty())
                .map(|pair| parse_session_variable(pair).ok_or(()))
                .collect::<Result<_, ()>>()
                .map_err(|()| Invalid {
                    variable,
                    value: value.clone(),
                    expected: "comma-separated name=value pairs of MySQL session variables, each a plain name and \
                               a number or a word (foreign_key_checks=0)",
                })?;
        }
        if let Some((variable, value)) = read("LOCK_TIMEOUT") {
            let timeout = parse_duration(&variable, &value)?;
            self.lock_wait = timeout;
            self.ddl_lock_timeout = timeout;
        }
        if let Some((variable, value)) = read("CONNECT_TIMEOUT") {
            self.connect_timeout = parse_duration(&variable, &value)?;
        }
        if let Some((variable, value)) = read("SLOW_STATEMENT") {
            self.slow_statement = parse_duration(&variable, &value)?;
        }
        if let Some((variable, value)) = read("FOREIGN_LEDGERS") {
            self.foreign_ledgers = parse_foreign_ledgers(&self.foreign_ledgers, &value).ok_or(Invalid {
                variable: variable.clone(),
                value: value.clone(),
                expected: "off (read no other tool's ledger), or comma-separated tool=table pairs, the tool one of \
                           sqlx, diesel, refinery, flyway and the table a name such as `_sqlx_migrations` or \
                           `ops.flyway_schema_history`, or `off` (sqlx=ops._sqlx_migrations,diesel=off)",
            })?;
        }
        for (suffix, exclude) in [("SCHEMAS", false), ("EXCLUDE_SCHEMAS", true)] {
            if let Some((variable, value)) = read(suffix) {
                let names = parse_schema_list(&value).ok_or(Invalid {
                    variable,
                    value: value.clone(),
                    expected: "comma-separated PostgreSQL schema names as the catalog spells them, each letters, \
                               digits, `_` and `$`, not starting with a digit (app,public)",
                })?;
                if exclude {
                    self.exclude_schemas = names;
                } else {
                    self.schemas = names;
                }
            }
        }
        if let Some((_, value)) = read("REPORT_DIR") {
            self.report_dir = Some(std::path::PathBuf::from(value));
        }
        if let Some((variable, value)) = read("REPORT_DEEP") {
            self.report_deep = parse_flag(&variable, &value)?;
        }
        if let Some((variable, value)) = read("DDL_ATTEMPTS") {
            self.ddl_attempts = value.trim().parse().ok().filter(|n| *n >= 1).ok_or(Invalid {
                variable,
                value,
                expected: "how many times a snippet is tried on lock timeouts: a whole number, at least 1",
            })?;
        }
        self.check_schemas()?;
        Ok(self)
    }

    /// The ledger table: [`Settings::ledger_table`], which on PostgreSQL with a
    /// configured scope ([`Settings::schemas`]) lives in the scope's first schema unless
    /// the name says otherwise, as everything else the snippets create unqualified.
    pub(crate) fn ledger(&self, dialect: crate::snippet::DialectKind) -> Result<crate::ledger::LedgerTable, Invalid> {
        let mut table = crate::ledger::LedgerTable::parse(&self.ledger_table)?;
        if dialect == crate::snippet::DialectKind::Postgres && table.schema.is_none() {
            table.schema = self.schemas.first().cloned();
        }
        Ok(table)
    }

    /// Refuses a schema that is both in the scope and excluded from it.
    pub(crate) fn check_schemas(&self) -> Result<(), Invalid> {
        match self.exclude_schemas.iter().find(|s| self.schemas.contains(s)) {
            Some(both) => Err(Invalid {
                variable: self.var("EXCLUDE_SCHEMAS"),
                value: both.clone(),
                expected: "schemas other than those of the scope (`SCHEMAS`, `Syncer::schemas`): a schema is either \
                           in the scope or out of it",
            }),
            None => Ok(()),
        }
    }
}

/// `a,b,c`: schema names as the catalog spells them, plain identifiers (nothing that
/// could end the `SET search_path` they are written into, even quoted).
pub(crate) fn parse_schema_list(value: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let plain = name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
            && !name.starts_with(|c: char| c.is_ascii_digit() || c == '$');
        if !plain {
            return None;
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    Some(out)
}

/// `name=value`, where the name is a plain identifier and the value a number or a word:
/// nothing that could end the `SET` statement it is written into.
pub(crate) fn parse_session_variable(pair: &str) -> Option<(String, String)> {
    let (name, value) = pair.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    let plain = |s: &str, extra: &[char]| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
    };
    (plain(name, &[]) && !name.starts_with(|c: char| c.is_ascii_digit()) && plain(value, &['.', '-']))
        .then(|| (name.to_ascii_lowercase(), value.to_owned()))
}

/// `off`, or `tool=table` pairs applied over `current`: each table checked to be one
/// or two plain identifiers, `off` leaving that tool's ledger unread.
pub(crate) fn parse_foreign_ledgers(current: &[Option<String>; 4], value: &str) -> Option<[Option<String>; 4]> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") || value == "0" {
        return Some([None, None, None, None]);
    }
    let mut out = current.clone();
    for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
        let (tool, table) = pair.split_once('=')?;
        let tool = Tool::from_name(tool.trim())?;
        let table = table.trim();
        out[tool.index()] = if table.eq_ignore_ascii_case("off") {
            None
        } else {
            crate::ledger::LedgerTable::parse(table).ok()?;
            Some(table.to_string())
        };
    }
    Some(out)
}

fn parse_flag(variable: &str, value: &str) -> Result<bool, Invalid> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Invalid {
            variable: variable.to_string(),
            value: value.to_string(),
            expected: "one of 1, true, yes, on, 0, false, no, off",
        }),
    }
}

fn parse_duration(variable: &str, value: &str) -> Result<Duration, Invalid> {
    let invalid = || Invalid {
        variable: variable.to_string(),
        value: value.to_string(),
        expected: "a duration such as 5s, 500ms or 2m (a bare number is seconds), at least 1ms",
    };
    let value = value.trim();
    let duration = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(value).map_err(|_| invalid())?,
    };
    if duration < Duration::from_millis(1) {
        return Err(invalid());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn other_tools_ledgers_are_named_or_turned_off_by_the_environment() {
        let s = Settings::new("MYAPP");
        assert_eq!(s.foreign_ledgers[Tool::Sqlx.index()].as_deref(), Some("_sqlx_migrations"));
        let named = s
            .clone()
            .with_env(env(&[("MYAPP_SCHEMA_FOREIGN_LEDGERS", "sqlx=ops._sqlx_migrations, diesel=off")]))
            .unwrap();
        assert_eq!(named.foreign_ledgers[Tool::Sqlx.index()].as_deref(), Some("ops._sqlx_migrations"));
        assert_eq!(named.foreign_ledgers[Tool::Diesel.index()], None);
        assert_eq!(named.foreign_ledgers[Tool::Flyway.index()].as_deref(), Some("flyway_schema_history"));
        let off = s.clone().with_env(env(&[("MYAPP_SCHEMA_FOREIGN_LEDGERS", "off")])).unwrap();
        assert!(off.foreign_ledgers.iter().all(Option::is_none));
        for bad in ["liquibase=x", "sqlx=a.b.c", "sqlx", "sqlx=x; DROP TABLE t"] {
            let err = s.clone().with_env(env(&[("MYAPP_SCHEMA_FOREIGN_LEDGERS", bad)])).unwrap_err();
            assert_eq!(err.variable, "MYAPP_SCHEMA_FOREIGN_LEDGERS", "{bad}");
        }
    }

    #[test]
    fn environment_overrides_the_builder() {
        let s = Settings::new("MYAPP")
            .with_env(env(&[
                ("MYAPP_SCHEMA_DRY_RUN", "1"),
                ("MYAPP_SCHEMA_ALLOW_DESTRUCTIVE", "yes"),
                ("MYAPP_SCHEMA_SYNC", "off"),
                ("MYAPP_SCHEMA_LOCK_TIMEOUT", "2s"),
            ]))
            .unwrap();
        assert!(s.dry_run && s.allow_destructive && s.sync == SyncMode::Off);
        assert_eq!(s.lock_wait, Duration::from_secs(2));
        assert_eq!(s.ddl_lock_timeout, Duration::from_secs(2));
    }

    #[test]
    fn sync_full_turns_on_the_full_check_and_garbage_names_the_values() {
        let s = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_SYNC", "FULL")])).unwrap();
        assert_eq!(s.sync, SyncMode::Full);
        let s = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_SYNC", "on")])).unwrap();
        assert_eq!(s.sync, SyncMode::On);
        let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_SYNC", "sometimes")])).unwrap_err();
        assert!(err.to_string().contains("full (read the ledger"), "{err}");
    }

    #[test]
    fn a_baseline_is_a_version_number() {
        let s = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_BASELINE", " 20250301 ")])).unwrap();
        assert_eq!(s.baseline, Some(20250301));
        let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_BASELINE", "v3")])).unwrap_err();
        assert!(err.to_string().contains("MYAPP_SCHEMA_BASELINE"), "{err}");
    }

    #[test]
    fn schema_scopes_are_plain_names_and_never_both_in_and_out() {
        let s = Settings::new("MYAPP")
            .with_env(env(&[("MYAPP_SCHEMA_SCHEMAS", " app, public,app "), ("MYAPP_SCHEMA_EXCLUDE_SCHEMAS", "audit")]))
            .unwrap();
        assert_eq!(
            (s.schemas, s.exclude_schemas),
            (vec!["app".to_string(), "public".into()], vec!["audit".to_string()])
        );
        for bad in ["app; RESET ALL", "\"app\"", "1st", "a b"] {
            let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_SCHEMAS", bad)])).unwrap_err();
            assert!(err.to_string().contains("MYAPP_SCHEMA_SCHEMAS"), "{bad}: {err}");
        }
        let err = Settings::new("MYAPP")
            .with_env(env(&[("MYAPP_SCHEMA_SCHEMAS", "app,public"), ("MYAPP_SCHEMA_EXCLUDE_SCHEMAS", "public")]))
            .unwrap_err();
        assert!(err.to_string().contains("MYAPP_SCHEMA_EXCLUDE_SCHEMAS=\"public\""), "{err}");
    }

    #[test]
    fn mysql_session_variables_are_plain_names_and_values() {
        let s = Settings::new("MYAPP")
            .with_env(env(&[("MYAPP_SCHEMA_MYSQL_SESSION", "FOREIGN_KEY_CHECKS=0, sql_mode=ANSI")]))
            .unwrap();
        assert_eq!(s.mysql_session, [("foreign_key_checks".into(), "0".into()), ("sql_mode".into(), "ANSI".into())]);
        for bad in ["foreign_key_checks", "x=1; DROP TABLE t", "a b=1", "x='1'"] {
            let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_MYSQL_SESSION", bad)])).unwrap_err();
            assert!(err.to_string().contains("MYAPP_SCHEMA_MYSQL_SESSION"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_report_folder_and_its_deep_diffs_come_from_the_environment() {
        let s = Settings::new("MYAPP").with_env(env(&[])).unwrap();
        assert_eq!((s.report_dir, s.report_deep), (None, false));
        let s = Settings::new("MYAPP")
            .with_env(env(&[("MYAPP_SCHEMA_REPORT_DIR", "/var/log/schema"), ("MYAPP_SCHEMA_REPORT_DEEP", "1")]))
            .unwrap();
        assert_eq!((s.report_dir.as_deref(), s.report_deep), (Some(std::path::Path::new("/var/log/schema")), true));
        let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_REPORT_DEEP", "always")])).unwrap_err();
        assert!(err.to_string().contains("MYAPP_SCHEMA_REPORT_DEEP"), "{err}");
    }

    #[test]
    fn other_prefixes_are_ignored() {
        let s = Settings::new("MYAPP").with_env(env(&[("OTHER_SCHEMA_DRY_RUN", "1")])).unwrap();
        assert!(!s.dry_run);
    }

    #[test]
    fn a_bad_flag_names_the_variable_and_the_accepted_values() {
        let err = Settings::new("MYAPP").with_env(env(&[("MYAPP_SCHEMA_DRY_RUN", "maybe")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("MYAPP_SCHEMA_DRY_RUN=\"maybe\""), "{text}");
        assert!(text.contains("1, true"), "{text}");
    }

    #[test]
    fn a_bare_number_is_seconds_and_garbage_is_refused() {
        let s = Settings::new("A").with_env(env(&[("A_SCHEMA_LOCK_TIMEOUT", "7")])).unwrap();
        assert_eq!(s.lock_wait, Duration::from_secs(7));
        let err = Settings::new("A").with_env(env(&[("A_SCHEMA_LOCK_TIMEOUT", "soon")])).unwrap_err();
        assert!(err.to_string().contains("A_SCHEMA_LOCK_TIMEOUT"));
        assert!(Settings::new("A").with_env(env(&[("A_SCHEMA_LOCK_TIMEOUT", "0s")])).is_err());
        let s = Settings::new("A").with_env(env(&[("A_SCHEMA_CONNECT_TIMEOUT", "1500ms")])).unwrap();
        assert_eq!(s.connect_timeout, Duration::from_millis(1500));
        let err = Settings::new("A").with_env(env(&[("A_SCHEMA_CONNECT_TIMEOUT", "later")])).unwrap_err();
        assert!(err.to_string().contains("A_SCHEMA_CONNECT_TIMEOUT"), "{err}");
        let s = Settings::new("A").with_env(env(&[("A_SCHEMA_SLOW_STATEMENT", "250ms")])).unwrap();
        assert_eq!(s.slow_statement, Duration::from_millis(250));
        let s = Settings::new("A").with_env(env(&[("A_SCHEMA_DDL_ATTEMPTS", "9")])).unwrap();
        assert_eq!(s.ddl_attempts, 9);
        for bad in ["0", "many", "-1"] {
            let err = Settings::new("A").with_env(env(&[("A_SCHEMA_DDL_ATTEMPTS", bad)])).unwrap_err();
            assert!(err.to_string().contains("A_SCHEMA_DDL_ATTEMPTS"), "{err}");
        }
    }
}
