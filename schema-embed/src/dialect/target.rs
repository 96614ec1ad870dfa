//! What a sync runs against: the app's pool, of one of the three databases.

use crate::snippet::DialectKind;

/// The database a sync runs against: the app's own pool, whose connect options
/// bootschema opens its own connection with (see [`crate::Syncer::pool_connection`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Target {
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// A MySQL / MariaDB pool.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// A SQLite pool.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

impl Target {
    /// The database kind.
    pub fn dialect(&self) -> DialectKind {
        match self {
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => DialectKind::Postgres,
            #[cfg(feature = "mysql")]
            Target::MySql(_) => DialectKind::MySql,
            #[cfg(feature = "sqlite")]
            Target::Sqlite(_) => DialectKind::Sqlite,
        }
    }
}

macro_rules! target_from {
    ($feature:literal, $pool:ty, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl From<$pool> for Target {
            fn from(pool: $pool) -> Target {
                Target::$variant(pool)
            }
        }
        #[cfg(feature = $feature)]
        impl From<&$pool> for Target {
            fn from(pool: &$pool) -> Target {
                Target::$variant(pool.clone())
            }
        }
    };
}
target_from!("postgres", sqlx::PgPool, Postgres);
target_from!("mysql", sqlx::MySqlPool, MySql);
target_from!("sqlite", sqlx::SqlitePool, Sqlite);
