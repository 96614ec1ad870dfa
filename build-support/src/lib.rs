//! The build-time half of bootschema: embeds a folder of SQL snippets into the binary,
//! checked and checksummed, for the `bootschema` runtime to sync at boot.
//!
//! Call [`embed`] from `build.rs`. It reads `sql/` next to `Cargo.toml`, fails the build
//! with the file and line of anything wrong, and writes the snippets as data into
//! `$OUT_DIR/bootschema_snippets.bin` with a few lines of Rust that embed it,
//! `$OUT_DIR/bootschema_snippets.rs`, which `bootschema::include_snippets!()` turns into
//! a `static`. Adding, removing or
//! editing a snippet re-runs it on the next build.
//!
//! # Example
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! bootschema = "0.1"
//!
//! [build-dependencies]
//! bootschema-build = "0.1"
//! ```
//!
//! `build.rs`:
//!
//! ```no_run
//! fn main() {
//!     bootschema_build::embed();
//! }
//! ```
//!
//! `src/main.rs` (see the `bootschema` crate for what to do with them):
//!
//! ```text
//! static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();
//! ```
//!
//! `sql/0001_create_users.sql`, `sql/0002_add_email.sql`, and so on:
//!
//! ```sql
//! -- guard: column_missing(users.email)
//! ALTER TABLE users ADD COLUMN email TEXT;
//! ```
//!
//! # The snippet folder
//!
//! * `sql/<version>_<description>.sql` applies on every dialect; `sql/postgres/`,
//!   `sql/mysql/` and `sql/sqlite/` hold dialect files, which replace the portable file
//!   of the same version for their dialect. Versions compare as numbers
//!   (`2025-03-01-1200` is `202503011200`); two files with the same version for one
//!   dialect are an error, and a version only some dialects have is a warning.
//! * Directives are comment lines at the top: `-- guard: table_missing(users)` (also
//!   `column_missing(t.c)`, `index_missing(i)`, `constraint_missing(t.k)`,
//!   `schema_missing(s)`, `type_missing(t)`, `column_renamed(t.old, new)`,
//!   `table_renamed(old, new)`, `index_renamed(old, new)`, `unless(query)`),
//!   `-- transaction: none`, `-- destructive`, `-- on_change: reapply`.
//! * Without `-- guard:` lines, each statement gets the guards its DDL makes certain,
//!   read with [`sqlparser`](https://docs.rs/sqlparser) (`CREATE TABLE t` →
//!   `table_missing(t)`, …); a statement the parser cannot read is a warning, never an
//!   error.
//! * A statement that loses data (`DROP`, `TRUNCATE`, `ALTER TABLE … DROP`, a column
//!   type change, `DELETE` or `UPDATE` without `WHERE`) needs `-- destructive`.
//!
//! Errors are printed all at once, each as
//!
//! ```text
//! error: sql/0003_add_email.sql:4: <what is wrong>
//!   help: <what to do>
//! ```
//!
//! # Other folders, dialects and prefixes; tests
//!
//! [`Builder`] sets the folder, the environment prefix and the dialects to build.
//! [`Builder::scan`] does all the checking without printing or writing anything and
//! returns the [`SnippetSet`], which is how tests build snippet sets from a temporary
//! folder:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bootschema_build::Builder;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("sql"))?;
//! std::fs::write(
//!     dir.path().join("sql/0001_create_users.sql"),
//!     "-- guard: table_missing(users)\nCREATE TABLE users (id BIGINT PRIMARY KEY);\n",
//! )?;
//!
//! let scan = Builder::new().folder(dir.path().join("sql")).env_prefix("MYAPP").scan()?;
//! let users = &scan.set.postgres[0];
//! assert_eq!(users.path, "sql/0001_create_users.sql");
//! assert_eq!(users.statement_sql(0), "CREATE TABLE users (id BIGINT PRIMARY KEY)");
//! assert_eq!(users.guards[0].kind.to_string(), "table_missing(users)");
//! # Ok(())
//! # }
//! ```

// The examples show a whole build.rs, whose `fn main` is the point.
#![allow(clippy::needless_doctest_main)]

