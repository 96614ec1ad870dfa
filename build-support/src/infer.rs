//! Step 4: understand each statement's DDL, with a real SQL parser, and infer guards.
//!
//! Every plain statement is read by [`sqlparser`] with the snippet's dialect. From what
//! it reads, two things follow:
//!
//! * the statement's **guards**, where its effect is certain: `CREATE TABLE t` →
//!   `table_missing(t)`, `ALTER TABLE t ADD COLUMN c` → `column_missing(t.c)`,
//!   `CREATE INDEX i` → `index_missing(i)`, a rename → `column_renamed(t.a, b)`, … A
//!   statement with an operation that cannot be guarded (`UPDATE`, `DROP`, `ALTER
//!   COLUMN … SET DEFAULT`) gets none, which makes its snippet run once, as the ledger
//!   decides;
//! * the statement's **effects**: which tables, columns, indexes, constraints, schemas
//!   and types it creates or removes. They tell which later guards an earlier
//!   statement makes unreliable (those are dropped), and which guards a later drop or
//!   rename undoes (see [`across_snippets`]).
//!
//! Nothing is guessed: a statement the parser cannot read gets no guard and unknown
//! effects (and a warning); a routine (`CREATE FUNCTION`, `TRIGGER`, …) or a block
//! (`DO`) is never read. Written guards decide for the whole snippet: a snippet that
//! has some gets no inferred ones.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use bootschema::{CatalogChange, DialectKind, Guard, GuardKind, GuardOrigin, Ident, ObjectName, Snippet};
use sqlparser::ast::{
    self, AlterIndexOperation, AlterTableOperation, AlterTypeOperation, ObjectNamePart, ObjectType,
    RenameTableNameKind, SchemaName, Statement as Ast, TableConstraint,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::classify;
use crate::lex::TokenKind;
use crate::split::{Piece, StatementKind};

/// A name as the database compares it (see `bootschema`'s catalog rules): PostgreSQL
/// folds bare names to lower case and keeps quoted ones; MySQL and SQLite ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Name {
    pub schema: Option<String>,
    pub name: String,
}

impl Name {
    /// The same object, when one of the two names may be unqualified.
    fn matches(&self, other: &Name) -> bool {
        self.name == other.name && (self.schema.is_none() || other.schema.is_none() || self.schema == other.schema)
    }
}

/// A catalog object a statement creates or removes, or a guard looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Object {
    /// A table or a view.
    Table(Name),
    Column(Name, String),
    Index(Name),
    Constraint(Name, String),
    Schema(String),
    Type(Name),
    /// A function or procedure: its name, whether it is a procedure, and its input
    /// argument types as `pg_type` names (PostgreSQL; `None`: any signature, as a
    /// `DROP FUNCTION f` without one, or MySQL, which does not overload).
    Routine(Name, bool, Option<String>),
    /// A trigger: the table it is on (`None` where a MySQL or SQLite `DROP TRIGGER`
    /// names none) and its name.
    Trigger(Option<Name>, String),
    Sequence(Name),
    Extension(String),
    /// A policy on a table.
    Policy(Name, String),
}

impl Object {
    fn matches(&self, other: &Object) -> bool {
        match (self, other) {
            (Object::Table(a), Object::Table(b))
            | (Object::Index(a), Object::Index(b))
            | (Object::Type(a), Object::Type(b))
            | (Object::Sequence(a), Object::Sequence(b)) => a.matches(b),
            // A sequence is a relation too: PostgreSQL renames it with `ALTER TABLE`,
            // MariaDB (where it is a table) also drops it with `DROP TABLE`.
            (Object::Table(a), Object::Sequence(b)) | (Object::Sequence(a), Object::Table(b)) => a.matches(b),
            (Object::Column(a, x), Object::Column(b, y)) | (Object::Constraint(a, x), Object::Constraint(b, y)) => {
                x == y && a.matches(b)
            }
            (Object::Schema(a), Object::Schema(b)) | (Object::Extension(a), Object::Extension(b)) => a == b,
            (Object::Routine(a, p, x), Object::Routine(b, q, y)) => {
                p == q && a.matches(b) && (x.is_none() || y.is_none() || x == y)
            }
            (Object::Trigger(a, x), Object::Trigger(b, y)) => {
                x == y && (a.is_none() || b.is_none() || a.as_ref().zip(b.as_ref()).is_some_and(|(a, b)| a.matches(b)))
            }
            (Object::Policy(a, x), Object::Policy(b, y)) => x == y && a.matches(b),
            _ => false,
        }
    }

    /// The schema the object is explicitly in.
    fn schema(&self) -> Option<&str> {
        match self {
            Object::Table(n)
            | Object::Index(n)
            | Object::Type(n)
            | Object::Column(n, _)
            | Object::Constraint(n, _)
            | Object::Routine(n, ..)
            | Object::Sequence(n)
            | Object::Trigger(Some(n), _)
            | Object::Policy(n, _) => n.schema.as_deref(),
            Object::Schema(_) | Object::Extension(_) | Object::Trigger(None, _) => None,
        }
    }

    /// The names by which the object can be removed, for a quick first filter.
    fn keys(&self) -> Vec<&str> {
        match self {
            Object::Table(n) | Object::Index(n) | Object::Type(n) | Object::Routine(n, ..) | Object::Sequence(n) => {
                vec![&n.name]
            }
            Object::Column(t, c) | Object::Constraint(t, c) | Object::Policy(t, c) | Object::Trigger(Some(t), c) => {
                vec![&t.name, c]
            }
            Object::Schema(s) | Object::Extension(s) | Object::Trigger(None, s) => vec![s],
        }
    }
}

/// What a statement does to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    Creates(Object),
    /// Drops it, and what lives on it (a table's indexes, a column's indexes).
    Removes(Object),
    /// Renames it away: what lives on it moves along.
    RenamesAway(Object),
    /// A view (or materialized view) is defined over these words: the relations it
    /// reads are among them. `DROP … CASCADE` of one of them drops the view.
    Reads(Name, Vec<String>),
    /// Drops it with `CASCADE`: whatever is defined over it goes too (the views that
    /// read it, and theirs), as [`Effect::Reads`] tell.
    Cascades(Object),
    /// Ties the first object's life to the second's: `ALTER SEQUENCE s OWNED BY t.c`
    /// makes dropping the column (or its table) drop the sequence.
    Attaches(Object, Object),
    /// Changes the catalog in a way the build does not model (an `ALTER TABLE`
    /// operation it does not know, a `CASCADE` whose dependents are not all known):
    /// anything may have been removed.
    Unknown,
}

/// What a guard depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Watch {
    /// The objects whose presence the guard checks.
    pub own: Vec<Object>,
    /// The objects whose presence means the guard's statement is done (for a rename,
    /// the new name only).
    pub result: Vec<Object>,
    /// The objects the guard's name goes through (the table of a column guard):
    /// removing or renaming one of these makes the guard report missing.
    pub holders: Vec<Object>,
    /// What the guarded object lives on without naming it (an index's table, the
    /// columns an index or constraint covers): dropping one drops the object,
    /// renaming one does not.
    pub covers: Vec<Object>,
}

