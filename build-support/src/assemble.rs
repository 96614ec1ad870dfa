//! One file's way through the steps: read → directives → split (per dialect) → infer →
//! checksum, ending in the [`Snippet`] each dialect applies.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bootschema::{
    DialectKind, Foreign, Guard, GuardKind, GuardOrigin, OnChange, Snippet, Statement, Tool, TransactionMode,
};

use crate::checksum::checksum;
use crate::classify;
use crate::destructive::{self, Destructive};
use crate::diagnostic::{Diagnostic, Problem};
use crate::directives;
use crate::infer::{catalog_change, infer, Inferred};
use crate::layout::ForeignFile;
use crate::lines::LineIndex;
use crate::scan::{self, and_list, SnippetFile};
use crate::split;
use crate::transaction::outside_transaction_only;

/// One file's snippets, one per dialect it serves, with what the undo analysis needs
/// and the warnings found on the way.
pub(crate) struct Assembled {
    pub snippets: BTreeMap<DialectKind, (Snippet, Inferred)>,
    pub warnings: Vec<Diagnostic>,
}

/// Builds the snippet of `file` for each dialect of `serves`, or says what is wrong.
///
/// A portable file is split once per dialect; a problem that only some of them see
/// names those dialects.
pub(crate) fn assemble(
    file: &SnippetFile,
    serves: &[DialectKind],
    env_prefix: &str,
    history: bool,
) -> Result<Assembled, Vec<Diagnostic>> {
    let raw = scan::read_raw(file).map_err(|d| vec![d])?;
    let foreign = match &file.foreign {
        Some(found) => Some(foreign(file, found, &raw).map_err(|d| vec![d])?),
        None => None,
    };
    // sqlx reads `-- no-transaction` at the very start of the file as it is.
    let sqlx_no_transaction =
        file.foreign.as_ref().is_some_and(|f| f.tool == Tool::Sqlx) && raw.starts_with("-- no-transaction");
    let text = scan::normalise(raw);
    let lines = LineIndex::new(&text);
    // Comments are lexed as the file's dialect reads them; for a portable file any
    // dialect does (they agree on `--` lines).
    let header_dialect = file.dialect.or_else(|| serves.first().copied()).unwrap_or(DialectKind::Postgres);
    let (mut directives, mut problems) = directives::parse(&text, &lines, header_dialect);
    // What the tool's own layout says of the file.
    if let Some(found) = &file.foreign {
        if found.no_transaction || sqlx_no_transaction {
            directives.transaction = TransactionMode::None;
        }
        if found.repeatable {
            directives.on_change = OnChange::Reapply;
        }
    }

    let mut per_dialect: Vec<(DialectKind, Problem)> = Vec::new();
    let mut splits = BTreeMap::new();
    // Per dialect, why each statement loses data (by its start offset).
    let mut losses: BTreeMap<DialectKind, Vec<Destructive>> = BTreeMap::new();
    // History keeps its drops as written: what they are is noted on the snippet.
    let mut loses_data = directives.destructive;
    for &dialect in serves {
        per_dialect.extend(unsupported_guards(&directives.guards, &text, dialect).into_iter().map(|p| (dialect, p)));
        match split::split(&text, dialect) {
            Ok(split) => {
                if directives.transaction == TransactionMode::Wrapped {
                    for piece in &split.statements {
                        if let Some(what) = outside_transaction_only(&text, dialect, piece) {
                            per_dialect.push((dialect, outside_transaction_problem(&text, piece, what)));
                        }
                    }
                }
                let found = destructive::statements(&text, dialect, &split);
                loses_data |= !found.is_empty();
                if !directives.destructive && !history {
                    for statement in &found {
                        per_dialect
                            .push((dialect, destructive_problem(&text, statement, env_prefix, file.foreign.is_some())));
                    }
                }
                losses.insert(dialect, found);
                splits.insert(dialect, split);
            }
            Err(found) => per_dialect.extend(found.into_iter().map(|p| (dialect, p))),
        }
    }
    problems.extend(merge(per_dialect, serves));
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.offset);
        return Err(problems
            .into_iter()
            .map(|p| Diagnostic::at(&file.rel, lines.line(p.offset), p.message, p.help))
            .collect());
    }

    let (checksum, legacy_checksum) = (checksum(text.trim_end()), checksum(&text));
    let mut snippets = BTreeMap::new();
    let mut warnings: Vec<(DialectKind, Problem)> = Vec::new();
    for (dialect, split) in splits {
        let inferred = infer(dialect, &text, &split.statements, &directives.guards);
        for (index, message) in &inferred.unreadable {
            let piece = &split.statements[*index];
            warnings.push((dialect, unreadable_warning(&text, piece, message, !directives.guards.is_empty())));
        }
        if split.statements.is_empty() {
            warnings.push((dialect, comments_only_warning()));
        }
        if let [piece] = split.statements.as_slice() {
            if piece.kind == split::StatementKind::Whole {
                warnings.push((dialect, whole_warning(piece)));
            }
        }
        let statements = split
            .statements
            .iter()
            .zip(&inferred.statements)
            .zip(&inferred.effects)
            .zip(&inferred.tables)
            .map(|(((piece, guards), effects), tables)| Statement {
                destructive: losses
                    .get(&dialect)
                    .and_then(|found| {
                        found.iter().find(|d| piece.start <= d.start && d.start < piece.end.max(piece.start + 1))
                    })
                    .map(|d| Cow::Borrowed(d.why)),
                line: lines.line(piece.start),
                // `scan::read` refuses files whose offsets do not fit a u32.
                start: u32::try_from(piece.start).unwrap_or(u32::MAX),
                end: u32::try_from(piece.end).unwrap_or(u32::MAX),
                guards: Cow::Owned(guards.clone()),
                catalog: catalog_change(effects.as_deref()),
                kind: classify::kind(piece.kind, &text[piece.start..piece.end]),
                tables: tables.clone().map(Cow::Owned),
            })
            .collect::<Vec<_>>();
        let snippet = Snippet {
            version: file.version,
            version_text: Cow::Owned(file.version_text.clone()),
            description: Cow::Owned(file.description.clone()),
            path: Cow::Owned(file.rel.clone()),
            checksum: Cow::Owned(checksum.clone()),
            legacy_checksum: Cow::Owned(legacy_checksum.clone()),
            sql: Cow::Owned(text.clone()),
            statements: Cow::Owned(statements),
            guards: Cow::Owned(inferred.snippet.clone()),
            transaction: directives.transaction,
            destructive: loses_data,
            on_change: directives.on_change,
            history,
            foreign: foreign.clone(),
        };
        snippets.insert(dialect, (snippet, inferred));
    }
    let mut warnings: Vec<Problem> = merge(warnings, serves);
    warnings.sort_by_key(|p| p.offset);
    let warnings =
        warnings.into_iter().map(|p| Diagnostic::at(&file.rel, lines.line(p.offset), p.message, p.help)).collect();
    Ok(Assembled { snippets, warnings })
}

