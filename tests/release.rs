//! The release phase: `myapp schema plan | apply | verify | status [--json]`, driven as a
//! subprocess the way a platform's release step runs it, on every database; and the
//! destructive-snippet consent, driven in-process with snippets of the test's own.

mod common;

use std::process::{Command, Stdio};

use bootschema::release::{Console, Release};
use common::{syncer, Kind, SnippetDir, TestDb};
use serde_json::Value;

/// What one run of the binary printed, and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn exits(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit status\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// Runs `myapp <args>` against `url` with no terminal (stdin is closed), the way a
/// release phase runs it, with the app's variables cleared and then `env` set.
fn myapp(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myapp"));
    command.args(args).env("DATABASE_URL", url).env("RUST_LOG", "info,sqlx=warn").stdin(Stdio::null());
    for variable in ["DRY_RUN", "ALLOW_DESTRUCTIVE", "SYNC", "LOCK_TIMEOUT", "BASELINE"] {
        command.env_remove(format!("MYAPP_SCHEMA_{variable}"));
    }
    command.env_remove("MYAPP_ENV");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("running myapp");
    Run {
        code: output.status.code().expect("myapp exited with a status"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn schema(db: &TestDb, args: &[&str]) -> Run {
    myapp(&db.url, &[&["schema"], args].concat(), &[])
}

/// The database's name as the header should show it: the URL's path, or SQLite's file.
fn database_name(db: &TestDb) -> String {
    let without_query = db.url.split('?').next().unwrap();
    match db.kind {
        Kind::Sqlite => without_query.trim_start_matches("sqlite:").to_string(),
        _ => without_query.rsplit('/').next().unwrap().to_string(),
    }
}

fn dialect(db: &TestDb) -> (&'static str, &'static str) {
    match db.kind {
        Kind::Postgres => ("postgres", "PostgreSQL"),
        Kind::MySql => ("mysql", "MySQL"),
        Kind::Sqlite => ("sqlite", "SQLite"),
    }
}

fn actions(document: &Value) -> Vec<String> {
    document["steps"].as_array().unwrap().iter().map(|s| s["action"].as_str().unwrap().to_string()).collect()
}

on_every_database!(
    status_counts_what_is_pending_and_changes_nothing,
    status_json_names_the_target_and_the_last_applied_snippet,
    plan_lists_every_snippet_and_changes_nothing,
    plan_json_has_every_snippets_state_checksum_and_statements,
    verify_exits_2_while_anything_is_pending_and_0_once_applied,
    apply_applies_even_when_the_boot_sync_is_off,
    apply_json_reports_what_ran_with_timings,
    apply_dry_run_variable_applies_nothing,
    edited_snippet_fails_verify_and_refuses_apply,
    drift_fails_verify_and_is_reported_by_apply,
    failed_statement_exits_1_with_the_error_in_json,
    passwords_never_appear_in_any_output,
    snapshot_writes_the_same_document_twice_and_reads_back,
    connection_errors_exit_1_without_the_password,
    destructive_snippets_need_the_variable_without_a_terminal,
    at_a_terminal_apply_asks_before_destructive_snippets,
    partly_done_snippet_shows_each_statement,
    a_failing_guard_query_fails_plan_verify_and_status,
);

async fn status_counts_what_is_pending_and_changes_nothing(db: TestDb) {
    let run = schema(&db, &["status"]);
    run.exits(0);
    let (_, kind) = dialect(&db);
    let header = run.stdout.lines().next().unwrap();
    assert!(header.starts_with(&format!("schema status · {kind} ")), "{header}");
    assert!(header.contains(&database_name(&db)), "{header}");
    assert!(run.stdout.contains("7 snippet(s): 7 to apply"), "{}", run.stdout);
    assert!(run.stdout.contains("last applied: none"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}'), "no colour when piped: {:?}", run.stdout);
    assert!(db.catalog().await.is_empty(), "status created nothing, not even the ledger");

    schema(&db, &["apply"]).exits(0);
    let run = schema(&db, &["status"]);
    run.exits(0);
    assert!(run.stdout.contains("7 snippet(s): 7 up to date"), "{}", run.stdout);
    assert!(run.stdout.contains("last applied: 0007 seed_settings (sql/0007_seed_settings.sql)"), "{}", run.stdout);
}

async fn status_json_names_the_target_and_the_last_applied_snippet(db: TestDb) {
    let before = myapp(&db.url, &["schema", "status", "--json"], &[("MYAPP_ENV", "production")]);
    let document = before.exits(0).json();
    let (database, _) = dialect(&db);
    assert_eq!(document["format"], 1);
    assert_eq!(document["command"], "status");
    assert_eq!(document["target"]["database"], database);
    assert_eq!(document["target"]["database_name"], database_name(&db));
    assert_eq!(document["target"]["environment"], "production");
    assert!(!document["target"]["server_version"].as_str().unwrap().is_empty(), "{document}");
    if db.kind == Kind::Sqlite {
        assert_eq!(document["target"]["host"], Value::Null);
    } else {
        assert_eq!(document["target"]["host"], "127.0.0.1");
        assert!(document["target"]["port"].as_u64().unwrap() > 0);
    }
    assert_eq!(document["outcome"]["status"], "pending");
    assert_eq!(document["outcome"]["exit_code"], 0);
    assert_eq!(document["counts"]["apply"], 7);
    assert_eq!(document["last_applied"], Value::Null);

    schema(&db, &["apply"]).exits(0);
    let document = schema(&db, &["status", "--json"]).exits(0).json();
    assert_eq!(document["outcome"]["status"], "clean");
    assert_eq!(document["counts"]["skip"], 7);
    assert_eq!(document["last_applied"]["version"], 7);
    assert_eq!(document["last_applied"]["path"], "sql/0007_seed_settings.sql");
}

async fn plan_lists_every_snippet_and_changes_nothing(db: TestDb) {
    let run = schema(&db, &["plan"]);
    run.exits(0);
    for version in ["0001", "0002", "0003", "0004", "0005", "0006", "0007"] {
        assert!(run.stdout.contains(&format!("  + {version} ")), "{version}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("add_user_email") && run.stdout.contains("missing: column_missing(users.email)"));
    assert!(run.stdout.contains("7 snippet(s): 7 to apply (read in "), "{}", run.stdout);
    assert!(run.stdout.contains("run `myapp schema apply`"), "{}", run.stdout);
    assert!(db.catalog().await.is_empty(), "plan created nothing, not even the ledger");
}

async fn plan_json_has_every_snippets_state_checksum_and_statements(db: TestDb) {
    let document = schema(&db, &["plan", "--json"]).exits(0).json();
    assert_eq!(document["command"], "plan");
    assert_eq!(document["kind"], "plan");
    assert_eq!(document["ledger_table"], "bootschema_history");
    let steps = document["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(step["version"], i as u64 + 1);
        assert_eq!(step["action"], "apply");
        assert!(step["checksum"].as_str().unwrap().starts_with("sha256:"), "{step}");
        assert_eq!(step["recorded_checksum"], Value::Null);
        assert!(step["path"].as_str().unwrap().starts_with("sql/"), "{step}");
        let statements = step["statements"].as_array().unwrap();
        assert_eq!(statements.len() as u64, step["statements_total"].as_u64().unwrap(), "{step}");
        assert!(statements.iter().all(|s| s["skipped"] == false && s["sql"].as_str().is_some_and(|t| !t.is_empty())));
        assert_ne!(step["guards"][0]["status"], "present", "{step}");
    }
    let view = &steps[5]["statements"];
    assert!(view[0]["sql"].as_str().unwrap().starts_with("DROP VIEW IF EXISTS user_stats"), "{view}");
    assert_eq!(view[1]["line"], 5);
    assert!(db.catalog().await.is_empty());
}

async fn verify_exits_2_while_anything_is_pending_and_0_once_applied(db: TestDb) {
    let run = schema(&db, &["verify"]);
    run.exits(2);
    assert!(run.stdout.contains("7 to apply"), "{}", run.stdout);
    assert_eq!(schema(&db, &["verify", "--json"]).exits(2).json()["outcome"]["status"], "pending");

    schema(&db, &["apply"]).exits(0);
    let run = schema(&db, &["verify"]);
    run.exits(0);
    assert!(run.stdout.contains("  ✓ 0001 create_users"), "{}", run.stdout);
    assert!(run.stdout.contains("7 snippet(s): 7 up to date"), "{}", run.stdout);
    let document = schema(&db, &["verify", "--json"]).exits(0).json();
    assert_eq!(document["outcome"]["status"], "clean");
    assert_eq!(document["outcome"]["exit_code"], 0);
}

async fn apply_applies_even_when_the_boot_sync_is_off(db: TestDb) {
    let off = [("MYAPP_SCHEMA_SYNC", "off")];
    let boot = myapp(&db.url, &[], &off);
    boot.exits(0);
    assert!(boot.stdout.contains("not synced by this boot"), "{}", boot.stdout);
    assert!(db.catalog().await.is_empty(), "the boot sync is off");

    let run = myapp(&db.url, &["schema", "apply"], &off);
    run.exits(0);
    assert!(run.stdout.contains("  + 0003 add_user_email"), "{}", run.stdout);
    assert!(run.stdout.contains("applied"), "{}", run.stdout);
    assert!(run.stdout.contains("7 snippet(s): 7 applied in "), "{}", run.stdout);
    assert!(db.has_table("users").await && db.has_table("settings").await);
    assert_eq!(db.ledger().await.len(), 7);

    let again = myapp(&db.url, &["schema", "apply"], &off);
    again.exits(0);
    assert!(again.stdout.contains("7 snippet(s): 7 up to date in "), "{}", again.stdout);
    // The app then serves on the schema the release phase made.
    let served = myapp(&db.url, &[], &[]);
    assert!(served.exits(0).stdout.contains("Hello from a self-syncing schema"), "{}", served.stdout);
}

async fn apply_json_reports_what_ran_with_timings(db: TestDb) {
    let run = myapp(&db.url, &["schema", "apply", "--json"], &[("MYAPP_ENV", "staging")]);
    let document = run.exits(0).json();
    assert_eq!(document["command"], "apply");
    assert_eq!(document["kind"], "result");
    assert_eq!(document["dry_run"], false);
    assert_eq!(document["outcome"]["status"], "applied");
    assert_eq!(document["outcome"]["error"], Value::Null);
    assert_eq!(document["target"]["environment"], "staging");
    assert_eq!(actions(&document), vec!["apply"; 7]);
    for step in document["steps"].as_array().unwrap() {
        assert_eq!(step["statements_run"], step["statements_total"], "{step}");
        assert!(step["duration_ms"].is_u64(), "{step}");
    }
    assert!(document["duration_ms"].is_u64());
    assert_eq!(document["last_applied"]["version"], 7, "{document}");
    assert_eq!(db.ledger().await.len(), 7, "it did apply");

    let document = schema(&db, &["apply", "--json"]).exits(0).json();
    assert_eq!(actions(&document), vec!["skip"; 7]);
    assert_eq!(document["counts"]["skip"], 7);
}

async fn apply_dry_run_variable_applies_nothing(db: TestDb) {
    let run = myapp(&db.url, &["schema", "apply"], &[("MYAPP_SCHEMA_DRY_RUN", "1")]);
    run.exits(0);
    assert!(run.stdout.contains("MYAPP_SCHEMA_DRY_RUN is set: nothing was applied"), "{}", run.stdout);
    assert!(run.stdout.contains("7 to apply"), "{}", run.stdout);
    let document = myapp(&db.url, &["schema", "apply", "--json"], &[("MYAPP_SCHEMA_DRY_RUN", "1")]).exits(0).json();
    assert_eq!(document["outcome"]["status"], "dry_run");
    assert_eq!(document["dry_run"], true);
    assert!(db.catalog().await.is_empty());
}

async fn edited_snippet_fails_verify_and_refuses_apply(db: TestDb) {
    schema(&db, &["apply"]).exits(0);
    db.pool.exec("UPDATE bootschema_history SET checksum = 'sha256:0123' WHERE version = 2").await.unwrap();

    let run = schema(&db, &["verify"]);
    run.exits(2);
    assert!(run.stdout.contains("  ! 0002 create_settings"), "{}", run.stdout);
    assert!(run.stdout.contains("edited") && run.stdout.contains("ledger sha256:0123"), "{}", run.stdout);

    let run = schema(&db, &["apply"]);
    run.exits(1);
    assert!(run.stderr.contains("error: refusing to sync the schema; nothing was applied"), "{}", run.stderr);
    assert!(run.stderr.contains("0002_create_settings.sql: edited after it was applied"), "{}", run.stderr);

    let document = schema(&db, &["apply", "--json"]).exits(1).json();
    assert_eq!(document["outcome"]["status"], "refused");
    assert_eq!(document["outcome"]["exit_code"], 1);
    assert!(document["outcome"]["error"].as_str().unwrap().contains("edited after it was applied"), "{document}");
    assert_eq!(document["steps"][1]["action"], "edited");
    assert_eq!(document["steps"][1]["recorded_checksum"], "sha256:0123");
}

async fn drift_fails_verify_and_is_reported_by_apply(db: TestDb) {
    schema(&db, &["apply"]).exits(0);
    let drop_index = match db.kind {
        Kind::MySql => "DROP INDEX users_email_idx ON users",
        _ => "DROP INDEX users_email_idx",
    };
    db.pool.exec(drop_index).await.unwrap();

    let run = schema(&db, &["verify"]);
    run.exits(2);
    assert!(run.stdout.contains("  ! 0004 index_user_email"), "{}", run.stdout);
    assert!(run.stdout.contains("drift") && run.stdout.contains("1 drifted"), "{}", run.stdout);
    assert_eq!(schema(&db, &["verify", "--json"]).exits(2).json()["counts"]["drift"], 1);

    let run = schema(&db, &["apply"]);
    run.exits(0);
    assert!(run.stdout.contains("drift"), "apply reports drift and does not re-create: {}", run.stdout);
    assert!(!db.catalog().await.iter().any(|l| l.contains("users_email_idx")), "not re-created");
}

async fn failed_statement_exits_1_with_the_error_in_json(db: TestDb) {
    // A hand-made `users` without `name`: 0001 is adopted, and 0005's unique rule on
    // `name` fails. (Baseline 0: the hand-made table is no history of the snippets, so
    // guards decide.)
    db.pool.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)").await.unwrap();
    let baseline = [("MYAPP_SCHEMA_BASELINE", "0")];
    // The document of the failed apply says what it did before the failure.
    let document = myapp(&db.url, &["schema", "apply", "--json"], &baseline).exits(1).json();
    assert_eq!(document["outcome"]["status"], "failed");
    let error = document["outcome"]["error"].as_str().unwrap();
    assert!(error.contains("0005_unique_user_name.sql") && error.contains("statement failed"), "{error}");
    assert!(error.contains("completed and recorded before the failure: sql/"), "{error}");
    let steps = document["steps"].as_array().unwrap();
    let completed: Vec<&str> =
        steps.iter().filter(|s| s["completed"] == true).map(|s| s["path"].as_str().unwrap()).collect();
    assert!(completed.len() >= 2 && completed[0].ends_with("0001_create_users.sql"), "{completed:?}");
    assert!(!completed.iter().any(|p| p.ends_with("0005_unique_user_name.sql")), "{completed:?}");

    let run = myapp(&db.url, &["schema", "apply"], &baseline);
    run.exits(1);
    assert!(run.stderr.contains("0005_unique_user_name.sql:"), "{}", run.stderr);
    assert!(run.stderr.contains("statement failed"), "{}", run.stderr);
    assert!(run.stdout.contains("  + 0005 unique_user_name"), "the plan that was attempted: {}", run.stdout);
}

/// A user with a password on the test's database, dropped when the test ends.
struct MySqlUser {
    admin_url: String,
    name: String,
}

impl Drop for MySqlUser {
    fn drop(&mut self) {
        let (admin, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::MySqlConnection::connect(&admin).await {
                    for host in ["%", "localhost", "127.0.0.1"] {
                        let drop = format!("DROP USER IF EXISTS '{name}'@'{host}'");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut c).await;
                    }
                }
            })
        })
        .join();
    }
}

/// The password of the secret tests, as the server knows it and as the URL spells it.
const PASSWORD: &str = "Rel3ase@S3cret";
const PASSWORD_IN_URL: &str = "Rel3ase%40S3cret";

fn assert_no_password(run: &Run, what: &str) {
    let all = run.all();
    for secret in [PASSWORD, PASSWORD_IN_URL] {
        assert!(!all.contains(secret), "{what} printed the password:\n{all}");
    }
}

/// The test database's URL with a password in it (and, on MySQL, a user that needs
/// it); SQLite has no passwords, so its URL carries a token parameter instead.
async fn url_with_password(db: &TestDb) -> (String, Option<MySqlUser>) {
    let (scheme, rest) = db.url.split_once("://").unwrap_or(("sqlite", ""));
    match db.kind {
        // Trust authentication here: the password is sent, and accepted.
        Kind::Postgres => {
            let (user, host) = rest.split_once('@').unwrap();
            (format!("{scheme}://{user}:{PASSWORD_IN_URL}@{host}"), None)
        }
        Kind::MySql => {
            let name = format!("bsrel{}", std::process::id() ^ rand_suffix());
            let database = database_name(db);
            for host in ["%", "localhost", "127.0.0.1"] {
                db.pool.exec(&format!("CREATE USER '{name}'@'{host}' IDENTIFIED BY '{PASSWORD}'")).await.unwrap();
                db.pool.exec(&format!("GRANT ALL PRIVILEGES ON `{database}`.* TO '{name}'@'{host}'")).await.unwrap();
            }
            let user = MySqlUser { admin_url: common::server_url(Kind::MySql).unwrap(), name: name.clone() };
            let host = rest.split_once('@').unwrap().1;
            (format!("{scheme}://{name}:{PASSWORD_IN_URL}@{host}"), Some(user))
        }
        Kind::Sqlite => (format!("{}&authToken={PASSWORD_IN_URL}", db.url), None),
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 100_000
}

async fn passwords_never_appear_in_any_output(db: TestDb) {
    let (url, _user) = url_with_password(&db).await;
    let debug = [("RUST_LOG", "debug")];
    let mut runs = Vec::new();
    for command in ["status", "plan", "verify", "apply"] {
        runs.push((command, myapp(&url, &["schema", command], &debug)));
        runs.push((command, myapp(&url, &["schema", command, "--json"], &debug)));
    }
    runs.push(("boot", myapp(&url, &[], &debug)));
    // The plan file holds the connection's host, port and database name, never more of it.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let run = myapp(&url, &["schema", "plan", "--out", plan.to_str().unwrap()], &debug);
    assert_no_password(&run, "plan --out");
    if let Ok(text) = std::fs::read_to_string(&plan) {
        for secret in [PASSWORD, PASSWORD_IN_URL] {
            assert!(!text.contains(secret), "the plan file holds the password:\n{text}");
        }
        assert!(text.contains(&database_name(&db)), "{text}");
    } else {
        assert_eq!(db.kind, Kind::Sqlite, "only SQLite's URL (with its unknown parameter) cannot be planned: {run:?}");
    }
    for run in [myapp(&url, &["schema", "snapshot"], &debug), myapp(&url, &["schema", "snapshot", "--json"], &debug)] {
        assert_no_password(&run, "snapshot");
    }
    for (what, run) in &runs {
        assert_no_password(run, what);
    }
    if db.kind == Kind::Sqlite {
        // sqlx refuses the unknown parameter: every command fails, naming it, not its value.
        for (what, run) in &runs {
            assert_ne!(run.code, 0, "{what}: {run:?}");
        }
        assert!(runs[0].1.stderr.contains("authToken"), "{}", runs[0].1.stderr);
        return;
    }
    let codes: Vec<i32> = runs.iter().map(|(_, r)| r.code).collect();
    assert_eq!(codes, [0, 0, 0, 0, 2, 2, 0, 0, 0], "status, plan, verify (pending), apply, boot");
    let header = runs[0].1.stdout.lines().next().unwrap();
    assert!(header.contains("127.0.0.1:") && header.contains(&database_name(&db)), "{header}");

    // A failed statement, with the password in the URL.
    db.pool.exec("DROP TABLE bootschema_history").await.unwrap();
    db.pool.exec("DROP VIEW user_stats").await.unwrap();
    for table in ["settings", "users"] {
        db.pool.exec(&format!("DROP TABLE {table}")).await.unwrap();
    }
    db.pool.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)").await.unwrap();
    let debug = [("RUST_LOG", "debug"), ("MYAPP_SCHEMA_BASELINE", "0")];
    for args in [&["schema", "apply"][..], &["schema", "apply", "--json"], &[]] {
        let run = myapp(&url, args, &debug);
        assert_ne!(run.code, 0, "{run:?}");
        assert!(run.all().contains("statement failed"), "{run:?}");
        assert_no_password(&run, "a failed statement");
    }
}

async fn connection_errors_exit_1_without_the_password(db: TestDb) {
    let url = match db.kind {
        Kind::Postgres => format!("postgres://postgres:{PASSWORD_IN_URL}@no-such-host.invalid:5432/app"),
        Kind::MySql => {
            let host = db.url.split_once('@').unwrap().1;
            format!("mysql://root:{PASSWORD_IN_URL}@{host}")
        }
        Kind::Sqlite => format!("sqlite:/no/such/dir/app.db?mode=ro&password={PASSWORD_IN_URL}"),
    };
    let run = myapp(&url, &["schema", "status"], &[]);
    run.exits(1);
    assert!(run.stderr.contains("error: cannot connect to "), "{}", run.stderr);
    assert!(run.stdout.contains("database not reached"), "{}", run.stdout);
    assert_no_password(&run, "status");
    if db.kind == Kind::MySql {
        assert!(run.stderr.contains("Access denied"), "the wrong password is the reason: {}", run.stderr);
    }

    let run = myapp(&url, &["schema", "verify", "--json"], &[]);
    let document = run.exits(1).json();
    assert_eq!(document["outcome"]["status"], "failed");
    assert!(document["outcome"]["error"].as_str().unwrap().starts_with("cannot connect to "), "{document}");
    assert_eq!(document["target"]["database"], Value::Null);
    assert_eq!(document["steps"], serde_json::json!([]));
    assert_no_password(&run, "verify --json");

    let boot = myapp(&url, &[], &[]);
    assert_ne!(boot.code, 0);
    assert_no_password(&boot, "the app's own connection error");
}

/// A table, then a snippet that drops one of its columns.
const DESTRUCTIVE: &[(&str, &str)] = &[
    ("0001_create_items.sql", "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, price INTEGER);\n"),
    ("0002_drop_price.sql", "-- destructive\nALTER TABLE items DROP COLUMN price;\n"),
];

/// Runs the release command in-process: `args` after `schema`, answers when a person
/// is at a terminal; returns the exit status, stdout and stderr.
async fn release(
    db: &TestDb,
    release: &Release<'_>,
    args: &[&str],
    answers: Option<&'static str>,
) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let mut console = Console::new(&mut out, &mut err);
        if let Some(answers) = answers {
            console = console.answers(answers.as_bytes());
        }
        let target = db.target();
        release.run(args.iter().map(Into::into), || async move { Ok::<_, sqlx::Error>(target) }, &mut console).await
    };
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// `items` applied, then the snippet that drops its column added.
async fn items_then_a_destructive_snippet(db: &TestDb) -> SnippetDir {
    let dir = SnippetDir::new(&DESTRUCTIVE[..1]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(DESTRUCTIVE[1].0, DESTRUCTIVE[1].1);
    dir
}

async fn has_price(db: &TestDb) -> bool {
    db.catalog().await.iter().any(|l| l.contains("price"))
}

async fn destructive_snippets_need_the_variable_without_a_terminal(db: TestDb) {
    let set = items_then_a_destructive_snippet(&db).await.snippets();
    assert!(has_price(&db).await);
    let command = Release::new(syncer(&set));
    let (code, out, err) = release(&db, &command, &["apply"], None).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("  ! 0002 drop_price") && out.contains("blocked") && out.contains("[destructive]"), "{out}");
    assert!(out.contains("statement 1 (line 2): ALTER TABLE items DROP COLUMN price  destructive"), "{out}");
    assert!(err.contains("BSTEST_SCHEMA_ALLOW_DESTRUCTIVE=1"), "{err}");
    assert!(has_price(&db).await, "nothing was applied");

    // --yes is a person's consent at a terminal; a pipeline cannot skip the review with it.
    let (code, _, err) = release(&db, &command, &["apply", "--yes"], None).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--yes is consent given at a terminal"), "{err}");
    assert!(has_price(&db).await);

    // The variable (here, its builder equivalent) allows it.
    let allowed = Release::new(syncer(&set).allow_destructive(true));
    let (code, out, err) = release(&db, &allowed, &["apply", "--json"], None).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let document: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["steps"][1]["destructive"], true);
    assert_eq!(document["steps"][1]["statements"][0]["destructive"], true);
    assert!(!has_price(&db).await, "the column is gone");
}