impl Watch {
    /// What the guard depends on, from its kind alone.
    pub(crate) fn of(dialect: DialectKind, kind: &GuardKind) -> Watch {
        let name = |o: &ObjectName| object_name(dialect, o);
        let ident = |i: &Ident| normalise(dialect, &i.value, i.quoted);
        let (own, result, holders) = match kind {
            GuardKind::TableMissing(t) => (vec![Object::Table(name(t))], vec![], vec![]),
            GuardKind::ColumnMissing { table, column } => {
                (vec![Object::Column(name(table), ident(column))], vec![], vec![Object::Table(name(table))])
            }
            GuardKind::IndexMissing(i) => (vec![Object::Index(name(i))], vec![], vec![]),
            GuardKind::ConstraintMissing { table, constraint } => {
                (vec![Object::Constraint(name(table), ident(constraint))], vec![], vec![Object::Table(name(table))])
            }
            GuardKind::SchemaMissing(s) => (vec![Object::Schema(ident(s))], vec![], vec![]),
            GuardKind::TypeMissing(t) => (vec![Object::Type(name(t))], vec![], vec![]),
            GuardKind::ColumnRenamed { table, from, to } => {
                let t = name(table);
                let new = Object::Column(t.clone(), ident(to));
                (vec![Object::Column(t.clone(), ident(from)), new.clone()], vec![new], vec![Object::Table(t)])
            }
            GuardKind::TableRenamed { from, to } => {
                let new = Object::Table(renamed(name(from), name(to)));
                (vec![Object::Table(name(from)), new.clone()], vec![new], vec![])
            }
            GuardKind::IndexRenamed { from, to } => {
                let new = Object::Index(renamed(name(from), name(to)));
                (vec![Object::Index(name(from)), new.clone()], vec![new], vec![])
            }
            GuardKind::FunctionMissing { name: n, args } | GuardKind::ProcedureMissing { name: n, args } => {
                let procedure = matches!(kind, GuardKind::ProcedureMissing { .. });
                (vec![Object::Routine(name(n), procedure, args.as_deref().map(str::to_owned))], vec![], vec![])
            }
            GuardKind::TriggerMissing { table, trigger } => {
                (vec![Object::Trigger(Some(name(table)), ident(trigger))], vec![], vec![Object::Table(name(table))])
            }
            GuardKind::PolicyMissing { table, policy } => {
                (vec![Object::Policy(name(table), ident(policy))], vec![], vec![Object::Table(name(table))])
            }
            GuardKind::SequenceMissing(s) => (vec![Object::Sequence(name(s))], vec![], vec![]),
            GuardKind::ExtensionMissing(e) => (vec![Object::Extension(ident(e))], vec![], vec![]),
            GuardKind::Unless(_) => (vec![], vec![], vec![]),
        };
        let result = if result.is_empty() { own.clone() } else { result };
        Watch { own, result, holders, covers: Vec::new() }
    }

    /// Whether `effect` changes what the guard sees, so that a guard evaluated before
    /// the effect's statement ran would be wrong after it. Creating a holder (the table
    /// of a column guard) does not: a missing table reads as a missing column; but it
    /// does for a rename, which reads as done where its table is missing.
    fn disturbed_by(&self, effect: &Effect) -> bool {
        // A rename guard reads "nothing to rename" where its holder is missing, so
        // creating the holder changes its answer too.
        let renames = self.result != self.own;
        match effect {
            Effect::Creates(o) => {
                self.own.iter().any(|w| w.matches(o)) || (renames && self.holders.iter().any(|w| w.matches(o)))
            }
            Effect::Removes(o) | Effect::RenamesAway(o) => self.removed_by(o, true),
            Effect::Unknown | Effect::Cascades(_) => true,
            Effect::Reads(..) | Effect::Attaches(..) => false,
        }
    }

    /// Whether removing `object` (dropping it when `drops`, else renaming it away)
    /// removes what the guard expects to find.
    fn removed_by(&self, object: &Object, drops: bool) -> bool {
        let covers = if drops { &self.covers[..] } else { &[] };
        let mut watched = self.own.iter().chain(&self.holders).chain(covers);
        match object {
            Object::Schema(s) => watched.any(|w| w.schema() == Some(s.as_str()) || w.matches(object)),
            _ => watched.any(|w| w.matches(object)),
        }
    }

    /// `from` was renamed to `to`: what the guarded object covers now goes by the new
    /// name (an index's table and columns move with a rename; its own name does not).
    fn follow(&mut self, from: &Object, to: &Object) {
        for cover in &mut self.covers {
            let same_kind = matches!(
                (from, to),
                (Object::Column(..), Object::Column(..)) | (Object::Routine(..), Object::Routine(..))
            );
            if same_kind && cover.matches(from) {
                *cover = to.clone();
                continue;
            }
            match (from, to, cover) {
                (Object::Table(a), Object::Table(b), Object::Table(t) | Object::Column(t, _)) if t.matches(a) => {
                    *t = b.clone();
                }
                _ => {}
            }
        }
    }

    /// Whether `effect` brings back what the guard expects to find.
    fn restored_by(&self, effect: &Effect) -> bool {
        matches!(effect, Effect::Creates(o) if self.result.iter().any(|w| w.matches(o)))
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.own.iter().chain(&self.holders).chain(&self.covers).flat_map(Object::keys)
    }
}

/// The new name of a rename: an unqualified new name stays in the old one's schema.
fn renamed(from: Name, to: Name) -> Name {
    Name { schema: to.schema.or(from.schema), name: to.name }
}

/// What the parser made of one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Understood {
    /// The statement's guards, each with what it depends on; empty when the statement
    /// cannot be guarded.
    pub guards: Vec<(GuardKind, Watch)>,
    /// What it creates and removes; `None` when unknown (not read, or a block).
    pub effects: Option<Vec<Effect>>,
    /// The parser's complaint, when it could not read the statement.
    pub unreadable: Option<String>,
    /// What a `CREATE OR REPLACE VIEW` redefines when it is there already.
    pub replaces: Option<Object>,
    /// The tables it locks ([`bootschema::Statement::tables`]); `None` when unknown.
    pub tables: Option<Vec<ObjectName>>,
}

/// Reads one statement of `kind` with the parser of `dialect`.
pub(crate) fn understand(dialect: DialectKind, sql: &str, kind: StatementKind) -> Understood {
    let mut understood = match kind {
        // A routine's body runs later; creating it changes no table, and locks none
        // unless it is a trigger (on a table the build does not read out).
        StatementKind::Routine => {
            let head = sql.split(['(', '$']).next().unwrap_or_default();
            let trigger = head.split(|c: char| !c.is_ascii_alphabetic()).any(|w| w.eq_ignore_ascii_case("TRIGGER"));
            Understood { effects: Some(Vec::new()), tables: (!trigger).then(Vec::new), ..Understood::default() }
        }
        StatementKind::Block | StatementKind::Whole => return Understood::default(),
        StatementKind::Plain => parse(dialect, sql),
    };
    // Functions, procedures, triggers, sequences, extensions and policies: their heads
    // tell what they create, drop or rename (see `objects`).
    if let Some(read) = crate::objects::read(dialect, sql) {
        understood.guards = read.guards;
        understood.effects = Some(read.effects);
        understood.replaces = read.replaces;
        understood.unreadable = None;
    }
    understood
}

