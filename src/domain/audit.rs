//! The audit trail: who changed what, in a hash chain nobody can quietly rewrite.
//!
//! An entry covers one object (an operation, a unit, a stated figure, a token) or, for a batch of
//! interceptions, every item one transaction wrote for one country: the entry then lists its
//! items (index, action, key, version, content hash, leaf hash) and its `payload_sha256` is the
//! Merkle root of their leaves, so the chain commits to each item and `audit verify` names an
//! item that was altered, removed or moved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who writes: the `sub` and `jti` of the token, recorded with every version and audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The token's `sub`.
    pub sub: String,
    /// The token's `jti`.
    pub jti: String,
}

/// What was done.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AuditAction {
    /// Created.
    Create,
    /// Changed.
    Update,
    /// Retracted (kept as a tombstone).
    Retract,
    /// Sent again after a retraction.
    Revive,
    /// A batch of items (each item says what it did).
    Push,
    /// A token issued.
    Issue,
    /// A token revoked.
    Revoke,
    /// A release published.
    Publish,
    /// A draft release discarded.
    Discard,
    /// A country's figures declared final.
    DeclareFinal,
    /// A country's final figures approved.
    Approve,
    /// A country's final or approved figures reopened (the payload holds the reason).
    Reopen,
}

/// What kind of object.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AuditEntity {
    /// An operation (key: its id).
    Operation,
    /// A national unit (key: its id).
    Unit,
    /// Interceptions (key of an item: `COUNTRY/external_ref`).
    Interception,
    /// A stated figure (key: `COUNTRY/metric`).
    Tally,
    /// A token (key: its `jti`).
    Token,
    /// A release of an operation's figures (key: its number).
    Release,
    /// A nil return (key: `COUNTRY/day`).
    NilReturn,
    /// The finality of a country's figures (key: the country).
    ReportingStatus,
}

impl AuditAction {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl AuditEntity {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One item of a batch entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditItem {
    /// Position of the item in the entry, from 0.
    pub index: usize,
    /// What the write did to it.
    pub action: AuditAction,
    /// The object's key.
    pub key: String,
    /// Its version after the write.
    pub version: i64,
    /// SHA-256 of its stored content.
    pub content_sha256: String,
    /// SHA-256 over the fields above: the leaf of the entry's Merkle tree.
    pub leaf: String,
}

impl AuditItem {
    /// An item with its leaf hash.
    pub fn new(index: usize, action: AuditAction, key: String, version: i64, content_sha256: String) -> AuditItem {
        let mut item = AuditItem {
            index,
            action,
            key,
            version,
            content_sha256,
            leaf: String::new(),
        };
        item.leaf = item.expected_leaf();
        item
    }

    /// The leaf this item must have (RFC 6962 style: a 0x00 byte before leaf data).
    pub fn expected_leaf(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update([0u8]);
        hasher.update(self.line_fields().as_bytes());
        hex::encode(hasher.finalize())
    }

    fn line_fields(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.index,
            self.action.as_str(),
            self.key,
            self.version,
            self.content_sha256
        )
    }
}

/// The items of an entry as stored: one line per item, `index TAB action TAB key TAB version TAB
/// content_sha256 TAB leaf`. Keys never hold tabs or line ends (they are checked on entry).
pub fn items_to_text(items: &[AuditItem]) -> String {
    let mut out = String::with_capacity(items.len() * 180);
    for item in items {
        out.push_str(&item.line_fields());
        out.push('\t');
        out.push_str(&item.leaf);
        out.push('\n');
    }
    out
}

/// Reads stored items back; `None` if a line does not have the six fields.
pub fn items_from_text(text: &str) -> Option<Vec<AuditItem>> {
    text.lines()
        .map(|line| {
            let mut f = line.split('\t');
            let item = AuditItem {
                index: f.next()?.parse().ok()?,
                action: f.next()?.parse().ok()?,
                key: f.next()?.to_string(),
                version: f.next()?.parse().ok()?,
                content_sha256: f.next()?.to_string(),
                leaf: f.next()?.to_string(),
            };
            f.next().is_none().then_some(item)
        })
        .collect()
}

/// The Merkle root of leaves given as hex (RFC 6962 style: a 0x01 byte before each pair; an odd
/// node is carried up as it is). The root of no leaves is the SHA-256 of nothing.
pub fn merkle_root<'a>(leaves: impl IntoIterator<Item = &'a str>) -> String {
    let mut level: Vec<[u8; 32]> = leaves
        .into_iter()
        .map(|leaf| {
            let mut bytes = [0u8; 32];
            if hex::decode_to_slice(leaf, &mut bytes).is_err() {
                // A malformed leaf still yields a root, one that cannot match the stored one.
                bytes = Sha256::digest(leaf.as_bytes()).into();
            }
            bytes
        })
        .collect();
    if level.is_empty() {
        return hex::encode(Sha256::digest(b""));
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut hasher = Sha256::new();
                    hasher.update([1u8]);
                    hasher.update(left);
                    hasher.update(right);
                    hasher.finalize().into()
                }
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two"),
            })
            .collect();
    }
    hex::encode(level[0])
}

