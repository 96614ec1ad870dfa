//! Other tools' ledgers (sqlx, diesel, refinery, Flyway), read at the first boot on a
//! database one of them migrated: every snippet of that tool's folder layout that its
//! ledger lists is recorded as `baselined`, its checksum verified where the tool keeps
//! one. Those tables are only read, never changed.
//!
//! When: the embedded snippets come from another tool's layout ([`Snippet::foreign`])
//! and bootschema's ledger does not record some of them (no ledger, or rows missing):
//! one catalog query says which of those tools' tables exist, and one query reads the
//! rows of all that do. A boot whose ledger records every such snippet reads nothing of
//! them.
//!
//! | tool | columns read | refused |
//! | --- | --- | --- |
//! | sqlx | `version`, `description`, `success`, `checksum` (SHA-384, hex) | `success = false`; another checksum |
//! | diesel | `version` | |
//! | refinery | `version`, `name`, `checksum` (a `u64` as text) | another checksum |
//! | Flyway | `installed_rank`, `version`, `description`, `type`, `checksum`, `success` | `success = false`; another checksum of a versioned file |

use std::collections::{BTreeMap, HashMap};

use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::ledger::{Ledger, LedgerTable};
use crate::snippet::{Snippet, Tool};

/// A row of another tool's ledger, every column as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ForeignRow {
    pub tool: Tool,
    /// sqlx, refinery: the integer; diesel: its text; Flyway: the dotted version, or
    /// `None` for a repeatable migration's row.
    pub version: Option<String>,
    /// The description or name.
    pub name: String,
    /// sqlx's and Flyway's `success`.
    pub success: bool,
    /// The checksum as text (sqlx: hex), when the tool keeps one.
    pub checksum: Option<String>,
    /// Flyway's `type` (`SQL`, `BASELINE`, `SCHEMA`, `DELETE`, `UNDO_SQL`, …).
    pub kind: String,
    /// Flyway's `installed_rank` (the order rows were written); 0 elsewhere.
    pub rank: i64,
}

/// A version another tool's ledger lists whose file the folder no longer holds (a file
/// deleted or squashed after it ran): reported, never acted on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForeignMissing {
    /// The tool whose ledger lists it.
    pub tool: Tool,
    /// That tool's ledger table.
    pub table: String,
    /// The version as that tool records it.
    pub version: String,
    /// The description or name that tool recorded.
    pub name: String,
}

/// How a snippet stands in another tool's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Listed, with the same checksum (or the tool keeps none): record it as
    /// `baselined`, without running it.
    Applied { tool: Tool, why: String },
    /// A Flyway repeatable file whose text changed since Flyway last ran it: it runs
    /// again, as Flyway would run it.
    Changed { tool: Tool, recorded: String },
}

/// What the other tools' ledgers say of the embedded snippets.
#[derive(Debug, Clone, Default)]
pub(crate) struct OtherLedgers {
    /// Per snippet (index in the list), how its tool's ledger lists it.
    pub standing: HashMap<usize, Standing>,
    /// Versions a ledger lists that the folder lacks.
    pub missing: Vec<ForeignMissing>,
    /// Whether some other tool's ledger had rows: that tool recorded the history, so
    /// no snippet belongs to a history without a record.
    pub recorded: bool,
}

/// The other tools' ledgers worth reading: the tools of the embedded snippets, each one
/// whose table is not turned off and some of whose snippets bootschema's ledger does
/// not record. Empty on a database whose ledger records them all.
pub(crate) fn wanted(
    snippets: &[Snippet],
    ledger: &Ledger,
    settings: &Settings,
) -> Result<Vec<(Tool, LedgerTable)>, Error> {
    let mut out = Vec::new();
    for tool in Tool::ALL {
        let Some(name) = &settings.foreign_ledgers[tool.index()] else { continue };
        let unrecorded = snippets
            .iter()
            .any(|s| s.foreign.as_ref().is_some_and(|f| f.tool == tool) && !ledger.rows.contains_key(&s.version));
        if unrecorded {
            out.push((tool, LedgerTable::parse(name)?));
        }
    }
    Ok(out)
}

