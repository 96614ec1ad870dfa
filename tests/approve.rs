//! Approve a plan, apply exactly that plan: `Syncer::plan_for_approval` and
//! `Syncer::approved_plan` with snippet sets of the tests' own (two sets where a snippet
//! is added after approval), and `myapp schema plan --out` / `apply --plan` through the
//! binary, the way a release phase runs them, on every database.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use bootschema::{Action, ApprovedPlan, Error, ErrorKind, PlanChange, SnippetSet};
use common::{syncer, Kind, Pool, SnippetDir, TestDb};
use serde_json::Value;

const USERS: (&str, &str) = ("0001_create_users.sql", "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY);\n");
const EMAIL: (&str, &str) = ("0002_add_email.sql", "ALTER TABLE users ADD COLUMN email VARCHAR(320);\n");
const NAME: (&str, &str) = ("0003_add_name.sql", "ALTER TABLE users ADD COLUMN name VARCHAR(100);\n");

/// The plan of `set` on `db`, as a reviewer approves it.
async fn approve(db: &TestDb, set: &SnippetSet) -> ApprovedPlan {
    syncer(set).plan_for_approval(db.target()).await.expect("planning for approval").1
}

/// The changes a refusal names, and whether it came before anything was applied.
#[track_caller]
fn not_approved(error: &Error) -> (&[PlanChange], bool) {
    match error.kind() {
        ErrorKind::NotApproved { changes, nothing_applied, .. } => (changes, *nothing_applied),
        other => panic!("expected a refusal of the approved plan, got: {other}"),
    }
}

/// `version state` of each ledger row, or nothing when there is no ledger table.
async fn ledger(db: &TestDb) -> Vec<String> {
    if !db.has_table("bootschema_history").await {
        return Vec::new();
    }
    db.ledger().await.iter().map(|row| row.rsplit_once(' ').unwrap().0.to_string()).collect()
}

/// What a refused apply must leave as it found it: the schema, the ledger's rows and
/// its mark; and on PostgreSQL, no advisory lock.
async fn state(db: &TestDb) -> (Vec<String>, Vec<String>, Option<String>) {
    let mark = if db.has_table("bootschema_history").await { db.mark().await } else { None };
    (db.catalog().await, ledger(db).await, mark)
}

async fn no_lock_left(db: &TestDb) {
    if db.kind == Kind::Postgres {
        assert_eq!(db.advisory_locks().await, 0, "the lock is released");
    }
}

/// A new plan of `set`, approved and applied on a pool of its own within a short lock
/// timeout: the way out of a refusal, and the proof that the refused apply left no lock
/// behind (it would make this one wait and fail).
async fn approve_again_and_apply(db: &TestDb, set: &SnippetSet) -> bootschema::SyncReport {
    let plan = approve(db, set).await;
    let pool = db.new_pool().await;
    let report = syncer(set)
        .lock_timeout(Duration::from_secs(2))
        .approved_plan(plan)
        .run(pool.target())
        .await
        .expect("a new plan, approved, applies");
    pool.close().await;
    report
}

on_every_database!(
    an_approved_plan_applies_exactly_its_steps,
    a_snippet_added_after_approval_is_refused_and_nothing_is_written,
    the_plan_of_another_database_is_refused,
    a_hand_change_to_a_guarded_object_is_refused,
    a_plan_with_nothing_to_do_succeeds_only_while_there_is_nothing_to_do,
    destructive_snippets_of_an_approved_plan_still_need_consent,
    a_step_outside_the_lock_does_not_break_the_approved_plan,
    a_change_made_while_waiting_for_the_lock_is_found_under_the_lock,
    plan_out_then_apply_plan_through_the_binary,
    apply_plan_refuses_another_database_and_a_hand_change_through_the_binary,
);

