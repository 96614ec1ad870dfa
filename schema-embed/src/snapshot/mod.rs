//! What a schema is, not only whether each guard holds: the catalog in scope as one
//! stable, sorted document ([`Snapshot`]), read with a constant number of catalog
//! queries whatever the schema's size.
//!
//! Two snapshots of the same schema are equal and serialise byte for byte the same: every
//! list is sorted, nothing that changes from one database to another (object ids, the
//! order of creation, the server's version) is kept, and the ledger is left out. Objects
//! that belong to an extension are listed under the extension, never as the app's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::snippet::DialectKind;

pub use diff::{diff, type_family, Difference};
pub use suggest::{suggest, suggest_for, suggested_file_name, NotSuggested, Origin, Suggestion};

pub mod diff;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub mod suggest;

/// The version of the snapshot document's format: a reader refuses another one.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The schema of a database, in scope: its tables, views, sequences, types and
/// extensions, sorted by name (see the module's docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_FORMAT`].
    pub format: u32,
    /// The database it was read from.
    pub dialect: DialectName,
    /// The schemas read (PostgreSQL: the search path's, in its order; MySQL: the
    /// database; SQLite: `main`). Objects of the first are named without their schema,
    /// those of the others as `schema.name`.
    pub schemas: Vec<String>,
    /// The tables, by name.
    pub tables: Vec<Table>,
    /// Views and materialized views, by name.
    pub views: Vec<View>,
    /// Sequences, by name (MariaDB's `CREATE SEQUENCE` ones too).
    pub sequences: Vec<Sequence>,
    /// Enum and domain types (PostgreSQL).
    pub types: Vec<TypeDef>,
    /// Installed extensions with the schemas they own (PostgreSQL).
    pub extensions: Vec<Extension>,
}

/// A dialect's name as the document spells it (`postgres`, `mysql`, `sqlite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DialectName {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
}

impl From<DialectKind> for DialectName {
    fn from(kind: DialectKind) -> DialectName {
        match kind {
            DialectKind::Postgres => DialectName::Postgres,
            DialectKind::MySql => DialectName::Mysql,
            DialectKind::Sqlite => DialectName::Sqlite,
        }
    }
}

/// A table: its columns in their order, its keys, constraints and indexes (sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// `schema.table`, or `table` where the dialect has one schema (SQLite) or the
    /// schema is the only one read.
    pub name: String,
    /// The columns, in the table's order.
    pub columns: Vec<Column>,
    /// The primary key.
    pub primary_key: Option<Key>,
    /// Unique constraints.
    pub unique: Vec<Key>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints.
    pub checks: Vec<Check>,
    /// Indexes, those of keys included.
    pub indexes: Vec<Index>,
    /// Exclusion constraints (PostgreSQL): the name and the definition as the database
    /// prints it (`EXCLUDE USING gist (during WITH &&)`); their index is in `indexes`.
    #[serde(default)]
    pub exclusions: Vec<Check>,
    /// The partitions of a partitioned table (PostgreSQL), with their bounds. A
    /// partition has its parent's columns, so it is listed here rather than as a table;
    /// a partition of a partition is listed under the table at the top.
    #[serde(default)]
    pub partitions: Vec<Partition>,
}

