//! `myapp`: bootschema's reference app. It syncs its own schema from `sql/` when it
//! boots, then uses it for real: writes a user, reads settings and a view.
//!
//! ```text
//! cargo run                                            # SQLite file myapp.db
//! DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run
//! DATABASE_URL=mysql://root@127.0.0.1/test cargo run
//! MYAPP_SCHEMA_DRY_RUN=1 cargo run                     # show the plan, change nothing
//! cargo run -- schema plan                             # the release phase: plan, apply, verify, status
//! ```

use anyhow::Context;
use sqlx::{MySqlPool, PgPool, SqlitePool};

/// Every snippet of `sql/`, embedded by `build.rs`.
static SNIPPETS: bootschema::SnippetSet = bootschema::include_snippets!();

/// The app's pool, whichever database `DATABASE_URL` names.
enum Db {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Runs the same code on whichever pool the app has.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Postgres($pool) => $body,
            Db::MySql($pool) => $body,
            Db::Sqlite($pool) => $body,
        }
    };
}

impl Db {
    /// Connects through bootschema, within `MYAPP_SCHEMA_CONNECT_TIMEOUT`: a failure
    /// names the host, port and database and why, never the URL's password.
    async fn connect(syncer: &bootschema::Syncer<'_>, url: &str) -> Result<Db, bootschema::Error> {
        let db = match syncer.connect(url).await? {
            bootschema::Target::Postgres(pool) => Db::Postgres(pool),
            bootschema::Target::MySql(pool) => Db::MySql(pool),
            bootschema::Target::Sqlite(pool) => Db::Sqlite(pool),
            other => unreachable!("every database is enabled: {:?}", other.dialect()),
        };
        Ok(db)
    }

    fn target(&self) -> bootschema::Target {
        on_pool!(self, pool => pool.into())
    }

    /// `?` placeholders, numbered for PostgreSQL.
    fn sql(&self, text: &str) -> String {
        match self {
            Db::Postgres(_) => {
                let mut n = 0;
                text.chars()
                    .flat_map(|c| {
                        if c == '?' {
                            n += 1;
                            format!("${n}").chars().collect::<Vec<_>>()
                        } else {
                            vec![c]
                        }
                    })
                    .collect()
            }
            _ => text.to_string(),
        }
    }
}

impl From<Db> for bootschema::Target {
    fn from(db: Db) -> bootschema::Target {
        db.target()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:myapp.db?mode=rwc".to_string());
    let syncer = bootschema::Syncer::new(&SNIPPETS);

    // `myapp schema plan|apply|verify|status`: the release phase runs here and exits;
    // any other command line boots and serves.
    let release = bootschema::release::Release::new(syncer.clone()).redact_url(&url);
    if let Some(code) = release.run_from_args(|| Db::connect(&syncer, &url)).await {
        std::process::exit(code);
    }

    // The error names the database kind and what failed, never the URL's password.
    let db = Db::connect(&syncer, &url).await.map_err(|e| anyhow::anyhow!(bootschema::redact(&e.to_string(), &url)))?;
    let report = syncer.run(db.target()).await?;
    // A boot in sync reads only the ledger's mark, so the server's version is unknown.
    let server = if report.server_version.is_empty() { String::new() } else { format!(" {}", report.server_version) };
    let mut out = String::new();
    out.push_str(&format!("schema ({}{server}): {}\n", report.dialect, report.summary()));
    for step in report.steps.iter().filter(|s| s.action != bootschema::Action::Skip) {
        out.push_str(&format!("  {:<8} {}  ({})\n", step.action.to_string(), step.path, step.reason));
    }
    if report.dry_run || report.disabled {
        out.push_str("the schema was not synced by this boot; not touching the data\n");
        return say(&out);
    }
    say(&out)?;

    // Use the schema for real: a write that needs the added column and both unique
    // rules, then reads of the seeded settings and of the view, in one transaction.
    // (Behind PgBouncer in transaction pooling mode, which cannot keep prepared
    // statements between transactions, statements outside a transaction would fail.)
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let name = format!("visitor-{stamp}-{}", std::process::id());
    let email = format!("{name}@example.com");
    let insert = db.sql("INSERT INTO users (name, email) VALUES (?, ?)");
    let select_greeting = db.sql("SELECT value FROM settings WHERE name = ?");
    let (greeting, users, with_email): (String, i64, i64) = on_pool!(&db, pool => {
        let mut tx = pool.begin().await.context("beginning a transaction")?;
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .bind(&name)
            .bind(&email)
            .persistent(false)
            .execute(&mut *tx)
            .await
            .context("inserting a user")?;
        let greeting: String = sqlx::query_scalar(sqlx::AssertSqlSafe(select_greeting))
            .bind("greeting")
            .persistent(false)
            .fetch_one(&mut *tx)
            .await
            .context("reading the seeded greeting")?;
        let (users, with_email): (i64, i64) = sqlx::query_as("SELECT users, with_email FROM user_stats")
            .persistent(false)
            .fetch_one(&mut *tx)
            .await
            .context("reading the user_stats view")?;
        tx.commit().await.context("committing")?;
        (greeting, users, with_email)
    });
    say(&format!("{greeting}: added user {name}; {users} user(s), {with_email} with an email\n"))
}

/// Writes to stdout. A reader that went away (`myapp | head -1`) ends the output
/// quietly; any other write error (a full disk) is an error.
fn say(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}
