//! Queries for releases and their figures. A published release is never written again: the
//! only writes are storing a draft, publishing it, and discarding a draft.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{release_cells, releases};
use super::{corrupt, journal, DbConn, Writer};
use crate::domain::audit::{AuditAction, AuditEntity, NewAudit};
use crate::domain::disclosure::release::{Release, ReleaseCell, ReleaseStatus};
use crate::domain::metric::{Dimension, Metric};
use crate::error::{Error, Result};
use crate::on_backend;

/// One row of `releases`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = releases)]
struct ReleaseRow {
    operation_id: String,
    number: i64,
    kind: String,
    status: String,
    operation_name: String,
    as_of_seq: i64,
    threshold: i32,
    rounding_base: i32,
    participating_countries: i32,
    created_at: NaiveDateTime,
    created_by_sub: String,
    created_by_jti: String,
    published_at: Option<NaiveDateTime>,
    published_by_sub: Option<String>,
    published_by_jti: Option<String>,
}

impl ReleaseRow {
    fn into_release(self) -> Result<Release> {
        Ok(Release {
            kind: self.kind.parse().map_err(|_| corrupt("release kind", &self.kind))?,
            status: self
                .status
                .parse()
                .map_err(|_| corrupt("release status", &self.status))?,
            operation_id: self.operation_id,
            number: self.number,
            operation_name: self.operation_name,
            as_of_seq: self.as_of_seq,
            threshold: self.threshold,
            rounding_base: self.rounding_base,
            participating_countries: self.participating_countries,
            created_at: self.created_at.and_utc(),
            created_by: self.created_by_sub,
            published_at: self.published_at.map(|t| t.and_utc()),
            published_by: self.published_by_sub,
        })
    }
}

/// One row of `release_cells`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = release_cells)]
struct CellRow {
    operation_id: String,
    number: i64,
    metric: String,
    dimension: String,
    country: String,
    bucket: String,
    value: i64,
    rounded: Option<i64>,
    exact: bool,
    listed: bool,
    carried_from: Option<i64>,
}

impl CellRow {
    fn of(operation_id: &str, number: i64, cell: &ReleaseCell) -> CellRow {
        CellRow {
            operation_id: operation_id.to_string(),
            number,
            metric: cell.metric.as_str().to_string(),
            dimension: cell.dimension.map(Dimension::as_str).unwrap_or_default().to_string(),
            country: cell.country.clone().unwrap_or_default(),
            bucket: cell.bucket.clone(),
            value: cell.value,
            rounded: cell.rounded,
            exact: cell.exact,
            listed: cell.listed,
            carried_from: cell.carried_from,
        }
    }

    fn into_cell(self) -> Result<ReleaseCell> {
        let dimension = match self.dimension.as_str() {
            "" => None,
            name => Some(Dimension::parse(name).ok_or_else(|| corrupt("release dimension", name))?),
        };
        Ok(ReleaseCell {
            metric: Metric::parse(&self.metric).ok_or_else(|| corrupt("release metric", &self.metric))?,
            country: Some(self.country).filter(|c| !c.is_empty()),
            dimension,
            bucket: self.bucket,
            value: self.value,
            rounded: self.rounded,
            exact: self.exact,
            listed: self.listed,
            carried_from: self.carried_from,
        })
    }
}

fn status_name(status: ReleaseStatus) -> &'static str {
    status.into()
}

fn not_found(operation_id: &str, number: i64) -> Error {
    Error::NotFound(format!("operation `{operation_id}` has no release {number}"))
}

/// One release; 404 when there is none.
pub fn get(conn: &mut DbConn, operation_id: &str, number: i64) -> Result<Release> {
    let row: Option<ReleaseRow> = on_backend!(conn, c => releases::table
        .find((operation_id, number))
        .select(ReleaseRow::as_select())
        .first(c)
        .optional())?;
    row.ok_or_else(|| not_found(operation_id, number))?.into_release()
}