/// A partition of a partitioned table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Partition {
    /// The partition's name (qualified as tables are).
    pub name: String,
    /// Its bound as the database prints it (`FOR VALUES FROM ('2025-01-01') TO
    /// ('2026-01-01')`, `DEFAULT`).
    pub bound: String,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The type as the database spells it (`character varying(20)`, `varchar(20)`).
    pub declared_type: String,
    /// The type in bootschema's spelling, the same for the same type on every database
    /// where it exists ([`normalise_type`]).
    pub normalised_type: String,
    /// Whether it takes NULL.
    pub nullable: bool,
    /// The default expression as the database prints it.
    pub default: Option<String>,
    /// `identity always`, `identity by default`, `auto_increment`, `stored: <expr>`,
    /// `virtual: <expr>`.
    pub generated: Option<String>,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// The constraint's name (empty on SQLite, whose keys are unnamed).
    pub name: String,
    /// Its columns, in the key's order.
    pub columns: Vec<String>,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name (empty on SQLite).
    pub name: String,
    /// Its columns, in the key's order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// Its columns, in the key's order.
    pub referenced_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null`, `set default`.
    pub on_delete: String,
    /// As `on_delete`.
    pub on_update: String,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Check {
    /// The constraint's name (empty on SQLite).
    pub name: String,
    /// The expression as the database prints it.
    pub expression: String,
}

/// An index (those that back a primary key or unique constraint included).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Index {
    /// The index's name.
    pub name: String,
    /// Column names, or expressions as the database prints them.
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
    /// `false` for an index a failed `CREATE INDEX CONCURRENTLY` left behind.
    pub valid: bool,
}

/// A view or materialized view: its definition's digest (its text changes with the
/// server's version; the digest says whether two are the same).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct View {
    /// The view's name.
    pub name: String,
    /// Whether it is a materialized view.
    pub materialized: bool,
    /// SHA-256 of the definition as the database prints it, whitespace collapsed.
    pub definition_sha256: String,
    /// A materialized view's indexes (PostgreSQL), as a table's.
    #[serde(default)]
    pub indexes: Vec<Index>,
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sequence {
    /// The sequence's name.
    pub name: String,
    /// Its integer type.
    pub data_type: String,
    /// `table.column` when the sequence belongs to a column (`OWNED BY`, identity, serial).
    pub owned_by: Option<String>,
}

/// A type the app created (PostgreSQL): an enum, a domain, a range or a composite type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeDef {
    /// The type's name.
    pub name: String,
    /// `enum`, `domain`, `range` or `composite`.
    pub kind: String,
    /// An enum's labels in their order; a domain's base type and constraints; a range's
    /// subtype; a composite type's attributes (`name type`) in their order.
    pub definition: Vec<String>,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Extension {
    /// The extension's name.
    pub name: String,
    /// Its installed version.
    pub version: String,
    /// The schema it was installed into.
    pub schema: String,
    /// The schemas the extension owns, left out of the scope: those that are members of
    /// it, and the one its control file fixes while nothing in it is the app's
    /// (PostGIS's `topology`, `tiger`).
    pub owns_schemas: Vec<String>,
    /// How many tables, views, sequences and types of the extension the snapshot left
    /// out of the app's objects.
    pub objects: u64,
}

impl Table {
    /// A table named `name`, before its columns, keys and indexes are read.
    pub(crate) fn new(name: String) -> Table {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            unique: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            indexes: Vec::new(),
            exclusions: Vec::new(),
            partitions: Vec::new(),
        }
    }
}

impl Snapshot {
    /// An empty snapshot of `dialect`.
    pub(crate) fn new(dialect: DialectKind) -> Snapshot {
        Snapshot {
            format: SNAPSHOT_FORMAT,
            dialect: dialect.into(),
            schemas: Vec::new(),
            tables: Vec::new(),
            views: Vec::new(),
            sequences: Vec::new(),
            types: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// Sorts every list (columns keep their order, and schemas theirs, which says whose
    /// names are unqualified): two readings of the same schema are then equal.
    pub(crate) fn sort(&mut self) {
        let mut seen = std::collections::BTreeSet::new();
        self.schemas.retain(|s| seen.insert(s.clone()));
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.unique.sort();
            table.foreign_keys.sort();
            table.checks.sort();
            table.indexes.sort();
            table.exclusions.sort();
            table.partitions.sort();
        }
        for view in &mut self.views {
            view.indexes.sort();
        }
        self.views.sort();
        self.sequences.sort();
        self.types.sort();
        self.extensions.sort();
        for extension in &mut self.extensions {
            extension.owns_schemas.sort();
        }
    }

    /// The document as JSON, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a snapshot serialises");
        text.push('\n');
        text
    }

    /// Reads a document written by [`Snapshot::to_json`].
    ///
    /// # Errors
    /// Text that is not such a document, or one of another format version, with what is
    /// wrong.
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not a JSON document: {e}"))?;
        match value.get("format").and_then(serde_json::Value::as_u64) {
            Some(f) if f == u64::from(SNAPSHOT_FORMAT) => {}
            Some(f) => {
                return Err(format!(
                    "a snapshot of format {f}, this binary reads format {SNAPSHOT_FORMAT}: take the snapshot again with this binary"
                ))
            }
            None => return Err("not a bootschema snapshot: it has no `format` field".into()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a bootschema snapshot: {e}"))
    }

    /// The document for a terminal: one object per line, indented, sorted.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let dialect = match self.dialect {
            DialectName::Postgres => "postgres",
            DialectName::Mysql => "mysql",
            DialectName::Sqlite => "sqlite",
        };
        let _ = writeln!(out, "schema snapshot ({dialect}, schemas: {})", self.schemas.join(", "));
        // Unnamed keys (SQLite's) print without a name.
        let named = |name: &str| if name.is_empty() { String::new() } else { format!("{name} ") };
        for table in &self.tables {
            let _ = writeln!(out, "table {}", table.name);
            for c in &table.columns {
                let _ = write!(out, "  column {} {}", c.name, c.declared_type);
                if !c.nullable {
                    out.push_str(" not null");
                }
                if let Some(d) = &c.default {
                    let _ = write!(out, " default {d}");
                }
                if let Some(g) = &c.generated {
                    let _ = write!(out, " ({g})");
                }
                out.push('\n');
            }
            if let Some(pk) = &table.primary_key {
                let _ = writeln!(out, "  primary key {}({})", named(&pk.name), pk.columns.join(", "));
            }
            for k in &table.unique {
                let _ = writeln!(out, "  unique {}({})", named(&k.name), k.columns.join(", "));
            }
            for fk in &table.foreign_keys {
                let _ = writeln!(
                    out,
                    "  foreign key {}({}) references {} ({}) on delete {} on update {}",
                    named(&fk.name),
                    fk.columns.join(", "),
                    fk.references,
                    fk.referenced_columns.join(", "),
                    fk.on_delete,
                    fk.on_update
                );
            }
            for ck in &table.checks {
                let _ = writeln!(out, "  check {}{}", named(&ck.name), ck.expression);
            }
            for ix in &table.indexes {
                write_index(&mut out, ix);
                if !ix.valid {
                    out.push_str(" INVALID");
                }
                out.push('\n');
            }
            for x in &table.exclusions {
                let _ = writeln!(out, "  exclusion {} {}", x.name, x.expression);
            }
            for p in &table.partitions {
                let _ = writeln!(out, "  partition {} {}", p.name, p.bound);
            }
        }
        for v in &self.views {
            let kind = if v.materialized { "materialized view" } else { "view" };
            let _ =
                writeln!(out, "{kind} {} sha256:{}", v.name, &v.definition_sha256[..16.min(v.definition_sha256.len())]);
            for ix in &v.indexes {
                write_index(&mut out, ix);
                out.push('\n');
            }
        }
        for s in &self.sequences {
            let _ = write!(out, "sequence {} {}", s.name, s.data_type);
            if let Some(o) = &s.owned_by {
                let _ = write!(out, " owned by {o}");
            }
            out.push('\n');
        }
        for t in &self.types {
            let _ = writeln!(out, "{} {} ({})", t.kind, t.name, t.definition.join(", "));
        }
        for e in &self.extensions {
            let _ = write!(out, "extension {} {} in {}", e.name, e.version, e.schema);
            if !e.owns_schemas.is_empty() {
                let _ = write!(out, ", owns schemas {}", e.owns_schemas.join(", "));
            }
            let _ = writeln!(out, " ({} objects)", e.objects);
        }
        out
    }
}

/// An index's line of [`Snapshot::to_text`], without its end: `  [unique ]index name
/// (columns)[ where predicate]`.
fn write_index(out: &mut String, ix: &Index) {
    let unique = if ix.unique { "unique " } else { "" };
    let _ = write!(out, "  {unique}index {} ({})", ix.name, ix.columns.join(", "));
    if let Some(p) = &ix.predicate {
        let _ = write!(out, " where {p}");
    }
}

