//! `/v1/operations/{op}/interceptions`: national systems push (one by one or in batches),
//! correct, retract and read their incidents.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{parse_json, Body, IfMatchHeader, QueryParams};
use super::idempotent::{self, IdempotencyKey, Reply};
use super::intake;
use super::respond::versioned;
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::db::interceptions::{InterceptionFilter, Key};
use crate::domain::interception::{self, Interception, InterceptionInput, InterceptionKind, WriteResult};
use crate::domain::version::{etag, IfMatch};
use crate::domain::{country, dates, page};
use crate::error::{Error, FieldError, Problem, Result};
use crate::service::interceptions::{self as ingest, Item, ItemOutcome, PushReport};
use crate::AppState;

/// Most items in one batch.
pub const MAX_BATCH: usize = 1000;

/// Body of a batch push.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1,000 interceptions, each with its `country` and `external_ref`.
    pub items: Vec<InterceptionInput>,
}

/// The reference and country of a batch item, read from an item that could not be read whole.
#[derive(Debug, Default, Deserialize)]
struct ItemKey {
    external_ref: Option<String>,
    country: Option<String>,
}

/// Query of a batch push.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// `true`: all or nothing (one bad item stores nothing). Default `false`: each item stands alone.
    pub atomic: Option<bool>,
}

/// Counts of a batch's results.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    /// Stored for the first time.
    pub created: usize,
    /// Stored as a new version.
    pub updated: usize,
    /// Already stored with the same content.
    pub unchanged: usize,
    /// Refused (see each result's `problem`).
    pub rejected: usize,
}

/// The result of one batch item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResult {
    /// Position of the item in the request.
    pub index: usize,
    /// The item's reference, when it had one.
    pub external_ref: Option<String>,
    /// What happened.
    pub result: WriteResult,
    /// The stored version (absent when rejected).
    pub version: Option<i64>,
    /// Why it was refused; pointers start at the request root (`/items/3/migrants/children`).
    pub problem: Option<Problem>,
}

/// Answer of a batch push.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// Counts by result.
    pub summary: BatchSummary,
    /// One result per item, in request order.
    pub results: Vec<ItemResult>,
}

/// Query of an interception list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListInterceptionsQuery {
    /// Only this country.
    pub country: Option<String>,
    /// Only this kind.
    pub kind: Option<InterceptionKind>,
    /// Only those that happened at or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only those that happened before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Include retracted ones (tombstones). Default false.
    pub include_deleted: Option<bool>,
    /// Items per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of interceptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterceptionPage {
    /// The interceptions, by id.
    pub items: Vec<Interception>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Every stored version of one interception.
#[derive(Debug, Serialize, ToSchema)]
pub struct InterceptionVersions {
    /// Oldest first; the last is the current version.
    pub versions: Vec<Interception>,
}

/// The path of one record.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    /// Operation id
    op: String,
    /// ISO 3166-1 alpha-2 code
    country: String,
    /// The national system's reference
    external_ref: String,
}

impl RecordPath {
    /// The operation and the record's key, if the caller may act on the record with `scope`:
    /// the scope in the operation, then a well-formed key, then its country (authorization
    /// before validation, the country's 403 after the key's 400).
    fn checked_by(self, caller: &Caller, scope: Scope) -> Result<(String, Key)> {
        caller.require_in(scope, &self.op)?;
        let key = key_of(&self.country, &self.external_ref)?;
        caller.require_country(&key.0)?;
        Ok((self.op, key))
    }
}

/// Reads and checks the country and reference of a path.
fn key_of(country: &str, external_ref: &str) -> Result<(String, String)> {
    let country = country::parameter("country", country)?;
    let mut errors = Vec::new();
    interception::check_external_ref(external_ref, "external_ref", &mut errors);
    if let Some(error) = errors.pop() {
        return Err(Error::bad_parameter("external_ref", error.message));
    }
    Ok((country, external_ref.to_string()))
}

