//! The end of every write transaction: its feed positions and its audit entries, numbered and
//! chained under the lock of the single `log_head` row.
//!
//! A write transaction takes a transaction id first ([`begin`]) and stamps every record it
//! writes with it (`feed_txn`, and its place in the transaction as `feed_index`). Its last
//! statements ([`commit`]) update the head row — whose row lock is then held until the
//! transaction ends, so the next writer can only take numbers after this one committed — and
//! record which feed positions the transaction was given (`commits`) and its audit entries. So
//! positions and audit numbers are handed out in commit order, a feed reader that sees position
//! `m` sees everything below it, and each audit entry is chained to the one committed just
//! before it, whichever instance wrote it. The locked part is four single-row statements,
//! however many items the transaction wrote. (On SQLite, writers are one at a time anyway.)

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{audit_log, commits, log_head};
use super::{now, DbConn};
use crate::domain::audit::{items_to_text, AuditEntry, NewAudit};
use crate::error::Result;
use crate::on_backend;

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct AuditRow<'a> {
    seq: i64,
    at: NaiveDateTime,
    operation_id: &'a str,
    sub: &'a str,
    jti: &'a str,
    country: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_key: &'a str,
    version: i64,
    payload_sha256: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
    items: String,
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = BigInt)]
    txn: i64,
}

/// Takes the id that the records this transaction writes are stamped with. On PostgreSQL it
/// comes from a sequence (no lock); on SQLite, where writers go one at a time, from the head row.
pub fn begin(conn: &mut DbConn) -> Result<i64> {
    Ok(match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query("SELECT nextval('commit_txn') AS txn")
                .get_result::<Next>(c)?
                .txn
        }
        DbConn::Sqlite(c) => diesel::update(log_head::table.find(1))
            .set(log_head::commit_txn.eq(log_head::commit_txn + 1))
            .returning(log_head::commit_txn)
            .get_result(c)?,
    })
}

/// What a write transaction leaves in the feed and the audit trail.
#[derive(Debug, Default)]
pub struct Journal {
    /// The operation whose feed the records belong to.
    pub operation_id: String,
    /// The id from [`begin`] its records carry (0 when it wrote none).
    pub txn: i64,
    /// How many feed entries it wrote (`feed_index` 0 to `feed_count - 1`).
    pub feed_count: i64,
    /// Its audit entries.
    pub audit: Vec<NewAudit>,
}

/// Numbers the transaction's feed entries and audit entries; call it last in the transaction.
/// Returns the audit entries as written.
pub fn commit(conn: &mut DbConn, journal: Journal) -> Result<Vec<AuditEntry>> {
    let Journal {
        operation_id,
        txn,
        feed_count,
        audit,
    } = journal;
    if feed_count == 0 && audit.is_empty() {
        return Ok(Vec::new());
    }
    let m = audit.len() as i64;
    // Item lists are written out before the lock is taken, not while holding it.
    let item_texts: Vec<String> = audit.iter().map(|a| items_to_text(&a.items)).collect();
    // Takes the lock; returns the new counters and the chain's end before this transaction.
    let (position, audit_last, mut prev): (i64, i64, String) = on_backend!(conn, c => diesel::update(log_head::table.find(1))
        .set((log_head::change_seq.eq(log_head::change_seq + feed_count), log_head::audit_seq.eq(log_head::audit_seq + m)))
        .returning((log_head::change_seq, log_head::audit_seq, log_head::audit_hash))
        .get_result(c))?;
    let at = now();
    if feed_count > 0 {
        on_backend!(conn, c => diesel::insert_into(commits::table)
            .values((
                commits::txn.eq(txn),
                commits::operation_id.eq(&operation_id),
                commits::first_pos.eq(position - feed_count + 1),
                commits::last_pos.eq(position),
                commits::committed_at.eq(at),
            ))
            .execute(c))?;
    }
    let mut entries = Vec::with_capacity(audit.len());
    for (new, seq) in audit.into_iter().zip(audit_last - m + 1..) {
        let entry = new.chained(seq, at.and_utc(), prev);
        prev = entry.hash.clone();
        entries.push(entry);
    }
    if !entries.is_empty() {
        let rows: Vec<AuditRow> = entries
            .iter()
            .zip(item_texts)
            .map(|(e, items)| AuditRow {
                seq: e.seq,
                at,
                operation_id: &e.operation_id,
                sub: &e.sub,
                jti: &e.jti,
                country: &e.country,
                action: e.action.as_str(),
                entity: e.entity.as_str(),
                entity_key: &e.key,
                version: e.version,
                payload_sha256: &e.payload_sha256,
                prev_hash: &e.prev_hash,
                hash: &e.hash,
                items,
            })
            .collect();
        on_backend!(conn, c => diesel::insert_into(audit_log::table).values(&rows).execute(c))?;
        on_backend!(conn, c => diesel::update(log_head::table.find(1)).set(log_head::audit_hash.eq(&prev)).execute(c))?;
    }
    Ok(entries)
}

/// Closes a transaction that wrote one object of the feed (at `feed_index` 0) with its one
/// audit entry; call it last in the transaction.
pub fn commit_one(conn: &mut DbConn, txn: i64, entry: NewAudit) -> Result<()> {
    commit(
        conn,
        Journal {
            operation_id: entry.operation_id.clone(),
            txn,
            feed_count: 1,
            audit: vec![entry],
        },
    )
    .map(|_| ())
}

/// The change-feed position: the last position handed out.
pub fn position(conn: &mut DbConn) -> Result<i64> {
    Ok(on_backend!(conn, c => log_head::table.find(1).select(log_head::change_seq).first(c))?)
}

/// Appends the audit entries of a write that leaves nothing in the change feed (an operation,
/// a token); call it last in the transaction.
pub fn audit_only(conn: &mut DbConn, entries: Vec<NewAudit>) -> Result<()> {
    commit(
        conn,
        Journal {
            audit: entries,
            ..Journal::default()
        },
    )
    .map(|_| ())
}
