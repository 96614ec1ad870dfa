//! Switching from sqlx, diesel, refinery or Flyway (issue 17): the other tool's folder
//! read as it is, its ledger read at the first boot, on every database.
//!
//! Here the other tool's table is written by hand, from each tool's documented table
//! format (the columns its own `CREATE TABLE` gives), with checksums computed in the test
//! the way each tool computes them; the tests that migrate with the real tools live with
//! the switching crate. Flyway cannot run on this machine (no Java package of it on the
//! registries it reaches): its table here follows Flyway's documented
//! `flyway_schema_history` format, and its CRC-32 is computed by a bitwise routine of this
//! test, independent of bootschema's table-driven one.

mod common;

use bootschema::{Action, ErrorKind, SnippetSet, Tool};
use bootschema_build::Layout;
use common::{syncer, Kind, SnippetDir, TestDb};

/// A history with a rename, a seed and a backfill: what a tool's own run leaves.
const HISTORY: &[(&str, &str)] = &[
    ("users", "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50));\n"),
    ("seed", "INSERT INTO users (id, name) VALUES (1, 'admin');\n"),
    ("rename", "ALTER TABLE users RENAME TO accounts;\n"),
    ("email", "ALTER TABLE accounts ADD COLUMN email VARCHAR(100);\n"),
    ("backfill", "UPDATE accounts SET email = 'admin@example.invalid' WHERE email IS NULL;\n"),
];

/// The snippet added after the switch.
const AFTER: &str = "CREATE INDEX accounts_email ON accounts (email);\n";

/// The folder in `layout`, with the history's files named as that tool names them, and
/// the file names in order.
fn folder(tool: Tool, with_after: bool) -> (SnippetDir, Vec<String>) {
    let dir = SnippetDir::new(&[]);
    let mut names = Vec::new();
    let count = HISTORY.len() + usize::from(with_after);
    for i in 0..count {
        let (name, sql) = HISTORY.get(i).copied().unwrap_or(("index", AFTER));
        let n = i + 1;
        let path = match tool {
            Tool::Sqlx if name == "email" => format!("{n}_{name}.up.sql"),
            Tool::Sqlx => format!("{n}_{name}.sql"),
            Tool::Diesel => format!("2024-01-0{n}-000000_{name}/up.sql"),
            Tool::Refinery => format!("V{n}__{name}.sql"),
            // Dotted and underscored versions, as Flyway allows.
            Tool::Flyway => format!("V1_{n}__{name}.sql"),
        };
        dir.write(&path, sql);
        names.push(path);
    }
    if tool == Tool::Sqlx {
        dir.write("4_email.down.sql", "ALTER TABLE accounts DROP COLUMN email;\n");
    }
    (dir, names)
}

fn layout(tool: Tool) -> Layout {
    match tool {
        Tool::Sqlx => Layout::Sqlx,
        Tool::Diesel => Layout::Diesel,
        Tool::Refinery => Layout::Refinery,
        Tool::Flyway => Layout::Flyway,
    }
}

fn scan(dir: &SnippetDir, tool: Tool) -> SnippetSet {
    let folder = dir.dir.path().join("sql");
    match bootschema_build::Builder::new()
        .folder(&folder)
        .base_dir(dir.dir.path())
        .env_prefix("BSTEST")
        .layout(layout(tool))
        .scan()
    {
        Ok(scan) => scan.set,
        Err(e) => panic!("the test's folder does not build:\n{e}"),
    }
}

/// A literal of bytes as hex, the way `kind` writes one.
fn bytes_literal(kind: Kind, hex: &str) -> String {
    match kind {
        Kind::Postgres => format!("decode('{hex}', 'hex')"),
        Kind::MySql | Kind::Sqlite => format!("X'{hex}'"),
    }
}

fn sha384_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha384};
    Sha384::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// CRC-32 (IEEE), bit by bit: independent of bootschema's table-driven one.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Flyway's checksum as its `ChecksumCalculator` reads a file: the lines without their
