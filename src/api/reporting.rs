//! `/v1/operations/{op}/reporting`: the reporting cycle. The board (who reported for which day,
//! who is late, how complete and timely, who is final), nil returns, the finality of a country's
//! figures, and reminders for late countries.
//!
//! A national system or desk files nil returns and declares its figures final with
//! `reporting:write` for its country; the secretariat approves and reopens with
//! `reporting:approve` and a token for every country, so a country can never approve itself.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Body, QueryParams};
use super::negotiate::accepts;
use super::respond::versioned;
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::domain::interception::WriteResult;
use crate::domain::reporting::{
    self, BoardFilter, CountryStatus, DayState, NilReturn, ReminderBook, ReopenInput, ReportingBoard, Transition,
};
use crate::error::{Error, Result};
use crate::service;
use crate::AppState;

/// Query of `GET .../reporting`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Only this day (`YYYY-MM-DD`, a day of the operation); the summary covers it alone.
    #[param(value_type = Option<String>, format = Date)]
    pub day: Option<String>,
    /// Only rows in this state; the summary still covers every state.
    pub state: Option<DayState>,
    /// Only this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

/// A nil return with what the request did.
#[derive(Debug, Serialize, ToSchema)]
pub struct NilReturnWrite {
    /// The nil return after the request.
    #[serde(flatten)]
    pub nil_return: NilReturn,
    /// Created, updated (filed again or retracted) or unchanged.
    pub result: WriteResult,
}

/// A country's status with what the request did.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusWrite {
    /// The status after the request.
    #[serde(flatten)]
    pub status: CountryStatus,
    /// `updated` when it moved, `unchanged` when it was already there.
    pub result: WriteResult,
}

