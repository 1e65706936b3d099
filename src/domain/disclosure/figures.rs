//! The figures of a new release: the true values from the tally reports, every figure of the
//! previous published release carried on (a figure that is gone is now 0), the rounding of each
//! metric's tables, and which totals may be exact.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::release::ReleaseCell;
use super::rounding::{self, Figure, Prior, Star};
use crate::domain::interception::{Exploitation, InterceptionKind};
use crate::domain::metric::{Dimension, Metric};
use crate::domain::totals::TallyReport;
use crate::error::Result;

/// A figure's place: metric, country (`None`: the whole operation), breakdown, bucket.
type Place = (Metric, Option<String>, Option<Dimension>, String);

/// Fewest figures of at least the base that every table of a metric needs for its total to be
/// published exactly (see docs/TALLIES.md for why three).
pub const EXACT_TOTAL_SUPPORT: usize = 3;

/// The breakdowns a metric is published with: its dimensions but seizure quantities, which are
/// amounts (money, kilograms), not counts of anything.
pub fn published_dimensions(metric: Metric) -> Vec<Dimension> {
    metric
        .dimensions()
        .iter()
        .copied()
        .filter(|d| *d != Dimension::Category)
        .collect()
}

/// The buckets a breakdown always names, whatever their figures: naming only the buckets with
/// a figure would tell which ones are not empty. Nationalities (and days outside the
/// operation) have no fixed list: they are named only when their figure is at least the base.
pub fn fixed_buckets(dimension: Dimension, days: (NaiveDate, NaiveDate)) -> Vec<String> {
    let unknown = || "unknown".to_string();
    match dimension {
        Dimension::Exploitation => Exploitation::ALL
            .iter()
            .map(|e| e.as_str().to_string())
            .chain(std::iter::once(unknown()))
            .collect(),
        Dimension::AgeGroup => ["child", "adult", "unknown"].map(String::from).to_vec(),
        Dimension::Sex => ["female", "male", "unknown"].map(String::from).to_vec(),
        Dimension::Kind => InterceptionKind::ALL.iter().map(|k| k.as_str().to_string()).collect(),
        Dimension::Day => days
            .0
            .iter_days()
            .take_while(|d| *d <= days.1)
            .map(|d| d.to_string())
            .collect(),
        Dimension::Nationality => vec![unknown()],
        Dimension::Category => Vec::new(),
    }
}

/// Everything a new release is made from.
pub struct Snapshot<'a> {
    /// The report without breakdown: per country and metric, the figure that stands.
    pub figures: &'a TallyReport,
    /// One report per published breakdown (each with `group_by` set to it).
    pub breakdowns: &'a [(Dimension, TallyReport)],
    /// Countries with an active unit: listed in every metric, with a figure or not.
    pub participating: &'a [String],
    /// The operation's first and last day.
    pub days: (NaiveDate, NaiveDate),
}

/// The previous published release, whose figures the new one stays consistent with.
pub struct Previous<'a> {
    /// Its number.
    pub number: i64,
    /// Its figures.
    pub cells: &'a [ReleaseCell],
    /// Its rounding base (figures of another base start a new series).
    pub base: i64,
}

/// True values of every figure a release holds, keyed by place.
fn true_values(snapshot: &Snapshot) -> BTreeMap<Place, i64> {
    let mut values = BTreeMap::new();
    let mut countries: BTreeSet<String> = snapshot.participating.iter().cloned().collect();
    countries.extend(snapshot.figures.countries.iter().map(|row| row.country.clone()));
    for &metric in Metric::ALL {
        values.insert((metric, None, None, String::new()), 0);
        for country in &countries {
            values.insert((metric, Some(country.clone()), None, String::new()), 0);
        }
        for dimension in published_dimensions(metric) {
            for bucket in fixed_buckets(dimension, snapshot.days) {
                values.insert((metric, None, Some(dimension), bucket), 0);
            }
        }
    }
    for total in &snapshot.figures.totals {
        values.insert((total.metric, None, None, String::new()), total.value);
    }
    for row in &snapshot.figures.countries {
        values.insert((row.metric, Some(row.country.clone()), None, String::new()), row.value);
    }
    for (dimension, report) in snapshot.breakdowns {
        for total in report
            .totals
            .iter()
            .filter(|t| published_dimensions(t.metric).contains(dimension))
        {
            for (bucket, v) in &total.breakdown {
                values.insert((total.metric, None, Some(*dimension), bucket.clone()), *v);
            }
        }
        for row in report
            .countries
            .iter()
            .filter(|r| published_dimensions(r.metric).contains(dimension))
        {
            for (bucket, v) in &row.breakdown {
                values.insert(
                    (row.metric, Some(row.country.clone()), Some(*dimension), bucket.clone()),
                    *v,
                );
            }
        }
    }
    values
}

