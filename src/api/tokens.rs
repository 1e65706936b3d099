//! `/v1/tokens` (issue and revoke) and `/.well-known/jwks.json` (the public keys).

use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::JsonBody;
use crate::auth::claims::{Access, Scope};
use crate::auth::grant::{IssuedToken, NewToken};
use crate::auth::keys::Jwks;
use crate::auth::Caller;
use crate::db;
use crate::error::{Error, Result};
use crate::AppState;

/// Answer of a revocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revocation {
    /// The revoked token's id.
    pub jti: String,
    /// When it was first revoked; every instance refuses it within `revocation_refresh_ms`.
    pub revoked_at: chrono::DateTime<chrono::Utc>,
}

/// Issue a token.
///
/// The new token's scopes, countries, operations and lifetime must each be within the caller's own;
/// anything wider is 403. The answer carries the token once: it is not stored, only its id
/// (`jti`), so that it can be revoked.
#[utoipa::path(
    tag = "tokens",
    operation_id = "issue_token",
    request_body = NewToken,
    security(("bearer" = ["tokens:issue"])),
    responses(
        (status = 201, description = "The token was issued", body = IssuedToken),
        super::problems::CreateErrors,
    )
)]
#[post("/tokens")]
pub async fn issue_token(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<HttpResponse> {
    caller.require(Scope::TokensIssue)?;
    let grant = new.validate(state.auth.max_ttl_secs())?;
    grant.check_within(&caller, chrono::Utc::now().timestamp())?;
    let claims = state
        .auth
        .claims(&grant.sub, &grant.scopes, &grant.countries, &grant.ops, grant.ttl_secs);
    let token = state.auth.sign(&claims)?;
    let issuer = caller.writer();
    let recorded = claims.clone();
    state
        .db
        .run(move |conn| db::tokens::record_issued(conn, &recorded, &issuer))
        .await?;
    log::info!("token {} issued to {} by {}", claims.jti, claims.sub, caller.sub);
    Ok(HttpResponse::Created().json(IssuedToken {
        token,
        jti: claims.jti,
        sub: claims.sub,
        scope: claims.scope,
        countries: claims.countries,
        ops: claims.ops,
        expires_at: chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
    }))
}

/// Revoke a token.
///
/// Every instance refuses it within `revocation_refresh_ms` (1 s by default). Any token may revoke
/// itself; otherwise the caller needs `tokens:issue` and must cover the token's countries and
/// operations (every country and operation for a token this service did not issue). Revoking
/// again is harmless.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revoke_token",
    params(("jti" = String, Path, description = "The id of the token to revoke")),
    security(("bearer" = ["tokens:issue"])),
    responses(
        (status = 200, description = "The token is revoked", body = Revocation),
        super::problems::ReadErrors,
    )
)]
#[post("/tokens/{jti}/revoke")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<web::Json<Revocation>> {
    let jti = path.into_inner();
    if jti.is_empty() || jti.len() > 200 {
        return Err(Error::NotFound("no such token".into()));
    }
    let by = caller.writer();
    let own = jti == caller.jti;
    let expires_own = chrono::DateTime::from_timestamp(caller.expires_at, 0).map(|t| t.naive_utc());
    if !own {
        caller.require(Scope::TokensIssue)?;
    }
    let target = jti.clone();
    let revoked_at = state
        .db
        .run(move |conn| {
            let expires_at = if own {
                expires_own
            } else {
                match db::tokens::find_issued(conn, &target)? {
                    Some(issued) if caller.countries.covers(&issued.countries) && caller.ops.covers(&issued.ops) => {
                        Some(issued.expires_at)
                    }
                    Some(_) => {
                        return Err(Error::Forbidden(
                            "the token covers countries or operations beyond the caller's".into(),
                        ))
                    }
                    None if caller.countries == Access::All && caller.ops == Access::All => None,
                    None => return Err(Error::Forbidden(
                        "only a token for every country and operation can revoke a token this service did not issue"
                            .into(),
                    )),
                }
            };
            db::tokens::revoke(conn, &target, &by, expires_at)
        })
        .await?;
    state.auth.mark_revoked(&jti);
    log::info!("token {jti} revoked");
    Ok(web::Json(Revocation {
        jti,
        revoked_at: revoked_at.and_utc(),
    }))
}

/// Read the public keys that verify tokens.
///
/// A JSON Web Key Set (RFC 7517) by `kid`, for anyone who wants to check an opcoord token's
/// signature. Shared secrets are never listed. No token.
#[utoipa::path(
    tag = "tokens",
    operation_id = "get_jwks",
    responses((status = 200, description = "The public keys by kid", body = Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> web::Json<Jwks> {
    web::Json(state.auth.keyring.jwks())
}
