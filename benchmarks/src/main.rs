//! Side-by-side benchmark: bootschema vs sqlx's `Migrator` vs refinery vs the raw
//! client (`psql`, `mariadb`, `sqlite3`), on PostgreSQL, MariaDB and SQLite, for
//! generated snippet sets of N = 10, 100, 1,000 and 5,000 files.
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/tgt-bench cargo run --release --manifest-path benchmarks/Cargo.toml            # all N
//! CARGO_TARGET_DIR=/tmp/tgt-bench cargo run --release --manifest-path benchmarks/Cargo.toml -- --quick # N = 10, 100
//! ```
//!
//! Options: `--quick`, `--n 10,1000`, `--db pg,my,lite`, `--no-size` (skips the binary
//! size / peak memory part, which builds a small app once per N), `--no-adopt` /
//! `--adopt-only` (skip / run alone the adoption of a 1,000-file sqlx and refinery
//! history), `--deep-only` (the cost of `schema verify --deep` at N = 100 and 1,000, or
//! the `--n` given after it), `--snapshot-only` (alone: `Syncer::snapshot` of a schema of
//! N tables on each database, with `--snapshot-tables 500,5000` the N, which are the
//! default).
//!
//! Servers: `BENCH_PG_URL` (default postgres://postgres@127.0.0.1:5432) and
//! `BENCH_MY_URL` (default mysql://root@127.0.0.1:3306). Every database used is
//! created and dropped here (names start with `bench_`). Nothing is asserted on time:
//! the output is a set of markdown tables of medians and ratios.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bootschema::SnippetSet;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The differential tests' generator of random histories (renames, drops with and
/// without CASCADE, re-created objects, seeds, backfills).
#[path = "../../tests/generator/mod.rs"]
mod generator;

/// `--deep-only`: what `schema verify --deep` costs.
mod deep_bench;

// ---------------------------------------------------------------------------------
// The snippet sets
// ---------------------------------------------------------------------------------

/// One generated set, written twice: `sql/` (bootschema and sqlx:
/// `00001_create_t0.sql`) and `refinery/` (`V1__create_t0.sql`), same bytes.
struct Files {
    _dir: tempfile::TempDir,
    sql: PathBuf,
    refinery: PathBuf,
    /// The files' contents, in order (for the raw clients).
    texts: Vec<String>,
    set: SnippetSet,
}

/// Snippet `i` (1-based) of a set: groups of four on table `t{k}`, `k = (i-1)/4`:
/// create the table, add a column, index it, insert a seed row. Portable SQL.
fn snippet(i: usize) -> (String, String) {
    let k = (i - 1) / 4;
    match i % 4 {
        1 => (
            format!("create_t{k}"),
            format!("CREATE TABLE t{k} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);\n"),
        ),
        2 => (format!("add_c{k}"), format!("ALTER TABLE t{k} ADD COLUMN c{k} INTEGER;\n")),
        3 => (format!("index_t{k}_c"), format!("CREATE INDEX t{k}_c_idx ON t{k} (c{k});\n")),
        _ => (format!("seed_t{k}"), format!("INSERT INTO t{k} (id, name, c{k}) VALUES (1, 'seed', {k});\n")),
    }
}

fn generate(n: usize) -> Res<Files> {
    let dir = tempfile::tempdir()?;
    let sql = dir.path().join("sql");
    let refinery = dir.path().join("refinery");
    std::fs::create_dir_all(&sql)?;
    std::fs::create_dir_all(&refinery)?;
    let mut texts = Vec::with_capacity(n);
    for i in 1..=n {
        let (desc, text) = snippet(i);
        std::fs::write(sql.join(format!("{i:05}_{desc}.sql")), &text)?;
        std::fs::write(refinery.join(format!("V{i}__{desc}.sql")), &text)?;
        texts.push(text);
    }
    let set = build_scan(&sql, dir.path())?.0;
    Ok(Files { _dir: dir, sql, refinery, texts, set })
}

/// What the build script does for `sql/`, minus cargo's I/O: scan (read, split, parse,
/// infer, checksum) and encode the blob (plus its few lines of code). Returns the set,
/// both durations and the size of what is generated.
fn build_scan(sql: &Path, base: &Path) -> Res<(SnippetSet, Duration, Duration, usize)> {
    let started = Instant::now();
    let scan = bootschema_build::Builder::new()
        .folder(sql)
        .base_dir(base)
        .env_prefix("BENCH")
        .scan()
        .map_err(|e| e.to_string())?;
    let scan_time = started.elapsed();
    let started = Instant::now();
    let size = bootschema_build::generated_blob(&scan.set).len() + bootschema_build::generated_code().len();
    let codegen_time = started.elapsed();
    Ok((scan.set, scan_time, codegen_time, size))
}

// ---------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Db {
    Pg,
    My,
    Lite,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Pg => "PostgreSQL",
            Db::My => "MariaDB",
            Db::Lite => "SQLite",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Tool {
    Boot,
    Sqlx,
    Refinery,
    Raw,
}

impl Tool {
    fn tag(self) -> &'static str {
        match self {
            Tool::Boot => "boot",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Raw => "raw",
        }
    }
}

struct Servers {
    pg_base: String,
    my_base: String,
    pg_admin: Option<PgPool>,
    my_admin: Option<MySqlPool>,
    sqlite_dir: tempfile::TempDir,
}

impl Servers {
    /// `host:port` of a server URL such as postgres://user@host:port.
    fn host_port(base: &str) -> (String, u16) {
        let rest = base.split("://").nth(1).unwrap_or(base);
        let rest = rest.rsplit('@').next().unwrap_or(rest);
        let rest = rest.split('/').next().unwrap_or(rest);
        let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "0"));
        (host.to_string(), port.parse().unwrap_or(0))
    }

    /// The URL of database `db` through `port` (the server's, or a counting proxy's).
    fn url(&self, kind: Db, db: &str, port: Option<u16>) -> String {
        match kind {
            Db::Pg | Db::My => {
                let base = if kind == Db::Pg { &self.pg_base } else { &self.my_base };
                let (scheme, rest) = base.split_once("://").unwrap();
                let (user, hostport) = rest.rsplit_once('@').unwrap_or(("", rest));
                let hostport = hostport.trim_end_matches('/');
                let hostport = match port {
                    Some(p) => format!("{}:{p}", Self::host_port(base).0),
                    None => hostport.to_string(),
                };
                let user = if user.is_empty() { String::new() } else { format!("{user}@") };
                format!("{scheme}://{user}{hostport}/{db}")
            }
            Db::Lite => format!("sqlite://{}", self.sqlite_path(db).display()),
        }
    }

    fn sqlite_path(&self, db: &str) -> PathBuf {
        self.sqlite_dir.path().join(format!("{db}.db"))
    }

    async fn create(&self, kind: Db, db: &str) -> Res<()> {
        self.drop(kind, db).await?;
        match kind {
            Db::Pg => {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(self.pg_admin.as_ref().unwrap()).await?;
            }
            Db::My => {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(self.my_admin.as_ref().unwrap()).await?;
            }
            Db::Lite => {}
        }
        Ok(())
    }

    /// Before a timed fresh apply, the server writes out what earlier runs left behind,
    /// so that no tool pays for another's background work: PostgreSQL's `CHECKPOINT`;
    /// on MariaDB, every dirty page of the buffer pool flushed (its lazy flushing keeps
    /// up to 90 % dirty, 1,800 pages after a 5,000-snippet run) and the purge of the
    /// undo history done.
    async fn settle(&self, kind: Db) -> Res<()> {
        match kind {
            Db::Pg => {
                sqlx::query("CHECKPOINT").execute(self.pg_admin.as_ref().unwrap()).await?;
            }
            Db::My => {
                let admin = self.my_admin.as_ref().unwrap();
                let previous: f64 = sqlx::query_scalar("SELECT CAST(@@GLOBAL.innodb_max_dirty_pages_pct AS DOUBLE)").fetch_one(admin).await?;
                sqlx::query("SET GLOBAL innodb_max_dirty_pages_pct = 0").execute(admin).await?;
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(60) {
                    let status: Vec<(String, String)> = sqlx::query_as(
                        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_history_list_length')",
                    )
                    .fetch_all(admin)
                    .await?;
                    if status.iter().all(|(_, v)| v == "0") {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                sqlx::query(sqlx::AssertSqlSafe(format!("SET GLOBAL innodb_max_dirty_pages_pct = {previous}"))).execute(admin).await?;
            }
            Db::Lite => {}
        }
        Ok(())
    }

    async fn drop(&self, kind: Db, db: &str) -> Res<()> {
        match kind {
            Db::Pg => {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
                    .execute(self.pg_admin.as_ref().unwrap())
                    .await?;
            }
            Db::My => {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}"))).execute(self.my_admin.as_ref().unwrap()).await?;
            }
            Db::Lite => {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let path = PathBuf::from(format!("{}{suffix}", self.sqlite_path(db).display()));
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        Ok(())
    }

    /// How many tables named `t…` the database has: a sanity check after an apply.
    async fn tables(&self, kind: Db, db: &str) -> Res<i64> {
        let url = self.url(kind, db, None);
        // The three pools have different types; only the pool and the query differ.
        macro_rules! count {
            ($pool:expr, $sql:literal) => {{
                let pool = $pool;
                let n: i64 = sqlx::query_scalar($sql).fetch_one(&pool).await?;
                pool.close().await;
                n
            }};
        }
        Ok(match kind {
            Db::Pg => count!(
                PgPoolOptions::new().max_connections(1).connect(&url).await?,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ '^t[0-9]+$'"
            ),
            Db::My => count!(
                MySqlPoolOptions::new().max_connections(1).connect(&url).await?,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name REGEXP '^t[0-9]+$'"
            ),
            Db::Lite => count!(
                sqlite_pool(&url).await?,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name GLOB 't[0-9]*'"
            ),
        })
    }
}

async fn sqlite_pool(url: &str) -> Res<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
    Ok(SqlitePoolOptions::new().max_connections(2).connect_with(options).await?)
}

// ---------------------------------------------------------------------------------
// The contenders, connected and ready: a warm sqlx pool, a connected refinery client
// ---------------------------------------------------------------------------------

enum SqlxPool {
    Pg(PgPool),
    My(MySqlPool),
    Lite(SqlitePool),
}

impl SqlxPool {
    async fn connect(kind: Db, url: &str) -> Res<SqlxPool> {
        Ok(match kind {
            Db::Pg => SqlxPool::Pg(PgPoolOptions::new().max_connections(2).connect(url).await?),
            Db::My => SqlxPool::My(MySqlPoolOptions::new().max_connections(2).connect(url).await?),
            Db::Lite => SqlxPool::Lite(sqlite_pool(url).await?),
        })
    }

    async fn close(&self) {
        match self {
            SqlxPool::Pg(p) => p.close().await,
            SqlxPool::My(p) => p.close().await,
            SqlxPool::Lite(p) => p.close().await,
        }
    }

    fn target(&self) -> bootschema::Target {
        match self {
            SqlxPool::Pg(p) => p.into(),
            SqlxPool::My(p) => p.into(),
            SqlxPool::Lite(p) => p.into(),
        }
    }
}

enum RefineryConn {
    Pg(tokio_postgres::Client, tokio::task::JoinHandle<()>),
    My(mysql_async::Pool),
    Lite(rusqlite::Connection),
}

impl RefineryConn {
    async fn connect(kind: Db, url: &str, sqlite_path: &Path) -> Res<RefineryConn> {
        Ok(match kind {
            Db::Pg => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
                let task = tokio::spawn(async move {
                    let _ = connection.await;
                });
                RefineryConn::Pg(client, task)
            }
            // TCP like the others: mysql_async would otherwise switch to the Unix socket.
            Db::My => RefineryConn::My(mysql_async::Pool::new(mysql_async::Opts::from_url(&format!("{url}?prefer_socket=false"))?)),
            Db::Lite => RefineryConn::Lite(rusqlite::Connection::open(sqlite_path)?),
        })
    }

    async fn close(self) {
        match self {
            RefineryConn::Pg(client, task) => {
                drop(client);
                let _ = task.await;
            }
            RefineryConn::My(pool) => {
                let _ = pool.disconnect().await;
            }
            RefineryConn::Lite(conn) => drop(conn),
        }
    }
}

