//! The ledger: the table that records which snippet was applied, adopted or reapplied,
//! with which checksum.

use std::collections::BTreeMap;

use crate::config::Invalid;

/// How a ledger row came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerState {
    /// The snippet ran.
    Applied,
    /// Its guards reported everything present: recorded without running.
    Adopted,
    /// An `on_change: reapply` snippet ran again after its text changed.
    Reapplied,
    /// At or below a baseline: recorded without running, because the database already
    /// held that history when bootschema first synced it.
    Baselined,
    /// A snippet that cannot run atomically (MySQL DDL, `transaction: none`) stopped
    /// half-way: `progress` lists the statements that completed, so the next boot
    /// resumes after them.
    Partial,
}

impl LedgerState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LedgerState::Applied => "applied",
            LedgerState::Adopted => "adopted",
            LedgerState::Reapplied => "reapplied",
            LedgerState::Baselined => "baselined",
            LedgerState::Partial => "partial",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<LedgerState> {
        Some(match text {
            "applied" => LedgerState::Applied,
            "adopted" => LedgerState::Adopted,
            "reapplied" => LedgerState::Reapplied,
            "baselined" => LedgerState::Baselined,
            "partial" => LedgerState::Partial,
            _ => return None,
        })
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// The snippet's version.
    pub version: u64,
    /// The snippet's description when it was recorded.
    pub description: String,
    /// The snippet's file when it was recorded.
    pub path: String,
    /// `sha256:<hex>` of the text that was recorded.
    pub checksum: String,
    /// How the row came to be.
    pub state: LedgerState,
    /// For [`LedgerState::Partial`]: the fingerprints of the statements that completed.
    pub progress: Vec<String>,
    /// How long the snippet took, in milliseconds.
    pub duration_ms: i64,
    /// For a row `baselined` from another tool's ledger: that tool. Written into the
    /// `progress` column as `from:<tool>` (a `baselined` row has no progress), so that
    /// the ledger keeps its columns and older binaries read the row as they always did.
    pub source: Option<crate::snippet::Tool>,
}

/// The `progress` token that names the tool a `baselined` row came from.
pub(crate) const SOURCE_PREFIX: &str = "from:";

impl LedgerRow {
    /// The `progress` list of a row `baselined` from `tool`'s ledger.
    pub(crate) fn source_progress(tool: crate::snippet::Tool) -> Vec<String> {
        vec![format!("{SOURCE_PREFIX}{tool}")]
    }
}

/// The version of the ledger's one special row, the *mark*: its `checksum` holds the
/// [`set_mark`](crate::set_mark) of the snippet list that the last complete sync left
/// recorded. Snippet versions are never negative, and every ledger read skips it.
pub(crate) const MARK_VERSION: i64 = -1;

/// What the mark row says of itself, for whoever reads the table by hand.
pub(crate) const MARK_DESCRIPTION: &str =
    "bootschema mark: every snippet of the set with this digest is recorded; a boot that embeds that set \
     reads only this row. Delete this row after editing the ledger by hand.";

/// What a boot's first read found of the mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkRead {
    /// No ledger table: a database that never synced.
    NoLedger,
    /// A ledger without a mark row.
    Unmarked,
    /// The mark.
    Mark(String),
}

/// The mark as it may appear in SQL: checked to be the `v1:<count>:<hex>` that
/// [`set_mark`](crate::set_mark) makes, so that it can be written as a literal.
pub(crate) fn mark_literal(mark: &str) -> Option<&str> {
    let ok = mark.starts_with("v1:") && mark.chars().all(|c| c.is_ascii_alphanumeric() || c == ':');
    ok.then_some(mark)
}

/// The ledger as read at the start of a sync, keyed by version.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Whether the ledger table exists (a fresh database has none).
    pub exists: bool,
    /// Its rows.
    pub rows: BTreeMap<u64, LedgerRow>,
    /// The marks of the snippet sets that completed a sync, oldest first, the current
    /// one last: the order in which releases synced.
    pub marks: Vec<String>,
    /// What other tools' ledgers (sqlx, diesel, refinery, Flyway) say of the snippets
    /// this ledger does not record, when they were read.
    pub(crate) others: crate::foreign::OtherLedgers,
}

impl Ledger {
    /// Whether a newer release synced after the one whose set has `mark`: its mark is
    /// among the earlier ones, and another came after it. This binary is then the older
    /// one of a rolling deploy or a rollback.
    pub(crate) fn newer_release_synced(&self, mark: &str) -> bool {
        self.marks.iter().position(|m| m == mark).is_some_and(|at| at + 1 < self.marks.len())
    }
}

/// How many earlier marks the mark row keeps.
pub(crate) const MARKS_KEPT: usize = 32;

/// The ledger table's name, checked to be one or two plain identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTable {
    /// The schema, when qualified.
    pub schema: Option<String>,
    /// The table.
    pub table: String,
}

impl LedgerTable {
    pub(crate) fn parse(name: &str) -> Result<LedgerTable, Invalid> {
        let plain = |s: &str| {
            let mut chars = s.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && s.len() <= 63
        };
        let parts: Vec<&str> = name.split('.').collect();
        let invalid = || Invalid {
            variable: "ledger_table".into(),
            value: name.into(),
            expected: "a table name such as `bootschema_history` or `ops.bootschema_history` \
                       (letters, digits and `_`, at most 63 characters each)",
        };
        match parts.as_slice() {
            [table] if plain(table) => Ok(LedgerTable { schema: None, table: table.to_string() }),
            [schema, table] if plain(schema) && plain(table) => {
                Ok(LedgerTable { schema: Some(schema.to_string()), table: table.to_string() })
            }
            _ => Err(invalid()),
        }
    }

    /// `schema.table` or `table`, unquoted (for messages and lock names).
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        }
    }
}

/// A statement's fingerprint in a partial row's progress: the first 16 hex digits of
/// the SHA-256 of its text. Content-addressed, so that a fix to a later statement (or a
/// statement inserted before the failing one) does not re-run the completed ones.
pub(crate) fn statement_fingerprint(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(sql.trim().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `progress` column text ↔ list of fingerprints.
pub(crate) fn encode_progress(progress: &[String]) -> String {
    progress.join(" ")
}

pub(crate) fn decode_progress(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_names_are_plain_identifiers() {
        assert_eq!(LedgerTable::parse("ops.history").unwrap().display(), "ops.history");
        assert!(LedgerTable::parse("history; DROP TABLE users").is_err());
        assert!(LedgerTable::parse("a.b.c").is_err());
        assert!(LedgerTable::parse("").is_err());
    }

    #[test]
    fn fingerprints_ignore_surrounding_whitespace_only() {
        assert_eq!(statement_fingerprint("SELECT 1"), statement_fingerprint("\n SELECT 1 \n"));
        assert_ne!(statement_fingerprint("SELECT 1"), statement_fingerprint("SELECT  1"));
        assert_eq!(decode_progress(&encode_progress(&["ab".into(), "cd".into()])), vec!["ab", "cd"]);
    }
}
