//! Queries for the reporting cycle, all kept current by the writes themselves so the board never
//! scans the records: when each country last sent anything (`reporting`), what it reported for
//! each day (`reporting_days`, with its nil returns), and the finality of its figures
//! (`reporting_status`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Text, Timestamp};
use diesel::upsert::excluded;

use super::schema::{reporting, reporting_days, reporting_status};
use super::{corrupt, DbConn};
use crate::domain::audit::Writer;
use crate::domain::reporting::{CountryStatus, Finality, NilReturn, StoredDay};
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
    if let DbConn::Postgres(c) = conn {
        // One statement whatever the number of countries: the rows are locked at the end of the
        // write, and the fewer round trips while they are held the better.
        diesel::sql_query(
            "INSERT INTO reporting (operation_id, country, last_reported_at, last_sub, last_what) \
             SELECT $1, t.country, $2, $3, $4 FROM unnest($5::text[]) AS t(country) \
             ON CONFLICT (operation_id, country) DO UPDATE SET last_reported_at = excluded.last_reported_at, \
                 last_sub = excluded.last_sub, last_what = excluded.last_what",
        )
        .bind::<Text, _>(operation_id)
        .bind::<Timestamp, _>(at.naive_utc())
        .bind::<Text, _>(&writer.sub)
        .bind::<Text, _>(what)
        .bind::<Array<Text>, _>(sorted)
        .execute(c)?;
        return Ok(());
    }
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

/// What a write changes in one country's day: live records and current stated figures added
/// (or, negative, taken away).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayChange {
    /// The country.
    pub country: String,
    /// The day, in the operation's time zone.
    pub day: NaiveDate,
    /// Records added (negative: taken away).
    pub records: i64,
    /// Stated figures added (negative: moved away).
    pub stated: i64,
}

/// Adds the changes to the days they name, in the writer's transaction (which holds the
/// countries' locks); a day seen for the first time starts at `at`, and every day written
/// records `at` as its last write.
pub fn add_days(conn: &mut DbConn, operation_id: &str, changes: &[DayChange], at: DateTime<Utc>) -> Result<()> {
    let at = at.naive_utc();
    // One change per day (a statement may touch a row once), in key order (as every writer
    // locks them).
    let mut summed: std::collections::BTreeMap<(&str, NaiveDate), (i64, i64)> = std::collections::BTreeMap::new();
    for change in changes {
        let sum = summed.entry((change.country.as_str(), change.day)).or_default();
        sum.0 += change.records;
        sum.1 += change.stated;
    }
    let changes: Vec<DayChange> = summed
        .into_iter()
        .map(|((country, day), (records, stated))| DayChange {
            country: country.to_string(),
            day,
            records,
            stated,
        })
        .collect();
    if let DbConn::Postgres(c) = conn {
        if changes.is_empty() {
            return Ok(());
        }
        diesel::sql_query(
            "INSERT INTO reporting_days (operation_id, country, day, records, stated, first_at, last_at) \
             SELECT $1, t.country, t.day, t.records, t.stated, $2, $2 \
             FROM unnest($3::text[], $4::date[], $5::bigint[], $6::bigint[]) AS t(country, day, records, stated) \
             ON CONFLICT (operation_id, country, day) DO UPDATE SET \
                 records = reporting_days.records + excluded.records, \
                 stated = reporting_days.stated + excluded.stated, last_at = excluded.last_at",
        )
        .bind::<Text, _>(operation_id)
        .bind::<Timestamp, _>(at)
        .bind::<Array<Text>, _>(changes.iter().map(|d| d.country.as_str()).collect::<Vec<_>>())
        .bind::<Array<Date>, _>(changes.iter().map(|d| d.day).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(changes.iter().map(|d| d.records).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(changes.iter().map(|d| d.stated).collect::<Vec<_>>())
        .execute(c)?;
        return Ok(());
    }
    for change in &changes {
        on_backend!(conn, c => diesel::insert_into(reporting_days::table)
            .values((
                reporting_days::operation_id.eq(operation_id),
                reporting_days::country.eq(&change.country),
                reporting_days::day.eq(change.day),
                reporting_days::records.eq(change.records),
                reporting_days::stated.eq(change.stated),
                reporting_days::first_at.eq(at),
                reporting_days::last_at.eq(at),
            ))
            .on_conflict((reporting_days::operation_id, reporting_days::country, reporting_days::day))
            .do_update()
            .set((
                reporting_days::records.eq(reporting_days::records + excluded(reporting_days::records)),
                reporting_days::stated.eq(reporting_days::stated + excluded(reporting_days::stated)),
                reporting_days::last_at.eq(excluded(reporting_days::last_at)),
            ))
            .execute(c))?;
    }
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reporting_days)]
struct DayRow {
    country: String,
    day: NaiveDate,
    records: i64,
    stated: i64,
    first_at: NaiveDateTime,
    last_at: NaiveDateTime,
    nil_at: Option<NaiveDateTime>,
    nil_sub: Option<String>,
    nil_version: i64,
}

impl DayRow {
    fn stored(&self) -> StoredDay {
        StoredDay {
            country: self.country.clone(),
            day: self.day,
            records: self.records,
            stated: self.stated,
            first_at: self.first_at.and_utc(),
            last_at: self.last_at.and_utc(),
            nil_at: self.nil_at.map(|t| t.and_utc()),
        }
    }

    fn nil_return(&self, operation_id: &str) -> NilReturn {
        NilReturn {
            operation_id: operation_id.to_string(),
            country: self.country.clone(),
            day: self.day,
            filed: self.nil_at.is_some(),
            version: self.nil_version,
            filed_at: self.nil_at.map(|t| t.and_utc()),
            filed_by: self.nil_sub.clone(),
            superseded: self.nil_at.is_some() && (self.records > 0 || self.stated > 0),
        }
    }
}

/// Every stored day of an operation, only of `countries` if given.
pub fn days(conn: &mut DbConn, operation_id: &str, countries: Option<&[String]>) -> Result<Vec<StoredDay>> {
    let rows: Vec<DayRow> = on_backend!(conn, c => {
        let mut query = reporting_days::table
            .filter(reporting_days::operation_id.eq(operation_id))
            .select(DayRow::as_select())
            .order((reporting_days::country, reporting_days::day))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reporting_days::country.eq_any(countries));
        }
        query.load(c)
    })?;
    Ok(rows.iter().map(DayRow::stored).collect())
}

