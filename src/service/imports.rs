//! The use case of a spreadsheet import. The file has been read into rows before (no
//! connection is held while a file is parsed); here the rows are either only checked (a dry
//! run, or an atomic import with a row that could not be read) or stored through
//! [`interceptions::push`] — the same use case as a JSON batch, so an imported row is
//! idempotent by `external_ref`, audited, in the change feed and in the tallies exactly as a
//! pushed item is — and the import is kept in the history with its file.

use std::collections::HashMap;

use crate::db::imports::NewImport;
use crate::db::{self, DbConn};
use crate::domain::audit::Writer;
use crate::domain::import::history::{ImportCounts, MAX_KEPT_ERRORS};
use crate::domain::import::rows::{self, ReadRows};
use crate::domain::import::{FileFormat, RowError, Sheet};
use crate::domain::interception::{window, WriteResult};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};
use crate::service::interceptions::{self, Item, MayActFor};

/// A file read into rows, ready to be imported.
#[derive(Debug)]
pub struct ReadFile {
    /// The file's name as sent.
    pub file_name: String,
    /// What it is.
    pub format: FileFormat,
    /// The file.
    pub bytes: Vec<u8>,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// The file read as a table.
    pub sheet: Sheet,
    /// Its rows read against the template's columns.
    pub rows: ReadRows,
}

/// What was asked of an import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Check everything, store nothing, keep no history.
    pub dry_run: bool,
    /// All rows or none.
    pub atomic: bool,
}

/// What became of an import.
#[derive(Debug)]
pub struct ImportOutcome {
    /// Its id in the history (`None` for a dry run).
    pub id: Option<i64>,
    /// Whether anything was stored.
    pub stored: bool,
    /// Rows read (the example row left out).
    pub rows: usize,
    /// Example rows left out.
    pub skipped: Vec<u32>,
    /// How many rows did (or, in a dry run, would do) what.
    pub counts: ImportCounts,
    /// How many problems were found.
    pub error_count: usize,
    /// The problems, by row then column (at most [`MAX_KEPT_ERRORS`]).
    pub errors: Vec<RowError>,
}

