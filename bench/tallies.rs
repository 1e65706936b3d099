//! Tallies read latency on PostgreSQL: `GET /v1/operations/{op}/tallies?metric=victims_safeguarded
//! &group_by=nationality` through the real HTTP server, beside a plain SQL `GROUP BY` over the
//! records giving the same totals per country, and the endpoint's requests per second against
//! `GET /healthz`, for one operation grown to 10 thousand, 100 thousand and 1 million
//! interceptions (loaded through the write use case `service::interceptions::push`, not HTTP). Latency is taken on
//! a server with the tally cache off (`tally_cache_ms = 0`: every request reads the database);
//! requests per second on one as configured (cache on) and on the uncached one.
//!
//! `BENCH_DATABASE_URL=postgres://.. cargo bench --bench tallies`; knobs: `BENCH_SIZES`
//! (10000,100000,1000000), `BENCH_REQUESTS` (300), `BENCH_SQL_RUNS` (20), `BENCH_CLIENTS` (8),
//! `BENCH_SECONDS` (5), `BENCH_RPS_ROUNDS` (3), `BENCH_LOAD_THREADS` (2), `BENCH_PENDING` (20000:
//! items left in the tally log for the last read measured, 0: none). See docs/BENCHMARKS.md.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use opcoord::auth::claims::{Access, Scope};
use opcoord::auth::Auth;
use opcoord::config::Settings;
use opcoord::db::schema::interceptions::dsl as t;
use opcoord::db::{migrate, tally_log, Database, DbConn};
use opcoord::AppState;
use serde_json::{json, Value};

/// The operation every size grows.
const OP: &str = "bench-tallies";
/// The endpoint measured.
const TALLIES: &str = "/v1/operations/bench-tallies/tallies?metric=victims_safeguarded&group_by=nationality";
/// The plain SQL over the records that gives the same totals per country. `SUM(bigint)` is
/// `numeric` in PostgreSQL; the outer cast only lets diesel read it as `BIGINT`.
const GROUP_BY: &str = "SELECT country, SUM((body::jsonb->'victims'->>'total')::bigint)::bigint AS total \
    FROM interceptions WHERE operation_id = $1 AND NOT deleted GROUP BY country";

/// Item number `i`, the same on every run whichever thread makes it: a generator seeded by `i`.
fn item(i: usize) -> Value {
    let mut rng = XorShift((0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)) | 1);
    for _ in 0..4 {
        rng.next();
    }
    interception_item(&mut rng, i)
}

/// Runs `f` on the PostgreSQL connection of a pooled one.
fn with_pg<T>(db: &Database, f: impl FnOnce(&mut PgConnection) -> T) -> T {
    db.with_conn(|conn| match conn {
        DbConn::Postgres(c) => Ok(f(c)),
        _ => panic!("PostgreSQL only"),
    })
    .expect("a connection")
}

/// A row of the plain `GROUP BY`.
#[derive(QueryableByName)]
struct CountrySum {
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    total: Option<i64>,
}

/// Runs the plain `GROUP BY` `warmup` times untimed, then `runs` times timed, on one connection.
/// Returns the nonzero totals per country and the durations.
fn group_by(db: &Database, warmup: usize, runs: usize) -> (BTreeMap<String, i64>, Vec<Duration>) {
    with_pg(db, |c| {
        let query = || diesel::sql_query(GROUP_BY).bind::<Text, _>(OP);
        let mut rows: Vec<CountrySum> = Vec::new();
        for _ in 0..warmup {
            rows = query().load(c).expect("GROUP BY");
        }
        let times = (0..runs)
            .map(|_| {
                let began = Instant::now();
                rows = query().load(c).expect("GROUP BY");
                began.elapsed()
            })
            .collect();
        let totals = rows
            .into_iter()
            .filter_map(|r| r.total.filter(|&v| v != 0).map(|v| (r.country, v)))
            .collect();
        (totals, times)
    })
}

/// Derived per-country figures of a tallies answer (nonzero only).
fn api_totals(report: &Value) -> BTreeMap<String, i64> {
    let rows = report["countries"].as_array().expect("countries");
    rows.iter()
        .filter(|r| r["metric"] == "victims_safeguarded")
        .map(|r| {
            (
                r["country"].as_str().expect("country").to_string(),
                r["derived"].as_i64().expect("derived"),
            )
        })
        .filter(|(_, v)| *v != 0)
        .collect()
}

