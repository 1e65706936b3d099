//! Queries for issued and revoked tokens: the issuing chain, revocations that cascade down it,
//! and the list of tokens a token or a `sub` issued.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{issued_tokens, revoked_tokens};
use super::{now, DbConn, Writer};
use crate::auth::claims::{Access, Claims};
use crate::error::Result;
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
pub fn is_revoked(conn: &mut DbConn, jti: &str) -> Result<bool> {
    let found: Option<String> = on_backend!(conn, c => revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

/// Stores a token this service issued, with its place in the issuing chain (its parent's
/// `jti`, if a token issued it, and its issuer's `sub`); the token itself is never stored.
pub fn insert_issued(conn: &mut DbConn, claims: &Claims, issuer: &Writer) -> Result<()> {
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
        issued_tokens::parent_jti.eq(parent),
        issued_tokens::issuer_sub.eq(&issuer.sub),
    );
    on_backend!(conn, c => diesel::insert_into(issued_tokens::table).values(values).execute(c))?;
    Ok(())
}

/// Takes the lock that orders issuing and revoking until the end of the write transaction: a
/// token cannot be issued by a parent while a revocation of the parent's chain is being
/// written, so none slips past the cascade (on SQLite, writers take turns anyway).
pub fn lock_chain(conn: &mut DbConn) -> Result<()> {
    conn.lock_keys([CHAIN_LOCK])
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

/// Records that `jti` is revoked (by `revoked_by`, at `at`); returns whether it was not yet.
pub fn insert_revocation(
    conn: &mut DbConn,
    jti: &str,
    revoked_by: &str,
    at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
) -> Result<bool> {
    let values = (
        revoked_tokens::jti.eq(jti),
        revoked_tokens::revoked_by.eq(revoked_by),
        revoked_tokens::revoked_at.eq(at),
        revoked_tokens::expires_at.eq(expires_at),
    );
    let inserted = on_backend!(conn, c => diesel::insert_into(revoked_tokens::table)
        .values(values)
        .on_conflict(revoked_tokens::jti)
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// The tokens issued by any of `parents`, with when each expires.
pub fn children_of(conn: &mut DbConn, parents: &[String]) -> Result<Vec<(String, NaiveDateTime)>> {
    Ok(on_backend!(conn, c => issued_tokens::table
        .filter(issued_tokens::parent_jti.eq_any(parents))
        .select((issued_tokens::jti, issued_tokens::expires_at))
        .load(c))?)
}

/// When `jti` was first revoked.
pub fn revoked_at(conn: &mut DbConn, jti: &str) -> Result<NaiveDateTime> {
    Ok(on_backend!(conn, c => revoked_tokens::table.find(jti).select(revoked_tokens::revoked_at).first(c))?)
}

/// On PostgreSQL, announces each revoked `jti` on [`REVOKED_CHANNEL`] when the transaction
/// commits, so every instance hears of it; on SQLite, nothing (instances poll).
pub fn announce_revoked(conn: &mut DbConn, jtis: &[String]) -> Result<()> {
    if let DbConn::Postgres(c) = conn {
        for jti in jtis {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<diesel::sql_types::Text, _>(REVOKED_CHANNEL)
                .bind::<diesel::sql_types::Text, _>(jti)
                .execute(c)?;
        }
    }
    Ok(())
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
