//! Queries for reported tallies and for when each country last reported.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::interceptions::Writer;
use super::schema::{reported_tallies, reporting};
use super::{journal, now, DbConn};
use crate::domain::change::{Action, Entity, NewChange};
use crate::domain::interception::WriteResult;
use crate::domain::metric::{Dimension, Metric};
use crate::domain::report::ReportedFigure;
use crate::domain::reported::{ReportedTally, ReportedTallyInput};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};
use crate::on_backend;

type Row = (
    String,
    String,
    i64,
    i64,
    String,
    NaiveDate,
    String,
    String,
    NaiveDateTime,
);

fn to_tally(operation_id: &str, row: Row) -> Result<ReportedTally> {
    let (country, metric, version, value, breakdown, as_of, _hash, sub, at) = row;
    Ok(ReportedTally {
        operation_id: operation_id.to_string(),
        metric: Metric::parse(&metric).ok_or_else(|| Error::Internal(format!("stored metric `{metric}`")))?,
        country,
        value,
        breakdown: serde_json::from_str(&breakdown).map_err(|e| Error::Internal(format!("stored breakdown: {e}")))?,
        as_of,
        version,
        reported_by: sub,
        reported_at: at.and_utc(),
        result: None,
    })
}

macro_rules! columns {
    () => {
        (
            reported_tallies::country,
            reported_tallies::metric,
            reported_tallies::version,
            reported_tallies::value,
            reported_tallies::breakdown,
            reported_tallies::as_of,
            reported_tallies::content_hash,
            reported_tallies::reported_by_sub,
            reported_tallies::reported_at,
        )
    };
}

fn current_row(conn: &mut DbConn, operation_id: &str, country: &str, metric: Metric) -> Result<Option<Row>> {
    Ok(on_backend!(conn, c => reported_tallies::table
        .filter(reported_tallies::operation_id.eq(operation_id))
        .filter(reported_tallies::country.eq(country))
        .filter(reported_tallies::metric.eq(metric.as_str()))
        .filter(reported_tallies::is_current.eq(true))
        .select(columns!())
        .first(c)
        .optional())?)
}

/// States a figure: a new version unless the same figure is already current.
pub fn put(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    metric: Metric,
    input: &ReportedTallyInput,
    if_match: &IfMatch,
    writer: &Writer,
) -> Result<(WriteResult, ReportedTally)> {
    let hash = input.content_hash();
    let name = format!("reported\u{0}{operation_id}\u{0}{country}\u{0}{}", metric.as_str());
    conn.lock_keys([name.as_str()])?;
    let current = current_row(conn, operation_id, country, metric)?;
    match (&current, if_match) {
        (_, IfMatch::Absent) => {}
        (Some(row), check) => check.check(row.2)?,
        (None, _) => return Err(Error::PreconditionFailed { current: 0 }),
    }
    if let Some(row) = current.clone().filter(|row| row.6 == hash) {
        let tally = to_tally(operation_id, row)?;
        return Ok((
            WriteResult::Unchanged,
            ReportedTally {
                result: Some(WriteResult::Unchanged),
                ..tally
            },
        ));
    }
    let version = current.as_ref().map_or(1, |row| row.2 + 1);
    let at = now();
    let breakdown = serde_json::to_string(&input.breakdown).unwrap_or_default();
    on_backend!(conn, c => diesel::update(reported_tallies::table
            .filter(reported_tallies::operation_id.eq(operation_id))
            .filter(reported_tallies::country.eq(country))
            .filter(reported_tallies::metric.eq(metric.as_str()))
            .filter(reported_tallies::is_current.eq(true)))
        .set(reported_tallies::is_current.eq(false))
        .execute(c))?;
    on_backend!(conn, c => diesel::insert_into(reported_tallies::table)
        .values((
            reported_tallies::operation_id.eq(operation_id),
            reported_tallies::country.eq(country),
            reported_tallies::metric.eq(metric.as_str()),
            reported_tallies::version.eq(version),
            reported_tallies::is_current.eq(true),
            reported_tallies::value.eq(input.value),
            reported_tallies::breakdown.eq(&breakdown),
            reported_tallies::as_of.eq(input.as_of),
            reported_tallies::content_hash.eq(&hash),
            reported_tallies::reported_by_sub.eq(&writer.sub),
            reported_tallies::reported_by_jti.eq(&writer.jti),
            reported_tallies::reported_at.eq(at),
        ))
        .execute(c))?;
    let result = if version == 1 {
        WriteResult::Created
    } else {
        WriteResult::Updated
    };
    let tally = ReportedTally {
        operation_id: operation_id.to_string(),
        country: country.to_string(),
        metric,
        value: input.value,
        breakdown: input.breakdown.clone(),
        as_of: input.as_of,
        version,
        reported_by: writer.sub.clone(),
        reported_at: at.and_utc(),
        result: None,
    };
    touch(
        conn,
        operation_id,
        &[country.to_string()],
        writer,
        &format!("tally {}", metric.as_str()),
    )?;
    let data = serde_json::to_string(&tally).unwrap_or_default();
    let key = format!("{country}/{}", metric.as_str());
    let action = if version == 1 { "create" } else { "update" };
    let audit = writer.audit(operation_id, country, action, "tally", &key, version, data.clone());
    let change = NewChange {
        operation_id: operation_id.to_string(),
        entity: Entity::Tally,
        action: Action::Upsert,
        country: country.to_string(),
        key,
        version,
        data,
    };
    journal::append(conn, &[change], &[audit])?;
    Ok((
        result,
        ReportedTally {
            result: Some(result),
            ..tally
        },
    ))
}

