//! Deep verify: what a guard cannot see. The embedded snippets are replayed into a
//! scratch database, its snapshot is the schema the snippets define, and the target's
//! snapshot is compared with it ([`crate::snapshot::diff()`]): a column whose type was
//! changed by hand, a default dropped, an index re-created without its predicate, a
//! foreign key's action, all of which pass the guards.
//!
//! The scratch database: SQLite, in memory; PostgreSQL and MySQL, a database named
//! `bootschema_scratch_<millis>_<pid>_<n>_<connection>` created on the server of `--dev-url`, or on the
//! target's server when no such URL is given (the role must be allowed to create
//! databases). It is dropped on every path, errors included. A later run tells a
//! killed run's database from a live one by its creator's connection: PostgreSQL, the
//! backend pid in its name (alive while `pg_stat_activity` has that pid, started
//! before the database); MySQL, a `GET_LOCK` named after it, held by that connection
//! and freed by the server when it dies. Every run drops the ones whose creator is
//! gone.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::dialect::Target;
use crate::error::{Error, ErrorKind};
use crate::snapshot::{diff, Difference, Snapshot};
use crate::snippet::Snippet;
use crate::Syncer;

/// The prefix of every scratch database's name.
pub const SCRATCH_PREFIX: &str = "bootschema_scratch_";

/// What deep verify found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DeepReport {
    /// Where the snippets were replayed: `in-memory SQLite`, or `database <name> on
    /// <host>:<port>` (dropped since).
    pub scratch: String,
    /// How many snippets were replayed.
    pub replayed: usize,
    /// Differences between the schema the snippets define (A) and the target's (B),
    /// each with the snippet that defines the object: drift.
    pub differences: Vec<DeepDifference>,
    /// Objects of the target that the snippets never made ("not from the snippets"):
    /// drift only when asked (`--strict`).
    pub not_from_snippets: Vec<DeepDifference>,
    /// Scratch databases of earlier runs that were killed, dropped by this one.
    pub cleaned_up: Vec<String>,
}

impl DeepReport {
    /// Whether the target differs from what the snippets define; with `strict`, objects
    /// not from the snippets count too.
    pub fn differs(&self, strict: bool) -> bool {
        !self.differences.is_empty() || (strict && !self.not_from_snippets.is_empty())
    }
}

/// One difference, with the snippet that defines its object where one does.
#[derive(Debug, Clone, Serialize)]
pub struct DeepDifference {
    /// What differs (A: the snippets' schema, B: the target's).
    #[serde(flatten)]
    pub difference: Difference,
    /// The file of the last snippet that creates or changes the object.
    pub snippet: Option<String>,
}

