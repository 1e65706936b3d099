//! The tally delta log (PostgreSQL): writes append their summed cell differences to
//! `tally_deltas` (a row per breakdown dimension), and a fold adds the pending rows to `tally_cells` and deletes them in one
//! transaction. Two writes of the same countries thus never update, nor wait for, the same cell
//! rows, and a cell row is updated once per fold instead of once per write. Readers add what is
//! pending ([`super::tallies`]). See docs/TALLIES.md.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use super::tallies::Range;
use super::DbConn;
use crate::domain::tally::{self, CellKey};
use crate::error::{Error, Result};

/// Most delta rows one fold statement takes; a fold repeats until fewer are left.
pub const FOLD_ROWS: i64 = 512;

/// Appends non-zero differences, in key order, one row per breakdown dimension. With [`Range::Unread`] it first reads
/// a bound on the cells of each country it adds to (the country's peak at the last fold plus the
/// peaks of the rows pending) and answers `false`, appending nothing, if
/// [`tally::may_add_unread`] does not allow the addition.
pub fn append(conn: &mut DbConn, operation_id: &str, cells: &[(&CellKey, i64)], range: Range) -> Result<bool> {
    let DbConn::Postgres(c) = conn else {
        return Err(Error::internal("the tally delta log is PostgreSQL's"));
    };
    let peaks = tally::peaks(cells.iter().map(|(k, v)| (*k, *v)));
    if range == Range::Unread {
        let countries: Vec<&str> = peaks.keys().copied().collect();
        let bounds: Vec<Bound> = diesel::sql_query(
            "SELECT c.country, COALESCE(p.peak, 0)::bigint + COALESCE(d.pending, 0)::bigint AS bound \
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
    // and at most one breakdown); the write's peaks go on its first row.
    let mut parts: BTreeMap<&str, Part> = BTreeMap::new();
    for ((country, metric, dimension, bucket), value) in cells {
        let part = parts.entry(*dimension).or_default();
        part.countries.push(country.as_str());
        part.metrics.push(metric);
        part.buckets.push(bucket.as_str());
        part.values.push(*value);
    }
    let mut sql = String::from(
        "INSERT INTO tally_deltas (operation_id, dimension, country, metric, bucket, value, peak_country, peak) VALUES ",
    );
    for i in 0..parts.len() {
        let p = 2 + 7 * i;
        let glue = if i == 0 { "" } else { ", " };
        let params: Vec<String> = (p..p + 7).map(|n| format!("${n}")).collect();
        sql.push_str(&format!("{glue}($1, {})", params.join(", ")));
    }
    let mut query = diesel::sql_query(sql).into_boxed().bind::<Text, _>(operation_id);
    for (i, (dimension, part)) in parts.into_iter().enumerate() {
        let (peak_countries, peak_values): (Vec<&str>, Vec<i64>) = if i == 0 {
            peaks.iter().map(|(c, p)| (*c, *p)).unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        query = query
            .bind::<Text, _>(dimension)
            .bind::<Array<Text>, _>(part.countries)
            .bind::<Array<Text>, _>(part.metrics)
            .bind::<Array<Text>, _>(part.buckets)
            .bind::<Array<BigInt>, _>(part.values)
            .bind::<Array<Text>, _>(peak_countries)
            .bind::<Array<BigInt>, _>(peak_values);
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

/// Folds up to [`FOLD_ROWS`] pending rows (the oldest) into the cells, in its own transaction,
/// and raises the peaks of the countries whose cells it wrote. Nothing on SQLite. If another
/// connection is folding, it does nothing (`Folded::default()`): the rows are that one's.
pub fn fold(conn: &mut DbConn) -> Result<Folded> {
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
        let counts: Vec<Counts> = diesel::sql_query(
            "WITH gone AS ( \
                 DELETE FROM tally_deltas WHERE id IN (SELECT id FROM tally_deltas ORDER BY id LIMIT $1) \
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
                 RETURNING 1 \
             ) \
             SELECT (SELECT count(*) FROM gone) AS rows, (SELECT count(*) FROM folded) AS cells",
        )
        .bind::<BigInt, _>(FOLD_ROWS)
        .load(c)?;
        let counts = counts.first().map_or(Folded::default(), |c| Folded {
            rows: c.rows,
            cells: c.cells,
        });
        Ok(counts)
    })
}

/// Folds until nothing is pending (or another connection is folding); returns the sums.
pub fn fold_all(conn: &mut DbConn) -> Result<Folded> {
    let mut total = Folded::default();
    loop {
        let once = fold(conn)?;
        total.rows += once.rows;
        total.cells += once.cells;
        if once.rows < FOLD_ROWS {
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
struct Counts {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    cells: i64,
}