/// Every release of an operation by number, or only the published ones.
pub fn list(conn: &mut DbConn, operation_id: &str, published_only: bool) -> Result<Vec<Release>> {
    let rows: Vec<ReleaseRow> = on_backend!(conn, c => {
        let mut query = releases::table
            .filter(releases::operation_id.eq(operation_id))
            .order(releases::number)
            .select(ReleaseRow::as_select())
            .into_boxed();
        if published_only {
            query = query.filter(releases::status.eq(status_name(ReleaseStatus::Published)));
        }
        query.load(c)
    })?;
    rows.into_iter().map(ReleaseRow::into_release).collect()
}

/// The operation's latest published release, if any.
pub fn latest_published(conn: &mut DbConn, operation_id: &str) -> Result<Option<Release>> {
    let row: Option<ReleaseRow> = on_backend!(conn, c => releases::table
        .filter(releases::operation_id.eq(operation_id))
        .filter(releases::status.eq(status_name(ReleaseStatus::Published)))
        .order(releases::number.desc())
        .select(ReleaseRow::as_select())
        .first(c)
        .optional())?;
    row.map(ReleaseRow::into_release).transpose()
}

/// The figures of one release in a stable order: all of them, or only the published ones
/// (without the per-country breakdowns kept for review and audit).
pub fn cells(conn: &mut DbConn, operation_id: &str, number: i64, published_only: bool) -> Result<Vec<ReleaseCell>> {
    let rows: Vec<CellRow> = on_backend!(conn, c => {
        let mut query = release_cells::table
            .filter(release_cells::operation_id.eq(operation_id))
            .filter(release_cells::number.eq(number))
            .order((release_cells::metric, release_cells::dimension, release_cells::country, release_cells::bucket))
            .select(CellRow::as_select())
            .into_boxed();
        if published_only {
            query = query.filter(release_cells::rounded.is_not_null());
        }
        query.load(c)
    })?;
    rows.into_iter().map(CellRow::into_cell).collect()
}

/// Per metric, every total a published release of the operation gave exactly.
pub fn exact_totals(conn: &mut DbConn, operation_id: &str) -> Result<BTreeMap<Metric, Vec<i64>>> {
    let rows: Vec<(String, i64)> = on_backend!(conn, c => release_cells::table
        .inner_join(releases::table.on(releases::operation_id.eq(release_cells::operation_id)
            .and(releases::number.eq(release_cells::number))))
        .filter(release_cells::operation_id.eq(operation_id))
        .filter(releases::status.eq(status_name(ReleaseStatus::Published)))
        .filter(release_cells::exact.eq(true))
        .select((release_cells::metric, release_cells::value))
        .load(c))?;
    let mut totals: BTreeMap<Metric, Vec<i64>> = BTreeMap::new();
    for (metric, value) in rows {
        let metric = Metric::parse(&metric).ok_or_else(|| corrupt("release metric", &metric))?;
        totals.entry(metric).or_default().push(value);
    }
    Ok(totals)
}

/// The operation's draft, if it has one.
pub fn draft(conn: &mut DbConn, operation_id: &str) -> Result<Option<i64>> {
    Ok(on_backend!(conn, c => releases::table
        .filter(releases::operation_id.eq(operation_id))
        .filter(releases::status.eq(status_name(ReleaseStatus::Draft)))
        .select(releases::number)
        .first(c)
        .optional())?)
}

fn draft_exists(operation_id: &str, number: i64) -> Error {
    Error::Conflict(format!(
        "operation `{operation_id}` already has a draft release ({number}): publish or discard it first"
    ))
}

/// Serialises the writers of one operation's releases until the end of the transaction (on
/// PostgreSQL; SQLite has one writer at a time anyway), so that two publications of one draft,
/// or a draft made while another is published, see each other.
pub fn lock(conn: &mut DbConn, operation_id: &str) -> Result<()> {
    conn.lock_keys([format!("release\u{0}{operation_id}").as_str()])
}

