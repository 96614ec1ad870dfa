//! The MySQL / MariaDB snapshot: seven queries (six of `information_schema`), whatever the
//! schema's size, over the connection's database.

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
    let database: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {}", text("DATABASE()"))))
        .fetch_one(&mut *conn)
        .await
        .map_err(failed("database"))?;
    let database = database.unwrap_or_default();
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
    let mut tables: HashMap<String, Table> = HashMap::new();
    for (name, kind, view) in relations {
        if name == ledger {
            continue;
        }
        match kind.as_str() {
            "VIEW" => snapshot.views.push(View {
                definition_sha256: definition_digest(view.as_deref().unwrap_or("")),
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

    // Keys: the constraints with their columns in order (a check has none).
    let keys: Vec<(
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {}, {}, {}, {}, {}, {}, {} FROM information_schema.TABLE_CONSTRAINTS tc \
             LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
               AND k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
               AND r.TABLE_NAME = tc.TABLE_NAME AND r.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE <> 'CHECK' \
             ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        text("tc.TABLE_NAME"),
        text("tc.CONSTRAINT_NAME"),
        text("tc.CONSTRAINT_TYPE"),
        text("k.COLUMN_NAME"),
        text("k.REFERENCED_TABLE_NAME"),
        text("k.REFERENCED_COLUMN_NAME"),
        text("r.DELETE_RULE"),
        text("r.UPDATE_RULE"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("keys"))?;
    for ((table, name, kind), rows) in group(keys.into_iter().map(|r| ((r.0.clone(), r.1.clone(), r.2.clone()), r))) {
        let Some(table) = tables.get_mut(&table) else { continue };
        let columns: Vec<String> = rows.iter().filter_map(|r| r.3.clone()).collect();
        match kind.as_str() {
            "PRIMARY KEY" => table.primary_key = Some(Key { name, columns }),
            "UNIQUE" => table.unique.push(Key { name, columns }),
            _ => table.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: rows.first().and_then(|r| r.4.clone()).unwrap_or_default(),
                referenced_columns: rows.iter().filter_map(|r| r.5.clone()).collect(),
                on_delete: rows.first().and_then(|r| r.6.clone()).unwrap_or_default().to_ascii_lowercase(),
                on_update: rows.first().and_then(|r| r.7.clone()).unwrap_or_default().to_ascii_lowercase(),
            }),
        }
    }

    let checks: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, {}, {} FROM information_schema.TABLE_CONSTRAINTS tc \
         JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
           AND c.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
         WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'",
        text("tc.TABLE_NAME"),
        text("tc.CONSTRAINT_NAME"),
        text("c.CHECK_CLAUSE"),
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed("checks"))?;
    for (table, name, expression) in checks {
        if let Some(table) = tables.get_mut(&table) {
            table.checks.push(Check { name, expression });
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
