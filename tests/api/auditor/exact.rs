//! The exact argument for a single release: the tightest interval of every count, in closed
//! form, without a solver.
//!
//! What one release tells about a metric is a box per figure and one shared total that every
//! table adds up to. For a fixed total the tables are independent, so
//! - the total can be anything in `[T_lo, T_hi]`: its own box cut by each table's
//!   `[sum of lows, sum of highs]`;
//! - a figure `p` of a table is at least `max(lo_p, T - (highs of the others))` and at most
//!   `min(hi_p, T - (lows of the others))`, extreme at `T_lo` and `T_hi`;
//! - a per-country breakdown cell `(c, b)` behind the tables is, for fixed margins, anything in
//!   the Fréchet bounds `[max(0, t_c + s_b - T), min(t_c, s_b)]` (sharp for a two-way table of
//!   counts). Its lowest value is `max(0, min over T of (min t_c + min s_b - T))`, a convex
//!   piecewise-linear function of `T` whose minimum lies at an end or a corner; its highest is
//!   `min(max t_c, max s_b)` at `T_hi`, both being non-decreasing in `T`.
//!
//! Every bound is attained by an integer point, so these intervals are the attacker's exactly.

use std::collections::BTreeMap;

use super::knowledge::{Bounds, MetricView, Place};

/// A table's parts with the sums of their lows and highs.
struct Table<'a> {
    parts: &'a [(Place, Bounds)],
    lows: i64,
    highs: i64,
}

impl Table<'_> {
    /// Lowest and highest value of part `i` once the total is `t`.
    fn min_at(&self, i: usize, t: i64) -> i64 {
        let (lo, hi) = self.parts[i].1;
        lo.max(t - (self.highs - hi))
    }

    fn max_at(&self, i: usize, t: i64) -> i64 {
        let (lo, hi) = self.parts[i].1;
        hi.min(t - (self.lows - lo))
    }

    /// The total at which part `i`'s lowest value starts to rise.
    fn corner(&self, i: usize) -> i64 {
        let (lo, hi) = self.parts[i].1;
        lo + (self.highs - hi)
    }
}

/// The tightest interval of every figure and every per-country breakdown cell of one metric
/// of one release.
pub fn intervals(view: &MetricView) -> BTreeMap<Place, Bounds> {
    let tables: Vec<Table> = view
        .tables
        .iter()
        .map(|parts| Table {
            parts,
            lows: parts.iter().map(|(_, b)| b.0).sum(),
            highs: parts.iter().map(|(_, b)| b.1).sum(),
        })
        .collect();
    let t_lo = tables.iter().map(|t| t.lows).fold(view.total.0, i64::max);
    let t_hi = tables.iter().map(|t| t.highs).fold(view.total.1, i64::min);
    assert!(
        t_lo <= t_hi,
        "the publication contradicts itself: total in [{t_lo}, {t_hi}]"
    );
    let mut out = BTreeMap::new();
    out.insert(view.total_place(), (t_lo, t_hi));
    let mut position: BTreeMap<&Place, (usize, usize)> = BTreeMap::new();
    for (j, table) in tables.iter().enumerate() {
        for (i, (place, _)) in table.parts.iter().enumerate() {
            out.insert(place.clone(), (table.min_at(i, t_lo), table.max_at(i, t_hi)));
            position.insert(place, (j, i));
        }
    }
    for cell in &view.interior {
        let row = position[&(cell.0.clone(), cell.1.clone(), String::new(), String::new())];
        let column = position[&(cell.0.clone(), String::new(), cell.2.clone(), cell.3.clone())];
        let (a, b) = (&tables[row.0], &tables[column.0]);
        let lowest = [t_lo, t_hi, a.corner(row.1), b.corner(column.1)]
            .into_iter()
            .map(|t| t.clamp(t_lo, t_hi))
            .map(|t| a.min_at(row.1, t) + b.min_at(column.1, t) - t)
            .min()
            .unwrap_or(0)
            .max(0);
        let highest = a.max_at(row.1, t_hi).min(b.max_at(column.1, t_hi));
        out.insert(cell.clone(), (lowest, highest));
    }
    out
}