/// ends, a BOM removed, as a signed 32-bit integer.
fn flyway_checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let joined: String = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    crc32(joined.as_bytes()) as i32
}

/// When the rows say the tool ran (the same in every database, so that two dumps compare).
const AT: &str = "2024-01-01 00:00:00";

/// Creates `tool`'s ledger table as that tool creates it on `kind`, and records
/// `files` (of `dir`) in it as that tool records them. `dirty` marks the last row as
/// failed (sqlx, Flyway).
async fn record(db: &TestDb, dir: &SnippetDir, tool: Tool, files: &[String], dirty: bool) {
    let kind = db.kind;
    let (timestamp, now) = match kind {
        Kind::Postgres => ("TIMESTAMPTZ", "now()"),
        _ => ("TIMESTAMP", "CURRENT_TIMESTAMP"),
    };
    let create = match tool {
        Tool::Sqlx => format!(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on \
             {timestamp} NOT NULL DEFAULT {now}, success BOOLEAN NOT NULL, checksum {} NOT NULL, execution_time \
             BIGINT NOT NULL)",
            if kind == Kind::Postgres { "BYTEA" } else { "BLOB" }
        ),
        Tool::Diesel => "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on \
                         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            .to_string(),
        Tool::Refinery => "CREATE TABLE refinery_schema_history (version INT PRIMARY KEY, name VARCHAR(255), \
                           applied_on VARCHAR(255), checksum VARCHAR(255))"
            .to_string(),
        Tool::Flyway => "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version \
                         VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script \
                         VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on \
                         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success BOOLEAN \
                         NOT NULL)"
            .to_string(),
    };
    db.pool.exec(&create).await.unwrap_or_else(|e| panic!("{create}: {e}"));
    for (i, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(dir.dir.path().join("sql").join(path)).unwrap();
        let n = i + 1;
        let name = path.rsplit('/').next_back().unwrap_or(path);
        let success = if dirty && n == files.len() { "FALSE" } else { "TRUE" };
        let insert = match tool {
            Tool::Sqlx => {
                let description = name.split_once('_').unwrap().1.trim_end_matches(".sql").trim_end_matches(".up");
                format!(
                    "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, \
                     execution_time) VALUES ({n}, '{}', '{AT}', {success}, {}, 3)",
                    description.replace('_', " "),
                    bytes_literal(kind, &sha384_hex(text.as_bytes()))
                )
            }
            Tool::Diesel => {
                let folder = path.split('/').next().unwrap();
                let version = folder.split('_').next().unwrap().replace('-', "");
                format!("INSERT INTO __diesel_schema_migrations (version, run_on) VALUES ('{version}', '{AT}')")
            }
            Tool::Refinery => {
                let stem = name.trim_end_matches(".sql");
                let migration = refinery_core::Migration::unapplied(stem, &text).unwrap();
                format!(
                    "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ({n}, '{}', \
                     '2024-01-01T00:00:00Z', '{}')",
                    migration.name(),
                    migration.checksum()
                )
            }
            Tool::Flyway => {
                let stem = name.trim_end_matches(".sql");
                let (version, description) = match stem.strip_prefix("R__") {
                    Some(d) => ("NULL".to_string(), d),
                    None => {
                        let (v, d) = stem.trim_start_matches('V').split_once("__").unwrap();
                        (format!("'{}'", v.replace('_', ".")), d)
                    }
                };
                format!(
                    "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, \
                     installed_by, installed_on, execution_time, success) VALUES ({n}, {version}, '{}', 'SQL', \
                     '{name}', {}, 'flyway', '{AT}', 4, {success})",
                    description.replace('_', " "),
                    flyway_checksum(&text)
                )
            }
        };
        db.pool.exec(&insert).await.unwrap_or_else(|e| panic!("{insert}: {e}"));
    }
}

