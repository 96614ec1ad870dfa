//! Step 4, for the objects that the SQL parser reads poorly or never sees: functions
//! and procedures (by signature), triggers, sequences, extensions and policies.
//!
//! A routine's body runs later and is often in a language of its own (PL/pgSQL,
//! MySQL's compound statements), which the parser cannot be trusted with; only the
//! head of these statements tells what they create, drop or rename. So they are read
//! here, word by word from the lexer's tokens, the head only:
//!
//! * `CREATE [OR REPLACE] FUNCTION | PROCEDURE name(args)`: guarded by
//!   `function_missing` / `procedure_missing`. On PostgreSQL the signature is part of
//!   the name: the input argument types (`IN`, `INOUT`, `VARIADIC`; `OUT` excluded as
//!   PostgreSQL excludes it, defaults and argument names ignored), each as `pg_type`
//!   names it (`int`, `integer` and `int4` are `int4`; `varchar(20)` and
//!   `character varying` are `varchar`; `text[]` is `_text`). A signature that cannot
//!   be normalised (`users.id%TYPE`) gets no guard. MySQL has no overloading: the
//!   name alone.
//! * `CREATE [OR REPLACE] TRIGGER name … ON table`: `trigger_missing(table.name)`,
//!   undone by a drop of its table or (PostgreSQL) of the function it executes.
//! * `CREATE SEQUENCE s [… OWNED BY t.c]`: `sequence_missing(s)`, undone by a drop of
//!   the owning column or table (also for `ALTER SEQUENCE s OWNED BY t.c`).
//! * `CREATE EXTENSION [IF NOT EXISTS] e`, `CREATE POLICY p ON t`: their guards.
//! * The matching `DROP`s (with `CASCADE`: what depends on them is not all known) and
//!   renames (`ALTER FUNCTION | PROCEDURE | SEQUENCE | TRIGGER | POLICY … RENAME TO`,
//!   `SET SCHEMA`): effects, never guards.
//!
//! `None` for any other statement, which the parser then reads as before.

use std::borrow::Cow;

use bootschema::{DialectKind, GuardKind, Ident, ObjectName};

use crate::infer::{Effect, Name, Object, Watch};
use crate::lex::{lex, TokenKind};

/// What one of these statements does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Read {
    /// Its guards, each with what it depends on (none for a drop or a rename).
    pub guards: Vec<(GuardKind, Watch)>,
    pub effects: Vec<Effect>,
    /// What a `CREATE OR REPLACE` redefines when it is there already.
    pub replaces: Option<Object>,
}

/// Reads `sql` if it creates, drops or renames one of these objects.
pub(crate) fn read(dialect: DialectKind, sql: &str) -> Option<Read> {
    let (tokens, problem) = lex(sql, dialect);
    if problem.is_some() {
        return None;
    }
    let tokens: Vec<(TokenKind, &str)> =
        tokens.iter().filter(|t| !t.is_comment()).map(|t| (t.kind, &sql[t.start..t.end])).collect();
    let mut c = Cursor { tokens, at: 0, dialect };
    if c.eat("CREATE") {
        c.create()
    } else if c.eat("DROP") {
        c.drop()
    } else if c.eat("ALTER") {
        c.alter()
    } else {
        None
    }
}

struct Cursor<'a> {
    tokens: Vec<(TokenKind, &'a str)>,
    at: usize,
    dialect: DialectKind,
}

