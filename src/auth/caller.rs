//! The [`Caller`] extractor: a handler that takes one can only run for a verified, unrevoked
//! token, and asks it for the scope, operation and country of every object it touches.

use std::collections::BTreeSet;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::claims::{Access, Claims, Scope};
use crate::error::{Error, Result};
use crate::{db, AppState};

/// Who is calling, from a verified token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's `sub`.
    pub sub: String,
    /// The token's `jti`.
    pub jti: String,
    /// The scopes it grants.
    pub scopes: BTreeSet<Scope>,
    /// The countries it may act for.
    pub countries: Access,
    /// The operations it may act in.
    pub ops: Access,
    /// Its expiry (seconds since the epoch).
    pub expires_at: i64,
}

impl From<Claims> for Caller {
    fn from(claims: Claims) -> Caller {
        Caller {
            scopes: Scope::set_of(&claims.scope),
            countries: Access::from_claim(&claims.countries),
            ops: Access::from_claim(&claims.ops),
            sub: claims.sub,
            jti: claims.jti,
            expires_at: claims.exp,
        }
    }
}

impl Caller {
    /// 403 unless the token grants `scope`.
    pub fn require(&self, scope: Scope) -> Result<&Caller> {
        if self.scopes.contains(&scope) {
            Ok(self)
        } else {
            Err(Error::Forbidden(format!(
                "this needs the scope {scope}, which the token does not grant"
            )))
        }
    }

    /// 403 unless the token covers operation `op`.
    pub fn require_operation(&self, op: &str) -> Result<&Caller> {
        if self.ops.allows(op) {
            Ok(self)
        } else {
            Err(Error::Forbidden(format!("the token does not cover operation `{op}`")))
        }
    }

    /// 403 unless the token covers `country`.
    pub fn require_country(&self, country: &str) -> Result<&Caller> {
        if self.countries.allows(country) {
            Ok(self)
        } else {
            Err(Error::Forbidden(format!("the token does not cover country {country}")))
        }
    }

    /// 403 unless the token covers every country (`["*"]`): for writes to a whole operation.
    pub fn require_every_country(&self) -> Result<&Caller> {
        match self.countries {
            Access::All => Ok(self),
            Access::Only(_) => Err(Error::Forbidden(
                "changing a whole operation needs a token for every country (countries [\"*\"])".into(),
            )),
        }
    }

    /// The countries a list may show: the one a query asks for (400 if it is not a code, 403
    /// if the token does not cover it), else the token's own (`None`: every country).
    pub fn countries_asked(&self, asked: Option<&str>) -> Result<Option<Vec<String>>> {
        match asked {
            Some(code) => {
                let code = crate::domain::country::parameter("country", code)?;
                self.require_country(&code)?;
                Ok(Some(vec![code]))
            }
            None => Ok(self.countries.filter()),
        }
    }

    /// The token's identity as recorded with every write and audit entry.
    pub fn writer(&self) -> crate::domain::audit::Writer {
        crate::domain::audit::Writer {
            sub: self.sub.clone(),
            jti: self.jti.clone(),
        }
    }

    /// Whether the token may act for `country` (403 if not): what the write use cases ask.
    pub fn may_act_for(&self, country: &str) -> Result<()> {
        self.require_country(country).map(|_| ())
    }

    /// Whose idempotency keys this caller uses: its `sub` together with everything it may do
    /// (scopes, countries, operations). A stored answer is replayed only to a caller with the
    /// same `sub` and the same reach, who could have made the request itself: a token given
    /// another principal's `sub` but other countries gets keys of its own, and never sees the
    /// other's answers (nor learns that a key is in use). A country that rotates its token
    /// with the same `sub` and rights keeps its keys.
    pub fn principal(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            Scope::claim_of(&self.scopes),
            self.countries.to_claim().join(" "),
            self.ops.to_claim().join(" "),
        ] {
            hasher.update(part.as_bytes());
            hasher.update(b"\n");
        }
        format!("{}#{}", self.sub, hex::encode(&hasher.finalize()[..16]))
    }

    /// Scope and operation together: the check at the top of every operation-level handler.
    pub fn require_in(&self, scope: Scope, op: &str) -> Result<&Caller> {
        self.require(scope)?.require_operation(op)
    }
}

fn bearer(req: &HttpRequest) -> Result<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("no token: send Authorization: Bearer <token>".into()))?;
    let text = value
        .to_str()
        .map_err(|_| Error::Unauthorized("the Authorization header is not ASCII".into()))?;
    let (scheme, token) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::Unauthorized("the Authorization scheme must be Bearer".into()));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::Unauthorized("the bearer token is empty".into()));
    }
    Ok(token.to_string())
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Caller>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("application state missing"))?;
            let claims = state.auth.verify(&token?)?;
            let auth = &state.auth;
            if auth.never_loaded() || auth.claim_refresh() {
                match state.db.run(db::tokens::revoked_jtis).await {
                    Ok(jtis) => auth.finish_refresh(Some(jtis)),
                    Err(error) => {
                        auth.finish_refresh(None);
                        return Err(error);
                    }
                }
            }
            if auth.is_revoked(&claims.jti) {
                return Err(Error::Unauthorized("the token has been revoked".into()));
            }
            Ok(Caller::from(claims))
        })
    }
}