/// The contenders of one database and N, each with its own database.
struct Contenders<'a> {
    kind: Db,
    files: &'a Files,
    migrator: sqlx::migrate::Migrator,
    runner: refinery::Runner,
}

impl<'a> Contenders<'a> {
    async fn new(kind: Db, files: &'a Files) -> Res<Contenders<'a>> {
        let migrator = sqlx::migrate::Migrator::new(files.sql.as_path()).await?;
        let migrations = refinery::load_sql_migrations(&files.refinery)?;
        let runner = refinery::Runner::new(&migrations);
        Ok(Contenders { kind, files, migrator, runner })
    }

    async fn boot(&self, pool: &SqlxPool) -> Res<()> {
        bootschema::Syncer::new(&self.files.set)
            .ignore_environment()
            .pool_connection(BOOT_ON_POOL.load(Ordering::Relaxed))
            .run(pool.target())
            .await?;
        Ok(())
    }

    async fn on_pool(&self, tool: Tool, pool: &SqlxPool) -> Res<()> {
        if tool == Tool::Boot {
            self.boot(pool).await
        } else {
            self.sqlx(pool).await
        }
    }

    async fn sqlx(&self, pool: &SqlxPool) -> Res<()> {
        match pool {
            SqlxPool::Pg(p) => self.migrator.run(p).await?,
            SqlxPool::My(p) => self.migrator.run(p).await?,
            SqlxPool::Lite(p) => self.migrator.run(p).await?,
        }
        Ok(())
    }

    async fn refinery(&self, conn: &mut RefineryConn) -> Res<()> {
        match conn {
            RefineryConn::Pg(client, _) => {
                self.runner.run_async(client).await?;
            }
            RefineryConn::My(pool) => {
                self.runner.run_async(pool).await?;
            }
            RefineryConn::Lite(c) => {
                self.runner.run(c)?;
            }
        }
        Ok(())
    }

    /// The raw client replaying the files in one session, each file in its own
    /// transaction; the script is written before the clock starts.
    fn raw_script(&self) -> String {
        let mut script = String::new();
        for text in &self.files.texts {
            script.push_str("BEGIN;\n");
            script.push_str(text);
            script.push_str("COMMIT;\n");
        }
        script
    }

    fn raw_command(&self, servers: &Servers, db: &str, port: Option<u16>) -> Command {
        match self.kind {
            Db::Pg => {
                let (host, p) = Servers::host_port(&servers.pg_base);
                let user = servers.pg_base.split("://").nth(1).and_then(|r| r.split_once('@')).map(|(u, _)| u).unwrap_or("postgres");
                let mut c = Command::new("psql");
                c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", &host, "-p", &port.unwrap_or(p).to_string(), "-U", user, "-d", db]);
                c
            }
            Db::My => {
                let (host, p) = Servers::host_port(&servers.my_base);
                let user = servers.my_base.split("://").nth(1).and_then(|r| r.split_once('@')).map(|(u, _)| u).unwrap_or("root");
                let mut c = Command::new("mariadb");
                c.args(["--protocol=TCP", "-h", &host, "-P", &port.unwrap_or(p).to_string(), "-u", user, db]);
                c
            }
            Db::Lite => {
                let mut c = Command::new("sqlite3");
                c.arg("-bail").arg(servers.sqlite_path(db));
                c
            }
        }
    }

    async fn raw(&self, servers: &Servers, db: &str, script: &Path, port: Option<u16>) -> Res<Duration> {
        let mut command = tokio::process::Command::from(self.raw_command(servers, db, port));
        command.stdin(std::fs::File::open(script)?).stdout(Stdio::null()).stderr(Stdio::piped());
        let started = Instant::now();
        let output = command.output().await?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            return Err(format!("raw client failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        Ok(elapsed)
    }
}

// ---------------------------------------------------------------------------------
// Round trips: a TCP proxy that counts the turns of the conversation
// ---------------------------------------------------------------------------------

/// A proxy to `upstream` counting round trips: each time the client sends after the
/// server last spoke (or first) counts one. Pipelined requests are one round trip.
struct Proxy {
    port: u16,
    count: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: (String, u16)) -> Res<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect((upstream.0.as_str(), upstream.1)).await else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let client_spoke_last = Arc::new(AtomicBool::new(false));
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let (flag, counter) = (client_spoke_last.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if !flag.swap(true, Ordering::SeqCst) {
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                });
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match sr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        client_spoke_last.store(false, Ordering::SeqCst);
                        if cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = cw.shutdown().await;
                });
            }
        });
        Ok(Proxy { port, count })
    }

    fn reset(&self) {
        self.count.store(0, Ordering::SeqCst);
    }

    fn read(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }
}

// ---------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------

/// The median; of an even number of values, the mean of the two in the middle.
fn middle(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 0 {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    } else {
        values[n / 2]
    }
}

