//! Step 1: walk the snippet folder, name its files, pick each dialect's snippets.
//!
//! Files directly in the folder are portable (every dialect); files in `postgres/`,
//! `mysql/` and `sqlite/` belong to that dialect and replace a portable file of the same
//! version for that dialect only. Anything else that is a folder is an error; files that
//! do not end in `.sql`, and hidden entries (editor swap files), are ignored.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use bootschema::DialectKind;

use crate::diagnostic::Diagnostic;
use crate::lines::LineIndex;

/// Versions have at most this many digits, so that any of them fits a `u64`.
const MAX_VERSION_DIGITS: usize = 18;

/// What [`walk`] found.
pub(crate) struct Walk {
    /// The folder, every subfolder and every file: what the build must be re-run for.
    pub watched: Vec<PathBuf>,
    /// The `.sql` files, sorted by path.
    pub files: Vec<FoundFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that look like snippets but are not read (`0001_init.psql`, `0002_x.SQL`).
    pub warnings: Vec<Diagnostic>,
}

/// A `.sql` file in the folder, before its name is read.
pub(crate) struct FoundFile {
    pub abs: PathBuf,
    /// Relative to the base dir, with `/` separators.
    pub rel: String,
    /// `None` for a portable file.
    pub dialect: Option<DialectKind>,
    pub name: String,
}

/// A snippet file whose name has been read.
#[derive(Debug, Clone)]
pub(crate) struct SnippetFile {
    pub abs: PathBuf,
    pub rel: String,
    pub dialect: Option<DialectKind>,
    pub version: u64,
    pub version_text: String,
    pub description: String,
    /// How the tool whose folder layout the file is in records it (sqlx, diesel,
    /// refinery, Flyway); `None` in bootschema's own layout.
    pub foreign: Option<crate::layout::ForeignFile>,
}

/// Walks `folder`, whose path relative to the base dir is `folder_rel`.
pub(crate) fn walk(folder: &Path, folder_rel: &str) -> Walk {
    let mut walk = Walk { watched: Vec::new(), files: Vec::new(), diagnostics: Vec::new(), warnings: Vec::new() };
    if !folder.is_dir() {
        walk.diagnostics.push(Diagnostic::file(
            folder_rel,
            format!("the snippet folder `{}` does not exist or is not a folder", folder.display()),
            format!(
                "create it with a first snippet such as `{folder_rel}/0001_create_users.sql`, \
                 or point `Builder::folder` at the folder that holds your snippets"
            ),
        ));
        return walk;
    }
    walk.watched.push(folder.to_path_buf());
    let entries = match list(folder, folder_rel) {
        Ok(entries) => entries,
        Err(d) => {
            walk.diagnostics.push(d);
            return walk;
        }
    };
    for entry in entries {
        if entry.is_dir {
            walk.watched.push(entry.abs.clone());
            match DialectKind::from_folder(&entry.lossy_name) {
                Some(dialect) => walk_dialect(&mut walk, dialect, &entry.abs, &entry.rel, folder_rel),
                None => walk.diagnostics.push(unknown_subfolder(&entry.rel, folder_rel)),
            }
        } else {
            walk.watched.push(entry.abs.clone());
            if let Some(file) = sql_file(&mut walk, entry, None) {
                walk.files.push(file);
            }
        }
    }
    walk
}

fn walk_dialect(walk: &mut Walk, dialect: DialectKind, folder: &Path, rel: &str, folder_rel: &str) {
    let entries = match list(folder, rel) {
        Ok(entries) => entries,
        Err(d) => {
            walk.diagnostics.push(d);
            return;
        }
    };
    for entry in entries {
        walk.watched.push(entry.abs.clone());
        if entry.is_dir {
            walk.diagnostics.push(unknown_subfolder(&entry.rel, folder_rel));
        } else if let Some(file) = sql_file(walk, entry, Some(dialect)) {
            walk.files.push(file);
        }
    }
}

