//! The import template of an operation, as XLSX (three sheets: `interceptions` with the header,
//! a note on every heading, an example row and drop-down lists; `codes` with every code a cell
//! may hold; `about` with the operation's window and the rules) or as CSV (the header and the
//! example row, whose notes state the window).

use chrono::NaiveDate;
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, FormatAlign, Note, Workbook, Worksheet, XlsxError};

use super::columns::{Column, Group, Part};
use super::rows::EXAMPLE_REF;
use crate::domain::interception::{window, Exploitation, InterceptionKind, SeizureCategory};
use crate::error::Error;

/// Rows of the data sheet that get drop-down lists and number checks.
const FILLABLE_ROWS: u32 = 100_000;

/// What the template says about its operation.
#[derive(Debug, Clone)]
pub struct TemplateOperation {
    /// The operation's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first day.
    pub starts_on: NaiveDate,
    /// Its last day.
    pub ends_on: NaiveDate,
}

impl TemplateOperation {
    /// The sentence stating the operation's window and the time-zone rule.
    pub fn window_statement(&self) -> String {
        let (from, until) = window(self.starts_on, self.ends_on);
        format!(
            "Operation {} ({}) runs from {} to {}. occurred_at must fall within those days in any time zone: from {} to {} (UTC). \
             A time without an offset is read as UTC; write 2025-09-12T05:40:00+01:00 for a local time.",
            self.name,
            self.id,
            self.starts_on,
            self.ends_on,
            from.format("%Y-%m-%d %H:%M"),
            until.format("%Y-%m-%d %H:%M"),
        )
    }

    /// The example row, by column.
    fn example(&self, column: Column) -> String {
        match column {
            Column::Country => String::new(),
            Column::ExternalRef => EXAMPLE_REF.into(),
            Column::Kind => InterceptionKind::SeaDeparture.as_str().into(),
            Column::OccurredAt => format!("{} 05:40", self.starts_on),
            Column::Place => "Mbour".into(),
            Column::Lat => "14.42".into(),
            Column::Lon => "-16.96".into(),
            Column::People(Group::Migrants, part) => match part {
                Part::Total => "245".into(),
                Part::Children => "12".into(),
                Part::Female => "30".into(),
                Part::Male => "203".into(),
                Part::Nationality => "SN:180; GM:40; ML:25".into(),
            },
            Column::People(Group::Victims, Part::Total) => "2".into(),
            Column::People(Group::Victims, _) => String::new(),
            Column::Exploited(Exploitation::ForcedLabour) => "2".into(),
            Column::Exploited(_) => String::new(),
            Column::Arrests => "3".into(),
            Column::Investigations => "1".into(),
            Column::Seized(SeizureCategory::Vessels) => "1".into(),
            Column::Seized(SeizureCategory::Cash) => "6000 EUR".into(),
            Column::Seized(_) => String::new(),
            Column::Notes => format!(
                "Example row: never stored while its external_ref is {EXAMPLE_REF}; replace it or leave it. {}",
                self.window_statement()
            ),
        }
    }
}

/// The header row.
pub fn header() -> Vec<String> {
    Column::template().into_iter().map(Column::name).collect()
}

/// The CSV template: the header and the example row (UTF-8 with a byte-order mark, `,`).
pub fn csv(operation: &TemplateOperation) -> Result<Vec<u8>, Error> {
    let example = Column::template().into_iter().map(|c| operation.example(c)).collect();
    super::csv::write(&[header(), example])
}

fn xlsx_error(e: XlsxError) -> Error {
    Error::internal(format!("cannot write the template: {e}"))
}

/// The XLSX template as bytes.
pub fn xlsx(operation: &TemplateOperation) -> Result<Vec<u8>, Error> {
    workbook(operation)?.save_to_buffer().map_err(xlsx_error)
}

/// The XLSX template as a workbook, so that tests and tools can fill it in before saving it.
/// The data sheet is the first, named `interceptions`.
pub fn workbook(operation: &TemplateOperation) -> Result<Workbook, Error> {
    let mut workbook = Workbook::new();
    data_sheet(workbook.add_worksheet(), operation).map_err(xlsx_error)?;
    codes_sheet(workbook.add_worksheet()).map_err(xlsx_error)?;
    about_sheet(workbook.add_worksheet(), operation).map_err(xlsx_error)?;
    Ok(workbook)
}

