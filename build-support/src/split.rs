//! Step 3: split a snippet into statements, as one dialect reads it.
//!
//! It reads the lexer's tokens (see `lex`), in which a `;` inside a string, quoted
//! identifier or comment is no token of its own. It is not a parser: where a `;` can
//! end a statement or a line of a body (a `BEGIN … END` trigger or procedure,
//! PostgreSQL's `BEGIN ATOMIC`), the splitter does not guess and keeps the whole snippet
//! as one statement. What it is certain about — unbalanced parentheses, a snippet of
//! whitespace only, and what the lexer and the client-syntax check (`client_syntax`)
//! find — fails the build. Which statements lose data is read from its result (see
//! `destructive`).

use bootschema::DialectKind;

use crate::client_syntax;
use crate::diagnostic::Problem;
use crate::lex::{lex, punct_is, word_is, Token, TokenKind};

/// A piece of text between two top-level `;`, as the splitter first sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawStatement {
    start: usize,
    end: usize,
    /// The tokens at parenthesis depth 0 (an opening `(` is kept, what it encloses is
    /// not), comments left out.
    top: Vec<Token>,
}

/// How a statement is run and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementKind {
    /// An ordinary statement: read by the SQL parser, guarded where its DDL is certain.
    Plain,
    /// Defines code that runs later, not now: `CREATE FUNCTION`, `PROCEDURE`, `TRIGGER`,
    /// `EVENT`, with or without a `BEGIN … END` body. Never guarded, never parsed.
    Routine,
    /// Code that runs now but has no certain DDL effect: PostgreSQL's `DO`, MariaDB's
    /// `BEGIN NOT ATOMIC … END`. Never guarded, never parsed.
    Block,
    /// Several statements sent as one because the splitter could not be sure where
    /// one of them ends. Never guarded, never parsed.
    Whole,
}

/// One statement to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Byte range in the text, the final `;` excluded.
    pub start: usize,
    pub end: usize,
    pub kind: StatementKind,
    /// The statements this one runs now, each as its top-level tokens and its end (none
    /// for a routine, whose body runs later): what the destructive check reads.
    pub runs_now: Vec<(Vec<Token>, usize)>,
}

/// The statements of one snippet, as one dialect reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub statements: Vec<Piece>,
}

/// Splits `text` for `dialect`, reporting what is certainly wrong.
pub(crate) fn split(text: &str, dialect: DialectKind) -> Result<Split, Vec<Problem>> {
    let (tokens, problem) = lex(text, dialect);
    if let Some(problem) = problem {
        return Err(vec![problem]);
    }
    let mut problems = Vec::new();
    let mut raw = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut current: Option<RawStatement> = None;
    for token in tokens.iter().filter(|t| !t.is_comment()) {
        let punct = (token.kind == TokenKind::Punct).then(|| text.as_bytes()[token.start]);
        if punct == Some(b';') && open.is_empty() {
            raw.extend(current.take());
            continue;
        }
        let statement =
            current.get_or_insert_with(|| RawStatement { start: token.start, end: token.end, top: Vec::new() });
        statement.end = token.end;
        if open.is_empty() {
            statement.top.push(*token);
        }
        match punct {
            Some(b'(') => open.push(token.start),
            Some(b')') if open.pop().is_none() => problems.push(Problem {
                offset: token.start,
                message: "this `)` has no matching `(`".into(),
                help: "remove it or add the missing `(`".into(),
            }),
            _ => {}
        }
    }
    raw.extend(current);
    if let Some(&unclosed) = open.last() {
        problems.push(Problem {
            offset: unclosed,
            message: "the `(` opened here is never closed".into(),
            help: "add the missing `)`".into(),
        });
    }
    problems.extend(client_syntax::check(text, dialect, &tokens, raw.iter().map(|r| r.start)));
    if raw.is_empty() && problems.is_empty() && text.trim().is_empty() {
        problems.push(Problem {
            offset: 0,
            message: "the snippet has no statement, only whitespace".into(),
            help: "write its SQL after the directives (e.g. `CREATE TABLE users (id BIGINT PRIMARY KEY);`), \
                   or delete the file"
                .into(),
        });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.offset);
        return Err(problems);
    }
    let statements = group(text, dialect, &raw).unwrap_or_else(|| {
        let (first, last) = (&raw[0], &raw[raw.len() - 1]);
        vec![Piece {
            start: first.start,
            end: last.end,
            kind: StatementKind::Whole,
            runs_now: raw.iter().map(|r| (r.top.clone(), r.end)).collect(),
        }]
    });
    Ok(Split { statements })
}

