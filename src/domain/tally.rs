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