async fn an_approved_plan_applies_exactly_its_steps(db: TestDb) {
    let dir = SnippetDir::new(&[USERS, EMAIL]);
    let set = dir.snippets();
    let (report, plan) = syncer(&set).plan_for_approval(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 2, "{}", report.summary());
    assert_eq!(plan.changes(), 2);
    assert_eq!(state(&db).await, (Vec::new(), Vec::new(), None), "planning changed nothing");

    // Through the file, and through another connection (SQLite: another spelling of the
    // file's path): the target is the same database.
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plan.json");
    plan.write(&path).unwrap();
    let read = ApprovedPlan::read(&path).unwrap();
    assert_eq!((read.digest(), read.basis_digest()), (plan.digest(), plan.basis_digest()));
    assert!(plan.digest().starts_with("sha256:") && plan.digest() != plan.basis_digest());
    let url = match db.kind {
        Kind::Sqlite => db.url.replacen("/test.db", "/./test.db", 1),
        _ => db.url.clone(),
    };
    assert!(db.kind != Kind::Sqlite || url != db.url);
    let target = syncer(&set).connect(&url).await.unwrap();
    let done = syncer(&set).approved_plan(read).run(target).await.unwrap();

    let applied: Vec<u64> = done.with_action(Action::Apply).map(|s| s.version).collect();
    assert_eq!(applied, [1, 2], "{}", done.summary());
    let checksums: Vec<String> = set.for_dialect(db.kind.dialect()).iter().map(|s| s.checksum.to_string()).collect();
    assert_eq!(
        db.ledger().await,
        [format!("1 applied {}", checksums[0]), format!("2 applied {}", checksums[1])],
        "the ledger shows the approved steps"
    );
    assert_eq!(db.mark().await.as_deref(), Some(set.mark(db.kind.dialect()).as_ref()));
    assert!(db.catalog().await.iter().any(|l| l.to_lowercase().contains("email")), "the column was added");
}

