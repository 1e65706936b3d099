//! The use cases of the reporting cycle: nil returns (file, retract), the finality of a
//! country's figures (declare final, approve, reopen), and the board and reminders (one
//! snapshot read shared by the API and the CLI). Each takes the country's lock, so a
//! batch of that country is wholly before or wholly after it; and [`require_open`] is what every
//! write of a country's results asks under that lock.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{self, DbConn};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit, Writer};
use crate::domain::interception::WriteResult;
use crate::domain::operation::Operation;
use crate::domain::reporting::{
    assemble, refuse_final, BoardFilter, BoardInput, CountryStatus, NilReturn, ReminderBook, ReportingBoard, StoredDay,
    Transition,
};
use crate::error::{Error, Result};

/// 409 `country-final` if any of `countries` has declared its figures final (or had them
/// approved). Call it in the write transaction, after [`DbConn::lock_countries`], so that a
/// declaration of finality is wholly before or wholly after the write.
pub fn require_open(conn: &mut DbConn, operation_id: &str, countries: &[&str]) -> Result<()> {
    if countries.is_empty() {
        return Ok(());
    }
    match db::reporting::closed_countries(conn, operation_id, countries)?.first() {
        Some((country, status)) => Err(refuse_final(operation_id, country, *status)),
        None => Ok(()),
    }
}

/// 404 unless `day` is one of the operation's days.
fn require_day(operation: &Operation, day: NaiveDate) -> Result<()> {
    if (operation.starts_on..=operation.ends_on).contains(&day) {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "{day} is not a day of operation `{}` ({} to {})",
            operation.id, operation.starts_on, operation.ends_on
        )))
    }
}

/// In a nil return's write transaction: takes the country's lock, checks that the operation is
/// active, the day one of its days and the country's figures open, and reads the day with its
/// nil return.
fn open_day(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    day: NaiveDate,
) -> Result<Option<(StoredDay, NilReturn)>> {
    conn.lock_countries(operation_id, [country])?;
    let operation = db::operations::get_bare(conn, operation_id)?;
    operation.require_active()?;
    require_day(&operation, day)?;
    require_open(conn, operation_id, &[country])?;
    db::reporting::day(conn, operation_id, country, day)
}

/// Files a nil return ("nothing to report") for a country and day. Idempotent: filing again
/// is `unchanged`. 409 when the day already has records or stated figures (retract them
/// first), or when the country's figures are final.
pub fn file_nil(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    day: NaiveDate,
    writer: &Writer,
) -> Result<(WriteResult, NilReturn)> {
    conn.write(|conn| {
        let (written, stored) = open_day(conn, operation_id, country, day)?.unzip();
        if let Some(current) = stored.as_ref().filter(|n| n.filed) {
            return Ok((WriteResult::Unchanged, current.clone()));
        }
        if let Some(day_row) = written.filter(|d| d.records > 0 || d.stated > 0) {
            return Err(Error::Conflict(format!(
                "{country} has {} records and {} stated figures for {day}: a nil return says there is nothing; retract them first",
                day_row.records, day_row.stated
            )));
        }
        let at = db::now().and_utc();
        let version = stored.as_ref().map_or(0, |n| n.version) + 1;
        let nil = NilReturn {
            operation_id: operation_id.to_string(),
            country: country.to_string(),
            day,
            filed: true,
            version,
            filed_at: Some(at),
            filed_by: Some(writer.sub.clone()),
            superseded: false,
        };
        let action = if version == 1 {
            AuditAction::Create
        } else {
            AuditAction::Revive
        };
        journal_nil(conn, &nil, action, writer, at)?;
        db::reporting::touch(conn, operation_id, &[country], writer, &format!("nil return {day}"), at)?;
        let result = if version == 1 {
            WriteResult::Created
        } else {
            WriteResult::Updated
        };
        Ok((result, nil))
    })
}

/// Retracts a nil return while the country's figures are provisional or reopened. Retracting
/// again is `unchanged`; 404 when none was ever filed for that day.
pub fn retract_nil(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    day: NaiveDate,
    writer: &Writer,
) -> Result<(WriteResult, NilReturn)> {
    conn.write(|conn| {
        let stored = open_day(conn, operation_id, country, day)?
            .map(|(_, nil)| nil)
            .filter(|n| n.version > 0)
            .ok_or_else(|| Error::NotFound(format!("{country} has filed no nil return for {day}")))?;
        if !stored.filed {
            return Ok((WriteResult::Unchanged, stored));
        }
        let at = db::now().and_utc();
        let nil = NilReturn {
            filed: false,
            version: stored.version + 1,
            filed_at: None,
            superseded: false,
            ..stored
        };
        journal_nil(conn, &nil, AuditAction::Retract, writer, at)?;
        Ok((WriteResult::Updated, nil))
    })
}

