//! How two schemas differ: tables and columns missing on either side, type, nullability
//! and default mismatches, and keys, foreign keys, checks and indexes matched by what
//! they cover, not by name. Across dialects, types compare through a type map
//! ([`type_family`]) and defaults through a few spellings of the same thing, so that
//! one app's schema synced on SQLite, PostgreSQL and MySQL diffs as equivalent.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::{Column, DialectName, Snapshot, Table};

/// One difference between schema A and schema B.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Difference {
    /// The object: `users`, `users.email`, `users index (email)`, `view user_stats`.
    pub object: String,
    /// What differs: `missing in B`, `type`, `nullability`, `default`, `definition`, ….
    pub what: String,
    /// A's side, when it has one.
    pub a: Option<String>,
    /// B's side, when it has one.
    pub b: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.what)?;
        match (&self.a, &self.b) {
            (Some(a), Some(b)) => write!(f, " (A: {a}; B: {b})"),
            (Some(a), None) => write!(f, " ({a})"),
            (None, Some(b)) => write!(f, " ({b})"),
            (None, None) => Ok(()),
        }
    }
}

/// Every difference between `a` and `b`, sorted. Empty when they are the same schema
/// (across dialects: the same through the type map).
pub fn diff(a: &Snapshot, b: &Snapshot) -> Vec<Difference> {
    let same_dialect = a.dialect == b.dialect;
    let sqlite = a.dialect == DialectName::Sqlite || b.dialect == DialectName::Sqlite;
    let mut out = Vec::new();
    let ta: BTreeMap<&str, &Table> = a.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let tb: BTreeMap<&str, &Table> = b.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    for (name, table) in &ta {
        match tb.get(name) {
            None => out.push(missing(name, "B", Some(format!("{} columns", table.columns.len())), true)),
            Some(other) => diff_table(table, other, same_dialect, sqlite, &mut out),
        }
    }
    for (name, table) in &tb {
        if !ta.contains_key(name) {
            out.push(missing(name, "A", Some(format!("{} columns", table.columns.len())), false));
        }
    }

    let va: BTreeMap<&str, &super::View> = a.views.iter().map(|v| (v.name.as_str(), v)).collect();
    let vb: BTreeMap<&str, &super::View> = b.views.iter().map(|v| (v.name.as_str(), v)).collect();
    for (name, view) in &va {
        let object = format!("view {name}");
        match vb.get(name) {
            None => out.push(missing(&object, "B", None, true)),
            Some(other) if view.materialized != other.materialized => out.push(Difference {
                object,
                what: "kind".into(),
                a: Some(kind_of(view.materialized).into()),
                b: Some(kind_of(other.materialized).into()),
            }),
            // A view's text is the database's own print of it: comparable on one dialect.
            Some(other) if same_dialect && view.definition_sha256 != other.definition_sha256 => out.push(Difference {
                object,
                what: "definition".into(),
                a: Some(short(&view.definition_sha256)),
                b: Some(short(&other.definition_sha256)),
            }),
            Some(other) => {
                // A materialized view's indexes, by what they cover (PostgreSQL only).
                let covers = |v: &super::View| {
                    v.indexes
                        .iter()
                        .map(|i| {
                            let unique = if i.unique { "unique " } else { "" };
                            let predicate = i.predicate.as_ref().map(|p| format!(" where {p}")).unwrap_or_default();
                            format!("{unique}{}{predicate}", i.columns.join(", "))
                        })
                        .collect::<BTreeSet<_>>()
                };
                set_diff(&format!("{object} index"), &covers(view), &covers(other), &mut out);
            }
        }
    }
    for name in vb.keys().filter(|n| !va.contains_key(*n)) {
        out.push(missing(&format!("view {name}"), "A", None, false));
    }

    // Sequences, types and extensions exist on PostgreSQL (and MariaDB's sequences):
    // compared where both sides can have them.
    if same_dialect {
        let names = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
        let pairs = [
            (
                "sequence",
                names(a.sequences.iter().map(|s| s.name.clone()).collect()),
                names(b.sequences.iter().map(|s| s.name.clone()).collect()),
            ),
            (
                "type",
                names(a.types.iter().map(|t| t.name.clone()).collect()),
                names(b.types.iter().map(|t| t.name.clone()).collect()),
            ),
            (
                "extension",
                names(a.extensions.iter().map(|e| e.name.clone()).collect()),
                names(b.extensions.iter().map(|e| e.name.clone()).collect()),
            ),
        ];
        for (kind, sa, sb) in pairs {
            for name in sa.difference(&sb) {
                out.push(missing(&format!("{kind} {name}"), "B", None, true));
            }
            for name in sb.difference(&sa) {
                out.push(missing(&format!("{kind} {name}"), "A", None, false));
            }
        }
        for ta in &a.types {
            if let Some(tb) = b.types.iter().find(|t| t.name == ta.name) {
                if ta.definition != tb.definition {
                    out.push(Difference {
                        object: format!("type {}", ta.name),
                        what: "definition".into(),
                        a: Some(ta.definition.join(", ")),
                        b: Some(tb.definition.join(", ")),
                    });
                }
            }
        }
    }
    out.sort();
    out
}

