//! The command line of the `schema` subcommand: which command, which options.

use std::ffi::OsString;
use std::fmt;

/// One of the release-phase commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// The full plan, snippet by snippet; changes nothing.
    Plan,
    /// Syncs the schema (the same code as the boot-time sync) and prints the report.
    Apply,
    /// The plan, and exit status 2 unless the database is in sync.
    Verify,
    /// A short view: counts and the last recorded snippet; changes nothing.
    Status,
    /// Records the history a database already holds, up to a version, without running
    /// it (`schema baseline <version>`).
    Baseline,
    /// The schema in scope as one sorted document (`schema snapshot`).
    Snapshot,
    /// How two schemas differ (`schema diff A B`): database URLs or snapshot files.
    Diff,
}

impl Command {
    fn parse(word: &str) -> Option<Command> {
        Some(match word {
            "plan" => Command::Plan,
            "apply" => Command::Apply,
            "verify" => Command::Verify,
            "status" => Command::Status,
            "baseline" => Command::Baseline,
            "snapshot" => Command::Snapshot,
            "diff" => Command::Diff,
            _ => return None,
        })
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Command::Plan => "plan",
            Command::Apply => "apply",
            Command::Verify => "verify",
            Command::Status => "status",
            Command::Baseline => "baseline",
            Command::Snapshot => "snapshot",
            Command::Diff => "diff",
        })
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invocation {
    /// Run a command.
    Run(Args),
    /// `--help` (or `help`): print the usage, for `command` when one was named.
    Help(Option<Command>),
}

/// A command and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    pub command: Command,
    /// `--json`: one machine-readable document on stdout.
    pub json: bool,
    /// `--yes`: consent to destructive snippets given at a terminal (`apply` only).
    pub yes: bool,
    /// The version of `baseline`.
    pub version: Option<u64>,
    /// `--out FILE`: where `snapshot` writes its document instead of stdout, and where
    /// `plan` writes the plan file for approval.
    pub out: Option<std::path::PathBuf>,
    /// `--plan FILE`: the approved plan file that `apply` carries out, and nothing else.
    pub plan: Option<std::path::PathBuf>,
    /// The two schemas of `diff`: database URLs or snapshot files.
    pub operands: Vec<String>,
    /// `--deep` (`verify`): also replay the snippets into a scratch database and diff
    /// its schema with the target's.
    pub deep: bool,
    /// `--dev-url URL` (`verify --deep`): the server of the scratch database.
    pub dev_url: Option<String>,
    /// `--strict` (`verify --deep`): objects not from the snippets are differences too.
    pub strict: bool,
    /// `--suggest`: `diff` also prints a snippet that adds to B what only A has.
    pub suggest: bool,
    /// `--report-dir DIR` (`plan`, `apply`, `verify`): write the audit trail into a new
    /// folder under DIR.
    pub report_dir: Option<std::path::PathBuf>,
}

/// A command line that cannot be run; the message says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError(pub String);

