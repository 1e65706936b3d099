//! Spreadsheet imports: a national desk's file (CSV, XLSX, ODS) read into the same
//! [`InterceptionInput`](crate::domain::interception::InterceptionInput) items a JSON batch
//! builds, with every problem of every row reported at once by row and column.
//!
//! Reading is in two steps, both pure: a file becomes a [`Sheet`] (a header and sparse rows of
//! [`Cell`]s, whatever the format: [`csv`], [`xlsx`], [`ods`], after [`zipped::guard`] has
//! bounded what a zipped file may expand to), then [`rows`] reads each row against the
//! template's [`columns`]. [`template`] writes the template those columns come from.

pub mod columns;
pub mod csv;
pub mod history;
pub mod ods;
pub mod rows;
pub mod template;
pub mod xlsx;
pub mod zipped;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, FieldError};

/// One cell as the file holds it, before it is read against its column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (every CSV cell; a text cell of a workbook).
    Text(String),
    /// A number, as a workbook stores it (a formula's cached result included).
    Number(f64),
    /// A true/false cell.
    Bool(bool),
    /// A cell the workbook formats as a date (its serial already turned into a date and time).
    Date(NaiveDateTime),
    /// An error value of a workbook (`#DIV/0!`, `#REF!`...).
    Error(String),
}

impl Cell {
    /// The cell as the desk sees it, for error reports.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(at) => at.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A number written without a trailing `.0` when it is whole.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One row of a sheet: its number as the spreadsheet shows it (the header is row 1 in a file
/// that starts with it) and its non-empty cells by column position.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// The row number a spreadsheet program shows (1-based, counting the header).
    pub number: u32,
    /// Non-empty cells: (column position, value).
    pub cells: Vec<(usize, Cell)>,
}

/// A file read as a table: the header's column names and the rows under it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sheet {
    /// The column names of the header row, as written (trimmed).
    pub header: Vec<String>,
    /// The row number of the header.
    pub header_row: u32,
    /// The rows under the header that hold anything, in order.
    pub rows: Vec<SheetRow>,
    /// Whether numbers written as text may use a decimal comma (`14,42`): a `;`-separated CSV.
    pub decimal_comma: bool,
    /// How the file's text was encoded, when it was not UTF-8 (`windows-1252`).
    pub encoding: Option<&'static str>,
}

/// The formats a file may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FileFormat {
    /// Comma- or semicolon-separated text.
    Csv,
    /// Office Open XML workbook (Excel).
    Xlsx,
    /// OpenDocument spreadsheet (LibreOffice, OpenOffice).
    Ods,
}

impl FileFormat {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The media type of the format.
    pub fn media_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv",
            FileFormat::Xlsx => XLSX_MEDIA_TYPE,
            FileFormat::Ods => ODS_MEDIA_TYPE,
        }
    }

    /// The format a stored spelling names.
    pub fn parse(name: &str) -> Option<FileFormat> {
        match name {
            "csv" => Some(FileFormat::Csv),
            "xlsx" => Some(FileFormat::Xlsx),
            "ods" => Some(FileFormat::Ods),
            _ => None,
        }
    }
}

/// The media type of an XLSX workbook.
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of an ODS spreadsheet.
pub const ODS_MEDIA_TYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";

/// What reading a file may cost.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Most data rows (under the header) a file may hold; more is 413.
    pub max_rows: usize,
    /// Most bytes the parts of a zipped file (XLSX, ODS) may expand to, all together.
    pub max_unpacked_bytes: u64,
}

/// One problem of one row: where it is, what was there and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct RowError {
    /// The row number as the spreadsheet shows it (the header is row 1).
    pub row: u32,
    /// The column's name (its header), or `""` for the row as a whole.
    pub column: String,
    /// The value found in the cell, as the spreadsheet shows it (empty when the cell is empty).
    pub value: String,
    /// What is wrong and how to put it right.
    pub message: String,
}

/// A whole-file problem (422) with a pointer naming the part of the file at fault.
pub fn file_problem(pointer: &str, message: impl Into<String>) -> Error {
    Error::Validation(vec![FieldError::at(pointer, message)])
}

/// Sniffs what a file is from its first bytes: a ZIP archive is XLSX or ODS (told apart by
/// its parts), anything else is taken for text.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Sniffed::Zip
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Sniffed::OldExcel
    } else if bytes.starts_with(b"%PDF") {
        Sniffed::Other("a PDF document")
    } else if bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"\xFF\xD8\xFF") || bytes.starts_with(b"GIF8") {
        Sniffed::Other("an image")
    } else if bytes.starts_with(b"\x1F\x8B") {
        Sniffed::Other("a gzip archive")
    } else {
        Sniffed::Text
    }
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A ZIP archive (XLSX or ODS).
    Zip,
    /// A legacy Excel 97-2003 workbook (`.xls`), which is not accepted.
    OldExcel,
    /// Something recognisably not a spreadsheet.
    Other(&'static str),
    /// Anything else: read as CSV text.
    Text,
}

/// Reads a file of a known format into `sink` a row at a time, with every guard of its format.
pub fn read_into(format: FileFormat, bytes: &[u8], limits: ReadLimits, sink: &mut dyn RowSink) -> Result<(), Error> {
    match format {
        FileFormat::Csv => csv::read_into(bytes, limits, sink),
        FileFormat::Xlsx => xlsx::read_into(bytes, limits, sink),
        FileFormat::Ods => ods::read_into(bytes, limits, sink),
    }
}

