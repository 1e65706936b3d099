//! The audit trail: who changed what, in a hash chain nobody can quietly rewrite.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry about to be appended; its `seq`, time and chain hashes are given at commit.
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// The operation (empty for tokens).
    pub operation_id: String,
    /// `sub` of the token that wrote.
    pub sub: String,
    /// `jti` of the token that wrote.
    pub jti: String,
    /// The country of the object (empty when it has none).
    pub country: String,
    /// `create`, `update`, `retract`, `revive`, `issue` or `revoke`.
    pub action: String,
    /// `operation`, `unit`, `interception`, `tally` or `token`.
    pub entity: String,
    /// The object's key.
    pub key: String,
    /// Its version after the write.
    pub version: i64,
    /// The stored payload (JSON); only its SHA-256 is kept.
    pub payload: String,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// When it was written (UTC).
    pub at: DateTime<Utc>,
    /// The operation (empty for tokens).
    pub operation_id: String,
    /// `sub` of the token that wrote.
    pub sub: String,
    /// `jti` of the token that wrote.
    pub jti: String,
    /// The country of the object (empty when it has none).
    pub country: String,
    /// What was done.
    pub action: String,
    /// What kind of object.
    pub entity: String,
    /// The object's key.
    pub key: String,
    /// Its version after the write.
    pub version: i64,
    /// SHA-256 of the stored payload.
    pub payload_sha256: String,
    /// `hash` of the entry before.
    pub prev_hash: String,
    /// SHA-256 over this entry's content and `prev_hash`.
    pub hash: String,
}

/// SHA-256 (hex) of a text.
pub fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl AuditEntry {
    /// The hash this entry must have: over its content and `prev_hash`, not its `seq`, so an
    /// entry moved elsewhere still checks by itself and is caught by the chain instead.
    pub fn expected_hash(&self) -> String {
        let fields = [
            self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            self.operation_id.clone(),
            self.sub.clone(),
            self.jti.clone(),
            self.country.clone(),
            self.action.clone(),
            self.entity.clone(),
            self.key.clone(),
            self.version.to_string(),
            self.payload_sha256.clone(),
            self.prev_hash.clone(),
        ];
        sha256(&fields.join("\n"))
    }
}

/// What is wrong with the chain at its first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// Entry `seq` is missing: deleted.
    Deleted(i64),
    /// Entry `seq` does not match its own hash: edited.
    Edited(i64),
    /// Entry `seq` checks by itself but does not follow the entry before it: reordered.
    Reordered(i64),
    /// The chain ends before the head says it does: entries after `seq` were deleted.
    Truncated(i64),
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Deleted(seq) => write!(f, "entry {seq} was deleted (the sequence skips it)"),
            Break::Edited(seq) => write!(f, "entry {seq} was edited (its hash does not match its content)"),
            Break::Reordered(seq) => write!(f, "entry {seq} was reordered (it does not follow the entry before it)"),
            Break::Truncated(seq) => write!(f, "entries after {seq} were deleted (the chain ends before its head)"),
        }
    }
}

/// Walks entries in `seq` order from `expected_seq`, after an entry whose hash was `prev`.
/// Returns the first break, or the last seq and hash checked.
pub fn check(entries: &[AuditEntry], mut expected_seq: i64, mut prev: String) -> Result<(i64, String), Break> {
    for entry in entries {
        if entry.seq != expected_seq {
            return Err(Break::Deleted(expected_seq));
        }
        if entry.expected_hash() != entry.hash {
            return Err(Break::Edited(entry.seq));
        }
        if entry.prev_hash != prev {
            return Err(Break::Reordered(entry.seq));
        }
        prev = entry.hash.clone();
        expected_seq += 1;
    }
    Ok((expected_seq - 1, prev))
}
