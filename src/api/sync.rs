//! Sync: the change feed a system polls, and the digest it reconciles against.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::QueryParams;
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::domain::change::ChangePage;
use crate::domain::{country, page};
use crate::error::{Error, Result};
use crate::AppState;

/// Query of the change feed.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next` of the previous poll (0, or absent, for the start).
    pub after: Option<i64>,
    /// Changes per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
}

/// Query of the digest.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DigestQuery {
    /// ISO 3166-1 alpha-2 code of the country to reconcile.
    pub country: String,
}

/// What the hub holds of one country.
#[derive(Debug, Serialize, ToSchema)]
pub struct Digest {
    /// The country.
    pub country: String,
    /// How many live (not retracted) interceptions it has.
    pub count: i64,
    /// Hex SHA-256 of the lines `external_ref TAB version LF` of those interceptions, sorted
    /// bytewise by `external_ref`.
    pub digest: String,
}

/// Follow the change feed.
///
/// Every committed change to the operation's interceptions, units and reported tallies, of the
/// token's countries, in one sequence. Keep `next` and send it as `after`: polling this way never
/// misses and never repeats a committed change, however many writers commit at once. A record
/// changed twice between two polls may appear once, at its latest version.
#[utoipa::path(
    tag = "sync",
    operation_id = "list_changes",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), ChangesQuery),
    responses(
        (status = 200, description = "The next changes", body = ChangePage),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/changes")]
pub async fn list_changes(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<ChangesQuery>,
) -> Result<web::Json<ChangePage>> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let query = query.checked()?;
    let limit = page::limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(Error::bad_parameter("after", "must be 0 or more"));
    }
    let countries = caller.countries.filter();
    let page = state
        .db
        .run(move |conn| {
            conn.snapshot(|conn| {
                db::operations::require_exists(conn, &op)?;
                db::changes::list(conn, &op, countries.as_deref(), after, limit)
            })
        })
        .await?;
    Ok(web::Json(page))
}

/// Reconcile a country's interceptions.
///
/// The count of the country's live interceptions and a digest of their references and versions
/// (hex SHA-256 of the lines `external_ref TAB version LF`, sorted bytewise by `external_ref`), so
/// a national system can prove the hub holds exactly what it sent.
#[utoipa::path(
    tag = "sync",
    operation_id = "get_sync_digest",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), DigestQuery),
    responses(
        (status = 200, description = "Count and digest", body = Digest),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/sync/digest")]
pub async fn get_sync_digest(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<DigestQuery>,
) -> Result<web::Json<Digest>> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let query = query.checked_for(&caller)?;
    let code = country::parameter("country", &query.country)?;
    caller.require_country(&code)?;
    let country = code.clone();
    let (count, digest) = state
        .db
        .run(move |conn| {
            db::operations::require_exists(conn, &op)?;
            db::interceptions::digest(conn, &op, &code)
        })
        .await?;
    Ok(web::Json(Digest { country, count, digest }))
}