/// Stores a nil return at its place in the feed, with its audit entry.
fn journal_nil(
    conn: &mut DbConn,
    nil: &NilReturn,
    action: AuditAction,
    writer: &Writer,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let txn = db::journal::begin(conn)?;
    db::reporting::store_nil_return(conn, nil, (txn, 0), at)?;
    let payload = serde_json::to_string(nil).unwrap_or_default();
    let key = format!("{}/{}", nil.country, nil.day);
    let entry = NewAudit::single(
        writer,
        &nil.operation_id,
        &nil.country,
        action,
        AuditEntity::NilReturn,
        &key,
        nil.version,
        &payload,
    );
    db::journal::commit_one(conn, txn, entry)
}

/// Whether `approver` is `declarer` or a token `declarer` issued, directly or down its chain
/// (`POST /v1/tokens` names a token `<issuer sub>/<name>`): a principal cannot approve its own
/// declaration through a token it made for the purpose.
fn same_branch(declarer: &str, approver: &str) -> bool {
    approver == declarer
        || approver
            .strip_prefix(declarer)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Moves a country's finality. Returns whether it moved (a replay of the move it already made is
/// `false`) and the status after. Approving figures the same `sub` declared final is refused
/// (403), and so is approving with a token that principal issued: separation of duties holds
/// even for a token given both scopes.
pub fn transition(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    transition: Transition,
    reason: Option<String>,
    writer: &Writer,
) -> Result<(bool, CountryStatus)> {
    conn.write(|conn| {
        // The country's lock: a batch of this country in flight commits wholly before this.
        conn.lock_countries(operation_id, [country])?;
        db::operations::require_exists(conn, operation_id)?;
        let current = db::reporting::status(conn, operation_id, country)?;
        let Some(next) = transition.apply(country, current.status)? else {
            return Ok((false, current));
        };
        if transition == Transition::Approve
            && current
                .changed_by
                .as_deref()
                .is_some_and(|by| same_branch(by, &writer.sub))
        {
            return Err(Error::Forbidden(format!(
                "{country}'s figures were declared final by `{}`; another principal must approve them",
                writer.sub
            )));
        }
        let status = CountryStatus {
            status: next,
            version: current.version + 1,
            reason: reason.or(current.reason),
            changed_at: Some(db::now().and_utc()),
            changed_by: Some(writer.sub.clone()),
            ..current
        };
        let txn = db::journal::begin(conn)?;
        db::reporting::store_status(conn, &status, (txn, 0))?;
        let action = match transition {
            Transition::DeclareFinal => AuditAction::DeclareFinal,
            Transition::Approve => AuditAction::Approve,
            Transition::Reopen => AuditAction::Reopen,
        };
        let payload = serde_json::to_string(&status).unwrap_or_default();
        let entry = NewAudit::single(
            writer,
            operation_id,
            country,
            action,
            AuditEntity::ReportingStatus,
            country,
            status.version,
            &payload,
        );
        db::journal::commit_one(conn, txn, entry)?;
        Ok((true, status))
    })
}

/// Reads the board of an operation as of `now`, in one snapshot: shared by
/// `GET .../reporting`, the reminders and `opcoord reporting remind`.
pub fn board(
    conn: &mut DbConn,
    operation_id: &str,
    filter: &BoardFilter,
    now: DateTime<Utc>,
) -> Result<(Operation, ReportingBoard)> {
    conn.snapshot(|conn| {
        let operation = db::operations::get(conn, operation_id)?;
        let only: Option<Vec<String>> = filter.countries.as_ref().map(|c| c.iter().cloned().collect());
        let stored = db::reporting::days(conn, operation_id, only.as_deref())?;
        let statuses = db::reporting::statuses(conn, operation_id, only.as_deref())?;
        let last_reports: Vec<(String, DateTime<Utc>, String, String)> =
            db::reporting::last_reports(conn, operation_id)?
                .into_iter()
                .map(|r| (r.country, r.last_reported_at.and_utc(), r.last_sub, r.last_what))
                .collect();
        let input = BoardInput {
            operation_id,
            days: (operation.starts_on, operation.ends_on),
            schedule: operation.schedule()?,
            time_zone: &operation.time_zone,
            report_deadline: &operation.report_deadline,
            participating: &operation.participating_countries,
            stored: &stored,
            statuses: &statuses,
            last_reports: &last_reports,
            now,
        };
        let board = assemble(&input, filter);
        Ok((operation, board))
    })
}

/// The reminders of an operation as of `now`: every late participating country with its active
/// units.
pub fn reminders(conn: &mut DbConn, operation_id: &str, now: DateTime<Utc>) -> Result<ReminderBook> {
    let (operation, board) = board(conn, operation_id, &BoardFilter::default(), now)?;
    let filter = db::units::UnitFilter {
        country: None,
        countries: None,
        after: None,
    };
    let units = db::units::list(conn, operation_id, &filter, i64::from(u32::MAX))?;
    Ok(crate::domain::reporting::reminders(&board, &operation.name, &units))
}
