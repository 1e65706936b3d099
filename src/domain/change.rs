//! The change feed: every committed change to interceptions, units and reported tallies, in
//! one sequence per service.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// An interception (key: `COUNTRY/external_ref`).
    Interception,
    /// A national unit (key: its id).
    Unit,
    /// A reported tally (key: `COUNTRY/metric`).
    Tally,
}

impl Entity {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Interception => "interception",
            Entity::Unit => "unit",
            Entity::Tally => "tally",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(value: &str) -> Option<Entity> {
        match value {
            "interception" => Some(Entity::Interception),
            "unit" => Some(Entity::Unit),
            "tally" => Some(Entity::Tally),
            _ => None,
        }
    }
}

/// What happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Created, changed or revived.
    Upsert,
    /// Retracted (the object stays as a tombstone).
    Delete,
}

impl Action {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Upsert => "upsert",
            Action::Delete => "delete",
        }
    }
}

/// A change about to be appended; its sequence number is given at commit.
#[derive(Debug, Clone)]
pub struct NewChange {
    /// The operation.
    pub operation_id: String,
    /// What changed.
    pub entity: Entity,
    /// How.
    pub action: Action,
    /// The country of the object.
    pub country: String,
    /// The object's key.
    pub key: String,
    /// Its version after the change.
    pub version: i64,
    /// The object after the change, as the API serves it (JSON).
    pub data: String,
}

/// One committed change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    /// Position in the feed; strictly increasing, and no change commits after one with a
    /// higher number is visible.
    pub seq: i64,
    /// What changed.
    pub entity: Entity,
    /// How.
    pub action: Action,
    /// The country of the object.
    pub country: String,
    /// The object's key.
    pub key: String,
    /// Its version after the change.
    pub version: i64,
    /// The object after the change.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangePage {
    /// The changes, by `seq`.
    pub changes: Vec<Change>,
    /// Send this as `after` in the next poll.
    pub next: i64,
    /// Whether more changes are already committed after `next`.
    pub has_more: bool,
}