/// An entry about to be appended; its `seq`, time and chain hashes are given at commit.
#[derive(Debug, Clone)]
pub struct NewAudit {
    /// The operation (empty for tokens).
    pub operation_id: String,
    /// Who wrote.
    pub writer: Writer,
    /// The country of the object (empty when it has none).
    pub country: String,
    /// What was done.
    pub action: AuditAction,
    /// What kind of object.
    pub entity: AuditEntity,
    /// The object's key (a batch: its country).
    pub key: String,
    /// Its version after the write (a batch: the number of items).
    pub version: i64,
    /// SHA-256 of the stored payload, or the Merkle root of the items.
    pub payload_sha256: String,
    /// A batch's items (empty for a single object).
    pub items: Vec<AuditItem>,
}

impl NewAudit {
    /// The entry as it is stored: numbered `seq`, written `at`, chained to `prev_hash`, with its
    /// own hash.
    pub fn chained(self, seq: i64, at: DateTime<Utc>, prev_hash: String) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            at,
            operation_id: self.operation_id,
            sub: self.writer.sub,
            jti: self.writer.jti,
            country: self.country,
            action: self.action,
            entity: self.entity,
            key: self.key,
            version: self.version,
            payload_sha256: self.payload_sha256,
            prev_hash,
            hash: String::new(),
            items: self.items,
        };
        entry.hash = entry.expected_hash();
        entry
    }

    /// The entry of a write to one object, whose stored payload (JSON) is `payload`.
    #[allow(clippy::too_many_arguments)]
    pub fn single(
        writer: &Writer,
        operation_id: &str,
        country: &str,
        action: AuditAction,
        entity: AuditEntity,
        key: &str,
        version: i64,
        payload: &str,
    ) -> NewAudit {
        NewAudit {
            operation_id: operation_id.to_string(),
            writer: writer.clone(),
            country: country.to_string(),
            action,
            entity,
            key: key.to_string(),
            version,
            payload_sha256: sha256(payload),
            items: Vec::new(),
        }
    }

    /// The entry of a batch's items of one country; the payload hash is their Merkle root.
    pub fn batch(writer: &Writer, operation_id: &str, country: &str, items: Vec<AuditItem>) -> NewAudit {
        NewAudit {
            operation_id: operation_id.to_string(),
            writer: writer.clone(),
            country: country.to_string(),
            action: AuditAction::Push,
            entity: AuditEntity::Interception,
            key: country.to_string(),
            version: items.len() as i64,
            payload_sha256: merkle_root(items.iter().map(|i| i.leaf.as_str())),
            items,
        }
    }
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
    pub action: AuditAction,
    /// What kind of object.
    pub entity: AuditEntity,
    /// The object's key (a batch: its country).
    pub key: String,
    /// Its version after the write (a batch: the number of items).
    pub version: i64,
    /// SHA-256 of the stored payload, or for a batch the Merkle root of its items' leaves.
    pub payload_sha256: String,
    /// `hash` of the entry before.
    pub prev_hash: String,
    /// SHA-256 over this entry's content and `prev_hash`.
    pub hash: String,
    /// A batch's items, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<AuditItem>,
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
            self.action.as_str().to_string(),
            self.entity.as_str().to_string(),
            self.key.clone(),
            self.version.to_string(),
            self.payload_sha256.clone(),
            self.prev_hash.clone(),
        ];
        sha256(&fields.join("\n"))
    }

    /// The first problem with this entry's items, if any: each item must match its own leaf,
    /// the indexes run from 0 without gaps, and the leaves must make the entry's root.
    pub fn check_items(&self) -> Result<(), Break> {
        if self.action != AuditAction::Push {
            return Ok(());
        }
        for (position, item) in self.items.iter().enumerate() {
            if item.index != position {
                let seq = self.seq;
                let later = self.items[position..].iter().any(|i| i.index == position);
                return Err(match (later, item.index > position) {
                    (true, _) => Break::ItemReordered { seq, index: position },
                    (false, true) => Break::ItemRemoved { seq, index: position },
                    (false, false) => Break::ItemReordered { seq, index: item.index },
                });
            }
            if item.expected_leaf() != item.leaf {
                return Err(Break::ItemEdited {
                    seq: self.seq,
                    index: item.index,
                });
            }
        }
        if merkle_root(self.items.iter().map(|i| i.leaf.as_str())) != self.payload_sha256 {
            return Err(Break::ItemsChanged(self.seq));
        }
        Ok(())
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
    /// An item of entry `seq` does not match its own leaf: edited.
    ItemEdited {
        /// The entry.
        seq: i64,
        /// The item.
        index: usize,
    },
    /// Item `index` of entry `seq` is missing: deleted.
    ItemRemoved {
        /// The entry.
        seq: i64,
        /// The first missing item.
        index: usize,
    },
    /// Item `index` of entry `seq` stands out of its place.
    ItemReordered {
        /// The entry.
        seq: i64,
        /// The item out of place.
        index: usize,
    },
    /// The items of entry `seq` check one by one but do not make its root: items were added at
    /// its end, or an item and its leaf were both rewritten.
    ItemsChanged(i64),
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Deleted(seq) => write!(f, "entry {seq} was deleted (the sequence skips it)"),
            Break::Edited(seq) => write!(f, "entry {seq} was edited (its hash does not match its content)"),
            Break::Reordered(seq) => write!(f, "entry {seq} was reordered (it does not follow the entry before it)"),
            Break::Truncated(seq) => write!(f, "entries after {seq} were deleted (the chain ends before its head)"),
            Break::ItemEdited { seq, index } => {
                write!(
                    f,
                    "item {index} of entry {seq} was edited (it does not match its leaf hash)"
                )
            }
            Break::ItemRemoved { seq, index } => write!(f, "item {index} of entry {seq} was deleted"),
            Break::ItemReordered { seq, index } => write!(f, "item {index} of entry {seq} was moved"),
            Break::ItemsChanged(seq) => write!(
                f,
                "the items of entry {seq} do not make its Merkle root (items added, or an item rewritten with its leaf)"
            ),
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
        entry.check_items()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: usize) -> AuditEntry {
        let items: Vec<AuditItem> = (0..n)
            .map(|i| AuditItem::new(i, AuditAction::Create, format!("SN/REF-{i}"), 1, sha256(&i.to_string())))
            .collect();
        let new = NewAudit::batch(
            &Writer {
                sub: "sn".into(),
                jti: "j".into(),
            },
            "op",
            "SN",
            items,
        );
        new.chained(1, DateTime::<Utc>::default(), GENESIS.into())
    }

    #[test]
    fn a_batch_entry_checks_and_its_items_round_trip_as_text() {
        let entry = batch(5);
        assert_eq!(
            check(std::slice::from_ref(&entry), 1, GENESIS.into()).map(|r| r.0),
            Ok(1)
        );
        assert_eq!(items_from_text(&items_to_text(&entry.items)), Some(entry.items.clone()));
    }

    #[test]
    fn every_change_to_the_items_is_named() {
        let entry = batch(5);
        let mut edited = entry.clone();
        edited.items[3].version = 2;
        assert_eq!(edited.check_items(), Err(Break::ItemEdited { seq: 1, index: 3 }));
        let mut removed = entry.clone();
        removed.items.remove(2);
        assert_eq!(removed.check_items(), Err(Break::ItemRemoved { seq: 1, index: 2 }));
        let mut moved = entry.clone();
        moved.items.swap(1, 2);
        assert_eq!(moved.check_items(), Err(Break::ItemReordered { seq: 1, index: 1 }));
        let mut last_removed = entry.clone();
        last_removed.items.pop();
        assert_eq!(last_removed.check_items(), Err(Break::ItemsChanged(1)));
        let mut rewritten = entry.clone();
        rewritten.items[0].version = 9;
        rewritten.items[0].leaf = rewritten.items[0].expected_leaf();
        assert_eq!(rewritten.check_items(), Err(Break::ItemsChanged(1)));
        let mut added = entry;
        added
            .items
            .push(AuditItem::new(5, AuditAction::Create, "SN/X".into(), 1, sha256("x")));
        assert_eq!(added.check_items(), Err(Break::ItemsChanged(1)));
    }

    #[test]
    fn merkle_root_depends_on_order_and_count() {
        let leaves = ["aa".repeat(32), "bb".repeat(32), "cc".repeat(32)];
        let root = merkle_root(leaves.iter().map(String::as_str));
        let swapped = merkle_root([&leaves[1], &leaves[0], &leaves[2]].into_iter().map(String::as_str));
        let fewer = merkle_root(leaves[..2].iter().map(String::as_str));
        assert_ne!(root, swapped);
        assert_ne!(root, fewer);
        assert_eq!(merkle_root(std::iter::once(leaves[0].as_str())), leaves[0]);
    }
}
