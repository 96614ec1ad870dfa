//! The audit trail (`myapp schema plan | apply | verify --report-dir DIR`, and the
//! boot-time sync with `Syncer::report_dir` / `<PREFIX>_SCHEMA_REPORT_DIR`) on every
//! database: a successful apply leaves the connection check, the plan, every statement
//! with its file and line, and the snapshots before and after; a failed apply leaves
//! the statements before the failure and the failing one with its error; the log is on
//! disk while the sync is still running; `verify` writes the drift report, or why it
//! could not; and no password reaches any file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bootschema::Snapshot;
use common::{syncer, Kind, SnippetDir, TestDb};
use serde_json::Value;

/// Runs `myapp schema <args>` against `url` without a terminal, as a release step does.
fn schema(url: &str, args: &[&str]) -> (i32, String) {
    myapp(url, &[&["schema"], args].concat(), &[])
}

/// Runs `myapp <args>` against `url` without a terminal, the app's variables cleared
/// and then `env` set.
fn myapp(url: &str, args: &[&str], env: &[(&str, &Path)]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myapp"));
    command.args(args).env("DATABASE_URL", url).env("RUST_LOG", "warn").stdin(Stdio::null());
    for variable in ["DRY_RUN", "ALLOW_DESTRUCTIVE", "SYNC", "LOCK_TIMEOUT", "BASELINE", "REPORT_DIR", "REPORT_DEEP"] {
        command.env_remove(format!("MYAPP_SCHEMA_{variable}"));
    }
    // A `--dev-url` where nothing listens fails in a second, not after the default 10.
    command.env("MYAPP_SCHEMA_CONNECT_TIMEOUT", "1s");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("running myapp");
    let text = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().expect("an exit status"), text)
}

/// The one trail folder under `parent`, whose name ends with `-<of>`.
fn only_trail(parent: &Path, of: &str) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(parent).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1, "one trail folder: {folders:?}");
    let name = folders[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(&format!("-{of}")) && name.as_bytes()[8] == b'T', "{name}");
    folders[0].clone()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn json(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&read(dir, file)).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

