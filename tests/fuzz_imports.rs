//! Fuzzing of the spreadsheet parsers: CSV text (any separator, encoding, quoting and cell), XLSX
//! workbooks written by the template code with generated cells, ODS content with generated
//! repeats, and byte-level mutations of each, through the whole reading of an import: the
//! format check, the sheet, the rows against the template's columns and the contract's checks.
//! Each property says what may come out: rows, or a 4xx problem (415 or 422) — never a panic,
//! never a 5xx, never more rows than the limit.
//!
//! `cargo test --test fuzz_imports` runs 256 cases per target; `.ci/run` runs a longer bounded
//! pass (`PROPTEST_CASES`), as for `tests/fuzz.rs`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failing test should panic

use std::io::Write;

use actix_web::ResponseError;
use chrono::NaiveDate;
use proptest::prelude::*;

use opcoord::domain::import::template::{self, TemplateOperation};
use opcoord::domain::import::{self, rows, FileFormat, ReadLimits};
use opcoord::domain::interception;
use opcoord::error::Error;

const LIMITS: ReadLimits = ReadLimits {
    max_rows: 40,
    max_unpacked_bytes: 4_000_000,
};

/// Cells a desk (or an attacker) may type.
const CELLS: &[&str] = &[
    "",
    " ",
    "DGPN-0001",
    "000123",
    "EXAMPLE",
    "sea_departure",
    "Sea Departure",
    "premises",
    "boat",
    "2025-09-12",
    "2025-09-12 05:40",
    "2025-09-12T05:40:00+14:00",
    "12/09/2025",
    "+262142-01-01",
    "45912.5",
    "245",
    "-1",
    "1e308",
    "NaN",
    "inf",
    "14,42",
    "-16.96",
    "1000001",
    "9223372036854775807",
    "SN:40; GM:18",
    "SN:40, SN:2",
    "XX:1",
    ":;:",
    "6000 EUR; 250 USD",
    "EUR 6000",
    "2.5 kg",
    "0",
    "0 EUR",
    "=1+1",
    "'=HYPERLINK(\"x\")",
    "@SUM(A1)",
    "\"",
    "a\"b",
    "line\nbreak",
    "é",
    "𝄞",
    "\u{0}",
    "\u{FEFF}",
];

/// Header names: the template's, some variants, and junk.
fn header_names() -> Vec<String> {
    let mut names = template::header();
    names.extend(["country", "Migrants Total", "chidren", "", "external_ref"].map(String::from));
    names
}

fn operation() -> TemplateOperation {
    TemplateOperation {
        id: "liberterra-iii".into(),
        name: "Liberterra III".into(),
        starts_on: NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
    }
}

/// A table of cells: a header and up to 8 rows.
fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    let names = header_names();
    (
        prop::collection::vec(prop::sample::select(names), 1..10),
        prop::collection::vec(prop::collection::vec(prop::sample::select(CELLS), 0..12), 0..8),
    )
        .prop_map(|(header, rows)| {
            let rows = rows
                .into_iter()
                .map(|row| row.into_iter().map(str::to_string).collect())
                .collect();
            (header, rows)
        })
}

/// A table written as CSV with a separator, quoting, optional BOM and optional Windows-1252.
fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    (
        table(),
        prop::sample::select(vec![",", ";", "\t"]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|((header, rows), sep, bom, quote, latin)| {
            let cell = |c: &str| {
                if quote || c.contains(sep) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.to_string()
                }
            };
            let mut text = String::new();
            for line in std::iter::once(&header).chain(rows.iter()) {
                text.push_str(&line.iter().map(|c| cell(c)).collect::<Vec<_>>().join(sep));
                text.push_str("\r\n");
            }
            let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
            if latin {
                let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
                bytes.extend_from_slice(&encoded);
            } else {
                bytes.extend_from_slice(text.as_bytes());
            }
            bytes
        })
}

/// The template filled with generated cells (text, numbers, booleans, formulas with results).
fn xlsx_file() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (1_u32..12, 0_u16..45, prop::sample::select(CELLS), 0_u8..4, any::<f64>()),
        0..20,
    )
    .prop_map(|cells| {
        let mut workbook = template::workbook(&operation()).unwrap();
        let sheet = workbook.worksheet_from_name("interceptions").unwrap();
        for (row, col, text, how, number) in cells {
            let _ = match how {
                0 => sheet.write_string(row, col, text),
                1 => sheet.write_number(row, col, number),
                2 => sheet.write_boolean(row, col, number > 0.0),
                _ => sheet.write_formula(row, col, rust_xlsxwriter::Formula::new("=A1").set_result(text)),
            };
        }
        workbook.save_to_buffer().unwrap()
    })
}

fn zip_of(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap();
    }
    out.into_inner()
}