/// The median of runs ([`middle`]).
fn median(runs: Vec<Duration>) -> Duration {
    Duration::from_secs_f64(middle(runs.iter().map(Duration::as_secs_f64).collect()))
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

/// Repetitions at `n`: (fresh applies, no-op boots). Fresh applies come in multiples
/// of four, the size of the square that orders them ([`balanced_order`]). Sixteen
/// at small N, where one sample is a few tens of milliseconds and the VM's noise moves
/// it by ±15 %; eight at N = 1,000, where MariaDB's samples of one tool still spread
/// over ±25 % (2.6–4.1 s) and a median of four moved the ratio by more than the goal's
/// margin; four at N = 5,000.
fn repetitions(n: usize) -> (usize, usize) {
    match n {
        // A fresh apply of ten snippets takes 15-30 ms, and one tool's samples of it
        // spread by 2x over a run on the VM: the median of 16 moved by up to 10% from
        // run to run. 48 cost about 25 s per database.
        0..=10 => (48, 21),
        11..=100 => (16, 21),
        101..=1000 => (8, 11),
        _ => (4, 5),
    }
}

/// The order of four tools (their indexes) in repetition `rep`: row `rep % 4` of the
/// Williams square whose first row is 0, 1, 3, 2 and each next row adds one (mod 4).
fn balanced_order(rep: usize) -> [usize; 4] {
    [0, 1, 3, 2].map(|i| (i + rep) % 4)
}

#[derive(Default)]
struct Row {
    fresh: BTreeMap<Tool, Duration>,
    /// Every fresh apply, by tool, in repetition order (each repetition runs every tool
    /// once, back to back).
    fresh_runs: BTreeMap<Tool, Vec<Duration>>,
    noop: BTreeMap<Tool, Duration>,
}

/// The median of bootschema's time over `other`'s, repetition by repetition: the tools
/// of one repetition run back to back and share the machine's state of the moment,
/// which moves a single tool's runs by up to 2.8× over a run on the noisy VM.
fn paired_ratio(row: &Row, other: Tool) -> f64 {
    let boot = &row.fresh_runs[&Tool::Boot];
    middle(boot.iter().zip(&row.fresh_runs[&other]).map(|(b, o)| b.as_secs_f64() / o.as_secs_f64()).collect())
}

async fn measure(servers: &Servers, kind: Db, n: usize, files: &Files) -> Res<Row> {
    let c = Contenders::new(kind, files).await?;
    let (fresh_reps, noop_reps) = repetitions(n);
    let script_file = tempfile::NamedTempFile::new()?;
    std::fs::write(script_file.path(), c.raw_script())?;
    let mut fresh: BTreeMap<Tool, Vec<Duration>> = BTreeMap::new();
    let tools = [Tool::Boot, Tool::Sqlx, Tool::Refinery, Tool::Raw];
    let db = |t: Tool| format!("bench_{}_{n}", t.tag());
    // Fresh applies, the tools interleaved in each repetition, in the orders of a
    // balanced Latin square: over four repetitions each tool runs once in each position
    // and right after each other tool once, so that no tool always follows the same one
    // (and its background work: dirty pages, autovacuum, the purge of dropped
    // databases). A plain rotation keeps the cycle: every tool would always follow the
    // same one.
    for rep in 0..fresh_reps {
        for tool in balanced_order(rep).map(|i| tools[i]) {
            let name = db(tool);
            servers.create(kind, &name).await?;
            servers.settle(kind).await?;
            let url = servers.url(kind, &name, None);
            let elapsed = match tool {
                Tool::Boot | Tool::Sqlx => {
                    let pool = SqlxPool::connect(kind, &url).await?;
                    let started = Instant::now();
                    if tool == Tool::Boot {
                        c.boot(&pool).await?
                    } else {
                        c.sqlx(&pool).await?
                    }
                    let elapsed = started.elapsed();
                    pool.close().await;
                    elapsed
                }
                Tool::Refinery => {
                    let mut conn = RefineryConn::connect(kind, &url, &servers.sqlite_path(&name)).await?;
                    let started = Instant::now();
                    c.refinery(&mut conn).await?;
                    let elapsed = started.elapsed();
                    conn.close().await;
                    elapsed
                }
                Tool::Raw => c.raw(servers, &name, script_file.path(), None).await?,
            };
            let tables = servers.tables(kind, &name).await?;
            let expected = n.div_ceil(4) as i64;
            if tables != expected {
                return Err(format!("{} on {}: {tables} tables after the apply, {expected} expected", tool.tag(), kind.name()).into());
            }
            fresh.entry(tool).or_default().push(elapsed);
            // Every sample, on stderr (the tables go to stdout): the spread behind a median.
            eprintln!("  sample: {} N = {n} fresh apply, repetition {rep}: {} {}", kind.name(), tool.tag(), ms(elapsed));
            // One app's schema on the server at a time, as in a deploy: the other tools'
            // tables (up to 3 × N/4 more) would crowd MariaDB's table caches (400
            // definitions, 2,000 open tables by default) and PostgreSQL's catalog for
            // whichever tool runs later in the round.
            servers.drop(kind, &name).await?;
        }
    }
    // No-op boots on databases each tool brings up to date here, untimed (the first
    // boot below): a warm pool, connection acquisition included, the tools interleaved.
    for tool in [Tool::Boot, Tool::Sqlx, Tool::Refinery] {
        servers.create(kind, &db(tool)).await?;
    }
    let boot_pool = SqlxPool::connect(kind, &servers.url(kind, &db(Tool::Boot), None)).await?;
    let sqlx_pool = SqlxPool::connect(kind, &servers.url(kind, &db(Tool::Sqlx), None)).await?;
    let mut refinery = RefineryConn::connect(
        kind,
        &servers.url(kind, &db(Tool::Refinery), None),
        &servers.sqlite_path(&db(Tool::Refinery)),
    )
    .await?;
    c.boot(&boot_pool).await?;
    c.sqlx(&sqlx_pool).await?;
    c.refinery(&mut refinery).await?;
    let mut noop: BTreeMap<Tool, Vec<Duration>> = BTreeMap::new();
    for _ in 0..noop_reps {
        let started = Instant::now();
        c.boot(&boot_pool).await?;
        noop.entry(Tool::Boot).or_default().push(started.elapsed());
        let started = Instant::now();
        c.sqlx(&sqlx_pool).await?;
        noop.entry(Tool::Sqlx).or_default().push(started.elapsed());
        let started = Instant::now();
        c.refinery(&mut refinery).await?;
        noop.entry(Tool::Refinery).or_default().push(started.elapsed());
    }
    boot_pool.close().await;
    sqlx_pool.close().await;
    refinery.close().await;
    for tool in tools {
        servers.drop(kind, &db(tool)).await?;
    }
    Ok(Row {
        fresh: fresh.iter().map(|(t, v)| (*t, median(v.clone()))).collect(),
        fresh_runs: fresh,
        noop: noop.into_iter().map(|(t, v)| (t, median(v))).collect(),
    })
}

/// A random history of the differential tests' generator, the longest (most
/// statements) of seeds 1 to 200 for `kind`, applied to an empty database by the raw
/// client (one session, each file in its own transaction) and by bootschema, the two
/// alternating (ABBA), 8 repetitions on fresh databases. Where the outcome of an earlier
/// statement is uncertain (a drop, a rename, a CASCADE), bootschema reads the catalog
/// again: this row measures what that costs on a history that does it often.
async fn random_history(servers: &Servers, kind: Db) -> Res<(usize, usize, Duration, Duration)> {
    let dialect = match kind {
        Db::Pg => bootschema::DialectKind::Postgres,
        Db::My => bootschema::DialectKind::MySql,
        Db::Lite => bootschema::DialectKind::Sqlite,
    };
    let statements = |files: &[(String, String)]| files.iter().map(|(_, t)| t.matches(";\n").count()).sum::<usize>();
    let files = (1..=200u64)
        .map(|seed| generator::history(dialect, seed))
        .max_by_key(|files| statements(files))
        .ok_or("no history")?;
    let dir = tempfile::tempdir()?;
    let sql = dir.path().join("sql");
    std::fs::create_dir_all(&sql)?;
    let mut script = String::new();
    for (name, text) in &files {
        std::fs::write(sql.join(name), text)?;
        script.push_str("BEGIN;\n");
        script.push_str(text);
        script.push_str("COMMIT;\n");
    }
    let set = build_scan(&sql, dir.path())?.0;
    let script_file = tempfile::NamedTempFile::new()?;
    std::fs::write(script_file.path(), &script)?;
    let texts = files.iter().map(|(_, t)| t.clone()).collect();
    let holder = Files { _dir: dir, sql: sql.clone(), refinery: sql, texts, set };
    let c = Contenders::new(kind, &holder).await?;
    let (mut raw, mut boot) = (Vec::new(), Vec::new());
    for rep in 0..8 {
        let order = if rep % 4 == 0 || rep % 4 == 3 { [Tool::Raw, Tool::Boot] } else { [Tool::Boot, Tool::Raw] };
        for tool in order {
            let name = format!("bench_history_{}", tool.tag());
            servers.create(kind, &name).await?;
            servers.settle(kind).await?;
            let elapsed = if tool == Tool::Raw {
                c.raw(servers, &name, script_file.path(), None).await?
            } else {
                let pool = SqlxPool::connect(kind, &servers.url(kind, &name, None)).await?;
                let started = Instant::now();
                bootschema::Syncer::new(&holder.set).ignore_environment().allow_destructive(true).run(pool.target()).await?;
                let elapsed = started.elapsed();
                pool.close().await;
                elapsed
            };
            eprintln!("  sample: {} random history, repetition {rep}: {} {}", kind.name(), tool.tag(), ms(elapsed));
            if tool == Tool::Raw { raw.push(elapsed) } else { boot.push(elapsed) }
            servers.drop(kind, &name).await?;
        }
    }
    Ok((files.len(), statements(&files), median(boot), median(raw)))
}

/// An upgrade of 100 snippets on a database with data (PostgreSQL): 100 tables of 5,000
/// rows, applied earlier by each tool, then 100 snippets that each add a column to one
/// of them, backfill it and index it. Each snippet locks a table the app uses, so
/// bootschema commits after each one (the app waits for one snippet at a time, never
/// for a batch); sqlx and the raw client commit after each file anyway. Meanwhile an
/// "app" reads the tables round-robin, and the longest of its reads is reported.
/// Repetitions alternate the order of the tools; medians of 4.
async fn upgrade_with_data(servers: &Servers) -> Res<BTreeMap<Tool, (Duration, Duration)>> {
    const TABLES: usize = 100;
    let dir = tempfile::tempdir()?;
    let base_dir = dir.path().join("base");
    let full_dir = dir.path().join("sql");
    std::fs::create_dir_all(&base_dir)?;
    std::fs::create_dir_all(&full_dir)?;
    let (mut base_script, mut upgrade_script) = (String::new(), String::new());
    let mut texts = Vec::new();
    for k in 1..=TABLES {
        let name = format!("{k:04}_table_{k}.sql");
        let text = format!(
            "CREATE TABLE t{k} (id BIGINT PRIMARY KEY, v INT NOT NULL, note TEXT);\n\
             INSERT INTO t{k} SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 5000) g;\n"
        );
        std::fs::write(base_dir.join(&name), &text)?;
        std::fs::write(full_dir.join(&name), &text)?;
        base_script.push_str(&format!("BEGIN;\n{text}COMMIT;\n"));
        texts.push(text);
    }
    for k in 1..=TABLES {
        let name = format!("{:04}_extra_{k}.sql", TABLES + k);
        let text = format!(
            "ALTER TABLE t{k} ADD COLUMN extra INT;\nUPDATE t{k} SET extra = v % 7 WHERE id > 0;\n\
             CREATE INDEX t{k}_extra_idx ON t{k} (extra);\n"
        );
        std::fs::write(full_dir.join(&name), &text)?;
        upgrade_script.push_str(&format!("BEGIN;\n{text}COMMIT;\n"));
        texts.push(text);
    }
    let base_set = build_scan(&base_dir, dir.path())?.0;
    let full_set = build_scan(&full_dir, dir.path())?.0;
    let base_migrator = sqlx::migrate::Migrator::new(base_dir.as_path()).await?;
    let full_migrator = sqlx::migrate::Migrator::new(full_dir.as_path()).await?;
    let (base_file, upgrade_file) = (tempfile::NamedTempFile::new()?, tempfile::NamedTempFile::new()?);
    std::fs::write(base_file.path(), &base_script)?;
    std::fs::write(upgrade_file.path(), &upgrade_script)?;
    let holder = Files { _dir: dir, sql: full_dir.clone(), refinery: full_dir, texts, set: full_set };
    let c = Contenders::new(Db::Pg, &holder).await?;
    let mut times: BTreeMap<Tool, Vec<(Duration, Duration)>> = BTreeMap::new();
    for rep in 0..4 {
        let mut order = [Tool::Boot, Tool::Sqlx, Tool::Raw];
        if rep % 2 == 1 {
            order.reverse();
        }
        for tool in order {
            let name = format!("bench_upgrade_{}", tool.tag());
            servers.create(Db::Pg, &name).await?;
            let url = servers.url(Db::Pg, &name, None);
            let pool = SqlxPool::connect(Db::Pg, &url).await?;
            let SqlxPool::Pg(pg) = &pool else { return Err("not PostgreSQL".into()) };
            match tool {
                Tool::Boot => {
                    bootschema::Syncer::new(&base_set).ignore_environment().run(pool.target()).await?;
                }
                Tool::Sqlx => base_migrator.run(pg).await?,
                _ => {
                    c.raw(servers, &name, base_file.path(), None).await?;
                }
            }
            servers.settle(Db::Pg).await?;
            // The app: reads each table in turn until the upgrade ends.
            let app = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await?;
            let stop = Arc::new(AtomicBool::new(false));
            let reader = {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut longest = Duration::ZERO;
                    let mut k = 0;
                    while !stop.load(Ordering::Relaxed) {
                        k = k % TABLES + 1;
                        let started = Instant::now();
                        let sql = format!("SELECT count(*) FROM t{k} WHERE v = 3");
                        let _: Result<i64, _> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&app).await;
                        longest = longest.max(started.elapsed());
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    app.close().await;
                    longest
                })
            };
            let started = Instant::now();
            match tool {
                Tool::Boot => {
                    let report =
                        bootschema::Syncer::new(&holder.set).ignore_environment().run(pool.target()).await?;
                    if report.steps.iter().filter(|s| s.action == bootschema::Action::Apply).count() != TABLES {
                        return Err("the upgrade did not apply 100 snippets".into());
                    }
                }
                Tool::Sqlx => full_migrator.run(pg).await?,
                _ => {
                    c.raw(servers, &name, upgrade_file.path(), None).await?;
                }
            }
            let elapsed = started.elapsed();
            stop.store(true, Ordering::Relaxed);
            let longest = reader.await?;
            eprintln!("  sample: upgrade with data, repetition {rep}: {} {} (longest app read {})", tool.tag(), ms(elapsed), ms(longest));
            times.entry(tool).or_default().push((elapsed, longest));
            pool.close().await;
            servers.drop(Db::Pg, &name).await?;
        }
    }
    Ok(times
        .into_iter()
        .map(|(tool, runs)| {
            let (elapsed, longest): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
            (tool, (median(elapsed), median(longest)))
        })
        .collect())
}

