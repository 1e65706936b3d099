//! `/v1/operations`: create, list, read and change operations.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{parse_json, Body, IfMatchHeader, QueryParams};
use super::respond::{created_or_replayed, versioned};
use crate::auth::claims::{Access, Scope};
use crate::auth::Caller;
use crate::db;
use crate::domain::operation::{NewOperation, Operation, OperationPatch};
use crate::domain::page;
use crate::error::{Error, Result};
use crate::AppState;

/// Query of `GET /v1/operations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOperationsQuery {
    /// Items per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of operations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperationPage {
    /// The operations of this page, by id.
    pub items: Vec<Operation>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Create an operation.
///
/// A new operation starts `planned` or `active`. Sending the same operation again returns the
/// stored one with 200 and changes nothing; other content under the same id is 409. Needs a token
/// for every country that covers the new operation's id.
#[utoipa::path(
    tag = "operations",
    operation_id = "create_operation",
    security(("bearer" = ["operations:write"])),
    request_body = NewOperation,
    responses(
        (status = 201, description = "The operation was created", body = Operation,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        (status = 200, description = "The same operation already existed: nothing changed", body = Operation,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::CreateErrors,
    )
)]
#[post("/operations")]
pub async fn create_operation(state: web::Data<AppState>, caller: Caller, body: Body) -> Result<HttpResponse> {
    caller.require(Scope::OperationsWrite)?.require_every_country()?;
    let raw = body.raw().await?;
    // The operation the body names is checked against the token before the body's rules; a
    // token for some operations only must name one of them in a body it can be read from.
    match (probe_id(&raw.bytes), &caller.ops) {
        (Some(id), _) => {
            caller.require_operation(&id)?;
        }
        (None, Access::All) => {}
        (None, Access::Only(_)) => {
            return Err(Error::Forbidden(
                "this token creates only the operations it names; the body names none of them".into(),
            ))
        }
    }
    let new: NewOperation = parse_json(&raw.bytes)?;
    caller.require_operation(&new.id)?;
    new.validate()?;
    let writer = caller.writer();
    let (operation, created) = state
        .db
        .run(move |conn| crate::service::operations::create(conn, &new, &writer))
        .await?;
    Ok(versioned(created_or_replayed(created), operation.version, &operation))
}

/// List operations.
///
/// The operations the token covers, by id, a page at a time. Send `next_cursor` back as `cursor`
/// for the following page.
#[utoipa::path(
    tag = "operations",
    operation_id = "list_operations",
    security(("bearer" = ["operations:read"])),
    params(ListOperationsQuery),
    responses(
        (status = 200, description = "One page of operations", body = OperationPage),
        super::problems::ListErrors,
    )
)]
#[get("/operations")]
pub async fn list_operations(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListOperationsQuery>,
) -> Result<web::Json<OperationPage>> {
    caller.require(Scope::OperationsRead)?;
    let query = query.checked()?;
    let only = caller.ops.filter();
    let limit = page::limit(query.limit)?;
    let after = page::decode_cursor(query.cursor.as_deref())?;
    let rows = state
        .db
        .run(move |conn| db::operations::list(conn, only.as_deref(), after.as_deref(), limit + 1))
        .await?;
    let (items, next_cursor) = page::finish(rows, limit, |op| op.id.clone());
    Ok(web::Json(OperationPage { items, next_cursor }))
}

/// Read an operation.
///
/// With the countries taking part and the officers they deploy, both computed from the active
/// units. `ETag` carries the version to send as `If-Match` when changing it.
#[utoipa::path(
    tag = "operations",
    operation_id = "get_operation",
    security(("bearer" = ["operations:read"])),
    params(("op" = String, Path, description = "Operation id (slug)")),
    responses(
        (status = 200, description = "The operation", body = Operation,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::ReadErrors,
    )
)]
#[get("/operations/{op}")]
pub async fn get_operation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    caller.require_in(Scope::OperationsRead, &id)?;
    let operation = state.db.run(move |conn| db::operations::get(conn, &id)).await?;
    Ok(versioned(StatusCode::OK, operation.version, &operation))
}

/// Change an operation.
///
/// Members left out keep their value. Status moves are planned → active → closed, and closed →
/// active to reopen; any other move is 409. `If-Match` guards against overwriting a change the
/// client has not seen (412 when the version is stale). A change that changes nothing keeps the
/// version.
#[utoipa::path(
    tag = "operations",
    operation_id = "update_operation",
    security(("bearer" = ["operations:write"])),
    request_body = OperationPatch,
    params(
        ("op" = String, Path, description = "Operation id (slug)"),
        ("If-Match" = Option<String>, Header, description = "The ETag the client last saw"),
    ),
    responses(
        (status = 200, description = "The operation after the change (unchanged when the patch changes nothing)", body = Operation,
            headers(("ETag" = String, description = "The version, as a strong entity tag"))),
        super::problems::VersionedWriteErrors,
    )
)]
#[patch("/operations/{op}")]
pub async fn update_operation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    if_match: IfMatchHeader,
    body: Body,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    caller
        .require_in(Scope::OperationsWrite, &id)?
        .require_every_country()?;
    let if_match = if_match.checked()?;
    let patch: OperationPatch = body.json().await?;
    let writer = caller.writer();
    let operation = state
        .db
        .run(move |conn| crate::service::operations::update(conn, &id, &if_match, &patch, &writer))
        .await?;
    Ok(versioned(StatusCode::OK, operation.version, &operation))
}

/// The `id` a create body names, if it names one as a string: read without the other members
/// and without judging them, so the token is checked against it first.
fn probe_id(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        id: String,
    }
    serde_json::from_slice::<Named>(bytes).ok().map(|named| named.id)
}
