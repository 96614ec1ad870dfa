//! Functions and procedures (by signature), triggers, sequences, extensions and
//! policies: their guards on real servers, wherever the database has the object.
//!
//! * A history with them, replayed by the raw client (psql, mariadb, sqlite3), is
//!   adopted by bootschema without a baseline: every snippet `adopt`, nothing runs, the
//!   dump is unchanged, the next boot reads one row.
//! * The same history (and renames, drops and CASCADEs of these objects) on an empty
//!   database applies exactly as the raw client does, with no false drift.
//! * An overload present does not make another one skip; an object dropped by hand on
//!   a managed database is drift.

mod common;

use bootschema::release::{Console, Release};
use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};

/// A history of each database with every kind of object it has, all of it provable.
fn history(kind: Kind, mariadb: bool) -> Vec<(&'static str, &'static str)> {
    match kind {
        Kind::Postgres => vec![
            ("0001_ext.sql", "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"),
            (
                "0002_docs.sql",
                "CREATE TABLE docs (id INTEGER NOT NULL PRIMARY KEY, owner TEXT NOT NULL, body TEXT, \
                 updated_at TIMESTAMPTZ);\nCREATE SEQUENCE docs_no START 100 OWNED BY docs.id;\n",
            ),
            (
                "0003_functions.sql",
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  \
                 NEW.updated_at := now();\n  RETURN NEW;\nEND\n$$;\n\
                 CREATE FUNCTION add(a integer, b int DEFAULT 1) RETURNS integer LANGUAGE sql AS $$ SELECT a + b $$;\n\
                 CREATE FUNCTION add(a text, b character varying) RETURNS text LANGUAGE sql AS $$ SELECT a || b $$;\n\
                 CREATE OR REPLACE FUNCTION \"Shout\"(INOUT t text, OUT n int4) LANGUAGE sql \
                 AS $$ SELECT upper(t), length(t) $$;\n\
                 CREATE PROCEDURE purge(days int) LANGUAGE sql AS $$ DELETE FROM docs WHERE id < days $$;\n",
            ),
            (
                "0004_trigger_policy.sql",
                "CREATE TRIGGER docs_touch BEFORE UPDATE ON docs FOR EACH ROW EXECUTE FUNCTION touch();\n\
                 CREATE POLICY own_docs ON docs USING (owner = current_user);\n",
            ),
        ],
        Kind::MySql => {
            let mut files = vec![
                ("0001_docs.sql", "CREATE TABLE docs (id INT NOT NULL PRIMARY KEY, body TEXT, n INT);\n"),
                (
                    "0002_routines.sql",
                    "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;\n\
                     CREATE PROCEDURE purge_docs(IN days INT) DELETE FROM docs WHERE id < days;\n",
                ),
                (
                    "0003_trigger.sql",
                    "CREATE TRIGGER docs_bi BEFORE INSERT ON docs FOR EACH ROW SET NEW.n = COALESCE(NEW.n, 0);\n",
                ),
            ];
            // MariaDB has sequences since 10.3; MySQL has none.
            if mariadb {
                files.push(("0004_sequence.sql", "CREATE SEQUENCE docs_no START WITH 100;\n"));
            }
            files
        }
        Kind::Sqlite => vec![
            (
                "0001_docs.sql",
                "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);\nCREATE TABLE audit (doc INTEGER, note TEXT);\n",
            ),
            (
                "0002_trigger.sql",
                "CREATE TRIGGER docs_ai AFTER INSERT ON docs\nBEGIN\n  \
                 INSERT INTO audit (doc, note) VALUES (NEW.id, 'inserted');\nEND;\n",
            ),
        ],
    }
}

