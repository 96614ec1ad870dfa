//! What a sync writes to the app's log stays readable: bootschema's statements are
//! logged as a bounded excerpt (file, line, first characters, duration), never whole,
//! whatever the app's log level (issue 16, item 6).
//!
//! One process-wide subscriber at `TRACE` writes into a buffer (SQLite runs statements
//! on a worker thread, which only a global subscriber sees); the one test syncs every
//! database in turn, so that nothing else writes into the buffer meanwhile.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bootschema::Action;
use common::{syncer, Kind, SnippetDir, TestDb};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).into_owned()
    }
}

/// A table and a seed of about 1.2 MB in one statement.
fn seeded() -> SnippetDir {
    let rows: Vec<String> = (0..20_000).map(|i| format!("({i}, '{}')", "x".repeat(50))).collect();
    SnippetDir::new(&[
        ("0001_seed_table.sql", "CREATE TABLE seed (id INTEGER PRIMARY KEY, v VARCHAR(60));\n"),
        ("0002_seed.sql", &format!("INSERT INTO seed (id, v) VALUES {};\n", rows.join(", "))),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_slow_seed_logs_a_bounded_excerpt_naming_its_file() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let dir = seeded();
    let set = dir.snippets();
    assert!(
        set.for_dialect(bootschema::DialectKind::Postgres).iter().any(|s| s.sql.len() > 1_000_000),
        "the seed is over 1 MB"
    );
    for kind in [Kind::Postgres, Kind::MySql, Kind::Sqlite] {
        let Some(db) = TestDb::new(kind).await else { continue };
        buffer.take();
        // Every statement counts as slow: the seed's warning is written whatever the level.
        let report = syncer(&set).slow_statement(Duration::from_millis(1)).run(db.target()).await.unwrap();
        assert_eq!(report.count(Action::Apply), 2, "{kind:?}");
        let log = buffer.take();
        assert!(log.len() < 10_000, "{kind:?}: {} bytes logged by a sync at TRACE:\n{}", log.len(), &log[..2000]);
        let warning = log
            .lines()
            .find(|l| l.contains("WARN") && l.contains("slow statement") && l.contains("INSERT INTO seed"))
            .unwrap_or_else(|| panic!("{kind:?}: no slow-statement warning for the seed:\n{log}"));
        assert!(warning.contains("0002_seed.sql:1"), "{kind:?}: the warning names the file and line: {warning}");

        // The same sync on the app's own connection (sqlx's logging on): the whole seed,
        // which is what the default avoids.
        let other = TestDb::new(kind).await.unwrap();
        buffer.take();
        syncer(&set).pool_connection(true).run(other.target()).await.unwrap();
        let log = buffer.take();
        assert!(log.len() > 1_000_000, "{kind:?}: sqlx logged the whole seed ({} bytes)", log.len());
    }
}
