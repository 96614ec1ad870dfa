//! What the output says of the database it talks to: enough to recognise production,
//! never a secret.

use crate::dialect::Target;
use crate::snippet::DialectKind;

/// The database a command runs against, as printed in the header and the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct TargetInfo {
    /// `postgres`, `mysql` or `sqlite`; unknown when the connection failed.
    pub database: Option<DialectKind>,
    /// The server's version, once read.
    pub server_version: Option<String>,
    /// The host (or socket path); none for SQLite.
    pub host: Option<String>,
    /// The port; none for SQLite and sockets.
    pub port: Option<u16>,
    /// The database's name; for SQLite, its file.
    pub database_name: Option<String>,
    /// The value of `<PREFIX>_ENV` (`production`), when set.
    pub environment: Option<String>,
    /// PostgreSQL: the schemas in scope (the configured ones or the search path's, less
    /// the excluded ones and those extensions created).
    pub schemas: Vec<String>,
    /// PostgreSQL: the installed extensions, with the schema each is installed in and
    /// the schemas it owns.
    pub extensions: Vec<crate::snapshot::Extension>,
}

impl TargetInfo {
    /// Describes the pool's target from its connect options (which carry no password
    /// getter: nothing here can leak one).
    pub(crate) fn of(target: &Target, environment: Option<String>) -> TargetInfo {
        let crate::error::Endpoint { host, port, database: database_name } = target.endpoint();
        TargetInfo {
            database: Some(target.dialect()),
            server_version: None,
            host,
            port,
            database_name,
            environment,
            schemas: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// `PostgreSQL 16.4 · 127.0.0.1:5432 · database app · environment production`.
    pub(crate) fn describe(&self) -> Vec<(TargetPart, String)> {
        let mut parts = Vec::new();
        match (&self.database, &self.server_version) {
            (Some(kind), Some(version)) if !version.is_empty() => {
                parts.push((TargetPart::Kind, format!("{kind} {version}")))
            }
            (Some(kind), _) => parts.push((TargetPart::Kind, kind.to_string())),
            (None, _) => parts.push((TargetPart::Kind, "database not reached".to_string())),
        }
        match (&self.host, self.port) {
            (Some(host), Some(port)) => parts.push((TargetPart::Data, format!("{host}:{port}"))),
            (Some(host), None) => parts.push((TargetPart::Data, host.clone())),
            _ => {}
        }
        if let Some(name) = &self.database_name {
            let word = if self.database == Some(DialectKind::Sqlite) { "file" } else { "database" };
            parts.push((TargetPart::Data, format!("{word} {name}")));
        }
        if let Some(environment) = &self.environment {
            parts.push((TargetPart::Environment, format!("environment {environment}")));
        }
        parts
    }
}

impl TargetInfo {
    /// `schemas public, app · extensions postgis 3.3.2 in public, postgis_topology 3.3.2
    /// in topology (owns topology)`: the second line of the header, on PostgreSQL.
    pub(crate) fn describe_scope(&self) -> Option<String> {
        if self.schemas.is_empty() && self.extensions.is_empty() {
            return None;
        }
        let mut text =
            format!("schemas {}", if self.schemas.is_empty() { "-".into() } else { self.schemas.join(", ") });
        if !self.extensions.is_empty() {
            let extensions: Vec<String> = self
                .extensions
                .iter()
                .map(|e| {
                    let mut s = format!("{} {} in {}", e.name, e.version, e.schema);
                    if !e.owns_schemas.is_empty() {
                        s.push_str(&format!(" (owns {})", e.owns_schemas.join(", ")));
                    }
                    s
                })
                .collect();
            text.push_str(&format!(" · extensions {}", extensions.join(", ")));
        }
        Some(text)
    }
}

/// How a part of the target's description is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetPart {
    /// The database kind and version: program vocabulary.
    Kind,
    /// Host, port, name: from the configuration, redacted like any data.
    Data,
    /// The environment's name, highlighted.
    Environment,
}
