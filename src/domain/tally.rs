//! Tallies: the counts an interception or a unit contributes, as cells per country, metric,
//! breakdown dimension and value. Totals are kept as these cells, updated by differences in the
//! write's own transaction, so reading a total never touches the records.

use std::collections::BTreeMap;
use std::fmt::Write;

use compact_str::CompactString;

use super::interception::InterceptionContent;

/// Seizure quantities are kept in thousandths of their unit, so sums stay exact integers. The
/// seizures total counts seizure entries; the `category` breakdown holds quantities per
/// `category[:unit]`.
pub const SEIZURE_SCALE: f64 = 1000.0;

/// The dimension and value of a cell that holds a metric's total.
pub const TOTAL: &str = "";

/// Largest value a cell may hold: 2^53 − 1, the largest integer every JSON client reads exactly
/// (JavaScript's `Number.MAX_SAFE_INTEGER`). Writes that would take a cell past it, or below 0,
/// are refused with a 422 naming the item; the sum of every country's cells still fits an `i64`.
pub const MAX_CELL: i64 = (1 << 53) - 1;

/// Largest difference one write may add to a cell of a country without reading the cells: 2^32.
/// See [`may_add_unread`].
pub const UNREAD_STEP: i64 = 1 << 32;

/// Bound on a country's cells up to which a write may add to them without reading them: 2^52,
/// about half of [`MAX_CELL`]. See [`may_add_unread`].
pub const UNREAD_BOUND: i64 = 1 << 52;

// The margin [`may_add_unread`] rests on: the bound plus a step for each of 2^18 open writes.
const _: () = assert!(UNREAD_BOUND + (1 << 18) * UNREAD_STEP <= MAX_CELL);

/// Whether a write may add differences to a country's cells without reading them, given a bound
/// on every cell of the country as committed (`bound`) and the largest difference the write adds
/// to one of them (`peak`). Writes that may run side by side check this each against what was
/// committed when it looked; those it lets through can still not take a cell past [`MAX_CELL`]:
/// at any moment, a cell holds at most what the last of them to look saw (at most
/// `UNREAD_BOUND`), plus what the writes still open at that moment add, each at most
/// `UNREAD_STEP`. An open write holds a database connection, and PostgreSQL allows fewer than
/// 2^18 of them, so that is below 2^52 + 2^50 < 2^53. A write it refuses reads the cells under
/// its countries' exclusive locks instead. Cells never go below 0 this way: a write subtracts
/// only what the version of a record it replaces had added.
pub fn may_add_unread(bound: i64, peak: i64) -> bool {
    peak <= UNREAD_STEP && bound.checked_add(peak).is_some_and(|sum| sum <= UNREAD_BOUND)
}

/// Per country, the largest of the differences given as (country, difference), 0 if none is
/// positive, in country order.
pub fn peaks<'a>(cells: impl IntoIterator<Item = (&'a str, i64)>) -> BTreeMap<&'a str, i64> {
    let mut peaks: BTreeMap<&str, i64> = BTreeMap::new();
    for (country, value) in cells {
        let peak = peaks.entry(country).or_insert(0);
        *peak = (*peak).max(value);
    }
    peaks
}

/// A cell's key within one operation: country, metric, dimension (`""` for the total) and value.
/// Country codes and bucket names are short, so `CompactString` keeps them inline: building a key
/// allocates nothing, which matters when a 1,000-item batch makes tens of thousands of them.
pub type CellKey = (CompactString, &'static str, &'static str, CompactString);

/// Cell values by key, summed and in key order.
pub type Cells = BTreeMap<CellKey, i64>;

/// Cell differences as they come, a key possibly more than once (cheaper to build than a map
/// when they are only summed later).
pub type Deltas = Vec<(CellKey, i64)>;

/// Where cell differences go: a map that sums them, or a list that keeps them as they come.
pub trait CellSink {
    /// Adds `value` to the cell `key`.
    fn put(&mut self, key: CellKey, value: i64);
}

impl CellSink for Cells {
    fn put(&mut self, key: CellKey, value: i64) {
        *self.entry(key).or_insert(0) += value;
    }
}

impl CellSink for Deltas {
    fn put(&mut self, key: CellKey, value: i64) {
        self.push((key, value));
    }
}

/// Adds one interception's counts, times a sign, into a set of cells.
struct Adder<'a, S: CellSink> {
    cells: &'a mut S,
    country: CompactString,
    sign: i64,
}

impl<S: CellSink> Adder<'_, S> {
    fn add(&mut self, metric: &'static str, dimension: &'static str, bucket: &str, value: i64) {
        if value != 0 {
            self.cells.put(
                (self.country.clone(), metric, dimension, CompactString::from(bucket)),
                self.sign * value,
            );
        }
    }

    /// A metric's total and its `kind` and `day` breakdowns.
    fn counted(&mut self, metric: &'static str, kind: &str, day: &str, value: i64) {
        self.add(metric, TOTAL, TOTAL, value);
        self.add(metric, "kind", kind, value);
        self.add(metric, "day", day, value);
    }

    /// The person breakdowns: age group, sex and nationality, each summing to the total.
    fn people(
        &mut self,
        metric: &'static str,
        total: i64,
        (children, female, male): (Option<i64>, Option<i64>, Option<i64>),
        by_nationality: &BTreeMap<String, i64>,
    ) {
        match children {
            Some(children) => {
                self.add(metric, "age_group", "child", children);
                self.add(metric, "age_group", "adult", total - children);
            }
            None => self.add(metric, "age_group", "unknown", total),
        }
        let (f, m) = (female.unwrap_or(0), male.unwrap_or(0));
        self.add(metric, "sex", "female", f);
        self.add(metric, "sex", "male", m);
        self.add(metric, "sex", "unknown", total - f - m);
        let mut known = 0;
        for (code, n) in by_nationality {
            self.add(metric, "nationality", code, *n);
            known += n;
        }
        self.add(metric, "nationality", "unknown", total - known);
    }
}