fn kind_of(materialized: bool) -> &'static str {
    if materialized {
        "materialized view"
    } else {
        "view"
    }
}

fn short(digest: &str) -> String {
    format!("sha256:{}", &digest[..12.min(digest.len())])
}

fn missing(object: &str, side: &str, detail: Option<String>, in_a: bool) -> Difference {
    let (a, b) = if in_a { (detail, None) } else { (None, detail) };
    Difference { object: object.to_string(), what: format!("missing in {side}"), a, b }
}

fn diff_table(a: &Table, b: &Table, same_dialect: bool, sqlite: bool, out: &mut Vec<Difference>) {
    let t = &a.name;
    for ca in &a.columns {
        let object = format!("{t}.{}", ca.name);
        let Some(cb) = b.columns.iter().find(|c| c.name == ca.name) else {
            out.push(missing(&object, "B", Some(ca.declared_type.clone()), true));
            continue;
        };
        diff_column(&object, ca, cb, same_dialect, sqlite, out);
    }
    for cb in b.columns.iter().filter(|cb| !a.columns.iter().any(|ca| ca.name == cb.name)) {
        out.push(missing(&format!("{t}.{}", cb.name), "A", Some(cb.declared_type.clone()), false));
    }

    let pk = |t: &Table| t.primary_key.as_ref().map(|k| k.columns.join(", "));
    if pk(a) != pk(b) {
        out.push(Difference { object: format!("{t} primary key"), what: "columns".into(), a: pk(a), b: pk(b) });
    }
    set_diff(&format!("{t} unique"), &unique_keys(a), &unique_keys(b), out);
    let indexes = |t: &Table| index_keys(t, same_dialect);
    set_diff(&format!("{t} index"), &indexes(a), &indexes(b), out);
    let fks = |t: &Table| t.foreign_keys.iter().map(foreign_key_key).collect::<BTreeSet<_>>();
    set_diff(&format!("{t} foreign key"), &fks(a), &fks(b), out);

    // PostgreSQL's exclusion constraints and partitions: by definition and by name and
    // bound (a side of another dialect has none, and lacks them all).
    let exclusions = |t: &Table| t.exclusions.iter().map(|x| x.expression.clone()).collect::<BTreeSet<_>>();
    set_diff(&format!("{t} exclusion"), &exclusions(a), &exclusions(b), out);
    let partitions =
        |t: &Table| t.partitions.iter().map(|p| format!("{} {}", p.name, p.bound)).collect::<BTreeSet<_>>();
    set_diff(&format!("{t} partition"), &partitions(a), &partitions(b), out);

    if same_dialect {
        let checks = |t: &Table| t.checks.iter().map(|c| c.expression.clone()).collect::<BTreeSet<_>>();
        set_diff(&format!("{t} check"), &checks(a), &checks(b), out);
    } else if check_count(a) != check_count(b) {
        out.push(Difference {
            object: format!("{t} checks"),
            what: "count".into(),
            a: Some(check_count(a).to_string()),
            b: Some(check_count(b).to_string()),
        });
    }
}

/// Unique constraints and unique indexes alike (the primary key's own index aside), by
/// their columns: `email` for `users unique (email)`.
pub(crate) fn unique_keys(t: &Table) -> BTreeSet<String> {
    let pk = t.primary_key.as_ref().map(|k| k.columns.clone());
    t.unique
        .iter()
        .map(|k| k.columns.clone())
        .chain(t.indexes.iter().filter(|i| i.unique && i.predicate.is_none()).map(|i| i.columns.clone()))
        .filter(|c| Some(c) != pk.as_ref())
        .map(|c| c.join(", "))
        .collect()
}

/// The indexes that are not unique keys, by what they cover: columns (or expressions)
/// and predicate. Expressions and predicates are the database's own print: the
/// predicate is compared on one dialect only.
pub(crate) fn index_keys(t: &Table, same_dialect: bool) -> BTreeSet<String> {
    t.indexes.iter().filter(|i| !i.unique || i.predicate.is_some()).map(|i| index_key(i, same_dialect)).collect()
}

