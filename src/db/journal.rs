//! The end of every write transaction: change-feed entries and audit entries, numbered and
//! chained under the lock of the single `log_head` row.
//!
//! The head row is updated as the last statement before commit. Its row lock is held until the
//! transaction ends, so the writer that takes numbers `n+1..m` commits before the next writer
//! can take `m+1..`: numbers are handed out in commit order, a feed reader that sees `m` sees
//! everything below it, and each audit entry is chained to the one committed just before it,
//! whichever instance wrote it. (On SQLite, writers are one at a time anyway.)

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, changes, log_head};
use super::{now, DbConn};
use crate::domain::audit::{sha256, AuditEntry, NewAudit};
use crate::domain::change::NewChange;
use crate::error::Result;
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
    payload_sha256: String,
    prev_hash: String,
    hash: String,
}

/// Appends feed and audit entries; call it last in the write transaction.
pub fn append(conn: &mut DbConn, feed: &[NewChange], audit: &[NewAudit]) -> Result<()> {
    if feed.is_empty() && audit.is_empty() {
        return Ok(());
    }
    let (n, m) = (feed.len() as i64, audit.len() as i64);
    // The payload hashes need no number: computed before the lock is taken, not while holding it.
    let payload_hashes: Vec<String> = audit.iter().map(|new| sha256(&new.payload)).collect();
    // Takes the lock; returns the new counters and the chain's end before this transaction.
    let (change_last, audit_last, mut prev): (i64, i64, String) = on_backend!(conn, c => diesel::update(log_head::table.find(1))
        .set((log_head::change_seq.eq(log_head::change_seq + n), log_head::audit_seq.eq(log_head::audit_seq + m)))
        .returning((log_head::change_seq, log_head::audit_seq, log_head::audit_hash))
        .get_result(c))?;
    let at = now();
    let changes: Vec<ChangeRow> = feed
        .iter()
        .zip(change_last - n + 1..)
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
    for chunk in changes.chunks(2000) {
        on_backend!(conn, c => diesel::insert_into(changes::table).values(chunk).execute(c))?;
    }
    let mut entries = Vec::with_capacity(audit.len());
    for ((new, payload_sha256), seq) in audit.iter().zip(payload_hashes).zip(audit_last - m + 1..) {
        let mut entry = AuditEntry {
            seq,
            at: at.and_utc(),
            operation_id: new.operation_id.clone(),
            sub: new.sub.clone(),
            jti: new.jti.clone(),
            country: new.country.clone(),
            action: new.action.clone(),
            entity: new.entity.clone(),
            key: new.key.clone(),
            version: new.version,
            payload_sha256,
            prev_hash: prev,
            hash: String::new(),
        };
        entry.hash = entry.expected_hash();
        prev = entry.hash.clone();
        entries.push(entry);
    }
    let rows: Vec<AuditRow> = entries
        .iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at,
            operation_id: &e.operation_id,
            sub: &e.sub,
            jti: &e.jti,
            country: &e.country,
            action: &e.action,
            entity: &e.entity,
            entity_key: &e.key,
            version: e.version,
            payload_sha256: e.payload_sha256.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        })
        .collect();
    for chunk in rows.chunks(1000) {
        on_backend!(conn, c => diesel::insert_into(audit_log::table).values(chunk).execute(c))?;
    }
    if !entries.is_empty() {
        on_backend!(conn, c => diesel::update(log_head::table.find(1)).set(log_head::audit_hash.eq(&prev)).execute(c))?;
    }
    Ok(())
}
