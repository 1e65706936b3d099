//! The use case of a spreadsheet import. The file has been read into rows before (no
//! connection is held while a file is parsed); here the rows are either only checked (a dry
//! run, or an atomic import with a row that fails a check: nothing is stored) or stored
//! through [`interceptions::push`] — the same use case as a JSON batch, [`CHUNK`] rows per
//! push as a national system pushes batches, so an imported row is idempotent by
//! `external_ref`, audited, in the change feed and in the tallies exactly as a pushed item is,
//! and a file of 100,000 rows costs the memory of a batch at a time — and the import is kept
//! in the history with its file.

use crate::db::imports::NewImport;
use crate::db::interceptions::Key;
use crate::db::{self, DbConn};
use crate::domain::audit::Writer;
use crate::domain::import::history::{ImportCounts, MAX_KEPT_ERRORS};
use crate::domain::import::rows::{self, ReadRows};
use crate::domain::import::{FileFormat, RowError};
use crate::domain::interception::{InterceptionInput, WriteResult};
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
    /// The text encoding of a CSV when it was not UTF-8.
    pub encoding: Option<&'static str>,
    /// Its rows read against the template's columns and checked against the contract.
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
        encoding,
        rows: mut read,
    } = file;
    let row_count = read.rows.len();
    if row_count == 0 {
        return Err(rows::nothing_to_import());
    }
    let mut counts = ImportCounts::default();
    let mut errors: Vec<RowError> = Vec::new();
    let mut stored = false;
    let any_refused = read.rows.iter().any(|r| r.input.is_err());
    if options.dry_run || (options.atomic && any_refused) {
        // Every row was checked when it was read: what remains is to count, and in a dry run
        // to say what each good row would do.
        for row in &mut read.rows {
            if let Err(problems) = std::mem::replace(&mut row.input, Err(Vec::new())) {
                counts.rejected += 1;
                errors.extend(problems);
            }
        }
        if options.dry_run {
            predict(conn, operation_id, &read, &mut counts)?;
        }
    } else {
        stored = push_in_chunks(
            conn,
            operation_id,
            &mut read,
            options.atomic,
            writer,
            may_act_for,
            &mut counts,
            &mut errors,
        )?;
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
            encoding,
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

/// Rows per push: the batch API's own limit, so an import is the sequence of batches a national
/// system would push, and what a push holds in memory stays bounded whatever the file's size.
pub const CHUNK: usize = 1000;

/// Stores the rows through [`interceptions::push`], [`CHUNK`] at a time, each chunk one
/// transaction. Returns whether anything was stored. An atomic import has already passed every
/// check; should a chunk still be refused when written (a tally past its range, the operation
/// closed meanwhile), the chunks after it are not sent and their rows are reported as not
/// stored.
#[allow(clippy::too_many_arguments)]
fn push_in_chunks(
    conn: &mut DbConn,
    operation_id: &str,
    read: &mut ReadRows,
    atomic: bool,
    writer: &Writer,
    may_act_for: MayActFor,
    counts: &mut ImportCounts,
    errors: &mut Vec<RowError>,
) -> Result<bool> {
    let mut stored = false;
    let mut stopped: Option<(usize, String)> = None;
    let mut pending: Vec<Item> = Vec::with_capacity(CHUNK);
    let total = read.rows.len();
    for index in 0..=total {
        if index < total {
            let row = &mut read.rows[index];
            // The input moves into the push; the row keeps what places its problems.
            match std::mem::replace(&mut row.input, Err(Vec::new())) {
                Ok(json) => pending.push(Item {
                    index,
                    key: None,
                    input: content_input(&json, &read.country, row.external_ref.clone()),
                    external_ref: row.external_ref.clone(),
                    if_match: IfMatch::Absent,
                }),
                Err(problems) => {
                    counts.rejected += 1;
                    errors.extend(problems);
                }
            }
        }
        if pending.is_empty() || (pending.len() < CHUNK && index < total) {
            continue;
        }
        let items = std::mem::take(&mut pending);
        let first = items.first().map_or(index, |item| item.index);
        let report = match interceptions::push(conn, operation_id, items, atomic, writer, may_act_for) {
            Ok(report) => report,
            Err(error) if !stored => return Err(error),
            Err(error) => {
                stopped = Some((first, error.problem().detail));
                break;
            }
        };
        for outcome in report.items {
            let row = &read.rows[outcome.index];
            match outcome.outcome {
                Ok(written) if report.stored => match written.result {
                    WriteResult::Created => counts.created += 1,
                    WriteResult::Updated => counts.updated += 1,
                    WriteResult::Unchanged => counts.unchanged += 1,
                    WriteResult::Rejected => counts.rejected += 1,
                },
                Ok(_) => {}
                Err(Error::Validation(problems)) => {
                    counts.rejected += 1;
                    errors.extend(rows::place_errors(row, &problems, &[]));
                }
                Err(Error::Forbidden(why)) => return Err(Error::Forbidden(why)),
                Err(other) => {
                    counts.rejected += 1;
                    errors.push(whole_row(row.row, other.problem().detail));
                }
            }
        }
        if !report.stored {
            stopped = Some((first, "a row of this part of the file was refused when written".into()));
            break;
        }
        stored = true;
    }
    if let Some((first, why)) = stopped {
        let left = read.rows[first..]
            .iter()
            .filter(|r| !errors.iter().any(|e| e.row == r.row))
            .count();
        counts.rejected += left;
        if let Some(row) = read.rows.get(first) {
            errors.push(RowError {
                row: row.row,
                column: String::new(),
                value: String::new(),
                message: format!(
                    "this row and the rows after it ({left} in all) were not stored ({why}); the rows before it were. Send the file again once the problem is put right: stored rows will be unchanged"
                ),
            });
        }
    }
    Ok(stored)
}

/// What each row that passed its checks would do, from what is stored under its reference
/// now: absent, created; the same content, unchanged; retracted or other content, updated.
fn predict(conn: &mut DbConn, operation_id: &str, read: &ReadRows, counts: &mut ImportCounts) -> Result<()> {
    let reference = |row: &rows::ParsedRow| row.external_ref.clone().unwrap_or_default();
    let checked: Vec<(Key, &str)> = read
        .rows
        .iter()
        .filter_map(|row| {
            let hash = row.hash.as_deref()?;
            Some(((read.country.clone(), reference(row)), hash))
        })
        .collect();
    let keys: Vec<Key> = checked.iter().map(|(key, _)| key.clone()).collect();
    let stored = conn.snapshot(|conn| db::interceptions::load_current(conn, operation_id, &keys))?;
    for (key, hash) in &checked {
        match stored.get(key) {
            None => counts.created += 1,
            Some(current) if !current.deleted && current.hash == *hash => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
        }
    }
    Ok(())
}

/// The input of a push from a row's checked content (its canonical JSON), with its key: read
/// as a JSON batch item is read.
fn content_input(json: &str, country: &str, external_ref: Option<String>) -> Result<InterceptionInput> {
    let mut input: InterceptionInput = serde_json::from_str(json).map_err(Error::internal)?;
    input.country = Some(country.to_string());
    input.external_ref = external_ref;
    Ok(input)
}

/// A problem of a row as a whole (no one column at fault).
fn whole_row(row: u32, message: String) -> RowError {
    RowError {
        row,
        column: String::new(),
        value: String::new(),
        message,
    }
}
