//! The change feed: the latest committed change of every interception, unit, stated figure, nil
//! return and country status, by its position in one commit-ordered sequence per service
//! (tombstones included).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of object changed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Entity {
    /// An interception (key: `COUNTRY/external_ref`).
    Interception,
    /// A national unit (key: its id).
    Unit,
    /// A reported tally (key: `COUNTRY/metric`).
    Tally,
    /// A nil return, "nothing to report" for a day (key: `COUNTRY/day`; `delete` once retracted).
    NilReturn,
    /// The finality of a country's figures: provisional, final, approved, reopened (key: the country).
    ReportingStatus,
}

impl Entity {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What happened to it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// Created, changed or revived.
    Upsert,
    /// Retracted (the object stays as a tombstone).
    Delete,
}

impl Action {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
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
