//! A snapshot of the live catalog, and the guards evaluated against it.
//!
//! The snapshot is read in one query per sync (whatever the number of snippets) by the
//! dialect; this module only answers "is this object there?" from it, following each
//! database's rules for case and unqualified names.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::snippet::{DialectKind, Guard, GuardKind, Ident, ObjectName, Snippet, Statement};

/// What the planner learns of one guard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "error")]
pub enum GuardStatus {
    /// The object is there (or the `unless` query returned a row).
    Present,
    /// The object is not there: the snippet or statement is needed.
    Missing,
    /// The `unless` query could not run (often: it reads a table an earlier snippet of
    /// this same sync creates). Counts as missing; it is evaluated again right before
    /// its snippet runs.
    Unknown(String),
}

impl GuardStatus {
    /// Whether the guard asks for its snippet to run.
    pub fn is_missing(&self) -> bool {
        !matches!(self, GuardStatus::Present)
    }
}

/// The objects a sync looks at, read in one query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogSnapshot {
    /// The server's version, read with the catalog.
    pub server_version: String,
    /// The database the connection is in (PostgreSQL's `current_database()`, MySQL's
    /// `DATABASE()`; empty for SQLite), read with the catalog.
    pub database: String,
    /// Schemas searched for unqualified names, in order (PostgreSQL's `search_path`,
    /// MySQL's current database, SQLite's `main`).
    pub search_path: Vec<String>,
    /// `(schema, table)`; views count as tables.
    pub tables: HashSet<(String, String)>,
    /// `(schema, table, column)`.
    pub columns: HashSet<(String, String, String)>,
    /// `(schema, index)` → whether the index is valid (usable).
    pub indexes: HashMap<(String, String), bool>,
    /// `(schema, table, constraint)`.
    pub constraints: HashSet<(String, String, String)>,
    /// Schemas that exist, among those named by `schema_missing` guards (PostgreSQL
    /// schemas, MySQL databases, SQLite attached databases).
    pub schemas: HashSet<String>,
    /// `(schema, type)`: user-defined types (PostgreSQL enums, composites, ranges,
    /// domains; not the row types of tables).
    pub types: HashSet<(String, String)>,
    /// Functions and procedures named by guards: `(schema, name)` → each one's
    /// [`Routine`] (PostgreSQL overloads a name; MySQL has one function and one
    /// procedure per name at most).
    pub routines: HashMap<(String, String), Vec<Routine>>,
    /// `(schema, table, trigger)`.
    pub triggers: HashSet<(String, String, String)>,
    /// `(schema, sequence)`.
    pub sequences: HashSet<(String, String)>,
    /// Installed extensions (PostgreSQL).
    pub extensions: HashSet<String>,
    /// `(schema, table, policy)` (PostgreSQL).
    pub policies: HashSet<(String, String, String)>,
}

/// One function or procedure as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Routine {
    /// Whether it is a procedure (else a function, an aggregate or a window function).
    pub procedure: bool,
    /// Its input argument types, as `pg_type` names them, separated by `,` (PostgreSQL);
    /// empty on MySQL, where the name alone identifies a routine.
    pub args: String,
}

/// The names a snapshot must cover, so that dialects can restrict their catalog query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Schemas named explicitly by guards (normalised).
    pub schemas: BTreeSet<String>,
    /// Tables named by table, column and constraint guards (normalised).
    pub tables: BTreeSet<String>,
    /// Indexes named by index guards (normalised).
    pub indexes: BTreeSet<String>,
    /// Schemas whose existence `schema_missing` guards ask about (normalised).
    pub namespaces: BTreeSet<String>,
    /// Types named by `type_missing` guards (normalised).
    pub types: BTreeSet<String>,
    /// Functions and procedures named by guards (normalised).
    pub routines: BTreeSet<String>,
    /// Triggers named by `trigger_missing` guards (normalised; their tables are in
    /// `tables`).
    pub triggers: BTreeSet<String>,
    /// Sequences named by `sequence_missing` guards (normalised).
    pub sequences: BTreeSet<String>,
    /// Extensions named by `extension_missing` guards (normalised).
    pub extensions: BTreeSet<String>,
    /// Policies named by `policy_missing` guards (normalised; their tables are in
    /// `tables`).
    pub policies: BTreeSet<String>,
    /// Whether the snapshot checks objects this sync has just created (the verify
    /// step): most of them exist, so a dialect may read their details in the same query
    /// instead of first finding the tables, and may leave out the details no guard asks
    /// about ([`Scope::columns`], [`Scope::constraints`]).
    pub after_apply: bool,
    /// Whether a guard asks about columns (a column guard, a column rename).
    pub columns: bool,
    /// Whether a guard asks about constraints by name.
    pub constraints: bool,
}