/// Read the reporting board.
///
/// Per country and per day of the operation: received (records or stated figures),
/// received_nil (a nil return only), late (past its deadline with neither) or not_due, with
/// counts and the times of the first and last report; per country its status (provisional,
/// final, approved, reopened). For the operation: completeness ((received + received_nil) ÷
/// expected) and timeliness (first report before the deadline ÷ expected), the countries late
/// for the latest due day and those not yet final. Only the token's countries are shown.
/// `Accept: text/csv` gives the day rows as CSV.
#[utoipa::path(
    tag = "reporting",
    operation_id = "get_reporting",
    security(("bearer" = ["tallies:read"])),
    params(("op" = String, Path, description = "Operation id"), BoardQuery),
    responses(
        (status = 200, description = "The board (JSON, or CSV when asked with Accept: text/csv)",
            content((ReportingBoard = "application/json"), (String = "text/csv"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/reporting")]
pub async fn get_reporting(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<BoardQuery>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller.require_in(Scope::TalliesRead, &op)?;
    let query = query.checked_for(&caller)?;
    let day = match query.day.as_deref() {
        Some(text) => Some(
            crate::domain::dates::strict_day(text)
                .ok_or_else(|| Error::bad_parameter("day", "must be a day written YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let filter = BoardFilter {
        day,
        state: query.state,
        countries: caller
            .countries_shown(query.country.as_deref())?
            .map(|c| c.into_iter().collect()),
    };
    let (_, board) = state
        .db
        .run(move |conn| service::reporting::board(conn, &op, &filter, Utc::now()))
        .await?;
    if accepts(&req, "text/csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(reporting::to_csv(&board)));
    }
    Ok(HttpResponse::Ok().json(board))
}

/// The country and day of a nil-return path, checked against the caller.
fn nil_target(caller: &Caller, op: &str, country: &str, day: &str) -> Result<(String, NaiveDate)> {
    caller.require_in(Scope::ReportingWrite, op)?;
    let country = crate::domain::country::parameter("country", country)?;
    caller.require_country(&country)?;
    let day = crate::domain::dates::strict_day(day)
        .ok_or_else(|| Error::NotFound(format!("`{day}` is not a day (YYYY-MM-DD)")))?;
    Ok((country, day))
}

/// File a nil return.
///
/// "Nothing to report" for a country and a day of the operation, distinct from silence: the day
/// counts as received_nil. Filing again is `unchanged`. Records or stated figures sent for the day
/// later turn it into received (the nil return stays, marked `superseded`). 409 when the day
/// already has records or stated figures, or (`urn:opcoord:problem:country-final`) when the
/// country's figures are final.
#[utoipa::path(
    tag = "reporting",
    operation_id = "put_nil_return",
    security(("bearer" = ["reporting:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
        ("day" = String, Path, description = "A day of the operation (YYYY-MM-DD), in its time zone"),
    ),
    responses(
        (status = 201, description = "Filed for the first time", body = NilReturnWrite,
            headers(("ETag" = String, description = "The version"))),
        (status = 200, description = "Filed again after a retraction, or unchanged", body = NilReturnWrite,
            headers(("ETag" = String, description = "The version"))),
        super::problems::StateChangeErrors,
    )
)]
#[put("/operations/{op}/reporting/{country}/nil-returns/{day}")]
pub async fn put_nil_return(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    write_nil(state, caller, path, true).await
}

/// Files (`filing`) or retracts a nil return and answers with it.
async fn write_nil(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    filing: bool,
) -> Result<HttpResponse> {
    let (op, country, day) = path.into_inner();
    let (country, day) = nil_target(&caller, &op, &country, &day)?;
    let writer = caller.writer();
    let (result, nil_return) = state
        .db
        .run(move |conn| match filing {
            true => service::reporting::file_nil(conn, &op, &country, day, &writer),
            false => service::reporting::retract_nil(conn, &op, &country, day, &writer),
        })
        .await?;
    let status = if result == WriteResult::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let version = nil_return.version;
    Ok(versioned(status, version, &NilReturnWrite { nil_return, result }))
}

/// Retract a nil return.
///
/// While the country's figures are provisional or reopened. Retracting again is `unchanged`;
/// 404 when none was ever filed for the day.
#[utoipa::path(
    tag = "reporting",
    operation_id = "retract_nil_return",
    security(("bearer" = ["reporting:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
        ("day" = String, Path, description = "A day of the operation (YYYY-MM-DD)"),
    ),
    responses(
        (status = 200, description = "Retracted (or already retracted: `unchanged`)", body = NilReturnWrite,
            headers(("ETag" = String, description = "The version"))),
        super::problems::StateChangeErrors,
    )
)]
#[delete("/operations/{op}/reporting/{country}/nil-returns/{day}")]
pub async fn retract_nil_return(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    write_nil(state, caller, path, false).await
}

/// Runs a transition of a country's finality and answers with the status after it.
async fn move_status(
    state: web::Data<AppState>,
    caller: &Caller,
    op: String,
    country: String,
    transition: Transition,
    reason: Option<String>,
) -> Result<HttpResponse> {
    let writer = caller.writer();
    let (moved, status) = state
        .db
        .run(move |conn| service::reporting::transition(conn, &op, &country, transition, reason, &writer))
        .await?;
    let result = if moved {
        WriteResult::Updated
    } else {
        WriteResult::Unchanged
    };
    let version = status.version;
    Ok(versioned(StatusCode::OK, version, &StatusWrite { status, result }))
}

/// Declare a country's figures final.
///
/// From then on the country's writes to the operation (records, stated figures, nil returns,
/// imports) are refused with 409 `urn:opcoord:problem:country-final` until the secretariat
/// reopens them. A batch of the country in flight commits wholly before the declaration, or is
/// refused. Declaring again is `unchanged`; approved figures are 409.
#[utoipa::path(
    tag = "reporting",
    operation_id = "declare_final",
    security(("bearer" = ["reporting:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
    ),
    responses(
        (status = 200, description = "The country's status after the declaration", body = StatusWrite,
            headers(("ETag" = String, description = "The version"))),
        super::problems::StateChangeErrors,
    )
)]
#[post("/operations/{op}/reporting/{country}/final")]
pub async fn declare_final(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (op, country) = path.into_inner();
    caller.require_in(Scope::ReportingWrite, &op)?;
    let country = crate::domain::country::parameter("country", &country)?;
    caller.require_country(&country)?;
    move_status(state, &caller, op, country, Transition::DeclareFinal, None).await
}

/// Approve a country's final figures.
///
/// The secretariat's step: `reporting:approve` with a token for every country, and never the
/// principal (`sub`) that declared them final (403). Only final figures can be approved (409);
/// approving again is `unchanged`.
#[utoipa::path(
    tag = "reporting",
    operation_id = "approve_country",
    security(("bearer" = ["reporting:approve"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
    ),
    responses(
        (status = 200, description = "The country's status after the approval", body = StatusWrite,
            headers(("ETag" = String, description = "The version"))),
        super::problems::StateChangeErrors,
    )
)]
#[post("/operations/{op}/reporting/{country}/approve")]
pub async fn approve_country(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let (op, country) = path.into_inner();
    caller
        .require_in(Scope::ReportingApprove, &op)?
        .require_every_country()?;
    let country = crate::domain::country::parameter("country", &country)?;
    move_status(state, &caller, op, country, Transition::Approve, None).await
}

/// Reopen a country's final or approved figures.
///
/// The secretariat's step (`reporting:approve`, every country), with a written reason kept in
/// the audit trail and shown on the board. The country may write again, then declare final.
/// 409 when the figures are not final.
#[utoipa::path(
    tag = "reporting",
    operation_id = "reopen_country",
    request_body = ReopenInput,
    security(("bearer" = ["reporting:approve"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
    ),
    responses(
        (status = 200, description = "The country's status after the reopening", body = StatusWrite,
            headers(("ETag" = String, description = "The version"))),
        super::problems::WriteErrors,
    )
)]
#[post("/operations/{op}/reporting/{country}/reopen")]
pub async fn reopen_country(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse> {
    let (op, country) = path.into_inner();
    caller
        .require_in(Scope::ReportingApprove, &op)?
        .require_every_country()?;
    let country = crate::domain::country::parameter("country", &country)?;
    let reason = body.json::<ReopenInput>().await?.checked()?;
    move_status(state, &caller, op, country, Transition::Reopen, Some(reason)).await
}

/// Remind late countries.
///
/// Every participating country with a day past its deadline and nothing received, the days,
/// and its active units to address, each with a message ready to be mailed or posted (no mail
/// server is assumed). `Accept: text/plain` gives the messages alone. The secretariat's read:
/// `reporting:approve` with a token for every country.
#[utoipa::path(
    tag = "reporting",
    operation_id = "get_reminders",
    security(("bearer" = ["reporting:approve"])),
    params(("op" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "The reminders (JSON, or text when asked with Accept: text/plain)",
            content((ReminderBook = "application/json"), (String = "text/plain"))),
        super::problems::ReadErrors,
    )
)]
#[get("/operations/{op}/reporting/reminders")]
pub async fn get_reminders(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller
        .require_in(Scope::ReportingApprove, &op)?
        .require_every_country()?;
    let book = state
        .db
        .run(move |conn| service::reporting::reminders(conn, &op, Utc::now()))
        .await?;
    if accepts(&req, "text/plain") {
        return Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(reporting::to_text(&book)));
    }
    Ok(HttpResponse::Ok().json(book))
}
