//! `/v1/public/operations/{op}/releases/...`: what the public reads, without a token. Only
//! published releases of operations marked public are served, so nothing public changes
//! between two releases. Each release reads as JSON, as CSV and as a plain HTML page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::disclosure::publication::{publication, Publication};
use crate::domain::disclosure::release::ReleaseKind;
use crate::domain::disclosure::{csv, page};
use crate::error::{Error, Result};
use crate::service::releases;
use crate::{db, AppState};

/// One published release in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedRelease {
    /// Its number.
    pub number: i64,
    /// Interim or final.
    pub kind: ReleaseKind,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

/// Answer of `GET /v1/public/operations/{op}/releases`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedReleases {
    /// The operation.
    pub operation_id: String,
    /// Its published releases, oldest first.
    pub releases: Vec<PublishedRelease>,
}

/// The three forms of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Html,
}

impl Format {
    /// The form asked for: a `.json`, `.csv` or `.html` ending of the path wins; else the first
    /// of JSON, CSV or HTML the `Accept` header names; else JSON.
    fn of(segment: &str, req: &HttpRequest) -> (String, Format) {
        for (ending, format) in [(".json", Format::Json), (".csv", Format::Csv), (".html", Format::Html)] {
            if let Some(name) = segment.strip_suffix(ending) {
                return (name.to_string(), format);
            }
        }
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let format = accept
            .split(',')
            .filter_map(|range| match range.split(';').next().unwrap_or_default().trim() {
                "application/json" => Some(Format::Json),
                "text/csv" => Some(Format::Csv),
                "text/html" => Some(Format::Html),
                _ => None,
            })
            .next()
            .unwrap_or(Format::Json);
        (segment.to_string(), format)
    }
}

fn no_public(op: &str) -> Error {
    Error::NotFound(format!("there is no public operation `{op}`"))
}

/// List the published releases of a public operation.
///
/// Every published release of an operation marked public, oldest first, with its number, kind
/// and when it was published. No token; an operation that is not public answers 404.
#[utoipa::path(
    tag = "public",
    operation_id = "list_public_releases",
    params(("op" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "The published releases", body = PublishedReleases),
        super::problems::PublicReadErrors,
    )
)]
#[get("/public/operations/{op}/releases")]
pub async fn list_public_releases(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<PublishedReleases>> {
    let op = path.into_inner();
    let list = state
        .db
        .run(move |conn| {
            conn.snapshot(|conn| {
                let operation = db::operations::get(conn, &op).ok().filter(|o| o.public);
                let operation = operation.ok_or_else(|| no_public(&op))?;
                let releases = db::releases::list(conn, &op, true)?
                    .into_iter()
                    .map(|r| PublishedRelease {
                        number: r.number,
                        kind: r.kind,
                        published_at: r.published_at,
                    })
                    .collect();
                Ok(PublishedReleases {
                    operation_id: operation.id,
                    releases,
                })
            })
        })
        .await?;
    Ok(web::Json(list))
}

/// Read a published release of a public operation.
///
/// A published release, `latest` or by number: the headline figures
/// with their method line, and per metric the total, the figure per country and per bucket of
/// each breakdown over the operation, every figure rounded to the stated base (totals exact
/// where marked) so that no figure or combination of figures, in this release or across
/// releases, narrows a count under the threshold. JSON by default; CSV with `Accept:
/// text/csv` or a `.csv` ending (`latest.csv`, `3.csv`); a plain page with `Accept:
/// text/html` (what browsers send) or an `.html` ending. No token; an operation that is not
/// public, or has published nothing, answers 404.
#[utoipa::path(
    tag = "public",
    operation_id = "get_public_release",
    params(
        ("op" = String, Path, description = "Operation id"),
        ("n" = String, Path, description = "`latest` or a release number, optionally ending in `.json`, `.csv` or `.html`"),
    ),
    responses(
        (status = 200, description = "The release (JSON; CSV or HTML when asked for)",
            content((Publication = "application/json"), (String = "text/csv"), (String = "text/html"))),
        super::problems::PublicReadErrors,
    )
)]
#[get("/public/operations/{op}/releases/{n}")]
pub async fn get_public_release(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse> {
    let (op, segment) = path.into_inner();
    let (name, format) = Format::of(&segment, &req);
    let latest = name == "latest";
    let wanted = if latest {
        None
    } else {
        Some(super::releases::number(&op, &name)?)
    };
    let (publication, numbers) = state
        .db
        .run(move |conn| {
            let (operation, numbers) = conn.snapshot(|conn| {
                let operation = db::operations::get(conn, &op).ok().filter(|o| o.public);
                let operation = operation.ok_or_else(|| no_public(&op))?;
                let numbers: Vec<i64> = db::releases::list(conn, &op, true)?.iter().map(|r| r.number).collect();
                Ok((operation, numbers))
            })?;
            let number = match wanted {
                Some(n) if numbers.contains(&n) => n,
                None if !numbers.is_empty() => numbers[numbers.len() - 1],
                _ => {
                    return Err(Error::NotFound(format!(
                        "operation `{}` has no published release `{name}`",
                        operation.id
                    )))
                }
            };
            let (release, cells) = releases::read(conn, &op, number, true)?;
            Ok((publication(&release, &cells), numbers))
        })
        .await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::VARY, HeaderValue::from_static("Accept")));
    // A numbered release never changes; `latest` moves when a new one is published.
    response.insert_header((
        header::CACHE_CONTROL,
        if latest {
            "public, max-age=60"
        } else {
            "public, max-age=86400"
        },
    ));
    Ok(match format {
        Format::Json => response.json(&publication),
        Format::Csv => response
            .content_type("text/csv; charset=utf-8")
            .body(csv::to_csv(&publication)),
        Format::Html => response
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(page::to_html(&publication, &numbers)),
    })
}

/// `/public/...` without `/v1`, as the contract spells it: a permanent redirect (308) to the
/// same path under `/v1`, query included, so a short link works and there is one source.
pub async fn unprefixed(req: HttpRequest) -> HttpResponse {
    let mut location = format!("/v1{}", req.path());
    if !req.query_string().is_empty() {
        location.push('?');
        location.push_str(req.query_string());
    }
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}
