//! Verifying a sync: every snippet that ran now reports its guards present.

use crate::catalog::{unless_query, Probes, Scope};
use crate::dialect::Session;
use crate::error::Error;
use crate::plan::Plan;
use crate::snippet::{GuardKind, Snippet};

/// Checks the guards of every snippet that ran in this sync against a fresh snapshot.
///
/// A snippet followed (in this sync) by a destructive one is not checked: the later
/// snippet may legitimately have dropped what the earlier one created.
pub(crate) async fn verify<S: Session>(session: &mut S, plan: &Plan, snippets: &[Snippet]) -> Result<(), Error> {
    let ran: Vec<usize> = plan.steps.iter().filter(|s| s.action.runs_sql()).map(|s| s.index).collect();
    let last_destructive = ran.iter().copied().filter(|&i| snippets[i].destructive).max();
    let checked: Vec<&Snippet> = ran
        .iter()
        .copied()
        .filter(|&i| last_destructive.is_none_or(|d| i >= d))
        .map(|i| &snippets[i])
        .filter(|s| s.all_guards().next().is_some())
        .collect();
    if checked.is_empty() {
        return Ok(());
    }
    let snapshot = session.snapshot(&Scope::of(S::KIND, checked.iter().copied())).await?;
    let queries: Vec<String> = checked
        .iter()
        .flat_map(|s| s.all_guards())
        .filter_map(|g| match &g.kind {
            GuardKind::Unless(q) => Some(unless_query(q).to_string()),
            _ => None,
        })
        .collect();
    let answers = session.probe(&queries).await?;
    let probes: Probes = queries.into_iter().zip(answers).collect();
    for snippet in checked {
        for guard in snippet.all_guards() {
            if snapshot.status(S::KIND, guard, &probes).is_missing() {
                return Err(Error::GuardStillMissing { path: snippet.path.to_string(), guard: guard.kind.to_string() });
            }
        }
    }
    Ok(())
}
