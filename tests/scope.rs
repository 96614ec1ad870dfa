//! The PostgreSQL schema scope (`Syncer::schemas`, `Syncer::exclude_schemas` and their
//! variables) on a real server: the snippets run with the scope's search path, the
//! ledger lives in its first schema, guards resolve unqualified names through it and
//! never in an excluded schema, the snapshot reads exactly the scope, the borrowed
//! connection goes back with its own search path, and the release commands' header
//! names the schemas and the installed extensions.

mod common;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};
use sqlx::PgPool;

fn pg_pool(db: &TestDb) -> &PgPool {
    match &db.pool {
        common::Pool::Postgres(p) => p,
        _ => unreachable!("a PostgreSQL test database"),
    }
}

async fn schema_of(db: &TestDb, table: &str) -> Vec<String> {
    db.pool
        .strings(&format!(
            "SELECT table_schema::text FROM information_schema.tables WHERE table_name = '{table}' ORDER BY 1"
        ))
        .await
}

/// With `schemas(["app", "public"])` everything unqualified goes into `app`, the ledger
/// too; a second boot takes the one-row path; the snapshot lists `app`'s objects
/// unqualified and `public`'s qualified; a `transaction: none` snippet also runs in the
/// scope, and the pool's connection keeps its own search path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snippets_run_in_the_scope_and_the_ledger_lives_in_its_first_schema() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    db.pool.exec("CREATE SCHEMA app").await.unwrap();
    let dir = SnippetDir::new(&[
        ("0000_legacy.sql", "CREATE TABLE public.legacy (id INT PRIMARY KEY);\n"),
        ("0001_things.sql", "CREATE TABLE things (id BIGINT PRIMARY KEY, name TEXT NOT NULL);\n"),
        ("0002_column.sql", "ALTER TABLE things ADD COLUMN note TEXT;\n"),
        ("0003_index.sql", "-- transaction: none\nCREATE INDEX CONCURRENTLY things_name_idx ON things (name);\n"),
        ("0004_legacy.sql", "ALTER TABLE legacy ADD COLUMN flag BOOLEAN;\n"),
    ]);
    let set = dir.snippets();
    // The sync borrows the pool's one connection: what it sets must not stay on it.
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let report = syncer(&set).schemas(["app", "public"]).pool_connection(true).run(&pool).await.unwrap();
    assert_eq!(report.count(Action::Apply), 5, "{report:#?}");
    assert_eq!(schema_of(&db, "things").await, ["app"]);
    assert_eq!(schema_of(&db, "bootschema_history").await, ["app"]);
    let index: Vec<String> =
        db.pool.strings("SELECT schemaname::text FROM pg_indexes WHERE indexname = 'things_name_idx'").await;
    assert_eq!(index, ["app"]);
    // Found through the search path's second schema, as PostgreSQL itself does.
    assert_eq!(db.pool.count("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'legacy' AND column_name = 'flag'").await, 1);
    let path: String = sqlx::query_scalar("SELECT current_setting('search_path')").fetch_one(&pool).await.unwrap();
    assert_eq!(path, "\"$user\", public", "the borrowed connection went back with another search path");

    let again = syncer(&set).schemas(["app", "public"]).run(pg_pool(&db)).await.unwrap();
    assert_eq!((again.count(Action::Apply), again.steps.len()), (0, 0), "the one-row path: {again:#?}");
    // Without the scope the ledger is looked for in `public`: a database with objects
    // and no record, where `app`'s snippets are history that cannot be proven (their
    // objects are out of the search path), so a boot would refuse rather than run them.
    let plain = syncer(&set).plan(pg_pool(&db)).await.unwrap();
    assert_eq!((plain.count(Action::Unproven), plain.count(Action::Apply)), (3, 0), "{plain:#?}");

    let snapshot = syncer(&set).schemas(["app", "public"]).snapshot(pg_pool(&db)).await.unwrap();
    let tables: Vec<&str> = snapshot.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["public.legacy", "things"]);
    assert_eq!(snapshot.schemas, ["app", "public"]);
    let only_app = syncer(&set).schemas(["app"]).snapshot(pg_pool(&db)).await.unwrap();
    assert_eq!(only_app.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["things"]);
}

