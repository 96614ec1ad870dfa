//! What a snippet is: the model shared by build time and run time.
//!
//! `bootschema-build` parses the files of `sql/` into these types and writes them out
//! as one blob (see `embedded.rs` for its format); the runtime decodes it from the
//! binary once. Every field is a [`Cow`] so that the same types describe both the texts
//! borrowed from the embedded blob and the owned values that tests and tools build at
//! run time.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// The databases bootschema can sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "runtime", serde(rename_all = "lowercase"))]
pub enum DialectKind {
    /// PostgreSQL 13 or later.
    Postgres,
    /// MySQL 8 or MariaDB 10.6 or later.
    MySql,
    /// SQLite 3.35 or later.
    Sqlite,
}

impl DialectKind {
    /// Every dialect, in the order bootschema reports them.
    pub const ALL: [DialectKind; 3] = [DialectKind::Postgres, DialectKind::MySql, DialectKind::Sqlite];

    /// The name of the dialect's folder under `sql/` (`postgres`, `mysql`, `sqlite`).
    pub const fn folder(self) -> &'static str {
        match self {
            DialectKind::Postgres => "postgres",
            DialectKind::MySql => "mysql",
            DialectKind::Sqlite => "sqlite",
        }
    }

    /// The dialect's position in [`DialectKind::ALL`] (and in [`SnippetLists::marks`]).
    pub const fn index(self) -> usize {
        match self {
            DialectKind::Postgres => 0,
            DialectKind::MySql => 1,
            DialectKind::Sqlite => 2,
        }
    }

    /// An identifier as the database compares and stores it: PostgreSQL folds a bare
    /// name to lower case, keeps a quoted one exact, and cuts either to 63 bytes (on a
    /// character boundary: a longer name in a snippet is the cut name in the catalog);
    /// MySQL and SQLite compare without regard to case (MySQL refuses names over 64
    /// characters, SQLite keeps any length).
    pub fn fold(self, value: &str, quoted: bool) -> String {
        match self {
            DialectKind::Postgres => {
                let mut name = if quoted { value.to_owned() } else { value.to_lowercase() };
                if name.len() > POSTGRES_IDENTIFIER_BYTES {
                    let mut end = POSTGRES_IDENTIFIER_BYTES;
                    while !name.is_char_boundary(end) {
                        end -= 1;
                    }
                    name.truncate(end);
                }
                name
            }
            DialectKind::MySql | DialectKind::Sqlite => value.to_lowercase(),
        }
    }

    /// The dialect whose folder is `name`, if any.
    pub fn from_folder(name: &str) -> Option<DialectKind> {
        DialectKind::ALL.into_iter().find(|d| d.folder() == name)
    }
}

impl fmt::Display for DialectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DialectKind::Postgres => "PostgreSQL",
            DialectKind::MySql => "MySQL",
            DialectKind::Sqlite => "SQLite",
        })
    }
}

/// The most bytes of a PostgreSQL identifier (`NAMEDATALEN - 1`).
const POSTGRES_IDENTIFIER_BYTES: usize = 63;

/// Whether a snippet runs inside a transaction (`-- transaction: none` turns it off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// The snippet and its ledger row commit together, where the database allows it.
    #[default]
    Wrapped,
    /// Never wrapped in `BEGIN`: for statements such as `CREATE INDEX CONCURRENTLY`.
    None,
}

/// What happens when an applied snippet's text changes (`-- on_change:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnChange {
    /// A changed checksum is an error: applied snippets are history.
    #[default]
    Refuse,
    /// Run the snippet again and record the new checksum (views, functions).
    Reapply,
}

/// A migration tool whose folders and ledgers bootschema reads, so that a project
/// switches from it in one step (see the README, "Switching from sqlx / diesel /
/// refinery / Flyway").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize))]
#[cfg_attr(feature = "runtime", serde(rename_all = "lowercase"))]
pub enum Tool {
    /// sqlx's migrator (`sqlx migrate`, `sqlx::migrate!`): `_sqlx_migrations`.
    Sqlx,
    /// diesel's migrations (`diesel migration run`, `diesel_migrations`):
    /// `__diesel_schema_migrations`.
    Diesel,
    /// refinery: `refinery_schema_history`.
    Refinery,
    /// Flyway: `flyway_schema_history`.
    Flyway,
}

