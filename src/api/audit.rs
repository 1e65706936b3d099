//! `/v1/operations/{op}/audit`: who changed what, as a verifiable hash chain.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::QueryParams;
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::domain::audit::AuditEntry;
use crate::domain::page;
use crate::error::{Error, Result};
use crate::AppState;

/// Query of the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The `next` of the previous page (0, or absent, for the start).
    pub after: Option<i64>,
    /// Entries per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// One page of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, by `seq`.
    pub entries: Vec<AuditEntry>,
    /// Send this as `after` for the next page.
    pub next: i64,
}

/// Read the audit trail of an operation.
///
/// Entries of the token's countries and of the operation itself, by `seq`, a page at a time:
/// every write with the token (`sub`, `jti`) that made it, the SHA-256 of what was stored, and the
/// hash chain (`prev_hash`, `hash`) that `opcoord audit verify` checks. Send `next` back as
/// `after` for the following page; a page shorter than `limit` is the end for now.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_entries",
    security(("bearer" = ["audit:read"])),
    params(("op" = String, Path, description = "Operation id"), AuditQuery),
    responses(
        (status = 200, description = "One page of entries", body = AuditPage),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/audit")]
pub async fn list_audit_entries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<AuditQuery>,
) -> Result<web::Json<AuditPage>> {
    let op = path.into_inner();
    caller.require_in(Scope::AuditRead, &op)?;
    let query = query.checked()?;
    let limit = page::limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(Error::bad_parameter("after", "must be 0 or more"));
    }
    let countries = caller.countries.filter();
    let entries = state
        .db
        .run(move |conn| {
            db::operations::require_exists(conn, &op)?;
            db::audit::list(conn, &op, countries.as_deref(), after, limit)
        })
        .await?;
    let next = entries.last().map_or(after, |e| e.seq);
    Ok(web::Json(AuditPage { entries, next }))
}
