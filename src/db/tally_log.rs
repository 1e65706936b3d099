//! The tally delta log (PostgreSQL): writes append their summed cell differences to
//! `tally_deltas` (a row per breakdown dimension), and a fold adds the pending rows to
//! `tally_cells` and deletes them in one transaction. Two writes of the same countries thus never
//! update, nor wait for, the same cell rows, and a cell row is updated once per fold instead of
//! once per write. Readers add what is pending ([`super::tallies`]). See docs/TALLIES.md.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use super::tallies::Range;
use super::DbConn;
use crate::domain::tally::{self, CellKey};
use crate::error::{Error, Result};

/// A country's peak from which each fold that writes its cells recounts the peak from them all.
pub const RECOUNT_PEAK: i64 = 1 << 40;

/// How many of the oldest rows a fold looks at to choose the writes it takes.
pub const FOLD_ROWS: i64 = 512;

/// Most cells one fold takes (it always takes at least one write), a bound on its work well
/// within the 5 s a write statement may last (20,000 mixed items, about 100,000 cells, folded
/// in 0.11 s in docs/BENCHMARKS.md). The folder halves it after a failure and doubles it back
/// after each success.
pub const FOLD_CELLS: i64 = 200_000;

/// Appends non-zero differences, in key order, one row per breakdown dimension. With
/// [`Range::Unread`] it first reads a bound on the cells of each country it adds to (the
/// country's peak at the last fold plus the peaks of the writes pending) and answers `false`,
/// appending nothing, if [`tally::may_add_unread`] does not allow the addition.
pub fn append(conn: &mut DbConn, operation_id: &str, cells: &[(&CellKey, i64)], range: Range) -> Result<bool> {
    let DbConn::Postgres(c) = conn else {
        return Err(Error::internal("the tally delta log is PostgreSQL's"));
    };
    let peaks = tally::peaks(cells.iter().map(|(k, v)| (k.0.as_str(), *v)));
    if range == Range::Unread {
        let countries: Vec<&str> = peaks.keys().copied().collect();
        let bounds: Vec<Bound> = diesel::sql_query(
            // Summed as numeric and capped, so that no number of pending peaks overflows.
            "SELECT c.country, LEAST(COALESCE(p.peak, 0) + COALESCE(d.pending, 0), 9223372036854775807)::bigint AS bound \
             FROM unnest($2::text[]) AS c(country) \
             LEFT JOIN tally_peaks p ON p.operation_id = $1 AND p.country = c.country \
             LEFT JOIN (SELECT x.country, sum(x.peak) AS pending \
                        FROM tally_deltas t CROSS JOIN LATERAL unnest(t.peak_country, t.peak) AS x(country, peak) \
                        WHERE t.operation_id = $1 AND x.country = ANY($2) GROUP BY x.country) AS d \
                    ON d.country = c.country",
        )
        .bind::<Text, _>(operation_id)
        .bind::<Array<Text>, _>(&countries)
        .load(c)?;
        let allowed = bounds.len() == countries.len()
            && bounds
                .iter()
                .all(|b| tally::may_add_unread(b.bound, peaks.get(b.country.as_str()).copied().unwrap_or(0)));
        if !allowed {
            return Ok(false);
        }
    }
    // One row per dimension, so that a reader unnests only the dimensions it reads (the totals
    // and at most one breakdown). The write's peaks go on its first row; the rows share the
    // transaction's id, and a fold takes all of them or none.
    let mut parts: BTreeMap<&str, Part> = BTreeMap::new();
    for ((country, metric, dimension, bucket), value) in cells {
        let part = parts.entry(*dimension).or_default();
        part.countries.push(country.as_str());
        part.metrics.push(metric);
        part.buckets.push(bucket.as_str());
        part.values.push(*value);
    }
    const PER_ROW: usize = 8;
    let mut sql = String::from(
        "INSERT INTO tally_deltas (operation_id, dimension, country, metric, bucket, value, peak_country, peak, cells, \
         xact) VALUES ",
    );
    for i in 0..parts.len() {
        let first = 2 + PER_ROW * i;
        let glue = if i == 0 { "" } else { ", " };
        let params: Vec<String> = (first..first + PER_ROW).map(|n| format!("${n}")).collect();
        sql.push_str(&format!("{glue}($1, {}, txid_current())", params.join(", ")));
    }
    let mut query = diesel::sql_query(sql).into_boxed().bind::<Text, _>(operation_id);
    for (i, (dimension, part)) in parts.into_iter().enumerate() {
        let (peak_countries, peak_values): (Vec<&str>, Vec<i64>) = if i == 0 {
            peaks.iter().map(|(c, p)| (*c, *p)).unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        let count = i32::try_from(part.values.len()).map_err(Error::internal)?;
        query = query
            .bind::<Text, _>(dimension)
            .bind::<Array<Text>, _>(part.countries)
            .bind::<Array<Text>, _>(part.metrics)
            .bind::<Array<Text>, _>(part.buckets)
            .bind::<Array<BigInt>, _>(part.values)
            .bind::<Array<Text>, _>(peak_countries)
            .bind::<Array<BigInt>, _>(peak_values)
            .bind::<diesel::sql_types::Integer, _>(count);
    }
    query.execute(c)?;
    Ok(true)
}

/// The cells of one dimension a write adds to, as parallel columns.
#[derive(Default)]
struct Part<'a> {
    countries: Vec<&'a str>,
    metrics: Vec<&'a str>,
    buckets: Vec<&'a str>,
    values: Vec<i64>,
}