/// The size of the history adopted in the adoption table.
const ADOPT_N: usize = 1000;

/// One tool's row of the adoption table.
struct Adoption {
    /// bootschema's first boot on the tool's database: reads the tool's ledger,
    /// records every row as `baselined` (median).
    first_boot: Duration,
    /// The tool's own run on the same database, nothing to apply (median).
    tool_noop: Duration,
    /// bootschema's next boot (the ledger mark's read; median).
    next_boot: Duration,
    /// Round trips of the first boot, counted by the proxy (PostgreSQL and MariaDB).
    first_boot_trips: Option<u64>,
    /// bootschema's first boot over the tool's no-op, repetition by repetition (median).
    paired: f64,
}

/// Adopting a history of `n` files that sqlx (or refinery) applied: the tool migrates
/// a database once (untimed), then, 8 times, bootschema's ledger is dropped (untimed:
/// the database is again exactly what the tool left), and bootschema's first boot and
/// the tool's own no-op run are timed back to back, in alternating order (ABBA), the
/// server settled before each pair. bootschema reads the folder in the tool's layout
/// (`Builder::layout`) and the tool's ledger (checksums verified). Warm pools for both,
/// connection acquisition included, as in the no-op table.
async fn adoption(servers: &Servers, kind: Db, n: usize, files: &Files) -> Res<BTreeMap<Tool, Adoption>> {
    let c = Contenders::new(kind, files).await?;
    let mut out = BTreeMap::new();
    for tool in [Tool::Sqlx, Tool::Refinery] {
        let (folder, layout) = match tool {
            Tool::Sqlx => (&files.sql, bootschema_build::Layout::Sqlx),
            _ => (&files.refinery, bootschema_build::Layout::Refinery),
        };
        let set = bootschema_build::Builder::new()
            .folder(folder)
            .base_dir(folder.parent().unwrap())
            .env_prefix("BENCH")
            .layout(layout)
            .scan()
            .map_err(|e| e.to_string())?
            .set;
        let name = format!("bench_adopt_{}", tool.tag());
        servers.create(kind, &name).await?;
        let url = servers.url(kind, &name, None);
        let pool = SqlxPool::connect(kind, &url).await?;
        let mut refinery = RefineryConn::connect(kind, &url, &servers.sqlite_path(&name)).await?;
        tool_run(&c, tool, &pool, &mut refinery).await?; // the tool's own migration, untimed
        tool_run(&c, tool, &pool, &mut refinery).await?; // warm
        let syncer = bootschema::Syncer::new(&set).ignore_environment();
        let (mut first, mut noop, mut next, mut ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for rep in 0..8 {
            pool_exec(&pool, "DROP TABLE IF EXISTS bootschema_history").await?;
            servers.settle(kind).await?;
            let boot_first = rep % 4 == 0 || rep % 4 == 3;
            let mut pair = [Duration::ZERO; 2];
            for turn in 0..2 {
                if (turn == 0) == boot_first {
                    let started = Instant::now();
                    let report = syncer.run(pool.target()).await?;
                    pair[0] = started.elapsed();
                    let baselined = report.count(bootschema::Action::Baselined);
                    if baselined != n || report.count(bootschema::Action::Apply) > 0 {
                        return Err(format!(
                            "{} {}: the first boot baselined {baselined} of {n}",
                            kind.name(),
                            tool.tag()
                        )
                        .into());
                    }
                } else {
                    let started = Instant::now();
                    tool_run(&c, tool, &pool, &mut refinery).await?;
                    pair[1] = started.elapsed();
                }
            }
            let started = Instant::now();
            let report = syncer.run(pool.target()).await?;
            next.push(started.elapsed());
            if report.unchanged != n {
                return Err(
                    format!("{} {}: the boot after the adoption left the fast path", kind.name(), tool.tag()).into()
                );
            }
            eprintln!(
                "  sample: {} adopting {} N = {n}, repetition {rep}: bootschema first boot {}, {} no-op {}",
                kind.name(),
                tool.tag(),
                ms(pair[0]),
                tool.tag(),
                ms(pair[1])
            );
            ratios.push(pair[0].as_secs_f64() / pair[1].as_secs_f64());
            first.push(pair[0]);
            noop.push(pair[1]);
        }
        pool.close().await;
        refinery.close().await;
        // Round trips of one more first boot, through the counting proxy.
        let first_boot_trips = if kind == Db::Lite {
            None
        } else {
            let upstream = Servers::host_port(if kind == Db::Pg { &servers.pg_base } else { &servers.my_base });
            let proxy = Proxy::start(upstream).await?;
            let pool = SqlxPool::connect(kind, &servers.url(kind, &name, Some(proxy.port))).await?;
            pool_exec(&pool, "DROP TABLE IF EXISTS bootschema_history").await?;
            proxy.reset();
            syncer.run(pool.target()).await?;
            let trips = proxy.read();
            pool.close().await;
            Some(trips)
        };
        servers.drop(kind, &name).await?;
        out.insert(
            tool,
            Adoption {
                first_boot: median(first),
                tool_noop: median(noop),
                next_boot: median(next),
                first_boot_trips,
                paired: middle(ratios),
            },
        );
    }
    Ok(out)
}

/// The tool's own run (sqlx's `Migrator::run`, refinery's `Runner`).
async fn tool_run(c: &Contenders<'_>, tool: Tool, pool: &SqlxPool, refinery: &mut RefineryConn) -> Res<()> {
    if tool == Tool::Sqlx {
        c.sqlx(pool).await
    } else {
        c.refinery(refinery).await
    }
}

async fn pool_exec(pool: &SqlxPool, sql: &'static str) -> Res<()> {
    match pool {
        SqlxPool::Pg(p) => sqlx::query(sql).execute(p).await.map(|_| ())?,
        SqlxPool::My(p) => sqlx::query(sql).execute(p).await.map(|_| ())?,
        SqlxPool::Lite(p) => sqlx::query(sql).execute(p).await.map(|_| ())?,
    }
    Ok(())
}

fn print_adoption(n: usize, rows: &BTreeMap<Db, BTreeMap<Tool, Adoption>>) {
    println!("## Adopting another tool's history (N = {n} files applied by the tool; bootschema's first boot on that database vs the tool's own no-op run on it; warm pools; median of 8, ABBA)\n");
    println!("| database | tool | bootschema first boot (baselines N) | tool's no-op run | first boot / no-op | paired: median of the per-repetition ratios | first boot round trips | bootschema's next boot |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (kind, tools) in rows {
        for (tool, a) in tools {
            println!(
                "| {} | {} | {} | {} | {} | {:.2}× | {} | {} |",
                kind.name(),
                tool.tag(),
                ms(a.first_boot),
                ms(a.tool_noop),
                ratio(a.first_boot, a.tool_noop),
                a.paired,
                a.first_boot_trips.map(|t| t.to_string()).unwrap_or_else(|| "–".into()),
                ms(a.next_boot),
            );
        }
    }
    println!();
}
fn print_upgrade(upgrade: &BTreeMap<Tool, (Duration, Duration)>) {
    println!("## Upgrade with data (PostgreSQL: 100 snippets, each adding, backfilling and indexing a column of a 5,000-row table the app reads; median of 4)\n");
    println!("| tool | upgrade | longest app read meanwhile | upgrade / bootschema |");
    println!("| --- | ---: | ---: | ---: |");
    let boot = upgrade[&Tool::Boot].0;
    for (tool, (elapsed, longest)) in upgrade {
        println!("| {} | {} | {} | {} |", tool.tag(), ms(*elapsed), ms(*longest), ratio(*elapsed, boot));
    }
    println!();
}

/// The no-op boot of bootschema alone: one database per N, synced once, then 5 rounds
/// of 21 boots each, the N interleaved boot by boot; median of the 105. The no-op
/// table above puts sqlx's and refinery's reads of an N-row ledger between two of our
/// boots, and at N = 5,000 that disturbance (caches, the server's buffers) is most of
/// what it measures of us. Each round opens new pools: a pool's connections (SQLite:
/// its worker threads; PostgreSQL: its backends) land on the cores one way for as long
/// as they live, which moved a whole round's median by 2× on the 2-core VM.
async fn noop_alone(servers: &Servers, kind: Db, ns: &[usize], sets: &BTreeMap<usize, Files>) -> Res<Vec<(usize, Duration)>> {
    let mut times: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    for &n in ns {
        let name = format!("bench_alone_{n}");
        servers.create(kind, &name).await?;
        let pool = SqlxPool::connect(kind, &servers.url(kind, &name, None)).await?;
        bootschema::Syncer::new(&sets[&n].set).ignore_environment().run(pool.target()).await?;
        pool.close().await;
    }
    for _round in 0..5 {
        let mut cases = Vec::new();
        for &n in ns {
            let pool = SqlxPool::connect(kind, &servers.url(kind, &format!("bench_alone_{n}"), None)).await?;
            let syncer = bootschema::Syncer::new(&sets[&n].set).ignore_environment();
            syncer.run(pool.target()).await?;
            syncer.run(pool.target()).await?;
            cases.push((n, pool, syncer));
        }
        for _ in 0..21 {
            for (n, pool, syncer) in &cases {
                let started = Instant::now();
                let report = syncer.run(pool.target()).await?;
                times.entry(*n).or_default().push(started.elapsed());
                if report.unchanged != *n {
                    return Err(format!("{} N = {n}: a no-op boot left the fast path", kind.name()).into());
                }
            }
        }
        for (_, pool, _) in cases {
            pool.close().await;
        }
    }
    let mut out = Vec::new();
    for (n, times) in times {
        servers.drop(kind, &format!("bench_alone_{n}")).await?;
        out.push((n, median(times)));
    }
    Ok(out)
}

/// Round trips of each tool, counted through the proxy: (no-op boot, fresh apply).
async fn round_trips(servers: &Servers, kind: Db, n: usize, files: &Files) -> Res<BTreeMap<Tool, (Option<u64>, u64)>> {
    let upstream = Servers::host_port(if kind == Db::Pg { &servers.pg_base } else { &servers.my_base });
    let proxy = Proxy::start(upstream).await?;
    let c = Contenders::new(kind, files).await?;
    let script_file = tempfile::NamedTempFile::new()?;
    std::fs::write(script_file.path(), c.raw_script())?;
    let mut out = BTreeMap::new();
    for tool in [Tool::Boot, Tool::Sqlx, Tool::Refinery, Tool::Raw] {
        let name = format!("bench_rt_{}_{n}", tool.tag());
        servers.create(kind, &name).await?;
        let url = servers.url(kind, &name, Some(proxy.port));
        let counts = match tool {
            Tool::Boot | Tool::Sqlx => {
                let pool = SqlxPool::connect(kind, &url).await?;
                proxy.reset();
                c.on_pool(tool, &pool).await?;
                let fresh = proxy.read();
                c.on_pool(tool, &pool).await?; // warm
                proxy.reset();
                c.on_pool(tool, &pool).await?;
                let noop = proxy.read();
                pool.close().await;
                (Some(noop), fresh)
            }
            Tool::Refinery => {
                let mut conn = RefineryConn::connect(kind, &url, Path::new("")).await?;
                proxy.reset();
                c.refinery(&mut conn).await?;
                let fresh = proxy.read();
                c.refinery(&mut conn).await?;
                proxy.reset();
                c.refinery(&mut conn).await?;
                let noop = proxy.read();
                conn.close().await;
                (Some(noop), fresh)
            }
            Tool::Raw => {
                proxy.reset();
                c.raw(servers, &name, script_file.path(), Some(proxy.port)).await?;
                (None, proxy.read())
            }
        };
        out.insert(tool, counts);
        servers.drop(kind, &name).await?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------
// Binary size and peak memory: a small app embedding N snippets, built per N
// ---------------------------------------------------------------------------------

const APP_MAIN: &str = r#"static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = std::env::args().nth(1).expect("a database URL");
    let syncer = bootschema::Syncer::new(&SNIPPETS).ignore_environment();
    let report = if url.starts_with("postgres") {
        syncer.run(sqlx::PgPool::connect(&url).await.unwrap()).await
    } else {
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        syncer.run(sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap()).await
    };
    println!("{}", report.unwrap().summary());
}
"#;

struct SizeRow {
    n: usize,
    size: u64,
    rss_fresh_pg: Option<u64>,
    rss_noop_pg: Option<u64>,
    rss_fresh_lite: Option<u64>,
    rss_noop_lite: Option<u64>,
}

/// Max RSS in KiB of `bin url`, from /usr/bin/time -v.
fn max_rss(bin: &Path, url: &str) -> Res<u64> {
    let output = Command::new("/usr/bin/time").arg("-v").arg(bin).arg(url).output()?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the sync app failed: {log}").into());
    }
    log.lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no max RSS in /usr/bin/time's output".into())
}

async fn size_and_memory(servers: &Servers, ns: &[usize], dbs: &[Db]) -> Res<Vec<SizeRow>> {
    let app = PathBuf::from("/tmp/bench-sizeapp");
    let target = std::env::var("BENCH_APP_TARGET_DIR").unwrap_or_else(|_| "/tmp/tgt-bench-app".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace")?.to_path_buf();
    std::fs::create_dir_all(app.join("src"))?;
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"sizeapp\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [dependencies]\nbootschema = {{ path = {:?}, default-features = false, features = [\"postgres\", \"sqlite\"] }}\n\
             sqlx = {{ version = \"0.9\", default-features = false, features = [\"runtime-tokio\", \"postgres\", \"sqlite\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n\
             [build-dependencies]\nbootschema-build = {{ path = {:?} }}\n",
            workspace.join("schema-embed"),
            workspace.join("build-support")
        ),
    )?;
    std::fs::write(app.join("build.rs"), "fn main() { bootschema_build::embed(); }\n")?;
    std::fs::write(app.join("src/main.rs"), APP_MAIN)?;
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    if !app.join("Cargo.lock").exists() {
        if let Ok(lock) = std::fs::read(lock) {
            std::fs::write(app.join("Cargo.lock"), lock)?;
        }
    }
    let mut rows = Vec::new();
    // N = 1 is the baseline: what the runtime itself weighs.
    for &n in std::iter::once(&1).chain(ns.iter()) {
        let sql = app.join("sql");
        let _ = std::fs::remove_dir_all(&sql);
        std::fs::create_dir_all(&sql)?;
        for i in 1..=n {
            let (desc, text) = snippet(i);
            std::fs::write(sql.join(format!("{i:05}_{desc}.sql")), text)?;
        }
        eprintln!("  building the sync app with {n} snippets…");
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--offline", "--quiet"])
            .current_dir(&app)
            .env("CARGO_TARGET_DIR", &target)
            .output()?;
        if !output.status.success() {
            return Err(format!("building the sync app failed:\n{}", String::from_utf8_lossy(&output.stderr)).into());
        }
        let bin = PathBuf::from(&target).join("release/sizeapp");
        let size = std::fs::metadata(&bin)?.len();
        let mut row = SizeRow { n, size, rss_fresh_pg: None, rss_noop_pg: None, rss_fresh_lite: None, rss_noop_lite: None };
        if dbs.contains(&Db::Pg) {
            let name = "bench_rss";
            servers.create(Db::Pg, name).await?;
            let url = servers.url(Db::Pg, name, None);
            row.rss_fresh_pg = Some(max_rss(&bin, &url)?);
            row.rss_noop_pg = Some(max_rss(&bin, &url)?);
            servers.drop(Db::Pg, name).await?;
        }
        if dbs.contains(&Db::Lite) {
            let name = "bench_rss";
            servers.drop(Db::Lite, name).await?;
            let url = servers.url(Db::Lite, name, None);
            row.rss_fresh_lite = Some(max_rss(&bin, &url)?);
            row.rss_noop_lite = Some(max_rss(&bin, &url)?);
            servers.drop(Db::Lite, name).await?;
        }
        rows.push(row);
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------
// Profile: where a bootschema boot spends its time, statement by statement
// ---------------------------------------------------------------------------------

/// (statement, elapsed) of each `sqlx::query` event, while profiling.
static EVENTS: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        #[derive(Default)]
        struct V(String, f64);
        impl tracing::field::Visit for V {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "elapsed_secs" {
                    self.1 = value;
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
                    self.0 = value.to_string();
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut v = V::default();
        event.record(&mut v);
        let text: String = v.0.trim().trim_matches('"').split_whitespace().collect::<Vec<_>>().join(" ");
        EVENTS.lock().unwrap().push((text.chars().take(70).collect(), v.1));
    }
}

/// Runs one fresh apply and one no-op boot of bootschema and of sqlx at N, and prints
/// the statements each sent, grouped, with the time sqlx saw for them.
async fn profile(servers: &Servers, kind: Db, n: usize, files: &Files) -> Res<()> {
    use tracing_subscriber::layer::SubscriberExt;
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Capture));
    let c = Contenders::new(kind, files).await?;
    for tool in [Tool::Boot, Tool::Sqlx] {
        let name = format!("bench_prof_{}", tool.tag());
        servers.create(kind, &name).await?;
        servers.settle(kind).await?;
        let pool = SqlxPool::connect(kind, &servers.url(kind, &name, None)).await?;
        for phase in ["fresh apply", "no-op boot", "no-op boot (2)"] {
            EVENTS.lock().unwrap().clear();
            let started = Instant::now();
            c.on_pool(tool, &pool).await?;
            let wall = started.elapsed();
            let events = std::mem::take(&mut *EVENTS.lock().unwrap());
            let in_db: f64 = events.iter().map(|e| e.1).sum();
            println!("### {} {} N = {n}, {phase}: {} wall, {} statements, {:.2} ms inside statements\n", kind.name(), tool.tag(), ms(wall), events.len(), in_db * 1000.0);
            let mut groups: BTreeMap<String, (usize, f64)> = BTreeMap::new();
            for (text, secs) in events {
                let key: String = text.chars().take(45).collect();
                let g = groups.entry(key).or_default();
                g.0 += 1;
                g.1 += secs;
            }
            let mut groups: Vec<_> = groups.into_iter().collect();
            groups.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
            println!("| statement | count | total |\n| --- | ---: | ---: |");
            for (text, (count, secs)) in groups.iter().take(12) {
                println!("| `{}` | {count} | {:.2} ms |", text.replace('|', "\\|"), secs * 1000.0);
            }
            println!();
        }
        pool.close().await;
        servers.drop(kind, &name).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Snapshot of a large schema: `Syncer::snapshot` on N tables (issue 19, item 1)
// ---------------------------------------------------------------------------------

/// `--boot-on-pool`: bootschema syncs on the connection it borrows from the pool
/// (`Syncer::pool_connection(true)`) instead of one of its own, to measure what its own
/// connection costs.
static BOOT_ON_POOL: AtomicBool = AtomicBool::new(false);

/// Whether [`CountQueries`] counts: off while the snapshot is timed, so that sqlx does
/// not format its statements for a log nobody reads (it asks the subscriber first).
static COUNTING: AtomicBool = AtomicBool::new(false);
/// The statements sqlx sent while [`COUNTING`] was on: their first words.
static COUNTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// A layer that records each `sqlx::query` event while [`COUNTING`] is on, and tells sqlx
/// that nobody listens otherwise.
struct CountQueries;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountQueries {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: tracing_subscriber::layer::Context<'_, S>) -> bool {
        COUNTING.load(Ordering::SeqCst) && metadata.target() == "sqlx::query"
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        // sqlx logs a short statement whole in `summary` and an empty `db.statement`, a
        // long one's first words in `summary` and the whole in `db.statement`.
        #[derive(Default)]
        struct V(String, String);
        impl tracing::field::Visit for V {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                match field.name() {
                    "summary" => self.0 = value.to_string(),
                    "db.statement" => self.1 = value.to_string(),
                    _ => {}
                }
            }
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                self.record_str(field, &format!("{value:?}"));
            }
        }
        let mut v = V::default();
        event.record(&mut v);
        let whole = if v.1.trim().trim_matches('"').is_empty() { v.0 } else { v.1 };
        let text: String = whole.trim().trim_matches('"').split_whitespace().collect::<Vec<_>>().join(" ");
        COUNTED.lock().unwrap().push(text.chars().take(60).collect());
    }
}