/// SHA-256 of a view's definition with its whitespace collapsed, in hex.
pub(crate) fn definition_digest(definition: &str) -> String {
    use sha2::{Digest, Sha256};
    let collapsed: Vec<&str> = definition.split_whitespace().collect();
    let digest = Sha256::digest(collapsed.join(" ").trim_end_matches(';').trim().as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A type in bootschema's spelling: the same name for the same type on every database
/// where it exists (`int4`, `integer`, `int` and `INT(11)` are `integer`; `character
/// varying(20)` and `varchar(20)` are `varchar(20)`), lower case, spaces single. Types
/// it does not know are kept as written, in lower case.
pub fn normalise_type(declared: &str) -> String {
    let lower = declared.trim().to_ascii_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    // Split off `(…)` arguments and `unsigned`, `[]`.
    let (base, args) = match lower.find('(') {
        Some(i) => {
            let end = lower[i..].find(')').map_or(lower.len(), |j| i + j + 1);
            (format!("{}{}", lower[..i].trim_end(), &lower[end..]), Some(lower[i..end].replace(' ', "")))
        }
        None => (lower.clone(), None),
    };
    let base = base.trim().to_string();
    let with = |name: &str| match &args {
        Some(a) => format!("{name}{a}"),
        None => name.to_string(),
    };
    let name = match base.as_str() {
        "int" | "integer" | "int4" | "mediumint" => "integer".into(),
        "int unsigned" | "integer unsigned" => "integer unsigned".into(),
        "bigint" | "int8" => "bigint".into(),
        "bigint unsigned" => "bigint unsigned".into(),
        "smallint" | "int2" => "smallint".into(),
        "tinyint" if args.as_deref() == Some("(1)") => "boolean".into(),
        "tinyint" => "tinyint".into(),
        "boolean" | "bool" => "boolean".into(),
        "real" | "float4" => "real".into(),
        "double precision" | "float8" | "double" => "double".into(),
        "float" if args.is_none() => "double".into(),
        "numeric" | "decimal" => with("numeric"),
        "character varying" | "varchar" => with("varchar"),
        "character" | "char" | "bpchar" => with("char"),
        "text" | "longtext" | "mediumtext" | "tinytext" => "text".into(),
        "bytea" | "blob" | "longblob" | "mediumblob" | "tinyblob" => "bytes".into(),
        "timestamp without time zone" | "timestamp" | "datetime" => "timestamp".into(),
        "timestamp with time zone" | "timestamptz" => "timestamptz".into(),
        "time without time zone" | "time" => "time".into(),
        "date" => "date".into(),
        "json" | "jsonb" => base.clone(),
        "uuid" => "uuid".into(),
        _ => return lower,
    };
    // Display widths of MySQL's integers (`int(11)`) carry no meaning.
    name
}

/// Groups rows by a key, keeping their order.
pub(crate) fn group<K: Ord, V>(rows: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, Vec<V>> {
    let mut map: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for (k, v) in rows {
        map.entry(k).or_default().push(v);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_normalise_across_spellings() {
        assert_eq!(normalise_type("int4"), "integer");
        assert_eq!(normalise_type("INT(11)"), "integer");
        assert_eq!(normalise_type("character varying(20)"), "varchar(20)");
        assert_eq!(normalise_type("varchar( 20 )"), "varchar(20)");
        assert_eq!(normalise_type("timestamp without time zone"), "timestamp");
        assert_eq!(normalise_type("tinyint(1)"), "boolean");
        assert_eq!(normalise_type("numeric(10,2)"), "numeric(10,2)");
        assert_eq!(normalise_type("geometry(Point,4326)"), "geometry(point,4326)");
    }

    #[test]
    fn a_document_of_another_format_is_refused() {
        let mut s = Snapshot::new(DialectKind::Sqlite);
        s.format = 7;
        let err = Snapshot::from_json(&s.to_json()).unwrap_err();
        assert!(err.contains("format 7"), "{err}");
        let same = Snapshot::new(DialectKind::Sqlite);
        assert_eq!(Snapshot::from_json(&same.to_json()).unwrap(), same);
    }

    #[test]
    fn view_digests_ignore_whitespace_only() {
        assert_eq!(definition_digest(" SELECT 1\n  FROM t;"), definition_digest("SELECT 1 FROM t"));
        assert_ne!(definition_digest("SELECT 1 FROM t"), definition_digest("SELECT 2 FROM t"));
    }
}
