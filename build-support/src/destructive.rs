//! Step 3, checked on the way: the statements that lose data.
//!
//! Read from the splitter's tokens, not parsed: a `DROP`, `TRUNCATE`, `ALTER TABLE …
//! DROP`, column type change, or `DELETE` / `UPDATE` without `WHERE` in a snippet not
//! marked `-- destructive` fails the build, and each such statement carries its reason
//! into the snippet model (`bootschema::Statement::destructive`).

use bootschema::DialectKind;

use crate::lex::{punct_is, word_is, Token};
use crate::split::{Split, StatementKind};

/// A statement that loses data: where it starts and ends, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Destructive {
    pub start: usize,
    pub end: usize,
    /// Why it loses data, e.g. `it deletes every row: there is no WHERE`.
    pub why: &'static str,
}

/// The statements that lose data, in the statements run now (not in the bodies of
/// functions or triggers):
///
/// * `DROP` (but not of a view, function, procedure, trigger or event), `TRUNCATE`;
/// * `ALTER TABLE` with a top-level `DROP` (but not `DROP DEFAULT`, `DROP NOT NULL`,
///   `DROP IDENTITY` or `DROP EXPRESSION`);
/// * `ALTER TABLE` changing a column's type (`ALTER [COLUMN] c [SET DATA] TYPE`,
///   MySQL's `MODIFY` and `CHANGE`);
/// * `DELETE` and `UPDATE` without a top-level `WHERE`.
pub(crate) fn statements(text: &str, dialect: DialectKind, split: &Split) -> Vec<Destructive> {
    let mut found = Vec::new();
    for piece in &split.statements {
        for (tokens, end) in &piece.runs_now {
            let verb_at = match piece.kind {
                StatementKind::Block => tokens.iter().enumerate().position(|(k, t)| {
                    let before = k.checked_sub(1).and_then(|b| tokens.get(b));
                    ["DROP", "TRUNCATE", "ALTER", "DELETE", "UPDATE"].iter().any(|v| word_is(text, Some(t), v))
                        && (k == 0
                            || ["THEN", "ELSE", "DO", "BEGIN", "ATOMIC", "LOOP", "REPEAT"]
                                .iter()
                                .any(|w| word_is(text, before, w)))
                }),
                _ if word_is(text, tokens.first(), "WITH") => tokens.iter().position(|t| {
                    ["DELETE", "UPDATE", "INSERT", "SELECT", "MERGE"].iter().any(|v| word_is(text, Some(t), v))
                }),
                _ => Some(0),
            };
            let Some(verb_at) = verb_at else { continue };
            let statement = &tokens[verb_at..];
            if let (Some(why), Some(first)) = (reason(text, dialect, statement), statement.first()) {
                found.push(Destructive { start: first.start, end: *end, why });
            }
        }
    }
    found
}