impl<'a> Cursor<'a> {
    fn word(&self, k: usize) -> Option<&'a str> {
        self.tokens.get(self.at + k).filter(|(kind, _)| *kind == TokenKind::Word).map(|(_, t)| *t)
    }

    fn is(&self, k: usize, word: &str) -> bool {
        self.word(k).is_some_and(|w| w.eq_ignore_ascii_case(word))
    }

    fn eat(&mut self, word: &str) -> bool {
        let found = self.is(0, word);
        self.at += usize::from(found);
        found
    }

    fn eat_all(&mut self, words: &[&str]) -> bool {
        let found = words.iter().enumerate().all(|(k, w)| self.is(k, w));
        if found {
            self.at += words.len();
        }
        found
    }

    fn punct(&self, k: usize, c: &str) -> bool {
        self.tokens.get(self.at + k).is_some_and(|(kind, t)| *kind == TokenKind::Punct && *t == c)
    }

    fn eat_punct(&mut self, c: &str) -> bool {
        let found = self.punct(0, c);
        self.at += usize::from(found);
        found
    }

    fn done(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// One identifier: a bare word or a quoted name (not a string literal).
    fn ident(&mut self) -> Option<Ident> {
        let ident = ident_of(self.dialect, *self.tokens.get(self.at)?)?;
        self.at += 1;
        Some(ident)
    }

    /// `a`, `s.a` or `c.s.a` (the catalog is dropped).
    fn object(&mut self) -> Option<ObjectName> {
        let mut parts = vec![self.ident()?];
        while self.punct(0, ".") {
            self.at += 1;
            parts.push(self.ident()?);
        }
        let name = parts.pop()?;
        Some(ObjectName { schema: parts.pop(), name })
    }

    fn name(&self, o: &ObjectName) -> Name {
        Name {
            schema: o.schema.as_ref().map(|s| self.dialect.fold(&s.value, s.quoted)),
            name: self.dialect.fold(&o.name.value, o.name.quoted),
        }
    }

    fn fold(&self, i: &Ident) -> String {
        self.dialect.fold(&i.value, i.quoted)
    }

    /// Moves to the first top-level word `word` at or after the cursor.
    fn seek(&mut self, word: &str) -> bool {
        let mut depth = 0usize;
        while !self.done() {
            if self.punct(0, "(") {
                depth += 1;
            } else if self.punct(0, ")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && self.is(0, word) {
                return true;
            }
            self.at += 1;
        }
        false
    }

    /// Whether the last top-level word is `CASCADE`.
    fn cascades(&self) -> bool {
        self.tokens.last().is_some_and(|(kind, t)| *kind == TokenKind::Word && t.eq_ignore_ascii_case("CASCADE"))
    }

    fn guard(&self, kind: GuardKind, covers: Vec<Object>) -> (GuardKind, Watch) {
        let mut watch = Watch::of(self.dialect, &kind);
        watch.covers = covers;
        (kind, watch)
    }

    /// The tokens of a parenthesised list, split at its top-level commas; the cursor
    /// moves past the `)`. `None` when the cursor is not at a `(` or it is not closed.
    fn list(&mut self) -> Option<Vec<Vec<(TokenKind, &'a str)>>> {
        if !self.eat_punct("(") {
            return None;
        }
        let mut items = vec![Vec::new()];
        let mut depth = 0usize;
        loop {
            let token = *self.tokens.get(self.at)?;
            self.at += 1;
            match (token.0, token.1) {
                (TokenKind::Punct, ")") if depth == 0 => break,
                (TokenKind::Punct, ",") if depth == 0 => items.push(Vec::new()),
                (TokenKind::Punct, "(" | "[") => {
                    depth += 1;
                    items.last_mut()?.push(token);
                }
                (TokenKind::Punct, ")" | "]") => {
                    depth = depth.saturating_sub(1);
                    items.last_mut()?.push(token);
                }
                _ => items.last_mut()?.push(token),
            }
        }
        if items.len() == 1 && items[0].is_empty() {
            items.clear();
        }
        Some(items)
    }

    /// A routine's signature at the cursor, as its identity in the catalog: on
    /// PostgreSQL `Some(Some(types))` (`Some(None)`: there, but not normalisable), on
    /// MySQL the list is skipped and the name alone identifies it (`Some(None)`).
    /// `None` when there is no list.
    fn signature(&mut self) -> Option<Option<String>> {
        let args = self.list()?;
        if self.dialect != DialectKind::Postgres {
            return Some(None);
        }
        let mut types = Vec::new();
        for arg in &args {
            match argument_type(self.dialect, arg) {
                Some(Some(t)) => types.push(t),
                Some(None) => {}
                None => return Some(None),
            }
        }
        Some(Some(types.join(",")))
    }

    fn create(&mut self) -> Option<Read> {
        let or_replace = self.eat_all(&["OR", "REPLACE"]);
        // MySQL: `DEFINER = user@host`, `DEFINER = CURRENT_USER[()]`.
        if self.eat("DEFINER") {
            let objects = ["FUNCTION", "PROCEDURE", "TRIGGER", "AGGREGATE", "EVENT", "SEQUENCE"];
            while !self.done() && !objects.iter().any(|w| self.is(0, w)) {
                self.at += 1;
            }
        }
        let temporary = self.eat("TEMP") || self.eat("TEMPORARY") || self.eat("UNLOGGED");
        self.eat("CONSTRAINT");
        if self.eat("FUNCTION") {
            self.routine(false, or_replace)
        } else if self.eat("PROCEDURE") {
            self.routine(true, or_replace)
        } else if self.eat("TRIGGER") {
            self.trigger(or_replace, temporary)
        } else if self.eat("SEQUENCE") {
            self.sequence(or_replace, temporary)
        } else if self.eat("EXTENSION") {
            self.extension()
        } else if self.eat("POLICY") {
            self.policy()
        } else {
            None
        }
    }

    /// `CREATE [OR REPLACE] FUNCTION | PROCEDURE name(args) …`.
    fn routine(&mut self, procedure: bool, or_replace: bool) -> Option<Read> {
        if self.dialect == DialectKind::Sqlite {
            return None;
        }
        self.eat_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object()?;
        let args = self.signature()?;
        // A MySQL loadable function (`RETURNS … SONAME`) is no stored routine.
        if self.seek("SONAME") {
            return None;
        }
        let object = Object::Routine(self.name(&name), procedure, args.clone());
        let mut read = Read { effects: vec![Effect::Creates(object.clone())], ..Read::default() };
        let normalised = self.dialect != DialectKind::Postgres || args.is_some();
        if normalised {
            let args = args.map(Cow::Owned);
            let kind = if procedure {
                GuardKind::ProcedureMissing { name, args }
            } else {
                GuardKind::FunctionMissing { name, args }
            };
            read.guards.push(self.guard(kind, Vec::new()));
            read.replaces = or_replace.then_some(object);
        }
        Some(read)
    }

    /// `CREATE [OR REPLACE] [TEMP] TRIGGER [IF NOT EXISTS] name … ON table …`.
    fn trigger(&mut self, or_replace: bool, temporary: bool) -> Option<Read> {
        self.eat_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object()?;
        if !self.seek("ON") {
            return None;
        }
        self.at += 1;
        let mut table = self.object()?;
        // A MySQL or SQLite trigger lives in its table's schema.
        if table.schema.is_none() && self.dialect != DialectKind::Postgres {
            table.schema = name.schema.clone();
        }
        let mut covers = Vec::new();
        // PostgreSQL: the function it executes; dropping that (with CASCADE) drops it.
        if self.dialect == DialectKind::Postgres && self.seek("EXECUTE") {
            self.at += 1;
            if self.eat("FUNCTION") || self.eat("PROCEDURE") {
                let function = self.object()?;
                covers.push(Object::Routine(self.name(&function), false, Some(String::new())));
            }
        }
        let object = Object::Trigger(Some(self.name(&table)), self.fold(&name.name));
        let mut read = Read { effects: vec![Effect::Creates(object.clone())], ..Read::default() };
        if !temporary {
            read.guards.push(self.guard(GuardKind::TriggerMissing { table, trigger: name.name }, covers));
            read.replaces = or_replace.then_some(object);
        }
        Some(read)
    }

    /// `CREATE [TEMP] SEQUENCE [IF NOT EXISTS] name [… OWNED BY t.c]`.
    fn sequence(&mut self, or_replace: bool, temporary: bool) -> Option<Read> {
        if self.dialect == DialectKind::Sqlite {
            return None;
        }
        self.eat_all(&["IF", "NOT", "EXISTS"]);
        let name = self.object()?;
        let object = Object::Sequence(self.name(&name));
        let mut covers = Vec::new();
        if self.seek("OWNED") && self.eat("OWNED") && self.eat("BY") {
            covers.extend(self.owner());
        }
        let mut read = Read::default();
        // MariaDB's CREATE OR REPLACE SEQUENCE drops the one that is there first.
        if or_replace {
            read.effects.push(Effect::Removes(object.clone()));
        }
        read.effects.push(Effect::Creates(object));
        if !(temporary || or_replace) {
            read.guards.push(self.guard(GuardKind::SequenceMissing(name), covers));
        }
        Some(read)
    }

    /// The column after `OWNED BY` (`t.c`, `s.t.c`; nothing for `NONE`), and its table.
    fn owner(&mut self) -> Vec<Object> {
        let Some(mut column) = self.object() else { return Vec::new() };
        let Some(table) = column.schema.take() else { return Vec::new() };
        // `s.t.c` reads as schema `t`, name `c` with the schema dropped: the table is
        // found by name, which only makes more guards count as undone.
        let table = Name { schema: None, name: self.fold(&table) };
        vec![Object::Column(table.clone(), self.fold(&column.name)), Object::Table(table)]
    }

    /// `CREATE EXTENSION [IF NOT EXISTS] e …` (PostgreSQL).
    fn extension(&mut self) -> Option<Read> {
        if self.dialect != DialectKind::Postgres {
            return None;
        }
        self.eat_all(&["IF", "NOT", "EXISTS"]);
        let name = self.ident()?;
        Some(Read {
            effects: vec![Effect::Creates(Object::Extension(self.fold(&name)))],
            guards: vec![self.guard(GuardKind::ExtensionMissing(name), Vec::new())],
            replaces: None,
        })
    }

    /// `CREATE POLICY p ON t …` (PostgreSQL).
    fn policy(&mut self) -> Option<Read> {
        if self.dialect != DialectKind::Postgres {
            return None;
        }
        let name = self.ident()?;
        if !self.eat("ON") {
            return None;
        }
        let table = self.object()?;
        Some(Read {
            effects: vec![Effect::Creates(Object::Policy(self.name(&table), self.fold(&name)))],
            guards: vec![self.guard(GuardKind::PolicyMissing { table, policy: name }, Vec::new())],
            replaces: None,
        })
    }

    /// `DROP FUNCTION | PROCEDURE | ROUTINE | TRIGGER | SEQUENCE | EXTENSION | POLICY`.
    fn drop(&mut self) -> Option<Read> {
        let what = ["FUNCTION", "PROCEDURE", "ROUTINE", "TRIGGER", "SEQUENCE", "EXTENSION", "POLICY"]
            .into_iter()
            .find(|w| self.is(0, w))?;
        self.at += 1;
        self.eat_all(&["IF", "EXISTS"]);
        let mut removed = Vec::new();
        loop {
            match what {
                "FUNCTION" | "PROCEDURE" | "ROUTINE" => {
                    let name = self.object()?;
                    let args = if self.punct(0, "(") { self.signature()? } else { None };
                    let n = self.name(&name);
                    if what != "PROCEDURE" {
                        removed.push(Object::Routine(n.clone(), false, args.clone()));
                    }
                    if what != "FUNCTION" {
                        removed.push(Object::Routine(n, true, args));
                    }
                }
                "TRIGGER" => {
                    let name = self.object()?;
                    let table = if self.eat("ON") { Some(self.object()?) } else { None };
                    let table = table.map(|t| self.name(&t));
                    removed.push(Object::Trigger(table, self.fold(&name.name)));
                }
                "SEQUENCE" => {
                    let name = self.object()?;
                    removed.push(Object::Sequence(self.name(&name)));
                }
                "EXTENSION" => {
                    let name = self.ident()?;
                    removed.push(Object::Extension(self.fold(&name)));
                }
                _ => {
                    let name = self.ident()?;
                    if !self.eat("ON") {
                        return None;
                    }
                    let table = self.object()?;
                    removed.push(Object::Policy(self.name(&table), self.fold(&name)));
                }
            }
            if !self.eat_punct(",") {
                break;
            }
        }
        let mut effects: Vec<Effect> = removed.iter().cloned().map(Effect::Removes).collect();
        if self.cascades() {
            // What depends on them (triggers on a function, columns of a sequence's
            // default, an extension's users) is not all known.
            effects.extend(removed.into_iter().map(Effect::Cascades));
            effects.push(Effect::Unknown);
        }
        Some(Read { effects, ..Read::default() })
    }

    /// `ALTER FUNCTION | PROCEDURE | ROUTINE | SEQUENCE | TRIGGER | POLICY | EXTENSION`:
    /// a rename or a move to another schema is a rename; `ALTER SEQUENCE … OWNED BY`
    /// ties the sequence to a column; anything else leaves each object in place.
    fn alter(&mut self) -> Option<Read> {
        let what = ["FUNCTION", "PROCEDURE", "ROUTINE", "SEQUENCE", "TRIGGER", "POLICY", "EXTENSION"]
            .into_iter()
            .find(|w| self.is(0, w))?;
        self.at += 1;
        self.eat_all(&["IF", "EXISTS"]);
        let mut read = Read::default();
        let old: Vec<Object> = match what {
            "FUNCTION" | "PROCEDURE" | "ROUTINE" => {
                let name = self.object()?;
                let args = if self.punct(0, "(") { self.signature()? } else { None };
                let n = self.name(&name);
                let kinds: &[bool] = match what {
                    "FUNCTION" => &[false],
                    "PROCEDURE" => &[true],
                    _ => &[false, true],
                };
                kinds.iter().map(|&p| Object::Routine(n.clone(), p, args.clone())).collect()
            }
            "SEQUENCE" => {
                let name = self.object()?;
                let n = self.name(&name);
                if self.eat_all(&["OWNED", "BY"]) {
                    if let Some(owner) = self.owner().into_iter().next() {
                        read.effects.push(Effect::Attaches(Object::Sequence(n), owner));
                    }
                    return Some(read);
                }
                vec![Object::Sequence(n)]
            }
            "TRIGGER" | "POLICY" => {
                let name = self.ident()?;
                if !self.eat("ON") {
                    return None;
                }
                let table = self.object()?;
                let (t, n) = (self.name(&table), self.fold(&name));
                vec![if what == "TRIGGER" { Object::Trigger(Some(t), n) } else { Object::Policy(t, n) }]
            }
            // An extension keeps its name whatever is altered.
            _ => return Some(read),
        };
        let (schema, new) = if self.eat_all(&["RENAME", "TO"]) {
            let new = self.ident()?;
            (None, Some(self.fold(&new)))
        } else if self.eat_all(&["SET", "SCHEMA"]) {
            let schema = self.ident()?;
            (Some(self.fold(&schema)), None)
        } else {
            return Some(read);
        };
        for from in old {
            let to = moved(&from, schema.clone(), new.clone());
            read.effects.push(Effect::RenamesAway(from));
            read.effects.push(Effect::Creates(to));
        }
        Some(read)
    }
}