/// Reads a whole file of a known format into a sheet (for tests and tools; imports read
/// through [`read_into`]).
pub fn read(format: FileFormat, bytes: &[u8], limits: ReadLimits) -> Result<Sheet, Error> {
    let mut sheet = Sheet::default();
    read_into(format, bytes, limits, &mut sheet)?;
    Ok(sheet)
}

/// The format of a file: from what it is (its first bytes, its parts) checked against what
/// the client said it is (`declared`, from the media type or the file name's ending).
/// A file that is not what its type says is refused (415), naming both.
pub fn format_of(bytes: &[u8], declared: Option<FileFormat>) -> Result<FileFormat, Error> {
    let actual = match sniff(bytes) {
        Sniffed::Zip => zipped::kind(bytes)?,
        Sniffed::OldExcel => {
            return Err(Error::UnsupportedMediaType(
                "this is an Excel 97-2003 workbook (.xls); save it as .xlsx (Excel Workbook) or CSV UTF-8 and send it again"
                    .into(),
            ))
        }
        Sniffed::Other(what) => {
            return Err(Error::UnsupportedMediaType(format!(
                "the file is {what}, not a spreadsheet; send CSV, XLSX or ODS"
            )))
        }
        Sniffed::Text => FileFormat::Csv,
    };
    match declared {
        Some(said) if said != actual => Err(Error::UnsupportedMediaType(format!(
            "the file was sent as {} but is {}; send it with its own type",
            said.as_str().to_uppercase(),
            actual.as_str().to_uppercase()
        ))),
        _ => Ok(actual),
    }
}

/// 422 once a file holds more data rows than the limit allows.
fn check_row_count(rows: usize, limits: ReadLimits) -> Result<(), Error> {
    if rows > limits.max_rows {
        return Err(file_problem(
            "/file",
            format!(
                "the file holds more than {} rows; split it into several files",
                limits.max_rows
            ),
        ));
    }
    Ok(())
}

/// Most columns a header may have: the template has fewer than 50.
pub const MAX_COLUMNS: usize = 200;

/// What a reader knows of a file before its rows: how its text reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SheetInfo {
    /// Whether numbers written as text may use a decimal comma (`14,42`): a `;`-separated CSV.
    pub decimal_comma: bool,
    /// How the file's text was encoded, when it was not UTF-8 (`windows-1252`).
    pub encoding: Option<&'static str>,
}

/// Where a reader hands the rows of a file, one at a time, so a large file is never held as a
/// whole grid: [`Sheet`] collects them (tests, tools), `rows::RowReader` reads each into an
/// interception as it comes.
pub trait RowSink {
    /// The header row: its names as written (trimmed), its number, and how the file reads.
    fn header(&mut self, names: Vec<String>, number: u32, info: SheetInfo) -> Result<(), Error>;
    /// One row under the header that holds anything.
    fn row(&mut self, row: SheetRow) -> Result<(), Error>;
}

impl RowSink for Sheet {
    fn header(&mut self, names: Vec<String>, number: u32, info: SheetInfo) -> Result<(), Error> {
        self.header = names;
        self.header_row = number;
        self.decimal_comma = info.decimal_comma;
        self.encoding = info.encoding;
        Ok(())
    }

    fn row(&mut self, row: SheetRow) -> Result<(), Error> {
        self.rows.push(row);
        Ok(())
    }
}

/// Hands rows to a [`RowSink`] as a reader meets them, holding the limits: the first row that
/// holds anything is the header; no more than [`ReadLimits::max_rows`] rows under it; no value
/// in a column without a heading (which also bounds what a row can cost).
pub struct SheetBuilder<'a> {
    sink: &'a mut dyn RowSink,
    limits: ReadLimits,
    info: SheetInfo,
    width: Option<usize>,
    rows: usize,
}

impl<'a> SheetBuilder<'a> {
    /// Rows of a file that reads as `info`, for `sink`, under these limits.
    pub fn new(sink: &'a mut dyn RowSink, limits: ReadLimits, info: SheetInfo) -> SheetBuilder<'a> {
        SheetBuilder {
            sink,
            limits,
            info,
            width: None,
            rows: 0,
        }
    }

    /// Adds the row numbered `number` (as a spreadsheet shows it) with its non-empty cells.
    pub fn row(&mut self, number: u32, cells: Vec<(usize, Cell)>) -> Result<(), Error> {
        if cells.is_empty() {
            return Ok(());
        }
        let Some(width) = self.width else {
            let width = cells.iter().map(|(col, _)| col + 1).max().unwrap_or(0);
            if width > MAX_COLUMNS {
                return Err(file_problem(
                    "/header",
                    format!("the header row (row {number}) has more than {MAX_COLUMNS} columns"),
                ));
            }
            let mut header = vec![String::new(); width];
            for (col, cell) in cells {
                header[col] = cell.shown().trim().to_string();
            }
            self.width = Some(width);
            return self.sink.header(header, number, self.info);
        };
        if let Some((col, cell)) = cells.iter().find(|(col, _)| *col >= width) {
            return Err(file_problem(
                "/header",
                format!(
                    "row {number} has a value (`{}`) in column {}, which has no heading; give the column a name from the template or delete the value",
                    truncate(&cell.shown(), 40),
                    column_letters(*col)
                ),
            ));
        }
        self.rows += 1;
        check_row_count(self.rows, self.limits)?;
        self.sink.row(SheetRow { number, cells })
    }

    /// Ends the file: 422 if it had no header row.
    pub fn finish(self) -> Result<(), Error> {
        if self.width.is_none() {
            return Err(file_problem(
                "/file",
                "the file is empty: it needs the template's header row and one row per interception",
            ));
        }
        Ok(())
    }
}

/// A column's letters as a spreadsheet names it (0 is `A`, 26 is `AA`).
pub fn column_letters(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
