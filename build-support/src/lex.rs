//! Step 3, first half: cut a snippet's text into tokens, as one dialect reads it.
//!
//! The lexer knows each dialect's strings, quoted identifiers and comments, so that a
//! `;` inside them never ends a statement and no keyword is read inside them. It stops
//! at what it is certain about: an unterminated string, quoted identifier, dollar quote
//! or block comment fails the build where it opens.

use bootschema::DialectKind;

use crate::diagnostic::Problem;

/// What a token is; whitespace is not a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A keyword, bare identifier or number.
    Word,
    /// A string literal or quoted identifier.
    Quoted,
    /// Any other single character (`;`, `(`, `,`, operators).
    Punct,
    /// `-- …` (or MySQL's `# …`) up to the end of the line.
    LineComment,
    /// `/* … */`.
    BlockComment,
}

/// One token: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub(crate) fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// Cuts `text` into tokens as `dialect` reads it. Stops at the first unterminated
/// string, quoted identifier, dollar quote or block comment, returning the tokens
/// before it and the problem.
pub(crate) fn lex(text: &str, dialect: DialectKind) -> (Vec<Token>, Option<Problem>) {
    let mut lexer = Lexer { text, bytes: text.as_bytes(), pos: 0, dialect, tokens: Vec::new() };
    let problem = lexer.run().err();
    (lexer.tokens, problem)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    dialect: DialectKind,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token { kind, start, end: self.pos });
    }

    fn run(&mut self) -> Result<(), Problem> {
        use DialectKind::{MySql, Postgres, Sqlite};
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            match (c, self.dialect) {
                _ if c.is_ascii_whitespace() || c == 0x0b => self.pos += 1,
                (b'-', _) if self.peek(1) == Some(b'-') && self.starts_line_comment() => self.line_comment(start),
                (b'#', MySql) => self.line_comment(start),
                (b'/', _) if self.peek(1) == Some(b'*') => self.block_comment(start)?,
                (b'\'', Postgres | Sqlite) => self.quoted(start, b'\'', false)?,
                (b'\'' | b'"', MySql) => self.quoted(start, c, true)?,
                (b'"', Postgres | Sqlite) => self.quoted(start, b'"', false)?,
                (b'`', MySql | Sqlite) => self.quoted(start, b'`', false)?,
                (b'[', Sqlite) => self.bracketed(start)?,
                (b'$', Postgres) => self.dollar(start)?,
                _ if is_word_byte(c) => self.word(start)?,
                _ => {
                    self.pos += 1;
                    self.push(TokenKind::Punct, start);
                }
            }
        }
        Ok(())
    }

    /// MySQL starts a `--` comment only when whitespace or a control character (or the
    /// end of the text) follows; elsewhere `--` always does.
    fn starts_line_comment(&self) -> bool {
        self.dialect != DialectKind::MySql || self.peek(2).is_none_or(|b| b <= b' ' || b == 0x7f)
    }

    /// Up to the end of the line (PostgreSQL also ends it at a lone `\r`).
    fn line_comment(&mut self, start: usize) {
        let ends = |b: u8| b == b'\n' || (b == b'\r' && self.dialect == DialectKind::Postgres);
        self.pos = self.bytes[start..].iter().position(|&b| ends(b)).map_or(self.bytes.len(), |i| start + i);
        self.push(TokenKind::LineComment, start);
    }

    /// PostgreSQL nests block comments; MySQL and SQLite end them at the first `*/`.
    fn block_comment(&mut self, start: usize) -> Result<(), Problem> {
        let nests = self.dialect == DialectKind::Postgres;
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.peek(0) == Some(b'/') && self.peek(1) == Some(b'*') && (depth == 0 || nests) {
                depth += 1;
                self.pos += 2;
            } else if self.peek(0) == Some(b'*') && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.pos += 2;
                if depth == 0 {
                    self.push(TokenKind::BlockComment, start);
                    return Ok(());
                }
            } else {
                self.pos += 1;
            }
        }
        let help = if nests {
            "close it with `*/` (PostgreSQL nests block comments: each `/*` inside needs its own `*/`)"
        } else {
            "close it with `*/`"
        };
        Err(Problem {
            offset: start,
            message: "unterminated block comment: the `/*` opened here is never closed".into(),
            help: help.into(),
        })
    }

    /// A string or quoted identifier ending at `quote`; a doubled quote stands for
    /// itself, and with `backslash` so does `\` followed by any character.
    fn quoted(&mut self, start: usize, quote: u8, backslash: bool) -> Result<(), Problem> {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            if backslash && b == b'\\' {
                self.pos += 2;
            } else if b == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    self.push(TokenKind::Quoted, start);
                    return Ok(());
                }
            } else {
                self.pos += 1;
            }
        }
        Err(self.unterminated_quote(start, quote, backslash))
    }

    fn unterminated_quote(&self, start: usize, quote: u8, backslash: bool) -> Problem {
        let q = quote as char;
        let is_identifier = quote == b'`' || (quote == b'"' && self.dialect != DialectKind::MySql && !backslash);
        let what = if is_identifier { "quoted identifier" } else { "string literal" };
        Problem {
            offset: start,
            message: format!("unterminated {what}: the `{q}` opened here is never closed"),
            help: format!("close it with `{q}` (inside it, write `{q}{q}` for a `{q}`)"),
        }
    }

    /// SQLite's `[identifier]`, which ends at the first `]`.
    fn bracketed(&mut self, start: usize) -> Result<(), Problem> {
        match self.bytes[start..].iter().position(|&b| b == b']') {
            Some(i) => {
                self.pos = start + i + 1;
                self.push(TokenKind::Quoted, start);
                Ok(())
            }
            None => Err(Problem {
                offset: start,
                message: "unterminated quoted identifier: the `[` opened here is never closed".into(),
                help: "close it with `]`".into(),
            }),
        }
    }

    /// PostgreSQL's `$tag$ … $tag$`; a `$` that does not open one (`$1`) is a word.
    fn dollar(&mut self, start: usize) -> Result<(), Problem> {
        let rest = &self.bytes[start + 1..];
        let tag_len = match rest.first() {
            Some(&b) if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                rest.iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)).unwrap_or(rest.len())
            }
            _ => 0,
        };
        if rest.get(tag_len) != Some(&b'$') {
            // Not a dollar quote: a parameter (`$1`) or a stray `$`.
            self.pos += 1;
            while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            self.push(TokenKind::Word, start);
            return Ok(());
        }
        let delimiter = &self.text[start..start + tag_len + 2];
        let body = start + delimiter.len();
        match self.text[body..].find(delimiter) {
            Some(i) => {
                self.pos = body + i + delimiter.len();
                self.push(TokenKind::Quoted, start);
                Ok(())
            }
            None => Err(Problem {
                offset: start,
                message: format!("unterminated dollar quote: the `{delimiter}` opened here is never closed"),
                help: format!("end the quoted body with the same `{delimiter}`"),
            }),
        }
    }

    /// A keyword, identifier or number; PostgreSQL's `E'…'` escape string is read here.
    fn word(&mut self, start: usize) -> Result<(), Problem> {
        while self.peek(0).is_some_and(|b| is_word_byte(b) || b == b'$') {
            self.pos += 1;
        }
        let word = &self.bytes[start..self.pos];
        if self.dialect == DialectKind::Postgres && (word == b"E" || word == b"e") && self.peek(0) == Some(b'\'') {
            let quote = self.pos;
            self.quoted(quote, b'\'', true)?;
            if let Some(token) = self.tokens.last_mut() {
                token.start = start;
            }
            return Ok(());
        }
        self.push(TokenKind::Word, start);
        Ok(())
    }
}