/// Reads one plain statement with the parser of `dialect`.
fn parse(dialect: DialectKind, sql: &str) -> Understood {
    let parsed = std::panic::catch_unwind(|| Parser::parse_sql(parser_dialect(dialect), sql));
    let mut statements = match parsed {
        Ok(Ok(statements)) => statements,
        Ok(Err(error)) => return unreadable(dialect, sql, error.to_string()),
        Err(_) => return unreadable(dialect, sql, "the parser failed".to_owned()),
    };
    if statements.len() != 1 {
        return unreadable(dialect, sql, format!("the parser reads {} statements here, not one", statements.len()));
    }
    let Some(statement) = statements.pop() else { return unreadable(dialect, sql, "no statement".to_owned()) };
    Reader { dialect }.read(&statement)
}

/// Statements that change no table, column, index, constraint, schema or type, known
/// by their first word even when the parser cannot read the rest.
const NO_DDL: [&str; 13] = [
    "INSERT", "UPDATE", "DELETE", "SELECT", "REPLACE", "PRAGMA", "SET", "GRANT", "REVOKE", "COMMENT", "ANALYZE",
    "VACUUM", "EXPLAIN",
];

fn unreadable(dialect: DialectKind, sql: &str, message: String) -> Understood {
    let message = message.strip_prefix("sql parser error: ").map(str::to_owned).unwrap_or(message);
    let first = sql.split(|c: char| !c.is_ascii_alphabetic()).find(|w| !w.is_empty()).unwrap_or("");
    let effects =
        if NO_DDL.iter().any(|w| w.eq_ignore_ascii_case(first)) { Some(Vec::new()) } else { dropped(dialect, sql) };
    Understood { unreadable: Some(message), effects, tables: classify::unread_tables(sql), ..Understood::default() }
}

/// What a `DROP` the parser cannot read removes (`DROP INDEX CONCURRENTLY IF EXISTS
/// a, b`), or a MySQL `ALTER TABLE t RENAME INDEX a TO b` renames, read word by word,
/// so that the guards they undo still learn of it. `None` for anything else.
fn dropped(dialect: DialectKind, sql: &str) -> Option<Vec<Effect>> {
    let (tokens, problem) = crate::lex::lex(sql, dialect);
    if problem.is_some() {
        return None;
    }
    let tokens: Vec<&str> = tokens
        .iter()
        .filter(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment))
        .map(|t| &sql[t.start..t.end])
        .collect();
    let is = |k: usize, w: &str| tokens.get(k).is_some_and(|t| t.eq_ignore_ascii_case(w));
    let ident = |t: &str| {
        // A lone quote character is punctuation where the dialect does not quote with it.
        let quoted = t.len() >= 2 && t.starts_with(['"', '`', '[']);
        let value = if quoted { t[1..t.len().saturating_sub(1)].to_owned() } else { t.to_owned() };
        normalise(dialect, &value, quoted)
    };
    if is(0, "ALTER") && is(1, "TABLE") {
        // ALTER TABLE [schema.]t RENAME {INDEX | KEY} a TO b, and nothing else.
        let (schema, at) = if tokens.get(3) == Some(&".") { (Some(ident(tokens.get(2)?)), 5) } else { (None, 3) };
        let renames = tokens.len() == at + 5
            && is(at, "RENAME")
            && (is(at + 1, "INDEX") || is(at + 1, "KEY"))
            && is(at + 3, "TO");
        if !renames {
            return None;
        }
        let index = |t: &str| Object::Index(Name { schema: schema.clone(), name: ident(t) });
        return Some(vec![Effect::RenamesAway(index(tokens[at + 2])), Effect::Creates(index(tokens[at + 4]))]);
    }
    if !is(0, "DROP") {
        return None;
    }
    let (kind, mut k) = match () {
        _ if is(1, "MATERIALIZED") && is(2, "VIEW") => ("TABLE", 3),
        _ if is(1, "TABLE") || is(1, "VIEW") => ("TABLE", 2),
        _ if is(1, "INDEX") => ("INDEX", 2),
        _ if is(1, "SCHEMA") || is(1, "DATABASE") => ("SCHEMA", 2),
        _ if is(1, "TYPE") || is(1, "DOMAIN") => ("TYPE", 2),
        _ => return None,
    };
    while is(k, "CONCURRENTLY") || is(k, "IF") || is(k, "EXISTS") {
        k += 1;
    }
    let mut effects = Vec::new();
    loop {
        let mut parts = vec![ident(tokens.get(k)?)];
        k += 1;
        while tokens.get(k) == Some(&".") {
            parts.push(ident(tokens.get(k + 1)?));
            k += 2;
        }
        let name = parts.pop()?;
        let n = Name { schema: parts.pop(), name };
        effects.push(Effect::Removes(match kind {
            "TABLE" => Object::Table(n),
            "INDEX" => Object::Index(n),
            "TYPE" => Object::Type(n),
            _ => Object::Schema(n.name),
        }));
        if tokens.get(k) != Some(&",") {
            break;
        }
        k += 1;
    }
    if tokens.iter().any(|t| t.eq_ignore_ascii_case("CASCADE")) {
        effects.push(Effect::Unknown);
    }
    Some(effects)
}

/// What a statement whose effects are `effects` (`None`: unknown) may do to the
/// catalog, as the runtime's plan needs it.
pub(crate) fn catalog_change(effects: Option<&[Effect]>) -> CatalogChange {
    match effects {
        None => CatalogChange::Unknown,
        Some(e) if e.contains(&Effect::Unknown) => CatalogChange::Unknown,
        Some(e) if e.iter().any(|e| matches!(e, Effect::Removes(_) | Effect::RenamesAway(_))) => CatalogChange::Removes,
        Some(_) => CatalogChange::Adds,
    }
}

/// Whether [`Reader::read_into`] knows everything `statement` can remove: the DDL it
/// reads, and the statements that change no table, column, index, constraint, schema
/// or type (rows, routines, triggers, sequences, comments, grants).
fn modelled(statement: &Ast) -> bool {
    matches!(
        statement,
        Ast::Drop { .. }
            | Ast::CreateTable(_)
            | Ast::CreateVirtualTable { .. }
            | Ast::CreateView(_)
            | Ast::CreateIndex(_)
            | Ast::CreateSchema { .. }
            | Ast::CreateDatabase { .. }
            | Ast::CreateType { .. }
            | Ast::CreateDomain(_)
            | Ast::AlterTable(_)
            | Ast::AlterIndex { .. }
            | Ast::AlterType(_)
            | Ast::RenameTable(_)
            | Ast::DropDomain(_)
            | Ast::Insert(_)
            | Ast::Update(_)
            | Ast::Delete(_)
            | Ast::Merge(_)
            | Ast::Query(_)
            | Ast::Truncate(_)
            | Ast::Set(_)
            | Ast::Analyze(_)
            | Ast::Comment { .. }
            | Ast::Grant(_)
            | Ast::Revoke(_)
            | Ast::CreateFunction(_)
            | Ast::CreateProcedure { .. }
            | Ast::CreateTrigger(_)
            | Ast::DropTrigger(_)
            | Ast::CreateSequence { .. }
            | Ast::CreateExtension(_)
            | Ast::CreatePolicy(_)
            | Ast::DropPolicy(_)
            | Ast::CreateRole(_)
    )
}

