//! `/v1/tokens` (issue and revoke) and `/.well-known/jwks.json` (the public keys).

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Body, QueryParams};
use crate::auth::claims::{Access, Scope};
use crate::auth::grant::{IssuedToken, NewToken};
use crate::auth::keys::Jwks;
use crate::auth::Caller;
use crate::db;
use crate::db::tokens::IssuedBy;
use crate::domain::page;
use crate::error::{Error, Result};
use crate::AppState;

/// Answer of a revocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revocation {
    /// The revoked token's id.
    pub jti: String,
    /// When it was first revoked. Every instance refuses it at once on PostgreSQL (pushed to
    /// them), within `revocation_refresh_ms` on SQLite.
    pub revoked_at: chrono::DateTime<chrono::Utc>,
    /// The tokens issued below it (by it, by those, ...) revoked now with it.
    pub cascaded: Vec<String>,
}

/// Query of `GET /v1/tokens`: exactly one of `issued_by` and `issuer_sub`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTokensQuery {
    /// The tokens issued by the token with this `jti`.
    pub issued_by: Option<String>,
    /// The tokens issued by any token with this `sub`.
    pub issuer_sub: Option<String>,
    /// Items per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A token this service issued, as listed (the token itself is never stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenRecord {
    /// Its id.
    pub jti: String,
    /// Who uses it.
    pub sub: String,
    /// Its scopes, space-separated.
    pub scope: String,
    /// Its countries.
    pub countries: Vec<String>,
    /// Its operations.
    pub ops: Vec<String>,
    /// The `sub` of the token that issued it.
    pub issuer_sub: String,
    /// The `jti` of the token that issued it (absent for one issued with the command line).
    pub issued_by: Option<String>,
    /// When it was issued.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// When it expires.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One page of issued tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPage {
    /// The tokens, by issue time. Tokens beyond the caller's countries or operations are left
    /// out, so a page may hold fewer than `limit`.
    pub items: Vec<TokenRecord>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
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
pub async fn issue_token(state: web::Data<AppState>, caller: Caller, body: Body) -> Result<HttpResponse> {
    caller.require(Scope::TokensIssue)?;
    let new: NewToken = body.json().await?;
    let mut grant = new.validate(state.auth.max_ttl_secs())?;
    grant.check_within(&caller, chrono::Utc::now().timestamp())?;
    grant.name_under(&caller.sub)?;
    let claims = state
        .auth
        .claims(&grant.sub, &grant.scopes, &grant.countries, &grant.ops, grant.ttl_secs);
    let token = state.auth.sign(&claims)?;
    let issuer = caller.writer();
    let recorded = claims.clone();
    state
        .db
        .run(move |conn| crate::service::tokens::record_issued(conn, &recorded, &issuer))
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

/// Revoke a token and every token issued below it.
///
/// In the same transaction, every token issued below it (by it, by those, ...) is revoked too.
/// Every instance refuses them at once on PostgreSQL (the revocation is pushed to them), within
/// `revocation_refresh_ms` on SQLite. Any token may revoke itself; otherwise the caller needs
/// `tokens:issue` and must cover the token's countries and operations (every country and
/// operation for a token this service did not issue); a token beyond that answers 404, as one
/// that does not exist. Revoking again is harmless.
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
        return Err(no_such_token());
    }
    let by = caller.writer();
    let own = jti == caller.jti;
    let expires_own = chrono::DateTime::from_timestamp(caller.expires_at, 0).map(|t| t.naive_utc());
    if !own {
        caller.require(Scope::TokensIssue)?;
    }
    let target = jti.clone();
    let revoked = state
        .db
        .run(move |conn| {
            let expires_at = if own {
                expires_own
            } else {
                // A token beyond the caller's reach answers as one that does not exist.
                match db::tokens::find_issued(conn, &target)? {
                    Some(issued) if caller.countries.covers(&issued.countries) && caller.ops.covers(&issued.ops) => {
                        Some(issued.expires_at)
                    }
                    None if caller.countries == Access::All && caller.ops == Access::All => None,
                    _ => return Err(no_such_token()),
                }
            };
            crate::service::tokens::revoke(conn, &target, &by, expires_at)
        })
        .await?;
    for newly in &revoked.newly {
        state.auth.mark_revoked(newly);
    }
    let cascaded: Vec<String> = revoked.newly.into_iter().filter(|j| *j != jti).collect();
    log::info!("token {jti} revoked, with {} issued below it", cascaded.len());
    Ok(web::Json(Revocation {
        jti,
        revoked_at: revoked.revoked_at.and_utc(),
        cascaded,
    }))
}

/// List the tokens issued by a token or a `sub`.
///
/// The tokens issued by one token (`issued_by=<jti>`) or by any token of one `sub`
/// (`issuer_sub=<sub>`), with when each was revoked: to see what a token handed on before
/// revoking it, or what a revocation took with it. Only tokens within the caller's countries
/// and operations are listed.
#[utoipa::path(
    tag = "tokens",
    operation_id = "list_tokens",
    params(ListTokensQuery),
    security(("bearer" = ["tokens:issue"])),
    responses(
        (status = 200, description = "One page of issued tokens", body = TokenPage),
        super::problems::ListErrors,
    )
)]
#[get("/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<ListTokensQuery>,
) -> Result<web::Json<TokenPage>> {
    caller.require(Scope::TokensIssue)?;
    let query = query.checked()?;
    let by = match (query.issued_by, query.issuer_sub) {
        (Some(jti), None) => IssuedBy::Token(jti),
        (None, Some(sub)) => IssuedBy::Sub(sub),
        _ => {
            return Err(Error::bad_parameter(
                "issued_by",
                "give exactly one of issued_by (a jti) and issuer_sub (a sub)",
            ))
        }
    };
    let limit = page::limit(query.limit)?;
    let after = page::decode_cursor(query.cursor.as_deref())?
        .map(|key| {
            key.split_once(' ')
                .and_then(|(micros, jti)| {
                    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
                    Some((at.naive_utc(), jti.to_string()))
                })
                .ok_or_else(|| Error::bad_parameter("cursor", "is not a token cursor"))
        })
        .transpose()?;
    let rows = state
        .db
        .run(move |conn| db::tokens::list_issued(conn, &by, after, limit + 1))
        .await?;
    let (rows, next_cursor) = page::finish(rows, limit, |(row, _)| {
        format!("{} {}", row.issued_at.and_utc().timestamp_micros(), row.jti)
    });
    let items = rows
        .into_iter()
        .filter(|(row, _)| caller.countries.covers(&row.countries()) && caller.ops.covers(&row.ops()))
        .map(|(row, revoked_at)| TokenRecord {
            countries: row.countries().to_claim(),
            ops: row.ops().to_claim(),
            jti: row.jti,
            sub: row.sub,
            scope: row.scope,
            issuer_sub: row.issuer_sub,
            issued_by: row.parent_jti,
            issued_at: row.issued_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            revoked_at: revoked_at.map(|at| at.and_utc()),
        })
        .collect();
    Ok(web::Json(TokenPage { items, next_cursor }))
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

/// The one answer for a token that was never issued here and for one beyond the caller's
/// countries or operations, so a token cannot learn which tokens others hold.
fn no_such_token() -> Error {
    Error::NotFound("no such token among those this token may revoke".into())
}
