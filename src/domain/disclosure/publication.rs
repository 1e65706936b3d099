//! What a release publishes, built from its stored figures alone, so a published release reads
//! the same for ever: the method, the press headline, and per metric the total, the figure per
//! country and the figure per bucket of each breakdown. True values never appear here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::release::{Release, ReleaseCell, ReleaseKind};
use crate::domain::metric::{Dimension, Metric};

/// The one method releases use, by name.
pub const METHOD: &str = "controlled_rounding";

/// How the figures were protected, in fields and in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Method {
    /// The method's name: `controlled_rounding`.
    pub name: &'static str,
    /// The operation's suppression threshold: no count below it can be narrowed to fewer than
    /// this many possible values.
    pub threshold: i32,
    /// Every figure not marked exact is a multiple of this, within `rounding_base` of the true
    /// count; a figure shown as null (fewer than the base) is 0 to `rounding_base - 1`.
    pub rounding_base: i32,
    /// Metrics whose total is the exact count.
    pub exact_totals: Vec<Metric>,
    /// The method in words.
    pub statement: String,
}

/// One headline figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct HeadlineFigure {
    /// The figure; null when it is fewer than the rounding base.
    pub value: Option<i64>,
    /// Whether it is the exact count (else rounded to the base).
    pub exact: bool,
}

/// The figures a press office quotes, with the line that says how to read them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Headline {
    /// Victims safeguarded.
    pub victims_safeguarded: HeadlineFigure,
    /// Irregular migrants detected.
    pub migrants_detected: HeadlineFigure,
    /// Investigations opened.
    pub investigations_opened: HeadlineFigure,
    /// Countries with an active unit (a count of countries, always exact).
    pub participating_countries: HeadlineFigure,
    /// Officers deployed by the active units.
    pub officers_deployed: HeadlineFigure,
    /// How to read the figures, in one line.
    pub method: String,
}

/// One published figure: null when it is fewer than the rounding base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublishedFigure {
    /// The country code or the bucket.
    pub key: String,
    /// The figure, or null for fewer than the rounding base.
    pub value: Option<i64>,
}

/// A breakdown over the whole operation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedBreakdown {
    /// The breakdown.
    pub dimension: Dimension,
    /// Its buckets; a bucket with no fixed place in the breakdown (a nationality, a day outside
    /// the operation) is named only when its figure is at least the rounding base.
    pub figures: Vec<PublishedFigure>,
}

/// One metric as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedMetric {
    /// The metric.
    pub metric: Metric,
    /// The total: exact when `total_exact`, else rounded (null for fewer than the base).
    pub total: Option<i64>,
    /// Whether `total` is the exact count. The rows of the tables are rounded either way and
    /// add up to the rounded total.
    pub total_exact: bool,
    /// Per country: those taking part and any other that reported.
    pub countries: Vec<PublishedFigure>,
    /// Per breakdown over the whole operation (never per country).
    pub breakdowns: Vec<PublishedBreakdown>,
    /// Null: this release's figures. A number: the figures of that earlier release, kept
    /// because the new ones could not be rounded without moving a figure against the change of
    /// its count (which would expose the change); they are updated in a later release.
    pub carried_from: Option<i64>,
}

/// A release as the public reads it (`GET /v1/public/operations/{op}/releases/...`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Publication {
    /// The operation.
    pub operation_id: String,
    /// Its name.
    pub operation_name: String,
    /// The release's number within the operation.
    pub number: i64,
    /// Interim or final.
    pub kind: ReleaseKind,
    /// When it was published (null in the preview of a draft).
    pub published_at: Option<DateTime<Utc>>,
    /// The figures include the reports received up to this time.
    pub figures_as_of: DateTime<Utc>,
    /// How the figures were protected.
    pub method: Method,
    /// The headline figures.
    pub headline: Headline,
    /// Every metric.
    pub metrics: Vec<PublishedMetric>,
}

