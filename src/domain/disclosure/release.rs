//! Releases as stored: the record of who made and published one, and its figures, each with its
//! true value frozen at the release's feed position and what is published for it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::metric::{Dimension, Metric};

/// Whether a release gives figures during the operation or the final ones after it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReleaseKind {
    /// Figures while the operation runs (a daily release, say).
    #[default]
    Interim,
    /// The figures after the operation.
    Final,
}

/// Where a release stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::EnumString, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReleaseStatus {
    /// Made and waiting for review; only the secretariat sees it.
    Draft,
    /// Published: public, and never changes again.
    Published,
}

/// Body of `POST /v1/operations/{op}/releases`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// `interim` (the default) or `final`.
    #[serde(default)]
    pub kind: ReleaseKind,
}

/// A release: its number, its state, and who made and published it when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Release {
    /// The operation.
    pub operation_id: String,
    /// 1, 2, 3, ... within the operation; published releases are numbered without gaps.
    pub number: i64,
    /// Interim or final.
    pub kind: ReleaseKind,
    /// Draft or published.
    pub status: ReleaseStatus,
    /// The operation's name when the release was made.
    pub operation_name: String,
    /// The change-feed position the figures are frozen at: every change up to it, none after.
    pub as_of_seq: i64,
    /// The operation's `suppression_threshold` when the release was made.
    pub threshold: i32,
    /// The base every published figure is rounded to.
    pub rounding_base: i32,
    /// Countries with an active unit when the release was made.
    pub participating_countries: i32,
    /// When the release was made (the figures are as of this time).
    pub created_at: DateTime<Utc>,
    /// `sub` of the token that made it.
    pub created_by: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// `sub` of the token that published it.
    pub published_by: Option<String>,
}

/// One figure of a release. `country` `None` is the whole operation; `dimension` `None` is the
/// metric's figure without breakdown (then `bucket` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCell {
    /// The metric.
    pub metric: Metric,
    /// The country, or `None` for the whole operation.
    pub country: Option<String>,
    /// The breakdown, or `None` for the figure itself.
    pub dimension: Option<Dimension>,
    /// The bucket of the breakdown (empty without one).
    pub bucket: String,
    /// The true value at the release's feed position.
    pub value: i64,
    /// The rounded figure; `None` for per-country breakdowns, which are never published.
    pub rounded: Option<i64>,
    /// Published as its true value (an exact total).
    pub exact: bool,
    /// Named in the publication (an unnamed bucket is one of "the others", under the base).
    pub listed: bool,
    /// The earlier release whose figure and true value this metric kept (its new figures could
    /// not be rounded without moving one against its change); `None`: this release's own.
    pub carried_from: Option<i64>,
}

impl ReleaseCell {
    /// Whether the publication shows this figure (every figure but a per-country breakdown).
    pub fn is_published(&self) -> bool {
        self.rounded.is_some()
    }

    /// What the publication says for it: the true value when exact, else the rounded figure,
    /// with `None` for a rounded figure of 0 ("fewer than the base").
    pub fn published(&self) -> Option<i64> {
        match (self.exact, self.rounded) {
            (true, _) => Some(self.value),
            (false, Some(r)) if r > 0 => Some(r),
            _ => None,
        }
    }

    /// The metric's total over the whole operation.
    pub fn is_total(&self) -> bool {
        self.country.is_none() && self.dimension.is_none()
    }
}