async fn at_a_terminal_apply_asks_before_destructive_snippets(db: TestDb) {
    let dir = items_then_a_destructive_snippet(&db).await;
    let set = dir.snippets();
    let command = Release::new(syncer(&set));

    let (code, out, err) = release(&db, &command, &["apply"], Some("no\n")).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("1 destructive snippet(s) would run on") && err.contains("0002_drop_price.sql"), "{err}");
    assert!(err.contains("Apply them?") && err.contains("declined"), "{err}");
    assert!(has_price(&db).await, "declined: nothing was applied");
    assert_eq!(db.ledger().await.len(), 1, "only the earlier snippet is recorded");

    let (code, out, err) = release(&db, &command, &["apply"], Some("yes\n")).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("2 snippet(s): 1 applied, 1 up to date"), "{out}");
    assert_eq!(err.matches("Apply them?").count(), 1, "{err}");
    assert!(!has_price(&db).await, "consented: the column is gone");

    // --yes answers for the person: nothing is read, nothing asked.
    dir.write("0003_drop_items.sql", "-- destructive\nDROP TABLE items;\n");
    let set = dir.snippets();
    let command = Release::new(syncer(&set));
    let (code, out, err) = release(&db, &command, &["apply", "--yes"], Some("")).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("Apply them?"), "{err}");
    assert!(!db.has_table("items").await);
}