/// Bytes of words: ASCII letters, digits, `_`, and every byte of a non-ASCII character
/// (unicode letters in identifiers).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether `token` is the word `keyword`, in any case.
pub(crate) fn word_is(text: &str, token: Option<&Token>, keyword: &str) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(keyword))
}

/// Whether `token` is the punctuation `c`.
pub(crate) fn punct_is(text: &str, token: Option<&Token>, c: u8) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Punct && text.as_bytes()[t.start] == c)
}

#[cfg(test)]
mod tests {
    //! The lexer is tested through the splitter, its reader: a `;` inside a string,
    //! quoted identifier or comment ends no statement.

    use super::*;
    use crate::split::split;
    use crate::split::tests::{problem, statements};
    use DialectKind::{MySql, Postgres, Sqlite};

    #[test]
    fn postgres_single_quoted_string_with_doubled_quote() {
        assert_eq!(statements("SELECT 'a;''b';SELECT 2", Postgres), ["SELECT 'a;''b'", "SELECT 2"]);
    }

    #[test]
    fn postgres_backslash_does_not_escape_in_a_plain_string() {
        assert_eq!(statements(r"SELECT 'C:\';SELECT 2", Postgres), [r"SELECT 'C:\'", "SELECT 2"]);
    }

    #[test]
    fn postgres_escape_string_with_backslash_quote() {
        assert_eq!(statements(r"SELECT E'it\'s;';SELECT 2", Postgres), [r"SELECT E'it\'s;'", "SELECT 2"]);
    }

