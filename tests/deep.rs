//! Deep verify (`Syncer::verify_deep`, `myapp schema verify --deep`) on real servers:
//! it finds what guards cannot see (a type changed by hand, a default dropped, an index
//! re-created without its predicate, a table the snippets never made), each named with
//! the snippet that defines the object; it finds nothing on a database the snippets
//! built; and its scratch database is gone after a success and after a failing snippet,
//! while one left by a killed run (its lock free) is dropped by the next run and one in
//! use (its lock held) is not.

mod common;

use bootschema::{DeepReport, ErrorKind};
use common::{syncer, Kind, SnippetDir, TestDb};

/// Three snippets: a table with a typed, defaulted column, a second table with a
/// foreign key, and an index (partial where the database has partial indexes).
fn snippets(kind: Kind) -> SnippetDir {
    let (name_type, index) = match kind {
        Kind::Postgres => {
            ("VARCHAR(100)", "CREATE INDEX accounts_active_idx ON accounts (name) WHERE status = 'active';")
        }
        Kind::Sqlite => {
            ("VARCHAR(100)", "CREATE INDEX accounts_active_idx ON accounts (name) WHERE status = 'active';")
        }
        // MySQL has no partial index: the index's columns are what a hand change alters.
        Kind::MySql => ("VARCHAR(100)", "CREATE INDEX accounts_active_idx ON accounts (name, status);"),
    };
    SnippetDir::new(&[
        (
            "0001_accounts.sql",
            &format!(
                "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name {name_type} NOT NULL, \
                 status VARCHAR(20) NOT NULL DEFAULT 'new');\n"
            ),
        ),
        (
            "0002_entries.sql",
            "CREATE TABLE entries (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, \
             CONSTRAINT entries_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE);\n",
        ),
        ("0003_index.sql", &format!("{index}\n")),
    ])
}

/// The hand changes a guard cannot see, each in the database's own words.
fn hand_changes(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => {
            "ALTER TABLE accounts ALTER COLUMN name TYPE TEXT; ALTER TABLE accounts ALTER COLUMN status DROP DEFAULT; \
             DROP INDEX accounts_active_idx; CREATE INDEX accounts_active_idx ON accounts (name); \
             CREATE TABLE audit_log (id INT PRIMARY KEY)"
        }
        Kind::MySql => {
            "DROP INDEX accounts_active_idx ON accounts; \
             ALTER TABLE accounts MODIFY name TEXT NOT NULL, ALTER COLUMN status DROP DEFAULT; \
             CREATE INDEX accounts_active_idx ON accounts (name(50)); \
             CREATE TABLE audit_log (id INT PRIMARY KEY)"
        }
        // SQLite alters a column's type or default only by rebuilding the table.
        Kind::Sqlite => {
            "PRAGMA foreign_keys = OFF; \
             CREATE TABLE accounts_new (id BIGINT PRIMARY KEY, name TEXT NOT NULL, status VARCHAR(20) NOT NULL); \
             INSERT INTO accounts_new SELECT id, name, status FROM accounts; DROP TABLE accounts; \
             ALTER TABLE accounts_new RENAME TO accounts; CREATE INDEX accounts_active_idx ON accounts (name); \
             CREATE TABLE audit_log (id INT PRIMARY KEY)"
        }
    }
}

/// Whether the scratch database named in `text` (`bootschema_scratch_…`) still exists.
async fn scratch_exists(db: &TestDb, text: &str) -> Option<bool> {
    let start = text.find(bootschema::deep::SCRATCH_PREFIX)?;
    let name: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let sql = match db.kind {
        Kind::Postgres => format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        Kind::MySql => format!("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{name}'"),
        Kind::Sqlite => return None,
    };
    Some(db.pool.count(&sql).await > 0)
}

fn objects(report: &DeepReport) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<_> = report
        .differences
        .iter()
        .map(|d| (d.difference.object.clone(), d.difference.what.clone(), d.snippet.clone()))
        .collect();
    out.sort();
    out
}

async fn finds_what_guards_cannot_see(db: TestDb) {
    let dir = snippets(db.kind);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let clean = syncer(&set).verify_deep(db.target(), None).await.unwrap();
    assert!(clean.differences.is_empty() && clean.not_from_snippets.is_empty(), "{clean:#?}");
    assert_eq!(clean.replayed, 3);
    assert_eq!(scratch_exists(&db, &clean.scratch).await, if db.kind == Kind::Sqlite { None } else { Some(false) });

    db.pool.exec(hand_changes(db.kind)).await.unwrap();
    // The guards still hold: plan and verify see nothing.
    let plan = syncer(&set).plan(db.target()).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.action == bootschema::Action::Skip), "{plan:#?}");

    let report = syncer(&set).verify_deep(db.target(), None).await.unwrap();
    let found = objects(&report);
    let expect = |object: &str, what: &str, file: &str| {
        assert!(
            found.iter().any(|(o, w, s)| o == object && w == what && s.as_deref() == Some(&format!("sql/{file}")[..])),
            "{object} {what} from {file} not in {found:#?}"
        );
    };
    expect("accounts.name", "type", "0001_accounts.sql");
    expect("accounts.status", "default", "0001_accounts.sql");
    // The re-created index covers other columns or lost its predicate: the snippets'
    // index is missing from the target, and the target's is not from the snippets.
    assert!(
        found.iter().any(|(o, _, s)| o.starts_with("accounts index") && s.as_deref() == Some("sql/0003_index.sql")),
        "{found:#?}"
    );
    let extra: Vec<&str> = report.not_from_snippets.iter().map(|d| d.difference.object.as_str()).collect();
    assert!(extra.contains(&"audit_log"), "{extra:?}");
    assert!(report.differs(false) && report.differs(true));
    assert_eq!(scratch_exists(&db, &report.scratch).await, if db.kind == Kind::Sqlite { None } else { Some(false) });
}

