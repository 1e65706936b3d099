//! What the benchmark harnesses share: the test data (a seeded generator of realistic
//! interceptions) and a tiny blocking HTTP/1.1 client. Included by each bench with `#[path]`.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opcoord::db::{tally_log, Database};
use opcoord::domain::audit::Writer;
use opcoord::domain::interception::InterceptionInput;
use opcoord::domain::version::IfMatch;
use opcoord::service::interceptions::{push, Item};

use serde_json::{json, Value};

/// Every scope, for the secretariat token.
pub const ALL_SCOPES: &str = "operations:read operations:write units:write interceptions:read interceptions:write \
    tallies:read tallies:write audit:read tokens:issue";
/// Reporting countries: code, a place, its latitude and longitude.
#[rustfmt::skip]
pub const COUNTRIES: [(&str, &str, f64, f64); 30] = [
    ("SN", "Mbour", 14.42, -16.96), ("GM", "Banjul", 13.45, -16.58), ("ML", "Bamako", 12.64, -8.0),
    ("NE", "Agadez", 16.97, 7.99), ("NG", "Lagos", 6.45, 3.39), ("GH", "Accra", 5.6, -0.19),
    ("CI", "Abidjan", 5.35, -4.0), ("MA", "Tanger", 35.77, -5.8), ("DZ", "Oran", 35.7, -0.63),
    ("TN", "Sfax", 34.74, 10.76), ("LY", "Zuwara", 32.93, 12.08), ("EG", "Alexandria", 31.2, 29.92),
    ("ES", "Algeciras", 36.13, -5.45), ("IT", "Lampedusa", 35.5, 12.6), ("GR", "Lesbos", 39.1, 26.55),
    ("TR", "Izmir", 38.42, 27.14), ("FR", "Calais", 50.95, 1.86), ("GB", "Dover", 51.13, 1.31),
    ("DE", "Frankfurt", 50.11, 8.68), ("NL", "Rotterdam", 51.92, 4.48), ("BE", "Zeebrugge", 51.33, 3.2),
    ("PL", "Terespol", 52.08, 23.62), ("RO", "Constanta", 44.17, 28.63), ("BG", "Kapitan Andreevo", 41.72, 26.32),
    ("RS", "Subotica", 46.1, 19.67), ("MK", "Gevgelija", 41.14, 22.5), ("CY", "Larnaca", 34.92, 33.63),
    ("MR", "Nouadhibou", 20.94, -17.04), ("SD", "Port Sudan", 19.6, 37.2), ("ET", "Addis Ababa", 9.0, 38.75),
];
/// Nationalities of the people counted.
pub const NATIONALITIES: [&str; 16] = [
    "SN", "GM", "ML", "GN", "NG", "CI", "SY", "AF", "ER", "SO", "SD", "BD", "PK", "MA", "EG", "ET",
];
/// Kinds, weighted by repetition, each with a typical note.
#[rustfmt::skip]
pub const KINDS: [(&str, &str); 10] = [
    ("sea_departure", "pirogue intercepted at departure"), ("sea_departure", "boat stopped by the coast guard"),
    ("land_border", "lorry stopped at the border crossing"), ("land_border", "hidden compartment found in a van"),
    ("air_border", "forged documents found at passport control"), ("premises", "raid on a nightclub after a tip-off"),
    ("checkpoint", "bus checked at a road checkpoint"), ("checkpoint", "joint patrol with the gendarmerie"),
    ("online", "advertisements traced online"), ("other", "referral from a non-governmental organisation"),
];
/// Forms of exploitation.
#[rustfmt::skip]
pub const EXPLOITATION: [&str; 5] = ["sexual_exploitation", "forced_labour", "forced_begging", "forced_criminality", "child_labour"];

/// A positive number from the environment, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    let value = std::env::var(name).ok().and_then(|v| v.parse().ok());
    value.filter(|&v| v > 0).unwrap_or(default)
}

/// Marsaglia's xorshift64: deterministic, good enough for test data.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: i64) -> bool {
        self.range(0, 99) < percent
    }

    /// `lo..=hi` distinct entries of `from`.
    pub fn distinct<'a>(&mut self, from: &[&'a str], lo: i64, hi: i64) -> Vec<&'a str> {
        let mut pool = from.to_vec();
        (0..(self.range(lo, hi) as usize).min(pool.len()))
            .map(|_| pool.swap_remove(self.range(0, pool.len() as i64 - 1) as usize))
            .collect()
    }
}

/// Splits up to `total` among `keys` (some may stay unknown).
pub fn split(rng: &mut XorShift, total: i64, keys: &[&str]) -> Value {
    let mut left = total - rng.range(0, total / 10);
    let mut map = serde_json::Map::new();
    for (i, key) in keys.iter().enumerate() {
        let share = rng.range(0, left / 2 + 1).min(left);
        let n = if i + 1 == keys.len() { left } else { share };
        left -= n;
        map.insert((*key).to_string(), json!(n));
    }
    Value::Object(map)
}

