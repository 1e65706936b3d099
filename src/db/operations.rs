//! Queries for operations: loads and stores; the writes' rules are in `service::operations`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{operations, units};
use super::{corrupt, DbConn};
use crate::domain::operation::{NewOperation, Operation, OperationStatus};
use crate::error::{Error, Result};
use crate::on_backend;

/// One row of `operations`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = operations)]
struct OperationRow {
    id: String,
    name: String,
    description: String,
    coordinator: String,
    status: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    public: bool,
    suppression_threshold: i32,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    time_zone: String,
    report_deadline: String,
}

impl OperationRow {
    fn into_operation(self, participation: Option<&Participation>) -> Result<Operation> {
        let status = OperationStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        let (countries, officers) = participation
            .map(|p| (p.countries.iter().cloned().collect(), p.officers))
            .unwrap_or_default();
        Ok(Operation {
            id: self.id,
            name: self.name,
            description: self.description,
            coordinator: self.coordinator,
            status,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            public: self.public,
            suppression_threshold: self.suppression_threshold,
            time_zone: self.time_zone,
            report_deadline: self.report_deadline,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            participating_countries: countries,
            officers_deployed: officers,
        })
    }
}

/// Countries with an active unit and the officers those units deploy.
#[derive(Debug, Default)]
struct Participation {
    countries: BTreeSet<String>,
    officers: i64,
}

/// Reads the participation of the given operations from their active units.
fn participation(conn: &mut DbConn, ids: &[String]) -> Result<BTreeMap<String, Participation>> {
    let rows: Vec<(String, String, i64)> = on_backend!(conn, c => units::table
        .filter(units::operation_id.eq_any(ids))
        .filter(units::active.eq(true))
        .select((units::operation_id, units::country, units::officers_deployed))
        .load(c))?;
    let mut by_operation: BTreeMap<String, Participation> = BTreeMap::new();
    for (operation_id, country, officers) in rows {
        let entry = by_operation.entry(operation_id).or_default();
        entry.countries.insert(country);
        entry.officers += officers;
    }
    Ok(by_operation)
}

fn with_participation(conn: &mut DbConn, rows: Vec<OperationRow>) -> Result<Vec<Operation>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let participation = participation(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let p = participation.get(&row.id);
            row.into_operation(p)
        })
        .collect()
}

fn find_row(conn: &mut DbConn, id: &str) -> Result<Option<OperationRow>> {
    Ok(on_backend!(conn, c => operations::table
        .find(id)
        .select(OperationRow::as_select())
        .first(c)
        .optional())?)
}

/// Reads one operation with its participation; 404 when there is none.
pub fn get(conn: &mut DbConn, id: &str) -> Result<Operation> {
    let row = find_row(conn, id)?.ok_or_else(|| not_found(id))?;
    with_participation(conn, vec![row])?.pop().ok_or_else(|| not_found(id))
}

/// 404 unless the operation exists; cheaper than [`get`] (no participation) for reads that
/// only need to know it is there.
pub fn require_exists(conn: &mut DbConn, id: &str) -> Result<()> {
    find_row(conn, id)?.map(|_| ()).ok_or_else(|| not_found(id))
}

/// Lists operations by id after `after`, at most `limit` of them, only those in `only` if given.
pub fn list(conn: &mut DbConn, only: Option<&[String]>, after: Option<&str>, limit: i64) -> Result<Vec<Operation>> {
    let rows: Vec<OperationRow> = on_backend!(conn, c => {
        let mut query = operations::table.select(OperationRow::as_select()).order(operations::id).limit(limit).into_boxed();
        if let Some(after) = after {
            query = query.filter(operations::id.gt(after));
        }
        if let Some(only) = only {
            query = query.filter(operations::id.eq_any(only));
        }
        query.load(c)
    })?;
    with_participation(conn, rows)
}

/// Reads one operation without its participation (what a write needs: status, window,
/// threshold); 404 when there is none.
pub fn get_bare(conn: &mut DbConn, id: &str) -> Result<Operation> {
    find_row(conn, id)?.ok_or_else(|| not_found(id))?.into_operation(None)
}

/// Stores a new operation (version 1) created at `at`.
pub fn insert(conn: &mut DbConn, new: &NewOperation, at: NaiveDateTime) -> Result<Operation> {
    let row = OperationRow {
        id: new.id.clone(),
        name: new.name.clone(),
        description: new.description.clone(),
        coordinator: new.coordinator.clone(),
        status: new.status.unwrap_or(OperationStatus::Planned).as_str().to_string(),
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        public: new.public,
        suppression_threshold: new.threshold(),
        version: 1,
        created_at: at,
        updated_at: at,
        time_zone: new.time_zone().to_string(),
        report_deadline: new.report_deadline().to_string(),
    };
    on_backend!(conn, c => diesel::insert_into(operations::table).values(&row).execute(c))?;
    row.into_operation(None)
}

/// Stores the next version of an operation if it is still at `next.version - 1`; returns
/// whether it was.
pub fn update(conn: &mut DbConn, next: &Operation) -> Result<bool> {
    let changed = on_backend!(conn, c => diesel::update(operations::table.find(&next.id).filter(operations::version.eq(next.version - 1)))
        .set((
            operations::name.eq(&next.name),
            operations::description.eq(&next.description),
            operations::coordinator.eq(&next.coordinator),
            operations::status.eq(next.status.as_str()),
            operations::starts_on.eq(next.starts_on),
            operations::ends_on.eq(next.ends_on),
            operations::public.eq(next.public),
            operations::suppression_threshold.eq(next.suppression_threshold),
            operations::time_zone.eq(&next.time_zone),
            operations::report_deadline.eq(&next.report_deadline),
            operations::version.eq(next.version),
            operations::updated_at.eq(next.updated_at.naive_utc()),
        ))
        .execute(c))?;
    Ok(changed == 1)
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("there is no operation `{id}`"))
}