/// ODS content with generated rows, cells and repeat counts (huge ones included).
fn ods_content() -> impl Strategy<Value = String> {
    let repeat = prop::sample::select(vec![0_u64, 1, 2, 3, 1000, 1_048_576, u64::MAX]);
    let cell = (prop::sample::select(CELLS), repeat.clone(), 0_u8..5).prop_map(|(text, n, kind)| {
        let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
        match kind {
            0 => format!("<table:table-cell table:number-columns-repeated=\"{n}\"/>"),
            1 => format!("<table:table-cell table:number-columns-repeated=\"{n}\"><text:p>{text}</text:p></table:table-cell>"),
            2 => format!("<table:table-cell office:value-type=\"float\" office:value=\"{text}\"><text:p>x</text:p></table:table-cell>"),
            3 => format!("<table:table-cell office:value-type=\"date\" office:date-value=\"{text}\"/>"),
            _ => format!("<table:table-cell><text:p>{text}</text:p><text:p>&#x41;&amp;<text:s/></text:p></table:table-cell>"),
        }
    });
    let row = (prop::collection::vec(cell, 0..5), repeat).prop_map(|(cells, n)| {
        format!(
            "<table:table-row table:number-rows-repeated=\"{n}\">{}</table:table-row>",
            cells.concat()
        )
    });
    prop::collection::vec(row, 0..6).prop_map(|rows| {
        let header = "<table:table-row><table:table-cell><text:p>external_ref</text:p></table:table-cell>\
            <table:table-cell><text:p>kind</text:p></table:table-cell><table:table-cell><text:p>occurred_at</text:p></table:table-cell>\
            <table:table-cell><text:p>arrests</text:p></table:table-cell></table:table-row>";
        format!(
            "<?xml version=\"1.0\"?><office:document-content xmlns:office=\"o\" xmlns:table=\"t\" xmlns:text=\"x\">\
             <office:body><office:spreadsheet><table:table>{header}{}</table:table><table:table/></office:spreadsheet></office:body></office:document-content>",
            rows.concat()
        )
    })
}

fn ods_of(content: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("mimetype", import::ODS_MEDIA_TYPE.as_bytes().to_vec()),
        ("content.xml", content.to_vec()),
    ])
}

fn mutated(document: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = document.len().max(1);
    prop::collection::vec((0..len, any::<u8>(), 0_u8..3), 1..6).prop_map(move |edits| {
        let mut bytes = document.clone();
        for (at, byte, how) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match how {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 => bytes.truncate(at),
                _ => bytes.insert(at.min(bytes.len()), byte),
            }
        }
        bytes
    })
}

/// A reading problem must be a 4xx of the kinds a file can cause.
fn assert_file_problem(error: &Error) {
    let status = error.status_code().as_u16();
    assert!(matches!(status, 413 | 415 | 422), "a file gave {status}: {error:?}");
}

/// The whole reading of an import, as the handler runs it, then the contract's checks.
fn import(bytes: &[u8], declared: Option<FileFormat>) {
    let format = match import::format_of(bytes, declared) {
        Ok(format) => format,
        Err(error) => return assert_file_problem(&error),
    };
    let sheet = match import::read(format, bytes, LIMITS) {
        Ok(sheet) => sheet,
        Err(error) => return assert_file_problem(&error),
    };
    assert!(sheet.rows.len() <= LIMITS.max_rows);
    let day = |d| NaiveDate::from_ymd_opt(2025, 9, d).unwrap();
    let days = interception::window(day(1), day(30));
    let read = match rows::read(sheet, "SN", days) {
        Ok(read) => read,
        Err(error) => return assert_file_problem(&error),
    };
    for row in &read.rows {
        match &row.input {
            // A row that passed its checks when read passes them again, as a push checks it.
            Ok(json) => {
                let mut input: opcoord::domain::interception::InterceptionInput =
                    serde_json::from_str(json).expect("canonical JSON reads back");
                input.country = Some("SN".into());
                input.external_ref = row.external_ref.clone();
                let checked = input.check(None, days).expect("checked when read");
                assert_eq!(Some(checked.content.hash), row.hash);
            }
            Err(problems) => assert!(!problems.is_empty() && problems.iter().all(|p| p.row == row.row)),
        }
    }
}

proptest! {
    #[test]
    fn csv_files(bytes in csv_file()) {
        import(&bytes, Some(FileFormat::Csv));
        import(&bytes, None);
    }

    #[test]
    fn csv_files_mutated(bytes in csv_file().prop_flat_map(mutated)) {
        import(&bytes, None);
    }

    #[test]
    fn xlsx_workbooks(bytes in xlsx_file()) {
        import(&bytes, Some(FileFormat::Xlsx));
    }

    #[test]
    fn xlsx_workbooks_mutated(bytes in xlsx_file().prop_flat_map(mutated)) {
        import(&bytes, None);
        import(&bytes, Some(FileFormat::Xlsx));
    }

    #[test]
    fn ods_spreadsheets(content in ods_content()) {
        import(&ods_of(content.as_bytes()), Some(FileFormat::Ods));
    }

    #[test]
    fn ods_content_mutated(content in ods_content().prop_flat_map(|c| mutated(c.into_bytes()))) {
        import(&ods_of(&content), None);
    }

    #[test]
    fn noise(bytes in prop::collection::vec(any::<u8>(), 0..512), declared in prop::sample::select(vec![None, Some(FileFormat::Csv), Some(FileFormat::Xlsx), Some(FileFormat::Ods)])) {
        import(&bytes, declared);
        let mut zipped = b"PK\x03\x04".to_vec();
        zipped.extend_from_slice(&bytes);
        import(&zipped, declared);
    }
}

/// The ODS repeats that ask for a grid of 10^6 x 16384 cells cost nothing when empty and stop at
/// the row limit when not.
#[test]
fn huge_repeats_stay_bounded() {
    let content = "<?xml version=\"1.0\"?><office:document-content xmlns:office=\"o\" xmlns:table=\"t\" xmlns:text=\"x\"><office:body><office:spreadsheet><table:table>\
        <table:table-row><table:table-cell><text:p>external_ref</text:p></table:table-cell></table:table-row>\
        <table:table-row table:number-rows-repeated=\"1048576\"><table:table-cell table:number-columns-repeated=\"16384\"><text:p>A</text:p></table:table-cell></table:table-row>\
        </table:table></office:spreadsheet></office:body></office:document-content>";
    let started = std::time::Instant::now();
    let result = import::read(FileFormat::Ods, &ods_of(content.as_bytes()), LIMITS);
    assert!(matches!(result, Err(Error::Validation(_))));
    assert!(started.elapsed().as_secs() < 5);
}
