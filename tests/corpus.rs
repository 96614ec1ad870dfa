//! The fixture corpus of `tests/corpus/`: over a hundred snippets per database, the
//! schema history of a small shop, written to exercise the inference (tables, columns,
//! partial and expression indexes, constraints, schemas, enums, views, renames,
//! generated columns, dollar-quoted functions, triggers with `BEGIN … END` bodies, `DO`
//! blocks, backfills, destructive snippets).
//!
//! * `tests/corpus/<database>.expected` lists, for every snippet, the guards inferred
//!   from each statement; the scan must give exactly that.
//! * Each corpus is applied for real, twice: the second sync applies nothing and the
//!   catalog does not change.
//! * A database patched by hand (a sync up to some version, then objects of later
//!   snippets created by hand, some snippets half done) converges to the same catalog
//!   as a fresh one.

mod common;

use std::path::{Path, PathBuf};

use bootschema::{Action, DialectKind, GuardOrigin, Snippet, SnippetSet};
use bootschema_build::Builder;
use common::{syncer, Kind, TestDb};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn dialect(kind: Kind) -> DialectKind {
    match kind {
        Kind::Postgres => DialectKind::Postgres,
        Kind::MySql => DialectKind::MySql,
        Kind::Sqlite => DialectKind::Sqlite,
    }
}

/// The corpus of one database as the build embeds it, and the build's warnings.
fn scan(dialect: DialectKind) -> (SnippetSet, Vec<bootschema_build::Diagnostic>) {
    let dir = corpus_dir();
    let scan = Builder::new()
        .folder(&dir)
        .base_dir(dir.parent().unwrap())
        .env_prefix("BSTEST")
        .dialects(&[dialect])
        .scan()
        .unwrap_or_else(|e| panic!("the {dialect} corpus does not build:\n{e}"));
    (scan.set, scan.warnings)
}

fn file_name(snippet: &Snippet) -> &str {
    snippet.path.rsplit('/').next().unwrap_or(&snippet.path)
}

/// One line per snippet (`<file> [guarded | run-once | written]`), one per statement
/// (`  <n> <guards> ` or `-`, each guard followed by `~<version>` when a later snippet
/// undoes it), written guards as `  guard: …`, and `  warning: line <n>` per warning.
fn render(set: &SnippetSet, dialect: DialectKind, warnings: &[bootschema_build::Diagnostic]) -> String {
    let mut out = String::new();
    for snippet in set.for_dialect(dialect) {
        let kind = if !snippet.guards.is_empty() {
            "written"
        } else if snippet.statements.iter().all(|s| !s.guards.is_empty()) {
            "guarded"
        } else {
            "run-once"
        };
        out.push_str(&format!("{} [{kind}]\n", file_name(snippet)));
        let show = |g: &bootschema::Guard| match g.undone_by {
            Some(v) => format!("{} ~{v}", g.kind),
            None => g.kind.to_string(),
        };
        for guard in snippet.guards.iter() {
            out.push_str(&format!("  guard: {}\n", show(guard)));
        }
        for (i, statement) in snippet.statements.iter().enumerate() {
            assert!(statement.guards.iter().all(|g| g.origin == GuardOrigin::Inferred { statement: i as u32 }));
            let guards: Vec<String> = statement.guards.iter().map(show).collect();
            let guards = if guards.is_empty() { "-".to_owned() } else { guards.join("; ") };
            out.push_str(&format!("  {} {guards}\n", i + 1));
        }
        for warning in warnings.iter().filter(|w| w.path == snippet.path) {
            out.push_str(&format!("  warning: line {}\n", warning.line.unwrap_or(0)));
        }
    }
    out
}

#[track_caller]
fn assert_expected(dialect: DialectKind) {
    let (set, warnings) = scan(dialect);
    let path = corpus_dir().join(format!("{}.expected", dialect.folder()));
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let actual = render(&set, dialect, &warnings);
    if actual != expected {
        let first = actual.lines().zip(expected.lines()).position(|(a, e)| a != e).unwrap_or(0);
        let at = |text: &str| text.lines().skip(first.saturating_sub(3)).take(8).collect::<Vec<_>>().join("\n");
        panic!(
            "the guards inferred from the {dialect} corpus differ from {} at line {}:\nexpected:\n{}\nactual:\n{}",
            path.display(),
            first + 1,
            at(&expected),
            at(&actual)
        );
    }
    assert!(set.for_dialect(dialect).len() >= 100, "at least 100 snippets");
}

#[test]
fn postgres_corpus_infers_the_expected_guards() {
    assert_expected(DialectKind::Postgres);
}

#[test]
fn mysql_corpus_infers_the_expected_guards() {
    assert_expected(DialectKind::MySql);
}

