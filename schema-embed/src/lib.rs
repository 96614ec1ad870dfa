//! bootschema: an application syncs its own database schema when it boots.
//!
//! A `build.rs` helper ([`bootschema-build`](https://docs.rs/bootschema-build)) embeds
//! the SQL snippets of `sql/` into the binary with SHA-256 checksums. At boot, this
//! crate reads the ledger and the live catalog, checks each snippet's guards (is that
//! table / column / index already there?), and applies only what is needed, each
//! snippet once, in order, under a lock, so that twenty replicas can boot at once.
//!
//! `build.rs` is one line, `fn main() { bootschema_build::embed(); }`, and the app
//! embeds what it generated with `static SNIPPETS: bootschema::SnippetSet =
//! bootschema::include_snippets!();`. Then, at boot:
//!
//! ```no_run
//! # fn embedded() -> &'static bootschema::SnippetSet { unimplemented!() }
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let snippets = embedded(); // &SNIPPETS
//!     let pool = sqlx::SqlitePool::connect("sqlite:app.db?mode=rwc").await?;
//!     let report = bootschema::sync(snippets, &pool).await?;
//!     println!("schema: {}", report.summary());
//!     Ok(())
//! }
//! ```
//!
//! # What a sync does with each snippet
//!
//! | action | when | what is done |
//! | --- | --- | --- |
//! | `skip` | in the ledger with the same checksum | nothing |
//! | `apply` | not in the ledger, a guard reports missing (or no guard) | run it, record it |
//! | `adopt` | not in the ledger, every statement guard-proven present | record it without running it |
//! | `baselined` | at or below the baseline, in a history the database holds no record of | record it without running it |
//! | `unproven` | the database holds objects but no record of this snippet's era, and a statement cannot be proven done | refuse, before applying anything |
//! | `reapply` | `on_change: reapply` and the checksum changed | run it again, record the new checksum |
//! | `edited` | in the ledger with another checksum | refuse to boot, before applying anything |
//! | `drift` | in the ledger, a guard now reports missing | warn; not re-created |
//! | `blocked` | destructive and not allowed | refuse, before applying anything |
//!
//! # Environment
//!
//! `<PREFIX>_SCHEMA_DRY_RUN=1`, `<PREFIX>_SCHEMA_ALLOW_DESTRUCTIVE=1`,
//! `<PREFIX>_SCHEMA_SYNC=off`, `<PREFIX>_SCHEMA_LOCK_TIMEOUT=5s`,
//! `<PREFIX>_SCHEMA_BASELINE=<version>`, `<PREFIX>_SCHEMA_REPORT_DIR=<folder>` (an
//! audit trail of each sync that changes the database, see [`events`]), where the prefix is
//! the embedding package's name in upper case (`myapp` → `MYAPP`). The environment
//! wins over the [`Syncer`]'s builder.
//!
//! # Features
//!
//! `postgres`, `mysql`, `sqlite` (all on by default) each enable one database. With
//! none, only the snippet model is compiled (what `bootschema-build` uses).
#![warn(missing_docs)]
// Built for a subset of the databases, code that only the others use goes unused (the
// MySQL executor's progress parts, PostgreSQL's pipelines, the network connect of a
// SQLite-only build): not worth a `cfg` on each item.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code, unused_imports, unused_macros, unused_variables)
)]

mod embedded;
mod snippet;

pub use snippet::{
    set_mark, CatalogChange, DialectKind, Foreign, Guard, GuardKind, GuardOrigin, Ident, ObjectName, OnChange, Snippet,
    SnippetLists, SnippetSet, Statement, StatementKind, Tool, TransactionMode,
};

#[cfg(feature = "runtime")]
mod apply;
#[cfg(feature = "runtime")]
mod approve;
#[cfg(feature = "runtime")]
mod catalog;
#[cfg(feature = "runtime")]
mod config;
#[cfg(feature = "runtime")]
mod connect;
#[cfg(feature = "runtime")]
pub mod deep;
#[cfg(feature = "runtime")]
mod dialect;
#[cfg(feature = "runtime")]
mod error;
#[cfg(feature = "runtime")]
pub mod events;
#[cfg(feature = "runtime")]
mod foreign;
#[cfg(feature = "runtime")]
mod ledger;
#[cfg(feature = "runtime")]
mod plan;
#[cfg(feature = "runtime")]
mod report;
#[cfg(feature = "runtime")]
mod retry;
#[cfg(feature = "runtime")]
pub mod snapshot;
#[cfg(feature = "runtime")]
mod sync;
#[cfg(feature = "runtime")]
mod text;
#[cfg(feature = "runtime")]
mod verify;

#[cfg(feature = "release")]
pub mod release;

#[cfg(feature = "runtime")]
pub use approve::{ApprovedPlan, PlanChange, PLAN_FORMAT};
#[cfg(feature = "runtime")]
pub use catalog::GuardStatus;
#[cfg(feature = "runtime")]
pub use config::{Settings, SyncMode, DEFAULT_LEDGER_TABLE};
#[cfg(feature = "runtime")]
pub use deep::{DeepDifference, DeepReport};
#[cfg(feature = "runtime")]
pub use dialect::Target;
#[cfg(feature = "runtime")]
pub use error::Endpoint;
#[cfg(feature = "runtime")]
pub use error::{Error, ErrorKind};
#[cfg(feature = "runtime")]
pub use foreign::ForeignMissing;
#[cfg(feature = "runtime")]
pub use plan::{Action, GuardReport, Orphan, Refusal, StatementPlan, Step};
#[cfg(feature = "release")]
pub use release::redact;
#[cfg(feature = "runtime")]
pub use report::SyncReport;
#[cfg(feature = "runtime")]
pub use snapshot::Snapshot;
#[cfg(feature = "runtime")]
pub use sync::{sync, Syncer};
