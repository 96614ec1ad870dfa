//! A suggested fix for a diff ([`suggest`]): a snippet in B's dialect that adds what
//! schema A has and schema B lacks, when adding is all it takes, and a comment for
//! every other difference.
//!
//! What it writes, in this order: enum types (PostgreSQL), columns missing on B's
//! tables, primary keys and unique constraints, the tables B lacks (with their columns,
//! primary key, unique constraints, checks and the foreign keys whose referenced table
//! exists or comes earlier, in dependency order), their indexes, the remaining foreign
//! keys, checks and indexes of B's own tables. Types cross dialects through the type
//! map of docs/release.md read backwards; defaults only when every dialect spells them
//! the same (the diff's `portable_default`); expressions (checks, predicates) with their
//! quoting, casts, `LIKE` and `IN` lists translated, or not at all.
//!
//! What it never writes, only lists ([`Suggestion::not_suggested`]): anything that
//! changes or removes what B has (a type, nullability or default that differs, a
//! column or table only B has, an index or check defined differently), what the
//! snapshot cannot rebuild (a view: only its digest is kept), and what B's database
//! cannot add to an existing table (SQLite: checks, foreign keys, primary keys). Each
//! entry names the object and the kind of difference as [`diff()`] reports them after
//! the snippet ran: applying the suggestion leaves exactly those differences.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::diff::{check_clauses, foreign_key_key, index_key, index_keys, portable_default, unique_keys};
use super::{diff, Column, DialectName, Difference, ForeignKey, Index, Snapshot, Table};
use crate::snippet::{DialectKind, SnippetLists};

/// A snippet that brings schema B towards schema A, and what it leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// The snippet's text, in B's dialect: a header comment (where it came from, where
    /// to save it), the statements, and the differences it does not fix as `-- `
    /// comment lines. Its guards are inferred at build time, as for any snippet.
    pub sql: String,
    /// Where to save it, relative to the package: `sql/sqlite/0008_add_nickname.sql`,
    /// or with `<VERSION>` in place of a version that is not known.
    pub file_name: String,
    /// How many statements it holds (0: nothing to add).
    pub statements: usize,
    /// The differences it does not fix, as [`diff()`] will report them once the snippet
    /// ran, each with the reason.
    pub not_suggested: Vec<NotSuggested>,
}

/// A difference a suggestion leaves, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotSuggested {
    /// The object, as [`Difference::object`] names it (`users.nickname`).
    pub object: String,
    /// What differs, as [`Difference::what`] says it (`type`, `missing in B`).
    pub what: String,
    /// Why no SQL is suggested for it, and what to do.
    pub reason: String,
}

/// Where a suggestion's schemas came from, for its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Schema A's source (a URL with its password masked, or a file name).
    pub a: Option<String>,
    /// Schema B's source.
    pub b: Option<String>,
    /// The path to save the snippet under ([`suggested_file_name`]); `None`: a
    /// placeholder name with `<VERSION>`.
    pub file_name: Option<String>,
}

/// The placeholder of a version that is not known.
pub const VERSION_PLACEHOLDER: &str = "<VERSION>";

/// [`suggest_for`] with no origin: the header names the schemas A and B only, and the
/// file name has a `<VERSION>` placeholder.
pub fn suggest(a: &Snapshot, b: &Snapshot) -> Suggestion {
    suggest_for(a, b, &Origin::default())
}

/// The snippet, in B's dialect, that adds to B what A has and B lacks, when it only
/// adds (see the module's docs); every other difference is listed, never written.
///
/// The sources in `origin` are written into the header as given: pass them with their
/// passwords masked.
pub fn suggest_for(a: &Snapshot, b: &Snapshot, origin: &Origin) -> Suggestion {
    let differences = diff(a, b);
    let mut writer = Writer::new(a, b);
    writer.run(&differences);
    writer.finish(&differences, origin)
}

/// Where to save a suggestion for B, given the app's snippets: B's per-dialect folder,
/// and the version that A's dialect has and B's lacks when there is exactly one (the
/// snippet B is missing), otherwise the version after the highest one (same width:
/// `0008` after `0007`), otherwise `<VERSION>`.
pub fn suggested_file_name(snippets: &SnippetLists, a: DialectName, b: DialectName) -> String {
    let folder = folder_of(b);
    let of = |d: DialectName| snippets.for_dialect(kind_of(d));
    if a != b {
        let theirs: BTreeSet<u64> = of(b).iter().map(|s| s.version).collect();
        let lacking: Vec<_> = of(a).iter().filter(|s| !theirs.contains(&s.version)).collect();
        if let [one] = lacking.as_slice() {
            return format!("sql/{folder}/{}_{}.sql", one.version_text, one.description);
        }
    }
    let highest = DialectKind::ALL.iter().flat_map(|d| snippets.for_dialect(*d)).max_by_key(|s| s.version);
    let version = match highest {
        Some(s) if s.version_text.chars().all(|c| c.is_ascii_digit()) => {
            format!("{:0width$}", s.version + 1, width = s.version_text.len())
        }
        Some(_) => VERSION_PLACEHOLDER.to_string(),
        None => format!("{:04}", 1),
    };
    format!("sql/{folder}/{version}_schema_diff_suggestion.sql")
}

fn folder_of(d: DialectName) -> &'static str {
    match d {
        DialectName::Postgres => "postgres",
        DialectName::Mysql => "mysql",
        DialectName::Sqlite => "sqlite",
    }
}

fn kind_of(d: DialectName) -> DialectKind {
    match d {
        DialectName::Postgres => DialectKind::Postgres,
        DialectName::Mysql => DialectKind::MySql,
        DialectName::Sqlite => DialectKind::Sqlite,
    }
}

/// The order statements are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Types,
    AddColumns,
    Keys,
    CreateTables,
    NewIndexes,
    ForeignKeys,
    Checks,
    Indexes,
}

/// A column definition for B, with what it could not carry.
struct ColumnSql {
    definition: String,
    notes: Vec<String>,
    left: Vec<NotSuggested>,
    /// Whether it has a default, generation or identity (what a NOT NULL column added to
    /// a table with rows needs).
    filled: bool,
    /// PostgreSQL: written as identity or `serial` (it makes a sequence).
    numbered: bool,
}

/// How a column gets its values by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    No,
    /// PostgreSQL identity; `true` for `ALWAYS`.
    Identity(bool),
    /// PostgreSQL `serial`: a default `nextval(…)`.
    Serial,
    /// MySQL `AUTO_INCREMENT`.
    AutoIncrement,
    /// SQLite's rowid alias: the `INTEGER` column that is the whole primary key.
    RowId,
}

struct NewTable<'s> {
    table: &'s Table,
    columns: Vec<String>,
    constraints: Vec<String>,
    /// Inline foreign keys: (referenced table, definition).
    foreign_keys: Vec<(String, String)>,
    omitted: BTreeSet<String>,
    notes: Vec<String>,
}

struct AddColumn {
    table: String,
    column: String,
    definition: String,
    notes: Vec<String>,
    /// SQLite: a foreign key written on the added column (the only way SQLite adds one).
    references: Option<String>,
    has_default: bool,
}

struct Writer<'s> {
    a: &'s Snapshot,
    b: &'s Snapshot,
    to: DialectName,
    from: DialectName,
    same: bool,
    statements: Vec<(Phase, String, Vec<String>)>,
    left: Vec<NotSuggested>,
    /// Differences of the diff that a statement or an entry of `left` accounts for.
    covered: BTreeSet<(String, String)>,
    /// Names of B's relations, indexes and constraints, and those the suggestion adds,
    /// in lower case: (table or "" for the database-wide ones, name).
    names: BTreeSet<(String, String)>,
    /// The primary and unique keys B will have: (table, columns).
    keys: BTreeSet<(String, Vec<String>)>,
    /// The columns B will have: (table, column).
    columns: BTreeSet<(String, String)>,
    /// Indexes B will have, by their columns (for MySQL's foreign key indexes).
    indexed: BTreeSet<(String, Vec<String>)>,
    new_tables: BTreeMap<String, NewTable<'s>>,
    add_columns: Vec<AddColumn>,
    /// Foreign keys written: (table, columns, constraint name).
    written_foreign_keys: Vec<(String, Vec<String>, String)>,
    /// MySQL: A's indexes named as a foreign key of theirs (MySQL's own index of the
    /// key), decided once the foreign keys are: (table, index, diff object, phase).
    foreign_key_indexes: Vec<(&'s Table, &'s Index, String, Phase)>,
    /// PostgreSQL columns written as identity or `serial`: (table, column).
    numbered: BTreeSet<(String, String)>,
}