/// The lines of `execution.jsonl`.
fn log(dir: &Path) -> Vec<Value> {
    read(dir, "execution.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `(path:line, outcome)` of each statement event, in order.
fn statements(log: &[Value]) -> Vec<(String, String)> {
    log.iter()
        .filter(|e| e["event"] == "statement")
        .map(|e| (format!("{}:{}", e["path"].as_str().unwrap(), e["line"]), e["outcome"].as_str().unwrap().into()))
        .collect()
}

/// Asserts that the sections of `report.md` come in this order, each once.
#[track_caller]
fn sections_in_order(markdown: &str, titles: &[&str]) {
    let found: Vec<&str> = markdown.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(found, titles, "{markdown}");
}

/// Every file of the folder, as text.
fn every_file(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The URL with a password the server never checks (PostgreSQL's trust authentication
/// takes any): one that must reach no file. Other databases keep their URL.
fn with_password(db: &TestDb, secret: &str) -> String {
    match db.kind {
        Kind::Postgres => {
            let url = db.url.replacen("postgres@", &format!("postgres:{secret}@"), 1);
            assert!(url.contains(secret), "{url}");
            url
        }
        _ => db.url.clone(),
    }
}

/// `myapp schema apply --report-dir DIR` on an empty database: one folder with the
/// connection check, the drift and snapshot before, the plan, every statement of every
/// snippet with its file and line, the result, the drift and snapshot after, the outcome.
async fn a_successful_apply_leaves_every_part_of_the_trail(db: TestDb) {
    let reports = tempfile::tempdir().unwrap();
    let secret = "s3cr3t-audit-password";
    let url = with_password(&db, secret);
    let (code, output) = schema(&url, &["apply", "--report-dir", reports.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{output}");
    let dir = only_trail(reports.path(), "apply");
    assert!(output.contains(&format!("audit trail: {}", dir.display())), "{output}");

    let markdown = read(&dir, "report.md");
    sections_in_order(
        &markdown,
        &[
            "Connection",
            "Drift before",
            "Snapshot before",
            "Plan",
            "Execution log",
            "Result",
            "Drift after",
            "Snapshot after",
            "Outcome",
        ],
    );

    // The connection check: the server that answered, never the password.
    let connection = json(&dir, "connection.json");
    let kind = match db.kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
        Kind::Sqlite => "sqlite",
    };
    assert_eq!(connection["target"]["database"], kind, "{connection}");
    assert!(!connection["target"]["server_version"].as_str().unwrap().is_empty(), "{connection}");
    let name = db.url.split('?').next().unwrap().rsplit('/').next().unwrap();
    assert!(connection["target"]["database_name"].as_str().unwrap().ends_with(name), "{connection}");
    if db.kind != Kind::Sqlite {
        assert_eq!(connection["target"]["host"], "127.0.0.1", "{connection}");
        assert!(connection["target"]["port"].as_u64().is_some(), "{connection}");
    }
    if db.kind == Kind::Postgres {
        assert_eq!(connection["target"]["schemas"], serde_json::json!(["public"]), "{connection}");
    }

    // The plan: every snippet of the database's dialect, to apply.
    let set = common::faults::myapp_snippets();
    let snippets = set.for_dialect(db.kind.dialect());
    let plan = json(&dir, "plan.json");
    let planned: Vec<(&str, &str)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = snippets.iter().map(|s| (s.path.as_ref(), "apply")).collect();
    assert_eq!(planned, expected);

    // Every statement, with its file and line, ran and said so, in the order of the
    // snippets; every snippet is done.
    let log = log(&dir);
    let ran = statements(&log);
    let all: Vec<(String, String)> = snippets
        .iter()
        .flat_map(|s| s.statements.iter().map(move |st| (format!("{}:{}", s.path, st.line), "ok".to_string())))
        .collect();
    assert_eq!(ran, all);
    for (place, _) in &all {
        assert!(markdown.contains(&format!("| {place} |")), "{place} in report.md:\n{markdown}");
    }
    let steps: Vec<&str> = log.iter().filter(|e| e["event"] == "step").map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(steps, snippets.iter().map(|s| s.path.as_ref()).collect::<Vec<_>>());
    // Statements run one at a time are timed one at a time (PostgreSQL times the
    // snippets it sends together, in their step events).
    if db.kind != Kind::Postgres {
        let timed = log.iter().filter(|e| e["event"] == "statement").all(|e| e["duration_ms"].is_number());
        assert!(timed, "{log:#?}");
    }
    assert!(log.iter().any(|e| e["event"] == "lock_wait"), "the wait for the schema lock is logged: {log:#?}");

    // The snapshots: empty before, the live schema after.
    let before = Snapshot::from_json(&read(&dir, "snapshot-before.json")).unwrap();
    assert!(before.tables.is_empty(), "{before:?}");
    let after = Snapshot::from_json(&read(&dir, "snapshot-after.json")).unwrap();
    assert_eq!(after, syncer(&set).snapshot(db.target()).await.unwrap());
    assert!(after.tables.iter().any(|t| t.name == "settings"), "{after:?}");

    // The deep diff: everything missing before, nothing after.
    let (drift_before, drift_after) = (json(&dir, "drift-before.json"), json(&dir, "drift-after.json"));
    assert_eq!((&drift_before["checked"], &drift_before["differs"]), (&Value::Bool(true), &Value::Bool(true)));
    assert_eq!((&drift_after["checked"], &drift_after["differs"]), (&Value::Bool(true), &Value::Bool(false)));

    let result = json(&dir, "result.json");
    assert_eq!(
        (result["kind"].as_str(), result["counts"]["apply"].as_u64()),
        (Some("result"), Some(snippets.len() as u64))
    );
    let outcome = json(&dir, "outcome.json");
    assert_eq!((outcome["exit_code"].as_i64(), outcome["status"].as_str()), (Some(0), Some("ok")), "{outcome}");
    assert!(outcome["files"].as_array().unwrap().iter().any(|f| f == "execution.jsonl"), "{outcome}");

    for (file, text) in every_file(&dir) {
        assert!(!text.contains(secret), "a password in {file}:\n{text}");
    }
}

/// Two snippets, the second of which fails at its second statement: a set that stops
/// a sync half-way. The failing statement holds something that looks like a password,
/// which the trail's redactor must mask wherever the statement is quoted.
fn failing_snippets() -> SnippetDir {
    SnippetDir::new(&[
        ("0001_first.sql", "CREATE TABLE first_a (id INT PRIMARY KEY);\nCREATE TABLE first_b (id INT PRIMARY KEY);\n"),
        (
            "0002_second.sql",
            "CREATE TABLE second_a (id INT PRIMARY KEY);\n\
             INSERT INTO no_such_table (id, note) VALUES (1, 'password=hunter2-audit');\n\
             CREATE TABLE second_b (id INT PRIMARY KEY);\n",
        ),
    ])
}

/// A boot-time sync (`Syncer::report_dir`) that fails half-way returns its error and
/// leaves a trail: the statements before the failure ok, the failing one with its
/// error, nothing after it; the plan; the outcome with the error.
async fn a_failed_apply_leaves_the_log_up_to_the_failing_statement(db: TestDb) {
    let reports = tempfile::tempdir().unwrap();
    let dir = failing_snippets();
    let set = dir.snippets();
    let error = syncer(&set).report_dir(reports.path()).run(db.target()).await.unwrap_err();
    assert!(error.to_string().contains("no_such_table"), "{error}");
    let trail = only_trail(reports.path(), "boot");

    let log = log(&trail);
    let ran = statements(&log);
    let expected: Vec<(String, String)> = [
        ("sql/0001_first.sql:1", "ok"),
        ("sql/0001_first.sql:2", "ok"),
        ("sql/0002_second.sql:1", "ok"),
        ("sql/0002_second.sql:2", "error"),
    ]
    .iter()
    .map(|(p, o)| (p.to_string(), o.to_string()))
    .collect();
    assert_eq!(ran, expected, "{log:#?}");
    let failing = log.iter().find(|e| e["outcome"] == "error").unwrap();
    assert!(failing["error"].as_str().unwrap().contains("no_such_table"), "{failing}");
    assert!(failing["sql"].as_str().unwrap().starts_with("INSERT INTO no_such_table"), "{failing}");

    let markdown = read(&trail, "report.md");
    // The boot reads PostgreSQL's schemas and extensions last, not to slow the sync.
    let scope: &[&str] = if db.kind == Kind::Postgres { &["Schemas and extensions"] } else { &[] };
    sections_in_order(&markdown, &[&["Connection", "Plan", "Execution log"], scope, &["Result", "Outcome"]].concat());
    let row = markdown.lines().find(|l| l.contains("| sql/0002_second.sql:2 |")).expect("the failing statement's row");
    assert!(row.contains("**error**") && row.contains("no_such_table"), "{row}");
    let ok_rows = markdown.lines().filter(|l| l.contains("| statement |") && l.ends_with("| ok |")).count();
    assert_eq!(ok_rows, 3, "{markdown}");
    assert!(markdown.contains("The sync failed"), "{markdown}");

    let plan = json(&trail, "plan.json");
    assert_eq!(plan["command"], "boot");
    let actions: Vec<&str> = plan["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["apply", "apply"]);
    let outcome = json(&trail, "outcome.json");
    assert_eq!((outcome["exit_code"].as_i64(), outcome["status"].as_str()), (Some(1), Some("failed")), "{outcome}");
    assert!(outcome["error"].as_str().unwrap().contains("no_such_table"), "{outcome}");
    assert!(!trail.join("snapshot-before.json").exists(), "deep parts only when asked");
    assert!(markdown.contains("password=***"), "{markdown}");
    for (file, text) in every_file(&trail) {
        assert!(!text.contains("hunter2-audit"), "a password in {file}:\n{text}");
    }
}

/// A boot with nothing to do writes nothing; with the variable unset, nothing at all.
async fn a_boot_in_sync_writes_no_trail(db: TestDb) {
    let reports = tempfile::tempdir().unwrap();
    let set = common::faults::myapp_snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let report = syncer(&set).report_dir(reports.path()).run(db.target()).await.unwrap();
    assert!(!report.changed_anything());
    let full = syncer(&set).report_dir(reports.path()).full_check(true).run(db.target()).await.unwrap();
    assert!(!full.changed_anything());
    assert_eq!(std::fs::read_dir(reports.path()).unwrap().count(), 0);
}

/// `MYAPP_SCHEMA_REPORT_DIR` names the folder of the app's own boot, which writes a
/// trail when it applies and none when it boots in sync, and of the release commands.
async fn the_variable_names_the_folder_of_the_boot_and_the_commands(db: TestDb) {
    let reports = tempfile::tempdir().unwrap();
    let env = [("MYAPP_SCHEMA_REPORT_DIR", reports.path())];
    let (code, output) = myapp(&db.url, &[], &env);
    assert_eq!(code, 0, "{output}");
    let boot = only_trail(reports.path(), "boot");
    let set = common::faults::myapp_snippets();
    let statements_total: usize = set.for_dialect(db.kind.dialect()).iter().map(|s| s.statements.len()).sum();
    assert_eq!(statements(&log(&boot)).len(), statements_total);
    assert_eq!(json(&boot, "outcome.json")["status"], "ok");

    let (code, output) = myapp(&db.url, &[], &env);
    assert_eq!(code, 0, "{output}");
    assert_eq!(std::fs::read_dir(reports.path()).unwrap().count(), 1, "a boot in sync writes nothing");

    let (code, output) = myapp(&db.url, &["schema", "plan"], &env);
    assert_eq!(code, 0, "{output}");
    let folders: Vec<String> = std::fs::read_dir(reports.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with("-plan"))
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
}

/// Asked for (`Syncer::report_deep`), every boot writes the deep parts too: the drift
/// and the snapshot before and after, also a boot with nothing to do.
async fn a_boot_asked_for_the_deep_parts_writes_them(db: TestDb) {
    let reports = tempfile::tempdir().unwrap();
    let set = common::faults::myapp_snippets();
    let boot = || syncer(&set).report_dir(reports.path()).report_deep(true);
    boot().run(db.target()).await.unwrap();
    let first = only_trail(reports.path(), "boot");
    let markdown = read(&first, "report.md");
    let deep = [
        "Connection",
        "Drift before",
        "Snapshot before",
        "Plan",
        "Execution log",
        "Result",
        "Drift after",
        "Snapshot after",
        "Outcome",
    ];
    sections_in_order(&markdown, &deep);
    assert_eq!(json(&first, "drift-after.json")["differs"], false);
    assert!(Snapshot::from_json(&read(&first, "snapshot-before.json")).unwrap().tables.is_empty());
    std::fs::rename(&first, reports.path().with_extension("first")).unwrap();

    boot().run(db.target()).await.unwrap();
    let second = only_trail(reports.path(), "boot");
    sections_in_order(&read(&second, "report.md"), &deep);
    assert!(read(&second, "report.md").contains("No statement ran (nothing to apply)."));
    let before = Snapshot::from_json(&read(&second, "snapshot-before.json")).unwrap();
    assert_eq!(before, Snapshot::from_json(&read(&second, "snapshot-after.json")).unwrap());
    assert!(!before.tables.is_empty());
    std::fs::remove_dir_all(reports.path().with_extension("first")).unwrap();
}

/// The execution log is on disk while the sync still runs: the second snippet waits
/// for a table lock the test holds, and the first snippet's statements are already in
/// the file (PostgreSQL and MySQL; SQLite's one writer cannot be held up half-way).
async fn the_log_is_on_disk_while_the_sync_waits(db: TestDb) {
    let dir = SnippetDir::new(&[(
        "0001_tables.sql",
        "CREATE TABLE held (id INT PRIMARY KEY);\nCREATE TABLE other (id INT PRIMARY KEY);\n",
    )]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    // The first snippet locks a table the app uses (PostgreSQL commits after it) and
    // changes rows (MySQL ends its message with it); the second waits for `other`.
    dir.write("0002_first.sql", "ALTER TABLE held ADD COLUMN a INT;\nINSERT INTO held (id) VALUES (1);\n");
    dir.write("0003_second.sql", "ALTER TABLE other ADD COLUMN b INT;\n");
    let set = std::sync::Arc::new(dir.snippets());

    let holder = db.new_pool().await;
    let hold = on_pool!(&holder, p => {
        let mut tx = p.begin().await.unwrap();
        sqlx::query("SELECT id FROM other").fetch_all(&mut *tx).await.unwrap();
        Held::from(tx)
    });
    let reports = tempfile::tempdir().unwrap();
    let folder = reports.path().to_path_buf();
    let target = db.target();
    let sync = {
        let set = set.clone();
        tokio::spawn(async move {
            syncer(&set).report_dir(&folder).ddl_lock_timeout(Duration::from_secs(60)).run(target).await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let entries = std::fs::read_dir(reports.path()).unwrap().next();
        let statements_so_far = entries
            .map(|e| e.unwrap().path().join("execution.jsonl"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| text.lines().filter(|l| l.contains("\"statement\"")).count())
            .unwrap_or(0);
        if statements_so_far >= 2 || Instant::now() > deadline {
            break statements_so_far;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!sync.is_finished(), "the sync waits for the lock the test holds");
    assert_eq!(seen, 2, "the first snippet's statements are on disk while the second waits");
    let trail = only_trail(reports.path(), "boot");
    let waiting = statements(&log(&trail));
    assert!(waiting.iter().all(|(p, o)| p.starts_with("sql/0002_first.sql") && o == "ok"), "{waiting:?}");

    hold.release().await;
    sync.await.unwrap().unwrap();
    let done = statements(&log(&trail));
    assert_eq!(done.last(), Some(&("sql/0003_second.sql:1".to_string(), "ok".to_string())), "{done:?}");
    assert!(read(&trail, "report.md").contains("## Outcome"));
}

/// A transaction of the test's that holds a table lock until released.
enum Held {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl Held {
    async fn release(self) {
        match self {
            Held::Postgres(tx) => tx.commit().await,
            Held::MySql(tx) => tx.commit().await,
            Held::Sqlite(tx) => tx.commit().await,
        }
        .unwrap();
    }
}

impl From<sqlx::Transaction<'static, sqlx::Postgres>> for Held {
    fn from(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Held {
        Held::Postgres(tx)
    }
}
impl From<sqlx::Transaction<'static, sqlx::MySql>> for Held {
    fn from(tx: sqlx::Transaction<'static, sqlx::MySql>) -> Held {
        Held::MySql(tx)
    }
}
impl From<sqlx::Transaction<'static, sqlx::Sqlite>> for Held {
    fn from(tx: sqlx::Transaction<'static, sqlx::Sqlite>) -> Held {
        Held::Sqlite(tx)
    }
}

/// `myapp schema verify --report-dir DIR` after a hand change a guard cannot see: the
/// drift report names it and the snippet that defines it; the command's exit status is
/// the plan's (0), as without the trail. With a `--dev-url` no server answers, the
/// drift report says why it was not taken and the rest is written.
async fn verify_writes_the_drift_report(db: TestDb) {
    let set = common::faults::myapp_snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let drop = match db.kind {
        Kind::MySql => "DROP INDEX users_email_idx ON users",
        _ => "DROP INDEX users_email_idx",
    };
    db.pool.exec(drop).await.unwrap();
    db.pool.exec("CREATE INDEX users_email_idx ON users (email)").await.unwrap();
    let secret = "s3cr3t-verify-password";
    let url = with_password(&db, secret);

    let reports = tempfile::tempdir().unwrap();
    let (code, output) = schema(&url, &["verify", "--report-dir", reports.path().to_str().unwrap()]);
    assert_eq!(code, 0, "the guards hold: {output}");
    let trail = only_trail(reports.path(), "verify");
    let drift = json(&trail, "drift-before.json");
    assert_eq!((&drift["checked"], &drift["differs"]), (&Value::Bool(true), &Value::Bool(true)), "{drift}");
    let named: Vec<(&str, &str)> = drift["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["object"].as_str().unwrap(), d["snippet"].as_str().unwrap_or("")))
        .collect();
    assert!(named.iter().any(|(o, s)| o.contains("email") && *s == "sql/0004_index_user_email.sql"), "{named:?}");
    let markdown = read(&trail, "report.md");
    sections_in_order(&markdown, &["Connection", "Drift before", "Plan", "Outcome"]);
    assert!(markdown.contains("0004_index_user_email.sql"), "{markdown}");
    assert_eq!(json(&trail, "outcome.json")["exit_code"], 0);

    // A deep diff that cannot be taken: said why, and the command goes on.
    if db.kind != Kind::Sqlite {
        let dev_secret = "s3cr3t-dev-password";
        let dev_url = match db.kind {
            Kind::Postgres => format!("postgres://postgres:{dev_secret}@127.0.0.1:1/postgres"),
            _ => format!("mysql://root:{dev_secret}@127.0.0.1:1/test"),
        };
        let elsewhere = tempfile::tempdir().unwrap();
        let (code, output) =
            schema(&url, &["plan", "--report-dir", elsewhere.path().to_str().unwrap(), "--dev-url", &dev_url]);
        assert_eq!(code, 0, "{output}");
        let trail = only_trail(elsewhere.path(), "plan");
        let drift = json(&trail, "drift-before.json");
        assert_eq!(drift["checked"], false, "{drift}");
        assert!(drift["reason"].as_str().unwrap().contains("127.0.0.1"), "{drift}");
        assert!(read(&trail, "report.md").contains("Not checked:"));
        assert!(trail.join("plan.json").exists());
        for (file, text) in every_file(&trail) {
            assert!(!text.contains(dev_secret) && !text.contains(secret), "a password in {file}:\n{text}");
        }
    }
    for (file, text) in every_file(&trail) {
        assert!(!text.contains(secret), "a password in {file}:\n{text}");
    }
}

/// `apply --plan` with `--report-dir`: the trail holds the approved plan it carried out
/// (the same digest as the file approved), so it says what was approved, not only what
/// ran; `plan --out` with `--report-dir` holds the plan file it wrote.
async fn the_trail_holds_the_approved_plan(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let planned = dir.path().join("planned");
    let (code, out) = schema(&db.url, &["plan", "--out", file, "--report-dir", planned.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let approved: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let digest = approved["digest"].as_str().unwrap().to_string();
    let copy = json(&only_trail(&planned, "plan"), "approved-plan.json");
    assert_eq!(copy["digest"].as_str(), Some(digest.as_str()));

    let applied = dir.path().join("applied");
    let (code, out) = schema(&db.url, &["apply", "--plan", file, "--report-dir", applied.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let trail = only_trail(&applied, "apply");
    assert_eq!(json(&trail, "approved-plan.json")["digest"].as_str(), Some(digest.as_str()));
    let markdown = read(&trail, "report.md");
    assert!(markdown.contains("carries out only the approved plan") && markdown.contains(&digest), "{markdown}");
}

on_every_database!(
    the_trail_holds_the_approved_plan,
    a_successful_apply_leaves_every_part_of_the_trail,
    a_failed_apply_leaves_the_log_up_to_the_failing_statement,
    a_boot_in_sync_writes_no_trail,
    a_boot_asked_for_the_deep_parts_writes_them,
    the_variable_names_the_folder_of_the_boot_and_the_commands,
    verify_writes_the_drift_report,
);

/// PostgreSQL and MySQL only: SQLite's one writer cannot be held up half-way by another
/// connection (the sync holds the file's write lock from its first statement).
mod the_log_is_on_disk_while_the_sync_waits {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(db) = TestDb::new(Kind::Postgres).await {
            super::the_log_is_on_disk_while_the_sync_waits(db).await
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        if let Some(db) = TestDb::new(Kind::MySql).await {
            super::the_log_is_on_disk_while_the_sync_waits(db).await
        }
    }
}