fn data_sheet(sheet: &mut Worksheet, operation: &TemplateOperation) -> Result<(), XlsxError> {
    sheet.set_name(super::xlsx::DATA_SHEET)?;
    let bold = Format::new().set_bold().set_background_color("#DDEBF7");
    let text = Format::new().set_num_format("@");
    let wrap = Format::new().set_align(FormatAlign::Top);
    let columns = Column::template();
    for (col, column) in columns.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, column.name(), &bold)?;
        sheet.insert_note(0, col, &Note::new(column.help()).set_width(360).set_height(120))?;
        let width = (column.name().len() as f64 + 2.0).max(10.0);
        sheet.set_column_width(col, width)?;
        match column {
            // References and dates are text, so the spreadsheet neither drops leading zeros
            // nor turns them into numbers of its own.
            Column::ExternalRef
            | Column::OccurredAt
            | Column::Notes
            | Column::People(_, Part::Nationality)
            | Column::Seized(SeizureCategory::Cash | SeizureCategory::Drugs) => {
                sheet.set_column_format(col, &text)?;
            }
            Column::Kind => {
                let kinds: Vec<&str> = InterceptionKind::ALL.iter().map(|k| k.as_str()).collect();
                let list = DataValidation::new()
                    .allow_list_strings(&kinds)?
                    .set_error_message("Choose a kind from the list (see the codes sheet).")?;
                sheet.add_data_validation(1, col, FILLABLE_ROWS, col, &list)?;
            }
            Column::People(..) | Column::Exploited(_) | Column::Arrests | Column::Investigations => {
                let whole = DataValidation::new()
                    .allow_whole_number(DataValidationRule::Between(0, 1_000_000))
                    .set_error_message("A whole number from 0 to 1,000,000.")?;
                sheet.add_data_validation(1, col, FILLABLE_ROWS, col, &whole)?;
            }
            _ => {}
        }
        let example = operation.example(*column);
        if !example.is_empty() {
            sheet.write_string_with_format(1, col, &example, &wrap)?;
        }
    }
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(2, 18)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Every ISO 4217 currency code (all three-letter codes the currency list knows).
pub fn currency_codes() -> Vec<String> {
    let mut codes = Vec::new();
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            for c in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b, c]).unwrap_or_default();
                if iso_currency::Currency::from_code(&code).is_some() {
                    codes.push(code);
                }
            }
        }
    }
    codes
}

fn codes_sheet(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    sheet.set_name("codes")?;
    let bold = Format::new().set_bold();
    let lists: Vec<(&str, Vec<String>)> = vec![
        (
            "kind",
            InterceptionKind::ALL.iter().map(|k| k.as_str().to_string()).collect(),
        ),
        (
            "exploitation (column)",
            Exploitation::ALL.iter().map(|&f| Column::Exploited(f).name()).collect(),
        ),
        (
            "seizure category (column)",
            SeizureCategory::ALL.iter().map(|&c| Column::Seized(c).name()).collect(),
        ),
        ("drug unit", vec!["kg".into(), "g".into(), "doses".into()]),
        (
            "country (ISO 3166-1)",
            rust_iso3166::ALL.iter().map(|c| c.alpha2.to_string()).collect(),
        ),
        (
            "country name",
            rust_iso3166::ALL.iter().map(|c| c.name.to_string()).collect(),
        ),
        ("currency (ISO 4217)", currency_codes()),
    ];
    for (col, (title, values)) in lists.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *title, &bold)?;
        sheet.set_column_width(col, 26)?;
        for (row, value) in values.iter().enumerate() {
            sheet.write_string(row as u32 + 1, col, value)?;
        }
    }
    Ok(())
}

fn about_sheet(sheet: &mut Worksheet, operation: &TemplateOperation) -> Result<(), XlsxError> {
    sheet.set_name("about")?;
    let bold = Format::new().set_bold();
    sheet.set_column_width(0, 140)?;
    let lines = [
        format!("Import template of operation {} ({})", operation.name, operation.id),
        operation.window_statement(),
        "One row per interception on the interceptions sheet, under its header row. Leave a cell empty when you have nothing to report in it.".into(),
        "external_ref is your own reference: sending a row with the same reference again updates that interception; sending the same file again changes nothing.".into(),
        format!("The example row (external_ref {EXAMPLE_REF}) is never stored."),
        "Counts only: never a name, a document number or a birth date of a victim or a suspect, in any cell.".into(),
        "Upload the file with POST /v1/operations/{op}/imports?country=XX (dry_run=true checks it without storing). Every problem of every row is listed at once, by row and column.".into(),
    ];
    for (row, line) in lines.iter().enumerate() {
        if row == 0 {
            sheet.write_string_with_format(row as u32, 0, line, &bold)?;
        } else {
            sheet.write_string(row as u32, 0, line)?;
        }
    }
    Ok(())
}
