//! `/v1/operations/{op}/imports`: a national desk without an automated system reports with a
//! spreadsheet: the template, the upload (checked, or stored through the same use case as a
//! batch push), and the history of what was sent with the files themselves.
//!
//! Scopes: uploading and the template need `interceptions:write` (an import writes
//! interceptions, nothing more); the history and its files need `interceptions:read`. Both with
//! the operation and the country of the import: a token for SN neither imports for GM nor sees
//! GM's imports (another country's import is 404, as any object found by an id of its own).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::QueryParams;
use super::upload::{self, Upload};
use crate::auth::claims::Scope;
use crate::auth::Caller;
use crate::db;
use crate::domain::import::history::{ImportCounts, ImportRecord};
use crate::domain::import::template::{self, TemplateOperation};
use crate::domain::import::{self as sheet, rows, FileFormat, ReadLimits, RowError};
use crate::domain::interception::window;
use crate::domain::{country, page};
use crate::error::{Error, FieldError, Result};
use crate::service::imports::{self as use_case, ImportOptions, ReadFile};
use crate::AppState;
use chrono::{DateTime, Utc};

/// Query of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The country the file reports for (ISO 3166-1 alpha-2); may be left out by a token for
    /// one country only.
    pub country: Option<String>,
    /// `true`: check every row and say what would happen; store nothing, keep no history.
    pub dry_run: Option<bool>,
    /// Default `true`: a file with any bad row stores nothing. `false`: the good rows are
    /// stored and the bad ones reported.
    pub atomic: Option<bool>,
    /// The file's name, for the history, when the body is the raw file.
    pub file_name: Option<String>,
}

/// A file, as bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// What became of an import (or, in a dry run, what would).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// The import's id in the history; absent for a dry run.
    pub id: Option<i64>,
    /// Whether this was a dry run (nothing stored, whatever the counts say would happen).
    pub dry_run: bool,
    /// Whether it was all or nothing.
    pub atomic: bool,
    /// Whether anything was stored. `false` for a dry run and for an atomic import with a bad row.
    pub stored: bool,
    /// The operation.
    pub operation_id: String,
    /// The country reported for.
    pub country: String,
    /// The file's name.
    pub file_name: String,
    /// What the file was.
    pub format: FileFormat,
    /// The text encoding of a CSV file when it was not UTF-8 (`windows-1252`).
    pub encoding: Option<String>,
    /// The file's size in bytes.
    pub size_bytes: usize,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// Rows read under the header (the example row left out).
    pub rows: usize,
    /// Row numbers left out because they are the template's example row.
    pub skipped_rows: Vec<u32>,
    /// How many rows were (or would be) created, updated, unchanged or refused.
    pub summary: ImportCounts,
    /// How many problems were found in all.
    pub error_count: usize,
    /// Every problem of every row (up to 10,000), by row: row number as the spreadsheet shows
    /// it, column, the value found, and what is wrong.
    pub errors: Vec<RowError>,
}

/// Query of the import history.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListImportsQuery {
    /// Only this country.
    pub country: Option<String>,
    /// Items per page, 1 to 1,000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of the import history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportPage {
    /// The imports, newest first, without their row problems.
    pub items: Vec<ImportRecord>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Query of the template.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// The country of an import: the one named, or the token's only country.
fn country_of(caller: &Caller, named: Option<&str>) -> Result<String> {
    let code = match named {
        Some(code) => country::parameter("country", code)?,
        None => match caller.countries.filter().as_deref() {
            Some([only]) => only.clone(),
            _ => {
                return Err(Error::bad_parameter(
                    "country",
                    "name the country the file reports for (country=SN)",
                ))
            }
        },
    };
    caller.require_country(&code)?;
    Ok(code)
}

