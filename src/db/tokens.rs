//! Queries for issued and revoked tokens: the issuing chain, revocations that cascade down it,
//! and the list of tokens a token or a `sub` issued.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{issued_tokens, revoked_tokens};
use super::{journal, now, DbConn, Writer};
use crate::auth::claims::{Access, Claims};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit};
use crate::error::{Error, Result};
use crate::on_backend;

/// The PostgreSQL channel every revocation is announced on (payload: the revoked `jti`).
pub const REVOKED_CHANNEL: &str = "opcoord_revoked";

/// The advisory lock name that orders issuing and revoking: a token cannot be issued by a
/// parent while a revocation of the parent's chain is being written, so none slips past the
/// cascade (on SQLite, writers take turns anyway).
const CHAIN_LOCK: &str = "opcoord:tokens";

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

/// One row of `issued_tokens` with its revocation, as listed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issued_tokens)]
pub struct IssuedRow {
    /// The token's id.
    pub jti: String,
    /// Its `sub`.
    pub sub: String,
    /// Its scopes, space-separated.
    pub scope: String,
    /// Its countries, space-separated.
    pub countries: String,
    /// Its operations, space-separated.
    pub op_ids: String,
    /// The `sub` of the token that issued it.
    pub issuer_sub: String,
    /// The `jti` of the token that issued it (none for the command line).
    pub parent_jti: Option<String>,
    /// When it was issued.
    pub issued_at: NaiveDateTime,
    /// When it expires.
    pub expires_at: NaiveDateTime,
}

/// Which issued tokens to list.
#[derive(Debug, Clone)]
pub enum IssuedBy {
    /// Those issued by the token with this `jti`.
    Token(String),
    /// Those issued by any token with this `sub`.
    Sub(String),
}

fn timestamp(secs: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .naive_utc()
}

fn split(list: &str) -> Access {
    Access::from_claim(&list.split_whitespace().map(str::to_string).collect::<Vec<_>>())
}

impl IssuedRow {
    /// The countries the token covers.
    pub fn countries(&self) -> Access {
        split(&self.countries)
    }

    /// The operations the token covers.
    pub fn ops(&self) -> Access {
        split(&self.op_ids)
    }
}

