//! What an attacker knows after reading a release: for each metric, an interval for the total
//! and for every published figure (from the figure and the stated method alone), the tables
//! whose parts add up to the total, and the per-country breakdown cells that exist behind
//! them (the counts the service holds but never publishes). The true values ride along, for
//! choosing what to audit; they are never used as knowledge.

use std::collections::BTreeMap;

use serde_json::Value;

/// Where a count sits, spelt as the stored cells are: metric, country (`""`: the whole
/// operation), dimension (`""`: none), bucket.
pub type Place = (String, String, String, String);

/// An inclusive interval of counts.
pub type Bounds = (i64, i64);

/// One metric of one release as the attacker sees it.
#[derive(Debug, Clone)]
pub struct MetricView {
    /// The metric.
    pub metric: String,
    /// The total.
    pub total: Bounds,
    /// The tables adding up to the total: per country first, then one per breakdown.
    pub tables: Vec<Vec<(Place, Bounds)>>,
    /// Per-country breakdown cells, unpublished (bounded only by being counts).
    pub interior: Vec<Place>,
}

impl MetricView {
    /// The place of the metric's total.
    pub fn total_place(&self) -> Place {
        place(&self.metric, "", "", "")
    }
}

/// One release as the attacker sees it, with the truth beside it.
#[derive(Debug, Clone)]
pub struct ReleaseView {
    /// Per metric.
    pub metrics: BTreeMap<String, MetricView>,
    /// Every count the release holds, by place (absent: 0).
    pub truth: BTreeMap<Place, i64>,
    /// Counts from 1 to `threshold - 1` must stay consistent with `threshold` values.
    pub threshold: i64,
}

impl ReleaseView {
    /// The true value of a place (0 where the release holds none).
    pub fn truth(&self, place: &Place) -> i64 {
        self.truth.get(place).copied().unwrap_or(0)
    }
}

/// A place spelt from parts.
pub fn place(metric: &str, country: &str, dimension: &str, bucket: &str) -> Place {
    (metric.into(), country.into(), dimension.into(), bucket.into())
}

/// What a rounded figure says of its count, by the stated method: within one base of it; a
/// figure of 0 (null) is 0 to `base - 1`, and any other figure means at least 1.
pub fn rounding_bounds(figure: Option<i64>, base: i64) -> Bounds {
    match figure {
        Some(r) if r > 0 => ((r - base).max(1), r + base),
        _ => (0, base - 1),
    }
}

/// Reads the knowledge a publication (the public JSON) gives, with `truth` for the audit:
/// every figure's [`rounding_bounds`]; a bucket the release holds but does not name is under
/// the base; the rows of each table add up to the rounded total; an exact total is the count.
pub fn from_publication(doc: &Value, truth: &BTreeMap<Place, i64>) -> ReleaseView {
    let base = doc["method"]["rounding_base"].as_i64().expect("rounding_base");
    let threshold = doc["method"]["threshold"].as_i64().expect("threshold");
    let bounds = |v: &Value| rounding_bounds(v.as_i64(), base);
    let mut metrics = BTreeMap::new();
    for metric in doc["metrics"].as_array().expect("metrics") {
        let name = metric["metric"].as_str().expect("metric").to_string();
        let mut countries: BTreeMap<Place, Bounds> = BTreeMap::new();
        let mut rounded_total = 0;
        for figure in metric["countries"].as_array().expect("countries") {
            let key = figure["key"].as_str().expect("key");
            countries.insert(place(&name, key, "", ""), bounds(&figure["value"]));
            rounded_total += figure["value"].as_i64().unwrap_or(0);
        }
        let mut tables = vec![countries];
        let mut dimensions = Vec::new();
        for breakdown in metric["breakdowns"].as_array().expect("breakdowns") {
            let dimension = breakdown["dimension"].as_str().expect("dimension").to_string();
            let mut table = BTreeMap::new();
            let mut sum = 0;
            for figure in breakdown["figures"].as_array().expect("figures") {
                let key = figure["key"].as_str().expect("key");
                table.insert(place(&name, "", &dimension, key), bounds(&figure["value"]));
                sum += figure["value"].as_i64().unwrap_or(0);
            }
            assert_eq!(
                sum, rounded_total,
                "{name} by {dimension} does not add up to the rounded total"
            );
            tables.push(table);
            dimensions.push(dimension);
        }
        for (p, _) in truth.iter().filter(|(p, _)| p.0 == name) {
            let table = match (p.1.is_empty(), p.2.is_empty()) {
                (false, true) => Some(0),
                (true, false) => dimensions.iter().position(|d| *d == p.2).map(|i| i + 1),
                _ => None,
            };
            if let Some(table) = table {
                tables[table].entry(p.clone()).or_insert((0, base - 1));
            }
        }
        let mut total = rounding_bounds(Some(rounded_total), base);
        if metric["total_exact"].as_bool() == Some(true) {
            let exact = metric["total"].as_i64().expect("exact total");
            assert!(
                total.0 <= exact && exact <= total.1,
                "{name}: exact total outside its rounding"
            );
            total = (exact, exact);
        } else {
            assert_eq!(
                metric["total"].as_i64().unwrap_or(0),
                rounded_total,
                "{name}: total is not the rows' sum"
            );
        }
        let interior = truth
            .keys()
            .filter(|p| p.0 == name && !p.1.is_empty() && dimensions.contains(&p.2))
            .cloned()
            .collect();
        let view = MetricView {
            metric: name.clone(),
            total,
            tables: tables.into_iter().map(|t| t.into_iter().collect()).collect(),
            interior,
        };
        metrics.insert(name, view);
    }
    ReleaseView {
        metrics,
        truth: truth.clone(),
        threshold,
    }
}
