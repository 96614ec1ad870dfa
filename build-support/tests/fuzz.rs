//! Hostile input: the build-time scanner (directives, splitter, checks) never panics,
//! and every rejection is a diagnostic that names the file and says what to do.
//!
//! Property tests over generated snippets, plus mutations of the seed corpus kept in
//! `tests/fuzz_seeds/` (add a file there when a new awkward construct comes up).

use std::path::Path;

use bootschema_build::Builder;
use proptest::prelude::*;

/// Scans one snippet file with `contents` and checks what any outcome must satisfy.
fn check(name: &str, contents: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let sql = dir.path().join("sql");
    std::fs::create_dir_all(&sql).unwrap();
    std::fs::write(sql.join(name), contents).unwrap();
    let scanned =
        std::panic::catch_unwind(|| Builder::new().folder(&sql).base_dir(dir.path()).env_prefix("FUZZ").scan());
    let scanned = scanned.unwrap_or_else(|_| panic!("the scanner panicked on {contents:?}"));
    match scanned {
        Ok(scan) => {
            for snippet in scan.set.postgres.iter().chain(scan.set.mysql.iter()).chain(scan.set.sqlite.iter()) {
                if snippet.statements.is_empty() {
                    assert!(
                        scan.warnings.iter().any(|w| w.path == snippet.path && w.message.contains("only comments")),
                        "a snippet without statements is accepted only as comments, with a warning"
                    );
                }
                let mut previous_end = 0;
                for (i, statement) in snippet.statements.iter().enumerate() {
                    assert!(statement.start >= previous_end && statement.start < statement.end, "{statement:?}");
                    assert!(snippet.sql.is_char_boundary(statement.start as usize));
                    assert!(snippet.sql.is_char_boundary(statement.end as usize));
                    assert!(!snippet.statement_sql(i).trim().is_empty());
                    previous_end = statement.end;
                }
                assert!(snippet.checksum.starts_with("sha256:") && snippet.checksum.len() == 71);
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.0.is_empty());
            for d in &diagnostics.0 {
                assert!(d.path.starts_with("sql/"), "names the file: {d}");
                assert!(!d.message.is_empty() && !d.help.is_empty(), "says what is wrong and what to do: {d}");
            }
        }
    }
}

/// Fragments that stress the lexer and the directive parser.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("'".to_string()),
        Just("''".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("$$".to_string()),
        Just("$tag$".to_string()),
        Just("--".to_string()),
        Just("-- ".to_string()),
        Just("#".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\\".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(" BEGIN ".to_string()),
        Just(" END ".to_string()),
        Just("CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN ".to_string()),
        Just("CREATE TABLE t (id INT)".to_string()),
        Just("DROP TABLE t".to_string()),
        Just("ALTER TABLE t DROP COLUMN c".to_string()),
        Just("-- guard: ".to_string()),
        Just("table_missing(".to_string()),
        Just("unless(SELECT 1".to_string()),
        Just("-- transaction: none\n".to_string()),
        Just("-- destructive\n".to_string()),
        Just("DELIMITER //\n".to_string()),
        "[a-zA-Z0-9_ .,=]{0,12}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_snippets_never_panic_the_scanner(parts in prop::collection::vec(fragment(), 0..24)) {
        check("0001_generated.sql", parts.concat().as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_scanner(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check("0001_bytes.sql", &bytes);
    }

    #[test]
    fn arbitrary_file_names_never_panic_the_scanner(name in "[0-9a-z_\\-\\.]{1,20}\\.sql") {
        check(&name, b"CREATE TABLE t (id INT);\n");
    }

    #[test]
    fn mutated_seeds_never_panic_the_scanner(seed in 0usize..5, edits in prop::collection::vec((any::<prop::sample::Index>(), fragment(), 0usize..4), 1..6)) {
        let seeds = seed_corpus();
        let (name, text) = &seeds[seed % seeds.len()];
        let mut text = text.clone();
        for (at, insert, remove) in edits {
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) { cut -= 1; }
            let mut end = (cut + remove).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(cut..end, &insert);
        }
        check(name, text.as_bytes());
    }
}

fn seed_corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_seeds");
    let mut seeds: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            )
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn every_seed_scans_without_panicking() {
    let seeds = seed_corpus();
    assert!(seeds.len() >= 5);
    for (name, text) in seeds {
        check(&name, text.as_bytes());
    }
}