/// Groups the raw pieces into statements: one piece each, or several for a
/// `BEGIN … END` body. `None` when unsure where a body ends.
fn group(text: &str, dialect: DialectKind, raw: &[RawStatement]) -> Option<Vec<Piece>> {
    let mut statements = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let piece = &raw[i];
        let top = &piece.top;
        let is = |k: usize, keyword: &str| word_is(text, top.get(k), keyword);
        let routine = is(0, "CREATE")
            && top
                .iter()
                .skip(1)
                .filter(|t| t.kind == TokenKind::Word)
                .take(5)
                .any(|t| ["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"].iter().any(|k| word_is(text, Some(t), k)));
        let anonymous = dialect == DialectKind::MySql && is(0, "BEGIN") && is(1, "NOT") && is(2, "ATOMIC");
        let body_start = if anonymous {
            Some(0)
        } else if routine {
            top.iter().position(|t| word_is(text, Some(t), "BEGIN")).filter(|&b| match dialect {
                DialectKind::Postgres => word_is(text, top.get(b + 1), "ATOMIC"),
                _ => true,
            })
        } else {
            None
        };
        let kind = if anonymous {
            StatementKind::Block
        } else if routine {
            StatementKind::Routine
        } else if dialect == DialectKind::Postgres && is(0, "DO") {
            StatementKind::Block
        } else {
            StatementKind::Plain
        };
        let last = match body_start {
            Some(begin) => block_end(text, raw, i, begin)?,
            None => {
                // A MySQL or SQLite routine whose body is a compound statement without
                // BEGIN (`… DO IF x THEN …; END IF`) would hold `;` too.
                let compound = ["LOOP", "WHILE", "REPEAT", "THEN"];
                if routine
                    && dialect != DialectKind::Postgres
                    && top.iter().any(|t| compound.iter().any(|k| word_is(text, Some(t), k)))
                {
                    return None;
                }
                i
            }
        };
        let runs_now = match kind {
            StatementKind::Plain | StatementKind::Whole => vec![(top.clone(), piece.end)],
            StatementKind::Routine => Vec::new(),
            StatementKind::Block if anonymous => raw[i..=last].iter().map(|r| (r.top.clone(), r.end)).collect(),
            StatementKind::Block => do_body(text, top),
        };
        statements.push(Piece { start: piece.start, end: raw[last].end, kind, runs_now });
        i = last + 1;
    }
    Some(statements)
}