/// One realistic batch item, number `i`.
pub fn interception_item(rng: &mut XorShift, i: usize) -> Value {
    let (country, place, lat, lon) = COUNTRIES[rng.range(0, 29) as usize];
    let (kind, note) = KINDS[rng.range(0, 9) as usize];
    let mut item = json!({
        "country": country, "external_ref": format!("{country}-2025-{i:07}"), "kind": kind,
        "occurred_at": format!("2025-09-{:02}T{:02}:{:02}:00Z", rng.range(1, 30), rng.range(0, 23), rng.range(0, 59)),
        "location": if rng.chance(70) { json!({"place": place, "lat": lat, "lon": lon}) } else { json!({"place": place}) },
        "arrests": rng.range(0, 8), "investigations_opened": rng.range(0, 3),
    });
    if rng.chance(75) {
        let total = rng.range(1, if kind == "sea_departure" { 300 } else { 40 });
        let female = rng.range(0, total / 2);
        let nationalities = rng.distinct(&NATIONALITIES, 2, 4);
        item["migrants"] = json!({"total": total, "children": rng.range(0, total / 4), "female": female,
            "male": total - female - rng.range(0, total / 10), "by_nationality": split(rng, total, &nationalities)});
    }
    if rng.chance(30) {
        let total = rng.range(1, 20);
        let female = rng.range(0, total);
        let nationalities = rng.distinct(&NATIONALITIES, 1, 2);
        let forms = rng.distinct(&EXPLOITATION, 1, 2);
        item["victims"] = json!({"total": total, "children": rng.range(0, total), "female": female,
            "male": total - female, "by_nationality": split(rng, total, &nationalities),
            "by_exploitation": split(rng, total, &forms)});
    } else if rng.chance(50) {
        item["victims"] = json!({"total": 0});
    }
    let seizures: Vec<Value> = (0..rng.range(0, 3))
        .map(|_| match rng.range(0, 5) {
            0 => json!({"category": "cash", "quantity": rng.range(100, 50_000), "unit": "EUR"}),
            1 => json!({"category": "cash", "quantity": rng.range(100, 50_000), "unit": "USD"}),
            2 => json!({"category": "drugs", "quantity": rng.range(5, 2000) as f64 / 10.0, "unit": "kg"}),
            3 => json!({"category": "vehicles", "quantity": rng.range(1, 4)}),
            4 => json!({"category": "documents", "quantity": rng.range(1, 30)}),
            _ => json!({"category": "vessels", "quantity": 1}),
        })
        .collect();
    item["seizures"] = json!(seizures);
    if rng.chance(80) {
        item["notes"] = json!(note);
    }
    item
}

/// Interceptions per write transaction while loading.
pub const CHUNK: usize = 1000;

/// Stores items `item(from)..item(to)` under the operation `op` (its window the whole of
/// September 2025) from `threads` threads, [`CHUNK`] per write transaction, through the write
/// use case a push goes through (validation, records, tally cells, feed positions, audit).
pub fn load(
    db: &Database,
    op: &str,
    from: usize,
    to: usize,
    threads: usize,
    item: &(dyn Fn(usize) -> Value + Sync),
) -> Duration {
    let writer = Writer {
        sub: "bench-loader".into(),
        jti: "bench".into(),
    };
    let chunks: Vec<(usize, usize)> = (from..to).step_by(CHUNK).map(|s| (s, (s + CHUNK).min(to))).collect();
    let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let began = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                db.with_conn(|conn| {
                    while let Some(&(lo, hi)) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let items: Vec<Item> = (lo..hi)
                            .enumerate()
                            .map(|(index, i)| Item {
                                index,
                                key: None,
                                input: Ok(serde_json::from_value::<InterceptionInput>(item(i)).expect("input shape")),
                                external_ref: None,
                                if_match: IfMatch::Absent,
                            })
                            .collect();
                        let report = push(conn, op, items, true, &writer, &|_| Ok(()))?;
                        if let Some(refused) = report.items.into_iter().find(|o| o.outcome.is_err()) {
                            panic!("item {} of chunk {lo}: {:?}", refused.index, refused.outcome.err());
                        }
                        let stored = done.fetch_add(hi - lo, Ordering::Relaxed) + hi - lo;
                        if stored % 100_000 < CHUNK {
                            let secs = began.elapsed().as_secs_f64();
                            println!(
                                "    loaded {stored:>9} more ({:>9} in all) in {secs:>6.0} s ({:.0} items/s)",
                                from + stored,
                                stored as f64 / secs
                            );
                        }
                    }
                    Ok(())
                })
                .expect("load interceptions")
            });
        }
    });
    began.elapsed()
}

