//! `/v1/operations/{op}/releases`: the secretariat makes a release of an operation's figures,
//! reviews exactly what it would publish and what it withholds, and publishes it (or discards
//! the draft). Every one of these needs a token for every country (`countries ["*"]`): a
//! release holds every country's true figures. Reading needs `releases:read`; writing
//! `releases:write`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::{parse_json, Body};
use super::idempotent::{self, IdempotencyKey, Reply};
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::domain::disclosure::preview::{preview, ReleasePreview};
use crate::domain::disclosure::release::{NewRelease, Release};
use crate::error::{Error, Result};
use crate::service::releases;
use crate::{db, AppState};

/// The releases of an operation, drafts included.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseList {
    /// Every release by number.
    pub items: Vec<Release>,
}

/// The scope, operation and every-country checks of these endpoints.
fn require(caller: &Caller, scope: Scope, op: &str) -> Result<()> {
    caller.require_in(scope, op)?.require_every_country()?;
    Ok(())
}

/// A release number from the path; anything else names no release (404).
pub fn number(op: &str, text: &str) -> Result<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::NotFound(format!("operation `{op}` has no release `{text}`")))
}

/// Make a draft release of an operation's figures.
///
/// The operation's figures frozen at the current change-feed position, rounded for publication
/// and kept consistent with the releases published before it. Only the secretariat sees a
/// draft. 409 while the operation already has one.
#[utoipa::path(
    tag = "releases",
    operation_id = "create_release",
    request_body = NewRelease,
    security(("bearer" = ["releases:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retried request"),
    ),
    responses(
        (status = 201, description = "The draft, with exactly what it would publish and the review of every figure", body = ReleasePreview),
        super::problems::WriteErrors,
    )
)]
#[post("/operations/{op}/releases")]
pub async fn create_release(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    key: IdempotencyKey,
    body: Body,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    require(&caller, Scope::ReleasesWrite, &op)?;
    let raw = body.raw().await?;
    let new: NewRelease = parse_json(&raw.bytes)?;
    let writer = caller.writer();
    let db = state.db.clone();
    idempotent::run(&state, &caller, key, raw.fingerprint, move || async move {
        let (release, cells) = db.run(move |conn| releases::make(conn, &op, &new, &writer)).await?;
        Reply::json(StatusCode::CREATED, &preview(&release, &cells), None)
    })
    .await
}

/// List an operation's releases.
///
/// Every release of the operation by number, drafts included, with who made and published
/// each and when.
#[utoipa::path(
    tag = "releases",
    operation_id = "list_releases",
    security(("bearer" = ["releases:read"])),
    params(("op" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "The releases by number", body = ReleaseList),
        super::problems::ReadErrors,
    )
)]
#[get("/operations/{op}/releases")]
pub async fn list_releases(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<ReleaseList>> {
    let op = path.into_inner();
    require(&caller, Scope::ReleasesRead, &op)?;
    let items = state
        .db
        .run(move |conn| {
            conn.snapshot(|conn| {
                db::operations::require_exists(conn, &op)?;
                db::releases::list(conn, &op, false)
            })
        })
        .await?;
    Ok(web::Json(ReleaseList { items }))
}

/// Review a release.
///
/// Exactly what it publishes (or would), and beside every published figure its true value and
/// what the method did to it (exact, rounded up or down, withheld as fewer than the rounding
/// base, or a zero).
#[utoipa::path(
    tag = "releases",
    operation_id = "get_release",
    security(("bearer" = ["releases:read"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("n" = i64, Path, description = "Release number"),
    ),
    responses(
        (status = 200, description = "The release under review", body = ReleasePreview),
        super::problems::ReadErrors,
    )
)]
#[get("/operations/{op}/releases/{n}")]
pub async fn get_release(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ReleasePreview>> {
    let (op, n) = path.into_inner();
    require(&caller, Scope::ReleasesRead, &op)?;
    let n = number(&op, &n)?;
    let (release, cells) = state.db.run(move |conn| releases::read(conn, &op, n, false)).await?;
    Ok(web::Json(preview(&release, &cells)))
}

/// Publish a draft release.
///
/// From now on the public reads it, and it never changes. Publishing a published release again
/// changes nothing.
#[utoipa::path(
    tag = "releases",
    operation_id = "publish_release",
    security(("bearer" = ["releases:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("n" = i64, Path, description = "Release number"),
    ),
    responses(
        (status = 200, description = "The published release", body = ReleasePreview),
        super::problems::ReadErrors,
    )
)]
#[post("/operations/{op}/releases/{n}/publish")]
pub async fn publish_release(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ReleasePreview>> {
    let (op, n) = path.into_inner();
    require(&caller, Scope::ReleasesWrite, &op)?;
    let n = number(&op, &n)?;
    let writer = caller.writer();
    let (release, cells) = state
        .db
        .run(move |conn| releases::publish(conn, &op, n, &writer))
        .await?;
    Ok(web::Json(preview(&release, &cells)))
}

/// Discard a draft release.
///
/// The draft and its figures are deleted (audited). A published release is never discarded
/// (409).
#[utoipa::path(
    tag = "releases",
    operation_id = "discard_release",
    security(("bearer" = ["releases:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("n" = i64, Path, description = "Release number"),
    ),
    responses(
        (status = 204, description = "The draft is gone"),
        (status = 409, response = super::problems::Conflict),
        super::problems::ReadErrors,
    )
)]
#[delete("/operations/{op}/releases/{n}")]
pub async fn discard_release(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (op, n) = path.into_inner();
    require(&caller, Scope::ReleasesWrite, &op)?;
    let n = number(&op, &n)?;
    let writer = caller.writer();
    state
        .db
        .run(move |conn| releases::discard(conn, &op, n, &writer))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
