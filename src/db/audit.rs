//! Reading and verifying the audit trail (appended by [`super::journal::commit`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, log_head};
use super::{corrupt, DbConn};
use crate::domain::audit::{self, items_from_text, AuditEntry, Break, GENESIS};
use crate::error::Result;
use crate::on_backend;

/// One stored entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct EntryRow {
    seq: i64,
    at: NaiveDateTime,
    operation_id: String,
    sub: String,
    jti: String,
    country: String,
    action: String,
    entity: String,
    entity_key: String,
    version: i64,
    payload_sha256: String,
    prev_hash: String,
    hash: String,
    items: String,
}

impl EntryRow {
    /// The entry as stored. A value that no longer reads (an edited action or item line) is
    /// reported as an edit of that entry by [`verify`]; reads fail on it.
    fn into_entry(self) -> std::result::Result<AuditEntry, i64> {
        let seq = self.seq;
        Ok(AuditEntry {
            seq,
            at: self.at.and_utc(),
            operation_id: self.operation_id,
            sub: self.sub,
            jti: self.jti,
            country: self.country,
            action: self.action.parse().map_err(|_| seq)?,
            entity: self.entity.parse().map_err(|_| seq)?,
            key: self.entity_key,
            version: self.version,
            payload_sha256: self.payload_sha256,
            prev_hash: self.prev_hash,
            hash: self.hash,
            items: items_from_text(&self.items).ok_or(seq)?,
        })
    }
}

/// Entries of an operation after `after`, at most `limit`, of the given countries if any
/// (entries without a country, such as changes to the operation itself, are always shown).
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    countries: Option<&[String]>,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let rows: Vec<EntryRow> = on_backend!(conn, c => {
        let mut query = audit_log::table
            .filter(audit_log::operation_id.eq(operation_id))
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq)
            .limit(limit)
            .select(EntryRow::as_select())
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(audit_log::country.eq_any(countries).or(audit_log::country.eq("")));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|row| row.into_entry().map_err(|seq| corrupt("audit entry", &seq.to_string())))
        .collect()
}

/// Walks the whole chain in pages and returns the first break, or the number of entries.
pub fn verify(conn: &mut DbConn) -> Result<std::result::Result<i64, Break>> {
    let (mut last, mut prev) = (0_i64, GENESIS.to_string());
    loop {
        let rows: Vec<EntryRow> = on_backend!(conn, c => audit_log::table
            .filter(audit_log::seq.gt(last))
            .order(audit_log::seq)
            .limit(2000)
            .select(EntryRow::as_select())
            .load(c))?;
        if rows.is_empty() {
            break;
        }
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            match row.into_entry() {
                Ok(entry) => entries.push(entry),
                Err(seq) => {
                    // Entries before it are checked first: an earlier break is the first break.
                    if let Err(broken) = audit::check(&entries, last + 1, prev) {
                        return Ok(Err(broken));
                    }
                    return Ok(Err(Break::Edited(seq)));
                }
            }
        }
        match audit::check(&entries, last + 1, prev) {
            Ok((seq, hash)) => (last, prev) = (seq, hash),
            Err(broken) => return Ok(Err(broken)),
        }
    }
    let (head_seq, head_hash): (i64, String) =
        on_backend!(conn, c => log_head::table.find(1).select((log_head::audit_seq, log_head::audit_hash)).first(c))?;
    if head_seq != last || head_hash != prev {
        return Ok(Err(Break::Truncated(last)));
    }
    Ok(Ok(last))
}
