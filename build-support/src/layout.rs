//! Other tools' folder layouts: sqlx, diesel, refinery and Flyway folders read as they
//! are, each file carrying how its tool records it (version, name, checksum) so that
//! the first boot on a database that tool migrated can match that tool's ledger.
//!
//! | layout | files | version (ours) | version (the tool's, for its ledger) | order |
//! | --- | --- | --- | --- | --- |
//! | sqlx | `<i64>_<desc>.sql`, `.up.sql` (`.down.sql` ignored) | the integer | the integer | as numbers |
//! | diesel | `<version>_<name>/up.sql` (`down.sql` ignored) | the digits | the prefix without `-` | as text |
//! | refinery | `V<i32>__<name>.sql`, `U<i32>__<name>.sql` | the integer | the integer | as numbers |
//! | Flyway | `V<1.2.3>__<desc>.sql`, `R__<desc>.sql` | see [`flyway_number`] | `1.2.3` | parts as numbers, `R__` after, by description |

use std::fs;
use std::path::{Path, PathBuf};

use bootschema::{DialectKind, Tool};

use crate::diagnostic::Diagnostic;
use crate::scan::{FoundFile, SnippetFile};
use crate::Layout;

/// How the tool whose layout a file is in records it, and what its layout says of
/// the file beyond its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignFile {
    pub tool: Tool,
    /// The version as the tool records it (empty for a Flyway `R__` file).
    pub version: String,
    /// The name or description as the tool records it.
    pub name: String,
    /// diesel's `metadata.toml` says `run_in_transaction = false`.
    pub no_transaction: bool,
    /// A Flyway repeatable (`R__`) file: run again whenever it changes.
    pub repeatable: bool,
}

