//! Queries for tally cells: the values a write is about to change, differences added by a
//! write, cells read by operation and metric, and the full recount of `verify`.
//!
//! On PostgreSQL a write appends its differences to the delta log ([`super::tally_log`]) and a
//! folder adds them to the cells later, so every read here adds the pending differences to the
//! stored cells *in the same statement*: a fold committing between two statements would
//! otherwise be seen by one and not the other. On SQLite, one writer at a time, a write adds to
//! the cells directly and nothing is pending.

use std::collections::{BTreeMap, HashMap};

use compact_str::CompactString;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};

use super::schema::tally_cells;
use super::{corrupt, tally_log, DbConn};
use crate::domain::metric::{Dimension, Metric};
use crate::domain::tally::{self, CellKey, Cells, MAX_CELL};
use crate::domain::totals::Cell;
use crate::error::{Error, Result};
use crate::on_backend;

/// The stored values of these cells of an operation, with their pending differences (a cell
/// not stored is 0 and left out). Each stored cell is one probe of the primary key (`LIMIT 1`
/// keeps the planner from joining every cell of the operation instead, as it would with the
/// statistics of a young table).
pub fn values(conn: &mut DbConn, operation_id: &str, keys: &[&CellKey]) -> Result<HashMap<CellKey, i64>> {
    let mut rows: Vec<ValueRow> = Vec::with_capacity(keys.len());
    match conn {
        DbConn::Postgres(c) => {
            for chunk in keys.chunks(2000) {
                let column = |f: fn(&CellKey) -> &str| chunk.iter().map(|k| f(k)).collect::<Vec<&str>>();
                rows.extend(
                    diesel::sql_query(format!(
                        "WITH k AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) \
                                    AS k(metric, dimension, country, bucket)) \
                         SELECT t.country, t.metric, t.dimension, t.bucket, t.value \
                         FROM k CROSS JOIN LATERAL (SELECT * FROM tally_cells c WHERE c.operation_id = $1 \
                              AND c.metric = k.metric AND c.dimension = k.dimension AND c.country = k.country \
                              AND c.bucket = k.bucket LIMIT 1) AS t \
                         UNION ALL \
                         SELECT p.country, p.metric, p.dimension, p.bucket, p.value FROM ({pending}) AS p \
                         JOIN k ON p.metric = k.metric AND p.dimension = k.dimension \
                              AND p.country = k.country AND p.bucket = k.bucket",
                        pending = pending("d.dimension = ANY($3)")
                    ))
                    .bind::<Text, _>(operation_id)
                    .bind::<Array<Text>, _>(column(|k| k.1))
                    .bind::<Array<Text>, _>(column(|k| k.2))
                    .bind::<Array<Text>, _>(column(|k| k.0.as_str()))
                    .bind::<Array<Text>, _>(column(|k| k.3.as_str()))
                    .load::<ValueRow>(c)?,
                );
            }
        }
        DbConn::Sqlite(c) => {
            // In-process: grouped by (metric, dimension, country), one `bucket IN (..)` each.
            let mut groups: BTreeMap<(&str, &str, &str), Vec<&str>> = BTreeMap::new();
            for (country, metric, dimension, bucket) in keys {
                groups.entry((metric, dimension, country)).or_default().push(bucket);
            }
            for ((metric, dimension, country), buckets) in groups {
                for chunk in buckets.chunks(500) {
                    rows.extend(
                        tally_cells::table
                            .filter(tally_cells::operation_id.eq(operation_id))
                            .filter(tally_cells::metric.eq(metric))
                            .filter(tally_cells::dimension.eq(dimension))
                            .filter(tally_cells::country.eq(country))
                            .filter(tally_cells::bucket.eq_any(chunk))
                            .select(ValueRow::as_select())
                            .load(c)?,
                    );
                }
            }
        }
    }
    let mut values: HashMap<CellKey, i64> = HashMap::with_capacity(rows.len());
    for row in rows {
        let metric = Metric::parse(&row.metric).ok_or_else(|| corrupt("tally metric", &row.metric))?;
        let dimension =
            Dimension::cell_name(&row.dimension).ok_or_else(|| corrupt("tally dimension", &row.dimension))?;
        let key = (
            CompactString::from(row.country),
            metric.as_str(),
            dimension,
            CompactString::from(row.bucket),
        );
        // Past i64 only if a cell was altered around the service: then it is out of range.
        let value = values.entry(key).or_insert(0);
        *value = value.saturating_add(row.value);
    }
    Ok(values)
}

