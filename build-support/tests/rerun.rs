//! A real package whose `build.rs` calls `bootschema_build::embed()`: a snippet added,
//! changed or removed after a build is in the next build, and an unchanged folder does
//! not re-run the build script.
//!
//! Each test builds its own small package with cargo, in one shared target dir under
//! `CARGO_TARGET_TMPDIR` (so dependencies compile once); the tests take turns.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

static ONE_CARGO_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Every guard kind, options, a quoted name: the generated code must compile them all
/// in a `static`.
const CREATE_USERS: &str = "\
-- guard: table_missing(\"Users\")
-- guard: column_missing(billing.users.email)
-- guard: index_missing(users_email_idx)
-- guard: constraint_missing(users.users_email_key)
-- guard: unless(SELECT 1 FROM settings WHERE key = 'seeded')
-- transaction: none
-- on_change: reapply
CREATE TABLE \"Users\" (id INT, email TEXT);
";

const MAIN_RS: &str = r#"
static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();

fn main() {
    for dialect in bootschema::DialectKind::ALL {
        for s in SNIPPETS.for_dialect(dialect) {
            println!("{dialect}: {} {} statements={}", s.path, s.checksum, s.statements.len());
        }
    }
    print!("{}", include_str!(concat!(env!("OUT_DIR"), "/bootschema_snippets.rs")));
}
"#;

struct Probe {
    name: &'static str,
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Probe {
    /// A fresh package `name` with `sql/0001_create_users.sql` and a PostgreSQL
    /// replacement of it.
    fn new(name: &'static str) -> Probe {
        let turn = ONE_CARGO_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rerun").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let runtime = here.parent().unwrap().join("schema-embed");
        fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\nbootschema = {{ path = {:?}, default-features = false }}\n\n\
                 [build-dependencies]\nbootschema-build = {{ path = {:?} }}\n\n\
                 # Not a member of the bootschema workspace.\n[workspace]\n",
                runtime.display().to_string(),
                here.display().to_string(),
            ),
        )
        .unwrap();
        // The workspace's lock file pins the same dependency versions, already downloaded.
        let _ = fs::copy(here.parent().unwrap().join("Cargo.lock"), dir.join("Cargo.lock"));
        fs::write(dir.join("build.rs"), "fn main() {\n    bootschema_build::embed();\n}\n").unwrap();
        fs::write(dir.join("src/main.rs"), MAIN_RS).unwrap();
        let probe = Probe { name, dir, _turn: turn };
        probe.write("sql/0001_create_users.sql", CREATE_USERS);
        probe.write("sql/postgres/0001_create_users.sql", &CREATE_USERS.replace("TEXT", "CITEXT"));
        probe
    }

    fn write(&self, rel: &str, contents: &str) {
        let path = self.dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// `cargo build -v`, returning its output whether or not it succeeded.
    fn build(&self) -> Output {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        Command::new(cargo)
            .args(["build", "-v"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .unwrap()
    }

    /// Builds, expecting success, and returns cargo's stderr.
    fn build_ok(&self) -> String {
        let output = self.build();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "cargo build failed:\n{stderr}");
        stderr
    }

    /// Builds, then runs the program and returns what it prints.
    fn build_and_run(&self) -> String {
        self.build_ok();
        let output = Command::new(target_dir().join("debug").join(self.name)).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("rerun-target")
}

/// Lets the clock move past the last build, for file systems with coarse timestamps.
fn after_a_moment() {
    std::thread::sleep(Duration::from_millis(1100));
}

#[test]
fn generated_snippets_compile_into_a_static() {
    let probe = Probe::new("probe-static");
    let output = probe.build_and_run();
    assert!(output.contains("PostgreSQL: sql/postgres/0001_create_users.sql sha256:"), "{output}");
    assert!(output.contains("MySQL: sql/0001_create_users.sql sha256:"), "{output}");
    assert!(output.contains("SQLite: sql/0001_create_users.sql sha256:"), "{output}");
}

#[test]
fn added_snippet_is_in_the_next_build() {
    let probe = Probe::new("probe-added");
    assert!(!probe.build_and_run().contains("0002_add_age"));
    after_a_moment();
    probe.write("sql/0002_add_age.sql", "ALTER TABLE \"Users\" ADD COLUMN age INT;\n");
    let output = probe.build_and_run();
    assert!(output.contains("SQLite: sql/0002_add_age.sql"), "{output}");
}

#[test]
fn snippet_added_to_a_dialect_folder_is_in_the_next_build() {
    let probe = Probe::new("probe-added-dialect");
    probe.build_and_run();
    after_a_moment();
    probe.write("sql/postgres/0002_add_age.sql", "ALTER TABLE \"Users\" ADD COLUMN age INT;\n");
    let output = probe.build_and_run();
    assert!(output.contains("PostgreSQL: sql/postgres/0002_add_age.sql"), "{output}");
}

#[test]
fn changed_snippet_is_in_the_next_build() {
    let probe = Probe::new("probe-changed");
    probe.build_and_run();
    after_a_moment();
    probe.write(
        "sql/0001_create_users.sql",
        &CREATE_USERS.replace(");", ");\nCREATE INDEX users_email_idx ON \"Users\" (email);"),
    );
    let output = probe.build_and_run();
    assert!(
        output.contains("SQLite: sql/0001_create_users.sql sha256:") && output.contains("statements=2"),
        "{output}"
    );
}

#[test]
fn removed_snippet_is_gone_from_the_next_build() {
    let probe = Probe::new("probe-removed");
    assert!(probe.build_and_run().contains("PostgreSQL: sql/postgres/0001_create_users.sql"));
    after_a_moment();
    fs::remove_file(probe.dir.join("sql/postgres/0001_create_users.sql")).unwrap();
    let output = probe.build_and_run();
    assert!(output.contains("PostgreSQL: sql/0001_create_users.sql"), "{output}");
    assert!(!output.contains("sql/postgres/0001_create_users.sql"), "{output}");
}

#[test]
fn build_script_watches_the_folder_every_subfolder_and_every_file() {
    let probe = Probe::new("probe-watch");
    probe.write("sql/README.md", "notes");
    probe.build_ok();
    let build = target_dir().join("debug/build");
    // The newest run's output: a target folder may hold older builds of the probe (from
    // another checkout, whose paths would not match).
    let output = fs::read_dir(&build)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?.to_owned();
            let output = path.join("output");
            let modified = fs::metadata(&output).ok()?.modified().ok()?;
            name.starts_with("probe-watch-").then_some((modified, output))
        })
        .max()
        .and_then(|(_, output)| fs::read_to_string(output).ok())
        .expect("the build script's output");
    let sql = probe.dir.join("sql");
    for watched in [
        sql.clone(),
        sql.join("0001_create_users.sql"),
        sql.join("README.md"),
        sql.join("postgres"),
        sql.join("postgres/0001_create_users.sql"),
    ] {
        let line = format!("cargo:rerun-if-changed={}", watched.display());
        assert!(output.lines().any(|l| l == line), "missing {line} in\n{output}");
    }
}