/// A database migrated by `tool` (the raw client running its files, and the tool's
/// table as the tool writes it), and the folder with the snippet added after the
/// switch.
async fn migrated(db: &TestDb, tool: Tool) -> (SnippetDir, Vec<String>) {
    let (dir, names) = folder(tool, true);
    let history = &names[..HISTORY.len()];
    for path in history {
        let text = std::fs::read_to_string(dir.dir.path().join("sql").join(path)).unwrap();
        db.run_client(&text).unwrap_or_else(|e| panic!("the raw client fails on {path}: {e}"));
    }
    record(db, &dir, tool, history, false).await;
    (dir, names)
}

on_every_database!(
    a_sqlx_database_is_baselined_and_what_follows_applies,
    a_diesel_database_is_baselined_and_what_follows_applies,
    a_refinery_database_is_baselined_and_what_follows_applies,
    a_flyway_database_is_baselined_and_what_follows_applies,
    a_tampered_file_is_refused_naming_file_version_and_both_checksums,
    a_failed_row_is_refused_with_what_to_do,
    versions_the_other_ledger_lists_but_the_folder_lacks_are_reported,
    a_flyway_repeatable_file_runs_after_the_versioned_ones_and_again_when_changed,
);

async fn a_sqlx_database_is_baselined_and_what_follows_applies(db: TestDb) {
    switches(db, Tool::Sqlx, "checksum verified").await;
}

async fn a_diesel_database_is_baselined_and_what_follows_applies(db: TestDb) {
    switches(db, Tool::Diesel, "diesel keeps no checksum").await;
}

async fn a_refinery_database_is_baselined_and_what_follows_applies(db: TestDb) {
    switches(db, Tool::Refinery, "checksum verified").await;
}

async fn a_flyway_database_is_baselined_and_what_follows_applies(db: TestDb) {
    switches(db, Tool::Flyway, "checksum verified").await;
}

/// The first boot on a database `tool` migrated: the plan shows the history baselined
/// from the tool and the new snippet applied; the boot runs only the new snippet, leaves
/// the tool's table as it was, and leaves the database as the raw client running every
/// file would; the next boot does nothing.
async fn switches(db: TestDb, tool: Tool, why: &str) {
    let kind = db.kind;
    let (dir, names) = migrated(&db, tool).await;
    let set = scan(&dir, tool);
    let before = db.dump();

    let plan = syncer(&set).plan(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<Action> = plan.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, [vec![Action::Baselined; HISTORY.len()], vec![Action::Apply]].concat(), "{:#?}", plan.steps);
    let expected = format!("baselined (from {tool}, {why})");
    for step in &plan.steps[..HISTORY.len()] {
        assert_eq!(step.reason, expected);
        assert_eq!(step.source, Some(tool));
    }
    assert_eq!(db.dump(), before, "a plan changes nothing");

    // The boot baselines the history and runs the new snippet alone.
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<Action> = report.steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, [vec![Action::Baselined; HISTORY.len()], vec![Action::Apply]].concat());
    assert!(report.foreign_missing.is_empty(), "{:?}", report.foreign_missing);

    // The database is what the raw client running every file leaves, the tool's table
    // included, as the tool wrote it.
    let all = TestDb::new(kind).await.unwrap();
    for path in &names {
        let text = std::fs::read_to_string(dir.dir.path().join("sql").join(path)).unwrap();
        all.run_client(&text).unwrap();
    }
    record(&all, &dir, tool, &names[..HISTORY.len()], false).await;
    assert_eq!(db.dump(), all.dump(), "only the new snippet ran; the other tool's table is unchanged");

    // Our ledger names the source of each baselined row.
    let sources =
        db.pool.strings("SELECT progress FROM bootschema_history WHERE state = 'baselined' ORDER BY version").await;
    assert_eq!(sources, vec![format!("from:{tool}"); HISTORY.len()]);

    let second = syncer(&set).run(db.target()).await.unwrap();
    assert!(!second.changed_anything(), "{:#?}", second.steps);
    assert_eq!(db.mark().await.as_deref(), Some(&*set.mark(kind.dialect())), "the mark is written");
    // A full look reads our ledger alone: the other tool's is not needed any more, and
    // the rows keep their source.
    let full = syncer(&set).full_check(true).run(db.target()).await.unwrap();
    assert!(full.steps[..HISTORY.len()].iter().all(|s| s.action == Action::Skip && s.source == Some(tool)));
}

