//! `/v1/operations/{op}/units`: the national units taking part in an operation.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{parse_json, Body, IfMatchHeader, QueryParams};
use super::respond::{created_or_replayed, versioned};
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::db::units::UnitFilter;
use crate::domain::unit::{NewUnit, Unit, UnitPatch};
use crate::domain::{country, page};
use crate::error::{Error, Result};
use crate::AppState;

/// Query of `GET /v1/operations/{op}/units`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUnitsQuery {
    /// Only the units of this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Items per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of units.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitPage {
    /// The units of this page, by id.
    pub items: Vec<Unit>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Register a national unit.
///
/// Units are unique by country and name in an operation, so sending the same unit again returns
/// the stored one with 200; other content under the same country and name is 409. The operation's
/// participating countries and officers deployed follow from its active units.
#[utoipa::path(
    tag = "units",
    operation_id = "create_unit",
    security(("bearer" = ["units:write"])),
    request_body = NewUnit,
    params(("op" = String, Path, description = "Operation id")),
    responses(
        (status = 201, description = "The unit was registered", body = Unit,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        (status = 200, description = "The same unit already existed: nothing changed", body = Unit,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::WriteErrors,
    )
)]
#[post("/operations/{op}/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let operation_id = path.into_inner();
    caller.require_in(Scope::UnitsWrite, &operation_id)?;
    let raw = body.raw().await?;
    // The country the body names is checked against the token before the body's rules.
    if let Some(code) = probe_country(&raw.bytes) {
        caller.require_country(&code)?;
    }
    let new: NewUnit = parse_json(&raw.bytes)?;
    let new = new.validate()?;
    caller.require_country(&new.country)?;
    let (unit, created) = state
        .db
        .run(move |conn| crate::service::units::create(conn, &operation_id, &new, &caller.writer()))
        .await?;
    Ok(versioned(created_or_replayed(created), unit.version, &unit))
}

/// List the units of an operation.
///
/// By id, a page at a time, only those of the token's countries (or one country). Send
/// `next_cursor` back as `cursor` for the following page.
#[utoipa::path(
    tag = "units",
    operation_id = "list_units",
    security(("bearer" = ["operations:read"])),
    params(("op" = String, Path, description = "Operation id"), ListUnitsQuery),
    responses(
        (status = 200, description = "One page of units", body = UnitPage),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<ListUnitsQuery>,
) -> Result<web::Json<UnitPage>> {
    let operation_id = path.into_inner();
    caller.require_in(Scope::OperationsRead, &operation_id)?;
    let query = query.checked_for(&caller)?;
    let limit = page::limit(query.limit)?;
    let after = page::decode_cursor(query.cursor.as_deref())?
        .map(|key| {
            key.parse::<i64>()
                .map_err(|_| Error::bad_parameter("cursor", "is not a unit cursor"))
        })
        .transpose()?;
    let country = query
        .country
        .as_deref()
        .map(|code| country::parameter("country", code))
        .transpose()?;
    if let Some(country) = &country {
        caller.require_country(country)?;
    }
    let filter = UnitFilter {
        country,
        countries: caller.countries.filter(),
        after,
    };
    let rows = state
        .db
        .run(move |conn| {
            db::operations::require_exists(conn, &operation_id)?;
            db::units::list(conn, &operation_id, &filter, limit + 1)
        })
        .await?;
    let (items, next_cursor) = page::finish(rows, limit, |unit| unit.id.to_string());
    Ok(web::Json(UnitPage { items, next_cursor }))
}

/// Read one unit.
///
/// `ETag` carries the version to send as `If-Match` when changing it. A unit of a country outside
/// the token is 403.
#[utoipa::path(
    tag = "units",
    operation_id = "get_unit",
    security(("bearer" = ["operations:read"])),
    params(("op" = String, Path, description = "Operation id"), ("id" = i64, Path, description = "Unit id")),
    responses(
        (status = 200, description = "The unit", body = Unit,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::ReadErrors,
    )
)]
#[get("/operations/{op}/units/{id}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (operation_id, id) = path.into_inner();
    caller.require_in(Scope::OperationsRead, &operation_id)?;
    let unit = reachable_unit(&state, &caller, operation_id, &id).await?;
    Ok(versioned(StatusCode::OK, unit.version, &unit))
}

/// Change a unit.
///
/// Members left out keep their value; the country of a unit never changes (422). `If-Match`
/// guards against lost updates (412 when the version is stale). Units of a closed operation are
/// frozen (409).
#[utoipa::path(
    tag = "units",
    operation_id = "update_unit",
    security(("bearer" = ["units:write"])),
    request_body = UnitPatch,
    params(
        ("op" = String, Path, description = "Operation id"),
        ("id" = i64, Path, description = "Unit id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the client last saw"),
    ),
    responses(
        (status = 200, description = "The unit after the change (unchanged when the patch changes nothing)", body = Unit,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::VersionedWriteErrors,
    )
)]
#[patch("/operations/{op}/units/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    if_match: IfMatchHeader,
    body: Body,
) -> Result<HttpResponse> {
    let (operation_id, id) = path.into_inner();
    caller.require_in(Scope::UnitsWrite, &operation_id)?;
    // The unit's country is known only once it is read; a unit's country never changes, so
    // reading it first lets the body be judged only for a unit the caller may change.
    let id = reachable_unit(&state, &caller, operation_id.clone(), &id).await?.id;
    let if_match = if_match.checked()?;
    let patch: UnitPatch = body.json().await?;
    let unit = state
        .db
        .run(move |conn| {
            crate::service::units::update(conn, &operation_id, id, &if_match, &patch, &caller.writer(), |unit| {
                match caller.countries.allows(&unit.country) {
                    true => Ok(()),
                    false => Err(no_such_unit(&operation_id, id)),
                }
            })
        })
        .await?;
    Ok(versioned(StatusCode::OK, unit.version, &unit))
}

/// The one answer for a unit that does not exist and for one of a country outside the token:
/// the same status and the same words, so a token cannot learn which units others have.
fn no_such_unit(operation_id: &str, id: impl std::fmt::Display) -> Error {
    Error::NotFound(format!("operation `{operation_id}` has no unit {id}"))
}

/// Reads a unit the caller may see; a unit id that is not a number, a unit that does not exist
/// and a unit of another country all answer [`no_such_unit`].
async fn reachable_unit(state: &AppState, caller: &Caller, operation_id: String, id: &str) -> Result<Unit> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(no_such_unit(&operation_id, id));
    };
    let op = operation_id.clone();
    let unit = state
        .db
        .run(move |conn| db::units::get(conn, &op, id))
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => no_such_unit(&operation_id, id),
            other => other,
        })?;
    match caller.countries.allows(&unit.country) {
        true => Ok(unit),
        false => Err(no_such_unit(&operation_id, id)),
    }
}

/// The `country` a unit body names, if it names a real one: read without the other members
/// and without judging them, so the token is checked against it first.
fn probe_country(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        country: String,
    }
    serde_json::from_slice::<Named>(bytes)
        .ok()
        .and_then(|named| country::normalise(&named.country))
}