/// Sequential requests on one keep-alive connection: `warmup` untimed, then `count` timed.
fn latencies(addr: SocketAddr, token: &str, path: &str, warmup: usize, count: usize) -> Vec<Duration> {
    let mut client = Client::connect(addr).expect("connect");
    for _ in 0..warmup {
        let (status, _) = client.send("GET", path, token, b"").expect("HTTP exchange");
        assert_eq!(status, 200, "GET {path}");
    }
    (0..count)
        .map(|_| {
            let began = Instant::now();
            let (status, _) = client.send("GET", path, token, b"").expect("HTTP exchange");
            let took = began.elapsed();
            assert_eq!(status, 200, "GET {path}");
            took
        })
        .collect()
}

/// Requests per second of `GET path` from `clients` keep-alive connections for `secs` seconds.
fn rps(addr: SocketAddr, token: &str, path: &str, clients: usize, secs: u64) -> f64 {
    let start = Barrier::new(clients + 1);
    let total = AtomicUsize::new(0);
    let elapsed = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let client = Client::connect(addr);
                    start.wait(); // even on failure, so the others are not left waiting
                    let mut client = client.expect("connect to the service");
                    // A warm-up request, then until the deadline.
                    client.send("GET", path, token, b"").expect("HTTP exchange");
                    let deadline = Instant::now() + Duration::from_secs(secs);
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let (status, _) = client.send("GET", path, token, b"").expect("HTTP exchange");
                        assert_eq!(status, 200, "GET {path}");
                        n += 1;
                    }
                    total.fetch_add(n, Ordering::Relaxed);
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        workers.into_iter().for_each(|w| w.join().expect("client thread"));
        began.elapsed()
    });
    total.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

/// The median of a few rates.
fn median(rates: &mut [f64]) -> f64 {
    rates.sort_by(f64::total_cmp);
    let n = rates.len();
    (rates[(n - 1) / 2] + rates[n / 2]) / 2.0
}

/// Median and 99th percentile (nearest rank), in milliseconds.
fn summary(times: &[Duration]) -> (f64, f64) {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = (ms[(n - 1) / 2] + ms[n / 2]) / 2.0;
    let p99 = ms[((n * 99).div_ceil(100)).max(1) - 1];
    (median, p99)
}

/// What one size gave.
struct Measured {
    size: usize,
    load_secs: f64,
    cells: i64,
    bytes: usize,
    api: (f64, f64),
    sql: (f64, f64),
    health_rps: f64,
    tallies_rps: f64,
    uncached_rps: f64,
}