/// Why the statement of the top-level tokens `t`, its verb first, loses data, if it does.
fn reason(text: &str, dialect: DialectKind, t: &[Token]) -> Option<&'static str> {
    let is = |k: usize, keyword: &str| word_is(text, t.get(k), keyword);
    let has_where = || t.iter().any(|token| word_is(text, Some(token), "WHERE"));
    if is(0, "TRUNCATE") {
        return Some("it empties the table");
    }
    if is(0, "DROP") && (2..t.len()).any(|k| is(k, "CASCADE")) {
        return Some(
            "it drops with CASCADE: what depends on it goes too, with its data (a stored generated column, a \
                     foreign key, the views over it)",
        );
    }
    if is(0, "DROP") {
        let keeps_data = ["VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "EVENT"].iter().any(|k| is(1, k))
            || (is(1, "MATERIALIZED") && is(2, "VIEW"));
        return (!keeps_data).then_some(if is(1, "INDEX") {
            "it drops an index"
        } else {
            "it drops the object with its data"
        });
    }
    if is(0, "DELETE") && !has_where() {
        return Some("it deletes every row: there is no WHERE");
    }
    if is(0, "UPDATE") && !has_where() {
        return Some("it changes every row: there is no WHERE");
    }
    let table_at = if is(0, "ALTER") && is(1, "TABLE") {
        2
    } else if is(0, "ALTER") && is(2, "TABLE") && (is(1, "IGNORE") || is(1, "ONLINE")) {
        3
    } else {
        return None;
    };
    let dropping = (0..t.len())
        .any(|k| is(k, "DROP") && !["DEFAULT", "NOT", "IDENTITY", "EXPRESSION"].iter().any(|w| is(k + 1, w)));
    if dropping {
        return Some("it drops a column, constraint or index");
    }
    let retyping = (2..t.len()).any(|k| {
        is(k, "TYPE")
            && ((is(k - 2, "SET") && is(k - 1, "DATA"))
                || (is(k - 2, "ALTER") && !is(k - 1, "COLUMN"))
                || (k >= 3 && is(k - 3, "ALTER") && is(k - 2, "COLUMN")))
    });
    if retyping {
        return Some("it changes a column's type");
    }
    if dialect == DialectKind::MySql {
        // MODIFY and CHANGE where an operation starts: right after the table's name,
        // or after a top-level `,`.
        let mut name_end = table_at;
        while ["IF", "EXISTS", "ONLY"].iter().any(|w| is(name_end, w)) {
            name_end += 1;
        }
        name_end += 1;
        while punct_is(text, t.get(name_end), b'.') {
            name_end += 2;
        }
        let redefines = (0..t.len()).any(|k| {
            (is(k, "MODIFY") || is(k, "CHANGE")) && (k == name_end || punct_is(text, t.get(k.wrapping_sub(1)), b','))
        });
        if redefines {
            return Some("MODIFY / CHANGE redefine a column, its type included");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::{first_words, split};
    use DialectKind::{MySql, Postgres};

    fn destructive_words(text: &str, dialect: DialectKind) -> Vec<String> {
        let split = split(text, dialect).unwrap();
        statements(text, dialect, &split).iter().map(|s| first_words(text, s.start, s.end)).collect()
    }

    #[test]
    fn drop_and_truncate_are_destructive() {
        let text = "DROP TABLE users;\nTRUNCATE logs;\nDROP INDEX i;\nDROP TEMPORARY TABLE t;";
        assert_eq!(
            destructive_words(text, MySql),
            ["DROP TABLE users", "TRUNCATE logs", "DROP INDEX i", "DROP TEMPORARY TABLE t"]
        );
    }

    #[test]
    fn drop_of_view_function_procedure_or_trigger_is_not_destructive() {
        let text = "DROP VIEW v;DROP MATERIALIZED VIEW m;DROP FUNCTION f;DROP PROCEDURE p;DROP TRIGGER t;";
        assert!(destructive_words(text, Postgres).is_empty());
    }

    #[test]
    fn alter_table_drop_is_destructive() {
        let text = "ALTER TABLE users ADD COLUMN a INT, DROP COLUMN email;\nALTER TABLE t DROP CONSTRAINT k;";
        assert_eq!(
            destructive_words(text, Postgres),
            ["ALTER TABLE users ADD COLUMN a …", "ALTER TABLE t DROP CONSTRAINT k"]
        );
    }

    #[test]
    fn alter_table_drop_default_or_not_null_is_not_destructive() {
        let text = "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;\nALTER TABLE t ALTER COLUMN c DROP NOT NULL;";
        assert!(destructive_words(text, Postgres).is_empty());
    }

    #[test]
    fn drop_inside_a_string_or_comment_is_not_destructive() {
        let text = "INSERT INTO audit VALUES ('DROP TABLE users'); -- DROP TABLE x\nSELECT 1;";
        assert!(destructive_words(text, Postgres).is_empty());
    }

    #[test]
    fn delete_and_update_without_where_are_destructive() {
        let text = "DELETE FROM logs;\nUPDATE users SET active = true;\nDELETE FROM logs WHERE at < now();\nUPDATE users SET a = (SELECT 1 FROM t WHERE t.id = users.id);";
        assert_eq!(
            destructive_words(text, Postgres),
            ["DELETE FROM logs", "UPDATE users SET active = true", "UPDATE users SET a = (SELECT …"]
        );
    }

    #[test]
    fn with_delete_without_where_is_destructive() {
        assert_eq!(
            destructive_words("WITH x AS (SELECT 1 WHERE true) DELETE FROM t USING x;", Postgres),
            ["DELETE FROM t USING x"]
        );
    }

    #[test]
    fn column_type_changes_are_destructive() {
        let pg = "ALTER TABLE t ALTER COLUMN c TYPE bigint;\nALTER TABLE t ALTER c SET DATA TYPE text;\nALTER TABLE t ALTER COLUMN type SET DEFAULT 'x';";
        assert_eq!(destructive_words(pg, Postgres).len(), 2);
        let my = "ALTER TABLE t MODIFY COLUMN c BIGINT;\nALTER TABLE t ADD COLUMN x INT, CHANGE a b INT;\nALTER TABLE db.t MODIFY c INT;\nALTER TABLE t ADD COLUMN `change` INT;";
        assert_eq!(destructive_words(my, MySql).len(), 3);
    }

    #[test]
    fn bodies_of_triggers_and_functions_are_not_checked_but_blocks_are() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN DELETE FROM b; END;";
        assert!(destructive_words(trigger, MySql).is_empty());
        let block = "BEGIN NOT ATOMIC IF 1 THEN DROP TABLE x; END IF; END;";
        assert_eq!(destructive_words(block, MySql), ["DROP TABLE x"]);
        let pg_do = "DO $$ BEGIN IF true THEN TRUNCATE audit; END IF; END $$;";
        assert_eq!(destructive_words(pg_do, Postgres), ["TRUNCATE audit"]);
    }
}
