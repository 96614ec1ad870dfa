//! What each statement is and which tables it locks, read once at build time and
//! stored in [`bootschema::Statement`], so that nothing at run time reads SQL words:
//! the executor commits row changes with their ledger row on MySQL by
//! [`StatementKind::Rows`], and ends a PostgreSQL batch after a snippet that locked a
//! table the app already uses, by [`bootschema::Statement::tables`].

use bootschema::{ObjectName, StatementKind};
use sqlparser::ast::{
    self, AlterTableOperation, ColumnOption, FromTable, ObjectType, Statement as Ast, TableConstraint, TableFactor,
    TableObject,
};

use crate::split;

/// The kind of the statement `sql`, which the splitter found to be of `kind`: by its
/// first word, comments skipped (a MySQL `/*! … */` comment, which the server runs, is a
/// word of its own: the statement is then [`StatementKind::Other`]).
pub(crate) fn kind(kind: split::StatementKind, sql: &str) -> StatementKind {
    match kind {
        split::StatementKind::Routine => return StatementKind::Routine,
        split::StatementKind::Block | split::StatementKind::Whole => return StatementKind::Block,
        split::StatementKind::Plain => {}
    }
    let word = first_word(sql);
    let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(word));
    if is(&["INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "WITH"]) {
        StatementKind::Rows
    } else if is(&["CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"]) {
        StatementKind::Schema
    } else if is(&["DO", "CALL", "BEGIN"]) {
        StatementKind::Block
    } else {
        StatementKind::Other
    }
}