/// A snippet that fails on the replay: an error naming it and the scratch database,
/// which is gone; the target is untouched.
async fn a_failing_snippet_leaves_no_scratch_database(db: TestDb) {
    let dir = snippets(db.kind);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    dir.write("0004_broken.sql", "INSERT INTO no_such_table (id) VALUES (1);\n");
    let broken = dir.snippets();
    let err = syncer(&broken).verify_deep(db.target(), None).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind(), ErrorKind::Replay { .. }), "{err:?}");
    assert!(text.contains("0004_broken.sql") && text.contains("no_such_table"), "{text}");
    assert_eq!(scratch_exists(&db, &text).await, if db.kind == Kind::Sqlite { None } else { Some(false) });
    assert_eq!(db.ledger().await.len(), 3, "the target was not touched");
}

on_every_database!(finds_what_guards_cannot_see, a_failing_snippet_leaves_no_scratch_database);

/// A scratch database whose creator is gone (its run was killed) is dropped by the next
/// run, and one whose creator lives (a run in progress) is not: PostgreSQL by the
/// creator's backend pid in the name, MySQL by the lock named after the database.
async fn left_overs_of_killed_runs_are_dropped(db: TestDb) {
    let prefix = bootschema::deep::SCRATCH_PREFIX;
    let exists = |name: &str| match db.kind {
        Kind::Postgres => format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        _ => format!("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{name}'"),
    };
    // A connection of its own stands for a live run's, as its creator.
    let holder = db.new_pool().await;
    let n = rand_suffix();
    match db.kind {
        Kind::Postgres => {
            let common::Pool::Postgres(pool) = &holder else { unreachable!() };
            let mut conn = pool.acquire().await.unwrap();
            let (backend, millis): (i32, i64) =
                sqlx::query_as("SELECT pg_backend_pid(), (extract(epoch FROM clock_timestamp()) * 1000)::int8")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
            // Alive: its creator's backend is there. Dead: a pid no backend has (1), or
            // a live backend's pid in a name older than that backend (pid reuse).
            let alive = format!("{prefix}{millis}_1_{n}_{backend}");
            let dead = format!("{prefix}{millis}_1_{n}_1");
            let reused = format!("{prefix}1000_1_{n}_{backend}");
            for name in [&alive, &dead, &reused] {
                db.pool.exec(&format!("CREATE DATABASE \"{name}\"")).await.unwrap();
            }
            run_and_check(&db, &[&dead, &reused], &alive, &exists).await;
            drop(conn);
            db.pool.exec(&format!("DROP DATABASE \"{alive}\"")).await.unwrap();
        }
        Kind::MySql => {
            let common::Pool::MySql(pool) = &holder else { unreachable!() };
            let mut conn = pool.acquire().await.unwrap();
            let alive = format!("{prefix}1_1_{n}_1");
            let dead = format!("{prefix}1_1_{n}_2");
            let got: Option<i64> =
                sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&alive).fetch_one(&mut *conn).await.unwrap();
            assert_eq!(got, Some(1));
            db.pool.exec(&format!("CREATE DATABASE `{dead}`; CREATE DATABASE `{alive}`")).await.unwrap();
            run_and_check(&db, &[&dead], &alive, &exists).await;
            sqlx::query("SELECT RELEASE_ALL_LOCKS()").execute(&mut *conn).await.unwrap();
            drop(conn);
            db.pool.exec(&format!("DROP DATABASE `{alive}`")).await.unwrap();
        }
        Kind::Sqlite => unreachable!(),
    }
    holder.close().await;
}

