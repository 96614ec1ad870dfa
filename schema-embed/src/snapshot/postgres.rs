//! The PostgreSQL snapshot: seven catalog queries in one read-only transaction, whatever
//! the schema's size. The scope is the search path's schemas, less the schemas an
//! extension owns (see the extensions' query); relations and types that belong to an
//! extension are counted under it, not listed as the app's. Partitions are listed under
//! the partitioned table.

// Rows are read as tuples that mirror each query's SELECT list, column by column.
#![allow(clippy::type_complexity)]

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::{
    definition_digest, group, normalise_type, Check, Column, Extension, ForeignKey, Index, Key, Partition, Sequence,
    Snapshot, Table, TypeDef, View,
};
use crate::error::Error;
use crate::snippet::DialectKind;

/// Not a member of an extension (`pg_depend` deptype `e`), for `pg_class` rows `c`.
const NOT_EXTENSION_RELATION: &str = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
     AND d.objid = c.oid AND d.deptype = 'e')";

/// The schemas a snapshot reads: `include` in place of the search path when not empty,
/// less `exclude` ([`crate::Settings::schemas`], [`crate::Settings::exclude_schemas`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaScope<'a> {
    pub include: &'a [String],
    pub exclude: &'a [String],
}

/// Not a member of an extension, for `pg_type` rows `t`.
const NOT_EXTENSION_TYPE: &str = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass \
     AND d.objid = t.oid AND d.deptype = 'e')";

/// The types a snapshot lists, for `pg_type` rows `t`: enums, domains, ranges, and
/// composite types of their own (not a table's row type).
const LISTED_TYPE: &str = "(t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class tc \
     WHERE tc.oid = t.typrelid AND tc.relkind = 'c')))";