/// How a dialect compares identifiers: PostgreSQL folds bare names to lower case and
/// keeps quoted ones exact; MySQL and SQLite compare without regard to case.
/// (See [`DialectKind::fold`].)
pub(crate) fn normalise(dialect: DialectKind, ident: &Ident) -> String {
    dialect.fold(&ident.value, ident.quoted)
}

/// How a name read from the catalog is stored in the snapshot.
pub(crate) fn catalog_key(dialect: DialectKind, name: &str) -> String {
    // As the catalog spells it: the exact name where case matters (PostgreSQL), folded
    // where it does not; the one rule of `DialectKind::fold`.
    dialect.fold(name, true)
}

impl Scope {
    /// The names every guard of `snippets` refers to.
    pub(crate) fn of<'a>(dialect: DialectKind, snippets: impl IntoIterator<Item = &'a Snippet>) -> Scope {
        let mut scope = Scope::default();
        let add_table = |scope: &mut Scope, name: &ObjectName| {
            if let Some(schema) = &name.schema {
                scope.schemas.insert(normalise(dialect, schema));
            }
            scope.tables.insert(normalise(dialect, &name.name));
        };
        let add_index = |scope: &mut Scope, name: &ObjectName| {
            if let Some(schema) = &name.schema {
                scope.schemas.insert(normalise(dialect, schema));
            }
            scope.indexes.insert(normalise(dialect, &name.name));
        };
        let snippets: Vec<&Snippet> = snippets.into_iter().collect();
        // The tables statements lock, to tell the ones the app already has.
        for tables in snippets.iter().flat_map(|s| s.statements.iter()).filter_map(|s| s.tables.as_deref()) {
            for table in tables {
                add_table(&mut scope, table);
            }
        }
        for guard in snippets.into_iter().flat_map(Snippet::all_guards) {
            match &guard.kind {
                GuardKind::TableMissing(t) => add_table(&mut scope, t),
                GuardKind::ColumnMissing { table, .. } | GuardKind::ColumnRenamed { table, .. } => {
                    scope.columns = true;
                    add_table(&mut scope, table)
                }
                GuardKind::ConstraintMissing { table, .. } => {
                    scope.constraints = true;
                    add_table(&mut scope, table)
                }
                GuardKind::TableRenamed { from, to } => {
                    add_table(&mut scope, from);
                    add_table(&mut scope, to);
                }
                GuardKind::IndexMissing(i) => add_index(&mut scope, i),
                GuardKind::IndexRenamed { from, to } => {
                    add_index(&mut scope, from);
                    add_index(&mut scope, to);
                }
                GuardKind::SchemaMissing(s) => {
                    scope.namespaces.insert(normalise(dialect, s));
                }
                GuardKind::TypeMissing(t) => {
                    if let Some(schema) = &t.schema {
                        scope.schemas.insert(normalise(dialect, schema));
                    }
                    scope.types.insert(normalise(dialect, &t.name));
                }
                GuardKind::FunctionMissing { name, .. } | GuardKind::ProcedureMissing { name, .. } => {
                    if let Some(schema) = &name.schema {
                        scope.schemas.insert(normalise(dialect, schema));
                    }
                    scope.routines.insert(normalise(dialect, &name.name));
                }
                GuardKind::TriggerMissing { table, trigger } => {
                    add_table(&mut scope, table);
                    scope.triggers.insert(normalise(dialect, trigger));
                }
                GuardKind::PolicyMissing { table, policy } => {
                    add_table(&mut scope, table);
                    scope.policies.insert(normalise(dialect, policy));
                }
                GuardKind::SequenceMissing(s) => {
                    if let Some(schema) = &s.schema {
                        scope.schemas.insert(normalise(dialect, schema));
                    }
                    scope.sequences.insert(normalise(dialect, &s.name));
                }
                GuardKind::ExtensionMissing(e) => {
                    scope.extensions.insert(normalise(dialect, e));
                }
                GuardKind::Unless(_) => {}
            }
        }
        scope
    }
}

/// Results of the `unless` queries, by query text.
pub type Probes = HashMap<String, Result<bool, String>>;

/// The text an `unless` guard runs: trimmed, without a trailing `;`.
pub(crate) fn unless_query(query: &str) -> &str {
    query.trim().trim_end_matches(';').trim_end()
}

