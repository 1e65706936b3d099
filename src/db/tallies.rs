//! Queries for tally cells: differences applied in the writer's transaction, cells read by
//! operation and metric.

use diesel::prelude::*;
use diesel::upsert::excluded;

use super::interceptions::Transition;
use super::schema::tally_cells;
use super::DbConn;
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

/// One stored cell: country, metric, dimension, bucket, value.
pub type CellValue = (String, String, String, String, i64);

/// Reads an operation's cells, of one metric if given, of the totals and of one dimension if given.
pub fn read(
    conn: &mut DbConn,
    operation_id: &str,
    metric: Option<&str>,
    dimension: Option<&str>,
) -> Result<Vec<CellValue>> {
    Ok(on_backend!(conn, c => {
        let mut query = tally_cells::table
            .filter(tally_cells::operation_id.eq(operation_id))
            .select((tally_cells::country, tally_cells::metric, tally_cells::dimension, tally_cells::bucket, tally_cells::value))
            .into_boxed();
        if let Some(metric) = metric {
            query = query.filter(tally_cells::metric.eq(metric));
        }
        match dimension {
            Some(dimension) => query = query.filter(tally_cells::dimension.eq_any([tally::TOTAL, dimension])),
            None => query = query.filter(tally_cells::dimension.eq(tally::TOTAL)),
        }
        query.load(c)
    })?)
}
