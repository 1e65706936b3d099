//! The write use cases of tokens: record one this service issued, and revoke one with every
//! token issued below it. Both take the chain lock, so that a token cannot be issued by a parent
//! whose revocation is being written.

use std::collections::HashSet;

use chrono::NaiveDateTime;

use crate::auth::claims::Claims;
use crate::db::{self, DbConn};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit, Writer};
use crate::error::{Error, Result};

/// Records a token this service issued, with its place in the issuing chain and its audit
/// entry (the token itself is never stored). Refused (401) when the issuing token has been
/// revoked meanwhile — by another instance that this one has not heard from yet, say — so no
/// token outlives the cascade of its parent's revocation.
pub fn record_issued(conn: &mut DbConn, claims: &Claims, issuer: &Writer) -> Result<()> {
    conn.write(|conn| {
        db::tokens::lock_chain(conn)?;
        if !issuer.jti.is_empty() && db::tokens::is_revoked(conn, &issuer.jti)? {
            return Err(Error::Unauthorized("the token has been revoked".into()));
        }
        db::tokens::insert_issued(conn, claims, issuer)?;
        let payload = serde_json::to_string(claims).unwrap_or_default();
        let audit = NewAudit::single(
            issuer,
            "",
            "",
            AuditAction::Issue,
            AuditEntity::Token,
            &claims.jti,
            1,
            &payload,
        );
        db::journal::audit_only(conn, vec![audit])
    })
}

/// What a revocation did.
#[derive(Debug, Clone)]
pub struct Revoked {
    /// When the token named was first revoked.
    pub revoked_at: NaiveDateTime,
    /// Every token revoked now: the one named (unless it already was) and each token issued
    /// below it that was not revoked yet.
    pub newly: Vec<String>,
}

/// Revokes `jti` and, in the same transaction, every token issued below it down the chain
/// (again is fine). Each newly revoked token gets its audit entry and is announced to every
/// instance when the transaction commits (PostgreSQL).
pub fn revoke(conn: &mut DbConn, jti: &str, revoker: &Writer, expires_at: Option<NaiveDateTime>) -> Result<Revoked> {
    let revoked_by = format!("{}/{}", revoker.sub, revoker.jti);
    conn.write(|conn| {
        db::tokens::lock_chain(conn)?;
        let at = db::now();
        let mut newly = Vec::new();
        let mut audits = Vec::new();
        let mut level = vec![(jti.to_string(), expires_at)];
        let mut seen: HashSet<String> = HashSet::new();
        while !level.is_empty() {
            let mut parents = Vec::with_capacity(level.len());
            for (target, expires) in level {
                if !seen.insert(target.clone()) {
                    continue;
                }
                if db::tokens::insert_revocation(conn, &target, &revoked_by, at, expires)? {
                    let mut payload = serde_json::json!({"jti": target, "revoked_by": revoked_by});
                    if target != jti {
                        payload["cascade_from"] = serde_json::json!(jti);
                    }
                    audits.push(NewAudit::single(
                        revoker,
                        "",
                        "",
                        AuditAction::Revoke,
                        AuditEntity::Token,
                        &target,
                        1,
                        &payload.to_string(),
                    ));
                    newly.push(target.clone());
                }
                parents.push(target);
            }
            level = db::tokens::children_of(conn, &parents)?
                .into_iter()
                .map(|(child, expires)| (child, Some(expires)))
                .collect();
        }
        db::tokens::announce_revoked(conn, &newly)?;
        db::journal::audit_only(conn, audits)?;
        let revoked_at = db::tokens::revoked_at(conn, jti)?;
        Ok(Revoked { revoked_at, newly })
    })
}