async fn a_snippet_added_after_approval_is_refused_and_nothing_is_written(db: TestDb) {
    let dir = SnippetDir::new(&[USERS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(EMAIL.0, EMAIL.1);
    let approved_set = dir.snippets();
    let plan = approve(&db, &approved_set).await;
    // Another snippet lands after the review: the release's set is not the approved one.
    dir.write(NAME.0, NAME.1);
    let release_set = dir.snippets();
    let before = state(&db).await;
    assert_eq!(before.1, ["1 applied"]);
    assert!(before.2.is_some(), "the earlier sync left its mark");

    let error = syncer(&release_set).approved_plan(plan).run(db.target()).await.unwrap_err();
    let (changes, nothing_applied) = not_approved(&error);
    assert!(nothing_applied);
    assert_eq!(changes, [PlanChange::SnippetAdded { path: "sql/0003_add_name.sql".into(), action: Action::Apply }]);
    let message = error.to_string();
    assert!(message.contains("sql/0003_add_name.sql: added since approval (it would apply)"), "{message}");
    assert!(message.contains("nothing was applied"), "{message}");
    assert_eq!(state(&db).await, before, "no statement ran, no ledger row, the same mark");
    no_lock_left(&db).await;

    let report = approve_again_and_apply(&db, &release_set).await;
    assert_eq!(report.count(Action::Apply), 2, "{}", report.summary());
    assert_eq!(ledger(&db).await, ["1 applied", "2 applied", "3 applied"]);
}

async fn the_plan_of_another_database_is_refused(db: TestDb) {
    let Some(other) = TestDb::new(db.kind).await else { return };
    let dir = SnippetDir::new(&[USERS, EMAIL]);
    let set = dir.snippets();
    let plan = approve(&db, &set).await;

    let error = syncer(&set).approved_plan(plan).run(other.target()).await.unwrap_err();
    let (changes, nothing_applied) = not_approved(&error);
    assert!(nothing_applied);
    let [PlanChange::Target { approved, now }] = changes else { panic!("{changes:?}") };
    assert_ne!(approved, now);
    let name = |db: &TestDb| match db.kind {
        Kind::Sqlite => common::sqlite_path(&db.url).to_string(),
        _ => db.url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string(),
    };
    assert!(approved.contains(&name(&db)) && now.contains(&name(&other)), "{approved} / {now}");
    assert!(error.to_string().contains("another database: the plan was approved for"), "{error}");
    assert_eq!(state(&other).await, (Vec::new(), Vec::new(), None), "nothing was written to the other database");
    no_lock_left(&other).await;
}

async fn a_hand_change_to_a_guarded_object_is_refused(db: TestDb) {
    let dir = SnippetDir::new(&[USERS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(EMAIL.0, EMAIL.1);
    let set = dir.snippets();
    let plan = approve(&db, &set).await;
    // After the review, someone adds the column by hand: the approved `apply` would now
    // be an `adopt`, which nobody approved.
    db.pool.exec("ALTER TABLE users ADD COLUMN email VARCHAR(320)").await.unwrap();
    let before = state(&db).await;

    let error = syncer(&set).approved_plan(plan).run(db.target()).await.unwrap_err();
    let (changes, _) = not_approved(&error);
    let [PlanChange::Action { path, approved, now, why }] = changes else { panic!("{changes:?}") };
    assert_eq!((path.as_str(), *approved, *now), ("sql/0002_add_email.sql", Action::Apply, Action::Adopt));
    assert_eq!(why, "column_missing(users.email) was missing, now present");
    let message = error.to_string();
    assert!(
        message.contains(
            "sql/0002_add_email.sql: approved apply, now adopt: column_missing(users.email) was missing, now present"
        ),
        "{message}"
    );
    assert_eq!(state(&db).await, before, "nothing recorded: the adopt was not approved either");
    assert_eq!(before.1, ["1 applied"]);
    no_lock_left(&db).await;

    let report = approve_again_and_apply(&db, &set).await;
    assert_eq!(report.count(Action::Adopt), 1, "{}", report.summary());
}

async fn a_plan_with_nothing_to_do_succeeds_only_while_there_is_nothing_to_do(db: TestDb) {
    let dir = SnippetDir::new(&[USERS]);
    let set = dir.snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let plan = approve(&db, &set).await;
    assert_eq!(plan.changes(), 0);
    let before = state(&db).await;

    let report = syncer(&set).approved_plan(plan.clone()).run(db.target()).await.unwrap();
    assert_eq!((report.count(Action::Skip), report.changed_anything()), (1, false), "{}", report.summary());
    assert_eq!(state(&db).await, before);

    dir.write(EMAIL.0, EMAIL.1);
    let grown = dir.snippets();
    let error = syncer(&grown).approved_plan(plan).run(db.target()).await.unwrap_err();
    let (changes, _) = not_approved(&error);
    assert_eq!(changes, [PlanChange::SnippetAdded { path: "sql/0002_add_email.sql".into(), action: Action::Apply }]);
    assert_eq!(state(&db).await, before, "the new snippet did not run");
}

const ITEMS: (&str, &str) =
    ("0001_create_items.sql", "CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, price INTEGER);\n");
const DROP_PRICE: (&str, &str) = ("0002_drop_price.sql", "-- destructive\nALTER TABLE items DROP COLUMN price;\n");

async fn has_price(db: &TestDb) -> bool {
    db.catalog().await.iter().any(|l| l.contains("price"))
}

async fn destructive_snippets_of_an_approved_plan_still_need_consent(db: TestDb) {
    let dir = SnippetDir::new(&[ITEMS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(DROP_PRICE.0, DROP_PRICE.1);
    let set = dir.snippets();
    // The report shows the snippet as the settings decide it (blocked); the approved
    // plan shows what it would run, for the reviewer.
    let (report, plan) = syncer(&set).plan_for_approval(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Blocked), 1, "{}", report.summary());
    assert_eq!((plan.changes(), plan.destructive()), (1, vec!["sql/0002_drop_price.sql"]));

    let error = syncer(&set).approved_plan(plan.clone()).run(db.target()).await.unwrap_err();
    let ErrorKind::Refused(refusal) = error.kind() else { panic!("approval is not consent: {error}") };
    assert_eq!(refusal.blocked.iter().map(|s| s.version).collect::<Vec<_>>(), [2]);
    assert!(error.to_string().contains("BSTEST_SCHEMA_ALLOW_DESTRUCTIVE=1"), "{error}");
    assert!(has_price(&db).await, "nothing ran");
    assert_eq!(ledger(&db).await, ["1 applied"]);

    let report = syncer(&set).allow_destructive(true).approved_plan(plan).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 1, "{}", report.summary());
    assert!(!has_price(&db).await, "allowed and approved: the column is gone");
}

async fn a_step_outside_the_lock_does_not_break_the_approved_plan(db: TestDb) {
    // A `transaction: none` snippet runs without the lock's transaction (PostgreSQL,
    // SQLite), and the sync plans again after it: the rest of the approved plan goes on.
    let dir = SnippetDir::new(&[
        USERS,
        ("0002_create_tags.sql", "-- transaction: none\nCREATE TABLE tags (id INTEGER NOT NULL PRIMARY KEY);\n"),
        NAME,
    ]);
    let set = dir.snippets();
    let plan = approve(&db, &set).await;
    let report = syncer(&set).approved_plan(plan).run(db.target()).await.unwrap();
    assert_eq!(report.count(Action::Apply), 3, "{}", report.summary());
    assert_eq!(ledger(&db).await, ["1 applied", "2 applied", "3 applied"]);
}

/// Holds bootschema's schema lock on a connection of the test's own, as another
/// instance applying would (the lock's name as the dialect files derive it: were it
/// wrong, the apply would not wait and the test would fail).
enum Holder {
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection, String),
    Sqlite(sqlx::SqliteConnection),
}

impl Holder {
    async fn take(db: &TestDb) -> Holder {
        use sha2::{Digest, Sha256};
        use sqlx::{AssertSqlSafe, Connection};
        match db.kind {
            Kind::Postgres => {
                let digest = Sha256::digest(b"bootschema:bootschema_history");
                let key = i64::from_be_bytes(digest[..8].try_into().unwrap());
                let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
                let sql = format!("BEGIN; SELECT pg_advisory_xact_lock({key})");
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
                Holder::Postgres(c)
            }
            Kind::MySql => {
                let database = db.url.split('?').next().unwrap().rsplit('/').next().unwrap();
                let digest = Sha256::digest(format!("{database}:bootschema_history").as_bytes());
                let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
                let name = format!("bootschema:{hex}");
                let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
                let got: Option<i64> =
                    sqlx::query_scalar("SELECT GET_LOCK(?, 5)").bind(&name).fetch_one(&mut c).await.unwrap();
                assert_eq!(got, Some(1));
                Holder::MySql(c, name)
            }
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
                Holder::Sqlite(c)
            }
        }
    }

    /// Whether another connection waits for the lock (SQLite cannot tell: a second).
    async fn awaited(db: &TestDb) -> bool {
        let sql = match db.kind {
            Kind::Postgres => {
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            }
            Kind::MySql => {
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND STATE = 'User lock'"
            }
            Kind::Sqlite => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                return true;
            }
        };
        db.pool.count(sql).await > 0
    }

    /// Runs `sql` as the holder would (SQLite: the holder is the only writer), then
    /// releases the lock.
    async fn change_and_release(self, db: &TestDb, sql: &str) {
        use sqlx::AssertSqlSafe;
        match self {
            Holder::Postgres(mut c) => {
                db.pool.exec(sql).await.unwrap();
                sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
            }
            Holder::MySql(mut c, name) => {
                db.pool.exec(sql).await.unwrap();
                sqlx::query("SELECT RELEASE_LOCK(?)").bind(name).execute(&mut c).await.unwrap();
            }
            Holder::Sqlite(mut c) => {
                sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut c).await.unwrap();
                sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
            }
        }
    }
}