/// Reads the snapshot; `ledger` is the ledger table (schema, name), left out.
pub(crate) async fn read(
    conn: &mut PgConnection,
    ledger: (Option<&str>, &str),
    scope: SchemaScope<'_>,
) -> Result<Snapshot, Error> {
    let failed =
        |what: &'static str| move |e: sqlx::Error| Error::db(format!("reading the PostgreSQL catalog ({what})"))(e);
    let mut tx = conn.begin().await.map_err(failed("starting a transaction"))?;
    sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(failed("starting a transaction"))?;
    let mut snapshot = Snapshot::new(DialectKind::Postgres);

    snapshot.extensions = extensions(&mut tx).await?;
    let owned: Vec<String> = snapshot.extensions.iter().flat_map(|e| e.owns_schemas.clone()).collect();

    let schemas = schemas_in_scope(&mut tx, scope, &owned).await?;
    let default_schema = schemas.first().cloned().unwrap_or_default();
    let qualify = |schema: &str, name: &str| {
        if schema == default_schema {
            name.to_string()
        } else {
            format!("{schema}.{name}")
        }
    };
    snapshot.schemas = schemas.clone();

    // Relations: tables, views, materialized views, sequences (with type and owner),
    // partitions (with their parent and bound).
    let relations: Vec<(
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, \
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, \
               CASE WHEN c.relkind = 'S' THEN (SELECT format_type(s.seqtypid, NULL) FROM pg_sequence s \
                                               WHERE s.seqrelid = c.oid) END, \
               CASE WHEN c.relkind = 'S' THEN (SELECT tn.nspname || '.' || tc.relname || '.' || a.attname \
                    FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid \
                    JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
                    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) END, \
               CASE WHEN c.relispartition THEN (SELECT i.inhparent::int8 FROM pg_inherits i \
                                                WHERE i.inhrelid = c.oid) END, \
               CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \
               AND {NOT_EXTENSION_RELATION}"
    )))
    .bind(&schemas)
    .fetch_all(&mut *tx)
    .await
    .map_err(failed("relations"))?;
    let mut tables: HashMap<i64, Table> = HashMap::new();
    let mut views: HashMap<i64, View> = HashMap::new();
    // Partitions by their oid: name, bound, parent.
    let mut partitions: HashMap<i64, (String, String, i64)> = HashMap::new();
    for (oid, schema, name, kind, view, seq_type, owner, parent, bound) in relations {
        if name == ledger.1 && schema == ledger.0.unwrap_or(&default_schema) {
            continue;
        }
        let qualified = qualify(&schema, &name);
        if let Some(parent) = parent {
            partitions.insert(oid, (qualified, bound.unwrap_or_default(), parent));
            continue;
        }
        match kind.as_str() {
            "r" | "p" => {
                tables.insert(oid, Table::new(qualified));
            }
            "v" | "m" => {
                views.insert(
                    oid,
                    View {
                        name: qualified,
                        materialized: kind == "m",
                        definition_sha256: definition_digest(view.as_deref().unwrap_or("")),
                        indexes: Vec::new(),
                    },
                );
            }
            _ => snapshot.sequences.push(Sequence {
                name: qualified,
                data_type: seq_type.unwrap_or_default(),
                owned_by: owner.map(|o| {
                    let (schema, rest) = o.split_once('.').unwrap_or(("", &o));
                    qualify(schema, rest)
                }),
            }),
        }
    }
    // Each partition under the table at the top of its tree (one in scope).
    for (name, bound, parent) in partitions.values() {
        let mut top = *parent;
        while let Some((_, _, up)) = partitions.get(&top) {
            top = *up;
        }
        if let Some(table) = tables.get_mut(&top) {
            table.partitions.push(Partition { name: name.clone(), bound: bound.clone() });
        }
    }

    let columns: Vec<(i64, String, String, bool, Option<String>, String, String)> =
        sqlx::query_as(AssertSqlSafe(format!(
            "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
           pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text, a.attgenerated::text \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
           AND {NOT_EXTENSION_RELATION} \
         ORDER BY a.attrelid, a.attnum"
        )))
        .bind(&schemas)
        .fetch_all(&mut *tx)
        .await
        .map_err(failed("columns"))?;
    for (oid, rows) in group(columns.into_iter().map(|r| (r.0, r))) {
        let Some(table) = tables.get_mut(&oid) else { continue };
        for (_, name, declared_type, nullable, expr, identity, generated) in rows {
            let (default, generated) = match (identity.as_str(), generated.as_str()) {
                ("a", _) => (None, Some("identity always".to_string())),
                ("d", _) => (None, Some("identity by default".to_string())),
                (_, "s") => (None, expr.map(|e| format!("stored: {e}"))),
                (_, "v") => (None, expr.map(|e| format!("virtual: {e}"))),
                _ => (expr, None),
            };
            table.columns.push(Column {
                normalised_type: normalise_type(&declared_type),
                name,
                declared_type,
                nullable,
                default,
                generated,
            });
        }
    }

    type ConstraintRow = (i64, String, String, Vec<String>, Option<String>, Vec<String>, String, String, String);
    let constraints: Vec<ConstraintRow> = sqlx::query_as(
        "SELECT con.conrelid::int8, con.conname::text, con.contype::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), \
           (SELECT fn.nspname || '.' || fc.relname FROM pg_class fc JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
             WHERE fc.oid = con.confrelid), \
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord), \
           con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = ANY($1) AND con.contype IN ('p', 'u', 'f', 'c', 'x')",
    )
    .bind(&schemas)
    .fetch_all(&mut *tx)
    .await
    .map_err(failed("constraints"))?;
    for (oid, name, kind, columns, references, referenced, on_delete, on_update, definition) in constraints {
        let Some(table) = tables.get_mut(&oid) else { continue };
        match kind.as_str() {
            "p" => table.primary_key = Some(Key { name, columns }),
            "u" => table.unique.push(Key { name, columns }),
            "f" => table.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: references
                    .map(|r| {
                        let (schema, rest) = r.split_once('.').unwrap_or(("", &r));
                        qualify(schema, rest)
                    })
                    .unwrap_or_default(),
                referenced_columns: referenced,
                on_delete: action(&on_delete),
                on_update: action(&on_update),
            }),
            "x" => table.exclusions.push(Check { name, expression: definition }),
            _ => table.checks.push(Check { name, expression: definition }),
        }
    }

    let indexes: Vec<(i64, String, bool, bool, Option<String>, Vec<String>)> = sqlx::query_as(
        "SELECT i.indrelid::int8, ic.relname::text, i.indisunique, i.indisvalid, pg_get_expr(i.indpred, i.indrelid), \
           ARRAY(SELECT pg_get_indexdef(i.indexrelid, g, true) FROM generate_series(1, i.indnkeyatts) AS g ORDER BY g) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)",
    )
    .bind(&schemas)
    .fetch_all(&mut *tx)
    .await
    .map_err(failed("indexes"))?;
    for (oid, name, unique, valid, predicate, columns) in indexes {
        let index = Index { name, columns, unique, predicate, valid };
        if let Some(table) = tables.get_mut(&oid) {
            table.indexes.push(index);
        } else if let Some(view) = views.get_mut(&oid) {
            view.indexes.push(index);
        }
    }

    let types: Vec<(String, String, String, Vec<String>)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT n.nspname::text, t.typname::text, \
           CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range' ELSE 'composite' END, \
           CASE t.typtype WHEN 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                                               ORDER BY e.enumsortorder) \
           WHEN 'd' THEN ARRAY[format_type(t.typbasetype, t.typtypmod)] \
                || ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.contypid = t.oid \
                         AND k.contype = 'c' ORDER BY k.conname) \
                || CASE WHEN t.typnotnull THEN ARRAY['NOT NULL'] ELSE ARRAY[]::text[] END \
           WHEN 'r' THEN ARRAY(SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) \
           ELSE ARRAY(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) END \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname = ANY($1) AND {LISTED_TYPE} AND {NOT_EXTENSION_TYPE}"
    )))
    .bind(&schemas)
    .fetch_all(&mut *tx)
    .await
    .map_err(failed("types"))?;
    snapshot.types = types
        .into_iter()
        .map(|(schema, name, kind, definition)| TypeDef { name: qualify(&schema, &name), kind, definition })
        .collect();

    tx.commit().await.map_err(failed("ending the transaction"))?;
    snapshot.tables = tables.into_values().collect();
    snapshot.views = views.into_values().collect();
    snapshot.sort();
    Ok(snapshot)
}