#[test]
fn unchanged_folder_does_not_rerun_the_build_script() {
    let probe = Probe::new("probe-fresh");
    probe.build_ok();
    let stderr = probe.build_ok();
    assert!(stderr.contains("Fresh probe-fresh v0.1.0"), "{stderr}");
    let reran = stderr.lines().any(|l| l.trim_start().starts_with("Running") && l.contains("build-script-build"));
    assert!(!reran, "the build script ran again:\n{stderr}");
}

#[test]
fn bad_snippet_fails_the_build_with_file_line_and_help() {
    let probe = Probe::new("probe-bad");
    probe.write("sql/0002_drop_users.sql", "-- Start over.\nDROP TABLE \"Users\";\n");
    let output = probe.build();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    // Cargo indents the build script's stderr.
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    let error = lines
        .iter()
        .position(|l| l.starts_with("error: sql/0002_drop_users.sql:2: `DROP TABLE \"Users\"` loses data"))
        .unwrap_or_else(|| panic!("no error line for the file:\n{stderr}"));
    assert_eq!(
        lines[error + 1],
        "help: add `-- destructive` at the top if this is intended (it will then need \
         PROBE_BAD_SCHEMA_ALLOW_DESTRUCTIVE=1 to run)",
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn warnings_are_printed_by_cargo() {
    let probe = Probe::new("probe-warning");
    probe.write("sql/postgres/0002_citext.sql", "CREATE EXTENSION IF NOT EXISTS citext;\n");
    let stderr = probe.build_ok();
    assert!(
        stderr.contains(
            "sql/postgres/0002_citext.sql: version 0002 has a snippet for PostgreSQL but none for MySQL and SQLite"
        ),
        "{stderr}"
    );
}
