//! ODS spreadsheets (LibreOffice, OpenOffice), read from `content.xml` a cell at a time.
//!
//! Read here rather than through calamine, which builds every sheet as a full grid with each
//! `number-rows-repeated` and `number-columns-repeated` expanded: a file of a few kilobytes can
//! ask for a million rows of sixteen thousand columns. Here an empty repeated row or cell costs
//! nothing, and a repeated value is expanded only within the header's columns and the row
//! limit ([`SheetBuilder`]). Formula cells are read as their stored `office:value`; nothing is
//! evaluated.

use std::io::{BufReader, Cursor};

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{file_problem, zipped, Cell, ReadLimits, RowSink, SheetBuilder, SheetInfo, MAX_COLUMNS};
use crate::error::Error;

/// Reads the first sheet of an ODS file into `sink` a row at a time, after [`zipped::guard`]
/// has bounded what it may expand to.
pub fn read_into(bytes: &[u8], limits: ReadLimits, sink: &mut dyn RowSink) -> Result<(), Error> {
    zipped::guard(bytes, limits)?;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let content = archive
        .by_name("content.xml")
        .map_err(|_| file_problem("/file", "the ODS file has no content.xml part"))?;
    let mut reader = Reader::from_reader(BufReader::new(content));
    let mut builder = SheetBuilder::new(sink, limits, SheetInfo::default());
    let mut done = false;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| unreadable(&e))?;
        match event {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == b"table:table" => {
                if done {
                    skip_to_end(&mut reader, b"table:table")?;
                } else {
                    read_table(&mut reader, &mut builder)?;
                    done = true;
                }
            }
            _ => {}
        }
        buf.clear();
    }
    builder.finish()
}

fn unreadable(e: &dyn std::fmt::Display) -> Error {
    file_problem("/file", format!("the ODS file cannot be read: {e}"))
}

fn skip_to_end<R: std::io::BufRead>(reader: &mut Reader<R>, name: &[u8]) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| unreadable(&e))? {
            Event::Start(e) if e.name().as_ref() == name => depth += 1,
            Event::End(e) if e.name().as_ref() == name => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Event::Eof => return Err(file_problem("/file", "the ODS file ends inside a sheet")),
            _ => {}
        }
        buf.clear();
    }
}

/// The attributes of a cell that say its value.
#[derive(Default)]
struct CellStart {
    repeat: usize,
    value_type: Option<String>,
    value: Option<String>,
    date: Option<String>,
    boolean: Option<String>,
}

impl CellStart {
    fn of(e: &BytesStart<'_>) -> Result<CellStart, Error> {
        let mut cell = CellStart {
            repeat: 1,
            ..CellStart::default()
        };
        for attribute in e.attributes() {
            let attribute = attribute.map_err(|e| unreadable(&e))?;
            let value = || -> Result<String, Error> {
                let raw = String::from_utf8_lossy(&attribute.value);
                Ok(quick_xml::escape::unescape(&raw)
                    .map_err(|e| unreadable(&e))?
                    .into_owned())
            };
            match attribute.key.as_ref() {
                b"table:number-columns-repeated" => cell.repeat = value()?.trim().parse().unwrap_or(1),
                b"office:value-type" => cell.value_type = Some(value()?),
                b"office:value" => cell.value = Some(value()?),
                b"office:date-value" => cell.date = Some(value()?),
                b"office:boolean-value" => cell.boolean = Some(value()?),
                _ => {}
            }
        }
        Ok(cell)
    }

    /// The cell's value from its attributes and its text.
    fn value(self, text: &str) -> Option<Cell> {
        let text = text.trim();
        match self.value_type.as_deref() {
            Some("float" | "percentage" | "currency") => {
                match self.value.as_deref().and_then(|v| v.trim().parse::<f64>().ok()) {
                    Some(n) => Some(Cell::Number(n)),
                    None => (!text.is_empty()).then(|| Cell::Text(text.to_string())),
                }
            }
            Some("date") => match self.date.as_deref().and_then(iso_date) {
                Some(at) => Some(Cell::Date(at)),
                None => (!text.is_empty()).then(|| Cell::Text(text.to_string())),
            },
            Some("boolean") => Some(Cell::Bool(self.boolean.as_deref() == Some("true"))),
            _ => (!text.is_empty()).then(|| Cell::Text(text.to_string())),
        }
    }
}

/// An ODS date value: `2025-09-12` or `2025-09-12T05:40:00(.fraction)`.
fn iso_date(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0))
}