/// Renames, drops and CASCADEs of these objects, after [`history`].
fn later(kind: Kind, mariadb: bool) -> Vec<(&'static str, &'static str)> {
    match kind {
        Kind::Postgres => vec![
            (
                "0005_rename.sql",
                "ALTER FUNCTION add(integer, integer) RENAME TO plus;\n\
                 ALTER TRIGGER docs_touch ON docs RENAME TO docs_touched;\nALTER SEQUENCE docs_no RENAME TO docs_number;\n",
            ),
            (
                "0006_drop.sql",
                "-- destructive\nDROP POLICY own_docs ON docs;\nDROP FUNCTION touch() CASCADE;\nDROP EXTENSION pg_trgm;\n",
            ),
            (
                "0007_again.sql",
                "CREATE FUNCTION add(a integer, b integer) RETURNS integer LANGUAGE sql AS $$ SELECT b + a $$;\n\
                 CREATE POLICY own_docs ON docs USING (owner = session_user);\n",
            ),
            ("0008_drop_table.sql", "-- destructive\nDROP TABLE docs;\n"),
        ],
        Kind::MySql => {
            let mut files = vec![
                ("0005_drop.sql", "DROP TRIGGER docs_bi;\nDROP FUNCTION IF EXISTS twice;\n"),
                ("0006_again.sql", "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x + x;\n"),
                (
                    "0007_trigger.sql",
                    "CREATE TRIGGER docs_bi BEFORE INSERT ON docs FOR EACH ROW SET NEW.n = 1;\n",
                ),
                ("0008_drop_table.sql", "-- destructive\nDROP TABLE docs;\n"),
            ];
            if mariadb {
                files.push(("0009_sequence.sql", "-- destructive\nDROP SEQUENCE docs_no;\n"));
            }
            files
        }
        Kind::Sqlite => vec![
            ("0005_drop.sql", "DROP TRIGGER docs_ai;\n"),
            (
                "0006_again.sql",
                "CREATE TRIGGER docs_ai AFTER INSERT ON docs\nBEGIN\n  \
                 INSERT INTO audit (doc, note) VALUES (NEW.id, 'again');\nEND;\n",
            ),
            ("0007_drop_table.sql", "-- destructive\nDROP TABLE docs;\n"),
        ],
    }
}

async fn is_mariadb(db: &TestDb) -> bool {
    db.kind == Kind::MySql && db.pool.strings("SELECT VERSION()").await.iter().any(|v| v.contains("MariaDB"))
}

/// The schema and rows, as the database's dump tool writes them, and (MySQL, whose
/// dump leaves them out by default) the stored routines with their bodies.
async fn dump(db: &TestDb) -> String {
    let mut dump = db.dump();
    if db.kind == Kind::MySql {
        let routines = db
            .pool
            .strings(
                "SELECT CONVERT(CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME, ' ', ROUTINE_DEFINITION) USING utf8mb4) \
                 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1",
            )
            .await;
        dump.push_str(&routines.join("\n"));
    }
    dump
}

/// A database that holds `files`, replayed by the raw client.
async fn replayed(kind: Kind, files: &[(&str, &str)]) -> Option<TestDb> {
    let db = TestDb::new(kind).await?;
    for (path, text) in files {
        db.run_client(text).unwrap_or_else(|e| panic!("the raw client fails on {path}: {e}"));
    }
    Some(db)
}

on_every_database!(
    a_history_of_routines_and_triggers_is_adopted_without_a_baseline,
    the_same_history_applies_as_the_raw_client_applies_it,
    an_object_dropped_by_hand_is_drift_for_verify,
);

