//! The switch, tool by tool and database by database: the other tool migrates a
//! database over its fixture history, then bootschema is pointed at the same folder
//! and the same database.

use std::path::PathBuf;

use crate::common::TestDb;
use crate::tools::{copy_fixture, Tool};

/// The folder of a fixture copy.
pub fn folder(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("migrations")
}

/// A copy of `tool`'s fixture history, migrated into `db` by the tool itself.
pub async fn migrated(tool: Tool, db: &TestDb) -> tempfile::TempDir {
    let dir = copy_fixture(tool, db.kind);
    tool.migrate(db, &folder(&dir)).await.unwrap_or_else(|e| panic!("{} on {:?}: {e}", tool.name(), db.kind));
    dir
}