/// The schema of the snapshot measurement, `n` tables `t0…` in batches of 100 tables:
/// five columns (integer, varchar, timestamp; a default, a NOT NULL), a primary key, a
/// named check, a foreign key to the table before (every table but the first), a unique
/// index and a plain one. MariaDB takes the indexes inline and indexes the foreign key
/// itself.
fn snapshot_schema(kind: Db, n: usize) -> Vec<String> {
    let mut batches = Vec::new();
    let mut batch = String::new();
    for k in 0..n {
        let fk = match k {
            0 => String::new(),
            _ => format!(",\n    CONSTRAINT t{k}_parent_fk FOREIGN KEY (parent_id) REFERENCES t{} (id) ON DELETE CASCADE", k - 1),
        };
        let inline = if kind == Db::My { format!(",\n    UNIQUE KEY t{k}_name_idx (name),\n    KEY t{k}_created_idx (created_at)") } else { String::new() };
        batch.push_str(&format!(
            "CREATE TABLE t{k} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    parent_id INTEGER,\n    name VARCHAR(100) NOT NULL,\n    amount INTEGER NOT NULL DEFAULT 0,\n    created_at TIMESTAMP NULL,\n    CONSTRAINT t{k}_amount_check CHECK (amount >= 0){fk}{inline}\n);\n"
        ));
        if kind != Db::My {
            batch.push_str(&format!("CREATE UNIQUE INDEX t{k}_name_idx ON t{k} (name);\nCREATE INDEX t{k}_created_idx ON t{k} (created_at);\n"));
        }
        if (k + 1) % 100 == 0 || k + 1 == n {
            batches.push(std::mem::take(&mut batch));
        }
    }
    batches
}

