//! Ingest throughput: interceptions pushed through the real HTTP API (batches of 500 from C
//! concurrent keep-alive clients) against the same rows upserted with plain diesel from C
//! threads, alternately, on SQLite and, when `BENCH_DATABASE_URL` is set, on PostgreSQL.
//!
//! `cargo bench --bench ingest`; knobs: `BENCH_ITEMS` (20000), `BENCH_CLIENTS` (4),
//! `BENCH_ROUNDS` (3), `BENCH_SETUP_SQL` (run after the migrations), `BENCH_SQLITE=0` (PostgreSQL
//! only), `BENCH_BATCHES=mixed` (every country in each batch), `BENCH_UPDATES=1` (time updates
//! of stored records instead of creations). See docs/BENCHMARKS.md.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::upsert::excluded;
use opcoord::auth::claims::{Access, Scope};
use opcoord::auth::Auth;
use opcoord::config::Settings;
use opcoord::db::schema::interceptions::{self, dsl as t};
use opcoord::db::{migrate, Database, DbConn};
use opcoord::domain::interception::{self, CheckedInterception, InterceptionInput};
use serde_json::{json, Value};

/// Items per HTTP batch and per raw transaction.
const BATCH: usize = 500;
/// Run parameters, from the environment.
struct Params {
    items: usize,
    clients: usize,
    rounds: usize,
    /// `BENCH_BATCHES=mixed`: batches of consecutive items, every country in each; otherwise
    /// each batch holds one country's items, as each national system pushes its own results.
    mixed: bool,
    /// `BENCH_UPDATES=1`: the timed writes change records stored (untimed) just before, so the
    /// API keeps each replaced version and the raw upsert updates in place.
    updates: bool,
}

/// Request bodies (item count, JSON) and the same items checked, for the raw writers.
type Workload = (Vec<(usize, String)>, Vec<CheckedInterception>);

/// What a round writes: optionally a workload stored first, untimed, then the timed one.
struct Work {
    first: Option<Workload>,
    timed: Workload,
}

/// The items cut into batches of at most [`BATCH`]. Per country, batches of that country's
/// items, taken in turn from each country, so concurrent batches come from different national
/// systems; or, `mixed`, consecutive items whatever their country.
fn batches(items: &[Value], mixed: bool) -> Vec<Vec<Value>> {
    if mixed {
        return items.chunks(BATCH).map(<[Value]>::to_vec).collect();
    }
    let mut by_country: std::collections::BTreeMap<&str, Vec<Value>> = std::collections::BTreeMap::new();
    for item in items {
        let country = item["country"].as_str().unwrap_or_default();
        by_country.entry(country).or_default().push(item.clone());
    }
    let mut queues: Vec<Vec<Vec<Value>>> = by_country
        .into_values()
        .map(|all| all.chunks(BATCH).rev().map(<[Value]>::to_vec).collect())
        .collect();
    let mut out = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        for queue in &mut queues {
            out.extend(queue.pop());
        }
    }
    out
}

/// Checks an item with the service's own rules: the content the API would store.
fn check(item: &Value) -> CheckedInterception {
    let input: InterceptionInput = serde_json::from_value(item.clone()).expect("item has the input shape");
    let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 9, d).expect("a September day");
    input
        .check(None, interception::window(day(1), day(30)))
        .expect("generated item is valid")
}

/// One interceptions row for the raw insert: what the service's `store` writes for a new item.
#[derive(Insertable)]
#[diesel(table_name = interceptions)]
struct NewRow {
    operation_id: String,
    country: String,
    external_ref: String,
    kind: &'static str,
    occurred_at: NaiveDateTime,
    body: String,
    content_hash: String,
    version: i64,
    deleted: bool,
    reported_by_sub: &'static str,
    reported_by_jti: &'static str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl NewRow {
    /// The row of a checked item under operation `op`, as the API stores it on first push.
    fn of(op: &str, checked: &CheckedInterception, at: NaiveDateTime) -> NewRow {
        let content = &checked.content;
        NewRow {
            operation_id: op.to_string(),
            country: checked.country.clone(),
            external_ref: checked.external_ref.clone(),
            kind: content.content.kind.as_str(),
            occurred_at: content.content.occurred_at.naive_utc(),
            body: content.json.clone(),
            content_hash: content.hash.clone(),
            version: 1,
            deleted: false,
            reported_by_sub: "bench",
            reported_by_jti: "bench-raw",
            created_at: at,
            updated_at: at,
        }
    }
}