impl<'a> Syncer<'a> {
    /// Replays the embedded snippets into a scratch database and compares its schema
    /// with the target's (see the module docs of [`crate::deep`]). `dev_url` names the
    /// server for the scratch database (PostgreSQL and MySQL; its database part is the
    /// one connected to in order to create it); without it, the target's server is
    /// used. Changes nothing on the target.
    ///
    /// # Errors
    /// The target cannot be read, the scratch database cannot be created (say where
    /// one can be: `--dev-url`), or a snippet fails on it (named, with the error).
    pub async fn verify_deep(&self, target: impl Into<Target>, dev_url: Option<&str>) -> Result<DeepReport, Error> {
        let target = target.into();
        let settings = self.settings()?;
        let dialect = target.dialect();
        let actual = self.snapshot(target.clone()).await?;
        let snippets = self.snippets.for_dialect(dialect);
        // The replay: every snippet, destructive ones included, into an empty database,
        // whatever the environment says of dry runs, baselines or the boot-time sync.
        let mut replay = self.clone();
        replay.read_environment = false;
        replay.settings = settings.clone();
        replay.settings.dry_run = false;
        replay.settings.allow_destructive = true;
        replay.settings.baseline = None;
        replay.settings.up_to = None;
        replay.settings.sync = crate::config::SyncMode::On;
        replay.settings.pool_connection = false;
        replay.settings.allow_maintenance_database = true;
        // The replay is no sync of the target's: it reports nowhere.
        replay.settings.report_dir = None;
        replay.settings.report_deep = false;
        replay.settings.events = None;
        let (scratch, expected, cleaned_up) = match &target {
            #[cfg(feature = "sqlite")]
            Target::Sqlite(_) => {
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect("sqlite::memory:")
                    .await
                    .map_err(Error::db("opening an in-memory SQLite database for the replay"))?;
                let expected = replay_into(&replay, Target::from(pool.clone()), "in memory").await;
                pool.close().await;
                ("in-memory SQLite".to_string(), expected?, Vec::new())
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => {
                let options = match dev_url {
                    Some(url) => url.parse::<sqlx::postgres::PgConnectOptions>().map_err(|e| dev_url_error(&e))?,
                    None => (*pool.connect_options()).clone(),
                };
                postgres::replay(&replay, options, &actual).await?
            }
            #[cfg(feature = "mysql")]
            Target::MySql(pool) => {
                let options = match dev_url {
                    Some(url) => url.parse::<sqlx::mysql::MySqlConnectOptions>().map_err(|e| dev_url_error(&e))?,
                    None => (*pool.connect_options()).clone(),
                };
                mysql::replay(&replay, options).await?
            }
        };
        let (differences, not_from_snippets) = attribute(diff(&expected, &actual), snippets);
        let report = DeepReport { scratch, replayed: snippets.len(), differences, not_from_snippets, cleaned_up };
        tracing::info!(
            target: "bootschema",
            dialect = %dialect,
            "deep verify: {} difference(s), {} object(s) not from the snippets (replayed {} snippets into {})",
            report.differences.len(),
            report.not_from_snippets.len(),
            report.replayed,
            report.scratch
        );
        Ok(report)
    }
}

fn dev_url_error(e: &sqlx::Error) -> Error {
    // sqlx's parse errors quote no password; the URL itself is never repeated.
    ErrorKind::Connect {
        kind: None,
        endpoint: crate::error::Endpoint::default(),
        reason: format!("--dev-url does not parse: {e}"),
    }
    .into()
}

/// Syncs the snippets into the scratch database (`name`, for the error) and reads its
/// snapshot.
async fn replay_into(replay: &Syncer<'_>, scratch: Target, name: &str) -> Result<Snapshot, Error> {
    // `run_with`, not `run`: the replay writes no audit trail (its settings say so too).
    replay.run_with(replay.settings.clone(), scratch.clone()).await.map_err(|e| {
        Error::from(ErrorKind::Replay {
            message: format!(
                "replaying the snippets into the scratch database {name} (dropped since): {e}; the target was \
                 not touched"
            ),
        })
    })?;
    replay.snapshot(scratch).await
}

/// Splits differences into drift and objects not from the snippets, each named with the
/// snippet that defines its object.
fn attribute(differences: Vec<Difference>, snippets: &[Snippet]) -> (Vec<DeepDifference>, Vec<DeepDifference>) {
    let mut drift = Vec::new();
    let mut extra = Vec::new();
    for difference in differences {
        if difference.what == "missing in A" {
            extra.push(DeepDifference { difference, snippet: None });
        } else {
            let snippet = defined_by(&difference.object, snippets);
            drift.push(DeepDifference { difference, snippet });
        }
    }
    (drift, extra)
}

/// The last snippet whose statements touch the object of a difference (`users.email`,
/// `users index (email)`, `view totals`): for a column, one that names the column on
/// its table; otherwise one that names the table (or view, sequence, type).
pub(crate) fn defined_by(object: &str, snippets: &[Snippet]) -> Option<String> {
    let object =
        ["view ", "sequence ", "type ", "extension "].iter().fold(object, |o, p| o.strip_prefix(p).unwrap_or(o));
    let head = object.split(' ').next().unwrap_or(object);
    // `schema.table.column`, `table.column` or `table`: the last part may be a column.
    let parts: Vec<&str> = head.split('.').collect();
    let (table, column) = match (parts.as_slice(), object.contains(' ')) {
        ([table], _) => (*table, None),
        ([_, table], true) => (*table, None),
        ([table, column], false) => (*table, Some(*column)),
        ([_, table, column], _) => (*table, Some(*column)),
        _ => (head, None),
    };
    let detail: Option<&str> = object.split_once('(').map(|(_, rest)| rest.trim_end_matches(')'));
    // `users index (email)`, `users unique (email)`, `users primary key`: an index or key.
    let about_index = [" index", " unique", " primary key"].iter().any(|k| object.contains(k));
    let mentions = |sql: &str, word: &str| {
        let lower = sql.to_ascii_lowercase();
        let word = word.to_ascii_lowercase();
        lower.match_indices(&word).any(|(i, _)| {
            let before = lower[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = lower[i + word.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            before && after
        })
    };
    let mut table_only = None;
    for snippet in snippets.iter().rev() {
        for (i, statement) in snippet.statements.iter().enumerate().rev() {
            // Statements that change the schema, on this table: the build knows a
            // statement's target (its first table); where it could not tell, the text
            // must name the table.
            if statement.kind != crate::snippet::StatementKind::Schema {
                continue;
            }
            let sql = snippet.statement_sql(i);
            // A column's type or default comes from the statement that creates or
            // alters it, not from an index over it; an index's from its own statement.
            let head = sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ").to_ascii_uppercase();
            let creates_index = head.starts_with("CREATE INDEX") || head.starts_with("CREATE UNIQUE INDEX");
            let other_kind = if column.is_some() {
                creates_index
            } else {
                about_index && !(creates_index || head.starts_with("ALTER") || head.starts_with("CREATE TABLE"))
            };
            if other_kind {
                continue;
            }
            let on_table = match statement.tables.as_deref().and_then(<[_]>::first) {
                Some(target) => target.name.value.eq_ignore_ascii_case(table),
                None => mentions(sql, table),
            };
            if !on_table {
                continue;
            }
            let wanted = column.or(detail.and_then(|d| d.split(',').next()).map(str::trim));
            match wanted {
                Some(word) if mentions(sql, word.trim_matches('"')) => return Some(snippet.path.to_string()),
                Some(_) => {
                    table_only.get_or_insert_with(|| snippet.path.to_string());
                }
                None => return Some(snippet.path.to_string()),
            }
        }
    }
    table_only
}

/// The scratch database's name: unique per run, and recognisable by a later one.
/// `<ms>_<pid>_<n>_<connection>`: two runs of one process in the same millisecond
/// differ by `n`; `connection` is the server's id of the connection that creates it
/// (PostgreSQL's backend pid, MySQL's connection id), how a later run tells whether its
/// creator still lives. `millis`: the server's clock where the name is checked against
/// it (PostgreSQL), else this machine's.
fn scratch_name(millis: Option<i64>, connection: i64) -> String {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let millis = millis
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0));
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{SCRATCH_PREFIX}{millis}_{}_{run}_{connection}", std::process::id())
}

/// The creation time (ms since the epoch) and the creator's connection id in a scratch
/// database's name.
pub(crate) fn scratch_parts(name: &str) -> Option<(i64, i64)> {
    let rest = name.strip_prefix(SCRATCH_PREFIX)?;
    let parts: Vec<&str> = rest.split('_').collect();
    match parts.as_slice() {
        [millis, _, _, connection] => Some((millis.parse().ok()?, connection.parse().ok()?)),
        _ => None,
    }
}

/// The error when the scratch database cannot be created.
fn cannot_create(kind: &str, server: &str, e: &sqlx::Error) -> Error {
    ErrorKind::Replay {
        message: format!(
            "cannot create a scratch {kind} database on {server}: {}; give `--dev-url` with a server where \
             the role may create databases (a local one will do)",
            crate::error::db_message(e)
        ),
    }
    .into()
}

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{AssertSqlSafe, Connection, PgConnection};