/// Written guards that `dialect` has no such object for.
fn unsupported_guards(guards: &[Guard], text: &str, dialect: DialectKind) -> Vec<Problem> {
    guards
        .iter()
        .filter(|g| matches!(g.kind, GuardKind::TypeMissing(_)) && dialect != DialectKind::Postgres)
        .map(|g| {
            let line = match g.origin {
                GuardOrigin::Written { line } => line,
                GuardOrigin::Inferred { .. } => 1,
            };
            let offset = text.split_inclusive('\n').take(line.saturating_sub(1) as usize).map(str::len).sum();
            Problem {
                offset,
                message: format!("`{}` is a PostgreSQL guard: the other databases have no user-defined types", g.kind),
                help: "move the snippet to the `postgres/` folder, or guard it with `unless(…)` on the other \
                       dialects' own snippets"
                    .to_owned(),
            }
        })
        .collect()
}

fn unreadable_warning(text: &str, piece: &split::Piece, message: &str, written: bool) -> Problem {
    let consequence = if written {
        "its snippet's written guards still decide"
    } else {
        "no guard is inferred from it, so its snippet runs once, as the ledger decides"
    };
    Problem {
        offset: piece.start,
        message: format!(
            "the SQL parser cannot read `{}` ({message}); {consequence}",
            split::first_words(text, piece.start, piece.end)
        ),
        help: "nothing to do if the database accepts it; add `-- guard:` lines at the top if the snippet must be \
               skipped where its objects already exist"
            .to_owned(),
    }
}