/// Import a spreadsheet of interceptions.
///
/// The body is the file. The document describes it as `application/octet-stream`, the one media
/// type every client generator handles (the file says whether it is CSV, XLSX or ODS); the
/// service also takes it as `text/csv`, with the XLSX or ODS media type, or as the part named
/// `file` of a `multipart/form-data` form (what a browser form sends). CSV may be UTF-8 (with or
/// without a byte-order mark) or Windows-1252, separated by `,` or `;`. Every problem of every
/// row is reported at once, by row number (as the spreadsheet shows it), column, value and
/// message. `dry_run=true` checks everything and stores nothing. A real import is atomic by
/// default: a file with any bad row stores nothing (422 naming every problem, with pointers
/// `/rows/{row}/{column}`); with `atomic=false` the good rows are stored and the bad ones
/// reported. Rows are stored through the same write as a batch push: idempotent by
/// `external_ref` (the same file again changes nothing; a corrected file updates only the
/// corrected rows), audited, in the change feed and in the tallies. The operation must be
/// `active` (else 409). Real imports are kept in the history with their file.
#[utoipa::path(
    tag = "imports",
    operation_id = "create_import",
    request_body(description = "The spreadsheet's bytes (CSV, XLSX or ODS; also accepted as `text/csv`, \
        with the XLSX or ODS media type, or as the `file` part of `multipart/form-data`)",
        content((FileBytes = "application/octet-stream"))),
    security(("bearer" = ["interceptions:write"])),
    params(("op" = String, Path, description = "Operation id"), ImportQuery),
    responses(
        (status = 201, description = "Imported (all rows, or with `atomic=false` the good ones): the report",
            body = ImportReport, headers(("Location" = String, description = "The import in the history"))),
        (status = 200, description = "A dry run: what would happen, nothing stored", body = ImportReport),
        super::problems::WriteErrors,
    )
)]
#[post("/operations/{op}/imports")]
pub async fn create_import(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<ImportQuery>,
    body: Upload,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsWrite, &op)?;
    let query = query.checked_for(&caller)?;
    let country = country_of(&caller, query.country.as_deref())?;
    let settings = &state.settings;
    let sent = body
        .read(
            settings.import_max_bytes,
            Duration::from_secs(settings.body_timeout_secs),
        )
        .await?;
    let limits = ReadLimits {
        max_rows: settings.import_max_rows,
        max_unpacked_bytes: settings.import_max_unpacked_bytes,
    };
    let file_name = sent
        .name
        .clone()
        .or(query.file_name.clone())
        .map(|n| upload::clean_name(&n))
        .filter(|n| !n.is_empty());
    let declared = sent
        .declared
        .or_else(|| query.file_name.as_deref().and_then(upload::declared_by_name));
    let parse_country = country.clone();
    let operation_id = op.clone();
    let operation = state
        .db
        .run(move |conn| db::operations::get_bare(conn, &operation_id))
        .await?;
    let days = window(operation.starts_on, operation.ends_on);
    // Reading a file is CPU work: on the blocking pool, with no connection held.
    let file = web::block(move || read_file(sent.bytes, declared, file_name, &parse_country, limits, days)).await??;
    let options = ImportOptions {
        dry_run: query.dry_run.unwrap_or(false),
        atomic: query.atomic.unwrap_or(true),
    };
    let mut report = ImportReport {
        id: None,
        dry_run: options.dry_run,
        atomic: options.atomic,
        stored: false,
        operation_id: op.clone(),
        country: country.clone(),
        file_name: file.file_name.clone(),
        format: file.format,
        encoding: file.encoding.map(str::to_string),
        size_bytes: file.bytes.len(),
        sha256: file.sha256.clone(),
        rows: file.rows.rows.len(),
        skipped_rows: file.rows.skipped.clone(),
        summary: ImportCounts::default(),
        error_count: 0,
        errors: Vec::new(),
    };
    let who = caller.clone();
    let operation_id = op.clone();
    let outcome = state
        .db
        .run(move |conn| {
            use_case::import(conn, &operation_id, &country, file, options, &who.writer(), &|c| {
                who.may_act_for(c)
            })
        })
        .await?;
    report.id = outcome.id;
    report.stored = outcome.stored;
    report.summary = outcome.counts;
    report.error_count = outcome.error_count;
    report.errors = outcome.errors;
    let metrics = &crate::observe::METRICS;
    if outcome.stored {
        metrics.ingested("created", report.summary.created as u64);
        metrics.ingested("updated", report.summary.updated as u64);
        metrics.ingested("unchanged", report.summary.unchanged as u64);
        metrics.ingested("rejected", report.summary.rejected as u64);
    }
    if options.dry_run {
        return Ok(HttpResponse::Ok().json(&report));
    }
    if !outcome.stored {
        return Err(refused(&report));
    }
    let location = format!("/v1/operations/{op}/imports/{}", report.id.unwrap_or_default());
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(&report))
}