/// The differences pending in the delta log of operation `$1` whose rows pass `rows` (a
/// condition on `d.dimension`, or `true`), summed per cell (PostgreSQL): columns `country,
/// metric, dimension, bucket, value`, compared bytewise as the cells are. Only the arrays of the
/// rows kept are unnested.
fn pending(rows: &str) -> String {
    format!(
        "SELECT u.country COLLATE \"C\" AS country, u.metric COLLATE \"C\" AS metric, \
                d.dimension COLLATE \"C\" AS dimension, u.bucket COLLATE \"C\" AS bucket, \
                sum(u.value)::bigint AS value \
         FROM tally_deltas d CROSS JOIN LATERAL \
              unnest(d.country, d.metric, d.bucket, d.value) AS u(country, metric, bucket, value) \
         WHERE d.operation_id = $1 AND {rows} GROUP BY 1, 2, 3, 4"
    )
}

/// The cells of some rows, those of the same cell (a stored cell and its pending differences)
/// summed into one.
fn merged(rows: Vec<ValueRow>) -> Vec<Cell> {
    let mut sums: HashMap<(String, String, String, String), i64> = HashMap::with_capacity(rows.len());
    for row in rows {
        let sum = sums
            .entry((row.country, row.metric, row.dimension, row.bucket))
            .or_insert(0);
        *sum = sum.saturating_add(row.value);
    }
    sums.into_iter()
        .map(|((country, metric, dimension, bucket), value)| (country, metric, dimension, bucket, value))
        .collect()
}

/// One stored cell.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tally_cells)]
struct ValueRow {
    country: String,
    metric: String,
    dimension: String,
    bucket: String,
    value: i64,
}

/// What a write knows of the range of the cells it adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// It read them under its countries' exclusive locks and checked every sum.
    Checked,
    /// It did not read them: the addition must itself make sure no cell leaves its range.
    Unread,
}

/// Adds differences to cells and says whether it could make sure every cell stays within
/// `0..=MAX_CELL`; when it answers `false` nothing was added and the caller must roll the
/// transaction back, then check the cells' values under its countries' exclusive locks.
///
/// On PostgreSQL the differences go to the delta log, a row per dimension
/// ([`tally_log::append`]); an
/// [`Range::Unread`] addition first bounds the cells it adds to ([`tally::may_add_unread`]).
/// On SQLite they are added to the cells in one statement over a JSON array (`json_each`), which
/// returns every sum, exactly checked.
pub fn add(conn: &mut DbConn, operation_id: &str, cells: &Cells, range: Range) -> Result<bool> {
    let cells: Vec<(&CellKey, i64)> = cells.iter().filter(|(_, v)| **v != 0).map(|(k, v)| (k, *v)).collect();
    if cells.is_empty() {
        return Ok(true);
    }
    let c = match conn {
        DbConn::Postgres(_) => return tally_log::append(conn, operation_id, &cells, range),
        DbConn::Sqlite(c) => c,
    };
    let mut sums: Vec<Sum> = Vec::with_capacity(cells.len());
    for chunk in cells.chunks(2000) {
        let rows: Vec<(&str, &str, &str, &str, i64)> = chunk
            .iter()
            .map(|((country, metric, dimension, bucket), v)| {
                (country.as_str(), *metric, *dimension, bucket.as_str(), *v)
            })
            .collect();
        let json = serde_json::to_string(&rows).map_err(Error::internal)?;
        // A sum past i64 turns into a REAL in SQLite, read back out of range.
        sums.extend(
            diesel::sql_query(
                "INSERT INTO tally_cells (operation_id, country, metric, dimension, bucket, value) \
                 SELECT ?1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), \
                        json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]') \
                 FROM json_each(?2) AS j WHERE true \
                 ON CONFLICT (operation_id, metric, dimension, country, bucket) \
                 DO UPDATE SET value = tally_cells.value + excluded.value \
                 RETURNING value",
            )
            .bind::<Text, _>(operation_id)
            .bind::<Text, _>(json)
            .load::<Sum>(c)?,
        );
    }
    Ok(sums.iter().all(|sum| (0..=MAX_CELL).contains(&sum.value)))
}

/// A cell's value after an addition.
#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Reads an operation's cells of the given metrics and dimensions (`""` is the totals), of the
/// given countries if any.
pub fn read(
    conn: &mut DbConn,
    operation_id: &str,
    metrics: &[&str],
    dimensions: &[&str],
    countries: Option<&[String]>,
) -> Result<Vec<Cell>> {
    let c = match conn {
        DbConn::Postgres(c) => {
            let filter = "metric = ANY($2) AND dimension = ANY($3) AND ($4::text[] IS NULL OR country = ANY($4))";
            let rows = diesel::sql_query(format!(
                "SELECT country, metric, dimension, bucket, value FROM tally_cells WHERE operation_id = $1 AND {filter} \
                 UNION ALL SELECT * FROM ({pending}) AS p WHERE {filter}",
                pending = pending("d.dimension = ANY($3)")
            ))
            .bind::<Text, _>(operation_id)
            .bind::<Array<Text>, _>(metrics)
            .bind::<Array<Text>, _>(dimensions)
            .bind::<Nullable<Array<Text>>, _>(countries)
            .load::<ValueRow>(c)?;
            return Ok(merged(rows));
        }
        DbConn::Sqlite(c) => c,
    };
    let mut query = tally_cells::table
        .filter(tally_cells::operation_id.eq(operation_id))
        .filter(tally_cells::metric.eq_any(metrics))
        .filter(tally_cells::dimension.eq_any(dimensions))
        .select(ValueRow::as_select())
        .into_boxed();
    if let Some(countries) = countries {
        query = query.filter(tally_cells::country.eq_any(countries));
    }
    Ok(merged(query.load(c)?))
}

