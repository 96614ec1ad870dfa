//! Connecting from a URL ([`crate::Syncer::connect`]): within a connect timeout, and,
//! when it fails, saying which host, port and database could not be reached and why.
//!
//! sqlx retries a refused connection until the pool's acquire timeout (30 s by default)
//! and then says only "pool timed out", and a client that speaks the wrong protocol
//! reads the other server's bytes as garbage ("unexpected message: CopyData"). So the
//! pool gets the connect timeout, and a failure is explained: by the database's own
//! error, or by a look at the port (does anything listen, does it answer as PostgreSQL
//! or as MySQL?).

use std::str::FromStr;
use std::time::Duration;

use crate::dialect::Target;
use crate::error::{db_message, Endpoint, Error, ErrorKind};
use crate::snippet::DialectKind;

/// The database kind a URL's scheme names.
fn kind_of(url: &str) -> Option<DialectKind> {
    match url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).as_deref() {
        Some("postgres" | "postgresql") => Some(DialectKind::Postgres),
        Some("mysql" | "mariadb") => Some(DialectKind::MySql),
        Some("sqlite") => Some(DialectKind::Sqlite),
        _ => None,
    }
}

/// Opens a pool on `url` within `timeout`; see the module docs.
pub(crate) async fn connect(url: &str, timeout: Duration, variable: &str) -> Result<Target, Error> {
    let fail = |kind: Option<DialectKind>, endpoint: Endpoint, reason: String| {
        ErrorKind::Connect { kind, endpoint, reason }.into()
    };
    let Some(kind) = kind_of(url) else {
        return Err(fail(
            None,
            Endpoint::default(),
            "the URL's scheme is not postgres:, mysql: or sqlite: (postgres://user@host:5432/app, \
             mysql://user@host:3306/app, sqlite:app.db)"
                .into(),
        ));
    };
    // PostgreSQL's and MySQL's connect options share no trait: one macro for both.
    macro_rules! network {
        ($options:ty, $pool:ty) => {{
            let options = <$options>::from_str(url)
                .map_err(|e| fail(Some(kind), Endpoint::default(), format!("the URL does not parse: {e}")))?;
            let endpoint = match options.get_socket() {
                Some(socket) => Endpoint {
                    host: Some(socket.display().to_string()),
                    port: None,
                    database: options.get_database().map(str::to_string),
                },
                None => Endpoint {
                    host: Some(options.get_host().to_string()),
                    port: Some(options.get_port()),
                    database: options.get_database().map(str::to_string),
                },
            };
            match <$pool>::new().acquire_timeout(timeout).connect_with(options).await {
                Ok(pool) => Ok(Target::from(pool)),
                Err(e) => Err(fail(Some(kind), endpoint.clone(), explain(kind, &endpoint, e, timeout, variable).await)),
            }
        }};
    }
    match kind {
        #[cfg(feature = "postgres")]
        DialectKind::Postgres => network!(sqlx::postgres::PgConnectOptions, sqlx::postgres::PgPoolOptions),
        #[cfg(feature = "mysql")]
        DialectKind::MySql => network!(sqlx::mysql::MySqlConnectOptions, sqlx::mysql::MySqlPoolOptions),
        #[cfg(feature = "sqlite")]
        DialectKind::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(|e| fail(Some(kind), Endpoint::default(), format!("the URL does not parse: {e}")))?;
            let endpoint =
                Endpoint { database: Some(options.get_filename().display().to_string()), ..Endpoint::default() };
            match sqlx::sqlite::SqlitePoolOptions::new().acquire_timeout(timeout).connect_with(options).await {
                Ok(pool) => Ok(Target::from(pool)),
                Err(e) => Err(fail(Some(kind), endpoint, db_message(&e))),
            }
        }
        #[allow(unreachable_patterns)]
        other => Err(fail(
            Some(other),
            Endpoint::default(),
            format!("this build of bootschema has no {other} support (enable its cargo feature)"),
        )),
    }
}

/// Why a connection to a network database failed, in words: the server's own error
/// when it sent one, otherwise what a look at the port tells.
async fn explain(
    kind: DialectKind,
    endpoint: &Endpoint,
    error: sqlx::Error,
    timeout: Duration,
    variable: &str,
) -> String {
    if let sqlx::Error::Database(_) = &error {
        return format!("the server refused: {}", db_message(&error));
    }
    let (Some(host), Some(port)) = (&endpoint.host, endpoint.port) else {
        return db_message(&error);
    };
    let within = humantime::format_duration(timeout);
    let driver = match &error {
        sqlx::Error::PoolTimedOut => None,
        other => Some(db_message(other)),
    };
    match look_at_port(host, port, timeout.min(Duration::from_secs(2))).await {
        Port::Refused => format!(
            "connection refused for {within}: nothing listens on {host}:{port} (is the server running, is the port \
             right?)"
        ),
        Port::Silent => {
            format!("no answer from {host}:{port} within {within} (a wrong host, a firewall, a server down?); {variable} sets the wait")
        }
        Port::Unreachable(e) => format!("{host}:{port} cannot be reached: {e}"),
        Port::Speaks(other) if other != kind => format!(
            "the server at {host}:{port} answered, but not as {}: it speaks {other}'s protocol (is the URL's scheme \
             right, or its port?)",
            describe_kind(kind)
        ),
        _ => match driver {
            Some(message) => message,
            None => format!(
                "the server at {host}:{port} accepted the connection, but the login did not complete within {within} \
                 (raise {variable} if the server is slow)"
            ),
        },
    }
}

fn describe_kind(kind: DialectKind) -> &'static str {
    match kind {
        DialectKind::Postgres => "PostgreSQL",
        DialectKind::MySql => "MySQL/MariaDB",
        DialectKind::Sqlite => "SQLite",
    }
}

/// What a look at a port found.
#[derive(Debug, PartialEq, Eq)]
enum Port {
    Refused,
    Silent,
    Unreachable(String),
    /// A server answered, in this database's protocol.
    Speaks(DialectKind),
    /// A server answered, in neither protocol (or did not say).
    Unknown,
}

/// Connects to `host:port` and tells which protocol the server speaks: a MySQL server
/// greets first (protocol version 10, or an error packet); a PostgreSQL server waits,
/// and answers an `SSLRequest` with one byte, `S` or `N`.
async fn look_at_port(host: &str, port: u16, budget: Duration) -> Port {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = match tokio::time::timeout(budget, tokio::net::TcpStream::connect((host, port))).await {
        Err(_) => return Port::Silent,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Port::Refused,
        Ok(Err(e)) => return Port::Unreachable(e.to_string()),
        Ok(Ok(stream)) => stream,
    };
    let mut greeting = [0u8; 5];
    let wait = budget.min(Duration::from_millis(500));
    match tokio::time::timeout(wait, stream.read_exact(&mut greeting)).await {
        Ok(Ok(_)) if greeting[4] == 10 || greeting[4] == 0xff => return Port::Speaks(DialectKind::MySql),
        Ok(_) => return Port::Unknown,
        Err(_) => {}
    }
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    if stream.write_all(&SSL_REQUEST).await.is_err() {
        return Port::Unknown;
    }
    let mut answer = [0u8; 1];
    match tokio::time::timeout(wait, stream.read_exact(&mut answer)).await {
        Ok(Ok(_)) if matches!(answer[0], b'S' | b'N' | b'E') => Port::Speaks(DialectKind::Postgres),
        _ => Port::Unknown,
    }
}
