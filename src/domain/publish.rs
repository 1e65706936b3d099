//! Publishing totals safely: every cell below the operation's suppression threshold is
//! withheld, and where one withheld cell could be recovered by subtracting the shown cells
//! from a shown total, the next smallest cell is withheld too.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::metric::Metric;
use super::totals::TallyReport;

/// One metric as published: `null` marks a withheld figure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicMetric {
    /// The metric.
    pub metric: Metric,
    /// The total over every country, or null when withheld.
    pub total: Option<i64>,
    /// Per country, null when withheld.
    pub countries: BTreeMap<String, Option<i64>>,
    /// The `group_by` breakdown over the whole operation, null when withheld.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub breakdown: BTreeMap<String, Option<i64>>,
}

/// Answer of `GET /v1/public/operations/{op}/tallies`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicTallies {
    /// The operation.
    pub operation_id: String,
    /// Its name.
    pub name: String,
    /// The change-feed position the figures are current as of.
    pub as_of_seq: i64,
    /// Figures below this are withheld.
    pub suppression_threshold: i32,
    /// The breakdown asked for, if any.
    pub group_by: Option<String>,
    /// The figures.
    pub metrics: Vec<PublicMetric>,
}

/// Withholds the cells of one group whose shown total is `total`: each cell below `k`, and,
/// when that leaves exactly one withheld cell (recoverable as the total minus the shown
/// cells), the smallest shown cell as well. A total below `k` withholds the whole group.
pub fn suppress(total: i64, cells: &BTreeMap<String, i64>, k: i64) -> (Option<i64>, BTreeMap<String, Option<i64>>) {
    if total < k {
        return (None, cells.keys().map(|name| (name.clone(), None)).collect());
    }
    let mut shown: BTreeMap<String, Option<i64>> = cells
        .iter()
        .map(|(name, v)| (name.clone(), (*v >= k).then_some(*v)))
        .collect();
    let withheld = shown.values().filter(|v| v.is_none()).count();
    if withheld == 1 {
        let next = cells
            .iter()
            .filter(|(name, _)| shown.get(*name).is_some_and(Option::is_some))
            .min_by_key(|(name, v)| (**v, (*name).clone()))
            .map(|(name, _)| name.clone());
        if let Some(name) = next {
            shown.insert(name, None);
        }
    }
    (Some(total), shown)
}

/// Publishes a report made over every country (the standing figures) with threshold `k`.
pub fn publish(report: &TallyReport, name: &str, k: i32) -> PublicTallies {
    let k = i64::from(k);
    let metrics = report
        .totals
        .iter()
        .map(|total| {
            let by_country: BTreeMap<String, i64> = report
                .countries
                .iter()
                .filter(|row| row.metric == total.metric)
                .map(|row| (row.country.clone(), row.value))
                .collect();
            let (shown_total, countries) = suppress(total.value, &by_country, k);
            let (_, breakdown) = suppress(total.value, &total.breakdown, k);
            PublicMetric {
                metric: total.metric,
                total: shown_total,
                countries,
                breakdown,
            }
        })
        .collect();
    PublicTallies {
        operation_id: report.operation_id.clone(),
        name: name.to_string(),
        as_of_seq: report.as_of_seq,
        suppression_threshold: k as i32,
        group_by: report.group_by.clone(),
        metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::suppress;
    use std::collections::BTreeMap;

    fn cells(values: &[(&str, i64)]) -> BTreeMap<String, i64> {
        values.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    #[test]
    fn a_lone_small_cell_takes_the_next_smallest_with_it() {
        let (total, shown) = suppress(319, &cells(&[("SN", 245), ("DZ", 71), ("ML", 3)]), 5);
        assert_eq!(total, Some(319));
        assert_eq!(shown["SN"], Some(245));
        assert_eq!((shown["DZ"], shown["ML"]), (None, None));
    }

    #[test]
    fn two_small_cells_hide_each_other_and_a_small_total_hides_all() {
        let (_, shown) = suppress(250, &cells(&[("SN", 245), ("ML", 3), ("BJ", 2)]), 5);
        assert_eq!((shown["SN"], shown["ML"], shown["BJ"]), (Some(245), None, None));
        let (total, shown) = suppress(4, &cells(&[("ML", 3), ("BJ", 1)]), 5);
        assert_eq!((total, shown["ML"], shown["BJ"]), (None, None, None));
    }
}