/// Reads a sent file into rows: its format (checked against what it was sent as), its sheet,
/// its rows, each checked against the contract and the operation's days `days`.
fn read_file(
    bytes: Vec<u8>,
    declared: Option<FileFormat>,
    file_name: Option<String>,
    country: &str,
    limits: ReadLimits,
    days: (DateTime<Utc>, DateTime<Utc>),
) -> Result<ReadFile> {
    use sha2::{Digest, Sha256};
    if bytes.is_empty() {
        return Err(Error::invalid("/file", "the file is empty"));
    }
    let format = sheet::format_of(&bytes, declared)?;
    let mut reader = rows::RowReader::new(country, days);
    sheet::read_into(format, &bytes, limits, &mut reader)?;
    let rows = reader.finish();
    let encoding = rows.encoding;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(ReadFile {
        file_name: file_name.unwrap_or_else(|| format!("import.{}", format.as_str())),
        format,
        bytes,
        sha256,
        encoding,
        rows,
    })
}

/// The 422 of an atomic import that stored nothing: every problem, pointed at
/// `/rows/{row}/{column}`, the value in the message.
fn refused(report: &ImportReport) -> Error {
    let mut errors: Vec<FieldError> = report
        .errors
        .iter()
        .map(|e| {
            let message = if e.value.is_empty() {
                e.message.clone()
            } else {
                format!("{} (found `{}`)", e.message, e.value)
            };
            FieldError::at(format!("/rows/{}/{}", e.row, e.column), message)
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::at("/rows", "the import stored nothing"));
    }
    let rows: std::collections::BTreeSet<u32> = report.errors.iter().map(|e| e.row).collect();
    let id = report
        .id
        .map(|id| format!(" (import {id} in the history)"))
        .unwrap_or_default();
    errors.insert(
        0,
        FieldError::at(
            "/rows",
            format!(
                "{} of {} rows have problems, so nothing was stored{id}; put them right and send the file again, or send it with atomic=false to store the good rows",
                rows.len(),
                report.rows
            ),
        ),
    );
    Error::Validation(errors)
}

/// List the imports of an operation.
///
/// Newest first, a page at a time, without their row problems; a token sees the imports of its
/// own countries only.
#[utoipa::path(
    tag = "imports",
    operation_id = "list_imports",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), ListImportsQuery),
    responses(
        (status = 200, description = "One page of imports", body = ImportPage),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/imports")]
pub async fn list_imports(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<ListImportsQuery>,
) -> Result<web::Json<ImportPage>> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let query = query.checked_for(&caller)?;
    let limit = page::limit(query.limit)?;
    let before = page::decode_id_cursor(query.cursor.as_deref(), "an import")?;
    let countries = caller.countries_shown(query.country.as_deref())?;
    let rows = state
        .db
        .run(move |conn| {
            db::operations::require_exists(conn, &op)?;
            db::imports::list(conn, &op, countries.as_deref(), before, limit + 1)
        })
        .await?;
    let (items, next_cursor) = page::finish(rows, limit, |i| i.id.to_string());
    Ok(web::Json(ImportPage { items, next_cursor }))
}

