//! Tallies: the counts an interception or a unit contributes, as cells per country, metric,
//! breakdown dimension and value. Totals are kept as these cells, updated by differences in the
//! write's own transaction, so reading a total never touches the records.

use std::collections::BTreeMap;

use super::interception::{InterceptionContent, MigrantCount, VictimCount};

/// Seizure quantities are kept in thousandths of their unit, so sums stay exact integers. The
/// seizures total counts seizure entries; the `category` breakdown holds quantities per
/// `category[:unit]`.
pub const SEIZURE_SCALE: f64 = 1000.0;

/// The dimension and value of a cell that holds a metric's total.
pub const TOTAL: &str = "";

/// A cell's key within one operation: country, metric, dimension (`""` for the total) and value.
pub type CellKey = (String, &'static str, &'static str, String);

/// Cell values by key.
pub type Cells = BTreeMap<CellKey, i64>;

fn add(cells: &mut Cells, country: &str, metric: &'static str, dimension: &'static str, bucket: &str, value: i64) {
    if value != 0 {
        *cells
            .entry((country.to_string(), metric, dimension, bucket.to_string()))
            .or_insert(0) += value;
    }
}

/// Adds a metric's total and its `kind` and `day` breakdowns.
fn counted(cells: &mut Cells, country: &str, metric: &'static str, content: &InterceptionContent, value: i64) {
    add(cells, country, metric, TOTAL, TOTAL, value);
    add(cells, country, metric, "kind", content.kind.as_str(), value);
    add(
        cells,
        country,
        metric,
        "day",
        &content.occurred_at.format("%Y-%m-%d").to_string(),
        value,
    );
}

/// The person breakdowns: age group, sex and nationality, each summing to the total.
#[allow(clippy::too_many_arguments)]
fn people(
    cells: &mut Cells,
    country: &str,
    metric: &'static str,
    total: i64,
    children: Option<i64>,
    female: Option<i64>,
    male: Option<i64>,
    by_nationality: &BTreeMap<String, i64>,
) {
    match children {
        Some(children) => {
            add(cells, country, metric, "age_group", "child", children);
            add(cells, country, metric, "age_group", "adult", total - children);
        }
        None => add(cells, country, metric, "age_group", "unknown", total),
    }
    let (f, m) = (female.unwrap_or(0), male.unwrap_or(0));
    add(cells, country, metric, "sex", "female", f);
    add(cells, country, metric, "sex", "male", m);
    add(cells, country, metric, "sex", "unknown", total - f - m);
    let mut known = 0;
    for (code, n) in by_nationality {
        add(cells, country, metric, "nationality", code, *n);
        known += n;
    }
    add(cells, country, metric, "nationality", "unknown", total - known);
}

fn migrants(cells: &mut Cells, country: &str, content: &InterceptionContent, m: &MigrantCount) {
    counted(cells, country, "migrants_detected", content, m.total);
    people(
        cells,
        country,
        "migrants_detected",
        m.total,
        m.children,
        m.female,
        m.male,
        &m.by_nationality,
    );
}

fn victims(cells: &mut Cells, country: &str, content: &InterceptionContent, v: &VictimCount) {
    const METRIC: &str = "victims_safeguarded";
    counted(cells, country, METRIC, content, v.total);
    people(
        cells,
        country,
        METRIC,
        v.total,
        v.children,
        v.female,
        v.male,
        &v.by_nationality,
    );
    let mut known = 0;
    for (form, n) in &v.by_exploitation {
        let name = serde_json::to_value(form)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        add(cells, country, METRIC, "exploitation", &name, *n);
        known += n;
    }
    add(cells, country, METRIC, "exploitation", "unknown", v.total - known);
}

/// Adds what one interception counts, times `sign` (1 to add it, -1 to take it out).
pub fn add_interception(cells: &mut Cells, country: &str, content: &InterceptionContent, sign: i64) {
    let mut own = Cells::new();
    counted(&mut own, country, "interceptions", content, 1);
    if let Some(m) = &content.migrants {
        migrants(&mut own, country, content, m);
    }
    if let Some(v) = &content.victims {
        victims(&mut own, country, content, v);
    }
    counted(&mut own, country, "arrests", content, content.arrests);
    counted(
        &mut own,
        country,
        "investigations_opened",
        content,
        content.investigations_opened,
    );
    add(
        &mut own,
        country,
        "seizures",
        TOTAL,
        TOTAL,
        content.seizures.len() as i64,
    );
    for seizure in &content.seizures {
        let category = serde_json::to_value(seizure.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let bucket = match &seizure.unit {
            Some(unit) => format!("{category}:{unit}"),
            None => category,
        };
        add(
            &mut own,
            country,
            "seizures",
            "category",
            &bucket,
            (seizure.quantity * SEIZURE_SCALE).round() as i64,
        );
    }
    for (key, value) in own {
        *cells.entry(key).or_insert(0) += sign * value;
    }
}

/// Adds the officers a unit deploys (only an active unit counts), times `sign`.
pub fn add_officers(cells: &mut Cells, country: &str, officers: i64, active: bool, sign: i64) {
    if active {
        add(cells, country, "officers_deployed", TOTAL, TOTAL, sign * officers);
    }
}

/// Drops cells whose difference is zero.
pub fn nonzero(cells: Cells) -> Cells {
    cells.into_iter().filter(|(_, v)| *v != 0).collect()
}
