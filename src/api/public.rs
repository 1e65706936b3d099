//! `/v1/public/operations/{op}/tallies`: totals a press office may publish, without a token,
//! for operations marked public, with small cells withheld.

use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::QueryParams;
use super::tallies::GroupBy;
use crate::db;
use crate::domain::metric::Metric;
use crate::domain::publish::{self, PublicTallies};
use crate::domain::tally::TOTAL;
use crate::domain::totals;
use crate::error::{Error, Result};
use crate::AppState;

/// Query of the public tallies.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// Only this metric (default: every metric).
    pub metric: Option<Metric>,
    /// Break each total down over the whole operation by this dimension.
    pub group_by: Option<GroupBy>,
}

/// Read the publishable totals of a public operation.
///
/// Per metric, per country and by one breakdown over the whole operation, with every figure below
/// the operation's `suppression_threshold` withheld (null), and the next smallest too where a lone
/// withheld figure could be recovered by subtraction. No token needed; an operation that is not
/// public answers 404, as one that does not exist.
#[utoipa::path(
    tag = "public",
    operation_id = "get_public_tallies",
    params(("op" = String, Path, description = "Operation id"), PublicQuery),
    responses(
        (status = 200, description = "The publishable totals", body = PublicTallies),
        super::problems::PublicReadErrors,
    )
)]
#[get("/public/operations/{op}/tallies")]
pub async fn get_public_tallies(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: QueryParams<PublicQuery>,
) -> Result<web::Json<PublicTallies>> {
    let op = path.into_inner();
    let query = query.checked()?;
    let metrics: Vec<Metric> = query.metric.map_or_else(|| Metric::ALL.to_vec(), |m| vec![m]);
    let dimension = query.group_by.and_then(|g| g.dimension());
    let label = dimension.map(|d| d.as_str().to_string());
    let published = state
        .db
        .run(move |conn| {
            conn.snapshot(|conn| {
                let operation = db::operations::get(conn, &op)
                    .ok()
                    .filter(|o| o.public)
                    .ok_or_else(|| Error::NotFound(format!("there is no public operation `{op}`")))?;
                let seq = db::journal::position(conn)?;
                let names: Vec<&str> = metrics.iter().map(|m| m.as_str()).collect();
                let mut dimensions = vec![TOTAL];
                if let Some(d) = dimension {
                    dimensions.push(d.as_str());
                }
                let cells = db::tallies::read(conn, &op, &names, &dimensions, None)?;
                let reported = db::stated::current(conn, &op, None)?;
                let report = totals::assemble(&op, seq, &cells, &reported, &metrics, dimension, label);
                Ok(publish::publish(
                    &report,
                    &operation.name,
                    operation.suppression_threshold,
                ))
            })
        })
        .await?;
    Ok(web::Json(published))
}