async fn partly_done_snippet_shows_each_statement(db: TestDb) {
    // Statement by statement (`transaction: none`), the second one failing: the first
    // is recorded as done, and the fixed snippet resumes after it.
    let pair = |second: &str| {
        format!("-- transaction: none\nCREATE TABLE pair_left (id INTEGER);\nINSERT INTO {second} (id) VALUES (1);\n")
    };
    let dir = SnippetDir::new(&[("0001_create_pair.sql", &pair("no_such_table"))]);
    let set = dir.snippets();
    let (code, _, err) = release(&db, &Release::new(syncer(&set)), &["apply"], None).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("sql/0001_create_pair.sql:3"), "{err}");
    dir.write("0001_create_pair.sql", &pair("pair_left"));
    let set = dir.snippets();
    let command = Release::new(syncer(&set));

    let (code, out, err) = release(&db, &command, &["plan"], None).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("  + 0001 create_pair") && out.contains("resuming"), "{out}");
    assert!(out.contains("      ✓ statement 1 (line 2): CREATE TABLE pair_left (id INTEGER)  already done"), "{out}");
    assert!(out.contains("      + statement 2 (line 3): INSERT INTO pair_left (id) VALUES (1)\n"), "{out}");

    let (code, out, _) = release(&db, &command, &["verify", "--json"], None).await;
    assert_eq!(code, 2);
    let document: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["steps"][0]["statements_skipped"], serde_json::json!([0]));
    assert_eq!(document["steps"][0]["statements"][0]["skipped"], true);
    assert_eq!(document["steps"][0]["statements"][1]["skipped"], false);

    let (code, out, _) = release(&db, &command, &["apply"], None).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 of 2 statement(s) ran"), "{out}");
    assert_eq!(db.pool.count("SELECT COUNT(*) FROM pair_left").await, 1);
}