mod assemble;
mod checksum;
mod classify;
mod client_syntax;
mod codegen;
mod destructive;
mod diagnostic;
mod directives;
mod infer;
mod layout;
mod lex;
mod lines;
mod scan;
mod split;
mod transaction;

use std::collections::BTreeMap;
use std::env;
use std::path::{Component, Path, PathBuf};

pub use bootschema::{DialectKind, SnippetSet, Tool};
pub use diagnostic::{Diagnostic, Diagnostics};

/// The file [`Builder::emit`] writes into `OUT_DIR`, which
/// `bootschema::include_snippets!()` includes.
pub const GENERATED_FILE: &str = "bootschema_snippets.rs";

/// The file next to [`GENERATED_FILE`] that holds the snippets as data, which the code of
/// [`GENERATED_FILE`] embeds with `include_bytes!`.
pub const GENERATED_BLOB: &str = codegen::BLOB_FILE;

/// Embeds `sql/` into the package: the whole `build.rs` of most apps.
///
/// Same as `Builder::new().emit()`: scans `sql/` next to `Cargo.toml`, takes the
/// environment prefix from the package name (`my-app` → `MY_APP`), writes
/// `$OUT_DIR/bootschema_snippets.bin` and `.rs`, tells cargo to re-run when the folder or any file in
/// it changes, and prints warnings. On bad input it prints every error with its file and
/// line and exits with status 1.
///
/// ```no_run
/// // build.rs
/// fn main() {
///     bootschema_build::embed();
/// }
/// ```
pub fn embed() {
    Builder::new().emit();
}

/// The Rust source that [`Builder::emit`] writes into [`GENERATED_FILE`]: one expression
/// of type `bootschema::SnippetSet`, valid in a `static` initializer, that embeds the
/// blob [`generated_blob`] returns (written next to it as [`GENERATED_BLOB`]). It is the
/// same whatever the snippets: an edited snippet changes the blob only.
///
/// ```
/// let code = bootschema_build::generated_code();
/// assert!(code.contains("bootschema_snippets.bin"));
/// ```
pub fn generated_code() -> String {
    codegen::generate()
}

/// The blob that [`Builder::emit`] writes into [`GENERATED_BLOB`] for `set`: every
/// field of every snippet as data, in a versioned format that the `bootschema` runtime
/// decodes once, at first use.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("sql"))?;
/// std::fs::write(dir.path().join("sql/0001_t.sql"), "CREATE TABLE t (id INT);\n")?;
/// let scan = bootschema_build::Builder::new().folder(dir.path().join("sql")).env_prefix("MYAPP").scan()?;
/// let blob = bootschema_build::generated_blob(&scan.set);
/// assert!(blob.starts_with(b"BSCH"));
/// # Ok(())
/// # }
/// ```
pub fn generated_blob(set: &SnippetSet) -> Vec<u8> {
    codegen::encode(set)
}

/// What a scan produced: the snippets of every built dialect, and the warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The snippets, per dialect, in version order (owned values).
    pub set: SnippetSet,
    /// Problems that do not stop the build: a version only some dialects have, a
    /// statement the SQL parser cannot read, a snippet sent whole.
    pub warnings: Vec<Diagnostic>,
}

/// Embeds or scans a snippet folder, with settings other than [`embed`]'s.
///
/// ```no_run
/// use bootschema_build::{Builder, DialectKind};
///
/// // build.rs of an app that only runs on PostgreSQL, with its snippets in db/.
/// Builder::new()
///     .folder("db")
///     .env_prefix("MYAPP")
///     .dialects(&[DialectKind::Postgres])
///     .emit();
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    folder: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    env_prefix: Option<String>,
    dialects: Option<Vec<DialectKind>>,
    history_until: Option<u64>,
    version_order: Option<VersionOrder>,
    layout: Option<Layout>,
}