/// Parses the arguments that follow `schema` (`["apply", "--json"]`).
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, UsageError> {
    use lexopt::Arg;

    let mut parser = lexopt::Parser::from_args(args);
    let mut command = None;
    let mut json = false;
    let mut yes = false;
    let mut help = false;
    let mut version = None;
    let mut out = None;
    let mut plan = None;
    let mut operands = Vec::new();
    let (mut deep, mut dev_url, mut strict) = (false, None, false);
    let mut suggest = false;
    let mut report_dir = None;
    let error = |e: lexopt::Error| UsageError(e.to_string());
    while let Some(arg) = parser.next().map_err(error)? {
        match arg {
            Arg::Long("json") => json = true,
            Arg::Long("suggest") => suggest = true,
            Arg::Long("yes") | Arg::Short('y') => yes = true,
            Arg::Long("help") | Arg::Short('h') => help = true,
            Arg::Long("out") | Arg::Short('o') => out = Some(std::path::PathBuf::from(parser.value().map_err(error)?)),
            Arg::Long("deep") => deep = true,
            Arg::Long("strict") => strict = true,
            Arg::Long("dev-url") => dev_url = Some(parser.value().map_err(error)?.to_string_lossy().into_owned()),
            Arg::Long("plan") => plan = Some(std::path::PathBuf::from(parser.value().map_err(error)?)),
            Arg::Long("report-dir") => report_dir = Some(std::path::PathBuf::from(parser.value().map_err(error)?)),
            Arg::Value(word) if command.is_none() => {
                let word = word.to_string_lossy();
                if word == "help" {
                    help = true;
                    continue;
                }
                command = Some(Command::parse(&word).ok_or_else(|| {
                    UsageError(format!(
                        "unknown command `{word}`: expected plan, apply, verify, status, baseline, snapshot or diff"
                    ))
                })?);
            }
            Arg::Value(word) if command == Some(Command::Baseline) && version.is_none() => {
                let word = word.to_string_lossy();
                version = Some(word.parse::<u64>().map_err(|_| {
                    UsageError(format!(
                        "`{word}` is not a snippet version: give the number of the file name's prefix \
                         (20250301 for `2025-03-01_x.sql`)"
                    ))
                })?);
            }
            Arg::Value(word) if command == Some(Command::Diff) && operands.len() < 2 => {
                operands.push(word.to_string_lossy().into_owned());
            }
            Arg::Value(word) => {
                return Err(UsageError(format!("unexpected argument `{}`", word.to_string_lossy())));
            }
            other => return Err(error(other.unexpected())),
        }
    }
    if help {
        return Ok(Invocation::Help(command));
    }
    let Some(command) = command else {
        return Err(UsageError("a command is missing: plan, apply, verify, status or baseline".into()));
    };
    if command == Command::Baseline && version.is_none() {
        return Err(UsageError("`baseline` needs the version up to which the database holds the history".into()));
    }
    if yes && command != Command::Apply {
        return Err(UsageError(format!("--yes only applies to `apply`, not to `{command}`")));
    }
    if command == Command::Diff && operands.len() != 2 {
        return Err(UsageError(
            "`diff` compares two schemas: give two database URLs or snapshot files (`schema diff A B`)".into(),
        ));
    }
    if out.is_some() && !matches!(command, Command::Snapshot | Command::Plan) {
        return Err(UsageError(format!("--out only applies to `snapshot` and `plan`, not to `{command}`")));
    }
    if deep && command != Command::Verify {
        return Err(UsageError(format!("--deep only applies to `verify`, not to `{command}`")));
    }
    if report_dir.is_some() && !matches!(command, Command::Plan | Command::Apply | Command::Verify) {
        return Err(UsageError(format!(
            "--report-dir only applies to `plan`, `apply` and `verify`, not to `{command}`"
        )));
    }
    if suggest && command != Command::Diff {
        return Err(UsageError(format!("--suggest only applies to `diff`, not to `{command}`")));
    }
    if plan.is_some() && command != Command::Apply {
        return Err(UsageError(format!(
            "--plan only applies to `apply` (the approved plan it carries out), not to `{command}`; \
             `plan --out FILE` writes one"
        )));
    }
    if dev_url.is_some() && !deep && report_dir.is_none() {
        return Err(UsageError(
            "--dev-url goes with `verify --deep` or with `--report-dir` (the trail's deep diff)".into(),
        ));
    }
    if strict && !deep {
        return Err(UsageError("--strict goes with `verify --deep`".into()));
    }
    Ok(Invocation::Run(Args {
        command,
        json,
        yes,
        version,
        out,
        plan,
        operands,
        deep,
        dev_url,
        strict,
        suggest,
        report_dir,
    }))
}

