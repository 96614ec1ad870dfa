//! The no-op boot alone, at N = 10 and N = 5,000, on PostgreSQL: one database per N,
//! synced once, then 51 boots each, the two N interleaved boot by boot (the full
//! benchmark interleaves other tools that read 5,000-row ledgers between our boots,
//! which disturbs caches; this isolates bootschema's own cost).
//!
//! `cargo run --release --example noop_flatness` (`BENCH_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432`). Nothing is asserted: it prints a table.

use std::time::{Duration, Instant};

fn snippet(i: usize) -> (String, String) {
    let k = (i - 1) / 4;
    match i % 4 {
        1 => (format!("create_t{k}"), format!("CREATE TABLE t{k} (id INTEGER NOT NULL PRIMARY KEY, name TEXT);\n")),
        2 => (format!("add_c{k}"), format!("ALTER TABLE t{k} ADD COLUMN c{k} INTEGER;\n")),
        3 => (format!("index_t{k}_c"), format!("CREATE INDEX t{k}_c_idx ON t{k} (c{k});\n")),
        _ => (format!("seed_t{k}"), format!("INSERT INTO t{k} (id, name, c{k}) VALUES (1, 'seed', {k});\n")),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("BENCH_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = sqlx::PgPool::connect(&format!("{base}/postgres")).await?;
    let sizes = [10usize, 5000];
    let mut cases = Vec::new();
    for n in sizes {
        let dir = tempfile::tempdir()?;
        let sql = dir.path().join("sql");
        std::fs::create_dir_all(&sql)?;
        for i in 1..=n {
            let (description, text) = snippet(i);
            std::fs::write(sql.join(format!("{i:05}_{description}.sql")), text)?;
        }
        let set = bootschema_build::Builder::new().folder(&sql).base_dir(dir.path()).env_prefix("NOOP").scan()?.set;
        let name = format!("noop_flatness_{n}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
        let pool = sqlx::PgPool::connect(&format!("{base}/{name}")).await?;
        bootschema::Syncer::new(&set).ignore_environment().run(&pool).await?;
        cases.push((n, set, pool, name, Vec::<Duration>::new()));
    }
    for _ in 0..51 {
        for (n, set, pool, _, times) in cases.iter_mut() {
            let started = Instant::now();
            let report = bootschema::Syncer::new(set).ignore_environment().run(&*pool).await?;
            times.push(started.elapsed());
            assert_eq!(report.unchanged, *n, "the boot took the fast path");
        }
    }
    println!("| N | no-op boot, median of 51 | vs N = 10 |\n| ---: | ---: | ---: |");
    let mut first = None;
    for (n, _, pool, name, mut times) in cases {
        times.sort();
        let median = times[times.len() / 2];
        let base = *first.get_or_insert(median);
        println!("| {n} | {:.1} µs | {:.2}× |", median.as_secs_f64() * 1e6, median.as_secs_f64() / base.as_secs_f64());
        pool.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(&admin).await?;
    }
    Ok(())
}