/// What reading a folder in a tool's layout found.
#[derive(Default)]
pub(crate) struct Read {
    pub files: Vec<SnippetFile>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Which layouts a file's name is valid in.
fn candidates(name: &str, is_dir: bool, dir_has_up: bool) -> Vec<Layout> {
    if is_dir {
        return if dir_has_up { vec![Layout::Diesel] } else { Vec::new() };
    }
    if !name.ends_with(".sql") {
        return Vec::new();
    }
    let mut out = Vec::new();
    // A name that starts with a version is bootschema's (whose reader then says what
    // is wrong with it, if anything), unless it is one half of a reversible sqlx pair.
    if name.starts_with(|c: char| c.is_ascii_digit()) && !name.ends_with(".up.sql") && !name.ends_with(".down.sql") {
        out.push(Layout::Bootschema);
    }
    if sqlx_name(name).is_ok() {
        out.push(Layout::Sqlx);
    }
    if refinery_name(name).is_some() {
        out.push(Layout::Refinery);
    }
    // Flyway's undo (`U`) and baseline (`B`) files are Flyway's too, though not read.
    let flyway_other = ["U", "B"].iter().any(|p| {
        name.strip_prefix(p)
            .and_then(|r| r.split_once("__"))
            .is_some_and(|(v, _)| flyway_name(&format!("V{v}__x.sql")).is_some())
    });
    if flyway_name(name).is_some() || flyway_other {
        out.push(Layout::Flyway);
    }
    out
}

/// The entries of a folder that count for detection: `(name, is_dir, has up.sql)`,
/// with the files of the dialect subfolders (`postgres/`, …) as files of the folder.
fn entries(folder: &Path) -> Vec<(String, String, bool, bool)> {
    let mut out = Vec::new();
    let Ok(read) = fs::read_dir(folder) else { return out };
    let mut list: Vec<(String, PathBuf)> = read
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    list.sort();
    for (name, path) in list {
        let is_dir = fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir && DialectKind::from_folder(&name).is_some() {
            let mut inner: Vec<String> = fs::read_dir(&path)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter(|e| fs::metadata(e.path()).map(|m| m.is_file()).unwrap_or(false))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect();
            inner.sort();
            out.extend(inner.into_iter().map(|n| (format!("{name}/{n}"), n, false, false)));
        } else {
            let has_up = is_dir && path.join("up.sql").is_file();
            out.push((name.clone(), name, is_dir, has_up));
        }
    }
    out
}

/// The layout of `folder`, from its files' names: the one every snippet file is valid
/// in (bootschema's own before sqlx's, whose plain files read the same; refinery's
/// before Flyway's for `V<n>__` files, with a warning). Files no layout reads (a
/// README) are left out; two files no one layout reads are an error naming both.
pub(crate) fn detect(folder: &Path, folder_rel: &str) -> Result<(Layout, Option<Diagnostic>), Diagnostic> {
    let mut common: Option<(Vec<Layout>, String)> = None;
    for (shown, name, is_dir, has_up) in entries(folder) {
        let found = candidates(&name, is_dir, has_up);
        if found.is_empty() {
            continue;
        }
        common = Some(match common {
            None => (found, shown),
            Some((layouts, first)) => {
                let both: Vec<Layout> = layouts.iter().copied().filter(|l| found.contains(l)).collect();
                if both.is_empty() {
                    return Err(Diagnostic::file(
                        &format!("{folder_rel}/{shown}"),
                        format!(
                            "`{folder_rel}/{first}` is in {} layout, `{folder_rel}/{shown}` in {}: one folder holds \
                             the files of one tool",
                            layout_names(&layouts),
                            layout_names(&found)
                        ),
                        "rename the file that does not belong to the folder's tool the way that tool names its \
                         files, or name the layout with `Builder::layout(Layout::…)` to see what it does not read",
                    ));
                }
                (both, first)
            }
        });
    }
    let Some((layouts, first)) = common else { return Ok((Layout::Bootschema, None)) };
    for layout in [Layout::Bootschema, Layout::Diesel, Layout::Sqlx, Layout::Refinery, Layout::Flyway] {
        if layouts.contains(&layout) {
            let note = (layout == Layout::Refinery && layouts.contains(&Layout::Flyway)).then(|| {
                Diagnostic::file(
                    folder_rel,
                    format!(
                        "the files (`{folder_rel}/{first}`, …) are named the way both refinery and Flyway name them: \
                         read as refinery's"
                    ),
                    "if Flyway wrote them, say so with `Builder::layout(bootschema_build::Layout::Flyway)`; \
                     `.layout(Layout::Refinery)` silences this note",
                )
            });
            return Ok((layout, note));
        }
    }
    Ok((Layout::Bootschema, None))
}

fn layout_names(layouts: &[Layout]) -> String {
    let names: Vec<&str> = layouts.iter().map(|l| l.name()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => format!("{last}'s"),
        Some((last, rest)) => format!("{} or {last}'s", rest.join("'s, ")),
    }
}

/// sqlx: `<i64>_<description>.sql`, `.up.sql`, `.down.sql`; `Ok((version, description,
/// down))`. sqlx splits at the first `_` and parses the rest as an `i64`.
pub(crate) fn sqlx_name(name: &str) -> Result<(i64, String, bool), String> {
    let (version, rest) = name.split_once('_').ok_or("no `_` after the version")?;
    if !rest.ends_with(".sql") {
        return Err("not a `.sql` file".into());
    }
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{version}` is not a whole number (sqlx reads the version as a 64-bit integer)"));
    }
    let version: i64 =
        version.parse().map_err(|_| format!("`{version}` is larger than sqlx's versions (a 64-bit integer)"))?;
    let (description, down) = if let Some(d) = rest.strip_suffix(".up.sql") {
        (d, false)
    } else if let Some(d) = rest.strip_suffix(".down.sql") {
        (d, true)
    } else {
        (rest.strip_suffix(".sql").unwrap_or(rest), false)
    };
    Ok((version, description.to_owned(), down))
}

/// refinery: `^(U|V)(\d+)__(\w+)\.sql$` (refinery's own pattern also allows `V1.2`,
/// which its `i32` versions then refuse); `Some((unversioned, version, name))`.
pub(crate) fn refinery_name(name: &str) -> Option<(bool, i32, String)> {
    let stem = name.strip_suffix(".sql")?;
    let unversioned = match stem.as_bytes().first()? {
        b'U' => true,
        b'V' => false,
        _ => return None,
    };
    let (version, rest) = stem[1..].split_once("__")?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if rest.is_empty() || !rest.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some((unversioned, version.parse().ok()?, rest.to_owned()))
}

/// A Flyway file: a versioned one (`V1.2.3__desc.sql`, `V1_2__desc.sql`) with its
/// version parts, or a repeatable one (`R__desc.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlywayName {
    /// The version as Flyway records it: underscores read as dots (`1.2.3`); empty for
    /// a repeatable file.
    pub version: String,
    /// Its parts as numbers (without leading zeros), trailing zero parts removed as
    /// Flyway compares them (`1.0` is `1`).
    pub parts: Vec<String>,
    /// The description as Flyway records it: underscores read as spaces.
    pub description: String,
    pub repeatable: bool,
}

/// Reads a Flyway file name (the default prefixes `V` and `R`, separator `__`, suffix
/// `.sql`); `None` for any other name.
pub(crate) fn flyway_name(name: &str) -> Option<FlywayName> {
    let stem = name.strip_suffix(".sql")?;
    if let Some(description) = stem.strip_prefix("R__") {
        return (!description.is_empty()).then(|| FlywayName {
            version: String::new(),
            parts: Vec::new(),
            description: description.replace('_', " "),
            repeatable: true,
        });
    }
    let rest = stem.strip_prefix('V')?;
    let (version, description) = rest.split_once("__")?;
    let dotted = version.replace('_', ".");
    if dotted.is_empty() || dotted.split('.').any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut parts: Vec<String> = dotted
        .split('.')
        .map(|p| {
            let trimmed = p.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }.to_owned()
        })
        .collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
        parts.pop();
    }
    Some(FlywayName { version: dotted, parts, description: description.replace('_', " "), repeatable: false })
}

