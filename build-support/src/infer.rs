//! Step 4: infer guards from a snippet's DDL.
//!
//! This is the place where, for a snippet without written guards, certain DDL will give
//! guards (`CREATE TABLE t` → `table_missing(t)`, `ALTER TABLE t ADD COLUMN c` →
//! `column_missing(t.c)`, `CREATE INDEX i` → `index_missing(i)`), parsed with a real SQL
//! parser. It infers nothing yet: the written guards decide for the whole snippet, and a
//! snippet without any is run once, as the ledger decides.

use bootschema::{DialectKind, Guard};

/// The guards of one snippet for one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Inferred {
    /// Guards that decide for the whole snippet.
    pub snippet: Vec<Guard>,
    /// Guards that decide for each statement alone, one list per statement.
    pub statements: Vec<Vec<Guard>>,
}

/// The guards of a snippet whose statements are `statements` (byte ranges of `sql`),
/// given the guards written in its directives.
pub(crate) fn infer(_dialect: DialectKind, _sql: &str, statements: &[(usize, usize)], written: &[Guard]) -> Inferred {
    Inferred { snippet: written.to_vec(), statements: vec![Vec::new(); statements.len()] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bootschema::{GuardKind, GuardOrigin, Ident, ObjectName};

    #[test]
    fn written_guards_decide_for_the_whole_snippet() {
        let written = [Guard {
            kind: GuardKind::TableMissing(ObjectName { schema: None, name: Ident::bare("users") }),
            origin: GuardOrigin::Written { line: 1 },
        }];
        let inferred = infer(DialectKind::Postgres, "CREATE TABLE users (id INT)", &[(0, 27)], &written);
        assert_eq!(inferred, Inferred { snippet: written.to_vec(), statements: vec![Vec::new()] });
    }
}