/// Whose folder layout the snippet folder is in: bootschema's own, or that of the tool
/// the project switches from, read as that tool reads it (names, versions, order,
/// transactions), each file carrying what that tool records of it in its ledger so that
/// the first boot on a database it migrated records the history as `baselined` instead
/// of running it (see the README, "Switching from sqlx / diesel / refinery / Flyway").
///
/// ```no_run
/// // build.rs of a project that sqlx migrated until now
/// fn main() {
///     bootschema_build::Builder::new().folder("migrations").layout(bootschema_build::Layout::Sqlx).emit();
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// From the files' names (the default): diesel's folders, sqlx's `.up.sql` files,
    /// refinery's `U` files, Flyway's `R__` files and dotted versions tell their tool;
    /// `<version>_<description>.sql` files read as bootschema's own, and `V<n>__x.sql`
    /// files as refinery's (with a note). Files of two layouts in one folder are an
    /// error naming two of them.
    #[default]
    Detect,
    /// bootschema's own: `<version>_<description>.sql`, dialect subfolders.
    Bootschema,
    /// sqlx: `<version>_<description>.sql` and `.up.sql` (`.down.sql` ignored, with a
    /// note), the version a 64-bit integer, applied in its numeric order; a file whose
    /// first line is `-- no-transaction` runs outside a transaction. Its checksum is
    /// sqlx's: SHA-384 of the file's bytes, as sqlx reads them.
    Sqlx,
    /// diesel: `<version>_<name>/up.sql` (`down.sql` ignored), the version the name's
    /// part before the first `_` with its dashes removed, applied in the order of those
    /// versions compared as text (as diesel does); `metadata.toml` with
    /// `run_in_transaction = false` runs it outside a transaction. diesel keeps no
    /// checksum.
    Diesel,
    /// refinery: `V<n>__<name>.sql` and `U<n>__<name>.sql` (unversioned: refinery applies
    /// them even below the latest applied version, which bootschema does for every
    /// file), applied in version order; its checksum is refinery's own.
    Refinery,
    /// Flyway: `V<version>__<description>.sql`, the version's parts separated by `.` or
    /// `_` and compared as numbers, and `R__<description>.sql`, repeatable: applied after
    /// every versioned file, by description, and again whenever it changes. Its checksum
    /// is Flyway's CRC32 over the file's lines.
    Flyway,
}

impl Layout {
    /// The layout's name as messages spell it (`bootschema`, `sqlx`, …).
    pub fn name(self) -> &'static str {
        match self {
            Layout::Detect => "detected",
            Layout::Bootschema => "bootschema",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::Refinery => "refinery",
            Layout::Flyway => "Flyway",
        }
    }

    /// The tool whose layout it is, for the layouts of other tools.
    pub fn tool(self) -> Option<Tool> {
        match self {
            Layout::Sqlx => Some(Tool::Sqlx),
            Layout::Diesel => Some(Tool::Diesel),
            Layout::Refinery => Some(Tool::Refinery),
            Layout::Flyway => Some(Tool::Flyway),
            Layout::Detect | Layout::Bootschema => None,
        }
    }
}

/// How the snippets of a folder are ordered: the order they apply in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOrder {
    /// By the number that the version's digits make (`2_b` before `10_a`): bootschema's
    /// own rule, and the default.
    Numeric,
    /// By the version's digits compared as text (`10_a` before `2_b`), as sqlx,
    /// diesel and other tools that compare version strings order them: for a history
    /// they wrote whose versions have different numbers of digits.
    Text,
}

impl Builder {
    /// The defaults: `sql/`, the package name as prefix, every dialect.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The snippet folder (default `sql`). A relative path is relative to the package
    /// (`CARGO_MANIFEST_DIR`) when cargo runs the code, else to the current directory.
    pub fn folder(mut self, path: impl Into<PathBuf>) -> Builder {
        self.folder = Some(path.into());
        self
    }

    /// The directory that [`Snippet::path`](bootschema::Snippet::path) and diagnostics
    /// are relative to. By default the package (`CARGO_MANIFEST_DIR`) when the folder is
    /// inside it, else the folder's parent, so that paths read `sql/0001_x.sql`.
    pub fn base_dir(mut self, path: impl Into<PathBuf>) -> Builder {
        self.base_dir = Some(path.into());
        self
    }

    /// The prefix of the app's environment variables, without the trailing `_`
    /// (`"MYAPP"` for `MYAPP_SCHEMA_DRY_RUN`). By default the package name in upper case
    /// with `-` turned into `_`.
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Builder {
        self.env_prefix = Some(prefix.into());
        self
    }

