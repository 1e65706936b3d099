//! The write use cases of operations: create one, change one. Operations are audited but not in
//! the change feed (which is per operation).

use crate::db::{self, DbConn};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit, Writer};
use crate::domain::operation::{NewOperation, Operation, OperationPatch};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};

/// Creates an operation. Returns it and whether it was created now; a replay of the same create
/// returns the stored one, while a different operation under the same id is a 409.
pub fn create(conn: &mut DbConn, new: &NewOperation, writer: &Writer) -> Result<(Operation, bool)> {
    conn.write(|conn| {
        match db::operations::get(conn, &new.id) {
            Ok(existing) if new.matches(&existing) => return Ok((existing, false)),
            Ok(_) => {
                return Err(Error::Conflict(format!(
                    "operation `{}` already exists with other content",
                    new.id
                )))
            }
            Err(Error::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
        let operation = db::operations::insert(conn, new, db::now())?;
        audit(conn, writer, AuditAction::Create, &operation)?;
        Ok((operation, true))
    })
}

/// Applies a patch under `If-Match`; a patch that changes nothing keeps the version.
pub fn update(
    conn: &mut DbConn,
    id: &str,
    if_match: &IfMatch,
    patch: &OperationPatch,
    writer: &Writer,
) -> Result<Operation> {
    conn.write(|conn| {
        let current = db::operations::get(conn, id)?;
        if_match.check(current.version)?;
        let Some(next) = current.patched(patch)? else {
            return Ok(current);
        };
        // The days of every record were counted in the old time zone: it is fixed once anything
        // has been reported (the deadline may still move: it is applied when the board is read).
        if next.time_zone != current.time_zone && db::reporting::any_day(conn, id)? {
            return Err(Error::Conflict(format!(
                "operation `{id}` already has reports counted by its days in {}; its time zone can no longer change",
                current.time_zone
            )));
        }
        let operation = Operation {
            version: current.version + 1,
            updated_at: db::now().and_utc(),
            ..next
        };
        if !db::operations::update(conn, &operation)? {
            // Another writer got in between: report the version it left.
            return Err(Error::PreconditionFailed {
                current: db::operations::get_bare(conn, id)?.version,
            });
        }
        audit(conn, writer, AuditAction::Update, &operation)?;
        Ok(operation)
    })
}

/// Appends the audit entry of an operation write.
fn audit(conn: &mut DbConn, writer: &Writer, action: AuditAction, operation: &Operation) -> Result<()> {
    let payload = serde_json::to_string(operation).unwrap_or_default();
    let entry = NewAudit::single(
        writer,
        &operation.id,
        "",
        action,
        AuditEntity::Operation,
        &operation.id,
        operation.version,
        &payload,
    );
    db::journal::audit_only(conn, vec![entry])
}
