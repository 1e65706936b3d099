//! Spreadsheet imports against the JSON batch API, same records, same run: one country's N
//! interceptions (50,000 by default) pushed as JSON batches of 1,000 from one client, imported
//! as one CSV file, and as one XLSX file written by the template code, each into a fresh
//! operation of the same `opcoord serve` process; on SQLite and, when `BENCH_DATABASE_URL` is
//! set, on PostgreSQL. Then the service's peak resident memory while it imports a file of about
//! 20 MB (CSV, then XLSX), each in a freshly started process.
//!
//! `cargo bench --bench imports`; knobs: `BENCH_ROWS` (50000), `BENCH_SQLITE=0` (PostgreSQL
//! only), `BENCH_MEMORY=0` (skip the 20 MB runs). See docs/BENCHMARKS.md.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use common::*;
use opcoord::auth::claims::{Access, Scope};
use opcoord::auth::Auth;
use opcoord::config::Settings;
use opcoord::db::{migrate, Database};
use opcoord::domain::import::template::{self, TemplateOperation};
use serde_json::{json, Value};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Items per JSON batch (the API's largest).
const BATCH: usize = 1000;
/// Seizure categories in the template's column order.
const ORDER: [&str; 12] = [
    "weapons",
    "ammunition",
    "explosives",
    "military_equipment",
    "cash",
    "drugs",
    "vehicles",
    "vessels",
    "documents",
    "bank_cards",
    "electronics",
    "other",
];

/// A generated item as one country's record that a row can say exactly: SN's, its seizures in
/// the template's column order, several of one counted category added together, and notes
/// padded by `pad` characters (to make files of a given size).
fn record(rng: &mut XorShift, i: usize, pad: usize) -> Value {
    let mut item = interception_item(rng, i);
    item["country"] = json!("SN");
    item["external_ref"] = json!(format!("SN-2025-{i:07}"));
    let mut seizures: Vec<Value> = Vec::new();
    for category in ORDER {
        let of: Vec<&Value> = item["seizures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["category"] == category)
            .collect();
        if category == "cash" || category == "drugs" {
            seizures.extend(of.into_iter().cloned());
        } else if !of.is_empty() {
            let quantity: f64 = of.iter().map(|s| s["quantity"].as_f64().unwrap_or(0.0)).sum();
            seizures.push(json!({"category": category, "quantity": quantity}));
        }
    }
    item["seizures"] = json!(seizures);
    if pad > 0 {
        let note = item["notes"].as_str().unwrap_or("notes").to_string();
        item["notes"] = json!(format!("{note} {}", "x".repeat(pad)));
    }
    item
}

/// A cell of a row: text, or a number (a workbook stores numbers as numbers).
enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

fn pairs(map: &Value) -> String {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The row of a record, by the template's columns.
fn row(item: &Value) -> Vec<Cell> {
    let number = |v: &Value| v.as_f64().map_or(Cell::Empty, Cell::Number);
    let text = |v: &Value| v.as_str().map_or(Cell::Empty, |s| Cell::Text(s.to_string()));
    template::header()
        .iter()
        .map(|column| match column.as_str() {
            "external_ref" | "kind" | "occurred_at" | "notes" => text(&item[column.as_str()]),
            "place" => text(&item["location"]["place"]),
            "lat" | "lon" => number(&item["location"][column.as_str()]),
            "arrests" | "investigations_opened" => number(&item[column.as_str()]),
            name => {
                let (group, part) = name.split_once('_').unwrap_or((name, ""));
                match group {
                    "migrants" | "victims" => match part {
                        "nationality" if item[group]["by_nationality"].is_object() => {
                            Cell::Text(pairs(&item[group]["by_nationality"]))
                        }
                        "total" | "children" | "female" | "male" => number(&item[group][part]),
                        "other_exploitation" => number(&item[group]["by_exploitation"]["other"]),
                        form => number(&item[group]["by_exploitation"][form]),
                    },
                    "seizures" => {
                        let of: Vec<&Value> = item["seizures"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|s| s["category"] == part)
                            .collect();
                        match (part, of.as_slice()) {
                            (_, []) => Cell::Empty,
                            ("cash" | "drugs", of) => Cell::Text(
                                of.iter()
                                    .map(|s| format!("{} {}", s["quantity"], s["unit"].as_str().unwrap_or("")))
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ),
                            (_, [one]) => number(&one["quantity"]),
                            _ => Cell::Empty,
                        }
                    }
                    _ => Cell::Empty,
                }
            }
        })
        .collect()
}

fn csv_file(items: &[Value]) -> Vec<u8> {
    let mut rows = vec![template::header()];
    for item in items {
        rows.push(
            row(item)
                .into_iter()
                .map(|cell| match cell {
                    Cell::Text(s) => s,
                    Cell::Number(n) => format!("{n}"),
                    Cell::Empty => String::new(),
                })
                .collect(),
        );
    }
    opcoord::domain::import::csv::write(&rows).expect("csv")
}

fn about() -> TemplateOperation {
    TemplateOperation {
        id: "bench".into(),
        name: "Benchmark".into(),
        starts_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
        ends_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
    }
}

/// The template filled in with the records from its third row (the example stays on the second).
fn xlsx_file(items: &[Value]) -> Vec<u8> {
    let mut workbook = template::workbook(&about()).expect("template");
    let sheet = workbook.worksheet_from_name("interceptions").expect("sheet");
    for (r, item) in items.iter().enumerate() {
        for (c, cell) in row(item).into_iter().enumerate() {
            let (r, c) = (r as u32 + 2, c as u16);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).expect("cell");
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, n).expect("cell");
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save_to_buffer().expect("xlsx")
}

fn create_operation(addr: SocketAddr, token: &str, op: &str) {
    let body = json!({"id": op, "name": format!("Benchmark {op}"), "status": "active",
                      "starts_on": "2025-09-01", "ends_on": "2025-09-30"});
    Client::connect(addr)
        .expect("connect")
        .expect("POST", "/v1/operations", token, body.to_string().as_bytes(), 201);
}

/// Pushes the records as JSON batches from one client; rows per second.
fn json_run(addr: SocketAddr, token: &str, op: &str, items: &[Value]) -> f64 {
    let bodies: Vec<String> = items
        .chunks(BATCH)
        .map(|chunk| json!({ "items": chunk }).to_string())
        .collect();
    let mut client = Client::connect(addr).expect("connect");
    let path = format!("/v1/operations/{op}/interceptions/batch");
    let began = Instant::now();
    for body in &bodies {
        let reply = client.expect("POST", &path, token, body.as_bytes(), 200);
        assert_eq!(reply["summary"]["rejected"], 0, "{}", reply["results"]);
    }
    items.len() as f64 / began.elapsed().as_secs_f64()
}

/// Imports one file; rows per second.
fn import_run(addr: SocketAddr, token: &str, op: &str, media_type: &str, file: &[u8], rows: usize) -> f64 {
    let mut client = Client::connect(addr).expect("connect");
    let path = format!("/v1/operations/{op}/imports?country=SN");
    let began = Instant::now();
    let (status, body) = client
        .send_typed("POST", &path, token, media_type, file)
        .expect("import");
    let took = began.elapsed().as_secs_f64();
    let reply: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text: String = String::from_utf8_lossy(&body).chars().take(800).collect();
    assert_eq!(status, 201, "{text}");
    assert_eq!(reply["summary"]["created"], rows, "{text}");
    rows as f64 / took
}

fn token_for(settings: &Settings) -> String {
    let auth = Arc::new(Auth::from_settings(settings, true).expect("keys"));
    let claims = auth.claims("bench", &Scope::set_of(ALL_SCOPES), &Access::All, &Access::All, 3600);
    auth.sign(&claims).expect("sign")
}

/// JSON, CSV and XLSX into fresh operations of one service; rows per second of each.
fn rates(settings: &Settings, items: &[Value], csv: &[u8], xlsx: &[u8]) -> (f64, f64, f64) {
    let db = Database::open(settings).expect("open the database");
    db.with_conn(migrate::run_pending).expect("migrate");
    let token = token_for(settings);
    let served = Spawned::start(settings);
    let addr = served.addr;
    for op in ["bench-json", "bench-csv", "bench-xlsx"] {
        create_operation(addr, &token, op);
    }
    let json = json_run(addr, &token, "bench-json", items);
    println!("  JSON batches of {BATCH}: {json:>8.0} rows/s");
    let csv_rate = import_run(addr, &token, "bench-csv", "text/csv", csv, items.len());
    println!(
        "  CSV import:            {csv_rate:>8.0} rows/s  ({:.2} of JSON)",
        csv_rate / json
    );
    let xlsx_rate = import_run(addr, &token, "bench-xlsx", XLSX, xlsx, items.len());
    println!(
        "  XLSX import:           {xlsx_rate:>8.0} rows/s  ({:.2} of JSON)",
        xlsx_rate / json
    );
    // The imports stored exactly what the batches did: each file sent again to the operation
    // the JSON batches filled finds every row unchanged.
    for (media_type, file) in [("text/csv", csv), (XLSX, xlsx)] {
        let mut client = Client::connect(addr).expect("connect");
        let path = "/v1/operations/bench-json/imports?country=SN";
        let began = Instant::now();
        let (status, body) = client
            .send_typed("POST", path, &token, media_type, file)
            .expect("import");
        let reply: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 201, "{reply}");
        assert_eq!(reply["summary"]["unchanged"], items.len(), "{}", reply["summary"]);
        println!(
            "  {media_type} again onto the JSON-pushed records: all {} unchanged ({:.0} rows/s)",
            items.len(),
            items.len() as f64 / began.elapsed().as_secs_f64()
        );
    }
    served.stop();
    (json, csv_rate, xlsx_rate)
}

/// Peak resident memory of a fresh service importing one file.
fn memory(settings: &Settings, label: &str, media_type: &str, file: &[u8], rows: usize) -> f64 {
    let token = token_for(settings);
    let served = Spawned::start(settings);
    let op = format!("bench-mem-{label}");
    create_operation(served.addr, &token, &op);
    let before = peak_rss_mb(served.pid());
    let rate = import_run(served.addr, &token, &op, media_type, file, rows);
    let peak = peak_rss_mb(served.pid());
    println!(
        "  {label}: {:.1} MB file, {rows} rows, {rate:.0} rows/s; service peak RSS {peak:.0} MB (idle {before:.0} MB)",
        file.len() as f64 / 1e6
    );
    served.stop();
    peak
}

fn run_backend(settings: Settings, items: &[Value], csv: &[u8], xlsx: &[u8], big: &Option<(Vec<u8>, Vec<u8>, usize)>) {
    let (json, csv_rate, xlsx_rate) = rates(&settings, items, csv, xlsx);
    println!(
        "  => ratio to JSON: CSV {:.2}, XLSX {:.2} (goal >= 0.7)",
        csv_rate / json,
        xlsx_rate / json
    );
    if let Some((big_csv, big_xlsx, rows)) = big {
        memory(&settings, "csv-20mb", "text/csv", big_csv, *rows);
        memory(&settings, "xlsx-20mb", XLSX, big_xlsx, *rows);
    }
}

fn main() {
    let n = env_or("BENCH_ROWS", 50_000);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let items: Vec<Value> = (0..n).map(|i| record(&mut rng, i, 0)).collect();
    let began = Instant::now();
    let csv = csv_file(&items);
    let xlsx = xlsx_file(&items);
    println!(
        "imports: {n} rows; CSV {:.1} MB, XLSX {:.1} MB (written in {:.1} s)",
        csv.len() as f64 / 1e6,
        xlsx.len() as f64 / 1e6,
        began.elapsed().as_secs_f64()
    );
    // Files of about 20 MB (under the 20 MiB limit): 99,000 rows with padded notes (the row
    // limit, 100,000, counts the template's example row too).
    let big = std::env::var("BENCH_MEMORY").map_or(true, |v| v != "0").then(|| {
        let rows = 99_000;
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let plain: Vec<Value> = (0..rows).map(|i| record(&mut rng, i, 0)).collect();
        let per_row = csv_file(&plain).len() / rows;
        let pad = (19_500_000 / rows).saturating_sub(per_row);
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let padded: Vec<Value> = (0..rows).map(|i| record(&mut rng, i, pad)).collect();
        let big_csv = csv_file(&padded);
        let big_xlsx = xlsx_file(&padded);
        println!(
            "20 MB runs: {rows} rows, CSV {:.1} MB, XLSX {:.1} MB",
            big_csv.len() as f64 / 1e6,
            big_xlsx.len() as f64 / 1e6
        );
        (big_csv, big_xlsx, rows)
    });
    let dir = tempfile::tempdir().expect("temporary folder");
    let base = |name: &str| {
        let mut settings = Settings::defaults().expect("default settings");
        settings.data_dir = dir.path().join(name).join("data").to_string_lossy().into_owned();
        settings
    };
    if std::env::var("BENCH_SQLITE").map_or(true, |v| v != "0") {
        println!("sqlite:");
        let mut sqlite = base("sqlite");
        sqlite.database_url = format!("{}/sqlite/bench.db", dir.path().display());
        run_backend(sqlite, &items, &csv, &xlsx, &big);
    }
    if let Some(admin_url) = std::env::var("BENCH_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        println!("postgres:");
        in_fresh_schema(&admin_url, |url| {
            let mut postgres = base("postgres");
            postgres.database_url = url;
            run_backend(postgres, &items, &csv, &xlsx, &big);
        });
    }
}
