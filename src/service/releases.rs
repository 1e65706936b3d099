//! Making, publishing and discarding releases: each a use case that owns its transactions,
//! calls the pure decisions of [`crate::domain::disclosure`] and the loads and stores of
//! [`crate::db::releases`]. The handlers and the demo both call these.

use crate::db::{self, DbConn, Writer};
use crate::domain::disclosure::figures::{self, Previous, Snapshot};
use crate::domain::disclosure::publication::publication;
use crate::domain::disclosure::release::{NewRelease, Release, ReleaseCell, ReleaseKind, ReleaseStatus};
use crate::domain::metric::{Dimension, Metric};
use crate::domain::tally::TOTAL;
use crate::domain::totals::{self as report, TallyReport};
use crate::error::{Error, Result};

/// The base every figure of a release is rounded to: the operation's suppression threshold,
/// the smallest base that leaves a count under the threshold consistent with at least as many
/// values as the threshold (docs/TALLIES.md).
pub fn rounding_base(threshold: i32) -> i32 {
    threshold.max(1)
}

/// Makes a draft release of operation `op`: reads the figures, the feed position and the
/// latest published release in one snapshot, computes what to publish, and stores it all.
/// 409 when the operation already has a draft.
pub fn make(conn: &mut DbConn, op: &str, new: &NewRelease, writer: &Writer) -> Result<(Release, Vec<ReleaseCell>)> {
    let read = conn.snapshot(|conn| {
        let operation = db::operations::get(conn, op)?;
        if let Some(number) = db::releases::draft(conn, op)? {
            return Err(Error::Conflict(format!(
                "operation `{op}` already has a draft release ({number}): publish or discard it first"
            )));
        }
        let seq = db::journal::position(conn)?;
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
        let mut dimensions = vec![TOTAL];
        dimensions.extend(Dimension::ALL.iter().map(|d| d.as_str()));
        let cells = db::tallies::read(conn, op, &names, &dimensions, None)?;
        let reported = db::stated::current(conn, op, None)?;
        let previous = db::releases::latest_published(conn, op)?;
        let previous_cells = match &previous {
            Some(p) => db::releases::cells(conn, op, p.number, false)?,
            None => Vec::new(),
        };
        let exact = db::releases::exact_totals(conn, op)?;
        Ok((operation, seq, cells, reported, previous, previous_cells, exact))
    })?;
    let (operation, seq, cells, reported, previous, previous_cells, exact) = read;
    let whole = report::assemble(op, seq, &cells, &reported, Metric::ALL, None, None);
    let breakdowns: Vec<(Dimension, TallyReport)> = Dimension::ALL
        .iter()
        .filter(|d| **d != Dimension::Category)
        .map(|d| {
            let by = report::assemble(
                op,
                seq,
                &cells,
                &reported,
                Metric::ALL,
                Some(*d),
                Some(d.as_str().into()),
            );
            (*d, by)
        })
        .collect();
    let base = rounding_base(operation.suppression_threshold);
    let snapshot = Snapshot {
        figures: &whole,
        breakdowns: &breakdowns,
        participating: &operation.participating_countries,
        days: (operation.starts_on, operation.ends_on),
    };
    let prior = previous.as_ref().map(|p| Previous {
        number: p.number,
        cells: &previous_cells,
        base: i64::from(p.rounding_base),
    });
    let final_release = new.kind == ReleaseKind::Final;
    let computed = figures::compute(&snapshot, prior, i64::from(base), &exact, final_release)?;
    let release = Release {
        operation_id: op.to_string(),
        number: 0,
        kind: new.kind,
        status: ReleaseStatus::Draft,
        operation_name: operation.name,
        as_of_seq: seq,
        threshold: operation.suppression_threshold,
        rounding_base: base,
        participating_countries: i32::try_from(operation.participating_countries.len()).unwrap_or(i32::MAX),
        created_at: db::now().and_utc(),
        created_by: writer.sub.clone(),
        published_at: None,
        published_by: None,
    };
    let based_on = previous.map(|p| p.number);
    let stored = conn.write(|conn| db::releases::store_draft(conn, &release, &computed, based_on, writer))?;
    Ok((stored, computed))
}

/// Publishes draft `number` of `op`. Publishing a published release again changes nothing.
pub fn publish(conn: &mut DbConn, op: &str, number: i64, writer: &Writer) -> Result<(Release, Vec<ReleaseCell>)> {
    conn.write(|conn| {
        db::releases::lock(conn, op)?;
        let release = db::releases::get(conn, op, number)?;
        let cells = db::releases::cells(conn, op, number, false)?;
        if release.status == ReleaseStatus::Published {
            return Ok((release, cells));
        }
        let published = Release {
            status: ReleaseStatus::Published,
            published_at: Some(db::now().and_utc()),
            published_by: Some(writer.sub.clone()),
            ..release
        };
        let payload = serde_json::to_string(&publication(&published, &cells))
            .map_err(|e| Error::internal(format!("cannot write the publication: {e}")))?;
        db::releases::mark_published(conn, &published, writer, payload)?;
        Ok((published, cells))
    })
}

/// Discards draft `number` of `op`; a published release cannot be discarded (409).
pub fn discard(conn: &mut DbConn, op: &str, number: i64, writer: &Writer) -> Result<()> {
    conn.write(|conn| {
        db::releases::lock(conn, op)?;
        let release = db::releases::get(conn, op, number)?;
        db::releases::discard_draft(conn, &release, writer)
    })
}

/// A release and its figures (all of them, or only the published ones), for reading.
pub fn read(conn: &mut DbConn, op: &str, number: i64, published_only: bool) -> Result<(Release, Vec<ReleaseCell>)> {
    conn.snapshot(|conn| {
        db::operations::require_exists(conn, op)?;
        let release = db::releases::get(conn, op, number)?;
        let cells = db::releases::cells(conn, op, number, published_only)?;
        Ok((release, cells))
    })
}
