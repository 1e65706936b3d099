//! Queries for issued and revoked tokens.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{issued_tokens, revoked_tokens};
use super::{journal, now, DbConn, Writer};
use crate::auth::claims::{Access, Claims};
use crate::error::Result;
use crate::on_backend;

/// What is known of an issued token when someone asks to revoke it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// Countries it covers.
    pub countries: Access,
    /// Operations it covers.
    pub ops: Access,
    /// When it expires.
    pub expires_at: NaiveDateTime,
}

fn timestamp(secs: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Records a token this service issued, with its audit entry (the token itself is never stored).
pub fn record_issued(conn: &mut DbConn, claims: &Claims, issuer: &Writer) -> Result<()> {
    let issued_by = format!("{}/{}", issuer.sub, issuer.jti);
    let values = (
        issued_tokens::jti.eq(&claims.jti),
        issued_tokens::sub.eq(&claims.sub),
        issued_tokens::scope.eq(&claims.scope),
        issued_tokens::countries.eq(claims.countries.join(" ")),
        issued_tokens::op_ids.eq(claims.ops.join(" ")),
        issued_tokens::issued_by.eq(issued_by),
        issued_tokens::issued_at.eq(timestamp(claims.iat)),
        issued_tokens::expires_at.eq(timestamp(claims.exp)),
    );
    conn.write(|conn| {
        on_backend!(conn, c => diesel::insert_into(issued_tokens::table).values(values).execute(c))?;
        let payload = serde_json::to_string(claims).unwrap_or_default();
        let audit = issuer.audit("", "", "issue", "token", &claims.jti, 1, payload);
        journal::append(conn, &[], &[audit])
    })
}

/// Reads a token this service issued.
pub fn find_issued(conn: &mut DbConn, jti: &str) -> Result<Option<IssuedToken>> {
    let row: Option<(String, String, NaiveDateTime)> = on_backend!(conn, c => issued_tokens::table
        .find(jti)
        .select((issued_tokens::countries, issued_tokens::op_ids, issued_tokens::expires_at))
        .first(c)
        .optional())?;
    Ok(row.map(|(countries, ops, expires_at)| {
        let split = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        IssuedToken {
            countries: Access::from_claim(&split(&countries)),
            ops: Access::from_claim(&split(&ops)),
            expires_at,
        }
    }))
}

/// Revokes `jti` (again is fine) and returns when it was first revoked.
pub fn revoke(
    conn: &mut DbConn,
    jti: &str,
    revoker: &Writer,
    expires_at: Option<NaiveDateTime>,
) -> Result<NaiveDateTime> {
    let revoked_by = format!("{}/{}", revoker.sub, revoker.jti);
    conn.write(|conn| {
        let values = (
            revoked_tokens::jti.eq(jti),
            revoked_tokens::revoked_by.eq(&revoked_by),
            revoked_tokens::revoked_at.eq(now()),
            revoked_tokens::expires_at.eq(expires_at),
        );
        let inserted = on_backend!(conn, c => diesel::insert_into(revoked_tokens::table)
            .values(values)
            .on_conflict(revoked_tokens::jti)
            .do_nothing()
            .execute(c))?;
        if inserted == 1 {
            let payload = serde_json::json!({"jti": jti, "revoked_by": revoked_by}).to_string();
            journal::append(conn, &[], &[revoker.audit("", "", "revoke", "token", jti, 1, payload)])?;
        }
        Ok(on_backend!(conn, c => revoked_tokens::table.find(jti).select(revoked_tokens::revoked_at).first(c))?)
    })
}

/// Every revoked token id that could still be presented (not expired a day ago or more).
pub fn revoked_jtis(conn: &mut DbConn) -> Result<HashSet<String>> {
    let horizon = now()
        .checked_sub_signed(chrono::TimeDelta::days(1))
        .unwrap_or(NaiveDateTime::MIN);
    let jtis: Vec<String> = on_backend!(conn, c => revoked_tokens::table
        .filter(revoked_tokens::expires_at.is_null().or(revoked_tokens::expires_at.gt(horizon)))
        .select(revoked_tokens::jti)
        .load(c))?;
    Ok(jtis.into_iter().collect())
}