/// `object` renamed to `new` or moved to `schema` (a trigger or a policy stays on its
/// table: only its name changes).
fn moved(object: &Object, schema: Option<String>, new: Option<String>) -> Object {
    let rename =
        |n: &Name| Name { schema: schema.clone().or(n.schema.clone()), name: new.clone().unwrap_or(n.name.clone()) };
    match object {
        Object::Routine(n, procedure, args) => Object::Routine(rename(n), *procedure, args.clone()),
        Object::Sequence(n) => Object::Sequence(rename(n)),
        Object::Trigger(t, n) => Object::Trigger(t.clone(), new.unwrap_or(n.clone())),
        Object::Policy(t, n) => Object::Policy(t.clone(), new.unwrap_or(n.clone())),
        other => other.clone(),
    }
}

/// An identifier token: a bare word, or a name quoted the way `dialect` quotes names.
fn ident_of(dialect: DialectKind, (kind, text): (TokenKind, &str)) -> Option<Ident> {
    match kind {
        TokenKind::Word => Some(Ident { value: Cow::Owned(text.to_owned()), quoted: false }),
        TokenKind::Quoted => {
            let open = text.chars().next()?;
            let close = match (open, dialect) {
                ('"', DialectKind::Postgres | DialectKind::Sqlite) => '"',
                ('`', DialectKind::MySql | DialectKind::Sqlite) => '`',
                ('[', DialectKind::Sqlite) => ']',
                _ => return None,
            };
            let inner = text.strip_prefix(open)?.strip_suffix(close)?;
            let doubled: String = [close, close].iter().collect();
            Some(Ident { value: Cow::Owned(inner.replace(&doubled, &close.to_string())), quoted: true })
        }
        _ => None,
    }
}