impl<'s> Writer<'s> {
    fn new(a: &'s Snapshot, b: &'s Snapshot) -> Writer<'s> {
        let mut names = BTreeSet::new();
        let mut keys = BTreeSet::new();
        let mut columns = BTreeSet::new();
        let mut indexed = BTreeSet::new();
        let global = |n: &str| (String::new(), n.to_ascii_lowercase());
        for t in &b.tables {
            names.insert(global(&t.name));
            for c in &t.columns {
                columns.insert((t.name.clone(), c.name.clone()));
            }
            if let Some(pk) = &t.primary_key {
                keys.insert((t.name.clone(), pk.columns.clone()));
                indexed.insert((t.name.clone(), pk.columns.clone()));
            }
            for k in &t.unique {
                keys.insert((t.name.clone(), k.columns.clone()));
                names.insert((t.name.clone(), k.name.to_ascii_lowercase()));
            }
            for i in &t.indexes {
                let cols: Vec<String> = i.columns.iter().map(|c| unquote(c)).collect();
                if i.unique && i.predicate.is_none() {
                    keys.insert((t.name.clone(), cols.clone()));
                }
                indexed.insert((t.name.clone(), cols));
                names.insert((t.name.clone(), i.name.to_ascii_lowercase()));
                // PostgreSQL and SQLite name indexes per schema.
                if b.dialect != DialectName::Mysql {
                    names.insert(global(&i.name));
                }
            }
            for f in &t.foreign_keys {
                names.insert((t.name.clone(), f.name.to_ascii_lowercase()));
                if b.dialect == DialectName::Mysql {
                    names.insert(global(&f.name));
                }
            }
            for c in &t.checks {
                names.insert((t.name.clone(), c.name.to_ascii_lowercase()));
            }
        }
        for v in &b.views {
            names.insert(global(&v.name));
        }
        for s in &b.sequences {
            names.insert(global(&s.name));
        }
        for t in &b.types {
            names.insert(global(&t.name));
        }
        names.retain(|(_, n)| !n.is_empty());
        Writer {
            a,
            b,
            to: b.dialect,
            from: a.dialect,
            same: a.dialect == b.dialect,
            statements: Vec::new(),
            left: Vec::new(),
            covered: BTreeSet::new(),
            names,
            keys,
            columns,
            indexed,
            new_tables: BTreeMap::new(),
            add_columns: Vec::new(),
            written_foreign_keys: Vec::new(),
            foreign_key_indexes: Vec::new(),
            numbered: BTreeSet::new(),
        }
    }

    fn run(&mut self, differences: &[Difference]) {
        let missing = |object: &str| differences.iter().any(|d| d.object == object && d.what == "missing in B");
        // Enum types first: a new table may use one.
        if self.same && self.to == DialectName::Postgres {
            for t in &self.a.types {
                let object = format!("type {}", t.name);
                if t.kind == "enum" && missing(&object) {
                    let labels: Vec<String> =
                        t.definition.iter().map(|l| format!("'{}'", l.replace('\'', "''"))).collect();
                    let sql = format!("CREATE TYPE {} AS ENUM ({});", self.table_name(&t.name), labels.join(", "));
                    self.push(Phase::Types, sql, Vec::new());
                    self.cover(&object, "missing in B");
                    self.names.insert((String::new(), t.name.to_ascii_lowercase()));
                }
            }
        }
        let b = self.b;
        let b_tables: BTreeMap<&str, &Table> = b.tables.iter().map(|t| (t.name.as_str(), t)).collect();
        let a = self.a;
        for table in &a.tables {
            match b_tables.get(table.name.as_str()) {
                None => self.new_table(table),
                Some(other) => self.existing_table(table, other, differences),
            }
        }
        self.foreign_keys(&b_tables);
        self.foreign_key_indexes();
        self.write_new_tables();
        self.write_added_columns();
        self.mysql_foreign_key_indexes();
        self.owned_sequences(differences);
    }

    fn push(&mut self, phase: Phase, sql: String, notes: Vec<String>) {
        self.statements.push((phase, sql, notes));
    }

    fn cover(&mut self, object: &str, what: &str) {
        self.covered.insert((object.to_string(), what.to_string()));
    }

    fn leave(&mut self, object: impl Into<String>, what: &str, reason: impl Into<String>) {
        let object = object.into();
        self.cover(&object, what);
        self.left.push(NotSuggested { object, what: what.to_string(), reason: reason.into() });
    }

    fn dialect(&self, d: DialectName) -> &'static str {
        match d {
            DialectName::Postgres => "PostgreSQL",
            DialectName::Mysql => "MySQL",
            DialectName::Sqlite => "SQLite",
        }
    }

    // ---- names and quoting -------------------------------------------------------------

    /// An identifier as B's dialect writes it: bare when it is a plain lower-case name
    /// that no dialect reserves, quoted otherwise.
    fn quote(&self, name: &str) -> String {
        let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !RESERVED.contains(&name);
        match (plain, self.to) {
            (true, _) => name.to_string(),
            (false, DialectName::Mysql) => format!("`{}`", name.replace('`', "``")),
            (false, _) => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A table's name: `schema.table` is two identifiers.
    fn table_name(&self, name: &str) -> String {
        name.split('.').map(|part| self.quote(part)).collect::<Vec<_>>().join(".")
    }

    fn column_list(&self, columns: &[String]) -> String {
        columns.iter().map(|c| self.quote(c)).collect::<Vec<_>>().join(", ")
    }

    /// Whether `name` is free on `table` in B (and among the names the suggestion adds).
    fn name_free(&self, table: &str, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        !self.names.contains(&(String::new(), lower.clone())) && !self.names.contains(&(table.to_string(), lower))
    }

    fn take_name(&mut self, table: &str, name: &str, global: bool) {
        let lower = name.to_ascii_lowercase();
        if global {
            self.names.insert((String::new(), lower.clone()));
        }
        self.names.insert((table.to_string(), lower));
    }

    /// A's name for a constraint or index when it has one and it is free on B, else a
    /// free name in PostgreSQL's style (`orders_code_key`). `Err` when A's name is taken.
    fn name_for(&mut self, table: &str, a_name: &str, columns: &[String], suffix: &str) -> Result<String, String> {
        let global = self.to != DialectName::Mysql || suffix == "fkey" || suffix == "check";
        if !a_name.is_empty() && a_name != "PRIMARY" {
            if !self.name_free(table, a_name) {
                return Err(format!("B already has an object named `{a_name}`: compare the two by hand"));
            }
            self.take_name(table, a_name, global);
            return Ok(a_name.to_string());
        }
        let short = table.rsplit('.').next().unwrap_or(table);
        let base = if columns.is_empty() {
            format!("{short}_{suffix}")
        } else {
            format!("{short}_{}_{suffix}", columns.join("_"))
        };
        let base: String = base.chars().take(60).collect();
        let mut name = base.clone();
        let mut n = 1;
        while !self.name_free(table, &name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.take_name(table, &name, global);
        Ok(name)
    }

    // ---- columns -----------------------------------------------------------------------

    fn auto_of(&self, table: &Table, column: &Column) -> Numbering {
        match column.generated.as_deref() {
            Some("identity always") => return Numbering::Identity(true),
            Some("identity by default") => return Numbering::Identity(false),
            Some("auto_increment") => return Numbering::AutoIncrement,
            _ => {}
        }
        if column.default.as_deref().is_some_and(|d| d.contains("nextval(")) {
            return Numbering::Serial;
        }
        let sole_key = table.primary_key.as_ref().is_some_and(|k| k.columns == [column.name.clone()]);
        if self.from == DialectName::Sqlite && sole_key && column.declared_type.eq_ignore_ascii_case("integer") {
            return Numbering::RowId;
        }
        Numbering::No
    }

    /// Whether a key or an index of A's table covers the column (MySQL cannot index
    /// `LONGTEXT` without a prefix length).
    fn keyed(table: &Table, column: &str) -> bool {
        let has = |cols: &[String]| cols.iter().any(|c| unquote(c) == column);
        table.primary_key.as_ref().is_some_and(|k| has(&k.columns))
            || table.unique.iter().any(|k| has(&k.columns))
            || table.indexes.iter().any(|i| has(&i.columns))
            || table.foreign_keys.iter().any(|f| has(&f.columns))
    }

    /// The column's definition for B; `Err` (why) when it cannot be written at all.
    fn column_sql(&self, table: &Table, column: &Column, new_table: bool) -> Result<ColumnSql, String> {
        let object = format!("{}.{}", table.name, column.name);
        let mut notes = Vec::new();
        let mut left = Vec::new();
        let auto = self.auto_of(table, column);
        let generation = match column.generated.as_deref() {
            Some(g) if g.starts_with("stored") || g.starts_with("virtual") => {
                let (kind, expression) = g.split_once(": ").unwrap_or((g, ""));
                if expression.is_empty() {
                    return Err(format!(
                        "a generated column: the snapshot does not hold {}'s generation expression; copy the \
                         column from the snippet that creates it",
                        self.dialect(self.from)
                    ));
                }
                if !self.same {
                    return Err(format!(
                        "a generated column: its expression `{expression}` is {}'s own; write it for {} by hand",
                        self.dialect(self.from),
                        self.dialect(self.to)
                    ));
                }
                Some(format!(" GENERATED ALWAYS AS ({expression}) {}", kind.to_ascii_uppercase()))
            }
            _ => None,
        };
        if self.same && self.to == DialectName::Postgres {
            let base = column.declared_type.trim_end_matches("[]");
            let missing_type = self.a.types.iter().any(|t| t.name == base)
                && !self.b.types.iter().any(|t| t.name == base)
                && !self.covered.contains(&(format!("type {base}"), "missing in B".to_string()));
            if missing_type {
                return Err(format!("its type `{base}` is not in B: create the type first"));
            }
        }
        let mut ty = if self.same {
            column.declared_type.clone()
        } else {
            let (ty, note) = self.map_type(column, Self::keyed(table, &column.name))?;
            notes.extend(note.map(|n| format!("{object}: {n}")));
            ty
        };

        let sole_key = table.primary_key.as_ref().is_some_and(|k| k.columns == [column.name.clone()]);
        let first_of_key =
            table.primary_key.iter().chain(&table.unique).any(|k| k.columns.first() == Some(&column.name));
        let mut auto_sql = String::new();
        let mut filled = generation.is_some();
        let lost = format!("{object}: numbered by the database on A, not here: give it its values as A does");
        match (auto, self.to) {
            (Numbering::No, _) => {}
            (Numbering::Identity(always), DialectName::Postgres) if self.same => {
                auto_sql = format!(" GENERATED {} AS IDENTITY", if always { "ALWAYS" } else { "BY DEFAULT" });
                filled = true;
            }
            (Numbering::Serial, DialectName::Postgres) if self.same => {
                ty = match ty.as_str() {
                    "smallint" => "smallserial".into(),
                    "bigint" => "bigserial".into(),
                    _ => "serial".into(),
                };
                filled = true;
            }
            (_, DialectName::Postgres) if !self.same => {
                if matches!(ty.as_str(), "smallint" | "integer" | "bigint") {
                    auto_sql = " GENERATED BY DEFAULT AS IDENTITY".into();
                    filled = true;
                } else {
                    notes.push(lost.clone());
                }
            }
            (Numbering::AutoIncrement, DialectName::Mysql) if self.same && new_table => {
                auto_sql = " AUTO_INCREMENT".into();
                filled = true;
            }
            (_, DialectName::Mysql) if !self.same && new_table && first_of_key => {
                auto_sql = " AUTO_INCREMENT".into();
                filled = true;
            }
            (_, DialectName::Sqlite) if new_table && sole_key && ty.eq_ignore_ascii_case("integer") => {
                filled = true; // the rowid alias numbers itself
            }
            (_, DialectName::Sqlite) if self.same => {}
            _ if self.same => {
                return Err("a numbered column (identity, auto-increment) cannot be added to an existing table here: \
                     add it by hand"
                    .into())
            }
            _ => notes.push(lost),
        }

        let mut default_sql = None;
        // A `nextval(…)` default is the numbering itself.
        if let (Some(d), false) = (column.default.as_deref(), auto == Numbering::Serial) {
            match self.default_sql(d, &ty, new_table) {
                Ok(Some(sql)) => default_sql = Some(sql),
                Ok(None) => {}
                Err(reason) => left.push(NotSuggested { object: object.clone(), what: "default".into(), reason }),
            }
        }
        filled |= default_sql.is_some();

        let mut definition = format!("{} {ty}", self.quote(&column.name));
        definition.push_str(&auto_sql);
        if let Some(g) = &generation {
            definition.push_str(g);
        }
        if !column.nullable {
            if new_table || filled {
                definition.push_str(" NOT NULL");
            } else {
                left.push(NotSuggested {
                    object: object.clone(),
                    what: "nullability".into(),
                    reason: format!(
                        "added as NULL: a NOT NULL column without a default {} can use fails on a table that has \
                         rows; fill it, then make it NOT NULL ({})",
                        self.dialect(self.to),
                        match self.to {
                            DialectName::Postgres => "`ALTER TABLE … ALTER COLUMN … SET NOT NULL`",
                            DialectName::Mysql => "`ALTER TABLE … MODIFY … NOT NULL`",
                            DialectName::Sqlite => "SQLite needs the table rebuilt",
                        }
                    ),
                });
            }
        } else if self.to == DialectName::Mysql && ty.starts_with("TIMESTAMP") {
            // Without it, old servers make a TIMESTAMP column NOT NULL with a default.
            definition.push_str(" NULL");
        }
        if let Some(d) = default_sql {
            let _ = write!(definition, " DEFAULT {d}");
        }
        let numbered = self.to == DialectName::Postgres && (auto_sql.contains("IDENTITY") || ty.ends_with("serial"));
        Ok(ColumnSql { definition, notes, left, filled, numbered })
    }

    /// B's type for a column of A, through the type map read backwards (docs/release.md).
    fn map_type(&self, column: &Column, keyed: bool) -> Result<(String, Option<String>), String> {
        let normalised = column.normalised_type.as_str();
        let (head, args, tail) = match normalised.find('(') {
            Some(i) => {
                let end = normalised[i..].find(')').map_or(normalised.len(), |j| i + j + 1);
                (&normalised[..i], &normalised[i..end], &normalised[end..])
            }
            None => (normalised, "", ""),
        };
        let mut base = format!("{}{}", head.trim(), tail).trim().to_string();
        if self.from == DialectName::Sqlite {
            // SQLite's integers are 64-bit and its reals 8-byte.
            base = match base.as_str() {
                "integer" => "bigint".into(),
                "real" => "double".into(),
                _ => base,
            };
        }
        let pick = |pg: &str, my: &str, lite: &str| match self.to {
            DialectName::Postgres => pg.to_string(),
            DialectName::Mysql => my.to_string(),
            DialectName::Sqlite => lite.to_string(),
        };
        let mut note = None;
        let ty = match base.as_str() {
            "smallint" => pick("smallint", "SMALLINT", "INTEGER"),
            "integer" | "mediumint" => pick("integer", "INT", "INTEGER"),
            "bigint" => pick("bigint", "BIGINT", "INTEGER"),
            "tinyint" => pick("smallint", "TINYINT", "INTEGER"),
            "tinyint unsigned" => pick("smallint", "TINYINT UNSIGNED", "INTEGER"),
            "smallint unsigned" => pick("integer", "SMALLINT UNSIGNED", "INTEGER"),
            "integer unsigned" | "int unsigned" | "mediumint unsigned" => pick("bigint", "INT UNSIGNED", "INTEGER"),
            "boolean" => pick("boolean", "TINYINT(1)", "INTEGER"),
            "real" | "float" => pick("real", "FLOAT", "REAL"),
            "double" => pick("double precision", "DOUBLE", "REAL"),
            "numeric" if args.is_empty() => pick("numeric", "DECIMAL(65,30)", "NUMERIC"),
            "numeric" => pick(&format!("numeric{args}"), &format!("DECIMAL{args}"), "NUMERIC"),
            "varchar" if args.is_empty() => pick("varchar", "LONGTEXT", "TEXT"),
            "varchar" => pick(&format!("varchar{args}"), &format!("VARCHAR{args}"), "TEXT"),
            "char" => pick(&format!("char{args}"), &format!("CHAR{args}"), "TEXT"),
            "text" => pick("text", "LONGTEXT", "TEXT"),
            "bytes" => pick("bytea", "LONGBLOB", "BLOB"),
            "timestamp" => pick("timestamp", "DATETIME(6)", "TEXT"),
            "timestamptz" => pick("timestamptz", "TIMESTAMP(6)", "TEXT"),
            "date" => pick("date", "DATE", "TEXT"),
            "time" => pick("time", "TIME(6)", "TEXT"),
            "uuid" => pick("uuid", "CHAR(36)", "TEXT"),
            "json" => pick("json", "LONGTEXT", "TEXT"),
            "jsonb" => pick("jsonb", "LONGTEXT", "TEXT"),
            _ => {
                return Err(format!(
                    "its type `{}` has no counterpart on {} in the type map: add it by hand",
                    column.declared_type,
                    self.dialect(self.to)
                ))
            }
        };
        if keyed && ty == "LONGBLOB" {
            return Err("MySQL cannot index a BLOB without a prefix length: add it by hand".into());
        }
        if keyed && ty == "LONGTEXT" {
            note = Some("VARCHAR(255), not LONGTEXT: a key or index covers it, and MySQL cannot index LONGTEXT");
            return Ok(("VARCHAR(255)".into(), note.map(String::from)));
        }
        Ok((ty, note.map(String::from)))
    }

    /// A default for B: A's as written on the same dialect, else only when every dialect
    /// spells it the same. `Ok(None)`: no default (NULL).
    fn default_sql(&self, default: &str, ty: &str, new_table: bool) -> Result<Option<String>, String> {
        let literal = is_literal(default);
        if self.same {
            return match self.to {
                DialectName::Sqlite if !new_table && !literal => Err(format!(
                    "SQLite cannot add a column whose default is not a constant (`{default}`): fill the column \
                     after adding it, or rebuild the table"
                )),
                DialectName::Postgres => Ok(Some(default.to_string())),
                _ if literal || is_time_keyword(default) => Ok(Some(default.to_string())),
                _ => Ok(Some(format!("({default})"))),
            };
        }
        let not_portable = || {
            format!(
                "the default `{default}` is {}'s own expression: set it by hand if B needs it",
                self.dialect(self.from)
            )
        };
        let mut d = portable_default(default);
        while d.starts_with('(') && d.ends_with(')') {
            d = d[1..d.len() - 1].trim().to_string();
        }
        let big = ty == "LONGTEXT" || ty == "LONGBLOB";
        if d == "null" {
            return Ok(None);
        }
        if d == "current_timestamp" {
            return match self.to {
                DialectName::Sqlite if !new_table => {
                    Err("SQLite cannot add a column whose default is not a constant (CURRENT_TIMESTAMP): fill the \
                     column after adding it, or rebuild the table"
                        .into())
                }
                DialectName::Mysql if ty.ends_with("(6)") => Ok(Some("CURRENT_TIMESTAMP(6)".into())),
                DialectName::Mysql if ty.starts_with("DATETIME") || ty.starts_with("TIMESTAMP") => {
                    Ok(Some("CURRENT_TIMESTAMP".into()))
                }
                DialectName::Mysql => Err(format!(
                    "MySQL takes CURRENT_TIMESTAMP as the default of a DATETIME or TIMESTAMP column only, not \
                     {ty}: set it by hand"
                )),
                _ => Ok(Some("CURRENT_TIMESTAMP".into())),
            };
        }
        if is_number(&d) {
            if ty == "boolean" {
                return match d.as_str() {
                    "0" => Ok(Some("false".into())),
                    "1" => Ok(Some("true".into())),
                    _ => Err(not_portable()),
                };
            }
            return Ok(Some(if big { format!("({d})") } else { d }));
        }
        if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
            if self.from == DialectName::Mysql && d.contains('\\') {
                return Err(not_portable());
            }
            if ty == "boolean" {
                return Err(not_portable());
            }
            return Ok(Some(if big { format!("({d})") } else { d }));
        }
        Err(not_portable())
    }

    // ---- tables --------------------------------------------------------------------------

    fn new_table(&mut self, table: &'s Table) {
        let name = table.name.clone();
        if !self.same && name.contains('.') {
            self.leave(&name, "missing in B", "a table of another schema than the first: create it by hand");
            return;
        }
        let mut new = NewTable {
            table,
            columns: Vec::new(),
            constraints: Vec::new(),
            foreign_keys: Vec::new(),
            omitted: BTreeSet::new(),
            notes: Vec::new(),
        };
        let mut left = Vec::new();
        for column in &table.columns {
            match self.column_sql(table, column, true) {
                Ok(c) => {
                    if c.numbered {
                        self.numbered.insert((name.clone(), column.name.clone()));
                    }
                    new.columns.push(c.definition);
                    new.notes.extend(c.notes);
                    left.extend(c.left);
                }
                Err(reason) => {
                    new.omitted.insert(column.name.clone());
                    left.push(NotSuggested {
                        object: format!("{name}.{}", column.name),
                        what: "missing in B".into(),
                        reason: format!("left out of the table: {reason}"),
                    });
                }
            }
        }
        if new.columns.is_empty() {
            let reasons: Vec<String> = left.into_iter().map(|l| format!("{}: {}", l.object, l.reason)).collect();
            let reason = format!("none of its columns can be written for B ({})", reasons.join("; "));
            self.leave(&name, "missing in B", reason);
            return;
        }
        self.cover(&name, "missing in B");
        for l in left {
            self.leave(l.object, &l.what, l.reason);
        }
        self.names.insert((String::new(), name.to_ascii_lowercase()));
        for c in &table.columns {
            if !new.omitted.contains(&c.name) {
                self.columns.insert((name.clone(), c.name.clone()));
            }
        }
        let omitted_in =
            |cols: &[String], omitted: &BTreeSet<String>| cols.iter().find(|c| omitted.contains(*c)).cloned();

        if let Some(pk) = &table.primary_key {
            match omitted_in(&pk.columns, &new.omitted) {
                Some(c) => self.leave(format!("{name} primary key"), "columns", format!("its column {c} is left out")),
                None => {
                    let clause = format!("PRIMARY KEY ({})", self.column_list(&pk.columns));
                    let constraint = match self.to {
                        DialectName::Postgres => match self.name_for(&name, &pk.name, &[], "pkey") {
                            Ok(n) => format!("CONSTRAINT {} {clause}", self.quote(&n)),
                            Err(_) => clause,
                        },
                        _ => clause,
                    };
                    new.constraints.push(constraint);
                    self.keys.insert((name.clone(), pk.columns.clone()));
                    self.indexed.insert((name.clone(), pk.columns.clone()));
                }
            }
        }

        for key in unique_keys(table) {
            let object = format!("{name} unique ({key})");
            let Some((columns, a_name, constraint)) = unique_source(table, &key) else { continue };
            if let Some(c) = omitted_in(&columns, &new.omitted) {
                self.leave(object, "missing in B", format!("its column {c} is left out"));
                continue;
            }
            let n = match self.name_for(&name, &a_name, &columns, "key") {
                Ok(n) => n,
                Err(reason) => {
                    self.leave(object, "missing in B", reason);
                    continue;
                }
            };
            if constraint {
                new.constraints.push(format!("CONSTRAINT {} UNIQUE ({})", self.quote(&n), self.column_list(&columns)));
            } else {
                let sql = format!(
                    "CREATE UNIQUE INDEX {} ON {} ({});",
                    self.quote(&n),
                    self.table_name(&name),
                    self.column_list(&columns)
                );
                self.push(Phase::NewIndexes, sql, Vec::new());
            }
            self.keys.insert((name.clone(), columns.clone()));
            self.indexed.insert((name.clone(), columns));
        }

        let checks = self.checks_of(table);
        let mut failed = Vec::new();
        for (a_name, expression, original) in checks {
            let object = if self.same { format!("{name} check ({original})") } else { format!("{name} checks") };
            let what = if self.same { "missing in B" } else { "count" };
            let translated = self.translate(&expression).and_then(|e| match mentions(&e, &new.omitted) {
                Some(c) => Err(format!("it reads the column {c}, which is left out")),
                None => Ok(e),
            });
            match translated.and_then(|e| self.name_for(&name, &a_name, &[], "check").map(|n| (n, e))) {
                Ok((n, e)) => new.constraints.push(format!("CONSTRAINT {} CHECK {e}", self.quote(&n))),
                Err(reason) => failed.push((object, what, format!("the check {original}: {reason}"))),
            }
        }
        for (object, what, reason) in failed {
            self.leave(object, what, reason);
        }

        let same = self.same;
        let keys = index_keys(table, same);
        for index in table.indexes.iter().filter(|i| keys.contains(&index_key(i, same))) {
            let object = format!("{name} index ({})", index_key(index, same));
            if let Some(c) = omitted_in(&index.columns.iter().map(|c| unquote(c)).collect::<Vec<_>>(), &new.omitted) {
                self.leave(object, "missing in B", format!("its column {c} is left out"));
                continue;
            }
            // MySQL's own index of a foreign key comes with the key, if it is added.
            if self.to == DialectName::Mysql && table.foreign_keys.iter().any(|f| f.name == index.name) {
                self.foreign_key_indexes.push((table, index, object, Phase::NewIndexes));
                continue;
            }
            match self.index_sql(table, index) {
                Ok(sql) => self.push(Phase::NewIndexes, sql, Vec::new()),
                Err(reason) => self.leave(object, "missing in B", reason),
            }
        }
        self.new_tables.insert(name, new);
    }

    fn existing_table(&mut self, a: &'s Table, b: &'s Table, differences: &[Difference]) {
        let name = a.name.clone();
        let has = |object: &str, what: &str| differences.iter().any(|d| d.object == object && d.what == what);

        for column in a.columns.iter().filter(|c| !b.columns.iter().any(|bc| bc.name == c.name)) {
            let object = format!("{name}.{}", column.name);
            match self.column_sql(a, column, false) {
                Ok(c) => {
                    if c.numbered {
                        self.numbered.insert((name.clone(), column.name.clone()));
                    }
                    self.cover(&object, "missing in B");
                    for l in c.left {
                        self.leave(l.object, &l.what, l.reason);
                    }
                    self.columns.insert((name.clone(), column.name.clone()));
                    self.add_columns.push(AddColumn {
                        table: name.clone(),
                        column: column.name.clone(),
                        definition: c.definition,
                        notes: c.notes,
                        references: None,
                        has_default: c.filled,
                    });
                }
                Err(reason) => self.leave(object, "missing in B", reason),
            }
        }
        let present = |w: &Self, cols: &[String]| {
            cols.iter().find(|c| !w.columns.contains(&(name.clone(), (*c).clone()))).cloned()
        };

        if let (Some(pk), None) = (&a.primary_key, &b.primary_key) {
            let object = format!("{name} primary key");
            if self.to == DialectName::Sqlite {
                self.leave(
                    object,
                    "columns",
                    "SQLite cannot add a primary key to an existing table: rebuild it by hand",
                );
            } else if let Some(c) = present(self, &pk.columns) {
                self.leave(object, "columns", format!("its column {c} is not added"));
            } else {
                let constraint = match self.to {
                    DialectName::Postgres => match self.name_for(&name, &pk.name, &[], "pkey") {
                        Ok(n) => format!("CONSTRAINT {} ", self.quote(&n)),
                        Err(_) => String::new(),
                    },
                    _ => String::new(),
                };
                let sql = format!(
                    "ALTER TABLE {} ADD {constraint}PRIMARY KEY ({});",
                    self.table_name(&name),
                    self.column_list(&pk.columns)
                );
                self.push(Phase::Keys, sql, Vec::new());
                self.cover(&object, "columns");
                self.keys.insert((name.clone(), pk.columns.clone()));
                self.indexed.insert((name.clone(), pk.columns.clone()));
            }
        }

        let theirs = unique_keys(b);
        for key in unique_keys(a).difference(&theirs) {
            let object = format!("{name} unique ({key})");
            let Some((columns, a_name, constraint)) = unique_source(a, key) else { continue };
            if let Some(c) = present(self, &columns) {
                self.leave(object, "missing in B", format!("its column {c} is not added"));
                continue;
            }
            if b.indexes.iter().any(|i| i.name == a_name)
                || b.unique.iter().any(|k| k.name == a_name && !a_name.is_empty())
            {
                self.leave(object, "missing in B", format!("B has `{a_name}` defined otherwise: replace it by hand"));
                continue;
            }
            let n = match self.name_for(&name, &a_name, &columns, "key") {
                Ok(n) => n,
                Err(reason) => {
                    self.leave(object, "missing in B", reason);
                    continue;
                }
            };
            let sql = if constraint && self.to != DialectName::Sqlite {
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                    self.table_name(&name),
                    self.quote(&n),
                    self.column_list(&columns)
                )
            } else {
                format!(
                    "CREATE UNIQUE INDEX {} ON {} ({});",
                    self.quote(&n),
                    self.table_name(&name),
                    self.column_list(&columns)
                )
            };
            let notes = if constraint && self.to == DialectName::Sqlite {
                vec![format!("SQLite cannot add a constraint to an existing table: a unique index enforces {n}")]
            } else {
                Vec::new()
            };
            self.push(Phase::Keys, sql, notes);
            self.cover(&object, "missing in B");
            self.keys.insert((name.clone(), columns.clone()));
            self.indexed.insert((name.clone(), columns));
        }

        self.existing_checks(a, b, &has);

        let same = self.same;
        let (ours, theirs) = (index_keys(a, same), index_keys(b, same));
        for index in a.indexes.iter().filter(|i| {
            let k = index_key(i, same);
            ours.contains(&k) && !theirs.contains(&k)
        }) {
            let object = format!("{name} index ({})", index_key(index, same));
            let cols: Vec<String> = index.columns.iter().map(|c| unquote(c)).collect();
            let redefined = b.indexes.iter().any(|i| i.name == index.name)
                || b.indexes.iter().any(|i| i.columns == index.columns && (i.unique || i.predicate.is_some()));
            if redefined {
                self.leave(
                    object,
                    "missing in B",
                    "B has an index of that name or on those columns defined otherwise: replacing it means dropping \
                     B's, by hand",
                );
                continue;
            }
            if self.to == DialectName::Mysql && a.foreign_keys.iter().any(|f| f.name == index.name) {
                self.foreign_key_indexes.push((a, index, object, Phase::Indexes));
                continue;
            }
            if let Some(c) =
                cols.iter().find(|c| is_column(a, c) && !self.columns.contains(&(name.clone(), (*c).clone())))
            {
                self.leave(object, "missing in B", format!("its column {c} is not added"));
                continue;
            }
            match self.index_sql(a, index) {
                Ok(sql) => {
                    self.push(Phase::Indexes, sql, Vec::new());
                    self.cover(&object, "missing in B");
                }
                Err(reason) => self.leave(object, "missing in B", reason),
            }
        }
    }

    fn existing_checks(&mut self, a: &Table, b: &Table, has: &dyn Fn(&str, &str) -> bool) {
        let name = a.name.clone();
        let cannot = "SQLite cannot add a check to an existing table: rebuild the table by hand";
        if self.same {
            let theirs: BTreeSet<&str> = b.checks.iter().map(|c| c.expression.as_str()).collect();
            for check in a.checks.iter().filter(|c| !theirs.contains(c.expression.as_str())) {
                let object = format!("{name} check ({})", check.expression);
                if self.to == DialectName::Sqlite {
                    self.leave(object, "missing in B", cannot);
                    continue;
                }
                if b.checks.iter().any(|c| c.name == check.name) {
                    self.leave(object, "missing in B", format!("B has a check `{}` defined otherwise", check.name));
                    continue;
                }
                let expression = check_expression(self.from, &check.expression);
                match self.name_for(&name, &check.name, &[], "check") {
                    Ok(n) => {
                        let sql = format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} CHECK {expression};",
                            self.table_name(&name),
                            self.quote(&n)
                        );
                        self.push(Phase::Checks, sql, Vec::new());
                        self.cover(&object, "missing in B");
                    }
                    Err(reason) => self.leave(object, "missing in B", reason),
                }
            }
            return;
        }
        let object = format!("{name} checks");
        if !has(&object, "count") {
            return;
        }
        if !b.checks.is_empty() {
            self.leave(
                object,
                "count",
                "across databases checks compare by count: which of A's checks B lacks cannot be told; compare them \
                 by hand",
            );
            return;
        }
        if self.to == DialectName::Sqlite {
            self.leave(object, "count", cannot);
            return;
        }
        let mut reasons = Vec::new();
        for (a_name, expression, original) in self.checks_of(a) {
            match self.translate(&expression).and_then(|e| self.name_for(&name, &a_name, &[], "check").map(|n| (n, e)))
            {
                Ok((n, e)) => {
                    let sql =
                        format!("ALTER TABLE {} ADD CONSTRAINT {} CHECK {e};", self.table_name(&name), self.quote(&n));
                    self.push(Phase::Checks, sql, Vec::new());
                }
                Err(reason) => reasons.push(format!("the check {original}: {reason}")),
            }
        }
        if reasons.is_empty() {
            self.cover(&object, "count");
        } else {
            self.leave(object, "count", reasons.join("; "));
        }
    }

    /// A's checks of `table`: (name, expression with its parentheses, as the diff names it).
    fn checks_of(&self, table: &Table) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for check in &table.checks {
            if self.from == DialectName::Sqlite {
                for clause in check_clauses(&check.expression) {
                    out.push((String::new(), clause, check.expression.clone()));
                }
            } else {
                out.push((
                    check.name.clone(),
                    check_expression(self.from, &check.expression),
                    check.expression.clone(),
                ));
            }
        }
        out
    }

    /// `CREATE [UNIQUE] INDEX` for A's index, or why not.
    fn index_sql(&mut self, table: &Table, index: &Index) -> Result<String, String> {
        if !index.valid {
            return Err("invalid on A (a failed CREATE INDEX CONCURRENTLY): rebuild it on A first".into());
        }
        let mut columns = Vec::new();
        for c in &index.columns {
            let bare = unquote(c);
            if is_column(table, &bare) {
                columns.push(self.quote(&bare));
            } else if self.same && c != "<expression>" {
                columns.push(c.clone());
            } else {
                return Err(format!(
                    "an expression index: `{c}` is {}'s own print of it; write it for {} by hand",
                    self.dialect(self.from),
                    self.dialect(self.to)
                ));
            }
        }
        let predicate = match &index.predicate {
            None => String::new(),
            Some(_) if self.to == DialectName::Mysql => {
                return Err("MySQL has no partial indexes: an index without its WHERE would cover other rows".into())
            }
            Some(p) => format!(" WHERE {}", self.translate(p).map_err(|r| format!("its predicate `{p}`: {r}"))?),
        };
        let name = self.name_for(&table.name, &index.name, &[], "idx")?;
        let bare_columns: Vec<String> = index.columns.iter().map(|c| unquote(c)).collect();
        self.indexed.insert((table.name.clone(), bare_columns.clone()));
        if index.unique && index.predicate.is_none() {
            self.keys.insert((table.name.clone(), bare_columns));
        }
        Ok(format!(
            "CREATE {}INDEX {} ON {} ({}){predicate};",
            if index.unique { "UNIQUE " } else { "" },
            self.quote(&name),
            self.table_name(&table.name),
            columns.join(", ")
        ))
    }

    // ---- foreign keys ----------------------------------------------------------------------

    /// Why B cannot take a foreign key to `fk.references` (its table, columns and key).
    fn reference_problem(&self, fk: &ForeignKey) -> Option<String> {
        let target = &fk.references;
        let exists = self.b.tables.iter().any(|t| &t.name == target) || self.new_tables.contains_key(target);
        if !exists {
            return Some(format!("the referenced table {target} is neither in B nor added"));
        }
        if fk.referenced_columns.is_empty() {
            return Some("the referenced columns are not in the snapshot".into());
        }
        if let Some(c) = fk.referenced_columns.iter().find(|c| !self.columns.contains(&(target.clone(), (*c).clone())))
        {
            return Some(format!("the referenced column {target}.{c} is not in B"));
        }
        let mut sorted = fk.referenced_columns.clone();
        sorted.sort();
        let keyed = self.keys.iter().any(|(t, cols)| {
            let mut c = cols.clone();
            c.sort();
            t == target && c == sorted
        });
        if !keyed {
            return Some(format!(
                "B has no primary key or unique constraint on {target} ({}) for it to reference",
                fk.referenced_columns.join(", ")
            ));
        }
        if self.to == DialectName::Mysql && (fk.on_delete == "set default" || fk.on_update == "set default") {
            return Some("MySQL's InnoDB has no SET DEFAULT action".into());
        }
        None
    }

    /// `FOREIGN KEY (…) REFERENCES … ON DELETE … ON UPDATE …`, actions always spelt out
    /// on MySQL (whose unspecified action reads back as RESTRICT, not NO ACTION).
    fn foreign_key_clause(&self, fk: &ForeignKey) -> String {
        let mut clause = format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            self.column_list(&fk.columns),
            self.table_name(&fk.references),
            self.column_list(&fk.referenced_columns)
        );
        let explicit = self.to == DialectName::Mysql;
        for (word, action) in [("DELETE", &fk.on_delete), ("UPDATE", &fk.on_update)] {
            if explicit || action != "no action" {
                let _ = write!(clause, " ON {word} {}", action.to_ascii_uppercase());
            }
        }
        clause
    }

    fn foreign_keys(&mut self, b_tables: &BTreeMap<&str, &'s Table>) {
        let a = self.a;
        for table in &a.tables {
            let name = table.name.clone();
            let existing = b_tables.get(name.as_str()).copied();
            let created = self.new_tables.contains_key(&name);
            if existing.is_none() && !created {
                continue;
            }
            let theirs: BTreeSet<String> =
                existing.map(|b| b.foreign_keys.iter().map(foreign_key_key).collect()).unwrap_or_default();
            for fk in &table.foreign_keys {
                let key = foreign_key_key(fk);
                if theirs.contains(&key) {
                    continue;
                }
                let object = format!("{name} foreign key ({key})");
                let missing_column = fk.columns.iter().find(|c| !self.columns.contains(&(name.clone(), (*c).clone())));
                if let Some(c) = missing_column {
                    self.leave(object, "missing in B", format!("its column {c} is not added"));
                    continue;
                }
                if let Some(reason) = self.reference_problem(fk) {
                    self.leave(object, "missing in B", reason);
                    continue;
                }
                if existing.is_some() && self.to == DialectName::Sqlite {
                    // SQLite adds a foreign key only with a column it adds.
                    let with_column = match fk.columns.as_slice() {
                        [c] => self
                            .add_columns
                            .iter()
                            .position(|ac| ac.table == name && &ac.column == c && !ac.has_default),
                        _ => None,
                    };
                    match with_column {
                        Some(i) => {
                            let clause = self.foreign_key_clause(fk);
                            let references = clause.split_once(") REFERENCES ").map(|(_, r)| format!("REFERENCES {r}"));
                            self.add_columns[i].references = references;
                            self.cover(&object, "missing in B");
                        }
                        None => self.leave(
                            object,
                            "missing in B",
                            "SQLite cannot add a foreign key to an existing table (only with a column it adds): \
                             rebuild the table by hand",
                        ),
                    }
                    continue;
                }
                let n = match self.name_for(&name, &fk.name, &fk.columns, "fkey") {
                    Ok(n) => n,
                    Err(reason) => {
                        self.leave(object, "missing in B", reason);
                        continue;
                    }
                };
                let clause = format!("CONSTRAINT {} {}", self.quote(&n), self.foreign_key_clause(fk));
                self.written_foreign_keys.push((name.clone(), fk.columns.clone(), n));
                self.cover(&object, "missing in B");
                if created {
                    if let Some(new) = self.new_tables.get_mut(&name) {
                        new.foreign_keys.push((fk.references.clone(), clause));
                    }
                } else {
                    let sql = format!("ALTER TABLE {} ADD {clause};", self.table_name(&name));
                    self.push(Phase::ForeignKeys, sql, Vec::new());
                }
            }
        }
    }

    /// A's indexes that MySQL makes for a foreign key come with the key when it is
    /// written, and are created as any index otherwise.
    fn foreign_key_indexes(&mut self) {
        for (table, index, object, phase) in std::mem::take(&mut self.foreign_key_indexes) {
            let written = self.written_foreign_keys.iter().any(|(t, _, n)| t == &table.name && n == &index.name);
            if written {
                self.cover(&object, "missing in B");
                let columns = index.columns.iter().map(|c| unquote(c)).collect();
                self.indexed.insert((table.name.clone(), columns));
                continue;
            }
            match self.index_sql(table, index) {
                Ok(sql) => {
                    self.push(phase, sql, Vec::new());
                    self.cover(&object, "missing in B");
                }
                Err(reason) => self.leave(object, "missing in B", reason),
            }
        }
    }

    /// The new tables in dependency order: a table after those its foreign keys
    /// reference; in a cycle, the keys that point forward are added afterwards
    /// (SQLite takes them as written: it resolves references when rows are written).
    fn write_new_tables(&mut self) {
        let mut remaining: BTreeSet<String> = self.new_tables.keys().cloned().collect();
        let mut created: BTreeSet<String> = BTreeSet::new();
        while !remaining.is_empty() {
            let ready = remaining
                .iter()
                .find(|t| {
                    self.new_tables[*t]
                        .foreign_keys
                        .iter()
                        .all(|(r, _)| r == *t || !remaining.contains(r) || created.contains(r))
                })
                .cloned();
            let next = ready.unwrap_or_else(|| remaining.iter().next().cloned().unwrap_or_default());
            remaining.remove(&next);
            let Some(new) = self.new_tables.get(&next) else { continue };
            let mut lines: Vec<String> = new.columns.clone();
            lines.extend(new.constraints.iter().cloned());
            let mut later = Vec::new();
            for (references, clause) in &new.foreign_keys {
                let forward = references != &next && remaining.contains(references);
                if forward && self.to != DialectName::Sqlite {
                    later.push(format!("ALTER TABLE {} ADD {clause};", self.table_name(&next)));
                } else {
                    lines.push(clause.clone());
                }
            }
            let body = lines.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join(",\n");
            let sql = format!("CREATE TABLE {} (\n{body}\n);", self.table_name(&new.table.name));
            let notes = new.notes.clone();
            self.push(Phase::CreateTables, sql, notes);
            for sql in later {
                self.push(Phase::ForeignKeys, sql, Vec::new());
            }
            created.insert(next);
        }
    }

    fn write_added_columns(&mut self) {
        let added = std::mem::take(&mut self.add_columns);
        for c in added {
            let mut definition = c.definition;
            if let Some(r) = &c.references {
                let _ = write!(definition, " {r}");
            }
            let sql = format!("ALTER TABLE {} ADD COLUMN {definition};", self.table_name(&c.table));
            self.push(Phase::AddColumns, sql, c.notes);
        }
    }

    /// MySQL gives a foreign key that no index covers an index of its own: the diff
    /// will show it as only in B.
    fn mysql_foreign_key_indexes(&mut self) {
        if self.to != DialectName::Mysql {
            return;
        }
        for (table, columns, name) in std::mem::take(&mut self.written_foreign_keys) {
            let covered = self.indexed.iter().any(|(t, cols)| t == &table && cols.starts_with(&columns));
            if !covered {
                self.leave(
                    format!("{table} index ({})", columns.join(", ")),
                    "missing in A",
                    format!(
                        "MySQL indexes the foreign key {name} itself (A has no index on those columns): \
                         keep it, or add the index to A"
                    ),
                );
            }
        }
    }

    // ---- expressions ---------------------------------------------------------------------

    /// A check's or predicate's expression for B: as written on the same dialect; across
    /// dialects with identifiers quoted for B, casts removed, `~~` as `LIKE` and `= ANY
    /// (ARRAY[…])` as `IN (…)`, or `Err` when it uses what another dialect lacks.
    fn translate(&self, expression: &str) -> Result<String, String> {
        if self.same {
            return Ok(expression.to_string());
        }
        let tokens = lex(expression, self.from)?;
        let tokens = rewrite(tokens)?;
        let mut out = String::new();
        for t in &tokens {
            match t {
                Tok::Ident(name) => out.push_str(&self.quote(name)),
                Tok::Word(w) => {
                    let lower = w.to_ascii_lowercase();
                    if ["array", "any", "all", "ilike", "similar", "json_valid", "regexp", "rlike", "glob"]
                        .contains(&lower.as_str())
                    {
                        return Err(format!("`{w}` is {}'s own", self.dialect(self.from)));
                    }
                    out.push_str(w);
                }
                Tok::Str(s) | Tok::Punct(s) => out.push_str(s),
                Tok::Space => out.push(' '),
            }
        }
        let out = out.trim().to_string();
        Ok(if out.starts_with('(') && balanced_outer(&out) { out } else { format!("({out})") })
    }

    // ---- the snippet ----------------------------------------------------------------------

    fn finish(mut self, differences: &[Difference], origin: &Origin) -> Suggestion {
        for d in differences {
            if !self.covered.contains(&(d.object.clone(), d.what.clone())) {
                let reason = self.generic_reason(d);
                self.left.push(NotSuggested { object: d.object.clone(), what: d.what.clone(), reason });
            }
        }
        // One entry per difference: reasons of the same one are joined.
        let mut merged: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for l in std::mem::take(&mut self.left) {
            let reasons = merged.entry((l.object, l.what)).or_default();
            if !reasons.contains(&l.reason) {
                reasons.push(l.reason);
            }
        }
        let not_suggested: Vec<NotSuggested> = merged
            .into_iter()
            .map(|((object, what), reasons)| NotSuggested { object, what, reason: reasons.join("; ") })
            .collect();
        self.statements.sort_by_key(|(phase, _, _)| *phase);

        let dialect = folder_of(self.to);
        let file_name = origin
            .file_name
            .clone()
            .unwrap_or_else(|| format!("sql/{dialect}/{VERSION_PLACEHOLDER}_schema_diff_suggestion.sql"));
        let mut sql = String::new();
        let _ = writeln!(
            sql,
            "-- Suggested by `schema diff --suggest`: what schema A has and schema B lacks, for B ({}).",
            self.dialect(self.to)
        );
        let _ = writeln!(sql, "--   A: {} ({})", origin.a.as_deref().unwrap_or("schema A"), folder_of(self.from));
        let _ = writeln!(sql, "--   B: {} ({})", origin.b.as_deref().unwrap_or("schema B"), dialect);
        if differences.is_empty() {
            let _ = writeln!(sql, "-- The same schema: nothing to add.");
        } else if self.statements.is_empty() {
            let _ = writeln!(
                sql,
                "-- Nothing to add: no difference is one that adding an object fixes (each is listed below).\n\
                 -- This file holds no statement: there is nothing to save."
            );
        } else {
            let _ = writeln!(sql, "-- Save it as {file_name}, review it, and build.");
            let _ =
                writeln!(sql, "-- Guards are inferred for each statement: a database that has the object skips it.");
            if file_name.contains(VERSION_PLACEHOLDER) {
                let _ =
                    writeln!(sql, "-- Replace {VERSION_PLACEHOLDER} with the version after your highest snippet's.");
            }
            let _ = writeln!(
                sql,
                "-- A version that only sql/{dialect}/ has is a build warning: give the other folders a file of it."
            );
            if !self.same {
                let _ = writeln!(
                    sql,
                    "-- Types follow the type map of docs/release.md; expressions keep their functions as written."
                );
            }
        }
        for (_, statement, notes) in &self.statements {
            sql.push('\n');
            for note in notes {
                let _ = writeln!(sql, "-- Note, {note}");
            }
            let _ = writeln!(sql, "{statement}");
        }
        if !not_suggested.is_empty() {
            let _ = writeln!(
                sql,
                "\n-- Not suggested: {} difference(s) stay, written by hand if at all (a suggestion only adds):",
                not_suggested.len()
            );
            for n in &not_suggested {
                let _ = writeln!(sql, "-- - {} ({}): {}", one_line(&n.object), n.what, one_line(&n.reason));
            }
        }
        Suggestion { sql, file_name, statements: self.statements.len(), not_suggested }
    }

    /// PostgreSQL: a sequence that a column written as identity or `serial` makes (its
    /// default name, `table_column_seq`) comes with the column.
    fn owned_sequences(&mut self, differences: &[Difference]) {
        if !(self.same && self.to == DialectName::Postgres) {
            return;
        }
        for d in differences.iter().filter(|d| d.what == "missing in B") {
            let Some(name) = d.object.strip_prefix("sequence ") else { continue };
            let Some(sequence) = self.a.sequences.iter().find(|s| s.name == name) else { continue };
            let Some((table, column)) = sequence.owned_by.as_deref().and_then(|o| o.rsplit_once('.')) else { continue };
            if self.numbered.contains(&(table.to_string(), column.to_string()))
                && name == format!("{table}_{column}_seq")
            {
                self.cover(&d.object, "missing in B");
            }
        }
    }

    fn generic_reason(&self, d: &Difference) -> String {
        let object = d.object.as_str();
        match d.what.as_str() {
            "missing in A" => "only B has it: a suggestion never drops anything (a DROP loses data); if it should \
                               go, drop it in a snippet marked `-- destructive`"
                .into(),
            "type" => "a type change rewrites the column and can fail on existing rows: write it by hand, in a \
                       snippet marked `-- destructive`"
                .into(),
            "nullability" => "making a column NOT NULL fails on rows holding NULL, and dropping NOT NULL changes \
                              what the app can store: change it by hand"
                .into(),
            "default" => "a default that differs changes the values of future rows: change it by hand if B \
                          should follow A"
                .into(),
            "generated" => "a column's identity, auto-increment or generation expression cannot be changed in \
                            place: change it by hand"
                .into(),
            "columns" => "changing a primary key: drop and add it by hand".into(),
            "definition" if object.starts_with("view ") => "a view's text is not in the snapshot (only its digest): \
                                                            re-create it by hand from A's snippet"
                .into(),
            "kind" | "definition" => "defined otherwise on each side: replace it by hand".into(),
            "count" => "across databases checks compare by count: which of A's checks B lacks cannot be told; \
                        compare them by hand"
                .into(),
            "missing in B" if object.starts_with("view ") => {
                "a view's text is not in the snapshot (only its digest): copy its CREATE VIEW from the snippet that \
                 creates it on A"
                    .into()
            }
            "missing in B" if object.starts_with("sequence ") => {
                "a sequence's start and increment are not in the snapshot: create it by hand".into()
            }
            "missing in B" if object.starts_with("extension ") => {
                "an extension takes rights the app may not have and a version to choose: install it by hand".into()
            }
            "missing in B" if object.starts_with("type ") => {
                "a domain type's constraints are the database's own print: create it by hand".into()
            }
            _ => "not something a suggestion adds: review it by hand".into(),
        }
    }
}

