//! `--deep-only`: the cost of `schema verify --deep` (`Syncer::verify_deep`) against a
//! database the generated snippets built, at each N, next to what it is made of: the
//! plain verify (`Syncer::plan`), a fresh apply of the same set, and a snapshot.

use std::time::{Duration, Instant};

use super::{generate, median, ms, Db, Res, Servers, SqlxPool};

/// One row: N, then the medians of plan, snapshot, fresh apply and deep verify.
pub(super) struct DeepRow {
    pub kind: Db,
    pub n: usize,
    pub plan: Duration,
    pub snapshot: Duration,
    pub fresh: Duration,
    pub deep: Duration,
}

/// Builds the set at each N on `kind`, then times each part `runs` times.
pub(super) async fn deep_cost(servers: &Servers, kind: Db, ns: &[usize], runs: usize) -> Res<Vec<DeepRow>> {
    let mut rows = Vec::new();
    for &n in ns {
        eprintln!("{}: deep verify at N = {n}…", kind.name());
        let files = generate(n)?;
        let syncer = bootschema::Syncer::new(&files.set).ignore_environment();
        // Fresh applies, each into a new database (the last one stays as the target).
        let mut fresh = Vec::new();
        for _ in 0..runs {
            servers.create(kind, "bench_deep").await?;
            let pool = SqlxPool::connect(kind, &servers.url(kind, "bench_deep", None)).await?;
            let started = Instant::now();
            syncer.run(pool.target()).await?;
            fresh.push(started.elapsed());
            pool.close().await;
        }
        let pool = SqlxPool::connect(kind, &servers.url(kind, "bench_deep", None)).await?;
        let (mut plan, mut snapshot, mut deep) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let started = Instant::now();
            syncer.plan(pool.target()).await?;
            plan.push(started.elapsed());
            let started = Instant::now();
            syncer.snapshot(pool.target()).await?;
            snapshot.push(started.elapsed());
            let started = Instant::now();
            let report = syncer.verify_deep(pool.target(), None).await?;
            deep.push(started.elapsed());
            if report.differs(true) {
                return Err(format!("{} N = {n}: deep verify found differences on a database the set built", kind.name()).into());
            }
        }
        pool.close().await;
        servers.drop(kind, "bench_deep").await?;
        rows.push(DeepRow {
            kind,
            n,
            plan: median(plan),
            snapshot: median(snapshot),
            fresh: median(fresh),
            deep: median(deep),
        });
    }
    Ok(rows)
}

pub(super) fn print_deep(rows: &[DeepRow], runs: usize) {
    println!("## Deep verify (`schema verify --deep`) on a database the set built, median of {runs}\n");
    println!("| database | N | verify (plan) | snapshot | fresh apply | verify --deep | deep / fresh apply |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2}× |",
            r.kind.name(),
            r.n,
            ms(r.plan),
            ms(r.snapshot),
            ms(r.fresh),
            ms(r.deep),
            r.deep.as_secs_f64() / r.fresh.as_secs_f64()
        );
    }
    println!();
}
