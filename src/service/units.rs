//! The write use cases of national units: register one, change one. The officers a unit deploys
//! are a tally cell of its country, kept in the same transaction.

use crate::db::journal::Journal;
use crate::db::{self, DbConn};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit, Writer};
use crate::domain::tally::{self, Cells, MAX_CELL};
use crate::domain::unit::{NewUnit, Unit, UnitPatch};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};

/// Registers a unit. Returns it and whether it was created now: a replay of the same
/// registration returns the stored unit, while other content under the same country and name
/// is a 409.
pub fn create(conn: &mut DbConn, operation_id: &str, new: &NewUnit, writer: &Writer) -> Result<(Unit, bool)> {
    conn.write(|conn| {
        conn.lock_countries(operation_id, [new.country.as_str()])?;
        db::operations::get_bare(conn, operation_id)?.require_open()?;
        if let Some(existing) = db::units::find_by_name(conn, operation_id, &new.country, &new.name)? {
            return if new.matches(&existing) {
                Ok((existing, false))
            } else {
                Err(Error::Conflict(format!(
                    "{} already has a unit named `{}` in this operation, with other content",
                    new.country, new.name
                )))
            };
        }
        // A unit's officers are one of its country's figures: final figures freeze units too
        // (a replay of a registration, which changes nothing, is still answered above).
        super::reporting::require_open(conn, operation_id, &[new.country.as_str()])?;
        let txn = db::journal::begin(conn)?;
        let unit = db::units::insert(conn, operation_id, new, db::now(), (txn, 0))?;
        record(conn, txn, None, &unit, writer)?;
        Ok((unit, true))
    })
}

/// Applies a patch under `If-Match`; a patch that changes nothing keeps the version. `allowed`
/// checks the stored unit (its country) before anything else is said about it.
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
        let seen = db::units::get(conn, operation_id, id)?;
        allowed(&seen)?;
        conn.lock_countries(operation_id, [seen.country.as_str()])?;
        db::operations::get_bare(conn, operation_id)?.require_open()?;
        let current = db::units::get(conn, operation_id, id)?;
        if_match.check(current.version)?;
        let Some(next) = current.patched(patch)? else {
            return Ok(current);
        };
        super::reporting::require_open(conn, operation_id, &[seen.country.as_str()])?;
        let next = Unit {
            version: current.version + 1,
            updated_at: db::now().and_utc(),
            ..next
        };
        let txn = db::journal::begin(conn)?;
        if !db::units::update(conn, &next, (txn, 0))? {
            return Err(Error::PreconditionFailed {
                current: db::units::get(conn, operation_id, id)?.version,
            });
        }
        record(conn, txn, Some(&current), &next, writer)?;
        Ok(next)
    })
}

/// Keeps the officers cell in step with a unit write (refusing a sum out of range) and closes
/// the transaction's journal.
fn record(conn: &mut DbConn, txn: i64, before: Option<&Unit>, after: &Unit, writer: &Writer) -> Result<()> {
    let op = after.operation_id.as_str();
    let mut deltas = Cells::new();
    if let Some(before) = before {
        tally::add_officers(
            &mut deltas,
            &before.country,
            before.officers_deployed,
            before.active,
            -1,
        );
    }
    tally::add_officers(&mut deltas, &after.country, after.officers_deployed, after.active, 1);
    let deltas = tally::nonzero(deltas);
    let keys: Vec<&tally::CellKey> = deltas.keys().collect();
    let mut values = db::tallies::values(conn, op, &keys)?;
    let list: Vec<(tally::CellKey, i64)> = deltas.iter().map(|(k, v)| (k.clone(), *v)).collect();
    if tally::add_checked(&mut values, &list).is_err() {
        return Err(Error::invalid(
            "/officers_deployed",
            format!("would take the officers deployed by {} past {MAX_CELL}", after.country),
        ));
    }
    if !db::tallies::add(conn, op, &deltas, db::tallies::Range::Checked)? {
        return Err(Error::internal("the officers cell left its range after it was checked"));
    }
    let payload = serde_json::to_string(after).unwrap_or_default();
    let action = if before.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    let entry = NewAudit::single(
        writer,
        op,
        &after.country,
        action,
        AuditEntity::Unit,
        &after.id.to_string(),
        after.version,
        &payload,
    );
    db::journal::commit(
        conn,
        Journal {
            operation_id: op.to_string(),
            txn,
            feed_count: 1,
            audit: vec![entry],
        },
    )?;
    Ok(())
}
