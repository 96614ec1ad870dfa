//! The SQLite snapshot: five queries over `sqlite_schema` and its table-valued pragmas,
//! whatever the schema's size. SQLite keeps keys and foreign keys unnamed (their name
//! reads as empty) and check constraints only inside the table's SQL, which is not
//! parsed here: a table's checks are listed as one entry, the digest of its `CREATE
//! TABLE` text's `CHECK` clauses, so that a change to them still shows.

// Rows are read as tuples that mirror each query's SELECT list, column by column.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;

use sqlx::SqliteConnection;

use super::{definition_digest, group, normalise_type, Check, Column, ForeignKey, Index, Key, Snapshot, Table, View};
use crate::error::Error;
use crate::snippet::DialectKind;

/// Reads the snapshot of the `main` database; `ledger` is the ledger table's name.
pub(crate) async fn read(conn: &mut SqliteConnection, ledger: &str) -> Result<Snapshot, Error> {
    let failed =
        |what: &'static str| move |e: sqlx::Error| Error::db(format!("reading the SQLite catalog ({what})"))(e);
    let mut snapshot = Snapshot::new(DialectKind::Sqlite);
    snapshot.schemas = vec!["main".into()];
    let user = "m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

    let objects: Vec<(String, String, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.type, m.name, m.sql FROM sqlite_schema m WHERE m.type IN ('table', 'view') AND {user}"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("tables"))?;
    let mut tables: HashMap<String, Table> = HashMap::new();
    for (kind, name, sql) in objects {
        if name == ledger {
            continue;
        }
        if kind == "view" {
            snapshot.views.push(View {
                definition_sha256: definition_digest(view_body(sql.as_deref().unwrap_or(""))),
                name,
                materialized: false,
                indexes: Vec::new(),
            });
            continue;
        }
        let checks = check_clauses(sql.as_deref().unwrap_or(""));
        let mut table = Table::new(name.clone());
        if !checks.is_empty() {
            table.checks.push(Check { name: String::new(), expression: checks.join(" ") });
        }
        tables.insert(name, table);
    }

    let columns: Vec<(String, i64, String, String, bool, Option<String>, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
             FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p \
             WHERE m.type = 'table' AND {user} ORDER BY m.name, p.cid"
        )))
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("columns"))?;
    for (table_name, rows) in group(columns.into_iter().map(|r| (r.0.clone(), r))) {
        let Some(table) = tables.get_mut(&table_name) else { continue };
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (_, _, name, declared_type, not_null, default, in_pk, hidden) in rows {
            if in_pk > 0 {
                pk.push((in_pk, name.clone()));
            }
            let generated = match hidden {
                2 => Some("virtual".to_string()),
                3 => Some("stored".to_string()),
                _ => None,
            };
            table.columns.push(Column {
                normalised_type: normalise_type(&declared_type),
                name,
                declared_type,
                // A primary key column is NOT NULL whatever SQLite reports for it (its
                // rowid alias can never be null); other key columns as declared.
                nullable: !not_null && in_pk == 0,
                default,
                generated,
            });
        }
        pk.sort();
        if !pk.is_empty() {
            table.primary_key = Some(Key { name: String::new(), columns: pk.into_iter().map(|(_, c)| c).collect() });
        }
    }

    // The index's SQL (for a partial index's predicate) through a join, which SQLite
    // runs with an automatic index: as a subquery per index it read the whole schema
    // for each (30 s for 10,000 indexes).
    let indexes: Vec<(String, String, bool, String, bool, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.name, il.name, il.\"unique\", il.origin, il.partial, s.sql \
         FROM sqlite_schema m JOIN pragma_index_list(m.name) il \
         LEFT JOIN sqlite_schema s ON s.type = 'index' AND s.name = il.name \
         WHERE m.type = 'table' AND {user}"
        )))
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("indexes"))?;
    let columns_of: Vec<(String, i64, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT il.name, ii.seqno, ii.name FROM sqlite_schema m JOIN pragma_index_list(m.name) il \
         JOIN pragma_index_info(il.name) ii WHERE m.type = 'table' AND {user} ORDER BY il.name, ii.seqno"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("index columns"))?;
    let index_columns = group(columns_of.into_iter().map(|(index, _, column)| (index, column)));
    for (table_name, name, unique, origin, partial, sql) in indexes {
        let Some(table) = tables.get_mut(&table_name) else { continue };
        let columns: Vec<String> = index_columns
            .get(&name)
            .map(|cs| cs.iter().map(|c| c.clone().unwrap_or_else(|| "<expression>".into())).collect())
            .unwrap_or_default();
        match origin.as_str() {
            "u" => table.unique.push(Key { name: String::new(), columns: columns.clone() }),
            // The primary key's own index (a `WITHOUT ROWID` table's or a non-integer key's).
            "pk" => continue,
            _ => {}
        }
        let predicate = if partial { sql.as_deref().and_then(where_clause) } else { None };
        table.indexes.push(Index { name, columns, unique, predicate, valid: true });
    }

    let foreign: Vec<(String, i64, i64, String, String, Option<String>, String, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
             FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND {user} \
             ORDER BY m.name, f.id, f.seq"
        )))
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("foreign keys"))?;
    for ((table_name, _), rows) in group(foreign.into_iter().map(|r| ((r.0.clone(), r.1), r))) {
        let Some(table) = tables.get_mut(&table_name) else { continue };
        let first = &rows[0];
        table.foreign_keys.push(ForeignKey {
            name: String::new(),
            columns: rows.iter().map(|r| r.4.clone()).collect(),
            references: first.3.clone(),
            referenced_columns: rows.iter().filter_map(|r| r.5.clone()).collect(),
            on_delete: first.7.to_ascii_lowercase(),
            on_update: first.6.to_ascii_lowercase(),
        });
    }

    snapshot.tables = tables.into_values().collect();
    snapshot.sort();
    Ok(snapshot)
}

