//! Queries for national units: loads and stores; the writes' rules are in `service::units`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::units;
use super::{corrupt, DbConn};
use crate::domain::unit::{NewUnit, Unit, UnitKind};
use crate::error::{Error, Result};
use crate::on_backend;

/// One row of `units`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = units)]
struct UnitRow {
    id: i64,
    operation_id: String,
    country: String,
    name: String,
    kind: String,
    officers_deployed: i64,
    active: bool,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<UnitRow> for Unit {
    type Error = Error;

    fn try_from(row: UnitRow) -> Result<Unit> {
        Ok(Unit {
            kind: UnitKind::parse(&row.kind).ok_or_else(|| corrupt("unit kind", &row.kind))?,
            id: row.id,
            operation_id: row.operation_id,
            country: row.country,
            name: row.name,
            officers_deployed: row.officers_deployed,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// Filters of a unit list.
#[derive(Debug, Default)]
pub struct UnitFilter {
    /// Only units of this country.
    pub country: Option<String>,
    /// Only units of these countries (`None`: every country).
    pub countries: Option<Vec<String>>,
    /// Units with an id above this one.
    pub after: Option<i64>,
}

/// Reads one unit of an operation; 404 when the operation has no such unit.
pub fn get(conn: &mut DbConn, operation_id: &str, id: i64) -> Result<Unit> {
    let row: Option<UnitRow> = on_backend!(conn, c => units::table
        .filter(units::operation_id.eq(operation_id))
        .filter(units::id.eq(id))
        .select(UnitRow::as_select())
        .first(c)
        .optional())?;
    row.ok_or_else(|| Error::NotFound(format!("operation `{operation_id}` has no unit {id}")))?
        .try_into()
}

/// Lists the units of an operation by id, at most `limit` of them.
pub fn list(conn: &mut DbConn, operation_id: &str, filter: &UnitFilter, limit: i64) -> Result<Vec<Unit>> {
    let rows: Vec<UnitRow> = on_backend!(conn, c => {
        let mut query = units::table
            .filter(units::operation_id.eq(operation_id))
            .select(UnitRow::as_select())
            .order(units::id)
            .limit(limit)
            .into_boxed();
        if let Some(country) = &filter.country {
            query = query.filter(units::country.eq(country));
        }
        if let Some(countries) = &filter.countries {
            query = query.filter(units::country.eq_any(countries));
        }
        if let Some(after) = filter.after {
            query = query.filter(units::id.gt(after));
        }
        query.load(c)
    })?;
    rows.into_iter().map(Unit::try_from).collect()
}

/// The unit of an operation with this country and name, if there is one.
pub fn find_by_name(conn: &mut DbConn, operation_id: &str, country: &str, name: &str) -> Result<Option<Unit>> {
    let row: Option<UnitRow> = on_backend!(conn, c => units::table
        .filter(units::operation_id.eq(operation_id))
        .filter(units::country.eq(country))
        .filter(units::name.eq(name))
        .select(UnitRow::as_select())
        .first(c)
        .optional())?;
    row.map(Unit::try_from).transpose()
}

/// Stores a new unit (version 1) stamped with the transaction's feed place; returns it.
pub fn insert(
    conn: &mut DbConn,
    operation_id: &str,
    new: &NewUnit,
    at: NaiveDateTime,
    feed: (i64, i32),
) -> Result<Unit> {
    let values = (
        units::operation_id.eq(operation_id),
        units::country.eq(&new.country),
        units::name.eq(&new.name),
        units::kind.eq(new.kind.as_str()),
        units::officers_deployed.eq(new.officers_deployed),
        units::active.eq(new.active),
        units::version.eq(1_i64),
        units::created_at.eq(at),
        units::updated_at.eq(at),
        units::feed_txn.eq(feed.0),
        units::feed_index.eq(feed.1),
    );
    let row: UnitRow = on_backend!(conn, c => diesel::insert_into(units::table)
        .values(values)
        .returning(UnitRow::as_returning())
        .get_result(c))?;
    row.try_into()
}

/// Stores the next version of a unit if it is still at `unit.version - 1`; returns whether it was.
pub fn update(conn: &mut DbConn, unit: &Unit, feed: (i64, i32)) -> Result<bool> {
    let changed = on_backend!(conn, c => diesel::update(units::table
            .filter(units::id.eq(unit.id))
            .filter(units::version.eq(unit.version - 1)))
        .set((
            units::name.eq(&unit.name),
            units::kind.eq(unit.kind.as_str()),
            units::officers_deployed.eq(unit.officers_deployed),
            units::active.eq(unit.active),
            units::version.eq(unit.version),
            units::updated_at.eq(unit.updated_at.naive_utc()),
            units::feed_txn.eq(feed.0),
            units::feed_index.eq(feed.1),
        ))
        .execute(c))?;
    Ok(changed == 1)
}

/// The units last written by these transactions (for the change feed), with their feed index,
/// of the given countries if any.
pub fn by_feed_txns(
    conn: &mut DbConn,
    operation_id: &str,
    txns: &[i64],
    countries: Option<&[String]>,
) -> Result<Vec<(i64, i32, Unit)>> {
    let rows: Vec<(i64, i32, UnitRow)> = on_backend!(conn, c => {
        let mut query = units::table
            .filter(units::operation_id.eq(operation_id))
            .filter(units::feed_txn.eq_any(txns))
            .select((units::feed_txn, units::feed_index, UnitRow::as_select()))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(units::country.eq_any(countries));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|(txn, index, row)| Ok((txn, index, Unit::try_from(row)?)))
        .collect()
}
