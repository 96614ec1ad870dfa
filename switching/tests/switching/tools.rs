//! The other tools, run for real over a fixture folder: sqlx's `Migrator`, refinery's
//! `Runner`, diesel's `MigrationHarness`; Flyway (a Java program, not on the registries
//! this machine reaches) replayed by the database's own client in Flyway's order, with
//! its ledger written by hand from Flyway's documented table format.

use std::path::{Path, PathBuf};

use crate::common::{Kind, Pool, TestDb};
use crate::flyway;

/// A migration tool whose folder and ledger bootschema takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Sqlx,
    Refinery,
    Diesel,
    Flyway,
}

impl Tool {
    /// The tool's name as the fixture folders and bootschema's reasons spell it.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Diesel => "diesel",
            Tool::Flyway => "flyway",
        }
    }

    /// The tool's ledger, under its default name.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Flyway => "flyway_schema_history",
        }
    }

    /// The layout bootschema's build is told to read.
    pub fn layout(self) -> bootschema_build::Layout {
        match self {
            Tool::Sqlx => bootschema_build::Layout::Sqlx,
            Tool::Refinery => bootschema_build::Layout::Refinery,
            Tool::Diesel => bootschema_build::Layout::Diesel,
            Tool::Flyway => bootschema_build::Layout::Flyway,
        }
    }

    /// The last version of the fixture history, as bootschema numbers it: what the
    /// app's `build.rs` passes to `Builder::history_until` so that the history's drops
    /// need no `-- destructive` line (no file of the tool is edited). Flyway's dotted
    /// versions are numbered part by part (`4.1` is 1411, see `Layout::Flyway`).
    pub fn history_until(self) -> u64 {
        match self {
            Tool::Sqlx | Tool::Diesel => 20240111093000,
            Tool::Refinery => 11,
            Tool::Flyway => 1411,
        }
    }

    /// Whether the tool keeps a checksum of each file in its ledger (diesel does not).
    pub fn keeps_checksums(self) -> bool {
        self != Tool::Diesel
    }

    /// Runs the tool's own migration of `folder` into `db`, as a team using it would.
    pub async fn migrate(self, db: &TestDb, folder: &Path) -> Result<(), String> {
        match self {
            Tool::Sqlx => sqlx_migrate(db, folder).await,
            Tool::Refinery => refinery_migrate(db, folder).await,
            Tool::Diesel => diesel_migrate(db, folder).await,
            Tool::Flyway => flyway::migrate(db, folder).await,
        }
    }

    /// The file of the snippet that, in this tool's layout, holds `slug` (the seed of
    /// the fixture history, say): `…_seed_admin.sql`, `…_seed_admin/up.sql`,
    /// `V3__seed_admin.sql`, `V1.2__seed_admin.sql`; for sqlx's reversible layout the
    /// `.up.sql` file.
    pub fn file_of(self, folder: &Path, slug: &str) -> PathBuf {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".sql").trim_end_matches(".up");
            if !name.ends_with(".down.sql") && stem.ends_with(&format!("_{slug}")) {
                found.push(if path.is_dir() { path.join("up.sql") } else { path });
            }
        }
        assert_eq!(found.len(), 1, "one file of {slug} in {}: {found:?}", folder.display());
        found.pop().unwrap()
    }

    /// Writes a new migration after the fixture history, as the tool's users would
    /// name it: the next timestamp (sqlx, diesel) or version (refinery, Flyway).
    /// Returns the path written (relative to `folder`) and the version bootschema
    /// gives it.
    pub fn add_migration(self, folder: &Path, slug: &str, sql: &str) -> (String, u64) {
        let reversible =
            std::fs::read_dir(folder).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".up.sql"));
        let (path, version) = match self {
            Tool::Sqlx if reversible => (format!("20240201093000_{slug}.up.sql"), 20240201093000),
            Tool::Sqlx => (format!("20240201093000_{slug}.sql"), 20240201093000),
            Tool::Diesel => (format!("2024-02-01-093000_{slug}/up.sql"), 20240201093000),
            Tool::Refinery => (format!("V12__{slug}.sql"), 12),
            Tool::Flyway => (format!("V5__{slug}.sql"), 5),
        };
        let full = folder.join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, sql).unwrap();
        if self == Tool::Sqlx && reversible {
            std::fs::write(folder.join(path.replace(".up.sql", ".down.sql")), "-- nothing to undo\n").unwrap();
        }
        if self == Tool::Diesel {
            std::fs::write(full.with_file_name("down.sql"), "-- nothing to undo\n").unwrap();
        }
        (path, version)
    }
}