/// The query that reads `tool`'s ledger `name` (quoted), its columns as text:
/// version, name, success (`1`/`0`), checksum, type, rank. `text` casts an expression
/// to text and `hex` writes bytes as lowercase hex, the way the database does.
pub(crate) fn select(tool: Tool, name: &str, text: impl Fn(&str) -> String, hex: impl Fn(&str) -> String) -> String {
    let tag = tool.name();
    match tool {
        Tool::Sqlx => format!(
            "SELECT '{tag}', {}, description, CASE WHEN success THEN '1' ELSE '0' END, {}, 'SQL', '0' FROM {name}",
            text("version"),
            hex("checksum")
        ),
        Tool::Diesel => {
            format!("SELECT '{tag}', {}, '', '1', NULL, 'SQL', '0' FROM {name}", text("version"))
        }
        Tool::Refinery => {
            format!("SELECT '{tag}', {}, name, '1', {}, 'SQL', '0' FROM {name}", text("version"), text("checksum"))
        }
        Tool::Flyway => format!(
            "SELECT '{tag}', version, description, CASE WHEN success THEN '1' ELSE '0' END, {}, type, {} FROM {name}",
            text("checksum"),
            text("installed_rank")
        ),
    }
}

/// A row as the query of [`select`] returns it (seven texts).
pub(crate) fn row(columns: [Option<String>; 7]) -> Option<ForeignRow> {
    let [tool, version, name, success, checksum, kind, rank] = columns;
    Some(ForeignRow {
        tool: Tool::from_name(tool.as_deref()?)?,
        version,
        name: name.unwrap_or_default(),
        success: success.as_deref() != Some("0"),
        checksum,
        kind: kind.unwrap_or_default(),
        rank: rank.and_then(|r| r.trim().parse().ok()).unwrap_or(0),
    })
}

/// Flyway's version parts as it compares them: numbers without leading zeros, trailing
/// zero parts removed (`1.0` is `1`).
fn flyway_parts(version: &str) -> Vec<String> {
    let mut parts: Vec<String> = version
        .split('.')
        .map(|p| {
            let p = p.trim().trim_start_matches('0');
            if p.is_empty() { "0" } else { p }.to_owned()
        })
        .collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
        parts.pop();
    }
    parts
}