/// The type of one PostgreSQL routine argument (`[mode] [name] type [DEFAULT …]`) as
/// `pg_type` names it; `Some(None)` for an `OUT` argument, which is no part of the
/// routine's identity; `None` when the type cannot be told (`%TYPE`).
fn argument_type(dialect: DialectKind, tokens: &[(TokenKind, &str)]) -> Option<Option<String>> {
    let is = |t: &(TokenKind, &str), w: &str| t.0 == TokenKind::Word && t.1.eq_ignore_ascii_case(w);
    let mut tokens = tokens;
    let modes = ["IN", "OUT", "INOUT", "VARIADIC"];
    if tokens.len() > 1 && modes.iter().any(|m| is(&tokens[0], m)) {
        if is(&tokens[0], "OUT") {
            return Some(None);
        }
        tokens = &tokens[1..];
    }
    let end =
        tokens.iter().position(|t| is(t, "DEFAULT") || (t.0 == TokenKind::Punct && t.1 == "=")).unwrap_or(tokens.len());
    let tokens = &tokens[..end];
    // `name type` or `type`: a name is one token, and a type that is more than one
    // token is one of the few spelled in several words.
    type_name(dialect, tokens).or_else(|| type_name(dialect, tokens.get(1..).filter(|t| !t.is_empty())?)).map(Some)
}