/// Where the `BEGIN … END` body that opens at token `begin` of `raw[first]` ends: the
/// index of the raw piece holding its final `END`, which must be the last token of
/// that piece (but for a label repeating the body's own). `None` when unsure.
///
/// A block's `END` comes right after a `;` (it starts a piece) or right after its
/// `BEGIN`; `CASE … END` and `CASE … END CASE` nest; `END IF`, `END LOOP`, `END WHILE`
/// and `END REPEAT` close what opened without a `BEGIN`.
fn block_end(text: &str, raw: &[RawStatement], first: usize, begin: usize) -> Option<usize> {
    #[derive(PartialEq)]
    enum Open {
        Begin,
        Case,
    }
    let label = (begin >= 2 && punct_is(text, raw[first].top.get(begin - 1), b':'))
        .then(|| raw[first].top.get(begin - 2))
        .flatten()
        .map(|t| text[t.start..t.end].to_ascii_lowercase());
    let mut stack = vec![Open::Begin];
    for (p, piece) in raw.iter().enumerate().skip(first) {
        let top = &piece.top;
        let mut k = if p == first { begin + 1 } else { 0 };
        while k < top.len() {
            let token = Some(&top[k]);
            if word_is(text, token, "BEGIN") {
                stack.push(Open::Begin);
            } else if word_is(text, token, "CASE") {
                stack.push(Open::Case);
            } else if word_is(text, token, "END") {
                let next = top.get(k + 1);
                if ["IF", "LOOP", "WHILE", "REPEAT"].iter().any(|w| word_is(text, next, w)) {
                    k += 2;
                    continue;
                }
                let end_case = word_is(text, next, "CASE");
                match stack.last()? {
                    Open::Case => {
                        stack.pop();
                    }
                    Open::Begin
                        if !end_case && (k == 0 && p > first || word_is(text, top.get(k.wrapping_sub(1)), "BEGIN")) =>
                    {
                        stack.pop();
                    }
                    Open::Begin => return None,
                }
                if end_case {
                    k += 1;
                }
                if stack.is_empty() {
                    let rest = &top[k + 1..];
                    let labelled = rest.len() == 1
                        && label.as_deref().is_some_and(|l| text[rest[0].start..rest[0].end].eq_ignore_ascii_case(l));
                    return (rest.is_empty() || labelled).then_some(p);
                }
            }
            k += 1;
        }
    }
    None
}

