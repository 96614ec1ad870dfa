//! The reference app, driven as a subprocess the way a platform boots it.

mod common;

use std::process::{Command, Output};

use common::{Kind, TestDb};

fn myapp(db: &TestDb, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myapp"));
    command.env("DATABASE_URL", &db.url).env("RUST_LOG", "info,sqlx=warn").env_remove("MYAPP_SCHEMA_DRY_RUN");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("running myapp");
    assert!(
        output.status.success(),
        "myapp failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

on_every_database!(
    reference_app_syncs_its_schema_then_uses_it,
    dry_run_variable_changes_nothing,
    sync_off_variable_skips_the_boot_sync,
);

async fn reference_app_syncs_its_schema_then_uses_it(db: TestDb) {
    let first = stdout(&myapp(&db, &[]));
    assert!(first.contains(": 7 applied in "), "{first}");
    assert!(first.contains("Hello from a self-syncing schema: added user"), "{first}");
    assert!(first.contains("1 user(s), 1 with an email"), "{first}");
    let second = stdout(&myapp(&db, &[]));
    // The second boot finds the ledger's mark of these 7 snippets and reads nothing else.
    assert!(second.contains(": in sync: 7 snippets recorded (ledger mark) in "), "{second}");
    assert!(second.contains("2 user(s), 2 with an email"), "{second}");
    let kind = match db.kind {
        Kind::Postgres => "PostgreSQL",
        Kind::MySql => "MySQL",
        Kind::Sqlite => "SQLite",
    };
    assert!(first.starts_with(&format!("schema ({kind} ")), "{first}");
    assert!(second.starts_with(&format!("schema ({kind}): ")), "{second}");
}

async fn dry_run_variable_changes_nothing(db: TestDb) {
    let before = db.catalog().await;
    let output = myapp(&db, &[("MYAPP_SCHEMA_DRY_RUN", "1")]);
    let out = stdout(&output);
    assert!(out.contains("dry run, would have: 7 applied"), "{out}");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("would apply"), "the plan is logged: {log}");
    assert_eq!(db.catalog().await, before, "no ledger table, no DDL");
}

async fn sync_off_variable_skips_the_boot_sync(db: TestDb) {
    let out = stdout(&myapp(&db, &[("MYAPP_SCHEMA_SYNC", "off")]));
    assert!(out.contains("not synced by this boot"), "{out}");
    assert!(out.contains("schema sync is off: 7 snippets embedded, none read"), "not 'no snippets': {out}");
    assert!(db.catalog().await.is_empty(), "nothing was created");
}

/// The app's output as a platform or a shell sees it: no colour codes in a log that
/// is not a terminal, a reader that goes away (`| head -c0`) ends the output quietly,
/// and a full disk (`> /dev/full`) is an error, for the app and for `schema` commands.
#[tokio::test]
async fn output_to_pipes_files_and_full_disks_behaves() {
    let Some(db) = TestDb::new(Kind::Sqlite).await else { return };
    let output = myapp(&db, &[]);
    assert!(!output.stderr.contains(&0x1b), "no ANSI escapes when stderr is not a terminal");
    let shell = |line: &str| {
        let output = Command::new("bash")
            .args(["-c", line])
            .env("APP", env!("CARGO_BIN_EXE_myapp"))
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("bash");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    for line in
        [r#""$APP" | head -c0; echo "${PIPESTATUS[0]}""#, r#""$APP" schema plan | head -c0; echo "${PIPESTATUS[0]}""#]
    {
        assert_eq!(shell(line), "0", "a closed pipe ends the output quietly: {line}");
    }
    for line in [
        r#""$APP" > /dev/full 2>/dev/null; echo $?"#,
        r#""$APP" schema verify --json > /dev/full 2>/dev/null; echo $?"#,
    ] {
        assert_eq!(shell(line), "1", "a write error fails: {line}");
    }
}
