//! What the build script costs: scan (read, split, parse, infer, checksum) and blob
//! encoding for 1,000 snippets, what decoding the blob costs at first use, and, inside
//! cargo, what an app that embeds them costs to build: first, again unchanged (how
//! often cargo re-runs the build script), after one snippet is edited, and how many
//! bytes each snippet adds to its binary.
//!
//! ```sh
//! cargo run --release -p bootschema-build --example build_cost                  # all parts
//! cargo run --release -p bootschema-build --example build_cost -- --no-cargo    # in-process only
//! # the same app built against another checkout too, side by side in one run:
//! cargo run --release -p bootschema-build --example build_cost -- --against /tmp/bootschema-old
//! ```
//!
//! The cargo part builds a throw-away app in a temporary folder (its first build
//! compiles `bootschema-build` and `sqlparser` in debug, as a build script is, which
//! takes a minute), then builds it again unchanged, then three times after editing one
//! snippet (the median is shown), then with one snippet only: the difference of the two
//! debug binaries, over the number of snippets, is what a snippet adds (the embedded
//! data is the same in a release binary).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow_like::Result;
use bootschema::DialectKind;
use bootschema_build::{generated_blob, generated_code, Builder};

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

/// A throw-away app in `dir` that embeds a copy of `sql` with the bootschema of the
/// checkout `workspace`.
fn write_app(dir: &Path, workspace: &Path, sql: &Path) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"cost_app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
             [dependencies]\nbootschema = {{ path = {:?}, default-features = false }}\n\n\
             [build-dependencies]\nbootschema-build = {{ path = {:?} }}\n",
            workspace.join("schema-embed"),
            workspace.join("build-support")
        ),
    )?;
    std::fs::write(dir.join("build.rs"), "fn main() { bootschema_build::embed(); }\n")?;
    std::fs::write(
        dir.join("src/main.rs"),
        "static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();\n\
         fn main() { println!(\"{}\", SNIPPETS.postgres.len()); }\n",
    )?;
    if let Ok(lock) = std::fs::read(workspace.join("Cargo.lock")) {
        std::fs::write(dir.join("Cargo.lock"), lock)?;
    }
    copy_dir(sql, &dir.join("sql"))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The bytes of every `.sql` file under `dir`, and how many files.
fn sql_bytes(dir: &Path) -> Result<(u64, usize)> {
    let (mut bytes, mut files) = (0, 0);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            let (b, f) = sql_bytes(&entry.path())?;
            (bytes, files) = (bytes + b, files + f);
        } else {
            (bytes, files) = (bytes + entry.metadata()?.len(), files + 1);
        }
    }
    Ok((bytes, files))
}

