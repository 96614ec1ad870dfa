//! The fault-injection harness shared by `tests/reliability.rs` (short runs) and
//! `examples/crash_trials.rs` (long runs): replicas booting at once, and `kill -9` at
//! seeded random moments, checked against a clean apply.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bootschema::{Action, SnippetSet};

use super::{Kind, TestDb};

/// The reference app's snippets, as its build embeds them.
pub fn myapp_snippets() -> SnippetSet {
    super::scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sql"))
}

/// SplitMix64: a small seeded generator, so that every trial can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

fn myapp(bin: &Path, url: &str) -> Command {
    let mut command = Command::new(bin);
    command
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .env_remove("MYAPP_SCHEMA_DRY_RUN")
        .env_remove("MYAPP_SCHEMA_SYNC")
        .stdin(Stdio::null());
    command
}

/// What one boot printed.
pub struct Boot {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Boots `n` processes of the app at the same moment and waits for all of them.
pub fn herd(bin: &Path, url: &str, n: usize) -> Vec<Boot> {
    let children: Vec<_> = (0..n)
        .map(|_| myapp(bin, url).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawning myapp"))
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("waiting for myapp");
            Boot {
                success: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

/// Lines of a boot's log at WARN or ERROR.
pub fn warnings(boot: &Boot) -> Vec<&str> {
    boot.stderr.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).collect()
}

/// The schema a clean apply of the reference app leaves, and how long that boot took.
pub async fn clean_apply(bin: &Path, kind: Kind) -> Option<(Vec<String>, Duration)> {
    let db = TestDb::new(kind).await?;
    let started = Instant::now();
    let boot = &herd(bin, &db.url, 1)[0];
    assert!(boot.success, "a clean boot fails:\n{}", boot.stderr);
    Some((db.catalog().await, started.elapsed()))
}

/// The outcome of one crash trial.
#[derive(Debug)]
pub struct Trial {
    pub seed: u64,
    pub delay_ms: u64,
    /// Whether the process was still running when it was killed.
    pub killed: bool,
    /// Everything wrong after the recovery boot (empty when the trial passed).
    pub problems: Vec<String>,
}

/// Boots the app, kills it with SIGKILL after a seeded random delay within `window`,
/// boots it again, and checks that the schema equals a clean apply's and that the
/// ledger and the schema agree (every snippet recorded once, every guard present).
pub async fn crash_trial(bin: &Path, kind: Kind, seed: u64, window: Duration, reference: &[String]) -> Option<Trial> {
    let db = TestDb::new(kind).await?;
    let delay_ms = Rng::new(seed).below(window.as_millis() as u64 + 1);
    let mut child = myapp(bin, &db.url).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawning myapp");
    std::thread::sleep(Duration::from_millis(delay_ms));
    let killed = child.try_wait().ok().flatten().is_none();
    let _ = child.kill(); // SIGKILL on Unix: no cleanup, no unlock
    let _ = child.wait();

    let mut problems = Vec::new();
    let recovery = &herd(bin, &db.url, 1)[0];
    if !recovery.success {
        problems.push(format!("the boot after the crash failed:\n{}", recovery.stderr));
    }
    let catalog = db.catalog().await;
    if catalog != reference {
        let missing: Vec<_> = reference.iter().filter(|l| !catalog.contains(l)).collect();
        let extra: Vec<_> = catalog.iter().filter(|l| !reference.contains(l)).collect();
        problems.push(format!("schema differs from a clean apply: missing {missing:?}, extra {extra:?}"));
    }
    let set = myapp_snippets();
    let rows = db.ledger().await;
    if rows.len() != set.for_dialect(db.target().dialect()).len() {
        problems.push(format!(
            "ledger has {} rows for {} snippets: {rows:?}",
            rows.len(),
            set.for_dialect(db.target().dialect()).len()
        ));
    }
    match super::syncer(&set).plan(db.target()).await {
        Ok(plan) => {
            for step in plan.steps.iter().filter(|s| s.action != Action::Skip) {
                problems.push(format!("after recovery {} is `{}`: {}", step.path, step.action, step.reason));
            }
        }
        Err(e) => problems.push(format!("planning after recovery failed: {e}")),
    }
    Some(Trial { seed, delay_ms, killed, problems })
}

/// The built `myapp` next to the running example or test binary.
pub fn sibling_myapp() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("exe dir");
    let candidates = [dir.join("myapp"), dir.join("../myapp")];
    candidates.into_iter().find(|p| p.exists()).expect("build myapp first (cargo build --bin myapp)")
}

/// PgBouncer in transaction pooling mode on a free loopback port, in front of the
/// PostgreSQL server of `server_url`; stopped when dropped.
pub struct PgBouncer {
    pub port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    /// `None` (with the reason printed) where pgbouncer is not installed outside CI.
    pub fn start(server_url: &str) -> Option<PgBouncer> {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].into_iter().find(|p| Path::new(p).exists());
        let Some(binary) = binary else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("pgbouncer is not installed and CI=true (.ci/run installs it)");
            }
            eprintln!("SKIPPED: pgbouncer is not installed (apt-get install pgbouncer)");
            return None;
        };
        let after_at = server_url.split('@').nth(1).unwrap_or("127.0.0.1:5432");
        let host_port = after_at.split('/').next().unwrap_or("127.0.0.1:5432");
        let (host, server_port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        std::fs::write(path("userlist.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            path("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={host} port={server_port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 8\n\
                 ignore_startup_parameters = extra_float_digits,options\nlogfile = {}\n",
                path("userlist.txt"),
                path("pgbouncer.log"),
            ),
        )
        .unwrap();
        // pgbouncer refuses to run as root; it switches to `postgres`, which must read
        // its files.
        let mut command = Command::new(binary);
        if unsafe_is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            for file in ["userlist.txt", "pgbouncer.ini"] {
                std::fs::set_permissions(dir.path().join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
            }
            command.arg("-u").arg("postgres");
        }
        let child = command
            .arg(path("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting pgbouncer");
        let bouncer = PgBouncer { port, child, _dir: dir };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(bouncer);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "pgbouncer did not listen on port {port}: {}",
            std::fs::read_to_string(bouncer._dir.path().join("pgbouncer.log")).unwrap_or_default()
        );
    }

    /// `url` (a database on the proxied server) rewritten to go through the bouncer,
    /// without named prepared statements (which transaction pooling cannot keep).
    pub fn url_for(&self, url: &str) -> String {
        let database = url.rsplit('/').next().unwrap_or("postgres").split('?').next().unwrap_or("postgres");
        format!("postgres://postgres@127.0.0.1:{}/{database}?statement-cache-capacity=0", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_is_root() -> bool {
    std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || std::fs::read_to_string("/proc/self/status")
            .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
            .unwrap_or(false)
}