#[test]
fn other_command_lines_are_left_to_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("app.db").display());
    let run = myapp(&url, &["--port", "8080", "serve"], &[]);
    run.exits(0);
    assert!(run.stdout.contains("Hello from a self-syncing schema"), "the app booted and served: {}", run.stdout);
}

#[test]
fn help_explains_each_command() {
    let run = myapp("sqlite::memory:", &["schema", "--help"], &[]);
    run.exits(0);
    for line in ["status ", "plan ", "verify ", "apply ", "--json", "--yes", "Exit status: 0 success, 1 an error, 2"] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let apply = myapp("sqlite::memory:", &["schema", "apply", "--help"], &[]);
    apply.exits(0);
    assert!(apply.stdout.contains("Usage: myapp schema apply [--json] [--yes]"), "{}", apply.stdout);
    assert!(apply.stdout.contains("MYAPP_SCHEMA_ALLOW_DESTRUCTIVE=1"), "{}", apply.stdout);
}

#[test]
fn usage_errors_exit_1_and_show_the_usage_without_connecting() {
    // An unreachable database: a usage error must not even try it.
    let url = "postgres://postgres@no-such-host.invalid:5432/app";
    for (args, message) in [
        (&["schema"][..], "error: a command is missing"),
        (&["schema", "migrate"], "error: unknown command `migrate`"),
        (&["schema", "plan", "--force"], "error: invalid option '--force'"),
        (&["schema", "status", "--yes"], "error: --yes only applies to `apply`"),
    ] {
        let run = myapp(url, args, &[]);
        run.exits(1);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("Usage: myapp schema <COMMAND>"), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("cannot connect"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

/// An `unless` query that fails with nothing run before it stops a boot: `plan`,
/// `verify` and `status` say so, with the database's error, and exit 1 (issue 16, item
/// 9); a guard over a table an earlier snippet creates is only asked again later.
async fn a_failing_guard_query_fails_plan_verify_and_status(db: TestDb) {
    let dir = SnippetDir::new(&[(
        "0001_seed.sql",
        "-- guard: unless(SELECT 1 FROM no_such_table)\nCREATE TABLE seeded (id INT);\n",
    )]);
    let set = dir.snippets();
    let command = Release::new(syncer(&set));
    let (code, out, err) = release(&db, &command, &["plan"], None).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("guard failed:") && out.contains("no_such_table"), "the text plan shows the error: {out}");
    assert!(!out.contains("missing: unless"), "an error is not 'missing': {out}");
    assert!(err.contains("0001_seed.sql:1") && err.contains("the guard query"), "{err}");
    for args in [&["verify"][..], &["status"], &["plan", "--json"]] {
        let (code, out, err) = release(&db, &command, args, None).await;
        assert_eq!(code, 1, "{args:?}: {out}\n{err}");
    }
    let (_, out, _) = release(&db, &command, &["plan", "--json"], None).await;
    let document: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["outcome"]["status"], "failed");
    assert!(document["outcome"]["error"].as_str().unwrap().contains("no_such_table"), "{document}");
    assert!(syncer(&set).run(db.target()).await.is_err(), "the boot fails on it too");

    // The table created by an earlier snippet of the same plan: asked again then.
    let dir = SnippetDir::new(&[
        ("0001_t.sql", "CREATE TABLE t (id INT);\n"),
        ("0002_seed.sql", "-- guard: unless(SELECT 1 FROM t)\nINSERT INTO t VALUES (1);\n"),
    ]);
    let set = dir.snippets();
    let (code, out, err) = release(&db, &Release::new(syncer(&set)), &["plan"], None).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("asked again after the earlier snippets run"), "{out}");
}