/// Computes the figures of a new release with rounding base `base`. `earlier_exact` holds, per
/// metric, every total an earlier published release gave exactly. Only a final release
/// (`final_release`) may give a total exactly: interim releases go out while the counts still
/// move, and are rounded throughout, so the exact headline of the final release is never one of
/// two exact totals that would pin a change between them.
pub fn compute(
    snapshot: &Snapshot,
    previous: Option<Previous>,
    base: i64,
    earlier_exact: &BTreeMap<Metric, Vec<i64>>,
    final_release: bool,
) -> Result<Vec<ReleaseCell>> {
    let mut values = true_values(snapshot);
    let mut priors: BTreeMap<Place, Prior> = BTreeMap::new();
    let consistent = previous.as_ref().is_some_and(|p| p.base == base);
    if let Some(previous) = previous.as_ref().filter(|_| consistent) {
        for cell in previous.cells {
            let place = (cell.metric, cell.country.clone(), cell.dimension, cell.bucket.clone());
            values.entry(place.clone()).or_insert(0);
            if cell.is_published() {
                let seen = cell.published().unwrap_or(0);
                priors.insert(
                    place,
                    Prior {
                        value: cell.value,
                        rounded: seen,
                    },
                );
            }
        }
    }
    let prior_of = |place: &Place| -> Option<Prior> {
        match priors.get(place) {
            Some(p) => Some(*p),
            // A figure the previous release did not have was 0 then, and published as such.
            None if consistent => Some(Prior { value: 0, rounded: 0 }),
            None => None,
        }
    };
    let fixed: BTreeSet<Place> = Metric::ALL
        .iter()
        .flat_map(|m| {
            published_dimensions(*m).into_iter().flat_map(move |d| {
                fixed_buckets(d, snapshot.days)
                    .into_iter()
                    .map(move |b| (*m, None, Some(d), b))
            })
        })
        .collect();
    let mut cells = Vec::with_capacity(values.len());
    for &metric in Metric::ALL {
        let mut tables: Vec<Vec<Place>> = vec![values
            .keys()
            .filter(|(m, c, d, _)| *m == metric && c.is_some() && d.is_none())
            .cloned()
            .collect()];
        for dimension in published_dimensions(metric) {
            tables.push(
                values
                    .keys()
                    .filter(|(m, c, d, _)| *m == metric && c.is_none() && *d == Some(dimension))
                    .cloned()
                    .collect(),
            );
        }
        let total_place: Place = (metric, None, None, String::new());
        let figure = |place: &Place| Figure {
            value: values.get(place).copied().unwrap_or(0),
            before: prior_of(place),
        };
        let star = Star {
            total: figure(&total_place),
            tables: tables.iter().map(|t| t.iter().map(figure).collect()).collect(),
        };
        let rounded = rounding::round(&star, base)?;
        if rounded.against_change() > 0 {
            // No rounding of the new figures follows every change: keep the previous figures.
            if let Some(previous) = previous.as_ref().filter(|_| consistent) {
                cells.extend(carried(previous, metric));
                continue;
            }
        }
        let supported = rounded
            .tables
            .iter()
            .all(|t| t.iter().filter(|r| **r >= base).count() >= EXACT_TOTAL_SUPPORT);
        // Like a rounded figure, an exact total moves only in the direction of its change from
        // what was published before, so the change is not pinned between the two.
        let follows = star.total.before.is_none_or(|p| match star.total.value.cmp(&p.value) {
            std::cmp::Ordering::Greater => star.total.value >= p.rounded,
            std::cmp::Ordering::Less => star.total.value <= p.rounded,
            std::cmp::Ordering::Equal => true,
        });
        let exact = final_release
            && supported
            && follows
            && earlier_exact
                .get(&metric)
                .is_none_or(|totals| totals.iter().all(|t| *t == star.total.value));
        let cell = |place: &Place, rounded: Option<i64>, exact: bool| ReleaseCell {
            metric: place.0,
            country: place.1.clone(),
            dimension: place.2,
            bucket: place.3.clone(),
            value: values.get(place).copied().unwrap_or(0),
            rounded,
            exact,
            listed: rounded.is_some() && (place.2.is_none() || fixed.contains(place) || rounded.is_some_and(|r| r > 0)),
            carried_from: None,
        };
        cells.push(cell(&total_place, Some(rounded.total), exact));
        for (places, parts) in tables.iter().zip(&rounded.tables) {
            for (place, part) in places.iter().zip(parts) {
                cells.push(cell(place, Some(*part), false));
            }
        }
        for place in values
            .keys()
            .filter(|(m, c, d, _)| *m == metric && c.is_some() && d.is_some())
        {
            cells.push(cell(place, None, false));
        }
    }
    Ok(cells)
}

/// A metric's figures kept from the previous release, true values included: what is published
/// for it does not change, so nothing new can be learnt from it.
fn carried(previous: &Previous, metric: Metric) -> Vec<ReleaseCell> {
    previous
        .cells
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| ReleaseCell {
            carried_from: Some(c.carried_from.unwrap_or(previous.number)),
            ..c.clone()
        })
        .collect()
}