fn unknown_subfolder(rel: &str, folder_rel: &str) -> Diagnostic {
    Diagnostic::file(
        rel,
        format!("`{rel}` is not a snippet folder"),
        format!(
            "snippets go directly in `{folder_rel}/` (every dialect) or in `{folder_rel}/postgres/`, \
             `{folder_rel}/mysql/` or `{folder_rel}/sqlite/`; move its files there or remove the folder"
        ),
    )
}

struct Entry {
    abs: PathBuf,
    rel: String,
    name: Option<String>,
    lossy_name: String,
    is_dir: bool,
}

impl Entry {
    fn is_sql(&self) -> bool {
        self.lossy_name.ends_with(".sql")
    }
}

/// The non-hidden entries of `folder`, sorted by name.
fn list(folder: &Path, rel: &str) -> Result<Vec<Entry>, Diagnostic> {
    let unreadable = |err: std::io::Error| {
        Diagnostic::file(rel, format!("cannot read the folder: {err}"), "check that the build can read it")
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(folder).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let lossy_name = entry.file_name().to_string_lossy().into_owned();
        if lossy_name.starts_with('.') {
            continue;
        }
        let abs = entry.path();
        // Follow symlinks: a linked folder or file counts as what it points to.
        let is_dir = fs::metadata(&abs).map(|m| m.is_dir()).unwrap_or(false);
        entries.push(Entry {
            rel: if rel.is_empty() { lossy_name.clone() } else { format!("{rel}/{lossy_name}") },
            name: entry.file_name().into_string().ok(),
            lossy_name,
            abs,
            is_dir,
        });
    }
    entries.sort_by(|a, b| a.lossy_name.cmp(&b.lossy_name));
    Ok(entries)
}

fn sql_file(walk: &mut Walk, entry: Entry, dialect: Option<DialectKind>) -> Option<FoundFile> {
    if !entry.is_sql() {
        // A README or a notes file is left alone; a file that looks like a snippet is
        // named, so that `0001_init.psql` or `0002_x.SQL` is not lost without a word.
        let name = entry.lossy_name.to_ascii_lowercase();
        if name.ends_with(".sql") || name.starts_with(|c: char| c.is_ascii_digit()) {
            walk.warnings.push(Diagnostic::file(
                &entry.rel,
                format!("`{}` is not read: only files ending in `.sql` (lower case) are snippets", entry.rel),
                "rename it to end in `.sql` if it is a snippet; otherwise move it out of the snippet folder",
            ));
        }
        return None;
    }
    let diagnostics = &mut walk.diagnostics;
    let Entry { abs, rel, name, .. } = entry;
    match name {
        Some(name) => Some(FoundFile { abs, rel, dialect, name }),
        None => {
            diagnostics.push(Diagnostic::file(
                &rel,
                "the file name is not valid UTF-8",
                "rename the file using UTF-8 characters only, e.g. `0001_create_users.sql`",
            ));
            None
        }
    }
}

/// The parts of a snippet's file name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FileName {
    pub version: u64,
    pub version_text: String,
    pub description: String,
}

/// Reads `<version>_<description>.sql`; the error is (what is wrong, what to do).
pub(crate) fn parse_file_name(name: &str) -> Result<FileName, (String, String)> {
    let example = "name snippets `<version>_<description>.sql`, e.g. `0001_create_users.sql` or \
                   `2025-03-01-1200_add_email.sql`";
    let stem = name.strip_suffix(".sql").unwrap_or(name);
    if !stem.starts_with(|c: char| c.is_ascii_digit()) {
        return Err((format!("the file name `{name}` does not start with a version"), example.to_owned()));
    }
    let prefix_len = stem.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(stem.len());
    let (version_text, rest) = stem.split_at(prefix_len);
    let Some(description) = rest.strip_prefix('_') else {
        let message = if rest.is_empty() {
            format!("the file name `{name}` has no description after its version")
        } else {
            format!("the file name `{name}` has no `_` between its version and its description")
        };
        return Err((
            message,
            format!("name it `{version_text}_<what it does>.sql`, e.g. `{version_text}_create_users.sql`"),
        ));
    };
    if description.is_empty() {
        return Err((
            format!("the file name `{name}` has an empty description"),
            format!("say what the snippet does after the `_`, e.g. `{version_text}_create_users.sql`"),
        ));
    }
    let digits: String = version_text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() > MAX_VERSION_DIGITS {
        return Err((
            format!(
                "the version `{version_text}` has {} digits, more than the {MAX_VERSION_DIGITS} allowed",
                digits.len()
            ),
            "use a shorter version, e.g. a sequence number `0001` or a date and time `202503011200`".to_owned(),
        ));
    }
    let version = digits
        .parse::<u64>()
        .map_err(|err| (format!("the version `{version_text}` is not a number: {err}"), example.to_owned()))?;
    Ok(FileName { version, version_text: version_text.to_owned(), description: description.to_owned() })
}

