//! The secretariat's review of a release: exactly what it publishes, and beside every published
//! figure its true value and what was done to it.

use serde::Serialize;
use utoipa::ToSchema;

use super::publication::{publication, Publication};
use super::release::{Release, ReleaseCell};
use crate::domain::metric::{Dimension, Metric};

/// What the method did to one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Published as its true value: a multiple of the base, or an exact total.
    Exact,
    /// Rounded up to the next multiple of the base.
    RoundedUp,
    /// Rounded down to the multiple of the base below it.
    RoundedDown,
    /// Withheld: a count from 1 to base − 1 rounded to 0, shown as "fewer than" the base.
    Withheld,
    /// A true 0, shown as "fewer than" the base like any figure under it (a 0 shown as 0 would
    /// tell the other figures under the base apart).
    Zero,
}

/// One published figure under review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewedFigure {
    /// The metric.
    pub metric: Metric,
    /// The country; null for the whole operation.
    pub country: Option<String>,
    /// The breakdown; null for the figure itself.
    pub dimension: Option<Dimension>,
    /// The bucket of the breakdown; null without one.
    pub bucket: Option<String>,
    /// The true value at the release's feed position.
    pub value: i64,
    /// The rounded figure the tables add up with.
    pub rounded: i64,
    /// What is published (null: fewer than the base).
    pub published: Option<i64>,
    /// What the method did to it.
    pub treatment: Treatment,
    /// Whether the publication names it (a bucket without a fixed place is named only when its
    /// figure is at least the base).
    pub listed: bool,
    /// The earlier release whose figures its metric kept, if it did (see
    /// [`PublishedMetric::carried_from`](super::publication::PublishedMetric::carried_from)).
    pub carried_from: Option<i64>,
}

/// Answer of `GET /v1/operations/{op}/releases/{n}` and of the writes on a release.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleasePreview {
    /// The release.
    pub release: Release,
    /// Exactly what it publishes (or, for a draft, would publish).
    pub publication: Publication,
    /// Nonzero counts withheld (shown as fewer than the base).
    pub withheld: usize,
    /// Metrics that kept the figures of an earlier release.
    pub carried: Vec<Metric>,
    /// Per-country breakdown figures kept with the release and never published.
    pub unpublished: usize,
    /// Every published figure with its true value and treatment.
    pub review: Vec<ReviewedFigure>,
}

fn treatment(cell: &ReleaseCell, rounded: i64) -> Treatment {
    match (cell.exact, cell.value, rounded) {
        (true, _, _) => Treatment::Exact,
        (_, 0, _) => Treatment::Zero,
        (_, _, 0) => Treatment::Withheld,
        (_, v, r) if v == r => Treatment::Exact,
        (_, v, r) if r > v => Treatment::RoundedUp,
        _ => Treatment::RoundedDown,
    }
}

/// Builds the review of a release from its stored figures.
pub fn preview(release: &Release, cells: &[ReleaseCell]) -> ReleasePreview {
    let review: Vec<ReviewedFigure> = cells
        .iter()
        .filter_map(|cell| {
            let rounded = cell.rounded?;
            Some(ReviewedFigure {
                metric: cell.metric,
                country: cell.country.clone(),
                dimension: cell.dimension,
                bucket: cell.dimension.map(|_| cell.bucket.clone()),
                value: cell.value,
                rounded,
                published: cell.published(),
                treatment: treatment(cell, rounded),
                listed: cell.listed,
                carried_from: cell.carried_from,
            })
        })
        .collect();
    let publication = publication(release, cells);
    let carried = publication
        .metrics
        .iter()
        .filter(|m| m.carried_from.is_some())
        .map(|m| m.metric)
        .collect();
    ReleasePreview {
        release: release.clone(),
        publication,
        withheld: review.iter().filter(|r| r.treatment == Treatment::Withheld).count(),
        carried,
        unpublished: cells.iter().filter(|c| !c.is_published() && c.value != 0).count(),
        review,
    }
}