async fn a_history_of_routines_and_triggers_is_adopted_without_a_baseline(db: TestDb) {
    let mariadb = is_mariadb(&db).await;
    let files = history(db.kind, mariadb);
    let db = replayed(db.kind, &files).await.unwrap();
    let before = dump(&db).await;
    let set = SnippetDir::new(&files).snippets();

    let plan = syncer(&set).plan(db.target()).await.unwrap();
    for step in &plan.steps {
        assert_eq!(step.action, Action::Adopt, "{}: {}", step.path, step.reason);
        assert!(!step.guards.is_empty() && step.guards.iter().all(|g| !g.status.is_missing()), "{step:#?}");
    }
    let guards: Vec<&str> = plan.steps.iter().flat_map(|s| &s.guards).map(|g| g.guard.as_str()).collect();
    let expected: &[&str] = match db.kind {
        Kind::Postgres => &[
            "extension_missing(pg_trgm)",
            "sequence_missing(docs_no)",
            "function_missing(touch())",
            "function_missing(add(int4,int4))",
            "function_missing(add(text,varchar))",
            "function_missing(\"Shout\"(text))",
            "procedure_missing(purge(int4))",
            "trigger_missing(docs.docs_touch)",
            "policy_missing(docs.own_docs)",
        ],
        Kind::MySql => &["function_missing(twice)", "procedure_missing(purge_docs)", "trigger_missing(docs.docs_bi)"],
        Kind::Sqlite => &["trigger_missing(docs.docs_ai)"],
    };
    for guard in expected {
        assert!(guards.contains(guard), "{guard} is among the plan's guards: {guards:?}");
    }
    // The plan's JSON document names them the same way.
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains(&serde_json::to_string(expected[0]).unwrap()), "{json}");

    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.steps.iter().all(|s| s.action == Action::Adopt), "{:#?}", report.steps);
    assert!(report.steps.iter().all(|s| s.statements_run == 0), "nothing ran");
    assert_eq!(dump(&db).await, before, "the catalog and the rows are unchanged");
    assert!(db.ledger().await.iter().all(|row| row.contains(" adopted ")), "{:?}", db.ledger().await);

    let second = syncer(&set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert_eq!((second.unchanged, second.steps.len()), (files.len(), 0), "the second boot takes the one-row fast path");
}

async fn the_same_history_applies_as_the_raw_client_applies_it(db: TestDb) {
    let mariadb = is_mariadb(&db).await;
    let kind = db.kind;
    let mut files = history(kind, mariadb);
    files.extend(later(kind, mariadb));
    let set = SnippetDir::new(&files).snippets();
    // On MySQL a routine keeps the `sql_mode` it was created under: the sync's is set to
    // the server's, as the raw client's is (sqlx's connection sets one of its own).
    let syncer = |set| match kind {
        Kind::MySql => syncer(set).mysql_session_variable("sql_mode", "DEFAULT"),
        _ => syncer(set),
    };
    let report = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    for step in &report.steps {
        assert_eq!(step.action, Action::Apply, "{}: {}", step.path, step.reason);
        assert_eq!(step.statements_run, step.statements_total, "{}: every statement runs", step.path);
    }
    let raw = replayed(kind, &files).await.unwrap();
    assert_eq!(dump(&db).await, dump(&raw).await, "bootschema and the raw client disagree");

    let second = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert_eq!((second.unchanged, second.steps.len()), (files.len(), 0), "no false drift: the mark was written");
    // And a full look agrees: every step skips, none drifts.
    let full = syncer(&set).allow_destructive(true).full_check(true).run(db.target()).await.unwrap();
    assert!(full.steps.iter().all(|s| s.action == Action::Skip), "{:#?}", full.steps);
}

async fn an_object_dropped_by_hand_is_drift_for_verify(db: TestDb) {
    let mariadb = is_mariadb(&db).await;
    let files = history(db.kind, mariadb);
    let set = SnippetDir::new(&files).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let (drop, snippet, guard) = match db.kind {
        Kind::Postgres => ("DROP TRIGGER docs_touch ON docs", "0004", "trigger_missing(docs.docs_touch)"),
        Kind::MySql => ("DROP TRIGGER docs_bi", "0003", "trigger_missing(docs.docs_bi)"),
        Kind::Sqlite => ("DROP TRIGGER docs_ai", "0002", "trigger_missing(docs.docs_ai)"),
    };
    db.pool.exec(drop).await.unwrap();
    let (code, out, err) = verify(&db, &set).await;
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains(&format!("  ! {snippet}")) && out.contains("1 drifted"), "{out}");
    assert!(out.contains(guard), "the drift names the guard: {out}");

    if db.kind != Kind::Sqlite {
        let (drop, guard) = match db.kind {
            Kind::Postgres => ("DROP FUNCTION add(text, varchar)", "function_missing(add(text,varchar))"),
            _ => ("DROP FUNCTION twice", "function_missing(twice)"),
        };
        db.pool.exec(drop).await.unwrap();
        let (code, out, _) = verify(&db, &set).await;
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("2 drifted") && out.contains(guard), "{out}");
    }
}