/// Whether `statement` drops with `CASCADE`: the server then removes dependents (views
/// built on a view, foreign keys, generated columns that call a function) that the
/// statement does not name.
fn cascades(statement: &Ast) -> bool {
    match statement {
        Ast::Drop { cascade, .. } => *cascade,
        // The other drops spell it in places of their own: read the words, but only of
        // these statements (a seed's text is never turned back into SQL here).
        Ast::DropFunction(_)
        | Ast::DropDomain(_)
        | Ast::DropProcedure { .. }
        | Ast::DropTrigger(_)
        | Ast::DropPolicy(_)
        | Ast::DropExtension(_)
        | Ast::AlterTable(_) => {
            let text = statement.to_string().to_ascii_uppercase();
            let words: Vec<&str> =
                text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
            // `ON DELETE CASCADE` of a foreign key drops nothing now.
            words.windows(2).any(|w| w[1] == "CASCADE" && w[0] != "DELETE" && w[0] != "UPDATE")
        }
        _ => false,
    }
}

fn parser_dialect(dialect: DialectKind) -> &'static dyn Dialect {
    match dialect {
        DialectKind::Postgres => &PostgreSqlDialect {},
        DialectKind::MySql => &MySqlDialect {},
        DialectKind::Sqlite => &SQLiteDialect {},
    }
}

/// How a dialect compares a name.
fn normalise(dialect: DialectKind, value: &str, quoted: bool) -> String {
    dialect.fold(value, quoted)
}

fn object_name(dialect: DialectKind, o: &ObjectName) -> Name {
    Name {
        schema: o.schema.as_ref().map(|s| normalise(dialect, &s.value, s.quoted)),
        name: normalise(dialect, &o.name.value, o.name.quoted),
    }
}

/// A statement's guards, each with what it depends on.
type Guards = Vec<(GuardKind, Watch)>;

struct Reader {
    dialect: DialectKind,
}

impl Reader {
    fn ident(&self, i: &ast::Ident) -> Ident {
        Ident { value: Cow::Owned(i.value.clone()), quoted: i.quote_style.is_some() }
    }

    fn norm(&self, i: &Ident) -> String {
        normalise(self.dialect, &i.value, i.quoted)
    }

