//! Test support: a database of its own for each test, snippet sets written to temp
//! folders, and catalog dumps to compare.
#![allow(dead_code)]

pub mod faults;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use bootschema::{SnippetSet, Target};
use sqlx::{AssertSqlSafe, Connection, MySqlPool, PgPool, SqlitePool};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    MySql,
    Sqlite,
}

impl Kind {
    /// The snippets' dialect for this kind of database.
    pub fn dialect(self) -> bootschema::DialectKind {
        match self {
            Kind::Postgres => bootschema::DialectKind::Postgres,
            Kind::MySql => bootschema::DialectKind::MySql,
            Kind::Sqlite => bootschema::DialectKind::Sqlite,
        }
    }
}

/// A pool of whichever kind.
#[derive(Clone)]
pub enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Runs the same code on whichever pool.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::common::Pool::Postgres($p) => $body,
            $crate::common::Pool::MySql($p) => $body,
            $crate::common::Pool::Sqlite($p) => $body,
        }
    };
}

impl Pool {
    pub fn target(&self) -> Target {
        on_pool!(self, p => p.into())
    }

    pub async fn exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sql.to_string();
        on_pool!(self, p => sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await.map(|_| ()))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let owned = sql.to_string();
        on_pool!(self, p => sqlx::query_scalar::<_, i64>(AssertSqlSafe(owned)).fetch_one(p).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn strings(&self, sql: &str) -> Vec<String> {
        let owned = sql.to_string();
        on_pool!(self, p => sqlx::query_scalar::<_, String>(AssertSqlSafe(owned)).fetch_all(p).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub kind: Kind,
    /// The test database's URL (for subprocesses).
    pub url: String,
    pub pool: Pool,
    name: String,
    admin_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("bs_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos % 100_000)
}

/// The server URL for `kind` from the environment; `None` (with the reason printed)
/// when it is not set outside CI. Under `CI=true` a missing database fails the test.
pub fn server_url(kind: Kind) -> Option<String> {
    let var = match kind {
        Kind::Postgres => "BOOTSCHEMA_TEST_POSTGRES_URL",
        Kind::MySql => "BOOTSCHEMA_TEST_MYSQL_URL",
        Kind::Sqlite => return Some(String::new()),
    };
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{var} is not set and CI=true: under CI a missing database is a failure, not a skip")
        }
        _ => {
            eprintln!("SKIPPED: {var} is not set (see README: running the tests); this test needs {kind:?}");
            None
        }
    }
}

impl TestDb {
    /// A fresh, empty database of `kind`, or `None` when that server is not configured.
    pub async fn new(kind: Kind) -> Option<TestDb> {
        let server = server_url(kind)?;
        let name = unique_name();
        let db = match kind {
            Kind::Postgres => {
                let mut admin =
                    sqlx::PgConnection::connect(&server).await.expect("connecting to the PostgreSQL server");
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await.unwrap();
                admin.close().await.ok();
                let url = replace_database(&server, &name);
                let pool = PgPool::connect(&url).await.expect("connecting to the test database");
                TestDb { kind, url, pool: Pool::Postgres(pool), name, admin_url: Some(server), _dir: None }
            }
            Kind::MySql => {
                let mut admin = sqlx::MySqlConnection::connect(&server).await.expect("connecting to the MySQL server");
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
                admin.close().await.ok();
                let url = replace_database(&server, &name);
                let pool = MySqlPool::connect(&url).await.expect("connecting to the test database");
                TestDb { kind, url, pool: Pool::MySql(pool), name, admin_url: Some(server), _dir: None }
            }
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite:{}?mode=rwc", dir.path().join("test.db").display());
                let pool = SqlitePool::connect(&url).await.unwrap();
                TestDb { kind, url, pool: Pool::Sqlite(pool), name, admin_url: None, _dir: Some(dir) }
            }
        };
        Some(db)
    }

    /// Another, separate pool on the same database (as another replica would have).
    pub async fn new_pool(&self) -> Pool {
        match self.kind {
            Kind::Postgres => Pool::Postgres(PgPool::connect(&self.url).await.unwrap()),
            Kind::MySql => Pool::MySql(MySqlPool::connect(&self.url).await.unwrap()),
            Kind::Sqlite => Pool::Sqlite(SqlitePool::connect(&self.url).await.unwrap()),
        }
    }

    pub fn target(&self) -> Target {
        self.pool.target()
    }

    /// Boots `replicas` syncs of `set` at once, each on a pool of its own (as replicas
    /// of one service would), and returns how many snippets they applied in all. Every
    /// replica must boot.
    pub async fn boot_replicas(&self, set: SnippetSet, replicas: usize) -> usize {
        let set = std::sync::Arc::new(set);
        let mut tasks = Vec::new();
        for _ in 0..replicas {
            let pool = self.new_pool().await;
            let set = set.clone();
            tasks.push(tokio::spawn(async move {
                let report = syncer(&set).run(pool.target()).await;
                pool.close().await;
                report
            }));
        }
        let mut applied = 0;
        for task in tasks {
            applied += task.await.unwrap().expect("every replica boots").count(bootschema::Action::Apply);
        }
        applied
    }

    /// The ledger's rows: `version state checksum`, in order.
    pub async fn ledger(&self) -> Vec<String> {
        let concat = match self.kind {
            Kind::MySql => "CONCAT(version, ' ', state, ' ', checksum)",
            _ => "CAST(version AS TEXT) || ' ' || state || ' ' || checksum",
        };
        self.pool.strings(&format!("SELECT {concat} FROM bootschema_history WHERE version >= 0 ORDER BY version")).await
    }

    /// The ledger's mark row (version -1), if any: the `set_mark` of the set the last
    /// complete sync left recorded.
    pub async fn mark(&self) -> Option<String> {
        self.pool.strings("SELECT checksum FROM bootschema_history WHERE version = -1").await.pop()
    }

    /// Every table, column, index and constraint of the database, one line each, sorted:
    /// two equal dumps mean two equal schemas.
    pub async fn catalog(&self) -> Vec<String> {
        let sql = match self.kind {
            Kind::Postgres => {
                "SELECT 'table ' || table_name || ' ' || table_type FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
                 UNION ALL SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
                 UNION ALL SELECT 'index ' || schemaname || ' ' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
                 UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
                 UNION ALL SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            }
            Kind::MySql => {
                "SELECT CONVERT(CONCAT('table ', TABLE_NAME, ' ', TABLE_TYPE) USING utf8mb4) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
                 UNION ALL SELECT CONVERT(CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE) USING utf8mb4) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
                 UNION ALL SELECT CONVERT(CONCAT('index ', TABLE_NAME, ' ', INDEX_NAME, ' ', COLUMN_NAME, ' ', NON_UNIQUE) USING utf8mb4) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
                 UNION ALL SELECT CONVERT(CONCAT('constraint ', TABLE_NAME, ' ', CONSTRAINT_NAME, ' ', CONSTRAINT_TYPE) USING utf8mb4) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE()"
            }
            Kind::Sqlite => "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master",
        };
        let mut lines = self.pool.strings(sql).await;
        lines.sort();
        lines
    }

