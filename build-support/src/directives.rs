//! Step 2: read the directive block, the comment lines at the top of a snippet.
//!
//! ```sql
//! -- guard: column_missing(users.email)
//! -- transaction: none
//! -- destructive: drops the old column
//! -- on_change: reapply
//! ```
//!
//! Ordinary comments stay allowed there. A `-- key: value` line whose key is not a
//! directive is an error only when it looks like a misspelt one: the key is within two
//! edits of a directive (`gaurd`, `transacton`, `destructve`) or the value looks like a
//! guard (`-- check: table_missing(users)`). A directive below the first statement would
//! silently do nothing, so it is an error too.

use std::borrow::Cow;

use bootschema::{DialectKind, Guard, GuardKind, GuardOrigin, Ident, ObjectName, OnChange, TransactionMode};

use crate::diagnostic::Problem;
use crate::lex::{self, TokenKind};
use crate::lines::LineIndex;

/// What the directive block of a snippet says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Directives {
    pub guards: Vec<Guard>,
    pub transaction: TransactionMode,
    pub destructive: bool,
    pub on_change: OnChange,
}

const GUARD: &str = "guard";
const TRANSACTION: &str = "transaction";
const DESTRUCTIVE: &str = "destructive";
const ON_CHANGE: &str = "on_change";
const KNOWN: [&str; 4] = [GUARD, TRANSACTION, DESTRUCTIVE, ON_CHANGE];

/// The correct form of each directive, for help messages.
fn example(key: &str) -> &'static str {
    match key {
        GUARD => "-- guard: table_missing(users)",
        TRANSACTION => "-- transaction: none",
        DESTRUCTIVE => "-- destructive",
        _ => "-- on_change: reapply",
    }
}

/// Reads the directives of `text`. Its comments are found with the lexer of `dialect`
/// (the file's own, or any dialect for a portable file: they agree on `--` lines).
///
/// Returns what could be read even when some lines are wrong, so that later checks
/// (`-- destructive`) still see the good lines.
pub(crate) fn parse(text: &str, lines: &LineIndex, dialect: DialectKind) -> (Directives, Vec<Problem>) {
    // An unterminated string is reported by the splitter; the tokens before it suffice here.
    let (tokens, _) = lex::lex(text, dialect);
    let first_statement = tokens
        .iter()
        .position(|t| !matches!(t.kind, TokenKind::LineComment | TokenKind::BlockComment))
        .unwrap_or(tokens.len());
    let mut directives = Directives::default();
    let mut seen: Vec<(&str, u32)> = Vec::new();
    let mut problems = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        let comment = &text[token.start..token.end];
        let Some(body) = comment.strip_prefix("--").filter(|_| token.kind == TokenKind::LineComment) else {
            continue;
        };
        let line = lines.line(token.start);
        let problem = |message: String, help: String| Problem { offset: token.start, message, help };
        let in_header = index < first_statement;
        match classify(body) {
            Line::Comment => {}
            Line::Mistake(message, help) if in_header => problems.push(problem(message, help)),
            Line::Mistake(..) => {}
            Line::Directive(key, _) if !in_header => problems.push(problem(
                format!("the directive `{}` comes after the first statement, where it has no effect", comment.trim()),
                format!("move it to the top of the file, before the first statement (e.g. `{}`)", example(key)),
            )),
            Line::Directive(key, value) => {
                if key != GUARD {
                    if let Some(&(_, first)) = seen.iter().find(|(k, _)| *k == key) {
                        problems.push(problem(
                            format!("the directive `{key}` is given twice (first on line {first})"),
                            format!("keep a single `{}` line", example(key)),
                        ));
                        continue;
                    }
                    seen.push((key, line));
                }
                if let Err((message, help)) = apply(&mut directives, key, value, line) {
                    problems.push(problem(message, help));
                }
            }
        }
    }
    (directives, problems)
}

/// What a `--` comment line is.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// An ordinary comment.
    Comment,
    /// A known directive: its key and value (empty for a bare `-- destructive`).
    Directive(&'static str, &'a str),
    /// Looks like a directive but is not one: (what is wrong, what to do).
    Mistake(String, String),
}

