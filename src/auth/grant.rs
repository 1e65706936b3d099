//! What a token may hand on: a token issued through the API covers at most what its issuer's
//! token covers, in scopes, countries, operations and lifetime.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::claims::{Access, Scope};
use super::Caller;
use crate::domain::{country, text};
use crate::error::{Error, FieldError, Result};

/// Body of `POST /v1/tokens`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Who will use the token: a unit id or a client name, without `/`. The token's `sub` is
    /// this name under the issuer's own `sub` (`secretariat/gb-nca-sync`), so no issuer can
    /// name a token after a principal outside its own branch.
    #[schema(example = "gb-nca-sync")]
    pub sub: String,
    /// Space-separated scopes, each one the caller holds.
    #[schema(example = "interceptions:write interceptions:read tallies:write tallies:read")]
    pub scope: String,
    /// ISO 3166-1 alpha-2 codes, or `["*"]`; within the caller's.
    #[schema(example = json!(["GB"]))]
    pub countries: Vec<String>,
    /// Operation ids, or `["*"]`; within the caller's.
    #[schema(example = json!(["liberterra-iii"]))]
    pub ops: Vec<String>,
    /// Lifetime in seconds; at most what is left of the caller's own token.
    #[schema(example = 2_592_000)]
    pub ttl_seconds: i64,
}

/// A checked request for a token.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Who will use it.
    pub sub: String,
    /// Its scopes.
    pub scopes: BTreeSet<Scope>,
    /// Its countries.
    pub countries: Access,
    /// Its operations.
    pub ops: Access,
    /// Its lifetime in seconds.
    pub ttl_secs: i64,
}

/// Answer of `POST /v1/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The token, to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Its id, the handle for revocation.
    pub jti: String,
    /// Who will use it.
    pub sub: String,
    /// Its scopes, space-separated.
    pub scope: String,
    /// Its countries.
    pub countries: Vec<String>,
    /// Its operations.
    pub ops: Vec<String>,
    /// When it expires (RFC 3339).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl NewToken {
    /// Checks the request's form (422 with pointers), before any question of rights.
    pub fn validate(&self, max_ttl_secs: i64) -> Result<Grant> {
        let mut errors = Vec::new();
        text::required(&self.sub, text::MAX_NAME, "/sub", &mut errors);
        if self.sub.contains('/') {
            errors.push(FieldError::at(
                "/sub",
                "must not contain `/`: a token issued through the API is named under its issuer (`issuer/name`)",
            ));
        }
        let mut scopes = BTreeSet::new();
        for name in self.scope.split_whitespace() {
            match Scope::parse(name) {
                Some(scope) => {
                    scopes.insert(scope);
                }
                None => errors.push(FieldError::at("/scope", format!("`{name}` is not a scope"))),
            }
        }
        if scopes.is_empty() && errors.is_empty() {
            errors.push(FieldError::at("/scope", "must name at least one scope"));
        }
        let countries = access(&self.countries, "/countries", &mut errors, |code, pointer, errors| {
            country::check(code, pointer, errors)
        });
        let ops = access(&self.ops, "/ops", &mut errors, |op, pointer, errors| {
            if !text::is_slug(op) {
                errors.push(FieldError::at(pointer, format!("`{op}` is not an operation id")));
            }
            op.to_string()
        });
        if !(60..=max_ttl_secs).contains(&self.ttl_seconds) {
            errors.push(FieldError::at(
                "/ttl_seconds",
                format!("must be between 60 and {max_ttl_secs}"),
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(Grant {
            sub: self.sub.trim().to_string(),
            scopes,
            countries,
            ops,
            ttl_secs: self.ttl_seconds,
        })
    }
}

fn access(
    values: &[String],
    pointer: &str,
    errors: &mut Vec<FieldError>,
    check: impl Fn(&str, &str, &mut Vec<FieldError>) -> String,
) -> Access {
    if values.is_empty() {
        errors.push(FieldError::at(pointer, "must name at least one, or \"*\""));
    }
    if values.iter().any(|v| v == "*") {
        if values.len() > 1 {
            errors.push(FieldError::at(pointer, "\"*\" stands alone"));
        }
        return Access::All;
    }
    Access::Only(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| check(v, &format!("{pointer}/{i}"), errors))
            .collect(),
    )
}

/// Longest `sub` of a token issued through the API, the issuers' names included.
pub const MAX_ISSUED_SUB: usize = 1000;

impl Grant {
    /// Names the token under its issuer: `issuer_sub/name`. A `sub` says who a principal is
    /// (it is recorded with every write and owns idempotency keys), so an issuer may only name
    /// tokens inside its own branch and can never give one another principal's name.
    pub fn name_under(&mut self, issuer_sub: &str) -> Result<()> {
        let full = format!("{issuer_sub}/{}", self.sub);
        if full.chars().count() > MAX_ISSUED_SUB {
            return Err(Error::invalid(
                "/sub",
                format!("under its issuer the sub would be longer than {MAX_ISSUED_SUB} characters"),
            ));
        }
        self.sub = full;
        Ok(())
    }

    /// 403 unless everything granted is within the caller's own token.
    pub fn check_within(&self, caller: &Caller, now: i64) -> Result<()> {
        if let Some(scope) = self.scopes.iter().find(|s| !caller.scopes.contains(s)) {
            return Err(Error::Forbidden(format!(
                "cannot grant {scope}: the caller's token does not hold it"
            )));
        }
        if !caller.countries.covers(&self.countries) {
            return Err(Error::Forbidden(
                "cannot grant countries beyond the caller's own".into(),
            ));
        }
        if !caller.ops.covers(&self.ops) {
            return Err(Error::Forbidden(
                "cannot grant operations beyond the caller's own".into(),
            ));
        }
        if now + self.ttl_secs > caller.expires_at {
            return Err(Error::Forbidden(
                "cannot grant a lifetime beyond the caller's own token".into(),
            ));
        }
        Ok(())
    }
}
