//! What a write does to one interception: a pure function of what is stored and what is asked,
//! so the rules (created, updated, unchanged, retracted, revived; `If-Match`) are tested without
//! a database and shared by every way in (a `PUT`, a batch item, a `DELETE`, a spreadsheet row).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Canonical, WriteResult};
use crate::domain::audit::AuditAction;
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};

/// What one submission asks for.
#[derive(Debug, Clone)]
pub enum Request {
    /// Store this content (create, change, or revive a retracted one).
    Put(Arc<Canonical>),
    /// Retract: keep a tombstone, take it out of the totals.
    Retract,
}

/// The state of one interception, as far as a write needs it.
#[derive(Debug, Clone)]
pub struct Current {
    /// Its id, once stored.
    pub id: Option<i64>,
    /// Its content; `None` for a stored record whose content was not read (a write reads it only
    /// when the record leaves or changes the totals).
    pub content: Option<Arc<Canonical>>,
    /// SHA-256 of its canonical JSON.
    pub hash: String,
    /// Its version.
    pub version: i64,
    /// Whether it is retracted.
    pub deleted: bool,
    /// `sub` of the token that wrote this version.
    pub reported_by: String,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When this version was stored.
    pub updated_at: DateTime<Utc>,
}

impl Current {
    /// Whether a request needs this record's stored content to be decided and counted: only when
    /// the record is in the totals and the request changes or retracts it.
    pub fn needs_content(&self, request: &Request) -> bool {
        self.content.is_none()
            && !self.deleted
            && match request {
                Request::Put(new) => new.hash != self.hash,
                Request::Retract => true,
            }
    }

    /// The content this record counts in the totals, if it counts at all.
    pub fn counted(&self) -> Result<Option<&Canonical>> {
        match (&self.content, self.deleted) {
            (_, true) => Ok(None),
            (Some(content), false) => Ok(Some(content)),
            (None, false) => Err(Error::internal("a counted record's content was not read")),
        }
    }
}

/// The decision for one submission.
#[derive(Debug, Clone)]
pub struct Decision {
    /// What it did.
    pub result: WriteResult,
    /// The audit action, when something changed.
    pub action: Option<AuditAction>,
    /// The record after it.
    pub next: Current,
}