/// Upserts one chunk the way the service's `store` does: multi-row on PostgreSQL, row by row
/// on SQLite, inside the caller's transaction.
fn upsert_chunk(conn: &mut DbConn, chunk: &[NewRow]) -> opcoord::error::Result<()> {
    macro_rules! upsert {
        ($c:expr, $values:expr) => {
            diesel::insert_into(t::interceptions)
                .values($values)
                .on_conflict((t::operation_id, t::country, t::external_ref))
                .do_update()
                .set((
                    t::kind.eq(excluded(t::kind)),
                    t::occurred_at.eq(excluded(t::occurred_at)),
                    t::body.eq(excluded(t::body)),
                    t::content_hash.eq(excluded(t::content_hash)),
                    t::version.eq(excluded(t::version)),
                    t::deleted.eq(excluded(t::deleted)),
                    t::reported_by_sub.eq(excluded(t::reported_by_sub)),
                    t::reported_by_jti.eq(excluded(t::reported_by_jti)),
                    t::updated_at.eq(excluded(t::updated_at)),
                ))
                .execute($c)
        };
    }
    match conn {
        DbConn::Postgres(c) => {
            upsert!(c, chunk)?;
        }
        DbConn::Sqlite(c) => {
            for row in chunk {
                upsert!(c, row)?;
            }
        }
    }
    Ok(())
}

/// Runs `work` on `threads` threads and times it from the moment all of them have passed the
/// barrier (each does its untimed setup first) until the last one ends. `work` takes jobs by
/// number from the counter.
fn timed(threads: usize, work: impl Fn(&Barrier, &AtomicUsize) + Sync) -> Duration {
    let (start, next) = (Barrier::new(threads + 1), AtomicUsize::new(0));
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads).map(|_| s.spawn(|| work(&start, &next))).collect();
        start.wait();
        let began = Instant::now();
        workers.into_iter().for_each(|w| w.join().expect("worker thread"));
        began.elapsed()
    })
}

/// CPU time used so far, in seconds: by the service process, by this process (the clients and
/// the raw writers run in it), and by every PostgreSQL process of the machine (`/proc/*/stat`).
#[derive(Debug, Clone, Copy, Default)]
struct CpuTime {
    service: f64,
    bench: f64,
    postgres: f64,
}

/// CPU µs per item: in the service, in this process (clients or raw writers), in PostgreSQL.
type CpuPerItem = (f64, f64, f64);

/// The command name and CPU seconds (user + system) of a `/proc/<pid>/stat` line.
fn cpu_of(stat: &str) -> Option<(String, f64)> {
    // utime and stime are fields 14 and 15, after the command in parentheses.
    let (head, rest) = stat.rsplit_once(") ")?;
    let comm = head.split_once(" (")?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    const TICKS_PER_SECOND: f64 = 100.0;
    Some((comm, (utime + stime) / TICKS_PER_SECOND))
}

impl CpuTime {
    fn now(service: u32) -> CpuTime {
        let read = |path: String| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|s| cpu_of(&s))
                .map_or(0.0, |c| c.1)
        };
        let mut postgres = 0.0;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Some((comm, seconds)) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| cpu_of(&s))
            {
                if comm.starts_with("postgres") {
                    postgres += seconds;
                }
            }
        }
        CpuTime {
            service: read(format!("/proc/{service}/stat")),
            bench: read("/proc/self/stat".into()),
            postgres,
        }
    }

    fn per_item_since(before: CpuTime, service: u32, items: usize) -> CpuPerItem {
        let now = CpuTime::now(service);
        let per = |s: f64| s * 1e6 / items.max(1) as f64;
        (
            per(now.service - before.service),
            per(now.bench - before.bench),
            per(now.postgres - before.postgres),
        )
    }
}

