//! Queries for the `imports` table: the history of spreadsheet imports and their files.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::imports;
use super::{corrupt, DbConn};
use crate::domain::import::history::{ImportCounts, ImportRecord};
use crate::domain::import::{FileFormat, RowError};
use crate::error::{Error, Result};
use crate::on_backend;

/// An import to keep.
#[derive(Debug, Insertable)]
#[diesel(table_name = imports)]
pub struct NewImport<'a> {
    /// The operation.
    pub operation_id: &'a str,
    /// The country reported for.
    pub country: &'a str,
    /// When it was received.
    pub created_at: NaiveDateTime,
    /// `sub` of the sender's token.
    pub created_by_sub: &'a str,
    /// `jti` of the sender's token.
    pub created_by_jti: &'a str,
    /// The file's name.
    pub file_name: &'a str,
    /// `csv`, `xlsx` or `ods`.
    pub format: &'a str,
    /// A CSV's encoding when not UTF-8.
    pub encoding: Option<&'a str>,
    /// The file's size.
    pub size_bytes: i64,
    /// SHA-256 (hex) of the file.
    pub sha256: &'a str,
    /// All or nothing.
    pub atomic: bool,
    /// Whether anything was stored.
    pub stored: bool,
    /// Rows read.
    pub row_count: i32,
    /// Rows created.
    pub created: i32,
    /// Rows updated.
    pub updated: i32,
    /// Rows unchanged.
    pub unchanged: i32,
    /// Rows refused.
    pub rejected: i32,
    /// Example rows left out.
    pub skipped: i32,
    /// Problems found.
    pub error_count: i32,
    /// The problems kept, as JSON.
    pub errors: String,
    /// The file.
    pub content: &'a [u8],
}

/// One row of `imports` without the file.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = imports)]
struct ImportRow {
    id: i64,
    operation_id: String,
    country: String,
    created_at: NaiveDateTime,
    created_by_sub: String,
    file_name: String,
    format: String,
    encoding: Option<String>,
    size_bytes: i64,
    sha256: String,
    atomic: bool,
    stored: bool,
    row_count: i32,
    created: i32,
    updated: i32,
    unchanged: i32,
    rejected: i32,
    skipped: i32,
    error_count: i32,
}

impl ImportRow {
    fn into_record(self, errors: Option<Vec<RowError>>) -> Result<ImportRecord> {
        let count = |n: i32| usize::try_from(n).unwrap_or_default();
        Ok(ImportRecord {
            id: self.id,
            format: FileFormat::parse(&self.format).ok_or_else(|| corrupt("import format", &self.format))?,
            operation_id: self.operation_id,
            country: self.country,
            created_at: self.created_at.and_utc(),
            created_by: self.created_by_sub,
            file_name: self.file_name,
            encoding: self.encoding,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            atomic: self.atomic,
            stored: self.stored,
            rows: count(self.row_count),
            summary: ImportCounts {
                created: count(self.created),
                updated: count(self.updated),
                unchanged: count(self.unchanged),
                rejected: count(self.rejected),
            },
            skipped: count(self.skipped),
            error_count: count(self.error_count),
            errors,
        })
    }
}

/// Keeps an import; returns its id.
pub fn insert(conn: &mut DbConn, new: &NewImport<'_>) -> Result<i64> {
    let id = on_backend!(conn, c => diesel::insert_into(imports::table)
        .values(new)
        .returning(imports::id)
        .get_result(c))?;
    Ok(id)
}

/// The imports of an operation, newest first, only of `countries` when given, after the id
/// `before` (a cursor), at most `limit`.
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    countries: Option<&[String]>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ImportRecord>> {
    let rows: Vec<ImportRow> = on_backend!(conn, c => {
        let mut query = imports::table
            .filter(imports::operation_id.eq(operation_id))
            .select(ImportRow::as_select())
            .order(imports::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(imports::country.eq_any(countries.to_vec()));
        }
        if let Some(before) = before {
            query = query.filter(imports::id.lt(before));
        }
        query.load(c)
    })?;
    rows.into_iter().map(|row| row.into_record(None)).collect()
}

/// One import with its row problems (404 if the operation has no such import).
pub fn get(conn: &mut DbConn, operation_id: &str, id: i64) -> Result<ImportRecord> {
    let found: Option<(ImportRow, String)> = on_backend!(conn, c => imports::table
        .filter(imports::operation_id.eq(operation_id))
        .filter(imports::id.eq(id))
        .select((ImportRow::as_select(), imports::errors))
        .first(c)
        .optional())?;
    let (row, errors) = found.ok_or_else(|| not_found(operation_id, id))?;
    let errors: Vec<RowError> =
        serde_json::from_str(&errors).map_err(|_| corrupt("import errors", &row.id.to_string()))?;
    row.into_record(Some(errors))
}

/// The country, name, format and bytes of an import's file (404 if there is no such import).
pub fn file(conn: &mut DbConn, operation_id: &str, id: i64) -> Result<(String, String, String, Vec<u8>)> {
    let found = on_backend!(conn, c => imports::table
        .filter(imports::operation_id.eq(operation_id))
        .filter(imports::id.eq(id))
        .select((imports::country, imports::file_name, imports::format, imports::content))
        .first::<(String, String, String, Vec<u8>)>(c)
        .optional())?;
    found.ok_or_else(|| not_found(operation_id, id))
}

/// The 404 of an import that does not exist or is out of the caller's reach.
pub fn not_found(operation_id: &str, id: i64) -> Error {
    Error::NotFound(format!("operation `{operation_id}` has no import {id}"))
}