/// Adds what one interception counts, times `sign` (1 to add it, -1 to take it out).
pub fn add_interception(cells: &mut impl CellSink, country: &str, content: &InterceptionContent, sign: i64) {
    let mut to = Adder {
        cells,
        country: CompactString::from(country),
        sign,
    };
    let kind = content.kind.as_str();
    let mut day = CompactString::default();
    // `occurred_at` is UTC: its date is the day bucket (`YYYY-MM-DD`).
    let _ = write!(day, "{}", content.occurred_at.date_naive());
    to.counted("interceptions", kind, &day, 1);
    if let Some(m) = &content.migrants {
        to.counted("migrants_detected", kind, &day, m.total);
        to.people(
            "migrants_detected",
            m.total,
            (m.children, m.female, m.male),
            &m.by_nationality,
        );
    }
    if let Some(v) = &content.victims {
        const METRIC: &str = "victims_safeguarded";
        to.counted(METRIC, kind, &day, v.total);
        to.people(METRIC, v.total, (v.children, v.female, v.male), &v.by_nationality);
        let mut known = 0;
        for (form, n) in &v.by_exploitation {
            to.add(METRIC, "exploitation", form.as_str(), *n);
            known += n;
        }
        to.add(METRIC, "exploitation", "unknown", v.total - known);
    }
    to.counted("arrests", kind, &day, content.arrests);
    to.counted("investigations_opened", kind, &day, content.investigations_opened);
    to.add("seizures", TOTAL, TOTAL, content.seizures.len() as i64);
    for seizure in &content.seizures {
        let mut bucket = CompactString::from(seizure.category.as_str());
        if let Some(unit) = &seizure.unit {
            bucket.push(':');
            bucket.push_str(unit);
        }
        let quantity = (seizure.quantity * SEIZURE_SCALE).round() as i64;
        to.add("seizures", "category", &bucket, quantity);
    }
}

/// Adds the officers a unit deploys (only an active unit counts), times `sign`.
pub fn add_officers(cells: &mut impl CellSink, country: &str, officers: i64, active: bool, sign: i64) {
    if active {
        Adder {
            cells,
            country: CompactString::from(country),
            sign,
        }
        .add("officers_deployed", TOTAL, TOTAL, officers);
    }
}

/// Drops cells whose difference is zero.
pub fn nonzero(cells: Cells) -> Cells {
    cells.into_iter().filter(|(_, v)| *v != 0).collect()
}

/// Adds one item's differences to running cell values, all or none: if any cell would leave
/// `0..=MAX_CELL`, nothing is added and that cell's key is returned. A key may come more than once.
pub fn add_checked(
    values: &mut std::collections::HashMap<CellKey, i64>,
    deltas: &[(CellKey, i64)],
) -> Result<(), CellKey> {
    let mut next: std::collections::HashMap<&CellKey, i64> = std::collections::HashMap::with_capacity(deltas.len());
    for (key, delta) in deltas {
        let current = match next.get(key) {
            Some(value) => *value,
            None => values.get(key).copied().unwrap_or(0),
        };
        match current.checked_add(*delta) {
            Some(value) if (0..=MAX_CELL).contains(&value) => {
                next.insert(key, value);
            }
            _ => return Err(key.clone()),
        }
    }
    for (key, value) in next {
        values.insert(key.clone(), value);
    }
    Ok(())
}

/// The body member whose figures feed a metric, for a problem's pointer.
pub fn pointer_of(metric: &str) -> &'static str {
    match metric {
        "migrants_detected" => "/migrants/total",
        "victims_safeguarded" => "/victims/total",
        "arrests" => "/arrests",
        "investigations_opened" => "/investigations_opened",
        "seizures" => "/seizures",
        "officers_deployed" => "/officers_deployed",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(country: &str) -> CellKey {
        (country.into(), "arrests", TOTAL, TOTAL.into())
    }

    #[test]
    fn peaks_are_the_largest_positive_difference_per_country() {
        let mut cells = Cells::new();
        cells.insert(key("SN"), 7);
        cells.insert(
            (
                CompactString::from("SN"),
                "migrants_detected",
                TOTAL,
                CompactString::from(TOTAL),
            ),
            12,
        );
        cells.insert(key("GM"), -3);
        let peaks = peaks(cells.iter().map(|(k, v)| (k.0.as_str(), *v)));
        assert_eq!(peaks.into_iter().collect::<Vec<_>>(), vec![("GM", 0), ("SN", 12)]);
    }

    #[test]
    fn unread_additions_stop_short_of_half_the_range() {
        assert!(may_add_unread(0, UNREAD_STEP));
        assert!(!may_add_unread(0, UNREAD_STEP + 1), "a step past 2^32");
        assert!(may_add_unread(UNREAD_BOUND - 10, 10));
        assert!(!may_add_unread(UNREAD_BOUND - 10, 11), "a bound past 2^52");
        assert!(!may_add_unread(i64::MAX, 1), "a bound that would wrap");
    }
}