/// A PostgreSQL type as written, when `tokens` are exactly one type: its `pg_type` name.
fn type_name(dialect: DialectKind, tokens: &[(TokenKind, &str)]) -> Option<String> {
    let mut at = 0;
    let word = |k: usize| tokens.get(k).filter(|t| t.0 == TokenKind::Word).map(|t| t.1.to_ascii_lowercase());
    let punct = |k: usize, c: &str| tokens.get(k).is_some_and(|t| t.0 == TokenKind::Punct && t.1 == c);
    // Skips a parenthesised modifier at `at`, returning the first number in it.
    let modifier = |at: &mut usize| -> Option<Option<u32>> {
        if !punct(*at, "(") {
            return Some(None);
        }
        let close = (*at..tokens.len()).find(|&k| punct(k, ")"))?;
        let number = tokens[*at + 1..close].iter().find_map(|t| t.1.parse().ok());
        *at = close + 1;
        Some(number)
    };
    // A schema-qualified name keeps only the type's own name.
    while tokens.get(at + 1).is_some_and(|t| t.0 == TokenKind::Punct && t.1 == ".") {
        at += 2;
    }
    let first = *tokens.get(at)?;
    let name = match (first.0, word(at).as_deref()) {
        (TokenKind::Quoted, _) => {
            let ident = ident_of(dialect, first)?;
            at += 1;
            dialect.fold(&ident.value, true)
        }
        (_, Some(w)) => {
            at += 1;
            let next = word(at);
            let next_is = |x: &str| next.as_deref() == Some(x);
            let mut both = |name: &str| {
                at += 1;
                name.to_owned()
            };
            match w {
                "double" if next_is("precision") => both("float8"),
                "character" | "char" | "nchar" if next_is("varying") => both("varchar"),
                "character" | "char" | "nchar" => "bpchar".to_owned(),
                "national" if next_is("character") || next_is("char") => {
                    at += 1;
                    if word(at).as_deref() == Some("varying") {
                        at += 1;
                        "varchar".to_owned()
                    } else {
                        "bpchar".to_owned()
                    }
                }
                "bit" if next_is("varying") => both("varbit"),
                "int" | "integer" | "int4" => "int4".to_owned(),
                "smallint" | "int2" => "int2".to_owned(),
                "bigint" | "int8" => "int8".to_owned(),
                "real" | "float4" => "float4".to_owned(),
                "float" => match modifier(&mut at)? {
                    Some(p) if p <= 24 => "float4".to_owned(),
                    _ => "float8".to_owned(),
                },
                "decimal" | "dec" | "numeric" => "numeric".to_owned(),
                "boolean" | "bool" => "bool".to_owned(),
                "timestamp" | "time" => {
                    modifier(&mut at)?;
                    let zone = match word(at).as_deref() {
                        Some("with") => true,
                        Some("without") => false,
                        _ => {
                            return arrays(tokens, at, w.to_owned());
                        }
                    };
                    if word(at + 1).as_deref() != Some("time") || word(at + 2).as_deref() != Some("zone") {
                        return None;
                    }
                    at += 3;
                    match (w, zone) {
                        ("timestamp", true) => "timestamptz".to_owned(),
                        ("time", true) => "timetz".to_owned(),
                        _ => w.to_owned(),
                    }
                }
                "interval" => {
                    let fields = ["year", "month", "day", "hour", "minute", "second", "to"];
                    while word(at).is_some_and(|f| fields.contains(&f.as_str())) {
                        at += 1;
                    }
                    "interval".to_owned()
                }
                _ => dialect.fold(first.1, false),
            }
        }
        _ => return None,
    };
    modifier(&mut at)?;
    arrays(tokens, at, name)
}