/// The first number bootschema gives Flyway's repeatable files, above every versioned
/// file's (at most 18 digits).
pub(crate) const FLYWAY_REPEATABLE_BASE: u64 = 1_000_000_000_000_000_000;

/// bootschema's number for a Flyway version: the number itself for a version of one
/// part (`V42__` is 42); for a dotted one, each part (leading zeros removed) written
/// as its digit count followed by its digits (`1.2.3` is `11 12 13`, 111213; `2.10` is
/// `12 210`, 12210), which gives every dotted version its own number, stable whatever
/// other files the folder holds. The order the snippets apply in is Flyway's (parts as
/// numbers), not these numbers'. A repeatable file gets
/// [`FLYWAY_REPEATABLE_BASE`] plus a number taken from its description.
pub(crate) fn flyway_number(name: &FlywayName) -> Result<u64, String> {
    if name.repeatable {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(name.description.as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        return Ok(FLYWAY_REPEATABLE_BASE + u64::from_be_bytes(head) % FLYWAY_REPEATABLE_BASE);
    }
    let digits = if let [single] = name.parts.as_slice() {
        single.clone()
    } else {
        let mut out = String::new();
        for part in &name.parts {
            if part.len() > 9 {
                return Err(format!("the part `{part}` of version {} has more than 9 digits", name.version));
            }
            out.push_str(&part.len().to_string());
            out.push_str(part);
        }
        out
    };
    if digits.len() > 18 {
        return Err(format!(
            "version {} needs {} digits as a bootschema version ({digits}), more than the 18 allowed",
            name.version,
            digits.len()
        ));
    }
    digits.parse().map_err(|_| format!("version {} is not a number", name.version))
}

/// Reads the files of a flat layout (sqlx, refinery, Flyway) that [`crate::scan::walk`]
/// found.
pub(crate) fn name_flat(found: Vec<FoundFile>, layout: Layout, dialects: &[DialectKind]) -> Read {
    let mut read = Read::default();
    for file in found {
        if file.dialect.is_some_and(|d| !dialects.contains(&d)) {
            continue;
        }
        let named = match layout {
            Layout::Sqlx => name_sqlx(&file, &mut read),
            Layout::Refinery => name_refinery(&file),
            Layout::Flyway => name_flyway(&file, &mut read),
            _ => None,
        };
        match named {
            Some(Ok((version, description, foreign))) => read.files.push(SnippetFile {
                abs: file.abs,
                rel: file.rel,
                dialect: file.dialect,
                version,
                version_text: file_version_text(&file.name, layout),
                description,
                foreign: Some(foreign),
            }),
            Some(Err((message, help))) => read.errors.push(Diagnostic::file(&file.rel, message, help)),
            None => {}
        }
    }
    read
}

type Named = Option<Result<(u64, String, ForeignFile), (String, String)>>;

fn file_version_text(name: &str, layout: Layout) -> String {
    match layout {
        Layout::Sqlx => name.split_once('_').map_or(name, |(v, _)| v).to_owned(),
        Layout::Refinery => name.get(1..).and_then(|r| r.split_once("__")).map_or(name, |(v, _)| v).to_owned(),
        Layout::Flyway => match name.strip_prefix('V').and_then(|r| r.split_once("__")) {
            Some((v, _)) => v.to_owned(),
            None => "R".to_owned(),
        },
        _ => name.to_owned(),
    }
}

fn name_sqlx(file: &FoundFile, read: &mut Read) -> Named {
    match sqlx_name(&file.name) {
        Ok((_, _, true)) => {
            read.warnings.push(Diagnostic::file(
                &file.rel,
                format!("`{}` is a down migration: bootschema never reverts, so it is not read", file.rel),
                "nothing to do; keep it if the project may go back to sqlx (see the README, \"Switching from \
                 sqlx\")",
            ));
            None
        }
        Ok((version, description, false)) if version < 0 => Some(Err((
            format!("the version {version} is negative"),
            format!("bootschema's versions are not negative: rename it, e.g. `{}_{description}.sql`", -version),
        ))),
        Ok((version, description, false)) => {
            let foreign = ForeignFile {
                tool: Tool::Sqlx,
                version: version.to_string(),
                name: description.replace('_', " "),
                no_transaction: false,
                repeatable: false,
            };
            Some(Ok((version as u64, description, foreign)))
        }
        Err(why) => Some(Err((
            format!("`{}` is not a sqlx migration name: {why}", file.rel),
            "sqlx names migrations `<version>_<description>.sql` with a whole-number version, e.g. \
             `20240101120000_create_users.sql`"
                .to_owned(),
        ))),
    }
}

fn name_refinery(file: &FoundFile) -> Named {
    match refinery_name(&file.name) {
        Some((_, version, name)) if version < 0 => Some(Err((
            format!("the version {version} is negative"),
            format!("rename it with a version of 0 or more, e.g. `V1__{name}.sql`"),
        ))),
        Some((_, version, name)) => {
            let foreign = ForeignFile {
                tool: Tool::Refinery,
                version: version.to_string(),
                name: name.clone(),
                no_transaction: false,
                repeatable: false,
            };
            Some(Ok((version as u64, name, foreign)))
        }
        None => Some(Err((
            format!("`{}` is not a refinery migration name", file.rel),
            "refinery names migrations `V<version>__<name>.sql` (or `U<version>__<name>.sql`), the version a \
             whole number and the name letters, digits and `_`, e.g. `V3__add_email.sql`"
                .to_owned(),
        ))),
    }
}

fn name_flyway(file: &FoundFile, read: &mut Read) -> Named {
    let name = &file.name;
    if name.starts_with('U') || name.starts_with('B') {
        read.warnings.push(Diagnostic::file(
            &file.rel,
            format!(
                "`{}` is a Flyway {} migration: not read",
                file.rel,
                if name.starts_with('U') { "undo" } else { "baseline" }
            ),
            "bootschema applies the versioned (`V`) and repeatable (`R__`) files; nothing to do",
        ));
        return None;
    }
    match flyway_name(name) {
        Some(flyway) => match flyway_number(&flyway) {
            Ok(number) => {
                let description = name.strip_suffix(".sql").unwrap_or(name);
                let description = description.split_once("__").map_or(description, |(_, d)| d).to_owned();
                let foreign = ForeignFile {
                    tool: Tool::Flyway,
                    version: flyway.version.clone(),
                    name: flyway.description.clone(),
                    no_transaction: false,
                    repeatable: flyway.repeatable,
                };
                Some(Ok((number, description, foreign)))
            }
            Err(why) => Some(Err((
                format!("`{}`: {why}", file.rel),
                "use at most 18 digits in all (each dotted part counts one digit more), e.g. `V2024.1__x.sql`"
                    .to_owned(),
            ))),
        },
        None => Some(Err((
            format!("`{}` is not a Flyway migration name", file.rel),
            "Flyway names migrations `V<version>__<description>.sql` (the version's parts separated by `.` or \
             `_`, e.g. `V1.2__add_email.sql`) and repeatable ones `R__<description>.sql`"
                .to_owned(),
        ))),
    }
}

/// Reads a diesel folder: one subfolder per migration, `<version>_<name>/up.sql`
/// (`down.sql` ignored, `metadata.toml`'s `run_in_transaction = false` read); the
/// dialect subfolders (`postgres/`, …) as in bootschema's own layout are not diesel's.
pub(crate) fn read_diesel(folder: &Path, folder_rel: &str, watched: &mut Vec<PathBuf>) -> Read {
    let mut read = Read::default();
    let Ok(list) = fs::read_dir(folder) else {
        read.errors.push(Diagnostic::file(
            folder_rel,
            format!("the snippet folder `{}` does not exist or cannot be read", folder.display()),
            "point `Builder::folder` at diesel's `migrations` folder",
        ));
        return read;
    };
    watched.push(folder.to_path_buf());
    let mut entries: Vec<(String, PathBuf)> = list
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    entries.sort();
    for (name, dir) in entries {
        if !fs::metadata(&dir).map(|m| m.is_dir()).unwrap_or(false) {
            // diesel reads folders only (a `.keep`, a README).
            continue;
        }
        watched.push(dir.clone());
        let rel = format!("{folder_rel}/{name}");
        let up = dir.join("up.sql");
        if !up.is_file() {
            read.errors.push(Diagnostic::file(
                &rel,
                format!("`{rel}` has no `up.sql`"),
                "diesel migrations are folders `<version>_<name>/` holding `up.sql` (and `down.sql`); add it, or \
                 move the folder out of the migrations folder",
            ));
            continue;
        }
        watched.push(up.clone());
        // diesel: the name's part before the first `_`, dashes removed.
        let version = name.split('_').next().unwrap_or_default().replace('-', "");
        let description = name.split_once('_').map_or("", |(_, d)| d).to_owned();
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || description.is_empty() {
            read.errors.push(Diagnostic::file(
                &rel,
                format!("`{name}` is not a diesel migration name with a numeric version and a name"),
                "diesel names migrations `<version>_<name>`, e.g. `2024-01-01-120000_create_users`",
            ));
            continue;
        }
        let Some(number) = version.parse::<u64>().ok().filter(|_| version.len() <= 18) else {
            read.errors.push(Diagnostic::file(
                &rel,
                format!("the version `{version}` has more than 18 digits"),
                "use a shorter version, e.g. a date and time `2024-01-01-120000`",
            ));
            continue;
        };
        let down = dir.join("down.sql");
        if down.is_file() {
            watched.push(down);
        }
        let metadata = dir.join("metadata.toml");
        let mut no_transaction = false;
        if metadata.is_file() {
            watched.push(metadata.clone());
            match fs::read_to_string(&metadata) {
                Ok(text) => match run_in_transaction(&text) {
                    Ok(run) => no_transaction = !run,
                    Err(why) => read.errors.push(Diagnostic::file(
                        &format!("{rel}/metadata.toml"),
                        why,
                        "write `run_in_transaction = false` (or `true`) on a line of its own",
                    )),
                },
                Err(err) => read.errors.push(Diagnostic::file(
                    &format!("{rel}/metadata.toml"),
                    format!("cannot read the file: {err}"),
                    "check that the build can read it",
                )),
            }
        }
        let foreign = ForeignFile {
            tool: Tool::Diesel,
            version: version.clone(),
            name: name.clone(),
            no_transaction,
            repeatable: false,
        };
        read.files.push(SnippetFile {
            abs: up,
            rel: format!("{rel}/up.sql"),
            dialect: None,
            version: number,
            version_text: name.split('_').next().unwrap_or_default().to_owned(),
            description,
            foreign: Some(foreign),
        });
    }
    read
}

/// The value of `run_in_transaction` in a diesel `metadata.toml` (default `true`): a
/// top-level `run_in_transaction = true|false` line; other keys and tables are diesel's
/// own business.
fn run_in_transaction(text: &str) -> Result<bool, String> {
    let mut table = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') {
            table = true;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if table || key.trim() != "run_in_transaction" {
            continue;
        }
        return match value.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("`run_in_transaction = {other}`: diesel reads `true` or `false` there")),
        };
    }
    Ok(true)
}