impl CatalogSnapshot {
    /// Evaluates one guard against this snapshot and the `unless` probes.
    pub fn status(&self, dialect: DialectKind, guard: &Guard, probes: &Probes) -> GuardStatus {
        self.status_expected(dialect, guard, probes, false)
    }

    /// [`CatalogSnapshot::status`] against a catalog the planner expects rather than
    /// read: when `assumed` (earlier snippets of the sync will have run, and created
    /// things the planner cannot see, such as the columns of a new table), a rename is
    /// needed while its new name is missing, whether or not its old name is seen.
    pub(crate) fn status_expected(
        &self,
        dialect: DialectKind,
        guard: &Guard,
        probes: &Probes,
        assumed: bool,
    ) -> GuardStatus {
        let present = |yes: bool| if yes { GuardStatus::Present } else { GuardStatus::Missing };
        match &guard.kind {
            GuardKind::TableMissing(t) => present(self.resolve_table(dialect, t).is_some()),
            GuardKind::ColumnMissing { table, column } => present(
                self.resolve_table(dialect, table)
                    .map(|(s, t)| self.columns.contains(&(s, t, normalise(dialect, column))))
                    .unwrap_or(false),
            ),
            GuardKind::ConstraintMissing { table, constraint } => present(
                self.resolve_table(dialect, table)
                    .map(|(s, t)| self.constraints.contains(&(s, t, normalise(dialect, constraint))))
                    .unwrap_or(false),
            ),
            GuardKind::IndexMissing(index) => present(self.resolve_index(dialect, index) == Some(true)),
            GuardKind::SchemaMissing(schema) => present(self.schemas.contains(&normalise(dialect, schema))),
            GuardKind::TypeMissing(t) => {
                let name = normalise(dialect, &t.name);
                present(self.schemas_for(dialect, t).into_iter().any(|s| self.types.contains(&(s, name.clone()))))
            }
            // A rename is needed while the old name is there and the new one is not.
            GuardKind::ColumnRenamed { table, from, to } => {
                let needed = match self.resolve_table(dialect, table) {
                    Some((s, t)) => {
                        let has = |c: &Ident| self.columns.contains(&(s.clone(), t.clone(), normalise(dialect, c)));
                        (assumed || has(from)) && !has(to)
                    }
                    None => assumed,
                };
                present(!needed)
            }
            GuardKind::TableRenamed { from, to } => {
                let schema = match self.resolve_table(dialect, from) {
                    Some((schema, _)) => Some(schema),
                    None if assumed => Some(self.home(dialect, &from.schema)),
                    None => None,
                };
                let needed = schema.is_some_and(|schema| {
                    let in_schema = to.schema.as_ref().map_or(schema, |s| normalise(dialect, s));
                    !self.tables.contains(&(in_schema, normalise(dialect, &to.name)))
                });
                present(!needed)
            }
            GuardKind::IndexRenamed { from, to } => {
                let name = normalise(dialect, &from.name);
                let found = self
                    .schemas_for(dialect, from)
                    .into_iter()
                    .find(|s| self.indexes.contains_key(&(s.clone(), name.clone())))
                    .or_else(|| assumed.then(|| self.home(dialect, &from.schema)));
                let needed = found.is_some_and(|schema| {
                    let in_schema = to.schema.as_ref().map_or(schema, |s| normalise(dialect, s));
                    !self.indexes.contains_key(&(in_schema, normalise(dialect, &to.name)))
                });
                present(!needed)
            }
            GuardKind::FunctionMissing { name, args } => {
                present(self.resolve_routine(dialect, name, false, args).is_some())
            }
            GuardKind::ProcedureMissing { name, args } => {
                present(self.resolve_routine(dialect, name, true, args).is_some())
            }
            GuardKind::TriggerMissing { table, trigger } => present(
                self.resolve_table(dialect, table)
                    .map(|(s, t)| self.triggers.contains(&(s, t, normalise(dialect, trigger))))
                    .unwrap_or(false),
            ),
            GuardKind::PolicyMissing { table, policy } => present(
                self.resolve_table(dialect, table)
                    .map(|(s, t)| self.policies.contains(&(s, t, normalise(dialect, policy))))
                    .unwrap_or(false),
            ),
            GuardKind::SequenceMissing(sequence) => present(self.resolve_sequence(dialect, sequence).is_some()),
            GuardKind::ExtensionMissing(e) => present(self.extensions.contains(&normalise(dialect, e))),
            GuardKind::Unless(query) => match probes.get(unless_query(query)) {
                Some(Ok(found)) => present(*found),
                Some(Err(error)) => GuardStatus::Unknown(error.clone()),
                None => GuardStatus::Unknown("the query was not evaluated".into()),
            },
        }
    }

