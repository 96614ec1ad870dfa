//! A snapshot of the live catalog, and the guards evaluated against it.
//!
//! The snapshot is read in one query per sync (whatever the number of snippets) by the
//! dialect; this module only answers "is this object there?" from it, following each
//! database's rules for case and unqualified names.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::snippet::{DialectKind, Guard, GuardKind, Ident, ObjectName, Snippet};

/// What the planner learns of one guard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
}

/// How a dialect compares identifiers: PostgreSQL folds bare names to lower case and
/// keeps quoted ones exact; MySQL and SQLite compare without regard to case.
pub(crate) fn normalise(dialect: DialectKind, ident: &Ident) -> String {
    match dialect {
        DialectKind::Postgres if ident.quoted => ident.value.to_string(),
        _ => ident.value.to_lowercase(),
    }
}

/// How a name read from the catalog is stored in the snapshot.
pub(crate) fn catalog_key(dialect: DialectKind, name: &str) -> String {
    match dialect {
        DialectKind::Postgres => name.to_string(),
        _ => name.to_lowercase(),
    }
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
        for guard in snippets.into_iter().flat_map(Snippet::all_guards) {
            match &guard.kind {
                GuardKind::TableMissing(t) => add_table(&mut scope, t),
                GuardKind::ColumnMissing { table, .. } | GuardKind::ConstraintMissing { table, .. } => {
                    add_table(&mut scope, table)
                }
                GuardKind::IndexMissing(i) => {
                    if let Some(schema) = &i.schema {
                        scope.schemas.insert(normalise(dialect, schema));
                    }
                    scope.indexes.insert(normalise(dialect, &i.name));
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
            GuardKind::IndexMissing(index) => {
                let name = normalise(dialect, &index.name);
                let valid = self
                    .schemas_for(dialect, index)
                    .into_iter()
                    .find_map(|s| self.indexes.get(&(s, name.clone())).copied());
                present(valid == Some(true))
            }
            GuardKind::Unless(query) => match probes.get(unless_query(query)) {
                Some(Ok(found)) => present(*found),
                Some(Err(error)) => GuardStatus::Unknown(error.clone()),
                None => GuardStatus::Unknown("the query was not evaluated".into()),
            },
        }
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
        self.schemas_for(dialect, name)
            .into_iter()
            .map(|s| (s, table.clone()))
            .find(|key| self.tables.contains(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snippet::GuardOrigin;

    fn guard(kind: GuardKind) -> Guard {
        Guard { kind, origin: GuardOrigin::Written { line: 1 } }
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
        assert_eq!(s.status(pg, &guard(GuardKind::IndexMissing(name(None, "users_email_idx"))), &p), GuardStatus::Present);
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
}
