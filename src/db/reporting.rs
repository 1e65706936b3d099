//! Queries for the reporting record: when each country of an operation last sent anything, kept
//! current by the writes themselves so the reporting status never scans the records.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::reporting;
use super::DbConn;
use crate::domain::audit::Writer;
use crate::error::Result;
use crate::on_backend;

/// When a country last reported, by whom, and what it sent.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reporting)]
pub struct LastReport {
    /// The country.
    pub country: String,
    /// When (UTC).
    pub last_reported_at: NaiveDateTime,
    /// `sub` of the token that sent it.
    pub last_sub: String,
    /// What it sent (`interceptions`, `tally victims_safeguarded`, ...).
    pub last_what: String,
}

/// Records that `countries` reported at `at` (`what`: what they sent), in the writer's
/// transaction; one row per country, in sorted order.
pub fn touch(
    conn: &mut DbConn,
    operation_id: &str,
    countries: &[&str],
    writer: &Writer,
    what: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut sorted = countries.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for country in sorted {
        on_backend!(conn, c => diesel::insert_into(reporting::table)
            .values((
                reporting::operation_id.eq(operation_id),
                reporting::country.eq(country),
                reporting::last_reported_at.eq(at.naive_utc()),
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

/// When each country of an operation last reported, by country.
pub fn last_reports(conn: &mut DbConn, operation_id: &str) -> Result<Vec<LastReport>> {
    Ok(on_backend!(conn, c => reporting::table
        .filter(reporting::operation_id.eq(operation_id))
        .select(LastReport::as_select())
        .order(reporting::country)
        .load(c))?)
}
