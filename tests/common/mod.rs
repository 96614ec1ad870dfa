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