    /// Builds and checks only these dialects; the others get no snippets, and their
    /// folders are not read.
    pub fn dialects(mut self, dialects: &[DialectKind]) -> Builder {
        self.dialects = Some(dialects.to_vec());
        self
    }

    /// Marks the files up to `version` (included) as history: migrations written before
    /// the project used bootschema, imported as they are. They need no `-- destructive`
    /// line for their drops, type changes and unbounded updates (the build's gate), and
    /// the runtime does not block them: on an empty database the history runs whole,
    /// as the tool that wrote it ran it, and on a database that already holds it, it is
    /// baselined or adopted, never run again (see the README, "Bringing an existing
    /// history"). Snippets after it are gated as usual.
    ///
    /// In another tool's folder ([`Builder::layout`]) "up to" goes by the order that
    /// tool applies the files in: for Flyway's dotted versions, give the number
    /// bootschema gives the last history file (`1.2.3` is 111213, see
    /// `docs/existing-histories.md`).
    ///
    /// ```no_run
    /// // build.rs
    /// fn main() { bootschema_build::Builder::new().history_until(20240601120000).emit(); }
    /// ```
    pub fn history_until(mut self, version: u64) -> Builder {
        self.history_until = Some(version);
        self
    }

    /// Chooses how the snippets are ordered (by default [`VersionOrder::Numeric`], with a
    /// warning for every two files that the two orders would apply differently). Choose
    /// [`VersionOrder::Text`] for a history written by a tool that compares versions as
    /// text, so that an empty database gets it in the order that tool applied it.
    pub fn version_order(mut self, order: VersionOrder) -> Builder {
        self.version_order = Some(order);
        self
    }

    /// Whose folder layout the folder is in (default [`Layout::Detect`]): bootschema's
    /// own, or that of sqlx, diesel, refinery or Flyway, read as that tool reads it.
    ///
    /// ```no_run
    /// // build.rs: the migrations diesel wrote, embedded as they are
    /// use bootschema_build::{Builder, Layout};
    /// fn main() { Builder::new().folder("migrations").layout(Layout::Diesel).emit(); }
    /// ```
    pub fn layout(mut self, layout: Layout) -> Builder {
        self.layout = Some(layout);
        self
    }

    /// Reads and checks the folder without printing or writing anything.
    ///
    /// # Errors
    /// Every problem found, in file and line order.
    pub fn scan(&self) -> Result<Scan, Diagnostics> {
        self.run().result
    }