impl Tool {
    /// Every tool, in the order bootschema reads their ledgers.
    pub const ALL: [Tool; 4] = [Tool::Sqlx, Tool::Diesel, Tool::Refinery, Tool::Flyway];

    /// The tool's name as messages, the plan and the ledger spell it (`sqlx`, `diesel`,
    /// `refinery`, `flyway`).
    pub const fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::Refinery => "refinery",
            Tool::Flyway => "flyway",
        }
    }

    /// The table where the tool records what it applied, by default.
    pub const fn default_table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Flyway => "flyway_schema_history",
        }
    }

    /// The tool named `name` ([`Tool::name`]), if any.
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The tool's position in [`Tool::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Tool::Sqlx => 0,
            Tool::Diesel => 1,
            Tool::Refinery => 2,
            Tool::Flyway => 3,
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the tool that wrote a snippet's file records it in its own ledger: what the
/// first boot on a database that tool migrated matches that ledger's rows with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Foreign {
    /// The tool whose folder layout the file is in.
    pub tool: Tool,
    /// The version as the tool records it: sqlx's and refinery's integer as text
    /// (`20240101120000`, `3`), diesel's folder prefix without its dashes
    /// (`20240101120000`), Flyway's dotted version (`1.2.3`, underscores read as
    /// dots); empty for a Flyway repeatable (`R__`) file, which Flyway records by its
    /// description.
    pub version: Cow<'static, str>,
    /// The name or description as the tool records it (sqlx: `create users`, refinery:
    /// `create_users`, Flyway: `create users`, diesel: the folder's name).
    pub name: Cow<'static, str>,
    /// The tool's checksum of the file, as bootschema compares it with the ledger's:
    /// sqlx's SHA-384 of the file's bytes in lowercase hex, refinery's `u64` in
    /// decimal, Flyway's CRC32 as a signed 32-bit decimal; empty for diesel, which
    /// keeps none.
    pub checksum: Cow<'static, str>,
}

/// One identifier as written in a guard: bare names follow the database's case rules,
/// quoted ones (`"Users"`, `` `Users` ``) are matched exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The identifier without quotes.
    pub value: Cow<'static, str>,
    /// Whether it was written between quotes.
    pub quoted: bool,
}

impl Ident {
    /// A bare (unquoted) identifier.
    pub fn bare(value: impl Into<Cow<'static, str>>) -> Ident {
        Ident { value: value.into(), quoted: false }
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(f, "\"{}\"", self.value.replace('"', "\"\""))
        } else {
            f.write_str(&self.value)
        }
    }
}

/// A possibly schema-qualified name: `users`, `billing.invoices`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName {
    /// The schema (PostgreSQL schema, MySQL database, SQLite attached database).
    pub schema: Option<Ident>,
    /// The object's own name.
    pub name: Ident,
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}.")?;
        }
        write!(f, "{}", self.name)
    }
}