    /// Whether the database holds any object that a guard of `snippets` looks for (a
    /// table, an index, a type): a database that some history already shaped, as
    /// opposed to an empty one (bootschema's own ledger is named by no guard).
    pub(crate) fn holds_any(&self, dialect: DialectKind, snippets: &[Snippet]) -> bool {
        snippets.iter().flat_map(Snippet::all_guards).any(|guard| match &guard.kind {
            GuardKind::TableMissing(t)
            | GuardKind::ColumnMissing { table: t, .. }
            | GuardKind::ConstraintMissing { table: t, .. }
            | GuardKind::ColumnRenamed { table: t, .. } => self.resolve_table(dialect, t).is_some(),
            GuardKind::TableRenamed { from, to } => {
                self.resolve_table(dialect, from).is_some() || self.resolve_table(dialect, to).is_some()
            }
            GuardKind::IndexMissing(i) => self.resolve_index(dialect, i).is_some(),
            GuardKind::IndexRenamed { from, to } => {
                self.resolve_index(dialect, from).is_some() || self.resolve_index(dialect, to).is_some()
            }
            GuardKind::TypeMissing(_)
            | GuardKind::FunctionMissing { .. }
            | GuardKind::ProcedureMissing { .. }
            | GuardKind::TriggerMissing { .. }
            | GuardKind::PolicyMissing { .. }
            | GuardKind::SequenceMissing(_) => !self.status(dialect, guard, &Probes::new()).is_missing(),
            // An extension is often installed in every database of a server (by a
            // template or the operator): it says nothing of the app's history.
            GuardKind::SchemaMissing(_) | GuardKind::ExtensionMissing(_) | GuardKind::Unless(_) => false,
        })
    }

    /// Whether `statement` locks a table this catalog holds, or one the build could not
    /// name while the catalog holds any table (see [`Statement::tables`]).
    pub(crate) fn locked_by(&self, dialect: DialectKind, statement: &Statement) -> bool {
        match &statement.tables {
            Some(tables) => tables.iter().any(|t| self.resolve_table(dialect, t).is_some()),
            None => !self.tables.is_empty(),
        }
    }

    /// `(schema, index)` of an index that exists but is invalid, if `name` is one.
    pub(crate) fn invalid_index(&self, dialect: DialectKind, name: &ObjectName) -> Option<(String, String)> {
        let index = normalise(dialect, &name.name);
        self.schemas_for(dialect, name)
            .into_iter()
            .find(|s| self.indexes.contains_key(&(s.clone(), index.clone())))
            .filter(|s| self.indexes.get(&(s.clone(), index.clone())) == Some(&false))
            .map(|s| (s, index))
    }

    /// Whether the index a name refers to is valid; `None` when there is none.
    fn resolve_index(&self, dialect: DialectKind, index: &ObjectName) -> Option<bool> {
        let name = normalise(dialect, &index.name);
        self.schemas_for(dialect, index).into_iter().find_map(|s| self.indexes.get(&(s, name.clone())).copied())
    }

    /// The `(schema, name)` and index of the function (or procedure) a guard names: the
    /// qualified one, or the first of the search path that has one with the same
    /// signature (any, where `args` is `None`).
    fn resolve_routine(
        &self,
        dialect: DialectKind,
        name: &ObjectName,
        procedure: bool,
        args: &Option<std::borrow::Cow<'static, str>>,
    ) -> Option<((String, String), usize)> {
        let routine = normalise(dialect, &name.name);
        self.schemas_for(dialect, name).into_iter().find_map(|s| {
            let key = (s, routine.clone());
            let found = self
                .routines
                .get(&key)?
                .iter()
                .position(|r| r.procedure == procedure && args.as_deref().is_none_or(|a| a == r.args))?;
            Some((key, found))
        })
    }

    /// The `(schema, sequence)` a name refers to.
    fn resolve_sequence(&self, dialect: DialectKind, name: &ObjectName) -> Option<(String, String)> {
        let sequence = normalise(dialect, &name.name);
        self.schemas_for(dialect, name).into_iter().map(|s| (s, sequence.clone())).find(|k| self.sequences.contains(k))
    }

    fn schemas_for(&self, dialect: DialectKind, name: &ObjectName) -> Vec<String> {
        match &name.schema {
            Some(schema) => vec![normalise(dialect, schema)],
            None => self.search_path.clone(),
        }
    }