/// The first word of `sql` after its comments (empty when it starts otherwise).
fn first_word(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--").or_else(|| rest.strip_prefix('#')) {
            rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(comment) = rest.strip_prefix("/*").filter(|c| !c.starts_with('!')) {
            rest = comment.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
    &rest[..end]
}

/// The tables a parsed statement locks against the app's reads or writes, its target
/// first (see [`bootschema::Statement::tables`]); `None` when it cannot be told.
/// `object` turns the parser's names into the snippet model's.
pub(crate) fn tables(
    statement: &Ast,
    object: impl Fn(&ast::ObjectName) -> Option<ObjectName>,
) -> Option<Vec<ObjectName>> {
    let mut found = Vec::new();
    let mut add = |name: &ast::ObjectName| -> Option<()> {
        let name = object(name)?;
        if !found.contains(&name) {
            found.push(name);
        }
        Some(())
    };
    match statement {
        Ast::CreateTable(create) => {
            add(&create.name)?;
            for column in &create.columns {
                for option in &column.options {
                    if let ColumnOption::ForeignKey(fk) = &option.option {
                        add(&fk.foreign_table)?;
                    }
                }
            }
            for constraint in &create.constraints {
                if let TableConstraint::ForeignKey(fk) = constraint {
                    add(&fk.foreign_table)?;
                }
            }
        }
        Ast::AlterTable(alter) => {
            add(&alter.name)?;
            for operation in &alter.operations {
                match operation {
                    AlterTableOperation::AddConstraint { constraint: TableConstraint::ForeignKey(fk), .. } => {
                        add(&fk.foreign_table)?;
                    }
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        for option in &column_def.options {
                            if let ColumnOption::ForeignKey(fk) = &option.option {
                                add(&fk.foreign_table)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ast::CreateIndex(index) => add(&index.table_name)?,
        Ast::CreateView(view) => add(&view.name)?,
        Ast::CreateVirtualTable { name, .. } => add(name)?,
        Ast::AlterView { name, .. } => add(name)?,
        Ast::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => add(name)?,
            _ => return None,
        },
        Ast::Update(update) => relation(&update.table.relation, &mut add)?,
        Ast::Delete(delete) => {
            for name in &delete.tables {
                add(name)?;
            }
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            for table in from {
                relation(&table.relation, &mut add)?;
            }
        }
        Ast::Truncate(truncate) => {
            for target in &truncate.table_names {
                add(&target.name)?;
            }
        }
        Ast::RenameTable(renames) => {
            for rename in renames {
                add(&rename.old_name)?;
            }
        }
        Ast::Drop { object_type, names, table, .. } => match object_type {
            ObjectType::Table | ObjectType::View | ObjectType::MaterializedView => {
                for name in names {
                    add(name)?;
                }
            }
            // MySQL's `DROP INDEX i ON t`; PostgreSQL's names no table.
            ObjectType::Index => add(table.as_ref()?)?,
            ObjectType::Schema | ObjectType::Database => return None,
            // Functions, types, sequences, …: no table of the app's, unless CASCADE
            // reaches one (a CASCADE drop is `Unknown` for the catalog anyway).
            _ => {}
        },
        // Statements that lock no table against the app.
        Ast::CreateSchema { .. }
        | Ast::CreateDatabase { .. }
        | Ast::CreateType { .. }
        | Ast::CreateDomain(_)
        | Ast::CreateExtension(_)
        | Ast::CreateSequence { .. }
        | Ast::CreateFunction(_)
        | Ast::AlterType(_)
        | Ast::DropDomain(_)
        | Ast::Comment { .. }
        | Ast::Grant(_)
        | Ast::Revoke(_)
        | Ast::Set(_)
        | Ast::Query(_)
        | Ast::Analyze(_)
        | Ast::Explain { .. } => {}
        _ => return None,
    }
    Some(found)
}

fn relation(factor: &TableFactor, add: &mut impl FnMut(&ast::ObjectName) -> Option<()>) -> Option<()> {
    match factor {
        TableFactor::Table { name, .. } => add(name),
        _ => None,
    }
}

/// What an unreadable statement locks, by its first word: nothing for the words that
/// change no table (`SET`, `SELECT`, `GRANT`, …), not known for the rest.
pub(crate) fn unread_tables(sql: &str) -> Option<Vec<ObjectName>> {
    const LOCK_NOTHING: [&str; 9] =
        ["SELECT", "PRAGMA", "SET", "GRANT", "REVOKE", "COMMENT", "ANALYZE", "EXPLAIN", "SHOW"];
    let word = first_word(sql);
    LOCK_NOTHING.iter().any(|w| w.eq_ignore_ascii_case(word)).then(Vec::new)
}

#[cfg(test)]
mod tests {
    use super::{first_word, kind};
    use crate::split::StatementKind as Split;
    use bootschema::StatementKind;

    #[test]
    fn row_changes_are_known_by_their_first_word() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  update t SET a = 1",
            "-- backfill\nUPDATE t SET a = 1",
            "/* why */ DELETE FROM t WHERE a = 1",
            "# note\nREPLACE INTO t VALUES (1)",
            "WITH x AS (SELECT 1) UPDATE t SET a = 1",
        ] {
            assert_eq!(kind(Split::Plain, sql), StatementKind::Rows, "{sql}");
        }
        for (sql, expected) in [
            ("CREATE TABLE t (a INT)", StatementKind::Schema),
            ("ALTER TABLE t ADD COLUMN insert_at INT", StatementKind::Schema),
            ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", StatementKind::Other),
            ("/*!50001 INSERT INTO t VALUES (1) */", StatementKind::Other),
            ("INSERTED", StatementKind::Other),
            ("-- INSERT\nCREATE INDEX i ON t (a)", StatementKind::Schema),
            ("DO $$ BEGIN END $$", StatementKind::Block),
            ("", StatementKind::Other),
        ] {
            assert_eq!(kind(Split::Plain, sql), expected, "{sql}");
        }
        assert_eq!(kind(Split::Routine, "CREATE FUNCTION f() …"), StatementKind::Routine);
        assert_eq!(kind(Split::Whole, "INSERT …; INSERT …"), StatementKind::Block);
        assert_eq!(first_word("  -- a\n /* b */ select"), "select");
    }
}