/// The `SELECT …` of a `CREATE VIEW v AS SELECT …`.
fn view_body(sql: &str) -> &str {
    let upper = sql.to_ascii_uppercase();
    match upper.find(" AS ") {
        Some(i) => &sql[i + 4..],
        None => sql,
    }
}

/// The text after the last top-level ` WHERE ` of a `CREATE INDEX`.
fn where_clause(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    upper.rfind(" WHERE ").map(|i| sql[i + 7..].trim().to_string())
}

/// The `CHECK (…)` clauses of a `CREATE TABLE`, each with its balanced parentheses,
/// whitespace collapsed.
fn check_clauses(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = upper[from..].find("CHECK") {
        let start = from + i;
        let rest = &sql[start + 5..];
        let Some(open) = rest.find('(') else { break };
        if !rest[..open].trim().is_empty() {
            from = start + 5;
            continue;
        }
        let mut depth = 0;
        let mut end = None;
        for (j, c) in rest[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + j + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let clause = format!("CHECK {}", &rest[open..end]);
        out.push(clause.split_whitespace().collect::<Vec<_>>().join(" "));
        from = start + 5 + end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_clauses_are_found_with_their_parentheses() {
        let sql = "CREATE TABLE t (a INT CHECK (a > 0), b TEXT, CONSTRAINT c CHECK ((length(b)) < 10))";
        assert_eq!(check_clauses(sql), ["CHECK (a > 0)", "CHECK ((length(b)) < 10)"]);
        assert!(check_clauses("CREATE TABLE checks (a INT)").is_empty());
    }

    #[test]
    fn a_partial_index_keeps_its_predicate() {
        assert_eq!(where_clause("CREATE INDEX i ON t (a) WHERE a IS NOT NULL").as_deref(), Some("a IS NOT NULL"));
    }
}