    #[test]
    fn postgres_quoted_identifier_with_doubled_quote() {
        assert_eq!(
            statements(r#"CREATE TABLE "a;""b" (x INT);SELECT 2"#, Postgres),
            [r#"CREATE TABLE "a;""b" (x INT)"#, "SELECT 2"]
        );
    }

    #[test]
    fn postgres_dollar_quotes_with_and_without_tag() {
        let text = "DO $$ BEGIN PERFORM 1; END $$;\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $x$ $body$ LANGUAGE sql;\nSELECT 3";
        assert_eq!(statements(text, Postgres).len(), 3);
    }

    #[test]
    fn postgres_positional_parameter_is_not_a_dollar_quote() {
        assert_eq!(statements("PREPARE p AS SELECT $1;SELECT 2", Postgres), ["PREPARE p AS SELECT $1", "SELECT 2"]);
    }

    #[test]
    fn postgres_dollar_inside_identifier_is_not_a_dollar_quote() {
        assert_eq!(statements("SELECT a$b$ FROM t;SELECT 2", Postgres), ["SELECT a$b$ FROM t", "SELECT 2"]);
    }

    #[test]
    fn postgres_block_comments_nest() {
        assert_eq!(statements("/* a /* b; */ c; */ SELECT 1;SELECT 2", Postgres), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn line_comment_hides_semicolon() {
        assert_eq!(statements("SELECT 1 -- a; b\n;SELECT 2", Postgres), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn mysql_strings_take_backslash_escapes_and_doubled_quotes() {
        let text = r#"INSERT INTO t VALUES ('it\'s;', 'a''b;', "say \"hi\";", "x"";");SELECT 2"#;
        assert_eq!(statements(text, MySql).len(), 2);
    }

    #[test]
    fn mysql_backtick_identifier_with_doubled_backtick() {
        assert_eq!(
            statements("CREATE TABLE `a;``b` (x INT);SELECT 2", MySql),
            ["CREATE TABLE `a;``b` (x INT)", "SELECT 2"]
        );
    }

    #[test]
    fn mysql_hash_comment() {
        assert_eq!(statements("# a; b\nSELECT 1;SELECT 2", MySql), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn mysql_dash_dash_needs_a_space_to_start_a_comment() {
        assert_eq!(statements("SELECT 1 -- a; b\n;SELECT 2", MySql), ["SELECT 1", "SELECT 2"]);
        assert_eq!(statements("SELECT 1--1;SELECT 2", MySql), ["SELECT 1--1", "SELECT 2"]);
    }

    #[test]
    fn mysql_block_comments_do_not_nest() {
        assert_eq!(statements("/* a /* b */ SELECT 1;SELECT 2", MySql), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn sqlite_quotes_of_every_kind() {
        let text = "CREATE TABLE [a;b] (\"c;\"\"d\" TEXT, `e;``f` TEXT DEFAULT 'g;''h');SELECT 2";
        assert_eq!(statements(text, Sqlite).len(), 2);
    }

    #[test]
    fn sqlite_backslash_does_not_escape() {
        assert_eq!(statements(r"SELECT '\';SELECT 2", Sqlite), [r"SELECT '\'", "SELECT 2"]);
    }

    #[test]
    fn unterminated_string_is_reported_where_it_opens() {
        let text = "SELECT 1;\nSELECT 'abc;\nSELECT 2;";
        let p = problem(text, Postgres);
        assert_eq!(p.offset, text.find('\'').unwrap());
        assert!(p.message.contains("unterminated string literal"), "{p:?}");
    }

    #[test]
    fn backslash_quote_is_unterminated_for_postgres_but_not_mysql() {
        let text = r"SELECT 'it\'s';";
        assert!(split(text, MySql).is_ok());
        assert!(problem(text, Postgres).message.contains("unterminated string literal"));
    }

    #[test]
    fn unterminated_quoted_identifier_is_reported() {
        assert!(problem("SELECT \"abc FROM t;", Postgres).message.contains("unterminated quoted identifier"));
        assert!(problem("SELECT `abc FROM t;", MySql).message.contains("unterminated quoted identifier"));
        assert!(problem("SELECT [abc FROM t;", Sqlite).message.contains("unterminated quoted identifier"));
    }

    #[test]
    fn unterminated_dollar_quote_names_its_tag() {
        let p = problem("DO $body$ BEGIN END $$;", Postgres);
        assert!(p.message.contains("`$body$`"), "{p:?}");
    }

    #[test]
    fn unterminated_block_comment_is_reported() {
        // Closed once, but PostgreSQL nests: the outer comment stays open.
        assert!(problem("/* a /* b */ SELECT 1;", Postgres).message.contains("unterminated block comment"));
        assert!(problem("SELECT 1; /* never closed", Sqlite).message.contains("unterminated block comment"));
    }
}