/// Starts the service, grows the operation through the sizes and measures each.
fn run(settings: Settings, sizes: &[usize]) -> Vec<Measured> {
    let requests = env_or("BENCH_REQUESTS", 300);
    let sql_runs = env_or("BENCH_SQL_RUNS", 20);
    let clients = env_or("BENCH_CLIENTS", 8);
    let secs = env_or("BENCH_SECONDS", 5) as u64;
    let rps_rounds = env_or("BENCH_RPS_ROUNDS", 3).max(1);
    let threads = env_or("BENCH_LOAD_THREADS", 2);
    println!(
        "requests={requests} sql_runs={sql_runs} clients={clients} seconds={secs} rps_rounds={rps_rounds} \
         load_threads={threads}"
    );
    let db = Database::open(&settings).expect("open the database");
    db.with_conn(migrate::run_pending).expect("migrate");
    let auth = Arc::new(Auth::from_settings(&settings, true).expect("keys"));
    let token = {
        let claims = auth.claims(
            "bench",
            &Scope::set_of(ALL_SCOPES),
            &Access::All,
            &Access::All,
            3600 * 6,
        );
        auth.sign(&claims).expect("sign")
    };
    // Two servers on the same database: one as configured (answers cached for
    // `tally_cache_ms`), one with the cache off, so the latency is that of the database path.
    // Their folders of the tally log wait a minute: the harness folds when it means to, so
    // what each measurement reads (cells only, or cells and a log) is known.
    let settings = Settings {
        tally_fold_ms: 60_000,
        ..settings
    };
    let cached = Served::start(
        AppState::new(db.clone(), settings.clone(), auth.clone()),
        settings.workers,
    );
    let uncached_settings = Settings {
        tally_cache_ms: 0,
        ..settings.clone()
    };
    let uncached = Served::start(AppState::new(db.clone(), uncached_settings, auth), settings.workers);
    let addr = uncached.addr;
    let body = json!({"id": OP, "name": "Benchmark tallies", "status": "active",
                      "starts_on": "2025-09-01", "ends_on": "2025-09-30"});
    Client::connect(addr)
        .expect("connect")
        .expect("POST", "/v1/operations", &token, body.to_string().as_bytes(), 201);

    let mut results = Vec::new();
    let mut loaded = 0;
    for &size in sizes {
        println!("size {size}:");
        let took = load(&db, OP, loaded, size, threads, &item);
        let load_secs = took.as_secs_f64();
        println!(
            "  loaded {} items in {load_secs:.1} s ({:.0} items/s)",
            size - loaded,
            (size - loaded) as f64 / load_secs
        );
        loaded = size;
        let (rows, took) = fold_pending(&db);
        println!("  folded {rows} rows of the tally log in {:.2} s", took.as_secs_f64());
        let count = db
            .with_conn(|conn| {
                let query = t::interceptions.filter(t::operation_id.eq(OP)).count();
                Ok(opcoord::on_backend!(conn, c => query.get_result::<i64>(c))?)
            })
            .expect("count rows");
        assert_eq!(count, size as i64, "rows stored");
        if size <= 10_000 {
            let differences = db
                .with_conn(|conn| opcoord::db::tallies::verify(conn, OP))
                .expect("verify");
            assert!(
                differences.is_empty(),
                "cells differ from the records: {:?}",
                &differences[..differences.len().min(5)]
            );
            println!("  verify: every tally cell agrees with the records");
        }
        // Fresh planner statistics after the bulk load (not timed).
        with_pg(&db, |c| {
            c.batch_execute("ANALYZE interceptions; ANALYZE tally_cells")
                .expect("ANALYZE")
        });
        let cells = with_pg(&db, |c| {
            use opcoord::db::schema::tally_cells;
            tally_cells::table
                .filter(tally_cells::operation_id.eq(OP))
                .count()
                .get_result::<i64>(c)
                .expect("cells")
        });

        // a. API latency, and its answer.
        let mut client = Client::connect(addr).expect("connect");
        let report = client.expect("GET", TALLIES, &token, b"", 200);
        let bytes = report.to_string().len();
        drop(client);
        let api_times = latencies(addr, &token, TALLIES, 30, requests);
        let api = summary(&api_times);
        println!(
            "  API    median {:>9.3} ms   p99 {:>9.3} ms   ({requests} requests, answer {bytes} bytes)",
            api.0, api.1
        );
        // b. The plain GROUP BY, same answer.
        let (sql_totals, sql_times) = group_by(&db, 3, sql_runs);
        assert_eq!(api_totals(&report), sql_totals, "API and GROUP BY totals per country");
        let sql = summary(&sql_times);
        println!(
            "  SQL    median {:>9.3} ms   p99 {:>9.3} ms   ({sql_runs} runs; same totals per country as the API)",
            sql.0, sql.1
        );
        // c. Throughput against /healthz of the same (cached, as configured) server, and
        // the tallies with the cache off.
        // Side by side: the three in turn, `rps_rounds` times; medians of each.
        let (mut health, mut tallies, mut plain) = (Vec::new(), Vec::new(), Vec::new());
        for round in 1..=rps_rounds {
            health.push(rps(cached.addr, &token, "/healthz", clients, secs));
            tallies.push(rps(cached.addr, &token, TALLIES, clients, secs));
            plain.push(rps(addr, &token, TALLIES, clients, secs));
            println!(
                "  RPS    round {round}: /healthz {:>9.0}   tallies {:>9.0}   tallies uncached {:>9.0}   \
                 ({clients} clients, {secs} s each)",
                health[round - 1],
                tallies[round - 1],
                plain[round - 1]
            );
        }
        let (health_rps, tallies_rps, uncached_rps) = (median(&mut health), median(&mut tallies), median(&mut plain));
        results.push(Measured {
            size,
            load_secs,
            cells,
            bytes,
            api,
            sql,
            health_rps,
            tallies_rps,
            uncached_rps,
        });
    }
    pending_reads(&db, addr, &token, loaded, threads, requests);
    cached.stop();
    uncached.stop();
    results
}