/// One index's key in [`index_keys`].
pub(crate) fn index_key(i: &super::Index, same_dialect: bool) -> String {
    let mut s = i.columns.join(", ");
    if i.unique {
        s = format!("unique {s}");
    }
    if let (Some(p), true) = (&i.predicate, same_dialect) {
        s.push_str(&format!(" where {p}"));
    }
    if !i.valid {
        s.push_str(" INVALID");
    }
    s
}

/// A foreign key by what it says, not its name.
pub(crate) fn foreign_key_key(f: &super::ForeignKey) -> String {
    format!(
        "({}) references {} ({}) on delete {} on update {}",
        f.columns.join(", "),
        f.references,
        f.referenced_columns.join(", "),
        f.on_delete,
        f.on_update
    )
}

/// How many checks a table has. SQLite's snapshot keeps a table's `CHECK` clauses as one
/// entry (it does not parse them): each clause counts.
pub(crate) fn check_count(t: &Table) -> usize {
    t.checks.iter().map(|c| if c.name.is_empty() { check_clauses(&c.expression).len().max(1) } else { 1 }).sum()
}

/// The expressions of the `CHECK (…)` clauses of SQLite's one entry (`CHECK (a > 0)
/// CHECK (b < 1)`), without the keyword and with their parentheses: `(a > 0)`.
pub(crate) fn check_clauses(entry: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = entry.trim();
    while let Some(after) = rest.strip_prefix("CHECK").or_else(|| rest.strip_prefix("check")) {
        let after = after.trim_start();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match c {
                '\'' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.push(after[..end].to_string());
        rest = after[end..].trim_start();
    }
    out
}

fn set_diff(object: &str, a: &BTreeSet<String>, b: &BTreeSet<String>, out: &mut Vec<Difference>) {
    for x in a.difference(b) {
        out.push(missing(&format!("{object} ({x})"), "B", None, true));
    }
    for x in b.difference(a) {
        out.push(missing(&format!("{object} ({x})"), "A", None, false));
    }
}

fn diff_column(object: &str, a: &Column, b: &Column, same_dialect: bool, sqlite: bool, out: &mut Vec<Difference>) {
    let (ta, tb) = if same_dialect {
        (a.normalised_type.clone(), b.normalised_type.clone())
    } else {
        (type_family(&a.normalised_type, sqlite).to_string(), type_family(&b.normalised_type, sqlite).to_string())
    };
    if ta != tb {
        out.push(Difference {
            object: object.to_string(),
            what: "type".into(),
            a: Some(a.declared_type.clone()),
            b: Some(b.declared_type.clone()),
        });
    }
    if a.nullable != b.nullable {
        let null = |n: bool| if n { "NULL" } else { "NOT NULL" }.to_string();
        out.push(Difference {
            object: object.to_string(),
            what: "nullability".into(),
            a: Some(null(a.nullable)),
            b: Some(null(b.nullable)),
        });
    }
    let (da, db) = if same_dialect {
        (a.default.clone(), b.default.clone())
    } else {
        (a.default.as_deref().map(portable_default), b.default.as_deref().map(portable_default))
    };
    if da != db {
        out.push(Difference {
            object: object.to_string(),
            what: "default".into(),
            a: a.default.clone(),
            b: b.default.clone(),
        });
    }
    if same_dialect && a.generated != b.generated {
        out.push(Difference {
            object: object.to_string(),
            what: "generated".into(),
            a: a.generated.clone(),
            b: b.generated.clone(),
        });
    }
}

/// A normalised type's family, for comparing across dialects (the type map of
/// docs/release.md): integers of any width and booleans are `integer` (SQLite and
/// MySQL keep booleans as 0/1 integers); character types of any length, `uuid`, `json`
/// and enums are `text`; timestamps with or without zone are `timestamp`, and with
/// SQLite on either side timestamps, dates and times are `text` (SQLite stores them as
/// text); `real`, `double` and `float` are `real`; `numeric`/`decimal` of any precision
/// are `numeric`; `bytea` and blobs are `bytes`. A type it does not know is its own
/// family.
pub fn type_family(normalised: &str, with_sqlite: bool) -> &str {
    let base = normalised.split('(').next().unwrap_or(normalised).trim();
    let base = base.strip_suffix(" unsigned").unwrap_or(base);
    match base {
        "integer" | "bigint" | "smallint" | "tinyint" | "mediumint" | "boolean" | "serial" | "bigserial" => "integer",
        "varchar" | "char" | "text" | "uuid" | "json" | "jsonb" | "enum" | "set" | "clob" | "citext" => "text",
        "timestamp" | "timestamptz" | "datetime" | "date" | "time" if with_sqlite => "text",
        "timestamp" | "timestamptz" | "datetime" => "timestamp",
        "real" | "double" | "float" => "real",
        "numeric" => "numeric",
        "bytes" => "bytes",
        _ => normalised,
    }
}

/// A default in a spelling shared by the dialects: lower case, casts (`::text`) and
/// enclosing parentheses removed, and `now()`, `current_timestamp()` and
/// `CURRENT_TIMESTAMP` all `current_timestamp`.
pub(crate) fn portable_default(default: &str) -> String {
    let mut d = default.trim().to_string();
    while d.starts_with('(') && d.ends_with(')') {
        d = d[1..d.len() - 1].trim().to_string();
    }
    if let Some(i) = d.find("::") {
        if !d[..i].contains(' ') || d.starts_with('\'') {
            d.truncate(i);
        }
    }
    let lower = d.to_ascii_lowercase();
    // A precision (`current_timestamp(6)`, MySQL's fractional seconds) is the column's.
    let lower = match lower.split_once('(') {
        Some((name, args)) if args.trim_end_matches(')').chars().all(|c| c.is_ascii_digit()) && !args.is_empty() => {
            format!("{name}()")
        }
        _ => lower,
    };
    match lower.as_str() {
        "now()"
        | "current_timestamp()"
        | "current_timestamp"
        | "localtimestamp"
        | "localtimestamp()"
        | "transaction_timestamp()" => "current_timestamp".into(),
        "true" => "1".into(),
        "false" => "0".into(),
        _ if lower.starts_with('\'') => d,
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_match_across_dialects() {
        assert_eq!(type_family("bigint", false), type_family("integer", false));
        assert_eq!(type_family("varchar(200)", false), type_family("text", false));
        assert_eq!(type_family("timestamptz", false), type_family("timestamp", false));
        assert_eq!(type_family("timestamptz", true), "text");
        assert_ne!(type_family("integer", true), type_family("text", true));
        assert_eq!(type_family("geometry(point,4326)", false), "geometry(point,4326)");
    }

    #[test]
    fn sqlite_check_clauses_count_one_each() {
        assert_eq!(check_clauses("CHECK (a > 0) CHECK ((b) IN ('(', 'x'))"), ["(a > 0)", "((b) IN ('(', 'x'))"]);
        let mut t = Table::new("t".into());
        t.checks.push(super::super::Check { name: String::new(), expression: "CHECK (a > 0) CHECK (b < 1)".into() });
        assert_eq!(check_count(&t), 2);
    }

    #[test]
    fn partitions_exclusions_and_view_indexes_are_compared() {
        use crate::snapshot::{Check, Index, Partition, View};
        use crate::snippet::DialectKind;
        let mut a = Snapshot::new(DialectKind::Postgres);
        let mut table = Table::new("metrics".into());
        table.partitions.push(Partition { name: "metrics_2025".into(), bound: "DEFAULT".into() });
        table.exclusions.push(Check { name: "x".into(), expression: "EXCLUDE USING gist (at WITH &&)".into() });
        a.tables.push(table);
        a.views.push(View {
            name: "daily".into(),
            materialized: true,
            definition_sha256: "00".into(),
            indexes: vec![Index {
                name: "daily_day_key".into(),
                columns: vec!["day".into()],
                unique: true,
                predicate: None,
                valid: true,
            }],
        });
        let mut b = a.clone();
        assert!(diff(&a, &b).is_empty());
        b.tables[0].partitions.clear();
        b.tables[0].exclusions.clear();
        b.views[0].indexes.clear();
        let objects: Vec<String> = diff(&a, &b).into_iter().map(|d| format!("{}: {}", d.object, d.what)).collect();
        assert_eq!(
            objects,
            [
                "metrics exclusion (EXCLUDE USING gist (at WITH &&)): missing in B",
                "metrics partition (metrics_2025 DEFAULT): missing in B",
                "view daily index (unique day): missing in B",
            ]
        );
    }

    #[test]
    fn defaults_compare_through_their_spellings() {
        assert_eq!(portable_default("now()"), portable_default("CURRENT_TIMESTAMP"));
        assert_eq!(portable_default("current_timestamp()"), "current_timestamp");
        assert_eq!(portable_default("current_timestamp(6)"), "current_timestamp");
        assert_eq!(portable_default("lower('x')"), "lower('x')");
        assert_eq!(portable_default("'x'::character varying"), "'x'");
        assert_eq!(portable_default("(0)"), "0");
        assert_ne!(portable_default("'A'"), portable_default("'a'"));
    }
}