/// The fixture history of `tool` for `kind`'s dialect, in the repository.
pub fn fixture(tool: Tool, kind: Kind) -> PathBuf {
    let dialect = match kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
        Kind::Sqlite => "sqlite",
    };
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(tool.name()).join(dialect)
}

/// A copy of the fixture folder that a test may edit (tamper with, add to). The
/// folder is `<tempdir>/migrations`.
pub fn copy_fixture(tool: Tool, kind: Kind) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(tool, kind), &dir.path().join("migrations"));
    dir
}

/// sqlx's `Migrator` over the folder, on a pool of sqlx's own (as the app using sqlx
/// would run it at boot).
async fn sqlx_migrate(db: &TestDb, folder: &Path) -> Result<(), String> {
    let migrator = sqlx::migrate::Migrator::new(folder).await.map_err(|e| e.to_string())?;
    let result = match &db.pool {
        Pool::Postgres(p) => migrator.run(p).await,
        Pool::MySql(p) => migrator.run(p).await,
        Pool::Sqlite(p) => migrator.run(p).await,
    };
    result.map_err(|e| format!("sqlx: {e}"))
}

/// refinery's `Runner` over the folder, through the client refinery supports for each
/// database: tokio-postgres, mysql_async, rusqlite.
async fn refinery_migrate(db: &TestDb, folder: &Path) -> Result<(), String> {
    let migrations = refinery::load_sql_migrations(folder).map_err(|e| e.to_string())?;
    let runner = refinery::Runner::new(&migrations);
    match db.kind {
        Kind::Postgres => {
            let (mut client, connection) =
                tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
            let task = tokio::spawn(connection);
            let result = runner.run_async(&mut client).await;
            drop(client);
            let _ = task.await;
            result.map(|_| ()).map_err(|e| format!("refinery: {e}"))
        }
        Kind::MySql => {
            // TCP like the test's URL: mysql_async would otherwise switch to the socket.
            let opts =
                mysql_async::Opts::from_url(&format!("{}?prefer_socket=false", db.url)).map_err(|e| e.to_string())?;
            let mut pool = mysql_async::Pool::new(opts);
            let result = runner.run_async(&mut pool).await;
            let _ = pool.disconnect().await;
            result.map(|_| ()).map_err(|e| format!("refinery: {e}"))
        }
        Kind::Sqlite => {
            let path = crate::common::sqlite_path(&db.url).to_string();
            tokio::task::spawn_blocking(move || {
                let mut conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                runner.run(&mut conn).map(|_| ()).map_err(|e| format!("refinery: {e}"))
            })
            .await
            .unwrap()
        }
    }
}

/// diesel's `MigrationHarness::run_pending_migrations` over the folder (diesel's
/// connections are synchronous: on a blocking thread).
async fn diesel_migrate(db: &TestDb, folder: &Path) -> Result<(), String> {
    use diesel::Connection;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};
    let migrations = FileBasedMigrations::from_path(folder).map_err(|e| e.to_string())?;
    let (kind, url) = (db.kind, db.url.clone());
    tokio::task::spawn_blocking(move || {
        let result = match kind {
            Kind::Postgres => {
                let mut conn = diesel::PgConnection::establish(&url).map_err(|e| e.to_string())?;
                conn.run_pending_migrations(migrations).map(|_| ())
            }
            Kind::MySql => {
                let mut conn = diesel::MysqlConnection::establish(&url).map_err(|e| e.to_string())?;
                conn.run_pending_migrations(migrations).map(|_| ())
            }
            Kind::Sqlite => {
                let mut conn =
                    diesel::SqliteConnection::establish(crate::common::sqlite_path(&url)).map_err(|e| e.to_string())?;
                conn.run_pending_migrations(migrations).map(|_| ())
            }
        };
        result.map_err(|e| format!("diesel: {e}"))
    })
    .await
    .unwrap()
}