/// `name` followed at `at` by array brackets (`[]`, `[3]`, `ARRAY`, `ARRAY[3]`) and
/// nothing else: `_name` for an array (of any number of dimensions), else `name`.
fn arrays(tokens: &[(TokenKind, &str)], mut at: usize, name: String) -> Option<String> {
    let punct = |k: usize, c: &str| tokens.get(k).is_some_and(|t| t.0 == TokenKind::Punct && t.1 == c);
    let mut array = false;
    loop {
        if punct(at, "[") {
            let close = (at..tokens.len()).find(|&k| punct(k, "]"))?;
            at = close + 1;
            array = true;
        } else if tokens.get(at).is_some_and(|t| t.0 == TokenKind::Word && t.1.eq_ignore_ascii_case("ARRAY")) {
            at += 1;
            array = true;
        } else {
            break;
        }
    }
    if at != tokens.len() {
        return None;
    }
    Some(if array { format!("_{name}") } else { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guards(dialect: DialectKind, sql: &str) -> Vec<String> {
        read(dialect, sql).map(|r| r.guards.iter().map(|(g, _)| g.to_string()).collect()).unwrap_or_default()
    }

    const PG: DialectKind = DialectKind::Postgres;

    #[test]
    fn a_function_is_identified_by_its_normalised_input_types() {
        let spellings = [
            ("CREATE FUNCTION f(integer, character varying(20)) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "f"),
            ("create or replace function F(a int4, b varchar) returns int language sql as $$ select 1 $$", "F"),
            ("CREATE FUNCTION f(IN a INT, OUT r text, b VARCHAR DEFAULT 'x') AS $$ SELECT 'y' $$ LANGUAGE sql", "f"),
            (
                "CREATE FUNCTION public.f(a int = 3, INOUT b character varying) AS $$ SELECT 'y' $$ LANGUAGE sql",
                "public.f",
            ),
        ];
        for (sql, name) in spellings {
            assert_eq!(guards(PG, sql), [format!("function_missing({name}(int4,varchar))")], "{sql}");
        }
        // Bare names fold to lower case, quoted ones do not.
        let watch = |sql: &str| read(PG, sql).unwrap().guards.pop().unwrap().1.own;
        let name = |n: &str| Name { schema: None, name: n.into() };
        let sig = Some("int4,varchar".to_owned());
        assert_eq!(watch(spellings[1].0), [Object::Routine(name("f"), false, sig.clone())]);
        assert_eq!(
            watch("CREATE FUNCTION \"F\"(int, varchar) RETURNS int AS 'x' LANGUAGE sql"),
            [Object::Routine(name("F"), false, sig)]
        );
    }

    #[test]
    fn overloads_are_distinct_and_multi_word_types_are_read_whole() {
        let sig = |sql: &str| match read(PG, sql).unwrap().guards.pop().unwrap().0 {
            GuardKind::FunctionMissing { args, .. } | GuardKind::ProcedureMissing { args, .. } => args.unwrap(),
            other => panic!("{other}"),
        };
        assert_eq!(sig("CREATE FUNCTION f(int) RETURNS int AS 'x' LANGUAGE sql"), "int4");
        assert_eq!(sig("CREATE FUNCTION f(text) RETURNS int AS 'x' LANGUAGE sql"), "text");
        assert_eq!(sig("CREATE FUNCTION f() RETURNS int AS 'x' LANGUAGE sql"), "");
        assert_eq!(
            sig("CREATE FUNCTION f(double precision, timestamp with time zone, time(3) without time zone, \
                 x timestamp, bigint[], VARIADIC v text[], \"My Type\", billing.Money, numeric(10, 2), float(10), \
                 bool, national character varying(3), interval day to second) RETURNS int AS 'x' LANGUAGE sql"),
            "float8,timestamptz,time,timestamp,_int8,_text,My Type,money,numeric,float4,bool,varchar,interval"
        );
        assert_eq!(sig("CREATE PROCEDURE p(a int, OUT b text) LANGUAGE sql AS 'x'"), "int4");
    }

    #[test]
    fn a_type_that_cannot_be_told_leaves_the_function_unguarded_but_known() {
        let read = read(PG, "CREATE FUNCTION f(a users.id%TYPE) RETURNS int AS 'x' LANGUAGE sql").unwrap();
        assert!(read.guards.is_empty());
        let f = Name { schema: None, name: "f".into() };
        assert_eq!(read.effects, vec![Effect::Creates(Object::Routine(f, false, None))]);
    }

    #[test]
    fn mysql_routines_go_by_name_and_triggers_by_table() {
        let sql = "CREATE DEFINER=`root`@`localhost` PROCEDURE Add_User(IN n VARCHAR(20)) BEGIN INSERT INTO u VALUES (n); END";
        assert_eq!(guards(DialectKind::MySql, sql), ["procedure_missing(Add_User)"]);
        let sql = "CREATE TRIGGER trg BEFORE INSERT ON app.users FOR EACH ROW SET NEW.x = 1";
        assert_eq!(guards(DialectKind::MySql, sql), ["trigger_missing(app.users.trg)"]);
        assert!(read(DialectKind::MySql, "CREATE FUNCTION f RETURNS STRING SONAME 'udf.so'").is_none());
    }

    #[test]
    fn triggers_sequences_extensions_and_policies_are_guarded() {
        let sql = "CREATE TRIGGER \"Audit\" AFTER INSERT OR UPDATE OF a, b ON billing.t FOR EACH ROW EXECUTE FUNCTION audit()";
        assert_eq!(guards(PG, sql), ["trigger_missing(billing.t.\"Audit\")"]);
        let (_, watch) = read(PG, sql).unwrap().guards.pop().unwrap();
        assert!(watch.covers.contains(&Object::Routine(
            Name { schema: None, name: "audit".into() },
            false,
            Some("".into())
        )));
        assert_eq!(
            guards(DialectKind::Sqlite, "CREATE TRIGGER t1 AFTER DELETE ON a BEGIN DELETE FROM b; END"),
            ["trigger_missing(a.t1)"]
        );
        assert!(guards(DialectKind::Sqlite, "CREATE TEMP TRIGGER t1 AFTER DELETE ON a BEGIN SELECT 1; END").is_empty());
        assert_eq!(guards(PG, "CREATE SEQUENCE IF NOT EXISTS s START 10 OWNED BY t.id"), ["sequence_missing(s)"]);
        assert_eq!(guards(DialectKind::MySql, "CREATE SEQUENCE s START WITH 10"), ["sequence_missing(s)"]);
        assert!(read(DialectKind::Sqlite, "CREATE SEQUENCE s").is_none());
        assert_eq!(
            guards(PG, "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public"),
            ["extension_missing(pgcrypto)"]
        );
        assert_eq!(guards(PG, "CREATE POLICY own ON docs USING (owner = current_user)"), ["policy_missing(docs.own)"]);
    }

    #[test]
    fn drops_and_renames_are_effects_not_guards() {
        let n = |s: &str| Name { schema: None, name: s.into() };
        let r = read(PG, "DROP FUNCTION IF EXISTS f(integer), g CASCADE").unwrap();
        assert!(r.guards.is_empty());
        assert_eq!(r.effects[0], Effect::Removes(Object::Routine(n("f"), false, Some("int4".into()))));
        assert_eq!(r.effects[1], Effect::Removes(Object::Routine(n("g"), false, None)));
        assert_eq!(r.effects.last(), Some(&Effect::Unknown));
        let r = read(PG, "ALTER FUNCTION f(int) RENAME TO g").unwrap();
        assert_eq!(
            r.effects,
            vec![
                Effect::RenamesAway(Object::Routine(n("f"), false, Some("int4".into()))),
                Effect::Creates(Object::Routine(n("g"), false, Some("int4".into()))),
            ]
        );
        let r = read(PG, "ALTER TRIGGER a ON t RENAME TO b").unwrap();
        assert_eq!(r.effects[1], Effect::Creates(Object::Trigger(Some(n("t")), "b".into())));
        let r = read(PG, "ALTER SEQUENCE s OWNED BY t.id").unwrap();
        assert_eq!(r.effects, vec![Effect::Attaches(Object::Sequence(n("s")), Object::Column(n("t"), "id".into()))]);
        let r = read(DialectKind::MySql, "DROP TRIGGER IF EXISTS app.trg").unwrap();
        assert_eq!(r.effects, vec![Effect::Removes(Object::Trigger(None, "trg".into()))]);
        assert!(read(PG, "ALTER TABLE t ADD COLUMN c int").is_none());
    }
}
