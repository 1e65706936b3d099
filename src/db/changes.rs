//! Reading the change feed from the records themselves: each record carries the transaction that
//! last wrote it and its index there; `commits` gives each transaction its range of positions
//! (see [`super::journal`]). A record changed twice shows once, at its latest position.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::commits;
use super::{interceptions, reporting, stated, units, DbConn};
use crate::domain::change::{Action, Change, ChangePage, Entity};
use crate::error::{Error, Result};
use crate::on_backend;

/// Commits read per step while a page fills.
const COMMITS_PER_STEP: i64 = 256;

fn data(value: impl serde::Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::internal(format!("cannot write a change: {e}")))
}

/// Reads up to `limit` changes of an operation after position `after`, only of `countries` if
/// given. Call it inside one snapshot, so the commits and the records agree.
///
/// `next` is the last position returned, or — when the page is not full — the last position
/// of every commit examined, so a reader filtered to a few countries moves past the others'
/// commits instead of reading them again.
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    countries: Option<&[String]>,
    after: i64,
    limit: i64,
) -> Result<ChangePage> {
    let want = usize::try_from(limit).unwrap_or(0).saturating_add(1);
    let mut found: Vec<Change> = Vec::new();
    let mut examined = after;
    loop {
        let batch: Vec<(i64, i64, i64)> = on_backend!(conn, c => commits::table
            .filter(commits::operation_id.eq(operation_id))
            .filter(commits::last_pos.gt(examined))
            .order(commits::last_pos)
            .limit(COMMITS_PER_STEP)
            .select((commits::txn, commits::first_pos, commits::last_pos))
            .load(c))?;
        let Some(&(_, _, last)) = batch.last() else { break };
        let first: HashMap<i64, i64> = batch.iter().map(|(txn, first, _)| (*txn, *first)).collect();
        let txns: Vec<i64> = first.keys().copied().collect();
        let position = |txn: i64, index: i32| first.get(&txn).map(|f| f + i64::from(index));
        for row in interceptions::by_feed_txns(conn, operation_id, &txns, countries)? {
            let (txn, index) = row.feed_place();
            let Some(seq) = position(txn, index) else { continue };
            let interception = row.into_interception()?;
            found.push(Change {
                seq,
                entity: Entity::Interception,
                action: if interception.deleted {
                    Action::Delete
                } else {
                    Action::Upsert
                },
                country: interception.country.clone(),
                key: format!("{}/{}", interception.country, interception.external_ref),
                version: interception.version,
                data: data(&interception)?,
            });
        }
        for (txn, index, unit) in units::by_feed_txns(conn, operation_id, &txns, countries)? {
            let Some(seq) = position(txn, index) else { continue };
            found.push(Change {
                seq,
                entity: Entity::Unit,
                action: Action::Upsert,
                country: unit.country.clone(),
                key: unit.id.to_string(),
                version: unit.version,
                data: data(&unit)?,
            });
        }
        for (txn, index, tally) in stated::by_feed_txns(conn, operation_id, &txns, countries)? {
            let Some(seq) = position(txn, index) else { continue };
            found.push(Change {
                seq,
                entity: Entity::Tally,
                action: Action::Upsert,
                country: tally.country.clone(),
                key: format!("{}/{}", tally.country, tally.metric.as_str()),
                version: tally.version,
                data: data(&tally)?,
            });
        }
        for (txn, index, nil) in reporting::nil_returns_by_feed_txns(conn, operation_id, &txns, countries)? {
            let Some(seq) = position(txn, index) else { continue };
            found.push(Change {
                seq,
                entity: Entity::NilReturn,
                action: if nil.filed { Action::Upsert } else { Action::Delete },
                country: nil.country.clone(),
                key: format!("{}/{}", nil.country, nil.day),
                version: nil.version,
                data: data(&nil)?,
            });
        }
        for (txn, index, status) in reporting::statuses_by_feed_txns(conn, operation_id, &txns, countries)? {
            let Some(seq) = position(txn, index) else { continue };
            found.push(Change {
                seq,
                entity: Entity::ReportingStatus,
                action: Action::Upsert,
                country: status.country.clone(),
                key: status.country.clone(),
                version: status.version,
                data: data(&status)?,
            });
        }
        examined = last;
        found.retain(|change| change.seq > after);
        if found.len() >= want || (batch.len() as i64) < COMMITS_PER_STEP {
            break;
        }
    }
    found.sort_unstable_by_key(|change| change.seq);
    let has_more = found.len() >= want;
    found.truncate(want - 1);
    let next = match (has_more, found.last()) {
        (true, Some(change)) => change.seq,
        _ => examined.max(found.last().map_or(after, |change| change.seq)),
    };
    Ok(ChangePage {
        changes: found,
        next,
        has_more,
    })
}