/// The variables that steer the commands, one aligned line each.
fn environment(prefix: &str) -> String {
    let rows = [
        (format!("{prefix}_ENV"), "the environment's name, shown with the target"),
        (format!("{prefix}_SCHEMA_ALLOW_DESTRUCTIVE=1"), "allow snippets marked `-- destructive`"),
        (format!("{prefix}_SCHEMA_SYNC=off"), "turns off the boot-time sync only; `apply` still applies"),
        (format!("{prefix}_SCHEMA_DRY_RUN=1"), "`apply` plans and applies nothing"),
        (format!("{prefix}_SCHEMA_LOCK_TIMEOUT=5s"), "how long to wait for the schema lock and table locks"),
        (format!("{prefix}_SCHEMA_BASELINE=<version>"), "record the history up to it without running it"),
        (format!("{prefix}_SCHEMA_REPORT_DIR=<folder>"), "the default --report-dir, and the boot's audit trail"),
        ("NO_COLOR".to_string(), "plain output on a terminal too"),
    ];
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    rows.iter().map(|(name, what)| format!("  {name:<width$}   {what}\n")).collect()
}

/// The usage text, for the program `program` (`myapp`) and the variables' `prefix` (`MYAPP`).
pub(crate) fn usage(program: &str, prefix: &str, command: Option<Command>) -> String {
    let general = format!(
        "Usage: {program} schema <COMMAND> [--json]

Syncs the database schema from the SQL snippets embedded in {program}, with the same
code as the boot-time sync. Run it as the release step of a deploy.

Commands:
  status   a short view: how many snippets are in sync or pending, the last one recorded
  plan     every snippet and what a sync would do with it; changes nothing
           (--out FILE also writes the plan file to approve)
  verify   the plan; exit status 2 when anything is pending, edited, drifted or blocked
  apply    sync the schema now and print what was done (--plan FILE: only if
           the plan is still the approved one in FILE)
  baseline <VERSION>
           record the history the database already holds, up to VERSION, without
           running it (a database another tool or a script brought up to date)
  snapshot the schema as one sorted document: tables, columns, keys, indexes, views,
           sequences, types, extensions (--out FILE to write it to a file)
  diff <A> <B>
           how two schemas differ (database URLs or snapshot files); exit status 2
           when they differ (--suggest: and a snippet that adds to B what A has)

Options:
  --json      print one JSON document on stdout (its shape: docs/release.md)
  -y, --yes   apply: at a terminal, consent to destructive snippets without asking
  --out FILE  plan: write the plan file to approve; snapshot: the document
  --plan FILE apply: carry out exactly the approved plan in FILE, or nothing
  --report-dir DIR
              plan, apply, verify: write the audit trail (connection, drift, plan,
              every statement run, result) as Markdown and JSON into a new folder
              under DIR (docs/release.md, \"The audit trail\")
  -h, --help  print this help

Exit status: 0 success, 1 an error, 2 `verify` found the database out of sync.

Environment:
{}",
        environment(prefix)
    );
    let detail = match command {
        None => return general,
        Some(Command::Status) => format!(
            "Usage: {program} schema status [--json]

A short view of the database: how many snippets are up to date, pending (apply, adopt,
reapply), edited, drifted or blocked, and the last one recorded in the ledger. Reads
the ledger and the catalog; changes nothing. Exit status 0 once they could be read."
        ),
        Some(Command::Plan) => format!(
            "Usage: {program} schema plan [--json] [--out FILE] [--report-dir DIR [--dev-url URL]]

Every embedded snippet and what a sync would do with it (skip, apply, adopt, reapply,
or the edited / drift / blocked states that need a person), with its guards, the
statements that would run and the destructive ones. Takes no lock and changes
nothing. Exit status 0 once the plan could be read, whatever it holds.

--out FILE writes the plan file to review and approve: the target's identity, every
step with the statements it runs, and what the plan was decided from (docs/release.md,
\"The plan file\"). `{program} schema apply --plan FILE` then carries out that plan
and nothing else.
{}",
            report_dir_usage(prefix)
        ),
        Some(Command::Verify) => format!(
            "Usage: {program} schema verify [--json] [--deep [--dev-url URL] [--strict]] [--report-dir DIR]

The plan, as `plan` prints it, for CI and pre-deploy checks. Exit status 0 when every
snippet is up to date, 2 when anything is pending (apply, adopt, reapply), edited,
drifted or blocked, 1 on an error. Changes nothing.

--deep also checks shape, which guards cannot see: the snippets are replayed into a
scratch database (SQLite: in memory; PostgreSQL and MySQL: a temporary database on the
server of --dev-url, or on the target's server when the role may create databases,
dropped afterwards) and its schema is compared with the target's. Each difference (a
type, nullability, default, index predicate, foreign key action) is named with the
snippet that defines the object, and exits 2. Objects the snippets never made are listed
as \"not from the snippets\", and exit 2 only with --strict.
{}",
            report_dir_usage(prefix)
        ),
        Some(Command::Baseline) => baseline_usage(program, prefix),
        Some(Command::Diff) => format!(
            "Usage: {program} schema diff <A> <B> [--json] [--suggest]

Compares two schemas, each a database URL (postgres://…, mysql://…, sqlite:…) or a
file written by `{program} schema snapshot --json --out FILE`: tables and columns
missing on either side, type, nullability and default mismatches, and keys, foreign
keys, checks and indexes matched by what they cover, not by name. Across databases of
different kinds, types compare through the type map (docs/release.md, \"schema diff\")
so that one app's schema on SQLite, PostgreSQL and MySQL diffs as the same. Passwords
in the URLs never appear in the output. Does not read the app's own database.

--suggest also prints a snippet in B's SQL, ready to save into sql/<dialect>/, that adds
to B what only A has: missing tables (with their keys, checks and foreign keys),
columns, indexes, unique keys, and checks and foreign keys where B's database can add
them to an existing table. Everything else (a type, nullability or default that
differs, what only B has, a view) is listed in it as comments, never as SQL. With
--json it is the document's `suggestion` field.

Exit status: 0 the same schema, 2 different, 1 could not compare (--suggest changes
none of them)."
        ),
        Some(Command::Snapshot) => format!(
            "Usage: {program} schema snapshot [--json] [--out FILE]

The schema in scope as one stable, sorted document: tables with their columns (declared
and normalised type, nullability, default, generated or identity), primary keys, unique
constraints, foreign keys with their actions, checks, indexes (columns or expressions,
uniqueness, predicate, validity), views (a digest of their definition), sequences, enum
and domain types, and extensions with the schemas they own. bootschema's ledger is
left out; objects that belong to an extension are counted under it. Two snapshots of
the same schema are byte for byte the same. Changes nothing; exit status 0 once read."
        ),
        Some(Command::Apply) => format!(
            "Usage: {program} schema apply [--json] [--yes] [--plan FILE] [--report-dir DIR [--dev-url URL]]

Syncs the schema with the same code as the boot-time sync: under the lock, each
pending snippet once, in order, then prints the report. Applies even when
{prefix}_SCHEMA_SYNC=off (that variable turns off the boot-time sync only).

Destructive snippets: at a terminal, `apply` shows them and asks before running them;
--yes answers for you. Without a terminal (a release phase, CI) it never waits for
input, and destructive snippets run only with {prefix}_SCHEMA_ALLOW_DESTRUCTIVE=1.
A variable set to a false value wins over the answer and over --yes.

--plan FILE carries out the approved plan written by `{program} schema plan --out FILE`:
the plan is computed again under the lock, before the first statement, and applied
only if it is the same (same snippets, actions, statements, target, ledger and guard
facts). Otherwise nothing runs, and the error names what changed since approval.
Approval is not consent to destructive snippets: they still need the variable.

Exit status 0 when the schema is in sync (drift is reported, not fixed), 1 on an error
or a refusal (edited or blocked snippets, a plan that is not the approved one: nothing
is applied).
{}",
            report_dir_usage(prefix)
        ),
    };
    format!("{detail}\n\nRun `{program} schema --help` for every command.\n")
}

/// The paragraph on `--report-dir` of `plan`, `apply` and `verify`.
fn report_dir_usage(prefix: &str) -> String {
    format!(
        "
--report-dir DIR writes the audit trail into a new folder under DIR (never over an
earlier run's): the connection check, the drift before (the snippets replayed into a
scratch database, as `verify --deep` does; --dev-url names its server), the plan, and
for `apply` every statement run with its file, line, duration and outcome, the result,
the drift after and the snapshots before and after; report.md for people, JSON beside
it. Each part is written as it happens: a failed or killed apply leaves its log up to
the failure. Defaults to the folder of {prefix}_SCHEMA_REPORT_DIR."
    )
}

fn baseline_usage(program: &str, prefix: &str) -> String {
    format!(
        "Usage: {program} schema baseline <VERSION> [--json]

For a database that another tool or a hand-run script brought up to date, and that
bootschema has not synced: records every snippet at or below VERSION as `baselined`
in the ledger, without running it, so that the next sync applies only what comes
after. Does the same as {prefix}_SCHEMA_BASELINE=<VERSION> at the next boot, without
applying anything else. Refuses on a database whose history bootschema already
records, and on one that holds none of the snippets' objects (nothing to baseline).

Exit status 0 when the baseline was recorded, 1 on an error or a refusal."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Invocation, UsageError> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn a_command_with_its_options() {
        assert_eq!(
            parse_words(&["apply", "--json", "--yes"]),
            Ok(Invocation::Run(Args {
                command: Command::Apply,
                json: true,
                yes: true,
                version: None,
                out: None,
                operands: Vec::new(),
                deep: false,
                dev_url: None,
                strict: false,
                suggest: false,
                plan: None,
                report_dir: None,
            }))
        );
        assert_eq!(
            parse_words(&["--json", "status"]),
            Ok(Invocation::Run(Args {
                command: Command::Status,
                json: true,
                yes: false,
                version: None,
                out: None,
                operands: Vec::new(),
                deep: false,
                dev_url: None,
                strict: false,
                suggest: false,
                plan: None,
                report_dir: None,
            }))
        );
    }

    #[test]
    fn baseline_takes_a_version() {
        assert_eq!(
            parse_words(&["baseline", "20250301", "--json"]),
            Ok(Invocation::Run(Args {
                command: Command::Baseline,
                json: true,
                yes: false,
                version: Some(20250301),
                out: None,
                plan: None,
                operands: Vec::new(),
                deep: false,
                dev_url: None,
                strict: false,
                suggest: false,
                report_dir: None,
            }))
        );
        assert!(parse_words(&["baseline"]).unwrap_err().0.contains("needs the version"));
        assert!(parse_words(&["diff", "a.json"]).unwrap_err().0.contains("two schemas"));
        let Ok(Invocation::Run(diff)) = parse_words(&["diff", "a.json", "postgres://h/db", "--json"]) else { panic!() };
        assert_eq!(
            (diff.command, diff.operands.as_slice()),
            (Command::Diff, &["a.json".to_string(), "postgres://h/db".to_string()][..])
        );
        assert!(parse_words(&["baseline", "v3"]).unwrap_err().0.contains("is not a snippet version"));
    }

    #[test]
    fn deep_verify_takes_a_dev_url_and_strict() {
        let Ok(Invocation::Run(args)) =
            parse_words(&["verify", "--deep", "--dev-url", "postgres://localhost/dev", "--strict"])
        else {
            panic!()
        };
        assert_eq!((args.deep, args.dev_url.as_deref(), args.strict), (true, Some("postgres://localhost/dev"), true));
        assert!(parse_words(&["plan", "--deep"]).unwrap_err().0.contains("only applies to `verify`"));
        assert!(parse_words(&["verify", "--strict"]).unwrap_err().0.contains("goes with `verify --deep`"));
    }

    #[test]
    fn a_report_dir_goes_with_plan_apply_and_verify_and_takes_a_dev_url() {
        let Ok(Invocation::Run(args)) =
            parse_words(&["apply", "--report-dir", "reports", "--dev-url", "postgres://localhost/dev"])
        else {
            panic!()
        };
        assert_eq!(
            (args.report_dir.as_deref(), args.dev_url.as_deref()),
            (Some(std::path::Path::new("reports")), Some("postgres://localhost/dev"))
        );
        for command in ["plan", "verify"] {
            assert!(parse_words(&[command, "--report-dir", "r"]).is_ok(), "{command}");
        }
        assert!(parse_words(&["status", "--report-dir", "r"]).unwrap_err().0.contains("--report-dir only applies"));
        assert!(parse_words(&["apply", "--dev-url", "x"]).unwrap_err().0.contains("--dev-url goes with"));
    }

    #[test]
    fn suggest_is_a_flag_of_diff_only() {
        let Ok(Invocation::Run(diff)) = parse_words(&["diff", "a.json", "b.json", "--suggest", "--json"]) else {
            panic!()
        };
        assert!(diff.suggest && diff.json, "{diff:?}");
        let Ok(Invocation::Run(plain)) = parse_words(&["diff", "a.json", "b.json"]) else { panic!() };
        assert!(!plain.suggest);
        let err = parse_words(&["plan", "--suggest"]).unwrap_err().0;
        assert_eq!(err, "--suggest only applies to `diff`, not to `plan`");
        assert!(usage("myapp", "MYAPP", Some(Command::Diff)).contains("[--suggest]"));
        assert!(usage("myapp", "MYAPP", None).contains("--suggest"));
    }

    #[test]
    fn plan_writes_and_apply_reads_a_plan_file() {
        let Ok(Invocation::Run(plan)) = parse_words(&["plan", "--out", "plan.json"]) else { panic!() };
        assert_eq!((plan.command, plan.out.as_deref()), (Command::Plan, Some(std::path::Path::new("plan.json"))));
        let Ok(Invocation::Run(apply)) = parse_words(&["apply", "--plan", "plan.json", "--json"]) else { panic!() };
        assert_eq!((apply.command, apply.plan.as_deref()), (Command::Apply, Some(std::path::Path::new("plan.json"))));
        assert!(parse_words(&["plan", "--plan", "p.json"]).unwrap_err().0.contains("--plan only applies to `apply`"));
        assert!(parse_words(&["apply", "--out", "p.json"]).unwrap_err().0.contains("--out only applies to"));
        assert!(parse_words(&["apply", "--plan"]).is_err(), "--plan needs its file");
    }

    #[test]
    fn help_in_any_position_wins() {
        assert_eq!(parse_words(&["--help"]), Ok(Invocation::Help(None)));
        assert_eq!(parse_words(&["help"]), Ok(Invocation::Help(None)));
        assert_eq!(parse_words(&["verify", "-h"]), Ok(Invocation::Help(Some(Command::Verify))));
        assert_eq!(parse_words(&["-h", "verify", "--json"]), Ok(Invocation::Help(Some(Command::Verify))));
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert!(parse_words(&[]).unwrap_err().0.contains("a command is missing"));
        assert_eq!(parse_words(&["apply", "--bogus"]).unwrap_err().0, "invalid option '--bogus'");
        assert!(parse_words(&["migrate"]).unwrap_err().0.contains("unknown command `migrate`"));
        assert!(parse_words(&["plan", "extra"]).unwrap_err().0.contains("unexpected argument `extra`"));
        assert!(parse_words(&["plan", "--yes"]).unwrap_err().0.contains("--yes only applies to `apply`"));
        assert!(parse_words(&["plan", "--json=1"]).unwrap_err().0.contains("json"));
    }

    #[test]
    fn usage_names_the_program_and_its_variables() {
        let text = usage("myapp", "MYAPP", None);
        assert!(text.starts_with("Usage: myapp schema <COMMAND>"), "{text}");
        for word in ["status", "plan", "verify", "apply", "--json", "--yes", "MYAPP_SCHEMA_SYNC=off", "NO_COLOR"] {
            assert!(text.contains(word), "{word} in {text}");
        }
        assert!(usage("myapp", "MYAPP", Some(Command::Apply)).contains("MYAPP_SCHEMA_ALLOW_DESTRUCTIVE=1"));
    }
}