    use super::{cannot_create, replay_into, scratch_name, scratch_parts, SCRATCH_PREFIX};
    use crate::dialect::Target;
    use crate::error::Error;
    use crate::snapshot::Snapshot;
    use crate::Syncer;

    pub(super) async fn replay(
        replay: &Syncer<'_>,
        options: PgConnectOptions,
        actual: &Snapshot,
    ) -> Result<(String, Snapshot, Vec<String>), Error> {
        let server = match options.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", options.get_host(), options.get_port()),
        };
        let mut admin =
            PgConnection::connect_with(&options).await.map_err(|e| cannot_create("PostgreSQL", &server, &e))?;
        let cleaned_up = clean_up(&mut admin).await;
        // The name carries this connection's backend pid: while it lives, the database
        // is in use. (Advisory locks would not do: PostgreSQL keeps them per database,
        // and runs against two targets connect to two databases.)
        let (backend, millis): (i32, i64) =
            sqlx::query_as("SELECT pg_backend_pid(), (extract(epoch FROM clock_timestamp()) * 1000)::int8")
                .fetch_one(&mut admin)
                .await
                .map_err(|e| cannot_create("PostgreSQL", &server, &e))?;
        let name = scratch_name(Some(millis), i64::from(backend));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .map_err(|e| cannot_create("PostgreSQL", &server, &e))?;
        let expected = async {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options.clone().database(&name))
                .await
                .map_err(Error::db(format!("connecting to the scratch database {name}")))?;
            let result = async {
                prepare(&pool, replay, actual).await?;
                replay_into(replay, Target::from(pool.clone()), &name).await
            }
            .await;
            pool.close().await;
            result
        }
        .await;
        // Dropped on every path; a failure to drop is logged (the next run drops it).
        let dropped = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
            .execute(&mut admin)
            .await;
        if let Err(e) = dropped {
            tracing::warn!(target: "bootschema", "dropping the scratch database {name}: {e}; the next deep verify drops it");
        }
        let _ = admin.close().await;
        Ok((format!("database {name} on {server} (dropped)"), expected?, cleaned_up))
    }

    /// What the replay needs before the first snippet: the configured scope's schemas,
    /// and the target's extensions (which the platform, not the snippets, often
    /// installs), in the schemas they are installed in.
    async fn prepare(pool: &sqlx::PgPool, replay: &Syncer<'_>, actual: &Snapshot) -> Result<(), Error> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut sql = String::new();
        for schema in &replay.settings.schemas {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote(schema)));
        }
        for extension in &actual.extensions {
            // `plpgsql` lives in `pg_catalog`, a schema no one creates.
            if !extension.schema.starts_with("pg_") {
                sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote(&extension.schema)));
            }
            sql.push_str(&format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} CASCADE;\n",
                quote(&extension.name),
                quote(&extension.schema)
            ));
        }
        if sql.is_empty() {
            return Ok(());
        }
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(pool).await.map(|_| ()).map_err(Error::db(
            "installing the target's extensions and schemas in the scratch database (the server of --dev-url needs \
             the same extensions available)",
        ))
    }

    /// Drops the scratch databases whose creator is gone: no backend with the pid in the
    /// name that started before the database was made (a later backend with the same
    /// pid is another session).
    async fn clean_up(admin: &mut PgConnection) -> Vec<String> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)")
                .bind(SCRATCH_PREFIX)
                .fetch_all(&mut *admin)
                .await
                .unwrap_or_default();
        let mut dropped = Vec::new();
        for name in names {
            let Some((millis, backend)) = scratch_parts(&name) else { continue };
            // `backend_start` is hidden for other roles' sessions: then a live pid counts.
            let alive: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 \
                 AND (backend_start IS NULL OR backend_start <= to_timestamp($2::float8 / 1000)))",
            )
            .bind(backend as i32)
            .bind(millis as f64)
            .fetch_one(&mut *admin)
            .await
            .unwrap_or(true);
            if alive {
                continue;
            }
            let drop = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                .execute(&mut *admin)
                .await;
            match drop {
                Ok(_) => {
                    tracing::info!(target: "bootschema", "dropped {name}, the scratch database of a deep verify that did not finish");
                    dropped.push(name);
                }
                Err(e) => tracing::warn!(target: "bootschema", "dropping the left-over scratch database {name}: {e}"),
            }
        }
        dropped
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use sqlx::mysql::MySqlConnectOptions;
    use sqlx::{AssertSqlSafe, Connection, MySqlConnection};

    use super::{cannot_create, replay_into, scratch_name, SCRATCH_PREFIX};
    use crate::dialect::Target;
    use crate::error::Error;
    use crate::snapshot::Snapshot;
    use crate::Syncer;

    pub(super) async fn replay(
        replay: &Syncer<'_>,
        options: MySqlConnectOptions,
    ) -> Result<(String, Snapshot, Vec<String>), Error> {
        let server = match options.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", options.get_host(), options.get_port()),
        };
        let mut admin =
            MySqlConnection::connect_with(&options).await.map_err(|e| cannot_create("MySQL", &server, &e))?;
        let cleaned_up = clean_up(&mut admin).await;
        let connection: i64 = sqlx::query_scalar("SELECT CAST(CONNECTION_ID() AS SIGNED)")
            .fetch_one(&mut admin)
            .await
            .map_err(|e| cannot_create("MySQL", &server, &e))?;
        let name = scratch_name(None, connection);
        let locked: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .map_err(|e| cannot_create("MySQL", &server, &e))?;
        debug_assert_eq!(locked, Some(1), "a fresh name's lock is free");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
            .execute(&mut admin)
            .await
            .map_err(|e| cannot_create("MySQL", &server, &e))?;
        let expected = async {
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(2)
                .connect_with(options.clone().database(&name))
                .await
                .map_err(Error::db(format!("connecting to the scratch database {name}")))?;
            let result = replay_into(replay, Target::from(pool.clone()), &name).await;
            pool.close().await;
            result
        }
        .await;
        let dropped =
            sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`"))).execute(&mut admin).await;
        if let Err(e) = dropped {
            tracing::warn!(target: "bootschema", "dropping the scratch database {name}: {e}; the next deep verify drops it");
        }
        let _ = admin.close().await;
        Ok((format!("database {name} on {server} (dropped)"), expected?, cleaned_up))
    }

    /// Drops the scratch databases whose lock is free: their run is gone.
    async fn clean_up(admin: &mut MySqlConnection) -> Vec<String> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CONVERT(schema_name USING utf8mb4) FROM information_schema.schemata WHERE schema_name LIKE CONCAT(?, '%')",
        )
        .bind(SCRATCH_PREFIX.replace('_', "\\_"))
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
        let mut dropped = Vec::new();
        for name in names {
            let free: Option<i64> =
                sqlx::query_scalar("SELECT IS_FREE_LOCK(?)").bind(&name).fetch_one(&mut *admin).await.unwrap_or(None);
            if free != Some(1) {
                continue;
            }
            match sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`"))).execute(&mut *admin).await {
                Ok(_) => {
                    tracing::info!(target: "bootschema", "dropped {name}, the scratch database of a deep verify that did not finish");
                    dropped.push(name);
                }
                Err(e) => tracing::warn!(target: "bootschema", "dropping the left-over scratch database {name}: {e}"),
            }
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_fit_every_server_and_carry_the_prefix() {
        let name = scratch_name(Some(1), 123_456);
        assert_ne!(name, scratch_name(Some(1), 123_456), "two runs in one millisecond");
        assert_eq!(scratch_parts(&name).map(|(_, c)| c), Some(123_456));
        assert_eq!(scratch_parts("bootschema_scratch_x"), None);
        assert!(name.starts_with(SCRATCH_PREFIX) && name.len() <= 63, "{name}");
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{name}");
    }
}