    /// PostgreSQL advisory locks held in this database (`pg_locks` is cluster-wide, and
    /// other tests sync in other databases at the same time).
    pub async fn advisory_locks(&self) -> i64 {
        self.pool
            .count(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .await
    }

    /// Runs `sql` with the database's own command-line client, as an operator replaying
    /// a file would: `psql` (stopping at the first error), `mariadb`, `sqlite3 -bail`.
    /// The oracle that bootschema's result is compared with. Returns the client's
    /// error output when it fails.
    pub fn run_client(&self, sql: &str) -> Result<(), String> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut command = match self.kind {
            Kind::Postgres => {
                let mut c = Command::new("psql");
                c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url]);
                c
            }
            Kind::MySql => {
                let (user, password, host, port, database) = mysql_parts(&self.url);
                let mut c = Command::new("mariadb");
                c.args(["-h", &host, "-P", &port, "-u", &user, "--default-character-set=utf8mb4", &database]);
                if !password.is_empty() {
                    c.env("MYSQL_PWD", password);
                }
                c
            }
            Kind::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.args(["-bail", sqlite_path(&self.url)]);
                c
            }
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("the database's command-line client ({:?}) cannot start: {e}", self.kind));
        child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// The whole database, schema and rows, as its own dump tool writes it (`pg_dump`,
    /// `mysqldump`, `sqlite3 .dump`), without bootschema's ledger and without what
    /// differs between two databases of the same content (names, dates, random keys):
    /// two equal dumps are two equal databases.
    pub fn dump(&self) -> String {
        use std::process::Command;
        let mut command = match self.kind {
            Kind::Postgres => {
                let mut c = Command::new("pg_dump");
                c.args(["--no-owner", "--no-privileges", "--exclude-table=bootschema_history", "-d", &self.url]);
                c
            }
            Kind::MySql => {
                let (user, password, host, port, database) = mysql_parts(&self.url);
                let mut c = Command::new("mysqldump");
                c.args([
                    "-h",
                    &host,
                    "-P",
                    &port,
                    "-u",
                    &user,
                    "--skip-comments",
                    "--skip-dump-date",
                    "--routines",
                    // Binary columns (another tool's checksums) as hex: the dump stays text.
                    "--hex-blob",
                    &format!("--ignore-table={database}.bootschema_history"),
                    &database,
                ]);
                if !password.is_empty() {
                    c.env("MYSQL_PWD", password);
                }
                c
            }
            Kind::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.args([sqlite_path(&self.url), ".dump"]);
                c
            }
        };
        let out = command.output().unwrap_or_else(|e| panic!("the dump tool of {:?} cannot start: {e}", self.kind));
        assert!(out.status.success(), "dumping {:?}: {}", self.kind, String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
            .expect("a UTF-8 dump")
            .lines()
            .filter(|l| !(l.starts_with("--") || l.starts_with("\\restrict") || l.starts_with("\\unrestrict")))
            .filter(|l| !l.trim().is_empty())
            .collect();
        // Whole statements that name the ledger go (its CREATE TABLE spans lines).
        lines
            .join("\n")
            .split_inclusive(";\n")
            .filter(|statement| !statement.contains("bootschema_history"))
            .collect::<String>()
            .replace(&self.name, "<db>")
    }

    /// Whether a table exists.
    pub async fn has_table(&self, table: &str) -> bool {
        self.catalog().await.iter().any(|l| l.starts_with(&format!("table {table} ")))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(admin) = self.admin_url.clone() else { return };
        let name = self.name.clone();
        let kind = self.kind;
        // Drop the database from a thread of its own: Drop cannot await, and the test's
        // runtime may be single-threaded (so the pool is not closed from here: its
        // connections belong to that runtime; FORCE / DROP DATABASE end them).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                match kind {
                    Kind::Postgres => {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            )))
                            .execute(&mut c)
                            .await;
                        }
                    }
                    Kind::MySql => {
                        if let Ok(mut c) = sqlx::MySqlConnection::connect(&admin).await {
                            let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                                .execute(&mut c)
                                .await;
                        }
                    }
                    Kind::Sqlite => {}
                }
            })
        })
        .join();
    }
}