async fn run_and_check(db: &TestDb, dead: &[&str], alive: &str, exists: &dyn Fn(&str) -> String) {
    let dir = snippets(db.kind);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let report = syncer(&set).verify_deep(db.target(), None).await.unwrap();
    for name in dead {
        assert_eq!(db.pool.count(&exists(name)).await, 0, "{name} of a dead run is dropped: {report:#?}");
    }
    assert_eq!(db.pool.count(&exists(alive)).await, 1, "a database in use is left alone");
    assert!(!report.cleaned_up.iter().any(|n| n == alive), "{:?}", report.cleaned_up);
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) % 1000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn left_overs_of_killed_runs_are_dropped_on_postgres() {
    if let Some(db) = TestDb::new(Kind::Postgres).await {
        left_overs_of_killed_runs_are_dropped(db).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn left_overs_of_killed_runs_are_dropped_on_mysql() {
    if let Some(db) = TestDb::new(Kind::MySql).await {
        left_overs_of_killed_runs_are_dropped(db).await
    }
}

/// `myapp schema verify --deep`: exit 0 on the reference app as synced, 2 once an
/// index is gone, objects not from the snippets count only with `--strict`; the JSON
/// carries the differences with their snippets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_command_exits_by_what_it_finds() {
    let Some(db) = TestDb::new(Kind::Sqlite).await else { return };
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_myapp"))
            .arg("schema")
            .args(args)
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(run(&["apply"]).0, 0);
    let (code, out) = run(&["verify", "--deep"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 difference(s)"), "{out}");

    db.pool.exec("CREATE TABLE scratchpad (id INTEGER)").await.unwrap();
    assert_eq!(run(&["verify", "--deep"]).0, 0, "not from the snippets counts only with --strict");
    let (code, out) = run(&["verify", "--deep", "--strict"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not from the snippets: scratchpad"), "{out}");

    db.pool.exec("DROP INDEX users_email_idx").await.unwrap();
    let (code, out) = run(&["verify", "--deep", "--json"]);
    assert_eq!(code, 2, "{out}");
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    let differences = document["deep"]["differences"].as_array().unwrap();
    assert!(differences.iter().any(|d| d["snippet"] == "sql/0004_index_user_email.sql"), "{differences:#?}");
    assert_eq!(document["deep"]["differs"], true);
}

/// The real thing: a deep verify killed (SIGKILL) while it replays leaves its scratch
/// database behind, and the next run drops it, by name. The killed run is this test
/// binary run again as a child (`DEEP_VERIFY_CHILD`), whose replay sleeps in a snippet;
/// the scratch database's name (`<ms>_<pid>_<n>`) carries the child's pid, which is how the parent finds
/// it.
fn sleeping_snippet(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "SELECT pg_sleep(60);\n",
        _ => "SELECT SLEEP(60);\n",
    }
}

/// The child: a deep verify of the parent's database (`url`) whose replay never ends.
/// It creates no test database of its own: killed, it could not drop one.
async fn killed_child(kind: Kind, url: &str) -> ! {
    let dir = snippets(kind);
    dir.write("0004_sleep.sql", sleeping_snippet(kind));
    let set = dir.snippets();
    let target = syncer(&set).connect(url).await.unwrap();
    let _ = syncer(&set).verify_deep(target, None).await;
    unreachable!("killed before the replay ends");
}

async fn a_killed_run_is_cleaned_up_by_the_next(db: TestDb, test: &str) {
    let dir = snippets(db.kind);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env("DEEP_VERIFY_CHILD", &db.url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pattern = format!("{}%\\_{}\\_%", bootschema::deep::SCRATCH_PREFIX.replace('_', "\\_"), child.id());
    let find = match db.kind {
        Kind::Postgres => format!("SELECT datname::text FROM pg_database WHERE datname LIKE '{pattern}'"),
        _ => format!(
            "SELECT CONVERT(schema_name USING utf8mb4) FROM information_schema.schemata WHERE schema_name LIKE '{}'",
            pattern.replace('\\', "\\\\")
        ),
    };
    let mut name = None;
    for _ in 0..600 {
        if let Some(found) = db.pool.strings(&find).await.pop() {
            name = Some(found);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let name = name.expect("the child created its scratch database");
    let exists = |name: &str| match db.kind {
        Kind::Postgres => format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'"),
        _ => format!("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{name}'"),
    };
    // Give the child the moment to reach the sleeping snippet; it is still replaying
    // (alive, its database there) when it is killed.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(child.try_wait().unwrap().is_none(), "the child is still replaying");
    assert_eq!(db.pool.count(&exists(&name)).await, 1, "{name} exists while its run lives");
    child.kill().unwrap();
    child.wait().unwrap();
    // The server notices the dead connection; the next run (here, or a concurrent
    // test's) drops the database.
    for _ in 0..100 {
        let _ = syncer(&set).verify_deep(db.target(), None).await.unwrap();
        if db.pool.count(&exists(&name)).await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{name} of the killed run is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_cleaned_up_by_the_next_on_postgres() {
    if let Ok(url) = std::env::var("DEEP_VERIFY_CHILD") {
        killed_child(Kind::Postgres, &url).await;
    }
    if let Some(db) = TestDb::new(Kind::Postgres).await {
        a_killed_run_is_cleaned_up_by_the_next(db, "a_killed_run_is_cleaned_up_by_the_next_on_postgres").await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_is_cleaned_up_by_the_next_on_mysql() {
    if let Ok(url) = std::env::var("DEEP_VERIFY_CHILD") {
        killed_child(Kind::MySql, &url).await;
    }
    if let Some(db) = TestDb::new(Kind::MySql).await {
        a_killed_run_is_cleaned_up_by_the_next(db, "a_killed_run_is_cleaned_up_by_the_next_on_mysql").await
    }
}