/// A tiny blocking HTTP/1.1 client over one keep-alive connection.
pub struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    host: String,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let writer = TcpStream::connect(addr)?;
        writer.set_nodelay(true)?;
        let reader = BufReader::new(writer.try_clone()?);
        let host = addr.to_string();
        Ok(Client { writer, reader, host })
    }

    /// Sends one request and reads the status and the body (framed by `Content-Length`).
    pub fn send(&mut self, method: &str, path: &str, token: &str, body: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        self.send_typed(method, path, token, "application/json", body)
    }

    /// Sends one request with a body of this media type and reads the status and the body.
    pub fn send_typed(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.writer.write_all(&request)?;
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        let status = status.ok_or_else(|| bad(format!("bad status line {line:?}")))?;
        let mut length = None;
        // Headers up to the empty line (or the end of the stream, which leaves no length).
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            match line.trim_end().split_once(':') {
                Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                    length = value.trim().parse().ok()
                }
                Some(_) => {}
                None => break,
            }
        }
        let mut body = vec![0; length.ok_or_else(|| bad("response without Content-Length".into()))?];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }

    /// Sends a request that must answer `expected`, returning the JSON body.
    pub fn expect(&mut self, method: &str, path: &str, token: &str, body: &[u8], expected: u16) -> Value {
        let (status, reply) = self.send(method, path, token, body).expect("HTTP exchange");
        let text: String = String::from_utf8_lossy(&reply).chars().take(600).collect();
        assert_eq!(status, expected, "{method} {path}: {text}");
        serde_json::from_slice(&reply).expect("JSON body")
    }
}

/// A server of the real application on a free loopback port, run on its own thread.
pub struct Served {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

impl Served {
    /// Serves `state` with `workers` HTTP workers (0: one per core).
    pub fn start(state: opcoord::AppState, workers: usize) -> Served {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut server = actix_web::HttpServer::new(move || opcoord::app(state.clone()));
                if workers > 0 {
                    server = server.workers(workers);
                }
                let server = server.bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
                let addr = server.addrs()[0];
                let running = server.run();
                tx.send((addr, running.handle())).expect("hand over the handle");
                running.await.expect("server");
            })
        });
        let (addr, handle) = rx.recv().expect("server started");
        Served { addr, handle, thread }
    }

    /// Stops it, letting requests in flight finish.
    pub fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        self.thread.join().expect("server thread");
    }
}

/// Folds the whole tally log (PostgreSQL; nothing to do on SQLite), waiting whenever a
/// service's own folder holds the turn; returns the rows folded here and the time it took.
pub fn fold_pending(db: &Database) -> (i64, Duration) {
    let began = Instant::now();
    let mut rows = 0;
    loop {
        rows += db
            .with_conn(|c| tally_log::fold_all(c, tally_log::FOLD_CELLS))
            .expect("fold the tally log")
            .rows;
        if db.with_conn(tally_log::pending).expect("pending differences") == 0 {
            return (rows, began.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` with a URL of a fresh schema `bench_<uuid>` in the PostgreSQL database at
/// `admin_url`, and drops the schema afterwards, also when `f` panics.
pub fn in_fresh_schema<T>(admin_url: &str, f: impl FnOnce(String) -> T) -> T {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(admin_url).expect("connect to BENCH_DATABASE_URL");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create schema");
    let glue = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{glue}options=-csearch_path%3D{schema}");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(url)));
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .expect("drop schema");
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The real `opcoord serve` binary, started as a process of its own on a free loopback port, so
/// its memory and CPU can be read apart from the clients' (from `/proc/<pid>`).
#[allow(dead_code)] // used by the ingest benchmark only
pub struct Spawned {
    /// Where it listens.
    pub addr: SocketAddr,
    child: std::process::Child,
}

#[allow(dead_code)]
impl Spawned {
    /// Starts `opcoord serve` with these settings (database, data folder, pool size) and waits
    /// until it answers `/readyz`.
    pub fn start(settings: &opcoord::config::Settings) -> Spawned {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .arg("serve")
            .env("DATABASE_URL", &settings.database_url)
            .env("OPCOORD_BIND", addr.to_string())
            .env("OPCOORD_DATA_DIR", &settings.data_dir)
            .env("OPCOORD_POOL_SIZE", settings.pool_size.to_string())
            .env("OPCOORD_LOG_LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start opcoord serve");
        for _ in 0..300 {
            if let Ok(mut client) = Client::connect(addr) {
                if matches!(client.send("GET", "/readyz", "", b""), Ok((200, _))) {
                    return Spawned { addr, child };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("opcoord serve did not become ready on {addr}");
    }

    /// The process id, to read its `/proc` files.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it (SIGTERM, then waits).
    pub fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// The peak resident memory of a process so far, in MB.
pub fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