/// Store one interception under its national reference.
///
/// Answers 201 when the reference is new, 200 with a new version when the content changed, and 200
/// with `"result": "unchanged"` (no new version, nothing counted twice) when the same content was
/// already stored, so a national system can resend freely. A retracted interception sent again is
/// revived. `If-Match` with a stale version is 412; `Idempotency-Key` replays the first answer of a
/// retried request. The operation must be `active` (else 409).
#[utoipa::path(
    tag = "interceptions",
    operation_id = "put_interception",
    request_body = InterceptionInput,
    security(("bearer" = ["interceptions:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code of the reporting country"),
        ("external_ref" = String, Path, description = "The national system's reference"),
        ("If-Match" = Option<String>, Header, description = "The ETag the client last saw"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retried request"),
    ),
    responses(
        (status = 201, description = "Stored for the first time", body = Interception,
            headers(("ETag" = String, description = "The version"))),
        (status = 200, description = "Stored as a new version, or unchanged", body = Interception,
            headers(("ETag" = String, description = "The version"))),
        super::problems::VersionedWriteErrors,
    )
)]
#[put("/operations/{op}/interceptions/{country}/{external_ref}")]
pub async fn put_interception(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<RecordPath>,
    if_match: IfMatchHeader,
    key: IdempotencyKey,
    body: Body,
) -> Result<HttpResponse> {
    let (op, (country, external_ref)) = path.into_inner().checked_by(&caller, Scope::InterceptionsWrite)?;
    let if_match = if_match.checked()?;
    let raw = body.raw().await?;
    let input: InterceptionInput = parse_json(&raw.bytes)?;
    let db = state.db.clone();
    let who = caller.clone();
    idempotent::run(&state, &caller, key, raw.fingerprint, move || async move {
        let (result, interception) = db
            .run(move |conn| {
                let item = Item {
                    index: 0,
                    key: Some((country, external_ref)),
                    input: Ok(input),
                    external_ref: None,
                    if_match,
                };
                let report = ingest::push(conn, &op, vec![item], true, &who.writer(), &|c| who.may_act_for(c))?;
                ingest::single(report)
            })
            .await?;
        crate::observe::METRICS.ingested(result_label(result), 1);
        let status = if result == WriteResult::Created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &interception, Some(etag(interception.version)))
    })
    .await
}

/// Push a batch of up to 1,000 interceptions.
///
/// One transaction. Each item stands alone: a bad one is reported with its problem (pointers from
/// the request root, such as `/items/3/migrants/children`) and the others are stored. With
/// `atomic=true`, one bad item stores nothing and the answer is one problem naming every failing
/// field. The answer lists a result per item in request order and a summary of how many were
/// created, updated, unchanged and rejected.
#[utoipa::path(
    tag = "interceptions",
    operation_id = "push_interceptions",
    request_body = BatchRequest,
    security(("bearer" = ["interceptions:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        BatchQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retried request"),
    ),
    responses(
        (status = 200, description = "Per-item results in request order, and a summary", body = BatchResponse),
        super::problems::WriteErrors,
    )
)]
#[post("/operations/{op}/interceptions/batch")]
pub async fn push_interceptions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<BatchQuery>,
    key: IdempotencyKey,
    body: Body,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsWrite, &op)?;
    let query = query.checked()?;
    let raw = body.raw().await?;
    let items = intake::batch_items::<MAX_BATCH>(&raw.bytes)?;
    let atomic = query.atomic.unwrap_or(false);
    let db = state.db.clone();
    let who = caller.clone();
    idempotent::run(&state, &caller, key, raw.fingerprint, move || async move {
        let report = db
            .run(move |conn| {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(index, raw)| read_item(index, raw, &who))
                    .collect();
                ingest::push(conn, &op, items, atomic, &who.writer(), &|c| who.may_act_for(c))
            })
            .await?;
        let response = answer(report)?;
        let metrics = &crate::observe::METRICS;
        metrics.ingested("created", response.summary.created as u64);
        metrics.ingested("updated", response.summary.updated as u64);
        metrics.ingested("unchanged", response.summary.unchanged as u64);
        metrics.ingested("rejected", response.summary.rejected as u64);
        Reply::json(StatusCode::OK, &response, None)
    })
    .await
}