/// Reads the names of the portable files and of the files of the built `dialects`;
/// the files of other dialects are left out unread.
pub(crate) fn name_files(found: Vec<FoundFile>, dialects: &[DialectKind]) -> (Vec<SnippetFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for file in found {
        if file.dialect.is_some_and(|d| !dialects.contains(&d)) {
            continue;
        }
        match parse_file_name(&file.name) {
            Ok(name) => files.push(SnippetFile {
                abs: file.abs,
                rel: file.rel,
                dialect: file.dialect,
                version: name.version,
                version_text: name.version_text,
                description: name.description,
                foreign: None,
            }),
            Err((message, help)) => diagnostics.push(Diagnostic::file(&file.rel, message, help)),
        }
    }
    (files, diagnostics)
}

/// Which files each dialect applies, as indices into the files, in version order.
pub(crate) struct Resolution {
    pub lists: Vec<(DialectKind, Vec<usize>)>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Picks each built dialect's snippets: its own files, and the portable files whose
/// version it has no file for.
pub(crate) fn resolve(files: &[SnippetFile], dialects: &[DialectKind], folder_rel: &str) -> Resolution {
    let mut errors = Vec::new();
    // (dialect, version) → the file that holds it; a second one is a duplicate.
    let mut by_key: BTreeMap<(Option<DialectKind>, u64), usize> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        let key = (file.dialect, file.version);
        match by_key.get(&key) {
            Some(&first) => errors.push(Diagnostic::file(
                &file.rel,
                format!("version {} is also used by `{}`", file.version, files[first].rel),
                "give each snippet its own version: rename one of the two files (versions compare as \
                 numbers, so `0001_a.sql` and `1_b.sql` are the same version)",
            )),
            None => {
                by_key.insert(key, index);
            }
        }
    }

    let mut lists = Vec::new();
    for &dialect in dialects {
        let mut list: BTreeMap<u64, usize> =
            by_key.iter().filter(|((d, _), _)| d.is_none()).map(|(&(_, v), &i)| (v, i)).collect();
        list.extend(by_key.iter().filter(|((d, _), _)| *d == Some(dialect)).map(|(&(_, v), &i)| (v, i)));
        lists.push((dialect, list.into_values().collect::<Vec<_>>()));
    }

