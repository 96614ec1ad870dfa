//! One file's way through the steps: read → directives → split (per dialect) → infer →
//! checksum, ending in the [`Snippet`] each dialect applies.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bootschema::{DialectKind, Snippet, Statement};

use crate::checksum::checksum;
use crate::diagnostic::Diagnostic;
use crate::directives;
use crate::infer::infer;
use crate::lines::LineIndex;
use crate::scan::{self, and_list, SnippetFile};
use crate::split::{self, Problem};

/// Builds the snippet of `file` for each dialect of `serves`, or says what is wrong.
///
/// A portable file is split once per dialect; a problem that only some of them see
/// names those dialects.
pub(crate) fn assemble(
    file: &SnippetFile,
    serves: &[DialectKind],
    env_prefix: &str,
) -> Result<BTreeMap<DialectKind, Snippet>, Vec<Diagnostic>> {
    let text = scan::read(file).map_err(|d| vec![d])?;
    let lines = LineIndex::new(&text);
    // Comments are lexed as the file's dialect reads them; for a portable file any
    // dialect does (they agree on `--` lines).
    let header_dialect = file.dialect.or_else(|| serves.first().copied()).unwrap_or(DialectKind::Postgres);
    let (directives, mut problems) = directives::parse(&text, &lines, header_dialect);

    let mut per_dialect: Vec<(DialectKind, Problem)> = Vec::new();
    let mut splits = BTreeMap::new();
    for &dialect in serves {
        match split::split(&text, dialect) {
            Ok(split) => {
                if !directives.destructive {
                    for statement in split::destructive(&text, &split) {
                        per_dialect.push((dialect, destructive_problem(&text, statement, env_prefix)));
                    }
                }
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

    let checksum = checksum(&text);
    let mut snippets = BTreeMap::new();
    for (dialect, split) in splits {
        let inferred = infer(dialect, &text, &split.statements, &directives.guards);
        let statements = split
            .statements
            .iter()
            .zip(inferred.statements)
            .map(|(&(start, end), guards)| Statement {
                line: lines.line(start),
                // `scan::read` refuses files whose offsets do not fit a u32.
                start: u32::try_from(start).unwrap_or(u32::MAX),
                end: u32::try_from(end).unwrap_or(u32::MAX),
                guards: Cow::Owned(guards),
            })
            .collect::<Vec<_>>();
        snippets.insert(
            dialect,
            Snippet {
                version: file.version,
                version_text: Cow::Owned(file.version_text.clone()),
                description: Cow::Owned(file.description.clone()),
                path: Cow::Owned(file.rel.clone()),
                checksum: Cow::Owned(checksum.clone()),
                sql: Cow::Owned(text.clone()),
                statements: Cow::Owned(statements),
                guards: Cow::Owned(inferred.snippet),
                transaction: directives.transaction,
                destructive: directives.destructive,
                on_change: directives.on_change,
            },
        );
    }
    Ok(snippets)
}

fn destructive_problem(text: &str, statement: &split::RawStatement, env_prefix: &str) -> Problem {
    Problem {
        offset: statement.start,
        message: format!(
            "`{}` loses data, but the snippet is not marked `-- destructive`",
            split::first_words(text, statement.start, statement.end)
        ),
        help: format!(
            "add `-- destructive` at the top if this is intended (it will then need \
             {env_prefix}_SCHEMA_ALLOW_DESTRUCTIVE=1 to run)"
        ),
    }
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