/// Words no dialect takes as a bare name.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "change",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "default",
    "delete",
    "desc",
    "distinct",
    "div",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "if",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "keys",
    "leading",
    "left",
    "like",
    "limit",
    "lock",
    "mod",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "primary",
    "range",
    "read",
    "references",
    "rename",
    "replace",
    "right",
    "row",
    "rows",
    "select",
    "session_user",
    "set",
    "show",
    "some",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "update",
    "usage",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "write",
    "xor",
];

/// A name without its quotes (`"Qty"` → `Qty`); other text as it is.
fn unquote(name: &str) -> String {
    let n = name.trim();
    for (open, close) in [('"', '"'), ('`', '`')] {
        if n.len() >= 2 && n.starts_with(open) && n.ends_with(close) {
            let inner = &n[1..n.len() - 1];
            return inner.replace(&format!("{close}{close}"), &close.to_string());
        }
    }
    n.to_string()
}

fn is_column(table: &Table, name: &str) -> bool {
    table.columns.iter().any(|c| c.name == name)
}

/// Where a unique key of A's table comes from: (columns, name, is a constraint).
fn unique_source(table: &Table, key: &str) -> Option<(Vec<String>, String, bool)> {
    if let Some(k) = table.unique.iter().find(|k| k.columns.join(", ") == key) {
        return Some((k.columns.clone(), k.name.clone(), true));
    }
    table
        .indexes
        .iter()
        .find(|i| i.unique && i.predicate.is_none() && i.columns.join(", ") == key)
        .map(|i| (i.columns.iter().map(|c| unquote(c)).collect(), i.name.clone(), false))
}

