//! The change feed: appended at the end of each write transaction, read by sequence.
//!
//! Sequence numbers come from the single `log_head` row, updated as the last statement before
//! commit. Its row lock is held until the transaction ends, so the writer that takes numbers
//! `n+1..m` commits before the next writer can take `m+1..`: numbers are handed out in commit
//! order, and a reader that sees `m` sees everything below it. (On SQLite, writers are already
//! one at a time.)

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{changes, log_head};
use super::{now, DbConn};
use crate::domain::change::{Action, Change, ChangePage, Entity, NewChange};
use crate::error::{Error, Result};
use crate::on_backend;

#[derive(Insertable)]
#[diesel(table_name = changes)]
struct ChangeRow<'a> {
    seq: i64,
    operation_id: &'a str,
    entity: &'a str,
    action: &'a str,
    country: &'a str,
    entity_key: &'a str,
    version: i64,
    data: &'a str,
    committed_at: NaiveDateTime,
}

/// Takes `count` sequence numbers, holding the head's lock until the transaction ends, and
/// returns the first. Call it last in a write transaction.
pub fn take_sequence(conn: &mut DbConn, count: i64) -> Result<i64> {
    let last: i64 = on_backend!(conn, c => diesel::update(log_head::table.find(1))
        .set(log_head::change_seq.eq(log_head::change_seq + count))
        .returning(log_head::change_seq)
        .get_result(c))?;
    Ok(last - count + 1)
}

/// Appends changes in one statement; call it last in the write transaction.
pub fn append(conn: &mut DbConn, new: &[NewChange]) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let first = take_sequence(conn, i64::try_from(new.len()).unwrap_or(i64::MAX))?;
    let at = now();
    let rows: Vec<ChangeRow> = new
        .iter()
        .zip(first..)
        .map(|(change, seq)| ChangeRow {
            seq,
            operation_id: &change.operation_id,
            entity: change.entity.as_str(),
            action: change.action.as_str(),
            country: &change.country,
            entity_key: &change.key,
            version: change.version,
            data: &change.data,
            committed_at: at,
        })
        .collect();
    for chunk in rows.chunks(2000) {
        on_backend!(conn, c => diesel::insert_into(changes::table).values(chunk).execute(c))?;
    }
    Ok(())
}

type Row = (i64, String, String, String, String, i64, String);

/// Reads up to `limit` changes of an operation after `after`, only of `countries` if given.
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    countries: Option<&[String]>,
    after: i64,
    limit: i64,
) -> Result<ChangePage> {
    let rows: Vec<Row> = on_backend!(conn, c => {
        let mut query = changes::table
            .filter(changes::operation_id.eq(operation_id))
            .filter(changes::seq.gt(after))
            .order(changes::seq)
            .limit(limit + 1)
            .select((changes::seq, changes::entity, changes::action, changes::country, changes::entity_key, changes::version, changes::data))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(changes::country.eq_any(countries));
        }
        query.load(c)
    })?;
    let has_more = rows.len() as i64 > limit;
    let mut list = Vec::with_capacity(rows.len());
    for (seq, entity, action, country, key, version, data) in rows.into_iter().take(limit as usize) {
        list.push(Change {
            seq,
            entity: Entity::parse(&entity).ok_or_else(|| Error::Internal(format!("stored entity `{entity}`")))?,
            action: if action == "delete" {
                Action::Delete
            } else {
                Action::Upsert
            },
            country,
            key,
            version,
            data: serde_json::from_str(&data).map_err(|e| Error::Internal(format!("stored change {seq}: {e}")))?,
        });
    }
    let next = list.last().map_or(after, |change| change.seq);
    Ok(ChangePage {
        changes: list,
        next,
        has_more,
    })
}
