//! Tokens this instance has already verified. A national system or a dashboard sends the same
//! token with every request; checking its signature once, not on every request, takes the
//! costliest step of authentication off the common path.
//!
//! What a remembered token skips is only what cannot change while the process runs: its header,
//! signature, issuer, audience and `nbf` (the keys and the expected values are fixed at start).
//! Expiry is checked again on every use, and revocation is checked by the caller as before.

use std::collections::HashMap;
use std::sync::RwLock;

use super::claims::Claims;

/// Most tokens remembered; beyond it the expired ones go, then all of them.
const MAX_TOKENS: usize = 10_000;

/// Verified tokens and their claims.
pub struct VerifiedTokens {
    leeway: i64,
    tokens: RwLock<HashMap<String, Claims>>,
}

impl VerifiedTokens {
    /// An empty set, honouring `leeway` seconds past each token's `exp` as verification does.
    pub fn new(leeway: u64) -> VerifiedTokens {
        VerifiedTokens {
            leeway: i64::try_from(leeway).unwrap_or(0),
            tokens: RwLock::new(HashMap::new()),
        }
    }

    /// The claims of `token` if it was verified before and has not expired since.
    pub fn recall(&self, token: &str) -> Option<Claims> {
        let now = chrono::Utc::now().timestamp();
        let tokens = self.tokens.read().ok()?;
        tokens
            .get(token)
            .filter(|c| now <= c.exp.saturating_add(self.leeway))
            .cloned()
    }

    /// Remembers a token that passed verification.
    pub fn remember(&self, token: &str, claims: &Claims) {
        let Ok(mut tokens) = self.tokens.write() else { return };
        if tokens.len() >= MAX_TOKENS {
            let now = chrono::Utc::now().timestamp();
            tokens.retain(|_, c| now <= c.exp.saturating_add(self.leeway));
            if tokens.len() >= MAX_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(token.to_string(), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::claims::Audience;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "opcoord".into(),
            aud: Audience::One("opcoord".into()),
            sub: "test".into(),
            iat: 0,
            exp,
            nbf: None,
            jti: "j".into(),
            scope: String::new(),
            countries: vec![],
            ops: vec![],
        }
    }

    #[test]
    fn remembered_until_expiry_and_leeway() {
        let now = chrono::Utc::now().timestamp();
        let verified = VerifiedTokens::new(30);
        verified.remember("live", &claims(now + 60));
        verified.remember("in-leeway", &claims(now - 10));
        verified.remember("expired", &claims(now - 31));
        assert!(verified.recall("live").is_some());
        assert!(verified.recall("in-leeway").is_some());
        assert!(verified.recall("expired").is_none(), "expiry is checked on every use");
        assert!(verified.recall("never-seen").is_none());
    }
}