/// The latency of the same read while the tally log holds `BENCH_PENDING` (20,000: about one
/// second of ingest) more items not yet folded, then after folding them. The items are the
/// next ones of the operation, pushed through the write use case in chunks as the load does.
fn pending_reads(db: &Database, addr: SocketAddr, token: &str, loaded: usize, threads: usize, requests: usize) {
    let extra = env_or("BENCH_PENDING", 20_000);
    if extra == 0 {
        return;
    }
    load(db, OP, loaded, loaded + extra, threads, &item);
    let rows = db.with_conn(tally_log::pending).expect("pending");
    let with_log = summary(&latencies(addr, token, TALLIES, 30, requests));
    let (folded_rows, took) = fold_pending(db);
    let folded = summary(&latencies(addr, token, TALLIES, 30, requests));
    println!(
        "pending: {extra} more items, {rows} rows in the tally log: API median {:.3} ms, p99 {:.3} ms; \
         folded ({folded_rows} rows, {:.2} s): median {:.3} ms, p99 {:.3} ms",
        with_log.0,
        with_log.1,
        took.as_secs_f64(),
        folded.0,
        folded.1
    );
}

fn main() {
    let Some(admin_url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("tallies: PostgreSQL only; set BENCH_DATABASE_URL (see docs/BENCHMARKS.md). Nothing measured.");
        return;
    };
    let mut sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("BENCH_SIZES: numbers separated by commas"))
        .filter(|&n| n > 0)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("tallies: nproc={nproc} sizes={sizes:?} chunk={CHUNK}");

    let dir = tempfile::tempdir().expect("temporary folder");
    let mut settings = Settings::defaults().expect("default settings");
    settings.data_dir = dir.path().join("data").to_string_lossy().into_owned();
    settings.pool_size = 16;
    let results = in_fresh_schema(&admin_url, |url| {
        settings.database_url = url;
        run(settings, &sizes)
    });

    println!("\n     items   load s    cells  answer B   API med ms   API p99 ms   SQL med ms   SQL p99 ms   SQL/API   /healthz RPS   tallies RPS   ratio   uncached RPS   ratio");
    for m in &results {
        println!(
            "{:>10} {:>8.1} {:>8} {:>9} {:>12.3} {:>12.3} {:>12.3} {:>12.3} {:>9.0} {:>14.0} {:>13.0} {:>7.2} {:>14.0} {:>7.3}",
            m.size,
            m.load_secs,
            m.cells,
            m.bytes,
            m.api.0,
            m.api.1,
            m.sql.0,
            m.sql.1,
            m.sql.0 / m.api.0,
            m.health_rps,
            m.tallies_rps,
            m.tallies_rps / m.health_rps,
            m.uncached_rps,
            m.uncached_rps / m.health_rps
        );
    }
    if let (Some(first), Some(last)) = (results.first(), results.last()) {
        let growth = last.api.0 / first.api.0;
        let met = |ok: bool| if ok { "met" } else { "NOT met" };
        println!("\ngoals:");
        println!(
            "  API median at {} within 1.5x of at {}: {growth:.2}x, {}",
            last.size,
            first.size,
            met(growth <= 1.5)
        );
        let speedup = last.sql.0 / last.api.0;
        println!(
            "  API at least 100x faster than GROUP BY at {}: {speedup:.0}x, {}",
            last.size,
            met(speedup >= 100.0)
        );
        for m in &results {
            let ratio = m.tallies_rps / m.health_rps;
            println!(
                "  tallies RPS at least half of /healthz at {}: {ratio:.2}, {}",
                m.size,
                met(ratio >= 0.5)
            );
        }
    }
}