/// Every version of one reported tally, newest first.
pub fn history(conn: &mut DbConn, operation_id: &str, country: &str, metric: Metric) -> Result<Vec<ReportedTally>> {
    let rows: Vec<Row> = on_backend!(conn, c => reported_tallies::table
        .filter(reported_tallies::operation_id.eq(operation_id))
        .filter(reported_tallies::country.eq(country))
        .filter(reported_tallies::metric.eq(metric.as_str()))
        .order(reported_tallies::version.desc())
        .select(columns!())
        .load(c))?;
    rows.into_iter().map(|row| to_tally(operation_id, row)).collect()
}

/// The current figures of an operation, of the given countries if any.
pub fn current(conn: &mut DbConn, operation_id: &str, countries: Option<&[String]>) -> Result<Vec<ReportedFigure>> {
    let rows: Vec<Row> = on_backend!(conn, c => {
        let mut query = reported_tallies::table
            .filter(reported_tallies::operation_id.eq(operation_id))
            .filter(reported_tallies::is_current.eq(true))
            .select(columns!())
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reported_tallies::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|row| {
            let tally = to_tally(operation_id, row)?;
            let breakdown: BTreeMap<Dimension, BTreeMap<String, i64>> = tally.breakdown;
            Ok(ReportedFigure {
                country: tally.country,
                metric: tally.metric,
                value: tally.value,
                breakdown,
                as_of: tally.as_of,
            })
        })
        .collect()
}

/// Records that `countries` reported now (`what`: what they sent), in the writer's transaction.
pub fn touch(conn: &mut DbConn, operation_id: &str, countries: &[String], writer: &Writer, what: &str) -> Result<()> {
    let at = now();
    let mut sorted = countries.to_vec();
    sorted.sort();
    sorted.dedup();
    for country in &sorted {
        on_backend!(conn, c => diesel::insert_into(reporting::table)
            .values((
                reporting::operation_id.eq(operation_id),
                reporting::country.eq(country),
                reporting::last_reported_at.eq(at),
                reporting::last_sub.eq(&writer.sub),
                reporting::last_what.eq(what),
            ))
            .on_conflict((reporting::operation_id, reporting::country))
            .do_update()
            .set((
                reporting::last_reported_at.eq(excluded(reporting::last_reported_at)),
                reporting::last_sub.eq(excluded(reporting::last_sub)),
                reporting::last_what.eq(excluded(reporting::last_what)),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// When each country of an operation last reported: country, time, by whom, what.
pub fn last_reports(conn: &mut DbConn, operation_id: &str) -> Result<Vec<(String, NaiveDateTime, String, String)>> {
    Ok(on_backend!(conn, c => reporting::table
        .filter(reporting::operation_id.eq(operation_id))
        .select((reporting::country, reporting::last_reported_at, reporting::last_sub, reporting::last_what))
        .order(reporting::country)
        .load(c))?)
}