/// Pushes every batch through the API from `clients` threads, then folds what the writes left in
/// the tally delta log (PostgreSQL), so the time counts every cell the API had to write; returns
/// items per second.
fn api_run(
    addr: SocketAddr,
    db: &Database,
    token: &str,
    op: &str,
    bodies: &[(usize, String)],
    clients: usize,
    expect: &str,
) -> f64 {
    let path = format!("/v1/operations/{op}/interceptions/batch");
    let elapsed = timed(clients, |start, next| {
        let client = Client::connect(addr);
        start.wait(); // even on failure, so the others are not left waiting
        let mut client = client.expect("connect to the service");
        while let Some((count, body)) = bodies.get(next.fetch_add(1, Ordering::Relaxed)) {
            let reply = client.expect("POST", &path, token, body.as_bytes(), 200);
            assert_eq!(reply["summary"]["rejected"], 0, "rejected items: {}", reply["results"]);
            assert_eq!(reply["summary"][expect], *count, "summary: {}", reply["summary"]);
        }
    });
    let elapsed = elapsed + fold_pending(db).1;
    bodies.iter().map(|(n, _)| n).sum::<usize>() as f64 / elapsed.as_secs_f64()
}

/// Upserts the same rows with plain diesel from `threads` connections, one transaction per
/// chunk of [`BATCH`]; returns items per second.
fn raw_run(db: &Database, op: &str, checked: &[CheckedInterception], threads: usize) -> f64 {
    let at = opcoord::db::now();
    let rows: Vec<NewRow> = checked.iter().map(|c| NewRow::of(op, c, at)).collect();
    let chunks: Vec<&[NewRow]> = rows.chunks(BATCH).collect();
    let elapsed = timed(threads, |start, next| {
        let mut waited = false;
        let done = db.with_conn(|conn| {
            waited = true;
            start.wait();
            while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                conn.write(|conn| upsert_chunk(conn, chunk))?;
            }
            Ok(())
        });
        if !waited {
            start.wait(); // no connection: release the others before failing
        }
        done.expect("raw upsert")
    });
    rows.len() as f64 / elapsed.as_secs_f64()
}

/// Rows stored under an operation, to check a run stored everything.
fn stored(db: &Database, op: &str) -> i64 {
    db.with_conn(|conn| {
        let query = t::interceptions.filter(t::operation_id.eq(op)).count();
        Ok(opcoord::on_backend!(conn, c => query.get_result::<i64>(c))?)
    })
    .expect("count rows")
}

/// Rows the API wrote besides the interceptions of an operation: commits (one per batch),
/// audit entries and tally cells.
fn side_rows(db: &Database, op: &str) -> (i64, i64, i64) {
    use opcoord::db::schema::{audit_log, commits, tally_cells};
    db.with_conn(|conn| {
        Ok(opcoord::on_backend!(conn, c => (
            commits::table.filter(commits::operation_id.eq(op)).count().get_result::<i64>(c)?,
            audit_log::table.filter(audit_log::operation_id.eq(op)).count().get_result::<i64>(c)?,
            tally_cells::table.filter(tally_cells::operation_id.eq(op)).count().get_result::<i64>(c)?,
        )))
    })
    .expect("count commits, audit entries and tally cells")
}