/// What a guard looks at. Each kind reports its object *missing* (the snippet or
/// statement is needed) or *present*.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GuardKind {
    /// `table_missing(t)`: a table (or view) named `t`.
    TableMissing(ObjectName),
    /// `column_missing(t.c)`: column `c` of table `t`.
    ColumnMissing {
        /// The table.
        table: ObjectName,
        /// The column.
        column: Ident,
    },
    /// `index_missing(i)`: a *valid* index named `i` (an invalid one counts as missing).
    IndexMissing(ObjectName),
    /// `constraint_missing(t.k)`: constraint `k` on table `t`.
    ConstraintMissing {
        /// The table.
        table: ObjectName,
        /// The constraint.
        constraint: Ident,
    },
    /// `unless(query)`: present when the query returns a row.
    Unless(Cow<'static, str>),
    /// `schema_missing(s)`: a schema (MySQL: a database; SQLite: an attached database)
    /// named `s`.
    SchemaMissing(Ident),
    /// `type_missing(t)`: a user-defined type (enum, composite, range, domain) named
    /// `t`; PostgreSQL only.
    TypeMissing(ObjectName),
    /// `column_renamed(t.old, new)`: *missing* (the rename is needed) while table `t`
    /// has a column `old` and no column `new`; *present* otherwise.
    ColumnRenamed {
        /// The table.
        table: ObjectName,
        /// The column's name before the rename.
        from: Ident,
        /// The column's name after it.
        to: Ident,
    },
    /// `table_renamed(old, new)`: *missing* while a table (or view) `old` exists and
    /// `new` does not; *present* otherwise. An unqualified `new` is looked up in the
    /// schema where `old` was found.
    TableRenamed {
        /// The name before the rename.
        from: ObjectName,
        /// The name after it.
        to: ObjectName,
    },
    /// `index_renamed(old, new)`: *missing* while an index `old` exists and `new` does
    /// not; *present* otherwise.
    IndexRenamed {
        /// The name before the rename.
        from: ObjectName,
        /// The name after it.
        to: ObjectName,
    },
    /// `function_missing(f(int4,text))`: a function (not a procedure) named `f`. On
    /// PostgreSQL, functions overload: `args` holds the types of its input arguments
    /// (`IN`, `INOUT`, `VARIADIC`; `OUT` ones are no part of a function's identity), as
    /// `pg_type` names them (`int4`, `varchar`, `_text` for `text[]`), separated by
    /// `,`. MySQL has no overloading: `args` is `None` and the name alone identifies it.
    FunctionMissing {
        /// The function.
        name: ObjectName,
        /// Its signature, where the database overloads.
        args: Option<Cow<'static, str>>,
    },
    /// `procedure_missing(p(int4))`: a procedure, identified as a function is (on
    /// PostgreSQL 14 and later a procedure's `OUT` arguments are part of its signature,
    /// and are in `args`).
    ProcedureMissing {
        /// The procedure.
        name: ObjectName,
        /// Its signature, where the database overloads.
        args: Option<Cow<'static, str>>,
    },
    /// `trigger_missing(t.trg)`: trigger `trg` on table `t` (PostgreSQL names triggers
    /// per table; MySQL per database and SQLite per database file, but each trigger is
    /// on one table, which the guard names too).
    TriggerMissing {
        /// The table.
        table: ObjectName,
        /// The trigger.
        trigger: Ident,
    },
    /// `sequence_missing(s)`: a sequence (PostgreSQL; MariaDB 10.3 and later).
    SequenceMissing(ObjectName),
    /// `extension_missing(e)`: an installed extension (PostgreSQL).
    ExtensionMissing(Ident),
    /// `policy_missing(t.p)`: row-level security policy `p` on table `t` (PostgreSQL).
    PolicyMissing {
        /// The table.
        table: ObjectName,
        /// The policy.
        policy: Ident,
    },
}

impl GuardKind {
    /// The name the guard is written with (`table_missing`, `column_renamed`, …).
    pub fn name(&self) -> &'static str {
        match self {
            GuardKind::TableMissing(_) => "table_missing",
            GuardKind::ColumnMissing { .. } => "column_missing",
            GuardKind::IndexMissing(_) => "index_missing",
            GuardKind::ConstraintMissing { .. } => "constraint_missing",
            GuardKind::Unless(_) => "unless",
            GuardKind::SchemaMissing(_) => "schema_missing",
            GuardKind::TypeMissing(_) => "type_missing",
            GuardKind::ColumnRenamed { .. } => "column_renamed",
            GuardKind::TableRenamed { .. } => "table_renamed",
            GuardKind::IndexRenamed { .. } => "index_renamed",
            GuardKind::FunctionMissing { .. } => "function_missing",
            GuardKind::ProcedureMissing { .. } => "procedure_missing",
            GuardKind::TriggerMissing { .. } => "trigger_missing",
            GuardKind::SequenceMissing(_) => "sequence_missing",
            GuardKind::ExtensionMissing(_) => "extension_missing",
            GuardKind::PolicyMissing { .. } => "policy_missing",
        }
    }
}