async fn a_change_made_while_waiting_for_the_lock_is_found_under_the_lock(db: TestDb) {
    let dir = SnippetDir::new(&[USERS]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    dir.write(EMAIL.0, EMAIL.1);
    let set = std::sync::Arc::new(dir.snippets());
    let plan = approve(&db, &set).await;
    // Another instance holds the lock. The apply looks (the plan still holds), then waits
    // for the lock; meanwhile the column is added by hand. Only the look under the lock
    // can see it: were the plan compared before the lock alone, the apply would record
    // the snippet as adopted, which nobody approved.
    let holder = Holder::take(&db).await;
    let target = db.new_pool().await.target();
    let apply = {
        let set = set.clone();
        tokio::spawn(
            async move { syncer(&set).lock_timeout(Duration::from_secs(20)).approved_plan(plan).run(target).await },
        )
    };
    let started = std::time::Instant::now();
    while !Holder::awaited(&db).await {
        assert!(started.elapsed() < Duration::from_secs(15), "the apply never waited for the lock");
        assert!(!apply.is_finished(), "the apply ended without waiting for the lock");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    holder.change_and_release(&db, "ALTER TABLE users ADD COLUMN email VARCHAR(320)").await;

    let error = apply.await.unwrap().unwrap_err();
    let (changes, nothing_applied) = not_approved(&error);
    assert!(nothing_applied);
    let [PlanChange::Action { approved, now, .. }] = changes else { panic!("{changes:?}") };
    assert_eq!((*approved, *now), (Action::Apply, Action::Adopt));
    assert_eq!(ledger(&db).await, ["1 applied"], "nothing recorded");
    no_lock_left(&db).await;
}

// ---- through the binary ------------------------------------------------------------

/// What one run of the binary printed, and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn exits(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit status\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}): {self:?}"))
    }
}

