//! Idempotency keys: a retried request with the same key and body gets the first response back.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{now, DbConn};
use crate::error::{Error, Result};
use crate::on_backend;

/// How long a key is kept (the contract asks for at least 24 hours).
pub const KEEP_HOURS: i64 = 48;
/// After this long an unfinished first request is taken to have died (its instance was killed,
/// or the database went away before the key could be released), and a retry may run. Running
/// a write twice is safe: the second finds the first's content and reports it unchanged.
pub const STALE_SECS: i64 = 15;

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// `ETag`, if the response had one.
    pub etag: Option<String>,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Claim {
    /// The key is new (or its first request died): run the request. The time the claim was
    /// made identifies it: [`finish`] and [`release`] act only on their own claim, so a run that
    /// was taken over cannot overwrite or delete the claim of the run that took over.
    Run(NaiveDateTime),
    /// The key has a finished response for the same request: send it again.
    Replay(Stored),
}

/// Claims `key` for this request (`fingerprint` = hash of method, path and body). A key in use
/// by another request is 422; a key whose first request is still running is 409.
pub fn claim(conn: &mut DbConn, owner: &str, key: &str, fingerprint: &str) -> Result<Claim> {
    conn.write(|conn| {
        let at = now();
        let inserted = on_backend!(conn, c => diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::owner.eq(owner),
                idempotency_keys::idem_key.eq(key),
                idempotency_keys::fingerprint.eq(fingerprint),
                idempotency_keys::created_at.eq(at),
            ))
            .on_conflict((idempotency_keys::owner, idempotency_keys::idem_key))
            .do_nothing()
            .execute(c))?;
        if inserted == 1 {
            return Ok(Claim::Run(at));
        }
        type Row = (String, Option<i32>, Option<String>, Option<String>, NaiveDateTime);
        let (stored_fingerprint, status, response, etag, created_at): Row = on_backend!(conn, c => idempotency_keys::table
            .find((owner, key))
            .select((idempotency_keys::fingerprint, idempotency_keys::status, idempotency_keys::response, idempotency_keys::etag, idempotency_keys::created_at))
            .first(c))?;
        if stored_fingerprint != fingerprint {
            return Err(Error::Validation(vec![crate::error::FieldError::parameter(
                "Idempotency-Key",
                "this key was used for a different request; use a new key for new content",
            )]));
        }
        match (status, response) {
            (Some(status), Some(body)) => Ok(Claim::Replay(Stored { status: u16::try_from(status).unwrap_or(200), body, etag })),
            _ if created_at < at.checked_sub_signed(chrono::TimeDelta::seconds(STALE_SECS)).unwrap_or(NaiveDateTime::MIN) => {
                on_backend!(conn, c => diesel::update(idempotency_keys::table.find((owner, key)))
                    .set(idempotency_keys::created_at.eq(at))
                    .execute(c))?;
                Ok(Claim::Run(at))
            }
            _ => Err(Error::InProgress),
        }
    })
}

/// Stores the response of a key claimed at `claimed_at`.
pub fn finish(conn: &mut DbConn, owner: &str, key: &str, claimed_at: NaiveDateTime, stored: &Stored) -> Result<()> {
    on_backend!(conn, c => diesel::update(idempotency_keys::table.find((owner, key)).filter(idempotency_keys::created_at.eq(claimed_at)))
        .set((
            idempotency_keys::status.eq(Some(i32::from(stored.status))),
            idempotency_keys::response.eq(Some(&stored.body)),
            idempotency_keys::etag.eq(stored.etag.as_ref()),
        ))
        .execute(c))?;
    Ok(())
}

/// Gives a key claimed at `claimed_at` up after its request failed, so a retry runs it again.
pub fn release(conn: &mut DbConn, owner: &str, key: &str, claimed_at: NaiveDateTime) -> Result<()> {
    on_backend!(conn, c => diesel::delete(idempotency_keys::table.find((owner, key))
        .filter(idempotency_keys::status.is_null())
        .filter(idempotency_keys::created_at.eq(claimed_at)))
        .execute(c))?;
    Ok(())
}

/// Deletes keys older than [`KEEP_HOURS`]; returns how many.
pub fn purge(conn: &mut DbConn) -> Result<usize> {
    let horizon = now()
        .checked_sub_signed(chrono::TimeDelta::hours(KEEP_HOURS))
        .unwrap_or(NaiveDateTime::MIN);
    Ok(
        on_backend!(conn, c => diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(horizon))).execute(c))?,
    )
}
