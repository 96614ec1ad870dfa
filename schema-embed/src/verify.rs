//! Verifying a sync: every snippet that ran now reports its guards present.

use crate::catalog::{unless_query, Probes, Scope};
use crate::dialect::Session;
use crate::error::{Error, ErrorKind};
use crate::plan::Plan;
use crate::snippet::{GuardKind, Snippet};

/// Checks the guards of every snippet that ran in this sync against a fresh snapshot.
///
/// A guard whose object a snippet drops or renames away on purpose (its
/// [`undone_by`](crate::Guard::undone_by), found at build time) is not checked: after a
/// complete sync every embedded snippet has run, that one included.
pub(crate) async fn verify<S: Session>(session: &mut S, plan: &Plan, snippets: &[Snippet]) -> Result<(), Error> {
    let checked: Vec<&Snippet> = plan
        .steps
        .iter()
        .filter(|s| s.action.runs_sql())
        .map(|s| &snippets[s.index])
        .filter(|s| s.all_guards().any(|g| g.undone_by.is_none()))
        .collect();
    if checked.is_empty() {
        return Ok(());
    }
    let scope = Scope { after_apply: true, ..Scope::of(S::KIND, checked.iter().copied()) };
    let snapshot = session.snapshot(&scope).await?;
    let queries: Vec<String> = checked
        .iter()
        .flat_map(|s| s.all_guards())
        .filter(|g| g.undone_by.is_none())
        .filter_map(|g| match &g.kind {
            GuardKind::Unless(q) => Some(unless_query(q).to_string()),
            _ => None,
        })
        .collect();
    let answers = session.probe(&queries).await?;
    let probes: Probes = queries.into_iter().zip(answers).collect();
    for snippet in checked {
        for guard in snippet.all_guards().filter(|g| g.undone_by.is_none()) {
            if snapshot.status(S::KIND, guard, &probes).is_missing() {
                return Err(ErrorKind::GuardStillMissing {
                    path: snippet.path.to_string(),
                    guard: guard.kind.to_string(),
                }
                .into());
            }
        }
    }
    Ok(())
}