/// Runs a batch of statements (`raw_sql`: several statements in one message); SQLite's
/// in one transaction.
async fn pool_exec_batch(pool: &SqlxPool, sql: String) -> Res<()> {
    match pool {
        SqlxPool::Pg(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ())?,
        SqlxPool::My(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ())?,
        SqlxPool::Lite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(format!("BEGIN;\n{sql}COMMIT;\n"))).execute(p).await.map(|_| ())?,
    }
    Ok(())
}

/// A pool of one connection: every snapshot of a measurement runs on the same, warm
/// connection (with two, a snapshot may open the second, and count its set-up).
async fn one_connection(kind: Db, url: &str) -> Res<SqlxPool> {
    Ok(match kind {
        Db::Pg => SqlxPool::Pg(PgPoolOptions::new().max_connections(1).connect(url).await?),
        Db::My => SqlxPool::My(MySqlPoolOptions::new().max_connections(1).connect(url).await?),
        Db::Lite => {
            let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            SqlxPool::Lite(SqlitePoolOptions::new().max_connections(1).connect_with(options).await?)
        }
    })
}

/// One row of the snapshot table.
struct SnapshotRow {
    kind: Db,
    n: usize,
    build: Duration,
    runs: Vec<Duration>,
    statements: Vec<String>,
    round_trips: Option<u64>,
    json_bytes: usize,
    objects: (usize, usize, usize, usize),
}