fn flyway_cmp(a: &[String], b: &[String]) -> std::cmp::Ordering {
    let key = |p: &[String], i: usize| p.get(i).map_or((1, "0".to_owned()), |s| (s.len(), s.clone()));
    (0..a.len().max(b.len()))
        .map(|i| key(a, i).cmp(&key(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Matches the rows of the other tools' ledgers (read from `tables`) with `snippets`.
///
/// # Errors
/// A failed row ([`ErrorKind::ForeignFailed`]) or a checksum that is not the file's
/// ([`ErrorKind::ForeignChecksum`]): the boot refuses before anything runs.
pub(crate) fn match_rows(
    snippets: &[Snippet],
    tables: &[(Tool, LedgerTable)],
    rows: Vec<ForeignRow>,
) -> Result<OtherLedgers, Error> {
    let mut out = OtherLedgers { recorded: !rows.is_empty(), ..OtherLedgers::default() };
    let table_of = |tool: Tool| tables.iter().find(|(t, _)| *t == tool).map(|(_, t)| t.display()).unwrap_or_default();
    // Flyway: the latest row of each version (or repeatable description) decides.
    let mut flyway_latest: BTreeMap<(bool, String), ForeignRow> = BTreeMap::new();
    let mut flyway_baseline: Option<Vec<String>> = None;
    let mut by_tool: Vec<ForeignRow> = Vec::new();
    for row in rows {
        if !row.success {
            let table = table_of(row.tool);
            let version = row.version.clone().unwrap_or_default();
            let file = snippets
                .iter()
                .find(|s| {
                    s.foreign
                        .as_ref()
                        .is_some_and(|f| f.tool == row.tool && same_version(row.tool, &f.version, &version))
                })
                .map(|s| format!(", the file {}", s.path))
                .unwrap_or_default();
            let what = format!("version {version} ({}{file})", row.name);
            let help = match row.tool {
                Tool::Flyway => format!(
                    "Look at what that migration changed and finish or undo it by hand, then remove the failed row: \
                     `flyway repair` does, or `DELETE FROM {table} WHERE success = false` (Flyway's own table; \
                     bootschema only reads it), and boot again"
                ),
                _ => format!(
                    "Look at what that migration changed and finish or undo it by hand, then remove the row: \
                     `DELETE FROM {table} WHERE version = {version}` (sqlx's own table; bootschema only reads it), \
                     and boot again; the file then runs, or is baselined if sqlx runs it first"
                ),
            };
            return Err(ErrorKind::ForeignFailed { tool: row.tool, table, what, version, help }.into());
        }
        if row.tool == Tool::Flyway {
            match row.kind.as_str() {
                "SCHEMA" => continue,
                "BASELINE" => {
                    if let Some(v) = &row.version {
                        flyway_baseline = Some(flyway_parts(v));
                    }
                    continue;
                }
                _ => {}
            }
            let key = match &row.version {
                Some(v) => (false, flyway_parts(v).join(".")),
                None => (true, row.name.clone()),
            };
            if flyway_latest.get(&key).is_none_or(|r| r.rank <= row.rank) {
                flyway_latest.insert(key, row);
            }
            continue;
        }
        by_tool.push(row);
    }
    // A Flyway version whose latest row undoes or deletes it is not applied.
    by_tool.extend(
        flyway_latest.into_values().filter(|r| !matches!(r.kind.as_str(), "UNDO_SQL" | "DELETE" | "UNDO_SCRIPT")),
    );

    // The snippets by (tool, version as the tool compares it), or by description for a
    // Flyway repeatable file (recorded without a version): one lookup per row.
    let mut index: HashMap<(Tool, bool, String), usize> = HashMap::new();
    for (i, s) in snippets.iter().enumerate() {
        let Some(f) = &s.foreign else { continue };
        let key =
            if f.version.is_empty() { (f.tool, true, f.name.to_string()) } else { version_key(f.tool, &f.version) };
        index.entry(key).or_insert(i);
    }
    for row in by_tool {
        let table = table_of(row.tool);
        let version = row.version.clone().unwrap_or_default();
        let key = match &row.version {
            Some(v) => version_key(row.tool, v),
            None => (row.tool, true, row.name.clone()),
        };
        let found = index.get(&key).copied();
        let Some(index) = found else {
            out.missing.push(ForeignMissing { tool: row.tool, table, version, name: row.name.clone() });
            continue;
        };
        let snippet = &snippets[index];
        let Some(foreign) = &snippet.foreign else { continue };
        let standing = match (&row.checksum, row.tool) {
            (_, Tool::Diesel) => Standing::Applied { tool: row.tool, why: "diesel keeps no checksum".into() },
            (Some(recorded), _) if same_checksum(row.tool, recorded, &foreign.checksum) => {
                Standing::Applied { tool: row.tool, why: "checksum verified".into() }
            }
            // Flyway runs a changed repeatable file again; so does bootschema.
            (Some(recorded), Tool::Flyway) if row.version.is_none() => {
                Standing::Changed { tool: row.tool, recorded: recorded.trim().to_owned() }
            }
            (Some(recorded), _) => {
                return Err(ErrorKind::ForeignChecksum {
                    tool: row.tool,
                    table,
                    path: snippet.path.to_string(),
                    version,
                    recorded: recorded.trim().to_owned(),
                    computed: foreign.checksum.to_string(),
                }
                .into())
            }
            (None, _) => Standing::Applied { tool: row.tool, why: format!("{} recorded no checksum", row.tool) },
        };
        out.standing.insert(index, standing);
    }
    // Flyway's baseline: every versioned file at or below it counts as applied.
    if let Some(baseline) = flyway_baseline {
        for (index, snippet) in snippets.iter().enumerate() {
            let Some(f) = snippet.foreign.as_ref().filter(|f| f.tool == Tool::Flyway && !f.version.is_empty()) else {
                continue;
            };
            if !out.standing.contains_key(&index) && flyway_cmp(&flyway_parts(&f.version), &baseline).is_le() {
                let why = format!("at or below Flyway's baseline {}", baseline.join("."));
                out.standing.insert(index, Standing::Applied { tool: Tool::Flyway, why });
            }
        }
    }
    Ok(out)
}

/// A version as its tool compares it: sqlx's and refinery's as numbers, Flyway's by
/// its parts, diesel's as text.
fn version_key(tool: Tool, version: &str) -> (Tool, bool, String) {
    let canonical = match tool {
        Tool::Flyway => flyway_parts(version).join("."),
        Tool::Sqlx | Tool::Refinery => {
            version.trim().parse::<i64>().map_or_else(|_| version.trim().to_owned(), |n| n.to_string())
        }
        Tool::Diesel => version.trim().to_owned(),
    };
    (tool, false, canonical)
}

fn same_version(tool: Tool, file: &str, recorded: &str) -> bool {
    match tool {
        Tool::Flyway => flyway_parts(file) == flyway_parts(recorded),
        Tool::Sqlx | Tool::Refinery => {
            let number = |s: &str| s.trim().parse::<i64>().ok();
            number(file).is_some() && number(file) == number(recorded)
        }
        Tool::Diesel => file == recorded.trim(),
    }
}

fn same_checksum(tool: Tool, recorded: &str, file: &str) -> bool {
    match tool {
        Tool::Sqlx => recorded.trim().eq_ignore_ascii_case(file),
        _ => recorded.trim() == file,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::snippet::{Foreign, OnChange, TransactionMode};

    fn snippet(version: u64, tool: Tool, tool_version: &str, name: &str, checksum: &str) -> Snippet {
        Snippet {
            version,
            version_text: Cow::Owned(version.to_string()),
            description: Cow::Owned(name.to_string()),
            path: Cow::Owned(format!("migrations/{version}_{name}.sql")),
            checksum: Cow::Owned(format!("sha256:{version}")),
            legacy_checksum: Cow::Owned(format!("sha256:{version}")),
            sql: Cow::Borrowed("SELECT 1"),
            statements: Cow::Borrowed(&[]),
            guards: Cow::Borrowed(&[]),
            transaction: TransactionMode::Wrapped,
            destructive: false,
            on_change: OnChange::Refuse,
            history: false,
            foreign: Some(Foreign {
                tool,
                version: Cow::Owned(tool_version.to_string()),
                name: Cow::Owned(name.to_string()),
                checksum: Cow::Owned(checksum.to_string()),
            }),
        }
    }

    fn row(tool: Tool, version: Option<&str>, checksum: Option<&str>, kind: &str, rank: i64) -> ForeignRow {
        ForeignRow {
            tool,
            version: version.map(str::to_string),
            name: "x".into(),
            success: true,
            checksum: checksum.map(str::to_string),
            kind: kind.into(),
            rank,
        }
    }

    fn tables(tool: Tool) -> Vec<(Tool, LedgerTable)> {
        vec![(tool, LedgerTable::parse(tool.default_table()).unwrap())]
    }

    #[test]
    fn flyway_baseline_undo_and_schema_rows() {
        let snippets = [
            snippet(1, Tool::Flyway, "1", "a", "11"),
            snippet(2, Tool::Flyway, "1.1", "b", "22"),
            snippet(3, Tool::Flyway, "2", "c", "33"),
            snippet(4, Tool::Flyway, "3", "d", "44"),
        ];
        let rows = vec![
            row(Tool::Flyway, Some("0"), None, "SCHEMA", 1),
            row(Tool::Flyway, Some("1.1"), None, "BASELINE", 2),
            row(Tool::Flyway, Some("2"), Some("33"), "SQL", 3),
            row(Tool::Flyway, Some("3"), Some("44"), "SQL", 4),
            row(Tool::Flyway, Some("3"), Some("44"), "UNDO_SQL", 5),
        ];
        let other = match_rows(&snippets, &tables(Tool::Flyway), rows).unwrap();
        let applied = |i: usize| matches!(other.standing.get(&i), Some(Standing::Applied { .. }));
        assert!(applied(0) && applied(1), "at or below the baseline: {:?}", other.standing);
        assert!(applied(2));
        assert!(!applied(3), "undone by its latest row");
        assert!(other.missing.is_empty(), "{:?}", other.missing);
    }

    #[test]
    fn a_checksum_mismatch_names_both_checksums() {
        let snippets = [snippet(7, Tool::Refinery, "7", "a", "123")];
        let rows = vec![row(Tool::Refinery, Some("7"), Some("456"), "SQL", 0)];
        let err = match_rows(&snippets, &tables(Tool::Refinery), rows).unwrap_err();
        match err.kind() {
            ErrorKind::ForeignChecksum { recorded, computed, version, path, .. } => {
                assert_eq!((recorded.as_str(), computed.as_str(), version.as_str()), ("456", "123", "7"));
                assert_eq!(path, "migrations/7_a.sql");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flyway_versions_compare_by_parts() {
        assert_eq!(flyway_parts("1.0"), ["1"]);
        assert_eq!(flyway_parts("01.02"), ["1", "2"]);
        assert!(flyway_cmp(&flyway_parts("1.2"), &flyway_parts("1.10")).is_lt());
        assert!(flyway_cmp(&flyway_parts("2"), &flyway_parts("1.10")).is_gt());
        assert!(flyway_cmp(&flyway_parts("1"), &flyway_parts("1.0")).is_eq());
        assert!(same_version(Tool::Flyway, "1_2", "1.2") || same_version(Tool::Flyway, "1.2", "1.2"));
        assert!(same_version(Tool::Sqlx, "20240101", "20240101"));
        assert!(!same_version(Tool::Sqlx, "1", "10"));
    }
}
