//! `/v1/operations/{op}/tallies`: the totals coordination units read (with each country's
//! reporting status), and the figures countries state outright.

use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{parse_json, Body, IfMatchHeader, QueryParams};
use super::idempotent::{self, IdempotencyKey, Reply};
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::domain::interception::WriteResult;
use crate::domain::metric::{Dimension, Metric};
use crate::domain::stated::{ReportedTally, ReportedTallyInput};
use crate::domain::tally::TOTAL;
use crate::domain::totals::{self, TallyReport};
use crate::domain::version::etag;
use crate::error::{Error, Result};
use crate::AppState;

/// A breakdown to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per country (always given).
    Country,
    /// Form of exploitation.
    Exploitation,
    /// Nationality.
    Nationality,
    /// Child, adult, unknown.
    AgeGroup,
    /// Female, male, unknown.
    Sex,
    /// Interception kind.
    Kind,
    /// Day (UTC).
    Day,
    /// Seizure category and unit.
    Category,
}

impl GroupBy {
    /// The dimension grouped by (`None` for countries).
    pub fn dimension(self) -> Option<Dimension> {
        match self {
            GroupBy::Country => None,
            GroupBy::Exploitation => Some(Dimension::Exploitation),
            GroupBy::Nationality => Some(Dimension::Nationality),
            GroupBy::AgeGroup => Some(Dimension::AgeGroup),
            GroupBy::Sex => Some(Dimension::Sex),
            GroupBy::Kind => Some(Dimension::Kind),
            GroupBy::Day => Some(Dimension::Day),
            GroupBy::Category => Some(Dimension::Category),
        }
    }

    fn label(self) -> String {
        self.dimension().map_or("country", Dimension::as_str).to_string()
    }
}

/// Query of `GET .../tallies`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TallyQuery {
    /// Only this metric (default: every metric).
    pub metric: Option<Metric>,
    /// Only this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Break each figure down by this dimension.
    pub group_by: Option<GroupBy>,
}

/// A reported tally with its earlier versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedTallyHistory {
    /// The current version.
    pub current: ReportedTally,
    /// Every version, newest first.
    pub history: Vec<ReportedTally>,
}