/// Stores a new draft and its figures, numbered after every earlier release, in the writer's
/// transaction. `based_on` is the latest published release the figures were computed against:
/// if another was published since, or a draft appeared, nothing is stored (409).
pub fn store_draft(
    conn: &mut DbConn,
    release: &Release,
    cells: &[ReleaseCell],
    based_on: Option<i64>,
    writer: &Writer,
) -> Result<Release> {
    let op = release.operation_id.as_str();
    lock(conn, op)?;
    if let Some(number) = draft(conn, op)? {
        return Err(draft_exists(op, number));
    }
    if latest_published(conn, op)?.map(|r| r.number) != based_on {
        return Err(Error::Conflict(format!(
            "another release of `{op}` was published meanwhile; make the release again"
        )));
    }
    let last: Option<i64> = on_backend!(conn, c => releases::table
        .filter(releases::operation_id.eq(op))
        .select(diesel::dsl::max(releases::number))
        .first(c))?;
    let stored = Release {
        number: last.unwrap_or(0) + 1,
        status: ReleaseStatus::Draft,
        ..release.clone()
    };
    let row = ReleaseRow {
        operation_id: stored.operation_id.clone(),
        number: stored.number,
        kind: <&str>::from(stored.kind).to_string(),
        status: status_name(stored.status).to_string(),
        operation_name: stored.operation_name.clone(),
        as_of_seq: stored.as_of_seq,
        threshold: stored.threshold,
        rounding_base: stored.rounding_base,
        participating_countries: stored.participating_countries,
        created_at: stored.created_at.naive_utc(),
        created_by_sub: writer.sub.clone(),
        created_by_jti: writer.jti.clone(),
        published_at: None,
        published_by_sub: None,
        published_by_jti: None,
    };
    on_backend!(conn, c => diesel::insert_into(releases::table).values(&row).execute(c))?;
    let rows: Vec<CellRow> = cells.iter().map(|cell| CellRow::of(op, stored.number, cell)).collect();
    for chunk in rows.chunks(1000) {
        on_backend!(conn, c => diesel::insert_into(release_cells::table).values(chunk).execute(c))?;
    }
    audit(conn, writer, &stored, AuditAction::Create, 1, summary(&stored))?;
    Ok(stored)
}

/// Marks a draft published by `writer` at `published.published_at`; `payload` (the
/// publication) is what the audit entry commits to.
pub fn mark_published(conn: &mut DbConn, published: &Release, writer: &Writer, payload: String) -> Result<()> {
    let changed = on_backend!(conn, c => diesel::update(releases::table
            .find((published.operation_id.as_str(), published.number))
            .filter(releases::status.eq(status_name(ReleaseStatus::Draft))))
        .set((
            releases::status.eq(status_name(ReleaseStatus::Published)),
            releases::published_at.eq(published.published_at.map(|t| t.naive_utc())),
            releases::published_by_sub.eq(&writer.sub),
            releases::published_by_jti.eq(&writer.jti),
        ))
        .execute(c))?;
    if changed != 1 {
        return Err(Error::Conflict(format!("release {} is not a draft", published.number)));
    }
    audit(conn, writer, published, AuditAction::Publish, 2, payload)
}

/// Deletes a draft and its figures; a published release is never deleted (409).
pub fn discard_draft(conn: &mut DbConn, release: &Release, writer: &Writer) -> Result<()> {
    if release.status != ReleaseStatus::Draft {
        return Err(Error::Conflict(format!(
            "release {} is published: a published release never changes",
            release.number
        )));
    }
    let (op, number) = (release.operation_id.as_str(), release.number);
    on_backend!(conn, c => diesel::delete(release_cells::table
        .filter(release_cells::operation_id.eq(op))
        .filter(release_cells::number.eq(number)))
        .execute(c))?;
    on_backend!(conn, c => diesel::delete(releases::table.find((op, number))).execute(c))?;
    audit(conn, writer, release, AuditAction::Discard, 2, summary(release))
}

fn summary(release: &Release) -> String {
    serde_json::to_string(release).unwrap_or_default()
}

/// Appends the audit entry of a release write (releases are not in the change feed).
fn audit(
    conn: &mut DbConn,
    writer: &Writer,
    release: &Release,
    action: AuditAction,
    version: i64,
    payload: String,
) -> Result<()> {
    let key = release.number.to_string();
    let entry = NewAudit::single(
        writer,
        &release.operation_id,
        "",
        action,
        AuditEntity::Release,
        &key,
        version,
        &payload,
    );
    journal::audit_only(conn, vec![entry])
}
