//! Step 3, checked on the way: syntax that only a command-line client understands.
//!
//! A snippet written for the mysql client may carry its commands (`DELIMITER //`) or
//! lean on how it reads comments; the server, to which bootschema sends each statement
//! itself, rejects them. Found at build time, each is an error that says what to write
//! instead, rather than a failure at boot.

use bootschema::DialectKind;

use crate::diagnostic::Problem;
use crate::lex::{Token, TokenKind};

/// The client-only syntax in `text` for `dialect`: `tokens` are the text's tokens,
/// `statement_starts` where each of its statements starts.
pub(crate) fn check(
    text: &str,
    dialect: DialectKind,
    tokens: &[Token],
    statement_starts: impl IntoIterator<Item = usize>,
) -> Vec<Problem> {
    match dialect {
        DialectKind::MySql => mysql(text, tokens, statement_starts),
        DialectKind::Postgres | DialectKind::Sqlite => Vec::new(),
    }
}

/// Things only the mysql command-line client understands, which the server rejects.
fn mysql(text: &str, tokens: &[Token], statement_starts: impl IntoIterator<Item = usize>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for token in tokens {
        let is_delimiter =
            token.kind == TokenKind::Word && text[token.start..token.end].eq_ignore_ascii_case("DELIMITER");
        let first_on_line = || text[..token.start].rsplit('\n').next().is_some_and(|before| before.trim().is_empty());
        if is_delimiter && first_on_line() {
            problems.push(Problem {
                offset: token.start,
                message: "`DELIMITER` is a command of the mysql client, not SQL the server understands".into(),
                help: "remove the DELIMITER lines and end statements with a plain `;`: a CREATE TRIGGER, \
                       PROCEDURE, FUNCTION or EVENT with a BEGIN … END body is sent to the server whole, \
                       as one statement"
                    .into(),
            });
        }
    }
    for start in statement_starts {
        if text[start..].starts_with("--") {
            problems.push(Problem {
                offset: start,
                message: "MySQL reads `--` as the start of a comment only when a space follows it".into(),
                help: "write `-- ` with a space after the dashes".into(),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::split;
    use crate::split::tests::problem;
    use DialectKind::MySql;

    #[test]
    fn mysql_delimiter_line_is_reported() {
        let text = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n";
        let problems = split(text, MySql).unwrap_err();
        assert_eq!(problems.iter().map(|p| p.offset).collect::<Vec<_>>(), [0, text.rfind("DELIMITER").unwrap()]);
        assert!(problems[0].help.contains("sent to the server whole"));
    }

    #[test]
    fn mysql_dash_dash_without_space_at_statement_start_is_reported() {
        assert!(problem("--guard: table_missing(a)\nCREATE TABLE a (x INT);", MySql)
            .message
            .contains("only when a space follows"));
    }
}