/// The service's write-phase timers (`opcoord_write_phase_seconds_sum` in `/metrics`), seconds
/// per phase.
fn phase_totals(addr: SocketAddr) -> Vec<(String, f64)> {
    let mut client = Client::connect(addr).expect("connect");
    let (_, body) = client.send("GET", "/metrics", "", b"").expect("metrics");
    String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|line| {
            if let Some(value) = line.strip_prefix("opcoord_tally_fold_seconds_sum ") {
                return Some(("fold*".to_string(), value.trim().parse().ok()?));
            }
            let rest = line.strip_prefix("opcoord_write_phase_seconds_sum{phase=\"")?;
            let (phase, value) = rest.split_once("\"} ")?;
            Some((phase.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Where the write path's time went in this backend's API runs: the service's own phase timers,
/// per phase, as wall-clock time summed over the concurrent writes (so phases that wait on a
/// lock show the wait). `fold*` is the service's folder of the tally log, running beside the
/// writes (PostgreSQL; folds the benchmark itself ran at the end are not in it).
fn print_phases(before: &[(String, f64)], after: &[(String, f64)], items: usize) {
    let spent: Vec<(&str, f64)> = after
        .iter()
        .map(|(name, sum)| {
            let earlier = before.iter().find(|(n, _)| n == name).map_or(0.0, |(_, s)| *s);
            (name.as_str(), sum - earlier)
        })
        .collect();
    let total: f64 = spent
        .iter()
        .filter(|(name, _)| !name.ends_with('*'))
        .map(|(_, s)| s)
        .sum();
    println!("  write path, summed over concurrent writes ({items} items):");
    for (name, seconds) in spent {
        println!(
            "    {name:<7} {:>8.1} ms  {:>5.1}%  {:>6.1} µs/item",
            seconds * 1000.0,
            100.0 * seconds / total.max(f64::MIN_POSITIVE),
            seconds * 1e6 / items.max(1) as f64
        );
    }
}

/// Starts `opcoord serve` as a process of its own on a free 127.0.0.1 port; runs the rounds;
/// stops it. Returns (API, raw) items per second, and the CPU per item of each, for each round.
fn run_backend(settings: Settings, params: &Params, work: &Work) -> Vec<Round> {
    let (bodies, checked) = (&work.timed.0[..], &work.timed.1[..]);
    let db = Database::open(&settings).expect("open the database");
    db.with_conn(migrate::run_pending).expect("migrate");
    // What-if experiments (an extra index, say) without touching the migrations.
    if let Some(sql) = std::env::var("BENCH_SETUP_SQL").ok().filter(|s| !s.is_empty()) {
        let run = |conn: &mut DbConn| Ok(opcoord::on_backend!(conn, c => c.batch_execute(&sql))?);
        db.with_conn(run).expect("run BENCH_SETUP_SQL");
    }
    let auth = Arc::new(Auth::from_settings(&settings, true).expect("keys"));
    let token = {
        let claims = auth.claims("bench", &Scope::set_of(ALL_SCOPES), &Access::All, &Access::All, 3600);
        auth.sign(&claims).expect("sign")
    };
    let served = Spawned::start(&settings);
    let (addr, pid) = (served.addr, served.pid());
    let phases_before = phase_totals(addr);
    let mut rates = Vec::new();
    for round in 1..=params.rounds {
        let (api_op, raw_op) = (format!("bench-api-{round}"), format!("bench-raw-{round}"));
        // A new connection each round: the server closes one idle past its keep-alive.
        let mut admin = Client::connect(addr).expect("connect");
        for op in [&api_op, &raw_op] {
            let body = json!({"id": op, "name": format!("Benchmark {op}"), "status": "active",
                              "starts_on": "2025-09-01", "ends_on": "2025-09-30"});
            admin.expect("POST", "/v1/operations", &token, body.to_string().as_bytes(), 201);
        }
        // Alternate which goes first, so neither always meets the larger table.
        let n = checked.len();
        // With `BENCH_UPDATES=1` the same items are stored first, untimed, in both operations.
        if let Some((first_bodies, first_checked)) = &work.first {
            api_run(addr, &db, &token, &api_op, first_bodies, params.clients, "created");
            raw_run(&db, &raw_op, first_checked, params.clients);
        }
        let expect = if work.first.is_some() { "updated" } else { "created" };
        let api = || {
            let before = CpuTime::now(pid);
            let rate = api_run(addr, &db, &token, &api_op, bodies, params.clients, expect);
            (rate, CpuTime::per_item_since(before, pid, n))
        };
        let raw = || {
            let before = CpuTime::now(pid);
            let rate = raw_run(&db, &raw_op, checked, params.clients);
            (rate, CpuTime::per_item_since(before, pid, n))
        };
        let ((api, api_cpu), (raw, raw_cpu)) = if round % 2 == 1 {
            (api(), raw())
        } else {
            let raw = raw();
            (api(), raw)
        };
        println!(
            "  round {round}: CPU µs per item: API {:.0} service + {:.0} clients + {:.0} PostgreSQL; \
             raw {:.0} writers + {:.0} PostgreSQL",
            api_cpu.0, api_cpu.1, api_cpu.2, raw_cpu.1, raw_cpu.2
        );
        for op in [&api_op, &raw_op] {
            assert_eq!(stored(&db, op), checked.len() as i64, "rows stored under {op}");
        }
        println!("  round {round}: API {api:>9.0} items/s   raw {raw:>9.0} items/s");
        rates.push(Round {
            api,
            raw,
            api_cpu,
            raw_cpu,
        });
    }
    print_phases(&phases_before, &phase_totals(addr), params.rounds * checked.len());
    let (commits, audit, cells) = side_rows(&db, &format!("bench-api-{}", params.rounds));
    println!("  each API run also wrote {commits} commits, {audit} audit entries and {cells} distinct tally cells");
    println!(
        "  peak resident memory of the service process: {:.0} MB",
        peak_rss_mb(pid)
    );
    served.stop();
    rates
}

/// One round's rates and CPU per item.
struct Round {
    api: f64,
    raw: f64,
    api_cpu: CpuPerItem,
    raw_cpu: CpuPerItem,
}

/// The median of some rates.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    (values[(values.len() - 1) / 2] + values[values.len() / 2]) / 2.0
}

fn main() {
    let params = Params {
        items: env_or("BENCH_ITEMS", 20_000),
        clients: env_or("BENCH_CLIENTS", 4),
        rounds: env_or("BENCH_ROUNDS", 3),
        mixed: std::env::var("BENCH_BATCHES").is_ok_and(|v| v == "mixed"),
        updates: std::env::var("BENCH_UPDATES").is_ok_and(|v| v == "1"),
    };
    let nproc = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "ingest: nproc={nproc} items={} batch={BATCH} clients={} rounds={} batches={} writes={}",
        params.items,
        params.clients,
        params.rounds,
        if params.mixed { "mixed" } else { "country" },
        if params.updates { "updates" } else { "creates" }
    );
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let items: Vec<Value> = (0..params.items).map(|i| interception_item(&mut rng, i)).collect();
    let prepare = |items: &[Value]| -> Workload {
        let checked: Vec<CheckedInterception> = items.iter().map(check).collect();
        let bodies: Vec<(usize, String)> = batches(items, params.mixed)
            .iter()
            .map(|chunk| (chunk.len(), json!({ "items": chunk }).to_string()))
            .collect();
        (bodies, checked)
    };
    let work = if params.updates {
        // Each item again with one more arrest: every item an update of a stored record.
        let changed: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item["arrests"] = json!(item["arrests"].as_i64().unwrap_or(0) + 1);
                item
            })
            .collect();
        Work {
            first: Some(prepare(&items)),
            timed: prepare(&changed),
        }
    } else {
        Work {
            first: None,
            timed: prepare(&items),
        }
    };
    let mb = work.timed.0.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6;
    println!("generated {} items, {mb:.1} MB of request bodies", items.len());

    let mut table = Vec::new();
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = |name: &str| {
        let mut settings = Settings::defaults().expect("default settings");
        settings.data_dir = dir.path().join(name).join("data").to_string_lossy().into_owned();
        settings.pool_size = 16;
        settings
    };
    if std::env::var("BENCH_SQLITE").map_or(true, |v| v != "0") {
        println!("sqlite:");
        let mut sqlite = base("sqlite");
        sqlite.database_url = format!("{}/sqlite/bench.db", dir.path().display());
        table.push(("sqlite", run_backend(sqlite, &params, &work)));
    }

    if let Some(admin_url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        println!("postgres:");
        let rates = in_fresh_schema(&admin_url, |url| {
            let mut postgres = base("postgres");
            postgres.database_url = url;
            run_backend(postgres, &params, &work)
        });
        table.push(("postgres", rates));
    }

    println!("\nbackend    median API items/s   median raw items/s   API/raw   CPU µs/item: API service+PostgreSQL   raw writers+PostgreSQL");
    for (backend, rounds) in table {
        let api = median(rounds.iter().map(|r| r.api).collect());
        let raw = median(rounds.iter().map(|r| r.raw).collect());
        let cpu = |f: fn(&Round) -> f64| median(rounds.iter().map(f).collect());
        println!(
            "{backend:<10} {api:>18.0}   {raw:>18.0}   {:>7.2}   {:>17.0} + {:<10.0}   {:>10.0} + {:.0}",
            api / raw,
            cpu(|r| r.api_cpu.0),
            cpu(|r| r.api_cpu.2),
            cpu(|r| r.raw_cpu.1),
            cpu(|r| r.raw_cpu.2),
        );
    }
}