impl fmt::Display for GuardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuardKind::TableMissing(t) => write!(f, "table_missing({t})"),
            GuardKind::ColumnMissing { table, column } => write!(f, "column_missing({table}.{column})"),
            GuardKind::IndexMissing(i) => write!(f, "index_missing({i})"),
            GuardKind::ConstraintMissing { table, constraint } => {
                write!(f, "constraint_missing({table}.{constraint})")
            }
            GuardKind::Unless(q) => write!(f, "unless({q})"),
            GuardKind::SchemaMissing(s) => write!(f, "schema_missing({s})"),
            GuardKind::TypeMissing(t) => write!(f, "type_missing({t})"),
            GuardKind::ColumnRenamed { table, from, to } => write!(f, "column_renamed({table}.{from}, {to})"),
            GuardKind::TableRenamed { from, to } => write!(f, "table_renamed({from}, {to})"),
            GuardKind::IndexRenamed { from, to } => write!(f, "index_renamed({from}, {to})"),
            GuardKind::FunctionMissing { name, args } | GuardKind::ProcedureMissing { name, args } => {
                write!(f, "{}({name}", self.name())?;
                if let Some(args) = args {
                    write!(f, "({args})")?;
                }
                f.write_str(")")
            }
            GuardKind::TriggerMissing { table, trigger } => write!(f, "trigger_missing({table}.{trigger})"),
            GuardKind::SequenceMissing(s) => write!(f, "sequence_missing({s})"),
            GuardKind::ExtensionMissing(e) => write!(f, "extension_missing({e})"),
            GuardKind::PolicyMissing { table, policy } => write!(f, "policy_missing({table}.{policy})"),
        }
    }
}

/// Where a guard comes from: a `-- guard:` line, or the statement it was inferred from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuardOrigin {
    /// Written on this line of the file.
    Written {
        /// 1-based line of the `-- guard:` directive.
        line: u32,
    },
    /// Inferred from the DDL of the statement at this index of the snippet.
    Inferred {
        /// 0-based index into [`Snippet::statements`].
        statement: u32,
    },
}

/// A check of the live catalog that tells whether a snippet (or one of its statements)
/// is still needed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Guard {
    /// What is checked.
    pub kind: GuardKind,
    /// Where the guard comes from.
    pub origin: GuardOrigin,
    /// The version of the snippet that drops or renames away the object this guard
    /// looks at: a later snippet, or this guard's own snippet when one of its later
    /// statements does. Found at build time. Once that snippet has run, the object is
    /// meant to be gone, so the guard's *missing* is no drift and no failed
    /// verification.
    pub undone_by: Option<u64>,
}

/// What a statement may do to the objects that guards look at, as the build read it.
///
/// The plan trusts a guard that the catalog showed *present* only while no statement
/// run before it in the same sync may have removed something: after a statement that
/// [`CatalogChange::may_remove`], the sync reads the catalog again before it skips or
/// adopts anything on the strength of an earlier reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize))]
#[cfg_attr(feature = "runtime", serde(rename_all = "lowercase"))]
pub enum CatalogChange {
    /// Creates objects, or changes none that a guard looks at (rows, routines,
    /// comments, grants): whatever was present before is present after.
    Adds,
    /// Drops or renames objects the build could name (a table, a column, an index),
    /// with what the server removes along with them.
    Removes,
    /// Not known: a statement the parser could not read, a block, an operation it does
    /// not model, or a `CASCADE`, whose dependents are not all known at build time.
    #[default]
    Unknown,
}

impl CatalogChange {
    /// Whether an object present before the statement may be gone after it.
    pub fn may_remove(self) -> bool {
        !matches!(self, CatalogChange::Adds)
    }
}

