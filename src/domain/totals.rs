//! Assembled totals: per country and metric the figure that stands (the stated one where there
//! is one, else the derived one), both figures beside it, breakdowns, and totals over the countries.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::metric::{Dimension, Metric};
use super::reporting::Finality;
use super::tally::{SEIZURE_SCALE, TOTAL};

/// A figure a country stated outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedFigure {
    /// The country.
    pub country: String,
    /// The metric.
    pub metric: Metric,
    /// The figure.
    pub value: i64,
    /// Its breakdowns, by dimension.
    pub breakdown: BTreeMap<Dimension, BTreeMap<String, i64>>,
    /// The date it holds for.
    pub as_of: NaiveDate,
}

/// Where the figure that stands comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The country's stated figure.
    Reported,
    /// Computed from its interceptions (or units).
    Derived,
}

/// One country's figure for one metric.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryTally {
    /// The country.
    pub country: String,
    /// The metric.
    pub metric: Metric,
    /// The figure that stands: `reported` where there is one, else `derived`.
    pub value: i64,
    /// Which one stands.
    pub source: Source,
    /// Computed from the records.
    pub derived: i64,
    /// Stated by the country, if it did.
    pub reported: Option<i64>,
    /// The date the stated figure holds for.
    pub reported_as_of: Option<NaiveDate>,
    /// The `group_by` breakdown of `value` (its buckets sum to `value`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub breakdown: BTreeMap<String, i64>,
    /// Seizures only: quantity per `category[:unit]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quantities: BTreeMap<String, f64>,
    /// Where the country's figures stand: provisional, final, approved or reopened.
    pub status: Finality,
}

/// A metric's total over the countries shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricTotal {
    /// The metric.
    pub metric: Metric,
    /// Sum of the countries' standing figures.
    pub value: i64,
    /// Sum of the countries' derived figures.
    pub derived: i64,
    /// The part of `value` from countries whose figures are final or approved.
    pub final_value: i64,
    /// The part of `value` from countries whose figures are approved.
    pub approved_value: i64,
    /// The `group_by` breakdown of `value`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub breakdown: BTreeMap<String, i64>,
    /// Seizures only: quantity per `category[:unit]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub quantities: BTreeMap<String, f64>,
}

/// Answer of `GET /v1/operations/{op}/tallies`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TallyReport {
    /// The operation.
    pub operation_id: String,
    /// The change-feed position these figures are current as of: they include every change
    /// up to this `seq` and none after it.
    pub as_of_seq: i64,
    /// The breakdown asked for, if any.
    pub group_by: Option<String>,
    /// Totals per metric over the countries shown.
    pub totals: Vec<MetricTotal>,
    /// One row per country and metric with any figure.
    pub countries: Vec<CountryTally>,
}

/// A stored derived cell: country, metric, dimension, bucket, value.
pub type Cell = (String, String, String, String, i64);

/// Builds the report from derived cells (totals and, if asked, one dimension) and reported
/// figures, for the given metrics.
pub fn assemble(
    operation_id: &str,
    as_of_seq: i64,
    cells: &[Cell],
    reported: &[ReportedFigure],
    metrics: &[Metric],
    dimension: Option<Dimension>,
    group_by: Option<String>,
) -> TallyReport {
    type Key = (String, Metric);
    let mut derived: BTreeMap<Key, i64> = BTreeMap::new();
    let mut buckets: BTreeMap<Key, BTreeMap<String, i64>> = BTreeMap::new();
    let mut quantities: BTreeMap<Key, BTreeMap<String, f64>> = BTreeMap::new();
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    for (country, metric, dim, bucket, value) in cells {
        let Some(metric) = Metric::parse(metric).filter(|m| metrics.contains(m)) else {
            continue;
        };
        let key = (country.clone(), metric);
        keys.insert(key.clone());
        if dim == TOTAL {
            derived.insert(key, *value);
        } else if metric == Metric::Seizures && dim == Dimension::Category.as_str() {
            quantities
                .entry(key)
                .or_default()
                .insert(bucket.clone(), *value as f64 / SEIZURE_SCALE);
        } else if dimension.is_some_and(|d| d.as_str() == dim) {
            buckets.entry(key).or_default().insert(bucket.clone(), *value);
        }
    }
    let stated: BTreeMap<Key, &ReportedFigure> = reported
        .iter()
        .filter(|r| metrics.contains(&r.metric))
        .map(|r| ((r.country.clone(), r.metric), r))
        .collect();
    keys.extend(stated.keys().cloned());

    let mut countries = Vec::new();
    for key in keys {
        let derived_value = derived.get(&key).copied().unwrap_or(0);
        let figure = stated.get(&key);
        let (value, source) = match figure {
            Some(f) => (f.value, Source::Reported),
            None => (derived_value, Source::Derived),
        };
        let breakdown = match (dimension, figure) {
            (Some(d), _) if !key.1.dimensions().contains(&d) => BTreeMap::new(),
            (Some(d), Some(f)) => with_unknown(f.breakdown.get(&d).cloned().unwrap_or_default(), f.value),
            (Some(_), None) => buckets.remove(&key).unwrap_or_default(),
            (None, _) => BTreeMap::new(),
        };
        countries.push(CountryTally {
            country: key.0.clone(),
            metric: key.1,
            value,
            source,
            derived: derived_value,
            reported: figure.map(|f| f.value),
            reported_as_of: figure.map(|f| f.as_of),
            breakdown,
            quantities: quantities.remove(&key).unwrap_or_default(),
            status: Finality::Provisional,
        });
    }
    let totals = metrics
        .iter()
        .filter_map(|metric| {
            let rows: Vec<&CountryTally> = countries.iter().filter(|c| c.metric == *metric).collect();
            if rows.is_empty() {
                return None;
            }
            let mut total = MetricTotal {
                metric: *metric,
                value: 0,
                derived: 0,
                final_value: 0,
                approved_value: 0,
                breakdown: BTreeMap::new(),
                quantities: BTreeMap::new(),
            };
            for row in rows {
                // Cells stay within 2^53 and there are at most 249 countries, so these sums fit;
                // saturating all the same, so that no input could ever wrap a total.
                total.value = total.value.saturating_add(row.value);
                total.derived = total.derived.saturating_add(row.derived);
                for (bucket, v) in &row.breakdown {
                    let sum = total.breakdown.entry(bucket.clone()).or_insert(0);
                    *sum = sum.saturating_add(*v);
                }
                for (bucket, q) in &row.quantities {
                    *total.quantities.entry(bucket.clone()).or_insert(0.0) += q;
                }
            }
            Some(total)
        })
        .collect();
    TallyReport {
        operation_id: operation_id.to_string(),
        as_of_seq,
        group_by,
        totals,
        countries,
    }
}