async fn a_tampered_file_is_refused_naming_file_version_and_both_checksums(db: TestDb) {
    for tool in [Tool::Sqlx, Tool::Refinery, Tool::Flyway] {
        let db = TestDb::new(db.kind).await.unwrap();
        let (dir, names) = migrated(&db, tool).await;
        let before = db.dump();
        let recorded = scan(&dir, tool).for_dialect(db.kind.dialect())[1].foreign.clone().unwrap().checksum;
        // The seed's file edited after the tool ran it.
        dir.write(&names[1], "INSERT INTO users (id, name) VALUES (2, 'root');\n");
        let set = scan(&dir, tool);
        let computed = set.for_dialect(db.kind.dialect())[1].foreign.clone().unwrap().checksum;
        let err = syncer(&set).run(db.target()).await.unwrap_err();
        let text = err.to_string();
        match err.kind() {
            ErrorKind::ForeignChecksum { tool: t, path, version, recorded: r, computed: c, .. } => {
                assert_eq!(*t, tool);
                assert!(path.ends_with(&names[1]), "{path}");
                assert_eq!(r.as_str(), recorded.as_ref(), "{tool}");
                assert_eq!(c.as_str(), computed.as_ref(), "{tool}");
                assert!(text.contains(path.as_str()) && text.contains(version.as_str()), "{text}");
            }
            other => panic!("{tool}: expected ForeignChecksum, got {other:?}"),
        }
        assert!(text.contains(recorded.as_ref()) && text.contains(computed.as_ref()), "{text}");
        assert!(text.contains("nothing was applied"), "{text}");
        assert_eq!(db.dump(), before, "{tool}: nothing ran, nothing was recorded");
        assert!(!db.has_table("bootschema_history").await, "{tool}");
    }
}

async fn a_failed_row_is_refused_with_what_to_do(db: TestDb) {
    for (tool, todo) in
        [(Tool::Sqlx, "DELETE FROM _sqlx_migrations WHERE version = 5"), (Tool::Flyway, "flyway repair")]
    {
        let db = TestDb::new(db.kind).await.unwrap();
        let (dir, names) = folder(tool, true);
        for path in &names[..HISTORY.len()] {
            let text = std::fs::read_to_string(dir.dir.path().join("sql").join(path)).unwrap();
            db.run_client(&text).unwrap();
        }
        record(&db, &dir, tool, &names[..HISTORY.len()], true).await;
        let before = db.dump();
        let set = scan(&dir, tool);
        let err = syncer(&set).run(db.target()).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err.kind(), ErrorKind::ForeignFailed { .. }), "{tool}: {text}");
        assert!(text.contains(todo), "{tool}: {text}");
        assert!(text.contains(&names[HISTORY.len() - 1]), "{tool}: names the file: {text}");
        assert!(text.contains("success = false") && text.contains("nothing was applied"), "{text}");
        assert_eq!(db.dump(), before, "{tool}: nothing ran, nothing was recorded");
        // The plan refuses the same way.
        assert!(syncer(&set).plan(db.target()).await.is_err());
    }
}

async fn versions_the_other_ledger_lists_but_the_folder_lacks_are_reported(db: TestDb) {
    let (dir, names) = migrated(&db, Tool::Sqlx).await;
    // A file sqlx ran, deleted since.
    dir.remove(&names[4]);
    let set = scan(&dir, Tool::Sqlx);
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.foreign_missing.len(), 1, "{:?}", report.foreign_missing);
    let missing = &report.foreign_missing[0];
    assert_eq!((missing.tool, missing.version.as_str(), missing.name.as_str()), (Tool::Sqlx, "5", "backfill"));
    assert_eq!(missing.table, "_sqlx_migrations");
    assert_eq!(report.count(Action::Baselined), 4);
    assert_eq!(report.count(Action::Apply), 1, "the new snippet still applies");
}