/// Read one import.
///
/// Who sent it and when, the file's name, size and SHA-256, how many rows it had and what
/// became of them, and every problem of every row. With `Accept: text/csv`, the problems alone
/// as CSV (row, column, value, message) for the desk to work through; cells a spreadsheet
/// would take for a formula are neutralised with a leading `'`.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), ("id" = i64, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import (JSON), or its problems as CSV with Accept: text/csv",
            content((ImportRecord = "application/json"), (String = "text/csv"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/imports/{id}")]
pub async fn get_import(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse> {
    let (op, id) = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let record = state.db.run(move |conn| db::imports::get(conn, &op, id)).await?;
    if !caller.countries.allows(&record.country) {
        return Err(db::imports::not_found(&record.operation_id, id));
    }
    let wants_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return Ok(HttpResponse::Ok().json(&record));
    }
    let mut table = vec![["row", "column", "value", "message"].map(String::from).to_vec()];
    for e in record.errors.iter().flatten() {
        table.push(vec![
            e.row.to_string(),
            e.column.clone(),
            e.value.clone(),
            e.message.clone(),
        ]);
    }
    let body = sheet::csv::write(&table)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"import-{id}-problems.csv\""),
        ))
        .body(body))
}

/// Download the file of an import.
///
/// The file exactly as it was sent, for its country and the secretariat.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import_file",
    security(("bearer" = ["interceptions:read"])),
    params(("op" = String, Path, description = "Operation id"), ("id" = i64, Path, description = "Import id")),
    responses(
        (status = 200, description = "The file as sent",
            content((String = "text/csv"),
                (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (FileBytes = "application/vnd.oasis.opendocument.spreadsheet"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/imports/{id}/file")]
pub async fn get_import_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse> {
    let (op, id) = path.into_inner();
    caller.require_in(Scope::InterceptionsRead, &op)?;
    let operation = op.clone();
    let (country, name, format, bytes) = state
        .db
        .run(move |conn| db::imports::file(conn, &operation, id))
        .await?;
    if !caller.countries.allows(&country) {
        return Err(db::imports::not_found(&op, id));
    }
    let format = FileFormat::parse(&format).unwrap_or(FileFormat::Csv);
    Ok(attachment(format, &name, bytes))
}

/// A file to download under `name`.
fn attachment(format: FileFormat, name: &str, bytes: Vec<u8>) -> HttpResponse {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    HttpResponse::Ok()
        .content_type(match format {
            FileFormat::Csv => "text/csv; charset=utf-8",
            other => other.media_type(),
        })
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes)
}

/// Download the import template of an operation.
///
/// XLSX (default): the `interceptions` sheet with one column per field a desk fills in, a note
/// on each heading, an example row (never stored), drop-down lists and number checks; a `codes`
/// sheet with every code a cell may hold; an `about` sheet stating the operation's window and
/// the time-zone rule. CSV: the header and the example row.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import_template",
    security(("bearer" = ["interceptions:write"])),
    params(("op" = String, Path, description = "Operation id"), TemplateQuery),
    responses(
        (status = 200, description = "The template",
            content((FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
        super::problems::QueryErrors,
    )
)]
#[get("/operations/{op}/imports/template")]
pub async fn get_import_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: QueryParams<TemplateQuery>,
) -> Result<HttpResponse> {
    let op = path.into_inner();
    caller.require_in(Scope::InterceptionsWrite, &op)?;
    let query = query.checked()?;
    let format = match query.format.as_deref() {
        None | Some("xlsx") => FileFormat::Xlsx,
        Some("csv") => FileFormat::Csv,
        Some(other) => return Err(Error::bad_parameter("format", format!("`{other}`: use xlsx or csv"))),
    };
    let operation = state.db.run(move |conn| db::operations::get_bare(conn, &op)).await?;
    let about = TemplateOperation {
        id: operation.id.clone(),
        name: operation.name.clone(),
        starts_on: operation.starts_on,
        ends_on: operation.ends_on,
    };
    let bytes = web::block(move || match format {
        FileFormat::Xlsx => template::xlsx(&about),
        _ => template::csv(&about),
    })
    .await??;
    let name = format!("{}-import-template.{}", operation.id, format.as_str());
    Ok(attachment(format, &name, bytes))
}