/// `schema verify` of `set`, in-process: the exit status, stdout and stderr.
async fn verify(db: &TestDb, set: &bootschema::SnippetSet) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let mut console = Console::new(&mut out, &mut err);
        let target = db.target();
        Release::new(syncer(set))
            .run(["verify"].into_iter().map(Into::into), || async move { Ok::<_, sqlx::Error>(target) }, &mut console)
            .await
    };
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// `f(int)` there, by hand, does not make `CREATE FUNCTION f(text)` skip: overloads are
/// distinct objects, on a managed database and on one being adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overload_present_does_not_make_another_skip() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let first = ("0001_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n");
    let dir = SnippetDir::new(&[first]);
    syncer(&dir.snippets()).run(db.target()).await.unwrap();
    db.pool.exec("CREATE FUNCTION f(n integer) RETURNS text LANGUAGE sql AS $$ SELECT 'int' $$").await.unwrap();
    dir.write(
        "0002_f.sql",
        "CREATE FUNCTION f(n int4) RETURNS text LANGUAGE sql AS $$ SELECT 'int' $$;\n\
         CREATE FUNCTION f(n text) RETURNS text LANGUAGE sql AS $$ SELECT 'text' $$;\n",
    );
    let report = syncer(&dir.snippets()).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let step = &report.steps[1];
    assert_eq!(step.action, Action::Apply, "{}", step.reason);
    assert_eq!(step.statements_skipped, vec![0], "f(int4) is there: skipped");
    assert_eq!(step.statements_run, 1, "f(text) is another function: it runs");
    assert_eq!(db.pool.strings("SELECT f('x'::text) || f(1)").await, ["textint"]);

    // Adopting: f(int) there does not prove f(text) done.
    let db =
        replayed(Kind::Postgres, &[("0001_f.sql", "CREATE FUNCTION f(n int) RETURNS int AS 'SELECT 1' LANGUAGE sql;")])
            .await
            .unwrap();
    let set = SnippetDir::new(&[
        ("0001_f.sql", "CREATE FUNCTION f(n int) RETURNS int AS 'SELECT 1' LANGUAGE sql;\n"),
        ("0002_f.sql", "CREATE FUNCTION f(n text) RETURNS int AS 'SELECT 2' LANGUAGE sql;\n"),
    ])
    .snippets();
    let plan = syncer(&set).plan(db.target()).await.unwrap();
    assert_eq!(plan.steps[0].action, Action::Adopt, "{}", plan.steps[0].reason);
    assert_eq!(plan.steps[1].action, Action::Unproven, "{}", plan.steps[1].reason);
    assert!(plan.steps[1].reason.contains("function_missing(f(text))"), "{}", plan.steps[1].reason);
}

/// A `CREATE OR REPLACE FUNCTION` of a function an earlier snippet creates has no
/// guard: its function being there proves nothing of its body, so it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redefinition_by_create_or_replace_runs_where_its_function_is_there() {
    let Some(db) = TestDb::new(Kind::Postgres).await else { return };
    let files = [
        ("0001_f.sql", "CREATE OR REPLACE FUNCTION v() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"),
        ("0002_f.sql", "CREATE OR REPLACE FUNCTION v() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n"),
    ];
    let set = SnippetDir::new(&files[..1]).snippets();
    syncer(&set).run(db.target()).await.unwrap();
    let set = SnippetDir::new(&files).snippets();
    let report = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!((report.steps[1].action, report.steps[1].statements_run), (Action::Apply, 1), "{:#?}", report.steps);
    assert_eq!(db.pool.strings("SELECT v()::text").await, ["2"], "the new body is in place");
}