    /// What [`embed`] does, with this builder's settings: scan, write
    /// `$OUT_DIR/bootschema_snippets.bin` and `.rs` (each only when its content changed), print
    /// `cargo:rerun-if-changed` and `cargo:warning` lines; on errors, print them to
    /// stderr and exit with status 1. Meant for `build.rs`.
    pub fn emit(&self) {
        let run = self.run();
        let mut watched = run.watched;
        if watched.is_empty() {
            watched.push(run.folder);
        }
        for path in &watched {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        match run.result.and_then(|scan| write_generated(&scan).map(|()| scan)) {
            Ok(scan) => {
                for warning in &scan.warnings {
                    for line in warning.to_string().lines() {
                        println!("cargo:warning={line}");
                    }
                }
            }
            Err(errors) => {
                for error in &errors {
                    eprintln!("error: {error}");
                }
                std::process::exit(1);
            }
        }
    }

    /// The steps, on a thread with a large stack: the SQL parser recurses, and test
    /// threads' stacks are small.
    fn run(&self) -> Run {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("bootschema-build".into())
                .stack_size(64 << 20)
                .spawn_scoped(scope, || self.run_here())
                .ok()
                .and_then(|handle| handle.join().ok())
        })
        .unwrap_or_else(|| self.run_here())
    }

    fn run_here(&self) -> Run {
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        let anchor = |path: &Path| match &manifest_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        };
        let folder = anchor(self.folder.as_deref().unwrap_or(Path::new("sql")));
        let base = match &self.base_dir {
            Some(base) => anchor(base),
            None => default_base(&folder, manifest_dir.as_deref()),
        };
        let folder_rel = relative(&folder, &base);
        let dialects: Vec<DialectKind> = match &self.dialects {
            Some(chosen) => DialectKind::ALL.into_iter().filter(|d| chosen.contains(d)).collect(),
            None => DialectKind::ALL.to_vec(),
        };

        let mut errors = Vec::new();
        let env_prefix = self.resolve_env_prefix(&folder_rel).unwrap_or_else(|d| {
            errors.push(d);
            "MYAPP".to_owned()
        });
        let mut warnings = Vec::new();
        let layout = match self.layout.unwrap_or_default() {
            Layout::Detect => match layout::detect(&folder, &folder_rel) {
                Ok((layout, note)) => {
                    warnings.extend(note);
                    layout
                }
                Err(mixed) => {
                    errors.push(mixed);
                    Layout::Detect
                }
            },
            chosen => chosen,
        };
        let (files, watched) = if layout == Layout::Detect {
            // Two layouts in one folder: that is the one error worth reading.
            (Vec::new(), vec![folder.clone()])
        } else if layout == Layout::Diesel {
            let mut watched = Vec::new();
            let read = layout::read_diesel(&folder, &folder_rel, &mut watched);
            errors.extend(read.errors);
            warnings.extend(read.warnings);
            (read.files, watched)
        } else {
            let walk = scan::walk(&folder, &folder_rel);
            errors.extend(walk.diagnostics);
            warnings.extend(walk.warnings);
            let files = if layout == Layout::Bootschema {
                let (files, naming_errors) = scan::name_files(walk.files, &dialects);
                errors.extend(naming_errors);
                files
            } else {
                let read = layout::name_flat(walk.files, layout, &dialects);
                errors.extend(read.errors);
                warnings.extend(read.warnings);
                read.files
            };
            (files, walk.watched)
        };
        let mut resolution = scan::resolve(&files, &dialects, &folder_rel);
        errors.append(&mut resolution.errors);
        warnings.append(&mut resolution.warnings);
        match (layout, self.version_order) {
            // Another tool's folder applies in that tool's order.
            (Layout::Sqlx | Layout::Diesel | Layout::Refinery | Layout::Flyway, _) => {
                layout::order(&mut resolution.lists, &files)
            }
            // The folder's order is chosen: no warning about the other one.
            (_, Some(VersionOrder::Text)) => scan::order_as_text(&mut resolution.lists, &files),
            (_, Some(VersionOrder::Numeric)) => {}
            (_, None) => warnings.extend(scan::order_warnings(&files)),
        }

        let mut by_file: Vec<BTreeMap<DialectKind, (bootschema::Snippet, infer::Inferred)>> =
            Vec::with_capacity(files.len());
        // In another tool's folder, "up to" goes by the order that tool applies the
        // files in (diesel's text order, Flyway's version parts), as the runtime's
        // baseline does: every file up to the one of that version (or else the last
        // whose number is not greater).
        let history_files: Option<std::collections::BTreeSet<usize>> =
            self.history_until.filter(|_| layout.tool().is_some()).map(|until| {
                let mut marked = std::collections::BTreeSet::new();
                for (_, list) in &resolution.lists {
                    let end = list
                        .iter()
                        .rposition(|&i| files[i].version == until)
                        .or_else(|| list.iter().rposition(|&i| files[i].version <= until));
                    if let Some(end) = end {
                        marked.extend(list[..=end].iter().copied());
                    }
                }
                marked
            });
        for (index, file) in files.iter().enumerate() {
            let serves: Vec<DialectKind> =
                resolution.lists.iter().filter(|(_, list)| list.contains(&index)).map(|&(d, _)| d).collect();
            let history = match &history_files {
                Some(marked) => marked.contains(&index),
                None => self.history_until.is_some_and(|until| file.version <= until),
            };
            match assemble::assemble(file, &serves, &env_prefix, history) {
                Ok(assembled) => {
                    warnings.extend(assembled.warnings);
                    by_file.push(assembled.snippets);
                }
                Err(found) => {
                    errors.extend(found);
                    by_file.push(BTreeMap::new());
                }
            }
        }

        let result = if errors.is_empty() {
            let mut lists: BTreeMap<DialectKind, Vec<bootschema::Snippet>> = BTreeMap::new();
            for (dialect, list) in &resolution.lists {
                let (mut snippets, mut inferred): (Vec<_>, Vec<_>) =
                    list.iter().filter_map(|&i| by_file[i].remove(dialect)).unzip();
                infer::across_snippets(&mut snippets, &mut inferred);
                lists.insert(*dialect, snippets);
            }
            let mut take = |d: DialectKind| lists.remove(&d).unwrap_or_default();
            warnings.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
            Ok(Scan {
                set: SnippetSet::new(
                    env_prefix,
                    take(DialectKind::Postgres),
                    take(DialectKind::MySql),
                    take(DialectKind::Sqlite),
                ),
                warnings,
            })
        } else {
            errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
            Err(Diagnostics(errors))
        };
        Run { folder, watched, result }
    }

    fn resolve_env_prefix(&self, folder_rel: &str) -> Result<String, Diagnostic> {
        let prefix = match &self.env_prefix {
            Some(prefix) => prefix.trim_end_matches('_').to_owned(),
            None => match env::var("CARGO_PKG_NAME") {
                Ok(name) => name.to_ascii_uppercase().replace('-', "_"),
                Err(_) => {
                    return Err(Diagnostic::file(
                        folder_rel,
                        "no environment prefix: CARGO_PKG_NAME is not set outside cargo",
                        "set one with `Builder::new().env_prefix(\"MYAPP\")`",
                    ))
                }
            },
        };
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Diagnostic::file(
                folder_rel,
                format!("`{prefix}` is not a usable environment prefix"),
                "use letters, digits and `_` only, e.g. `Builder::new().env_prefix(\"MYAPP\")`",
            ));
        }
        Ok(prefix)
    }
}

