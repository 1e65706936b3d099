//! Observability: request ids, one log line per request, and Prometheus metrics.
//!
//! Every request gets an `X-Request-Id` (the caller's, when it sends a sane one, else a new
//! UUID), echoed in the response, written in every log line made while the request is handled
//! and in problem bodies. Tokens never reach a log line: only the method, the route template,
//! the status, the duration and the id are written.

use std::sync::LazyLock;
use std::time::Instant;

use crate::AppState;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The id of the request being handled on this task.
    static CURRENT_ID: String;
}

/// The id of the request being handled, if any (for log lines and problem bodies).
pub fn current_request_id() -> Option<String> {
    CURRENT_ID.try_with(Clone::clone).ok()
}

/// The metrics of this process.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    ingested: IntCounterVec,
    phases: HistogramVec,
    retries: IntCounterVec,
    folded: IntCounterVec,
    fold_seconds: prometheus::Histogram,
}

/// The phases of a write of interceptions, timed into `opcoord_write_phase_seconds`: where the
/// time of the write path goes, in production as in the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum WritePhase {
    /// Reading and checking the items, before any transaction.
    Check,
    /// Opening the transaction and waiting for the countries' locks.
    Lock,
    /// Reading the operation and what is stored under the keys.
    Load,
    /// Deciding each item and working out its tally differences.
    Decide,
    /// Storing the records.
    Store,
    /// Adding the tally differences (and, on the careful path, reading the cells first).
    Cells,
    /// Who reported, and the days reported (the reporting board's rows).
    Report,
    /// The feed positions and the audit entries, and the commit.
    Tail,
}

/// Times the phases of one write: each [`lap`](PhaseClock::lap) records the time since the last.
pub struct PhaseClock(Instant);

impl PhaseClock {
    /// Starts timing.
    pub fn start() -> PhaseClock {
        PhaseClock(Instant::now())
    }