    /// The `(schema, table)` a name refers to: the qualified one, or the first schema of
    /// the search path that has such a table.
    fn resolve_table(&self, dialect: DialectKind, name: &ObjectName) -> Option<(String, String)> {
        let table = normalise(dialect, &name.name);
        self.schemas_for(dialect, name).into_iter().map(|s| (s, table.clone())).find(|key| self.tables.contains(key))
    }
}

/// What the planner expects the catalog to be once earlier snippets of the same sync
/// have run: a guard is evaluated against the catalog its snippet will meet, not the
/// one read before the sync (a rename of a table that an earlier snippet creates is
/// needed, though the table is not there yet).
impl CatalogSnapshot {
    /// The first schema of the search path: where an unqualified name is created.
    fn home(&self, dialect: DialectKind, schema: &Option<Ident>) -> String {
        match schema {
            Some(s) => normalise(dialect, s),
            None => self.search_path.first().cloned().unwrap_or_default(),
        }
    }

    /// Where a table is, or would be created.
    fn place_table(&self, dialect: DialectKind, name: &ObjectName) -> (String, String) {
        self.resolve_table(dialect, name)
            .unwrap_or_else(|| (self.home(dialect, &name.schema), normalise(dialect, &name.name)))
    }

    /// Records the effect that `guard`'s statement is certain to have, once it ran.
    pub(crate) fn assume_ran(&mut self, dialect: DialectKind, guard: &Guard) {
        match &guard.kind {
            GuardKind::TableMissing(t) => {
                let key = self.place_table(dialect, t);
                self.tables.insert(key);
            }
            GuardKind::ColumnMissing { table, column } => {
                let (s, t) = self.place_table(dialect, table);
                self.columns.insert((s.clone(), t.clone(), normalise(dialect, column)));
                self.tables.insert((s, t));
            }
            GuardKind::ConstraintMissing { table, constraint } => {
                let (s, t) = self.place_table(dialect, table);
                self.constraints.insert((s, t, normalise(dialect, constraint)));
            }
            GuardKind::IndexMissing(i) => {
                let key = (self.home(dialect, &i.schema), normalise(dialect, &i.name));
                self.indexes.insert(key, true);
            }
            GuardKind::SchemaMissing(s) => {
                self.schemas.insert(normalise(dialect, s));
            }
            GuardKind::TypeMissing(t) => {
                let key = (self.home(dialect, &t.schema), normalise(dialect, &t.name));
                self.types.insert(key);
            }
            GuardKind::ColumnRenamed { table, from, to } => {
                let (s, t) = self.place_table(dialect, table);
                self.columns.remove(&(s.clone(), t.clone(), normalise(dialect, from)));
                self.columns.insert((s, t, normalise(dialect, to)));
            }
            GuardKind::TableRenamed { from, to } => {
                let (s, old) = self.place_table(dialect, from);
                let new_schema = to.schema.as_ref().map_or_else(|| s.clone(), |x| normalise(dialect, x));
                let new = normalise(dialect, &to.name);
                self.tables.remove(&(s.clone(), old.clone()));
                self.tables.insert((new_schema.clone(), new.clone()));
                let moved: Vec<_> = self.columns.iter().filter(|(cs, ct, _)| *cs == s && *ct == old).cloned().collect();
                for (cs, ct, c) in moved {
                    self.columns.remove(&(cs, ct, c.clone()));
                    self.columns.insert((new_schema.clone(), new.clone(), c));
                }
            }
            GuardKind::IndexRenamed { from, to } => {
                let old = normalise(dialect, &from.name);
                if let Some(s) = self
                    .schemas_for(dialect, from)
                    .into_iter()
                    .find(|s| self.indexes.contains_key(&(s.clone(), old.clone())))
                {
                    let valid = self.indexes.remove(&(s.clone(), old)).unwrap_or(true);
                    let new_schema = to.schema.as_ref().map_or(s, |x| normalise(dialect, x));
                    self.indexes.insert((new_schema, normalise(dialect, &to.name)), valid);
                }
            }
            GuardKind::FunctionMissing { name, args } | GuardKind::ProcedureMissing { name, args } => {
                let procedure = matches!(guard.kind, GuardKind::ProcedureMissing { .. });
                let key = (self.home(dialect, &name.schema), normalise(dialect, &name.name));
                let routine = Routine { procedure, args: args.as_deref().unwrap_or_default().to_owned() };
                let routines = self.routines.entry(key).or_default();
                if !routines.contains(&routine) {
                    routines.push(routine);
                }
            }
            GuardKind::TriggerMissing { table, trigger } => {
                let (s, t) = self.place_table(dialect, table);
                self.triggers.insert((s, t, normalise(dialect, trigger)));
            }
            GuardKind::PolicyMissing { table, policy } => {
                let (s, t) = self.place_table(dialect, table);
                self.policies.insert((s, t, normalise(dialect, policy)));
            }
            GuardKind::SequenceMissing(sequence) => {
                let key = (self.home(dialect, &sequence.schema), normalise(dialect, &sequence.name));
                self.sequences.insert(key);
            }
            GuardKind::ExtensionMissing(e) => {
                self.extensions.insert(normalise(dialect, e));
            }
            GuardKind::Unless(_) => {}
        }
    }