/// `host:port` of a test server's URL.
fn host_port(url: &str) -> String {
    let after = url.split_once('@').map_or(url, |(_, rest)| rest);
    after.split('/').next().unwrap().to_string()
}

/// A connection that fails names the host, port and database and why, within the
/// connect timeout, and tells a server of the other kind apart (issue 16, item 7).
#[test]
fn connection_failures_name_the_target_come_fast_and_tell_a_wrong_server_kind() {
    let timeout = [("MYAPP_SCHEMA_CONNECT_TIMEOUT", "2s")];
    // A free port: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://postgres:{PASSWORD_IN_URL}@127.0.0.1:{port}/app");
    let started = std::time::Instant::now();
    let run = myapp(&url, &["schema", "plan"], &timeout);
    let took = started.elapsed();
    run.exits(1);
    assert!(took < std::time::Duration::from_secs(10), "a refused port fails within the timeout: {took:?}");
    let place = format!("127.0.0.1:{port}");
    assert!(run.stderr.contains(&place) && run.stderr.contains("database app"), "{}", run.stderr);
    assert!(run.stderr.contains("refused"), "why: {}", run.stderr);
    assert_no_password(&run, "plan on a free port");

    let run = myapp(&url, &["schema", "status", "--json"], &timeout);
    let document = run.exits(1).json();
    assert_eq!(document["target"]["host"], "127.0.0.1", "{document}");
    assert_eq!(document["target"]["port"], port, "{document}");
    assert_eq!(document["target"]["database_name"], "app", "{document}");
    assert_no_password(&run, "status --json on a free port");

    // Each server's URL with the other's scheme.
    let (Some(postgres), Some(mysql)) = (common::server_url(Kind::Postgres), common::server_url(Kind::MySql)) else {
        return;
    };
    let (pg_at, my_at) = (host_port(&postgres), host_port(&mysql));
    for (url, at, expected, actual) in [
        (format!("mysql://root:{PASSWORD_IN_URL}@{pg_at}/test"), &pg_at, "not as MySQL/MariaDB", "PostgreSQL"),
        (format!("postgres://postgres:{PASSWORD_IN_URL}@{my_at}/test"), &my_at, "not as PostgreSQL", "MySQL"),
    ] {
        let started = std::time::Instant::now();
        let run = myapp(&url, &["schema", "plan"], &timeout);
        let took = started.elapsed();
        run.exits(1);
        assert!(took < std::time::Duration::from_secs(10), "{url}: {took:?}");
        let answered = format!("the server at {at} answered, but {expected}");
        assert!(run.stderr.contains(&answered) && run.stderr.contains(actual), "{}", run.stderr);
        assert!(run.stderr.contains("is the URL's scheme right"), "{}", run.stderr);
        assert_no_password(&run, "a wrong server kind");
    }
}

