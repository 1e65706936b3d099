//! `Idempotency-Key`: a retried write with the same key and body gets the first response again.
//! Keys belong to the token's principal (its `sub` with its scopes, countries and operations)
//! and are kept 48 hours. Only successful responses are kept:
//! a request that failed can be retried with the same key and runs again.

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::Caller;
use crate::db::idempotency::{self, Claim, Stored};
use crate::error::{Error, Result};
use crate::AppState;

/// Seconds between purges of expired keys by one instance.
const PURGE_EVERY_SECS: i64 = 600;

/// When this instance last purged expired keys (seconds since the epoch).
static LAST_PURGE: AtomicI64 = AtomicI64::new(0);

/// Header set on a response that replays a stored one.
pub const REPLAYED: &str = "idempotent-replayed";

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters. A malformed one
/// is a 400, but only once [`run`] is reached, after the handler has checked the caller.
pub struct IdempotencyKey(Result<Option<String>>);

impl FromRequest for IdempotencyKey {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(None),
            Some(value) => match value.to_str() {
                Ok(text) if (1..=255).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(Some(text.to_string()))
                }
                _ => Err(Error::bad_parameter(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters",
                )),
            },
        };
        std::future::ready(Ok(IdempotencyKey(key)))
    }
}

/// A successful write answer, in a form that can be stored and replayed.
pub struct Reply {
    status: StatusCode,
    body: String,
    etag: Option<String>,
}

impl Reply {
    /// A JSON answer with an optional `ETag`.
    pub fn json<T: Serialize>(status: StatusCode, body: &T, etag: Option<String>) -> Result<Reply> {
        let body = serde_json::to_string(body).map_err(|e| Error::internal(format!("cannot write the answer: {e}")))?;
        Ok(Reply { status, body, etag })
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/json"));
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if replayed {
            response.insert_header((REPLAYED, "true"));
        }
        response.body(self.body)
    }
}

/// Runs a write under its idempotency key, if it has one.
pub async fn run<F, Fut>(
    state: &AppState,
    caller: &Caller,
    key: IdempotencyKey,
    fingerprint: String,
    write: F,
) -> Result<HttpResponse>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply>>,
{
    let Some(key) = key.0? else {
        return Ok(write().await?.into_response(false));
    };
    // A stored answer is replayed only to a caller who could have made the request itself.
    let owner = caller.principal();
    let (o, k) = (owner.clone(), key.clone());
    // Now and then (every 10 minutes per instance), expired keys go first.
    let now = chrono::Utc::now().timestamp();
    let last = LAST_PURGE.load(Ordering::Relaxed);
    let purge = now - last >= PURGE_EVERY_SECS
        && LAST_PURGE
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok();
    let claim = state
        .db
        .run(move |conn| {
            if purge {
                let purged = idempotency::purge(conn)?;
                if purged > 0 {
                    log::info!(
                        "purged {purged} idempotency keys older than {} hours",
                        idempotency::KEEP_HOURS
                    );
                }
            }
            idempotency::claim(conn, &o, &k, &fingerprint)
        })
        .await?;
    let claimed_at = match claim {
        Claim::Run(at) => at,
        Claim::Replay(stored) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            return Ok(Reply {
                status,
                body: stored.body,
                etag: stored.etag,
            }
            .into_response(true));
        }
    };
    match write().await {
        Ok(reply) => {
            let stored = Stored {
                status: reply.status.as_u16(),
                body: reply.body.clone(),
                etag: reply.etag.clone(),
            };
            state
                .db
                .run(move |conn| idempotency::finish(conn, &owner, &key, claimed_at, &stored))
                .await?;
            Ok(reply.into_response(false))
        }
        Err(error) => {
            if let Err(release) = state
                .db
                .run(move |conn| idempotency::release(conn, &owner, &key, claimed_at))
                .await
            {
                log::warn!("could not release an idempotency key after a failed write: {release}");
            }
            Err(error)
        }
    }
}