async fn a_flyway_repeatable_file_runs_after_the_versioned_ones_and_again_when_changed(db: TestDb) {
    let view = |column: &str| format!("CREATE VIEW account_names AS SELECT id, {column} FROM accounts;\n");
    let (dir, mut names) = folder(Tool::Flyway, false);
    dir.write("R__views.sql", &view("name"));
    names.push("R__views.sql".into());
    for path in &names {
        let text = std::fs::read_to_string(dir.dir.path().join("sql").join(path)).unwrap();
        db.run_client(&text).unwrap();
    }
    record(&db, &dir, Tool::Flyway, &names, false).await;
    // The view is replaced, and a versioned file added: Flyway runs the versioned file
    // first, then the repeatable one, changed.
    let replace = match db.kind {
        Kind::Sqlite => format!("DROP VIEW IF EXISTS account_names;\n{}", view("name, email")),
        _ => view("name, email").replace("CREATE VIEW", "CREATE OR REPLACE VIEW"),
    };
    let replace = if db.kind == Kind::Sqlite { format!("-- destructive\n{replace}") } else { replace };
    dir.write("R__views.sql", &replace);
    dir.write("V2__phone.sql", "ALTER TABLE accounts ADD COLUMN phone VARCHAR(20);\n");
    let set = scan(&dir, Tool::Flyway);
    let report = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<(&str, Action)> = report.steps.iter().map(|s| (s.path.as_str(), s.action)).collect();
    let tail = &order[order.len() - 2..];
    assert_eq!(tail, [("sql/V2__phone.sql", Action::Apply), ("sql/R__views.sql", Action::Reapply)], "{order:?}");
    assert!(report.steps.last().unwrap().reason.contains("changed since flyway last ran it"), "{:?}", report.steps);
    let viewed = db.pool.count("SELECT COUNT(*) FROM account_names WHERE email IS NOT NULL").await;
    assert_eq!(viewed, 1, "the view was replaced with its new text");

    // Changed again later: bootschema's own ledger now records it; it reapplies.
    dir.write("R__views.sql", &replace.replace("name, email", "name, email, phone"));
    let set = scan(&dir, Tool::Flyway);
    let again = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.steps.last().map(|s| s.action), Some(Action::Reapply), "{:#?}", again.steps);
    assert_eq!(again.count(Action::Apply), 0);
}

on_every_database!(the_release_plan_shows_the_history_baselined_from_its_tool);