/// Reads one `table:table` element (its start already read) into `builder`.
fn read_table<R: std::io::BufRead>(reader: &mut Reader<R>, builder: &mut SheetBuilder<'_>) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut row_number: u32 = 0;
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| unreadable(&e))? {
            Event::Start(e) if e.name().as_ref() == b"table:table-row" => {
                let repeat = repeat_of(&e, b"table:number-rows-repeated")?;
                let cells = read_row(reader)?;
                if cells.is_empty() {
                    row_number = row_number.saturating_add(repeat.min(u32::MAX as usize) as u32);
                } else {
                    // A repeated row of values: each copy counts against the row limit,
                    // which stops the expansion.
                    for _ in 0..repeat {
                        row_number = row_number.saturating_add(1);
                        builder.row(row_number, cells.clone())?;
                    }
                }
            }
            Event::Empty(e) if e.name().as_ref() == b"table:table-row" => {
                let repeat = repeat_of(&e, b"table:number-rows-repeated")?;
                row_number = row_number.saturating_add(repeat.min(u32::MAX as usize) as u32);
            }
            Event::End(e) if e.name().as_ref() == b"table:table" => return Ok(()),
            Event::Eof => return Err(file_problem("/file", "the ODS file ends inside a sheet")),
            _ => {}
        }
        buf.clear();
    }
}

fn repeat_of(e: &BytesStart<'_>, name: &[u8]) -> Result<usize, Error> {
    match e.try_get_attribute(name).map_err(|e| unreadable(&e))? {
        Some(attribute) => Ok(std::str::from_utf8(&attribute.value)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1)),
        None => Ok(1),
    }
}

/// Reads the cells of one row (its start already read) up to its end: the non-empty ones,
/// by column. A repeated value is expanded, up to [`MAX_COLUMNS`] columns.
fn read_row<R: std::io::BufRead>(reader: &mut Reader<R>) -> Result<Vec<(usize, Cell)>, Error> {
    let mut cells = Vec::new();
    let mut col: usize = 0;
    let mut buf = Vec::new();
    let mut current: Option<(CellStart, String)> = None;
    let mut in_paragraph = 0usize;
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| unreadable(&e))? {
            Event::Start(e) if is_cell(e.name().as_ref()) => current = Some((CellStart::of(&e)?, String::new())),
            Event::Empty(e) if is_cell(e.name().as_ref()) => {
                let start = CellStart::of(&e)?;
                let repeat = start.repeat;
                place(&mut cells, &mut col, start.value(""), repeat)?;
            }
            Event::End(e) if is_cell(e.name().as_ref()) => {
                if let Some((start, text)) = current.take() {
                    let repeat = start.repeat;
                    place(&mut cells, &mut col, start.value(&text), repeat)?;
                }
            }
            Event::Start(e) if e.name().as_ref() == b"text:p" => {
                if let Some((_, text)) = &mut current {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                }
                in_paragraph += 1;
            }
            Event::End(e) if e.name().as_ref() == b"text:p" => in_paragraph = in_paragraph.saturating_sub(1),
            Event::Empty(e) if e.name().as_ref() == b"text:s" => {
                if let Some((_, text)) = &mut current {
                    text.push(' ');
                }
            }
            Event::Text(t) if in_paragraph > 0 => {
                if let Some((_, text)) = &mut current {
                    text.push_str(&t.decode().map_err(|e| unreadable(&e))?);
                }
            }
            Event::GeneralRef(r) if in_paragraph > 0 => {
                if let Some((_, text)) = &mut current {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| unreadable(&e))? {
                        text.push(c);
                    } else {
                        let name = r.decode().map_err(|e| unreadable(&e))?;
                        text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""));
                    }
                }
            }
            Event::End(e) if e.name().as_ref() == b"table:table-row" => return Ok(cells),
            Event::Eof => return Err(file_problem("/file", "the ODS file ends inside a row")),
            _ => {}
        }
        if current.as_ref().is_some_and(|(_, text)| text.len() > 1_000_000) {
            return Err(file_problem(
                "/file",
                "a cell of the ODS file holds more than 1 MB of text",
            ));
        }
        buf.clear();
    }
}

fn is_cell(name: &[u8]) -> bool {
    name == b"table:table-cell" || name == b"table:covered-table-cell"
}

/// Places a cell `repeat` times from column `col`; an empty one only moves the column on.
fn place(cells: &mut Vec<(usize, Cell)>, col: &mut usize, value: Option<Cell>, repeat: usize) -> Result<(), Error> {
    let repeat = repeat.max(1);
    match value {
        None => *col = col.saturating_add(repeat),
        Some(value) => {
            if col.saturating_add(repeat) > MAX_COLUMNS {
                return Err(file_problem(
                    "/header",
                    format!("a row of the ODS file has values past column {MAX_COLUMNS}"),
                ));
            }
            for _ in 0..repeat {
                cells.push((*col, value.clone()));
                *col += 1;
            }
        }
    }
    Ok(())
}
