//! Rows of a sheet read against the template's columns into the same
//! [`InterceptionInput`] a JSON batch item builds, with every problem of every cell collected;
//! and the problems the contract's checks find later placed back on their row and column.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::columns::{Column, Group, Part};
use super::{file_problem, number_text, Cell, RowError, RowSink, Sheet, SheetInfo, SheetRow};
use crate::domain::country;
use crate::domain::interception::{
    Exploitation, InterceptionInput, InterceptionKind, Location, MigrantCount, Seizure, SeizureCategory, VictimCount,
};
use crate::error::{Error, FieldError};

/// The `external_ref` of the template's example row: a row with it is never stored.
pub const EXAMPLE_REF: &str = "EXAMPLE";

/// One row read into an interception, or the problems that kept it from being read.
#[derive(Debug)]
pub struct ParsedRow {
    /// The row number as the spreadsheet shows it.
    pub row: u32,
    /// SHA-256 of its checked content, when it passed every check (a dry run's prediction).
    pub hash: Option<String>,
    /// Its reference, when one was given.
    pub external_ref: Option<String>,
    /// The interception checked against the contract and the operation's days, kept as its
    /// canonical JSON (a tenth of the memory of the parsed form: a file of 100,000 rows waits
    /// for its turn to be pushed); or every problem of the row.
    pub input: Result<String, Vec<RowError>>,
    /// The column each seizure of the input came from, in order.
    pub seizure_columns: Vec<Column>,
}

/// A sheet read row by row.
#[derive(Debug)]
pub struct ReadRows {
    /// The country the rows report for.
    pub country: String,
    /// How the file's text was encoded, when it was not UTF-8.
    pub encoding: Option<&'static str>,
    /// Each row that holds anything, except the template's example.
    pub rows: Vec<ParsedRow>,
    /// The rows left out because they are the template's example row.
    pub skipped: Vec<u32>,
}

/// Reads the rows of a file, as a reader hands them over, for `country`: each against the
/// template's columns into an interception, checked against the contract and the operation's
/// days as a push would check it, while its cells are at hand to show the values at fault; the
/// cells are let go once the row is read, so a large file is never held as a whole grid.
#[derive(Debug)]
pub struct RowReader {
    country: String,
    window: (DateTime<Utc>, DateTime<Utc>),
    columns: Vec<Option<Column>>,
    info: SheetInfo,
    seen: HashMap<String, u32>,
    read: ReadRows,
}

impl RowReader {
    /// A reader of rows for `country` in an operation of these days.
    pub fn new(country: &str, window: (DateTime<Utc>, DateTime<Utc>)) -> RowReader {
        RowReader {
            country: country.to_string(),
            window,
            columns: Vec::new(),
            info: SheetInfo::default(),
            seen: HashMap::new(),
            read: ReadRows {
                country: country.to_string(),
                encoding: None,
                rows: Vec::new(),
                skipped: Vec::new(),
            },
        }
    }

    /// The rows read.
    pub fn finish(self) -> ReadRows {
        self.read
    }
}

impl RowSink for RowReader {
    /// A header that names a column the template does not have, names one twice, or lacks a
    /// required one is a whole-file problem (422 naming each column).
    fn header(&mut self, names: Vec<String>, number: u32, info: SheetInfo) -> Result<(), Error> {
        self.columns = header(&names, number)?;
        self.info = info;
        self.read.encoding = info.encoding;
        Ok(())
    }