fn outside_transaction_problem(text: &str, piece: &split::Piece, what: &str) -> Problem {
    Problem {
        offset: piece.start,
        message: format!(
            "`{}` cannot run inside a transaction block ({what}), and the snippet runs in one",
            split::first_words(text, piece.start, piece.end)
        ),
        help: "add `-- transaction: none` at the top (the snippet then runs statement by statement, each one \
               recorded as it completes), or move the statement to a snippet of its own that has it"
            .to_owned(),
    }
}

fn comments_only_warning() -> Problem {
    Problem {
        offset: 0,
        message: "the snippet has no statement, only comments: it is recorded as applied and runs nothing".to_owned(),
        help: "nothing to do if it was emptied on purpose (a migration that is no longer needed keeps its \
               version); otherwise write its SQL after the comments"
            .to_owned(),
    }
}

fn whole_warning(piece: &split::Piece) -> Problem {
    Problem {
        offset: piece.start,
        message: "the snippet is sent to the database whole, as one statement: the splitter cannot tell for sure \
                  where a `BEGIN … END` body ends"
            .to_owned(),
        help: "nothing to do if the database accepts it; to have its statements split and guarded, put the routine \
               or trigger in a snippet of its own"
            .to_owned(),
    }
}

fn destructive_problem(text: &str, statement: &Destructive, env_prefix: &str, foreign: bool) -> Problem {
    let help = if foreign {
        format!(
            "if the file is history another tool applied, mark the history in build.rs with \
             `Builder::history_until(<its last version>)` (no file is edited); for a new file, add `-- destructive` \
             at the top if this is intended (it will then need {env_prefix}_SCHEMA_ALLOW_DESTRUCTIVE=1 to run)"
        )
    } else {
        format!(
            "add `-- destructive` at the top if this is intended (it will then need \
             {env_prefix}_SCHEMA_ALLOW_DESTRUCTIVE=1 to run)"
        )
    };
    Problem {
        offset: statement.start,
        message: format!(
            "`{}` loses data ({}), but the snippet is not marked `-- destructive`",
            split::first_words(text, statement.start, statement.end),
            statement.why
        ),
        help,
    }
}

/// How the tool of `found` records the file: its version and name as read from the
/// file's name, and that tool's checksum of `raw`, the file as it is.
fn foreign(file: &SnippetFile, found: &ForeignFile, raw: &str) -> Result<Foreign, Diagnostic> {
    let checksum = match found.tool {
        Tool::Sqlx => crate::checksum::sqlx(raw),
        Tool::Flyway => crate::checksum::flyway(raw),
        Tool::Diesel => String::new(),
        Tool::Refinery => {
            let name = file.rel.rsplit('/').next().unwrap_or(&file.rel);
            let stem = name.strip_suffix(".sql").unwrap_or(name);
            crate::checksum::refinery(stem, raw).map_err(|why| {
                Diagnostic::file(
                    &file.rel,
                    format!("cannot compute refinery's checksum of `{}`: {why}", file.rel),
                    "add `features = [\"refinery\"]` to bootschema-build in [build-dependencies], or name another \
                     layout with `Builder::layout(..)` if refinery did not write this folder",
                )
            })?
        }
    };
    Ok(Foreign {
        tool: found.tool,
        version: Cow::Owned(found.version.clone()),
        name: Cow::Owned(found.name.clone()),
        checksum: Cow::Owned(checksum),
    })
}

/// One problem per distinct (offset, message), with the help of the first dialect that
/// saw it; when only some of the dialects a file serves see it, the message names them.
fn merge(found: Vec<(DialectKind, Problem)>, serves: &[DialectKind]) -> Vec<Problem> {
    let mut merged: Vec<(Problem, Vec<DialectKind>)> = Vec::new();
    for (dialect, problem) in found {
        match merged.iter_mut().find(|(p, _)| (p.offset, &p.message) == (problem.offset, &problem.message)) {
            Some((_, dialects)) => dialects.push(dialect),
            None => merged.push((problem, vec![dialect])),
        }
    }
    merged
        .into_iter()
        .map(|(mut problem, dialects)| {
            if dialects.len() < serves.len() {
                problem.message = format!("{} (for {})", problem.message, and_list(&dialects));
            }
            problem
        })
        .collect()
}