/// Whether anything has been reported in the operation (a record, a stated figure, a nil return).
pub fn any_day(conn: &mut DbConn, operation_id: &str) -> Result<bool> {
    let found: Option<String> = on_backend!(conn, c => reporting_days::table
        .filter(reporting_days::operation_id.eq(operation_id))
        .select(reporting_days::country)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

/// One country's day as stored, and its nil return as it stands (`None`: the day was never
/// written).
pub fn day(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    day: NaiveDate,
) -> Result<Option<(StoredDay, NilReturn)>> {
    let row: Option<DayRow> = on_backend!(conn, c => reporting_days::table
        .find((operation_id, country, day))
        .select(DayRow::as_select())
        .first(c)
        .optional())?;
    Ok(row.map(|r| (r.stored(), r.nil_return(operation_id))))
}

/// Stores a nil return as it now stands (filed or retracted), at its place in the feed.
/// Filing counts as a write for the day (`last_at`); a retraction does not.
pub fn store_nil_return(conn: &mut DbConn, nil: &NilReturn, feed: (i64, i32), at: DateTime<Utc>) -> Result<()> {
    let at = at.naive_utc();
    let nil_at = nil.filed_at.map(|t| t.naive_utc());
    if nil.filed {
        on_backend!(conn, c => diesel::insert_into(reporting_days::table)
            .values((
                reporting_days::operation_id.eq(&nil.operation_id),
                reporting_days::country.eq(&nil.country),
                reporting_days::day.eq(nil.day),
                reporting_days::first_at.eq(at),
                reporting_days::last_at.eq(at),
                reporting_days::nil_at.eq(nil_at),
                reporting_days::nil_sub.eq(&nil.filed_by),
                reporting_days::nil_version.eq(nil.version),
                reporting_days::feed_txn.eq(feed.0),
                reporting_days::feed_index.eq(feed.1),
            ))
            .on_conflict((reporting_days::operation_id, reporting_days::country, reporting_days::day))
            .do_update()
            .set((
                reporting_days::last_at.eq(excluded(reporting_days::last_at)),
                reporting_days::nil_at.eq(excluded(reporting_days::nil_at)),
                reporting_days::nil_sub.eq(excluded(reporting_days::nil_sub)),
                reporting_days::nil_version.eq(excluded(reporting_days::nil_version)),
                reporting_days::feed_txn.eq(excluded(reporting_days::feed_txn)),
                reporting_days::feed_index.eq(excluded(reporting_days::feed_index)),
            ))
            .execute(c))?;
    } else {
        on_backend!(conn, c => diesel::update(reporting_days::table.find((&nil.operation_id, &nil.country, nil.day)))
            .set((
                reporting_days::nil_at.eq(None::<NaiveDateTime>),
                reporting_days::nil_version.eq(nil.version),
                reporting_days::feed_txn.eq(feed.0),
                reporting_days::feed_index.eq(feed.1),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Nil returns (filed or retracted) written by the given transactions, for the change feed.
pub fn nil_returns_by_feed_txns(
    conn: &mut DbConn,
    operation_id: &str,
    txns: &[i64],
    countries: Option<&[String]>,
) -> Result<Vec<(i64, i32, NilReturn)>> {
    let rows: Vec<(i64, i32, DayRow)> = on_backend!(conn, c => {
        let mut query = reporting_days::table
            .filter(reporting_days::operation_id.eq(operation_id))
            .filter(reporting_days::nil_version.gt(0))
            .filter(reporting_days::feed_txn.eq_any(txns))
            .select((reporting_days::feed_txn, reporting_days::feed_index, DayRow::as_select()))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reporting_days::country.eq_any(countries));
        }
        query.load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(txn, index, row)| (txn, index, row.nil_return(operation_id)))
        .collect())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = reporting_status)]
struct StatusRow {
    operation_id: String,
    country: String,
    status: String,
    version: i64,
    reason: Option<String>,
    changed_at: NaiveDateTime,
    changed_by: String,
}

impl StatusRow {
    fn into_status(self) -> Result<CountryStatus> {
        let status: Finality = self
            .status
            .parse()
            .map_err(|_| corrupt("reporting status", &self.status))?;
        Ok(CountryStatus {
            operation_id: self.operation_id,
            country: self.country,
            status,
            version: self.version,
            reason: self.reason,
            changed_at: Some(self.changed_at.and_utc()),
            changed_by: Some(self.changed_by),
        })
    }
}

/// The stored statuses of an operation's countries (only of `countries` if given); countries
/// without one are provisional.
pub fn statuses(conn: &mut DbConn, operation_id: &str, countries: Option<&[String]>) -> Result<Vec<CountryStatus>> {
    let rows: Vec<StatusRow> = on_backend!(conn, c => {
        let mut query = reporting_status::table
            .filter(reporting_status::operation_id.eq(operation_id))
            .select(StatusRow::as_select())
            .order(reporting_status::country)
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reporting_status::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter().map(StatusRow::into_status).collect()
}

/// One country's status (provisional, version 0, when it never moved).
pub fn status(conn: &mut DbConn, operation_id: &str, country: &str) -> Result<CountryStatus> {
    let row: Option<StatusRow> = on_backend!(conn, c => reporting_status::table
        .find((operation_id, country))
        .select(StatusRow::as_select())
        .first(c)
        .optional())?;
    match row {
        Some(row) => row.into_status(),
        None => Ok(CountryStatus::provisional(operation_id, country)),
    }
}

/// The countries among `countries` whose figures are final or approved, with their status:
/// what a write asks under the countries' locks before it writes anything.
pub fn closed_countries(conn: &mut DbConn, operation_id: &str, countries: &[&str]) -> Result<Vec<(String, Finality)>> {
    let rows: Vec<(String, String)> = on_backend!(conn, c => reporting_status::table
        .filter(reporting_status::operation_id.eq(operation_id))
        .filter(reporting_status::country.eq_any(countries))
        .filter(reporting_status::status.eq_any([Finality::Final.as_str(), Finality::Approved.as_str()]))
        .select((reporting_status::country, reporting_status::status))
        .load(c))?;
    rows.into_iter()
        .map(|(country, status)| {
            let status: Finality = status.parse().map_err(|_| corrupt("reporting status", &status))?;
            Ok((country, status))
        })
        .collect()
}

/// Stores a country's status after a transition, at its place in the feed.
pub fn store_status(conn: &mut DbConn, status: &CountryStatus, feed: (i64, i32)) -> Result<()> {
    let changed_at = status.changed_at.map(|t| t.naive_utc()).unwrap_or_else(super::now);
    let changed_by = status.changed_by.clone().unwrap_or_default();
    on_backend!(conn, c => diesel::insert_into(reporting_status::table)
        .values((
            reporting_status::operation_id.eq(&status.operation_id),
            reporting_status::country.eq(&status.country),
            reporting_status::status.eq(status.status.as_str()),
            reporting_status::version.eq(status.version),
            reporting_status::reason.eq(&status.reason),
            reporting_status::changed_at.eq(changed_at),
            reporting_status::changed_by.eq(&changed_by),
            reporting_status::feed_txn.eq(feed.0),
            reporting_status::feed_index.eq(feed.1),
        ))
        .on_conflict((reporting_status::operation_id, reporting_status::country))
        .do_update()
        .set((
            reporting_status::status.eq(excluded(reporting_status::status)),
            reporting_status::version.eq(excluded(reporting_status::version)),
            reporting_status::reason.eq(excluded(reporting_status::reason)),
            reporting_status::changed_at.eq(excluded(reporting_status::changed_at)),
            reporting_status::changed_by.eq(excluded(reporting_status::changed_by)),
            reporting_status::feed_txn.eq(excluded(reporting_status::feed_txn)),
            reporting_status::feed_index.eq(excluded(reporting_status::feed_index)),
        ))
        .execute(c))?;
    Ok(())
}

/// Statuses written by the given transactions, for the change feed.
pub fn statuses_by_feed_txns(
    conn: &mut DbConn,
    operation_id: &str,
    txns: &[i64],
    countries: Option<&[String]>,
) -> Result<Vec<(i64, i32, CountryStatus)>> {
    let rows: Vec<(i64, i32, StatusRow)> = on_backend!(conn, c => {
        let mut query = reporting_status::table
            .filter(reporting_status::operation_id.eq(operation_id))
            .filter(reporting_status::feed_txn.eq_any(txns))
            .select((reporting_status::feed_txn, reporting_status::feed_index, StatusRow::as_select()))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(reporting_status::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|(txn, index, row)| Ok((txn, index, row.into_status()?)))
        .collect()
}

/// Recomputes every day's counts of an operation from its records and stated figures and
/// returns each difference with the stored days (`country day: stored … recomputed …`); empty
/// when the maintained days are right. For tests and operators, not for requests.
pub fn verify_days(conn: &mut DbConn, operation_id: &str) -> Result<Vec<String>> {
    use super::schema::{interceptions, reported_tallies};
    use std::collections::BTreeMap;
    let schedule = super::operations::get_bare(conn, operation_id)?.schedule()?;
    let records: Vec<(String, NaiveDateTime)> = on_backend!(conn, c => interceptions::table
        .filter(interceptions::operation_id.eq(operation_id))
        .filter(interceptions::deleted.eq(false))
        .select((interceptions::country, interceptions::occurred_at))
        .load(c))?;
    let stated: Vec<(String, NaiveDate)> = on_backend!(conn, c => reported_tallies::table
        .filter(reported_tallies::operation_id.eq(operation_id))
        .filter(reported_tallies::is_current.eq(true))
        .select((reported_tallies::country, reported_tallies::as_of))
        .load(c))?;
    let mut expected: BTreeMap<(String, NaiveDate), (i64, i64)> = BTreeMap::new();
    for (country, at) in records {
        expected.entry((country, schedule.day_of(at.and_utc()))).or_default().0 += 1;
    }
    for (country, as_of) in stated {
        expected.entry((country, as_of)).or_default().1 += 1;
    }
    let mut stored: BTreeMap<(String, NaiveDate), (i64, i64)> = BTreeMap::new();
    for day in days(conn, operation_id, None)? {
        if day.records != 0 || day.stated != 0 {
            stored.insert((day.country, day.day), (day.records, day.stated));
        }
    }
    let keys: std::collections::BTreeSet<&(String, NaiveDate)> = expected.keys().chain(stored.keys()).collect();
    Ok(keys
        .into_iter()
        .filter_map(|key| {
            let (want, have) = (
                expected.get(key).copied().unwrap_or_default(),
                stored.get(key).copied().unwrap_or_default(),
            );
            (want != have).then(|| {
                format!(
                    "{} {}: stored {} records and {} stated figures, recomputed {} and {}",
                    key.0, key.1, have.0, have.1, want.0, want.1
                )
            })
        })
        .collect())
}

/// Sets when a day's first and last report arrived (and its nil return, if one stands): for the
/// demo, whose reports are loaded at once but stand for a week of reporting. Never used by a
/// request.
pub fn set_report_times(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    day: NaiveDate,
    first: DateTime<Utc>,
) -> Result<()> {
    let at = first.naive_utc();
    on_backend!(conn, c => diesel::update(reporting_days::table.find((operation_id, country, day)))
        .set((reporting_days::first_at.eq(at), reporting_days::last_at.eq(at)))
        .execute(c))?;
    on_backend!(conn, c => diesel::update(
            reporting_days::table.find((operation_id, country, day)).filter(reporting_days::nil_at.is_not_null()),
        )
        .set(reporting_days::nil_at.eq(at))
        .execute(c))?;
    Ok(())
}