/// Every derived cell of an operation, with what is pending, for verification.
pub fn all_cells(conn: &mut DbConn, operation_id: &str) -> Result<Vec<Cell>> {
    match conn {
        DbConn::Postgres(c) => {
            let rows = diesel::sql_query(format!(
                "SELECT country, metric, dimension, bucket, value FROM tally_cells WHERE operation_id = $1 \
                 UNION ALL {pending}",
                pending = pending("true")
            ))
            .bind::<Text, _>(operation_id)
            .load::<ValueRow>(c)?;
            Ok(merged(rows))
        }
        DbConn::Sqlite(c) => Ok(merged(
            tally_cells::table
                .filter(tally_cells::operation_id.eq(operation_id))
                .select(ValueRow::as_select())
                .load(c)?,
        )),
    }
}

/// What is wrong with a maintained cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    /// It differs from the recount of the records.
    Differs,
    /// It is outside `0..=MAX_CELL` (the recount may agree, if the records themselves were
    /// stored around the write path).
    OutOfRange,
}

/// A derived cell that is wrong: different from the recount, or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The operation.
    pub operation_id: String,
    /// The cell: country, metric, dimension, bucket.
    pub cell: (String, String, String, String),
    /// The maintained value.
    pub maintained: i64,
    /// The value recounted from the records, in a type that cannot wrap.
    pub recomputed: i128,
    /// What is wrong.
    pub problem: CellProblem,
}

/// Recounts every derived cell of an operation from its interceptions and units (a full scan,
/// for `opcoord tallies verify` and tests) and returns the cells that are wrong: different from
/// the recount, or outside `0..=MAX_CELL`. Sums are taken in `i128`, so a recount never wraps.
pub fn verify(conn: &mut DbConn, operation_id: &str) -> Result<Vec<Difference>> {
    use super::schema::{interceptions, units};
    type Wide = BTreeMap<(String, String, String, String), i128>;
    fn widen(into: &mut Wide, cells: Cells) {
        for ((country, metric, dimension, bucket), v) in cells {
            let key = (country.into(), metric.to_string(), dimension.to_string(), bucket.into());
            *into.entry(key).or_insert(0) += i128::from(v);
        }
    }
    let mut expected = Wide::new();
    let mut after = 0_i64;
    loop {
        let records: Vec<(i64, String, String)> = on_backend!(conn, c => interceptions::table
            .filter(interceptions::operation_id.eq(operation_id))
            .filter(interceptions::deleted.eq(false))
            .filter(interceptions::id.gt(after))
            .order(interceptions::id)
            .limit(5000)
            .select((interceptions::id, interceptions::country, interceptions::body))
            .load(c))?;
        let Some(last) = records.last() else { break };
        after = last.0;
        for (id, country, body) in records {
            let content = serde_json::from_str(&body).map_err(|_| corrupt("interception body", &id.to_string()))?;
            let mut one = Cells::new();
            tally::add_interception(&mut one, &country, &content, 1);
            widen(&mut expected, one);
        }
    }
    let unit_rows: Vec<(String, i64, bool)> = on_backend!(conn, c => units::table
        .filter(units::operation_id.eq(operation_id))
        .select((units::country, units::officers_deployed, units::active))
        .load(c))?;
    for (country, officers, active) in unit_rows {
        let mut one = Cells::new();
        tally::add_officers(&mut one, &country, officers, active, 1);
        widen(&mut expected, one);
    }
    let wrong = |cell, maintained: i64, recomputed: i128| {
        let problem = if !(0..=MAX_CELL).contains(&maintained) {
            CellProblem::OutOfRange
        } else if i128::from(maintained) != recomputed {
            CellProblem::Differs
        } else {
            return None;
        };
        Some(Difference {
            operation_id: operation_id.to_string(),
            cell,
            maintained,
            recomputed,
            problem,
        })
    };
    let mut differences = Vec::new();
    for (country, metric, dimension, bucket, maintained) in all_cells(conn, operation_id)? {
        let key = (country, metric, dimension, bucket);
        let recomputed = expected.remove(&key).unwrap_or(0);
        differences.extend(wrong(key, maintained, recomputed));
    }
    for (key, recomputed) in expected {
        if recomputed != 0 {
            differences.extend(wrong(key, 0, recomputed));
        }
    }
    Ok(differences)
}