/// A bound on the cells of one country.
#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = BigInt)]
    bound: i64,
}

/// What one fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Delta rows added to the cells and deleted.
    pub rows: i64,
    /// Cell rows written.
    pub cells: i64,
}

/// Folds the oldest pending writes into the cells, in its own transaction, all the rows of each:
/// as many as fit in `budget` cells (at least one write; the writes among the oldest
/// [`FOLD_ROWS`] rows), so that the work of one fold stays bounded however much was written.
/// A write is never split between folds, so its peaks, on its first row, stay pending as long
/// as any of its differences does. Raises the peak of each country whose cells it wrote to the
/// largest of them; a peak at or past [`RECOUNT_PEAK`] is set again from all the country's
/// cells, in the same transaction, so that it falls once a huge figure is corrected (below it, a
/// peak that only grows costs nothing: the bound is far from the range). Nothing on SQLite. If
/// another connection is folding, it does nothing (`Folded::default()`): the rows are that
/// one's.
pub fn fold(conn: &mut DbConn, budget: i64) -> Result<Folded> {
    if !matches!(conn, DbConn::Postgres(_)) {
        return Ok(Folded::default());
    }
    conn.write(|conn| {
        let DbConn::Postgres(c) = conn else {
            return Ok(Folded::default());
        };
        // Keyed by the log table's oid, so databases or schemas side by side fold each their own.
        let mine: Vec<Taken> = diesel::sql_query(
            "SELECT pg_try_advisory_xact_lock($1, 'tally_deltas'::regclass::oid::int) AS taken",
        )
        .bind::<diesel::sql_types::Integer, _>(FOLD_LOCK)
        .load(c)?;
        if !mine.first().is_some_and(|t| t.taken) {
            return Ok(Folded::default());
        }
        // Cells go in primary-key order; only the fold writes them on PostgreSQL.
        let done: Vec<Done> = diesel::sql_query(
            "WITH writes AS ( \
                 SELECT xact, min(id) AS first, sum(cells) AS cells \
                 FROM (SELECT id, xact, cells FROM tally_deltas ORDER BY id LIMIT $1) AS oldest GROUP BY xact \
             ), taken AS ( \
                 SELECT xact FROM (SELECT xact, cells, sum(cells) OVER (ORDER BY first) AS upto FROM writes) AS w \
                 WHERE upto - cells < $2 \
             ), gone AS ( \
                 DELETE FROM tally_deltas WHERE xact IN (SELECT xact FROM taken) \
                 RETURNING operation_id, dimension, country, metric, bucket, value \
             ), sums AS ( \
                 SELECT g.operation_id, u.metric, g.dimension, u.country, u.bucket, sum(u.value)::bigint AS value \
                 FROM gone g CROSS JOIN LATERAL \
                      unnest(g.country, g.metric, g.bucket, g.value) AS u(country, metric, bucket, value) \
                 GROUP BY 1, 2, 3, 4, 5 \
             ), folded AS ( \
                 INSERT INTO tally_cells (operation_id, country, metric, dimension, bucket, value) \
                 SELECT operation_id, country, metric, dimension, bucket, value FROM sums WHERE value <> 0 \
                 ORDER BY operation_id, metric COLLATE \"C\", dimension COLLATE \"C\", country COLLATE \"C\", bucket COLLATE \"C\" \
                 ON CONFLICT (operation_id, metric, dimension, country, bucket) \
                 DO UPDATE SET value = tally_cells.value + excluded.value \
                 RETURNING operation_id, country, value \
             ), peaks AS ( \
                 INSERT INTO tally_peaks (operation_id, country, peak) \
                 SELECT operation_id, country, GREATEST(max(value), 0) FROM folded GROUP BY 1, 2 \
                 ON CONFLICT (operation_id, country) DO UPDATE SET peak = GREATEST(tally_peaks.peak, excluded.peak) \
                 RETURNING operation_id, country, peak \
             ), high AS (SELECT operation_id, country FROM peaks WHERE peak >= $3) \
             SELECT (SELECT count(*) FROM gone) AS rows, (SELECT count(*) FROM folded) AS cells, \
                    ARRAY(SELECT operation_id FROM high ORDER BY operation_id, country) AS operations, \
                    ARRAY(SELECT country FROM high ORDER BY operation_id, country) AS countries",
        )
        .bind::<BigInt, _>(FOLD_ROWS)
        .bind::<BigInt, _>(budget.max(1))
        .bind::<BigInt, _>(RECOUNT_PEAK)
        .load(c)?;
        let Some(done) = done.into_iter().next() else {
            return Ok(Folded::default());
        };
        if !done.countries.is_empty() {
            // A high peak is set again from the cells as they are now, so that it falls once a
            // huge figure is corrected. A second statement: the first one's writes are not
            // visible within it.
            diesel::sql_query(
                "INSERT INTO tally_peaks (operation_id, country, peak) \
                 SELECT c.operation_id, c.country, GREATEST(max(c.value), 0) FROM tally_cells c \
                 WHERE c.operation_id = ANY($1) \
                   AND (c.operation_id, c.country) IN (SELECT * FROM unnest($1::text[], $2::text[])) \
                 GROUP BY 1, 2 \
                 ON CONFLICT (operation_id, country) DO UPDATE SET peak = excluded.peak",
            )
            .bind::<Array<Text>, _>(&done.operations)
            .bind::<Array<Text>, _>(&done.countries)
            .execute(c)?;
        }
        Ok(Folded {
            rows: done.rows,
            cells: done.cells,
        })
    })
}

/// Folds with `budget` until nothing is pending (or another connection is folding); returns
/// the sums.
pub fn fold_all(conn: &mut DbConn, budget: i64) -> Result<Folded> {
    let mut total = Folded::default();
    loop {
        let once = fold(conn, budget)?;
        total.rows += once.rows;
        total.cells += once.cells;
        if once.rows == 0 {
            return Ok(total);
        }
    }
}

/// Rows waiting in the log (0 on SQLite).
pub fn pending(conn: &mut DbConn) -> Result<i64> {
    let DbConn::Postgres(c) = conn else { return Ok(0) };
    let counted: Vec<Pending> = diesel::sql_query("SELECT count(*) AS rows FROM tally_deltas").load(c)?;
    Ok(counted.first().map_or(0, |p| p.rows))
}

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// The first half of the advisory lock key one folder at a time holds ("fold"); the second is the
/// oid of `tally_deltas`.
const FOLD_LOCK: i32 = 0x666f_6c64;

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    taken: bool,
}

#[derive(QueryableByName)]
struct Done {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    cells: i64,
    #[diesel(sql_type = Array<Text>)]
    operations: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    countries: Vec<String>,
}