/// Builds the `n`-table schema on `kind`, then takes its snapshot: one untimed (checked:
/// `n` tables, each with its keys and indexes), one counted (the statements sqlx sends,
/// through [`CountQueries`]), `runs` timed on the warm pool (connection acquisition
/// included, as in the no-op boot), and on PostgreSQL and MariaDB one more through the
/// counting proxy on a pool of its own, warmed by one snapshot.
async fn snapshot_large(servers: &Servers, kind: Db, n: usize, runs: usize, set: &SnippetSet) -> Res<SnapshotRow> {
    let name = format!("bench_snap_{n}");
    servers.create(kind, &name).await?;
    let pool = one_connection(kind, &servers.url(kind, &name, None)).await?;
    let started = Instant::now();
    for batch in snapshot_schema(kind, n) {
        pool_exec_batch(&pool, batch).await?;
    }
    let build = started.elapsed();
    let tables = servers.tables(kind, &name).await?;
    if tables != n as i64 {
        return Err(format!("{}: {tables} tables built, not {n}", kind.name()).into());
    }
    servers.settle(kind).await?;
    let syncer = bootschema::Syncer::new(set).ignore_environment();
    let first = syncer.snapshot(pool.target()).await?;
    let keys = |t: &bootschema::snapshot::Table| t.primary_key.is_some() && t.checks.len() == 1 && t.indexes.len() >= 2;
    if first.tables.len() != n || !first.tables.iter().all(keys) {
        return Err(format!("{}: the snapshot has {} tables, or one without its keys", kind.name(), first.tables.len()).into());
    }
    let columns = first.tables.iter().map(|t| t.columns.len()).sum();
    let indexes = first.tables.iter().map(|t| t.indexes.len()).sum();
    let foreign = first.tables.iter().map(|t| t.foreign_keys.len()).sum();
    let json_bytes = first.to_json().len();

    COUNTED.lock().unwrap().clear();
    COUNTING.store(true, Ordering::SeqCst);
    let counted = syncer.snapshot(pool.target()).await;
    COUNTING.store(false, Ordering::SeqCst);
    let statements = std::mem::take(&mut *COUNTED.lock().unwrap());
    if counted? != first {
        return Err(format!("{}: two snapshots of the same schema differ", kind.name()).into());
    }

    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        syncer.snapshot(pool.target()).await?;
        times.push(started.elapsed());
    }
    pool.close().await;

    let round_trips = if kind == Db::Lite {
        None
    } else {
        let proxy = Proxy::start(Servers::host_port(if kind == Db::Pg { &servers.pg_base } else { &servers.my_base })).await?;
        let counted = one_connection(kind, &servers.url(kind, &name, Some(proxy.port))).await?;
        syncer.snapshot(counted.target()).await?;
        proxy.reset();
        syncer.snapshot(counted.target()).await?;
        let trips = proxy.read();
        counted.close().await;
        Some(trips)
    };
    servers.drop(kind, &name).await?;
    Ok(SnapshotRow { kind, n, build, runs: times, statements, round_trips, json_bytes, objects: (n, columns, indexes, foreign) })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}