/// An excluded schema is never where a guard finds an unqualified name: a table of the
/// same name there does not make the snippet that creates it look applied. Without the
/// exclusion it does (the search path finds it), which is what the exclusion is for;
/// and the snapshot leaves the excluded schema out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excluded_schema_neither_satisfies_guards_nor_appears_in_the_snapshot() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let name = db.pool.strings("SELECT current_database()::text").await.remove(0);
    db.pool
        .exec(&format!(
            "CREATE SCHEMA audit; CREATE TABLE audit.events (id INT PRIMARY KEY); \
             ALTER DATABASE \"{name}\" SET search_path = public, audit"
        ))
        .await
        .unwrap();
    // The database's search path applies to connections opened after it was set.
    let pool = PgPool::connect(&db.url).await.unwrap();
    let set =
        SnippetDir::new(&[("0001_events.sql", "CREATE TABLE events (id BIGINT PRIMARY KEY, at TEXT);\n")]).snippets();

    let unscoped = syncer(&set).plan(&pool).await.unwrap();
    assert_eq!(unscoped.steps[0].action, Action::Adopt, "found through the search path: {unscoped:#?}");
    let before = syncer(&set).snapshot(&pool).await.unwrap();
    assert!(before.tables.iter().any(|t| t.name == "audit.events"), "{:?}", before.tables);

    let report = syncer(&set).exclude_schemas(["audit"]).run(&pool).await.unwrap();
    assert_eq!(report.count(Action::Apply), 1, "{report:#?}");
    assert_eq!(schema_of(&db, "events").await, ["audit", "public"]);
    let after = syncer(&set).exclude_schemas(["audit"]).snapshot(&pool).await.unwrap();
    assert_eq!(after.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["events"]);
    assert_eq!(after.schemas, ["public"]);

    // Excluding the schema where unqualified names are created is refused, naming it.
    let err = syncer(&set).exclude_schemas(["public"]).plan(&pool).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("EXCLUDE_SCHEMAS") && text.contains("\"public\""), "{text}");
    // And a schema both in and out of the scope is refused before anything is read.
    let err = syncer(&set).schemas(["public"]).exclude_schemas(["public"]).plan(&pool).await.unwrap_err();
    assert!(err.to_string().contains("EXCLUDE_SCHEMAS"), "{err}");
    pool.close().await;
}

/// `myapp schema plan`: the header's second line names the schemas in scope and the
/// installed extensions with their schemas; the JSON's target carries both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_header_lists_the_scope_and_the_extensions() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    db.pool.exec("CREATE SCHEMA app; CREATE EXTENSION pg_stat_statements").await.unwrap();
    let run = |json: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_myapp"));
        command.args(["schema", "plan"]).env("DATABASE_URL", &db.url).env("MYAPP_SCHEMA_SCHEMAS", "app,public");
        if json {
            command.arg("--json");
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run(false);
    let version: String = db
        .pool
        .strings("SELECT extversion::text FROM pg_extension WHERE extname = 'pg_stat_statements'")
        .await
        .remove(0);
    assert!(text.contains("schemas app, public"), "{text}");
    assert!(text.contains(&format!("extensions pg_stat_statements {version} in public")), "{text}");
    let document: serde_json::Value = serde_json::from_str(&run(true)).unwrap();
    assert_eq!(document["target"]["schemas"], serde_json::json!(["app", "public"]));
    let extension = &document["target"]["extensions"][0];
    assert_eq!(
        (extension["name"].as_str(), extension["schema"].as_str()),
        (Some("pg_stat_statements"), Some("public"))
    );
}
