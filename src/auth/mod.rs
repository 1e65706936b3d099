//! Tokens: keys, verification (RFC 8725 practices), issuing, revocation, and the [`Caller`]
//! extractor through which every handler states the scope, country and operation it needs.

pub mod caller;
pub mod claims;
pub mod grant;
pub mod keys;
mod verified;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, encode, Header, Validation};

pub use caller::Caller;
use claims::{Access, Audience, Claims, Scope};
use keys::Keyring;
use verified::VerifiedTokens;

use crate::config::Settings;
use crate::error::{Error, Result};

/// The token media type of RFC 9068, required in the `typ` header.
pub const TOKEN_TYPE: &str = "at+jwt";
/// Largest clock leeway accepted in the settings, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 60;

/// The revocation list as last loaded from the database.
struct Revoked {
    jtis: HashSet<String>,
    loaded_at: Option<Instant>,
}

/// Everything an instance needs to verify and issue tokens.
pub struct Auth {
    /// The keys.
    pub keyring: Keyring,
    issuer: String,
    audience: String,
    leeway: u64,
    max_ttl_secs: i64,
    refresh_every: Duration,
    revoked: RwLock<Revoked>,
    refreshing: AtomicBool,
    verified: VerifiedTokens,
}

fn invalid(why: &str) -> Error {
    Error::Unauthorized(why.to_string())
}

impl Auth {
    /// Builds the token machinery from the settings and a loaded keyring.
    pub fn new(settings: &Settings, keyring: Keyring) -> Result<Auth> {
        // The first signature panics unless a crypto provider is installed; a second install is harmless.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        if settings.token_leeway_secs > MAX_LEEWAY_SECS {
            return Err(Error::Config(format!(
                "setting `token_leeway_secs`: at most {MAX_LEEWAY_SECS}"
            )));
        }
        Ok(Auth {
            keyring,
            issuer: settings.token_issuer.clone(),
            audience: settings.token_audience.clone(),
            leeway: settings.token_leeway_secs,
            max_ttl_secs: i64::from(settings.token_max_ttl_days) * 86_400,
            refresh_every: Duration::from_millis(settings.revocation_refresh_ms),
            revoked: RwLock::new(Revoked {
                jtis: HashSet::new(),
                loaded_at: None,
            }),
            refreshing: AtomicBool::new(false),
            verified: VerifiedTokens::new(settings.token_leeway_secs),
        })
    }

    /// Loads the keys the settings name (making the first key pair if `create`) and builds [`Auth`].
    pub fn from_settings(settings: &Settings, create: bool) -> Result<Auth> {
        Auth::new(settings, Keyring::load(settings, create)?)
    }

    /// Checks a token's header, signature and claims (not revocation: see [`Caller`]).
    /// Each failure says which check failed, never what the token holds.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        if let Some(claims) = self.verified.recall(token) {
            return Ok(claims);
        }
        let claims = self.check(token)?;
        self.verified.remember(token, &claims);
        Ok(claims)
    }

    /// The checks of [`Auth::verify`], done in full.
    fn check(&self, token: &str) -> Result<Claims> {
        let header = decode_header(token).map_err(|_| invalid("the token is not a JWT with an accepted algorithm"))?;
        let typ_ok = header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt"));
        if !typ_ok {
            return Err(invalid("the token's typ header must be at+jwt"));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or_else(|| invalid("the token has no kid header"))?;
        let key = self
            .keyring
            .verify
            .get(kid)
            .ok_or_else(|| invalid("the token's kid names no key of this service"))?;
        if header.alg != key.algorithm {
            return Err(invalid("the token's alg is not the algorithm of its key"));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        let data = decode::<Claims>(token, &key.decoding, &validation).map_err(|e| {
            invalid(match e.kind() {
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
                ErrorKind::InvalidIssuer => "the token's iss is not this service's issuer",
                ErrorKind::InvalidAudience => "the token's aud is not this service",
                ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => "the token has no exp claim",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp, iss, aud, sub, jti)",
                ErrorKind::InvalidAlgorithm => "the token's alg is not the algorithm of its key",
                ErrorKind::Json(_) | ErrorKind::InvalidClaimFormat(_) => {
                    "the token's claims are malformed or lack a required claim (exp, iss, aud, sub, jti)"
                }
                _ => "the token is malformed",
            })
        })?;
        if data.claims.jti.trim().is_empty() {
            return Err(invalid("the token has no jti claim"));
        }
        Ok(data.claims)
    }

    /// Claims for a new token of this issuer, valid from now for `ttl_secs`.
    pub fn claims(
        &self,
        sub: &str,
        scopes: &BTreeSet<Scope>,
        countries: &Access,
        ops: &Access,
        ttl_secs: i64,
    ) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            sub: sub.to_string(),
            iat: now,
            exp: now + ttl_secs,
            nbf: None,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: Scope::claim_of(scopes),
            countries: countries.to_claim(),
            ops: ops.to_claim(),
        }
    }

    /// Signs claims with this instance's signing key.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let key = self
            .keyring
            .signing
            .as_ref()
            .ok_or_else(|| Error::Conflict("this instance has no signing key, so it cannot issue tokens".into()))?;
        let mut header = Header::new(key.algorithm);
        header.kid = Some(key.kid.clone());
        header.typ = Some(TOKEN_TYPE.to_string());
        encode(&header, claims, &key.encoding).map_err(|e| Error::internal(format!("signing failed: {e}")))
    }

    /// Longest lifetime of an issued token, in seconds.
    pub fn max_ttl_secs(&self) -> i64 {
        self.max_ttl_secs
    }

    /// Whether the revocation list is due for a reload; when it is, the first caller to ask is
    /// told so (and should reload), the others go on with the list as it is.
    pub fn claim_refresh(&self) -> bool {
        let due = self
            .revoked
            .read()
            .map(|r| r.loaded_at.is_none_or(|at| at.elapsed() >= self.refresh_every))
            .unwrap_or(true);
        due && !self.refreshing.swap(true, Ordering::AcqRel)
    }

    /// Replaces the revocation list with a fresh load (or just ends the refresh on failure).
    pub fn finish_refresh(&self, loaded: Option<HashSet<String>>) {
        if let Some(jtis) = loaded {
            if let Ok(mut revoked) = self.revoked.write() {
                revoked.jtis = jtis;
                revoked.loaded_at = Some(Instant::now());
            }
        }
        self.refreshing.store(false, Ordering::Release);
    }

    /// Whether the list has never been loaded (the first request must wait for it).
    pub fn never_loaded(&self) -> bool {
        self.revoked.read().map(|r| r.loaded_at.is_none()).unwrap_or(true)
    }

    /// Records a revocation made by this instance at once.
    pub fn mark_revoked(&self, jti: &str) {
        if let Ok(mut revoked) = self.revoked.write() {
            revoked.jtis.insert(jti.to_string());
        }
    }

    /// Whether `jti` is on the revocation list.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.read().map(|r| r.jtis.contains(jti)).unwrap_or(true)
    }
}

/// Revocations heard from the database's notifications (PostgreSQL) land in the list at once.
impl crate::db::revocations::RevocationSink for Auth {
    fn revoked(&self, jti: &str) {
        self.mark_revoked(jti);
    }

    fn caught_up(&self, jtis: HashSet<String>) {
        if let Ok(mut revoked) = self.revoked.write() {
            revoked.jtis.extend(jtis);
        }
    }
}
