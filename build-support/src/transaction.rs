//! Statements that cannot run inside a transaction block.
//!
//! A wrapped snippet (the default) runs in a transaction, or a savepoint of the lock's
//! transaction; PostgreSQL refuses some statements there ("cannot run inside a
//! transaction block") and SQLite refuses `VACUUM`. Found at build time, such a
//! statement is an error naming its line, with the fix (`-- transaction: none`), rather
//! than a failure at boot. MySQL has no such statement: its DDL commits by itself.

use bootschema::DialectKind;

use crate::lex::{lex, TokenKind};
use crate::split::Piece;

/// Why the statement of `piece` cannot run in a transaction block on `dialect`, if it
/// cannot.
pub(crate) fn outside_transaction_only(text: &str, dialect: DialectKind, piece: &Piece) -> Option<&'static str> {
    let sql = &text[piece.start..piece.end];
    let (tokens, _) = lex(sql, dialect);
    let words: Vec<String> = tokens
        .iter()
        .take_while(|t| t.kind != TokenKind::Punct || &sql[t.start..t.end] != "(")
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| sql[t.start..t.end].to_ascii_uppercase())
        .take(8)
        .collect();
    let first = |w: &[&str]| words.len() >= w.len() && words.iter().zip(w).all(|(a, b)| a == b);
    match dialect {
        DialectKind::Postgres => {
            let concurrently = words.iter().any(|w| w == "CONCURRENTLY");
            if (first(&["CREATE", "INDEX"]) || first(&["CREATE", "UNIQUE", "INDEX"])) && concurrently {
                Some("CREATE INDEX CONCURRENTLY")
            } else if first(&["DROP", "INDEX"]) && concurrently {
                Some("DROP INDEX CONCURRENTLY")
            } else if first(&["REINDEX"]) && concurrently {
                Some("REINDEX CONCURRENTLY")
            } else if first(&["VACUUM"]) {
                Some("VACUUM")
            } else if first(&["CREATE", "DATABASE"]) || first(&["DROP", "DATABASE"]) {
                Some("CREATE / DROP DATABASE")
            } else if first(&["CREATE", "TABLESPACE"]) || first(&["DROP", "TABLESPACE"]) {
                Some("CREATE / DROP TABLESPACE")
            } else if first(&["ALTER", "SYSTEM"]) {
                Some("ALTER SYSTEM")
            } else {
                None
            }
        }
        DialectKind::Sqlite => first(&["VACUUM"]).then_some("VACUUM"),
        DialectKind::MySql => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split;

    fn found(dialect: DialectKind, sql: &str) -> Vec<Option<&'static str>> {
        let split = split(sql, dialect).unwrap();
        split.statements.iter().map(|p| outside_transaction_only(sql, dialect, p)).collect()
    }

    #[test]
    fn concurrent_index_builds_and_vacuum_need_no_transaction() {
        let sql = "CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS j ON t (b);\n\
                   DROP INDEX CONCURRENTLY IF EXISTS k;\nVACUUM ANALYZE t;\nCREATE INDEX concurrently_named ON t (c);\n\
                   CREATE INDEX i2 ON t (lower(concurrently))";
        assert_eq!(
            found(DialectKind::Postgres, sql),
            [
                Some("CREATE INDEX CONCURRENTLY"),
                Some("CREATE INDEX CONCURRENTLY"),
                Some("DROP INDEX CONCURRENTLY"),
                Some("VACUUM"),
                None,
                None
            ]
        );
        assert_eq!(found(DialectKind::Sqlite, "VACUUM;\nCREATE INDEX i ON t (a)"), [Some("VACUUM"), None]);
        assert_eq!(found(DialectKind::MySql, "CREATE INDEX i ON t (a)"), [None]);
    }
}