    fn row(&mut self, sheet_row: SheetRow) -> Result<(), Error> {
        let mut reading = Reading {
            row: sheet_row.number,
            decimal_comma: self.info.decimal_comma,
            errors: Vec::new(),
        };
        let columns = &self.columns;
        let cells: Vec<(Column, &Cell)> = sheet_row
            .cells
            .iter()
            .filter_map(|(col, cell)| columns.get(*col).copied().flatten().map(|c| (c, cell)))
            .collect();
        let external_ref = cells
            .iter()
            .find(|(c, _)| *c == Column::ExternalRef)
            .and_then(|(_, cell)| reading.reference(cell));
        if external_ref.as_deref() == Some(EXAMPLE_REF) {
            self.read.skipped.push(sheet_row.number);
            return Ok(());
        }
        if let Some(reference) = &external_ref {
            if let Some(first) = self.seen.insert(reference.clone(), sheet_row.number) {
                reading.fail(
                    Column::ExternalRef,
                    reference,
                    format!("the same external_ref as row {first}: each interception takes one row"),
                );
            }
        }
        let (input, seizure_columns) = reading.interception(&self.country, external_ref.clone(), &cells);
        let mut parsed = ParsedRow {
            row: sheet_row.number,
            hash: None,
            external_ref,
            input: Err(Vec::new()),
            seizure_columns,
        };
        parsed.input = match input {
            Some(input) if reading.errors.is_empty() => match input.check(None, self.window) {
                Ok(checked) => {
                    parsed.hash = Some(checked.content.hash);
                    Ok(checked.content.json)
                }
                Err(Error::Validation(problems)) => Err(place_errors(&parsed, &problems, &cells)),
                Err(other) => Err(vec![RowError {
                    row: parsed.row,
                    column: String::new(),
                    value: String::new(),
                    message: other.problem().detail,
                }]),
            },
            _ => Err(reading.errors),
        };
        self.read.rows.push(parsed);
        Ok(())
    }
}

/// Reads every row of a whole `sheet` (see [`RowReader`]).
pub fn read(sheet: Sheet, country: &str, window: (DateTime<Utc>, DateTime<Utc>)) -> Result<ReadRows, Error> {
    let mut reader = RowReader::new(country, window);
    let info = SheetInfo {
        decimal_comma: sheet.decimal_comma,
        encoding: sheet.encoding,
    };
    reader.header(sheet.header, sheet.header_row, info)?;
    for row in sheet.rows {
        reader.row(row)?;
    }
    Ok(reader.finish())
}