fn classify(body: &str) -> Line<'_> {
    let trimmed = body.trim();
    let key_len = trimmed.find(|c: char| !(c.is_ascii_alphabetic() || c == '_')).unwrap_or(trimmed.len());
    if key_len == 0 {
        return Line::Comment;
    }
    let (key, rest) = trimmed.split_at(key_len);
    let lower = key.to_ascii_lowercase();
    let value = rest.strip_prefix(':').map(str::trim);
    let bare = rest.trim().is_empty() || rest.trim_start().starts_with("--");
    let Some(known) = KNOWN.into_iter().find(|k| *k == lower) else {
        if key != lower {
            return Line::Comment;
        }
        let near = KNOWN.into_iter().find(|k| edit_distance(&lower, k) <= 2);
        let guard_like = value.is_some_and(looks_like_guard_call);
        if !(near.is_some() && (value.is_some() || bare) || guard_like) {
            return Line::Comment;
        }
        let help = match near {
            Some(GUARD) | None => format!("did you mean `-- guard: {}`?", value.unwrap_or("table_missing(users)")),
            Some(near) => format!("did you mean `{}`?", example(near)),
        };
        return Line::Mistake(
            format!("unknown directive `{key}`"),
            format!(
                "{help} The directives are `-- guard: …`, `-- transaction: none`, `-- destructive` and \
                 `-- on_change: reapply`; reword the line if it is an ordinary comment"
            ),
        );
    };
    if key != lower {
        return if value.is_some() || bare {
            Line::Mistake(
                format!("directives are written in lower case, not `{key}`"),
                format!("write it as `{}`", example(known)),
            )
        } else {
            Line::Comment
        };
    }
    match value {
        Some(value) => Line::Directive(known, value),
        None if bare && known == DESTRUCTIVE => Line::Directive(known, ""),
        None if bare => {
            Line::Mistake(format!("the directive `{known}` needs a value"), format!("write it as `{}`", example(known)))
        }
        // `-- transaction none`, `-- guard table_missing(x)`: a directive missing its colon.
        None if missing_colon(known, rest.trim()) => Line::Mistake(
            format!("the directive `{known}` needs a `:` before its value"),
            format!("write it as `-- {known}: {}`", rest.trim()),
        ),
        // Prose that starts with the word (`-- guard against double inserts`).
        None => Line::Comment,
    }
}

fn missing_colon(key: &str, rest: &str) -> bool {
    match key {
        TRANSACTION => matches!(rest, "none" | "wrapped"),
        ON_CHANGE => matches!(rest, "reapply" | "refuse"),
        GUARD => looks_like_guard_call(rest),
        _ => false,
    }
}