    /// Records that a snippet which removes `guard`'s object (its `undone_by`) ran.
    pub(crate) fn assume_undone(&mut self, dialect: DialectKind, guard: &Guard) {
        match &guard.kind {
            GuardKind::TableMissing(t) => {
                if let Some(key) = self.resolve_table(dialect, t) {
                    self.tables.remove(&key);
                }
            }
            GuardKind::ColumnMissing { table, column } => {
                if let Some((s, t)) = self.resolve_table(dialect, table) {
                    self.columns.remove(&(s, t, normalise(dialect, column)));
                }
            }
            GuardKind::ConstraintMissing { table, constraint } => {
                if let Some((s, t)) = self.resolve_table(dialect, table) {
                    self.constraints.remove(&(s, t, normalise(dialect, constraint)));
                }
            }
            GuardKind::IndexMissing(i) => {
                let name = normalise(dialect, &i.name);
                for s in self.schemas_for(dialect, i) {
                    self.indexes.remove(&(s, name.clone()));
                }
            }
            GuardKind::SchemaMissing(s) => {
                self.schemas.remove(&normalise(dialect, s));
            }
            GuardKind::TypeMissing(t) => {
                let name = normalise(dialect, &t.name);
                for s in self.schemas_for(dialect, t) {
                    self.types.remove(&(s, name.clone()));
                }
            }
            // What a rename created goes away: the new name.
            GuardKind::ColumnRenamed { table, to, .. } => {
                if let Some((s, t)) = self.resolve_table(dialect, table) {
                    self.columns.remove(&(s, t, normalise(dialect, to)));
                }
            }
            GuardKind::TableRenamed { to, .. } => {
                if let Some(key) = self.resolve_table(dialect, to) {
                    self.tables.remove(&key);
                }
            }
            GuardKind::IndexRenamed { to, .. } => {
                let name = normalise(dialect, &to.name);
                for s in self.schemas_for(dialect, to) {
                    self.indexes.remove(&(s, name.clone()));
                }
            }
            GuardKind::FunctionMissing { name, args } | GuardKind::ProcedureMissing { name, args } => {
                let procedure = matches!(guard.kind, GuardKind::ProcedureMissing { .. });
                if let Some((key, found)) = self.resolve_routine(dialect, name, procedure, args) {
                    if let Some(routines) = self.routines.get_mut(&key) {
                        routines.remove(found);
                    }
                }
            }
            GuardKind::TriggerMissing { table, trigger } => {
                if let Some((s, t)) = self.resolve_table(dialect, table) {
                    self.triggers.remove(&(s, t, normalise(dialect, trigger)));
                }
            }
            GuardKind::PolicyMissing { table, policy } => {
                if let Some((s, t)) = self.resolve_table(dialect, table) {
                    self.policies.remove(&(s, t, normalise(dialect, policy)));
                }
            }
            GuardKind::SequenceMissing(sequence) => {
                if let Some(key) = self.resolve_sequence(dialect, sequence) {
                    self.sequences.remove(&key);
                }
            }
            GuardKind::ExtensionMissing(e) => {
                self.extensions.remove(&normalise(dialect, e));
            }
            GuardKind::Unless(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snippet::GuardOrigin;

    fn guard(kind: GuardKind) -> Guard {
        Guard { kind, origin: GuardOrigin::Written { line: 1 }, undone_by: None }
    }

    fn name(schema: Option<&str>, n: &str) -> ObjectName {
        ObjectName { schema: schema.map(|s| Ident::bare(s.to_string())), name: Ident::bare(n.to_string()) }
    }

    fn snapshot() -> CatalogSnapshot {
        let mut s = CatalogSnapshot { search_path: vec!["public".into()], ..Default::default() };
        s.tables.insert(("public".into(), "users".into()));
        s.tables.insert(("billing".into(), "invoices".into()));
        s.columns.insert(("public".into(), "users".into(), "email".into()));
        s.indexes.insert(("public".into(), "users_email_idx".into()), true);
        s.indexes.insert(("public".into(), "broken_idx".into()), false);
        s
    }

    #[test]
    fn unqualified_names_follow_the_search_path_and_qualified_ones_do_not() {
        let s = snapshot();
        let pg = DialectKind::Postgres;
        let p = Probes::new();
        assert_eq!(s.status(pg, &guard(GuardKind::TableMissing(name(None, "users"))), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &guard(GuardKind::TableMissing(name(None, "invoices"))), &p), GuardStatus::Missing);
        assert_eq!(
            s.status(pg, &guard(GuardKind::TableMissing(name(Some("billing"), "invoices"))), &p),
            GuardStatus::Present
        );
    }

    #[test]
    fn an_invalid_index_counts_as_missing() {
        let s = snapshot();
        let p = Probes::new();
        let pg = DialectKind::Postgres;
        assert_eq!(
            s.status(pg, &guard(GuardKind::IndexMissing(name(None, "users_email_idx"))), &p),
            GuardStatus::Present
        );
        assert_eq!(s.status(pg, &guard(GuardKind::IndexMissing(name(None, "broken_idx"))), &p), GuardStatus::Missing);
    }

    #[test]
    fn postgres_folds_bare_names_and_keeps_quoted_ones() {
        let s = snapshot();
        let p = Probes::new();
        let pg = DialectKind::Postgres;
        let bare_upper = guard(GuardKind::TableMissing(name(None, "USERS")));
        assert_eq!(s.status(pg, &bare_upper, &p), GuardStatus::Present);
        let quoted_upper = guard(GuardKind::TableMissing(ObjectName {
            schema: None,
            name: Ident { value: "USERS".into(), quoted: true },
        }));
        assert_eq!(s.status(pg, &quoted_upper, &p), GuardStatus::Missing);
    }

    #[test]
    fn a_failed_unless_query_is_unknown_and_counts_as_missing() {
        let s = snapshot();
        let mut p = Probes::new();
        p.insert("SELECT 1".into(), Err("no such table".into()));
        let status = s.status(DialectKind::Sqlite, &guard(GuardKind::Unless("SELECT 1;".into())), &p);
        assert!(matches!(status, GuardStatus::Unknown(ref e) if e == "no such table"));
        assert!(status.is_missing());
    }

    #[test]
    fn a_rename_is_needed_while_the_old_name_is_there_and_the_new_one_is_not() {
        let mut s = snapshot();
        let p = Probes::new();
        let sq = DialectKind::Sqlite;
        let rename = |from: &str, to: &str| {
            guard(GuardKind::ColumnRenamed {
                table: name(None, "users"),
                from: Ident::bare(from.to_string()),
                to: Ident::bare(to.to_string()),
            })
        };
        assert_eq!(s.status(sq, &rename("email", "mail"), &p), GuardStatus::Missing);
        assert_eq!(s.status(sq, &rename("nothing", "mail"), &p), GuardStatus::Present);
        s.columns.insert(("public".into(), "users".into(), "mail".into()));
        assert_eq!(s.status(sq, &rename("email", "mail"), &p), GuardStatus::Present, "both there: cannot rename");
        let table =
            |from: &str, to: &str| guard(GuardKind::TableRenamed { from: name(None, from), to: name(None, to) });
        assert_eq!(s.status(sq, &table("users", "people"), &p), GuardStatus::Missing);
        s.tables.insert(("public".into(), "people".into()));
        assert_eq!(s.status(sq, &table("users", "people"), &p), GuardStatus::Present);
        assert_eq!(s.status(sq, &table("gone", "people"), &p), GuardStatus::Present);
    }

    #[test]
    fn schemas_and_types_are_looked_up() {
        let mut s = snapshot();
        let p = Probes::new();
        let pg = DialectKind::Postgres;
        s.schemas.insert("billing".into());
        s.types.insert(("public".into(), "mood".into()));
        assert_eq!(s.status(pg, &guard(GuardKind::SchemaMissing(Ident::bare("billing"))), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &guard(GuardKind::SchemaMissing(Ident::bare("audit"))), &p), GuardStatus::Missing);
        assert_eq!(s.status(pg, &guard(GuardKind::TypeMissing(name(None, "mood"))), &p), GuardStatus::Present);
        assert_eq!(
            s.status(pg, &guard(GuardKind::TypeMissing(name(Some("billing"), "mood"))), &p),
            GuardStatus::Missing
        );
    }

    #[test]
    fn routines_are_told_apart_by_signature_and_kind() {
        let mut s = snapshot();
        let p = Probes::new();
        let pg = DialectKind::Postgres;
        let routine = |procedure, args: &str| Routine { procedure, args: args.into() };
        s.routines.insert(("public".into(), "add".into()), vec![routine(false, "int4,int4"), routine(true, "text")]);
        let function = |args: Option<&str>| {
            guard(GuardKind::FunctionMissing { name: name(None, "add"), args: args.map(|a| a.to_owned().into()) })
        };
        let procedure = |args: &str| {
            guard(GuardKind::ProcedureMissing { name: name(None, "add"), args: Some(args.to_owned().into()) })
        };
        assert_eq!(s.status(pg, &function(Some("int4,int4")), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &function(Some("int4")), &p), GuardStatus::Missing, "another overload");
        assert_eq!(s.status(pg, &function(Some("text")), &p), GuardStatus::Missing, "a procedure, not a function");
        assert_eq!(s.status(pg, &procedure("text"), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &function(None), &p), GuardStatus::Present, "by name: any signature");
        let elsewhere = guard(GuardKind::FunctionMissing { name: name(Some("billing"), "add"), args: None });
        assert_eq!(s.status(pg, &elsewhere, &p), GuardStatus::Missing);

        // What a run creates and what a later drop removes, as the plan expects them.
        let text = function(Some("text"));
        s.assume_ran(pg, &text);
        assert_eq!(s.status(pg, &text, &p), GuardStatus::Present);
        s.assume_undone(pg, &function(Some("int4,int4")));
        assert_eq!(s.status(pg, &function(Some("int4,int4")), &p), GuardStatus::Missing);
        assert_eq!(s.status(pg, &text, &p), GuardStatus::Present, "the other overload stays");
    }

    #[test]
    fn triggers_policies_sequences_and_extensions_are_looked_up() {
        let mut s = snapshot();
        let p = Probes::new();
        let pg = DialectKind::Postgres;
        s.triggers.insert(("public".into(), "users".into(), "users_touch".into()));
        s.policies.insert(("public".into(), "users".into(), "own".into()));
        s.sequences.insert(("billing".into(), "invoice_no".into()));
        s.extensions.insert("pgcrypto".into());
        let trigger = |table: &str, t: &str| {
            guard(GuardKind::TriggerMissing { table: name(None, table), trigger: Ident::bare(t.to_string()) })
        };
        assert_eq!(s.status(pg, &trigger("users", "users_touch"), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &trigger("invoices", "users_touch"), &p), GuardStatus::Missing, "another table");
        let policy = guard(GuardKind::PolicyMissing { table: name(None, "USERS"), policy: Ident::bare("own") });
        assert_eq!(s.status(pg, &policy, &p), GuardStatus::Present, "a bare name folds");
        let sequence = |schema| guard(GuardKind::SequenceMissing(name(schema, "invoice_no")));
        assert_eq!(s.status(pg, &sequence(Some("billing")), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &sequence(None), &p), GuardStatus::Missing, "not on the search path");
        let extension = |e: &str| guard(GuardKind::ExtensionMissing(Ident::bare(e.to_string())));
        assert_eq!(s.status(pg, &extension("pgcrypto"), &p), GuardStatus::Present);
        assert_eq!(s.status(pg, &extension("citext"), &p), GuardStatus::Missing);
        // An extension says nothing of the app's history (a template may install it);
        // the others do.
        let extension_only = Snippet {
            version: 1,
            version_text: "1".into(),
            description: "x".into(),
            path: "sql/1_x.sql".into(),
            checksum: "sha256:x".into(),
            legacy_checksum: "sha256:x".into(),
            sql: "SELECT 1".into(),
            statements: std::borrow::Cow::Owned(Vec::new()),
            guards: std::borrow::Cow::Owned(vec![extension("pgcrypto")]),
            transaction: crate::snippet::TransactionMode::Wrapped,
            destructive: false,
            on_change: crate::snippet::OnChange::Refuse,
            history: false,
            foreign: None,
        };
        assert!(!s.holds_any(pg, std::slice::from_ref(&extension_only)));
        let with_trigger =
            Snippet { guards: std::borrow::Cow::Owned(vec![trigger("users", "users_touch")]), ..extension_only };
        assert!(s.holds_any(pg, &[with_trigger]));
    }
}
