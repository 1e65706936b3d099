//! What a token says: its claims, the scopes it grants, and the countries and operations it covers.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The claims of an opcoord access token (RFC 9068 profile).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, checked exactly.
    pub iss: String,
    /// Audience, checked exactly (jsonwebtoken checks it; a list is accepted).
    pub aud: Audience,
    /// Who acts: a unit id or a client name.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expiry (seconds since the epoch); required.
    pub exp: i64,
    /// Not valid before (seconds since the epoch), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Unique token id; required, and the handle for revocation.
    pub jti: String,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// ISO 3166-1 alpha-2 codes, or `["*"]`.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Operation ids, or `["*"]`.
    #[serde(default)]
    pub ops: Vec<String>,
}

/// The `aud` claim: one value or several.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// A permission a token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::VariantArray)]
pub enum Scope {
    /// Read operations and their units.
    OperationsRead,
    /// Create and change operations.
    OperationsWrite,
    /// Register and change national units.
    UnitsWrite,
    /// Read interceptions.
    InterceptionsRead,
    /// Push, change and retract interceptions.
    InterceptionsWrite,
    /// Read tallies.
    TalliesRead,
    /// Report tallies.
    TalliesWrite,
    /// Read the audit trail.
    AuditRead,
    /// Issue and revoke tokens.
    TokensIssue,
    /// Review releases: what a release would publish and what it withholds.
    ReleasesRead,
    /// Create, publish and discard releases.
    ReleasesWrite,
    /// File nil returns and declare a country's figures final.
    ReportingWrite,
    /// Approve final figures and reopen them (the secretariat).
    ReportingApprove,
}

impl Scope {
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The spelling in the `scope` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OperationsRead => "operations:read",
            Scope::OperationsWrite => "operations:write",
            Scope::UnitsWrite => "units:write",
            Scope::InterceptionsRead => "interceptions:read",
            Scope::InterceptionsWrite => "interceptions:write",
            Scope::TalliesRead => "tallies:read",
            Scope::TalliesWrite => "tallies:write",
            Scope::AuditRead => "audit:read",
            Scope::TokensIssue => "tokens:issue",
            Scope::ReleasesRead => "releases:read",
            Scope::ReleasesWrite => "releases:write",
            Scope::ReportingWrite => "reporting:write",
            Scope::ReportingApprove => "reporting:approve",
        }
    }

    /// Reads one scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|scope| scope.as_str() == name)
    }

    /// The scopes of a `scope` claim; names this service does not know are ignored.
    pub fn set_of(claim: &str) -> BTreeSet<Scope> {
        claim.split_whitespace().filter_map(Scope::parse).collect()
    }

    /// The `scope` claim for a set of scopes.
    pub fn claim_of(scopes: &BTreeSet<Scope>) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The countries or the operations a token covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `["*"]`: every one.
    All,
    /// Only these.
    Only(BTreeSet<String>),
}

impl Access {
    /// Reads a `countries` or `ops` claim; `*` anywhere in it means every one.
    pub fn from_claim(values: &[String]) -> Access {
        if values.iter().any(|v| v == "*") {
            Access::All
        } else {
            Access::Only(values.iter().cloned().collect())
        }
    }

    /// The claim spelling.
    pub fn to_claim(&self) -> Vec<String> {
        match self {
            Access::All => vec!["*".to_string()],
            Access::Only(values) => values.iter().cloned().collect(),
        }
    }

    /// Whether `value` is covered.
    pub fn allows(&self, value: &str) -> bool {
        match self {
            Access::All => true,
            Access::Only(values) => values.contains(value),
        }
    }

    /// Whether everything `other` covers is covered here too.
    pub fn covers(&self, other: &Access) -> bool {
        match (self, other) {
            (Access::All, _) => true,
            (Access::Only(_), Access::All) => false,
            (Access::Only(mine), Access::Only(theirs)) => theirs.is_subset(mine),
        }
    }

    /// The values to filter a list by, `None` when every one is covered.
    pub fn filter(&self) -> Option<Vec<String>> {
        match self {
            Access::All => None,
            Access::Only(values) => Some(values.iter().cloned().collect()),
        }
    }
}
