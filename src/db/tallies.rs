//! Queries for tally cells: differences applied in the writer's transaction, cells read by
//! operation and metric.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::interceptions::Transition;
use super::schema::{log_head, tally_cells};
use super::DbConn;
use crate::domain::report::Cell;
use crate::domain::tally::{self, Cells};
use crate::error::Result;
use crate::on_backend;

#[derive(Insertable)]
#[diesel(table_name = tally_cells)]
struct CellRow<'a> {
    operation_id: &'a str,
    country: &'a str,
    metric: &'a str,
    dimension: &'a str,
    bucket: &'a str,
    value: i64,
}

/// Applies the differences of interception transitions to the cells.
pub fn apply(conn: &mut DbConn, operation_id: &str, transitions: &[Transition]) -> Result<()> {
    let mut cells = Cells::new();
    for t in transitions {
        if let Some(before) = &t.before {
            tally::add_interception(&mut cells, &t.country, before, -1);
        }
        if let Some(after) = &t.after {
            tally::add_interception(&mut cells, &t.country, after, 1);
        }
    }
    add(conn, operation_id, cells)
}

/// Adds differences to cells in one multi-row upsert. Rows go in key order (the map's), so
/// concurrent writers lock shared cells in the same order and cannot deadlock.
pub fn add(conn: &mut DbConn, operation_id: &str, cells: Cells) -> Result<()> {
    let cells = tally::nonzero(cells);
    let rows: Vec<CellRow> = cells
        .iter()
        .map(|((country, metric, dimension, bucket), value)| CellRow {
            operation_id,
            country,
            metric,
            dimension,
            bucket,
            value: *value,
        })
        .collect();
    // Multi-row on PostgreSQL; row by row in-process on SQLite (see `interceptions::store`).
    macro_rules! upsert {
        ($c:expr, $values:expr) => {
            diesel::insert_into(tally_cells::table)
                .values($values)
                .on_conflict((
                    tally_cells::operation_id,
                    tally_cells::metric,
                    tally_cells::dimension,
                    tally_cells::country,
                    tally_cells::bucket,
                ))
                .do_update()
                .set(tally_cells::value.eq(tally_cells::value + excluded(tally_cells::value)))
                .execute($c)
        };
    }
    match conn {
        DbConn::Postgres(c) => {
            for chunk in rows.chunks(2000) {
                upsert!(c, chunk)?;
            }
        }
        DbConn::Sqlite(c) => {
            for row in &rows {
                upsert!(c, row)?;
            }
        }
    }
    Ok(())
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
    Ok(on_backend!(conn, c => {
        let mut query = tally_cells::table
            .filter(tally_cells::operation_id.eq(operation_id))
            .filter(tally_cells::metric.eq_any(metrics))
            .filter(tally_cells::dimension.eq_any(dimensions))
            .select((tally_cells::country, tally_cells::metric, tally_cells::dimension, tally_cells::bucket, tally_cells::value))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(tally_cells::country.eq_any(countries));
        }
        query.load(c)
    })?)
}

/// The change-feed position: the last sequence number handed out.
pub fn feed_position(conn: &mut DbConn) -> Result<i64> {
    Ok(on_backend!(conn, c => log_head::table.find(1).select(log_head::change_seq).first(c))?)
}

/// Every derived cell of an operation, for verification.
pub fn all_cells(conn: &mut DbConn, operation_id: &str) -> Result<Vec<Cell>> {
    Ok(on_backend!(conn, c => tally_cells::table
        .filter(tally_cells::operation_id.eq(operation_id))
        .select((tally_cells::country, tally_cells::metric, tally_cells::dimension, tally_cells::bucket, tally_cells::value))
        .load(c))?)
}

/// A derived cell whose maintained value differs from the one recomputed from the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The operation.
    pub operation_id: String,
    /// The cell: country, metric, dimension, bucket.
    pub cell: (String, String, String, String),
    /// The maintained value.
    pub maintained: i64,
    /// The value recomputed from the records.
    pub recomputed: i64,
}

/// Recomputes every derived cell of an operation from its interceptions and units (a full
/// scan, for `opcoord tallies verify` and tests) and returns the cells that differ.
pub fn verify(conn: &mut DbConn, operation_id: &str) -> Result<Vec<Difference>> {
    use super::schema::{interceptions, units};
    let records: Vec<(String, String)> = on_backend!(conn, c => interceptions::table
        .filter(interceptions::operation_id.eq(operation_id))
        .filter(interceptions::deleted.eq(false))
        .select((interceptions::country, interceptions::body))
        .load(c))?;
    let mut recomputed = Cells::new();
    for (country, body) in records {
        let content = serde_json::from_str(&body)
            .map_err(|e| crate::error::Error::Internal(format!("stored interception does not parse: {e}")))?;
        tally::add_interception(&mut recomputed, &country, &content, 1);
    }
    let unit_rows: Vec<(String, i64, bool)> = on_backend!(conn, c => units::table
        .filter(units::operation_id.eq(operation_id))
        .select((units::country, units::officers_deployed, units::active))
        .load(c))?;
    for (country, officers, active) in unit_rows {
        tally::add_officers(&mut recomputed, &country, officers, active, 1);
    }
    let mut expected: std::collections::BTreeMap<(String, String, String, String), i64> = recomputed
        .into_iter()
        .map(|((country, metric, dimension, bucket), v)| {
            (
                (country.into(), metric.to_string(), dimension.to_string(), bucket.into()),
                v,
            )
        })
        .collect();
    let mut differences = Vec::new();
    for (country, metric, dimension, bucket, maintained) in all_cells(conn, operation_id)? {
        let key = (country, metric, dimension, bucket);
        let recomputed = expected.remove(&key).unwrap_or(0);
        if recomputed != maintained {
            differences.push(Difference {
                operation_id: operation_id.to_string(),
                cell: key,
                maintained,
                recomputed,
            });
        }
    }
    for (key, recomputed) in expected {
        if recomputed != 0 {
            differences.push(Difference {
                operation_id: operation_id.to_string(),
                cell: key,
                maintained: 0,
                recomputed,
            });
        }
    }
    Ok(differences)
}