/// Sets each country's status (countries not in `statuses` are provisional) and says in each
/// total how much of it is final or approved.
pub fn with_status(report: &mut TallyReport, statuses: &BTreeMap<String, Finality>) {
    for row in &mut report.countries {
        row.status = statuses.get(&row.country).copied().unwrap_or_default();
    }
    for total in &mut report.totals {
        let rows = report.countries.iter().filter(|c| c.metric == total.metric);
        let (mut fin, mut approved) = (0_i64, 0_i64);
        for row in rows {
            if row.status.is_final() {
                fin = fin.saturating_add(row.value);
            }
            if row.status == Finality::Approved {
                approved = approved.saturating_add(row.value);
            }
        }
        total.final_value = fin;
        total.approved_value = approved;
    }
}

/// Completes a stated breakdown with an `unknown` bucket so it sums to the figure.
fn with_unknown(mut buckets: BTreeMap<String, i64>, value: i64) -> BTreeMap<String, i64> {
    let known: i64 = buckets.values().fold(0_i64, |sum, v| sum.saturating_add(*v));
    if value > known {
        let unknown = buckets.entry("unknown".to_string()).or_insert(0);
        *unknown = unknown.saturating_add(value - known);
    }
    buckets.retain(|_, v| *v != 0);
    buckets
}

/// The report as CSV: one line per figure and per breakdown bucket; totals have country `*`.
pub fn to_csv(report: &TallyReport) -> String {
    let mut out = String::from("country,metric,dimension,bucket,value,source,derived,reported,status\n");
    let dimension = report.group_by.clone().unwrap_or_default();
    for total in &report.totals {
        let metric = total.metric.as_str();
        out.push_str(&format!("*,{metric},,,{},total,{},,\n", total.value, total.derived));
        out.push_str(&format!("*,{metric},,,{},total_final,,,\n", total.final_value));
        out.push_str(&format!("*,{metric},,,{},total_approved,,,\n", total.approved_value));
        for (bucket, v) in &total.breakdown {
            out.push_str(&format!("*,{metric},{dimension},{bucket},{v},total,,,\n"));
        }
        for (bucket, q) in &total.quantities {
            out.push_str(&format!("*,{metric},category,{bucket},{q},total,,,\n"));
        }
    }
    for row in &report.countries {
        let metric = row.metric.as_str();
        let source = if row.source == Source::Reported {
            "reported"
        } else {
            "derived"
        };
        let reported = row.reported.map(|r| r.to_string()).unwrap_or_default();
        let status = row.status.as_str();
        out.push_str(&format!(
            "{},{metric},,,{},{source},{},{reported},{status}\n",
            row.country, row.value, row.derived
        ));
        for (bucket, v) in &row.breakdown {
            out.push_str(&format!(
                "{},{metric},{dimension},{bucket},{v},{source},,,{status}\n",
                row.country
            ));
        }
        for (bucket, q) in &row.quantities {
            out.push_str(&format!(
                "{},{metric},category,{bucket},{q},derived,,,{status}\n",
                row.country
            ));
        }
    }
    out
}
