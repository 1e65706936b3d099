//! XLSX workbooks, read with calamine a cell at a time (never as a whole grid). Formula cells
//! are read as the value Excel stored with them; nothing is ever evaluated.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use chrono::{NaiveDate, NaiveDateTime};

use super::{file_problem, zipped, Cell, ReadLimits, RowSink, SheetBuilder, SheetInfo};
use crate::error::Error;

/// The sheet the template keeps the interceptions on; a workbook without it is read from its
/// first sheet.
pub const DATA_SHEET: &str = "interceptions";

/// Reads the data sheet of an XLSX workbook into `sink` a row at a time, after
/// [`zipped::guard`] has bounded what it may expand to.
pub fn read_into(bytes: &[u8], limits: ReadLimits, sink: &mut dyn RowSink) -> Result<(), Error> {
    zipped::guard(bytes, limits)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let names = workbook.sheet_names();
    let name = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(DATA_SHEET))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| file_problem("/file", "the workbook has no sheet"))?;
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
    let mut builder = SheetBuilder::new(sink, limits, SheetInfo::default());
    let mut row: Option<(u32, Vec<(usize, Cell)>)> = None;
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
        let (r, c) = cell.get_position();
        let Some(value) = convert(cell.get_value()) else {
            continue;
        };
        let number = r.saturating_add(1);
        match &mut row {
            Some((at, values)) if *at == number => values.push((c as usize, value)),
            _ => {
                if let Some((at, values)) = row.take() {
                    builder.row(at, values)?;
                }
                row = Some((number, vec![(c as usize, value)]));
            }
        }
    }
    if let Some((at, values)) = row.take() {
        builder.row(at, values)?;
    }
    builder.finish()
}

fn unreadable(e: &dyn std::fmt::Display) -> Error {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("password") {
        return file_problem(
            "/file",
            "the workbook is protected by a password; save an unprotected copy and send it",
        );
    }
    file_problem("/file", format!("the workbook cannot be read: {text}"))
}

/// A cell's value, or `None` when it is empty (blank text included).
fn convert(value: &DataRef<'_>) -> Option<Cell> {
    let cell = match value {
        DataRef::Empty => return None,
        DataRef::Int(n) => Cell::Number(*n as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::String(s) => text(s)?,
        DataRef::SharedString(s) => text(s)?,
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(at) if at.is_datetime() => {
            let (y, mo, d, h, mi, s, ms) = at.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .and_then(|day| day.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms)))
                .map_or_else(|| Cell::Number(at.as_f64()), Cell::Date)
        }
        DataRef::DateTime(at) => Cell::Number(at.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s)?,
        DataRef::Error(e) => Cell::Error(format!("{e}")),
    };
    Some(cell)
}

fn text(s: &str) -> Option<Cell> {
    let trimmed = s.trim();
    (!trimmed.is_empty()).then(|| Cell::Text(trimmed.to_string()))
}

/// An Excel serial date-time (days since 1899-12-30, the fraction being the time of day) as
/// a date and time; `None` outside the years the service accepts.
pub fn serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !serial.is_finite() || !(25_569.0..=109_574.0).contains(&serial) {
        return None; // 1970-01-01 to 2199-12-31
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (serial * 86_400_000.0).round() as i64;
    epoch.checked_add_signed(chrono::TimeDelta::milliseconds(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_read_as_excel_writes_them() {
        let at = serial_to_datetime(45_912.236_111_111_11).map(|t| t.to_string());
        assert_eq!(at.as_deref(), Some("2025-09-12 05:40:00"));
        assert_eq!(serial_to_datetime(12.0), None);
        assert_eq!(serial_to_datetime(f64::NAN), None);
    }
}
