//! Queries for stated figures (the `reported_tallies` table): the current version, a new
//! version, the history, and the current figures that stand in the totals.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::reported_tallies;
use super::{corrupt, DbConn};
use crate::domain::audit::Writer;
use crate::domain::metric::Metric;
use crate::domain::stated::{ReportedTally, ReportedTallyInput};
use crate::domain::totals::ReportedFigure;
use crate::error::Result;
use crate::on_backend;

/// One version of a stated figure.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reported_tallies)]
struct FigureRow {
    operation_id: String,
    country: String,
    metric: String,
    version: i64,
    value: i64,
    breakdown: String,
    as_of: NaiveDate,
    content_hash: String,
    reported_by_sub: String,
    reported_at: NaiveDateTime,
}

/// A stored version and the hash of its content (what tells an unchanged statement).
#[derive(Debug, Clone)]
pub struct StoredFigure {
    /// The version as served.
    pub tally: ReportedTally,
    /// SHA-256 of its figure, breakdown and date.
    pub content_hash: String,
}

impl FigureRow {
    fn into_stored(self) -> Result<StoredFigure> {
        Ok(StoredFigure {
            tally: ReportedTally {
                metric: Metric::parse(&self.metric).ok_or_else(|| corrupt("metric", &self.metric))?,
                breakdown: serde_json::from_str(&self.breakdown).map_err(|_| corrupt("breakdown", &self.breakdown))?,
                operation_id: self.operation_id,
                country: self.country,
                value: self.value,
                as_of: self.as_of,
                version: self.version,
                reported_by: self.reported_by_sub,
                reported_at: self.reported_at.and_utc(),
                result: None,
            },
            content_hash: self.content_hash,
        })
    }
}

/// The current version of one stated figure, if the country stated one.
pub fn current_one(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    metric: Metric,
) -> Result<Option<StoredFigure>> {
    let row: Option<FigureRow> = on_backend!(conn, c => reported_tallies::table
        .filter(reported_tallies::operation_id.eq(operation_id))
        .filter(reported_tallies::country.eq(country))
        .filter(reported_tallies::metric.eq(metric.as_str()))
        .filter(reported_tallies::is_current.eq(true))
        .select(FigureRow::as_select())
        .first(c)
        .optional())?;
    row.map(FigureRow::into_stored).transpose()
}

/// A new version of a stated figure to store.
#[derive(Debug)]
pub struct NewVersion<'a> {
    /// The figure as it will be served.
    pub tally: &'a ReportedTally,
    /// The checked input it came from.
    pub input: &'a ReportedTallyInput,
    /// Who stated it.
    pub writer: &'a Writer,
    /// The transaction's feed id and the figure's index in it.
    pub feed: (i64, i32),
}

/// Stores a new version and makes it the current one (the previous current version stays as
/// history).
pub fn insert_version(conn: &mut DbConn, new: NewVersion) -> Result<()> {
    let t = new.tally;
    on_backend!(conn, c => diesel::update(reported_tallies::table
            .filter(reported_tallies::operation_id.eq(&t.operation_id))
            .filter(reported_tallies::country.eq(&t.country))
            .filter(reported_tallies::metric.eq(t.metric.as_str()))
            .filter(reported_tallies::is_current.eq(true)))
        .set(reported_tallies::is_current.eq(false))
        .execute(c))?;
    let breakdown = serde_json::to_string(&t.breakdown).unwrap_or_default();
    on_backend!(conn, c => diesel::insert_into(reported_tallies::table)
        .values((
            reported_tallies::operation_id.eq(&t.operation_id),
            reported_tallies::country.eq(&t.country),
            reported_tallies::metric.eq(t.metric.as_str()),
            reported_tallies::version.eq(t.version),
            reported_tallies::is_current.eq(true),
            reported_tallies::value.eq(t.value),
            reported_tallies::breakdown.eq(&breakdown),
            reported_tallies::as_of.eq(t.as_of),
            reported_tallies::content_hash.eq(new.input.content_hash()),
            reported_tallies::reported_by_sub.eq(&new.writer.sub),
            reported_tallies::reported_by_jti.eq(&new.writer.jti),
            reported_tallies::reported_at.eq(t.reported_at.naive_utc()),
            reported_tallies::feed_txn.eq(new.feed.0),
            reported_tallies::feed_index.eq(new.feed.1),
        ))
        .execute(c))?;
    Ok(())
}

/// Every version of one stated figure, newest first.
pub fn history(conn: &mut DbConn, operation_id: &str, country: &str, metric: Metric) -> Result<Vec<ReportedTally>> {
    let rows: Vec<FigureRow> = on_backend!(conn, c => reported_tallies::table
        .filter(reported_tallies::operation_id.eq(operation_id))
        .filter(reported_tallies::country.eq(country))
        .filter(reported_tallies::metric.eq(metric.as_str()))
        .order(reported_tallies::version.desc())
        .select(FigureRow::as_select())
        .load(c))?;
    rows.into_iter().map(|row| Ok(row.into_stored()?.tally)).collect()
}

/// The current figures of an operation, of the given countries if any.
pub fn current(conn: &mut DbConn, operation_id: &str, countries: Option<&[String]>) -> Result<Vec<ReportedFigure>> {
    let rows: Vec<FigureRow> = on_backend!(conn, c => {
        let mut query = reported_tallies::table
            .filter(reported_tallies::operation_id.eq(operation_id))
            .filter(reported_tallies::is_current.eq(true))
            .select(FigureRow::as_select())
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reported_tallies::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|row| {
            let tally = row.into_stored()?.tally;
            Ok(ReportedFigure {
                country: tally.country,
                metric: tally.metric,
                value: tally.value,
                breakdown: tally.breakdown,
                as_of: tally.as_of,
            })
        })
        .collect()
}

/// The current figures last stated by these transactions (for the change feed), with their
/// feed index, of the given countries if any.
pub fn by_feed_txns(
    conn: &mut DbConn,
    operation_id: &str,
    txns: &[i64],
    countries: Option<&[String]>,
) -> Result<Vec<(i64, i32, ReportedTally)>> {
    let rows: Vec<(i64, i32, FigureRow)> = on_backend!(conn, c => {
        let mut query = reported_tallies::table
            .filter(reported_tallies::operation_id.eq(operation_id))
            .filter(reported_tallies::is_current.eq(true))
            .filter(reported_tallies::feed_txn.eq_any(txns))
            .select((reported_tallies::feed_txn, reported_tallies::feed_index, FigureRow::as_select()))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reported_tallies::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|(txn, index, row)| Ok((txn, index, row.into_stored()?.tally)))
        .collect()
}
