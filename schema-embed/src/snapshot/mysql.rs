//! The MySQL / MariaDB snapshot: nine queries (eight of `information_schema`, none joining
//! two of them), whatever the schema's size, over the connection's database.

// Rows are read as tuples that mirror each query's SELECT list, column by column.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;

use sqlx::MySqlConnection;

use super::{
    definition_digest, group, normalise_type, Check, Column, ForeignKey, Index, Key, Sequence, Snapshot, Table, View,
};
use crate::error::Error;
use crate::snippet::DialectKind;

/// `CONVERT(col USING utf8mb4)`: `information_schema` columns come back in the server's
/// system character set, which sqlx reads as bytes on some servers.
fn text(col: &str) -> String {
    format!("CONVERT({col} USING utf8mb4)")
}

/// Reads the snapshot of the connection's database; `ledger` is the ledger table's name.
pub(crate) async fn read(conn: &mut MySqlConnection, ledger: &str) -> Result<Snapshot, Error> {
    let failed = |what: &'static str| move |e: sqlx::Error| Error::db(format!("reading the MySQL catalog ({what})"))(e);
    let mut snapshot = Snapshot::new(DialectKind::MySql);
    let (database, version): (Option<String>, String) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {}, {}", text("DATABASE()"), text("VERSION()"))))
            .fetch_one(&mut *conn)
            .await
            .map_err(failed("database"))?;
    let database = database.unwrap_or_default();
    let mariadb = version.contains("MariaDB");
    snapshot.schemas = vec![database.clone()];

    // Views on their own: joined to TABLES, MariaDB opens every view of the server.
    let relations: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {} FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        text("TABLE_NAME"),
        text("TABLE_TYPE"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("tables"))?;
    let definitions: HashMap<String, Option<String>> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {} FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
        text("TABLE_NAME"),
        text("VIEW_DEFINITION"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("views"))?
    .into_iter()
    .collect();
    let relations = relations.into_iter().map(|(name, kind)| {
        let view = definitions.get(&name).cloned().flatten();
        (name, kind, view)
    });
    let qualifier = format!("`{}`.", database.replace('`', "``"));
    let mut tables: HashMap<String, Table> = HashMap::new();
    for (name, kind, view) in relations {
        if name == ledger {
            continue;
        }
        match kind.as_str() {
            "VIEW" => snapshot.views.push(View {
                // MySQL prints a view's tables qualified with the database's name
                // (`` `app`.`users` ``): the same view in two databases reads the same.
                definition_sha256: definition_digest(&view.as_deref().unwrap_or("").replace(&qualifier, "")),
                name,
                materialized: false,
                indexes: Vec::new(),
            }),
            "SEQUENCE" => snapshot.sequences.push(Sequence { name, data_type: "bigint".into(), owned_by: None }),
            _ => {
                tables.insert(name.clone(), Table::new(name));
            }
        }
    }

    let columns: Vec<(String, String, String, String, Option<String>, String, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {}, {}, {}, {}, {}, {}, {} FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
            text("TABLE_NAME"),
            text("COLUMN_NAME"),
            text("COLUMN_TYPE"),
            text("IS_NULLABLE"),
            text("COLUMN_DEFAULT"),
            text("EXTRA"),
            text("GENERATION_EXPRESSION"),
        )))
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("columns"))?;
    for (table, name, declared_type, nullable, default, extra, expression) in columns {
        let Some(table) = tables.get_mut(&table) else { continue };
        let extra = extra.to_ascii_lowercase();
        let generated = if extra.contains("auto_increment") {
            Some("auto_increment".to_string())
        } else if extra.contains("stored generated") || extra.contains("persistent") {
            Some(format!("stored: {}", expression.clone().unwrap_or_default()))
        } else if extra.contains("virtual") {
            Some(format!("virtual: {}", expression.clone().unwrap_or_default()))
        } else {
            None
        };
        // MariaDB prints a missing default of a nullable column as `NULL`.
        let default = if generated.is_some() { None } else { default.filter(|d| d != "NULL") };
        table.columns.push(Column {
            normalised_type: normalise_type(&declared_type),
            name,
            declared_type,
            nullable: nullable == "YES",
            default,
            generated,
        });
    }

    // Keys and checks. Each `information_schema` table is read on its own and joined
    // here: MariaDB builds these tables in memory without an index, so a join of two of
    // them compares every row with every row (75 s for the keys of 5,000 tables).
    let constraints: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {}, {} FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE()",
        text("TABLE_NAME"),
        text("CONSTRAINT_NAME"),
        text("CONSTRAINT_TYPE"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("constraints"))?;
    // Key columns in order; a foreign key's have the referenced table and column.
    let key_columns: Vec<(String, String, Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {}, {}, {}, {}, {} FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
            text("TABLE_NAME"),
            text("CONSTRAINT_NAME"),
            text("COLUMN_NAME"),
            text("REFERENCED_TABLE_NAME"),
            text("REFERENCED_COLUMN_NAME"),
        )))
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("key columns"))?;
    let key_columns = group(key_columns.into_iter().map(|r| ((r.0.clone(), r.1.clone()), r)));
    let rules: HashMap<(String, String), (String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {}, {}, {} FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
        text("TABLE_NAME"),
        text("CONSTRAINT_NAME"),
        text("DELETE_RULE"),
        text("UPDATE_RULE"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("foreign key actions"))?
    .into_iter()
    .map(|(table, name, on_delete, on_update): (String, String, String, String)| {
        ((table, name), (on_delete, on_update))
    })
    .collect();
    // MariaDB names a column's own check after the column, so two tables can have
    // checks of the same name: its CHECK_CONSTRAINTS has the table. MySQL's has not, and
    // its check names are unique in a schema.
    let checks: Vec<(Option<String>, String, String)> = if mariadb {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {}, {}, {} FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
            text("TABLE_NAME"),
            text("CONSTRAINT_NAME"),
            text("CHECK_CLAUSE"),
        )))
    } else {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(NULL AS CHAR), {}, {} FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
            text("CONSTRAINT_NAME"),
            text("CHECK_CLAUSE"),
        )))
    }
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("checks"))?;
    let checks: HashMap<(Option<String>, String), String> =
        checks.into_iter().map(|(table, name, clause)| ((table, name), clause)).collect();

    for (table_name, name, kind) in constraints {
        let Some(table) = tables.get_mut(&table_name) else { continue };
        let key = (table_name, name);
        let rows = key_columns.get(&key).map(Vec::as_slice).unwrap_or_default();
        // A unique key and a foreign key may share a name: a foreign key's columns are
        // those with a referenced table.
        let (foreign, own): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.3.is_some());
        let columns = |rows: &[&(String, String, Option<String>, Option<String>, Option<String>)]| {
            rows.iter().filter_map(|r| r.2.clone()).collect::<Vec<_>>()
        };
        let name = key.1.clone();
        match kind.as_str() {
            "PRIMARY KEY" => table.primary_key = Some(Key { name, columns: columns(&own) }),
            "UNIQUE" => table.unique.push(Key { name, columns: columns(&own) }),
            "FOREIGN KEY" => {
                let (on_delete, on_update) = rules.get(&key).cloned().unwrap_or_default();
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns: columns(&foreign),
                    references: foreign.first().and_then(|r| r.3.clone()).unwrap_or_default(),
                    referenced_columns: foreign.iter().filter_map(|r| r.4.clone()).collect(),
                    on_delete: on_delete.to_ascii_lowercase(),
                    on_update: on_update.to_ascii_lowercase(),
                });
            }
            "CHECK" => {
                let clause = checks.get(&(mariadb.then(|| key.0.clone()), name.clone()));
                if let Some(expression) = clause {
                    table.checks.push(Check { name, expression: expression.clone() });
                }
            }
            _ => {}
        }
    }

    let indexes: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {}, CAST(NON_UNIQUE AS SIGNED), {} FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        text("TABLE_NAME"),
        text("INDEX_NAME"),
        text("COLUMN_NAME"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("indexes"))?;
    for ((table, name), rows) in group(indexes.into_iter().map(|r| ((r.0.clone(), r.1.clone()), r))) {
        let Some(table) = tables.get_mut(&table) else { continue };
        table.indexes.push(Index {
            unique: rows.first().is_some_and(|r| r.2 == 0),
            columns: rows.into_iter().map(|r| r.3.unwrap_or_else(|| "<expression>".into())).collect(),
            name,
            predicate: None,
            valid: true,
        });
    }

    snapshot.tables = tables.into_values().collect();
    snapshot.sort();
    Ok(snapshot)
}