    /// Records the time since the last lap under `phase`.
    pub fn lap(&mut self, phase: WritePhase) {
        let now = Instant::now();
        METRICS
            .phases
            .with_label_values(&[<&'static str>::from(phase)])
            .observe((now - self.0).as_secs_f64());
        self.0 = now;
    }
}

/// The process-wide metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "opcoord_http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "opcoord_http_request_duration_seconds",
                "HTTP request latency by route template and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let pool = IntGaugeVec::new(
            Opts::new("opcoord_db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let ingested = IntCounterVec::new(
            Opts::new("opcoord_items_ingested_total", "Interceptions received, by result"),
            &["result"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let phases = HistogramVec::new(
            HistogramOpts::new(
                "opcoord_write_phase_seconds",
                "Time of each phase of a write of interceptions (check, lock, load, decide, store, cells, report, tail)",
            )
            .buckets(vec![
                0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
            &["phase"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let retries = IntCounterVec::new(
            Opts::new(
                "opcoord_write_retries_total",
                "Writes of interceptions done a second time under the countries' exclusive locks, by reason \
                 (contended: a record changed under a side-by-side write; deadlock; database_error: another \
                 error of the database; cell_range: a tally cell would have left its range)",
            ),
            &["reason"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let folded = IntCounterVec::new(
            Opts::new(
                "opcoord_tally_folded_total",
                "Tally differences folded from the delta log into the cells (PostgreSQL): rows of the log, cell rows written",
            ),
            &["what"],
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        let fold_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new("opcoord_tally_fold_seconds", "Time of each fold of the tally delta log")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
        )
        .unwrap_or_else(|e| panic!("metric definition: {e}"));
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(ingested.clone()),
            Box::new(phases.clone()),
            Box::new(retries.clone()),
            Box::new(folded.clone()),
            Box::new(fold_seconds.clone()),
        ] {
            registry
                .register(collector)
                .unwrap_or_else(|e| panic!("metric registration: {e}"));
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            ingested,
            phases,
            retries,
            folded,
            fold_seconds,
        }
    }

    /// Counts a fold of the tally delta log: its rows, the cell rows it wrote, and its time.
    pub fn tally_folded(&self, rows: i64, cells: i64, seconds: f64) {
        self.folded
            .with_label_values(&["rows"])
            .inc_by(rows.max(0).unsigned_abs());
        self.folded
            .with_label_values(&["cells"])
            .inc_by(cells.max(0).unsigned_abs());
        self.fold_seconds.observe(seconds);
    }

    /// Counts a write done again alone (`contended`, `deadlock`, `database_error`, `cell_range`).
    pub fn write_retried(&self, reason: &str) {
        self.retries.with_label_values(&[reason]).inc();
    }

    /// How many writes were done again for `reason` so far in this process.
    pub fn write_retries(&self, reason: &str) -> u64 {
        self.retries.with_label_values(&[reason]).get()
    }

    /// Seconds spent so far in each phase of the write path, and how many writes went through
    /// it (for the benchmark's breakdown).
    pub fn write_phase_totals(&self) -> Vec<(&'static str, f64, u64)> {
        use strum::IntoEnumIterator;
        WritePhase::iter()
            .map(|phase| {
                let name: &'static str = phase.into();
                let histogram = self.phases.with_label_values(&[name]);
                (name, histogram.get_sample_sum(), histogram.get_sample_count())
            })
            .collect()
    }

    /// Counts ingested items by result (`created`, `updated`, `unchanged`, `rejected`).
    pub fn ingested(&self, result: &str, count: u64) {
        self.ingested.with_label_values(&[result]).inc_by(count);
    }

    /// The metrics in Prometheus text format, with the pool's state now.
    pub fn render(&self, in_use: u32, idle: u32) -> String {
        self.pool.with_label_values(&["in_use"]).set(i64::from(in_use));
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            log::error!("cannot encode metrics: {e}");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// The `method` label: a standard method, or `other`. The method is whatever the client sent,
/// so taking it as sent would let anyone add series to `/metrics` without limit.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The `route` label: the template of the matched route, or `unmatched` (never the path sent).
fn route_label(req: &HttpRequest) -> String {
    req.match_pattern().unwrap_or_else(|| "unmatched".to_string())
}

/// The `status` label: the code itself when it is one of those this service answers with,
/// else only its class (`4xx`), so the label set is fixed whatever reaches this point.
fn status_label(status: StatusCode) -> &'static str {
    const KNOWN: [&str; 24] = [
        "200", "201", "204", "301", "302", "304", "307", "308", "400", "401", "403", "404", "405", "406", "408", "409",
        "412", "413", "415", "422", "431", "500", "502", "503",
    ];
    let code = status.as_str();
    match KNOWN.iter().find(|known| **known == code) {
        Some(known) => known,
        None => match code.as_bytes().first() {
            Some(b'1') => "1xx",
            Some(b'2') => "2xx",
            Some(b'3') => "3xx",
            Some(b'4') => "4xx",
            _ => "5xx",
        },
    }
}

/// A request id the caller sent, if it is short and printable; otherwise a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
}

/// The middleware: request id, metrics and the request's log line.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let method = method_label(req.method());
    let started = Instant::now();
    // A request that may write makes this instance's cached tally answers stale once it is
    // answered, before the client can read again.
    let written = match req.method().is_safe() {
        true => None,
        false => req.app_data::<web::Data<AppState>>().map(|state| state.reports.clone()),
    };
    let response = CURRENT_ID.scope(id.clone(), next.call(req)).await;
    if let Some(reports) = written {
        reports.invalidate();
    }
    let mut response = response?;
    let route = route_label(response.request());
    let status = status_label(response.status());
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    METRICS
        .requests
        .with_label_values(&[route.as_str(), method, status])
        .inc();
    METRICS
        .latency
        .with_label_values(&[route.as_str(), method])
        .observe(elapsed.as_secs_f64());
    log::info!(
        target: "opcoord::request",
        "{method} {route} {status} {:.1}ms request_id={id}",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(response)
}

/// Writes log lines with the time, level, target, the request id when there is one, and the message.
pub fn init_logging(default_level: &str) {
    use std::io::Write;
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .format(|buf, record| {
            let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
            match current_request_id() {
                Some(id) => writeln!(
                    buf,
                    "[{at} {} {} request_id={id}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
                None => writeln!(buf, "[{at} {} {}] {}", record.level(), record.target(), record.args()),
            }
        })
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label(&Method::GET), "GET");
        for junk in ["FOO", "get", "X-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "PROPFIND"] {
            let method = Method::from_bytes(junk.as_bytes()).unwrap_or_default();
            assert_eq!(method_label(&method), "other", "{junk}");
        }
        assert_eq!(status_label(StatusCode::UNPROCESSABLE_ENTITY), "422");
        assert_eq!(status_label(StatusCode::IM_A_TEAPOT), "4xx");
        assert_eq!(status_label(StatusCode::from_u16(599).unwrap_or_default()), "5xx");
        assert_eq!(status_label(StatusCode::from_u16(999).unwrap_or_default()), "5xx");
        assert_eq!(status_label(StatusCode::SWITCHING_PROTOCOLS), "1xx");
    }
}