/// Reads one batch item from its JSON; JSON of the wrong shape is that item's 422, unless the
/// item names a country outside the token: then it is a 403, before its content is judged.
/// (A well-formed item's country is checked by the use case, also before its content.)
fn read_item(index: usize, raw: &serde_json::value::RawValue, caller: &Caller) -> Item {
    // The plain parse first; only an item that fails is read again, to find its country, its
    // reference and the member at fault.
    let (input, external_ref) = match serde_json::from_str::<InterceptionInput>(raw.get()) {
        Ok(input) => {
            let external_ref = input.external_ref.clone();
            (Ok(input), external_ref)
        }
        Err(_) => {
            let ItemKey { external_ref, country } = intake::probe(raw);
            let reach = match country.as_deref().and_then(country::normalise) {
                Some(code) => caller.may_act_for(&code),
                None => Ok(()),
            };
            (
                reach.and_then(|()| intake::item::<InterceptionInput>(raw)),
                external_ref,
            )
        }
    };
    Item {
        index,
        key: None,
        input,
        external_ref,
        if_match: IfMatch::Absent,
    }
}

/// Prefixes an item's problem pointers with its place in the batch.
fn item_problem(index: usize, error: Error) -> Error {
    match error {
        Error::Validation(errors) => Error::Validation(
            errors
                .into_iter()
                .map(|e| FieldError {
                    pointer: e.pointer.map(|p| format!("/items/{index}{p}")),
                    ..e
                })
                .collect(),
        ),
        other => other,
    }
}

/// The answer of a batch: a result per item and a summary, or, for an atomic batch that stored
/// nothing, the one problem of every refused item.
fn answer(report: PushReport) -> Result<BatchResponse> {
    if !report.stored {
        let refused = report
            .items
            .into_iter()
            .filter_map(|item| item.outcome.err().map(|e| (item.index, item_problem(item.index, e))))
            .collect();
        return Err(atomic_failure(refused));
    }
    let mut summary = BatchSummary::default();
    let results = report
        .items
        .into_iter()
        .map(
            |ItemOutcome {
                 index,
                 external_ref,
                 outcome,
             }| match outcome {
                Ok(written) => {
                    match written.result {
                        WriteResult::Created => summary.created += 1,
                        WriteResult::Updated => summary.updated += 1,
                        WriteResult::Unchanged => summary.unchanged += 1,
                        WriteResult::Rejected => summary.rejected += 1,
                    }
                    ItemResult {
                        index,
                        external_ref,
                        result: written.result,
                        version: Some(written.version),
                        problem: None,
                    }
                }
                Err(error) => {
                    summary.rejected += 1;
                    ItemResult {
                        index,
                        external_ref,
                        result: WriteResult::Rejected,
                        version: None,
                        problem: Some(item_problem(index, error).problem()),
                    }
                }
            },
        )
        .collect();
    Ok(BatchResponse { summary, results })
}

/// The one problem of an atomic batch: 403 if any item is outside the token, else 422 with
/// every failing field of every item.
fn atomic_failure(refused: Vec<(usize, Error)>) -> Error {
    if let Some((index, Error::Forbidden(why))) = refused.iter().find(|(_, e)| matches!(e, Error::Forbidden(_))) {
        return Error::Forbidden(format!("item {index}: {why}; nothing was stored"));
    }
    let mut errors = Vec::new();
    for (index, error) in refused {
        match error {
            Error::Validation(list) => errors.extend(list),
            other => errors.push(FieldError::at(format!("/items/{index}"), other.problem().detail)),
        }
    }
    Error::Validation(errors)
}

/// List interceptions.
///
/// The interceptions of the token's countries, by id, a page at a time, optionally only one
/// country, one kind, or a time window. Retracted ones (tombstones) are left out unless
/// `include_deleted=true`. Send `next_cursor` back as `cursor` for the following page.
#[utoipa::path(
    tag = "interceptions",
    operation_id = "list_interceptions",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), ListInterceptionsQuery),
    responses(
        (status = 200, description = "One page of interceptions", body = InterceptionPage),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/interceptions")]
pub async fn list_interceptions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<ListInterceptionsQuery>,
) -> Result<web::Json<InterceptionPage>> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let query = query.checked_for(&caller)?;
    let limit = page::limit(query.limit)?;
    let after = page::decode_id_cursor(query.cursor.as_deref(), "an interception")?;
    let countries = caller.countries_shown(query.country.as_deref())?;
    let filter = InterceptionFilter {
        countries,
        kind: query.kind,
        from: query
            .from
            .map(|t| dates::instant_parameter("from", t))
            .transpose()?
            .map(|t| t.naive_utc()),
        to: query
            .to
            .map(|t| dates::instant_parameter("to", t))
            .transpose()?
            .map(|t| t.naive_utc()),
        include_deleted: query.include_deleted.unwrap_or(false),
        after,
    };
    let rows = state
        .db
        .run(move |conn| {
            db::operations::require_exists(conn, &op)?;
            db::interceptions::list(conn, &op, &filter, limit + 1)
        })
        .await?;
    let (items, next_cursor) = page::finish(rows, limit, |i| i.id.to_string());
    Ok(web::Json(InterceptionPage { items, next_cursor }))
}

