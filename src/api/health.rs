//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::{Error, Result};
use crate::AppState;

/// Answer of the health probes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` for `/healthz`, `ready` for `/readyz`.
    pub status: String,
}

/// Liveness probe.
///
/// Answers 200 while the process is up and serving HTTP. It touches no database, so an
/// orchestrator restarts the process only when the process itself is stuck, never because the
/// database is slow. No token.
#[utoipa::path(
    tag = "health",
    operation_id = "get_health",
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_string(),
    })
}

/// Readiness probe.
///
/// Answers 200 when the database answers and every migration has been applied, else 503 with
/// `Retry-After`: a load balancer sends traffic only to instances that can serve it. No token.
#[utoipa::path(
    tag = "health",
    operation_id = "get_readiness",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = super::problems::Unavailable),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>> {
    let pending = state.db.run(db::migrate::pending).await?;
    if pending > 0 {
        return Err(Error::unavailable(format!("{pending} migrations are not applied yet")));
    }
    Ok(web::Json(Health {
        status: "ready".to_string(),
    }))
}

/// Prometheus metrics.
///
/// Requests by route template, method and status, latency histograms, database pool connections
/// in use and idle, and interceptions ingested by result, in Prometheus text format. No token: it
/// holds counts of requests, never data.
#[utoipa::path(
    tag = "health",
    operation_id = "get_metrics",
    responses((status = 200, description = "Metrics in Prometheus text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> actix_web::HttpResponse {
    let (in_use, idle) = state.db.pool_state();
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::observe::METRICS.render(in_use, idle))
}