/// `name(...)`: a word directly followed by parentheses.
fn looks_like_guard_call(value: &str) -> bool {
    let name_len = value.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(value.len());
    name_len > 0 && value[name_len..].trim_start().starts_with('(') && value.contains(')')
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours (`gaurd` is one edit from `guard`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The value without a trailing `-- comment`.
fn without_comment(value: &str) -> &str {
    value.split("--").next().unwrap_or("").trim()
}

fn apply(directives: &mut Directives, key: &str, value: &str, line: u32) -> Result<(), (String, String)> {
    match key {
        GUARD => directives.guards.push(Guard {
            kind: parse_guard(value)?,
            origin: GuardOrigin::Written { line },
            undone_by: None,
        }),
        TRANSACTION => {
            directives.transaction = match without_comment(value) {
                "none" => TransactionMode::None,
                "wrapped" => TransactionMode::Wrapped,
                other => {
                    return Err((
                        format!("`{other}` is not a transaction mode"),
                        "write `-- transaction: none` (never wrapped in BEGIN, e.g. for CREATE INDEX \
                         CONCURRENTLY) or `-- transaction: wrapped` (the default)"
                            .to_owned(),
                    ))
                }
            }
        }
        ON_CHANGE => {
            directives.on_change = match without_comment(value) {
                "reapply" => OnChange::Reapply,
                "refuse" => OnChange::Refuse,
                other => {
                    return Err((
                        format!("`{other}` is not an on_change policy"),
                        "write `-- on_change: reapply` (run again when the text changes: views, functions) \
                         or `-- on_change: refuse` (the default)"
                            .to_owned(),
                    ))
                }
            }
        }
        // The reason after `destructive:` is for the reader.
        _ => directives.destructive = true,
    }
    Ok(())
}

/// The guard kinds and how each is written.
const GUARD_KINDS: [(&str, &str); 16] = [
    ("table_missing", "`-- guard: table_missing(users)` or `table_missing(billing.invoices)`"),
    ("column_missing", "`-- guard: column_missing(users.email)` or `column_missing(billing.invoices.total)`"),
    ("index_missing", "`-- guard: index_missing(users_email_idx)` or `index_missing(billing.invoices_total_idx)`"),
    (
        "constraint_missing",
        "`-- guard: constraint_missing(users.users_email_key)` or \
         `constraint_missing(billing.invoices.invoices_total_key)`",
    ),
    ("unless", "`-- guard: unless(SELECT 1 FROM settings WHERE key = 'seeded')`"),
    ("schema_missing", "`-- guard: schema_missing(billing)`"),
    ("type_missing", "`-- guard: type_missing(mood)` or `type_missing(billing.currency)`"),
    ("column_renamed", "`-- guard: column_renamed(users.name, full_name)` (table.old_column, new_column)"),
    ("table_renamed", "`-- guard: table_renamed(people, users)` (old_table, new_table)"),
    ("index_renamed", "`-- guard: index_renamed(users_mail_idx, users_email_idx)` (old_index, new_index)"),
    ("function_missing", "`-- guard: function_missing(touch)` or `function_missing(billing.total)` (any signature)"),
    ("procedure_missing", "`-- guard: procedure_missing(purge)` or `procedure_missing(billing.close)` (any signature)"),
    ("trigger_missing", "`-- guard: trigger_missing(users.users_touch)` (table.trigger)"),
    ("sequence_missing", "`-- guard: sequence_missing(invoice_no)` or `sequence_missing(billing.invoice_no)`"),
    ("extension_missing", "`-- guard: extension_missing(pgcrypto)`"),
    ("policy_missing", "`-- guard: policy_missing(documents.own_rows)` (table.policy)"),
];

/// Every guard kind, for messages.
const ALL_GUARDS: &str = "guards are `table_missing(t)`, `column_missing(t.c)`, `index_missing(i)`, \
                          `constraint_missing(t.k)`, `schema_missing(s)`, `type_missing(t)`, \
                          `column_renamed(t.old, new)`, `table_renamed(old, new)`, `index_renamed(old, new)`, \
                          `function_missing(f)`, `procedure_missing(p)`, `trigger_missing(t.trg)`, \
                          `sequence_missing(s)`, `extension_missing(e)`, `policy_missing(t.p)` \
                          and `unless(query)`";

fn guard_help(kind: &str) -> String {
    let form = GUARD_KINDS.iter().find(|(k, _)| *k == kind).map_or("", |(_, f)| *f);
    format!("write it as {form}; quote names that need it with `\"…\"` or `` `…` ``")
}

/// Parses the value of a `-- guard:` line: `kind(args)`, optionally followed by a
/// `-- comment`.
pub(crate) fn parse_guard(value: &str) -> Result<GuardKind, (String, String)> {
    let value = value.trim();
    let kind_len = value.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(value.len());
    let (kind, rest) = value.split_at(kind_len);
    let known = GUARD_KINDS.iter().any(|(k, _)| *k == kind);
    if !known {
        let near =
            GUARD_KINDS.iter().map(|(k, _)| *k).min_by_key(|k| edit_distance(kind, k)).unwrap_or("table_missing");
        return Err(if kind.is_empty() {
            (
                format!("malformed guard `{value}`: it does not start with a guard kind"),
                format!("{ALL_GUARDS}, e.g. {}", guard_help("table_missing")),
            )
        } else {
            (format!("unknown guard `{kind}`"), format!("did you mean `{near}`? The {ALL_GUARDS}"))
        });
    }
    let malformed = |what: &str| (format!("malformed guard `{value}`: {what}"), guard_help(kind));
    let Some(args) = rest.trim_start().strip_prefix('(') else {
        return Err(malformed(&format!("expected `(` after `{kind}`")));
    };
    if kind == "unless" {
        let Some(close) = args.rfind(')') else {
            return Err(malformed("unbalanced parentheses: the `(` is never closed"));
        };
        check_trailing(&args[close + 1..]).map_err(|what| malformed(&what))?;
        let query = args[..close].trim();
        if query.is_empty() {
            return Err(malformed("the query is empty"));
        }
        if !parens_balance(query) {
            return Err(malformed("unbalanced parentheses in the query"));
        }
        return Ok(GuardKind::Unless(Cow::Owned(query.to_owned())));
    }
    let (lists, after) = parse_name_lists(args).map_err(|what| malformed(&what))?;
    check_trailing(after).map_err(|what| malformed(&what))?;
    let renames = matches!(kind, "column_renamed" | "table_renamed" | "index_renamed");
    let expected_lists = if renames { 2 } else { 1 };
    if lists.len() != expected_lists {
        let what = if renames {
            "expected two names separated by `,`: the old one and the new one".to_owned()
        } else {
            "expected one name, without `,`".to_owned()
        };
        return Err(malformed(&what));
    }
    let mut lists = lists.into_iter();
    let mut parts = lists.next().unwrap_or_default();
    let second = lists.next().unwrap_or_default();
    let (min, max) = match kind {
        "schema_missing" | "extension_missing" => (1, 1),
        "table_missing" | "index_missing" | "type_missing" | "table_renamed" | "index_renamed" | "function_missing"
        | "procedure_missing" | "sequence_missing" => (1, 2),
        _ => (2, 3),
    };
    let expected = match kind {
        "table_missing" => "a table name, optionally schema-qualified",
        "index_missing" => "an index name, optionally schema-qualified",
        "type_missing" => "a type name, optionally schema-qualified",
        "schema_missing" => "a schema name, not qualified",
        "extension_missing" => "an extension name, not qualified",
        "function_missing" => "a function name, optionally schema-qualified (any signature)",
        "procedure_missing" => "a procedure name, optionally schema-qualified (any signature)",
        "sequence_missing" => "a sequence name, optionally schema-qualified",
        "trigger_missing" => "a table and a trigger (`table.trigger` or `schema.table.trigger`)",
        "policy_missing" => "a table and a policy (`table.policy` or `schema.table.policy`)",
        "column_missing" => "a table and a column (`table.column` or `schema.table.column`)",
        "column_renamed" => "a table and its old column (`table.old` or `schema.table.old`), then the new column",
        "table_renamed" => "an old and a new table name, each optionally schema-qualified",
        "index_renamed" => "an old and a new index name, each optionally schema-qualified",
        _ => "a table and a constraint (`table.constraint` or `schema.table.constraint`)",
    };
    if !(min..=max).contains(&parts.len()) {
        return Err(malformed(&format!("wrong number of name parts ({}): expected {expected}", parts.len())));
    }
    let second_ok = match kind {
        "column_renamed" => second.len() == 1,
        "table_renamed" | "index_renamed" => (1..=2).contains(&second.len()),
        _ => true,
    };
    if !second_ok {
        return Err(malformed(&format!(
            "wrong number of name parts ({}) after `,`: expected {expected}",
            second.len()
        )));
    }
    let last = parts.pop().unwrap_or_else(|| Ident::bare(""));
    let object = |mut parts: Vec<Ident>, name: Ident| ObjectName { schema: parts.pop(), name };
    let whole = |mut parts: Vec<Ident>| {
        let name = parts.pop().unwrap_or_else(|| Ident::bare(""));
        object(parts, name)
    };
    Ok(match kind {
        "table_missing" => GuardKind::TableMissing(object(parts, last)),
        "index_missing" => GuardKind::IndexMissing(object(parts, last)),
        "type_missing" => GuardKind::TypeMissing(object(parts, last)),
        "schema_missing" => GuardKind::SchemaMissing(last),
        "extension_missing" => GuardKind::ExtensionMissing(last),
        "sequence_missing" => GuardKind::SequenceMissing(object(parts, last)),
        "function_missing" => GuardKind::FunctionMissing { name: object(parts, last), args: None },
        "procedure_missing" => GuardKind::ProcedureMissing { name: object(parts, last), args: None },
        "trigger_missing" => {
            let table = parts.pop().unwrap_or_else(|| Ident::bare(""));
            GuardKind::TriggerMissing { table: object(parts, table), trigger: last }
        }
        "policy_missing" => {
            let table = parts.pop().unwrap_or_else(|| Ident::bare(""));
            GuardKind::PolicyMissing { table: object(parts, table), policy: last }
        }
        "table_renamed" => GuardKind::TableRenamed { from: object(parts, last), to: whole(second) },
        "index_renamed" => GuardKind::IndexRenamed { from: object(parts, last), to: whole(second) },
        "column_missing" => {
            let table = parts.pop().unwrap_or_else(|| Ident::bare(""));
            GuardKind::ColumnMissing { table: object(parts, table), column: last }
        }
        "column_renamed" => {
            let table = parts.pop().unwrap_or_else(|| Ident::bare(""));
            let to = second.into_iter().next().unwrap_or_else(|| Ident::bare(""));
            GuardKind::ColumnRenamed { table: object(parts, table), from: last, to }
        }
        _ => {
            let table = parts.pop().unwrap_or_else(|| Ident::bare(""));
            GuardKind::ConstraintMissing { table: object(parts, table), constraint: last }
        }
    })
}

/// After the closing `)`: nothing, or a `-- comment`.
fn check_trailing(after: &str) -> Result<(), String> {
    let after = after.trim();
    if after.is_empty() || after.starts_with("--") {
        Ok(())
    } else {
        Err(format!("unexpected `{after}` after the closing `)`"))
    }
}

/// Whether the parentheses of a query balance, outside its string literals and quoted
/// identifiers.
fn parens_balance(query: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// Reads `a.b.c)` or `a.b, c)` into the dotted names between commas, returning what
/// follows the `)`.
fn parse_name_lists(args: &str) -> Result<(Vec<Vec<Ident>>, &str), String> {
    let mut lists = Vec::new();
    let mut parts = Vec::new();
    let mut rest = args.trim_start();
    loop {
        let (ident, after) = parse_ident(rest)?;
        parts.push(ident);
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix('.') {
            rest = after.trim_start();
        } else if let Some(after) = rest.strip_prefix(',') {
            lists.push(std::mem::take(&mut parts));
            rest = after.trim_start();
        } else if let Some(after) = rest.strip_prefix(')') {
            lists.push(parts);
            return Ok((lists, after));
        } else if rest.is_empty() || rest.starts_with("--") {
            return Err("unbalanced parentheses: the `(` is never closed".to_owned());
        } else {
            return Err(format!("unexpected `{}` in the name", rest.chars().next().unwrap_or(' ')));
        }
    }
}

/// One identifier: bare (`users`, unicode letters allowed), `"quoted"` (`""` for a
/// quote) or `` `quoted` `` (` `` ` for a backtick).
fn parse_ident(s: &str) -> Result<(Ident, &str), String> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, quote @ ('"' | '`'))) => {
            let mut value = String::new();
            let mut rest = &s[1..];
            loop {
                let Some(i) = rest.find(quote) else {
                    return Err(format!("the quoted name `{s}` is never closed with `{quote}`"));
                };
                value.push_str(&rest[..i]);
                rest = &rest[i + 1..];
                if let Some(after) = rest.strip_prefix(quote) {
                    value.push(quote);
                    rest = after;
                } else {
                    break;
                }
            }
            if value.is_empty() {
                return Err("a quoted name is empty".to_owned());
            }
            Ok((Ident { value: Cow::Owned(value), quoted: true }, rest))
        }
        Some((_, c)) if c.is_alphabetic() || c == '_' => {
            let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(s.len());
            Ok((Ident::bare(s[..end].to_owned()), &s[end..]))
        }
        Some((_, c)) => Err(format!("expected a name, found `{c}`")),
        None => Err("expected a name".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(value: &str) -> GuardKind {
        parse_guard(value).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn ident(value: &str, quoted: bool) -> Ident {
        Ident { value: value.to_owned().into(), quoted }
    }

    #[test]
    fn table_guard_with_schema() {
        assert_eq!(
            guard("table_missing(billing.invoices)"),
            GuardKind::TableMissing(ObjectName { schema: Some(Ident::bare("billing")), name: Ident::bare("invoices") })
        );
    }

    #[test]
    fn column_guard_with_and_without_schema() {
        assert_eq!(
            guard("column_missing(users.email)"),
            GuardKind::ColumnMissing {
                table: ObjectName { schema: None, name: Ident::bare("users") },
                column: Ident::bare("email")
            }
        );
        assert_eq!(
            guard("column_missing(billing.invoices.total)"),
            GuardKind::ColumnMissing {
                table: ObjectName { schema: Some(Ident::bare("billing")), name: Ident::bare("invoices") },
                column: Ident::bare("total"),
            }
        );
    }

    #[test]
    fn index_and_constraint_guards() {
        assert_eq!(
            guard("index_missing(users_email_idx)"),
            GuardKind::IndexMissing(ObjectName { schema: None, name: Ident::bare("users_email_idx") })
        );
        assert_eq!(
            guard("constraint_missing(billing.invoices.invoices_total_key)"),
            GuardKind::ConstraintMissing {
                table: ObjectName { schema: Some(Ident::bare("billing")), name: Ident::bare("invoices") },
                constraint: Ident::bare("invoices_total_key"),
            }
        );
    }

    #[test]
    fn quoted_names_keep_case_and_unescape() {
        assert_eq!(
            guard(r#"column_missing("My ""Table"".x".`a``b`)"#),
            GuardKind::ColumnMissing {
                table: ObjectName { schema: None, name: ident(r#"My "Table".x"#, true) },
                column: ident("a`b", true),
            }
        );
    }

    #[test]
    fn bare_names_allow_unicode_letters_and_dollar() {
        assert_eq!(
            guard("table_missing(données$1)"),
            GuardKind::TableMissing(ObjectName { schema: None, name: Ident::bare("données$1") })
        );
    }

    #[test]
    fn unless_query_runs_to_the_last_parenthesis() {
        assert_eq!(
            guard("unless(SELECT count(*) FROM t WHERE s = ')') -- seeded once"),
            GuardKind::Unless("SELECT count(*) FROM t WHERE s = ')'".into())
        );
    }

    #[test]
    fn trailing_comment_after_guard_is_allowed() {
        assert_eq!(guard("table_missing(users)   -- created below"), guard("table_missing(users)"));
    }

    #[test]
    fn misspelt_keys_are_mistakes_and_prose_is_not() {
        assert!(matches!(classify(" gaurd: table_missing(x)"), Line::Mistake(..)));
        assert!(matches!(classify(" transacton: none"), Line::Mistake(..)));
        assert!(matches!(classify(" destructve"), Line::Mistake(..)));
        assert!(matches!(classify(" check: table_missing(x)"), Line::Mistake(..)));
        assert_eq!(classify(" author: Jane"), Line::Comment);
        assert_eq!(classify(" guard against double inserts"), Line::Comment);
        assert_eq!(classify(" Adds the email column."), Line::Comment);
        assert_eq!(classify(" ---------"), Line::Comment);
    }

    #[test]
    fn trailing_comment_after_transaction_value_is_allowed() {
        assert_eq!(
            classify(" transaction: none   -- CREATE INDEX CONCURRENTLY"),
            Line::Directive(TRANSACTION, "none   -- CREATE INDEX CONCURRENTLY")
        );
        let mut d = Directives::default();
        apply(&mut d, TRANSACTION, "none   -- CREATE INDEX CONCURRENTLY", 1).unwrap();
        assert_eq!(d.transaction, TransactionMode::None);
    }

    #[test]
    fn no_prefix_of_a_guard_makes_parsing_panic() {
        for value in [
            r#"column_missing("a""b".`c``d`.é$) -- x"#,
            "unless(SELECT count(*) FROM t WHERE s = ')') -- (",
            "constraint_missing( a . b . c . d )",
        ] {
            for i in (0..=value.len()).filter(|&i| value.is_char_boundary(i)) {
                let _ = parse_guard(&value[..i]);
                let _ = classify(&value[..i]);
            }
        }
    }

    #[test]
    fn edit_distance_counts_a_transposition_as_one() {
        assert_eq!(edit_distance("gaurd", "guard"), 1);
        assert_eq!(edit_distance("transacton", "transaction"), 1);
        assert!(edit_distance("author", "guard") > 2);
    }
}