/// What one run of the steps found.
struct Run {
    folder: PathBuf,
    watched: Vec<PathBuf>,
    result: Result<Scan, Diagnostics>,
}

fn write_generated(scan: &Scan) -> Result<(), Diagnostics> {
    let Some(out_dir) = env::var_os("OUT_DIR") else {
        return Err(Diagnostics(vec![Diagnostic::file(
            "OUT_DIR",
            "OUT_DIR is not set: `embed()` and `Builder::emit()` run in a build script",
            "call `bootschema_build::embed()` from build.rs, or use `Builder::scan()` elsewhere",
        )]));
    };
    // The blob first: the code that embeds it names it.
    for (file, contents) in
        [(GENERATED_BLOB, codegen::encode(&scan.set)), (GENERATED_FILE, codegen::generate().into_bytes())]
    {
        let path = Path::new(&out_dir).join(file);
        codegen::write_if_changed(&path, &contents).map_err(|err| {
            Diagnostics(vec![Diagnostic::file(
                &path.display().to_string(),
                format!("cannot write the generated snippets: {err}"),
                "check that OUT_DIR is writable",
            )])
        })?;
    }
    Ok(())
}

/// The package when the folder is inside it, else the folder's parent.
fn default_base(folder: &Path, manifest_dir: Option<&Path>) -> PathBuf {
    if let Some(dir) = manifest_dir {
        if folder.starts_with(dir) || canonical(folder).starts_with(canonical(dir)) {
            return dir.to_path_buf();
        }
    }
    folder.parent().map_or_else(|| folder.to_path_buf(), Path::to_path_buf)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// `path` relative to `base`, with `/` separators; the whole path when it is not inside.
fn relative(path: &Path, base: &Path) -> String {
    let inside = path
        .strip_prefix(base)
        .map(Path::to_path_buf)
        .or_else(|_| canonical(path).strip_prefix(canonical(base)).map(Path::to_path_buf));
    let shown = inside.unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for component in shown.components() {
        if !(out.is_empty() || out.ends_with('/')) {
            out.push('/');
        }
        match component {
            Component::RootDir => out.push('/'),
            other => out.push_str(&other.as_os_str().to_string_lossy()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_slashes() {
        assert_eq!(relative(Path::new("/app/sql/postgres"), Path::new("/app")), "sql/postgres");
        assert_eq!(relative(Path::new("/app/sql"), Path::new("/app/sql")), "");
    }

    #[test]
    fn path_outside_the_base_is_shown_whole() {
        assert_eq!(relative(Path::new("/elsewhere/sql"), Path::new("/app")), "/elsewhere/sql");
    }
}