/// What a statement is, as the build read it: the one classification that the
/// executor, the plan and its outputs use (nothing at run time reads SQL words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "runtime", derive(serde::Serialize))]
#[cfg_attr(feature = "runtime", serde(rename_all = "lowercase"))]
pub enum StatementKind {
    /// Changes the schema: `CREATE`, `ALTER`, `DROP`, `RENAME`, `TRUNCATE` of tables,
    /// columns, indexes, constraints, views, schemas, types.
    Schema,
    /// Changes rows only: `INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `MERGE`, or a `WITH`
    /// query, as its first word tells. On MySQL such a statement commits together with
    /// its ledger row.
    Rows,
    /// Defines code that runs later: `CREATE FUNCTION`, `PROCEDURE`, `TRIGGER`, `EVENT`.
    Routine,
    /// Runs code whose effect the build does not know (PostgreSQL's `DO`, MariaDB's
    /// `BEGIN NOT ATOMIC`), or several statements the splitter sent as one.
    Block,
    /// Anything else: `SET`, `SELECT`, `GRANT`, `COMMENT`, `ANALYZE`, `PRAGMA`, …
    #[default]
    Other,
}

/// One statement of a snippet, as a byte range into [`Snippet::sql`] so that a portable
/// snippet's text is stored once however many dialects split it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// 1-based line of the file where the statement starts.
    pub line: u32,
    /// Byte offset of the statement's first byte in [`Snippet::sql`].
    pub start: u32,
    /// Byte offset one past the statement's last byte (the `;` excluded).
    pub end: u32,
    /// Guards that decide this statement alone (inferred from its DDL). Empty when the
    /// snippet's guards decide for the whole snippet.
    pub guards: Cow<'static, [Guard]>,
    /// What it may do to the catalog, as the build read it.
    pub catalog: CatalogChange,
    /// Why it loses data, when the build's check says it does (`it drops a column,
    /// constraint or index`): the one classification that the build's gate, the plan,
    /// its JSON document and the release output use.
    pub destructive: Option<Cow<'static, str>>,
    /// What it is.
    pub kind: StatementKind,
    /// The tables (and views) it locks against the app's reads or writes while its
    /// transaction lasts, as the build read them: what it alters, writes, drops,
    /// indexes or references by a foreign key, the first one being its target. Empty
    /// for a statement that locks none (`CREATE FUNCTION`, `SET`, `COMMENT`); `None`
    /// when the build could not tell (a block, a trigger, a statement the parser could
    /// not read, `DROP INDEX` on PostgreSQL).
    pub tables: Option<Cow<'static, [ObjectName]>>,
}

/// One SQL file of `sql/`, resolved for one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The numeric version: the digits of the file name's prefix (`2025-03-01-1200` is
    /// `202503011200`). Snippets apply in ascending version order.
    pub version: u64,
    /// The file name's prefix as written (`0001`, `2025-03-01-1200`).
    pub version_text: Cow<'static, str>,
    /// The rest of the file name, without the extension (`create_users`).
    pub description: Cow<'static, str>,
    /// The file's path relative to the embedding package (`sql/postgres/0001_x.sql`).
    pub path: Cow<'static, str>,
    /// `sha256:<hex>` over the text with a BOM removed, CRLF turned into LF, and the
    /// whitespace at the very end of the file removed (an editor's final newline is
    /// not an edit).
    pub checksum: Cow<'static, str>,
    /// The checksum of the same text as bootschema computed it before the end of the
    /// file was trimmed: a ledger row that holds it is the same text, and is rewritten
    /// with [`Snippet::checksum`] at the next sync that takes the lock.
    pub legacy_checksum: Cow<'static, str>,
    /// The normalised text (no BOM, LF line ends), directives included.
    pub sql: Cow<'static, str>,
    /// The statements of the text, in order.
    pub statements: Cow<'static, [Statement]>,
    /// The snippet's guards: written ones, or inferred ones covering the whole snippet.
    pub guards: Cow<'static, [Guard]>,
    /// `-- transaction: none` turns the wrapping transaction off.
    pub transaction: TransactionMode,
    /// `-- destructive`: the snippet may drop or rewrite data.
    pub destructive: bool,
    /// `-- on_change: reapply`.
    pub on_change: OnChange,
    /// At or below the version the build names as history
    /// (`bootschema_build::Builder::history_until`): imported as written, exempt from the
    /// destructive gate at build time and at run time.
    pub history: bool,
    /// For a file in another tool's folder layout (sqlx, diesel, refinery, Flyway):
    /// how that tool records it, so that the first boot on a database it migrated
    /// records the snippet as `baselined` from that tool's ledger instead of running it.
    /// `None` for bootschema's own layout.
    pub foreign: Option<Foreign>,
}