    /// `a`, `s.a` or `c.s.a` (the catalog is dropped); `None` for other forms.
    fn object(&self, name: &ast::ObjectName) -> Option<ObjectName> {
        let parts: Vec<&ast::Ident> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [n] => Some(ObjectName { schema: None, name: self.ident(n) }),
            [.., s, n] => Some(ObjectName { schema: Some(self.ident(s)), name: self.ident(n) }),
            [] => None,
        }
    }

    fn name(&self, o: &ObjectName) -> Name {
        object_name(self.dialect, o)
    }

    /// Words that may name columns in an index or constraint expression (more than the
    /// columns: that only makes more of its guards count as undone by a column drop).
    fn columns_of(&self, table: &Name, exprs: impl IntoIterator<Item = String>) -> Vec<Object> {
        let mut columns = Vec::new();
        for text in exprs {
            for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
                if !word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()) {
                    let column = Object::Column(table.clone(), word.to_lowercase());
                    if !columns.contains(&column) {
                        columns.push(column);
                    }
                }
            }
        }
        columns
    }

    fn guard(&self, kind: GuardKind, covers: Vec<Object>) -> (GuardKind, Watch) {
        let mut watch = Watch::of(self.dialect, &kind);
        watch.covers = covers;
        (kind, watch)
    }

    fn read(&self, statement: &Ast) -> Understood {
        let mut effects = Vec::new();
        let guards = self.read_into(statement, &mut effects).unwrap_or_default();
        if cascades(statement) {
            let dropped: Vec<Object> = effects
                .iter()
                .filter_map(|e| if let Effect::Removes(o) = e { Some(o.clone()) } else { None })
                .collect();
            effects.extend(dropped.into_iter().map(Effect::Cascades));
            // What else CASCADE reaches (foreign keys, generated columns, columns of a
            // type) is not known here.
            effects.push(Effect::Unknown);
        } else if !modelled(statement) {
            effects.push(Effect::Unknown);
        }
        let replaces = match statement {
            Ast::CreateView(view) if view.or_replace && !guards.is_empty() => {
                self.object(&view.name).map(|n| Object::Table(self.name(&n)))
            }
            _ => None,
        };
        let tables = classify::tables(statement, |name| self.object(name));
        Understood { guards, effects: Some(effects), unreadable: None, replaces, tables }
    }

    /// Pushes the statement's effects; returns its guards, `None` when it cannot be
    /// guarded. One step per family of statements: creating, altering, renaming,
    /// dropping.
    fn read_into(&self, statement: &Ast, effects: &mut Vec<Effect>) -> Option<Guards> {
        let postgres = self.dialect == DialectKind::Postgres;
        match statement {
            Ast::CreateTable(create) => self.create_table(create, effects),
            Ast::CreateVirtualTable { name, .. } => self.create_virtual_table(name, effects),
            Ast::CreateView(view) => self.create_view(view, effects),
            Ast::CreateIndex(index) => self.create_index(index, effects),
            Ast::CreateSchema { schema_name, .. } => self.create_schema(schema_name, effects),
            Ast::CreateDatabase { db_name, .. } if self.dialect == DialectKind::MySql => {
                self.create_database(db_name, effects)
            }
            Ast::CreateType { name, .. } if postgres => self.create_type(name, effects),
            Ast::CreateDomain(domain) if postgres => self.create_type(&domain.name, effects),
            Ast::AlterTable(alter) => self.alter_table(alter, effects),
            Ast::AlterIndex { name, operation: AlterIndexOperation::RenameIndex { index_name } } => {
                self.rename_index(name, index_name, effects)
            }
            Ast::RenameTable(renames) => self.rename_tables(renames, effects),
            // A type rename and a drop are never guarded: what they undo is all they tell.
            Ast::AlterType(alter) => {
                self.alter_type(alter, effects);
                None
            }
            Ast::Drop { object_type, names, table, .. } => {
                self.drop(*object_type, names, table.as_ref(), effects);
                None
            }
            Ast::DropDomain(drop) => {
                if let Some(o) = self.object(&drop.name) {
                    effects.push(Effect::Removes(Object::Type(self.name(&o))));
                }
                None
            }
            _ => None,
        }
    }

    /// `CREATE TABLE`: the table, its columns and its named constraints. Guarded unless
    /// it is temporary or replaces a table.
    fn create_table(&self, create: &ast::CreateTable, effects: &mut Vec<Effect>) -> Option<Guards> {
        let table = self.object(&create.name)?;
        let t = self.name(&table);
        effects.push(Effect::Creates(Object::Table(t.clone())));
        for column in &create.columns {
            let name = self.norm(&self.ident(&column.name));
            effects.push(Effect::Creates(Object::Column(t.clone(), name)));
            for option in &column.options {
                if let Some(k) = &option.name {
                    effects.push(Effect::Creates(Object::Constraint(t.clone(), self.norm(&self.ident(k)))));
                }
            }
        }
        for constraint in &create.constraints {
            if let Some((kind, _)) = self.constraint_guard(&table, constraint) {
                effects.extend(self.constraint_effects(&kind));
            }
        }
        // MariaDB's CREATE OR REPLACE TABLE drops the one that is there first.
        if create.or_replace {
            effects.insert(0, Effect::Removes(Object::Table(t.clone())));
        }
        // A temporary table lives in the session.
        let certain = !(create.temporary || create.global.is_some() || create.or_replace);
        certain.then(|| vec![self.guard(GuardKind::TableMissing(table), vec![])])
    }

    /// SQLite's `CREATE VIRTUAL TABLE`.
    fn create_virtual_table(&self, name: &ast::ObjectName, effects: &mut Vec<Effect>) -> Option<Guards> {
        let table = self.object(name)?;
        effects.push(Effect::Creates(Object::Table(self.name(&table))));
        Some(vec![self.guard(GuardKind::TableMissing(table), vec![])])
    }

    /// `CREATE VIEW`: the view, and the words of its query, among which are the
    /// relations it reads. Guarded unless it is temporary.
    fn create_view(&self, view: &ast::CreateView, effects: &mut Vec<Effect>) -> Option<Guards> {
        let name = self.object(&view.name)?;
        effects.push(Effect::Creates(Object::Table(self.name(&name))));
        let words = view
            .query
            .to_string()
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .filter(|w| !w.is_empty())
            .map(|w| normalise(self.dialect, w, false))
            .collect::<HashSet<_>>();
        effects.push(Effect::Reads(self.name(&name), words.into_iter().collect()));
        (!view.temporary).then(|| vec![self.guard(GuardKind::TableMissing(name), vec![])])
    }

    /// `CREATE INDEX`: the index, in its table's schema unless it names its own; its
    /// guard is undone by a drop of the table or of a column it may cover.
    fn create_index(&self, index: &ast::CreateIndex, effects: &mut Vec<Effect>) -> Option<Guards> {
        let table = self.object(&index.table_name)?;
        let name = self.object(index.name.as_ref()?)?;
        let name = ObjectName { schema: name.schema.or_else(|| table.schema.clone()), name: name.name };
        effects.push(Effect::Creates(Object::Index(self.name(&name))));
        let t = self.name(&table);
        let mut holders = self.columns_of(&t, index.columns.iter().map(|c| c.column.expr.to_string()));
        holders.push(Object::Table(t));
        Some(vec![self.guard(GuardKind::IndexMissing(name), holders)])
    }

    /// `CREATE SCHEMA`, named or named after its owner. Not guarded on SQLite, which
    /// has no schemas to look at.
    fn create_schema(&self, schema_name: &SchemaName, effects: &mut Vec<Effect>) -> Option<Guards> {
        let name = match schema_name {
            SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => {
                let o = self.object(n)?;
                if o.schema.is_some() {
                    return None;
                }
                o.name
            }
            SchemaName::UnnamedAuthorization(user) => self.ident(user),
        };
        effects.push(Effect::Creates(Object::Schema(self.norm(&name))));
        (self.dialect != DialectKind::Sqlite).then(|| vec![self.guard(GuardKind::SchemaMissing(name), vec![])])
    }

    /// MySQL's `CREATE DATABASE`, which is a schema.
    fn create_database(&self, db_name: &ast::ObjectName, effects: &mut Vec<Effect>) -> Option<Guards> {
        let o = self.object(db_name)?;
        if o.schema.is_some() {
            return None;
        }
        effects.push(Effect::Creates(Object::Schema(self.norm(&o.name))));
        Some(vec![self.guard(GuardKind::SchemaMissing(o.name), vec![])])
    }

    /// PostgreSQL's `CREATE TYPE` and `CREATE DOMAIN`.
    fn create_type(&self, name: &ast::ObjectName, effects: &mut Vec<Effect>) -> Option<Guards> {
        let name = self.object(name)?;
        effects.push(Effect::Creates(Object::Type(self.name(&name))));
        Some(vec![self.guard(GuardKind::TypeMissing(name), vec![])])
    }

    /// `ALTER TABLE`: guarded when every operation is (see [`Reader::alter_operation`]).
    fn alter_table(&self, alter: &ast::AlterTable, effects: &mut Vec<Effect>) -> Option<Guards> {
        let table = self.object(&alter.name)?;
        let mut guards = Some(Vec::new());
        for operation in &alter.operations {
            let found = self.alter_operation(&table, operation, effects);
            guards = guards.zip(found).map(|(mut all, more)| {
                all.extend(more);
                all
            });
        }
        // With IF EXISTS, a missing table makes the statement do nothing, so
        // its guards could never report present.
        guards.filter(|g| !alter.if_exists && !g.is_empty())
    }

    /// `ALTER INDEX … RENAME TO`.
    fn rename_index(
        &self,
        name: &ast::ObjectName,
        index_name: &ast::ObjectName,
        effects: &mut Vec<Effect>,
    ) -> Option<Guards> {
        let from = self.object(name)?;
        let to = self.object(index_name)?;
        effects.push(Effect::RenamesAway(Object::Index(self.name(&from))));
        effects.push(Effect::Creates(Object::Index(renamed(self.name(&from), self.name(&to)))));
        Some(vec![self.guard(GuardKind::IndexRenamed { from, to }, vec![])])
    }

    /// MySQL's `RENAME TABLE a TO b, c TO d`: guarded unless it swaps names.
    fn rename_tables(&self, renames: &[ast::RenameTable], effects: &mut Vec<Effect>) -> Option<Guards> {
        let mut guards = Vec::new();
        let mut seen = HashSet::new();
        for rename in renames {
            let from = self.object(&rename.old_name)?;
            let to = self.object(&rename.new_name)?;
            let (f, t) = (self.name(&from), renamed(self.name(&from), self.name(&to)));
            effects.push(Effect::RenamesAway(Object::Table(f.clone())));
            effects.push(Effect::Creates(Object::Table(t.clone())));
            // A swap through a temporary name has no final state to check.
            if !(seen.insert(f.name) && seen.insert(t.name)) {
                return None;
            }
            guards.push(self.guard(GuardKind::TableRenamed { from, to }, vec![]));
        }
        Some(guards)
    }

    /// `ALTER TYPE … RENAME TO`; the type's other changes leave it in place.
    fn alter_type(&self, alter: &ast::AlterType, effects: &mut Vec<Effect>) {
        let AlterTypeOperation::Rename(rename) = &alter.operation else { return };
        let Some(from) = self.object(&alter.name) else { return };
        let from = self.name(&from);
        let to = Name { schema: from.schema.clone(), name: self.norm(&self.ident(&rename.new_name)) };
        effects.push(Effect::RenamesAway(Object::Type(from)));
        effects.push(Effect::Creates(Object::Type(to)));
    }

    /// `DROP TABLE`, `VIEW`, `INDEX`, `SCHEMA` / `DATABASE` or `TYPE`: what goes. A MySQL
    /// `DROP INDEX i ON t` also drops the constraint of that name.
    fn drop(
        &self,
        object_type: ObjectType,
        names: &[ast::ObjectName],
        table: Option<&ast::ObjectName>,
        effects: &mut Vec<Effect>,
    ) {
        let on = table.and_then(|t| self.object(t));
        for name in names {
            let Some(o) = self.object(name) else { continue };
            let n = self.name(&o);
            let removed = match object_type {
                ObjectType::Table | ObjectType::View | ObjectType::MaterializedView => Object::Table(n),
                ObjectType::Index => {
                    let schema = n.schema.clone().or_else(|| on.as_ref().map(|t| self.name(t)).and_then(|t| t.schema));
                    if let Some(t) = &on {
                        effects.push(Effect::Removes(Object::Constraint(self.name(t), n.name.clone())));
                    }
                    Object::Index(Name { schema, name: n.name })
                }
                ObjectType::Schema | ObjectType::Database if o.schema.is_none() => Object::Schema(n.name),
                ObjectType::Type => Object::Type(n),
                _ => continue,
            };
            effects.push(Effect::Removes(removed));
        }
    }

    /// One `ALTER TABLE` operation: pushes its effects, returns its guards (`None`
    /// when it cannot be guarded).
    fn alter_operation(
        &self,
        table: &ObjectName,
        operation: &AlterTableOperation,
        effects: &mut Vec<Effect>,
    ) -> Option<Guards> {
        let t = self.name(table);
        let column = |i: &ast::Ident| self.norm(&self.ident(i));
        match operation {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let name = self.ident(&column_def.name);
                effects.push(Effect::Creates(Object::Column(t, self.norm(&name))));
                Some(vec![self.guard(GuardKind::ColumnMissing { table: table.clone(), column: name }, vec![])])
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                let (kind, holders) = self.constraint_guard(table, constraint)?;
                effects.extend(self.constraint_effects(&kind));
                Some(vec![self.guard(kind, holders)])
            }
            AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                let (from, to) = (self.ident(old_column_name), self.ident(new_column_name));
                effects.push(Effect::RenamesAway(Object::Column(t.clone(), self.norm(&from))));
                effects.push(Effect::Creates(Object::Column(t, self.norm(&to))));
                Some(vec![self.guard(GuardKind::ColumnRenamed { table: table.clone(), from, to }, vec![])])
            }
            AlterTableOperation::RenameTable {
                table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
            } => {
                let to = self.object(to)?;
                effects.push(Effect::RenamesAway(Object::Table(t.clone())));
                effects.push(Effect::Creates(Object::Table(renamed(t, self.name(&to)))));
                Some(vec![self.guard(GuardKind::TableRenamed { from: table.clone(), to }, vec![])])
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                effects.extend(column_names.iter().map(|c| Effect::Removes(Object::Column(t.clone(), column(c)))));
                None
            }
            AlterTableOperation::DropConstraint { name, .. } | AlterTableOperation::DropForeignKey { name, .. } => {
                // A unique or primary key constraint is also an index of that name.
                effects.push(Effect::Removes(Object::Constraint(t.clone(), column(name))));
                effects.push(Effect::Removes(Object::Index(Name { schema: t.schema, name: column(name) })));
                None
            }
            AlterTableOperation::DropIndex { name } => {
                effects.push(Effect::Removes(Object::Index(Name { schema: t.schema.clone(), name: column(name) })));
                effects.push(Effect::Removes(Object::Constraint(t, column(name))));
                None
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                effects.push(Effect::Removes(Object::Constraint(t, "primary".to_owned())));
                None
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                effects.push(Effect::RenamesAway(Object::Constraint(t.clone(), column(old_name))));
                effects.push(Effect::Creates(Object::Constraint(t, column(new_name))));
                None
            }
            AlterTableOperation::ChangeColumn { old_name, new_name, .. } => {
                if column(old_name) != column(new_name) {
                    effects.push(Effect::RenamesAway(Object::Column(t.clone(), column(old_name))));
                    effects.push(Effect::Creates(Object::Column(t, column(new_name))));
                }
                None
            }
            // Changes that leave every table, column, index and constraint in place.
            AlterTableOperation::AlterColumn { .. }
            | AlterTableOperation::ModifyColumn { .. }
            | AlterTableOperation::ValidateConstraint { .. }
            | AlterTableOperation::OwnerTo { .. }
            | AlterTableOperation::SetTblProperties { .. }
            | AlterTableOperation::SetLogged
            | AlterTableOperation::SetUnlogged
            | AlterTableOperation::EnableTrigger { .. }
            | AlterTableOperation::DisableTrigger { .. }
            | AlterTableOperation::EnableRowLevelSecurity
            | AlterTableOperation::DisableRowLevelSecurity
            | AlterTableOperation::ForceRowLevelSecurity
            | AlterTableOperation::NoForceRowLevelSecurity
            | AlterTableOperation::ReplicaIdentity { .. }
            | AlterTableOperation::Algorithm { .. }
            | AlterTableOperation::Lock { .. }
            | AlterTableOperation::AutoIncrement { .. } => None,
            _ => {
                effects.push(Effect::Unknown);
                None
            }
        }
    }

    /// The guard of a table constraint that names itself certainly, and the columns
    /// it covers.
    fn constraint_guard(&self, table: &ObjectName, constraint: &TableConstraint) -> Option<(GuardKind, Vec<Object>)> {
        let t = self.name(table);
        let my = self.dialect == DialectKind::MySql;
        let named = |k: &ast::Ident| GuardKind::ConstraintMissing { table: table.clone(), constraint: self.ident(k) };
        let index =
            |i: &ast::Ident| GuardKind::IndexMissing(ObjectName { schema: table.schema.clone(), name: self.ident(i) });
        let columns = |exprs: Vec<String>| self.columns_of(&t, exprs);
        let index_columns = |c: &[ast::IndexColumn]| c.iter().map(|c| c.column.expr.to_string()).collect::<Vec<_>>();
        match constraint {
            // MySQL names every primary key PRIMARY, whatever is written.
            TableConstraint::PrimaryKey(pk) if my => {
                Some((named(&ast::Ident::new("PRIMARY")), columns(index_columns(&pk.columns))))
            }
            TableConstraint::PrimaryKey(pk) => Some((named(pk.name.as_ref()?), columns(index_columns(&pk.columns)))),
            TableConstraint::Unique(u) => {
                let cols = columns(index_columns(&u.columns));
                match (&u.name, &u.index_name) {
                    (Some(k), None) => Some((named(k), cols)),
                    (Some(k), Some(i)) if k.value == i.value => Some((named(k), cols)),
                    (None, Some(i)) if my => Some((index(i), cols)),
                    _ => None,
                }
            }
            // A foreign key also lives on the table it references: dropping that table
            // (with CASCADE, on PostgreSQL) drops the constraint.
            TableConstraint::ForeignKey(fk) => {
                let mut covers = columns(fk.columns.iter().map(|c| c.value.clone()).collect());
                if let Some(referenced) = self.object(&fk.foreign_table) {
                    covers.push(Object::Table(self.name(&referenced)));
                }
                Some((named(fk.name.as_ref()?), covers))
            }
            TableConstraint::Check(check) => Some((named(check.name.as_ref()?), columns(vec![check.expr.to_string()]))),
            TableConstraint::Index(i) if my => Some((index(i.name.as_ref()?), columns(index_columns(&i.columns)))),
            TableConstraint::FulltextOrSpatial(i) if my => {
                Some((index(i.opt_index_name.as_ref()?), columns(index_columns(&i.columns))))
            }
            TableConstraint::Exclude(x) => {
                Some((named(x.name.as_ref()?), columns(x.elements.iter().map(|e| e.to_string()).collect())))
            }
            _ => None,
        }
    }

    fn constraint_effects(&self, kind: &GuardKind) -> Vec<Effect> {
        match kind {
            GuardKind::ConstraintMissing { table, constraint } => {
                vec![Effect::Creates(Object::Constraint(self.name(table), self.norm(constraint)))]
            }
            GuardKind::IndexMissing(i) => vec![Effect::Creates(Object::Index(self.name(i)))],
            _ => Vec::new(),
        }
    }
}

