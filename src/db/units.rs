//! Queries for national units.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::units;
use super::{corrupt, journal, now, tallies, DbConn, Writer};
use crate::domain::change::{Action, Entity, NewChange};
use crate::domain::tally::{self, Cells};
use crate::domain::unit::{NewUnit, Unit, UnitKind, UnitPatch};
use crate::domain::version::IfMatch;
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

/// Creates a unit. Returns it and whether it was created now: a replay of the same create
/// returns the stored unit, while other content under the same country and name is a 409.
pub fn create(conn: &mut DbConn, operation_id: &str, new: &NewUnit, writer: &Writer) -> Result<(Unit, bool)> {
    conn.write(|conn| {
        super::operations::get(conn, operation_id)?.require_open()?;
        let existing: Option<UnitRow> = on_backend!(conn, c => units::table
            .filter(units::operation_id.eq(operation_id))
            .filter(units::country.eq(&new.country))
            .filter(units::name.eq(&new.name))
            .select(UnitRow::as_select())
            .first(c)
            .optional())?;
        if let Some(existing) = existing {
            let existing = Unit::try_from(existing)?;
            return if new.matches(&existing) {
                Ok((existing, false))
            } else {
                Err(Error::Conflict(format!(
                    "{} already has a unit named `{}` in this operation, with other content",
                    new.country, new.name
                )))
            };
        }
        let at = now();
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
        );
        let row: UnitRow = on_backend!(conn, c => diesel::insert_into(units::table)
            .values(values)
            .returning(UnitRow::as_returning())
            .get_result(c))?;
        let unit = Unit::try_from(row)?;
        record(conn, None, &unit, writer)?;
        Ok((unit, true))
    })
}

/// Applies a patch under `If-Match`; a patch that changes nothing keeps the version.
/// `allowed` checks the stored unit (its country) before anything is written.
pub fn update(
    conn: &mut DbConn,
    operation_id: &str,
    id: i64,
    if_match: &IfMatch,
    patch: &UnitPatch,
    writer: &Writer,
    allowed: impl FnOnce(&Unit) -> Result<()>,
) -> Result<Unit> {
    conn.write(|conn| {
        super::operations::get(conn, operation_id)?.require_open()?;
        let current = get(conn, operation_id, id)?;
        allowed(&current)?;
        if_match.check(current.version)?;
        let Some(next) = current.patched(patch)? else {
            return Ok(current);
        };
        let at = now();
        let changed = on_backend!(conn, c => diesel::update(units::table
                .filter(units::id.eq(id))
                .filter(units::version.eq(current.version)))
            .set((
                units::name.eq(&next.name),
                units::kind.eq(next.kind.as_str()),
                units::officers_deployed.eq(next.officers_deployed),
                units::active.eq(next.active),
                units::version.eq(current.version + 1),
                units::updated_at.eq(at),
            ))
            .execute(c))?;
        if changed == 0 {
            return Err(Error::PreconditionFailed {
                current: get(conn, operation_id, id)?.version,
            });
        }
        let unit = Unit {
            version: current.version + 1,
            updated_at: at.and_utc(),
            ..next
        };
        record(conn, Some(&current), &unit, writer)?;
        Ok(unit)
    })
}

/// Keeps the officers tally and the change feed in step with a unit write (feed last: it takes
/// the sequence lock).
fn record(conn: &mut DbConn, before: Option<&Unit>, after: &Unit, writer: &Writer) -> Result<()> {
    let mut cells = Cells::new();
    if let Some(before) = before {
        tally::add_officers(&mut cells, &before.country, before.officers_deployed, before.active, -1);
    }
    tally::add_officers(&mut cells, &after.country, after.officers_deployed, after.active, 1);
    tallies::add(conn, &after.operation_id, cells)?;
    let change = NewChange {
        operation_id: after.operation_id.clone(),
        entity: Entity::Unit,
        action: Action::Upsert,
        country: after.country.clone(),
        key: after.id.to_string(),
        version: after.version,
        data: serde_json::to_string(after).unwrap_or_default(),
    };
    let action = if before.is_some() { "update" } else { "create" };
    let audit = writer.audit(
        &after.operation_id,
        &after.country,
        action,
        "unit",
        &change.key,
        after.version,
        change.data.clone(),
    );
    journal::append(conn, &[change], &[audit])
}
