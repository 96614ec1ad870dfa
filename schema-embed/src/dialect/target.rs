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

impl Target {
    /// Host, port and database name from the pool's connect options (which have no
    /// password getter: nothing here can leak one); SQLite: its file, no host.
    pub(crate) fn endpoint(&self) -> crate::error::Endpoint {
        // PostgreSQL's and MySQL's connect options have the same getters but share no
        // trait: one macro reads both.
        macro_rules! network {
            ($pool:expr) => {{
                let options = $pool.connect_options();
                let database = options.get_database().map(str::to_string);
                match options.get_socket() {
                    Some(socket) => (Some(socket.display().to_string()), None, database),
                    None => (Some(options.get_host().to_string()), Some(options.get_port()), database),
                }
            }};
        }
        let (host, port, database) = match self {
            #[cfg(feature = "postgres")]
            Target::Postgres(pool) => network!(pool),
            #[cfg(feature = "mysql")]
            Target::MySql(pool) => network!(pool),
            #[cfg(feature = "sqlite")]
            Target::Sqlite(pool) => (None, None, Some(pool.connect_options().get_filename().display().to_string())),
        };
        crate::error::Endpoint { host, port, database }
    }
}
