//! Everything that differs between databases, behind one trait ([`Session`], in
//! `session.rs`): catalog queries, the lock, quoting, transactions and the ledger's SQL.
//! One file per database; the SQL they share in `sql.rs`, the connection in `conn.rs`,
//! what a sync runs against in `target.rs`.

mod conn;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod session;
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod target;

#[cfg(feature = "mysql")]
pub(crate) use mysql::MySqlSession;
#[cfg(feature = "postgres")]
pub(crate) use postgres::PgSession;
pub(crate) use session::Session;
#[cfg(feature = "sqlite")]
pub(crate) use sqlite::SqliteSession;
pub use target::Target;