/// A check's expression with its parentheses: PostgreSQL prints `CHECK ((a > 0))` (and
/// ` NOT VALID`), MySQL the bare expression.
fn check_expression(from: DialectName, printed: &str) -> String {
    let text = printed.trim();
    let text = text.strip_suffix(" NOT VALID").unwrap_or(text);
    let text = text.strip_prefix("CHECK ").unwrap_or(text).trim();
    if from == DialectName::Postgres || (text.starts_with('(') && balanced_outer(text)) {
        text.to_string()
    } else {
        format!("({text})")
    }
}

/// Whether the first `(` of `text` closes at its last character.
fn balanced_outer(text: &str) -> bool {
    let mut depth = 0i32;
    let mut in_string = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return i == text.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

/// The first of `columns` that an expression reads.
fn mentions(expression: &str, columns: &BTreeSet<String>) -> Option<String> {
    let words = expression.split(|c: char| !(c.is_alphanumeric() || c == '_'));
    words.into_iter().find(|w| columns.contains(*w)).map(str::to_string)
}

fn is_number(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') && t.chars().filter(|c| *c == '.').count() <= 1
}

fn is_time_keyword(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    let name = lower.split('(').next().unwrap_or("");
    ["current_timestamp", "current_date", "current_time", "localtimestamp"].contains(&name)
}

/// A default that is a value, not an expression: a number, a string, NULL, TRUE, FALSE.
fn is_literal(text: &str) -> bool {
    let t = text.trim();
    is_number(t)
        || (t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') && !t[1..t.len() - 1].contains("'::"))
        || ["null", "true", "false"].contains(&t.to_ascii_lowercase().as_str())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A token of a check or predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A string literal, quotes included.
    Str(String),
    /// A quoted identifier, without its quotes.
    Ident(String),
    /// A bare word: a name, keyword or number.
    Word(String),
    /// An operator or punctuation.
    Punct(String),
    Space,
}

fn lex(text: &str, from: DialectName) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                let mut s = String::from('\'');
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else { return Err("an unterminated string".into()) };
                    if ch == '\\' && from == DialectName::Mysql {
                        return Err("a string with backslash escapes (MySQL's own)".into());
                    }
                    s.push(ch);
                    i += 1;
                    if ch == '\'' {
                        if chars.get(i) == Some(&'\'') {
                            s.push('\'');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
                // MySQL's character set introducer (`_utf8mb4'x'`) goes.
                if let Some(Tok::Word(w)) = out.last() {
                    if w.starts_with('_') {
                        out.pop();
                    }
                }
                out.push(Tok::Str(s));
            }
            '"' | '`' => {
                if c == '"' && from == DialectName::Mysql {
                    return Err("a double-quoted string (MySQL's own)".into());
                }
                let mut name = String::new();
                i += 1;
                loop {
                    let Some(&ch) = chars.get(i) else { return Err("an unterminated quoted name".into()) };
                    i += 1;
                    if ch == c {
                        if chars.get(i) == Some(&c) {
                            name.push(c);
                            i += 1;
                        } else {
                            break;
                        }
                    } else {
                        name.push(ch);
                    }
                }
                out.push(Tok::Ident(name));
            }
            c if c.is_whitespace() => {
                while chars.get(i).is_some_and(|c| c.is_whitespace()) {
                    i += 1;
                }
                out.push(Tok::Space);
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut w = String::new();
                while let Some(&ch) = chars.get(i).filter(|ch| {
                    ch.is_alphanumeric() || **ch == '_' || **ch == '.' && w.chars().all(|d| d.is_ascii_digit())
                }) {
                    w.push(ch);
                    i += 1;
                }
                out.push(Tok::Word(w));
            }
            _ => {
                let rest: String = chars[i..].iter().take(4).collect();
                let op =
                    ["!~~*", "!~~", "~~*", "->>", "~~", "::", "->", "<>", "!=", "<=", ">=", "||", "!~*", "!~", "~*"]
                        .into_iter()
                        .find(|op| rest.starts_with(op))
                        .map_or_else(|| c.to_string(), str::to_string);
                i += op.chars().count();
                out.push(Tok::Punct(op));
            }
        }
    }
    Ok(out)
}

