//! Seeds the operation the console's first render is measured on: `bench-console`, 119
//! participating countries (one unit each) and `BENCH_ITEMS` interceptions (1,000,000) spread
//! over them, loaded through the service's own batch write (not HTTP), with people of many
//! nationalities so the breakdowns are as wide as a real operation's. Then
//! `tests/system/console_load.py` serves it with the release binary and measures the overview
//! in headless Chromium (docs/CONSOLE.md, "Measured").
//!
//! `cargo bench --bench console`; knobs: `BENCH_CONSOLE_DIR` (target/console-bench: keys, and the
//! SQLite file when no PostgreSQL is given), `BENCH_DATABASE_URL` (a PostgreSQL database to seed
//! instead), `BENCH_ITEMS`, `BENCH_LOAD_THREADS` (2). Seeding an operation that already holds
//! `BENCH_ITEMS` interceptions does nothing.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::sync::Arc;

use common::*;
use diesel::prelude::*;
use opcoord::auth::claims::{Access, Scope};
use opcoord::auth::Auth;
use opcoord::config::Settings;
use opcoord::db::schema::interceptions::dsl as t;
use opcoord::db::{migrate, Database};
use opcoord::AppState;
use serde_json::{json, Value};

/// The operation seeded.
const OP: &str = "bench-console";
/// Countries taking part.
const COUNTRIES: usize = 119;

/// 119 ISO 3166-1 codes, every other one of the standard's list.
fn countries() -> Vec<&'static str> {
    rust_iso3166::ALL
        .iter()
        .map(|c| c.alpha2)
        .filter(|&c| c != "AQ")
        .step_by(2)
        .take(COUNTRIES)
        .collect()
}

/// Item number `i`: the shared generator's record, moved to one of the 119 countries, its
/// people's nationalities drawn from all of them.
fn item(i: usize, codes: &[&str]) -> Value {
    let mut rng = XorShift((0xA076_1D64_78BD_642F ^ (i as u64 + 1).wrapping_mul(0xE703_7ED1_A0B4_28DB)) | 1);
    let mut item = interception_item(&mut rng, i);
    let country = codes[rng.range(0, codes.len() as i64 - 1) as usize];
    item["country"] = json!(country);
    item["external_ref"] = json!(format!("{country}-2025-{i:07}"));
    for who in ["migrants", "victims"] {
        if let Some(Value::Object(by)) = item[who].get("by_nationality").cloned() {
            let counts: Vec<Value> = by.into_iter().map(|(_, n)| n).collect();
            let picked = rng.distinct(codes, counts.len() as i64, counts.len() as i64);
            item[who]["by_nationality"] = Value::Object(picked.into_iter().map(String::from).zip(counts).collect());
        }
    }
    item
}

fn main() {
    let dir = std::env::var("BENCH_CONSOLE_DIR").unwrap_or_else(|_| "target/console-bench".into());
    std::fs::create_dir_all(&dir).expect("the bench folder");
    let items = env_or("BENCH_ITEMS", 1_000_000);
    let threads = env_or("BENCH_LOAD_THREADS", 2);
    let mut settings = Settings::defaults().expect("default settings");
    settings.data_dir = format!("{dir}/data");
    settings.pool_size = 8;
    settings.database_url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("{dir}/console.db"));
    let db = Database::open(&settings).expect("open the database");
    db.with_conn(migrate::run_pending).expect("migrate");
    let auth = Arc::new(Auth::from_settings(&settings, true).expect("keys"));
    let token = auth
        .sign(&auth.claims("bench", &Scope::set_of(ALL_SCOPES), &Access::All, &Access::All, 3600))
        .expect("sign");
    let served = Served::start(AppState::new(db.clone(), settings.clone(), auth), 1);
    let mut client = Client::connect(served.addr).expect("connect");
    let codes = countries();
    let (status, _) = client
        .send("GET", &format!("/v1/operations/{OP}"), &token, b"")
        .expect("HTTP");
    if status == 404 {
        let body = json!({"id": OP, "name": "Benchmark: a large operation", "coordinator": "bench",
                          "status": "active", "starts_on": "2025-09-01", "ends_on": "2025-09-30"});
        client.expect("POST", "/v1/operations", &token, body.to_string().as_bytes(), 201);
        for (n, code) in codes.iter().enumerate() {
            let unit = json!({"country": code, "name": format!("Bench unit {code}"), "kind": "national_central_bureau",
                              "officers_deployed": 20 + (n * 37) % 280});
            client.expect(
                "POST",
                &format!("/v1/operations/{OP}/units"),
                &token,
                unit.to_string().as_bytes(),
                201,
            );
        }
    }
    let held = || {
        db.with_conn(|conn| {
            let query = t::interceptions.filter(t::operation_id.eq(OP)).count();
            Ok(opcoord::on_backend!(conn, c => query.get_result::<i64>(c))?)
        })
        .expect("count rows") as usize
    };
    let before = held();
    if before < items {
        println!(
            "console bench: loading {} interceptions into {OP} ({})",
            items - before,
            settings.database_url
        );
        let took = load(&db, OP, before, items, threads, &|i| item(i, &codes));
        println!("  loaded in {:.0} s", took.as_secs_f64());
    }
    assert_eq!(held(), items, "interceptions held");
    served.stop();
    println!(
        "console bench: {OP} holds {items} interceptions of {COUNTRIES} countries; measure it with\n  \
         python3 tests/system/console_load.py --dir {dir} --database-url {}",
        settings.database_url
    );
}