/// The position of each file in its tool's order, for sorting a dialect's list: sqlx
/// and refinery by the integer (as bootschema), diesel by its version text, Flyway by
/// its version's parts as numbers, its repeatable files after every versioned one, by
/// description.
pub(crate) fn order_key(file: &SnippetFile) -> (u8, Vec<(usize, String)>, String) {
    let Some(foreign) = &file.foreign else { return (0, vec![(0, String::new())], String::new()) };
    match foreign.tool {
        Tool::Sqlx | Tool::Refinery => (0, vec![(20, format!("{:020}", file.version))], String::new()),
        Tool::Diesel => (0, Vec::new(), foreign.version.clone()),
        Tool::Flyway if foreign.repeatable => (1, Vec::new(), foreign.name.clone()),
        Tool::Flyway => {
            let parts = flyway_name(&format!("V{}__x.sql", foreign.version)).map(|n| n.parts).unwrap_or_default();
            (0, parts.into_iter().map(|p| (p.len(), p)).collect(), String::new())
        }
    }
}

/// Sorts each dialect's list in its tool's order ([`order_key`]). Flyway compares a
/// missing part as 0, which the key's shorter list does too (`1` before `1.1`; `1.0` is
/// `1`, a duplicate).
pub(crate) fn order(lists: &mut [(DialectKind, Vec<usize>)], files: &[SnippetFile]) {
    for (_, list) in lists.iter_mut() {
        list.sort_by_cached_key(|i| order_key(&files[*i]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_names() {
        assert_eq!(sqlx_name("20240101_create_users.sql"), Ok((20240101, "create_users".into(), false)));
        assert_eq!(sqlx_name("0002_x.up.sql"), Ok((2, "x".into(), false)));
        assert_eq!(sqlx_name("0002_x.down.sql"), Ok((2, "x".into(), true)));
        assert!(sqlx_name("2024-01-01_x.sql").is_err());
        assert!(sqlx_name("V1__x.sql").is_err());
    }

    #[test]
    fn refinery_names() {
        assert_eq!(refinery_name("V3__add_email.sql"), Some((false, 3, "add_email".into())));
        assert_eq!(refinery_name("U4__fix.sql"), Some((true, 4, "fix".into())));
        assert_eq!(refinery_name("V1.2__x.sql"), None);
        assert_eq!(refinery_name("V1__a-b.sql"), None);
    }

    #[test]
    fn flyway_versions_compare_by_parts_and_map_to_distinct_numbers() {
        let v = |n: &str| flyway_name(n).unwrap();
        assert_eq!(v("V1_2__add_email.sql").version, "1.2");
        assert_eq!(v("V1_2__add_email.sql").description, "add email");
        assert_eq!(v("V1.0__x.sql").parts, vec!["1"]);
        assert_eq!(flyway_number(&v("V42__x.sql")), Ok(42));
        assert_eq!(flyway_number(&v("V1.2.3__x.sql")), Ok(111213));
        assert_eq!(flyway_number(&v("V2.10__x.sql")), Ok(12210));
        assert_ne!(flyway_number(&v("V1.23__x.sql")), flyway_number(&v("V12.3__x.sql")));
        let r = flyway_number(&v("R__views.sql")).unwrap();
        assert!(r >= FLYWAY_REPEATABLE_BASE);
        assert!(flyway_name("V1.a__x.sql").is_none());
        assert!(flyway_name("V__x.sql").is_none());
    }

    #[test]
    fn diesel_metadata() {
        assert_eq!(run_in_transaction("run_in_transaction = false\n"), Ok(false));
        assert_eq!(run_in_transaction("# note\nrun_in_transaction=true # yes\n"), Ok(true));
        assert_eq!(run_in_transaction("[other]\nrun_in_transaction = false\n"), Ok(true));
        assert!(run_in_transaction("run_in_transaction = maybe\n").is_err());
    }
}