/// `--snapshot-only`: the snapshot of an N-table schema on each database, for each N.
async fn snapshot_only(servers: &Servers, dbs: &[Db], ns: &[usize]) -> Res<()> {
    use tracing_subscriber::layer::SubscriberExt;
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(CountQueries));
    let files = generate(1)?;
    let load_before = load_average();
    let mut rows = Vec::new();
    for &kind in dbs {
        for &n in ns {
            let runs = if n >= 5000 { 5 } else { 11 };
            eprintln!("{}: snapshot of {n} tables…", kind.name());
            rows.push(snapshot_large(servers, kind, n, runs, &files.set).await?);
        }
    }
    println!("## Snapshot of a large schema (`Syncer::snapshot` on N tables; warm pool, connection acquisition included)\n");
    println!("Load average (1, 5, 15 min) before: {load_before}; after: {}.\n", load_average());
    println!("| database | N tables | columns / indexes / foreign keys | snapshot (median) | runs | min – max | statements sent | of which catalog queries | round trips | JSON document | schema built in |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let catalog = r.statements.iter().filter(|s| {
            let upper = s.to_ascii_uppercase();
            upper.starts_with("SELECT") || upper.starts_with("WITH")
        });
        let min = r.runs.iter().min().copied().unwrap_or_default();
        let max = r.runs.iter().max().copied().unwrap_or_default();
        println!(
            "| {} | {} | {} / {} / {} | {} | {} | {} – {} | {} | {} | {} | {:.0} KiB | {:.1} s |",
            r.kind.name(),
            r.n,
            r.objects.1,
            r.objects.2,
            r.objects.3,
            ms(median(r.runs.clone())),
            r.runs.len(),
            ms(min),
            ms(max),
            r.statements.len(),
            catalog.count(),
            r.round_trips.map(|t| t.to_string()).unwrap_or_else(|| "–".into()),
            r.json_bytes as f64 / 1024.0,
            r.build.as_secs_f64(),
        );
    }
    println!();
    for &kind in dbs {
        if let Some(r) = rows.iter().find(|r| r.kind == kind) {
            println!("{} statements: {}\n", kind.name(), r.statements.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------

fn version(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())))
        .unwrap_or_else(|| "?".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ns = vec![10, 100, 1000, 5000];
    let mut dbs = vec![Db::Pg, Db::My, Db::Lite];
    let mut size = true;
    let mut profile_mode = false;
    let mut skip_upgrade = false;
    let mut upgrade_only = false;
    let mut adopt_only = false;
    let mut skip_adopt = false;
    let mut deep_only = false;
    let mut snapshot_mode = false;
    let mut snapshot_ns = vec![500, 5000];
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--quick" => ns = vec![10, 100],
            "--no-size" => size = false,
            "--no-upgrade" => skip_upgrade = true,
            "--upgrade-only" => upgrade_only = true,
            "--adopt-only" => {
                adopt_only = true;
                ns = vec![ADOPT_N];
            }
            "--no-adopt" => skip_adopt = true,
            "--deep-only" => {
                deep_only = true;
                ns = vec![100, 1000];
            }
            "--profile" => profile_mode = true,
            "--boot-on-pool" => BOOT_ON_POOL.store(true, Ordering::Relaxed),
            "--snapshot-only" => snapshot_mode = true,
            "--snapshot-tables" => {
                i += 1;
                snapshot_ns = args[i].split(',').map(|v| v.parse()).collect::<Result<_, _>>()?;
            }
            "--n" => {
                i += 1;
                ns = args[i].split(',').map(|v| v.parse()).collect::<Result<_, _>>()?;
            }
            "--db" => {
                i += 1;
                dbs = args[i]
                    .split(',')
                    .map(|v| match v {
                        "pg" => Ok(Db::Pg),
                        "my" => Ok(Db::My),
                        "lite" => Ok(Db::Lite),
                        other => Err(format!("unknown database {other}: pg, my, lite")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown option {other}").into()),
        }
        i += 1;
    }
    let started = Instant::now();
    let pg_base = std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let my_base = std::env::var("BENCH_MY_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let mut servers = Servers { pg_base, my_base, pg_admin: None, my_admin: None, sqlite_dir: tempfile::tempdir()? };
    let mut versions = Vec::new();
    if dbs.contains(&Db::Pg) {
        let pool = PgPoolOptions::new().max_connections(1).connect(&servers.url(Db::Pg, "postgres", None)).await?;
        let v: String = sqlx::query_scalar("SHOW server_version").fetch_one(&pool).await?;
        let sc: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&pool).await?;
        versions.push(format!("PostgreSQL {v} (synchronous_commit = {sc})"));
        servers.pg_admin = Some(pool);
    }
    if dbs.contains(&Db::My) {
        let pool = MySqlPoolOptions::new().max_connections(1).connect(&servers.url(Db::My, "", None)).await?;
        let v: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&pool).await?;
        let f: i64 = sqlx::query_scalar("SELECT CAST(@@innodb_flush_log_at_trx_commit AS SIGNED)").fetch_one(&pool).await?;
        versions.push(format!("MariaDB {v} (innodb_flush_log_at_trx_commit = {f})"));
        servers.my_admin = Some(pool);
    }
    if dbs.contains(&Db::Lite) {
        let v: String = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&sqlite_pool("sqlite::memory:").await?).await?;
        versions.push(format!("SQLite {v} in sqlx and rusqlite (journal_mode DELETE, synchronous FULL); CLI {}", version("sqlite3", &["--version"]).split(' ').next().unwrap_or("?")));
    }
    println!("# bootschema benchmark\n");
    println!("- machine: {} cores, {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), cpu_model());
    for v in &versions {
        println!("- {v}");
    }
    println!("- clients: {}; {}", version("psql", &["--version"]), version("mariadb", &["--version"]));
    if BOOT_ON_POOL.load(Ordering::Relaxed) {
        println!("- bootschema syncs on the pool's connection (`Syncer::pool_connection(true)`), not on one of its own");
    }
    println!("- tools: bootschema (this tree), sqlx 0.9 `Migrator::new(dir)`, refinery 0.9 (tokio-postgres / mysql_async / rusqlite), raw client");
    println!("- N: {ns:?}; repetitions (fresh, no-op): {:?}", ns.iter().map(|&n| repetitions(n)).collect::<Vec<_>>());
    println!();

    if snapshot_mode {
        snapshot_only(&servers, &dbs, &snapshot_ns).await?;
        println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
        return Ok(());
    }
    if adopt_only {
        let files = generate(ADOPT_N)?;
        let mut rows = BTreeMap::new();
        for &kind in &dbs {
            eprintln!("{}: adopting a history of {ADOPT_N}…", kind.name());
            rows.insert(kind, adoption(&servers, kind, ADOPT_N, &files).await?);
        }
        print_adoption(ADOPT_N, &rows);
        println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
        return Ok(());
    }
    if deep_only {
        let mut rows = Vec::new();
        for &kind in &dbs {
            rows.extend(deep_bench::deep_cost(&servers, kind, &ns, 3).await?);
        }
        deep_bench::print_deep(&rows, 3);
        println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
        return Ok(());
    }
    if upgrade_only {
        print_upgrade(&upgrade_with_data(&servers).await?);
        println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
        return Ok(());
    }
    let mut sets = BTreeMap::new();
    let mut build_rows = Vec::new();
    for &n in &ns {
        eprintln!("generating and scanning N = {n}…");
        let files = generate(n)?;
        let mut scans = Vec::new();
        let mut codegens = Vec::new();
        let mut code = 0;
        for _ in 0..if n >= 5000 { 1 } else { 3 } {
            let (_, scan, codegen, len) = build_scan(&files.sql, files.sql.parent().unwrap())?;
            scans.push(scan);
            codegens.push(codegen);
            code = len;
        }
        build_rows.push((n, median(scans), median(codegens), code));
        sets.insert(n, files);
    }

    if profile_mode {
        for &kind in &dbs {
            for &n in &ns {
                profile(&servers, kind, n, &sets[&n]).await?;
            }
        }
        return Ok(());
    }

    let mut results: BTreeMap<(Db, usize), Row> = BTreeMap::new();
    let mut trips: BTreeMap<(Db, usize), BTreeMap<Tool, (Option<u64>, u64)>> = BTreeMap::new();
    let mut alone: BTreeMap<Db, Vec<(usize, Duration)>> = BTreeMap::new();
    let mut histories = Vec::new();
    let mut upgrade = None;
    let mut adoptions = BTreeMap::new();
    if dbs.contains(&Db::Pg) && !skip_upgrade {
        eprintln!("PostgreSQL: the upgrade with data…");
        upgrade = Some(upgrade_with_data(&servers).await?);
    }
    for &kind in &dbs {
        eprintln!("{}: the random history…", kind.name());
        histories.push((kind, random_history(&servers, kind).await?));
        for &n in &ns {
            eprintln!("{} N = {n}: measuring…  ({:.0} s so far)", kind.name(), started.elapsed().as_secs_f64());
            let row = measure(&servers, kind, n, &sets[&n]).await?;
            results.insert((kind, n), row);
            if kind != Db::Lite && n <= 1000 {
                trips.insert((kind, n), round_trips(&servers, kind, n, &sets[&n]).await?);
            }
        }
        if !skip_adopt {
            eprintln!("{}: adopting a history of {ADOPT_N}…", kind.name());
            let generated;
            let files = match sets.get(&ADOPT_N) {
                Some(files) => files,
                None => {
                    generated = generate(ADOPT_N)?;
                    &generated
                }
            };
            adoptions.insert(kind, adoption(&servers, kind, ADOPT_N, files).await?);
        }
        if ns.len() > 1 {
            eprintln!("{}: the no-op boot alone…", kind.name());
            alone.insert(kind, noop_alone(&servers, kind, &ns, &sets).await?);
        }
    }

    println!("## No-op boot (everything applied; warm pool, connection acquisition included; median)\n");
    println!("| database | N | bootschema | sqlx | refinery | bootschema / sqlx | bootschema / refinery | bootschema N / N = {} |", ns[0]);
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &kind in &dbs {
        let first = results[&(kind, ns[0])].noop[&Tool::Boot];
        for &n in &ns {
            let r = &results[&(kind, n)].noop;
            println!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} |",
                kind.name(),
                ms(r[&Tool::Boot]),
                ms(r[&Tool::Sqlx]),
                ms(r[&Tool::Refinery]),
                ratio(r[&Tool::Boot], r[&Tool::Sqlx]),
                ratio(r[&Tool::Boot], r[&Tool::Refinery]),
                ratio(r[&Tool::Boot], first),
            );
        }
    }
    println!();
    if !alone.is_empty() {
        println!("## No-op boot of bootschema alone (one database per N, 5 rounds of new pools, the N interleaved boot by boot; median of 105)\n");
        println!("| database | N | no-op boot | N / N = {} |", ns[0]);
        println!("| --- | ---: | ---: | ---: |");
        for (kind, rows) in &alone {
            for (n, d) in rows {
                println!("| {} | {n} | {} | {} |", kind.name(), ms(*d), ratio(*d, rows[0].1));
            }
        }
        println!();
    }
    println!("## Fresh apply (empty database to all N applied; median)\n");
    println!("| database | N | bootschema | sqlx | refinery | raw client | bootschema / fastest other | fastest other | paired: median of the per-repetition ratios |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for &kind in &dbs {
        for &n in &ns {
            let row = &results[&(kind, n)];
            let r = &row.fresh;
            let (fastest, t) = [Tool::Sqlx, Tool::Refinery, Tool::Raw]
                .into_iter()
                .map(|t| (t, r[&t]))
                .min_by_key(|(_, d)| *d)
                .unwrap();
            println!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} | {:.2}× |",
                kind.name(),
                ms(r[&Tool::Boot]),
                ms(r[&Tool::Sqlx]),
                ms(r[&Tool::Refinery]),
                ms(r[&Tool::Raw]),
                ratio(r[&Tool::Boot], t),
                fastest.tag(),
                paired_ratio(row, fastest),
            );
        }
    }
    println!();
    if !trips.is_empty() {
        println!("## Round trips (counted by a TCP proxy: a client send after the server spoke is one)\n");
        println!("| database | N | no-op boot: bootschema | sqlx | refinery | fresh apply per snippet: bootschema | sqlx | refinery | raw client |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for ((kind, n), t) in &trips {
            let per = |tool: Tool| format!("{:.2}", t[&tool].1 as f64 / *n as f64);
            let noop = |tool: Tool| t[&tool].0.map(|v| v.to_string()).unwrap_or_default();
            println!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} | {} |",
                kind.name(),
                noop(Tool::Boot),
                noop(Tool::Sqlx),
                noop(Tool::Refinery),
                per(Tool::Boot),
                per(Tool::Sqlx),
                per(Tool::Refinery),
                per(Tool::Raw),
            );
        }
        println!();
    }
    println!("## Random history (the differential generator's longest of seeds 1-200; empty database; median of 8, the two alternating)\n");
    println!("| database | files | statements | bootschema | raw client | bootschema / raw client |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (kind, (files, statements, boot, raw)) in &histories {
        println!("| {} | {files} | {statements} | {} | {} | {} |", kind.name(), ms(*boot), ms(*raw), ratio(*boot, *raw));
    }
    println!();
    if let Some(upgrade) = &upgrade {
        print_upgrade(upgrade);
    }
    if !adoptions.is_empty() {
        print_adoption(ADOPT_N, &adoptions);
    }
    println!("## Build cost (the build script's work in-process: `Builder::scan` + `generated_blob`; median)\n");
    println!("| N | scan | blob encoding | generated blob + code |");
    println!("| ---: | ---: | ---: | ---: |");
    for (n, scan, codegen, code) in &build_rows {
        println!("| {n} | {} | {} | {} KiB |", ms(*scan), ms(*codegen), code / 1024);
    }
    println!();
    if size {
        eprintln!("binary size and peak memory…");
        let rows = size_and_memory(&servers, &ns, &dbs).await?;
        let base = rows[0].size;
        let kib = |v: Option<u64>| v.map(|v| format!("{:.1} MiB", v as f64 / 1024.0)).unwrap_or_else(|| "–".into());
        println!("## Binary size and peak memory (a release app that embeds N snippets and syncs; max RSS from /usr/bin/time -v)\n");
        println!("| N | binary | added vs N = 1 | max RSS fresh sync, PostgreSQL | no-op, PostgreSQL | fresh sync, SQLite | no-op, SQLite |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &rows {
            println!(
                "| {} | {:.2} MiB | {:+.0} KiB | {} | {} | {} | {} |",
                r.n,
                r.size as f64 / 1048576.0,
                (r.size as f64 - base as f64) / 1024.0,
                kib(r.rss_fresh_pg),
                kib(r.rss_noop_pg),
                kib(r.rss_fresh_lite),
                kib(r.rss_noop_lite),
            );
        }
        println!();
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