/// `myapp schema <args>` against `url`, without a terminal, with the app's variables
/// cleared and then `env` set.
fn schema(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myapp"));
    command.arg("schema").args(args).env("DATABASE_URL", url).env("RUST_LOG", "warn").stdin(Stdio::null());
    for variable in ["DRY_RUN", "ALLOW_DESTRUCTIVE", "SYNC", "LOCK_TIMEOUT", "BASELINE"] {
        command.env_remove(format!("MYAPP_SCHEMA_{variable}"));
    }
    command.env_remove("MYAPP_ENV");
    command.envs(env.iter().copied());
    let output = command.output().expect("running myapp");
    Run {
        code: output.status.code().expect("myapp exited with a status"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn dialect_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "postgres",
        Kind::MySql => "mysql",
        Kind::Sqlite => "sqlite",
    }
}

async fn plan_out_then_apply_plan_through_the_binary(db: TestDb) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plan.json");
    let file = path.to_str().unwrap();
    let run = schema(&db.url, &["plan", "--out", file], &[]);
    run.exits(0);
    assert!(run.stdout.contains("7 snippet(s): 7 to apply"), "the plan prints as usual: {}", run.stdout);
    assert!(run.stdout.contains(&format!("plan written to {file} (7 change(s), digest sha256:")), "{}", run.stdout);
    assert!(db.catalog().await.is_empty(), "planning created nothing");

    let plan = read_json(&path);
    assert_eq!((plan["kind"].as_str(), plan["format"].as_u64()), (Some("bootschema-plan"), Some(1)));
    assert_eq!(plan["target"]["dialect"], dialect_word(db.kind));
    let facts = plan["target"]["identity"]["facts"].as_object().unwrap();
    let expected: &[&str] = match db.kind {
        Kind::Postgres => &["database", "database_oid", "system_identifier"],
        // MariaDB here: its server_uid and host name (MySQL has a server_uuid instead).
        Kind::MySql => &["database", "hostname", "server_uid"],
        Kind::Sqlite => &["path"],
    };
    assert_eq!(facts.keys().map(String::as_str).collect::<Vec<_>>(), expected, "{facts:?}");
    assert!(facts.values().all(|v| !v.as_str().unwrap().is_empty()), "{facts:?}");
    assert_eq!(plan["target"]["identity"]["unique"], true);
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    assert!(steps.iter().all(|s| s["action"] == "apply" && !s["statements"].as_array().unwrap().is_empty()));
    let first_sql = steps[0]["statements"][0]["sql"].as_str().unwrap();
    let whole = std::fs::read_to_string(format!("sql/{}/0001_create_users.sql", dialect_word(db.kind))).unwrap();
    assert!(
        first_sql.starts_with("CREATE TABLE users (") && whole.contains(first_sql),
        "the whole statement: {first_sql}"
    );

    // The same plan made again (later, through another connection) has the same digest:
    // what CI compares with the committed plan file.
    let again = folder.path().join("again.json");
    schema(&db.url, &["plan", "--out", again.to_str().unwrap()], &[]).exits(0);
    assert_eq!(read_json(&again)["digest"], plan["digest"]);

    // A dry run says whether the plan still holds, and runs nothing.
    let dry = schema(&db.url, &["apply", "--plan", file], &[("MYAPP_SCHEMA_DRY_RUN", "1")]);
    dry.exits(0);
    assert!(dry.stdout.contains(&format!("the approved plan {file} (sha256:")), "{}", dry.stdout);
    assert!(dry.stdout.contains("is what a sync would do now"), "{}", dry.stdout);
    assert!(db.catalog().await.is_empty(), "the dry run created nothing");

    let document = schema(&db.url, &["apply", "--plan", file, "--json"], &[]).exits(0).json();
    assert_eq!(document["outcome"]["status"], "applied");
    assert_eq!(document["plan_file"]["digest"], plan["digest"]);
    assert_eq!(document["plan_file"]["path"], file);
    let versions: Vec<String> = steps.iter().map(|s| format!("{} applied", s["version"])).collect();
    assert_eq!(ledger(&db).await, versions, "the ledger shows exactly the approved steps");

    // The same approval once more: it was for a database without these rows.
    let again = schema(&db.url, &["apply", "--plan", file], &[]);
    again.exits(1);
    assert!(again.stderr.contains("refusing to apply"), "{}", again.stderr);
    assert!(again.stderr.contains("approved apply, now skip: recorded (applied)"), "{}", again.stderr);
    assert!(again.stderr.contains("the ledger changed: recorded since approval: version 1 (applied)"), "{again:?}");
    assert_eq!(ledger(&db).await, versions);
}