/// The installed extensions, each with the schemas it owns and how many of its tables,
/// views, sequences and types it owns (one query). A schema that gets an app table is
/// the app's again, so this never hides an app's object. PostGIS detaches `tiger_data`
/// from its extension on purpose (it holds the data the geocoder's loader brings): it is
/// not on the search path, so out of scope unless a team puts it there (then
/// `EXCLUDE_SCHEMAS`).
pub(crate) async fn extensions(conn: &mut PgConnection) -> Result<Vec<Extension>, Error> {
    // The schemas an extension owns: those that are members of it (`pg_depend` deptype
    // `e`), and the schema its control file fixes (`schema = topology`), which `CREATE
    // EXTENSION` creates without recording it as a member (PostGIS's `topology` and
    // `tiger`) and which the extensions add to the database's `search_path`. Such a
    // schema counts as the extension's only while its relations, and the types a
    // snapshot lists, all belong to some extension: an app table put there keeps it in
    // scope. The control file of any version counts (after a package upgrade, the
    // installed version's files may be gone until `ALTER EXTENSION … UPDATE`). The
    // control files are read (`pg_available_extension_versions`, a few tens of
    // milliseconds with PostGIS's hundreds of upgrade scripts on disk) at most once, and
    // only when an extension lives outside `pg_catalog` in a schema with nothing of the
    // app's.
    let rows: Vec<(String, String, String, Vec<String>, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "WITH fixed AS MATERIALIZED (SELECT DISTINCT v.name::text AS name, v.schema::text AS schema \
                                     FROM pg_available_extension_versions v WHERE v.schema IS NOT NULL) \
         SELECT e.extname::text, e.extversion::text, n.nspname::text, \
           ARRAY(SELECT s.nspname::text FROM pg_depend d JOIN pg_namespace s ON s.oid = d.objid \
                 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid \
                   AND d.classid = 'pg_namespace'::regclass AND d.deptype = 'e' \
                 UNION \
                 SELECT n.nspname::text WHERE CASE \
                   WHEN e.extnamespace = 'pg_catalog'::regnamespace THEN false \
                   WHEN EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = e.extnamespace \
                                  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {NOT_EXTENSION_RELATION}) THEN false \
                   WHEN EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = e.extnamespace \
                                  AND {LISTED_TYPE} AND {NOT_EXTENSION_TYPE}) THEN false \
                   ELSE EXISTS (SELECT 1 FROM fixed f WHERE f.name = e.extname AND f.schema = n.nspname) END \
                 ORDER BY 1), \
           (SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid \
                AND d.deptype = 'e' AND d.classid IN ('pg_class'::regclass, 'pg_type'::regclass)) \
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1"
    )))
    .persistent(false)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::db("reading the PostgreSQL catalog (extensions)"))?;
    Ok(rows
        .into_iter()
        .map(|(name, version, schema, owns_schemas, objects)| Extension {
            name,
            version,
            schema,
            owns_schemas,
            objects: objects as u64,
        })
        .collect())
}

/// The schemas in scope: the configured ones or the search path's, less the excluded
/// ones and those an extension created (`owned`), in the search path's order.
pub(crate) async fn schemas_in_scope(
    conn: &mut PgConnection,
    scope: SchemaScope<'_>,
    owned: &[String],
) -> Result<Vec<String>, Error> {
    let path: Vec<String> = if scope.include.is_empty() {
        sqlx::query_scalar("SELECT s::text FROM unnest(current_schemas(false)) AS s")
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(Error::db("reading the PostgreSQL catalog (search path)"))?
    } else {
        scope.include.to_vec()
    };
    Ok(path.into_iter().filter(|s| !owned.contains(s) && !scope.exclude.contains(s)).collect())
}

/// A foreign key action as `pg_constraint` codes it.
fn action(code: &str) -> String {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    }
    .to_string()
}