impl Snippet {
    /// The text of statement `index`.
    ///
    /// # Panics
    /// If `index` is out of range or the statement's range does not fit [`Snippet::sql`]
    /// (which `bootschema-build` never generates).
    pub fn statement_sql(&self, index: usize) -> &str {
        let s = &self.statements[index];
        &self.sql[s.start as usize..s.end as usize]
    }

    /// Every guard of the snippet and of its statements.
    pub fn all_guards(&self) -> impl Iterator<Item = &Guard> {
        self.guards.iter().chain(self.statements.iter().flat_map(|s| s.guards.iter()))
    }
}

/// Every embedded snippet, resolved per dialect, plus the app's environment prefix.
///
/// Produced by [`include_snippets!`](crate::include_snippets) from what
/// `bootschema-build` generates: the snippets as one embedded blob, decoded into
/// [`SnippetLists`] once, at first use, so that the app's compiler sees a few lines of
/// code however many snippets there are. A set built at run time ([`SnippetSet::new`])
/// holds its lists as they are. Either way the lists are read through `Deref`
/// (`set.postgres`, `set.for_dialect(d)`, `set.mark(d)`).
///
/// # Panics
/// At first use, when the embedded blob was written in another format than this
/// bootschema reads (the build already refuses that, so only a blob assembled by hand
/// can), or is corrupt: the message names both formats and the versions involved.
#[derive(Clone)]
pub struct SnippetSet {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Built(SnippetLists),
    Embedded { blob: &'static [u8], lists: OnceLock<SnippetLists> },
}

/// The snippets of a [`SnippetSet`], per dialect, plus the app's environment prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetLists {
    /// Prefix of the environment variables, without the trailing `_` (`MYAPP`).
    pub env_prefix: Cow<'static, str>,
    /// The snippets that apply on PostgreSQL, in version order.
    pub postgres: Cow<'static, [Snippet]>,
    /// The snippets that apply on MySQL / MariaDB, in version order.
    pub mysql: Cow<'static, [Snippet]>,
    /// The snippets that apply on SQLite, in version order.
    pub sqlite: Cow<'static, [Snippet]>,
    /// Per dialect, in [`DialectKind::ALL`] order: the [`set_mark`] of its snippets,
    /// computed at build time so that a boot compares it with the ledger's mark in
    /// constant time, whatever the number of snippets. An empty mark is computed when
    /// needed ([`SnippetLists::mark`]).
    pub marks: [Cow<'static, str>; 3],
}

impl SnippetSet {
    /// A set built at run time (tests, tools); the marks are computed here.
    pub fn new(
        env_prefix: impl Into<Cow<'static, str>>,
        postgres: Vec<Snippet>,
        mysql: Vec<Snippet>,
        sqlite: Vec<Snippet>,
    ) -> SnippetSet {
        let marks = [set_mark(&postgres).into(), set_mark(&mysql).into(), set_mark(&sqlite).into()];
        SnippetSet::from(SnippetLists {
            env_prefix: env_prefix.into(),
            postgres: Cow::Owned(postgres),
            mysql: Cow::Owned(mysql),
            sqlite: Cow::Owned(sqlite),
            marks,
        })
    }

    /// The set that `bootschema-build` embedded as `blob`, decoded at first use. Called
    /// by the code that [`include_snippets!`](crate::include_snippets) includes, after
    /// the build checked that the blob's format is the one this bootschema reads.
    #[doc(hidden)]
    pub const fn __embedded(blob: &'static [u8]) -> SnippetSet {
        SnippetSet { source: Source::Embedded { blob, lists: OnceLock::new() } }
    }