/// `(user, password, host, port, database)` of a `mysql://` URL.
pub fn mysql_parts(url: &str) -> (String, String, String, String, String) {
    let rest = url.strip_prefix("mysql://").expect("a mysql:// URL");
    let (auth, rest) = rest.split_once('@').expect("user@host in the URL");
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let (host_port, database) = rest.split_once('/').expect("a database in the URL");
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let database = database.split('?').next().unwrap_or(database);
    (user.into(), password.into(), host.into(), port.into(), database.into())
}

/// The file of a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> &str {
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    path.split('?').next().unwrap_or(path)
}

/// A folder of snippet files for one test.
pub struct SnippetDir {
    pub dir: tempfile::TempDir,
}

impl SnippetDir {
    /// Writes `files` (paths relative to the folder, e.g. `postgres/0002_x.sql`).
    pub fn new(files: &[(&str, &str)]) -> SnippetDir {
        let dir = tempfile::tempdir().unwrap();
        let d = SnippetDir { dir };
        for (path, text) in files {
            d.write(path, text);
        }
        d
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join("sql").join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn write_bytes(&self, path: &str, bytes: &[u8]) {
        let full = self.dir.path().join("sql").join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.path().join("sql").join(path)).unwrap();
    }

    /// The snippets as `bootschema-build` embeds them.
    pub fn snippets(&self) -> SnippetSet {
        scan(&self.dir.path().join("sql"))
    }
}

/// Scans a folder as `bootschema-build` does at build time, with the test prefix `BSTEST`.
pub fn scan(folder: &Path) -> SnippetSet {
    match bootschema_build::Builder::new().folder(folder).base_dir(folder.parent().unwrap()).env_prefix("BSTEST").scan()
    {
        Ok(scan) => scan.set,
        Err(e) => panic!("the test's snippets do not build:\n{e}"),
    }
}

/// A syncer that ignores the process environment (tests run in parallel in one process).
pub fn syncer(set: &SnippetSet) -> bootschema::Syncer<'_> {
    bootschema::Syncer::new(set).ignore_environment()
}

/// Generates one test per database from an async fn taking a [`TestDb`].
#[macro_export]
macro_rules! on_every_database {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = TestDb::new(Kind::Postgres).await { super::$name(db).await }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    if let Some(db) = TestDb::new(Kind::MySql).await { super::$name(db).await }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(db) = TestDb::new(Kind::Sqlite).await { super::$name(db).await }
                }
            }
        )*
    };
}