/// Imports the rows of `file` for `country` in operation `operation_id`. The caller has
/// checked that it may act for `country`; `may_act_for` is asked again by the push.
pub fn import(
    conn: &mut DbConn,
    operation_id: &str,
    country: &str,
    file: ReadFile,
    options: ImportOptions,
    writer: &Writer,
    may_act_for: MayActFor,
) -> Result<ImportOutcome> {
    let operation = db::operations::get_bare(conn, operation_id)?;
    operation.require_active()?;
    let ReadFile {
        file_name,
        format,
        bytes,
        sha256,
        sheet,
        rows: mut read,
    } = file;
    let row_count = read.rows.len();
    if row_count == 0 {
        return Err(rows::nothing_to_import());
    }
    let any_unreadable = read.rows.iter().any(|r| r.input.is_err());
    let mut counts = ImportCounts::default();
    let mut errors: Vec<RowError> = Vec::new();
    let mut stored = false;
    if options.dry_run || (options.atomic && any_unreadable) {
        check_only(
            conn,
            operation_id,
            &operation,
            &sheet,
            &mut read,
            options.dry_run,
            &mut counts,
            &mut errors,
        )?;
    } else {
        let mut items = Vec::with_capacity(row_count);
        for (index, row) in read.rows.iter_mut().enumerate() {
            // The input moves into the push; the row keeps what places its problems.
            match std::mem::replace(&mut row.input, Err(Vec::new())) {
                Ok(input) => items.push(Item {
                    index,
                    key: None,
                    input: Ok(input),
                    external_ref: row.external_ref.clone(),
                    if_match: IfMatch::Absent,
                }),
                Err(problems) => {
                    counts.rejected += 1;
                    errors.extend(problems);
                }
            }
        }
        let report = interceptions::push(conn, operation_id, items, options.atomic, writer, may_act_for)?;
        stored = report.stored;
        for outcome in report.items {
            let row = &read.rows[outcome.index];
            match outcome.outcome {
                Ok(written) if stored => match written.result {
                    WriteResult::Created => counts.created += 1,
                    WriteResult::Updated => counts.updated += 1,
                    WriteResult::Unchanged => counts.unchanged += 1,
                    WriteResult::Rejected => counts.rejected += 1,
                },
                Ok(_) => {}
                Err(Error::Validation(problems)) => {
                    counts.rejected += 1;
                    errors.extend(rows::place_errors(&sheet, &read, row, &problems));
                }
                Err(Error::Forbidden(why)) => return Err(Error::Forbidden(why)),
                Err(other) => {
                    counts.rejected += 1;
                    errors.push(RowError {
                        row: row.row,
                        column: String::new(),
                        value: String::new(),
                        message: other.problem().detail,
                    });
                }
            }
        }
    }
    errors.sort_by_key(|e| e.row);
    let error_count = errors.len();
    errors.truncate(MAX_KEPT_ERRORS);
    let id = if options.dry_run {
        None
    } else {
        let at = db::now();
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        let errors_json = serde_json::to_string(&errors).map_err(Error::internal)?;
        let new = NewImport {
            operation_id,
            country,
            created_at: at,
            created_by_sub: &writer.sub,
            created_by_jti: &writer.jti,
            file_name: &file_name,
            format: format.as_str(),
            encoding: sheet.encoding,
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            sha256: &sha256,
            atomic: options.atomic,
            stored,
            row_count: count(row_count),
            created: count(counts.created),
            updated: count(counts.updated),
            unchanged: count(counts.unchanged),
            rejected: count(counts.rejected),
            skipped: count(read.skipped.len()),
            error_count: count(error_count),
            errors: errors_json,
            content: &bytes,
        };
        Some(conn.write(|conn| db::imports::insert(conn, &new))?)
    };
    Ok(ImportOutcome {
        id,
        stored,
        rows: row_count,
        skipped: read.skipped,
        counts,
        error_count,
        errors,
    })
}

/// Checks every row against the contract without storing anything; with `predict`, reads
/// what is stored under the rows' references to say what each would do.
#[allow(clippy::too_many_arguments)]
fn check_only(
    conn: &mut DbConn,
    operation_id: &str,
    operation: &crate::domain::operation::Operation,
    sheet: &Sheet,
    read: &mut ReadRows,
    predict: bool,
    counts: &mut ImportCounts,
    errors: &mut Vec<RowError>,
) -> Result<()> {
    let days = window(operation.starts_on, operation.ends_on);
    let mut checked = Vec::with_capacity(read.rows.len());
    for index in 0..read.rows.len() {
        let input = std::mem::replace(&mut read.rows[index].input, Err(Vec::new()));
        let row = &read.rows[index];
        match input {
            Err(problems) => {
                counts.rejected += 1;
                errors.extend(problems);
            }
            Ok(input) => match input.check(None, days) {
                Ok(interception) => checked.push(interception),
                Err(Error::Validation(problems)) => {
                    counts.rejected += 1;
                    errors.extend(rows::place_errors(sheet, read, row, &problems));
                }
                Err(other) => return Err(other),
            },
        }
    }
    if !predict {
        return Ok(());
    }
    let keys: Vec<(String, String)> = checked
        .iter()
        .map(|c| (c.country.clone(), c.external_ref.clone()))
        .collect();
    let stored = conn.snapshot(|conn| db::interceptions::load_current(conn, operation_id, &keys))?;
    // Later rows of the same reference were refused as duplicates: one row per key here.
    let mut seen: HashMap<&(String, String), ()> = HashMap::new();
    for (interception, key) in checked.iter().zip(&keys) {
        if seen.insert(key, ()).is_some() {
            continue;
        }
        match stored.get(key) {
            None => counts.created += 1,
            Some(current) if !current.deleted && current.hash == interception.content.hash => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
        }
    }
    Ok(())
}
