//! The write use case of stated figures: a country states a figure for a metric; a new version
//! unless the same figure is already current.

use crate::db::reporting::DayChange;
use crate::db::stated::NewVersion;
use crate::db::{self, DbConn};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit, Writer};
use crate::domain::interception::WriteResult;
use crate::domain::metric::Metric;
use crate::domain::stated::{self, ReportedTally, ReportedTallyInput};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};

/// States a checked figure for `country` and `metric` in an active operation.
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
    conn.write(|conn| {
        conn.lock_countries(operation_id, [country])?;
        db::operations::get_bare(conn, operation_id)?.require_active()?;
        crate::service::reporting::require_open(conn, operation_id, &[country])?;
        let current = db::stated::current_one(conn, operation_id, country, metric)?;
        let stored = current.as_ref().map(|c| (c.tally.version, c.content_hash.as_str()));
        let previous_as_of = current.as_ref().map(|c| c.tally.as_of);
        let Some(version) = stated::decide(stored, &hash, if_match)? else {
            let unchanged = current
                .map(|c| c.tally)
                .ok_or_else(|| Error::internal("an unchanged figure without a current version"))?;
            return Ok((
                WriteResult::Unchanged,
                ReportedTally {
                    result: Some(WriteResult::Unchanged),
                    ..unchanged
                },
            ));
        };
        let (result, action) = match version {
            1 => (WriteResult::Created, AuditAction::Create),
            _ => (WriteResult::Updated, AuditAction::Update),
        };
        let at = db::now().and_utc();
        let tally = ReportedTally {
            operation_id: operation_id.to_string(),
            country: country.to_string(),
            metric,
            value: input.value,
            breakdown: input.breakdown.clone(),
            as_of: input.as_of,
            version,
            reported_by: writer.sub.clone(),
            reported_at: at,
            result: Some(result),
        };
        let txn = db::journal::begin(conn)?;
        db::stated::insert_version(
            conn,
            NewVersion {
                tally: &tally,
                input,
                writer,
                feed: (txn, 0),
            },
        )?;
        let what = format!("tally {}", metric.as_str());
        db::reporting::touch(conn, operation_id, &[country], writer, &what, at)?;
        // The figure now holds for its `as_of` day (and no longer for the day it held for).
        let mut days = vec![DayChange {
            country: country.to_string(),
            day: input.as_of,
            records: 0,
            stated: 1,
        }];
        if let Some(before) = &previous_as_of {
            days.push(DayChange {
                country: country.to_string(),
                day: *before,
                records: 0,
                stated: -1,
            });
        }
        days.sort();
        db::reporting::add_days(conn, operation_id, &days, at)?;
        let payload = serde_json::to_string(&ReportedTally {
            result: None,
            ..tally.clone()
        })
        .unwrap_or_default();
        let key = format!("{country}/{}", metric.as_str());
        let entry = NewAudit::single(
            writer,
            operation_id,
            country,
            action,
            AuditEntity::Tally,
            &key,
            version,
            &payload,
        );
        db::journal::commit_one(conn, txn, entry)?;
        Ok((result, tally))
    })
}
