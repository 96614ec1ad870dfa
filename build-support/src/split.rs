//! Step 3: split a snippet into statements, as one dialect reads it, and check it.
//!
//! The lexer knows each dialect's strings, quoted identifiers and comments, so that a
//! `;` inside them never ends a statement. It is not a parser: where a `;` can end a
//! statement or a line of a body (a `BEGIN … END` trigger or procedure, PostgreSQL's
//! `BEGIN ATOMIC`), the splitter does not guess and keeps the whole snippet as one
//! statement. What it is certain about — an unterminated string, quoted identifier,
//! dollar quote or block comment, unbalanced parentheses, a MySQL `DELIMITER` line —
//! fails the build. The same pass finds statements that lose data (`DROP`,
//! `TRUNCATE`, `ALTER TABLE … DROP`) in a snippet not marked `-- destructive`.

use bootschema::DialectKind;

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
    fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }
}

/// A problem found at a byte offset of the text: what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub offset: usize,
    pub message: String,
    pub help: String,
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

/// A piece of text between two top-level `;`, as the splitter first sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawStatement {
    pub start: usize,
    pub end: usize,
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
    /// What the destructive check reads: the statements this one runs now, each as
    /// its top-level tokens and its end (none for a routine, whose body runs later).
    checked: Vec<(Vec<Token>, usize)>,
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
    if dialect == DialectKind::MySql {
        problems.extend(mysql_client_syntax(text, &tokens, &raw));
    }
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
            checked: raw.iter().map(|r| (r.top.clone(), r.end)).collect(),
        }]
    });
    Ok(Split { statements })
}

fn word_is(text: &str, token: Option<&Token>, keyword: &str) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(keyword))
}

fn punct_is(text: &str, token: Option<&Token>, c: u8) -> bool {
    token.is_some_and(|t| t.kind == TokenKind::Punct && text.as_bytes()[t.start] == c)
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
        let checked = match kind {
            StatementKind::Plain | StatementKind::Whole => vec![(top.clone(), piece.end)],
            StatementKind::Routine => Vec::new(),
            StatementKind::Block if anonymous => raw[i..=last].iter().map(|r| (r.top.clone(), r.end)).collect(),
            StatementKind::Block => do_body(text, top),
        };
        statements.push(Piece { start: piece.start, end: raw[last].end, kind, checked });
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

/// Things only the mysql command-line client understands, which the server rejects.
fn mysql_client_syntax(text: &str, tokens: &[Token], raw: &[RawStatement]) -> Vec<Problem> {
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
    for statement in raw {
        if text[statement.start..].starts_with("--") {
            problems.push(Problem {
                offset: statement.start,
                message: "MySQL reads `--` as the start of a comment only when a space follows it".into(),
                help: "write `-- ` with a space after the dashes".into(),
            });
        }
    }
    problems
}

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
pub(crate) fn destructive(text: &str, dialect: DialectKind, split: &Split) -> Vec<Destructive> {
    let mut found = Vec::new();
    for piece in &split.statements {
        for (tokens, end) in &piece.checked {
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
            if let (Some(why), Some(first)) = (destructive_reason(text, dialect, statement), statement.first()) {
                found.push(Destructive { start: first.start, end: *end, why });
            }
        }
    }
    found
}

fn destructive_reason(text: &str, dialect: DialectKind, t: &[Token]) -> Option<&'static str> {
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
mod tests {
    use super::*;
    use DialectKind::{MySql, Postgres, Sqlite};

    fn statements(text: &str, dialect: DialectKind) -> Vec<&str> {
        let split = split(text, dialect).unwrap_or_else(|p| panic!("{p:?}"));
        split.statements.iter().map(|p| &text[p.start..p.end]).collect()
    }

    fn problem(text: &str, dialect: DialectKind) -> Problem {
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

    #[test]
    fn unbalanced_parentheses_are_reported() {
        let text = "CREATE TABLE a (\n  x NUMERIC(10, 2;\n";
        assert_eq!(problem(text, Sqlite).offset, text.find("(10").unwrap());
        assert!(problem("SELECT 1);", Sqlite).message.contains("no matching `(`"));
    }

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
                        for s in destructive(part, dialect, &split) {
                            first_words(part, s.start, s.end);
                        }
                    }
                    let _ = crate::directives::parse(part, &crate::lines::LineIndex::new(part), dialect);
                }
            }
        }
    }

    fn destructive_words(text: &str, dialect: DialectKind) -> Vec<String> {
        let split = split(text, dialect).unwrap();
        destructive(text, dialect, &split).iter().map(|s| first_words(text, s.start, s.end)).collect()
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