    /// The lists, decoding an embedded blob on the first call.
    ///
    /// # Errors
    /// When the blob is in another format than this bootschema reads, or corrupt.
    pub fn try_lists(&self) -> Result<&SnippetLists, String> {
        match &self.source {
            Source::Built(lists) => Ok(lists),
            Source::Embedded { blob, lists } => match lists.get() {
                Some(lists) => Ok(lists),
                None => {
                    let decoded = crate::embedded::decode(blob)?;
                    Ok(lists.get_or_init(|| decoded))
                }
            },
        }
    }
}

impl From<SnippetLists> for SnippetSet {
    fn from(lists: SnippetLists) -> SnippetSet {
        SnippetSet { source: Source::Built(lists) }
    }
}

impl std::ops::Deref for SnippetSet {
    type Target = SnippetLists;

    fn deref(&self) -> &SnippetLists {
        match self.try_lists() {
            Ok(lists) => lists,
            Err(message) => panic!("{message}"),
        }
    }
}

impl fmt::Debug for SnippetSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for SnippetSet {
    fn eq(&self, other: &SnippetSet) -> bool {
        **self == **other
    }
}

impl Eq for SnippetSet {}

impl SnippetLists {
    /// The mark of the snippets that apply on `dialect` (see [`set_mark`]).
    pub fn mark(&self, dialect: DialectKind) -> Cow<'_, str> {
        match &self.marks[dialect.index()] {
            m if m.is_empty() => Cow::Owned(set_mark(self.for_dialect(dialect))),
            m => Cow::Borrowed(m.as_ref()),
        }
    }

    /// The snippets that apply on `dialect`, in version order.
    pub fn for_dialect(&self, dialect: DialectKind) -> &[Snippet] {
        match dialect {
            DialectKind::Postgres => &self.postgres,
            DialectKind::MySql => &self.mysql,
            DialectKind::Sqlite => &self.sqlite,
        }
    }
}

/// The mark of a snippet list: `v1:<count>:<sha256 hex>` over each snippet's version
/// and checksum, in order.
///
/// A sync that leaves every snippet of the list recorded in the ledger with its
/// checksum writes this mark into the ledger; a later boot whose embedded list has the
/// same mark knows, from one row, that there is nothing to do. Any added, removed or
/// edited snippet changes the mark, and the boot then reads everything.
pub fn set_mark(snippets: &[Snippet]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for s in snippets {
        hash.update(s.version.to_string().as_bytes());
        hash.update(b"\t");
        hash.update(s.checksum.as_bytes());
        hash.update(b"\n");
    }
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("v1:{}:{hex}", snippets.len())
}

/// Embeds the snippets that `bootschema-build` generated for this package.
///
/// ```text
/// // build.rs: fn main() { bootschema_build::embed(); }
/// static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();
/// ```
#[macro_export]
macro_rules! include_snippets {
    () => {
        include!(concat!(env!("OUT_DIR"), "/bootschema_snippets.rs"))
    };
}

/// What the file that [`include_snippets!`](crate::include_snippets) includes expands
/// to: the embedded blob, after a check at compile time that `bootschema-build` wrote it
/// in the format this bootschema reads (see `embedded::FORMAT`).
///
/// ```compile_fail
/// // A blob of another format fails the build, naming both formats:
/// static S: bootschema::SnippetSet =
///     bootschema::__embedded_snippets!(format = 999, build = "9.9.9", blob = b"");
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __embedded_snippets {
    (format = 2, build = $build:literal, blob = $blob:expr) => {
        $crate::SnippetSet::__embedded($blob)
    };
    (format = $format:literal, build = $build:literal, blob = $blob:expr) => {
        ::core::compile_error!(::core::concat!(
            "the snippets were embedded in format ",
            ::core::stringify!($format),
            " by bootschema-build ",
            $build,
            ", but this bootschema reads format 2: use the same version of bootschema and bootschema-build"
        ))
    };
}
