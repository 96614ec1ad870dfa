//! What the build script costs: scan (read, split, parse, infer, checksum) and code
//! generation for 1,000 snippets, and what an incremental build with no change to
//! `sql/` costs (how often cargo re-runs the build script).
//!
//! ```sh
//! cargo run --release -p bootschema-build --example build_cost            # both parts
//! cargo run --release -p bootschema-build --example build_cost -- --no-cargo  # scan only
//! ```
//!
//! The second part builds a throw-away app in a temporary folder (its first build
//! compiles `bootschema-build` and `sqlparser` in debug, as a build script is, which
//! takes a minute), then builds it again unchanged, then after editing one snippet.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow_like::Result;
use bootschema_build::{generated_code, Builder};

/// A tiny `Result` alias, so that the example needs no extra dependency.
mod anyhow_like {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
}

const SNIPPETS: usize = 1_000;

/// Writes `SNIPPETS` realistic snippets: tables, columns, indexes, constraints, views,
/// backfills, triggers; most portable, some per dialect.
fn write_snippets(sql: &Path) -> Result<()> {
    for dir in ["postgres", "mysql", "sqlite"] {
        std::fs::create_dir_all(sql.join(dir))?;
    }
    for n in 1..=SNIPPETS {
        let t = format!("t{}", n / 10);
        let (path, text) = match n % 10 {
            0 => (format!("{n:04}_create_{t}.sql"), format!("CREATE TABLE {t} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    created_at TIMESTAMP\n);\nCREATE INDEX {t}_name_idx ON {t} (name);\n")),
            1 | 2 => (format!("{n:04}_add_c{n}.sql"), format!("-- A column for the report.\nALTER TABLE {t} ADD COLUMN c{n} INTEGER;\n")),
            3 => (format!("{n:04}_backfill.sql"), format!("ALTER TABLE {t} ADD COLUMN b{n} INTEGER;\nUPDATE {t} SET b{n} = 0 WHERE b{n} IS NULL;\n")),
            4 => (format!("{n:04}_index.sql"), format!("CREATE UNIQUE INDEX {t}_c_idx ON {t} (c{}) WHERE c{} IS NOT NULL;\n", n - 3, n - 3)),
            5 => (format!("{n:04}_view.sql"), format!("CREATE VIEW {t}_v AS SELECT id, name FROM {t} WHERE name <> 'x;y';\n")),
            6 => (format!("postgres/{n:04}_fn.sql"), format!("CREATE FUNCTION f{n}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    NEW.name := upper(NEW.name);\n    RETURN NEW;\nEND\n$$;\nCREATE TRIGGER {t}_up BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION f{n}();\n")),
            7 => (format!("{n:04}_check.sql"), format!("-- guard: constraint_missing({t}.{t}_chk)\nALTER TABLE {t} ADD CONSTRAINT {t}_chk CHECK (c{} >= 0);\n", n - 6)),
            8 => (format!("{n:04}_rename.sql"), format!("ALTER TABLE {t} RENAME COLUMN c{} TO d{};\n", n - 6, n - 6)),
            _ => (format!("{n:04}_seed.sql"), format!("-- guard: unless(SELECT 1 FROM {t} WHERE id = 1)\nINSERT INTO {t} (id, name) VALUES (1, 'first; row');\n")),
        };
        std::fs::write(sql.join(path), text)?;
    }
    // The per-dialect functions need a file for the other dialects' versions.
    for n in (6..=SNIPPETS).step_by(10) {
        for dir in ["mysql", "sqlite"] {
            std::fs::write(sql.join(format!("{dir}/{n:04}_fn.sql")), "SELECT 1;\n")?;
        }
    }
    Ok(())
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs `cargo build -v` in `app`; returns how long it took and how many times a
/// build script of the app ran.
fn cargo_build(app: &Path) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-v", "--offline"])
        .current_dir(app)
        .env("CARGO_TARGET_DIR", app.join("target"))
        .output()?;
    let elapsed = started.elapsed();
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("cargo build failed:\n{log}").into());
    }
    let reruns = log
        .lines()
        .filter(|l| l.contains("Running") && l.contains("cost_app-") && l.contains("build-script-build"))
        .count();
    Ok((elapsed, reruns))
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sql = dir.path().join("sql");
    write_snippets(&sql)?;
    let builder = Builder::new().folder(&sql).base_dir(dir.path()).env_prefix("COST");

    let mut scans = Vec::new();
    let mut codegens = Vec::new();
    let mut size = 0;
    let mut statements = 0;
    for _ in 0..7 {
        let started = Instant::now();
        let scan = builder.scan().map_err(|e| e.to_string())?;
        scans.push(started.elapsed());
        let started = Instant::now();
        let code = generated_code(&scan.set);
        codegens.push(started.elapsed());
        size = code.len();
        statements = scan
            .set
            .postgres
            .iter()
            .chain(scan.set.mysql.iter())
            .chain(scan.set.sqlite.iter())
            .map(|s| s.statements.len())
            .sum();
    }
    let (scan, codegen) = (median(scans), median(codegens));
    println!("bootschema-build cost, {SNIPPETS} snippet files ({statements} statements over 3 dialects), median of 7:");
    println!();
    println!("| step | time |");
    println!("| --- | --- |");
    println!("| scan: read, split, parse, infer, checksum | {} |", ms(scan));
    println!("| code generation ({} KiB) | {} |", size / 1024, ms(codegen));
    println!("| total | {} |", ms(scan + codegen));

    if std::env::args().any(|a| a == "--no-cargo") {
        return Ok(());
    }
    let app = dir.path();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace")?;
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"cost_app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [dependencies]\nbootschema = {{ path = {:?}, default-features = false }}\n\n\
             [build-dependencies]\nbootschema-build = {{ path = {:?} }}\n",
            workspace.join("schema-embed"),
            workspace.join("build-support")
        ),
    )?;
    std::fs::create_dir_all(app.join("src"))?;
    std::fs::write(app.join("build.rs"), "fn main() { bootschema_build::embed(); }\n")?;
    std::fs::write(
        app.join("src/main.rs"),
        "static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();\n\
         fn main() { println!(\"{}\", SNIPPETS.postgres.len()); }\n",
    )?;
    if let Ok(lock) = std::fs::read(workspace.join("Cargo.lock")) {
        std::fs::write(app.join("Cargo.lock"), lock)?;
    }
    println!();
    println!("an app embedding them (`cargo build`, debug):");
    println!();
    println!("| build | time | build script runs |");
    println!("| --- | --- | --- |");
    let (first, runs) = cargo_build(app)?;
    println!("| first (compiles the dependencies) | {:.1} s | {runs} |", first.as_secs_f64());
    let (again, runs) = cargo_build(app)?;
    println!("| again, nothing changed | {:.2} s | {runs} |", again.as_secs_f64());
    std::fs::write(sql.join("0001_add_c1.sql"), "ALTER TABLE t0 ADD COLUMN c1 BIGINT;\n")?;
    let (edited, runs) = cargo_build(app)?;
    println!("| after editing one snippet | {:.2} s | {runs} |", edited.as_secs_f64());
    Ok(())
}