/// `myapp schema plan` on a database sqlx migrated: each history snippet shown as
/// `baselined (from sqlx, checksum verified)`, what runs after it, and the JSON plan
/// carrying the source; a version sqlx lists without a file is shown too.
async fn the_release_plan_shows_the_history_baselined_from_its_tool(db: TestDb) {
    use bootschema::release::{Console, Release};
    let (dir, names) = migrated(&db, Tool::Sqlx).await;
    dir.remove(&names[4]);
    let set = scan(&dir, Tool::Sqlx);
    let command = Release::new(syncer(&set));
    let run = |args: &'static [&'static str]| {
        let command = &command;
        let target = db.target();
        async move {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = {
                let mut console = Console::new(&mut out, &mut err);
                command
                    .run(args.iter().map(Into::into), || async move { Ok::<_, sqlx::Error>(target) }, &mut console)
                    .await
            };
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
        }
    };
    let before = db.dump();
    let (code, out, err) = run(&["plan"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let line =
        |file: &str| out.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("{file}: {out}")).to_owned();
    assert!(line(" 1 users ").contains("baselined (from sqlx, checksum verified)"), "{out}");
    assert!(line(" 4 email ").contains("baselined (from sqlx, checksum verified)"), "{out}");
    assert!(line(" 6 index ").contains("apply"), "{out}");
    assert!(line(" 5 backfill ").contains("listed by sqlx's ledger _sqlx_migrations, no file in the folder"), "{out}");

    let (code, out, err) = run(&["plan", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["steps"][0]["action"], "baselined");
    assert_eq!(document["steps"][0]["source"], "sqlx");
    assert_eq!(document["steps"][0]["reason"], "baselined (from sqlx, checksum verified)");
    assert_eq!(document["steps"][4]["action"], "apply");
    assert_eq!(document["steps"][4]["source"], serde_json::Value::Null);
    assert_eq!(document["foreign_missing"][0]["version"], "5");
    assert_eq!(document["foreign_missing"][0]["tool"], "sqlx");
    assert_eq!(db.dump(), before, "a plan changes nothing");
}

on_every_database!(a_thousand_row_history_is_one_read_and_one_write);

/// Adopting a 1,000-row sqlx history: every snippet baselined in one sync, the rows
/// written together (on PostgreSQL, one transaction: one `xmin`), and the time printed
/// (BENCHMARKS.md compares it with the tools' own no-op runs).
async fn a_thousand_row_history_is_one_read_and_one_write(db: TestDb) {
    const N: usize = 1000;
    let dir = SnippetDir::new(&[]);
    let mut values = Vec::with_capacity(N);
    for n in 1..=N {
        let text = format!("CREATE TABLE t{n} (id INTEGER);\n");
        dir.write(&format!("{n}_t{n}.sql"), &text);
        values
            .push(format!("({n}, 't{n}', '{AT}', TRUE, {}, 1)", bytes_literal(db.kind, &sha384_hex(text.as_bytes()))));
    }
    let (timestamp, blob) = if db.kind == Kind::Postgres { ("TIMESTAMPTZ", "BYTEA") } else { ("TIMESTAMP", "BLOB") };
    db.pool
        .exec(&format!(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on \
             {timestamp} NOT NULL, success BOOLEAN NOT NULL, checksum {blob} NOT NULL, execution_time BIGINT NOT NULL)"
        ))
        .await
        .unwrap();
    db.pool
        .exec(&format!(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
             VALUES {}",
            values.join(", ")
        ))
        .await
        .unwrap();
    let set = scan(&dir, Tool::Sqlx);
    let started = std::time::Instant::now();
    let report = syncer(&set).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let took = started.elapsed();
    assert_eq!(report.count(Action::Baselined), N, "{}", report.summary());
    assert_eq!(db.ledger().await.len(), N);
    if db.kind == Kind::Postgres {
        let transactions =
            db.pool.count("SELECT COUNT(DISTINCT xmin::text) FROM bootschema_history WHERE version >= 0").await;
        assert_eq!(transactions, 1, "the baselined rows are written together");
    }
    println!("{:?}: adopting a {N}-row sqlx history took {} ms", db.kind, took.as_millis());
    let second = syncer(&set).run(db.target()).await.unwrap();
    assert_eq!(second.unchanged, N, "the next boot reads the mark alone");
}

on_every_database!(another_name_for_the_tools_table_is_read_and_turned_off_nothing_is);

/// sqlx's table under another name: read once named (`Syncer::foreign_ledger`); with
/// the reading off (`Syncer::foreign_ledgers(false)`), the database is a history without
/// a record, refused as unproven.
async fn another_name_for_the_tools_table_is_read_and_turned_off_nothing_is(db: TestDb) {
    let (dir, _) = migrated(&db, Tool::Sqlx).await;
    db.pool.exec("ALTER TABLE _sqlx_migrations RENAME TO app_migrations").await.unwrap();
    let set = scan(&dir, Tool::Sqlx);
    let before = db.dump();

    let off = syncer(&set).foreign_ledgers(false).run(db.target()).await.unwrap_err();
    assert!(matches!(off.kind(), ErrorKind::Refused(_)), "{off}");
    let unnamed = syncer(&set).run(db.target()).await.unwrap_err();
    assert!(matches!(unnamed.kind(), ErrorKind::Refused(_)), "the default name finds no table: {unnamed}");
    assert_eq!(db.dump(), before);

    let report = syncer(&set)
        .foreign_ledger(Tool::Sqlx, "app_migrations")
        .run(db.target())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.count(Action::Baselined), HISTORY.len());
    assert_eq!(report.count(Action::Apply), 1);
}