/// Decides what `request` does to `current` (`None`: nothing stored under the key), written by
/// `by` at `at`. Identical content is `unchanged` (no new version); a retraction of a missing
/// record is 404, of a retracted one `unchanged`; `If-Match` must name the current version (a
/// missing record has version 0).
pub fn decide(
    current: Option<&Current>,
    request: &Request,
    if_match: &IfMatch,
    by: &str,
    at: DateTime<Utc>,
    key: &str,
) -> Result<Decision> {
    match (current, if_match) {
        (_, IfMatch::Absent) => {}
        (Some(c), check) => check.check(c.version)?,
        (None, _) => return Err(Error::PreconditionFailed { current: 0 }),
    }
    let changed = |c: &Current, content: Option<Arc<Canonical>>, hash: String, deleted: bool| Current {
        id: c.id,
        content,
        hash,
        version: c.version + 1,
        deleted,
        reported_by: by.to_string(),
        created_at: c.created_at,
        updated_at: at,
    };
    let (result, action, next) = match (request, current) {
        (Request::Put(new), None) => (
            WriteResult::Created,
            Some(AuditAction::Create),
            Current {
                id: None,
                content: Some(new.clone()),
                hash: new.hash.clone(),
                version: 1,
                deleted: false,
                reported_by: by.to_string(),
                created_at: at,
                updated_at: at,
            },
        ),
        (Request::Put(new), Some(c)) if new.hash == c.hash && !c.deleted => {
            // Same content: the stored record as it is (its content is the one sent).
            let mut same = c.clone();
            same.content = Some(new.clone());
            (WriteResult::Unchanged, None, same)
        }
        (Request::Put(new), Some(c)) => {
            let action = if c.deleted {
                AuditAction::Revive
            } else {
                AuditAction::Update
            };
            (
                WriteResult::Updated,
                Some(action),
                changed(c, Some(new.clone()), new.hash.clone(), false),
            )
        }
        (Request::Retract, None) => return Err(Error::NotFound(format!("there is no interception {key}"))),
        (Request::Retract, Some(c)) if c.deleted => (WriteResult::Unchanged, None, c.clone()),
        (Request::Retract, Some(c)) => (
            WriteResult::Updated,
            Some(AuditAction::Retract),
            changed(c, c.content.clone(), c.hash.clone(), true),
        ),
    };
    Ok(Decision { result, action, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interception::{InterceptionContent, InterceptionKind};

    fn content(arrests: i64) -> Arc<Canonical> {
        Arc::new(Canonical::new(InterceptionContent {
            kind: InterceptionKind::Checkpoint,
            occurred_at: DateTime::<Utc>::default(),
            location: None,
            migrants: None,
            victims: None,
            arrests,
            investigations_opened: 0,
            seizures: Vec::new(),
            notes: None,
        }))
    }

    fn put(arrests: i64) -> Request {
        Request::Put(content(arrests))
    }

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(second, 0).unwrap_or_default()
    }

    fn decided(current: Option<&Current>, request: Request, if_match: IfMatch) -> Result<Decision> {
        decide(current, &request, &if_match, "sn", at(10), "SN/1")
    }

    #[test]
    fn the_life_of_a_record() {
        let created = decided(None, put(1), IfMatch::Absent).expect("create");
        assert_eq!(
            (created.result, created.action),
            (WriteResult::Created, Some(AuditAction::Create))
        );
        assert_eq!(created.next.version, 1);

        let same = decided(Some(&created.next), put(1), IfMatch::Absent).expect("same");
        assert_eq!(
            (same.result, same.action, same.next.version),
            (WriteResult::Unchanged, None, 1)
        );

        let changed = decided(Some(&created.next), put(2), IfMatch::Absent).expect("change");
        assert_eq!(
            (changed.result, changed.action),
            (WriteResult::Updated, Some(AuditAction::Update))
        );
        assert_eq!(changed.next.version, 2);
        assert_eq!(changed.next.created_at, created.next.created_at);

        let retracted = decided(Some(&changed.next), Request::Retract, IfMatch::Absent).expect("retract");
        assert_eq!(retracted.action, Some(AuditAction::Retract));
        assert!(retracted.next.deleted);
        assert_eq!(retracted.next.version, 3);

        let again = decided(Some(&retracted.next), Request::Retract, IfMatch::Absent).expect("retract twice");
        assert_eq!((again.result, again.next.version), (WriteResult::Unchanged, 3));

        // The same content as before the retraction brings the record back as a new version.
        let revived = decided(Some(&retracted.next), put(2), IfMatch::Absent).expect("revive");
        assert_eq!(
            (revived.result, revived.action),
            (WriteResult::Updated, Some(AuditAction::Revive))
        );
        assert!(!revived.next.deleted);
        assert_eq!(revived.next.version, 4);
    }

    #[test]
    fn if_match_and_missing_records() {
        let created = decided(None, put(1), IfMatch::Absent).expect("create");
        let stale = decided(Some(&created.next), put(2), IfMatch::Versions(vec![7]));
        assert!(matches!(stale, Err(Error::PreconditionFailed { current: 1 })));
        let fresh = decided(Some(&created.next), put(2), IfMatch::Versions(vec![1])).expect("current tag");
        assert_eq!(fresh.next.version, 2);
        assert!(matches!(
            decided(None, put(1), IfMatch::Any),
            Err(Error::PreconditionFailed { current: 0 })
        ));
        assert!(matches!(
            decided(None, Request::Retract, IfMatch::Absent),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn stored_content_is_needed_only_when_it_leaves_the_totals() {
        let stored = Current {
            content: None,
            ..decided(None, put(1), IfMatch::Absent).expect("create").next
        };
        assert!(!stored.needs_content(&put(1)));
        assert!(stored.needs_content(&put(2)));
        assert!(stored.needs_content(&Request::Retract));
        let retracted = Current {
            deleted: true,
            ..stored.clone()
        };
        assert!(!retracted.needs_content(&put(2)));
        assert!(stored.counted().is_err());
        assert!(retracted.counted().expect("a tombstone counts nothing").is_none());
    }
}