/// The statements of a `DO` block's dollar-quoted body, for the destructive check.
fn do_body(text: &str, top: &[Token]) -> Vec<(Vec<Token>, usize)> {
    let Some(body) = top.iter().find(|t| t.kind == TokenKind::Quoted && text[t.start..].starts_with('$')) else {
        return Vec::new();
    };
    let quoted = &text[body.start..body.end];
    let delimiter_len = quoted[1..].find('$').map_or(0, |i| i + 2);
    if quoted.len() < 2 * delimiter_len {
        return Vec::new();
    }
    let inner_start = body.start + delimiter_len;
    let inner = &text[inner_start..body.end - delimiter_len];
    let (tokens, _) = lex(inner, DialectKind::Postgres);
    let mut parts: Vec<(Vec<Token>, usize)> = vec![(Vec::new(), inner_start)];
    let mut depth = 0usize;
    for mut t in tokens.into_iter().filter(|t| !t.is_comment()) {
        let punct = (t.kind == TokenKind::Punct).then(|| inner.as_bytes()[t.start]);
        t.start += inner_start;
        t.end += inner_start;
        if punct == Some(b';') && depth == 0 {
            parts.push((Vec::new(), t.end));
            continue;
        }
        if let Some((tokens, end)) = parts.last_mut() {
            *end = t.end;
            if depth == 0 {
                tokens.push(t);
            }
        }
        match punct {
            Some(b'(') => depth += 1,
            Some(b')') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    parts.retain(|(tokens, _)| !tokens.is_empty());
    parts
}

/// The first words of a statement, to name it in a message: `DROP TABLE users`.
pub(crate) fn first_words(text: &str, start: usize, end: usize) -> String {
    const MAX_WORDS: usize = 6;
    let mut words = text[start..end].split_whitespace();
    let mut shown: Vec<&str> = words.by_ref().take(MAX_WORDS).collect();
    if words.next().is_some() {
        shown.push("…");
    }
    shown.join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use DialectKind::{MySql, Postgres, Sqlite};

    /// The statements `split` finds in `text`, as text.
    pub(crate) fn statements(text: &str, dialect: DialectKind) -> Vec<&str> {
        let split = split(text, dialect).unwrap_or_else(|p| panic!("{p:?}"));
        split.statements.iter().map(|p| &text[p.start..p.end]).collect()
    }

    /// The one problem `split` finds in `text`.
    pub(crate) fn problem(text: &str, dialect: DialectKind) -> Problem {
        let problems = split(text, dialect).expect_err("the text should not split");
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.into_iter().next().unwrap()
    }

    #[test]
    fn statements_are_split_at_semicolons_without_leading_comments() {
        let text = "-- top\nCREATE TABLE a (x INT);\n\n/* b */ CREATE TABLE b (y INT) ;\nSELECT 1";
        for dialect in DialectKind::ALL {
            assert_eq!(statements(text, dialect), ["CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)", "SELECT 1"]);
        }
    }

    #[test]
    fn empty_statements_between_semicolons_are_dropped() {
        assert_eq!(statements("SELECT 1;;\n;SELECT 2;", Sqlite), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn semicolon_inside_parentheses_does_not_split() {
        let text =
            "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;";
        assert_eq!(statements(text, Postgres).len(), 2);
    }

    #[test]
    fn mysql_trigger_with_begin_end_body_is_one_statement_between_others() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\n  UPDATE b SET n = n + 1;\n  UPDATE c SET n = n + 1;\nEND";
        let text = format!("CREATE TABLE a (n INT);\n{trigger};\nCREATE INDEX a_n ON a (n);\n");
        assert_eq!(statements(&text, MySql), ["CREATE TABLE a (n INT)", trigger, "CREATE INDEX a_n ON a (n)"]);
        assert_eq!(split(&text, MySql).unwrap().statements[1].kind, StatementKind::Routine);
    }

    #[test]
    fn mysql_procedure_with_definer_is_one_statement() {
        let text = "CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT 1; SELECT 2; END";
        assert_eq!(statements(text, MySql), [text]);
    }

    #[test]
    fn mysql_function_and_event_with_body_are_one_statement_each() {
        let function = "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN DECLARE x INT; RETURN 1; END";
        let event = "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM a; DELETE FROM b; END";
        assert_eq!(statements(&format!("{function};\n{event};\nSELECT 1;"), MySql), [function, event, "SELECT 1"]);
    }

    #[test]
    fn mysql_nested_blocks_if_case_and_loops_are_one_statement() {
        let body = "CREATE PROCEDURE p(IN x INT)\nlbl: BEGIN\n  DECLARE i INT DEFAULT 0;\n  IF x > 0 THEN\n    BEGIN\n      SELECT CASE WHEN x > 1 THEN 'a' ELSE 'b' END;\n    END;\n  ELSEIF x < 0 THEN SELECT 2;\n  END IF;\n  CASE x WHEN 1 THEN SELECT 1; ELSE BEGIN END; END CASE;\n  WHILE i < 3 DO SET i = i + 1; END WHILE;\n  REPEAT SET i = i - 1; UNTIL i = 0 END REPEAT;\n  l2: LOOP LEAVE l2; END LOOP l2;\nEND lbl";
        let text = format!("{body};\nSELECT 9;");
        assert_eq!(statements(&text, MySql), [body, "SELECT 9"]);
    }

    #[test]
    fn mariadb_anonymous_block_is_one_block_statement() {
        let text = "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;";
        let split = split(text, MySql).unwrap();
        assert_eq!(
            split.statements.iter().map(|p| p.kind).collect::<Vec<_>>(),
            [StatementKind::Block, StatementKind::Plain]
        );
    }

    #[test]
    fn routine_body_whose_end_is_unclear_keeps_the_snippet_whole() {
        // `end` used as a name makes the END count unreliable: never split wrongly.
        let text = "CREATE TABLE a (n INT);\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN UPDATE b SET end = 1; END;\nSELECT 2;";
        let split = split(text, MySql).unwrap();
        assert_eq!(split.statements.len(), 1);
        assert_eq!(split.statements[0].kind, StatementKind::Whole);
    }

    #[test]
    fn unclosed_routine_body_keeps_the_snippet_whole() {
        let text = "CREATE TABLE a (n INT);\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2;";
        assert_eq!(statements(text, MySql), [text.trim_end_matches(';')]);
    }

    #[test]
    fn routine_with_a_compound_body_without_begin_keeps_the_snippet_whole() {
        let text = "CREATE PROCEDURE p() WHILE 1 = 0 DO SELECT 1; END WHILE;\nSELECT 2;";
        assert_eq!(split(text, MySql).unwrap().statements[0].kind, StatementKind::Whole);
    }

    #[test]
    fn mysql_trigger_without_body_is_split() {
        let text = "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.n = 1;SELECT 2";
        assert_eq!(statements(text, MySql).len(), 2);
    }

    #[test]
    fn sqlite_trigger_with_begin_end_body_is_one_statement() {
        let trigger = "CREATE TRIGGER t AFTER INSERT ON a WHEN NEW.x > 0 BEGIN INSERT INTO b VALUES (CASE WHEN NEW.x > 1 THEN 1 ELSE 0 END); DELETE FROM c; END";
        let text = format!("CREATE TABLE a (x INT);\n{trigger};\nCREATE INDEX a_x ON a (x);");
        assert_eq!(statements(&text, Sqlite), ["CREATE TABLE a (x INT)", trigger, "CREATE INDEX a_x ON a (x)"]);
    }

    #[test]
    fn postgres_begin_atomic_body_is_one_statement() {
        let function = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END";
        assert_eq!(statements(&format!("{function};\nSELECT 3;"), Postgres), [function, "SELECT 3"]);
    }

    #[test]
    fn postgres_do_block_is_a_block_statement() {
        let text = "DO $$ BEGIN PERFORM 1; END $$;\nSELECT 2;";
        assert_eq!(split(text, Postgres).unwrap().statements[0].kind, StatementKind::Block);
    }

    #[test]
    fn postgres_transaction_begin_is_split() {
        assert_eq!(statements("BEGIN;SELECT 1;COMMIT", Postgres).len(), 3);
    }

    #[test]
    fn unbalanced_parentheses_are_reported() {
        let text = "CREATE TABLE a (\n  x NUMERIC(10, 2;\n";
        assert_eq!(problem(text, Sqlite).offset, text.find("(10").unwrap());
        assert!(problem("SELECT 1);", Sqlite).message.contains("no matching `(`"));
    }

    #[test]
    fn text_without_statement_is_reported_and_comments_alone_are_not() {
        assert!(problem("  \n\t\n", Postgres).message.contains("no statement"));
        let split = split("-- only a comment\n/* and another */\n", Postgres).unwrap();
        assert!(split.statements.is_empty());
    }

    #[test]
    fn no_part_of_a_tricky_text_makes_lexing_splitting_or_directives_panic() {
        let text = "-- guard: unless(SELECT ')' FROM t\n-- gaurd: column_missing(\"a\"\"b\".`c`)\n\
                    /* a /* b */ */ CREATE TABLE \"x\"\"y\" ([a] INT, `b` TEXT DEFAULT E'\\'' || 'c''d' || $t$ ; $t$);\n\
                    # h\nDELIMITER //\n--x\nCREATE TRIGGER t BEGIN SELECT $1; END;\nDROP TABLE données; ALTER TABLE t DROP COLUMN c\r\n";
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        for &i in &boundaries {
            for part in [&text[..i], &text[i..]] {
                for dialect in DialectKind::ALL {
                    if let Ok(split) = split(part, dialect) {
                        for s in crate::destructive::statements(part, dialect, &split) {
                            first_words(part, s.start, s.end);
                        }
                    }
                    let _ = crate::directives::parse(part, &crate::lines::LineIndex::new(part), dialect);
                }
            }
        }
    }
}