/// The guards of one snippet for one dialect, and what the cross-snippet analysis
/// needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Inferred {
    /// Guards that decide for the whole snippet: the written ones.
    pub snippet: Vec<Guard>,
    /// Guards that decide for each statement alone, one list per statement.
    pub statements: Vec<Vec<Guard>>,
    /// What each of `snippet` depends on.
    pub snippet_watches: Vec<Watch>,
    /// What each of `statements` depends on, in the same shape.
    pub statement_watches: Vec<Vec<Watch>>,
    /// What each statement creates and removes (`None`: unknown).
    pub effects: Vec<Option<Vec<Effect>>>,
    /// The statements the parser could not read: (index, the parser's message).
    pub unreadable: Vec<(usize, String)>,
    /// Guarded `CREATE OR REPLACE VIEW` statements: (index, the view).
    pub replaces: Vec<(usize, Object)>,
    /// The tables each statement locks (`None`: unknown).
    pub tables: Vec<Option<Vec<ObjectName>>>,
}

/// The guards of a snippet whose statements are `statements` (byte ranges of `sql`),
/// given the guards written in its directives.
pub(crate) fn infer(dialect: DialectKind, sql: &str, statements: &[Piece], written: &[Guard]) -> Inferred {
    let understood: Vec<Understood> =
        statements.iter().map(|p| understand(dialect, &sql[p.start..p.end], p.kind)).collect();
    let mut inferred = Inferred {
        snippet: written.to_vec(),
        statements: vec![Vec::new(); statements.len()],
        snippet_watches: written.iter().map(|g| Watch::of(dialect, &g.kind)).collect(),
        statement_watches: vec![Vec::new(); statements.len()],
        effects: understood.iter().map(|u| u.effects.clone()).collect(),
        unreadable: understood.iter().enumerate().filter_map(|(i, u)| Some((i, u.unreadable.clone()?))).collect(),
        replaces: Vec::new(),
        tables: understood.iter().map(|u| u.tables.clone()).collect(),
    };
    if !written.is_empty() {
        return inferred;
    }
    for (index, statement) in understood.iter().enumerate() {
        // A guard is read before the snippet runs: an earlier statement that creates,
        // removes or renames what it looks at (or whose effects are unknown) would make
        // it wrong by the time this statement runs.
        let earlier = &inferred.effects[..index];
        let reliable = |watch: &Watch| {
            earlier.iter().all(|effects| effects.as_ref().is_some_and(|e| !e.iter().any(|e| watch.disturbed_by(e))))
        };
        if statement.guards.is_empty() || !statement.guards.iter().all(|(_, w)| reliable(w)) {
            continue;
        }
        let statement_index = u32::try_from(index).unwrap_or(u32::MAX);
        for (kind, watch) in &statement.guards {
            inferred.statements[index].push(Guard {
                kind: kind.clone(),
                origin: GuardOrigin::Inferred { statement: statement_index },
                undone_by: None,
            });
            inferred.statement_watches[index].push(watch.clone());
        }
        if let Some(object) = &statement.replaces {
            inferred.replaces.push((index, object.clone()));
        }
    }
    inferred
}