/// Builds the publication of a release from its stored figures.
pub fn publication(release: &Release, cells: &[ReleaseCell]) -> Publication {
    let base = release.rounding_base;
    let metrics: Vec<PublishedMetric> = Metric::ALL.iter().filter_map(|m| published_metric(*m, cells)).collect();
    let exact_totals = metrics.iter().filter(|m| m.total_exact).map(|m| m.metric).collect();
    let figure = |metric: Metric| {
        metrics.iter().find(|m| m.metric == metric).map_or(
            HeadlineFigure {
                value: None,
                exact: false,
            },
            |m| HeadlineFigure {
                value: m.total,
                exact: m.total_exact,
            },
        )
    };
    let as_of = release.created_at.format("%Y-%m-%d %H:%M UTC");
    let headline = Headline {
        victims_safeguarded: figure(Metric::VictimsSafeguarded),
        migrants_detected: figure(Metric::MigrantsDetected),
        investigations_opened: figure(Metric::InvestigationsOpened),
        participating_countries: HeadlineFigure {
            value: Some(i64::from(release.participating_countries)),
            exact: true,
        },
        officers_deployed: figure(Metric::OfficersDeployed),
        method: format!(
            "Reports received by {as_of}. Figures marked exact are exact counts; every other figure is \
             rounded to a multiple of {base}, and \"fewer than {base}\" means 0 to {}.",
            base - 1
        ),
    };
    Publication {
        operation_id: release.operation_id.clone(),
        operation_name: release.operation_name.clone(),
        number: release.number,
        kind: release.kind,
        published_at: release.published_at,
        figures_as_of: release.created_at,
        method: Method {
            name: METHOD,
            threshold: release.threshold,
            rounding_base: base,
            exact_totals,
            statement: statement(release.threshold, base),
        },
        headline,
        metrics,
    }
}

/// The method in words.
pub fn statement(threshold: i32, base: i32) -> String {
    format!(
        "Every figure is a multiple of {base} within {base} of its true count: a count that is not a \
         multiple of {base} is rounded up or down to the next one, a multiple may be moved by {base}, a \
         count of 0 stays 0 and no other count becomes 0, so a figure shown as \"fewer than {base}\" is \
         anything from 0 to {below}. In each table the rounded figures add up to the rounded total, and \
         every table of a metric shares that total, so subtracting figures recovers nothing. From one \
         release to the next a figure keeps its rounding unless its count changed, and moves only in the \
         direction of the change; where no rounding can do that, the metric keeps the figures of the \
         previous release. So comparing releases does not isolate a change either. A total is marked \
         exact only where every table of its metric has at least three figures of {base} or more, it \
         follows its change like any figure, and no earlier release gave a different exact total. \
         Breakdowns are published for the whole operation, never per country. Together this keeps every \
         count from 1 to {below_threshold}, and every change of that size between releases, consistent \
         with at least {threshold} values, whatever is combined.",
        below = base - 1,
        below_threshold = threshold - 1
    )
}

fn figure_of(cell: &ReleaseCell) -> PublishedFigure {
    PublishedFigure {
        key: cell.country.clone().unwrap_or_else(|| cell.bucket.clone()),
        value: cell.published(),
    }
}

fn published_metric(metric: Metric, cells: &[ReleaseCell]) -> Option<PublishedMetric> {
    let mine: Vec<&ReleaseCell> = cells
        .iter()
        .filter(|c| c.metric == metric && c.is_published() && c.listed)
        .collect();
    let total = mine.iter().find(|c| c.is_total())?;
    let countries = mine
        .iter()
        .filter(|c| c.country.is_some() && c.dimension.is_none())
        .map(|c| figure_of(c))
        .collect();
    let breakdowns = Dimension::ALL
        .iter()
        .filter_map(|d| {
            let figures: Vec<PublishedFigure> = mine
                .iter()
                .filter(|c| c.country.is_none() && c.dimension == Some(*d))
                .map(|c| figure_of(c))
                .collect();
            (!figures.is_empty()).then_some(PublishedBreakdown { dimension: *d, figures })
        })
        .collect();
    Some(PublishedMetric {
        metric,
        total: total.published(),
        total_exact: total.exact,
        countries,
        breakdowns,
        carried_from: total.carried_from,
    })
}