/// Read the totals of an operation.
///
/// Per country and metric: the figure that stands (a country's stated figure where there is one,
/// else the one derived from its records), both figures beside it, breakdowns, the country's
/// reporting status (provisional, final, approved, reopened), totals over the countries with the
/// part of them that is final or approved, and the change-feed position they are current as of.
/// Reads maintained cells only, never the records. `Accept: text/csv` gives the same rows as CSV.
#[utoipa::path(
    tag = "tallies",
    operation_id = "get_tallies",
    security(("bearer" = ["tallies:read"])),
    params(("op" = String, Path, description = "Operation id"), TallyQuery),
    responses(
        (status = 200, description = "The tallies (JSON, or CSV when asked with Accept: text/csv)",
            content((TallyReport = "application/json"), (String = "text/csv"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/tallies")]
pub async fn get_tallies(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<TallyQuery>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller.require_in(Scope::TalliesRead, &op)?;
    let query = query.checked_for(&caller)?;
    let countries = caller.countries_shown(query.country.as_deref())?;
    let wants_csv = super::negotiate::accepts(&req, "text/csv");
    // Everything the answer depends on; the checks above have already passed.
    let key = format!(
        "{op}\n{:?}\n{:?}\n{:?}\n{wants_csv}",
        query.metric, query.group_by, countries
    );
    let respond = |body: Bytes| match wants_csv {
        true => HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(body),
        false => HttpResponse::Ok().content_type("application/json").body(body),
    };
    if let Some(body) = state.reports.get(&key) {
        return Ok(respond(body));
    }
    let generation = state.reports.generation();
    let metrics: Vec<Metric> = query.metric.map_or_else(|| Metric::ALL.to_vec(), |m| vec![m]);
    let dimension = query.group_by.and_then(GroupBy::dimension);
    let group_by = query.group_by.map(GroupBy::label);
    let report = state
        .db
        .run(move |conn| {
            conn.snapshot(|conn| {
                db::operations::require_exists(conn, &op)?;
                let seq = db::journal::position(conn)?;
                let names: Vec<&str> = metrics.iter().map(|m| m.as_str()).collect();
                let mut dimensions = vec![TOTAL, Dimension::Category.as_str()];
                if let Some(d) = dimension {
                    dimensions.push(d.as_str());
                }
                let cells = db::tallies::read(conn, &op, &names, &dimensions, countries.as_deref())?;
                let reported = db::stated::current(conn, &op, countries.as_deref())?;
                let statuses = db::reporting::statuses(conn, &op, countries.as_deref())?
                    .into_iter()
                    .map(|s| (s.country, s.status))
                    .collect();
                let mut report = totals::assemble(&op, seq, &cells, &reported, &metrics, dimension, group_by);
                totals::with_status(&mut report, &statuses);
                Ok(report)
            })
        })
        .await?;
    let body = match wants_csv {
        true => Bytes::from(totals::to_csv(&report)),
        false => Bytes::from(
            serde_json::to_vec(&report).map_err(|e| Error::internal(format!("cannot write the tallies: {e}")))?,
        ),
    };
    state.reports.put(key, generation, body.clone());
    Ok(respond(body))
}

/// State a country's figure for a metric.
///
/// For counts a country keeps no incident records for. The figure is versioned, with history, and
/// idempotent (the same figure again is `unchanged`); it stands in the totals instead of the one
/// derived from records, which stays visible beside it. `If-Match` with a stale version is 412.
#[utoipa::path(
    tag = "tallies",
    operation_id = "put_reported_tally",
    request_body = ReportedTallyInput,
    security(("bearer" = ["tallies:write"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
        ("metric" = Metric, Path, description = "The metric (not seizures: report those as interceptions)"),
        ("If-Match" = Option<String>, Header, description = "The ETag the client last saw"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for a retried request"),
    ),
    responses(
        (status = 201, description = "The first figure for this metric", body = ReportedTally,
            headers(("ETag" = String, description = "The version"))),
        (status = 200, description = "A new version, or unchanged", body = ReportedTally,
            headers(("ETag" = String, description = "The version"))),
        super::problems::VersionedWriteErrors,
    )
)]
#[put("/operations/{op}/tallies/{country}/{metric}")]
pub async fn put_reported_tally(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
    if_match: IfMatchHeader,
    key: IdempotencyKey,
    body: Body,
) -> Result<HttpResponse> {
    let (op, country, metric) = path.into_inner();
    caller.require_in(Scope::TalliesWrite, &op)?;
    let country = crate::domain::country::parameter("country", &country)?;
    caller.require_country(&country)?;
    let metric = Metric::parse(&metric).ok_or_else(|| Error::NotFound(format!("there is no metric `{metric}`")))?;
    let if_match = if_match.checked()?;
    let raw = body.raw().await?;
    let input: ReportedTallyInput = parse_json(&raw.bytes)?;
    let input = input.check(metric, Utc::now().date_naive())?;
    let writer = caller.writer();
    let db = state.db.clone();
    idempotent::run(&state, &caller, key, raw.fingerprint, move || async move {
        let (result, tally) = db
            .run(move |conn| crate::service::stated::put(conn, &op, &country, metric, &input, &if_match, &writer))
            .await?;
        let status = if result == WriteResult::Created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Reply::json(status, &tally, Some(etag(tally.version)))
    })
    .await
}

/// Read a country's stated figure for a metric.
///
/// The current figure and every earlier version, newest first. 404 when the country has stated no
/// figure for this metric.
#[utoipa::path(
    tag = "tallies",
    operation_id = "get_reported_tally",
    security(("bearer" = ["tallies:read"])),
    params(
        ("op" = String, Path, description = "Operation id"),
        ("country" = String, Path, description = "ISO 3166-1 alpha-2 code"),
        ("metric" = Metric, Path, description = "The metric"),
    ),
    responses(
        (status = 200, description = "The current figure and its history", body = ReportedTallyHistory,
            headers(("ETag" = String, description = "The current version"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/tallies/{country}/{metric}")]
pub async fn get_reported_tally(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse> {
    let (op, country, metric) = path.into_inner();
    caller.require_in(Scope::TalliesRead, &op)?;
    let country = crate::domain::country::parameter("country", &country)?;
    caller.require_country(&country)?;
    let metric = Metric::parse(&metric).ok_or_else(|| Error::NotFound(format!("there is no metric `{metric}`")))?;
    let (c, o) = (country.clone(), op.clone());
    let history = state
        .db
        .run(move |conn| db::stated::history(conn, &o, &c, metric))
        .await?;
    let current = history
        .first()
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("{country} has stated no {} figure in `{op}`", metric.as_str())))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(current.version)))
        .json(ReportedTallyHistory { current, history }))
}