    let mut warnings = Vec::new();
    let mut versions: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for &index in by_key.values() {
        versions.entry(files[index].version).or_default().push(index);
    }
    for (version, holders) in versions {
        let lacking: Vec<DialectKind> = lists
            .iter()
            .filter(|(_, list)| !list.iter().any(|&i| files[i].version == version))
            .map(|&(d, _)| d)
            .collect();
        if lacking.is_empty() {
            continue;
        }
        let first = &files[holders[0]];
        let having: Vec<DialectKind> = lists.iter().map(|&(d, _)| d).filter(|d| !lacking.contains(d)).collect();
        warnings.push(Diagnostic::file(
            &first.rel,
            format!(
                "version {} has a snippet for {} but none for {}",
                first.version_text,
                and_list(&having),
                and_list(&lacking)
            ),
            format!(
                "add {}, or move the snippet to `{folder_rel}/` if the same SQL works on every dialect",
                lacking
                    .iter()
                    .map(|d| format!("`{folder_rel}/{}/{}_{}.sql`", d.folder(), first.version_text, first.description))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }

    Resolution { lists, errors, warnings }
}

/// Pairs of files whose versions order differently as numbers (as bootschema applies
/// them) and as text (as sqlx, diesel and other tools compare their version strings):
/// `2024-03-13_x` is version 20240313, before every 14-digit version as a number and
/// after `20240101120000` as text. A warning per pair that is next to each other in
/// bootschema's order (any disagreement shows in such a pair), at most five.
pub(crate) fn order_warnings(files: &[SnippetFile]) -> Vec<Diagnostic> {
    const MOST: usize = 5;
    let digits = |f: &SnippetFile| f.version_text.chars().filter(char::is_ascii_digit).collect::<String>();
    let mut ordered: Vec<&SnippetFile> = files.iter().collect();
    ordered.sort_by_key(|f| f.version);
    ordered.dedup_by_key(|f| f.version);
    ordered
        .windows(2)
        .filter(|pair| digits(pair[0]) > digits(pair[1]))
        .take(MOST)
        .map(|pair| {
            let (first, second) = (pair[0], pair[1]);
            Diagnostic::file(
                &first.rel,
                format!(
                    "`{}` (version {}) and `{}` (version {}) order differently as numbers and as text: bootschema \
                     applies `{}` first, a tool that compares versions as text applies it second",
                    first.rel, first.version, second.rel, second.version, first.rel
                ),
                "check that this order is the one the files were written for; give the versions the same number \
                 of digits so that both orders agree",
            )
        })
        .collect()
}

/// Orders each dialect's list by the versions' digits compared as text (the digits of
/// two files differ, or their versions would be the same number).
pub(crate) fn order_as_text(lists: &mut [(DialectKind, Vec<usize>)], files: &[SnippetFile]) {
    let digits = |i: &usize| files[*i].version_text.chars().filter(char::is_ascii_digit).collect::<String>();
    for (_, list) in lists.iter_mut() {
        list.sort_by_cached_key(digits);
    }
}

/// `PostgreSQL`, `PostgreSQL and SQLite`, `PostgreSQL, MySQL and SQLite`.
pub(crate) fn and_list(dialects: &[DialectKind]) -> String {
    let names: Vec<String> = dialects.iter().map(ToString::to_string).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Reads a snippet's text as it is in the file (checked to be UTF-8): what other tools
/// compute their checksums over.
pub(crate) fn read_raw(file: &SnippetFile) -> Result<String, Diagnostic> {
    let bytes = fs::read(&file.abs).map_err(|err| {
        Diagnostic::file(&file.rel, format!("cannot read the file: {err}"), "check that the build can read it")
    })?;
    if u32::try_from(bytes.len()).is_err() {
        return Err(Diagnostic::file(&file.rel, "the file is larger than 4 GiB", "split it into several snippets"));
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let offset = err.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&err.as_bytes()[..offset]).into_owned();
        Diagnostic::at(
            &file.rel,
            LineIndex::new(&valid).line(offset),
            format!("the file is not valid UTF-8 (invalid byte at offset {offset})"),
            "save the file as UTF-8",
        )
    })?;
    Ok(text)
}

/// Removes a leading UTF-8 BOM and turns CRLF into LF; nothing else (whitespace inside
/// string literals can matter).
pub(crate) fn normalise(text: String) -> String {
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_digits_are_read_without_dashes() {
        let name = parse_file_name("2025-03-01-1200_add_email.sql").unwrap();
        assert_eq!(
            name,
            FileName { version: 202503011200, version_text: "2025-03-01-1200".into(), description: "add_email".into() }
        );
    }

    #[test]
    fn description_keeps_everything_after_the_first_underscore() {
        let name = parse_file_name("0001_create_users.sql").unwrap();
        assert_eq!((name.version, name.description.as_str()), (1, "create_users"));
    }

    #[test]
    fn eighteen_digit_version_is_accepted() {
        assert_eq!(parse_file_name("999999999999999999_x.sql").unwrap().version, 999_999_999_999_999_999);
    }

    #[test]
    fn normalise_removes_bom_and_crlf_only() {
        assert_eq!(normalise("\u{feff}a\r\nb\rc\n".to_owned()), "a\nb\rc\n");
    }
}