/// PostgreSQL's prints made portable: casts removed, `~~` as `LIKE`, `= ANY (ARRAY[…])`
/// as `IN (…)`; `Err` for what has no portable form.
fn rewrite(tokens: Vec<Tok>) -> Result<Vec<Tok>, String> {
    let punct = |t: Option<&Tok>, p: &str| matches!(t, Some(Tok::Punct(x)) if x == p);
    let word = |t: Option<&Tok>, w: &str| matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w));
    // Casts: `::type`, `::character varying(10)`, `::text[]`.
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if punct(tokens.get(i), "::") {
            i += 1;
            if !matches!(tokens.get(i), Some(Tok::Word(_))) {
                return Err("a cast to a quoted type".into());
            }
            i += 1;
            while matches!(tokens.get(i), Some(Tok::Space))
                && matches!(tokens.get(i + 1), Some(Tok::Word(w))
                    if ["varying", "precision", "with", "without", "time", "zone"].contains(&w.to_ascii_lowercase().as_str()))
            {
                i += 2;
            }
            if punct(tokens.get(i), "(") {
                while i < tokens.len() && !punct(tokens.get(i), ")") {
                    i += 1;
                }
                i += 1;
            }
            while punct(tokens.get(i), "[") && punct(tokens.get(i + 1), "]") {
                i += 2;
            }
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    // `~~` is LIKE.
    let mut tokens = Vec::new();
    for t in out {
        match &t {
            Tok::Punct(p) if p == "~~" => tokens.push(Tok::Word("LIKE".into())),
            Tok::Punct(p) if p == "!~~" => {
                tokens.extend([Tok::Word("NOT".into()), Tok::Space, Tok::Word("LIKE".into())]);
            }
            Tok::Punct(p) if p.contains('~') => {
                return Err(format!("`{p}` is PostgreSQL's own"));
            }
            _ => tokens.push(t),
        }
    }
    // `x = ANY (ARRAY[a, b])` is `x IN (a, b)`; `x <> ALL (ARRAY[…])` is `NOT IN`.
    let next = |tokens: &[Tok], mut j: usize| {
        while matches!(tokens.get(j), Some(Tok::Space)) {
            j += 1;
        }
        j
    };
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_eq = punct(tokens.get(i), "=");
        let is_ne = punct(tokens.get(i), "<>") || punct(tokens.get(i), "!=");
        if is_eq || is_ne {
            let q = next(&tokens, i + 1);
            let quantifier = if is_eq { "ANY" } else { "ALL" };
            if word(tokens.get(q), quantifier) {
                let mut j = next(&tokens, q + 1);
                let mut opened = 0;
                while punct(tokens.get(j), "(") {
                    opened += 1;
                    j = next(&tokens, j + 1);
                }
                if opened > 0 && word(tokens.get(j), "ARRAY") && punct(tokens.get(j + 1), "[") {
                    let start = j + 2;
                    let Some(len) = tokens[start..].iter().position(|t| matches!(t, Tok::Punct(p) if p == "]")) else {
                        return Err("an unterminated ARRAY".into());
                    };
                    let mut k = start + len + 1;
                    for _ in 0..opened {
                        k = next(&tokens, k);
                        if !punct(tokens.get(k), ")") {
                            return Err("an ANY over something else than a list".into());
                        }
                        k += 1;
                    }
                    while matches!(out.last(), Some(Tok::Space)) {
                        out.pop();
                    }
                    out.push(Tok::Space);
                    if is_ne {
                        out.extend([Tok::Word("NOT".into()), Tok::Space]);
                    }
                    out.extend([Tok::Word("IN".into()), Tok::Space, Tok::Punct("(".into())]);
                    out.extend(tokens[start..start + len].iter().cloned());
                    out.push(Tok::Punct(")".into()));
                    i = k;
                    continue;
                }
            }
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    // What is left of arrays, JSON operators and parameters has no portable form.
    for t in &out {
        if let Tok::Punct(p) = t {
            if p.starts_with("->") || ["[", "]", "#", "@", "?", "$"].contains(&p.as_str()) {
                return Err(format!("`{p}` is PostgreSQL's own"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{Check, Key};
    use super::*;

    fn column(name: &str, declared: &str, nullable: bool, default: Option<&str>) -> Column {
        Column {
            name: name.into(),
            declared_type: declared.into(),
            normalised_type: super::super::normalise_type(declared),
            nullable,
            default: default.map(String::from),
            generated: None,
        }
    }

    fn users(dialect: DialectKind) -> Table {
        let mut t = Table::new("users".into());
        let id = if dialect == DialectKind::Sqlite { "INTEGER" } else { "bigint" };
        t.columns.push(column("id", id, false, None));
        t.columns.push(column("name", "text", false, None));
        t.primary_key = Some(Key { name: String::new(), columns: vec!["id".into()] });
        t
    }

    fn snapshot(dialect: DialectKind, tables: Vec<Table>) -> Snapshot {
        let mut s = Snapshot::new(dialect);
        s.tables = tables;
        s.sort();
        s
    }

    fn translate(from: DialectKind, to: DialectKind, expression: &str) -> Result<String, String> {
        let a = snapshot(from, Vec::new());
        let b = snapshot(to, Vec::new());
        Writer::new(&a, &b).translate(expression)
    }

    #[test]
    fn postgres_prints_translate_to_portable_expressions() {
        let (pg, my, lite) = (DialectKind::Postgres, DialectKind::MySql, DialectKind::Sqlite);
        assert_eq!(
            translate(pg, my, "((status = ANY (ARRAY['a'::text, 'b'::text])))").unwrap(),
            "((status IN ('a', 'b')))"
        );
        assert_eq!(
            translate(pg, lite, "((((code)::text <> ''::text) AND (length((code)::text) < 30)))").unwrap(),
            "((((code) <> '') AND (length((code)) < 30)))"
        );
        assert_eq!(translate(pg, my, "(((note)::text ~~ 'x%'::text))").unwrap(), "(((note) LIKE 'x%'))");
        assert_eq!(translate(pg, my, "((\"Qty\" > 0))").unwrap(), "((`Qty` > 0))");
        assert_eq!(translate(my, pg, "`qty` > 0 and `code` <> _utf8mb4'x'").unwrap(), "(qty > 0 and code <> 'x')");
        assert!(translate(pg, lite, "((name ~* '^a'::text))").unwrap_err().contains("PostgreSQL"));
        assert!(translate(pg, lite, "((tags[1] = 'x'::text))").is_err());
        assert!(translate(my, pg, "json_valid(`doc`)").is_err());
        assert_eq!(translate(pg, pg, "((a)::text = 'x'::text)").unwrap(), "((a)::text = 'x'::text)");
    }

    #[test]
    fn types_map_backwards_through_the_type_map() {
        let cases = [
            (DialectKind::Postgres, "boolean", ["INTEGER", "TINYINT(1)"]),
            (DialectKind::Postgres, "timestamp with time zone", ["TEXT", "TIMESTAMP(6)"]),
            (DialectKind::Postgres, "bytea", ["BLOB", "LONGBLOB"]),
            (DialectKind::Postgres, "character varying(40)", ["TEXT", "VARCHAR(40)"]),
            (DialectKind::Postgres, "double precision", ["REAL", "DOUBLE"]),
            (DialectKind::Postgres, "numeric(10,2)", ["NUMERIC", "DECIMAL(10,2)"]),
            (DialectKind::MySql, "tinyint(1)", ["INTEGER", "TINYINT(1)"]),
        ];
        for (from, declared, [lite, my]) in cases {
            for (to, expected) in [(DialectKind::Sqlite, lite), (DialectKind::MySql, my)] {
                let (a, b) = (snapshot(from, Vec::new()), snapshot(to, Vec::new()));
                let w = Writer::new(&a, &b);
                if from == to {
                    continue;
                }
                let (ty, _) = w.map_type(&column("c", declared, true, None), false).unwrap();
                assert_eq!(ty, expected, "{declared} from {from:?} to {to:?}");
            }
        }
        let (a, b) = (snapshot(DialectKind::Sqlite, Vec::new()), snapshot(DialectKind::Postgres, Vec::new()));
        let w = Writer::new(&a, &b);
        assert_eq!(w.map_type(&column("c", "INTEGER", true, None), false).unwrap().0, "bigint");
        assert_eq!(w.map_type(&column("c", "REAL", true, None), false).unwrap().0, "double precision");
        assert!(w.map_type(&column("c", "geometry", true, None), false).is_err());
    }

    #[test]
    fn a_missing_table_column_and_index_are_written_in_bs_dialect() {
        let mut orders = Table::new("orders".into());
        orders.columns.push(column("id", "bigint", false, None));
        orders.columns[0].generated = Some("identity by default".into());
        orders.columns.push(column("user_id", "bigint", false, None));
        orders.columns.push(column("code", "character varying(40)", false, None));
        orders.columns.push(column("paid", "boolean", false, Some("false")));
        orders.columns.push(column("at", "timestamp with time zone", true, Some("now()")));
        orders.primary_key = Some(Key { name: "orders_pkey".into(), columns: vec!["id".into()] });
        orders.unique.push(Key { name: "orders_code_key".into(), columns: vec!["code".into()] });
        orders
            .checks
            .push(Check { name: "orders_code_check".into(), expression: "CHECK (((code)::text <> ''::text))".into() });
        orders.foreign_keys.push(ForeignKey {
            name: "orders_user_id_fkey".into(),
            columns: vec!["user_id".into()],
            references: "users".into(),
            referenced_columns: vec!["id".into()],
            on_delete: "cascade".into(),
            on_update: "no action".into(),
        });
        let mut a_users = users(DialectKind::Postgres);
        a_users.columns.push(column("nickname", "text", true, None));
        a_users.columns.push(column("score", "integer", false, Some("0")));
        a_users.columns.push(column("born", "date", false, None));
        a_users.indexes.push(Index {
            name: "users_nickname_idx".into(),
            columns: vec!["nickname".into()],
            unique: false,
            predicate: Some("(nickname IS NOT NULL)".into()),
            valid: true,
        });
        let a = snapshot(DialectKind::Postgres, vec![a_users, orders]);
        let mut b_users = users(DialectKind::Sqlite);
        b_users.columns.push(column("only_b", "TEXT", true, None));
        let b = snapshot(DialectKind::Sqlite, vec![b_users]);
        let s = suggest(&a, &b);
        let sql = &s.sql;
        for expected in [
            "ALTER TABLE users ADD COLUMN nickname TEXT;",
            "ALTER TABLE users ADD COLUMN score INTEGER NOT NULL DEFAULT 0;",
            "ALTER TABLE users ADD COLUMN born TEXT;",
            "CREATE TABLE orders (\n    id INTEGER NOT NULL,",
            "    paid INTEGER NOT NULL DEFAULT 0,",
            "    at TEXT DEFAULT CURRENT_TIMESTAMP,",
            "    PRIMARY KEY (id),",
            "    CONSTRAINT orders_code_key UNIQUE (code),",
            "    CONSTRAINT orders_code_check CHECK (((code) <> '')),",
            "    CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE\n);",
            "CREATE INDEX users_nickname_idx ON users (nickname) WHERE (nickname IS NOT NULL);",
        ] {
            assert!(sql.contains(expected), "{expected}\nin\n{sql}");
        }
        assert!(sql.find("ADD COLUMN nickname").unwrap() < sql.find("CREATE TABLE orders").unwrap());
        let left: Vec<(&str, &str)> = s.not_suggested.iter().map(|n| (n.object.as_str(), n.what.as_str())).collect();
        assert_eq!(left, [("users.born", "nullability"), ("users.only_b", "missing in A")], "{sql}");
        assert_eq!(s.statements, 5);
        assert!(!sql.lines().any(|l| !l.starts_with("--") && l.contains("only_b")), "{sql}");
    }

    #[test]
    fn what_is_not_additive_is_only_listed() {
        let a = snapshot(DialectKind::Postgres, vec![users(DialectKind::Postgres)]);
        let mut changed = users(DialectKind::Postgres);
        changed.columns[1] = column("name", "character varying(20)", true, None);
        let b = snapshot(DialectKind::Postgres, vec![changed]);
        let s = suggest(&a, &b);
        assert_eq!(s.statements, 0);
        assert!(s.sql.contains("-- Nothing to add"), "{}", s.sql);
        let left: Vec<(&str, &str)> = s.not_suggested.iter().map(|n| (n.object.as_str(), n.what.as_str())).collect();
        assert_eq!(left, [("users.name", "nullability"), ("users.name", "type")]);
        assert!(s.sql.lines().all(|l| l.is_empty() || l.starts_with("-- ")), "{}", s.sql);
        let same = suggest(&a, &a);
        assert!(same.sql.contains("The same schema: nothing to add."), "{}", same.sql);
        assert!(same.file_name.contains(VERSION_PLACEHOLDER));
    }

    #[test]
    fn sqlite_adds_unique_keys_as_indexes_and_lists_checks_and_foreign_keys() {
        let mut a_users = users(DialectKind::Postgres);
        a_users.unique.push(Key { name: "users_name_key".into(), columns: vec!["name".into()] });
        a_users.checks.push(Check { name: "users_name_check".into(), expression: "CHECK ((name <> ''::text))".into() });
        let a = snapshot(DialectKind::Postgres, vec![a_users]);
        let b = snapshot(DialectKind::Sqlite, vec![users(DialectKind::Sqlite)]);
        let s = suggest(&a, &b);
        assert!(s.sql.contains("CREATE UNIQUE INDEX users_name_key ON users (name);"), "{}", s.sql);
        let left: Vec<(&str, &str)> = s.not_suggested.iter().map(|n| (n.object.as_str(), n.what.as_str())).collect();
        assert_eq!(left, [("users checks", "count")]);
        assert!(s.not_suggested[0].reason.contains("SQLite cannot add a check"));
    }

    fn team_key(on_delete: &str) -> ForeignKey {
        ForeignKey {
            name: "users_team_id_fkey".into(),
            columns: vec!["team_id".into()],
            references: "teams".into(),
            referenced_columns: vec!["id".into()],
            on_delete: on_delete.into(),
            on_update: "no action".into(),
        }
    }

    fn teams() -> Table {
        let mut t = Table::new("teams".into());
        t.columns.push(column("id", "bigint", false, None));
        t.primary_key = Some(Key { name: "teams_pkey".into(), columns: vec!["id".into()] });
        t
    }

    #[test]
    fn sqlite_adds_a_foreign_key_only_with_the_column_it_adds() {
        let mut a_users = users(DialectKind::Postgres);
        a_users.columns.push(column("team_id", "bigint", true, None));
        a_users.foreign_keys.push(team_key("set null"));
        let a = snapshot(DialectKind::Postgres, vec![teams(), a_users]);
        let b = snapshot(DialectKind::Sqlite, vec![teams(), users(DialectKind::Sqlite)]);
        let s = suggest(&a, &b);
        assert!(
            s.sql.contains("ALTER TABLE users ADD COLUMN team_id INTEGER REFERENCES teams (id) ON DELETE SET NULL;"),
            "{}",
            s.sql
        );
        assert!(s.not_suggested.is_empty(), "{:?}", s.not_suggested);

        // The column already there: no way to add the key on SQLite.
        let mut b_users = users(DialectKind::Sqlite);
        b_users.columns.push(column("team_id", "INTEGER", true, None));
        let b = snapshot(DialectKind::Sqlite, vec![teams(), b_users]);
        let s = suggest(&a, &b);
        assert_eq!(s.statements, 0, "{}", s.sql);
        assert!(s.not_suggested[0].reason.contains("SQLite cannot add a foreign key"), "{:?}", s.not_suggested);
    }

    #[test]
    fn a_foreign_key_mysql_indexes_itself_is_listed_as_only_bs() {
        let mut a_users = users(DialectKind::Postgres);
        a_users.columns.push(column("team_id", "bigint", true, None));
        a_users.foreign_keys.push(team_key("cascade"));
        let a = snapshot(DialectKind::Postgres, vec![teams(), a_users]);
        let b = snapshot(DialectKind::MySql, vec![teams(), users(DialectKind::MySql)]);
        let s = suggest(&a, &b);
        assert!(
            s.sql.contains(
                "ALTER TABLE users ADD CONSTRAINT users_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id) \
                 ON DELETE CASCADE ON UPDATE NO ACTION;"
            ),
            "{}",
            s.sql
        );
        let left: Vec<(&str, &str)> = s.not_suggested.iter().map(|n| (n.object.as_str(), n.what.as_str())).collect();
        assert_eq!(left, [("users index (team_id)", "missing in A")]);
    }

    #[test]
    fn a_reference_to_a_table_b_lacks_and_does_not_get_is_listed() {
        let mut a_users = users(DialectKind::Postgres);
        a_users.columns.push(column("team_id", "bigint", true, None));
        a_users.foreign_keys.push(team_key("cascade"));
        let mut odd = teams();
        odd.columns[0] = column("id", "geometry", false, None);
        let a = snapshot(DialectKind::Postgres, vec![odd, a_users]);
        let b = snapshot(DialectKind::Sqlite, vec![users(DialectKind::Sqlite)]);
        let s = suggest(&a, &b);
        let left: Vec<(&str, &str)> = s.not_suggested.iter().map(|n| (n.object.as_str(), n.what.as_str())).collect();
        assert!(left.contains(&("teams", "missing in B")) && !left.contains(&("teams.id", "missing in B")), "{left:?}");
        let fk = s.not_suggested.iter().find(|n| n.object.starts_with("users foreign key")).expect("the key listed");
        assert!(fk.reason.contains("neither in B nor added"), "{fk:?}");
        assert!(s.sql.contains("ALTER TABLE users ADD COLUMN team_id INTEGER;"), "{}", s.sql);
    }

    #[test]
    fn comment_lines_never_read_as_directives() {
        let a = snapshot(DialectKind::Postgres, vec![users(DialectKind::Postgres)]);
        let b = snapshot(DialectKind::Sqlite, Vec::new());
        let s = suggest(&a, &b);
        for line in s.sql.lines().filter(|l| l.starts_with("--")) {
            let first = line[2..].trim_start().chars().next().unwrap_or(' ');
            assert!(!first.is_ascii_lowercase(), "a comment that could read as a directive: {line}");
        }
    }
}