async fn apply_plan_refuses_another_database_and_a_hand_change_through_the_binary(db: TestDb) {
    let Some(other) = TestDb::new(db.kind).await else { return };
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plan.json");
    let file = path.to_str().unwrap();
    schema(&db.url, &["plan", "--out", file], &[]).exits(0);

    let run = schema(&other.url, &["apply", "--plan", file, "--json"], &[]);
    let document = run.exits(1).json();
    assert_eq!(document["outcome"]["status"], "refused");
    let error = document["outcome"]["error"].as_str().unwrap();
    assert!(error.contains("another database: the plan was approved for"), "{error}");
    assert!(run.stderr.contains("another database"), "{}", run.stderr);
    assert!(other.catalog().await.is_empty(), "nothing was written to the other database");

    // A table the first snippet would create, made by hand after approval.
    db.pool.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)").await.unwrap();
    let run = schema(&db.url, &["apply", "--plan", file], &[]);
    run.exits(1);
    let first = match db.kind {
        Kind::Postgres => "sql/postgres/0001_create_users.sql",
        Kind::MySql => "sql/mysql/0001_create_users.sql",
        Kind::Sqlite => "sql/sqlite/0001_create_users.sql",
    };
    let line = format!("{first}: approved apply, now adopt: table_missing(users) was missing, now present");
    assert!(run.stderr.contains(&line), "{}", run.stderr);
    assert!(run.stdout.contains("schema apply"), "the plan found now is shown: {}", run.stdout);
    assert!(!db.has_table("bootschema_history").await, "no ledger was created");
    no_lock_left(&db).await;
}

/// A plan file that cannot be used fails before anything connects, naming the file and
/// what is wrong with it.
#[tokio::test]
async fn a_malformed_or_foreign_plan_file_is_a_clear_error() {
    let db = TestDb::new(Kind::Sqlite).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let at = |name: &str| folder.path().join(name).to_str().unwrap().to_string();
    let good = at("plan.json");
    schema(&db.url, &["plan", "--out", &good], &[]).exits(0);
    let text = std::fs::read_to_string(&good).unwrap();
    let mut plan: Value = serde_json::from_str(&text).unwrap();

    let cases: Vec<(String, String, &str)> = {
        let mut other_format = plan.clone();
        other_format["format"] = 2.into();
        let mut edited = plan.clone();
        edited["steps"][2]["statements"][0]["sql"] = "DROP TABLE users".into();
        let document = schema(&db.url, &["plan", "--json"], &[]).exits(0).stdout.clone();
        vec![
            (at("truncated.json"), text[..text.len() / 2].to_string(), "it is not JSON"),
            (at("document.json"), document, "it looks like a command's `--json` document"),
            (at("format.json"), other_format.to_string(), "it is a plan of format 2"),
            (at("edited.json"), edited.to_string(), "its content does not match its digest"),
        ]
    };
    for (path, content, problem) in &cases {
        std::fs::write(path, content).unwrap();
        let run = schema(&db.url, &["apply", "--plan", path], &[]);
        run.exits(1);
        assert!(run.stderr.contains(&format!("cannot use the plan file {path}: ")), "{}", run.stderr);
        assert!(run.stderr.contains(problem), "{problem}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing but the error: {}", run.stdout);
    }
    let missing = at("missing.json");
    let run = schema(&db.url, &["apply", "--plan", &missing], &[]);
    assert!(run.exits(1).stderr.contains(&format!("cannot use the plan file {missing}: cannot read it")), "{run:?}");
    assert!(db.catalog().await.is_empty(), "no plan file touched the database");

    // The library reads the same way.
    plan["format"] = 7.into();
    let error = ApprovedPlan::from_json(&plan.to_string()).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::PlanFile { .. }), "{error}");
    assert!(ApprovedPlan::from_json(&text).is_ok());

    // `--plan` belongs to `apply`.
    let run = schema(&db.url, &["plan", "--plan", &good], &[]);
    assert!(run.exits(1).stderr.contains("--plan only applies to `apply`"), "{run:?}");
}