#[test]
fn sqlite_corpus_infers_the_expected_guards() {
    assert_expected(DialectKind::Sqlite);
}

on_every_database!(corpus_applies_once_and_then_nothing, hand_patched_database_converges_to_the_corpus_schema);

async fn corpus_applies_once_and_then_nothing(db: TestDb) {
    let (set, _) = scan(dialect(db.kind));
    let snippets = set.for_dialect(dialect(db.kind)).len();
    let first = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.count(Action::Apply), snippets, "a fresh database applies every snippet");
    let catalog = schema(&db).await;
    assert!(catalog.len() > 150, "the corpus builds a sizeable schema: {} catalog lines", catalog.len());

    let second = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let changed: Vec<String> = second
        .steps
        .iter()
        .filter(|s| s.action != Action::Skip)
        .map(|s| format!("{} {}: {}", s.action, s.path, s.reason))
        .collect();
    assert!(changed.is_empty(), "the second sync changes nothing:\n{}", changed.join("\n"));
    assert_eq!(schema(&db).await, catalog, "the catalog is unchanged");
}

/// The database's schema, one line per object, sorted; unlike `TestDb::catalog`, SQLite's
/// columns are listed one by one, so that the order in which they were added does not
/// count.
async fn schema(db: &TestDb) -> Vec<String> {
    if db.kind != Kind::Sqlite {
        return db.catalog().await;
    }
    let mut lines = db
        .pool
        .strings(
            "SELECT m.type || ' ' || m.name || ' ' || CASE WHEN m.type = 'table' THEN '' ELSE COALESCE(m.sql, '') END \
             FROM sqlite_master m
             UNION ALL
             SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' ' || p.\"notnull\" || ' ' || COALESCE(p.dflt_value, '') \
             FROM sqlite_master m, pragma_table_xinfo(m.name) p WHERE m.type = 'table'",
        )
        .await;
    lines.sort();
    lines
}

/// The snippets of `set` before `cut`.
fn prefix(set: &SnippetSet, dialect: DialectKind, cut: usize) -> SnippetSet {
    let list = set.for_dialect(dialect)[..cut].to_vec();
    let mut lists = [Vec::new(), Vec::new(), Vec::new()];
    lists[dialect.index()] = list;
    let [postgres, mysql, sqlite] = lists;
    SnippetSet::new(set.env_prefix.clone(), postgres, mysql, sqlite)
}

async fn hand_patched_database_converges_to_the_corpus_schema(db: TestDb) {
    let d = dialect(db.kind);
    let (set, _) = scan(d);
    let reference = TestDb::new(db.kind).await.expect("a second database");
    syncer(&set).allow_destructive(true).run(reference.target()).await.unwrap_or_else(|e| panic!("{e}"));

    // Synced up to a third of the history; then someone ran, by hand, the guarded
    // statements of the next snippets: every one of some, only the first of others
    // (as a MySQL snippet that stopped half-way would leave it).
    let snippets = set.for_dialect(d);
    let cut = snippets.len() / 3;
    syncer(&prefix(&set, d, cut)).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    let mut by_hand = 0;
    for (n, snippet) in snippets[cut..cut + 30].iter().enumerate() {
        let guarded = snippet.statements.iter().enumerate().filter(|(_, s)| !s.guards.is_empty());
        for (i, _) in guarded.take(if n % 2 == 0 { usize::MAX } else { 1 }) {
            if db.pool.exec(snippet.statement_sql(i)).await.is_ok() {
                by_hand += 1;
            }
        }
    }
    assert!(by_hand >= 20, "the database was patched by hand ({by_hand} statements)");

    let report = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.count(Action::Adopt) >= 5, "snippets done by hand are adopted: {}", report.count(Action::Adopt));
    let skipped: usize = report.steps.iter().map(|s| s.statements_skipped.len()).sum();
    assert!(skipped >= 5, "statements done by hand are skipped ({skipped})");
    assert!(
        report.steps.iter().flat_map(|s| &s.statements).any(|s| !s.run && s.reason.contains("present")),
        "the report says which statements were skipped and why"
    );
    let (patched, fresh) = (schema(&db).await, schema(&reference).await);
    let differences: Vec<String> = patched
        .iter()
        .filter(|l| !fresh.contains(l))
        .map(|l| format!("+ {l}"))
        .chain(fresh.iter().filter(|l| !patched.contains(l)).map(|l| format!("- {l}")))
        .collect();
    assert!(differences.is_empty(), "the patched database converges to the same schema:\n{}", differences.join("\n"));

    let again = syncer(&set).allow_destructive(true).run(db.target()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!again.changed_anything(), "and stays there");
}
