//! Reading and verifying the audit trail (appended by [`super::journal::append`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, log_head};
use super::DbConn;
use crate::domain::audit::{self, AuditEntry, Break, GENESIS};
use crate::error::Result;
use crate::on_backend;

type Row = (
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

macro_rules! columns {
    () => {
        (
            audit_log::seq,
            audit_log::at,
            audit_log::operation_id,
            audit_log::sub,
            audit_log::jti,
            audit_log::country,
            audit_log::action,
            audit_log::entity,
            audit_log::entity_key,
            audit_log::version,
            audit_log::payload_sha256,
            audit_log::prev_hash,
            audit_log::hash,
        )
    };
}

fn entry(row: Row) -> AuditEntry {
    let (seq, at, operation_id, sub, jti, country, action, entity, key, version, payload_sha256, prev_hash, hash) = row;
    AuditEntry {
        seq,
        at: at.and_utc(),
        operation_id,
        sub,
        jti,
        country,
        action,
        entity,
        key,
        version,
        payload_sha256,
        prev_hash,
        hash,
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
    let rows: Vec<Row> = on_backend!(conn, c => {
        let mut query = audit_log::table
            .filter(audit_log::operation_id.eq(operation_id))
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq)
            .limit(limit)
            .select(columns!())
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(audit_log::country.eq_any(countries).or(audit_log::country.eq("")));
        }
        query.load(c)
    })?;
    Ok(rows.into_iter().map(entry).collect())
}

/// Walks the whole chain in pages and returns the first break, or the number of entries.
pub fn verify(conn: &mut DbConn) -> Result<std::result::Result<i64, Break>> {
    let (mut last, mut prev) = (0_i64, GENESIS.to_string());
    loop {
        let rows: Vec<Row> = on_backend!(conn, c => audit_log::table
            .filter(audit_log::seq.gt(last))
            .order(audit_log::seq)
            .limit(5000)
            .select(columns!())
            .load(c))?;
        if rows.is_empty() {
            break;
        }
        let entries: Vec<AuditEntry> = rows.into_iter().map(entry).collect();
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