/// Whether `jti` is revoked in the database (not only in an instance's list).
fn is_revoked(conn: &mut DbConn, jti: &str) -> Result<bool> {
    let found: Option<String> = on_backend!(conn, c => revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

/// Records a token this service issued, with its place in the issuing chain and its audit
/// entry (the token itself is never stored). Refused (401) when the issuing token has been
/// revoked meanwhile — by another instance that this one has not heard from yet, say — so
/// no token outlives the cascade of its parent's revocation.
pub fn record_issued(conn: &mut DbConn, claims: &Claims, issuer: &Writer) -> Result<()> {
    let issued_by = format!("{}/{}", issuer.sub, issuer.jti);
    let parent = (!issuer.jti.is_empty()).then(|| issuer.jti.clone());
    let values = (
        issued_tokens::jti.eq(&claims.jti),
        issued_tokens::sub.eq(&claims.sub),
        issued_tokens::scope.eq(&claims.scope),
        issued_tokens::countries.eq(claims.countries.join(" ")),
        issued_tokens::op_ids.eq(claims.ops.join(" ")),
        issued_tokens::issued_by.eq(issued_by),
        issued_tokens::issued_at.eq(timestamp(claims.iat)),
        issued_tokens::expires_at.eq(timestamp(claims.exp)),
        issued_tokens::parent_jti.eq(parent.clone()),
        issued_tokens::issuer_sub.eq(&issuer.sub),
    );
    conn.write(|conn| {
        conn.lock_keys([CHAIN_LOCK])?;
        if let Some(parent) = &parent {
            if is_revoked(conn, parent)? {
                return Err(Error::Unauthorized("the token has been revoked".into()));
            }
        }
        on_backend!(conn, c => diesel::insert_into(issued_tokens::table).values(values).execute(c))?;
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
        journal::audit_only(conn, vec![audit])
    })
}

/// Reads a token this service issued.
pub fn find_issued(conn: &mut DbConn, jti: &str) -> Result<Option<IssuedToken>> {
    let row: Option<IssuedRow> = on_backend!(conn, c => issued_tokens::table
        .find(jti)
        .select(IssuedRow::as_select())
        .first(c)
        .optional())?;
    Ok(row.map(|row| IssuedToken {
        countries: row.countries(),
        ops: row.ops(),
        expires_at: row.expires_at,
    }))
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
/// (again is fine). Each newly revoked token gets its audit entry; on PostgreSQL each is also
/// announced on [`REVOKED_CHANNEL`] when the transaction commits, so every instance hears of it.
pub fn revoke(conn: &mut DbConn, jti: &str, revoker: &Writer, expires_at: Option<NaiveDateTime>) -> Result<Revoked> {
    let revoked_by = format!("{}/{}", revoker.sub, revoker.jti);
    conn.write(|conn| {
        conn.lock_keys([CHAIN_LOCK])?;
        let at = now();
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
                let values = (
                    revoked_tokens::jti.eq(&target),
                    revoked_tokens::revoked_by.eq(&revoked_by),
                    revoked_tokens::revoked_at.eq(at),
                    revoked_tokens::expires_at.eq(expires),
                );
                let inserted = on_backend!(conn, c => diesel::insert_into(revoked_tokens::table)
                    .values(values)
                    .on_conflict(revoked_tokens::jti)
                    .do_nothing()
                    .execute(c))?;
                if inserted == 1 {
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
            let children: Vec<(String, NaiveDateTime)> = on_backend!(conn, c => issued_tokens::table
                .filter(issued_tokens::parent_jti.eq_any(&parents))
                .select((issued_tokens::jti, issued_tokens::expires_at))
                .load(c))?;
            level = children.into_iter().map(|(j, e)| (j, Some(e))).collect();
        }
        if let DbConn::Postgres(c) = conn {
            for target in &newly {
                diesel::sql_query("SELECT pg_notify($1, $2)")
                    .bind::<diesel::sql_types::Text, _>(REVOKED_CHANNEL)
                    .bind::<diesel::sql_types::Text, _>(target)
                    .execute(c)?;
            }
        }
        journal::audit_only(conn, audits)?;
        let revoked_at =
            on_backend!(conn, c => revoked_tokens::table.find(jti).select(revoked_tokens::revoked_at).first(c))?;
        Ok(Revoked { revoked_at, newly })
    })
}

/// Tokens issued by a token or a `sub`, ordered by issue time then `jti`, after `after` (a
/// position: the issue time and `jti` of the last token of the previous page), at most `limit`, with when each was revoked.
pub fn list_issued(
    conn: &mut DbConn,
    by: &IssuedBy,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<(IssuedRow, Option<NaiveDateTime>)>> {
    Ok(on_backend!(conn, c => {
        let mut query = issued_tokens::table
            .left_join(revoked_tokens::table.on(revoked_tokens::jti.eq(issued_tokens::jti)))
            .select((IssuedRow::as_select(), revoked_tokens::revoked_at.nullable()))
            .order((issued_tokens::issued_at, issued_tokens::jti))
            .limit(limit)
            .into_boxed();
        query = match by {
            IssuedBy::Token(jti) => query.filter(issued_tokens::parent_jti.eq(jti.clone())),
            IssuedBy::Sub(sub) => query.filter(issued_tokens::issuer_sub.eq(sub.clone())),
        };
        if let Some((at, jti)) = after {
            query = query.filter(
                issued_tokens::issued_at
                    .gt(at)
                    .or(issued_tokens::issued_at.eq(at).and(issued_tokens::jti.gt(jti))),
            );
        }
        query.load(c)
    })?)
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