/// What can only be told from the whole history of one dialect (`snippets` in version
/// order, with the [`Inferred`] of each):
///
/// * a `CREATE OR REPLACE VIEW` of a view an earlier snippet creates redefines it: it
///   must run, so it loses its guard (its snippet runs once, by the ledger);
/// * [`Guard::undone_by`]: the first snippet, from the guard's own statement on, whose
///   statements remove the guard's object (or its table, schema, or a column an
///   index covers) without creating it again.
pub(crate) fn across_snippets(snippets: &mut [Snippet], inferred: &mut [Inferred]) {
    for s in 0..snippets.len() {
        for (index, object) in inferred[s].replaces.clone() {
            let created_before = inferred[..s]
                .iter()
                .flat_map(|inf| inf.effects.iter().flatten().flatten())
                .any(|e| matches!(e, Effect::Creates(o) if o.matches(&object)));
            if created_before {
                inferred[s].statements[index].clear();
                inferred[s].statement_watches[index].clear();
                if let Some(statement) = snippets[s].statements.to_mut().get_mut(index) {
                    statement.guards = Cow::Owned(Vec::new());
                }
            }
        }
    }
    // Names each snippet removes, to skip most pairs at once.
    let removed: Vec<HashSet<&str>> = inferred
        .iter()
        .map(|inf| {
            inf.effects
                .iter()
                .flatten()
                .flatten()
                .filter_map(|e| match e {
                    // What attaches a guarded object to another changes what removes it.
                    Effect::Removes(o) | Effect::RenamesAway(o) | Effect::Attaches(o, _) => Some(o.keys()),
                    Effect::Creates(_) | Effect::Unknown | Effect::Reads(..) | Effect::Cascades(_) => None,
                })
                .flatten()
                .collect()
        })
        .collect();
    // Every view, the snippet that defines it and the words it reads; a table renamed
    // later is read under its new name too (a view follows its table through a rename,
    // by identity, on PostgreSQL). And which snippets drop with CASCADE.
    let mut views: Vec<(usize, &Name, Vec<String>)> = Vec::new();
    for (s, inf) in inferred.iter().enumerate() {
        for effects in inf.effects.iter().flatten() {
            for (k, effect) in effects.iter().enumerate() {
                match (effect, effects.get(k + 1)) {
                    (Effect::Reads(view, words), _) => views.push((s, view, words.clone())),
                    (Effect::RenamesAway(Object::Table(from)), Some(Effect::Creates(Object::Table(to)))) => {
                        for (_, _, words) in views.iter_mut() {
                            if words.contains(&from.name) && !words.contains(&to.name) {
                                words.push(to.name.clone());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let cascading: Vec<bool> = inferred
        .iter()
        .map(|inf| inf.effects.iter().flatten().flatten().any(|e| matches!(e, Effect::Cascades(_))))
        .collect();
    // The views that `DROP … CASCADE` of `object` in snippet `at` reaches: every view
    // defined up to there over its name, and the views over those (a view read by name;
    // a word of a definition that merely looks like the name counts too, which only
    // marks more guards as undone).
    let dependents = |at: usize, object: &Object| -> Vec<Name> {
        let Object::Table(root) = object else { return Vec::new() };
        let mut reached: Vec<Name> = vec![root.clone()];
        let mut k = 0;
        while k < reached.len() {
            let name = reached[k].name.clone();
            for (_, view, words) in views.iter().filter(|(defined, _, _)| *defined <= at) {
                if words.contains(&name) && !reached.iter().any(|r| r.matches(view)) {
                    reached.push((*view).clone());
                }
            }
            k += 1;
        }
        reached.remove(0);
        reached
    };
    // For each name, the snippets that remove or rename away something by it, in order;
    // and the snippets that drop with CASCADE. A guard's watch looks at these only, not
    // at every later snippet (which made this pass quadratic in the number of snippets).
    let mut removers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (s, keys) in removed.iter().enumerate() {
        for key in keys {
            removers.entry(key).or_default().push(s);
        }
    }
    let cascaders: Vec<usize> = (0..cascading.len()).filter(|&s| cascading[s]).collect();
    // The first snippet at or after `at` that may remove what `watch` looks at now.
    let next_candidate = |at: usize, watch: &Watch| -> Option<usize> {
        let first = |list: &[usize]| list.get(list.partition_point(|&s| s < at)).copied();
        watch.keys().filter_map(|key| removers.get(key).and_then(|list| first(list))).chain(first(&cascaders)).min()
    };
    let undone_by = |s: usize, from: usize, watch: &Watch| -> Option<u64> {
        // What the guarded object lives on moves along with a renamed table or column,
        // so the watch follows it (an index on `a.x` is dropped by `DROP TABLE b` once
        // `a` became `b`); the candidates are found from the names watched now.
        let mut watch = watch.clone();
        let mut later = s;
        while let Some(candidate) = next_candidate(later, &watch) {
            later = candidate;
            let statements = if later == s { &inferred[s].effects[from..] } else { &inferred[later].effects[..] };
            let mut gone = false;
            for effects in statements.iter().flatten() {
                for (k, effect) in effects.iter().enumerate() {
                    match effect {
                        Effect::Removes(o) if watch.removed_by(o, true) => gone = true,
                        Effect::RenamesAway(o) if watch.removed_by(o, false) => gone = true,
                        Effect::RenamesAway(o) => {
                            if let Some(Effect::Creates(to)) = effects.get(k + 1) {
                                watch.follow(o, to);
                            }
                        }
                        Effect::Attaches(o, on) if watch.own.iter().any(|w| w.matches(o)) => {
                            watch.covers.push(on.clone());
                            if let Object::Column(table, _) = on {
                                watch.covers.push(Object::Table(table.clone()));
                            }
                        }
                        Effect::Cascades(o) => {
                            let reached = dependents(later, o);
                            if reached.iter().any(|v| watch.removed_by(&Object::Table(v.clone()), true)) {
                                gone = true;
                            }
                        }
                        e if watch.restored_by(e) => gone = false,
                        _ => {}
                    }
                }
            }
            if gone {
                return Some(snippets[later].version);
            }
            later += 1;
        }
        None
    };
    // (snippet, statement or None for the snippet's own guards, guard, version)
    let mut marks: Vec<(usize, Option<usize>, usize, u64)> = Vec::new();
    for (s, inf) in inferred.iter().enumerate() {
        for (g, watch) in inf.snippet_watches.iter().enumerate() {
            if let Some(version) = undone_by(s, 0, watch) {
                marks.push((s, None, g, version));
            }
        }
        for (i, watches) in inf.statement_watches.iter().enumerate() {
            for (g, watch) in watches.iter().enumerate() {
                if let Some(version) = undone_by(s, i + 1, watch) {
                    marks.push((s, Some(i), g, version));
                }
            }
        }
    }
    for (s, statement, g, version) in marks {
        let guards = match statement {
            None => snippets[s].guards.to_mut(),
            Some(i) => match snippets[s].statements.to_mut().get_mut(i) {
                Some(statement) => statement.guards.to_mut(),
                None => continue,
            },
        };
        if let Some(guard) = guards.get_mut(g) {
            guard.undone_by = Some(version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split;

    fn guards_of(dialect: DialectKind, sql: &str) -> Vec<Vec<String>> {
        let pieces = split(sql, dialect).unwrap().statements;
        let inferred = infer(dialect, sql, &pieces, &[]);
        inferred.statements.iter().map(|g| g.iter().map(|g| g.kind.to_string()).collect()).collect()
    }

    #[test]
    fn written_guards_decide_for_the_whole_snippet() {
        let written = [Guard {
            kind: GuardKind::TableMissing(ObjectName { schema: None, name: Ident::bare("users") }),
            origin: GuardOrigin::Written { line: 1 },
            undone_by: None,
        }];
        let sql = "CREATE TABLE users (id INT)";
        let inferred =
            infer(DialectKind::Postgres, sql, &split(sql, DialectKind::Postgres).unwrap().statements, &written);
        assert_eq!(inferred.snippet, written.to_vec());
        assert_eq!(inferred.statements, vec![Vec::new()]);
    }

    #[test]
    fn create_table_add_column_and_index_are_guarded() {
        let sql = "CREATE TABLE users (id INT);\nALTER TABLE users ADD COLUMN email TEXT;\nCREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (lower(email));";
        assert_eq!(
            guards_of(DialectKind::Postgres, sql),
            [vec!["table_missing(users)"], vec!["column_missing(users.email)"], vec!["index_missing(users_email_idx)"]]
        );
    }

    #[test]
    fn an_index_on_a_qualified_table_is_in_that_schema() {
        assert_eq!(
            guards_of(DialectKind::Postgres, "CREATE INDEX i ON billing.invoices (total)"),
            [vec!["index_missing(billing.i)"]]
        );
    }

    #[test]
    fn unguardable_operations_leave_the_statement_unguarded() {
        let sql = "ALTER TABLE t ADD COLUMN a INT, ALTER COLUMN b SET DEFAULT 0;\nUPDATE t SET a = 1 WHERE a IS NULL;\nCREATE INDEX ON t (a);\nALTER TABLE IF EXISTS t ADD COLUMN c INT";
        assert_eq!(guards_of(DialectKind::Postgres, sql), vec![Vec::<String>::new(); 4]);
    }

    #[test]
    fn renames_are_guarded_by_old_and_new_names() {
        let sql = "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE users RENAME TO people;\nALTER INDEX a RENAME TO b";
        assert_eq!(
            guards_of(DialectKind::Postgres, sql),
            [
                vec!["column_renamed(users.name, full_name)"],
                vec!["table_renamed(users, people)"],
                vec!["index_renamed(a, b)"]
            ]
        );
    }

    #[test]
    fn mysql_primary_key_is_named_primary() {
        assert_eq!(
            guards_of(DialectKind::MySql, "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY (id)"),
            [vec!["constraint_missing(t.PRIMARY)"]]
        );
    }

    #[test]
    fn a_statement_after_one_that_touches_its_object_is_not_guarded() {
        let sql = "ALTER TABLE a RENAME TO b;\nCREATE TABLE a (x INT);\nCREATE INDEX a_x ON a (x)";
        // The old `a` may have had an index `a_x`, which the rename keeps: read before the
        // snippet runs, `index_missing(a_x)` could say present for the new table.
        assert_eq!(guards_of(DialectKind::Sqlite, sql), [vec!["table_renamed(a, b)"], vec![], vec![]]);
    }

    #[test]
    fn a_statement_after_one_whose_effects_are_unknown_is_not_guarded() {
        let sql = "DO $$ BEGIN PERFORM 1; END $$;\nCREATE TABLE a (x INT)";
        assert_eq!(guards_of(DialectKind::Postgres, sql), [Vec::<String>::new(), vec![]]);
    }

    #[test]
    fn a_drop_the_parser_cannot_read_is_still_understood() {
        let understood = understand(
            DialectKind::Postgres,
            "DROP INDEX CONCURRENTLY IF EXISTS billing.a, \"B\" CASCADE",
            StatementKind::Plain,
        );
        assert!(understood.unreadable.is_some());
        let name = |schema: Option<&str>, name: &str| Name { schema: schema.map(str::to_owned), name: name.to_owned() };
        assert_eq!(
            understood.effects,
            Some(vec![
                Effect::Removes(Object::Index(name(Some("billing"), "a"))),
                Effect::Removes(Object::Index(name(None, "B"))),
                // CASCADE: what depends on them goes too, unnamed.
                Effect::Unknown,
            ])
        );
    }

    #[test]
    fn unreadable_statement_is_reported_and_unguarded() {
        let sql = "CREATE TABLE a (x INT);\nALTER TABLE a ENGINE = InnoDB";
        let pieces = split(sql, DialectKind::MySql).unwrap().statements;
        let inferred = infer(DialectKind::MySql, sql, &pieces, &[]);
        assert_eq!(inferred.unreadable.len(), 1);
        assert_eq!(inferred.unreadable[0].0, 1);
        assert_eq!(inferred.statements[0].len(), 1);
    }
}