/// Read one interception.
///
/// Found by the reporting country and the national system's own reference. A retracted one is
/// returned too, with `deleted: true`. `ETag` carries the version to send as `If-Match`.
#[utoipa::path(
    tag = "interceptions",
    operation_id = "get_interception",
    security(("bearer" = ["interceptions:read"])),
    params(RecordPath),
    responses(
        (status = 200, description = "The interception", body = Interception,
            headers(("ETag" = String, description = "The version"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/interceptions/{country}/{external_ref}")]
pub async fn get_interception(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<RecordPath>,
) -> Result<HttpResponse> {
    let (op, (country, external_ref)) = path.into_inner().checked_by(&caller, Scope::InterceptionsRead)?;
    let interception = state
        .db
        .run(move |conn| db::interceptions::get(conn, &op, &country, &external_ref))
        .await?;
    Ok(versioned(StatusCode::OK, interception.version, &interception))
}

/// Every version of an interception.
///
/// Oldest first, each whole as it was stored: the versions later writes superseded (changed,
/// retracted or revived), then the current one. A version written and superseded within the same
/// batch was never stored, so version numbers may skip. Read like the interception itself.
#[utoipa::path(
    tag = "interceptions",
    operation_id = "list_interception_versions",
    security(("bearer" = ["interceptions:read"])),
    params(RecordPath),
    responses(
        (status = 200, description = "The interception's versions, oldest first", body = InterceptionVersions),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/interceptions/{country}/{external_ref}/versions")]
pub async fn list_interception_versions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<RecordPath>,
) -> Result<web::Json<InterceptionVersions>> {
    let (op, (country, external_ref)) = path.into_inner().checked_by(&caller, Scope::InterceptionsRead)?;
    let versions = state
        .db
        // One snapshot: a write between the two reads would show a version twice.
        .run(move |conn| conn.snapshot(|conn| db::interceptions::versions(conn, &op, &country, &external_ref)))
        .await?;
    Ok(web::Json(InterceptionVersions { versions }))
}

/// Retract an interception.
///
/// It stays as a tombstone (`deleted: true`, a new version), leaves every total and appears in the
/// change feed as a delete. Retracting again is `unchanged`; sending it again with PUT revives it.
/// `If-Match` with a stale version is 412.
#[utoipa::path(
    tag = "interceptions",
    operation_id = "retract_interception",
    security(("bearer" = ["interceptions:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
        ("external_ref" = String, Path, description = "The national system's reference"),
        ("If-Match" = Option<String>, Header, description = "The ETag the client last saw"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retried request"),
    ),
    responses(
        (status = 200, description = "The tombstone (`result` is `unchanged` if it was already retracted)", body = Interception,
            headers(("ETag" = String, description = "The version"))),
        super::problems::RetractErrors,
    )
)]
#[delete("/operations/{op}/interceptions/{country}/{external_ref}")]
pub async fn retract_interception(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<RecordPath>,
    if_match: IfMatchHeader,
    key: IdempotencyKey,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse> {
    let (op, (country, external_ref)) = path.into_inner().checked_by(&caller, Scope::InterceptionsWrite)?;
    let if_match = if_match.checked()?;
    let fingerprint = format!("DELETE {}", req.path());
    let writer = caller.writer();
    let db = state.db.clone();
    idempotent::run(&state, &caller, key, fingerprint, move || async move {
        let (_, interception) = db
            .run(move |conn| ingest::retract(conn, &op, (country, external_ref), if_match, &writer))
            .await?;
        Reply::json(StatusCode::OK, &interception, Some(etag(interception.version)))
    })
    .await
}

fn result_label(result: WriteResult) -> &'static str {
    match result {
        WriteResult::Created => "created",
        WriteResult::Updated => "updated",
        WriteResult::Unchanged => "unchanged",
        WriteResult::Rejected => "rejected",
    }
}