/// A role that may not run `pg_control_system()` (some managed services revoke it) gets
/// a plan without the server's system identifier: the connection's host, port and
/// database name then have to match as well.
#[tokio::test]
async fn postgres_without_the_system_identifier_compares_the_connection_too() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let role = Role::create(&db).await;
    let url = role.url.clone();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plan.json");
    let file = path.to_str().unwrap();
    schema(&url, &["plan", "--out", file], &[]).exits(0);
    let identity = read_json(&path)["target"]["identity"].clone();
    assert_eq!(identity["unique"], false, "{identity}");
    assert!(identity["facts"].get("system_identifier").is_none(), "{identity}");
    assert!(identity["note"].as_str().unwrap().contains("pg_control_system()"), "{identity}");

    // The same database through another host name is not proven the same.
    let elsewhere = url.replacen("127.0.0.1", "localhost", 1);
    let run = schema(&elsewhere, &["apply", "--plan", file], &[]);
    if run.code == 1 && run.stderr.contains("another database") {
        assert!(!db.has_table("bootschema_history").await);
    } else {
        // `localhost` did not reach the server (IPv6 only): nothing to compare.
        assert!(run.stderr.contains("cannot connect"), "{run:?}");
    }
    schema(&url, &["apply", "--plan", file], &[]).exits(0);
    assert_eq!(ledger(&db).await.len(), 7);
}

/// A login role for one test, dropped afterwards with what it owns.
struct Role {
    name: String,
    url: String,
    database_url: String,
}

impl Role {
    async fn create(db: &TestDb) -> Role {
        let name = format!("bs_approve_{}", std::process::id());
        let admin = Pool::Postgres(sqlx::PgPool::connect(&common::server_url(Kind::Postgres).unwrap()).await.unwrap());
        admin.exec(&format!("DROP ROLE IF EXISTS {name}")).await.ok();
        admin.exec(&format!("CREATE ROLE {name} LOGIN")).await.unwrap();
        admin.close().await;
        let database = db.url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        db.pool
            .exec(&format!(
                "GRANT ALL ON DATABASE \"{database}\" TO {name}; GRANT ALL ON SCHEMA public TO {name}; \
                 REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC"
            ))
            .await
            .unwrap();
        let (scheme, rest) = db.url.split_once("://").unwrap();
        let host = rest.split_once('@').unwrap().1;
        Role { url: format!("{scheme}://{name}@{host}"), name, database_url: db.url.clone() }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let (name, database) = (self.name.clone(), self.database_url.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&database).await {
                    let _ = Pool::Postgres(pool.clone()).exec(&format!("DROP OWNED BY {name}")).await;
                    pool.close().await;
                }
                if let Ok(pool) = sqlx::PgPool::connect(&common::server_url(Kind::Postgres).unwrap()).await {
                    let _ = Pool::Postgres(pool.clone()).exec(&format!("DROP ROLE IF EXISTS {name}")).await;
                    pool.close().await;
                }
            })
        })
        .join();
    }
}