/// One app under measurement.
struct App {
    name: String,
    dir: PathBuf,
}

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sql = dir.path().join("sql");
    write_snippets(&sql)?;
    let builder = Builder::new().folder(&sql).base_dir(dir.path()).env_prefix("COST");

    let mut scans = Vec::new();
    let mut encodes = Vec::new();
    let mut decodes = Vec::new();
    let mut size = 0;
    let mut statements = 0;
    for _ in 0..7 {
        let started = Instant::now();
        let scan = builder.scan().map_err(|e| e.to_string())?;
        scans.push(started.elapsed());
        let started = Instant::now();
        let blob = generated_blob(&scan.set);
        let code = generated_code();
        encodes.push(started.elapsed());
        size = blob.len() + code.len();
        // What the app does at first use of its `static`: decode the whole blob.
        let embedded = bootschema::SnippetSet::__embedded(blob.leak());
        let started = Instant::now();
        embedded.try_lists()?;
        decodes.push(started.elapsed());
        assert!(*embedded == *scan.set, "the blob decodes to the scanned set");
        statements = DialectKind::ALL
            .iter()
            .map(|d| scan.set.for_dialect(*d).iter().map(|s| s.statements.len()).sum::<usize>())
            .sum();
    }
    let (scan, encode, decode) = (median(scans), median(encodes), median(decodes));
    let (sql_total, files) = sql_bytes(&sql)?;
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "bootschema-build cost, {SNIPPETS} snippets ({files} files, {sql_total} bytes of SQL, {statements} statements \
         over 3 dialects), {profile} build, median of 7:"
    );
    println!();
    println!("| step | time |");
    println!("| --- | --- |");
    println!("| scan: read, split, parse, infer, checksum | {} |", ms(scan));
    println!("| blob encoding ({} KiB with its code) | {} |", size / 1024, ms(encode));
    println!("| total | {} |", ms(scan + encode));
    println!("| decoding the blob at first use (runtime) | {} |", ms(decode));

    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--no-cargo") {
        return Ok(());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no workspace")?;
    let mut apps = vec![App { name: "this checkout".into(), dir: dir.path().join("app") }];
    write_app(&apps[0].dir, workspace, &sql)?;
    if let Some(other) = args.iter().position(|a| a == "--against").and_then(|i| args.get(i + 1)) {
        let other = Path::new(other).canonicalize()?;
        apps.push(App { name: other.display().to_string(), dir: dir.path().join("against") });
        write_app(&apps[1].dir, &other, &sql)?;
    }
    println!();
    println!("an app embedding them (`cargo build`, debug; one row per build, the apps alternating):");
    println!();
    println!("| app | build | time | build script runs |");
    println!("| --- | --- | --- | --- |");
    for app in &apps {
        let (first, runs) = cargo_build(&app.dir)?;
        println!("| {} | first (compiles the dependencies) | {:.1} s | {runs} |", app.name, first.as_secs_f64());
    }
    for app in &apps {
        let (again, runs) = cargo_build(&app.dir)?;
        println!("| {} | again, nothing changed | {:.2} s | {runs} |", app.name, again.as_secs_f64());
    }
    let mut edits: Vec<Vec<Duration>> = vec![Vec::new(); apps.len()];
    for round in 0..3 {
        for (app, times) in apps.iter().zip(&mut edits) {
            let edited = format!("ALTER TABLE t0 ADD COLUMN c1 BIGINT; -- edit {round}\n");
            std::fs::write(app.dir.join("sql/0001_add_c1.sql"), edited)?;
            let (time, runs) = cargo_build(&app.dir)?;
            println!("| {} | after editing one snippet | {:.2} s | {runs} |", app.name, time.as_secs_f64());
            times.push(time);
        }
    }
    // What starting the app costs until it has read `SNIPPETS` once: loading the
    // binary (and its relocations) plus, with the blob, decoding it.
    let mut starts = Vec::new();
    for app in &apps {
        let mut runs = Vec::new();
        for _ in 0..21 {
            let started = Instant::now();
            let status =
                Command::new(app.dir.join("target/debug/cost_app")).stdout(std::process::Stdio::null()).status()?;
            runs.push(started.elapsed());
            if !status.success() {
                return Err(format!("{} failed", app.name).into());
            }
        }
        starts.push(median(runs));
    }
    let mut sizes = Vec::new();
    for app in &apps {
        let full = std::fs::metadata(app.dir.join("target/debug/cost_app"))?.len();
        std::fs::remove_dir_all(app.dir.join("sql"))?;
        std::fs::create_dir_all(app.dir.join("sql"))?;
        std::fs::write(app.dir.join("sql/0001_create_t0.sql"), "CREATE TABLE t0 (id INTEGER);\n")?;
        cargo_build(&app.dir)?;
        let one = std::fs::metadata(app.dir.join("target/debug/cost_app"))?.len();
        sizes.push((full, one));
    }
    println!();
    println!(
        "| app | rebuild after one edit, median of 3 | run the debug app, median of 21 | binary, {SNIPPETS} snippets | \
         with 1 | added per snippet (per file) | its SQL text (per file) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (((app, times), (full, one)), start) in apps.iter().zip(edits).zip(sizes).zip(starts) {
        let added = full.saturating_sub(one);
        println!(
            "| {} | {:.2} s | {} | {:.2} MiB | {:.2} MiB | {} bytes ({}) | {} bytes ({}) |",
            app.name,
            median(times).as_secs_f64(),
            ms(start),
            full as f64 / 1048576.0,
            one as f64 / 1048576.0,
            added / (SNIPPETS as u64 - 1),
            added / (files as u64 - 1),
            sql_total / SNIPPETS as u64,
            sql_total / files as u64,
        );
    }
    Ok(())
}