/// The column of each header position; every problem of the header at once.
fn header(names: &[String], header_row: u32) -> Result<Vec<Option<Column>>, Error> {
    let mut errors = Vec::new();
    let mut columns = Vec::with_capacity(names.len());
    for (position, name) in names.iter().enumerate() {
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        match Column::parse(name) {
            Some(column) if columns.contains(&Some(column)) => {
                errors.push(FieldError::at(
                    format!("/header/{}", super::column_letters(position)),
                    format!("the column `{name}` appears twice"),
                ));
                columns.push(None);
            }
            Some(column) => columns.push(Some(column)),
            None => {
                errors.push(FieldError::at(
                    format!("/header/{}", super::column_letters(position)),
                    format!(
                        "`{}` is not a column of the template (row {}); use the template's column names",
                        super::truncate(name, 60),
                        header_row
                    ),
                ));
                columns.push(None);
            }
        }
    }
    for required in Column::template().into_iter().filter(|c| c.required()) {
        if !columns.contains(&Some(required)) {
            errors.push(FieldError::at(
                "/header",
                format!("the column `{}` is missing from the header row", required.name()),
            ));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(Error::Validation(errors))
    }
}

/// The reading of one row: its number and the problems found so far.
struct Reading {
    row: u32,
    decimal_comma: bool,
    errors: Vec<RowError>,
}

impl Reading {
    fn fail(&mut self, column: Column, value: &str, message: impl Into<String>) {
        self.errors.push(RowError {
            row: self.row,
            column: column.name(),
            value: super::truncate(value, 200),
            message: message.into(),
        });
    }

    /// A text cell; a number is written as the spreadsheet shows it.
    fn text(&mut self, column: Column, cell: &Cell) -> Option<String> {
        match cell {
            Cell::Text(text) => Some(text.clone()),
            Cell::Number(n) => Some(number_text(*n)),
            Cell::Bool(_) | Cell::Date(_) => Some(cell.shown()),
            Cell::Error(e) => {
                self.fail(column, e, "the cell holds a spreadsheet error; put a value in it");
                None
            }
        }
    }

    fn reference(&mut self, cell: &Cell) -> Option<String> {
        match cell {
            Cell::Number(n) => {
                self.fail(
                    Column::ExternalRef,
                    &number_text(*n),
                    "the spreadsheet stored this reference as a number, which drops leading zeros and rounds long ones; format the column as Text and type the reference again",
                );
                None
            }
            _ => self.text(Column::ExternalRef, cell),
        }
    }

    /// A whole number (a count).
    fn count(&mut self, column: Column, cell: &Cell) -> Option<i64> {
        let value = match cell {
            Cell::Number(n) => Some(*n),
            Cell::Text(text) => text.trim().parse::<f64>().ok().filter(|_| {
                text.trim()
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'+')
            }),
            _ => None,
        };
        match value {
            Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => Some(n as i64),
            _ => {
                self.fail(column, &cell.shown(), "must be a whole number, such as 12");
                None
            }
        }
    }

    /// A decimal number; `14,42` too in a `;`-separated CSV.
    fn decimal(&mut self, column: Column, cell: &Cell) -> Option<f64> {
        let value = match cell {
            Cell::Number(n) => Some(*n),
            Cell::Text(text) => parse_decimal(text, self.decimal_comma),
            _ => None,
        };
        match value {
            Some(n) if n.is_finite() => Some(n),
            _ => {
                self.fail(column, &cell.shown(), "must be a number, such as 14.42");
                None
            }
        }
    }

    fn instant(&mut self, cell: &Cell) -> Option<DateTime<Utc>> {
        let found = match cell {
            Cell::Date(at) => Some(at.and_utc()),
            Cell::Number(serial) => super::xlsx::serial_to_datetime(*serial).map(|at| at.and_utc()),
            Cell::Text(text) => parse_instant(text),
            _ => None,
        };
        if found.is_none() {
            self.fail(
                Column::OccurredAt,
                &cell.shown(),
                "must be a date and time written 2025-09-12 05:40 (read as UTC) or 2025-09-12T05:40:00+01:00; a date such as 12/09/2025 is ambiguous",
            );
        }
        found
    }

    /// `SN:40; GM:18`: counts per code.
    fn breakdown(&mut self, column: Column, cell: &Cell) -> BTreeMap<String, i64> {
        let mut map = BTreeMap::new();
        let Some(text) = self.text(column, cell) else {
            return map;
        };
        for entry in text.split([';', ',', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
            let parsed = entry
                .split_once([':', '='])
                .or_else(|| entry.split_once(' '))
                .and_then(|(code, n)| Some((code.trim().to_ascii_uppercase(), n.trim().parse::<i64>().ok()?)));
            match parsed {
                Some((code, n)) if !map.contains_key(&code) => {
                    map.insert(code, n);
                }
                Some((code, _)) => self.fail(column, &text, format!("`{code}` is given twice")),
                None => self.fail(
                    column,
                    &text,
                    format!("`{entry}` is not a country code and a count; write them as SN:40; GM:18"),
                ),
            }
        }
        map
    }

    /// The seizures of one category's cell.
    fn seizures(&mut self, category: SeizureCategory, cell: &Cell) -> Vec<Seizure> {
        let column = Column::Seized(category);
        let with_unit = matches!(category, SeizureCategory::Cash | SeizureCategory::Drugs);
        if !with_unit {
            return match self.decimal(column, cell) {
                Some(0.0) => Vec::new(),
                Some(quantity) => vec![Seizure {
                    category,
                    quantity,
                    unit: None,
                }],
                None => Vec::new(),
            };
        }
        let Some(text) = self.text(column, cell) else {
            return Vec::new();
        };
        let mut seizures = Vec::new();
        for entry in text.split([';', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
            let mut words = entry.split_whitespace();
            let (first, second) = (words.next(), words.next());
            let parsed = match (first, second, words.next()) {
                (Some(a), Some(b), None) => match parse_decimal(a, true) {
                    Some(q) => Some((q, b)),
                    None => parse_decimal(b, true).map(|q| (q, a)),
                },
                _ => None,
            };
            match parsed {
                Some((0.0, _)) => {}
                Some((quantity, unit)) => seizures.push(Seizure {
                    category,
                    quantity,
                    unit: Some(unit.to_string()),
                }),
                None => {
                    let example = if category == SeizureCategory::Cash {
                        "6000 EUR; 250 USD"
                    } else {
                        "2.5 kg; 300 doses"
                    };
                    self.fail(
                        column,
                        &text,
                        format!("`{entry}` is not an amount and a unit; write them as {example}"),
                    );
                }
            }
        }
        seizures
    }

    /// The interception of a row; `None` when a required part could not be read (the
    /// problems are in `errors`).
    fn interception(
        &mut self,
        country: &str,
        external_ref: Option<String>,
        cells: &[(Column, &Cell)],
    ) -> (Option<InterceptionInput>, Vec<Column>) {
        let mut kind = None;
        let mut occurred_at = None;
        let mut location = Location {
            place: None,
            lat: None,
            lon: None,
        };
        let mut people: [Counted; 2] = Default::default();
        let mut exploited: BTreeMap<Exploitation, i64> = BTreeMap::new();
        let (mut arrests, mut investigations) = (0, 0);
        let mut seizures = Vec::new();
        let mut seizure_columns = Vec::new();
        let mut notes = None;
        for &(column, cell) in cells {
            match column {
                Column::Country => {
                    if let Some(text) = self.text(column, cell) {
                        if country::normalise(&text).as_deref() != Some(country) {
                            self.fail(
                                column,
                                &text,
                                format!("this import is for {country}; leave the column empty or write {country}"),
                            );
                        }
                    }
                }
                Column::ExternalRef => {}
                Column::Kind => {
                    if let Some(text) = self.text(column, cell) {
                        let spelled = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                        match InterceptionKind::from_str(&spelled) {
                            Ok(k) => kind = Some(k),
                            Err(_) => self.fail(
                                column,
                                &text,
                                format!(
                                    "is not a kind; use one of {}",
                                    InterceptionKind::ALL
                                        .iter()
                                        .map(|k| k.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ),
                        }
                    }
                }
                Column::OccurredAt => occurred_at = self.instant(cell),
                Column::Place => location.place = self.text(column, cell),
                Column::Lat => location.lat = self.decimal(column, cell),
                Column::Lon => location.lon = self.decimal(column, cell),
                Column::People(group, part) => {
                    let counted = &mut people[group as usize];
                    counted.any = true;
                    match part {
                        Part::Total => counted.total = self.count(column, cell),
                        Part::Children => counted.children = self.count(column, cell),
                        Part::Female => counted.female = self.count(column, cell),
                        Part::Male => counted.male = self.count(column, cell),
                        Part::Nationality => counted.nationality = self.breakdown(column, cell),
                    }
                }
                Column::Exploited(form) => {
                    people[Group::Victims as usize].any = true;
                    if let Some(n) = self.count(column, cell) {
                        exploited.insert(form, n);
                    }
                }
                Column::Arrests => arrests = self.count(column, cell).unwrap_or(0),
                Column::Investigations => investigations = self.count(column, cell).unwrap_or(0),
                Column::Seized(category) => {
                    for seizure in self.seizures(category, cell) {
                        seizures.push(seizure);
                        seizure_columns.push(column);
                    }
                }
                Column::Notes => notes = self.text(column, cell),
            }
        }
        if external_ref.is_none() && !self.errors.iter().any(|e| e.column == "external_ref") {
            self.fail(
                Column::ExternalRef,
                "",
                "is required: your own reference for the incident",
            );
        }
        if kind.is_none() && !self.errors.iter().any(|e| e.column == "kind") {
            self.fail(Column::Kind, "", "is required");
        }
        if occurred_at.is_none() && !self.errors.iter().any(|e| e.column == "occurred_at") {
            self.fail(Column::OccurredAt, "", "is required");
        }
        let [migrants, victims] = people;
        let migrants = self.total_of(Group::Migrants, &migrants).map(|total| MigrantCount {
            total,
            children: migrants.children,
            female: migrants.female,
            male: migrants.male,
            by_nationality: migrants.nationality,
        });
        let victims = self.total_of(Group::Victims, &victims).map(|total| VictimCount {
            total,
            children: victims.children,
            female: victims.female,
            male: victims.male,
            by_nationality: victims.nationality,
            by_exploitation: exploited,
        });
        let location =
            (location.place.is_some() || location.lat.is_some() || location.lon.is_some()).then_some(location);
        let input = match (kind, occurred_at) {
            (Some(kind), Some(occurred_at)) => Some(InterceptionInput {
                country: Some(country.to_string()),
                external_ref,
                kind,
                occurred_at,
                location,
                migrants,
                victims,
                arrests,
                investigations_opened: investigations,
                seizures,
                notes,
            }),
            _ => None,
        };
        (input, seizure_columns)
    }

    /// The total of a person count: required once any of its columns is filled.
    fn total_of(&mut self, group: Group, counted: &Counted) -> Option<i64> {
        if !counted.any {
            return None;
        }
        let total = Column::People(group, Part::Total);
        if counted.total.is_none() && !self.errors.iter().any(|e| e.column == total.name()) {
            self.fail(
                total,
                "",
                format!("is required once another {} column is filled", group.as_str()),
            );
        }
        counted.total
    }
}

/// The cells of one person count as read.
#[derive(Default)]
struct Counted {
    any: bool,
    total: Option<i64>,
    children: Option<i64>,
    female: Option<i64>,
    male: Option<i64>,
    nationality: BTreeMap<String, i64>,
}

/// A decimal written as text; with `decimal_comma`, `14,42` is 14.42.
fn parse_decimal(text: &str, decimal_comma: bool) -> Option<f64> {
    let text = text.trim();
    let spelled = if decimal_comma && text.contains(',') && !text.contains('.') {
        std::borrow::Cow::Owned(text.replacen(',', ".", 1))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if !spelled.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
        return None;
    }
    spelled.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date and time written as text: RFC 3339 with an offset, or ISO 8601 without one (read
/// as UTC), with `T` or a space, seconds optional; a date alone is midnight UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let naive = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// The column a check's pointer names (`/migrants/children` is `migrants_children`), given
/// the columns the row's seizures came from; `None` for the row as a whole.
pub fn column_of(pointer: &str, seizure_columns: &[Column]) -> Option<Column> {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let people = |group: Group, rest: &[&str]| match rest.first().copied() {
        None | Some("total") => Some(Column::People(group, Part::Total)),
        Some("children") => Some(Column::People(group, Part::Children)),
        Some("female") => Some(Column::People(group, Part::Female)),
        Some("male") => Some(Column::People(group, Part::Male)),
        Some("by_nationality") => Some(Column::People(group, Part::Nationality)),
        Some("by_exploitation") => match rest.get(1) {
            Some(form) => Exploitation::from_str(form).ok().map(Column::Exploited),
            None => Some(Column::People(group, Part::Total)),
        },
        Some(_) => None,
    };
    match parts.as_slice() {
        ["country", ..] => Some(Column::Country),
        ["external_ref", ..] => Some(Column::ExternalRef),
        ["kind", ..] => Some(Column::Kind),
        ["occurred_at", ..] => Some(Column::OccurredAt),
        ["location", "place", ..] => Some(Column::Place),
        ["location", "lat", ..] => Some(Column::Lat),
        ["location", "lon", ..] => Some(Column::Lon),
        ["migrants", rest @ ..] => people(Group::Migrants, rest),
        ["victims", rest @ ..] => people(Group::Victims, rest),
        ["arrests", ..] => Some(Column::Arrests),
        ["investigations_opened", ..] => Some(Column::Investigations),
        ["seizures", index, ..] => index
            .parse::<usize>()
            .ok()
            .and_then(|i| seizure_columns.get(i).copied()),
        ["notes", ..] => Some(Column::Notes),
        _ => None,
    }
}

/// The problems a check found in a row's interception, placed on the row's columns with the
/// values found there (`cells`: the row's cells; empty once they are gone).
pub fn place_errors(parsed: &ParsedRow, errors: &[FieldError], cells: &[(Column, &Cell)]) -> Vec<RowError> {
    errors
        .iter()
        .map(|error| {
            let column = error
                .pointer
                .as_deref()
                .and_then(|p| column_of(p, &parsed.seizure_columns));
            let value = column
                .and_then(|column| cells.iter().find(|(c, _)| *c == column))
                .map(|(_, cell)| cell.shown())
                .unwrap_or_default();
            RowError {
                row: parsed.row,
                column: column.map(Column::name).unwrap_or_default(),
                value: super::truncate(&value, 200),
                message: error.message.clone(),
            }
        })
        .collect()
}

/// A whole-file problem for a sheet with no row to import.
pub fn nothing_to_import() -> Error {
    file_problem(
        "/file",
        "the file has no interception under its header row (the template's example row is never imported)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::{csv, ReadLimits};

    const LIMITS: ReadLimits = ReadLimits {
        max_rows: 100,
        max_unpacked_bytes: 1 << 20,
    };

    fn september() -> (DateTime<Utc>, DateTime<Utc>) {
        let day = |d| NaiveDate::from_ymd_opt(2025, 9, d).unwrap_or_default();
        crate::domain::interception::window(day(1), day(30))
    }

    fn rows_of(text: &str) -> ReadRows {
        let sheet = csv::read(text.as_bytes(), LIMITS).expect("csv");
        read(sheet, "SN", september()).expect("rows")
    }

    #[test]
    fn a_full_row_reads_like_a_json_item() {
        let rows = rows_of(
            "external_ref;kind;occurred_at;place;lat;lon;migrants_total;migrants_children;migrants_nationality;victims_total;victims_forced_labour;arrests;seizures_cash;seizures_vehicles;notes\n\
             DGPN-0012;Sea Departure;2025-09-12 05:40;Mbour;14,42;-16,96;245;12;\"SN:180; GM:40\";3;2;3;\"6000 EUR; 250 usd\";1;pirogue\n",
        );
        assert_eq!(rows.rows.len(), 1);
        let json = rows.rows[0].input.as_ref().expect("read");
        let input: InterceptionInput = serde_json::from_str(json).expect("canonical JSON reads back");
        assert_eq!(rows.rows[0].external_ref.as_deref(), Some("DGPN-0012"));
        assert_eq!(input.kind, InterceptionKind::SeaDeparture);
        assert_eq!(input.occurred_at.to_rfc3339(), "2025-09-12T05:40:00+00:00");
        assert_eq!(input.location.as_ref().and_then(|l| l.lat), Some(14.42));
        let migrants = input.migrants.as_ref().expect("migrants");
        assert_eq!((migrants.total, migrants.children), (245, Some(12)));
        assert_eq!(migrants.by_nationality.get("GM"), Some(&40));
        let victims = input.victims.as_ref().expect("victims");
        assert_eq!(victims.by_exploitation.get(&Exploitation::ForcedLabour), Some(&2));
        assert_eq!(input.seizures.len(), 3);
        assert_eq!(
            input.seizures[1].unit.as_deref(),
            Some("USD"),
            "normalised by the check"
        );
        assert_eq!(
            rows.rows[0].seizure_columns[2],
            Column::Seized(SeizureCategory::Vehicles)
        );
    }

    #[test]
    fn every_problem_of_every_row_is_reported() {
        let rows = rows_of(
            "external_ref,kind,occurred_at,migrants_children,arrests,seizures_cash\n\
             EXAMPLE,premises,2025-09-12,,,\n\
             A-1,boat,12/09/2025,4,two,6000\n\
             A-1,premises,2025-09-12,,1,\n\
             ,,,,,\n",
        );
        assert_eq!(rows.skipped, vec![2]);
        let errors = rows.rows[0].input.as_ref().err().cloned().unwrap_or_default();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            columns,
            vec!["kind", "occurred_at", "arrests", "seizures_cash", "migrants_total"]
        );
        assert!(errors.iter().all(|e| e.row == 3));
        let second = rows.rows[1].input.as_ref().err().cloned().unwrap_or_default();
        assert_eq!(second[0].column, "external_ref");
        assert!(second[0].message.contains("row 3"));
    }

    #[test]
    fn header_problems_are_named() {
        let sheet = csv::read(b"external_ref,kind,chidren,kind\nA,premises,1,x\n", LIMITS).expect("csv");
        match read(sheet, "SN", september()) {
            Err(Error::Validation(errors)) => {
                let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
                assert_eq!(errors.len(), 3, "{messages:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn instants_and_pointers() {
        let at = |t: &str| parse_instant(t).map(|t| t.to_rfc3339());
        assert_eq!(at("2025-09-12").as_deref(), Some("2025-09-12T00:00:00+00:00"));
        assert_eq!(
            at("2025-09-12T05:40+01:00").as_deref(),
            Some("2025-09-12T04:40:00+00:00")
        );
        assert_eq!(at("2025-09-12 05:40:10Z").as_deref(), Some("2025-09-12T05:40:10+00:00"));
        assert_eq!(at("12/09/2025"), None);
        let seized = [Column::Seized(SeizureCategory::Cash)];
        assert_eq!(column_of("/seizures/0/unit", &seized), Some(seized[0]));
        assert_eq!(column_of("/seizures/1/unit", &seized), None);
        assert_eq!(
            column_of("/victims/by_exploitation/forced_labour", &[]),
            Some(Column::Exploited(Exploitation::ForcedLabour))
        );
        assert_eq!(
            column_of("/migrants/by_nationality/XX", &[]),
            Some(Column::People(Group::Migrants, Part::Nationality))
        );
    }
}