/// `schema snapshot`: the synced reference app's tables, the same bytes on two runs,
/// `--out` writes the document (JSON that reads back), and the ledger is not in it.
async fn snapshot_writes_the_same_document_twice_and_reads_back(db: TestDb) {
    schema(&db, &["apply"]).exits(0);
    let text = schema(&db, &["snapshot"]);
    text.exits(0);
    assert!(text.stdout.contains("table users") && text.stdout.contains("table settings"), "{}", text.stdout);
    assert!(!text.stdout.contains("bootschema_history"), "{}", text.stdout);
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("a.json"), dir.path().join("b.json")];
    for path in &paths {
        let run = schema(&db, &["snapshot", "--json", "--out", path.to_str().unwrap()]);
        run.exits(0);
        assert!(run.stdout.is_empty() && run.stderr.contains("written to"), "{run:?}");
    }
    let (a, b) = (std::fs::read(&paths[0]).unwrap(), std::fs::read(&paths[1]).unwrap());
    assert_eq!(a, b, "two snapshots of one schema, byte for byte");
    let snapshot = bootschema::Snapshot::from_json(std::str::from_utf8(&a).unwrap()).unwrap();
    let tables: Vec<&str> = snapshot.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["settings", "users"]);
    assert_eq!(snapshot.views.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["user_stats"]);
    // --out is for snapshot and plan; a file that cannot be written is an error naming it.
    let run = schema(&db, &["verify", "--out", "x"]);
    assert!(run.exits(1).stderr.contains("--out only applies to `snapshot` and `plan`"), "{run:?}");
    let run = schema(&db, &["snapshot", "--out", "/nonexistent-dir/s.json"]);
    assert!(run.exits(1).stderr.contains("/nonexistent-dir/s.json"), "{run:?}");
}
